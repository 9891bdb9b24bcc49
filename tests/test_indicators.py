"""Each annex-3 indicator on a small input whose answer was worked out by hand."""

import math

import numpy as np
import pandas as pd
import pytest

from pipeline.build import indicators as ind


def test_round_half_up_rounds_halves_away_from_zero_unlike_python_round():
    assert ind.round_half_up(0.5) == 1.0
    assert ind.round_half_up(2.5) == 3.0          # round() would give 2
    assert ind.round_half_up(8.05, 1) == 8.1      # 8.05 is stored as 8.04999...
    assert ind.round_half_up(-1.5) == -2.0
    assert math.isnan(ind.round_half_up(float("nan")))


def test_ses_deciel_lowest_income_is_decile_one():
    # 20 municipalities: two per decile, incomes 21..40
    income = pd.Series(range(40, 20, -1), index=[f"GM{i:04d}" for i in range(20)], dtype=float)
    deciles = ind.ses_deciel(income)
    assert deciles["GM0019"] == 1   # income 21, the lowest
    assert deciles["GM0018"] == 1   # income 22
    assert deciles["GM0017"] == 2   # income 23
    assert deciles["GM0000"] == 10  # income 40, the highest
    assert deciles.value_counts().tolist() == [2] * 10


def test_armoede_deciel_highest_percentage_is_decile_one():
    pct = pd.Series([12.0, 3.0, 7.5, 9.9, 1.0], index=list("abcde"))
    deciles = ind.armoede_deciel(pct)
    # n = 5: rank r -> 1 + floor(10 (r-1) / 5) = 1, 3, 5, 7, 9 from the highest percentage down
    assert deciles.to_dict() == {"a": 1, "d": 3, "c": 5, "b": 7, "e": 9}


def test_decile_ties_share_a_decile_and_missing_stays_missing():
    values = pd.Series([1.0, 1.0, 2.0, None], index=list("abcd"))
    deciles = ind.decile(values)
    assert deciles["a"] == deciles["b"] == 1
    assert deciles["c"] == 7            # rank 3 of 3: 1 + floor(10 * 2 / 3)
    assert pd.isna(deciles["d"])


def test_lasten_per_gebruiker_divides_lasten_in_euro_by_youth_with_jeugdzorg():
    # Nederland 2019 as printed: 443 585 users (84134NED) and EUR 11 409 per user
    assert ind.lasten_per_gebruiker(443_585 * 11_409.0, 443_585) == pytest.approx(11_409)
    lasten = pd.Series({"GM0150": 24_038_910.0})
    assert ind.lasten_per_gebruiker(lasten, pd.Series({"GM0150": 2370}))["GM0150"] == pytest.approx(10_143, abs=0.01)


def test_lasten_per_inwoner_divides_lasten_by_inhabitants():
    # the printed Nederland figure: 443 585 x EUR 11 409 over 17 282 163 inhabitants (1 January 2019) = EUR 293
    assert ind.round_half_up(ind.lasten_per_inwoner(443_585 * 11_409.0, 17_282_163)) == 293


def test_group_lasten_per_inwoner_weighted_is_total_over_total_and_leaves_out_members_without_data():
    lasten = pd.Series([1_000_000.0, 3_000_000.0, float("nan")])
    inwoners = pd.Series([10_000.0, 10_000.0, 5_000.0])
    assert ind.lasten_per_inwoner_gewogen(lasten, inwoners) == pytest.approx(200.0)
    assert ind.lasten_per_inwoner_ongewogen(pd.Series([100.0, 300.0, float("nan")])) == pytest.approx(200.0)
    assert ind.lasten_per_inwoner_gewogen(pd.Series([1e6, 1e6]), pd.Series([1e4, 3e4])) == pytest.approx(50.0)
    assert ind.lasten_per_inwoner_ongewogen(pd.Series([100.0, 1e6 / 3e4])) == pytest.approx((100 + 33.333) / 2, 0.01)


def test_implied_base_and_pooled_group_share():
    # Deventer 2017 H1 in 83432NED: 2425 youth with jeugdzorg = 9.2% -> a youth base of about 26 359
    assert ind.implied_base(2425.0, 9.2) == pytest.approx(26_358.7, abs=0.1)
    assert ind.pct_groep_gepoold([140.0, 60.0, float("nan")], [2000.0, 1000.0, 500.0]) == pytest.approx(6.7)
    assert ind.pct_groep_ongewogen([7.0, 6.0, float("nan")]) == pytest.approx(6.5)
    assert math.isnan(ind.pct_groep_gepoold([float("nan")], [100.0]))


def test_pct_via_wijkteam_is_the_share_of_zonder_verblijf():
    assert ind.pct_via_wijkteam(25.0, 2145.0) == pytest.approx(1.2)
    assert math.isnan(ind.pct_via_wijkteam(25.0, 0.0))   # no zonder verblijf: no share, not infinity


def test_the_methods_section_lists_exactly_the_functions_the_build_calls():
    import re
    from pipeline.config import ROOT

    source = (ROOT / "pipeline" / "build" / "processed_data.py").read_text(encoding="utf-8")
    called = set(re.findall(r"\bind\.([a-z_]+)\b", source))
    assert called == {fn.__name__ for fn in ind.USED_BY_BUILD}


def test_index_lasten_per_inwoner_uses_whole_euros():
    # Deventer: 240 / 222 = 108.1 -> 108; unrounded inputs 240.4 / 221.6 must give the same
    assert ind.index_lasten_per_inwoner(pd.Series([240.4]), pd.Series([221.6]))[0] == pytest.approx(240 / 222 * 100)


def test_index_pct_uses_published_one_decimal_percentages():
    # Tabel 3, Deventer: 6,7% against 8,1% -> 82.7 -> printed 83
    index = ind.index_pct_zonder_verblijf(pd.Series([6.66]), pd.Series([8.14]))[0]
    assert index == pytest.approx(6.7 / 8.1 * 100)
    assert ind.round_half_up(index) == 83


def test_backcast_weighted_pct_weights_by_number_of_youth():
    pct = pd.Series({"GM0738": 5.0, "GM0870": 7.0, "GM0874": 8.0})
    youth = pd.Series({"GM0738": 1000.0, "GM0870": 2000.0, "GM0874": 1000.0})
    # (50 + 140 + 80) / 4000 = 6.75 % -> 6.8
    assert ind.backcast_weighted_pct(pct, youth) == pytest.approx(6.8)


def test_covid_dip_in_percentage_points_uses_printed_percentages():
    # Utrecht in the text: 0,2 %-punt lower in 2020 H1 than in 2019 H2
    assert ind.verandering_procentpunt(pd.Series([10.24]), pd.Series([10.44]))[0] == pytest.approx(-0.2)


def test_deciel_zonder_verblijf_puts_the_highest_share_in_decile_ten():
    pct = pd.Series([5.0, 9.5, 7.0, 6.0, 8.0, 6.5, 7.5, 8.5, 9.0, 5.5], index=list("abcdefghij"))
    deciles = ind.deciel_zonder_verblijf(pct)
    assert deciles["b"] == 10 and deciles["a"] == 1 and deciles["c"] == 5


def test_index_lasten_per_gebruiker_from_whole_euros():
    # Zaltbommel in the text: about 25% more per user in 2019 than in 2017
    assert ind.index_lasten_per_gebruiker(pd.Series([6748.4]), pd.Series([5398.6]))[0] == pytest.approx(6748 / 5399 * 100)


def test_index_aantal():
    assert ind.index_aantal(pd.Series([90.0]), pd.Series([100.0]))[0] == pytest.approx(90.0)


def test_implied_base_is_unknown_not_infinite_when_the_percentage_rounds_to_zero():
    # 10 youth at 2.0% -> 500; 5 youth at a published 0.0% (under 0.05%) -> no base; no value -> no base
    base = ind.implied_base(np.array([10.0, 5.0, np.nan]), np.array([2.0, 0.0, 3.0]))
    assert base[0] == pytest.approx(500.0)
    assert np.isnan(base[1:]).all()
