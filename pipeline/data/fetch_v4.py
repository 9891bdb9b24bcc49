"""``fetch`` through CBS's OData v4 datasets API (``datasets.cbs.nl/odata/v1/CBS/<id>/``), into the v3 snapshot.

A table whose config says ``api: v4`` (or every table, with ``fetch --api v4``) is read from the v4
service instead of the v3 feed and written in exactly the snapshot format of docs/shapes.md, so
``load_table`` and the build cannot tell the difference:

* ``Properties`` -> ``TableInfos.json`` (``Modified``; ``Status`` as ``OutputStatus``;
  ``ModificationDate`` as ``MetaDataModified``; ``TemporalCoverage`` as ``Period``; ``Version``);
* ``Dimensions`` + ``MeasureCodes`` -> ``DataProperties.json`` (``Kind`` as ``Type``, measures as
  ``Topic`` with ``Unit``, ``Decimals``, ``Datatype``);
* ``<Dimension>Codes`` -> ``<Dimension>.json`` (``Identifier`` as ``Key``; ``Status`` kept for Perioden);
* ``Observations`` (one row per cell: ``Measure``, ``Value``/``StringValue``, the dimensions) pivoted
  to ``TypedDataSet.json`` (one row per dimension combination, one column per measure, ``null``
  where CBS has no value, e.g. ``ValueAttribute: Impossible``).

Measures keep their v4 codes (``M000352``): the config finds them by title, as it does a renumbered
v3 measure. Categories and measures are resolved exactly as for v3 (``fetch.plan_download``); the
observations are filtered on the server (``Measure eq ...``, the configured category keys,
``startswith(RegioS,'GM')`` for municipalities, Nederland and jeugdregio's) and paged by following
``@odata.nextLink``. Every request goes through the same :class:`~pipeline.data.fetch.RetryPolicy` as the
v3 path (timeout, retries with backoff on connection errors, 5xx and truncated JSON); the download
is staged and swapped in atomically; the manifest records ``api: v4`` and the service URL.

Why not the ``cbsodata4`` package (0.1.3): it needs httpx (not otherwise a dependency), caches every
response for the life of the process (``functools.cache``: a second "is it unchanged?" check in
the same process would never see a new release), sets no timeout and does not retry, and returns
data frames rather than the entity sets a snapshot keeps. This client is ~200 lines on requests.
"""

from __future__ import annotations

import shutil
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote, unquote

import pandas as pd
import requests

from pipeline.errors import FetchError, MissingColumnError
from pipeline.data.odata import (FetchResult, REGION_PREFIXES, RetriesExhausted, discontinued_warnings,
                                  plan_download, progress_line, request_fingerprint, resolve_endpoint,
                                  retrying_session_class, say, seal_snapshot, unchanged_note, unchanged_snapshot,
                                  warn)
from pipeline.data.manifest import dump_json, staging_directory
from pipeline.data.snapshot import CbsTable

API = "v4"
V4_PATH = "odata/v1"
# v3 catalog host -> (v4 host, v4 catalog name); the v4 API serves CBS's own tables under "CBS"
V4_CATALOGS = {"opendata.cbs.nl": ("datasets.cbs.nl", "CBS")}
OBSERVATION_FIELDS = ("Measure", "ValueAttribute", "Value", "StringValue")


# --- Where ---------------------------------------------------------------------------------------

def v4_base(spec_catalog: str, override: str | None, table_id: str) -> str:
    """``https://datasets.cbs.nl/odata/v1/CBS/<id>/``, or ``<override>/odata/v1/CBS/<id>/`` (test server)."""

    if override:
        endpoint = resolve_endpoint(spec_catalog, override)
        return f"{endpoint.base_url}/{V4_PATH}/CBS/{table_id}/"
    host = (spec_catalog or "").split("://")[-1].strip("/").lower()
    if host not in V4_CATALOGS:
        raise FetchError(f"table {table_id}: catalog {spec_catalog!r} has no known OData v4 address (v4 is "
                         f"known for {', '.join(V4_CATALOGS)}); set api: v3 for this table in config/study.yml "
                         f"or give --catalog-url")
    v4_host, name = V4_CATALOGS[host]
    return f"https://{v4_host}/{V4_PATH}/{name}/{table_id}/"


# --- The client ----------------------------------------------------------------------------------

class V4Client:
    """GET JSON from one v4 table, with the v3 path's retry policy; errors become one-line FetchErrors."""

    def __init__(self, base: str, table_id: str, policy, destination: Path | None = None):

        self.base, self.table_id, self.policy, self.destination = base, table_id, policy, destination
        self.session = retrying_session_class(policy)()

    def get(self, url: str) -> dict:
        """The JSON at ``url`` (absolute, or relative to the table)."""

        url = url if "://" in url else self.base + url
        note = unchanged_note(self.destination)
        try:
            response = self.session.get(url, timeout=self.policy.timeout)
        except RetriesExhausted as exc:
            raise FetchError(f"table {self.table_id}: {exc.reason} from {unquote(exc.url)} after {exc.attempts} "
                             f"attempts; CBS may be down, try again later{note}") from None
        except requests.RequestException as exc:
            raise FetchError(f"table {self.table_id}: request to {unquote(url)} failed ({type(exc).__name__}); "
                             f"check --catalog-url and your network{note}") from None
        if response.status_code == 404:
            raise FetchError(f"table {self.table_id}: not found at {unquote(url)} (HTTP 404); check the table id "
                             f"in config/study.yml, or set api: v3 if CBS has it only in the v3 feed{note}")
        if not response.ok:
            raise FetchError(f"table {self.table_id}: HTTP {response.status_code} from {unquote(url)} "
                             f"({_error_message(response)}); check the table id and config{note}")
        return response.json()

    def values(self, entity: str, query: str = "") -> list[dict]:
        """Every row of an entity set, following ``@odata.nextLink`` page by page."""
        rows, url, seen = [], entity + (f"?{query}" if query else ""), set()
        while url:
            if url in seen:
                raise FetchError(f"table {self.table_id}: {entity} links back to a page already read ({unquote(url)})")
            seen.add(url)
            page = self.get(url)
            if "value" not in page:
                raise FetchError(f"table {self.table_id}: {unquote(self.base + entity)} has no 'value'; "
                                 f"is {self.base} an OData v4 service?")
            rows += page["value"]
            url = page.get("@odata.nextLink")
        return rows

    def properties(self) -> dict:
        return {k: v for k, v in self.get("Properties").items() if not k.startswith("@")}


def _error_message(response: requests.Response) -> str:
    try:
        error = response.json().get("error", {})
        return str(error.get("message") or error)[:200]
    except ValueError:
        return response.text[:200].strip() or "no message"


# --- v4 metadata in v3 shapes --------------------------------------------------------------------

def table_infos(properties: dict) -> list[dict]:
    """v4 ``Properties`` as a v3 ``TableInfos`` entity set (the fields the pipeline reads, plus Version)."""
    title = properties.get("Title")
    return [{"ID": 0, "Title": title, "ShortTitle": properties.get("ShortTitle") or (title or "")[:40],
             "Identifier": properties.get("Identifier"), "Summary": properties.get("Summary"),
             "Modified": properties.get("Modified"),
             "MetaDataModified": properties.get("ModificationDate") or properties.get("Modified"),
             "ReasonDelivery": properties.get("VersionReason"), "Frequency": properties.get("Frequency"),
             "Period": properties.get("TemporalCoverage"), "Language": properties.get("Language"),
             "Catalog": properties.get("Catalog"), "OutputStatus": properties.get("Status"),
             "Source": properties.get("Source"), "Version": properties.get("Version")}]


def data_properties(dimensions: list[dict], measures: list[dict]) -> list[dict]:
    """v4 ``Dimensions`` and ``MeasureCodes`` as v3 ``DataProperties``: dimensions first, then topics."""
    rows = []
    for d in dimensions:
        rows.append({"odata.type": f"Cbs.OData.{d['Kind']}", "ID": len(rows), "Position": len(rows),
                     "ParentID": None, "Type": d["Kind"], "Key": d["Identifier"], "Title": d.get("Title"),
                     "Description": d.get("Description"), "MapYear": d.get("MapYear"),
                     "ReleasePolicy": d.get("ReleasePolicy")})
    for m in sorted(measures, key=lambda m: m.get("Index", 0)):
        rows.append({"odata.type": "Cbs.OData.Topic", "ID": len(rows), "Position": len(rows), "ParentID": None,
                     "Type": "Topic", "Key": m["Identifier"], "Title": m.get("Title"),
                     "Description": m.get("Description"), "Datatype": m.get("DataType"), "Unit": m.get("Unit"),
                     "Decimals": m.get("Decimals"), "PresentationType": m.get("PresentationType")})
    return rows


def dimension_codes(codes: list[dict], time_dimension: bool) -> list[dict]:
    """v4 ``<Dimension>Codes`` as a v3 dimension entity set (``Status`` only for the time dimension)."""
    rows = []
    for c in sorted(codes, key=lambda c: c.get("Index", 0)):
        row = {"Key": c["Identifier"], "Title": c.get("Title"), "Description": c.get("Description"),
               "CategoryGroupID": c.get("DimensionGroupId")}
        if time_dimension:
            row["Status"] = c.get("Status")
        rows.append(row)
    return rows


def typed_data_set(observations: list[dict], dimensions: list[str], measures: list[str],
                   string_measures: set[str]) -> list[dict]:
    """Observations (one per cell) pivoted to v3 rows: one per dimension combination, a column per measure."""
    rows: dict[tuple, dict] = {}
    for obs in observations:
        key = tuple(obs.get(d) for d in dimensions)
        row = rows.get(key)
        if row is None:
            row = rows[key] = {"ID": len(rows), **dict(zip(dimensions, key)), **{m: None for m in measures}}
        measure = obs.get("Measure")
        if measure in row:
            row[measure] = obs.get("StringValue") if measure in string_measures else obs.get("Value")
    return list(rows.values())


def remote_table_v4(client: V4Client, properties: dict | None = None) -> tuple[dict, CbsTable, dict]:
    """Properties, and a :class:`CbsTable` of the v3-shaped metadata (no data), and the raw v3 entity sets."""
    properties = client.properties() if properties is None else properties
    dimensions = client.values("Dimensions")
    measures = client.values("MeasureCodes")
    sets = {"TableInfos": table_infos(properties), "DataProperties": data_properties(dimensions, measures)}
    frames = {}
    for d in dimensions:
        codes = dimension_codes(client.values(f"{d['Identifier']}Codes"), d["Kind"] == "TimeDimension")
        sets[d["Identifier"]] = codes
        frames[d["Identifier"]] = pd.DataFrame(codes, columns=["Key", "Title", "Description", "CategoryGroupID"]
                                               + (["Status"] if d["Kind"] == "TimeDimension" else []))
    info = sets["TableInfos"][0]
    manifest = {"table_id": client.table_id, "catalog": client.base, "modified": info.get("Modified"),
                "output_status": info.get("OutputStatus"), "rows": properties.get("ObservationCount"), "files": {}}
    table = CbsTable(directory=Path(client.table_id), manifest=manifest, info=info,
                     properties=pd.DataFrame(sets["DataProperties"]), dimensions=frames)
    return properties, table, sets


# --- What to ask for -----------------------------------------------------------------------------

def observation_filter(plan, region_dimension: str, region_keys: list[str]) -> str:
    """The v4 ``$filter``: the measures, the configured category keys and the region prefixes."""

    terms = [_any_of("Measure", list(dict.fromkeys(plan.measures.values())))]
    for dimension, named in plan.categories.items():
        keys = list(dict.fromkeys(k for ks in named.values() for k in ks))
        if len(keys) < len(plan.dimension_keys.get(dimension, [])):
            terms.append(_any_of(dimension, keys))
    present = [p for p in REGION_PREFIXES if any(k.startswith(p) for k in region_keys)]
    if len([k for k in region_keys if k.startswith(tuple(present))]) < len(region_keys):
        parts = [f"startswith({region_dimension},'{p}')" for p in present]
        terms.append(parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")")
    return " and ".join(terms)


def _any_of(column: str, keys: list[str]) -> str:
    parts = [f"{column} eq '{k.replace(chr(39), chr(39) * 2)}'" for k in keys]
    return parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")"


def _v4_warnings(warnings: list[str], table_id: str) -> list[str]:
    """plan_download's warnings minus "measure found by title": v4 codes (M000352) never equal v3 keys."""
    return [w for w in warnings if not (w.startswith(f"{table_id}: measure ") and " has key " in w)]


# --- Fetch one table -----------------------------------------------------------------------------

def fetch_table_v4(target, raw_dir: Path, policy, catalog_url: str | None = None, force: bool = False,
                   started: float | None = None):
    """Download ``target`` through the v4 API into ``raw_dir/<table id>`` (same contract as ``fetch_table``)."""

    started = time.perf_counter() if started is None else started
    if target.spec.per_year is not None or target.year is not None:
        raise FetchError(f"tables.{target.spec.role}: per-year tables are resolved in the v3 catalog; "
                         f"set api: v3 for this role in config/study.yml")
    table_id = target.table_id
    destination = Path(raw_dir) / table_id
    client = V4Client(v4_base(target.spec.catalog, catalog_url, table_id), table_id, policy, destination)
    properties = client.properties()
    info = table_infos(properties)[0]
    warnings = discontinued_warnings(target, info)
    for line in warnings:
        warn(line)
    kept = None if force else unchanged_snapshot(target, destination, info, api=API)
    if kept is not None:
        say(f"{table_id} unchanged (Modified {info.get('Modified')}, v4), snapshot kept")
        return FetchResult(table_id, "unchanged", destination, kept.manifest, time.perf_counter() - started,
                           policy.requests, policy.retried, dict(kept.manifest.get("measures") or {}), warnings)
    properties, metadata, sets = remote_table_v4(client, properties)
    try:
        plan = plan_download(target, metadata)
    except MissingColumnError as exc:
        raise MissingColumnError(f"{exc}{unchanged_note(destination)}") from None
    plan.warnings = _v4_warnings(plan.warnings, table_id)
    for line in plan.warnings:
        warn(line)
    region_keys = plan.dimension_keys[target.spec.region_dimension]
    plan.filters = observation_filter(plan, target.spec.region_dimension, region_keys)
    plan.select = list(OBSERVATION_FIELDS) + list(plan.dimension_keys)
    manifest = download_v4(target, plan, client, sets, destination)
    result = FetchResult(table_id, "fetched", destination, manifest, time.perf_counter() - started,
                         policy.requests, policy.retried, plan.measures, warnings + plan.warnings)
    say(progress_line(result) + " [v4]")
    return result


def download_v4(target, plan, client: V4Client, sets: dict, destination: Path) -> dict:
    """Observations into a staging directory next to the snapshot, checked, then swapped in."""

    query = f"$filter={quote(plan.filters, safe='')}&$select={','.join(plan.select)}"
    observations = client.values("Observations", query)
    after = client.properties()
    if after.get("Modified") != sets["TableInfos"][0]["Modified"]:
        raise FetchError(f"table {target.table_id}: Modified changed while it was downloaded (CBS published a new "
                         f"release?); run the fetch again{unchanged_note(destination)}")
    dimensions = list(plan.dimension_keys)
    string_measures = {p["Key"] for p in sets["DataProperties"]
                       if p["Type"] == "Topic" and str(p.get("Datatype") or "").lower() == "string"}
    measures = list(dict.fromkeys(plan.measures.values()))
    staged = staging_directory(destination)
    try:
        for name, records in sets.items():
            dump_json(records, staged / f"{name}.json")
        dump_json(typed_data_set(observations, dimensions, measures, string_measures), staged / "TypedDataSet.json")
        manifest = seal_snapshot(target, plan, staged, destination, manifest_fields_v4(target, plan, client))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return manifest


def manifest_fields_v4(target, plan, client: V4Client) -> dict:

    return {"table_id": target.table_id, "catalog": target.spec.catalog, "role": target.spec.role, "api": API,
            "filters": plan.filters, "select": plan.select, "categories": plan.categories,
            "measures": plan.measures, "request": request_fingerprint(target, api=API),
            "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "client": "pipeline.data.fetch_v4 (requests)", "provenance": {"default": "cbs", "blocks": []},
            "generated": False, "source": f"CBS OData v4 {client.base}"}
