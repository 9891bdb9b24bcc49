"""The committed demo snapshot (data/raw/) is what `python -m tools.demo_snapshot` makes from data/external/ only,
every manifest labels its rows, and the rows labelled real are the real CBS values."""

from __future__ import annotations

import csv
import filecmp
import json
from pathlib import Path

import pytest

from tools.demo_snapshot.__main__ import cli

ROOT = Path(__file__).resolve().parents[1]
RAW = ROOT / "data" / "raw"
DUMPS = ROOT / "data" / "external" / "cbs" / "v3-dumps"
TABLES = ["03759ned", "45038NED", "45046NED", "84134NED", "84721NED", "84866NED", "84868NED"]
KINDS = {"cbs", "afgeleid", "gegenereerd"}


def rows(table: str) -> list[dict]:
    return json.loads((RAW / table / "TypedDataSet.json").read_text(encoding="utf-8"))


def manifest(table: str) -> dict:
    return json.loads((RAW / table / "manifest.json").read_text(encoding="utf-8"))


def kind_of(row: dict, provenance: dict) -> str:
    for block in provenance["blocks"]:
        if all(str(row[dim]).strip() in keys for dim, keys in block["where"].items()):
            return block["kind"]
    return provenance["default"]


@pytest.mark.slow
def test_regenerating_gives_the_committed_files_byte_for_byte(tmp_path):
    out = tmp_path / "raw"
    assert cli(["--out", str(out)]) == 0
    assert sorted(p.name for p in out.iterdir()) == sorted(p.name for p in RAW.iterdir() if p.is_dir())
    for table in sorted(p.name for p in out.iterdir()):
        comparison = filecmp.dircmp(out / table, RAW / table)
        assert not comparison.left_only and not comparison.right_only, table
        for name in comparison.common_files:
            assert filecmp.cmp(out / table / name, RAW / table / name, shallow=False), f"{table}/{name}"


def test_bad_output_directory_is_one_line_and_non_zero(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert cli(["--out", str(blocker / "raw")]) != 0
    err = capsys.readouterr().err.strip()
    assert err.startswith("demo snapshot failed") and "\n" not in err and "Traceback" not in err


@pytest.mark.parametrize("table", TABLES)
def test_every_manifest_labels_its_rows(table):
    m = manifest(table)
    prov = m["provenance"]
    assert prov["default"] in KINDS
    for block in prov["blocks"]:
        assert block["kind"] in KINDS and block["note"].strip()
        assert all(isinstance(keys, list) for keys in block["where"].values())
    assert m["generated"] is any(b["kind"] == "gegenereerd" for b in prov["blocks"])
    assert m["rows"] == len(rows(table))


def test_real_blocks_are_real_cbs_values():
    jz = {(r["VormenVanJeugdzorg"].strip(), r["RegioS"].strip(), r["Perioden"]): r for r in rows("84134NED")}
    prov = manifest("84134NED")["provenance"]
    deventer = jz[("JZT", "GM0150", "2019JJ00")]
    assert deventer["JongerenMetJeugdzorg_1"] == 2370 and kind_of(deventer, prov) == "cbs"
    assert jz[("JZT", "NL01", "2019JJ00")]["JongerenMetJeugdzorg_1"] == 443585
    jh = jz[("JH121", "GM0150", "2017HJ01")]
    assert jh["JongerenMetJeugdzorgRelatief_2"] == 8.1 and kind_of(jh, prov) == "afgeleid"
    assert kind_of(jz[("JH121", "GM0150", "2019HJ02")], prov) == "gegenereerd"
    # the same JZ Totaal cell in the real dump (titles for keys)
    with open(DUMPS / "84134NED.csv", encoding="utf-8-sig", newline="") as f:
        dump = [r for r in csv.DictReader(f, delimiter=";") if r["RegioS"].strip() == "Deventer"
                and r["Perioden"].strip() == "2019"]
    assert float(dump[0]["JongerenMetJeugdzorg_1"]) == 2370


def test_population_totals_are_the_real_ones():
    pop = {(r["RegioS"].strip(), r["Perioden"]): r["BevolkingOp1Januari_1"] for r in rows("03759ned")}
    assert pop[("NL01", "2017JJ00")] == 17_081_507
    assert pop[("NL01", "2018JJ00")] == 17_181_084
    assert pop[("NL01", "2019JJ00")] == 17_282_163          # real capture
    gm2017 = sum(v for (c, p), v in pop.items() if c.startswith("GM") and p == "2017JJ00")
    assert gm2017 == 17_081_507


def test_geen_opgave_is_a_whole_report_or_non_summed_cells():
    data = rows("45046NED")
    missing = [r for r in data if r["k_1ePlaatsing_1"] == -99998]
    whole = {(r["Gemeenten"].strip(), r["Verslagsoort"]) for r in missing
             if r["TaakveldBalanspost"].strip() in ("6.72", "6.82")}
    assert len(whole) == 1
    (code, report), = whole
    report_rows = [r for r in data if r["Gemeenten"].strip() == code and r["Verslagsoort"] == report]
    assert all(r["k_1ePlaatsing_1"] == -99998 and r["k_2ePlaatsing_2"] == -99998 for r in report_rows)


def test_keys_are_padded_as_cbs_pads_them():
    jz = rows("84134NED")[0]
    assert len(jz["RegioS"]) == 10 and jz["RegioS"].rstrip() != jz["RegioS"]
    iv3 = rows("45046NED")[0]
    assert len(iv3["Gemeenten"]) == 9 and len(iv3["TaakveldBalanspost"]) == 6
    assert json.loads((RAW / "45046NED" / "TaakveldBalanspost.json").read_text(encoding="utf-8"))[0]["Key"] == "6.1   "
    assert all(len(r["RegioS"]) == 10 for r in rows("03759ned")[:50])


def _natura_pgb_parts() -> dict:
    """(form, code, period) -> ('alleen ZIN' count, 'ZIN en pgb' count, youth base) from the real 83432NED dump."""
    from tools.demo_snapshot.sources import map_periods, map_regions, read_dump, to_number

    d = read_dump("83432NED")
    d = d[(d["Leeftijd"] == "Totaal") & d["Geslacht"].str.startswith("Totaal")]
    codes, periods = map_regions(d["RegioS"], "83432NED"), map_periods(d["Perioden"])
    base = to_number(d["TotaalJongerenMetJeugdzorg_1"]) / to_number(d["TotaalJongerenMetJeugdzorgRelatief_2"]) * 100
    columns = {"JH121": ("TotaalJeugdhulpZonderVerblijf_7", "TotaalJeugdhulpZonderVerblijf_65"),
               "JH1211": ("UitgevoerdDoorHetWijkOfBuurtteam_8", "UitgevoerdDoorHetWijkOfBuurtteam_66"),
               "JH122": ("TotaalJeugdhulpMetVerblijf_13", "TotaalJeugdhulpMetVerblijf_71")}
    out = {}
    for form, (zin, pgb) in columns.items():
        for code, per, z, p, b in zip(codes, periods, to_number(d[zin]), to_number(d[pgb]), base):
            out[(form, code, per)] = (z, p, b)
    return out


def test_suppressed_zin_en_pgb_parts_are_generated_above_the_zin_only_bound():
    from pipeline.build.indicators import round_half_up

    jz = {(r["VormenVanJeugdzorg"].strip(), r["RegioS"].strip(), r["Perioden"]): r for r in rows("84134NED")}
    prov = manifest("84134NED")["provenance"]
    kinds = [b["kind"] for b in prov["blocks"]]
    assert kinds[-1] == "afgeleid" and kinds[1:-1] and set(kinds[1:-1]) == {"gegenereerd"}   # specific ones first
    covered = {(f, c, p) for b in prov["blocks"][1:-1] for f in b["where"]["VormenVanJeugdzorg"]
               for c in b["where"]["RegioS"] for p in b["where"]["Perioden"]}
    filled, kept_empty = set(), set()
    for key, (zin, pgb, base) in _natura_pgb_parts().items():
        row = jz[key]
        count, rel = row["JongerenMetJeugdzorg_1"], row["JongerenMetJeugdzorgRelatief_2"]
        if zin == zin and pgb == pgb:           # both parts published: derived, untouched
            assert kind_of(row, prov) == "afgeleid" and count == zin + pgb, key
        elif zin == zin:                        # 'ZIN en pgb' suppressed (< 10): generated above the lower bound
            filled.add(key)
            assert kind_of(row, prov) == "gegenereerd", key
            assert zin <= count < zin + 10 and count % 5 == 0, key
            assert rel == round_half_up(count / base * 100, 1) or base != base, key
        else:                                   # even the ZIN-only part suppressed: stays empty, a real anomaly
            kept_empty.add(key)
            assert count is None and rel is None and kind_of(row, prov) == "afgeleid", key
    assert covered == filled
    assert {f for f, _, _ in filled} == {"JH121", "JH1211", "JH122"}
    assert ("JH121", "GM0088", "2017HJ02") in kept_empty            # Schiermonnikoog: real suppression kept
    assert any(c.startswith("GM") and f == "JH122" for f, c, _ in kept_empty)
    deventer = jz[("JH121", "GM0150", "2017HJ01")]
    assert deventer["JongerenMetJeugdzorgRelatief_2"] == 8.1 and kind_of(deventer, prov) == "afgeleid"


def test_every_2020_municipality_has_a_2017_h1_zonder_verblijf_unless_cbs_suppresses_the_zin_only_part():
    from pipeline.build.indicators import backcast_weighted_pct
    from tools.demo_snapshot.regions import gebieden, successor_2020

    jz = {(r["VormenVanJeugdzorg"].strip(), r["RegioS"].strip(), r["Perioden"]): r for r in rows("84134NED")}
    prov = manifest("84134NED")["provenance"]
    parts = _natura_pgb_parts()
    per = "2017HJ01"
    present = {c for f, c, p in jz if f == "JH121" and p == per and c.startswith("GM")}
    pct, suppressed = {}, set()
    for code in gebieden().index:
        own = jz.get(("JH121", code, per))
        if own is not None and own["JongerenMetJeugdzorgRelatief_2"] is not None:
            pct[code] = own["JongerenMetJeugdzorgRelatief_2"]
            continue
        preds = sorted(c for c in present if c != code and successor_2020(c) == code)
        assert preds, code
        values = [jz[("JH121", c, per)]["JongerenMetJeugdzorgRelatief_2"] for c in preds]
        if any(v is None for v in values):      # allowed only where CBS has no ZIN-only count either
            assert all(parts[("JH121", c, per)][0] != parts[("JH121", c, per)][0]
                       for c, v in zip(preds, values) if v is None), code
            suppressed.add(code)
            continue
        weights = [jz[("JZT", c, per)]["JongerenMetJeugdzorg_1"] for c in preds]
        pct[code] = backcast_weighted_pct(values, weights)
        if code in ("GM1959", "GM1960"):        # Altena, West Betuwe: a predecessor's part was suppressed
            assert any(kind_of(jz[("JH121", c, per)], prov) == "gegenereerd" for c in preds), code
    assert len(pct) + len(suppressed) == len(gebieden()) == 355
    assert not suppressed                       # in 2017 H1 CBS publishes every municipality's ZIN-only count
    assert kind_of(jz[("JH121", "GM0213", "2017HJ02")], prov) == "gegenereerd"      # Brummen: filled
    assert pct["GM1959"] == 6.5 and pct["GM1960"] == 6.1                 # printed in Tabel 7
    assert pct["GM0150"] == 8.1
