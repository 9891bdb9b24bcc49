"""A role continued by a successor table (84134NED up to 2020, 85099NED from 2021): fetch takes both."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from odata_server import ODataServer, add_period, successor_table  # noqa: E402

from conftest import write_config  # noqa: E402
from pipeline import cli  # noqa: E402
from pipeline.data import fetch as fetch_module  # noqa: E402
from pipeline.config import load_config  # noqa: E402
from pipeline.data.snapshot import load_table  # noqa: E402


@pytest.fixture
def server(monkeypatch):
    monkeypatch.delenv("CBS_CATALOG_URL", raising=False)
    monkeypatch.setattr(fetch_module, "DEFAULT_BACKOFF", 0.001)
    with ODataServer(page_size=50) as feed:
        successor = successor_table(feed.table("84134NED"), "85099NED")
        add_period(successor, "2021HJ01", "1e half jaar 2021", status="Voorlopig")
        feed.tables["85099NED"] = successor
        yield feed


def test_fetch_takes_the_table_and_its_successor(server, tmp_path, capsys):
    raw = tmp_path / "raw"
    path = write_config(tmp_path, raw=raw)
    path.write_text(path.read_text(encoding="utf-8").replace(
        "table_id: 84134NED", "table_id: 84134NED\n    successors: [85099NED]"), encoding="utf-8")
    assert load_config(path).tables["jeugdzorg"].successors == ("85099NED",)
    assert cli.main(["fetch", "--config", str(path), "--catalog-url", server.url, "--table", "jeugdzorg",
                     "--no-diff"]) == 0
    out = capsys.readouterr().out
    assert "84134NED: " in out and "85099NED: " in out and "2 fetched" in out
    successor = load_table(raw / "85099NED")
    assert successor.manifest["role"] == "jeugdzorg"
    assert [p.label for p in successor.periods() if p.half][-1] == "2021HJ1"
    # a successor is also selectable by its own id
    assert cli.main(["fetch", "--config", str(path), "--catalog-url", server.url, "--table", "85099ned",
                     "--no-diff"]) == 0
    assert "85099NED unchanged" in capsys.readouterr().out
