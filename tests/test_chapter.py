"""The chapter page (reports/hoofdstuk6.html): Tabel 1 in the report's order, then per case its two tables,
figure, notes and a factual paragraph; the report's markers carried over; linked from the index."""

import re

import pytest

from pipeline.case.tables import CaseContext, lasten_table, tabel1
from pipeline.processed import Processed
from pipeline.report.chapter import CHAPTER_PAGE, chapter_html
from pipeline.case.formatting import cell_text


@pytest.fixture(scope="module")
def data(built):
    return Processed.read(built.processed_dir)


def test_tabel1_in_the_reports_column_and_row_order(built, data):
    frame = tabel1(built, data)
    assert list(frame.columns) == ["DEVENTER", "ZALTBOMMEL", "ROOSENDAAL", "PEEL EN MAAS", "UTRECHT"]
    assert list(frame["ROOSENDAAL"])[:5] == ["50.000-100.000", "Bergen op Zoom", "Breda", "Goes", "Dordrecht"]
    assert frame["UTRECHT"].iloc[0] == "150.000-300.000"


def test_tabel4_carries_the_reports_markers(built, data):
    utrecht = next(c for c in built.cases if c.code == "GM0344")
    table = lasten_table(CaseContext(config=built, case=utrecht, data=data))
    row = int(table.index[table["rij_code"] == "GM0307"][0])
    assert cell_text(table, "lasten_per_gebruiker_2019", row) == "€ 10.250#"
    assert cell_text(table, "lasten_per_inwoner_2019", row) == "-"
    assert cell_text(table, "index_lasten_per_inwoner", row) == "-"
    assert table["lasten_per_inwoner_2019"].iloc[row] > 0          # the CSV keeps the computed number


def test_chapter_page_follows_the_report(built, data):
    page = chapter_html(built, data)
    order = ["Tabel 1 ", "Tabel 2 ", "Tabel 3 ", "Figuur 1 ", "Tabel 4 ", "Tabel 5 ", "Figuur 2 ", "Tabel 6 ",
             "Tabel 7 ", "Figuur 3 ", "Tabel 8 ", "Tabel 9 ", "Figuur 4 ", "Tabel 10 ", "Tabel 11 ", "Figuur 5 "]
    positions = [page.find(f">{label}") for label in order]
    assert -1 not in positions and positions == sorted(positions)
    sections = re.findall(r"<h2>6\.3\.\d\. ([^<]+)</h2>", page)
    assert sections == ["Deventer", "Utrecht", "Zaltbommel", "Peel en Maas", "Roosendaal"]
    assert page.count("<figcaption>Figuur ") == 5                     # the caption once per figure
    assert "# cijfer afkomstig uit jaarrekening gemeente Amersfoort" in page
    assert "De referentiegroep voor Utrecht is 150.000-250.000 gemeenten" in page
    assert page.count("Toelichting bij casus") == 5
    assert "validatie" in page and 'href="GM0150.html"' in page
    assert "Wat verschilt van de druk" in page


def test_every_number_of_the_toelichting_shows_its_provenance(built, data):
    page = chapter_html(built, data)
    for paragraph in re.findall(r'<p class="toelichting">(.*?)</p>', page, flags=re.S):
        bare = re.sub(r"<span[^>]*>.*?</span>", "", paragraph)
        bare = re.sub(r"\((?:[^()]*)\)", "", bare)                      # names and years in brackets
        numbers = re.findall(r"€ ?\d|\d+,\d%", bare)
        assert numbers == [], numbers
        assert 'class="kind-' in paragraph


def test_the_chapter_page_is_built_and_linked(rendered):
    page = rendered.reports_dir / CHAPTER_PAGE
    assert page.exists()
    text = page.read_text(encoding="utf-8")
    assert 'src="cases/GM0150/figuur1.png"' in text
    assert all((rendered.reports_dir / src).exists() for src in re.findall(r'<img src="([^"]+)"', text))
    assert f'href="{CHAPTER_PAGE}"' in (rendered.reports_dir / "index.html").read_text(encoding="utf-8")
