"""The merger crosswalk parsed from CBS's own RegioS descriptions."""

import json

import pandas as pd
import pytest

from pipeline.data.mergers import build_crosswalk, parse_merger_text, predecessors_at

ALTENA = ("Ontstaan per 01-01-2019, ontvangen van:\r\n- Aalburg (GM0738),\r\n... 5041 hectare met 5167 woningen en "
          "13321 inwoners\r\n- Werkendam (GM0870),\r\n... 10090 hectare met 10929 woningen en 27295 inwoners\r\n"
          "- Woudrichem (GM0874),\r\n... 4932 hectare met 6125 woningen en 14770 inwoners\r\nBegindatum 01-01-2019\r\n")


def test_altena_text_gives_three_predecessors_with_inhabitants():
    rows = parse_merger_text("GM1959", ALTENA)
    assert [(r["old_code"], r["inhabitants"], r["date"]) for r in rows] == [
        ("GM0738", 13321, "2019-01-01"), ("GM0870", 27295, "2019-01-01"), ("GM0874", 14770, "2019-01-01")]


def test_boundary_corrections_are_not_mergers():
    text = "Grenswijziging per 01-01-2010, overgegaan naar:\r\n- Rijssen-Holten (GM1742),\r\n... 6 hectare met 0 woningen en 0 inwoners\r\n"
    assert parse_merger_text("GM0150", text) == []


@pytest.fixture(scope="module")
def crosswalk():
    from pipeline.config import ROOT
    regions = pd.DataFrame(json.loads((ROOT / "data/raw/03759ned/RegioS.json").read_text()))
    regions["Key"] = regions["Key"].str.strip()
    return build_crosswalk(regions)


def test_real_crosswalk_backcasts_altena_and_west_betuwe(crosswalk):
    assert sorted(p for p, _ in predecessors_at("GM1959", "2017-01-01", crosswalk, "2020-01-01")) == \
        ["GM0738", "GM0870", "GM0874"]
    assert sorted(p for p, _ in predecessors_at("GM1960", "2018-07-01", crosswalk, "2020-01-01")) == \
        ["GM0236", "GM0304", "GM0733"]
    assert predecessors_at("GM1959", "2019-07-01", crosswalk, "2020-01-01") == [("GM1959", 1.0)]


def test_a_continuing_municipality_keeps_itself_among_its_predecessors(crosswalk):
    # Haarlemmermeer absorbed Haarlemmerliede en Spaarnwoude on 1 January 2019
    assert sorted(predecessors_at("GM0394", "2018-01-01", crosswalk, "2020-01-01")) == [("GM0393", 1.0), ("GM0394", 1.0)]


def test_mergers_after_the_classification_year_are_ignored(crosswalk):
    # Haaren was split over Tilburg and three others in 2021; Tilburg of 2020 is just Tilburg
    assert predecessors_at("GM0855", "2019-01-01", crosswalk, "2020-01-01") == [("GM0855", 1.0)]
    later = predecessors_at("GM0855", "2019-01-01", crosswalk, "2021-01-01")
    assert ("GM0788", pytest.approx(later[[p for p, _ in later].index("GM0788")][1])) in later
    assert 0 < dict(later)["GM0788"] < 1   # only part of Haaren went to Tilburg


def test_committed_crosswalk_equals_the_one_parsed_from_the_snapshot(crosswalk):
    from pipeline.config import ROOT
    committed = pd.read_csv(ROOT / "data" / "crosswalk" / "herindelingen.csv", dtype={"inhabitants": "int64"})
    pd.testing.assert_frame_equal(committed, crosswalk.reset_index(drop=True), check_dtype=False)
    years = committed["date"].str[:4].astype(int)
    # every 1 January with herindelingen from 2016 to 2023 (there were none on 1 January 2020)
    assert {2016, 2017, 2018, 2019, 2021, 2022, 2023} <= set(years) and 2020 not in set(years)
