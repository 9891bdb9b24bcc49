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
