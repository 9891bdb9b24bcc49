"""pipeline.fetch against a local CBS OData v3 feed (tests/odata_server.py), through cbsodata itself.

Every test gets a fresh server with the fixture tables of tests/fixtures/odata and a temporary
data/raw; nothing here touches the repository's data/raw or the internet.
"""

from __future__ import annotations

import hashlib
import json
import sys
from dataclasses import replace
from pathlib import Path

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import odata_server  # noqa: E402
from odata_server import ODataServer, add_period, drop_measure, load_fixtures, renumber_measure, set_info  # noqa: E402

from pipeline import cli  # noqa: E402
from pipeline import fetch as fetch_module  # noqa: E402
from pipeline.config import MeasureSpec, TableSpec  # noqa: E402
from pipeline.errors import FetchError, MissingColumnError  # noqa: E402
from pipeline.fetch import (RetryPolicy, catalog_override, fetch_table, resolve_endpoint,  # noqa: E402
                            transient_reason)
from pipeline.snapshot import load_table, write_snapshot  # noqa: E402

TABLE = "84134NED"
JEUGDZORG_MEASURES = {
    "jongeren": MeasureSpec("JongerenTot18Jaar_1", "Jongeren tot 18 jaar"),
    "totaal_jeugdzorg": MeasureSpec("TotaalJeugdzorg_2", "Totaal jeugdzorg"),
    "zonder_verblijf": MeasureSpec("JeugdhulpZonderVerblijf_3", "Jeugdhulp zonder verblijf"),
    "zonder_verblijf_pct": MeasureSpec("JeugdhulpZonderVerblijfRelatief_4", "Jeugdhulp zonder verblijf (relatief)"),
    "met_verblijf": MeasureSpec("JeugdhulpMetVerblijf_5", "Jeugdhulp met verblijf"),
    "via_wijkteam": MeasureSpec("JeugdhulpViaWijkteam_6", "Jeugdhulp via wijkteam"),
}
FIXTURE = load_fixtures()


@pytest.fixture(autouse=True)
def no_catalog_env(monkeypatch):
    monkeypatch.delenv("CBS_CATALOG_URL", raising=False)


@pytest.fixture
def server():
    with ODataServer(page_size=10) as feed:
        yield feed


@pytest.fixture
def raw_dir(tmp_path) -> Path:
    return tmp_path / "raw"


@pytest.fixture
def spec() -> TableSpec:
    return TableSpec(role="jeugdzorg", table_id=TABLE, catalog="opendata.cbs.nl", measures=dict(JEUGDZORG_MEASURES))


@pytest.fixture
def fetch(server, raw_dir, spec):
    """fetch_table against the local server, with a tiny backoff so retries cost milliseconds."""
    def run(table_spec: TableSpec = None, **kwargs):
        kwargs.setdefault("catalog_url", server.url)
        kwargs.setdefault("backoff", 0.001)
        kwargs.setdefault("timeout", 5)
        return fetch_table(table_spec or spec, raw_dir, **kwargs)
    return run


def file_state(directory: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file: proof that a snapshot was not touched."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(directory.iterdir())}


def stripped_rows(rows: list[dict]) -> list[dict]:
    return [{k: (v.strip() if k in ("RegioS", "Perioden") else v) for k, v in r.items()} for r in rows]


def assert_no_staging_left(raw_dir: Path) -> None:
    leftovers = [p.name for p in raw_dir.iterdir() if p.name.startswith(".")] if raw_dir.exists() else []
    assert leftovers == []


# --- A normal fetch ------------------------------------------------------------------------------

def test_full_fetch_reproduces_the_fixture(fetch, server, raw_dir, capsys):
    result = fetch()

    table = load_table(raw_dir / TABLE)
    records = table.data.astype(object).where(table.data.notna(), None).to_dict("records")
    assert records == stripped_rows(FIXTURE[TABLE]["TypedDataSet"])
    assert table.dimension("RegioS")["Key"].tolist() == [r["Key"].strip() for r in FIXTURE[TABLE]["RegioS"]]
    assert table.period_table()["Key"].tolist() == [r["Key"] for r in FIXTURE[TABLE]["Perioden"]]
    assert table.info == FIXTURE[TABLE]["TableInfos"][0]
    # 42 rows in pages of 10: cbsodata followed four odata.nextLinks.
    assert server.requested("TypedDataSet") == 5
    assert server.requested("UntypedDataSet") == 0
    assert result.status == "fetched" and result.rows == 42
    assert result.resolved["zonder_verblijf"] == "JeugdhulpZonderVerblijf_3"
    out = capsys.readouterr().out
    assert f"{TABLE}: 42 rows" in out and " kB " in out and " s, " in out


def test_manifest_records_provenance(fetch, server, raw_dir):
    fetch()
    manifest = json.loads((raw_dir / TABLE / "manifest.json").read_text())
    assert manifest["table_id"] == TABLE
    assert manifest["catalog"] == f"127.0.0.1:{server.port}"
    assert manifest["generated"] is False
    assert manifest["source"] == f"CBS OData v3 {server.url}/ODataFeed/odata/{TABLE}/"
    assert manifest["cbsodata_version"] == cbsodata.__version__
    assert manifest["fetched_at"].endswith("+00:00")
    assert manifest["modified"] == FIXTURE[TABLE]["TableInfos"][0]["Modified"]
    assert manifest["filters"] is None and manifest["select"] is None
    assert set(manifest["files"]) == {"TableInfos.json", "DataProperties.json", "CategoryGroups.json",
                                      "RegioS.json", "Perioden.json", "TypedDataSet.json"}
    assert_no_staging_left(raw_dir)


def test_filters_and_select_reach_the_service_and_the_manifest(fetch, raw_dir, spec):
    narrowed = replace(spec, filters="substringof('GM',RegioS)",
                       select=("RegioS", "Perioden") + tuple(m.key for m in JEUGDZORG_MEASURES.values()))
    result = fetch(narrowed)
    assert result.rows == 28  # 4 municipalities x 7 half years
    manifest = load_table(raw_dir / TABLE).manifest
    assert manifest["filters"] == "substringof('GM',RegioS)"
    assert manifest["select"][:2] == ["RegioS", "Perioden"]
    # Same filters: unchanged. Other filters: the snapshot no longer matches the config, so re-fetch.
    assert fetch(narrowed).status == "unchanged"
    assert fetch(spec).status == "fetched"
    assert load_table(raw_dir / TABLE).manifest["rows"] == 42


def test_cbsodata_options_are_restored(fetch, server):
    fetch()
    server.add_fault("500", times=None)
    with pytest.raises(FetchError):
        fetch(force=True)
    assert cbsodata.options.use_https is True
    assert cbsodata3.Session is requests.Session


# --- Transient failures: retried per request -----------------------------------------------------

@pytest.mark.parametrize("kind", ["500", "503", "drop", "invalid_json", "short_body"])
def test_one_bad_page_is_retried(fetch, server, raw_dir, kind):
    server.add_fault(kind, page=1, times=1)  # page 2 of TypedDataSet fails once
    result = fetch()
    assert result.retried == 1
    assert load_table(raw_dir / TABLE).data.shape[0] == 42
    # Only the failed page was asked again, not the whole table.
    assert server.requested("TypedDataSet") == 6


def test_slow_answer_times_out_and_is_retried(fetch, server):
    server.add_fault("slow", entity="DataProperties", times=1, delay=0.6)
    result = fetch(timeout=0.2)
    assert result.retried == 1 and result.rows == 42


def test_persistent_500_leaves_the_old_snapshot_byte_identical(fetch, server, raw_dir):
    fetch()
    before = file_state(raw_dir / TABLE)
    set_info(server.table(TABLE), Modified="2021-12-20T02:00:00")  # a new release, so it downloads
    server.add_fault("500", page=1, times=None)

    with pytest.raises(FetchError) as failure:
        fetch(retries=4)

    message = str(failure.value)
    assert message.startswith(f"table {TABLE}: HTTP 500 from {server.url}/ODataFeed/odata/{TABLE}/TypedDataSet")
    assert "after 4 attempts" in message and "cbsodata issue #22" in message
    assert f"{TABLE} is unchanged" in message
    assert file_state(raw_dir / TABLE) == before
    assert_no_staging_left(raw_dir)


def test_connection_dropped_on_every_try_fails_cleanly_on_first_fetch(fetch, server, raw_dir):
    server.add_fault("drop", page=1, times=None)
    with pytest.raises(FetchError, match=r"connection dropped .* after 3 attempts.*nothing was written"):
        fetch(retries=3)
    assert server.requested("TypedDataSet") == 1 + 3
    assert not (raw_dir / TABLE).exists()
    assert_no_staging_left(raw_dir)


def test_truncated_page_on_every_try_is_a_fetch_error(fetch, server, raw_dir):
    fetch()
    before = file_state(raw_dir / TABLE)
    server.add_fault("invalid_json", page=2, times=None)
    with pytest.raises(FetchError, match=r"invalid JSON .* after 2 attempts"):
        fetch(retries=2, force=True)
    assert file_state(raw_dir / TABLE) == before


def test_unknown_table_is_not_retried(fetch, server, spec):
    with pytest.raises(FetchError, match=r"table 99999NED: not found at .*HTTP 404.*config/study.yml"):
        fetch(replace(spec, table_id="99999NED"))
    assert server.requested("TableInfos") == 1


def test_retry_policy_backs_off_exponentially():
    waits = []
    policy = RetryPolicy(attempts=4, backoff=1.0, max_backoff=3.0, sleep=waits.append)
    calls = []

    def flaky():
        calls.append(1)
        if len(calls) < 4:
            raise requests.ConnectionError("reset")
        return "ok"

    assert policy.call(flaky, "http://x") == "ok"
    assert waits == [1.0, 2.0, 3.0]
    assert transient_reason(requests.exceptions.InvalidURL("bad")) is None


# --- New releases --------------------------------------------------------------------------------

def test_unchanged_table_is_not_touched(fetch, server, raw_dir, capsys):
    fetch()
    before = file_state(raw_dir / TABLE)
    dir_mtime = (raw_dir / TABLE).stat().st_mtime_ns
    served = len(server.requests)
    capsys.readouterr()

    result = fetch()

    assert result.status == "unchanged"
    assert capsys.readouterr().out.strip() == (
        f"{TABLE} unchanged (Modified {FIXTURE[TABLE]['TableInfos'][0]['Modified']}), snapshot kept")
    assert server.requests[served:] == [f"/ODataFeed/odata/{TABLE}/TableInfos?%24format=json"]
    assert file_state(raw_dir / TABLE) == before
    assert (raw_dir / TABLE).stat().st_mtime_ns == dir_mtime


def test_force_downloads_an_unchanged_table(fetch, server):
    fetch()
    assert fetch(force=True).status == "fetched"
    assert server.requested("TypedDataSet") == 10


def test_new_period_appears_in_the_snapshot(fetch, server, raw_dir):
    fetch()
    table = server.table(TABLE)
    add_period(table, "2020HJ02", "2020 2e halfjaar")
    set_info(table, Modified="2021-12-20T02:00:00", MetaDataModified="2021-12-20T02:00:00")

    result = fetch()

    assert result.status == "fetched" and result.rows == 48
    periods = load_table(raw_dir / TABLE).period_table()
    assert periods["Key"].tolist()[-1] == "2020HJ02"
    assert periods.set_index("Key").loc["2020HJ02", "Status"] == "Voorlopig"
    assert load_table(raw_dir / TABLE).manifest["modified"] == "2021-12-20T02:00:00"


def test_renumbered_measure_resolves_by_title(fetch, server, raw_dir, capsys):
    renumber_measure(server.table(TABLE), "JeugdhulpZonderVerblijf_3", "JeugdhulpZonderVerblijf_4")

    result = fetch()

    assert result.resolved["zonder_verblijf"] == "JeugdhulpZonderVerblijf_4"
    assert "JeugdhulpZonderVerblijf_4" in load_table(raw_dir / TABLE).data.columns
    err = capsys.readouterr().err
    assert "measure zonder_verblijf has key JeugdhulpZonderVerblijf_4" in err
    assert "tables.jeugdzorg.measures.zonder_verblijf.key" in err


def test_missing_measure_names_it_and_keeps_the_snapshot(fetch, server, raw_dir):
    fetch()
    before = file_state(raw_dir / TABLE)
    table = server.table(TABLE)
    drop_measure(table, "JeugdhulpMetVerblijf_5")
    set_info(table, Modified="2021-12-20T02:00:00")

    with pytest.raises(MissingColumnError) as failure:
        fetch()

    message = str(failure.value)
    assert "'JeugdhulpMetVerblijf_5'" in message and "candidates:" in message
    assert "JeugdhulpZonderVerblijf_3" in message  # candidates share the stem "Jeugdhulp..."
    assert f"{TABLE} is unchanged" in message
    assert file_state(raw_dir / TABLE) == before
    assert_no_staging_left(raw_dir)


def test_missing_dimension_is_reported(fetch, server, raw_dir):
    table = server.table(TABLE)
    for prop in table["DataProperties"]:
        if prop["Key"] == "RegioS":
            prop["Key"] = "WijkenEnBuurten"
    table["WijkenEnBuurten"] = table.pop("RegioS")
    for row in table["TypedDataSet"]:
        row["WijkenEnBuurten"] = row.pop("RegioS")
    with pytest.raises(MissingColumnError, match=r"dimension 'RegioS' not in table 84134NED"):
        fetch()
    assert not (raw_dir / TABLE).exists()


def test_empty_data_set_is_refused(fetch, spec):
    with pytest.raises(FetchError, match=r"TypedDataSet has no rows"):
        fetch(replace(spec, filters="RegioS eq 'GM9999    '"))


def test_discontinued_table_warns_but_fetches(fetch, server, raw_dir, capsys):
    set_info(server.table(TABLE), OutputStatus="Gediscontinueerd")

    result = fetch()

    assert result.status == "fetched"
    err = capsys.readouterr().err
    assert "warning: table 84134NED has OutputStatus 'Gediscontinueerd'" in err
    assert "tables.jeugdzorg.table_id in config/study.yml" in err
    assert load_table(raw_dir / TABLE).manifest["output_status"] == "Gediscontinueerd"


def test_generated_or_corrupt_snapshot_is_replaced(fetch, server, raw_dir, capsys):
    source = server.table(TABLE)
    write_snapshot(raw_dir / TABLE, source, table_id=TABLE, catalog="opendata.cbs.nl", generated=True)
    assert fetch().status == "fetched"  # same Modified, but demo data is never "unchanged"
    (raw_dir / TABLE / "RegioS.json").write_text("[]")
    assert fetch().status == "fetched"
    assert "existing snapshot is unusable" in capsys.readouterr().err


# --- Catalog URL and command line ----------------------------------------------------------------

@pytest.mark.parametrize("catalog, override, host, https", [
    ("opendata.cbs.nl", None, "opendata.cbs.nl", True),
    ("dataderden.cbs.nl", None, "dataderden.cbs.nl", True),
    ("opendata.cbs.nl", "http://127.0.0.1:8765/", "127.0.0.1:8765", False),
    ("opendata.cbs.nl", "https://mirror.example/cbs", "mirror.example/cbs", True),
])
def test_resolve_endpoint(catalog, override, host, https):
    endpoint = resolve_endpoint(catalog, override)
    assert (endpoint.host, endpoint.use_https) == (host, https)


def test_bad_catalog_url_is_refused(monkeypatch):
    with pytest.raises(FetchError, match="scheme 'ftp'"):
        resolve_endpoint("opendata.cbs.nl", "ftp://example")
    monkeypatch.setenv("CBS_CATALOG_URL", "http://127.0.0.1:1")
    assert catalog_override(None) == "http://127.0.0.1:1"
    assert catalog_override("http://other:2") == "http://other:2"


STUDY_YML = """
tables:
  bevolking:
    table_id: "03759ned"
    measures: {inwoners: {key: "BevolkingOp1Januari_1", title: "Bevolking op 1 januari"}}
  jeugdzorg:
    table_id: "84134NED"
    measures:
      jongeren: {key: "JongerenTot18Jaar_1", title: "Jongeren tot 18 jaar"}
      totaal_jeugdzorg: {key: "TotaalJeugdzorg_2", title: "Totaal jeugdzorg"}
      zonder_verblijf: {key: "JeugdhulpZonderVerblijf_3", title: "Jeugdhulp zonder verblijf"}
      zonder_verblijf_pct: {key: "JeugdhulpZonderVerblijfRelatief_4", title: "Jeugdhulp zonder verblijf (relatief)"}
      met_verblijf: {key: "JeugdhulpMetVerblijf_5", title: "Jeugdhulp met verblijf"}
      via_wijkteam: {key: "JeugdhulpViaWijkteam_6", title: "Jeugdhulp via wijkteam"}
  inkomen:
    table_id: "84866NED"
    measures: {mediaan_inkomen: {key: "MediaanGestandaardiseerdInkomen_1", title: "Mediaan gestandaardiseerd inkomen"}}
  armoede:
    table_id: "84868NED"
    measures:
      kinderen_laag_inkomen_pct: {key: "KinderenInHuishoudensMetLaagInkomen_1",
                                  title: "Kinderen in huishoudens met laag inkomen"}
  iv3:
    table_id: "Iv3Taakvelden"
    catalog: "dataderden.cbs.nl"
    measures:
      lasten: {key: "Lasten_1", title: "Lasten"}
      lasten_per_inwoner: {key: "LastenPerInwoner_2", title: "Lasten per inwoner"}
periods:
  jeugdhulp_base: {year: 2017, half: 1}
  jeugdhulp_current: {year: 2020, half: 1}
  jeugdzorg_users_year: 2019
  iv3_begroting_year: 2017
  iv3_rekening_year: 2019
  income_year: 2019
  classification_year: 2020
  taakvelden: ["6.72", "6.82"]
size_classes:
  "100-150K": {min: 100000, max: 150000}
cases:
  - {code: "GM0150", size_class: "100-150K", jeugdregio: "JZ07", references: ["GM0200", "GM0193"]}
"""


@pytest.fixture
def study(tmp_path, raw_dir, monkeypatch):
    """A config over the fixture tables whose snapshots land in the temporary raw_dir."""
    path = tmp_path / "study.yml"
    path.write_text(STUDY_YML, encoding="utf-8")
    real_load = fetch_module.load_config
    monkeypatch.setattr(fetch_module, "load_config", lambda p: replace(real_load(p), raw_dir=raw_dir))
    monkeypatch.setattr(fetch_module, "DEFAULT_BACKOFF", 0.001)
    return path


def test_fetch_command_fetches_every_table(study, server, raw_dir, capsys):
    assert cli.main(["fetch", "--config", str(study), "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(FIXTURE)
    for table_id in FIXTURE:
        assert f"{table_id}: " in out
    assert "5 fetched, 0 unchanged, 0 failed" in out
    assert cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", "jeugdzorg"]) == 0
    assert "84134NED unchanged" in capsys.readouterr().out


def test_fetch_command_reads_the_catalog_from_the_environment(study, server, raw_dir, monkeypatch):
    monkeypatch.setenv("CBS_CATALOG_URL", server.url)
    assert cli.main(["fetch", "--config", str(study), "--table", "03759NED"]) == 0
    assert (raw_dir / "03759ned" / "manifest.json").exists()


def test_fetch_command_goes_on_after_one_failed_table(study, server, raw_dir, capsys):
    server.add_fault("500", table="84866NED", entity="TypedDataSet", times=None)
    code = cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--retries", "2"])
    captured = capsys.readouterr()
    assert code == 2
    assert "error: table 84866NED: HTTP 500" in captured.err
    assert "1 of 5 tables failed (84866NED)" in captured.err
    assert "4 fetched, 0 unchanged, 1 failed" in captured.out
    assert not (raw_dir / "84866NED").exists() and (raw_dir / "84134NED").exists()


def test_fetch_command_rejects_an_unknown_table(study, server, capsys):
    assert cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", "nope"]) == 2
    assert "--table nope is neither a role nor a table id" in capsys.readouterr().err


def test_inspect_shows_the_snapshot_and_the_config_check(study, server, raw_dir, capsys):
    renumber_measure(server.table(TABLE), "JeugdhulpZonderVerblijf_3", "JeugdhulpZonderVerblijf_4")
    cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", TABLE])
    capsys.readouterr()

    assert cli.main(["inspect", "--config", str(study), TABLE]) == 0

    out = capsys.readouterr().out
    assert "Identifier    84134NED" in out and "OutputStatus  Regulier" in out
    assert "Modified      2021-06-30T02:00:00" in out
    assert "JeugdhulpViaWijkteam_6" in out and "[aantal]" in out
    assert "RegioS (GeoDimension, 6 keys): NL01, GM0150, GM0193, GM0200, GM0344, ..., JZ07" in out
    assert "Perioden (TimeDimension, 7 keys)" in out
    assert "JeugdhulpZonderVerblijf_4 (by title; config key JeugdhulpZonderVerblijf_3 is outdated)" in out


def test_inspect_remote_asks_the_service(study, server, raw_dir, capsys):
    set_info(server.table("84868NED"), OutputStatus="Gediscontinueerd")
    assert cli.main(["inspect", "--config", str(study), "84868NED", "--remote", "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert f"from          service {server.url}/ODataFeed/odata/84868NED/" in out
    assert "OutputStatus  Gediscontinueerd" in out and "CBS no longer updates this table" in out
    assert "KinderenInHuishoudensMetLaagInkomen_1 ok" in out
    assert server.requested("TypedDataSet") == 0
    assert not raw_dir.exists()


def test_inspect_a_new_table_id_shows_which_roles_it_fits(study, server, capsys):
    server.tables["85000NED"] = odata_server.copy.deepcopy(server.table(TABLE))
    set_info(server.table("85000NED"), Identifier="85000NED")
    assert cli.main(["inspect", "--config", str(study), "85000NED", "--remote", "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert "85000NED is not in" in out
    assert "jeugdzorg  6/6 (now 84134NED)" in out
    assert "bevolking  0/1" in out


def test_inspect_without_snapshot_points_to_fetch(study, capsys):
    assert cli.main(["inspect", "--config", str(study), TABLE]) == 2
    assert "no snapshot of 84134NED" in capsys.readouterr().err


def test_whole_call_is_retried_when_cbsodata_has_no_session_to_wrap(monkeypatch):
    # A future cbsodata without a module-level Session: retries fall back to the whole call.
    monkeypatch.delattr(cbsodata3, "Session")
    endpoint = resolve_endpoint("opendata.cbs.nl")
    seen = []

    def flaky(table_id, catalog_url, timeout):
        seen.append((table_id, catalog_url, timeout, cbsodata.options.use_https))
        if len(seen) == 1:
            raise requests.ConnectionError("reset")
        if len(seen) == 2:  # how cbsodata re-raises a 5xx: the response is on __cause__
            response = requests.Response()
            response.status_code = 503
            raise requests.HTTPError("Downloading table failed") from requests.HTTPError(response=response)
        return {"ok": True}

    policy = RetryPolicy(attempts=3, timeout=7, backoff=0, sleep=lambda s: None)
    assert fetch_module.call_cbsodata(endpoint, policy, "u", flaky, TABLE) == {"ok": True}
    assert seen[-1] == (TABLE, "opendata.cbs.nl", 7, True)
    assert not hasattr(cbsodata3, "Session")


def test_certificate_errors_are_not_retried():
    assert transient_reason(requests.exceptions.SSLError("certificate verify failed")) is None
    assert transient_reason(requests.ConnectTimeout("slow"), 5) == "no answer within 5 s"


def test_the_repository_config_fetches_every_fixture_table(server, tmp_path, capsys, monkeypatch):
    """config/study.yml itself (paths moved to tmp) against the local feed: the config and CBS's shapes agree."""
    from conftest import write_config

    monkeypatch.setattr(fetch_module, "DEFAULT_BACKOFF", 0.001)
    config = write_config(tmp_path, raw=tmp_path / "raw")
    assert cli.main(["fetch", "--config", str(config), "--catalog-url", server.url]) == 0
    captured = capsys.readouterr()
    assert "5 fetched, 0 unchanged, 0 failed" in captured.out
    # the fixture release numbers via_wijkteam _6, the config (like the demo snapshot) _7: found by title
    assert "JeugdhulpViaWijkteam_6" in captured.out + captured.err
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(FIXTURE)
