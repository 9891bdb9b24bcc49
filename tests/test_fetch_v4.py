"""pipeline.data.fetch_v4 against the local server's OData v4 endpoints (tests/odata_server.py).

The v4 fixture is a slice of the real CBS v4 capture of 03759ned (tests/fixtures/odata_v4/); a v4
fetch of it must give the same population as the bundled v3-shaped snapshot in data/raw/03759ned.
"""

from __future__ import annotations

import hashlib
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from odata_server import ODataServer  # noqa: E402

from pipeline import cli  # noqa: E402
from pipeline.config import DEFAULT_CONFIG, ROOT, load_config  # noqa: E402
from pipeline.errors import FetchError  # noqa: E402
from pipeline.data.fetch import fetch_table  # noqa: E402
from pipeline.data.fetch_v4 import v4_base  # noqa: E402
from pipeline.data.snapshot import load_table  # noqa: E402

TABLE = "03759ned"
CONFIG = load_config(DEFAULT_CONFIG)
SPEC = CONFIG.tables["bevolking"]
ROWS = 72   # 9 regions (PV25 is left out by the region filter) x 8 years 2019-2026


@pytest.fixture(autouse=True)
def no_catalog_env(monkeypatch):
    monkeypatch.delenv("CBS_CATALOG_URL", raising=False)


@pytest.fixture
def server():
    with ODataServer(page_size=25) as feed:
        yield feed


@pytest.fixture
def fetch(server, tmp_path):
    def run(**kwargs):
        kwargs.setdefault("catalog_url", server.url)
        kwargs.setdefault("backoff", 0.001)
        kwargs.setdefault("timeout", 5)
        kwargs.setdefault("api", "v4")
        return fetch_table(SPEC, tmp_path / "raw", **kwargs)
    return run


def test_v4_fetch_filters_on_the_server_and_pages_with_next_links(fetch, server, tmp_path, capsys):
    result = fetch()
    sent = server.v4_queries("Observations", TABLE)
    assert len(sent) == 3                                      # 72 rows, 25 per page: two @odata.nextLinks
    query = sent[0]["$filter"]
    assert "Measure eq 'M000352'" in query and "M000365" not in query   # only the configured measure
    assert "Geslacht eq 'T001038'" in query and "BurgerlijkeStaat eq 'T001019'" in query
    assert "startswith(RegioS,'GM')" in query and "startswith(RegioS,'NL')" in query
    assert all(q["$filter"] == query for q in sent)
    table = load_table(tmp_path / "raw" / TABLE)
    assert len(table.data) == ROWS == result.rows
    assert not table.data["RegioS"].str.startswith("PV").any()
    assert "[v4]" in capsys.readouterr().out


def test_v4_snapshot_has_the_v3_shape_and_records_its_api(fetch, tmp_path):
    fetch()
    table = load_table(tmp_path / "raw" / TABLE)
    manifest = table.manifest
    assert manifest["api"] == "v4" and manifest["generated"] is False
    assert manifest["source"].startswith("CBS OData v4 http://127.0.0.1:") and "/odata/v1/CBS/03759ned/" in manifest["source"]
    assert manifest["measures"] == {"inwoners": "M000352"}      # found by title: v4 codes are not v3 keys
    assert manifest["provenance"] == {"default": "cbs", "blocks": []}
    assert table.info["Modified"] == "2026-06-23T00:00:00+02:00" and table.info["OutputStatus"] == "Regulier"
    assert [p.label for p in table.periods()][-2:] == ["2025", "2026"]
    assert table.unit_factor("M000352") == 1.0
    kinds = dict(zip(table.properties["Key"], table.properties["Type"]))
    assert kinds["RegioS"] == "GeoDimension" and kinds["Perioden"] == "TimeDimension" and kinds["M000352"] == "Topic"


def test_v4_fetch_gives_the_same_population_as_the_bundled_table(fetch, tmp_path):
    fetch()
    v4 = load_table(tmp_path / "raw" / TABLE).select(SPEC)
    bundled = load_table(ROOT / "data" / "raw" / TABLE).select(SPEC)
    keys = ["regio", "Perioden"]
    v4 = v4.dropna(subset=["inwoners"]).set_index(keys)["inwoners"].sort_index()
    assert len(v4) > 50
    same = bundled.set_index(keys)["inwoners"].reindex(v4.index)
    assert same.notna().all(), "every v4 value is in the bundled table"
    assert (same == v4).all()
    assert v4[("GM0150", "2020JJ00")] == same[("GM0150", "2020JJ00")]


def test_unchanged_v4_table_costs_one_request_and_keeps_the_files(fetch, server, tmp_path, capsys):
    fetch()
    directory = tmp_path / "raw" / TABLE
    before = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()}
    count = len(server.requests)
    result = fetch()
    assert result.status == "unchanged" and len(server.requests) == count + 1
    assert {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in directory.iterdir()} == before
    server.v4_tables[TABLE]["Properties"]["Modified"] = "2027-06-22T00:00:00+02:00"
    assert fetch().status == "fetched"


def test_one_bad_v4_page_is_retried(fetch, server):
    server.add_fault("500", entity="Observations", page=1, times=2, table=TABLE)
    result = fetch()
    assert result.rows == ROWS and result.retried == 2


def test_persistent_v4_failure_is_one_line_and_leaves_the_snapshot(fetch, server, tmp_path):
    fetch()
    directory = tmp_path / "raw" / TABLE
    before = {p.name: p.read_bytes() for p in directory.iterdir()}
    server.v4_tables[TABLE]["Properties"]["Modified"] = "2027-06-22T00:00:00+02:00"
    server.add_fault("500", entity="Observations", page=1, times=None, table=TABLE)
    with pytest.raises(FetchError) as error:
        fetch(retries=2)
    message = str(error.value)
    assert "\n" not in message and "HTTP 500" in message and "after 2 attempts" in message
    assert "snapshot in" in message and "is unchanged" in message
    assert {p.name: p.read_bytes() for p in directory.iterdir()} == before
    assert [p.name for p in (tmp_path / "raw").iterdir() if p.name.startswith(".")] == []


def test_unknown_v4_table_is_a_404_with_a_fix(server, tmp_path):
    spec = SPEC.model_copy(update={"table_id": "99999NED"})
    with pytest.raises(FetchError, match=r"not found at .*/odata/v1/CBS/99999NED/Properties \(HTTP 404\).*api: v3"):
        fetch_table(spec, tmp_path / "raw", catalog_url=server.url, api="v4", backoff=0.001)


def test_v4_address_of_the_real_catalog_and_of_an_unknown_one():
    assert v4_base("opendata.cbs.nl", None, TABLE) == "https://datasets.cbs.nl/odata/v1/CBS/03759ned/"
    assert v4_base("opendata.cbs.nl", "http://127.0.0.1:9", TABLE) == "http://127.0.0.1:9/odata/v1/CBS/03759ned/"
    with pytest.raises(FetchError, match="api: v3"):
        v4_base("dataderden.cbs.nl", None, "45046NED")


def test_config_api_field_selects_v4_and_refuses_unknown_values(server, tmp_path):
    spec = SPEC.model_copy(update={"api": "v4"})
    result = fetch_table(spec, tmp_path / "raw", catalog_url=server.url, backoff=0.001)
    assert result.manifest["api"] == "v4"
    from pydantic import ValidationError
    with pytest.raises(ValidationError):
        type(SPEC)(**{**SPEC.model_dump(), "api": "v5"})


def test_fetch_command_api_option(server, tmp_path, capsys, monkeypatch):
    from conftest import write_config

    config = write_config(tmp_path, raw=tmp_path / "raw")
    argv = ["fetch", "--config", str(config), "--table", "bevolking", "--api", "v4", "--catalog-url", server.url]
    assert cli.main(argv + ["--no-diff"]) == 0
    assert load_table(tmp_path / "raw" / TABLE).manifest["api"] == "v4"
    assert "1 fetched, 0 unchanged, 0 failed" in capsys.readouterr().out
