"""CBS OData v3 tables -> ``data/raw/<table_id>/`` snapshots through cbsodata, and what the v4 client shares
(endpoints, retries, download plans, sealing a snapshot). The commands are in :mod:`pipeline.data.fetch`.

Every download goes through ``cbsodata.download_data`` (CBS's own paging, file layout and JSON), with
what cbsodata lacks added around it:

* a timeout on every request (cbsodata passes extra keyword arguments on to requests);
* retries with exponential backoff, per request, on connection errors, timeouts, HTTP 5xx and pages
  that are not valid JSON (a truncated answer). cbsodata opens a fresh ``requests.Session`` for
  every page, so while a fetch runs, its module-level ``Session`` name points at a subclass that
  retries; one bad page out of fifty then costs one request, not the whole table;
* an atomic, lossless update: the table is downloaded into a staging directory next to the target,
  given a manifest, validated against the study configuration and only then swapped in. Whatever
  fails, the previous snapshot stays byte-identical and the staging directory is removed;
* a cheap "unchanged" check: TableInfos alone is fetched first; if ``Modified`` equals the snapshot's
  and the config asks for the same categories and measures, nothing is downloaded or touched
  (``force=True`` downloads anyway);
* server-side selection built from the config (docs/shapes.md): before the data, DataProperties and
  every dimension entity set are read; the configured categories are resolved in them (key, else
  title, else key prefix) and the data is requested with a ``$filter`` on their real, padded keys,
  the region dimension's municipalities, country and jeugdregio's (``substringof('GM', RegioS)``),
  and a ``$select`` of the dimensions plus the configured measures. CBS tables run to millions of
  cells (Iv3); the feed pages them per 10 000 rows;
* per-year tables (Iv3 on dataderden.cbs.nl): the id of every year the periods need is looked up in
  the catalog (``ODataCatalog/Tables``) by title; a pinned id is checked against that title.

The catalog host comes from the table's ``catalog`` in config/study.yml (``opendata.cbs.nl``,
``dataderden.cbs.nl``) and can be overridden, for all tables at once, with ``--catalog-url`` or the
environment variable ``CBS_CATALOG_URL`` (``http://127.0.0.1:8765`` for the test server in
tests/odata_server.py).
"""

from __future__ import annotations

import difflib
import json
import os
import shutil
import sys
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable
from urllib.parse import unquote

import cbsodata
import cbsodata.cbsodata3 as cbsodata3
import pandas as pd
import requests

from pipeline.config import TableSpec
from pipeline.errors import FetchError, MissingColumnError, PipelineError, SnapshotError
from pipeline.data.manifest import build_manifest, replace_directory, staging_directory, write_manifest
from pipeline.data.snapshot import DIMENSION_TYPES, CbsTable, load_table


DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 2.0    # seconds before the second attempt; doubled for every further attempt
MAX_BACKOFF = 60.0
CATALOG_ENV = "CBS_CATALOG_URL"
REGION_PREFIXES = ("GM", "NL", "JZ")   # municipalities, Nederland, jeugdregio's
MAX_EQ_KEYS = 25                       # a key_prefix matching more keys is sent as startswith(...)
LONG_DIMENSIONS = ("RegioS", "Regio", "Gemeenten", "Perioden")
CATALOG_FIELDS = ["Identifier", "Title", "ShortTitle", "Modified", "Catalog"]
REGULAR_STATUS = "Regulier"
FEED_PATH = "ODataFeed/odata"
# cbsodata 1.3.5's download_data removes the entity set named by its ``typed`` flag instead of
# keeping it: typed=True downloads UntypedDataSet (all values strings) and typed=False downloads
# TypedDataSet, which is what a snapshot needs. _check_typed_data_set catches a future fix.
TYPED_FLAG = False

# cbsodata keeps use_https (and our Session) as module-wide state; fetches in threads take turns.
_CBSODATA_LOCK = threading.RLock()


# --- Where to download from ----------------------------------------------------------------------

@dataclass(frozen=True)
class Endpoint:
    """A catalog as cbsodata wants it: host (with port or path, no scheme) and http/https."""

    host: str
    use_https: bool = True

    @property
    def base_url(self) -> str:
        return f"{'https' if self.use_https else 'http'}://{self.host}"

    def table_url(self, table_id: str) -> str:
        return f"{self.base_url}/{FEED_PATH}/{table_id}/"


def resolve_endpoint(catalog: str, override: str | None = None, use_https: bool | None = None) -> Endpoint:
    """The table's catalog, or ``override``; ``http://host:port`` means that host without TLS."""
    value = (override or catalog or "").strip()
    https = True
    if "://" in value:
        scheme, value = value.split("://", 1)
        if scheme.lower() not in ("http", "https"):
            raise FetchError(f"catalog URL {override or catalog!r} has scheme {scheme!r}; "
                             "use http://host:port, https://host or a bare host such as opendata.cbs.nl")
        https = scheme.lower() == "https"
    host = value.rstrip("/")
    if not host:
        raise FetchError(f"catalog {override or catalog!r} names no host; "
                         "use opendata.cbs.nl, dataderden.cbs.nl or http://127.0.0.1:PORT")
    return Endpoint(host=host, use_https=https if use_https is None else use_https)


def catalog_override(cli_value: str | None) -> str | None:
    """``--catalog-url`` wins over ``CBS_CATALOG_URL``; neither means each table's own catalog."""
    return cli_value or os.environ.get(CATALOG_ENV) or None


# --- Retries -------------------------------------------------------------------------------------

class TransientError(Exception):
    """An answer worth asking again for: HTTP 5xx or a body that is not (complete) JSON."""


class RetriesExhausted(Exception):
    """Every attempt at one request failed transiently; carries the last reason."""

    def __init__(self, reason: str, url: str, attempts: int):
        super().__init__(f"{reason} from {url} after {attempts} attempts")
        self.reason, self.url, self.attempts = reason, url, attempts


@dataclass
class RetryPolicy:
    attempts: int = DEFAULT_RETRIES
    timeout: float = DEFAULT_TIMEOUT
    backoff: float = DEFAULT_BACKOFF
    max_backoff: float = MAX_BACKOFF
    sleep: Callable[[float], None] = time.sleep
    retried: int = 0       # failed attempts that were retried, for the progress line
    requests: int = 0      # attempts made

    def delay(self, attempt: int) -> float:
        """Seconds to wait after failed attempt ``attempt`` (1-based): backoff, 2x, 4x, ... capped."""
        return min(self.backoff * 2 ** (attempt - 1), self.max_backoff)

    def call(self, action: Callable, url: str):
        """Run ``action`` until it succeeds, a non-transient error occurs or attempts run out."""
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                return action()
            except Exception as exc:  # noqa: BLE001 - classified right below
                reason = transient_reason(exc, self.timeout)
                if reason is None:
                    raise
                if attempt == self.attempts:
                    raise RetriesExhausted(reason, url, attempt) from exc
                self.retried += 1
                self.sleep(self.delay(attempt))
        raise AssertionError("unreachable")  # attempts >= 1 is checked by fetch_table


def transient_reason(exc: BaseException, timeout: float | None = None) -> str | None:
    """A short reason when ``exc`` is worth a retry, else None (a 404 will not get better)."""
    if isinstance(exc, TransientError):
        return str(exc)
    if isinstance(exc, requests.Timeout):
        return f"no answer within {timeout:g} s" if timeout else "timeout"
    if isinstance(exc, requests.exceptions.SSLError):  # a ConnectionError, but retrying will not fix it
        return None
    if isinstance(exc, requests.ConnectionError):
        return "connection dropped or refused"
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return "incomplete answer"
    if isinstance(exc, requests.HTTPError):
        status = _http_status(exc)
        return f"HTTP {status}" if status is not None and status >= 500 else None
    if isinstance(exc, json.JSONDecodeError):  # cbsodata's own json.loads on a truncated page
        return "invalid JSON (truncated page?)"
    return None  # other RequestExceptions (InvalidURL, SSLError, ...) and everything else


def _http_status(exc: requests.HTTPError) -> int | None:
    # cbsodata re-raises HTTPError without the response; the original is its __cause__.
    for candidate in (exc, exc.__cause__):
        response = getattr(candidate, "response", None)
        if response is not None:
            return response.status_code
    return None


def retrying_session_class(policy: RetryPolicy) -> type[requests.Session]:
    """A ``requests.Session`` whose ``send`` retries per ``policy`` and checks that 2xx bodies are JSON."""

    class RetryingSession(requests.Session):
        _retrying = False

        def send(self, request, **kwargs):
            if self._retrying:
                # A redirect hop sent by super().send(): the outer call retries the whole chain.
                return self._send_checked(request, **kwargs)
            self._retrying = True
            try:
                return policy.call(lambda: self._send_checked(request, **kwargs), request.url)
            finally:
                self._retrying = False

        def _send_checked(self, request, **kwargs):
            response = super().send(request, **kwargs)
            if response.status_code >= 500:
                response.close()
                raise TransientError(f"HTTP {response.status_code}")
            if response.ok:
                _check_json(response)
            return response

    return RetryingSession


def _check_json(response: requests.Response) -> None:
    # cbsodata parses with json.loads(r.text) after its own raise_for_status; parsing here first
    # turns a truncated page into a retry of that one page instead of a failed table.
    try:
        json.loads(response.content.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise TransientError("invalid JSON (truncated page?)") from None


@contextmanager
def cbsodata_transport(endpoint: Endpoint, policy: RetryPolicy):
    """Set cbsodata's use_https and retrying Session for the duration of one call; restore both.

    Yields True when retries run per request; False when this cbsodata version no longer has a
    module-level ``Session`` (then callers retry the whole call instead).
    """
    with _CBSODATA_LOCK:
        old_https = cbsodata.options.use_https
        old_session = getattr(cbsodata3, "Session", None)
        per_request = old_session is not None
        cbsodata.options.use_https = endpoint.use_https
        if per_request:
            cbsodata3.Session = retrying_session_class(policy)
        try:
            yield per_request
        finally:
            cbsodata.options.use_https = old_https
            if per_request:
                cbsodata3.Session = old_session


def call_cbsodata(endpoint: Endpoint, policy: RetryPolicy, url: str, function: Callable, *args, **kwargs):
    """``function(*args, catalog_url=host, timeout=..., **kwargs)`` from cbsodata, with retries."""
    kwargs.update(catalog_url=endpoint.host, timeout=policy.timeout)
    with cbsodata_transport(endpoint, policy) as per_request:
        if per_request:
            return function(*args, **kwargs)
        return policy.call(lambda: function(*args, **kwargs), url)


# --- Fetching one table --------------------------------------------------------------------------

@dataclass
class FetchResult:
    table_id: str
    status: str                  # "fetched" or "unchanged"
    directory: Path
    manifest: dict
    seconds: float = 0.0
    requests: int = 0
    retried: int = 0
    resolved: dict[str, str] = field(default_factory=dict)  # measure name -> CBS key
    warnings: list[str] = field(default_factory=list)
    year: int | None = None

    @property
    def rows(self) -> int:
        return int(self.manifest.get("rows", 0))

    @property
    def bytes(self) -> int:
        return sum(meta["bytes"] for meta in self.manifest.get("files", {}).values())


@dataclass(frozen=True)
class Target:
    """The CBS table one fetch downloads: the role's table, or its table of one year."""

    spec: TableSpec
    table_id: str
    year: int | None = None
    title: str | None = None     # the catalog title a per-year id was resolved from
    pinned: str | None = None    # the id config/study.yml pins for that year, if any

    @property
    def where(self) -> str:
        return f"tables.{self.spec.role}" + (f" ({self.year})" if self.year is not None else "")


@dataclass
class Plan:
    """What to ask the feed for: built from the config and the table's own dimension lists."""

    filters: str | None
    select: list[str]
    categories: dict[str, dict[str, list[str]]]   # dimension -> category name -> stripped keys
    measures: dict[str, str]                      # measure name -> CBS key
    dimension_keys: dict[str, list[str]]          # dimension -> padded keys as the feed lists them
    warnings: list[str] = field(default_factory=list)


def check_options(retries: int, timeout: float) -> None:
    if retries < 1:
        raise FetchError(f"retries={retries} allows no attempt; use 1 or more (default {DEFAULT_RETRIES})")
    if timeout is None or timeout <= 0:
        raise FetchError(f"timeout={timeout} is not a positive number of seconds (default {DEFAULT_TIMEOUT:g})")


def remote_table_info(table_id: str, endpoint: Endpoint, policy: RetryPolicy, target: Path | None = None) -> dict:
    """TableInfos of the table on the service (one small request), as a FetchError on failure."""
    try:
        info = call_cbsodata(endpoint, policy, endpoint.table_url(table_id) + "TableInfos",
                             cbsodata.get_info, table_id)
    except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
        raise _as_fetch_error(exc, table_id, endpoint, target) from exc
    if not info:
        raise FetchError(f"table {table_id}: {endpoint.table_url(table_id)}TableInfos is empty; "
                         f"check the table id in config/study.yml{unchanged_note(target)}")
    return info


def fetch_table_v3(spec: TableSpec, raw_dir: Path, policy: RetryPolicy, catalog_url: str | None = None,
                   use_https: bool | None = None, force: bool = False, year: int | None = None,
                   started: float | None = None) -> FetchResult:
    """``spec``'s table (of ``year``) from the v3 OData feed into ``raw_dir/<table id>``
    (:func:`pipeline.data.fetch.fetch_table` checks the options and picks the API)."""
    started = time.perf_counter() if started is None else started
    endpoint = resolve_endpoint(spec.catalog, catalog_url, use_https)
    target = resolve_target(spec, year, endpoint, policy)
    destination = Path(raw_dir) / target.table_id

    info = remote_table_info(target.table_id, endpoint, policy, destination)
    warnings = discontinued_warnings(target, info)
    for line in warnings:
        warn(line)
    kept = None if force else unchanged_snapshot(target, destination, info)
    if kept is not None:
        say(f"{target.table_id} unchanged (Modified {info.get('Modified')}), snapshot kept")
        return FetchResult(target.table_id, "unchanged", destination, kept.manifest, time.perf_counter() - started,
                           policy.requests, policy.retried, dict(kept.manifest.get("measures") or {}), warnings,
                           year)

    metadata = remote_table(target.table_id, endpoint, policy, destination, keep_padding=True)
    try:
        plan = plan_download(target, metadata)
    except MissingColumnError as exc:
        raise MissingColumnError(f"{exc}{unchanged_note(destination)}") from None
    for line in plan.warnings:
        warn(line)
    manifest = download_snapshot(target, plan, destination, endpoint, policy)
    result = FetchResult(target.table_id, "fetched", destination, manifest, time.perf_counter() - started,
                         policy.requests, policy.retried, plan.measures, warnings + plan.warnings, year)
    say(progress_line(result))
    return result


# --- Per-year tables: the catalog ----------------------------------------------------------------

def catalog_tables(endpoint: Endpoint, policy: RetryPolicy) -> list[dict]:
    """The catalog's table list (``ODataCatalog/Tables``): Identifier, Title, ShortTitle, Modified."""
    url = f"{endpoint.base_url}/ODataCatalog/Tables"
    try:
        return call_cbsodata(endpoint, policy, url, cbsodata.get_table_list, select=CATALOG_FIELDS)
    except Exception as exc:  # noqa: BLE001 - translated into one line naming the catalog and fix
        error = _as_fetch_error(exc, "list", endpoint, None)
        raise FetchError(f"catalog {endpoint.host}: could not read {url} ({error}); "
                         f"check the catalog of the table in config/study.yml or --catalog-url") from exc


def resolve_target(spec: TableSpec, year: int | None, endpoint: Endpoint, policy: RetryPolicy,
                   catalog: list[dict] | None = None) -> Target:
    """The table to download: ``spec.table_id``, or the catalog's table titled ``per_year.title`` for ``year``."""
    if spec.per_year is None:
        return Target(spec, spec.table_id)
    if year is None:
        raise FetchError(f"tables.{spec.role} has one table per year; give the year")
    title = spec.per_year.title_for(year)
    pinned = spec.per_year.table_ids.get(str(year))
    rows = catalog if catalog is not None else catalog_tables(endpoint, policy)
    wanted = _normalise(title)
    hits = [r for r in rows if _normalise(r.get("Title")) == wanted]
    where = f"tables.{spec.role}.per_year"
    if pinned:
        entry = next((r for r in rows if str(r.get("Identifier", "")).lower() == pinned.lower()), None)
        if entry is None:
            found = f" ({hits[0]['Identifier']} is)" if len(hits) == 1 else ""
            raise FetchError(f"{where}.table_ids.{year} = {pinned} is not in the catalog of {endpoint.host}; "
                             f"the table titled {title!r}{found or ' is not there either'}: fix or remove the pin "
                             f"in config/study.yml")
        if _normalise(entry.get("Title")) != wanted:
            other = f"; {title!r} is {hits[0]['Identifier']}" if len(hits) == 1 else ""
            raise FetchError(f"{where}.table_ids.{year} = {pinned} is titled {str(entry.get('Title')).strip()!r} "
                             f"in the catalog of {endpoint.host}, not {title!r}{other}: fix or remove the pin "
                             f"in config/study.yml")
        return Target(spec, entry["Identifier"], year, title, pinned)
    if len(hits) == 1:
        return Target(spec, hits[0]["Identifier"], year, title, None)
    if len(hits) > 1:
        ids = ", ".join(f"{r['Identifier']} (Modified {r.get('Modified')})" for r in hits)
        raise FetchError(f"{where}: {len(hits)} tables in the catalog of {endpoint.host} are titled {title!r} "
                         f"({ids}); pin one under {where}.table_ids.{year} in config/study.yml")
    raise FetchError(f"{where}: no table titled {title!r} in the catalog of {endpoint.host}; closest: "
                     f"{_closest_titles(title, rows)}; fix per_year.title in config/study.yml")


def _closest_titles(title: str, rows: list[dict], count: int = 3) -> str:
    titles = {str(r.get("Title", "")).strip(): r.get("Identifier") for r in rows}
    close = difflib.get_close_matches(title, list(titles), n=count, cutoff=0.0)
    return "; ".join(f"{t!r} ({titles[t]})" for t in close) or "(the catalog is empty)"


def _normalise(text) -> str:
    return " ".join(str(text or "").casefold().split())


# --- What to download ----------------------------------------------------------------------------

def request_fingerprint(target: Target, api: str = "v3") -> dict:
    """What the config asks of this table; a snapshot fetched for another request (or API) is re-fetched."""
    spec = target.spec
    categories = {}
    for dimension, named in spec.categories.items():
        categories[dimension] = {}
        for name, category in named.items():
            category = category.for_year(target.year) if target.year is not None else category
            categories[dimension][name] = category.model_dump(exclude_none=True)
    fingerprint = {"region_dimension": spec.region_dimension, "regions": list(REGION_PREFIXES),
                   "categories": categories,
                   "measures": {name: m.model_dump(exclude_none=True) for name, m in spec.measures.items()}}
    if api != "v3":  # v3 snapshots keep the fingerprint they were fetched with
        fingerprint["api"] = api
    return fingerprint


def plan_download(target: Target, table: CbsTable) -> Plan:
    """Resolve the configured categories and measures in the table's metadata; build $filter and $select.

    ``table`` is the remote metadata with padded keys in ``table.dimensions`` (``remote_table(...,
    keep_padding=True)``); categories are resolved on the stripped keys, the filter uses the padded
    keys exactly as the dimension lists them (CBS compares them byte for byte).
    """
    spec, table_id = target.spec, target.table_id
    padded = {name: frame["Key"].astype(str).tolist() for name, frame in table.dimensions.items()}
    stripped = CbsTable(directory=table.directory, manifest=table.manifest, info=table.info,
                        properties=table.properties,
                        dimensions={name: frame.assign(Key=frame["Key"].astype(str).str.strip())
                                    for name, frame in table.dimensions.items()})
    warnings, terms, resolved = [], [], {}
    note = f" (`python -m pipeline inspect {table_id} --remote`)"
    if spec.region_dimension not in padded:
        raise MissingColumnError(f"table {table_id} has no region dimension {spec.region_dimension!r} "
                                 f"(dimensions: {', '.join(padded)}); set {target.where}.region_dimension in "
                                 f"config/study.yml{note}")
    for dimension, named in spec.categories.items():
        if dimension not in padded:
            raise MissingColumnError(f"table {table_id} has no dimension {dimension!r} (dimensions: "
                                     f"{', '.join(padded)}); fix tables.{spec.role}.categories in config/study.yml"
                                     f"{note}")
        by_key = {key.strip(): key for key in padded[dimension]}
        resolved[dimension] = {}
        chosen: list[str] = []
        prefixes = []
        for name, category in named.items():
            category = category.for_year(target.year) if target.year is not None else category
            keys = stripped.resolve_category(dimension, category)
            if category.key and keys != [category.key.strip()]:
                warnings.append(f"{table_id}: category {dimension}.{name} has key {keys[0]} in this release "
                                f"(config says {category.key}); matched by title {category.title!r}: update "
                                f"tables.{spec.role}.categories.{dimension}.{name}.key in config/study.yml")
            resolved[dimension][name] = keys
            chosen += [k for k in keys if k not in chosen]
            if category.key_prefix and len(keys) > MAX_EQ_KEYS and not category.key and not category.title:
                prefixes.append(category.key_prefix)
        if len(chosen) < len(by_key):  # a filter that keeps every key only makes the URL longer
            listed = [k for k in chosen if not any(k.startswith(p) for p in prefixes)]
            parts = [f"startswith({dimension},'{p}')" for p in prefixes]
            parts += [f"{dimension} eq '{by_key[k]}'" for k in listed]
            terms.append(parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")")
    region_keys = padded[spec.region_dimension]
    present = [p for p in REGION_PREFIXES if any(k.startswith(p) for k in region_keys)]
    kept = [k for k in region_keys if k.startswith(tuple(present))]
    if not present:
        raise MissingColumnError(f"table {table_id}: region dimension {spec.region_dimension} has no keys starting "
                                 f"{', '.join(REGION_PREFIXES)}; check {target.where}.region_dimension{note}")
    if len(kept) < len(region_keys):
        parts = [f"substringof('{p}',{spec.region_dimension})" for p in present]
        terms.append(parts[0] if len(parts) == 1 else "(" + " or ".join(parts) + ")")
    measures = {}
    titles = dict(zip(table.measures()["Key"], table.measures()["Title"]))
    for name, measure in spec.measures.items():
        key = table.resolve_measure(measure.key, measure.title)
        if measure.key and key != measure.key:
            warnings.append(f"{table_id}: measure {name} has key {key} in this release (config says {measure.key}); "
                            f"matched by title {measure.title!r}: update tables.{spec.role}.measures.{name}.key "
                            f"in config/study.yml")
        elif measure.title and _normalise(titles[key]) != _normalise(measure.title):
            warnings.append(f"{table_id}: measure {key} is titled {titles[key]!r}, config says {measure.title!r}; "
                            f"check that tables.{spec.role}.measures.{name} still means the same thing")
        measures[name] = key
    select = ["ID"] + list(padded) + [k for k in dict.fromkeys(measures.values())]
    return Plan(filters=" and ".join(terms) or None, select=select, categories=resolved, measures=measures,
                dimension_keys=padded, warnings=warnings)


# --- Download, check, swap -----------------------------------------------------------------------

def discontinued_warnings(target: Target, info: dict) -> list[str]:
    """A warning when CBS no longer updates the table: it still downloads, but will not get new periods."""
    status = info.get("OutputStatus")
    if status in (None, REGULAR_STATUS):
        return []
    where = (f"tables.{target.spec.role}.table_id" if target.year is None
             else f"tables.{target.spec.role}.per_year")
    return [f"table {target.table_id} has OutputStatus {status!r} (not {REGULAR_STATUS!r}): CBS no longer "
            f"updates it; the fetch goes ahead, but look up the successor table on StatLine, check it with "
            f"`python -m pipeline inspect <new id> --remote` and set it as {where} in config/study.yml"]


def unchanged_snapshot(target: Target, destination: Path, info: dict, api: str = "v3") -> CbsTable | None:
    """The existing snapshot when re-downloading would give the same files, else None.

    Same means: a real (not generated) snapshot that passes its checksums, was fetched for the same
    request (categories, measures, regions of the config) and whose TableInfos has the same
    ``Modified`` (and ``MetaDataModified``, which changes when CBS only corrects titles or footnotes).
    """
    if not (destination / "manifest.json").exists():
        return None
    try:
        table = load_table(destination)
    except SnapshotError as exc:
        warn(f"{target.table_id}: existing snapshot is unusable ({exc}); downloading it again")
        return None
    manifest = table.manifest
    same = (not table.generated
            and manifest.get("modified") == info.get("Modified")
            and table.info.get("MetaDataModified") == info.get("MetaDataModified")
            and manifest.get("request") == request_fingerprint(target, api))
    return table if same else None


def download_snapshot(target: Target, plan: Plan, destination: Path, endpoint: Endpoint,
                      policy: RetryPolicy) -> dict:
    """Download into a staging directory, add the manifest, validate, swap in; clean up on any failure."""
    staged = staging_directory(destination)
    table_id = target.table_id
    try:
        try:
            call_cbsodata(endpoint, policy, endpoint.table_url(table_id), cbsodata.download_data,
                          table_id, dir=str(staged), typed=TYPED_FLAG, filters=plan.filters, select=plan.select)
        except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
            raise _as_fetch_error(exc, table_id, endpoint, destination) from exc
        _check_typed_data_set(table_id, staged, destination)
        _check_same_release(target, plan, staged, destination)
        manifest = seal_snapshot(target, plan, staged, destination, manifest_fields(target, plan, endpoint))
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return manifest


def seal_snapshot(target, plan, staged: Path, destination: Path, fields: dict) -> dict:
    """Write the manifest of a staged download, check the download against the plan, swap it in; the manifest."""
    manifest = build_manifest(staged, **fields)
    write_manifest(staged, manifest)
    validate_snapshot(target, plan, staged, destination)
    replace_directory(staged, destination)
    return manifest


def manifest_fields(target: Target, plan: Plan, endpoint: Endpoint) -> dict:
    fields = {
        "table_id": target.table_id,
        "catalog": endpoint.host,
        "role": target.spec.role,
        "api": "v3",
        "filters": plan.filters,
        "select": plan.select,
        "categories": plan.categories,
        "measures": plan.measures,
        "request": request_fingerprint(target),
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cbsodata_version": cbsodata.__version__,
        "provenance": {"default": "cbs", "blocks": []},
        "generated": False,
        "source": f"CBS OData v3 {endpoint.table_url(target.table_id)}",
    }
    if target.year is not None:
        fields.update(year=target.year, resolved_from_title=target.title, pinned_table_id=target.pinned,
                      resolved_from=f"{endpoint.base_url}/ODataCatalog/Tables")
    return fields


def _check_typed_data_set(table_id: str, staged: Path, destination: Path) -> None:
    if not (staged / "TypedDataSet.json").exists() and (staged / "UntypedDataSet.json").exists():
        raise FetchError(f"table {table_id}: cbsodata {cbsodata.__version__} saved UntypedDataSet instead of "
                         f"TypedDataSet; its typed= flag changed meaning: flip TYPED_FLAG in pipeline/data/fetch.py"
                         f"{unchanged_note(destination)}")


def _check_same_release(target: Target, plan: Plan, staged: Path, destination: Path) -> None:
    """The dimension lists saved with the data are the ones the filter was built from (no release in between)."""
    for dimension, keys in plan.dimension_keys.items():
        path = staged / f"{dimension}.json"
        saved = [row.get("Key") for row in json.loads(path.read_text(encoding="utf-8"))] if path.exists() else None
        if saved != keys:
            raise FetchError(f"table {target.table_id}: dimension {dimension} changed while it was downloaded "
                             f"(CBS published a new release?); run the fetch again{unchanged_note(destination)}")


def validate_snapshot(target: Target, plan: Plan, directory: Path, destination: Path) -> None:
    """Check a staged snapshot: readable, rows present, every configured measure and category in the data."""
    table_id, spec = target.table_id, target.spec
    try:
        table = load_table(directory)
    except MissingColumnError:
        raise
    except SnapshotError as exc:
        raise FetchError(f"table {table_id}: the download is incomplete ({exc}){unchanged_note(destination)}") from exc
    dims = [d for d in table.dimensions if d in table.data]
    distinct = len(table.data.drop_duplicates(subset=dims)) if dims else len(table.data)
    if distinct < len(table.data):  # CBS publishes one row per cell: repeated rows are a broken page or paging
        raise FetchError(f"table {table_id}: TypedDataSet has {len(table.data)} rows but only {distinct} distinct "
                         f"combinations of {', '.join(dims)}: a page was repeated or not paged (CBS pages per "
                         f"10 000 rows); run the fetch again{unchanged_note(destination)}")
    if len(table.data) == 0:
        raise FetchError(f"table {table_id}: TypedDataSet has no rows for $filter {plan.filters!r}; check "
                         f"tables.{spec.role}.categories in config/study.yml (`python -m pipeline inspect "
                         f"{table_id} --remote`){unchanged_note(destination)}")
    for name, key in plan.measures.items():
        if key not in table.data.columns:
            raise MissingColumnError(f"measure {key} ({name}) is in DataProperties of {table_id} but not in its "
                                     f"TypedDataSet; check tables.{spec.role}.measures in config/study.yml"
                                     f"{unchanged_note(destination)}")
    for dimension, named in plan.categories.items():
        present = set(table.data[dimension]) if dimension in table.data else set()
        for name, keys in named.items():
            if not present.intersection(keys):
                warn(f"{table_id}: category {dimension}.{name} ({', '.join(keys[:5])}) is listed but has no rows "
                      f"in this release; the build will miss it")


def _as_fetch_error(exc: Exception, table_id: str, endpoint: Endpoint, target: Path | None) -> PipelineError:
    """One line naming the table, what went wrong, where, and what to do."""
    note = unchanged_note(target)
    if isinstance(exc, PipelineError):
        return exc
    if isinstance(exc, RetriesExhausted):
        return FetchError(f"table {table_id}: {exc.reason} from {unquote(exc.url)} after {exc.attempts} attempts; "
                          f"CBS may be down (see cbsodata issue #22), try again later{note}")
    reason = transient_reason(exc)
    url = endpoint.table_url(table_id)
    if reason is not None:  # only reached when retries ran around the whole call
        return FetchError(f"table {table_id}: {reason} from {url}; CBS may be down (see cbsodata issue #22), "
                          f"try again later{note}")
    if isinstance(exc, requests.HTTPError):
        status = _http_status(exc)
        if status == 404:
            return FetchError(f"table {table_id}: not found at {url} (HTTP 404); check the table id and "
                              f"catalog in config/study.yml (`python -m pipeline inspect {table_id} --remote`){note}")
        return FetchError(f"table {table_id}: HTTP {status} from {url}; check the table id and catalog in "
                          f"config/study.yml{note}")
    if isinstance(exc, requests.RequestException):
        return FetchError(f"table {table_id}: request to {url} failed ({type(exc).__name__}: {exc}); "
                          f"check --catalog-url / {CATALOG_ENV} and your network{note}")
    if isinstance(exc, (KeyError, ValueError, TypeError)):
        return FetchError(f"table {table_id}: {url} answered in an unexpected shape ({type(exc).__name__}: {exc}); "
                          f"is the catalog an OData v3 feed?{note}")
    if isinstance(exc, OSError):
        return FetchError(f"table {table_id}: could not write the download ({exc}){note}")
    return FetchError(f"table {table_id}: {type(exc).__name__}: {exc}{note}")


def unchanged_note(target: Path | None) -> str:
    if target is None:
        return ""
    if (target / "manifest.json").exists():
        return f"; the snapshot in {display_path(target)} is unchanged"
    return f"; nothing was written to {display_path(target)}"


def progress_line(result: FetchResult) -> str:
    retried = f", {result.retried} retried" if result.retried else ""
    return (f"{result.table_id}: {result.rows} rows, {result.seconds:.1f} s, {_human_bytes(result.bytes)} "
            f"({result.requests} requests{retried}) -> {display_path(result.directory)}")


def _human_bytes(count: int) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def display_path(path: Path) -> str:
    """Paths relative to the working directory when below it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def say(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr, flush=True)


# --- The command line ----------------------------------------------------------------------------

def remote_table(table_id: str, endpoint: Endpoint, policy: RetryPolicy, target: Path | None = None,
                 keep_padding: bool = False) -> CbsTable:
    """TableInfos, DataProperties and every dimension entity set from the service (no data rows)."""
    url = endpoint.table_url(table_id)
    try:
        info = call_cbsodata(endpoint, policy, url + "TableInfos", cbsodata.get_info, table_id) or {}
        properties = pd.DataFrame(call_cbsodata(endpoint, policy, url + "DataProperties",
                                                cbsodata.get_meta, table_id, "DataProperties"))
        dimensions = {}
        for key in properties.loc[properties["Type"].isin(DIMENSION_TYPES), "Key"]:
            frame = pd.DataFrame(call_cbsodata(endpoint, policy, url + key, cbsodata.get_meta, table_id, key))
            if frame.empty:
                frame = pd.DataFrame(columns=["Key", "Title"])
            frame["Key"] = frame["Key"].astype(str)
            if not keep_padding:
                frame["Key"] = frame["Key"].str.strip()
            dimensions[key] = frame
    except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
        raise _as_fetch_error(exc, table_id, endpoint, target) from exc
    manifest = {"table_id": table_id, "catalog": endpoint.host, "modified": info.get("Modified"),
                "output_status": info.get("OutputStatus"), "rows": info.get("RecordCount"), "files": {}}
    return CbsTable(directory=Path(table_id), manifest=manifest, info=info, properties=properties, dimensions=dimensions)
