"""Snapshot format: checksums verified on read, padding stripped, writes atomic."""

import json

import pytest

from pipeline.errors import MissingColumnError, SnapshotError
from pipeline.data.manifest import read_manifest, verify_snapshot, write_snapshot
from pipeline.data.snapshot import load_table


def tiny_table(tmp_path, **overrides):
    entity_sets = {
        "TableInfos": [{"Identifier": "T1", "Title": "Test", "ShortTitle": "t", "Modified": "2021-01-01"}],
        "DataProperties": [
            {"Type": "GeoDimension", "Key": "RegioS", "Title": "Regio's"},
            {"Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
            {"Type": "Topic", "Key": "JongerenMetJeugdhulp_4", "Title": "Jongeren met jeugdhulp", "Unit": "aantal"},
        ],
        "RegioS": [{"Key": "GM0150    ", "Title": "Deventer"}, {"Key": "NL01      ", "Title": "Nederland"}],
        "Perioden": [{"Key": "2017HJ01", "Title": "2017 1e halfjaar", "Status": "Definitief"}],
        "TypedDataSet": [{"ID": 0, "RegioS": "GM0150    ", "Perioden": "2017HJ01", "JongerenMetJeugdhulp_4": 5}],
    }
    entity_sets.update(overrides)
    target = tmp_path / "T1"
    write_snapshot(target, entity_sets, table_id="T1", catalog="opendata.cbs.nl", generated=False)
    return target


def test_keys_are_stripped_of_cbs_padding_in_dimensions_and_data(tmp_path):
    table = load_table(tiny_table(tmp_path))
    assert table.dimension("RegioS")["Key"].tolist() == ["GM0150", "NL01"]
    assert table.data["RegioS"].tolist() == ["GM0150"]


def test_manifest_records_provenance_and_a_checksum_per_file(tmp_path):
    manifest = read_manifest(tiny_table(tmp_path))
    assert manifest["table_id"] == "T1" and manifest["modified"] == "2021-01-01" and manifest["rows"] == 1
    assert set(manifest["files"]) == {"TableInfos.json", "DataProperties.json", "RegioS.json", "Perioden.json",
                                      "TypedDataSet.json"}
    assert all(len(meta["sha256"]) == 64 for meta in manifest["files"].values())


def test_an_edited_file_fails_the_checksum_with_a_fix(tmp_path):
    target = tiny_table(tmp_path)
    data = json.loads((target / "TypedDataSet.json").read_text())
    data[0]["JongerenMetJeugdhulp_4"] = 6
    (target / "TypedDataSet.json").write_text(json.dumps(data, indent=2))
    with pytest.raises(SnapshotError, match=r"checksum mismatch in .*TypedDataSet.json.*re-fetch"):
        verify_snapshot(target)


def test_a_missing_snapshot_says_how_to_make_one(tmp_path):
    with pytest.raises(SnapshotError, match="manifest.json missing.*pipeline fetch"):
        load_table(tmp_path / "nothing")


def test_a_renumbered_measure_resolves_by_title_and_an_unknown_one_lists_candidates(tmp_path):
    table = load_table(tiny_table(tmp_path))
    assert table.resolve_measure("JongerenMetJeugdhulp_3", "Jongeren met jeugdhulp") == "JongerenMetJeugdhulp_4"
    with pytest.raises(MissingColumnError, match="candidates: JongerenMetJeugdhulp_4"):
        table.resolve_measure("JongerenMetJeugdhulp_3", "Iets anders")


def test_a_failed_write_keeps_the_previous_snapshot_byte_identical(tmp_path):
    target = tiny_table(tmp_path)
    before = {p.name: p.read_bytes() for p in target.iterdir()}

    class Unserialisable:
        pass

    with pytest.raises(TypeError):
        write_snapshot(target, {"TableInfos": [{"x": Unserialisable()}]}, table_id="T1", catalog="c")
    assert {p.name: p.read_bytes() for p in target.iterdir()} == before
    assert [p.name for p in tmp_path.iterdir()] == ["T1"]   # no staging directory left behind


def test_a_title_only_measure_resolves_and_fails_with_candidates(tmp_path):
    table = load_table(tiny_table(tmp_path))
    assert table.resolve_measure(None, "Jongeren met jeugdhulp") == "JongerenMetJeugdhulp_4"
    with pytest.raises(MissingColumnError, match="'Iets anders'.*candidates: JongerenMetJeugdhulp_4"):
        table.resolve_measure(None, "Iets anders")


@pytest.mark.parametrize("unit, factor", [("aantal", 1.0), ("%", 1.0), ("euro", 1.0), ("x 1 000 euro", 1000.0),
                                          ("1 000 euro", 1000.0), ("x 1 000", 1000.0), ("x 1 mln euro", 1e6),
                                          ("x 1\u00a0000 euro", 1000.0), ("", 1.0)])
def test_the_unit_multiplier_is_read_from_data_properties(tmp_path, unit, factor):
    properties = [{"Type": "GeoDimension", "Key": "RegioS", "Title": "Regio's"},
                  {"Type": "Topic", "Key": "Bedrag_1", "Title": "Bedrag", "Unit": unit}]
    table = load_table(tiny_table(tmp_path, DataProperties=properties,
                                  TypedDataSet=[{"ID": 0, "RegioS": "GM0150    ", "Bedrag_1": 12}]))
    assert table.unit_factor("Bedrag_1") == factor


def test_periods_are_recognised_by_key_or_title_in_every_spelling_cbs_uses():
    import pandas as pd
    from pipeline.data.periods import parse_periods

    dimension = pd.DataFrame([
        {"Key": "2017HJ01", "Title": "1e halfjaar 2017", "Status": "Definitief"},
        {"Key": "2017JJ00", "Title": "2017", "Status": "Definitief"},
        {"Key": "A0001", "Title": "1e half jaar 2024", "Status": "Voorlopig"},    # 85099NED's spelling, unknown key
        {"Key": "B0002", "Title": "2015 2e halfjaar", "Status": "Definitief"},    # older releases
        {"Key": "2017KW01", "Title": "2017 1e kwartaal", "Status": "Definitief"},  # not a half year: left out
        {"Key": "2020JJ00", "Title": "2020*", "Status": ""},                       # provisional by its asterisk
    ])
    found = [(p.key, p.year, p.half, p.provisional) for p in parse_periods(dimension)]
    assert found == [("2017HJ01", 2017, 1, False), ("2017JJ00", 2017, None, False), ("A0001", 2024, 1, True),
                     ("B0002", 2015, 2, False), ("2020JJ00", 2020, None, True)]


def test_rows_get_the_kind_of_the_first_matching_provenance_block(tmp_path):
    rows = [{"ID": i, "RegioS": "GM0150    ", "Perioden": p, "JongerenMetJeugdhulp_4": i}
            for i, p in enumerate(["2017HJ01", "2018HJ01"])]
    target = tiny_table(tmp_path, TypedDataSet=rows, Perioden=[
        {"Key": "2017HJ01", "Title": "1e halfjaar 2017", "Status": "Definitief"},
        {"Key": "2018HJ01", "Title": "1e halfjaar 2018", "Status": "Definitief"}])
    manifest = read_manifest(target)
    manifest["provenance"] = {"default": "cbs", "blocks": [
        {"where": {"Perioden": ["2018HJ01"]}, "kind": "gegenereerd", "note": "demo"},
        {"where": {"RegioS": ["GM0150"]}, "kind": "afgeleid", "note": "other table"}]}
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    table = load_table(target)
    assert table.row_kinds(table.data).tolist() == ["afgeleid", "gegenereerd"]


def test_a_file_the_manifest_does_not_list_is_an_error_not_read_unverified(tmp_path):
    target = tiny_table(tmp_path)
    manifest = read_manifest(target)
    del manifest["files"]["Perioden.json"]             # Perioden.json is there, but nothing verifies it
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(SnapshotError, match=r"Perioden.json is not listed in .*manifest.json.*re-fetch"):
        load_table(target)


def test_an_unreadable_file_is_a_snapshot_error(tmp_path, monkeypatch):
    import builtins

    from pipeline.data import manifest  # where the snapshot's files are read and verified

    target = tiny_table(tmp_path)

    def denied(path, *args, **kwargs):
        if str(path).endswith("Perioden.json"):
            raise PermissionError(13, "Permission denied", str(path))
        return builtins.open(path, *args, **kwargs)

    monkeypatch.setattr(manifest, "open", denied, raising=False)
    with pytest.raises(SnapshotError, match=r"Perioden.json cannot be read \(Permission denied\)"):
        load_table(target)


def test_a_row_without_a_measure_reads_as_a_missing_value_not_an_error(tmp_path):
    rows = [{"ID": 0, "RegioS": "GM0150    ", "Perioden": "2017HJ01", "JongerenMetJeugdhulp_4": 5},
            {"ID": 1, "RegioS": "NL01      ", "Perioden": "2017HJ01"}]   # a dump may leave out an empty cell
    table = load_table(tiny_table(tmp_path, TypedDataSet=rows))
    assert table.data["RegioS"].tolist() == ["GM0150", "NL01"]
    assert table.data["JongerenMetJeugdhulp_4"].iloc[0] == 5 and table.data["JongerenMetJeugdhulp_4"].isna().iloc[1]


def test_a_file_that_is_not_json_is_a_one_line_error_naming_it(tmp_path):
    import hashlib

    target = tiny_table(tmp_path)
    broken = (target / "TypedDataSet.json").read_bytes()[:-20]   # cut off, with a checksum that matches it
    (target / "TypedDataSet.json").write_bytes(broken)
    manifest = read_manifest(target)
    manifest["files"]["TypedDataSet.json"]["sha256"] = hashlib.sha256(broken).hexdigest()
    (target / "manifest.json").write_text(json.dumps(manifest, indent=2))
    with pytest.raises(SnapshotError, match=r"TypedDataSet.json is not valid JSON \(.+ at line \d+\); the snapshot "
                                            r"is corrupt: re-fetch it"):
        load_table(target)
