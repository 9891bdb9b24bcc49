"""The reproduction check: cell comparison at printed precision, the report's errata, the exit code."""

import subprocess
import sys

import pandas as pd
import pytest

from pipeline.config import ROOT
from pipeline.validate import (DIFFERS, MATCH, NOT_COMPUTABLE, NOT_PUBLISHED, compare, compare_cell, find_errata,
                               validate)


@pytest.mark.parametrize("printed, computed, decimals, status", [
    (108.0, 108.108, 0, MATCH),            # index, printed whole
    (8.1, 8.05, 1, MATCH),                 # off only by rounding: 8.05 prints as 8,1
    (8.1, 8.04, 1, DIFFERS),               # 8.04 prints as 8,0
    (10143.0, 10142.49, 0, DIFFERS),       # euros: 10.142 is not 10.143
    (None, 5.0, 0, NOT_PUBLISHED),         # the report prints x or -
    (7.1, None, 1, NOT_COMPUTABLE),        # printed, but nothing computed
])
def test_compare_cell(printed, computed, decimals, status):
    assert compare_cell(printed, computed, decimals)[0] == status


def test_difference_is_reported_at_printed_precision():
    assert compare_cell(102.0, 75.64, 0)[1:] == (76.0, -26.0)


def small_published():
    return pd.DataFrame({
        "tabel": [3, 3], "rij_code": ["GM0001", "NL01"], "rij_label": ["A", "Nederland"],
        "pct_zonder_verblijf_2017hj1": [8.0, 7.1], "pct_zonder_verblijf_2017hj1_gedrukt": ["8,0%", "7,1%"],
        "pct_zonder_verblijf_2020hj1": [6.0, 7.2], "pct_zonder_verblijf_2020hj1_gedrukt": ["6,0%", "7,2%"],
        "index_pct_zonder_verblijf": [75.0, 120.0], "index_pct_zonder_verblijf_gedrukt": ["75", "120"],
    })


def test_compare_marks_expected_differences_and_keeps_their_reason():
    published = small_published()
    computed = {3: pd.DataFrame({"rij_code": ["GM0001", "NL01"], "pct_zonder_verblijf_2017hj1": [8.0, 7.1],
                                 "pct_zonder_verblijf_2020hj1": [6.0, 7.2],
                                 "index_pct_zonder_verblijf": [75.0, 101.4]})}
    expected = pd.DataFrame({"tabel": [3], "rij_code": ["NL01"], "kolom": ["index_pct_zonder_verblijf"],
                             "reden": ["misprint"]})
    cells = compare(computed, published, expected).set_index(["rij_code", "kolom"])
    assert cells.loc[("GM0001", "index_pct_zonder_verblijf"), "status"] == MATCH
    nl = cells.loc[("NL01", "index_pct_zonder_verblijf")]
    assert nl["status"] == DIFFERS and nl["verwacht"] and nl["reden"] == "misprint"


def test_errata_finds_an_index_that_contradicts_its_printed_percentages():
    errata = find_errata(small_published(), "pct_zonder_verblijf_2017hj1", "pct_zonder_verblijf_2020hj1")
    assert errata["rij_code"].tolist() == ["NL01"]      # 7,2 / 7,1 cannot give 120; 6,0 / 8,0 = 75 is fine


def test_errata_finds_one_row_printed_differently_in_two_tables():
    published = pd.DataFrame({"tabel": [2, 3], "rij_code": ["GM0001", "GM0001"], "rij_label": ["A", "A"],
                              "ses_deciel": [2.0, 3.0]})
    errata = find_errata(published.assign(pct_a=[None, None], pct_b=[None, None],
                                          index_pct_zonder_verblijf=[None, None]), "pct_a", "pct_b")
    assert errata["kolom"].tolist() == ["ses_deciel"]
    assert "Tabel 2: 2, Tabel 3: 3" in errata["gedrukt"].iloc[0]


def test_bundled_snapshot_matches_all_but_the_tabel_9_erratum(built):
    result = validate(built)
    assert result.unexplained.empty
    published = result.published_cells
    assert (published["status"] == MATCH).sum() == len(published) - 1
    assert result.errata[["tabel", "rij_code"]].values.tolist() == [[9, "GM1894"]]
    assert (built.processed_dir / "validation.csv").exists()


def test_validate_exits_non_zero_on_an_unexplained_difference(built, tmp_path):
    from conftest import write_config
    import shutil
    import yaml

    published = tmp_path / "published"
    shutil.copytree(ROOT / "data" / "external" / "published", published)
    # a config whose published Tabel 3 now says Deventer had 9,9% in 2017
    lasten = published / "hoofdstuk6_gebruik.csv"
    lasten.write_text(lasten.read_text().replace('3,DEVENTER,GM0150,2,3,"8,1%"', '3,DEVENTER,GM0150,2,3,"9,9%"'))
    config_path = write_config(tmp_path)
    raw = yaml.safe_load(config_path.read_text())
    raw["paths"]["processed"] = str(built.processed_dir)
    raw["paths"]["published"] = str(published)
    config_path.write_text(yaml.safe_dump(raw, sort_keys=False, allow_unicode=True))
    result = subprocess.run([sys.executable, "-m", "pipeline", "validate", "--config", str(config_path)],
                            capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 3, result.stderr
    assert "Tabel 3 DEVENTER pct_zonder_verblijf_2017hj1: printed 9,9%" in result.stderr
