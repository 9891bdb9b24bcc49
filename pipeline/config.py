"""The study configuration (``config/study.yml``), validated on load by a pydantic schema.

One YAML file drives the whole run, like cal-itp's portfolio sites: the CBS tables per role (table
or per-year tables, region dimension, the categories of every other dimension, the measures), the
reference periods, the choices the report leaves open, the size classes and the five cases of
Tabel 1 with their reference municipalities. Unknown keys are errors; every problem is reported as
one line naming the field and the fix. The shapes are described in ``docs/shapes.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipeline.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_CONFIG = ROOT / "config" / "study.yml"
GM_CODE = re.compile(r"^GM\d{4}$")
JZ_CODE = re.compile(r"^JZ\d{2}$")
WORKBOOK_NAME = "hoofdstuk6.xlsx"  # reports/<this>: the chapter's tables for analysts (pipeline.report.exports)
TABLE_ROLES = ("bevolking", "gebieden", "jeugdzorg", "inkomen", "armoede", "iv3")
# role -> (dimension -> category names the build reads), and the measures it reads
REQUIRED_CATEGORIES = {
    "jeugdzorg": {"VormenVanJeugdzorg": ("totaal_jeugdzorg", "zonder_verblijf", "via_wijkteam", "met_verblijf")},
    "iv3": {"Categorie": ("lasten",), "Verslagsoort": ("begroting", "jaarrekening")},
}
REQUIRED_MEASURES = {
    "bevolking": ("inwoners",),
    "gebieden": ("jeugdregio_code", "jeugdregio_naam"),
    "jeugdzorg": ("jongeren", "relatief"),
    "inkomen": ("mediaan_inkomen",),
    "armoede": ("kinderen_relatief",),
    "iv3": ("bedrag",),
}


class ConfigModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# ---------------------------------------------------------------------------------------------
# Tables


class MeasureSpec(ConfigModel):
    """A CBS measure (topic), found by key first and by title second: a renumbered key still resolves."""

    key: str | None = None
    title: str | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if not (self.key or self.title):
            raise ValueError("needs a key or a title; write {key: \"JongerenMetJeugdzorg_1\", title: \"...\"}")
        return self


class CategorySpec(ConfigModel):
    """One category of a dimension (or, with ``key_prefix``, every category whose key starts so).

    ``{year}`` in a key or title is replaced by the year of a per-year table (Iv3).
    """

    key: str | None = None
    title: str | None = None
    key_prefix: str | None = None

    @model_validator(mode="after")
    def _one_of(self):
        if not (self.key or self.title or self.key_prefix):
            raise ValueError("needs a key, a title or a key_prefix; write {title: \"JZ Totaal jeugdzorg\"}")
        return self

    def for_year(self, year: int) -> "CategorySpec":
        fill = lambda text: text.replace("{year}", str(year)) if text else text  # noqa: E731
        return CategorySpec(key=fill(self.key), title=fill(self.title), key_prefix=self.key_prefix)

    def describe(self) -> str:
        parts = [f"key {self.key!r}" if self.key else "", f"title {self.title!r}" if self.title else "",
                 f"keys starting {self.key_prefix!r}" if self.key_prefix else ""]
        return ", ".join(p for p in parts if p)


class PerYear(ConfigModel):
    """One CBS table per year (Iv3 on dataderden): found in the catalog by title, optionally pinned."""

    title: str
    table_ids: dict[str, str] = Field(default_factory=dict)

    @field_validator("title")
    @classmethod
    def _has_year(cls, value: str) -> str:
        if "{year}" not in value:
            raise ValueError(f"{value!r} has no {{year}}; write e.g. \"Gemeenten {{year}} onbewerkte Iv3-data\"")
        return value

    @field_validator("table_ids", mode="before")
    @classmethod
    def _string_years(cls, value):
        if isinstance(value, dict):
            return {str(k): v for k, v in value.items()}
        return value

    def title_for(self, year: int) -> str:
        return self.title.replace("{year}", str(year))


class TableSpec(ConfigModel):
    role: str = ""
    table_id: str | None = None
    per_year: PerYear | None = None
    catalog: str = "opendata.cbs.nl"
    region_dimension: str = "RegioS"
    categories: dict[str, dict[str, CategorySpec]] = Field(default_factory=dict)
    measures: dict[str, MeasureSpec]
    missing_codes: tuple[float, ...] = ()
    # newer tables that continue this one (84134NED up to 2020, 85099NED from 2021): same categories and
    # measures (found by title where keys differ); for a period several publish, the newest table's figure counts
    successors: tuple[str, ...] = ()
    api: Literal["v3", "v4"] = "v3"   # CBS API to fetch through: OData v3 feed (cbsodata) or v4 datasets

    @model_validator(mode="after")
    def _one_table(self):
        if (self.table_id is None) == (self.per_year is None):
            raise ValueError("needs either table_id or per_year (not both); "
                             "write table_id: \"84134NED\" or per_year: {title: \"... {year} ...\"}")
        if self.successors and self.per_year is not None:
            raise ValueError("successors chain tables with one id; a per_year role finds each year's table itself")
        return self

    def chain(self) -> list["TableSpec"]:
        """This role's table and its successors, oldest first, each as a spec of its own (for fetch and inspect)."""
        return [self] + [self.model_copy(update={"table_id": table_id, "successors": ()})
                         for table_id in self.successors]

    def category(self, dimension: str, name: str) -> CategorySpec:
        return self.categories[dimension][name]

    def table_id_for(self, year: int | None = None) -> str | None:
        """The table id of this role (for per-year tables: the pinned id of ``year``, else None)."""
        if self.per_year is None:
            return self.table_id
        return self.per_year.table_ids.get(str(year))


# ---------------------------------------------------------------------------------------------
# Periods, choices, size classes, cases


class HalfYearModel(ConfigModel):
    year: int = Field(ge=1990, le=2100)
    half: Literal[1, 2]


@dataclass(frozen=True)
class HalfYear:
    year: int
    half: int

    @property
    def label(self) -> str:
        return f"{self.year}HJ{self.half}"


class PeriodsModel(ConfigModel):
    jeugdhulp_base: HalfYearModel
    jeugdhulp_current: HalfYearModel
    jeugdhulp_before_covid: HalfYearModel
    iv3_begroting_year: int = Field(ge=2017, le=2100)
    iv3_rekening_year: int = Field(ge=2017, le=2100)
    cost_trend_base_year: int = Field(ge=2017, le=2100)
    income_year: int = Field(ge=1990, le=2100)
    classification_year: int = Field(ge=1990, le=2100)


@dataclass(frozen=True)
class Periods:
    jeugdhulp_base: HalfYear
    jeugdhulp_current: HalfYear
    jeugdhulp_before_covid: HalfYear   # the text's reference point for the COVID-19 dip and deciles
    iv3_begroting_year: int            # index lasten per inwoner = 100
    iv3_rekening_year: int             # lasten per gebruiker and per inwoner
    cost_trend_base_year: int          # lasten per gebruiker development (2017-2019)
    income_year: int
    classification_year: int           # gemeenten of 1 January of this year


class ChoicesModel(ConfigModel):
    """Choices the report leaves open; the validation page shows the effect of every option."""

    inkomen_populatie: str = "incl_studenten"
    lasten_per_inwoner_groep: Literal["gewogen", "ongewogen"] = "gewogen"
    pct_zonder_verblijf_groep: Literal["gepoold", "ongewogen"] = "gepoold"


@dataclass(frozen=True)
class Choices:
    inkomen_populatie: str
    lasten_per_inwoner_groep: str
    pct_zonder_verblijf_groep: str


class SizeClassModel(ConfigModel):
    min: int = Field(ge=0)
    max: int = Field(gt=0)

    @model_validator(mode="after")
    def _increasing(self):
        if self.min >= self.max:
            raise ValueError(f"bounds {self.min}..{self.max} are not increasing; use {{min: 20000, max: 50000}}")
        return self


@dataclass(frozen=True)
class SizeClass:
    label: str
    min: int
    max: int

    def contains(self, inhabitants: float) -> bool:
        return self.min <= inhabitants < self.max


# CBS's gemeentegrootteklassen (inhabitants), the classification StatLine uses for municipalities; the report's
# own classes are `size_classes:` in the config
CBS_SIZE_CLASSES = [
    SizeClass("<5K", 0, 5_000), SizeClass("5-10K", 5_000, 10_000), SizeClass("10-20K", 10_000, 20_000),
    SizeClass("20-50K", 20_000, 50_000), SizeClass("50-100K", 50_000, 100_000),
    SizeClass("100-150K", 100_000, 150_000), SizeClass("150-250K", 150_000, 250_000),
    SizeClass("250K+", 250_000, 10**9),
]


def cbs_size_class(inhabitants: float) -> str:
    """The CBS gemeentegrootteklasse of a number of inhabitants."""
    for size_class in CBS_SIZE_CLASSES:
        if size_class.contains(inhabitants):
            return size_class.label
    raise ValueError(f"no size class for {inhabitants}")


def _cbs_code(value, pattern: re.Pattern, example: str) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{value!r} is a {type(value).__name__}, not a CBS code string; "
                         f"write it quoted, e.g. \"{example}\"")
    if not pattern.match(value):
        raise ValueError(f"{value!r} is not a CBS code; use the form \"{example}\"")
    return value


class CaseTablesModel(ConfigModel):
    lasten: int = Field(ge=1)
    gebruik: int = Field(ge=1)


class CaseModel(ConfigModel):
    code: str
    size_class: str
    jeugdregio: str | None = None
    references: list[str] = Field(default_factory=list)
    tables: CaseTablesModel | None = None
    figure: int | None = Field(default=None, ge=1)

    @field_validator("code", mode="before")
    @classmethod
    def _gm(cls, value):
        return _cbs_code(value, GM_CODE, "GM0150")

    @field_validator("jeugdregio", mode="before")
    @classmethod
    def _jz(cls, value):
        return None if value is None else _cbs_code(value, JZ_CODE, "JZ07")

    @field_validator("references", mode="before")
    @classmethod
    def _refs(cls, value):
        if not isinstance(value, list):
            raise ValueError("not a list; write [\"GM0200\", \"GM0202\"]")
        for j, item in enumerate(value):
            try:
                _cbs_code(item, GM_CODE, "GM0150")
            except ValueError as exc:
                raise ValueError(f"[{j}]: {exc}") from None
        return value


@dataclass(frozen=True)
class Case:
    code: str
    size_class: str
    jeugdregio: str | None
    references: tuple[str, ...]
    table_lasten: int | None = None
    table_gebruik: int | None = None
    figure: int | None = None
    automatic: bool = False  # reference group chosen by pipeline.case.selection, not configured


class PathsModel(ConfigModel):
    raw: str | None = None
    processed: str | None = None
    reports: str | None = None
    published: str | None = None


class ReportModel(ConfigModel):
    title: str
    publisher: str
    year: int
    chapter: str


class StudyModel(ConfigModel):
    report: ReportModel
    tables: dict[str, TableSpec]
    periods: PeriodsModel
    choices: ChoicesModel = Field(default_factory=ChoicesModel)
    size_classes: dict[str, SizeClassModel]
    cases: list[CaseModel] = Field(min_length=1)
    paths: PathsModel = Field(default_factory=PathsModel)


# ---------------------------------------------------------------------------------------------
# The validated configuration


@dataclass
class StudyConfig:
    path: Path
    report: dict
    tables: dict[str, TableSpec]
    periods: Periods
    choices: Choices
    size_classes: dict[str, SizeClass]
    cases: list[Case]
    raw_dir: Path = field(default=ROOT / "data" / "raw")
    processed_dir: Path = field(default=ROOT / "data" / "processed")
    reports_dir: Path = field(default=ROOT / "reports")
    published_dir: Path = field(default=ROOT / "data" / "external" / "published")

    def case(self, code: str) -> Case | None:
        return next((c for c in self.cases if c.code == code), None)

    def iv3_years(self) -> list[int]:
        """The Iv3 years the periods need: begroting year, rekening year and the cost-trend base year."""
        p = self.periods
        return sorted({p.iv3_begroting_year, p.iv3_rekening_year, p.cost_trend_base_year})

    def table_dirs(self, role: str) -> list[Path]:
        """The snapshot directories of a role with successors: its table first, then each successor."""
        return [self.raw_dir / spec.table_id for spec in self.tables[role].chain()]

    def table_dir(self, role: str, year: int | None = None) -> Path:
        """The snapshot directory of a role (for per-year roles: of one year, pinned or resolved at fetch)."""
        spec = self.tables[role]
        table_id = spec.table_id_for(year)
        if table_id is None:
            table_id = resolved_table_id(self.raw_dir, spec, year)
        return self.raw_dir / table_id


def resolved_table_id(raw_dir: Path, spec: TableSpec, year: int | None) -> str:
    """A per-year table without a pinned id: the snapshot whose manifest records that title."""
    import json

    title = spec.per_year.title_for(year)
    for manifest in sorted(raw_dir.glob("*/manifest.json")):
        try:
            info = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if (info.get("resolved_from_title") or info.get("title")) == title:
            return manifest.parent.name
    raise ConfigError(f"config tables.{spec.role}: no snapshot titled {title!r} in {raw_dir}; "
                      f"run `python -m pipeline fetch --table {spec.role}` or pin its id under per_year.table_ids")


def _message(error: dict) -> str:
    """One pydantic error as 'config <where>: <problem>; <fix>'."""
    where = ".".join(str(part) for part in error["loc"] if part not in ("function-after", "function-before"))
    where = re.sub(r"\.(\d+)(?=\.|$)", r"[\1]", where)
    kind, value = error["type"], error.get("input")
    if kind == "extra_forbidden":
        return f"config {where}: unknown field; remove it or fix its spelling (see config/study.yml and docs/shapes.md)"
    if kind == "missing":
        return f"config {where}: missing field; see config/study.yml in the repository for the expected layout"
    if kind in ("value_error", "assertion_error"):
        text = str(error["msg"]).removeprefix("Value error, ")
        sub = re.match(r"^\[(\d+)\]: (.*)$", text)
        if sub:
            where, text = f"{where}[{sub[1]}]", sub[2]
        return f"config {where}: {text}"
    if kind == "literal_error":
        return f"config {where}: {value!r} is not allowed; {error['msg'].lower()}"
    return f"config {where}: {value!r} is invalid ({error['msg'].lower()}); see config/study.yml for the expected form"


def _check_roles(model: StudyModel) -> None:
    for role in TABLE_ROLES:
        if role not in model.tables:
            raise ConfigError(f"config tables: missing role {role!r}; see config/study.yml for its entry")
    for role, spec in model.tables.items():
        if role not in TABLE_ROLES:
            raise ConfigError(f"config tables.{role}: unknown role; use one of {', '.join(TABLE_ROLES)}")
        for name in REQUIRED_MEASURES[role]:
            if name not in spec.measures:
                raise ConfigError(f"config tables.{role}.measures: missing measure {name!r}; "
                                  "add it with the CBS key and title (see `python -m pipeline inspect`)")
        for dimension, names in REQUIRED_CATEGORIES.get(role, {}).items():
            for name in names:
                if name not in spec.categories.get(dimension, {}):
                    raise ConfigError(f"config tables.{role}.categories.{dimension}: missing category {name!r}; "
                                      "add it with its CBS key or title (see `python -m pipeline inspect`)")
    for role, spec in model.tables.items():
        if spec.successors and role != "jeugdzorg":
            raise ConfigError(f"config tables.{role}.successors: successor tables are supported for the jeugdzorg "
                              "role (84134NED -> 85099NED); remove it or fetch the newer table under its own role")
    populations = model.tables["inkomen"].categories.get("Populatie", {})
    if model.choices.inkomen_populatie not in populations:
        raise ConfigError(f"config choices.inkomen_populatie: {model.choices.inkomen_populatie!r} is not a category "
                          f"of tables.inkomen.categories.Populatie; use one of {', '.join(populations) or '(none)'}")


def _check_cases(model: StudyModel) -> None:
    seen = set()
    for i, case in enumerate(model.cases):
        if case.code in seen:
            raise ConfigError(f"config cases[{i}].code: {case.code} is listed twice; keep one entry per case")
        seen.add(case.code)
        if case.size_class not in model.size_classes:
            raise ConfigError(f"config cases[{i}].size_class: {case.size_class!r} is not defined; "
                              f"use one of {', '.join(model.size_classes)} or add it under size_classes")
        if case.code in case.references:
            raise ConfigError(f"config cases[{i}].references: {case.code} is listed as its own reference; "
                              "remove it from references")
        if len(set(case.references)) != len(case.references):
            raise ConfigError(f"config cases[{i}].references: a municipality is listed twice; keep each once")


# libyaml's parser where PyYAML has it (its wheels do), else the pure-Python one: the same safe constructors
# and values, in a tenth of the time (every case reads the config again: ~20 ms -> 2 ms)
YAML_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_config(path: Path | str = DEFAULT_CONFIG) -> StudyConfig:
    """Read and validate the study configuration."""
    path = Path(path)
    try:
        raw = yaml.load(path.read_text(encoding="utf-8"), Loader=YAML_LOADER)
    except FileNotFoundError:
        raise ConfigError(f"config file {path} not found; pass --config or restore config/study.yml")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"config file {path} cannot be read ({exc.__class__.__name__}); check its permissions")
    except yaml.YAMLError as exc:
        raise ConfigError(f"config file {path} is not valid YAML ({str(exc).splitlines()[0]}); fix the syntax")
    if not isinstance(raw, dict):
        raise ConfigError(f"config file {path} is empty or not a mapping; see config/study.yml for the layout")
    try:
        model = StudyModel.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(_message(exc.errors()[0])) from None
    _check_roles(model)
    _check_cases(model)
    half = lambda h: HalfYear(h.year, h.half)  # noqa: E731
    p = model.periods
    periods = Periods(jeugdhulp_base=half(p.jeugdhulp_base), jeugdhulp_current=half(p.jeugdhulp_current),
                      jeugdhulp_before_covid=half(p.jeugdhulp_before_covid),
                      iv3_begroting_year=p.iv3_begroting_year, iv3_rekening_year=p.iv3_rekening_year,
                      cost_trend_base_year=p.cost_trend_base_year, income_year=p.income_year,
                      classification_year=p.classification_year)
    tables = {role: spec.model_copy(update={"role": role}) for role, spec in model.tables.items()}
    cases = [Case(code=c.code, size_class=c.size_class, jeugdregio=c.jeugdregio, references=tuple(c.references),
                  table_lasten=c.tables.lasten if c.tables else None,
                  table_gebruik=c.tables.gebruik if c.tables else None, figure=c.figure) for c in model.cases]
    paths = model.paths
    return StudyConfig(path=path, report=model.report.model_dump(), tables=tables, periods=periods,
                       choices=Choices(**model.choices.model_dump()),
                       size_classes={label: SizeClass(label, b.min, b.max) for label, b in model.size_classes.items()},
                       cases=cases,
                       raw_dir=_directory(paths.raw, ROOT / "data" / "raw"),
                       processed_dir=_directory(paths.processed, ROOT / "data" / "processed"),
                       reports_dir=_directory(paths.reports, ROOT / "reports"),
                       published_dir=_directory(paths.published, ROOT / "data" / "external" / "published"))


def _directory(value, default: Path) -> Path:
    """A configured directory; relative paths are relative to the repository root, not the working directory."""
    if value is None:
        return default
    path = Path(value)
    return path if path.is_absolute() else ROOT / path
