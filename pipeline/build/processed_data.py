"""Build: raw snapshots -> processed tables for every municipality, computed once.

Writes to ``data/processed/``:

* ``gemeenten.csv``   municipalities of the classification year: name, province, jeugdregio, size class
* ``ses.csv``         SES and armoede deciles (annex 3, notes 1-2)
* ``lasten.csv``      lasten per gebruiker, per inwoner and its index (notes 3-5), per gemeente and aggregate
* ``jeugdhulp.csv``   % jeugdhulp zonder verblijf per half year and its index (note 6), per gemeente and aggregate
* ``kerncijfers.csv`` what chapter 6's text cites beside the tables: jeugdhulp met verblijf, via wijkteams,
                      the COVID-19 dip, the 2019 H2 decile, lasten per gebruiker 2017-2019
* ``keuzes.csv``      every option of the choices the report leaves open (``choices:`` in the config), so the
                      validation can show the effect of each on the published cells
* ``provenance.json`` the CBS tables behind them (id, title, version, fetch date, snapshot hash, which rows
                      are real, derived or generated) and the build's warnings

Every value column ``X`` has a column ``X_herkomst``: ``cbs``, ``afgeleid`` or ``gegenereerd``, the weakest
provenance of its inputs (``docs/shapes.md``). A value CBS suppresses is an empty cell and a warning,
never a zero. Municipalities formed by merger are back-cast from their predecessors for periods before
the merger (annex 3, note 6) and marked ``herleid``; their values are at best ``afgeleid``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.build import indicators as ind
from pipeline.config import CBS_SIZE_CLASSES, StudyConfig
from pipeline.errors import SnapshotError
from pipeline.iorw import write_csv, write_text
from pipeline.processed import NEDERLAND, at_half_year
from pipeline.data.mergers import CrosswalkIndex, predecessors_at
from pipeline.data.periods import Period, find_half_year, find_year
from pipeline.data.reference import crosswalk as load_crosswalk
from pipeline.data.reference import municipalities, population
from pipeline.data.manifest import snapshot_hash
from pipeline.data.snapshot import KINDS, CbsTable, load_table

KIND_RANK = {kind: rank for rank, kind in enumerate(KINDS)}
CARE_FORMS = ("totaal_jeugdzorg", "zonder_verblijf", "via_wijkteam", "met_verblijf")
TYPE_ORDER = {"gemeente": 0, "nederland": 1, "jeugdregio": 2, "grootteklasse": 3}


# ---------------------------------------------------------------------------------------------
# Provenance and warnings


def weakest(*kinds) -> str:
    """The weakest provenance kind among ``kinds`` (cbs < afgeleid < gegenereerd); missing kinds are skipped."""
    present = [k for k in kinds if isinstance(k, str)]
    return max(present, key=KIND_RANK.__getitem__) if present else "cbs"


def weakest_columns(frame: pd.DataFrame, columns: list[str]) -> pd.Series:
    """Row-wise weakest kind over several ``*_herkomst`` columns (missing where every one is missing)."""
    ranks = np.fmax.reduce([kind_ranks(frame[c]) for c in columns])   # fmax: a missing kind is skipped
    named = np.array([*KINDS, math.nan], dtype=object)
    return pd.Series(named[np.where(np.isnan(ranks), len(KINDS), ranks).astype(int)], index=frame.index)


def kind_ranks(kinds) -> np.ndarray:
    """The rank of each kind (cbs 0, afgeleid 1, gegenereerd 2) as floats, NaN for a missing kind."""
    kinds = kinds.tolist() if isinstance(kinds, (pd.Series, np.ndarray)) else kinds   # plain values: fast to walk
    return np.array([KIND_RANK.get(kind, math.nan) for kind in kinds], dtype=float)


class Warnings:
    """Suppressed or absent values, one line per table, measure and period, naming every municipality."""

    def __init__(self, names: dict[str, str]):
        self.names = names
        self.missing: dict[tuple[str, str, str, str], set[str]] = {}

    def add(self, table_id: str, what: str, period: str, code: str, reason: str = "geen waarde (CBS)") -> None:
        self.missing.setdefault((table_id, what, period, reason), set()).add(code)

    def records(self) -> list[dict]:
        """One record per table, measure, period and reason: the line printed and every code it concerns."""
        out = []
        for (table_id, what, period, reason), codes in sorted(self.missing.items()):
            shown = sorted(codes)
            named = ", ".join(f"{self.names.get(c, c)} ({c})" for c in shown[:6])
            more = f" and {len(shown) - 6} more" if len(shown) > 6 else ""
            out.append({"line": f"table {table_id}, {what}, {period}: {reason} for {named}{more}; "
                                "shown as empty, not as zero",
                        "table_id": table_id, "what": what, "period": period, "reason": reason, "codes": shown,
                        "names": [self.names.get(c, c) for c in shown]})
        return out

    def lines(self) -> list[str]:
        return [record["line"] for record in self.records()]


def classification_date(config: StudyConfig) -> str:
    """Municipalities are those of 1 January of the classification year (gemeenten 2020)."""
    return f"{config.periods.classification_year}-01-01"


# ---------------------------------------------------------------------------------------------
# Units: gemeenten of the classification year and the aggregates


def aggregate_units(config: StudyConfig, gemeenten: pd.DataFrame) -> list[tuple[str, str, str, list[str]]]:
    """(unit_type, code, name, member codes) for Nederland, every jeugdregio and every size class."""
    units = [("nederland", NEDERLAND, "Nederland", gemeenten["code"].tolist())]
    regions: dict[tuple[str, str], list[str]] = {}
    known = gemeenten[["jeugdregio_code", "jeugdregio_naam"]].notna().all(axis=1)
    for member, code, name in zip(*(gemeenten.loc[known, c].tolist() for c in ("code", "jeugdregio_code",
                                                                               "jeugdregio_naam"))):
        regions.setdefault((code, name), []).append(member)
    for (code, name), members in sorted(regions.items()):
        units.append(("jeugdregio", code, name, members))
    codes, inhabitants = gemeenten["code"].to_numpy(dtype=object), gemeenten["inwoners"].to_numpy()
    for size_class in all_size_classes(config):
        # SizeClass.contains for every gemeente at once: min <= inwoners < max
        members = codes[(size_class.min <= inhabitants) & (inhabitants < size_class.max)].tolist()
        if members:
            units.append(("grootteklasse", f"size:{size_class.label}", size_class.label, members))
    return units


def all_size_classes(config: StudyConfig) -> list:
    """The report's size classes (config) and CBS's gemeentegrootteklassen, each label once."""
    classes = dict(config.size_classes)
    for size_class in CBS_SIZE_CLASSES:
        classes.setdefault(size_class.label, size_class)
    return list(classes.values())


class Predecessors:
    """Which municipalities made up a gemeente of the classification at the start of an earlier period.

    Looked up once per (code, period start) in the merger crosswalk (:func:`pipeline.data.mergers.predecessors_at`).
    """

    def __init__(self, crosswalk: pd.DataFrame, as_of: str):
        self.crosswalk, self.as_of = CrosswalkIndex(crosswalk), as_of
        self.merged = set(crosswalk["new_code"])
        self.cache: dict[tuple[str, str], list[tuple[str, float]]] = {}

    def parts(self, code: str, period_start: str) -> list[tuple[str, float]]:
        if code not in self.merged:
            return [(code, 1.0)]
        key = (code, period_start)
        if key not in self.cache:
            self.cache[key] = predecessors_at(code, period_start, self.crosswalk, self.as_of)
        return self.cache[key]

    def backcast(self, code: str, present, period_start: str) -> list[tuple[str, float]] | None:
        """The predecessors (code, share) that make up ``code`` in a period where it is absent, or None.

        None when the municipality has no predecessors in the crosswalk or one of them is absent too: the
        value is then missing (and warned about), never zero.
        """
        parts = self.parts(code, period_start)
        if parts == [(code, 1.0)] or any(p not in present for p, _ in parts):
            return None
        return parts


# ---------------------------------------------------------------------------------------------
# Jeugdzorg (84134NED): care forms are categories of VormenVanJeugdzorg


@dataclass(frozen=True)
class Jeugdzorg:
    """The jeugdzorg table read once: its id, periods and, per period key, region code and care form,
    the published (jongeren, relatief, herkomst) (:class:`PeriodCells`)."""

    table_id: str
    periods: list[Period]
    cells: dict[str, PeriodCells]


def read_jeugdzorg(config: StudyConfig, tables: list[CbsTable]) -> Jeugdzorg:
    """The jeugdzorg role's table and its successors as one series (84134NED up to 2020, 85099NED from 2021).

    Periods are matched by year and half year, whatever the table's keys and title spelling; where
    several tables publish a period, the newest (last in ``successors``) counts.
    """
    spec = config.tables["jeugdzorg"]
    periods: dict[tuple, Period] = {}
    cells: dict[str, PeriodCells] = {}
    for table in tables:
        own = {p.key: p for p in table.periods()}
        sel = table.select(spec)
        table_cells = PeriodCells.per_period(sel)
        no_rows = PeriodCells([], FormArrays.from_forms([]))
        for key, period in own.items():
            slot = (period.year, period.half)
            older = periods.get(slot)
            if older is not None:
                cells.pop(older.key, None)
            periods[slot] = period
            cells[period.key] = table_cells.get(key, no_rows)
    ordered = sorted(periods.values(), key=lambda p: (p.year, p.half or 3))
    return Jeugdzorg("+".join(t.table_id for t in tables), ordered, cells)


NO_FORM = (math.nan, math.nan, "cbs")   # a care form without a row: no count, no percentage


def _form(cells: dict, form: str) -> tuple:
    return cells.get(form, NO_FORM)


def jeugdzorg_for_gemeente(code: str, cells_p: dict, period: Period, predecessors: Predecessors):
    """(care form -> (count, pct, kind), herleid) of one municipality in one period; back-cast after a merger.

    A municipality formed later is its predecessors': counts are summed (times the share of each
    predecessor that went to it) and percentages are averaged with the number of youth with
    jeugdzorg as weights, as annex 3 note 6 prescribes for Altena and West Betuwe
    (:func:`pipeline.build.indicators.backcast_weighted_pct`). Back-cast values are at best ``afgeleid``.
    """
    own = cells_p.get(code)
    if own is not None and not all(math.isnan(_form(own, form)[1]) for form in CARE_FORMS):
        return own, False
    # CBS lists a municipality formed later with empty cells before its start: its predecessors have the values
    parts = predecessors.backcast(code, cells_p, period.start)
    if parts is None:
        return own, False
    forms_of = [cells_p[p] for p, _ in parts]
    weights = np.array([_form(forms, "totaal_jeugdzorg")[0] * share for forms, (_, share) in zip(forms_of, parts)])
    result = {}
    for form in CARE_FORMS:
        values = [_form(forms, form) for forms in forms_of]
        counts = np.array([v[0] * share for v, (_, share) in zip(values, parts)])
        pcts = np.array([v[1] for v in values])
        count = float(counts.sum())  # NaN when any predecessor has none
        known = not (np.isnan(pcts).any() or np.isnan(weights).any())
        pct = ind.backcast_weighted_pct(pcts, weights) if known else math.nan
        result[form] = (count, pct, weakest("afgeleid", *(v[2] for v in values)))
    return result, True


class FormArrays:
    """The care forms of many units (or one unit in many periods) as arrays, one element per unit: per form
    the count, the percentage and the rank of its kind, and the implied youth base; for the jeugdhulp.csv
    columns and for group figures over any set of members (as :class:`Finance` does for lasten)."""

    def __init__(self, count: dict[str, np.ndarray], pct: dict[str, np.ndarray], rank: dict[str, np.ndarray]):
        self.count, self.pct, self.rank = count, pct, rank
        # the table's youth population (0-23 years), implied by JZ Totaal: jongeren / relatief x 100
        self.base = ind.implied_base(self.count["totaal_jeugdzorg"], self.pct["totaal_jeugdzorg"])

    @classmethod
    def from_forms(cls, forms: list[dict]) -> FormArrays:
        """From one dict per unit: care form -> (count, pct, kind); a form a unit lacks has no values."""
        count, pct, rank = {}, {}, {}
        for form in CARE_FORMS:
            counts, pcts, kinds = zip(*(f.get(form, NO_FORM) for f in forms)) if forms else ((), (), ())
            count[form], pct[form] = np.array(counts, dtype=float), np.array(pcts, dtype=float)
            rank[form] = np.array([KIND_RANK[k] for k in kinds], dtype=int)
        return cls(count, pct, rank)

    @classmethod
    def concat(cls, parts: list[FormArrays]) -> FormArrays:
        return cls(*({form: np.concatenate([getattr(part, field)[form] for part in parts]) for form in CARE_FORMS}
                     for field in ("count", "pct", "rank")))

    def take(self, idx: np.ndarray) -> FormArrays:
        """The elements ``idx``; -1 is a unit without a row (no values, kind ``cbs``)."""
        def pick(values: np.ndarray, none) -> np.ndarray:
            return np.append(values, none)[idx]   # -1 picks the appended "no row"
        return FormArrays({f: pick(a, math.nan) for f, a in self.count.items()},
                          {f: pick(a, math.nan) for f, a in self.pct.items()},
                          {f: pick(a, KIND_RANK[NO_FORM[2]]) for f, a in self.rank.items()})

    def replaced(self, forms: dict[int, dict]) -> FormArrays:
        """A copy with element ``i`` set to ``forms[i]`` (care form -> (count, pct, kind)) for every ``i``."""
        count, pct, rank = ({f: a.copy() for f, a in field.items()} for field in (self.count, self.pct, self.rank))
        for i, one in forms.items():
            for form in CARE_FORMS:
                count[form][i], pct[form][i], kind = _form(one, form)
                rank[form][i] = KIND_RANK[kind]
        return FormArrays(count, pct, rank)

    def forms_at(self, i: int) -> dict:
        """Element ``i`` as care form -> (count, pct, kind)."""
        return {form: (float(self.count[form][i]), float(self.pct[form][i]), KINDS[self.rank[form][i]])
                for form in CARE_FORMS}

    def kind(self, form: str) -> np.ndarray:
        return KIND_NAMES[self.rank[form]]

    def without_percentage(self) -> np.ndarray:
        """Which elements have no percentage for any care form (no row, or a municipality formed later)."""
        return np.logical_and.reduce([np.isnan(self.pct[form]) for form in CARE_FORMS])


KIND_NAMES = np.array(KINDS, dtype=object)   # rank -> kind, for arrays of ranks


class PeriodCells(Mapping):
    """One period of the jeugdzorg table: region code -> care form -> (count, pct, kind), for every region with a
    row in that period; held as :class:`FormArrays` (one element per region, in the table's order)."""

    def __init__(self, codes: list[str], forms: FormArrays):
        self.codes, self.forms = codes, forms
        self.position = {code: i for i, code in enumerate(codes)}

    @classmethod
    def per_period(cls, sel: pd.DataFrame) -> dict[str, PeriodCells]:
        """Per period key, from the jeugdzorg role's selected rows (:meth:`CbsTable.select`: Perioden, regio,
        VormenVanJeugdzorg, jongeren, relatief, herkomst); the regions of a period in the order of their rows."""
        period_at, keys = pd.factorize(sel["Perioden"])
        region_at, regions = pd.factorize(sel["regio"])
        regions = np.asarray(regions, dtype=object)
        shape, rows = (len(keys), len(regions)), len(sel)
        first = np.full(shape, rows)   # each region's first row in each period; ``rows``: none
        np.minimum.at(first, (period_at, region_at), np.arange(rows))
        form_of = sel["VormenVanJeugdzorg"].to_numpy()
        values = {"count": (sel["jongeren"].to_numpy(dtype=float), math.nan),
                  "pct": (sel["relatief"].to_numpy(dtype=float), math.nan),
                  "rank": (sel["herkomst"].map(KIND_RANK).to_numpy(dtype=int), KIND_RANK[NO_FORM[2]])}
        grids = {field: {} for field in values}   # field -> form -> period x region
        for form in CARE_FORMS:
            here = form_of == form
            for field, (column, none) in values.items():
                grids[field][form] = np.full(shape, none, dtype=column.dtype)
                grids[field][form][period_at[here], region_at[here]] = column[here]
        result = {}
        for p, key in enumerate(keys):
            present = np.flatnonzero(first[p] < rows)
            present = present[np.argsort(first[p, present], kind="stable")]
            result[key] = cls(regions[present].tolist(),
                              FormArrays(*({form: grid[p, present] for form, grid in grids[field].items()}
                                           for field in ("count", "pct", "rank"))))
        return result

    def positions(self, codes: list[str]) -> np.ndarray:
        """Each code's element, -1 for a code without a row in this period."""
        return np.array([self.position.get(code, -1) for code in codes], dtype=int)

    def __getitem__(self, code: str) -> dict:
        return self.forms.forms_at(self.position[code])

    def __contains__(self, code) -> bool:
        return code in self.position

    def __iter__(self):
        return iter(self.codes)

    def __len__(self) -> int:
        return len(self.codes)


def jeugdhulp_record(forms: FormArrays) -> dict[str, np.ndarray]:
    """The jeugdhulp.csv values of units (one per element of ``forms``) from their care forms, column by column."""
    count, pct, kind = forms.count, forms.pct, forms.kind
    return {
        "jongeren": forms.base, "jongeren_herkomst": kind("totaal_jeugdzorg"),
        "totaal_jeugdzorg": count["totaal_jeugdzorg"], "totaal_jeugdzorg_herkomst": kind("totaal_jeugdzorg"),
        "zonder_verblijf": count["zonder_verblijf"], "zonder_verblijf_herkomst": kind("zonder_verblijf"),
        "pct_zonder_verblijf": pct["zonder_verblijf"], "pct_zonder_verblijf_herkomst": kind("zonder_verblijf"),
        "met_verblijf": count["met_verblijf"], "met_verblijf_herkomst": kind("met_verblijf"),
        "pct_met_verblijf": pct["met_verblijf"], "pct_met_verblijf_herkomst": kind("met_verblijf"),
        "via_wijkteam": count["via_wijkteam"], "via_wijkteam_herkomst": kind("via_wijkteam"),
        "pct_via_wijkteam": ind.pct_via_wijkteam(pd.Series(count["via_wijkteam"]),
                                                 pd.Series(count["zonder_verblijf"])).to_numpy(),
        "pct_via_wijkteam_herkomst": KIND_NAMES[np.maximum(forms.rank["via_wijkteam"], forms.rank["zonder_verblijf"])],
    }


def group_forms(members: FormArrays, idx: np.ndarray, rule: str) -> dict:
    """Care forms of a group without a CBS row (a size class), from its members (``choices.pct_zonder_verblijf_groep``),
    the elements ``idx`` of ``members``.

    ``gepoold``: counts summed, percentages as the pooled share over the implied youth base
    (:func:`pipeline.build.indicators.pct_groep_gepoold`); ``ongewogen``: the mean of the members'
    percentages. Members without a value are left out of both sums.
    """
    result = {}
    bases = members.base[idx]
    for form in CARE_FORMS:
        counts, pcts = members.count[form][idx], members.pct[form][idx]
        kind = KINDS[int(members.rank[form][idx].max())] if len(idx) else "cbs"
        if rule == "gepoold":
            pct = ind.pct_groep_gepoold(counts, bases)
        else:
            pct = ind.pct_groep_ongewogen(pcts)
        result[form] = (float(np.nansum(counts)) if (~np.isnan(counts)).any() else math.nan, pct, kind)
    return result


def half_years(config: StudyConfig, table: Jeugdzorg) -> tuple[list[Period], Period]:
    """The table's half years, checked to include the configured base and current half year; and the base."""
    periods = [p for p in table.periods if p.half]
    p = config.periods
    base = find_half_year(periods, p.jeugdhulp_base.year, p.jeugdhulp_base.half, table.table_id)
    find_half_year(periods, p.jeugdhulp_current.year, p.jeugdhulp_current.half, table.table_id)
    return periods, base


def gemeente_forms(config: StudyConfig, gemeenten: pd.DataFrame, table: Jeugdzorg, predecessors: Predecessors,
                   warnings: Warnings) -> dict[str, tuple[FormArrays, np.ndarray]]:
    """Per half year: every gemeente's care forms (back-cast where needed) and whether they were back-cast,
    as arrays in the order of ``gemeenten``."""
    result = {}
    periods, _ = half_years(config, table)
    codes = gemeenten["code"].tolist()
    for period in periods:
        cells_p = table.cells[period.key]
        at = cells_p.positions(codes)
        own = cells_p.forms.take(at)
        herleid = np.zeros(len(codes), dtype=bool)
        backcast = {}
        # a gemeente without any percentage may be formed later: then its predecessors have the values
        for i in np.flatnonzero(own.without_percentage()):
            forms, herleid[i] = jeugdzorg_for_gemeente(codes[i], cells_p, period, predecessors)
            if forms is None:
                warnings.add(table.table_id, "alle vormen van jeugdzorg", period.key, codes[i],
                             "gemeente ontbreekt (geen voorgangers in de crosswalk)")
            elif herleid[i]:
                backcast[i] = forms
        forms = own.replaced(backcast) if backcast else own
        for form in CARE_FORMS:
            for i in np.flatnonzero(np.isnan(forms.pct[form]) & ((at >= 0) | herleid)):
                warnings.add(table.table_id, f"{form} relatief", period.key, codes[i])
        result[period.key] = (forms, herleid)
    return result


def build_jeugdhulp(config: StudyConfig, gemeenten: pd.DataFrame, table: Jeugdzorg, members: dict,
                    rule: str | None = None, unit_types: tuple[str, ...] | None = None,
                    only_half_years: tuple | None = None) -> pd.DataFrame:
    """jeugdhulp.csv: every half year, every gemeente and aggregate (annex 3 note 6).

    ``members`` are the gemeenten's care forms per half year (:func:`gemeente_forms`). Nederland and the
    jeugdregio's take CBS's own row; a size class follows the configured group rule. ``unit_types``: only the
    rows of these unit types (the group rules change only the size classes), else all. ``only_half_years``
    (anything with ``.year`` and ``.half``): only the rows of these half years and of the base half year
    (which every index needs), else every one; a half year's rows rest on that half year alone, so they are
    the same either way.
    """
    rule = rule or config.choices.pct_zonder_verblijf_groep
    periods, base = half_years(config, table)
    if only_half_years is not None:
        wanted = {(p.year, p.half) for p in only_half_years} | {(base.year, base.half)}
        periods = [period for period in periods if (period.year, period.half) in wanted]
    codes = gemeenten["code"].tolist()
    position = {code: i for i, code in enumerate(codes)}
    units = [(unit_type, code, name, np.array([position[m] for m in group], dtype=int))
             for unit_type, code, name, group in aggregate_units(config, gemeenten)
             if unit_types is None or unit_type in unit_types]
    stamps = [{"periode": period.key, "periode_titel": period.title, "jaar": period.year,
               "halfjaar": period.half, "voorlopig": period.provisional} for period in periods]
    # every gemeente in every half year as one set of arrays (period i at i * len(codes)), then the groups
    every_gemeente = FormArrays.concat([members[period.key][0] for period in periods])
    herleid = np.concatenate([members[period.key][1] for period in periods])
    rows = {column: [] for column in ("unit_type", "code", "naam", *stamps[0], "herleid")}
    with_gemeenten = unit_types is None or "gemeente" in unit_types
    if with_gemeenten:
        rows.update({"unit_type": ["gemeente"] * len(herleid), "code": codes * len(periods),
                     "naam": gemeenten["naam"].tolist() * len(periods),
                     **{k: [stamp[k] for stamp in stamps for _ in codes] for k in stamps[0]},
                     "herleid": herleid.tolist()})
    unit_codes, unit_forms = [code for _, code, _, _ in units], [every_gemeente] if with_gemeenten else []
    for i, (period, stamp) in enumerate(zip(periods, stamps)):
        cells_p = table.cells[period.key]
        own = cells_p.forms.take(cells_p.positions(unit_codes))   # CBS's own rows of the units
        # a unit without one (a size class), or without its percentage: from its members
        groups = {j: group_forms(every_gemeente, i * len(codes) + units[j][3], rule)
                  for j in np.flatnonzero(np.isnan(own.pct["zonder_verblijf"]))}
        unit_forms.append(own.replaced(groups) if groups else own)
        for unit_type, code, name, group in units:
            for column, value in (("unit_type", unit_type), ("code", code), ("naam", name), *stamp.items(),
                                  ("herleid", bool(herleid[i * len(codes) + group].any()))):
                rows[column].append(value)
    data = pd.DataFrame({**rows, **jeugdhulp_record(FormArrays.concat(unit_forms))})
    base_pct = data[data["periode"] == base.key].set_index("code")["pct_zonder_verblijf"]
    base_kind = data[data["periode"] == base.key].set_index("code")["pct_zonder_verblijf_herkomst"]
    data["index_zonder_verblijf"] = ind.index_pct_zonder_verblijf(data["pct_zonder_verblijf"],
                                                                   data["code"].map(base_pct))
    kinds = pd.DataFrame({"pct": data["pct_zonder_verblijf_herkomst"], "base": data["code"].map(base_kind)})
    data["index_zonder_verblijf_herkomst"] = weakest_columns(kinds, ["pct", "base"])
    for column in ("jongeren", "totaal_jeugdzorg", "zonder_verblijf", "met_verblijf", "via_wijkteam"):
        data[column] = data[column].round().astype("Int64")
    values = ["jongeren", "totaal_jeugdzorg", "zonder_verblijf", "pct_zonder_verblijf", "index_zonder_verblijf",
              "met_verblijf", "pct_met_verblijf", "via_wijkteam", "pct_via_wijkteam"]
    order = ["unit_type", "code", "naam", "periode", "periode_titel", "jaar", "halfjaar", "voorlopig", "herleid",
             *values, *(f"{v}_herkomst" for v in values)]
    data["herleid"] = data["herleid"].astype(bool)
    data = data[order].sort_values(["unit_type", "code", "jaar", "halfjaar"],
                                   key=lambda s: s.map(TYPE_ORDER) if s.name == "unit_type" else s)
    return data.reset_index(drop=True)


def users_in_year(config: StudyConfig, gemeenten: pd.DataFrame, table: Jeugdzorg, predecessors: Predecessors,
                  year: int, warnings: Warnings) -> pd.DataFrame:
    """Youth with any jeugdzorg (JZ Totaal) on jaarbasis, per gemeente and per CBS region row: gebruikers, herkomst."""
    period = find_year(table.periods, year, table.table_id)
    cells_p = table.cells[period.key]
    codes = gemeenten["code"].tolist()
    own = cells_p.forms.take(cells_p.positions(codes))
    counts, kinds = own.count["totaal_jeugdzorg"].tolist(), own.kind("totaal_jeugdzorg").tolist()
    for i in np.flatnonzero(own.without_percentage()):   # formed later: back-cast from its predecessors
        forms, _ = jeugdzorg_for_gemeente(codes[i], cells_p, period, predecessors)
        counts[i], _, kinds[i] = _form(forms or {}, "totaal_jeugdzorg")
    out = {}
    for code, count, kind in zip(codes, counts, kinds):
        if math.isnan(count):
            warnings.add(table.table_id, "totaal jeugdzorg (gebruikers)", period.key, code)
        out[code] = (count, kind)
    for code, forms in cells_p.items():
        if not code.startswith("GM"):
            count, _, kind = _form(forms, "totaal_jeugdzorg")
            out[code] = (count, kind)
    return pd.DataFrame.from_dict(out, orient="index", columns=["gebruikers", "herkomst"])


# ---------------------------------------------------------------------------------------------
# Iv3 lasten (one dataderden table per year) and population


def iv3_lasten(config: StudyConfig, table_id: str, sel: pd.DataFrame, year: int, report: str,
               warnings: Warnings) -> pd.DataFrame:
    """Lasten (euro) of the configured taakvelden in one report (begroting, jaarrekening), per Iv3 municipality.

    Lasten on a taakveld are the sum over its lasten categories (keys starting ``L``); the amounts are
    scaled by the table's unit (x 1 000 euro). A municipality with a "geen opgave" or suppressed cell
    among them gets no total: an incomplete sum is not a total.
    """
    sel = sel[sel["Verslagsoort"] == report]
    grouped = sel.assign(missing=sel["bedrag"].isna(), rank=sel["herkomst"].map(KIND_RANK)).groupby("regio")
    frame = pd.DataFrame({"lasten": grouped["bedrag"].sum(), "missing": grouped["missing"].any(),
                          "rank": grouped["rank"].max()})
    frame["herkomst"] = frame["rank"].map(dict(enumerate(KINDS)))
    frame.loc[frame["missing"], "lasten"] = math.nan
    for code in frame.index[frame["missing"]]:
        warnings.add(table_id, f"lasten {'+'.join(config.tables['iv3'].categories['TaakveldBalanspost'])} "
                     f"{report}", str(year), code, "geen opgave of geen waarde")
    return frame[["lasten", "herkomst"]]


def in_classification(values: pd.DataFrame, codes: list[str], year: int, predecessors: Predecessors,
                      columns: list[str]) -> pd.DataFrame:
    """Additive ``columns`` (amounts, inhabitants) of ``values`` for the gemeenten ``codes``, back-cast after mergers.

    A municipality that did not exist in ``year`` gets the sum of its predecessors' values (times
    their shares) and kind at best ``afgeleid``; one without data and without predecessors is missing.
    """
    names = columns + ["herkomst"]
    records = {code: dict(zip(names, row)) for code, row in zip(values.index, zip(*(values[c].tolist() for c in names)))
               if isinstance(code, str) and code.startswith("GM")}
    start = f"{year}-01-01"
    out: dict[str, list] = {name: [] for name in [*names, "herleid"]}   # one list per column, a row per code
    for code in codes:
        row, herleid = records.get(code), False
        if row is None:
            parts = predecessors.backcast(code, records, start)
            if parts is None:
                row = {**{c: math.nan for c in columns}, "herkomst": "cbs"}
            else:
                row = {c: float(sum(records[p][c] * share for p, share in parts)) for c in columns}
                row["herkomst"] = weakest("afgeleid", *(records[p]["herkomst"] for p, _ in parts))
                herleid = True
        for name in names:
            out[name].append(row[name])
        out["herleid"].append(herleid)
    return pd.DataFrame(out, index=codes)


def population_in(pop: pd.DataFrame, table_id: str, year: int) -> pd.DataFrame:
    """Inhabitants on 1 January of ``year`` per region code of that year: inwoners, herkomst."""
    rows = pop[pop["year"] == year].set_index("code")
    if rows.empty:
        raise SnapshotError(f"population table {table_id} has no 1 January {year}; lasten per inwoner "
                            f"need it: fetch a snapshot that covers {year}")
    return rows[["inwoners", "herkomst"]]


def finance_year(config: StudyConfig, gemeenten: pd.DataFrame, iv3: CbsTable, selection: pd.DataFrame,
                 pop: tuple[pd.DataFrame, str], predecessors: Predecessors, year: int, report: str,
                 warnings: Warnings) -> pd.DataFrame:
    """Per gemeente of the classification: lasten, inwoners and their kinds for one Iv3 year and report."""
    codes = gemeenten["code"].tolist()
    per_iv3_code = iv3_lasten(config, iv3.table_id, selection, year, report, warnings)
    lasten = in_classification(per_iv3_code, codes, year, predecessors, ["lasten"])
    inwoners = in_classification(population_in(*pop, year), codes, year, predecessors, ["inwoners"])
    for code in lasten.index[lasten["lasten"].isna() & ~lasten.index.isin(per_iv3_code.index)]:
        warnings.add(iv3.table_id, f"lasten {report}", str(year), code, "gemeente ontbreekt in de tabel")
    return pd.DataFrame({"lasten": lasten["lasten"].astype(float), "lasten_herkomst": lasten["herkomst"],
                         "inwoners": inwoners["inwoners"].astype(float), "inwoners_herkomst": inwoners["herkomst"],
                         "herleid": lasten["herleid"].astype(bool) | inwoners["herleid"].astype(bool)})


@dataclass(frozen=True)
class LastenInputs:
    """What lasten per gebruiker and per inwoner are computed from, read once per build: per gemeente of the
    classification the jaarrekening of every year needed, the begroting of the index year, and the youth
    with jeugdzorg (users) of every rekening year."""

    rekening: dict[int, pd.DataFrame]
    begroting: pd.DataFrame
    users: dict[int, pd.DataFrame]


def read_lasten_inputs(config: StudyConfig, gemeenten: pd.DataFrame, tables: dict, jeugdzorg: Jeugdzorg,
                       predecessors: Predecessors, warnings: Warnings,
                       inhabitants: pd.DataFrame | None = None) -> LastenInputs:
    """``inhabitants``: :func:`pipeline.reference.population` of the bevolking table, when already read."""
    p = config.periods
    if inhabitants is None:
        inhabitants = population(config, tables["bevolking"])
    pop = (inhabitants, tables["bevolking"].table_id)
    selections = {year: tables["iv3"][year].select(config.tables["iv3"], year=year) for year in config.iv3_years()}

    def finance(year: int, report: str) -> pd.DataFrame:
        return finance_year(config, gemeenten, tables["iv3"][year], selections[year], pop, predecessors, year,
                            report, warnings)

    years = sorted({p.iv3_rekening_year, p.cost_trend_base_year})
    return LastenInputs(rekening={year: finance(year, "jaarrekening") for year in years},
                        begroting=finance(p.iv3_begroting_year, "begroting"),
                        users={year: users_in_year(config, gemeenten, jeugdzorg, predecessors, year, warnings)
                               for year in years})


class Finance:
    """One Iv3 year's lasten and inhabitants per gemeente as arrays, for group figures over any set of members."""

    def __init__(self, frame: pd.DataFrame, codes: list[str]):
        frame = frame.reindex(codes)
        self.lasten = frame["lasten"].to_numpy(float)
        self.inwoners = frame["inwoners"].to_numpy(float)
        self.lasten_rank = kind_ranks(frame["lasten_herkomst"])
        self.rank = np.maximum(self.lasten_rank, kind_ranks(frame["inwoners_herkomst"]))
        self.herleid = frame["herleid"].to_numpy(bool)

    def per_inwoner(self, idx: np.ndarray, rule: str) -> tuple[float, str]:
        """Lasten per inwoner of a group (``choices.lasten_per_inwoner_groep``) and its kind."""
        kind = KINDS[int(self.rank[idx].max())]
        if rule == "gewogen":
            return ind.lasten_per_inwoner_gewogen(self.lasten[idx], self.inwoners[idx]), kind
        return ind.lasten_per_inwoner_ongewogen(ind.lasten_per_inwoner(self.lasten[idx], self.inwoners[idx])), kind


def lasten_rows(config: StudyConfig, gemeenten: pd.DataFrame, rekening: pd.DataFrame, begroting: pd.DataFrame,
                users: pd.DataFrame, rule: str) -> pd.DataFrame:
    """lasten.csv rows: every gemeente, then Nederland, jeugdregio's and size classes (annex 3 notes 3-5).

    A group's lasten are its members' sum; its users are CBS's own row (Nederland, jeugdregio) when every
    member has lasten, else the users of the members that have (so both sums cover the same gemeenten);
    its lasten per inwoner follow the configured group rule.
    """
    codes = gemeenten["code"].tolist()
    r, b, u = rekening.reindex(codes), begroting.reindex(codes), users.reindex(codes)
    own = pd.DataFrame({
        "unit_type": "gemeente", "code": codes, "naam": gemeenten["naam"].tolist(),
        "herleid": (r["herleid"].astype(bool) | b["herleid"].astype(bool)).values,
        "lasten_rekening": r["lasten"].values, "lasten_rekening_herkomst": r["lasten_herkomst"].values,
        "gebruikers": u["gebruikers"].values, "gebruikers_herkomst": u["herkomst"].values,
        "inwoners_rekening": r["inwoners"].values, "inwoners_rekening_herkomst": r["inwoners_herkomst"].values,
        "lasten_per_inwoner_rekening": ind.lasten_per_inwoner(r["lasten"], r["inwoners"]).values,
        "lasten_per_inwoner_rekening_herkomst": weakest_columns(r, ["lasten_herkomst", "inwoners_herkomst"]).values,
        "lasten_per_inwoner_begroting": ind.lasten_per_inwoner(b["lasten"], b["inwoners"]).values,
        "lasten_per_inwoner_begroting_herkomst": weakest_columns(b, ["lasten_herkomst", "inwoners_herkomst"]).values,
    })
    records = []
    position = {code: i for i, code in enumerate(codes)}
    rek, beg = Finance(rekening, codes), Finance(begroting, codes)
    member_users = users.reindex(codes)
    user_counts = member_users["gebruikers"].to_numpy(float)
    user_ranks = kind_ranks(member_users["herkomst"])
    inwoner_ranks = kind_ranks(rekening.reindex(codes)["inwoners_herkomst"])
    cbs_users = dict(zip(users.index, zip(users["gebruikers"].tolist(), users["herkomst"].tolist())))
    for unit_type, code, name, members in aggregate_units(config, gemeenten):
        idx = np.array([position[m] for m in members])
        with_lasten = idx[~np.isnan(rek.lasten[idx])]
        if code in cbs_users and len(with_lasten) == len(idx):  # CBS's own row (Nederland, jeugdregio)
            gebruikers, gebruikers_kind = cbs_users[code]
        else:  # a size class, or a member without lasten: users of the same members as the lasten
            counted = user_counts[with_lasten]
            gebruikers = float(np.nansum(counted)) if (~np.isnan(counted)).any() else math.nan
            gebruikers_kind = KINDS[int(user_ranks[with_lasten].max())] if len(with_lasten) else "cbs"
        rek_value, rek_kind = rek.per_inwoner(idx, rule)
        beg_value, beg_kind = beg.per_inwoner(idx, rule)
        records.append({
            "unit_type": unit_type, "code": code, "naam": name,
            "herleid": bool(rek.herleid[idx].any() or beg.herleid[idx].any()),
            "lasten_rekening": float(rek.lasten[with_lasten].sum()) if len(with_lasten) else math.nan,
            "lasten_rekening_herkomst": KINDS[int(rek.lasten_rank[idx].max())],
            "gebruikers": gebruikers, "gebruikers_herkomst": gebruikers_kind,
            "inwoners_rekening": float(np.nansum(rek.inwoners[idx])),
            "inwoners_rekening_herkomst": KINDS[int(inwoner_ranks[idx].max())],
            "lasten_per_inwoner_rekening": rek_value, "lasten_per_inwoner_rekening_herkomst": rek_kind,
            "lasten_per_inwoner_begroting": beg_value, "lasten_per_inwoner_begroting_herkomst": beg_kind,
        })
    data = pd.concat([own, pd.DataFrame.from_records(records)], ignore_index=True)
    data["lasten_per_gebruiker"] = ind.lasten_per_gebruiker(data["lasten_rekening"], data["gebruikers"])
    data["lasten_per_gebruiker_herkomst"] = weakest_columns(data, ["lasten_rekening_herkomst", "gebruikers_herkomst"])
    data["index_lasten_per_inwoner"] = ind.index_lasten_per_inwoner(data["lasten_per_inwoner_rekening"],
                                                                     data["lasten_per_inwoner_begroting"])
    data["index_lasten_per_inwoner_herkomst"] = weakest_columns(
        data, ["lasten_per_inwoner_rekening_herkomst", "lasten_per_inwoner_begroting_herkomst"])
    for column in ("gebruikers", "inwoners_rekening"):
        data[column] = data[column].round().astype("Int64")
    values = ["lasten_rekening", "gebruikers", "lasten_per_gebruiker", "inwoners_rekening",
              "lasten_per_inwoner_rekening", "lasten_per_inwoner_begroting", "index_lasten_per_inwoner"]
    return data[["unit_type", "code", "naam", "herleid", *values, *(f"{v}_herkomst" for v in values)]]


def build_lasten(config: StudyConfig, gemeenten: pd.DataFrame, inputs: LastenInputs, rule: str | None = None,
                 rekening_year: int | None = None) -> pd.DataFrame:
    """lasten.csv: lasten per gebruiker and per inwoner (jaarrekening) and the index against the begroting."""
    year = rekening_year or config.periods.iv3_rekening_year
    return lasten_rows(config, gemeenten, inputs.rekening[year], inputs.begroting, inputs.users[year],
                       rule or config.choices.lasten_per_inwoner_groep)


# ---------------------------------------------------------------------------------------------
# SES and armoede deciles (84866NED, 84868NED)


def values_in_year(config: StudyConfig, table: CbsTable, role: str, measure: str, year: int,
                   dimension: str | None = None) -> dict[str, pd.DataFrame]:
    """category name of ``dimension`` (or "") -> region code -> measure value and herkomst, for one year."""
    period = find_year(table.periods(), year, table.table_id)
    sel = table.select(config.tables[role])
    sel = sel[sel["Perioden"] == period.key]
    groups = sel.groupby(dimension) if dimension else [("", sel)]
    return {name: part.set_index("regio")[[measure, "herkomst"]] for name, part in groups}


def decile_column(values: pd.DataFrame, codes: list[str], measure: str, decile, table_id: str, what: str,
                  year: int, warnings: Warnings) -> tuple[pd.Series, pd.Series, str, str]:
    """Values and deciles over the gemeenten ``codes``; kinds of the values and of the ranking (its weakest input)."""
    series = values[measure].reindex(codes).astype(float)
    kinds = values["herkomst"].reindex(codes).fillna("cbs")
    for code in series.index[series.isna()]:
        warnings.add(table_id, what, str(year), code)
    return series, decile(series), kinds, weakest(*kinds[series.notna()])


def build_ses(config: StudyConfig, gemeenten: pd.DataFrame, inkomen: CbsTable, armoede: CbsTable,
              warnings: Warnings) -> tuple[pd.DataFrame, pd.DataFrame]:
    """ses.csv (annex 3 notes 1-2) for the configured income population, and the deciles of every population."""
    codes = gemeenten["code"].tolist()
    year = config.periods.income_year
    incomes = values_in_year(config, inkomen, "inkomen", "mediaan_inkomen", year, "Populatie")
    options = {}
    for name in config.tables["inkomen"].categories["Populatie"]:
        if name not in incomes:
            raise SnapshotError(f"table {inkomen.table_id} has no {year} rows for Populatie {name!r}; "
                                "fetch the table again or remove that category from config/study.yml")
        quiet = Warnings(warnings.names) if name != config.choices.inkomen_populatie else warnings
        options[name] = decile_column(incomes[name], codes, "mediaan_inkomen", ind.ses_deciel, inkomen.table_id,
                                      f"mediaan gestandaardiseerd inkomen ({name})", year, quiet)
    income, ses, income_kind, ses_kind = options[config.choices.inkomen_populatie]
    poor_values = values_in_year(config, armoede, "armoede", "kinderen_relatief", year)[""]
    poor, armoede_deciel, poor_kind, armoede_kind = decile_column(
        poor_values, codes, "kinderen_relatief", ind.armoede_deciel, armoede.table_id,
        "kinderen in huishoudens met laag inkomen (relatief)", year, warnings)
    ses_frame = pd.DataFrame({
        "code": codes, "mediaan_inkomen": income.values, "ses_deciel": ses.values,
        "pct_kinderen_laag_inkomen": poor.values, "armoede_deciel": armoede_deciel.values,
        "mediaan_inkomen_herkomst": income_kind.values, "ses_deciel_herkomst": ses_kind,
        "pct_kinderen_laag_inkomen_herkomst": poor_kind.values, "armoede_deciel_herkomst": armoede_kind,
    })
    choices = [pd.DataFrame({"keuze": "inkomen_populatie", "optie": name,
                             "gekozen": name == config.choices.inkomen_populatie, "code": codes, "kolom": "ses_deciel",
                             "waarde": deciles.astype(float).values, "herkomst": kind})
               for name, (_, deciles, _, kind) in options.items()]
    return ses_frame, pd.concat(choices, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# What chapter 6's text cites beside its tables


def build_kerncijfers(config: StudyConfig, jeugdhulp: pd.DataFrame, lasten: pd.DataFrame,
                      lasten_basis: pd.DataFrame) -> pd.DataFrame:
    """The indicators chapter 6's text cites beside its tables, per gemeente and aggregate."""
    p = config.periods
    half_year_rows: dict[tuple, pd.DataFrame] = {}   # each half year's rows by unit code, looked up once

    def at(period, column):
        if (period.year, period.half) not in half_year_rows:
            columns = [c for c in jeugdhulp.columns if c != "code"]
            half_year_rows[period.year, period.half] = at_half_year(jeugdhulp, period, columns)
        return half_year_rows[period.year, period.half][column]

    base, current, before = p.jeugdhulp_base, p.jeugdhulp_current, p.jeugdhulp_before_covid
    frame = jeugdhulp.drop_duplicates("code").set_index("code")[["unit_type", "naam"]]
    columns: dict[str, pd.Series | np.ndarray] = {}   # every value and kind column, in order; one frame at the end

    def put(column, values, *kinds):
        columns[column] = values.reindex(frame.index)
        ranks = np.fmax.reduce([kind_ranks(k.reindex(frame.index)) for k in kinds])   # the weakest known kind
        columns[f"{column}_herkomst"] = KIND_NAMES[np.nan_to_num(ranks, nan=KIND_RANK["cbs"]).astype(int)]

    kind = lambda period, column: at(period, f"{column}_herkomst")  # noqa: E731
    put("pct_met_verblijf_basis", at(base, "pct_met_verblijf"), kind(base, "pct_met_verblijf"))
    put("pct_met_verblijf_actueel", at(current, "pct_met_verblijf"), kind(current, "pct_met_verblijf"))
    put("index_aantal_met_verblijf", ind.index_aantal(at(current, "met_verblijf").astype(float),
                                                      at(base, "met_verblijf").astype(float)),
        kind(current, "met_verblijf"), kind(base, "met_verblijf"))
    put("pct_via_wijkteam_actueel", at(current, "pct_via_wijkteam"), kind(current, "pct_via_wijkteam"))
    put("pct_zonder_verblijf_voor_covid", at(before, "pct_zonder_verblijf"), kind(before, "pct_zonder_verblijf"))
    put("verandering_covid_procentpunt", ind.verandering_procentpunt(at(current, "pct_zonder_verblijf"),
                                                                     at(before, "pct_zonder_verblijf")),
        kind(current, "pct_zonder_verblijf"), kind(before, "pct_zonder_verblijf"))
    is_gm = (frame["unit_type"] == "gemeente").to_numpy()
    columns["deciel_zonder_verblijf_voor_covid"] = deciel = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    deciel[is_gm] = ind.deciel_zonder_verblijf(columns["pct_zonder_verblijf_voor_covid"][is_gm])
    # a decile ranks gemeenten only
    columns["deciel_zonder_verblijf_voor_covid_herkomst"] = herkomst = pd.Series(None, index=frame.index, dtype=object)
    herkomst[is_gm] = weakest(*columns["pct_zonder_verblijf_voor_covid_herkomst"][is_gm])
    first = lasten_basis.set_index("code")
    last = lasten.set_index("code")
    put("lasten_per_gebruiker_basis", first["lasten_per_gebruiker"].reindex(frame.index),
        first["lasten_per_gebruiker_herkomst"])
    put("lasten_per_gebruiker_actueel", last["lasten_per_gebruiker"].reindex(frame.index),
        last["lasten_per_gebruiker_herkomst"])
    put("index_lasten_per_gebruiker", ind.index_lasten_per_gebruiker(columns["lasten_per_gebruiker_actueel"],
                                                                     columns["lasten_per_gebruiker_basis"]),
        first["lasten_per_gebruiker_herkomst"], last["lasten_per_gebruiker_herkomst"])
    # Zaltbommel: "het aantal gebruikers [is] niet meer dan circa 10% toegenomen" (2017-2019, JZ Totaal jaarbasis)
    put("gebruikers_basis", first["gebruikers"].reindex(frame.index), first["gebruikers_herkomst"])
    put("gebruikers_actueel", last["gebruikers"].reindex(frame.index), last["gebruikers_herkomst"])
    put("index_gebruikers", ind.index_aantal(columns["gebruikers_actueel"].astype(float),
                                             columns["gebruikers_basis"].astype(float)),
        first["gebruikers_herkomst"], last["gebruikers_herkomst"])
    frame = pd.DataFrame({"code": frame.index, "unit_type": frame["unit_type"], "naam": frame["naam"], **columns},
                         index=frame.index)
    values = [c for c in columns if not c.endswith("_herkomst")]
    return frame[["code", "unit_type", "naam", *values, *(f"{v}_herkomst" for v in values)]].reset_index(drop=True)


# ---------------------------------------------------------------------------------------------
# Choices the report leaves open: every option, for the validation page


def group_choices(config: StudyConfig, gemeenten: pd.DataFrame, lasten_inputs: LastenInputs, jeugdzorg: Jeugdzorg,
                  members: dict, built: dict[tuple[str, str], pd.DataFrame] | None = None) -> pd.DataFrame:
    """keuzes.csv rows for the two group rules: each option's group values (Nederland, jeugdregio's, size classes).

    ``built``: (choice, option) -> lasten.csv or jeugdhulp.csv already built with that option (the configured
    ones, by :func:`build_all`), so they are not built twice.
    """
    built = built or {}
    frames = []
    for option in ("gewogen", "ongewogen"):
        lasten = built.get(("lasten_per_inwoner_groep", option))
        if lasten is None:
            lasten = build_lasten(config, gemeenten, lasten_inputs, rule=option)
        groups = lasten[lasten["unit_type"] != "gemeente"]
        for column in ("lasten_per_inwoner_rekening", "index_lasten_per_inwoner"):
            frames.append(pd.DataFrame({"keuze": "lasten_per_inwoner_groep", "optie": option,
                                        "gekozen": option == config.choices.lasten_per_inwoner_groep,
                                        "code": groups["code"].values, "kolom": column,
                                        "waarde": groups[column].values,
                                        "herkomst": groups[f"{column}_herkomst"].values}))
    p = config.periods
    for option in ("gepoold", "ongewogen"):
        jh = built.get(("pct_zonder_verblijf_groep", option))
        if jh is None:   # only the size classes in the two half years below
            jh = build_jeugdhulp(config, gemeenten, jeugdzorg, members, rule=option, unit_types=("grootteklasse",),
                                 only_half_years=(p.jeugdhulp_base, p.jeugdhulp_current))
        groups = jh[jh["unit_type"] == "grootteklasse"]
        for period, column in ((p.jeugdhulp_base, "pct_zonder_verblijf"), (p.jeugdhulp_current, "pct_zonder_verblijf"),
                               (p.jeugdhulp_current, "index_zonder_verblijf")):
            rows = groups[(groups["jaar"] == period.year) & (groups["halfjaar"] == period.half)]
            frames.append(pd.DataFrame({"keuze": "pct_zonder_verblijf_groep", "optie": option,
                                        "gekozen": option == config.choices.pct_zonder_verblijf_groep,
                                        "code": rows["code"].values, "kolom": f"{column}_{period.label.lower()}",
                                        "waarde": rows[column].values,
                                        "herkomst": rows[f"{column}_herkomst"].values}))
    return pd.concat(frames, ignore_index=True)


# ---------------------------------------------------------------------------------------------
# Provenance and the whole build


def provenance(tables: dict, warnings: list[dict]) -> dict:
    """Per role (Iv3: per year) the snapshot behind the processed data, its provenance blocks, and the warnings."""
    out = {}
    flat = {}
    for role, table in tables.items():
        if isinstance(table, dict):
            for year, one in sorted(table.items()):
                flat[f"{role}_{year}"] = (role, one)
        elif isinstance(table, list):   # a table and its successors
            for i, one in enumerate(table):
                flat[role if i == 0 else f"{role}_{one.table_id}"] = (role, one)
        else:
            flat[role] = (role, table)
    for name, (role, table) in flat.items():
        m = table.manifest
        out[name] = {"role": role, "table_id": m["table_id"], "catalog": m.get("catalog"), "title": m.get("title"),
                     "modified": m.get("modified"), "fetched_at": m.get("fetched_at"),
                     "generated": bool(m.get("generated", False)), "source": m.get("source"),
                     "rows": m.get("rows"), "provenance": table.provenance, "snapshot_sha256": snapshot_hash(m)}
    return {"tables": out, "warnings": warnings}


def load_tables(config: StudyConfig) -> dict:
    """Every configured snapshot, verified; the Iv3 role as {year: table} for the years the periods need, a role
    with successors as [table, successor, ...]."""
    tables = {}
    for role, spec in config.tables.items():
        if spec.per_year is not None:
            tables[role] = {year: load_table(config.table_dir(role, year)) for year in config.iv3_years()}
        elif spec.successors:
            tables[role] = [load_table(directory) for directory in config.table_dirs(role)]
        else:
            tables[role] = load_table(config.table_dir(role))
    return tables


def build_all(config: StudyConfig) -> dict[str, Path]:
    """Compute every indicator for every municipality and write the processed tables."""
    tables = load_tables(config)
    inhabitants = population(config, tables["bevolking"])
    gemeenten = municipalities(config, tables["bevolking"], tables["gebieden"], inhabitants)
    crosswalk = load_crosswalk(config, tables["bevolking"])
    predecessors = Predecessors(crosswalk, classification_date(config))
    chain = tables["jeugdzorg"]
    jeugdzorg = read_jeugdzorg(config, chain if isinstance(chain, list) else [chain])
    warnings = Warnings(dict(zip(gemeenten["code"], gemeenten["naam"])))
    ses, income_choices = build_ses(config, gemeenten, tables["inkomen"], tables["armoede"], warnings)
    members = gemeente_forms(config, gemeenten, jeugdzorg, predecessors, warnings)
    jeugdhulp = build_jeugdhulp(config, gemeenten, jeugdzorg, members)
    lasten_inputs = read_lasten_inputs(config, gemeenten, tables, jeugdzorg, predecessors, warnings, inhabitants)
    lasten = build_lasten(config, gemeenten, lasten_inputs)
    lasten_basis = build_lasten(config, gemeenten, lasten_inputs, rekening_year=config.periods.cost_trend_base_year)
    outputs = {
        "gemeenten.csv": gemeenten,
        "crosswalk.csv": crosswalk,
        "ses.csv": ses,
        "lasten.csv": lasten,
        "jeugdhulp.csv": jeugdhulp,
        "kerncijfers.csv": build_kerncijfers(config, jeugdhulp, lasten, lasten_basis),
        "keuzes.csv": pd.concat([income_choices, group_choices(config, gemeenten, lasten_inputs, jeugdzorg, members, {
            ("lasten_per_inwoner_groep", config.choices.lasten_per_inwoner_groep): lasten,
            ("pct_zonder_verblijf_groep", config.choices.pct_zonder_verblijf_groep): jeugdhulp})],
                                ignore_index=True),
    }
    paths = {}
    for name, frame in outputs.items():
        paths[name] = config.processed_dir / name
        write_csv(frame, paths[name])
    paths["provenance.json"] = config.processed_dir / "provenance.json"
    write_text(paths["provenance.json"],
               json.dumps(provenance(tables, warnings.records()), indent=2, ensure_ascii=False) + "\n")
    for line in warnings.lines():
        print(f"warning: {line}")
    print(f"built {len(paths)} files in {config.processed_dir} ({len(gemeenten)} gemeenten)")
    return paths
