"""``fetch`` and ``inspect``: CBS OData v3 tables -> ``data/raw/<table_id>/`` snapshots, through cbsodata.

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
* a cheap "unchanged" check: TableInfos alone is fetched first; if ``Modified`` equals the snapshot's,
  nothing is downloaded or touched (``force=True`` downloads anyway).

The catalog host comes from the table's ``catalog`` in config/study.yml (``opendata.cbs.nl``,
``dataderden.cbs.nl``) and can be overridden, for all tables at once, with ``--catalog-url`` or the
environment variable ``CBS_CATALOG_URL`` (``http://127.0.0.1:8765`` for the test server in
tests/odata_server.py).
"""

from __future__ import annotations

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

from .config import StudyConfig, TableSpec, load_config
from .errors import FetchError, MissingColumnError, PipelineError, SnapshotError
from .snapshot import (DIMENSION_TYPES, CbsTable, build_manifest, load_table, replace_directory,
                       staging_directory, write_manifest)

DEFAULT_TIMEOUT = 60.0
DEFAULT_RETRIES = 4
DEFAULT_BACKOFF = 2.0    # seconds before the second attempt; doubled for every further attempt
MAX_BACKOFF = 60.0
CATALOG_ENV = "CBS_CATALOG_URL"
REQUIRED_DIMENSIONS = ("RegioS", "Perioden")
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


def _retrying_session_class(policy: RetryPolicy) -> type[requests.Session]:
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
            cbsodata3.Session = _retrying_session_class(policy)
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

    @property
    def rows(self) -> int:
        return int(self.manifest.get("rows", 0))

    @property
    def bytes(self) -> int:
        return sum(meta["bytes"] for meta in self.manifest.get("files", {}).values())


def fetch_table(spec: TableSpec, raw_dir: Path, catalog_url: str | None = None, use_https: bool | None = None,
                timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES, backoff: float | None = None,
                force: bool = False, sleep: Callable[[float], None] = time.sleep) -> FetchResult:
    """Download ``spec``'s table into ``raw_dir/<table_id>`` unless CBS reports it unchanged.

    ``catalog_url`` overrides ``spec.catalog`` (``http://host:port`` switches https off);
    ``retries`` is the number of attempts per request, ``backoff`` the first wait in seconds
    (default DEFAULT_BACKOFF, doubled per attempt). Raises FetchError or MissingColumnError
    with the previous snapshot left as it was.
    """
    if retries < 1:
        raise FetchError(f"retries={retries} allows no attempt; use 1 or more (default {DEFAULT_RETRIES})")
    if timeout is None or timeout <= 0:
        raise FetchError(f"timeout={timeout} is not a positive number of seconds (default {DEFAULT_TIMEOUT:g})")
    started = time.perf_counter()
    target = Path(raw_dir) / spec.table_id
    endpoint = resolve_endpoint(spec.catalog, catalog_url, use_https)
    policy = RetryPolicy(attempts=retries, timeout=timeout, sleep=sleep,
                         backoff=DEFAULT_BACKOFF if backoff is None else backoff)

    info = remote_table_info(spec.table_id, endpoint, policy, target)
    warnings = discontinued_warnings(spec, info)
    for line in warnings:
        _warn(line)
    kept = None if force else unchanged_snapshot(spec, target, info)
    if kept is not None:
        resolved = resolve_measures(spec, kept, target)
        _say(f"{spec.table_id} unchanged (Modified {info.get('Modified')}), snapshot kept")
        return FetchResult(spec.table_id, "unchanged", target, kept.manifest, time.perf_counter() - started,
                           policy.requests, policy.retried, resolved, warnings)

    manifest, resolved = download_snapshot(spec, target, endpoint, policy)
    result = FetchResult(spec.table_id, "fetched", target, manifest, time.perf_counter() - started,
                         policy.requests, policy.retried, resolved, warnings)
    _say(progress_line(result))
    return result


def remote_table_info(table_id: str, endpoint: Endpoint, policy: RetryPolicy, target: Path | None = None) -> dict:
    """TableInfos of the table on the service (one small request), as a FetchError on failure."""
    try:
        info = call_cbsodata(endpoint, policy, endpoint.table_url(table_id) + "TableInfos",
                             cbsodata.get_info, table_id)
    except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
        raise _as_fetch_error(exc, table_id, endpoint, target) from exc
    if not info:
        raise FetchError(f"table {table_id}: {endpoint.table_url(table_id)}TableInfos is empty; "
                         f"check the table id in config/study.yml{_unchanged_note(target)}")
    return info


def discontinued_warnings(spec: TableSpec, info: dict) -> list[str]:
    """A warning when CBS no longer updates the table: it still downloads, but will not get new periods."""
    status = info.get("OutputStatus")
    if status in (None, REGULAR_STATUS):
        return []
    return [f"table {spec.table_id} has OutputStatus {status!r} (not {REGULAR_STATUS!r}): CBS no longer "
            f"updates it; the fetch goes ahead, but look up the successor table on StatLine, check it with "
            f"`python -m pipeline inspect <new id> --remote` and set it as tables.{spec.role}.table_id "
            f"in config/study.yml"]


def unchanged_snapshot(spec: TableSpec, target: Path, info: dict) -> CbsTable | None:
    """The existing snapshot when re-downloading would give the same files, else None.

    Same means: a real (not generated) snapshot that passes its checksums, was fetched with the same
    filters and select, and whose TableInfos has the same ``Modified`` (and ``MetaDataModified``,
    which changes when CBS only corrects titles or footnotes).
    """
    if not (target / "manifest.json").exists():
        return None
    try:
        table = load_table(target)
    except SnapshotError as exc:
        _warn(f"{spec.table_id}: existing snapshot is unusable ({exc}); downloading it again")
        return None
    manifest = table.manifest
    same = (not table.generated
            and manifest.get("modified") == info.get("Modified")
            and table.info.get("MetaDataModified") == info.get("MetaDataModified")
            and manifest.get("filters") == spec.filters
            and manifest.get("select") == _select_list(spec))
    return table if same else None


def download_snapshot(spec: TableSpec, target: Path, endpoint: Endpoint, policy: RetryPolicy) -> tuple[dict, dict]:
    """Download into a staging directory, add the manifest, validate, swap in; clean up on any failure."""
    staged = staging_directory(target)
    try:
        try:
            call_cbsodata(endpoint, policy, endpoint.table_url(spec.table_id), cbsodata.download_data,
                          spec.table_id, dir=str(staged), typed=TYPED_FLAG, filters=spec.filters,
                          select=_select_list(spec))
        except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
            raise _as_fetch_error(exc, spec.table_id, endpoint, target) from exc
        _check_typed_data_set(spec, staged, target)
        manifest = build_manifest(staged, **provenance(spec, endpoint))
        write_manifest(staged, manifest)
        resolved = validate_snapshot(spec, staged, target)
        replace_directory(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return manifest, resolved


def provenance(spec: TableSpec, endpoint: Endpoint) -> dict:
    return {
        "table_id": spec.table_id,
        "catalog": endpoint.host,
        "filters": spec.filters,
        "select": _select_list(spec),
        "fetched_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "cbsodata_version": cbsodata.__version__,
        "generated": False,
        "source": f"CBS OData v3 {endpoint.table_url(spec.table_id)}",
    }


def _check_typed_data_set(spec: TableSpec, staged: Path, target: Path) -> None:
    if not (staged / "TypedDataSet.json").exists() and (staged / "UntypedDataSet.json").exists():
        raise FetchError(f"table {spec.table_id}: cbsodata {cbsodata.__version__} saved UntypedDataSet instead of "
                         f"TypedDataSet; its typed= flag changed meaning: flip TYPED_FLAG in pipeline/fetch.py"
                         f"{_unchanged_note(target)}")


def validate_snapshot(spec: TableSpec, directory: Path, target: Path) -> dict[str, str]:
    """Check a staged snapshot against the config; return measure name -> resolved CBS key."""
    try:
        table = load_table(directory)
    except MissingColumnError:
        raise
    except SnapshotError as exc:
        raise FetchError(f"table {spec.table_id}: the download is incomplete ({exc}){_unchanged_note(target)}") from exc
    if len(table.data) == 0:
        raise FetchError(f"table {spec.table_id}: TypedDataSet has no rows (filters {spec.filters!r}); "
                         f"check tables.{spec.role}.filters in config/study.yml{_unchanged_note(target)}")
    for name in REQUIRED_DIMENSIONS:
        try:
            table.dimension(name)
        except MissingColumnError as exc:
            raise MissingColumnError(f"{exc}{_unchanged_note(target)}") from None
    return resolve_measures(spec, table, target)


def resolve_measures(spec: TableSpec, table: CbsTable, target: Path) -> dict[str, str]:
    """Resolve every configured measure by key or title; warn when CBS renumbered or retitled one."""
    resolved = {}
    titles = dict(zip(table.measures()["Key"], table.measures()["Title"]))
    for name, measure in spec.measures.items():
        try:
            key = table.resolve_measure(measure.key, measure.title)
        except MissingColumnError as exc:
            raise MissingColumnError(f"{exc}{_unchanged_note(target)}") from None
        if key != measure.key:
            _warn(f"{spec.table_id}: measure {name} has key {key} in this release (config says {measure.key}); "
                  f"matched by title {measure.title!r}: update tables.{spec.role}.measures.{name}.key "
                  f"in config/study.yml")
        elif measure.title and " ".join(titles[key].lower().split()) != " ".join(measure.title.lower().split()):
            _warn(f"{spec.table_id}: measure {key} is titled {titles[key]!r}, config says {measure.title!r}; "
                  f"check that tables.{spec.role}.measures.{name} still means the same thing")
        if not table.data.empty and key not in table.data.columns:
            raise MissingColumnError(f"measure {key} ({name}) is in DataProperties of {spec.table_id} but not in "
                                     f"its TypedDataSet; add it to tables.{spec.role}.select in config/study.yml"
                                     f"{_unchanged_note(target)}")
        resolved[name] = key
    return resolved


def _as_fetch_error(exc: Exception, table_id: str, endpoint: Endpoint, target: Path | None) -> PipelineError:
    """One line naming the table, what went wrong, where, and what to do."""
    note = _unchanged_note(target)
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


def _unchanged_note(target: Path | None) -> str:
    if target is None:
        return ""
    if (target / "manifest.json").exists():
        return f"; the snapshot in {_display(target)} is unchanged"
    return f"; nothing was written to {_display(target)}"


def _select_list(spec: TableSpec) -> list[str] | None:
    # cbsodata joins a list with commas; a tuple would be sent as repeated $select parameters.
    return list(spec.select) if spec.select else None


def progress_line(result: FetchResult) -> str:
    retried = f", {result.retried} retried" if result.retried else ""
    return (f"{result.table_id}: {result.rows} rows, {result.seconds:.1f} s, {_human_bytes(result.bytes)} "
            f"({result.requests} requests{retried}) -> {_display(result.directory)}")


def _human_bytes(count: int) -> str:
    for unit in ("B", "kB", "MB"):
        if count < 1000:
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1000
    return f"{count:.1f} GB"


def _display(path: Path) -> str:
    """Paths relative to the working directory when below it (shorter messages)."""
    try:
        return str(Path(path).resolve().relative_to(Path.cwd()))
    except ValueError:
        return str(path)


def _say(line: str) -> None:
    print(line, file=sys.stdout, flush=True)


def _warn(line: str) -> None:
    print(f"warning: {line}", file=sys.stderr, flush=True)


# --- The command line ----------------------------------------------------------------------------

def select_tables(config: StudyConfig, wanted: list[str] | None) -> list[TableSpec]:
    """The configured tables, or those named by role or table id (case-insensitive) in ``wanted``."""
    specs = list(config.tables.values())
    if not wanted:
        return specs
    chosen = []
    for name in wanted:
        hits = [s for s in specs if name == s.role or name.lower() == s.table_id.lower()]
        if not hits:
            raise FetchError(f"--table {name} is neither a role nor a table id in {config.path}; use one of "
                             f"{', '.join(f'{s.role} ({s.table_id})' for s in specs)}")
        chosen += [s for s in hits if s not in chosen]
    return chosen


def fetch_command(args) -> int:
    """``python -m pipeline fetch``: every configured table (or ``--table``), one line each."""
    config = load_config(args.config)
    specs = select_tables(config, args.table)
    options = dict(catalog_url=catalog_override(args.catalog_url),
                   timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
                   retries=DEFAULT_RETRIES if args.retries is None else args.retries)
    started = time.perf_counter()
    results, failures = [], []
    for spec in specs:
        try:
            results.append(fetch_table(spec, config.raw_dir, **options))
        except PipelineError as exc:
            # A single table: let the CLI print it. Several: report each, go on, fail at the end.
            if len(specs) == 1 or args.debug:
                raise
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failures.append(spec.table_id)
    fetched = sum(r.status == "fetched" for r in results)
    _say(f"{fetched} fetched, {len(results) - fetched} unchanged, {len(failures)} failed "
         f"in {time.perf_counter() - started:.1f} s")
    if failures:
        raise FetchError(f"{len(failures)} of {len(specs)} tables failed ({', '.join(failures)}); their previous "
                         f"snapshots are unchanged, the others are up to date; rerun `python -m pipeline fetch "
                         f"--table {failures[0]}` later")
    return 0


def inspect_command(args) -> int:
    """``python -m pipeline inspect ID [--remote]``: TableInfos, measures, dimensions, config check."""
    config = load_config(args.config)
    spec = next((s for s in config.tables.values() if s.table_id.lower() == args.table_id.lower()), None)
    if args.remote:
        catalog = spec.catalog if spec else "opendata.cbs.nl"
        endpoint = resolve_endpoint(catalog, catalog_override(args.catalog_url))
        table = remote_table(args.table_id, endpoint, RetryPolicy())
        origin = f"service {endpoint.table_url(args.table_id)}"
    else:
        directory = _snapshot_dir(config.raw_dir, args.table_id)
        table = load_table(directory)
        fetched = table.manifest.get("fetched_at") or "unknown"
        kind = "generated demo data" if table.generated else f"fetched {fetched}"
        origin = f"snapshot {_display(directory)} ({kind})"
    for line in describe_table(table, origin):
        print(line)
    for line in config_check(config, table):
        print(line)
    return 0


def _snapshot_dir(raw_dir: Path, table_id: str) -> Path:
    exact = raw_dir / table_id
    if exact.exists():
        return exact
    for candidate in raw_dir.glob("*"):
        if candidate.is_dir() and candidate.name.lower() == table_id.lower():
            return candidate
    raise SnapshotError(f"no snapshot of {table_id} in {_display(raw_dir)}; run `python -m pipeline fetch` "
                        f"or look at the service with `python -m pipeline inspect {table_id} --remote`")


def remote_table(table_id: str, endpoint: Endpoint, policy: RetryPolicy) -> CbsTable:
    """TableInfos, DataProperties and the dimension tables from the service (no data rows)."""
    url = endpoint.table_url(table_id)
    try:
        info = call_cbsodata(endpoint, policy, url + "TableInfos", cbsodata.get_info, table_id) or {}
        properties = pd.DataFrame(call_cbsodata(endpoint, policy, url + "DataProperties",
                                                cbsodata.get_meta, table_id, "DataProperties"))
        dimensions = {}
        for key in properties.loc[properties["Type"].isin(DIMENSION_TYPES), "Key"]:
            frame = pd.DataFrame(call_cbsodata(endpoint, policy, url + key, cbsodata.get_meta, table_id, key))
            frame["Key"] = frame["Key"].astype(str).str.strip()
            dimensions[key] = frame
    except Exception as exc:  # noqa: BLE001 - translated into one line naming table and fix
        raise _as_fetch_error(exc, table_id, endpoint, None) from exc
    manifest = {"table_id": table_id, "catalog": endpoint.host, "modified": info.get("Modified"),
                "output_status": info.get("OutputStatus"), "rows": info.get("RecordCount"), "files": {}}
    return CbsTable(directory=Path(table_id), manifest=manifest, info=info, properties=properties, dimensions=dimensions)


def describe_table(table: CbsTable, origin: str, shown: int = 5) -> list[str]:
    info, manifest = table.info, table.manifest
    lines = [f"{table.table_id}  {info.get('Title', '')}", f"  from          {origin}"]
    for label, value in (("Identifier", info.get("Identifier")), ("ShortTitle", info.get("ShortTitle")),
                         ("Modified", info.get("Modified")), ("OutputStatus", info.get("OutputStatus")),
                         ("Period", info.get("Period")), ("catalog", manifest.get("catalog")),
                         ("rows", len(table.data) if not table.data.empty else manifest.get("rows"))):
        lines.append(f"  {label:<13} {value}")
    if info.get("OutputStatus") not in (None, REGULAR_STATUS):
        lines.append(f"  ! not {REGULAR_STATUS}: CBS no longer updates this table; look for its successor")
    measures = table.measures()
    lines.append(f"measures ({len(measures)}):")
    width = max((len(k) for k in measures["Key"]), default=0)
    for _, m in measures.iterrows():
        unit = m.get("Unit").strip() if isinstance(m.get("Unit"), str) else ""
        lines.append(f"  {m['Key']:<{width}}  {m['Title']}" + (f"  [{unit}]" if unit else ""))
    lines.append(f"dimensions ({len(table.dimensions)}):")
    kinds = dict(zip(table.properties["Key"], table.properties["Type"]))
    for name, frame in table.dimensions.items():
        keys = frame["Key"].tolist()
        sample = ", ".join(keys[:shown]) + (f", ..., {keys[-1]}" if len(keys) > shown else "")
        lines.append(f"  {name} ({kinds.get(name, 'Dimension')}, {len(keys)} keys): {sample}")
    return lines


def config_check(config: StudyConfig, table: CbsTable) -> list[str]:
    """How the configured measures resolve in this table; for a new id, which roles it could serve."""
    specs = [s for s in config.tables.values() if s.table_id.lower() == table.table_id.lower()]
    lines = []
    if specs:
        for spec in specs:
            lines.append(f"config tables.{spec.role}:")
            for name, measure in spec.measures.items():
                lines.append(f"  {name:<22} {_resolution(table, measure)}")
        return lines
    lines.append(f"{table.table_id} is not in {_display(config.path)}; measures found per role if you set it "
                 f"as tables.<role>.table_id:")
    for spec in config.tables.values():
        found = [name for name, m in spec.measures.items() if not _resolution(table, m).startswith("MISSING")]
        lines.append(f"  {spec.role:<10} {len(found)}/{len(spec.measures)} (now {spec.table_id})")
    return lines


def _resolution(table: CbsTable, measure) -> str:
    try:
        key = table.resolve_measure(measure.key, measure.title)
    except MissingColumnError as exc:
        candidates = str(exc).split("candidates: ", 1)[-1].split(";", 1)[0]
        return f"MISSING {measure.key} (candidates: {candidates})"
    return f"{key} ok" if key == measure.key else f"{key} (by title; config key {measure.key} is outdated)"
