"""Each annex-3 indicator on a small input whose answer was worked out by hand."""

import math

import pandas as pd
import pytest

from pipeline import indicators as ind


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


def test_lasten_per_gebruiker_converts_thousands_of_euros():
    lasten = pd.Series({"GM0150": 23_988.0})          # x 1 000 euro, 6.72 + 6.82
    users = pd.Series({"GM0150": 2_365.0})
    assert ind.lasten_per_gebruiker(lasten, users)["GM0150"] == pytest.approx(10_142.92, abs=0.01)


def test_lasten_per_inwoner_sums_taakvelden_and_treats_a_missing_one_as_zero():
    frame = pd.DataFrame({"TV672": [190.0, 150.0], "TV682": [50.0, None]}, index=["GM0150", "GM0297"])
    assert ind.lasten_per_inwoner(frame).to_dict() == {"GM0150": 240.0, "GM0297": 150.0}


def test_group_lasten_per_inwoner_is_the_unweighted_mean_of_members():
    per_inwoner = pd.Series({"a": 200.0, "b": 300.0, "c": 400.0})
    groups = pd.Series({"a": "NL01", "b": "NL01", "c": "size:x"})
    result = ind.lasten_per_inwoner_groep(per_inwoner, groups)
    assert result.to_dict() == {"NL01": 250.0, "size:x": 400.0}


def test_backcast_lasten_per_inwoner_weights_predecessors_by_implied_inhabitants():
    # predecessor a: 1 000 (x1000) at 100 per inwoner = 10 000 inhabitants; b: 3 000 at 300 = 10 000
    lasten = pd.Series({"a": 1_000.0, "b": 3_000.0})
    per_inwoner = pd.Series({"a": 100.0, "b": 300.0})
    result = ind.lasten_per_inwoner_pooled(lasten, per_inwoner, pd.Series({"a": "GM1959", "b": "GM1959"}))
    assert result["GM1959"] == pytest.approx(200.0)   # 4 000 000 euro / 20 000 inhabitants


def test_index_lasten_per_inwoner_uses_whole_euros():
    # Deventer: 240 / 222 = 108.1 -> 108; unrounded inputs 240.4 / 221.6 must give the same
    assert ind.index_lasten_per_inwoner(pd.Series([240.4]), pd.Series([221.6]))[0] == pytest.approx(240 / 222 * 100)


def test_pct_zonder_verblijf_is_pooled_and_rounded_to_one_decimal():
    assert ind.pct_jeugdhulp_zonder_verblijf(pd.Series([140.0, 60.0]).sum(), pd.Series([2000.0, 1000.0]).sum()) \
        == pytest.approx(6.7)   # 200 / 3000 = 6.67 %


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
