"""Build: raw snapshots -> processed tables for every municipality, computed once.

Writes to ``data/processed/``:

* ``gemeenten.csv``   municipalities of the classification year: name, province, jeugdregio, size class
* ``ses.csv``         SES and armoede deciles (annex 3, notes 1-2)
* ``lasten.csv``      lasten per gebruiker, per inwoner and its index (notes 3-5), per gemeente and aggregate
* ``jeugdhulp.csv``   % jeugdhulp zonder verblijf per half year and its index (note 6), per gemeente and aggregate
* ``kerncijfers.csv`` what chapter 6's text cites beside the tables: jeugdhulp met verblijf, via wijkteams,
                      the COVID-19 dip, the 2019 H2 decile, lasten per gebruiker 2017-2019
* ``provenance.json`` the CBS tables behind them: id, title, version (Modified), fetch date, snapshot hash

Aggregates (Nederland, jeugdregio, size class) come from CBS's own row where the table has one and
are pooled from their members otherwise. Municipalities formed by a merger are back-cast from their
predecessors for periods before the merger (annex 3, note 6); a municipality missing from a period
with no crosswalk entry to explain it is an error, never a silent gap.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from . import indicators as ind
from .config import StudyConfig
from .errors import SnapshotError
from .iorw import write_text
from .mergers import predecessors_at
from .reference import crosswalk as load_crosswalk
from .reference import municipalities
from .snapshot import CbsTable, load_table, snapshot_hash

HALF_YEAR_KEY = re.compile(r"^(?P<year>\d{4})HJ0?(?P<half>[12])$")
YEAR_KEY = re.compile(r"^(?P<year>\d{4})JJ00$")
NEDERLAND = "NL01"
UNIT_COLUMNS = ["unit_type", "code", "naam"]


# ---------------------------------------------------------------------------------------------
# Deterministic, atomic output


def write_csv(frame: pd.DataFrame, path: Path) -> None:
    """Write a CSV byte-identically for identical input, via a temporary file and a rename."""
    text = frame.to_csv(index=False, lineterminator="\n", float_format="%.6f")
    write_text(path, text)


# ---------------------------------------------------------------------------------------------
# Periods


@dataclass(frozen=True)
class Period:
    key: str
    title: str
    year: int
    half: int | None  # None for a whole year
    provisional: bool

    @property
    def start(self) -> str:
        """First day of the period (ISO), for looking up the municipal classification in force."""
        month = "07" if self.half == 2 else "01"
        return f"{self.year}-{month}-01"

    @property
    def label(self) -> str:
        return f"{self.year}HJ{self.half}" if self.half else str(self.year)


def parse_periods(table: CbsTable) -> list[Period]:
    """Half years and years from the Perioden dimension: keys and titles as CBS gives them.

    A period CBS marks provisional (Status "Voorlopig", or a title ending in "*") is flagged, since
    its figures will be revised in a later release.
    """
    result = []
    for row in table.period_table().itertuples():
        status = str(getattr(row, "Status", "") or "")
        provisional = status.lower().startswith("voorlopig") or str(row.Title).strip().endswith("*")
        half = HALF_YEAR_KEY.match(row.Key)
        year = YEAR_KEY.match(row.Key)
        if half:
            result.append(Period(row.Key, str(row.Title).strip(), int(half["year"]), int(half["half"]), provisional))
        elif year:
            result.append(Period(row.Key, str(row.Title).strip(), int(year["year"]), None, provisional))
    return result


def find_half_year(periods: list[Period], year: int, half: int, table_id: str) -> Period:
    for p in periods:
        if p.year == year and p.half == half:
            return p
    have = ", ".join(p.label for p in periods if p.half)
    raise SnapshotError(f"table {table_id} has no period {year}HJ{half} (has {have}); "
                        "change periods in config/study.yml or fetch a snapshot that covers it")


def find_year(periods: list[Period], year: int, table_id: str) -> Period:
    for p in periods:
        if p.year == year and p.half is None:
            return p
    have = ", ".join(p.label for p in periods if not p.half)
    raise SnapshotError(f"table {table_id} has no year {year} (has {have}); "
                        "change periods in config/study.yml or fetch a snapshot that covers it")


# ---------------------------------------------------------------------------------------------
# Back-casting to the classification year


def classification_date(config: StudyConfig) -> str:
    """Municipalities are those of 1 January of the classification year (gemeenten 2020)."""
    return f"{config.periods.classification_year}-01-01"


def to_classification(values: pd.DataFrame, codes: list[str], period: Period, crosswalk: pd.DataFrame,
                      table_id: str, as_of: str) -> pd.DataFrame:
    """Rows of ``values`` (indexed by region code) for every municipality in ``codes``.

    A code present in the period is taken as is. A code that did not exist yet is replaced by the
    share-weighted sum of its predecessors' rows, and marked ``herleid``. Only additive columns
    (counts, amounts) may be passed in.
    """
    out, flags = {}, {}
    for code in codes:
        if code in values.index:
            out[code] = values.loc[code]
            flags[code] = False
            continue
        parts = predecessors_at(code, period.start, crosswalk, as_of)
        missing = [p for p, _ in parts if p not in values.index]
        if parts == [(code, 1.0)] or missing:
            raise SnapshotError(
                f"{code} has no data for {period.key} in table {table_id}"
                + (f" and its predecessors {', '.join(missing)} neither" if parts != [(code, 1.0)] else
                   " and no merger in the crosswalk explains it")
                + "; check the table's regional classification or add the merger to the crosswalk")
        out[code] = sum(values.loc[p] * share for p, share in parts)
        flags[code] = True
    frame = pd.DataFrame(out).T
    frame["herleid"] = pd.Series(flags)
    return frame


# ---------------------------------------------------------------------------------------------
# Indicator families


def measure_columns(table: CbsTable, config: StudyConfig, role: str) -> dict[str, str]:
    """Our measure name -> the table's actual column, resolved by key or title."""
    return {name: table.resolve_measure(spec.key, spec.title) for name, spec in config.tables[role].measures.items()}


def build_ses(config: StudyConfig, gemeenten: pd.DataFrame, inkomen: CbsTable, armoede: CbsTable) -> pd.DataFrame:
    codes = gemeenten["code"].tolist()
    year = config.periods.income_year

    def values_for(table: CbsTable, role: str, measure: str) -> pd.Series:
        column = measure_columns(table, config, role)[measure]
        period = find_year(parse_periods(table), year, table.table_id)
        rows = table.data[table.data["Perioden"] == period.key].set_index("RegioS")[column]
        missing = [c for c in codes if c not in rows.index or pd.isna(rows[c])]
        if missing:
            raise SnapshotError(f"table {table.table_id} has no {measure} for {', '.join(missing[:5])} in {period.key}; "
                                f"deciles need every municipality of {config.periods.classification_year}: "
                                "fetch the table in that classification")
        return rows.reindex(codes).astype(float)

    income = values_for(inkomen, "inkomen", "mediaan_inkomen")
    poor = values_for(armoede, "armoede", "kinderen_laag_inkomen_pct")
    return pd.DataFrame({"code": codes, "mediaan_inkomen": income.values, "ses_deciel": ind.ses_deciel(income).values,
                         "pct_kinderen_laag_inkomen": poor.values,
                         "armoede_deciel": ind.armoede_deciel(poor).values})


def aggregate_units(config: StudyConfig, gemeenten: pd.DataFrame) -> list[tuple[str, str, str, list[str]]]:
    """(unit_type, code, name, member codes) for Nederland, every jeugdregio and every size class."""
    units = [("nederland", NEDERLAND, "Nederland", gemeenten["code"].tolist())]
    regions = gemeenten.dropna(subset=["jeugdregio_code"]).groupby(["jeugdregio_code", "jeugdregio_naam"])["code"]
    for (code, name), members in sorted(regions, key=lambda item: item[0][0]):
        units.append(("jeugdregio", code, name, members.tolist()))
    for size_class in all_size_classes(config):
        members = gemeenten.loc[gemeenten["inwoners"].map(size_class.contains), "code"].tolist()
        if members:
            units.append(("grootteklasse", f"size:{size_class.label}", size_class.label, members))
    return units


def all_size_classes(config: StudyConfig) -> list:
    """The report's size classes (config) and CBS's gemeentegrootteklassen, each label once."""
    from .selection import CBS_SIZE_CLASSES

    classes = dict(config.size_classes)
    for size_class in CBS_SIZE_CLASSES:
        classes.setdefault(size_class.label, size_class)
    return list(classes.values())


def build_jeugdhulp(config: StudyConfig, gemeenten: pd.DataFrame, jeugdzorg: CbsTable,
                    crosswalk: pd.DataFrame) -> pd.DataFrame:
    cols = measure_columns(jeugdzorg, config, "jeugdzorg")
    periods = [p for p in parse_periods(jeugdzorg) if p.half]
    base = find_half_year(periods, config.periods.jeugdhulp_base.year, config.periods.jeugdhulp_base.half,
                          jeugdzorg.table_id)
    find_half_year(periods, config.periods.jeugdhulp_current.year, config.periods.jeugdhulp_current.half,
                   jeugdzorg.table_id)
    codes = gemeenten["code"].tolist()
    names = gemeenten.set_index("code")["naam"]
    counts = ["jongeren", "zonder_verblijf", "met_verblijf", "via_wijkteam"]
    frames = []
    for period in periods:
        rows = jeugdzorg.data[jeugdzorg.data["Perioden"] == period.key].set_index("RegioS")
        additive = rows[[cols[c] for c in counts]].set_axis(counts, axis=1).astype(float)
        gm = to_classification(additive[additive.index.str.startswith("GM")], codes, period, crosswalk,
                               jeugdzorg.table_id, classification_date(config))
        published = rows[cols["zonder_verblijf_pct"]].astype(float)
        # CBS's own percentage where the municipality existed; pooled over predecessors where back-cast
        gm["pct_zonder_verblijf"] = np.where(gm["herleid"], ind.pct_jeugdhulp_zonder_verblijf(
            gm["zonder_verblijf"], gm["jongeren"]), published.reindex(gm.index))
        gm.insert(0, "code", gm.index)
        gm.insert(0, "unit_type", "gemeente")
        gm.insert(2, "naam", gm["code"].map(names))
        units = [gm]
        for unit_type, code, name, members in aggregate_units(config, gemeenten):
            sums = gm.loc[members, counts].sum()
            if code in rows.index and not pd.isna(published.get(code)):
                pct = float(published[code])
                sums = additive.loc[code]
            else:
                pct = float(ind.pct_jeugdhulp_zonder_verblijf(sums["zonder_verblijf"], sums["jongeren"]))
            units.append(pd.DataFrame([{"unit_type": unit_type, "code": code, "naam": name, **sums.to_dict(),
                                        "herleid": bool(gm.loc[members, "herleid"].any()),
                                        "pct_zonder_verblijf": pct}]))
        frame = pd.concat(units, ignore_index=True)
        frame["periode"], frame["periode_titel"] = period.key, period.title
        frame["jaar"], frame["halfjaar"], frame["voorlopig"] = period.year, period.half, period.provisional
        frames.append(frame)
    data = pd.concat(frames, ignore_index=True)
    data["pct_met_verblijf"] = ind.pct_jeugdhulp_zonder_verblijf(data["met_verblijf"], data["jongeren"])
    data["pct_via_wijkteam"] = ind.round_half_up(data["via_wijkteam"] / data["zonder_verblijf"] * 100, 1)
    base_pct = data[data["periode"] == base.key].set_index("code")["pct_zonder_verblijf"]
    data["index_zonder_verblijf"] = ind.index_pct_zonder_verblijf(data["pct_zonder_verblijf"],
                                                                   data["code"].map(base_pct))
    for column in counts:
        data[column] = data[column].round().astype("int64")
    order = ["unit_type", "code", "naam", "periode", "periode_titel", "jaar", "halfjaar", "voorlopig", "herleid",
             "jongeren", "zonder_verblijf", "pct_zonder_verblijf", "index_zonder_verblijf", "met_verblijf",
             "pct_met_verblijf", "via_wijkteam", "pct_via_wijkteam"]
    type_order = {"gemeente": 0, "nederland": 1, "jeugdregio": 2, "grootteklasse": 3}
    data = data[order].sort_values(["unit_type", "code", "jaar", "halfjaar"],
                                   key=lambda s: s.map(type_order) if s.name == "unit_type" else s)
    return data.reset_index(drop=True)


def _dimension_key(table: CbsTable, dimension: str, title_prefix: str) -> str:
    frame = table.dimension(dimension)
    hits = frame[frame["Title"].astype(str).str.strip().str.lower().str.startswith(title_prefix.lower())]
    if len(hits) != 1:
        raise SnapshotError(f"table {table.table_id}: dimension {dimension} has {len(hits)} entries titled "
                            f"{title_prefix!r}*; check the table or periods.taakvelden in config/study.yml")
    return hits["Key"].iloc[0]


def iv3_by_municipality(config: StudyConfig, iv3: CbsTable, year: int, document: str) -> pd.DataFrame:
    """Lasten (thousands of euros) and lasten per inwoner of the configured taakvelden, per region code."""
    cols = measure_columns(iv3, config, "iv3")
    period = find_year(parse_periods(iv3), year, iv3.table_id)
    doc_key = _dimension_key(iv3, "Documentsoort", document)
    tv_keys = [_dimension_key(iv3, "Taakvelden", tv + " ") for tv in config.periods.taakvelden]
    rows = iv3.data[(iv3.data["Perioden"] == period.key) & (iv3.data["Documentsoort"] == doc_key)
                    & (iv3.data["Taakvelden"].isin(tv_keys))]
    lasten = rows.pivot_table(index="RegioS", columns="Taakvelden", values=cols["lasten"], aggfunc="sum")
    per_inwoner = rows.pivot_table(index="RegioS", columns="Taakvelden", values=cols["lasten_per_inwoner"],
                                   aggfunc="sum")
    return pd.DataFrame({"lasten": lasten.fillna(0).sum(axis=1),
                         "lasten_per_inwoner": ind.lasten_per_inwoner(per_inwoner)})


def group_finance(frame: pd.DataFrame, members: list[str], unit: str) -> float:
    """Lasten per inwoner of a reference group, from its members' lasten per inwoner."""
    groups = pd.Series(unit, index=members)
    return float(ind.lasten_per_inwoner_groep(frame.loc[members, "lasten_per_inwoner"].astype(float), groups).iloc[0])


def finance_in_classification(config, frame: pd.DataFrame, codes: list[str], year: int, crosswalk, table_id):
    """Per-municipality lasten and lasten per inwoner in the classification year, back-casting merged ones."""
    period = Period(f"{year}JJ00", str(year), year, None, False)
    as_of = classification_date(config)
    present = frame[frame.index.str.startswith("GM")]
    out = {}
    for code in codes:
        if code in present.index:
            out[code] = (present.loc[code, "lasten"], present.loc[code, "lasten_per_inwoner"], False)
            continue
        parts = predecessors_at(code, period.start, crosswalk, as_of)
        missing = [p for p, _ in parts if p not in present.index]
        if parts == [(code, 1.0)] or missing:
            raise SnapshotError(f"{code} has no Iv3 lasten for {year} in table {table_id} and no predecessors "
                                "with data; check the crosswalk or the table's classification")
        preds = [p for p, _ in parts]
        shares = pd.Series(dict(parts))
        lasten = present.loc[preds, "lasten"] * shares
        per_inwoner = ind.lasten_per_inwoner_pooled(lasten, present.loc[preds, "lasten_per_inwoner"],
                                                    pd.Series(code, index=preds)).iloc[0]
        out[code] = (float(lasten.sum()), float(per_inwoner), True)
    return pd.DataFrame(out, index=["lasten", "lasten_per_inwoner", "herleid"]).T


def lasten_en_gebruikers(config: StudyConfig, gemeenten: pd.DataFrame, iv3: CbsTable, jeugdzorg: CbsTable,
                         crosswalk: pd.DataFrame, year: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """One year's jaarrekening and youth with jeugdzorg: the back-cast rekening per gemeente, and per unit
    (gemeenten, then aggregates) the lasten of taakvelden 6.72 + 6.82 and the number of users (annex 3 note 3).

    An aggregate takes CBS's own user count where the table has a row for it (NL01), else its members' sum.
    """
    codes = gemeenten["code"].tolist()
    rekening = finance_in_classification(config, iv3_by_municipality(config, iv3, year, "Jaarrekening"),
                                         codes, year, crosswalk, iv3.table_id)
    cols = measure_columns(jeugdzorg, config, "jeugdzorg")
    period = find_year(parse_periods(jeugdzorg), year, jeugdzorg.table_id)
    rows = jeugdzorg.data[jeugdzorg.data["Perioden"] == period.key].set_index("RegioS")
    users_all = rows[[cols["totaal_jeugdzorg"]]].set_axis(["gebruikers"], axis=1).astype(float)
    users = to_classification(users_all[users_all.index.str.startswith("GM")], codes, period, crosswalk,
                              jeugdzorg.table_id, classification_date(config))["gebruikers"]
    per_unit = {code: (float(rekening.loc[code, "lasten"]), float(users[code])) for code in codes}
    for _, code, _, members in aggregate_units(config, gemeenten):
        total = float(users_all.loc[code, "gebruikers"]) if code in users_all.index else float(users[members].sum())
        per_unit[code] = (float(rekening.loc[members, "lasten"].astype(float).sum()), total)
    return rekening, pd.DataFrame(per_unit, index=["lasten", "gebruikers"]).T


def build_lasten(config: StudyConfig, gemeenten: pd.DataFrame, iv3: CbsTable, jeugdzorg: CbsTable,
                 crosswalk: pd.DataFrame) -> pd.DataFrame:
    codes = gemeenten["code"].tolist()
    p = config.periods
    rekening, per_unit = lasten_en_gebruikers(config, gemeenten, iv3, jeugdzorg, crosswalk, p.iv3_rekening_year)
    begroting = finance_in_classification(config, iv3_by_municipality(config, iv3, p.iv3_begroting_year, "Begroting"),
                                          codes, p.iv3_begroting_year, crosswalk, iv3.table_id)
    names = gemeenten.set_index("code")["naam"]
    gm = pd.DataFrame({
        "unit_type": "gemeente", "code": codes, "naam": [names[c] for c in codes],
        "lasten_rekening": per_unit.loc[codes, "lasten"].values,
        "gebruikers": per_unit.loc[codes, "gebruikers"].values,
        "lasten_per_inwoner_rekening": rekening.loc[codes, "lasten_per_inwoner"].astype(float).values,
        "lasten_per_inwoner_begroting": begroting.loc[codes, "lasten_per_inwoner"].astype(float).values,
        "herleid": begroting.loc[codes, "herleid"].astype(bool).values,
    })
    units = [gm]
    for unit_type, code, name, members in aggregate_units(config, gemeenten):
        units.append(pd.DataFrame([{
            "unit_type": unit_type, "code": code, "naam": name,
            "lasten_rekening": per_unit.loc[code, "lasten"], "gebruikers": per_unit.loc[code, "gebruikers"],
            "lasten_per_inwoner_rekening": group_finance(rekening, members, code),
            "lasten_per_inwoner_begroting": group_finance(begroting, members, code),
            "herleid": bool(begroting.loc[members, "herleid"].any()),
        }]))
    data = pd.concat(units, ignore_index=True)
    data["lasten_per_gebruiker"] = ind.lasten_per_gebruiker(data["lasten_rekening"], data["gebruikers"])
    data["index_lasten_per_inwoner"] = ind.index_lasten_per_inwoner(data["lasten_per_inwoner_rekening"],
                                                                     data["lasten_per_inwoner_begroting"])
    data["gebruikers"] = data["gebruikers"].round().astype("int64")
    order = ["unit_type", "code", "naam", "herleid", "lasten_rekening", "gebruikers", "lasten_per_gebruiker",
             "lasten_per_inwoner_rekening", "lasten_per_inwoner_begroting", "index_lasten_per_inwoner"]
    return data[order]


def lasten_per_gebruiker_in(config: StudyConfig, gemeenten: pd.DataFrame, iv3: CbsTable, jeugdzorg: CbsTable,
                            crosswalk: pd.DataFrame, year: int) -> pd.Series:
    """Lasten per gebruiker of one year's jaarrekening (annex 3 note 3), per gemeente and aggregate."""
    _, per_unit = lasten_en_gebruikers(config, gemeenten, iv3, jeugdzorg, crosswalk, year)
    return ind.lasten_per_gebruiker(per_unit["lasten"], per_unit["gebruikers"])


def at_half_year(jeugdhulp: pd.DataFrame, period, column: str) -> pd.Series:
    """One column of jeugdhulp.csv for one half year (anything with .year and .half), indexed by unit code."""
    rows = jeugdhulp[(jeugdhulp["jaar"] == period.year) & (jeugdhulp["halfjaar"] == period.half)]
    return rows.set_index("code")[column]


def build_kerncijfers(config: StudyConfig, gemeenten: pd.DataFrame, jeugdhulp: pd.DataFrame, lasten: pd.DataFrame,
                      iv3: CbsTable, jeugdzorg: CbsTable, crosswalk: pd.DataFrame) -> pd.DataFrame:
    """The indicators chapter 6's text cites beside its tables, per gemeente and aggregate."""
    p = config.periods

    def at(period, column):
        return at_half_year(jeugdhulp, period, column)

    base, current, before = p.jeugdhulp_base, p.jeugdhulp_current, p.jeugdhulp_before_covid
    units = jeugdhulp.drop_duplicates("code").set_index("code")[["unit_type", "naam"]]
    frame = units.copy()
    frame["pct_met_verblijf_basis"] = at(base, "pct_met_verblijf")
    frame["pct_met_verblijf_actueel"] = at(current, "pct_met_verblijf")
    frame["index_aantal_met_verblijf"] = ind.index_aantal(at(current, "met_verblijf"), at(base, "met_verblijf"))
    frame["pct_via_wijkteam_actueel"] = at(current, "pct_via_wijkteam")
    frame["pct_zonder_verblijf_voor_covid"] = at(before, "pct_zonder_verblijf")
    frame["verandering_covid_procentpunt"] = ind.verandering_procentpunt(at(current, "pct_zonder_verblijf"),
                                                                         at(before, "pct_zonder_verblijf"))
    is_gm = frame["unit_type"] == "gemeente"
    frame["deciel_zonder_verblijf_voor_covid"] = pd.Series(pd.NA, index=frame.index, dtype="Int64")
    frame.loc[is_gm, "deciel_zonder_verblijf_voor_covid"] = ind.deciel_zonder_verblijf(
        frame.loc[is_gm, "pct_zonder_verblijf_voor_covid"])
    first = lasten_per_gebruiker_in(config, gemeenten, iv3, jeugdzorg, crosswalk, p.cost_trend_base_year)
    last = lasten.set_index("code")["lasten_per_gebruiker"]
    frame["lasten_per_gebruiker_basis"] = first.reindex(frame.index)
    frame["lasten_per_gebruiker_actueel"] = last.reindex(frame.index)
    frame["index_lasten_per_gebruiker"] = ind.index_lasten_per_gebruiker(frame["lasten_per_gebruiker_actueel"],
                                                                         frame["lasten_per_gebruiker_basis"])
    frame.insert(0, "code", frame.index)
    return frame.reset_index(drop=True)


def provenance(config: StudyConfig, tables: dict[str, CbsTable]) -> dict:
    out = {}
    for role, table in tables.items():
        m = table.manifest
        out[role] = {"table_id": m["table_id"], "catalog": m.get("catalog"), "title": m.get("title"),
                     "modified": m.get("modified"), "fetched_at": m.get("fetched_at"),
                     "generated": bool(m.get("generated", False)), "source": m.get("source"),
                     "rows": m.get("rows"), "snapshot_sha256": snapshot_hash(m)}
    return out


def build_all(config: StudyConfig) -> dict[str, Path]:
    """Compute every indicator for every municipality and write the processed tables."""
    tables = {role: load_table(config.table_dir(role)) for role in config.tables}
    gemeenten = municipalities(config, tables["bevolking"])
    crosswalk = load_crosswalk(config, tables["bevolking"])
    outputs = {
        "gemeenten.csv": gemeenten,
        "crosswalk.csv": crosswalk,
        "ses.csv": build_ses(config, gemeenten, tables["inkomen"], tables["armoede"]),
        "lasten.csv": build_lasten(config, gemeenten, tables["iv3"], tables["jeugdzorg"], crosswalk),
        "jeugdhulp.csv": build_jeugdhulp(config, gemeenten, tables["jeugdzorg"], crosswalk),
    }
    outputs["kerncijfers.csv"] = build_kerncijfers(config, gemeenten, outputs["jeugdhulp.csv"], outputs["lasten.csv"],
                                                   tables["iv3"], tables["jeugdzorg"], crosswalk)
    paths = {}
    for name, frame in outputs.items():
        paths[name] = config.processed_dir / name
        write_csv(frame, paths[name])
    paths["provenance.json"] = config.processed_dir / "provenance.json"
    write_text(paths["provenance.json"], json.dumps(provenance(config, tables), indent=2, ensure_ascii=False) + "\n")
    print(f"built {len(paths)} files in {config.processed_dir} ({len(gemeenten)} gemeenten)")
    return paths
