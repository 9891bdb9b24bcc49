"""The Excel workbook (reports/hoofdstuk6.xlsx) and the PDFs (reports/pdf/), checked against the case tables."""

import hashlib
import math
import subprocess
import sys

import pandas as pd
import pytest
import yaml
from openpyxl import load_workbook

from pipeline.case.tables import CaseContext, gebruik_table, lasten_table, tabel1
from pipeline.processed import Processed
from pipeline.config import ROOT, WORKBOOK_NAME, load_config
from pipeline.report.exports import (COMBINED_PDF, EURO_FORMAT, PERCENT_FORMAT, WHOLE_FORMAT,
                              find_chromium, pdf_pages, write_pdfs, write_workbook)
from pipeline.case.formatting import headers
from pipeline.case.provenance import kind_label

pytestmark = pytest.mark.slow

A4 = (595.3, 841.9)  # points


@pytest.fixture(scope="module")
def data(rendered):
    return Processed.read(rendered.processed_dir)


@pytest.fixture(scope="module")
def book(rendered):
    return load_workbook(rendered.reports_dir / WORKBOOK_NAME)


def expected_tables(config, data):
    out = {}
    for case in config.cases:
        ctx = CaseContext(config=config, case=case, data=data)
        out[case.table_lasten] = lasten_table(ctx)
        out[case.table_gebruik] = gebruik_table(ctx)
    return out


def test_report_step_writes_the_workbook_with_one_sheet_per_table(book):
    assert book.sheetnames == ["inhoud"] + [f"Tabel {n}" for n in range(1, 12)] + ["bronnen"]
    listed = [row[0] for row in book["inhoud"].iter_rows(values_only=True) if row and row[0]]
    assert all(f"Tabel {n}" in listed for n in range(1, 12)) and "bronnen" in listed


def test_every_table_sheet_equals_the_case_table_with_dutch_headers_and_formats(rendered, data, book):
    names = headers(rendered)
    for number, table in expected_tables(rendered, data).items():
        sheet = book[f"Tabel {number}"]
        rows = list(sheet.iter_rows(values_only=True))
        values = [c for c in table.columns if c in names]
        assert list(rows[0]) == (["Gemeente / groep", "CBS-code"] + [names[c] for c in values]
                                 + [f"herkomst: {names[c]}" for c in values])
        assert [r[0] for r in rows[1:]] == table["rij_label"].tolist()
        assert [r[1] for r in rows[1:]] == table["rij_code"].tolist()
        for j, column in enumerate(values, start=2):
            for r, expected in zip(rows[1:], table[column]):
                if pd.isna(expected):
                    assert r[j] is None, (number, column)
                else:
                    assert math.isclose(r[j], float(expected), rel_tol=0, abs_tol=1e-9), (number, column, r[j])
            want = (EURO_FORMAT if column.startswith("lasten_per") else
                    PERCENT_FORMAT if column.startswith("pct_") else WHOLE_FORMAT)
            cells = [sheet.cell(row=i, column=j + 1) for i in range(2, len(rows) + 1)]
            assert {c.number_format for c in cells} == {want}, (number, column)


def test_workbook_reads_in_pandas_as_the_analyst_would(rendered, data):
    sheets = pd.read_excel(rendered.reports_dir / WORKBOOK_NAME, sheet_name=None)
    deventer = sheets["Tabel 2"].set_index("CBS-code")
    assert deventer.loc["GM0150", "Gemeente / groep"] == "DEVENTER"
    assert round(deventer.loc["GM0150", "Lasten per gebruiker 2019"]) == 10143
    assert pd.isna(deventer.loc["size:100-150K", "Lasten per gebruiker 2019"])       # printed as "x"
    gebruik = sheets["Tabel 3"].set_index("CBS-code")
    assert gebruik.loc["GM0150", "% jeugdigen met jeugdhulp zonder verblijf 1e hj 2017"] == pytest.approx(8.1)
    frame = tabel1(rendered, data)
    t1 = sheets["Tabel 1"]
    assert list(t1.columns[1:]) == list(frame.columns)
    assert t1.iloc[0, 1:].tolist() == frame.iloc[0].tolist()


def test_bronnen_sheet_lists_every_cbs_table_with_version_and_kind(data, book):
    rows = list(book["bronnen"].iter_rows(values_only=True))
    assert rows[0][:6] == ("rol", "CBS-tabel", "titel", "versie (Modified)", "opgehaald", "soort")
    by_role = {r[0]: r for r in rows[1:]}
    assert set(by_role) == set(data.provenance)
    for role, entry in data.provenance.items():
        assert by_role[role][1] == entry["table_id"] and by_role[role][3] == entry["modified"]
        assert by_role[role][4] == entry["fetched_at"]
        assert by_role[role][5] == kind_label(entry)
        if entry["generated"]:
            assert "gegenereerd (demo)" in by_role[role][5]
        for block in entry["provenance"]["blocks"]:
            assert block["note"] in by_role[role][7]


def test_workbook_marks_generated_values_grey_italic_and_derived_ones_with_a_comment(rendered, data, book):
    names = headers(rendered)
    for number, table in expected_tables(rendered, data).items():
        sheet = book[f"Tabel {number}"]
        values = [c for c in table.columns if c in names]
        for i in range(len(table)):
            for j, column in enumerate(values, start=3):
                cell, value = sheet.cell(row=i + 2, column=j), table[column].iloc[i]
                kind = table[f"{column}_herkomst"].iloc[i]
                herkomst = sheet.cell(row=i + 2, column=j + len(values)).value
                if pd.isna(value):
                    continue
                assert herkomst == kind, (number, i, column)
                assert bool(cell.font.i) == (kind == "gegenereerd"), (number, i, column)
                assert (cell.comment is not None) == (kind == "afgeleid"), (number, i, column)
    deventer = book["Tabel 2"]
    assert deventer["B2"].value == "GM0150" and deventer["C2"].value == 2
    assert not deventer["C2"].font.i                     # SES-deciel: CBS
    assert deventer["D2"].font.i and deventer["D2"].font.color.rgb == "FF767676"  # armoede-deciel: generated
    assert deventer["D2"].font.b                         # the case row stays bold


def test_workbook_is_byte_identical_for_identical_data(rendered, book, tmp_path):
    path = rendered.reports_dir / WORKBOOK_NAME
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    write_workbook(rendered)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert book.properties.created == book.properties.modified


# ---------------------------------------------------------------------------------------------
# PDF

needs_chromium = pytest.mark.skipif(find_chromium() is None,
                                    reason="Chromium not found at /usr/bin/chromium (`make test` installs it "
                                           "as root with apt-get; or set H6_CHROMIUM)")


@pytest.fixture(scope="module")
def pdfs(rendered):
    return write_pdfs(rendered)


@needs_chromium
def test_pdf_per_case_and_the_whole_chapter_on_a4_with_page_numbers(rendered, pdfs):
    from pypdf import PdfReader

    names = [p.name for p in pdfs]
    assert names == [f"{c.code}.pdf" for c in rendered.cases] + [COMBINED_PDF]
    for path in pdfs:
        reader = PdfReader(path)
        assert 2 <= len(reader.pages) <= 12, (path.name, len(reader.pages))
        box = reader.pages[0].mediabox
        assert (float(box.width), float(box.height)) == pytest.approx(A4, abs=1.5)
        assert 20_000 < path.stat().st_size < 5_000_000
        last = reader.pages[-1].extract_text()
        assert f"pagina {len(reader.pages)} van {len(reader.pages)}" in last, path.name


@needs_chromium
def test_combined_pdf_follows_the_order_of_the_report(pdfs):
    from pypdf import PdfReader

    combined = [p for p in pdfs if p.name == COMBINED_PDF][0]
    text = "\n".join(page.extract_text() for page in PdfReader(combined).pages)
    order = ["Tabel 1 ", "Tabel 2 ", "Tabel 3 ", "Figuur 1 ", "Tabel 4 ", "Tabel 5 ", "Figuur 2 ", "Tabel 6 ",
             "Tabel 7 ", "Figuur 3 ", "Tabel 8 ", "Tabel 9 ", "Figuur 4 ", "Tabel 10 ", "Tabel 11 ", "Figuur 5 "]
    positions = [text.find(label) for label in order]
    assert -1 not in positions, [label for label, p in zip(order, positions) if p == -1]
    assert positions == sorted(positions)
    assert "€ 10.143" in text and "DEVENTER" in text
    assert pdf_pages(combined) < sum(pdf_pages(p) for p in pdfs if p != combined)


def test_pdf_command_without_rendered_reports_is_a_one_line_error(rendered, tmp_path):
    raw = yaml.safe_load(rendered.path.read_text(encoding="utf-8"))
    raw["paths"]["reports"] = str(tmp_path / "empty")
    config = tmp_path / "study.yml"
    config.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True), encoding="utf-8")
    result = subprocess.run([sys.executable, "-m", "pipeline", "pdf", "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0 and "make report" in result.stderr
    assert load_config(config).reports_dir == tmp_path / "empty"
