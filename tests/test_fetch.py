"""pipeline.data.fetch against a local CBS OData v3 feed (tests/odata_server.py), through cbsodata itself.

Every test gets a fresh server with the fixture tables of tests/fixtures/odata and a temporary
data/raw; nothing here touches the repository's data/raw or the internet.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import pytest
import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))

import odata_server  # noqa: E402
from odata_server import (ODataServer, add_period, drop_measure, load_fixtures, rekey_category,  # noqa: E402
                          renumber_measure, set_info)

from pipeline import cli  # noqa: E402
from pipeline.data import fetch as fetch_module  # noqa: E402
from pipeline.config import DEFAULT_CONFIG, CategorySpec, PerYear, load_config  # noqa: E402
from pipeline.errors import FetchError, MissingColumnError  # noqa: E402
from pipeline.data import odata  # noqa: E402
from pipeline.data.fetch import fetch_role, fetch_table  # noqa: E402
from pipeline.data.odata import RetryPolicy, catalog_override, resolve_endpoint, transient_reason  # noqa: E402
from pipeline.data.manifest import write_snapshot  # noqa: E402
from pipeline.data.snapshot import load_table  # noqa: E402

TABLE = "84134NED"
CONFIG = load_config(DEFAULT_CONFIG)       # the repository's config/study.yml, in the shapes of docs/shapes.md
FIXTURE = load_fixtures()
FILTERED_ROWS = 92   # 4 care forms x (6 regions x 4 periods - Zwolle's absent 2017HJ01); PV23 and JH 12 left out


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
def spec():
    return CONFIG.tables["jeugdzorg"]


@pytest.fixture
def fetch(server, raw_dir, spec):
    """fetch_table against the local server, with a tiny backoff so retries cost milliseconds."""
    def run(table_spec=None, **kwargs):
        kwargs.setdefault("catalog_url", server.url)
        kwargs.setdefault("backoff", 0.001)
        kwargs.setdefault("timeout", 5)
        return fetch_table(table_spec or spec, raw_dir, **kwargs)
    return run


def file_state(directory: Path) -> dict[str, tuple[str, int]]:
    """sha256 and mtime of every file: proof that a snapshot was not touched."""
    return {p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
            for p in sorted(directory.iterdir())}


def assert_no_staging_left(raw_dir: Path) -> None:
    leftovers = [p.name for p in raw_dir.iterdir() if p.name.startswith(".")] if raw_dir.exists() else []
    assert leftovers == []


def with_category(spec, dimension: str, name: str, **fields):
    categories = {d: dict(named) for d, named in spec.categories.items()}
    categories.setdefault(dimension, {})[name] = CategorySpec(**fields)
    return spec.model_copy(update={"categories": categories})


# --- A normal fetch: server-side selection from the config ---------------------------------------

def test_fetch_sends_the_config_as_filter_and_keeps_only_those_rows(fetch, server, raw_dir, capsys):
    result = fetch()

    sent = server.queries("TypedDataSet", TABLE)[0]
    # the real, padded keys of the four configured care forms, resolved by title in VormenVanJeugdzorg.json
    assert "VormenVanJeugdzorg eq 'A041661 '" in sent["$filter"]
    assert "VormenVanJeugdzorg eq 'A041660 '" not in sent["$filter"]        # JH 12 is not configured
    assert "substringof('GM',RegioS)" in sent["$filter"] and "substringof('JZ',RegioS)" in sent["$filter"]
    assert sent["$select"].split(",") == ["ID", "VormenVanJeugdzorg", "RegioS", "Perioden",
                                          "JongerenMetJeugdzorg_1", "JongerenMetJeugdzorgRelatief_2"]
    table = load_table(raw_dir / TABLE)
    assert len(table.data) == FILTERED_ROWS == result.rows
    assert set(table.data["VormenVanJeugdzorg"]) == {"A041659", "A041661", "A041662", "A041665"}
    assert not table.data["RegioS"].str.startswith("PV").any()
    assert "Jeugdzorgtrajecten_3" not in table.data.columns
    # the dimension lists are whole: inspect and the build can still see every category
    assert len(table.dimension("VormenVanJeugdzorg")) == 5 and len(table.dimension("RegioS")) == 7
    # the Perioden titles as CBS writes them
    assert table.period_table()["Title"].tolist()[:3] == ["1e halfjaar 2017", "2e halfjaar 2017", "2017"]
    # paged per 10 rows: cbsodata followed nine odata.nextLinks, each repeating the filter
    assert server.requested("TypedDataSet") == 10
    assert all(q.get("$filter") == sent["$filter"] for q in server.queries("TypedDataSet"))
    assert server.requested("UntypedDataSet") == 0
    assert f"{TABLE}: {FILTERED_ROWS} rows" in capsys.readouterr().out


def test_suppressed_cell_arrives_as_null_and_an_absent_municipality_stays_absent(fetch, raw_dir):
    fetch()
    data = load_table(raw_dir / TABLE).data
    cell = data[(data.RegioS == "GM0150") & (data.VormenVanJeugdzorg == "A041665") & (data.Perioden == "2020HJ01")]
    assert len(cell) == 1 and cell["JongerenMetJeugdzorg_1"].isna().all()      # null, never 0
    assert data[(data.RegioS == "GM0193") & (data.Perioden == "2017HJ01")].empty


def test_manifest_records_provenance_filters_and_resolved_categories(fetch, server, raw_dir):
    fetch()
    manifest = json.loads((raw_dir / TABLE / "manifest.json").read_text())
    assert manifest["table_id"] == TABLE and manifest["role"] == "jeugdzorg"
    assert manifest["catalog"] == f"127.0.0.1:{server.port}"
    assert manifest["generated"] is False
    assert manifest["provenance"] == {"default": "cbs", "blocks": []}
    assert manifest["source"] == f"CBS OData v3 {server.url}/ODataFeed/odata/{TABLE}/"
    assert manifest["cbsodata_version"] == cbsodata.__version__
    assert manifest["fetched_at"].endswith("+00:00")
    assert manifest["modified"] == FIXTURE[TABLE]["TableInfos"][0]["Modified"]
    assert manifest["filters"] == server.queries("TypedDataSet")[0]["$filter"]
    assert manifest["categories"]["VormenVanJeugdzorg"]["zonder_verblijf"] == ["A041661"]
    assert manifest["measures"] == {"jongeren": "JongerenMetJeugdzorg_1", "relatief": "JongerenMetJeugdzorgRelatief_2"}
    assert set(manifest["files"]) == {"TableInfos.json", "DataProperties.json", "CategoryGroups.json",
                                      "VormenVanJeugdzorg.json", "RegioS.json", "Perioden.json", "TypedDataSet.json"}
    assert_no_staging_left(raw_dir)


def test_category_is_found_by_title_when_a_release_changes_its_key(fetch, server, raw_dir, capsys):
    rekey_category(server.table("03759ned"), "Geslacht", "T001038", "T009999")

    fetch(CONFIG.tables["bevolking"])

    assert "Geslacht eq 'T009999'" in server.queries("TypedDataSet", "03759ned")[0]["$filter"]
    table = load_table(raw_dir / "03759ned")
    assert set(table.data["Geslacht"]) == {"T009999"} and len(table.data) == 10  # 5 regions x 2 years
    err = capsys.readouterr().err
    assert "category Geslacht.totaal has key T009999 in this release (config says T001038)" in err
    assert "tables.bevolking.categories.Geslacht.totaal.key" in err


def test_wrong_category_title_fails_in_one_line_listing_candidates(fetch, spec, raw_dir):
    wrong = with_category(spec, "VormenVanJeugdzorg", "zonder_verblijf", title="JH 121 Jeugdhulp zonder verblijf")
    with pytest.raises(MissingColumnError) as failure:
        fetch(wrong)
    message = str(failure.value)
    assert "\n" not in message
    assert "'JH 121 Jeugdhulp zonder verblijf'" in message and "VormenVanJeugdzorg" in message
    assert "A041661: JH 121 Totaal jeugdhulp zonder verblijf" in message
    assert f"python -m pipeline inspect {TABLE}" in message
    assert not (raw_dir / TABLE).exists()


def test_iv3_table_ids_are_resolved_from_the_catalog_by_title(fetch, server, raw_dir):
    unpinned = CONFIG.tables["iv3"].model_copy(
        update={"per_year": PerYear(title="Gemeenten {year} onbewerkte Iv3-data")})

    results = fetch_role(unpinned, raw_dir, [2017, 2019], catalog_url=server.url, backoff=0.001)

    assert [r.table_id for r in results] == ["45038NED", "45046NED"]
    assert server.requested("", "45042NED") == 0          # 2018 is in the catalog, but not asked for
    manifest = load_table(raw_dir / "45038NED").manifest
    assert manifest["resolved_from_title"] == "Gemeenten 2017 onbewerkte Iv3-data" and manifest["year"] == 2017
    assert manifest["catalog"] == f"127.0.0.1:{server.port}"
    data = load_table(raw_dir / "45046NED").data
    # only lasten (keys starting L) of 6.72/6.82, begroting and jaarrekening of that year
    assert set(data["Categorie"]) == {"L1.1", "L3.8"} and set(data["Verslagsoort"]) == {"2019X000", "2019X005"}
    assert set(data["TaakveldBalanspost"]) == {"6.72", "6.82"}
    assert (data["k_1ePlaatsing_1"] == -99998).sum() == 2   # Zwolle 6.82 jaarrekening L1.1, L3.8: "geen opgave"
    assert "Categorie eq 'L1.1    '" in server.queries("TypedDataSet", "45046NED")[0]["$filter"]


def test_iv3_pin_with_another_title_fails_naming_both(fetch, server, raw_dir):
    wrong = CONFIG.tables["iv3"].model_copy(update={"per_year": PerYear(
        title="Gemeenten {year} onbewerkte Iv3-data", table_ids={"2017": "45046NED"})})
    with pytest.raises(FetchError, match=r"table_ids.2017 = 45046NED is titled 'Gemeenten 2019 onbewerkte Iv3-data'"
                                         r".*'Gemeenten 2017 onbewerkte Iv3-data' is 45038NED"):
        fetch(wrong, year=2017)
    assert not raw_dir.exists() or not any(raw_dir.iterdir())


def test_iv3_title_matching_nothing_lists_the_closest_catalog_titles(fetch):
    wrong = CONFIG.tables["iv3"].model_copy(update={"per_year": PerYear(title="Gemeenten {year} Iv3 onbewerkt")})
    with pytest.raises(FetchError) as failure:
        fetch(wrong, year=2017)
    message = str(failure.value)
    assert "no table titled 'Gemeenten 2017 Iv3 onbewerkt'" in message and "\n" not in message
    assert "closest: 'Gemeenten 2017 onbewerkte Iv3-data' (45038NED)" in message


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
    assert load_table(raw_dir / TABLE).data.shape[0] == FILTERED_ROWS
    # Only the failed page was asked again, not the whole table.
    assert server.requested("TypedDataSet") == 11


def test_slow_answer_times_out_and_is_retried(fetch, server):
    server.add_fault("slow", entity="DataProperties", times=1, delay=0.6)
    result = fetch(timeout=0.2)
    assert result.retried == 1 and result.rows == FILTERED_ROWS


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
        fetch(spec.model_copy(update={"table_id": "99999NED"}))
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
    assert server.requested("TypedDataSet") == 20


def test_new_period_appears_in_the_snapshot(fetch, server, raw_dir):
    fetch()
    table = server.table(TABLE)
    add_period(table, "2020HJ02", "2e halfjaar 2020")
    set_info(table, Modified="2021-12-20T02:00:00", MetaDataModified="2021-12-20T02:00:00")

    result = fetch()

    assert result.status == "fetched" and result.rows == FILTERED_ROWS + 4 * 6  # 4 care forms x 6 regions
    periods = load_table(raw_dir / TABLE).period_table()
    assert periods["Key"].tolist()[-1] == "2020HJ02"
    assert periods.set_index("Key").loc["2020HJ02", "Status"] == "Voorlopig"
    assert load_table(raw_dir / TABLE).manifest["modified"] == "2021-12-20T02:00:00"


def test_renumbered_measure_resolves_by_title(fetch, server, raw_dir, capsys):
    renumber_measure(server.table(TABLE), "JongerenMetJeugdzorgRelatief_2", "JongerenMetJeugdzorgRelatief_4")

    result = fetch()

    assert result.resolved["relatief"] == "JongerenMetJeugdzorgRelatief_4"
    assert "JongerenMetJeugdzorgRelatief_4" in server.queries("TypedDataSet")[0]["$select"]
    assert "JongerenMetJeugdzorgRelatief_4" in load_table(raw_dir / TABLE).data.columns
    err = capsys.readouterr().err
    assert "measure relatief has key JongerenMetJeugdzorgRelatief_4" in err
    assert "tables.jeugdzorg.measures.relatief.key" in err


def test_missing_measure_names_it_and_keeps_the_snapshot(fetch, server, raw_dir):
    fetch()
    before = file_state(raw_dir / TABLE)
    table = server.table(TABLE)
    drop_measure(table, "JongerenMetJeugdzorgRelatief_2")
    set_info(table, Modified="2021-12-20T02:00:00")

    with pytest.raises(MissingColumnError) as failure:
        fetch()

    message = str(failure.value)
    assert "'JongerenMetJeugdzorgRelatief_2'" in message and "candidates:" in message
    assert "Jeugdzorgtrajecten_3" in message
    assert server.requested("TypedDataSet") == 10  # the first fetch only: nothing downloaded for nothing
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
    with pytest.raises(MissingColumnError, match=r"table 84134NED has no region dimension 'RegioS'.*WijkenEnBuurten"):
        fetch()
    assert not (raw_dir / TABLE).exists()


def test_empty_data_set_is_refused(fetch, server, spec):
    # a category CBS lists but publishes no figures for: the filter selects nothing
    server.table(TABLE)["VormenVanJeugdzorg"].append({"Key": "A041699 ", "Title": "JB Totaal jeugdbescherming",
                                                      "Description": None, "CategoryGroupID": None})
    only = spec.model_copy(update={"categories": {"VormenVanJeugdzorg": {
        "jb": CategorySpec(title="JB Totaal jeugdbescherming")}}})
    with pytest.raises(FetchError, match=r"TypedDataSet has no rows for \$filter .*A041699.*categories"):
        fetch(only)


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


@pytest.fixture
def study(tmp_path, raw_dir, monkeypatch):
    """config/study.yml itself, with its data folders in tmp: snapshots land in the temporary raw_dir."""
    from conftest import write_config

    monkeypatch.setattr(fetch_module, "DEFAULT_BACKOFF", 0.001)
    return write_config(tmp_path, raw=raw_dir)


def test_fetch_command_fetches_every_table(study, server, raw_dir, capsys):
    assert cli.main(["fetch", "--config", str(study), "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert sorted(p.name for p in raw_dir.iterdir()) == sorted(FIXTURE)
    for table_id in FIXTURE:
        assert f"{table_id}: " in out
    assert "7 fetched, 0 unchanged, 0 failed" in out
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
    assert "1 of 7 tables failed (84866NED)" in captured.err
    assert "6 fetched, 0 unchanged, 1 failed" in captured.out
    assert not (raw_dir / "84866NED").exists() and (raw_dir / "84134NED").exists()


def test_fetch_command_rejects_an_unknown_table(study, server, capsys):
    assert cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", "nope"]) == 2
    assert "--table nope is neither a role nor a table id" in capsys.readouterr().err


def test_inspect_lists_dimensions_categories_measures_and_the_config_check(study, server, raw_dir, capsys):
    rekey_category(server.table(TABLE), "VormenVanJeugdzorg", "A041661", "A041700")
    cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", TABLE])
    capsys.readouterr()

    assert cli.main(["inspect", "--config", str(study), TABLE]) == 0

    out = capsys.readouterr().out
    assert "Identifier    84134NED" in out and "OutputStatus  Regulier" in out
    assert "VormenVanJeugdzorg (Dimension, 5 categories):" in out
    assert "    A041700  JH 121 Totaal jeugdhulp zonder verblijf" in out     # every care form, key and title
    assert "RegioS (GeoDimension, 7 categories), first and last 3:" in out and "... 1 more" in out
    assert "JongerenMetJeugdzorgRelatief_2  Jongeren met jeugdzorg, relatief  [%]" in out
    assert "VormenVanJeugdzorg.zonder_verblijf A041700 'JH 121 Totaal jeugdhulp zonder verblijf' (by title)" in out
    assert "region RegioS" in out and "4 GM, 1 NL, 1 JZ" in out


def test_inspect_an_iv3_table_shows_its_year_and_the_key_prefix(study, server, raw_dir, capsys):
    cli.main(["fetch", "--config", str(study), "--catalog-url", server.url, "--table", "iv3"])
    capsys.readouterr()
    assert cli.main(["inspect", "--config", str(study), "45046NED"]) == 0
    out = capsys.readouterr().out
    assert "config tables.iv3 (2019: 'Gemeenten 2019 onbewerkte Iv3-data'):" in out
    assert "Categorie.lasten" in out and "2 keys starting 'L': L1.1, L3.8" in out
    assert "Verslagsoort.jaarrekening" in out and "2019X005 'Jaarrekening 2019' (ok)" in out
    assert "k_1ePlaatsing_1  1e plaatsing  [x 1 000 euro]" in out


def test_inspect_remote_asks_the_service_and_fails_a_wrong_title_with_candidates(study, server, raw_dir, capsys):
    set_info(server.table("84868NED"), OutputStatus="Gediscontinueerd")
    for category in server.table("84868NED")["InkomensgrensHuishouden"]:
        category["Title"] = category["Title"].replace("Inkomen tot", "Onder")   # a retitled category
    assert cli.main(["inspect", "--config", str(study), "84868NED", "--remote", "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert f"from          service {server.url}/ODataFeed/odata/84868NED/" in out
    assert "OutputStatus  Gediscontinueerd" in out and "CBS no longer updates this table" in out
    assert "measure kinderen_relatief" in out and "KinderenRelatief_6 ok" in out
    assert "InkomensgrensHuishouden.laag_inkomen MISSING title 'Inkomen tot lage-inkomensgrens'" in out
    assert "2000100: Onder lage-inkomensgrens" in out
    assert server.requested("TypedDataSet") == 0
    assert not raw_dir.exists()


def test_inspect_a_new_table_id_shows_which_roles_it_fits(study, server, capsys):
    server.tables["85000NED"] = odata_server.copy.deepcopy(server.table(TABLE))
    set_info(server.table("85000NED"), Identifier="85000NED")
    assert cli.main(["inspect", "--config", str(study), "85000NED", "--remote", "--catalog-url", server.url]) == 0
    out = capsys.readouterr().out
    assert "85000NED is not in" in out
    assert "jeugdzorg  2/2 measures, 4/4 categories (now 84134NED)" in out
    assert "bevolking  0/1 measures" in out


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
    assert odata.call_cbsodata(endpoint, policy, "u", flaky, TABLE) == {"ok": True}
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
    assert "7 fetched, 0 unchanged, 0 failed" in captured.out
    assert "warning" not in captured.err          # every key and title of the config matches as it stands
    assert sorted(p.name for p in (tmp_path / "raw").iterdir()) == sorted(FIXTURE)
    for table_id in FIXTURE:
        table = load_table(tmp_path / "raw" / table_id)
        assert len(table.data) > 0 and table.manifest["generated"] is False


def test_a_page_of_repeated_rows_without_a_next_link_is_a_fetch_error(raw_dir, spec):
    """10 001 rows on one page, no odata.nextLink, but only a few distinct cells: the feed repeated rows
    (CBS pages per 10 000 and publishes one row per cell); the snapshot is not sealed."""
    import copy

    tables = copy.deepcopy(FIXTURE)
    rows = tables[TABLE]["TypedDataSet"]
    tables[TABLE]["TypedDataSet"] = [dict(rows[i % len(rows)], ID=i) for i in range(10_001)]
    with ODataServer(tables, page_size=20_000) as feed:
        with pytest.raises(FetchError, match=r"TypedDataSet has \d+ rows but only \d+ distinct combinations"):
            fetch_table(spec, raw_dir, catalog_url=feed.url, backoff=0.001, timeout=30)
    assert not (raw_dir / TABLE).exists()
    assert_no_staging_left(raw_dir)
