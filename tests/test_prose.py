"""Chapter 6's prose numbers: every claim type on small hand-made tables, klopt and klopt niet; the
transcription parses, every claim type has a function, every sentence is in the report text."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from pipeline.check import prose
from pipeline.config import ROOT
from pipeline.data.published import PUBLISHED_DIR

REPORT_TEXT = ROOT.parent / "shared" / "seeds" / "004_e95c5437b7d0a8d2.txt"
CASE, REF1, REF2, OTHER = "GM0001", "GM0002", "GM0003", "GM0004"
PERIODS = ["2017HJ01", "2018HJ01", "2019HJ02", "2020HJ01"]


def jeugdhulp_rows(code, unit_type, pct_zonder, met, pct_met, pct_wijk):
    return [{"unit_type": unit_type, "code": code, "naam": code, "periode": p, "jongeren": 1000,
             "pct_zonder_verblijf": z, "met_verblijf": m, "pct_met_verblijf": pm, "pct_via_wijkteam": w}
            for p, z, m, pm, w in zip(PERIODS, pct_zonder, met, pct_met, pct_wijk)]


def make_data(**changes) -> prose.ProcessedData:
    """Four municipalities (case GM0001 with references GM0002, GM0003; GM0004 outside) plus Nederland."""
    gemeenten = pd.DataFrame({"code": [CASE, REF1, REF2, OTHER], "naam": ["Casus", "Ref een", "Ref twee", "Ander"],
                              "jeugdregio_code": ["JZ01", "JZ01", "JZ02", "JZ01"],
                              "inwoners": [40_000, 60_000, 150_000, 100_000]})
    ses = pd.DataFrame({"code": [CASE, REF1, REF2, OTHER], "ses_deciel": [6, 2, 1, 7],
                        "armoede_deciel": [2, 3, 4, 9]})
    lasten = pd.DataFrame({"unit_type": ["gemeente"] * 4 + ["nederland"], "code": [CASE, REF1, REF2, OTHER, "NL01"],
                           "naam": ["Casus", "Ref een", "Ref twee", "Ander", "Nederland"],
                           "gebruikers": [100, 200, 300, 400, 1000],
                           "lasten_per_gebruiker": [6000.0, 9000.0, 12000.0, 8000.0, 10000.0],
                           "index_lasten_per_inwoner": [110.0, 150.0, 160.0, 120.0, 150.0]})
    kerncijfers = pd.DataFrame({"code": [CASE, REF1, REF2, OTHER, "NL01"],
                                "unit_type": ["gemeente"] * 4 + ["nederland"],
                                "index_lasten_per_gebruiker": [125.0, 110.0, 100.0, 105.0, 115.0],
                                "lasten_per_gebruiker_basis": [4800.0, 8000.0, 12000.0, 7500.0, 8700.0]})
    jeugdhulp = pd.DataFrame(
        jeugdhulp_rows(CASE, "gemeente", [8.0, 8.1, 10.0, 9.6], [100, 90, 90, 80], [0.5, 0.5, 0.5, 0.4],
                       [60.0, 60.0, 60.0, 60.0])
        + jeugdhulp_rows(REF1, "gemeente", [7.0, 7.0, 7.0, 6.3], [40, 40, 40, 40], [0.8, 0.8, 0.8, 0.8],
                         [30.0, 30.0, 30.0, 30.0])
        + jeugdhulp_rows(REF2, "gemeente", [6.0, 6.0, 6.0, 5.4], [50, 50, 50, 50], [0.9, 0.9, 0.9, 0.9],
                         [25.0, 25.0, 25.0, 25.0])
        + jeugdhulp_rows(OTHER, "gemeente", [5.0, 5.0, 5.0, 5.0], [60, 60, 60, 60], [1.2, 1.2, 1.2, 1.2],
                         [50.0, 50.0, 50.0, 50.0])
        + jeugdhulp_rows("NL01", "nederland", [7.1, 7.6, 7.9, 7.3], [900, 900, 900, 900], [1.0, 1.0, 0.9, 0.9],
                         [40.0, 40.0, 40.0, 40.0]))
    frames = dict(gemeenten=gemeenten, ses=ses, lasten=lasten, kerncijfers=kerncijfers, jeugdhulp=jeugdhulp)
    frames.update(changes)
    return prose.ProcessedData(**frames, referenties={CASE: [REF1, REF2]},
                               provenance={"jeugdzorg": {"generated": False}})


def claim(claimtype, indicator, eenheden, vergelijking, waarde, **rest):
    row = {"id": "test", "casus": CASE, "zin": "", "geciteerd": "", "claimtype": claimtype, "indicator": indicator,
           "eenheden": eenheden, "zonder": "", "ten_opzichte_van": "", "periode": "", "periode2": "",
           "aggregatie": "enkel", "voorwaarde": "", "richting": "", "vergelijking": vergelijking,
           "waarde": str(waarde), "waarde2": "", "tolerantie": "0", "verwacht_eenheden": "", "toelichting": ""}
    row.update({k: str(v) for k, v in rest.items()})
    return row


def status(row, data=None):
    return prose.check_claim(data or make_data(), row)["status"]


# One (claim that holds, same claim with a value that does not) per claim type.
CASES = {
    "waarde": (claim("waarde", "pct_met_verblijf", CASE, "=", 0.4, periode="2020HJ01", tolerantie=0.05),
               claim("waarde", "pct_met_verblijf", CASE, "=", 0.5, periode="2020HJ01", tolerantie=0.05)),
    "verandering_procentpunt": (
        claim("verandering_procentpunt", "pct_zonder_verblijf", CASE, "=", -0.4, periode="2019HJ02",
              periode2="2020HJ01"),
        claim("verandering_procentpunt", "pct_zonder_verblijf", CASE, "=", -0.2, periode="2019HJ02",
              periode2="2020HJ01")),
    "verandering_relatief": (
        claim("verandering_relatief", "pct_zonder_verblijf", "referenties", "≈", -10, periode="2019HJ02",
              periode2="2020HJ01", aggregatie="gemiddelde", tolerantie=2),
        claim("verandering_relatief", "pct_zonder_verblijf", "referenties", "≈", -4, periode="2019HJ02",
              periode2="2020HJ01", aggregatie="gemiddelde", tolerantie=1)),
    "verschil": (claim("verschil", "ses_deciel", CASE, ">=", 4, ten_opzichte_van="referenties", aggregatie="minimum"),
                 claim("verschil", "ses_deciel", CASE, ">=", 5, ten_opzichte_van="referenties",
                       aggregatie="minimum")),
    "verhouding": (claim("verhouding", "pct_via_wijkteam", CASE, ">=", 2, ten_opzichte_van="referenties",
                         periode="2020HJ01", aggregatie="minimum"),
                   claim("verhouding", "pct_via_wijkteam", CASE, ">=", 2.5, ten_opzichte_van="referenties",
                         periode="2020HJ01", aggregatie="minimum")),
    "spreiding_absoluut": (claim("spreiding_absoluut", "pct_met_verblijf", CASE, "<=", 0.1, periode="2017HJ01",
                                 periode2="2020HJ01"),
                           claim("spreiding_absoluut", "pct_met_verblijf", REF1, ">=", 0.1, periode="2017HJ01",
                                 periode2="2020HJ01")),
    "spreiding_relatief": (claim("spreiding_relatief", "met_verblijf", REF1, "<=", 15, periode="2018HJ01",
                                 periode2="2020HJ01"),
                           claim("spreiding_relatief", "met_verblijf", CASE, "<=", 10, periode="2018HJ01",
                                 periode2="2020HJ01")),
    "deciel": (claim("deciel", "pct_zonder_verblijf", CASE, "=", 8, periode="2019HJ02", richting="oplopend"),
               claim("deciel", "pct_zonder_verblijf", CASE, "=", 1, periode="2019HJ02", richting="oplopend")),
    "rangorde": (claim("rangorde", "lasten_per_gebruiker", REF1, "=", 3, ten_opzichte_van="gemeenten;NL01",
                       richting="oplopend", verwacht_eenheden=f"{CASE};{OTHER}"),
                 claim("rangorde", "lasten_per_gebruiker", REF1, "=", 3, ten_opzichte_van="gemeenten;NL01",
                       richting="oplopend", verwacht_eenheden=f"{CASE};NL01")),
    "hoogste": (claim("hoogste", "pct_via_wijkteam", "", "=", 2, ten_opzichte_van="gemeenten", periode="2020HJ01",
                      richting="aflopend", verwacht_eenheden=f"{CASE};{OTHER}"),
                claim("hoogste", "pct_via_wijkteam", "", "=", 2, ten_opzichte_van="gemeenten-100000+",
                      periode="2020HJ01", richting="aflopend", verwacht_eenheden=f"{CASE};{OTHER}")),
    "aandeel": (claim("aandeel", "inwoners", f"{CASE};{REF1}", "≈", 50, ten_opzichte_van="jeugdregio", tolerantie=8),
                claim("aandeel", "inwoners", f"{CASE};{REF1}", "≈", 30, ten_opzichte_van="jeugdregio",
                      tolerantie=6)),
    "aantal_gemeenten": (claim("aantal_gemeenten", "", "jeugdregio-overig", "=", 2),
                         claim("aantal_gemeenten", "", "jeugdregio-overig", "=", 3)),
}


def test_every_claim_type_has_a_case():
    assert set(CASES) == set(prose.CLAIM_TYPES)


@pytest.mark.parametrize("claimtype", sorted(CASES))
def test_claim_type_holds_and_can_fail(claimtype):
    holds, fails = CASES[claimtype]
    assert status(holds) == prose.KLOPT, prose.check_claim(make_data(), holds)
    assert status(fails) == prose.KLOPT_NIET, prose.check_claim(make_data(), fails)


@pytest.mark.parametrize("aggregatie, voorwaarde, vergelijking, waarde, expected", [
    ("elk", "", "between", "0.3", prose.KLOPT_NIET),       # 0,4 / 0,8 / 0,9 with upper bound 0,6
    ("aantal", "<=0.6", "=", "1", prose.KLOPT),
    ("aantal", "<=0.6", "=", "2", prose.KLOPT_NIET),
    ("maximum", "", "<=", "0.9", prose.KLOPT),
    ("minimum", "", ">=", "0.5", prose.KLOPT_NIET),
])
def test_aggregations(aggregatie, voorwaarde, vergelijking, waarde, expected):
    row = claim("waarde", "pct_met_verblijf", "casus+referenties", vergelijking, waarde, periode="2020HJ01",
                aggregatie=aggregatie, voorwaarde=voorwaarde, waarde2="0.6")
    assert status(row) == expected


def test_elk_holds_when_every_value_does():
    row = claim("waarde", "pct_met_verblijf", "referenties", "between", 0.7, periode="2020HJ01", aggregatie="elk",
                waarde2=0.9)
    assert status(row) == prose.KLOPT


def test_missing_data_is_not_computable_with_a_reason():
    data = make_data()
    row = claim("verandering_relatief", "gebruikers", CASE, "<=", 10, periode="2017", periode2="2019")
    result = prose.check_claim(data, row)
    assert result["status"] == prose.NIET_BEREKENBAAR and "gebruikers" in result["reden"]
    suppressed = make_data(jeugdhulp=data.jeugdhulp.assign(
        pct_met_verblijf=data.jeugdhulp["pct_met_verblijf"].where(data.jeugdhulp["code"] != CASE)))
    result = prose.check_claim(suppressed, CASES["waarde"][0])
    assert result["status"] == prose.NIET_BEREKENBAAR and CASE in result["reden"]


def test_dutch_number_text():
    result = prose.check_claim(make_data(), CASES["verandering_procentpunt"][0])
    assert result["berekend"] == "-0,4%-punt" and result["berekend_waarde"] == pytest.approx(-0.4)
    assert prose.nl_number(10143.4, 0) == "10.143"


def test_provenance_weakest_kind_of_inputs():
    data = make_data()
    assert prose.check_claim(data, CASES["waarde"][0])["herkomst"] == "cbs"
    data.provenance = {"jeugdzorg": {"generated": True}, "bevolking": {"generated": False}}
    assert prose.check_claim(data, CASES["waarde"][0])["herkomst"] == "gegenereerd"
    assert prose.check_claim(data, CASES["aandeel"][0])["herkomst"] == "cbs"      # gemeenten.csv only
    kinds = data.jeugdhulp["code"].map({CASE: "afgeleid"}).fillna("cbs")
    data = make_data(jeugdhulp=data.jeugdhulp.assign(pct_met_verblijf_herkomst=kinds))
    data.provenance = {"jeugdzorg": {"generated": True}}
    assert prose.check_claim(data, CASES["waarde"][0])["herkomst"] == "afgeleid"   # the column wins
    row = claim("waarde", "pct_met_verblijf", REF1, "=", 0.8, periode="2020HJ01")
    assert prose.check_claim(data, row)["herkomst"] == "cbs"


def test_provenance_json_in_either_layout(tmp_path):
    (tmp_path / "a.json").write_text('{"jeugdzorg": {"generated": true}}', encoding="utf-8")
    (tmp_path / "b.json").write_text('{"tables": {"jeugdzorg": {"generated": false, "provenance": '
                                     '{"default": "cbs", "blocks": [{"kind": "afgeleid"}]}}}, "warnings": []}',
                                     encoding="utf-8")
    assert prose.table_kinds(prose.read_tables(tmp_path / "a.json")["jeugdzorg"]) == ["cbs", "gegenereerd"]
    assert prose.weakest(prose.table_kinds(prose.read_tables(tmp_path / "b.json")["jeugdzorg"])) == "afgeleid"
    assert prose.read_tables(tmp_path / "absent.json") == {}


# ---------------------------------------------------------------------------------------------
# The transcription


@pytest.fixture(scope="module")
def claims():
    return prose.load_claims(PUBLISHED_DIR)


def test_transcription_parses_and_every_claim_type_has_a_function(claims):
    assert len(claims) > 0 and claims["id"].is_unique
    assert set(claims["claimtype"]) <= set(prose.CLAIM_TYPES)
    cases = set(prose.case_references(PUBLISHED_DIR / prose.LASTEN_FILE))
    assert set(claims["casus"]) <= cases
    for row in claims.to_dict("records"):
        assert row["vergelijking"] in ("=", "≈", "<=", ">=", "between"), row["id"]
        float(row["waarde"])
        if row["vergelijking"] == "between":
            assert float(row["waarde2"]) >= float(row["waarde"]), row["id"]
        if row["tolerantie"]:
            assert float(row["tolerantie"]) >= 0, row["id"]
        assert row["aggregatie"] in ("enkel", "elk", "gemiddelde", "minimum", "maximum", "aantal"), row["id"]
        if row["aggregatie"] == "aantal":
            prose.parse_condition(row["voorwaarde"])
        assert row["geciteerd"] and row["toelichting"], row["id"]
        assert prose.claim_summary(row)


def _normalised(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


@pytest.mark.skipif(not REPORT_TEXT.exists(), reason="report text not available")
def test_every_sentence_and_cited_number_occurs_in_the_report(claims):
    # Verbatim up to whitespace: the text file breaks lines and pages inside sentences.
    report = _normalised(REPORT_TEXT.read_text(encoding="utf-8"))
    for row in claims.to_dict("records"):
        sentence = _normalised(row["zin"])
        assert sentence in report, row["id"]
        for part in row["geciteerd"].strip("()").split(" ... "):
            assert part in sentence, (row["id"], part)


def test_check_prose_runs_on_a_processed_folder(tmp_path, claims):
    data = make_data()
    for name, frame in {"gemeenten.csv": data.gemeenten, "ses.csv": data.ses, "lasten.csv": data.lasten,
                        "kerncijfers.csv": data.kerncijfers, "jeugdhulp.csv": data.jeugdhulp}.items():
        frame.to_csv(tmp_path / name, index=False)
    published = tmp_path / "published"
    published.mkdir()
    pd.DataFrame({"tabel": ["2", "2", "2"], "rij_label": ["C", "R1", "R2"],
                  "rij_code": [CASE, REF1, REF2]}).to_csv(published / prose.LASTEN_FILE, index=False)
    pd.DataFrame([CASES["waarde"][0], CASES["deciel"][1]]).assign(id=["a", "b"]).to_csv(
        published / prose.TEXT_FILE, index=False)
    result = prose.check_prose(tmp_path, published)
    assert list(result.columns) == prose.RESULT_COLUMNS
    assert result["status"].tolist() == [prose.KLOPT, prose.KLOPT_NIET]
    assert set(result["herkomst"]) == {"cbs"}          # no provenance.json: nothing says generated


# ---------------------------------------------------------------------------------------------
# Years from the config, provenance per column, the prose against the printed tables


def test_years_of_single_year_columns_come_from_the_config():
    from types import SimpleNamespace

    data = make_data()
    row = claim("waarde", "lasten_per_gebruiker", CASE, "=", 4800, periode="2017")
    assert status(row, data) == prose.KLOPT                      # 2017 = cost-trend base year (default)
    config = SimpleNamespace(periods=SimpleNamespace(iv3_rekening_year=2020, cost_trend_base_year=2018,
                                                     classification_year=2021))
    data = make_data().with_years(config)
    assert (data.rekening_jaar, data.kosten_basisjaar, data.classificatie_jaar) == ("2020", "2018", "2021")
    assert status(row, data) == prose.NIET_BEREKENBAAR            # 2017 is no longer a year of the data
    assert status(claim("waarde", "lasten_per_gebruiker", CASE, "=", 4800, periode="2018"), data) == prose.KLOPT


def test_row_kind_follows_the_manifest_blocks_for_the_period():
    entry = {"generated": True, "provenance": {"default": "cbs", "blocks": [
        {"where": {"Perioden": ["2017JJ00", "2018JJ00"]}, "kind": "gegenereerd"}]}}
    assert prose.row_kind(entry, {"Perioden": "2020JJ00"}) == "cbs"
    assert prose.row_kind(entry, {"Perioden": "2017JJ00"}) == "gegenereerd"
    # a block on another dimension may apply: it counts
    other = {"provenance": {"default": "cbs", "blocks": [{"where": {"Vorm": ["A"]}, "kind": "afgeleid"}]}}
    assert prose.row_kind(other, {"Perioden": "2020JJ00"}) == "afgeleid"


def test_gemeenten_columns_take_the_kind_of_the_classification_year():
    data = make_data()
    data.provenance = {"bevolking": {"generated": True, "provenance": {"default": "cbs", "blocks": [
        {"where": {"Perioden": ["2017JJ00"]}, "kind": "gegenereerd"}]}}}
    assert prose.check_claim(data, CASES["aandeel"][0])["herkomst"] == "cbs"     # inhabitants of 2020: real
    data.classificatie_jaar = "2017"
    assert prose.check_claim(data, CASES["aandeel"][0])["herkomst"] == "gegenereerd"


def _printed_tables(directory: Path, buren_lpg: str) -> None:
    """A tiny Tabel 6/7: a case, Nederland and two references, as printed."""
    directory.mkdir(exist_ok=True)
    pd.DataFrame({"tabel": ["6"] * 4, "rij_label": ["CASUS", "Nederland", "Ref een", "Ref twee"],
                  "rij_code": [CASE, "NL01", REF1, REF2], "ses_deciel": ["5", "x", "6", "8"],
                  "armoede_deciel": ["7", "x", "9", "6"],
                  "lasten_per_gebruiker_2019": ["€ 6.748", "€ 11.409", "€ 8.028", buren_lpg],
                  "lasten_per_inwoner_2019": ["€ 236", "€ 293", "€ 199", "€ 227"],
                  "index_lasten_per_inwoner": ["180", "151", "147", "159"]}).to_csv(directory / prose.LASTEN_FILE,
                                                                                    index=False)
    pd.DataFrame({"tabel": ["7"] * 4, "rij_label": ["CASUS", "Nederland", "Ref een", "Ref twee"],
                  "rij_code": [CASE, "NL01", REF1, REF2], "ses_deciel": ["5", "x", "6", "8"],
                  "armoede_deciel": ["7", "x", "9", "6"],
                  "pct_zonder_verblijf_2017hj1": ["8,0%", "7,1%", "6,5%", "5,8%"],
                  "pct_zonder_verblijf_2020hj1": ["8,8%", "7,2%", "5,8%", "5,9%"],
                  "index_pct_zonder_verblijf": ["110", "101", "89", "102"]}).to_csv(directory / "hoofdstuk6_gebruik.csv",
                                                                                     index=False)


def test_prose_on_the_printed_tables_finds_a_contradiction(tmp_path):
    published = tmp_path / "published"
    _printed_tables(published, "€ 9.643")          # Buren: 9.643 / 11.409 = 0,85, not 20% below
    rows = [claim("verhouding", "lasten_per_gebruiker", "casus+referenties", "<=", 0.8, ten_opzichte_van="NL01",
                  aggregatie="elk"),
            claim("waarde", "index_lasten_per_inwoner", CASE, "=", 180),
            claim("waarde", "pct_met_verblijf", CASE, "=", 0.5, periode="2020HJ01"),    # not printed
            claim("aantal_gemeenten", "", "jeugdregio-overig", "=", 2)]                 # group not printed
    pd.DataFrame(rows).assign(id=["a", "b", "c", "d"]).to_csv(published / prose.TEXT_FILE, index=False)
    result = prose.check_prose_on_printed(published).set_index("id")
    assert result.loc["a", "status"] == prose.KLOPT_NIET and "0,85" in result.loc["a", "berekend"]
    assert result.loc["b", "status"] == prose.KLOPT
    assert result.loc[["c", "d"], "status"].tolist() == [prose.NIET_BEREKENBAAR] * 2
    assert set(result["herkomst"]) <= {"gedrukt", ""}
    _printed_tables(published, "€ 9.043")          # 0,79: now the sentence holds on the tables
    assert prose.check_prose_on_printed(published).set_index("id").loc["a", "status"] == prose.KLOPT
