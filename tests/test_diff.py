"""pipeline.diff: simulated CBS releases against the local server, each showing up in the release diff.

A release is simulated on the fixture tables of tests/odata_server.py (a new half year, a revised
provisional half year turned final, a renumbered measure, a successor table), fetched into a
second snapshot folder and compared with the first. One test builds both sides of a revised
bundled snapshot to check the case cells (Tabel, Figuur) and the validation statuses.
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odata_server import (ODataServer, add_period, renumber_measure, revise_value,  # noqa: E402
                          set_info, set_period_status, successor_table)

from pipeline import cli  # noqa: E402
from pipeline.data import fetch as fetch_module  # noqa: E402
from pipeline.config import DEFAULT_CONFIG, ROOT, load_config  # noqa: E402
from pipeline.diff import REPORT_NAME, Side, compare, table_diffs  # noqa: E402
from pipeline.data.fetch import fetch_table  # noqa: E402
from pipeline.data.manifest import dump_json, sha256_file  # noqa: E402
from pipeline.data.snapshot import load_table  # noqa: E402

TABLE = "84134NED"
CONFIG = load_config(DEFAULT_CONFIG)
SPEC = CONFIG.tables["jeugdzorg"]


@pytest.fixture(autouse=True)
def no_catalog_env(monkeypatch):
    monkeypatch.delenv("CBS_CATALOG_URL", raising=False)
    monkeypatch.setattr(fetch_module, "DEFAULT_BACKOFF", 0.001)


@pytest.fixture
def server():
    with ODataServer(page_size=50) as feed:
        yield feed


def fetch_into(raw: Path, server: ODataServer, spec=SPEC) -> None:
    fetch_table(spec, raw, catalog_url=server.url, backoff=0.001, timeout=5)


@pytest.fixture
def release(server, tmp_path):
    """data/raw before (``old``) and a copy (``new``) to fetch the simulated release into."""
    old, new = tmp_path / "old", tmp_path / "new"
    fetch_into(old, server)
    shutil.copytree(old, new)
    return old, new


def only(diffs: list[dict], table: str) -> dict:
    [entry] = [d for d in diffs if d["table"] == table]
    return entry


def test_nothing_changed(release):
    old, new = release
    [entry] = table_diffs(old, new)
    assert entry["status"] == "unchanged" and entry["revised"] == [] and entry["periods_added"] == []


def test_new_half_year_and_revised_provisional_half_year(release, server):
    old, new = release
    table = server.table(TABLE)
    set_info(table, Modified="2021-12-15T02:00:00", MetaDataModified="2021-12-15T02:00:00")
    add_period(table, "2020HJ02", "2e halfjaar 2020", status="Voorlopig")
    set_period_status(table, "2020HJ01", "Definitief")
    revise_value(table, "JongerenMetJeugdzorg_1", 1250, RegioS="GM0150", Perioden="2020HJ01",
                 VormenVanJeugdzorg="A041661")
    fetch_into(new, server)

    entry = only(table_diffs(old, new), TABLE)
    assert entry["status"] == "changed"
    assert entry["old"]["modified"] == "2021-06-30T02:00:00" and entry["new"]["modified"] == "2021-12-15T02:00:00"
    assert entry["periods_added"] == ["2020HJ02"] and entry["periods_removed"] == []
    assert entry["status_changed"] == [{"period": "2020HJ01", "old": "Voorlopig", "new": "Definitief"}]
    assert entry["new"]["rows"] - entry["old"]["rows"] == entry["cells_added"] > 0
    [revised] = entry["revised"]
    assert revised["where"] == {"VormenVanJeugdzorg": "A041661", "RegioS": "GM0150", "Perioden": "2020HJ01"}
    assert revised["measure"] == "JongerenMetJeugdzorg_1" and revised["new"] == 1250
    assert revised["difference"] == 1250 - revised["old"]


def test_renumbered_measure_is_paired_by_title_not_reported_as_revised(release, server):
    old, new = release
    table = server.table(TABLE)
    set_info(table, Modified="2021-12-15T02:00:00")
    renumber_measure(table, "JongerenMetJeugdzorgRelatief_2", "JongerenMetJeugdzorgRelatief_4")
    fetch_into(new, server)

    entry = only(table_diffs(old, new), TABLE)
    assert entry["measures_renumbered"] == [{"old": "JongerenMetJeugdzorgRelatief_2",
                                             "new": "JongerenMetJeugdzorgRelatief_4",
                                             "title": "Jongeren met jeugdzorg, relatief"}]
    assert entry["revised"] == [] and entry["measures_removed"] == [] and entry["measures_added"] == []


def test_successor_table_is_compared_with_its_predecessor(release, server):
    old, new = release
    successor = successor_table(server.table(TABLE), "85099NED")
    add_period(successor, "2021HJ01", "1e half jaar 2021", status="Voorlopig")
    server.tables["85099NED"] = successor
    shutil.rmtree(new / TABLE)
    fetch_into(new, server, SPEC.model_copy(update={"table_id": "85099NED"}))

    [entry] = table_diffs(old, new)
    assert entry["status"] == "successor" and entry["table"] == "85099NED"
    assert entry["old"]["table_id"] == TABLE and entry["role"] == "jeugdzorg"
    assert entry["periods_added"] == ["2021HJ01"] and entry["revised"] == []
    # the successor's period titles ("1e half jaar 2021") are recognised as half years
    assert [p.label for p in load_table(new / "85099NED").periods() if p.half][-1] == "2021HJ1"


def test_diff_command_exit_codes_outputs_and_determinism(release, server, tmp_path, capsys):
    from conftest import write_config

    old, new = release
    config = write_config(tmp_path, raw=new)
    reports = tmp_path / "reports"
    argv = ["diff", str(old), str(new), "--config", str(config), "--tables-only"]
    assert cli.main(argv) == 0
    assert "nothing changed" in capsys.readouterr().out

    table = server.table(TABLE)
    set_info(table, Modified="2021-12-15T02:00:00")
    add_period(table, "2020HJ02", "2e halfjaar 2020")
    revise_value(table, "JongerenMetJeugdzorgRelatief_2", 9.9, RegioS="GM0344", Perioden="2017HJ02",
                 VormenVanJeugdzorg="A041659")
    fetch_into(new, server)
    summary = tmp_path / "summary.md"
    assert cli.main(argv + ["--summary", str(summary)]) == 1
    out = capsys.readouterr().out
    assert f"{TABLE}: Modified 2021-06-30T02:00:00 -> 2021-12-15T02:00:00" in out
    assert "+2020HJ02" in out and "1 values revised" in out and out.rstrip().endswith("changed")
    assert "### What changed in the CBS data" in summary.read_text(encoding="utf-8")
    first = {n: (reports / f"{REPORT_NAME}.{n}").read_bytes() for n in ("html", "json", "csv")}
    assert cli.main(argv) == 1
    assert {n: (reports / f"{REPORT_NAME}.{n}").read_bytes() for n in ("html", "json", "csv")} == first
    data = json.loads(first["json"])
    assert data["changed"] is True and data["tables"][0]["periods_added"] == ["2020HJ02"]
    csv_text = first["csv"].decode()
    assert "value revised" in csv_text and "RegioS=GM0344" in csv_text and "period added,2020HJ02" in csv_text
    page = first["html"].decode()
    assert 'href="style.css"' in page and "2020HJ02" in page and "<script" not in page


def test_unknown_side_is_one_line(tmp_path, capsys):
    assert cli.main(["diff", "no-such-revision-or-folder", "--tables-only"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1 and "neither a folder nor a git revision" in err


def _revise_snapshot(directory: Path, where: dict, measure: str, delta: float) -> None:
    """Edit one cell of a snapshot and refresh its manifest checksums (a simulated release)."""
    rows = json.loads((directory / "TypedDataSet.json").read_text(encoding="utf-8"))
    hits = [r for r in rows if all(str(r[d]).strip() == k for d, k in where.items())]
    assert len(hits) == 1, where
    hits[0][measure] += delta
    dump_json(rows, directory / "TypedDataSet.json")
    manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
    manifest["files"]["TypedDataSet.json"] = {"sha256": sha256_file(directory / "TypedDataSet.json"),
                                              "bytes": (directory / "TypedDataSet.json").stat().st_size}
    dump_json(manifest, directory / "manifest.json")


def test_revised_value_moves_case_cells_and_figure_points(tmp_path):
    from conftest import write_config

    old, new = tmp_path / "old", tmp_path / "new"
    shutil.copytree(ROOT / "data" / "raw", old)
    shutil.copytree(old, new)
    config = load_config(write_config(tmp_path, raw=new))
    jeugdzorg = load_table(new / TABLE)
    key = jeugdzorg.resolve_category("VormenVanJeugdzorg", SPEC.category("VormenVanJeugdzorg", "zonder_verblijf"))[0]
    current = config.periods.jeugdhulp_current
    _revise_snapshot(new / TABLE, {"RegioS": "GM0150", "VormenVanJeugdzorg": key,
                                   "Perioden": f"{current.year}HJ0{current.half}"},
                     "JongerenMetJeugdzorgRelatief_2", 0.5)   # pct zonder verblijf

    diff = compare(config, Side("old", old), Side("new", new), tmp_path / "work")
    assert diff.changed and diff.cases["error"] is None
    moved = {(c["case"], c["table"]) for c in diff.cases["cells"]}
    deventer = config.case("GM0150")
    assert ("GM0150", f"Tabel {deventer.table_gebruik}") in moved
    assert ("GM0150", f"Figuur {deventer.figure}") in moved
    cell = next(c for c in diff.cases["cells"] if c["case"] == "GM0150" and c["column"] == "index_pct_zonder_verblijf"
                and c["row"].startswith("GM0150"))
    assert cell["new"] > cell["old"] and cell["difference"] == pytest.approx(cell["new"] - cell["old"])
    # a moved published cell changes its validation status (or stays listed when it still matches)
    assert all(v["old"] != v["new"] for v in diff.cases["validation"])


def test_fetch_writes_the_release_diff_by_itself(server, tmp_path, capsys):
    from conftest import write_config

    raw = tmp_path / "raw"
    config = write_config(tmp_path, raw=raw)
    argv = ["fetch", "--config", str(config), "--table", "jeugdzorg", "--catalog-url", server.url]
    assert cli.main(argv) == 0
    table = server.table(TABLE)
    set_info(table, Modified="2021-12-15T02:00:00")
    add_period(table, "2020HJ02", "2e halfjaar 2020")
    capsys.readouterr()
    assert cli.main(argv) == 0                      # fetch's own exit code: the diff only reports
    out = capsys.readouterr().out
    assert "diff vóór fetch -> werkboom" in out and "+2020HJ02" in out
    data = json.loads((tmp_path / "reports" / f"{REPORT_NAME}.json").read_text(encoding="utf-8"))
    assert data["old"] == "vóór fetch" and data["tables"][0]["periods_added"] == ["2020HJ02"]
