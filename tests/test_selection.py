"""Any municipality as a case: code/name resolution and the automatic reference group."""

import pandas as pd
import pytest

from pipeline.errors import UnknownMunicipalityError
from pipeline.case.selection import automatic_references, case_for, cbs_size_class, resolve_municipality, select_case_codes


def fixture_gemeenten():
    rows = [  # code, naam, provincie, jeugdregio, inwoners
        ("GM0001", "Aadorp", "P1", "JZ01", 30_000),   # the case
        ("GM0002", "Buurdorp", "P1", "JZ01", 45_000),  # same region, same class
        ("GM0003", "Cestad", "P1", "JZ02", 31_000),    # same province, nearest
        ("GM0004", "Dedorp", "P2", "JZ03", 30_500),    # other province, nearest of all
        ("GM0005", "Eestad", "P1", "JZ02", 24_000),    # same province
        ("GM0006", "Efdorp", "P2", "JZ03", 22_000),
        ("GM0007", "Grootstad", "P1", "JZ01", 120_000),  # other class, same region: never chosen first
        ("GM0008", "Hadorp", "P3", "JZ04", 49_000),
    ]
    return pd.DataFrame(rows, columns=["code", "naam", "provincie", "jeugdregio_code", "inwoners"])


def test_reference_group_prefers_region_then_province_then_population():
    refs = automatic_references("GM0001", fixture_gemeenten())
    # region first (GM0002); province next by population ratio (GM0003 31k, GM0005 24k); then nearest (GM0004, GM0006)
    assert refs == ["GM0002", "GM0003", "GM0005", "GM0004", "GM0006"]
    assert "GM0007" not in refs   # 120 000 inhabitants is another size class


def test_a_small_class_is_filled_up_to_four_from_neighbouring_classes():
    frame = fixture_gemeenten()
    refs = automatic_references("GM0007", frame)      # alone in 100-150K
    assert len(refs) == 4
    assert refs[0] == "GM0008"                         # 49 000 is nearest to 120 000


def test_size_classes_are_cbs_gemeentegrootteklassen():
    assert cbs_size_class(4_999) == "<5K"
    assert cbs_size_class(20_000) == "20-50K"
    assert cbs_size_class(357_597) == "250K+"


def test_resolution_by_code_name_and_number():
    frame = fixture_gemeenten()
    assert resolve_municipality("gm0003", frame) == "GM0003"
    assert resolve_municipality("cestad", frame) == "GM0003"
    assert resolve_municipality("3", frame) == "GM0003"        # what YAML makes of 0003


def test_unknown_name_suggests_close_matches():
    with pytest.raises(UnknownMunicipalityError, match="did you mean GM0003 Cestad"):
        resolve_municipality("Cestadt", fixture_gemeenten())


def test_configured_cases_keep_tabel_1_groups_and_others_get_automatic_ones(built):
    from pipeline.processed import Processed

    data = Processed.read(built.processed_dir)
    deventer = case_for("GM0150", built, data.gemeenten)
    assert not deventer.automatic and deventer.references == ("GM0200", "GM0202", "GM0301", "GM0193")
    amsterdam = case_for("GM0363", built, data.gemeenten)
    assert amsterdam.automatic and amsterdam.size_class == "250K+" and amsterdam.jeugdregio == "JZ13"
    assert set(amsterdam.references) >= {"GM0599", "GM0518", "GM0344"}   # the other 250K+ municipalities


def test_all_municipalities_selects_every_code(built):
    codes = select_case_codes(built, None, all_municipalities=True)
    assert len(codes) == 355 and codes == sorted(codes)
    assert select_case_codes(built, ["Peel en Maas", "GM0150", "gm0150"]) == ["GM1894", "GM0150"]
