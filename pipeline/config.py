"""The study configuration (``config/study.yml``), validated on load.

One YAML file drives the whole run, like cal-itp's portfolio sites: the CBS tables per indicator
family, the reference periods, the size classes and the five cases of Tabel 1 with their reference
municipalities. Every problem is reported as one line naming the field and the fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "study.yml"
GM_CODE = re.compile(r"^GM\d{4}$")
JZ_CODE = re.compile(r"^JZ\d{2}$")
# What build writes and every case notebook reads (pipeline.case.Processed); the cache hashes exactly these
WORKBOOK_NAME = "hoofdstuk6.xlsx"  # reports/<this>: the chapter's tables for analysts (pipeline.exports)
PROCESSED_FILES = ("gemeenten.csv", "ses.csv", "lasten.csv", "jeugdhulp.csv", "kerncijfers.csv", "provenance.json")
TABLE_ROLES = ("bevolking", "jeugdzorg", "inkomen", "armoede", "iv3")
REQUIRED_MEASURES = {
    "bevolking": ("inwoners",),
    "jeugdzorg": ("jongeren", "totaal_jeugdzorg", "zonder_verblijf", "zonder_verblijf_pct", "met_verblijf",
                  "via_wijkteam"),
    "inkomen": ("mediaan_inkomen",),
    "armoede": ("kinderen_laag_inkomen_pct",),
    "iv3": ("lasten", "lasten_per_inwoner"),
}


@dataclass(frozen=True)
class MeasureSpec:
    key: str
    title: str | None = None


@dataclass(frozen=True)
class TableSpec:
    role: str
    table_id: str
    catalog: str
    measures: dict[str, MeasureSpec]
    filters: str | None = None
    select: tuple[str, ...] | None = None


@dataclass(frozen=True)
class HalfYear:
    year: int
    half: int

    @property
    def label(self) -> str:
        return f"{self.year}HJ{self.half}"


@dataclass(frozen=True)
class Periods:
    jeugdhulp_base: HalfYear
    jeugdhulp_current: HalfYear
    jeugdzorg_users_year: int
    iv3_begroting_year: int
    iv3_rekening_year: int
    income_year: int
    classification_year: int
    taakvelden: tuple[str, ...]
    jeugdhulp_before_covid: HalfYear = HalfYear(2019, 2)   # the text's reference point for the COVID-19 dip
    cost_trend_base_year: int = 2017                         # lasten per gebruiker development 2017-2019


@dataclass(frozen=True)
class SizeClass:
    label: str
    min: int
    max: int

    def contains(self, inhabitants: float) -> bool:
        return self.min <= inhabitants < self.max


@dataclass(frozen=True)
class Case:
    code: str
    size_class: str
    jeugdregio: str | None
    references: tuple[str, ...]
    table_lasten: int | None = None
    table_gebruik: int | None = None
    figure: int | None = None
    automatic: bool = False  # reference group chosen by pipeline.selection, not configured


@dataclass
class StudyConfig:
    path: Path
    report: dict
    tables: dict[str, TableSpec]
    periods: Periods
    size_classes: dict[str, SizeClass]
    cases: list[Case]
    raw_dir: Path = field(default=ROOT / "data" / "raw")
    processed_dir: Path = field(default=ROOT / "data" / "processed")
    reports_dir: Path = field(default=ROOT / "reports")
    published_dir: Path = field(default=ROOT / "data" / "raw" / "published")

    def case(self, code: str) -> Case | None:
        return next((c for c in self.cases if c.code == code), None)

    def table_dir(self, role: str) -> Path:
        return self.raw_dir / self.tables[role].table_id


def _fail(where: str, problem: str, fix: str) -> None:
    raise ConfigError(f"config {where}: {problem}; {fix}")


def _code(value, where: str, pattern=GM_CODE, example="GM0150") -> str:
    if not isinstance(value, str):
        _fail(where, f"{value!r} is a {type(value).__name__}, not a CBS code string",
              f'write it quoted, e.g. "{example}"')
    if not pattern.match(value):
        _fail(where, f"{value!r} is not a CBS code", f'use the form "{example}"')
    return value


def _require(mapping, key: str, where: str):
    if not isinstance(mapping, dict) or key not in mapping:
        _fail(where, f"missing field {key!r}", "see config/study.yml in the repository for the expected layout")
    return mapping[key]


def _half_year(value, where: str) -> HalfYear:
    year = _require(value, "year", where)
    half = _require(value, "half", where)
    if not isinstance(year, int) or half not in (1, 2):
        _fail(where, f"{value!r} is not a half year", "use {year: 2017, half: 1}")
    return HalfYear(year, half)


def _parse_tables(raw) -> dict[str, TableSpec]:
    tables = {}
    for role in TABLE_ROLES:
        spec = _require(raw, role, "tables")
        where = f"tables.{role}"
        table_id = _require(spec, "table_id", where)
        if not isinstance(table_id, str) or not table_id:
            _fail(f"{where}.table_id", f"{table_id!r} is not a table id", 'write it quoted, e.g. "84134NED"')
        measures = {}
        raw_measures = _require(spec, "measures", where)
        for name in REQUIRED_MEASURES[role]:
            m = _require(raw_measures, name, f"{where}.measures")
            measures[name] = MeasureSpec(key=_require(m, "key", f"{where}.measures.{name}"), title=m.get("title"))
        select = spec.get("select")
        tables[role] = TableSpec(role=role, table_id=table_id, catalog=spec.get("catalog", "opendata.cbs.nl"),
                                 measures=measures, filters=spec.get("filters"),
                                 select=tuple(select) if select else None)
    return tables


def _parse_cases(raw, size_classes) -> list[Case]:
    if not isinstance(raw, list) or not raw:
        _fail("cases", "no cases listed", "list at least one case with code, size_class and references")
    cases, seen = [], set()
    for i, item in enumerate(raw):
        where = f"cases[{i}]"
        code = _code(_require(item, "code", where), f"{where}.code")
        if code in seen:
            _fail(f"{where}.code", f"{code} is listed twice", "keep one entry per case")
        seen.add(code)
        size_class = _require(item, "size_class", where)
        if size_class not in size_classes:
            _fail(f"{where}.size_class", f"{size_class!r} is not defined",
                  f"use one of {', '.join(size_classes)} or add it under size_classes")
        region = item.get("jeugdregio")
        if region is not None:
            region = _code(region, f"{where}.jeugdregio", JZ_CODE, "JZ07")
        refs = item.get("references", [])
        if not isinstance(refs, list):
            _fail(f"{where}.references", "not a list", 'write ["GM0200", "GM0202"]')
        refs = tuple(_code(r, f"{where}.references[{j}]") for j, r in enumerate(refs))
        tables = item.get("tables") or {}
        cases.append(Case(code=code, size_class=size_class, jeugdregio=region, references=refs,
                          table_lasten=tables.get("lasten"), table_gebruik=tables.get("gebruik"),
                          figure=item.get("figure")))
    return cases


def load_config(path: Path | str = DEFAULT_CONFIG) -> StudyConfig:
    """Read and validate the study configuration."""
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; pass --config or restore config/study.yml")
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML ({str(exc).splitlines()[0]}); fix the syntax")
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} is empty or not a mapping; see config/study.yml for the layout")
    raw_periods = _require(raw, "periods", "")
    periods = Periods(
        jeugdhulp_base=_half_year(_require(raw_periods, "jeugdhulp_base", "periods"), "periods.jeugdhulp_base"),
        jeugdhulp_current=_half_year(_require(raw_periods, "jeugdhulp_current", "periods"),
                                     "periods.jeugdhulp_current"),
        jeugdzorg_users_year=int(_require(raw_periods, "jeugdzorg_users_year", "periods")),
        iv3_begroting_year=int(_require(raw_periods, "iv3_begroting_year", "periods")),
        iv3_rekening_year=int(_require(raw_periods, "iv3_rekening_year", "periods")),
        income_year=int(_require(raw_periods, "income_year", "periods")),
        classification_year=int(_require(raw_periods, "classification_year", "periods")),
        taakvelden=tuple(str(t) for t in _require(raw_periods, "taakvelden", "periods")),
        jeugdhulp_before_covid=_half_year(raw_periods.get("jeugdhulp_before_covid", {"year": 2019, "half": 2}),
                                          "periods.jeugdhulp_before_covid"),
        cost_trend_base_year=int(raw_periods.get("cost_trend_base_year", 2017)),
    )
    size_classes = {}
    for label, bounds in (_require(raw, "size_classes", "") or {}).items():
        lo, hi = _require(bounds, "min", f"size_classes.{label}"), _require(bounds, "max", f"size_classes.{label}")
        if not (isinstance(lo, int) and isinstance(hi, int) and lo < hi):
            _fail(f"size_classes.{label}", f"bounds {lo!r}..{hi!r} are not increasing integers",
                  "use {min: 20000, max: 50000}")
        size_classes[label] = SizeClass(label, lo, hi)
    paths = raw.get("paths") or {}
    if not isinstance(paths, dict) or set(paths) - {"raw", "processed", "reports", "published"}:
        _fail("paths", f"{paths!r} is not a mapping of raw/processed/reports/published",
              "use {raw: data/raw, reports: reports}")
    return StudyConfig(path=path, report=raw.get("report", {}), tables=_parse_tables(_require(raw, "tables", "")),
                       periods=periods, size_classes=size_classes,
                       cases=_parse_cases(_require(raw, "cases", ""), size_classes),
                       raw_dir=_directory(paths.get("raw"), ROOT / "data" / "raw"),
                       processed_dir=_directory(paths.get("processed"), ROOT / "data" / "processed"),
                       reports_dir=_directory(paths.get("reports"), ROOT / "reports"),
                       published_dir=_directory(paths.get("published"), ROOT / "data" / "raw" / "published"))


def _directory(value, default: Path) -> Path:
    """A configured directory; relative paths are relative to the repository root, not the working directory."""
    if value is None:
        return default
    path = Path(value)
    return path if path.is_absolute() else ROOT / path
