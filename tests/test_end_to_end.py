"""The real papermill + nbconvert path on the bundled snapshot, as `make report` runs it."""

import hashlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from pipeline.config import ROOT, load_config
from pipeline.run.execute import NOTEBOOK
from pipeline.workflow import render_reports, run_cases

from conftest import write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deventer(built):
    """All five cases run and rendered, as `make report` does (named for the case most tests read)."""
    run_cases(built)
    render_reports(built)
    return built


def test_report_csv_tables_of_all_five_cases_are_the_case_tables_with_their_provenance(deventer):
    """tabelN.csv holds every value of the case table, unrounded, each with its provenance kind. (Whether a
    value matches the printed chapter is the validation's verdict: tests/test_validate.py, validation.html.)"""
    import pandas as pd

    from pipeline.case.tables import CaseContext, gebruik_table, lasten_table, value_columns
    from pipeline.processed import Processed

    data = Processed.read(deventer.processed_dir)
    for case in deventer.cases:
        ctx = CaseContext(config=deventer, case=case, data=data)
        for number, table in ((case.table_lasten, lasten_table(ctx)), (case.table_gebruik, gebruik_table(ctx))):
            mine = pd.read_csv(deventer.reports_dir / "cases" / case.code / f"tabel{number}.csv")
            assert mine["rij_code"].tolist() == table["rij_code"].tolist()
            for column in value_columns(table):
                assert mine[column].tolist() == pytest.approx(table[column].tolist(), abs=1e-6, nan_ok=True)
                kinds = mine[f"{column}_herkomst"]
                assert kinds.fillna("").tolist() == table[f"{column}_herkomst"].fillna("").tolist(), (number, column)
                assert set(kinds.dropna()) <= {"cbs", "afgeleid", "gegenereerd"}


def test_committed_notebook_has_no_outputs_and_a_parameters_cell():
    nb = nbformat.read(NOTEBOOK, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert all(not c.outputs and c.execution_count is None for c in code)
    assert "parameters" in code[0].metadata.get("tags", [])


def test_case_report_shows_the_tables_values_in_dutch_format(deventer):
    page = (deventer.reports_dir / "GM0150.html").read_text(encoding="utf-8")
    # Tabel 2 and 3 of the report, as printed
    for printed in ("Tabel 2", "Tabel 3", "Figuur 1", "DEVENTER", "€ 10.143", "€ 240", ">108<", "8,1%", "6,7%", ">83<",
                    "€ 11.409", "IJsselland", "Zwolle", "€ 13.009"):
        assert printed in page, printed
    assert "Demo-snapshot — deels echte CBS-cijfers" in page  # partly generated data is labelled
    assert 'data:image/png;base64,' in page              # the figure is inline
    assert not re.search(r'(src|href)="(https?:)?//', page), "report must open offline"
    assert 'def ' not in page                            # input cells are hidden


def test_case_outputs_are_written_next_to_the_report(deventer):
    folder = deventer.reports_dir / "cases" / "GM0150"
    assert {p.name for p in folder.iterdir()} >= {"tabel2.csv", "tabel3.csv", "figuur1.png", "figuur1.svg",
                                                  "figuur1.csv"}
    assert "GM0150,DEVENTER" in (folder / "tabel2.csv").read_text()


def test_executed_notebook_carries_papermill_parameters_as_strings(deventer):
    nb = nbformat.read(deventer.reports_dir / "notebooks" / "GM0150.ipynb", as_version=4)
    assert nb.metadata["papermill"]["parameters"]["case"] == "GM0150"
    injected = [c for c in nb.cells if "injected-parameters" in c.metadata.get("tags", [])]
    assert 'case = "GM0150"' in injected[0].source


def test_index_page_links_cases_and_states_the_snapshot(deventer):
    index = (deventer.reports_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="GM0150.html"' in index
    assert "84134NED" in index and "03759ned" in index
    assert "gegenereerd (demo)" in index and "Demo-snapshot — deels echte CBS-cijfers" in index
    assert "commit" in index or "geen git" in index


def test_figures_and_tables_are_byte_identical_on_rerun(deventer):
    folder = deventer.reports_dir / "cases" / "GM0150"
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    run_cases(deventer, ["GM0150"])
    after = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in folder.iterdir()}
    assert before == after


def test_cli_unknown_case_is_a_one_line_error(built):
    result = subprocess.run([sys.executable, "-m", "pipeline", "run", "--config", str(built.path), "--case", "GM9999"],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip().count("\n") == 0
    assert "GM9999" in result.stderr and "not a municipality of the snapshot's classification" in result.stderr


def test_cli_report_before_any_run_is_a_one_line_error(built, tmp_path):
    config = load_config(write_config(tmp_path))
    shutil.copytree(built.processed_dir, config.processed_dir)
    result = subprocess.run([sys.executable, "-m", "pipeline", "report", "--config", str(config.path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 2
    assert result.stderr.strip() == ("error: no executed notebooks to render; "
                                     "run `python -m pipeline run` first")


def test_cli_accepts_a_case_by_name(built, tmp_path):
    config = load_config(write_config(tmp_path))
    from pipeline.build.processed_data import build_all
    build_all(config)
    result = subprocess.run([sys.executable, "-m", "pipeline", "all", "--config", str(config.path),
                             "--case", "peel en maas"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (config.reports_dir / "GM1894.html").exists()
    assert "[1/1] GM1894" in result.stderr


def test_ten_municipalities_outside_tabel_1_run_with_automatic_groups(built, tmp_path):
    from pipeline.build.processed_data import build_all

    config = load_config(write_config(tmp_path))
    build_all(config)
    wanted = ["GM0363", "GM0014", "GM0034", "GM0088", "GM0268", "GM0362", "GM0439", "GM0772", "GM0855", "GM1883",
              "Heerlen"]
    results = run_cases(config, wanted)
    assert [r.ok for r in results] == [True] * 11
    render_reports(config, wanted)
    amsterdam = (config.reports_dir / "GM0363.html").read_text(encoding="utf-8")
    assert "Automatische referentiegroep" in amsterdam and "Rotterdam" in amsterdam
    assert "Kerncijfers uit de tekst" in amsterdam
    overview = (config.reports_dir / "overzicht.html").read_text(encoding="utf-8")
    assert overview.count("<tr><th scope='row'><a href=") == 11
    assert 'href="GM0917.html"' in overview          # Heerlen, asked for by name
    index = (config.reports_dir / "index.html").read_text(encoding="utf-8")
    assert 'href="overzicht.html"' in index


# ---------------------------------------------------------------------------------------------
# Provenance: every number a reader sees says whether it is CBS, derived or generated


def _soup(path):
    from bs4 import BeautifulSoup

    return BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def _table(soup, caption_start):
    return next(t for t in soup.select("table.h6-table")
                if t.caption is not None and t.caption.get_text().startswith(caption_start))


def _row(table, label):
    return next(r for r in table.tbody.find_all("tr") if r.th.get_text(strip=True) == label)


def test_case_report_marks_generated_and_real_cells_with_a_legend(deventer):
    soup = _soup(deventer.reports_dir / "GM0150.html")
    tabel2 = _table(soup, "Tabel 2 ")
    ses, armoede = _row(tabel2, "DEVENTER").find_all("td")[:2]
    assert ses.get_text() == "2" and "kind-cbs" in ses["class"] and "kind-gegenereerd" not in ses["class"]
    assert ses["title"] == "CBS-cijfer"
    assert armoede.get_text() == "3" and "kind-gegenereerd" in armoede["class"]
    assert "gegenereerde demo-waarden" in armoede["title"]
    legend = tabel2.find_next_sibling("p")
    assert "legend" in legend["class"] and "grijs en cursief" in legend.get_text()
    assert "stippellijn" not in legend.get_text()            # Tabel 2 has no derived value: not in its legend
    tabel3 = _table(soup, "Tabel 3 ")
    pct_2017 = _row(tabel3, "DEVENTER").find_all("td")[2]
    assert pct_2017.get_text() == "8,1%" and "kind-afgeleid" in pct_2017["class"]
    assert "stippellijn" in tabel3.find_next_sibling("p").get_text()
    # not applicable stays the report's "x", without a kind
    nvt = _row(tabel2, "Nederland").find_all("td")[0]
    assert nvt.get_text() == "x" and not any(c.startswith("kind-") for c in nvt["class"])


def test_kerncijfers_cells_are_marked_too(deventer):
    soup = _soup(deventer.reports_dir / "GM0150.html")
    table = _table(soup, "Kerncijfers")
    cells = table.tbody.find_all("td")
    assert cells and all(any(c.startswith("kind-") or c == "nvt" for c in td["class"]) for td in cells)
    assert any("kind-gegenereerd" in td["class"] for td in cells)
    assert "legend" in table.find_next_sibling("p")["class"]


def test_suppressed_values_show_a_distinct_marker_never_zero(raw_copy, tmp_path):
    """A value CBS suppresses (null in the typed data) reaches the case report as the "no value" marker."""
    import json

    from pipeline.build.processed_data import build_all
    from pipeline.config import load_config
    from pipeline.case.formatting import NO_VALUE
    from pipeline.data.manifest import build_manifest, write_manifest

    from conftest import write_config

    table = raw_copy / "84134NED"
    rows = json.loads((table / "TypedDataSet.json").read_text(encoding="utf-8"))
    for row in rows:   # Zutphen, a reference of Deventer: its 2017 H1 share of JH 121 suppressed
        if row["RegioS"].strip() == "GM0301" and row["Perioden"] == "2017HJ01" and row["VormenVanJeugdzorg"].strip() == "JH121":
            row["JongerenMetJeugdzorgRelatief_2"] = None
    (table / "TypedDataSet.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")
    manifest = json.loads((table / "manifest.json").read_text(encoding="utf-8"))
    sealed = build_manifest(table, table_id=manifest["table_id"], catalog=manifest["catalog"])
    write_manifest(table, {**manifest, "files": sealed["files"], "rows": sealed["rows"]})
    config = load_config(write_config(tmp_path, raw=raw_copy))
    build_all(config)
    run_cases(config, ["GM0150"])
    render_reports(config, ["GM0150"])
    soup = _soup(config.reports_dir / "GM0150.html")
    cell = _row(_table(soup, "Tabel 3 "), "Zutphen").find_all("td")[2]
    assert cell.get_text() == NO_VALUE and "no-value" in cell["class"] and "geen waarde" in cell["title"]
    assert f"{NO_VALUE}: geen waarde" in _table(soup, "Tabel 3 ").find_next_sibling("p").get_text()
    bronnen = soup.select_one("footer.provenance").get_text()
    assert "Tabel 3, Zutphen" in bronnen


def test_case_report_lists_the_provenance_blocks_with_their_notes(deventer):
    footer = _soup(deventer.reports_dir / "GM0150.html").select_one("footer.provenance")
    assert footer.h2.get_text() == "Bronnen en herkomst"
    text = footer.get_text()
    assert "from real 83432NED" in text                           # how a derived value was derived
    assert "no real Iv3 values offline" in text                   # what was generated
    assert "Perioden 2018HJ01" in text


def test_index_counts_the_chapter_cells_by_provenance(deventer):
    import pandas as pd

    from pipeline.case.tables import case_tables, value_columns
    from pipeline.processed import Processed

    counts = _soup(deventer.reports_dir / "index.html").select_one("p.counts")
    shown = {k: int(counts[f"data-{k}"]) for k in ("cbs", "afgeleid", "gegenereerd", "geen", "nvt", "cellen")}
    expected = {"cbs": 0, "afgeleid": 0, "gegenereerd": 0}
    cells = 0
    for _, _, _, table in case_tables(deventer, Processed.read(deventer.processed_dir)):
        for column in value_columns(table):
            cells += len(table)
            for value, kind in zip(table[column], table[f"{column}_herkomst"]):
                if not pd.isna(value):
                    expected[kind] += 1
    assert {k: shown[k] for k in expected} == expected
    assert shown["cbs"] > 0 and shown["afgeleid"] > 0 and shown["gegenereerd"] > 0
    assert sum(expected.values()) + shown["geen"] + shown["nvt"] == shown["cellen"] == cells
    text = counts.get_text()
    assert all(f"{shown[k]}" in text for k in expected)


def test_figure_csv_has_the_provenance_of_every_point(deventer):
    import pandas as pd

    folder = deventer.reports_dir / "cases" / "GM0150"
    frame = pd.read_csv(folder / "figuur1.csv").set_index("periode_label")
    lines = [c for c in frame.columns if not c.endswith("_herkomst")]
    assert "Deventer" in lines and all(f"{c}_herkomst" in frame.columns for c in lines)
    kinds = frame["Deventer_herkomst"]
    assert set(kinds) <= {"cbs", "afgeleid", "gegenereerd"}
    assert kinds["2017HJ1"] == "afgeleid" and kinds["2020HJ1"] == "gegenereerd"
    page = (deventer.reports_dir / "GM0150.html").read_text(encoding="utf-8")
    assert "Open rondjes en lichtere lijnen" in page


def test_case_pages_are_the_html_nbconvert_writes(deventer):
    """The reused exporter skips nbconvert's last pass (a BeautifulSoup round trip that adds a missing ``alt``
    and a ``tabindex`` on JupyterLab wrappers, and writes ``<a/>`` out as ``<a></a>``); it must change nothing
    on these pages, so every executed case notebook renders to what nbconvert's own HTMLExporter writes with
    the same options, tag for tag, and with no element closed as ``<x/>``: a browser reads ``<a .../>`` as a
    link left open to the end of the page (BeautifulSoup does not)."""
    from bs4 import BeautifulSoup
    from nbconvert import HTMLExporter

    from pipeline.report.render import make_exporter

    void = "area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr"
    self_closed = re.compile(rf"<(?!(?:{void})\b)([a-z][a-z0-9]*)\b[^<>]*/>")
    ours, theirs = make_exporter(), make_exporter()
    theirs.__class__ = HTMLExporter  # nbconvert's own exporter with the same options and preprocessors
    notebooks = sorted((deventer.reports_dir / "notebooks").glob("GM*.ipynb"))
    assert len(notebooks) == 5
    for path in notebooks:
        nb = nbformat.read(path, as_version=4)
        body, _ = ours.from_notebook_node(nb)
        expected, _ = theirs.from_notebook_node(nb)
        assert "<img" in body and "No description has been provided" not in expected, path.name
        assert 'class="anchor-link"' in body and not self_closed.findall(body), (path.name, self_closed.findall(body))
        assert str(BeautifulSoup(body, features="html.parser")) == expected, path.name
