"""``fetch`` and ``inspect``: which configured tables to download, over which CBS API.

Each table goes over the v3 OData feed (:mod:`pipeline.data.odata`, through cbsodata) or the v4 datasets
API (:mod:`pipeline.data.fetch_v4`) into the same snapshot format in ``data/raw/<table_id>/``; the
release diff after a fetch is the workflow's (:func:`pipeline.workflow.fetch`).
"""

from __future__ import annotations

import shutil
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Callable


from pipeline.config import StudyConfig, TableSpec, load_config
from pipeline.errors import FetchError, MissingColumnError, PipelineError, SnapshotError
from pipeline.data.snapshot import CbsTable, load_table
from pipeline.data.fetch_v4 import fetch_table_v4
from pipeline.data.odata import (DEFAULT_BACKOFF, DEFAULT_RETRIES, DEFAULT_TIMEOUT, LONG_DIMENSIONS, REGION_PREFIXES,
                                  REGULAR_STATUS, FetchResult, RetryPolicy, Target, catalog_override, check_options,
                                  display_path, fetch_table_v3, remote_table, resolve_endpoint, say)


def fetch_role(spec: TableSpec, raw_dir: Path, years: list[int] | None = None, **options) -> list[FetchResult]:
    """Every table of a role: its table, or (per-year roles) the table of each of ``years``."""
    if spec.per_year is None:
        return [fetch_table(spec, raw_dir, **options)]
    if not years:
        raise FetchError(f"tables.{spec.role} has one table per year, but no years were given; "
                         "the periods: block of config/study.yml names them")
    return [fetch_table(spec, raw_dir, year=year, **options) for year in years]


def fetch_table(spec: TableSpec, raw_dir: Path, catalog_url: str | None = None, use_https: bool | None = None,
                timeout: float = DEFAULT_TIMEOUT, retries: int = DEFAULT_RETRIES, backoff: float | None = None,
                force: bool = False, sleep: Callable[[float], None] = time.sleep,
                year: int | None = None, api: str | None = None) -> FetchResult:
    """Download ``spec``'s table (of ``year``, for per-year roles) into ``raw_dir/<table id>``.

    Nothing is downloaded when CBS reports the table unchanged and the config asks for the same.
    ``catalog_url`` overrides ``spec.catalog`` (``http://host:port`` switches https off);
    ``retries`` is the number of attempts per request, ``backoff`` the first wait in seconds
    (default DEFAULT_BACKOFF, doubled per attempt). ``api`` (``v3``/``v4``) overrides the table's
    ``api:`` in the config; v4 goes through :mod:`pipeline.data.fetch_v4` into the same snapshot format.
    Raises FetchError or MissingColumnError with the previous snapshot left as it was.
    """
    check_options(retries, timeout)
    started = time.perf_counter()
    policy = RetryPolicy(attempts=retries, timeout=timeout, sleep=sleep,
                         backoff=DEFAULT_BACKOFF if backoff is None else backoff)
    if (api or spec.api) == "v4":
        target = Target(spec, spec.table_id or spec.role, year)
        return fetch_table_v4(target, raw_dir, policy, catalog_url=catalog_url, force=force, started=started)
    if (api or spec.api) != "v3":
        raise FetchError(f"api {api!r} is not a CBS API this pipeline reads; use v3 or v4")
    return fetch_table_v3(spec, raw_dir, policy, catalog_url, use_https, force=force, year=year, started=started)


def _ids(spec: TableSpec) -> list[str]:
    return [spec.table_id, *spec.successors] if spec.per_year is None else list(spec.per_year.table_ids.values())


def select_tables(config: StudyConfig, wanted: list[str] | None) -> list[TableSpec]:
    """The configured tables, or those named by role or table id (case-insensitive) in ``wanted``."""
    specs = list(config.tables.values())
    if not wanted:
        return specs
    chosen = []
    for name in wanted:
        hits = [s for s in specs if name == s.role or name.lower() in (i.lower() for i in _ids(s))]
        if not hits:
            raise FetchError(f"--table {name} is neither a role nor a table id in {config.path}; use one of "
                             f"{', '.join(f'{s.role} ({s.table_id or s.per_year.title})' for s in specs)}")
        chosen += [s for s in hits if s not in chosen]
    return chosen


@dataclass
class FetchOutcome:
    """What ``fetch`` did: a result per table fetched or kept, the tables that failed."""

    results: list[FetchResult]
    failures: list[str]
    tables: int

    @property
    def fetched(self) -> int:
        return sum(r.status == "fetched" for r in self.results)

    def raise_failures(self) -> None:
        if self.failures:
            raise FetchError(f"{len(self.failures)} of {self.tables} tables failed ({', '.join(self.failures)}); their "
                             "previous snapshots are unchanged, the others are up to date; rerun `python -m pipeline "
                             f"fetch --table {self.failures[0].split()[0]}` later")


def fetch_tables(config: StudyConfig, args) -> FetchOutcome:
    """Every configured table (or ``--table``), one line each; a failing table does not stop the others."""
    specs = select_tables(config, args.table)
    options = dict(catalog_url=catalog_override(args.catalog_url),
                   timeout=DEFAULT_TIMEOUT if args.timeout is None else args.timeout,
                   retries=DEFAULT_RETRIES if args.retries is None else args.retries,
                   api=getattr(args, "api", None))
    started = time.perf_counter()
    jobs = [(table, year) for spec in specs for table in spec.chain()
            for year in (config.iv3_years() if spec.per_year else [None])]
    results, failures = [], []
    for spec, year in jobs:
        try:
            results.append(fetch_table(spec, config.raw_dir, year=year, **options))
        except PipelineError as exc:
            # A single table: let the CLI print it. Several: report each, go on, fail at the end.
            if len(jobs) == 1 or args.debug:
                raise
            print(f"error: {exc}", file=sys.stderr, flush=True)
            failures.append(spec.table_id or f"{spec.role} {year}")
    outcome = FetchOutcome(results, failures, len(jobs))
    say(f"{outcome.fetched} fetched, {len(results) - outcome.fetched} unchanged, {len(failures)} failed "
        f"in {time.perf_counter() - started:.1f} s")
    return outcome


@contextmanager
def previous_snapshots(raw_dir: Path, enabled: bool = True):
    """A copy of ``raw_dir`` as it was before the fetch (for the release diff), removed afterwards."""
    if not enabled or not Path(raw_dir).exists():
        yield None
        return
    import tempfile

    with tempfile.TemporaryDirectory(prefix="h6-before-fetch-") as tmp:
        before = Path(tmp) / "raw"
        shutil.copytree(raw_dir, before, ignore=shutil.ignore_patterns(".*"))
        yield before


# --- inspect -------------------------------------------------------------------------------------

def configured_target(config: StudyConfig, table_id: str, manifest: dict | None = None) -> Target | None:
    """The config entry a table id belongs to: a role's table_id, a pinned per-year id, or a snapshot's role/year."""
    for role_spec in config.tables.values():
        for spec in (role_spec.chain() if role_spec.per_year is None else [role_spec]):
            if spec.table_id and spec.table_id.lower() == table_id.lower():
                return Target(spec, spec.table_id)
        spec = role_spec
        if spec.per_year:
            for year, pinned in spec.per_year.table_ids.items():
                if pinned.lower() == table_id.lower():
                    return Target(spec, pinned, int(year), spec.per_year.title_for(int(year)), pinned)
    if manifest and manifest.get("role") in config.tables and manifest.get("year") is not None:
        spec = config.tables[manifest["role"]]
        return Target(spec, table_id, int(manifest["year"]), manifest.get("resolved_from_title"))
    return None


def inspect_command(args) -> int:
    """``python -m pipeline inspect ID [--remote]``: dimensions with categories, measures, config check."""
    config = load_config(args.config)
    target = configured_target(config, args.table_id)
    if args.remote:
        override = catalog_override(args.catalog_url)
        catalogs = [target.spec.catalog] if target else list(dict.fromkeys(
            ["opendata.cbs.nl"] + [s.catalog for s in config.tables.values()]))
        table = None
        for i, catalog in enumerate(catalogs if not override else catalogs[:1]):
            endpoint = resolve_endpoint(catalog, override)
            try:
                table = remote_table(args.table_id, endpoint, RetryPolicy())
                break
            except FetchError as exc:  # not in this catalog: try the next configured one
                if "HTTP 404" not in str(exc) or i == len(catalogs) - 1:
                    raise
        origin = f"service {endpoint.table_url(args.table_id)}"
    else:
        directory = _snapshot_dir(config.raw_dir, args.table_id)
        table = load_table(directory)
        target = target or configured_target(config, args.table_id, table.manifest)
        fetched = table.manifest.get("fetched_at") or "unknown"
        kind = "generated demo data" if table.generated else f"fetched {fetched}"
        origin = f"snapshot {display_path(directory)} ({kind})"
    for line in describe_table(table, origin):
        print(line)
    for line in config_check(config, table, target):
        print(line)
    return 0


def _snapshot_dir(raw_dir: Path, table_id: str) -> Path:
    exact = raw_dir / table_id
    if exact.exists():
        return exact
    for candidate in raw_dir.glob("*"):
        if candidate.is_dir() and candidate.name.lower() == table_id.lower():
            return candidate
    raise SnapshotError(f"no snapshot of {table_id} in {display_path(raw_dir)}; run `python -m pipeline fetch` "
                        f"or look at the service with `python -m pipeline inspect {table_id} --remote`")


def describe_table(table: CbsTable, origin: str, shown: int = 3, long: int = 8) -> list[str]:
    """TableInfos, every dimension with its categories (long ones abbreviated) and every measure with unit."""
    info, manifest = table.info, table.manifest
    lines = [f"{table.table_id}  {str(info.get('Title', '')).strip()}", f"  from          {origin}"]
    for label, value in (("Identifier", info.get("Identifier")), ("ShortTitle", info.get("ShortTitle")),
                         ("Modified", info.get("Modified")), ("OutputStatus", info.get("OutputStatus")),
                         ("Period", info.get("Period")), ("catalog", manifest.get("catalog")),
                         ("rows", len(table.data) if not table.data.empty else manifest.get("rows")),
                         ("filters", manifest.get("filters"))):
        if value is not None or label != "filters":
            lines.append(f"  {label:<13} {value}")
    if info.get("OutputStatus") not in (None, REGULAR_STATUS):
        lines.append(f"  ! not {REGULAR_STATUS}: CBS no longer updates this table; look for its successor")
    kinds = dict(zip(table.properties["Key"], table.properties["Type"]))
    lines.append(f"dimensions ({len(table.dimensions)}):")
    for name, frame in table.dimensions.items():
        pairs = list(zip(frame["Key"].astype(str).str.strip(), frame["Title"].astype(str).str.strip()))
        abbreviate = len(pairs) > long or (name in LONG_DIMENSIONS and len(pairs) > 2 * shown)
        lines.append(f"  {name} ({kinds.get(name, 'Dimension')}, {len(pairs)} categories)"
                     + (f", first and last {shown}:" if abbreviate else ":"))
        width = max((len(k) for k, _ in pairs), default=0)
        rows = pairs[:shown] + [None] + pairs[-shown:] if abbreviate else pairs
        for pair in rows:
            lines.append(f"    ... {len(pairs) - 2 * shown} more" if pair is None else f"    {pair[0]:<{width}}  {pair[1]}")
    measures = table.measures()
    lines.append(f"measures ({len(measures)}):")
    width = max((len(k) for k in measures["Key"]), default=0)
    for _, m in measures.iterrows():
        unit = m.get("Unit").strip() if isinstance(m.get("Unit"), str) else ""
        lines.append(f"  {m['Key']:<{width}}  {m['Title']}" + (f"  [{unit}]" if unit else ""))
    return lines


def config_check(config: StudyConfig, table: CbsTable, target: Target | None) -> list[str]:
    """How the configured categories and measures resolve in this table; for a new id, which roles it could serve."""
    if target is not None:
        spec = target.spec
        year = f" ({target.year}: {target.title!r})" if target.year is not None else ""
        lines = [f"config tables.{spec.role}{year}:"]
        if spec.region_dimension in table.dimensions:
            keys = table.dimension(spec.region_dimension)["Key"].astype(str).str.strip()
            counts = ", ".join(f"{(keys.str.startswith(p)).sum()} {p}" for p in REGION_PREFIXES)
            lines.append(f"  region {spec.region_dimension:<24} ok ({counts})")
        else:
            lines.append(f"  region {spec.region_dimension:<24} MISSING (dimensions: {', '.join(table.dimensions)})")
        for dimension, named in spec.categories.items():
            for name, category in named.items():
                category = category.for_year(target.year) if target.year is not None else category
                lines.append(f"  {dimension + '.' + name:<31} {_category_resolution(table, dimension, category)}")
        for name, measure in spec.measures.items():
            lines.append(f"  {'measure ' + name:<31} {_resolution(table, measure)}")
        return lines
    lines = [f"{table.table_id} is not in {display_path(config.path)}; what resolves per role if you set it "
             f"as tables.<role>.table_id:"]
    for spec in config.tables.values():
        found = [name for name, m in spec.measures.items() if not _resolution(table, m).startswith("MISSING")]
        cats = [(d, c) for d, named in spec.categories.items() for c in named.values()]
        cats_found = sum(not _category_resolution(table, d, c).startswith("MISSING") for d, c in cats)
        lines.append(f"  {spec.role:<10} {len(found)}/{len(spec.measures)} measures, {cats_found}/{len(cats)} "
                     f"categories (now {spec.table_id or spec.per_year.title})")
    return lines


def _category_resolution(table: CbsTable, dimension: str, category) -> str:
    if dimension not in table.dimensions:
        return f"MISSING dimension {dimension} (dimensions: {', '.join(table.dimensions)})"
    try:
        keys = table.resolve_category(dimension, category)
    except MissingColumnError as exc:
        candidates = str(exc).split("candidates: ", 1)[-1].rsplit("; update", 1)[0]
        return f"MISSING {category.describe()} (candidates: {candidates})"
    titles = dict(zip(table.dimension(dimension)["Key"].astype(str).str.strip(),
                      table.dimension(dimension)["Title"].astype(str).str.strip()))
    if len(keys) == 1:
        how = "ok" if category.key and category.key.strip() == keys[0] else (
            f"by title; config key {category.key} is outdated" if category.key else "by title")
        return f"{keys[0]} {titles.get(keys[0], '')!r} ({how})"
    return f"{len(keys)} keys starting {category.key_prefix!r}: {', '.join(keys[:6])}" + (", ..." if len(keys) > 6 else "")


def _resolution(table: CbsTable, measure) -> str:
    try:
        key = table.resolve_measure(measure.key, measure.title)
    except (MissingColumnError, AttributeError) as exc:
        candidates = str(exc).split("candidates: ", 1)[-1].split(";", 1)[0]
        return f"MISSING {measure.key or measure.title} (candidates: {candidates})"
    if measure.key is None:
        return f"{key} (by title)"
    return f"{key} ok" if key == measure.key else f"{key} (by title; config key {measure.key} is outdated)"
