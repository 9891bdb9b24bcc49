"""Build on the bundled snapshot: deterministic output, back-casting, clear errors on gaps."""

import json

import pandas as pd
import pytest

from pipeline.build import build_all
from pipeline.config import load_config
from pipeline.errors import SnapshotError
from pipeline.snapshot import build_manifest, write_manifest

from conftest import write_config


def test_build_covers_every_2020_municipality(built):
    gemeenten = pd.read_csv(built.processed_dir / "gemeenten.csv", dtype=str)
    assert len(gemeenten) == 355
    assert gemeenten["code"].str.match(r"^GM\d{4}$").all()
    assert gemeenten["jeugdregio_code"].notna().all()
    ses = pd.read_csv(built.processed_dir / "ses.csv")
    assert ses["ses_deciel"].between(1, 10).all() and ses["armoede_deciel"].between(1, 10).all()


def test_build_is_byte_identical_on_rerun(built, tmp_path):
    again = load_config(write_config(tmp_path))
    build_all(again)
    for name in ("gemeenten.csv", "ses.csv", "lasten.csv", "jeugdhulp.csv", "provenance.json", "crosswalk.csv"):
        assert (again.processed_dir / name).read_bytes() == (built.processed_dir / name).read_bytes(), name


def test_altena_is_backcast_from_its_predecessors_before_2019(built):
    jh = pd.read_csv(built.processed_dir / "jeugdhulp.csv", dtype={"code": str})
    altena = jh[(jh["code"] == "GM1959")].set_index("periode")
    assert altena.loc["2017HJ01", "herleid"] and not altena.loc["2019HJ01", "herleid"]
    # the pooled predecessors' share equals the printed percentage (Tabel 7: 6,5%)
    row = altena.loc["2017HJ01"]
    assert row["pct_zonder_verblijf"] == pytest.approx(round(row["zonder_verblijf"] / row["jongeren"] * 100, 1))
    assert row["pct_zonder_verblijf"] == pytest.approx(6.5)


def test_half_years_come_from_the_perioden_dimension_with_provisional_flag(built):
    jh = pd.read_csv(built.processed_dir / "jeugdhulp.csv")
    nl = jh[jh["code"] == "NL01"]
    assert nl["periode"].tolist()[0] == "2015HJ01" and nl["periode"].tolist()[-1] == "2020HJ01"
    assert nl.set_index("periode").loc["2020HJ01", "voorlopig"]
    assert not nl.set_index("periode").loc["2019HJ02", "voorlopig"]


def test_provenance_says_which_tables_are_generated(built):
    provenance = json.loads((built.processed_dir / "provenance.json").read_text())
    assert provenance["bevolking"]["generated"] is False
    assert provenance["jeugdzorg"]["generated"] is True
    assert len(provenance["jeugdzorg"]["snapshot_sha256"]) == 64


def test_a_municipality_missing_without_a_merger_is_an_error_naming_it(raw_copy, tmp_path):
    table = raw_copy / "84134NED"
    rows = json.loads((table / "TypedDataSet.json").read_text())
    rows = [r for r in rows if not (r["RegioS"].strip() == "GM0150" and r["Perioden"] == "2018HJ01")]
    (table / "TypedDataSet.json").write_text(json.dumps(rows, indent=2))
    manifest = json.loads((table / "manifest.json").read_text())
    write_manifest(table, {**build_manifest(table, table_id=manifest["table_id"], catalog=manifest["catalog"])})
    config = load_config(write_config(tmp_path, raw=raw_copy))
    with pytest.raises(SnapshotError, match="GM0150 has no data for 2018HJ01 in table 84134NED"):
        build_all(config)


def test_a_corrupted_raw_file_stops_the_build_with_the_file_named(raw_copy, tmp_path):
    path = raw_copy / "84866NED" / "TypedDataSet.json"
    path.write_text(path.read_text().replace("GM0150", "GM0151", 1))
    config = load_config(write_config(tmp_path, raw=raw_copy))
    with pytest.raises(SnapshotError, match="checksum mismatch in .*84866NED/TypedDataSet.json"):
        build_all(config)


def test_a_new_half_year_flows_into_the_processed_data_and_the_figure(raw_copy, tmp_path):
    """A new CBS release with 2020 H2: no code change, the period appears with its own title."""
    from pipeline.case import index_series, load_case

    table = raw_copy / "84134NED"
    periods = json.loads((table / "Perioden.json").read_text())
    for period in periods:   # the new release makes 2020 H1 definitive
        if period["Key"] == "2020HJ01":
            period.update(Title="2020 1e halfjaar", Status="Definitief")
    periods.append({"Key": "2020HJ02", "Title": "2020 2e halfjaar*", "Description": None, "Status": "Voorlopig"})
    (table / "Perioden.json").write_text(json.dumps(periods, indent=2))
    rows = json.loads((table / "TypedDataSet.json").read_text())
    added = [dict(r, Perioden="2020HJ02", ID=len(rows) + i) for i, r in enumerate(x for x in rows if x["Perioden"] == "2020HJ01")]
    (table / "TypedDataSet.json").write_text(json.dumps(rows + added, indent=2))
    manifest = json.loads((table / "manifest.json").read_text())
    write_manifest(table, build_manifest(table, table_id=manifest["table_id"], catalog=manifest["catalog"]))
    config = load_config(write_config(tmp_path, raw=raw_copy))
    build_all(config)
    jh = pd.read_csv(config.processed_dir / "jeugdhulp.csv")
    assert "2020 2e halfjaar*" in set(jh["periode_titel"])
    series = index_series(load_case("GM0150", config.path))
    assert list(series.index[-2:]) == ["2020HJ1", "2020HJ2*"]   # the older half year is no longer the newest
