"""The real papermill + nbconvert path on the bundled snapshot, as `make report` runs it."""

import hashlib
import re
import shutil
import subprocess
import sys

import nbformat
import pytest

from pipeline.config import ROOT, load_config
from pipeline.execute import NOTEBOOK, run_cases
from pipeline.render import render_reports

from conftest import write_config

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def deventer(built):
    """All five cases run and rendered, as `make report` does (named for the case most tests read)."""
    run_cases(built)
    render_reports(built)
    return built


def test_report_csv_tables_of_all_five_cases_equal_the_published_chapter(deventer):
    import pandas as pd

    from pipeline.indicators import round_half_up
    from pipeline.published import published_gebruik, published_lasten

    published = pd.concat([published_lasten(), published_gebruik()])
    compared = differing = 0
    for case in deventer.cases:
        for number in (case.table_lasten, case.table_gebruik):
            mine = pd.read_csv(deventer.reports_dir / "cases" / case.code / f"tabel{number}.csv").set_index("rij_code")
            pub = published[published["tabel"] == number].set_index("rij_code")
            assert list(mine.index) == list(pub.index)
            for column in [c for c in mine.columns if c in pub.columns and c != "rij_label"]:
                for code in pub.index:
                    printed, computed = pub.loc[code, column], mine.loc[code, column]
                    if pd.isna(printed):
                        continue
                    compared += 1
                    if round_half_up(computed, 1 if column.startswith("pct_") else 0) != printed:
                        differing += 1
                        assert (number, code, column) == (9, "GM1894", "index_pct_zonder_verblijf")
    assert compared >= 300 and differing == 1


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
    assert "Demo snapshot" in page                      # generated data is labelled
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
    assert "gegenereerd (demo)" in index and "Demo snapshot" in index
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
    from pipeline.build import build_all
    build_all(config)
    result = subprocess.run([sys.executable, "-m", "pipeline", "all", "--config", str(config.path),
                             "--case", "peel en maas"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr
    assert (config.reports_dir / "GM1894.html").exists()
    assert "[1/1] GM1894" in result.stderr


def test_ten_municipalities_outside_tabel_1_run_with_automatic_groups(built, tmp_path):
    from pipeline.build import build_all

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
