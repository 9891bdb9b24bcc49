"""The numbers chapter 6 cites in its prose, checked against the processed data like table cells.

``data/external/published/hoofdstuk6_tekst.csv`` holds one row per checkable numeric claim of the
"Toelichting" sections of chapter 6: the sentence verbatim, the number as printed, and the claim in
machine-readable columns (claim type, indicator, units, periods, aggregation, comparison, value(s),
tolerance, and an explanation of the reading chosen). This module computes every claim from the
processed tables of ``data/processed/`` and says whether the sentence holds.

Columns of a claim row:

* ``claimtype``   which function of :data:`CLAIM_TYPES` computes it (one function per claim type)
* ``indicator``   a column of kerncijfers.csv, jeugdhulp.csv, lasten.csv, ses.csv or gemeenten.csv
* ``eenheden``    ``;``-separated units: CBS codes (GM..., NL01, JZ.., size:...) or a named group
  (see :meth:`ProcessedData.units`); ``zonder`` lists codes removed from ``eenheden``
* ``ten_opzichte_van``  the comparison units (verschil, verhouding, aandeel) or the population
  (rangorde, hoogste)
* ``periode`` / ``periode2``  half years (``2019HJ02``) or years (``2017``); empty for the
  single-period columns of lasten.csv, ses.csv and kerncijfers.csv
* ``aggregatie``  ``enkel`` (one value), ``elk`` (every value must satisfy the comparison),
  ``gemiddelde`` / ``minimum`` / ``maximum`` (of the values), ``aantal`` (how many values satisfy
  ``voorwaarde``, e.g. ``>=6``)
* ``vergelijking`` ``=`` / ``≈`` / ``<=`` / ``>=`` / ``between``, with ``waarde``, ``waarde2``
  (upper bound of ``between``) and ``tolerantie`` (absolute, in the unit of the computed value)

Tolerance convention of the transcription: an exactly printed number ("0,5%", "108") gets the
rounding interval of its printed precision (or zero when the computed value has that precision
already, e.g. differences of one-decimal percentages); "ca", "circa", "ongeveer" get ±20% of the
cited value (at least one unit of its last printed digit); "ten minste", "minstens" get none.

Provenance of a result: the weakest kind (``cbs`` < ``afgeleid`` < ``gegenereerd``) of the
``<column>_herkomst`` cells of every value used; for a column without such a column, ``gegenereerd``
when provenance.json marks any CBS table behind that processed file as generated, else ``cbs``.
"""

from __future__ import annotations

import json
import math
import operator
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from pipeline.build import indicators as ind
from pipeline.case.formatting import grouped

TEXT_FILE = "hoofdstuk6_tekst.csv"
LASTEN_FILE = "hoofdstuk6_lasten.csv"
PROCESSED_FILES = ("gemeenten.csv", "ses.csv", "lasten.csv", "kerncijfers.csv", "jeugdhulp.csv")
KINDS = ("cbs", "afgeleid", "gegenereerd")          # increasing weakness (docs/shapes.md section 3)
FILE_ROLES = {                                       # the CBS table roles behind each processed file
    "gemeenten.csv": ("bevolking",),
    "ses.csv": ("inkomen", "armoede"),
    "lasten.csv": ("iv3", "jeugdzorg"),
    "kerncijfers.csv": ("jeugdzorg", "iv3"),
    "jeugdhulp.csv": ("jeugdzorg",),
}
G4 = ("GM0363", "GM0344", "GM0518", "GM0599")       # Amsterdam, Utrecht, Den Haag, Rotterdam
# The report's years behind the single-year columns: lasten.csv is jaarrekening ``periods.iv3_rekening_year``
# with that year's users; kerncijfers.csv's lasten_per_gebruiker_basis is ``periods.cost_trend_base_year``.
# These are the defaults when no config is given (the chapter's own years); check_prose reads the config.
REKENING_JAAR = "2019"
KOSTEN_BASISJAAR = "2017"
CLASSIFICATIE_JAAR = "2020"
# columns of a processed file without a _herkomst column, with the CBS table role they come from (the
# kind is then that role's kind for the classification year); other columns fall back to the file's roles
COLUMN_ROLES = {
    "gemeenten.csv": {"jeugdregio_code": "gebieden", "jeugdregio_naam": "gebieden", "inwoners": "bevolking",
                      "naam": "gebieden", "provincie": "gebieden", "grootteklasse": "bevolking"},
}
HALF_YEAR = re.compile(r"^\d{4}HJ0[12]$")
CODE = re.compile(r"^(GM\d{4}|NL01|JZ\d{2}|size:.+)$")
CONDITION = re.compile(r"^(<=|>=|=|<|>)\s*(-?\d+(?:\.\d+)?)$")
CONDITION_OPS = {"<=": operator.le, ">=": operator.ge, "=": operator.eq, "<": operator.lt, ">": operator.gt}
EPS = 1e-9

KLOPT, KLOPT_NIET, NIET_BEREKENBAAR = "klopt", "klopt niet", "niet berekenbaar"
RESULT_COLUMNS = ["id", "casus", "zin", "geciteerd", "claim", "berekend", "berekend_waarde", "status", "reden",
                  "herkomst"]


class NietBerekenbaar(Exception):
    """The processed data cannot answer the claim (missing column, unit, period or value)."""


# ---------------------------------------------------------------------------------------------
# Dutch number text


# ``-0.2`` -> ``-0,2``; thousands with a point (``10.143``), rounded half up
nl_number = grouped


def _fmt_value(indicator: str, value: float) -> str:
    """A value of an indicator as the report prints it."""
    if indicator.startswith("pct_"):
        return f"{nl_number(value, 1)}%"
    if indicator.startswith("lasten_per"):
        return f"€ {nl_number(value, 0)}"
    if "deciel" in indicator or indicator in ("jongeren", "zonder_verblijf", "met_verblijf", "via_wijkteam",
                                               "gebruikers", "inwoners"):
        return nl_number(value, 0)
    return nl_number(value, 1)


def _fmt_difference(indicator: str, value: float) -> str:
    if indicator.startswith("pct_"):
        return f"{nl_number(value, 1)}%-punt"
    if "deciel" in indicator:
        return f"{nl_number(value, 0)} decielen"
    if indicator.startswith("index_"):
        return f"{nl_number(value, 1)} indexpunten"
    return _fmt_value(indicator, value)


def _fmt_percent(value: float) -> str:
    return f"{nl_number(value, 1)}%"


def _fmt_ratio(value: float) -> str:
    return nl_number(value, 2)


# ---------------------------------------------------------------------------------------------
# The processed data, with provenance recorded per value read


@dataclass
class ProcessedData:
    """The processed tables plus the case groups of chapter 6; records the provenance of every value read."""

    gemeenten: pd.DataFrame
    ses: pd.DataFrame
    lasten: pd.DataFrame
    kerncijfers: pd.DataFrame
    jeugdhulp: pd.DataFrame
    referenties: dict[str, list[str]]           # case GM code -> its reference GM codes (Tabel 2-11)
    provenance: dict = field(default_factory=dict)
    kinds: list[str] = field(default_factory=list)
    # row positions per (frame, key columns) and column values per (frame, column), made on first lookup
    # (:meth:`_rows`, :meth:`_column`); each entry keeps its frame, so a replaced frame is indexed anew
    positions: dict = field(default_factory=dict, repr=False, compare=False)
    columns: dict = field(default_factory=dict, repr=False, compare=False)
    rekening_jaar: str = REKENING_JAAR
    kosten_basisjaar: str = KOSTEN_BASISJAAR
    classificatie_jaar: str = CLASSIFICATIE_JAAR

    def with_years(self, config) -> "ProcessedData":
        """The years of the single-year columns from a study config (``periods:``)."""
        if config is not None:
            p = config.periods
            self.rekening_jaar = str(p.iv3_rekening_year)
            self.kosten_basisjaar = str(p.cost_trend_base_year)
            self.classificatie_jaar = str(p.classification_year)
        return self

    @classmethod
    def from_dirs(cls, processed_dir: Path, published_dir: Path) -> "ProcessedData":
        processed_dir, published_dir = Path(processed_dir), Path(published_dir)
        frames = {name: pd.read_csv(processed_dir / name, dtype={"code": str, "jeugdregio_code": str,
                                                                 "periode": str})
                  for name in PROCESSED_FILES}
        provenance = read_tables(processed_dir / "provenance.json")
        return cls(gemeenten=frames["gemeenten.csv"], ses=frames["ses.csv"], lasten=frames["lasten.csv"],
                   kerncijfers=frames["kerncijfers.csv"], jeugdhulp=frames["jeugdhulp.csv"],
                   referenties=case_references(published_dir / LASTEN_FILE), provenance=provenance)

    # -- provenance
    def file_kind(self, name: str) -> str:
        """Kind of a processed file's values when it has no ``_herkomst`` column: the weakest kind of the
        CBS tables behind it (``gegenereerd`` when one is generated; an unknown file: of all tables)."""
        roles = FILE_ROLES.get(name, ())
        entries = [entry for key, entry in self.provenance.items()
                   if any(key == r or key.startswith(f"{r}:") or key.startswith(f"{r}_") for r in roles)]
        if not entries:
            entries = list(self.provenance.values())
        return weakest([kind for entry in entries for kind in table_kinds(entry)] or ["cbs"])

    def column_kind(self, name: str, column: str) -> str:
        """Kind of a column without a ``_herkomst`` column: the kind of the CBS table role it comes from, for
        the classification year (``COLUMN_ROLES``), else :meth:`file_kind`."""
        role = COLUMN_ROLES.get(name, {}).get(column)
        entries = [entry for key, entry in self.provenance.items() if role and (key == role or key.startswith(f"{role}:"))]
        if not role:
            return self.file_kind(name)
        if not entries:                 # the role's table is not in provenance.json: nothing says generated
            return "cbs"
        period = f"{self.classificatie_jaar}JJ00"
        return weakest([row_kind(entry, {"Perioden": period}) for entry in entries])

    def _record(self, name: str, rows: pd.DataFrame, column: str) -> None:
        """Record the kinds of ``column`` in ``rows`` (rows of the file ``name``)."""
        kind_column = f"{column}_herkomst"
        if kind_column in rows.columns:
            self._record_kinds(name, column, rows[kind_column].tolist())
        elif len(rows):
            self.kinds.append(self.column_kind(name, column))

    def _record_rows(self, name: str, positions: list[int], column: str) -> None:
        """Record the kinds of ``column`` in the rows at ``positions`` of the file ``name``."""
        frame = self._frame(name)
        kind_column = f"{column}_herkomst"
        if kind_column in frame.columns:
            kinds = self._column(frame, kind_column)
            self._record_kinds(name, column, [kinds[i] for i in positions])
        elif positions:
            self.kinds.append(self.column_kind(name, column))

    def _record_kinds(self, name: str, column: str, kinds: list) -> None:
        """Each ``_herkomst`` cell read; an empty one counts as the kind of the column (:meth:`column_kind`,
        only worked out when a cell needs it)."""
        fallback = None
        for kind in kinds:
            if isinstance(kind, str) and kind:
                self.kinds.append(str(kind))
            else:
                fallback = self.column_kind(name, column) if fallback is None else fallback
                self.kinds.append(fallback)

    def weakest_kind(self) -> str:
        """The weakest kind recorded since the last reset."""
        return weakest(dict.fromkeys(self.kinds)) if self.kinds else self.file_kind("")

    # -- frames
    def _frame(self, name: str) -> pd.DataFrame:
        return {"gemeenten.csv": self.gemeenten, "ses.csv": self.ses, "lasten.csv": self.lasten,
                "kerncijfers.csv": self.kerncijfers, "jeugdhulp.csv": self.jeugdhulp}[name]

    def _rows(self, frame: pd.DataFrame, *keys: str) -> dict:
        """Row positions of ``frame`` by the values of ``keys`` (``code``, or ``code`` and ``periode``), made once
        per frame: the claims look up a few hundred single values, a scan of the whole table each is slow."""
        key = (id(frame), keys)
        if key not in self.positions or self.positions[key][0] is not frame:
            self.positions[key] = (frame, row_positions(frame, keys))
        return self.positions[key][1]

    def _column(self, frame: pd.DataFrame, column: str) -> list:
        """The values of one column of ``frame`` as a list, made once per frame and column."""
        key = (id(frame), column)
        if key not in self.columns or self.columns[key][0] is not frame:
            self.columns[key] = (frame, frame[column].tolist())
        return self.columns[key][1]

    def _positions(self, frame: pd.DataFrame, *values: str, keys: tuple[str, ...] = ("code",)) -> list[int]:
        """The positions of the rows of ``frame`` whose ``keys`` have ``values``, in the frame's order."""
        return self._rows(frame, *keys).get(values if len(values) > 1 else values[0], [])

    def _single(self, name: str, code: str, column: str) -> float:
        frame = self._frame(name)
        if column not in frame.columns:
            raise NietBerekenbaar(f"{name} heeft geen kolom {column}")
        rows = self._positions(frame, code)
        if not rows:
            raise NietBerekenbaar(f"{code} staat niet in {name}")
        self._record_rows(name, rows, column)
        value = self._column(frame, column)[rows[0]]
        if pd.isna(value):
            raise NietBerekenbaar(f"{column} van {code} ontbreekt in {name}")
        return float(value)

    def _half_year(self, code: str, column: str, periode: str) -> float:
        rows = self._positions(self.jeugdhulp, code, periode, keys=("code", "periode"))
        if not rows:
            raise NietBerekenbaar(f"{code} heeft geen rij voor {periode} in jeugdhulp.csv")
        self._record_rows("jeugdhulp.csv", rows, column)
        value = self._column(self.jeugdhulp, column)[rows[0]]
        if pd.isna(value):
            raise NietBerekenbaar(f"{column} van {code} in {periode} ontbreekt (onderdrukt) in jeugdhulp.csv")
        return float(value)

    def value(self, indicator: str, code: str, periode: str = "") -> float:
        """One value: a half-year column of jeugdhulp.csv, or a single-period column of another file."""
        periode = periode or ""
        if HALF_YEAR.match(periode):
            if indicator not in self.jeugdhulp.columns:
                raise NietBerekenbaar(f"jeugdhulp.csv heeft geen kolom {indicator}")
            return self._half_year(code, indicator, periode)
        if periode and indicator in ("lasten_per_gebruiker", "gebruikers") and periode == self.kosten_basisjaar:
            return self._single("kerncijfers.csv", code, f"{indicator}_basis")
        if periode and periode != self.rekening_jaar:
            raise NietBerekenbaar(f"{indicator} voor {periode}: data/processed heeft deze kolom alleen voor "
                                  f"{self.rekening_jaar}" if indicator in self.lasten.columns else
                                  f"{indicator} voor {periode} staat niet in data/processed")
        for name in ("kerncijfers.csv", "lasten.csv", "ses.csv", "gemeenten.csv"):
            if indicator in self._frame(name).columns:
                return self._single(name, code, indicator)
        raise NietBerekenbaar(f"geen processed bestand heeft een kolom {indicator}")

    def gemeente_values(self, indicator: str, periode: str = "") -> pd.Series:
        """The indicator for every municipality (a population for deciles), indexed by code."""
        if HALF_YEAR.match(periode or ""):
            if indicator not in self.jeugdhulp.columns:
                raise NietBerekenbaar(f"jeugdhulp.csv heeft geen kolom {indicator}")
            rows = self.jeugdhulp[(self.jeugdhulp["periode"] == periode)
                                  & (self.jeugdhulp["unit_type"] == "gemeente")]
            if rows.empty:
                raise NietBerekenbaar(f"jeugdhulp.csv heeft geen gemeenten voor {periode}")
            self._record("jeugdhulp.csv", rows, indicator)
            return rows.set_index("code")[indicator].astype(float)
        raise NietBerekenbaar(f"decielen alleen voor halfjaarkolommen van jeugdhulp.csv, niet {indicator} {periode}")

    def name(self, code: str) -> str:
        for frame in (self.gemeenten, self.jeugdhulp, self.lasten, self.kerncijfers):
            rows = self._positions(frame, code) if "naam" in frame.columns else []
            if rows:
                return str(self._column(frame, "naam")[rows[0]])
        return code

    # -- groups
    def _jeugdregio(self, casus: str) -> list[str]:
        rows = self.gemeenten[self.gemeenten["code"] == casus]
        if rows.empty or pd.isna(rows["jeugdregio_code"].iloc[0]):
            raise NietBerekenbaar(f"geen jeugdregio voor {casus} in gemeenten.csv")
        region = rows["jeugdregio_code"].iloc[0]
        members = self.gemeenten[self.gemeenten["jeugdregio_code"] == region]
        self._record("gemeenten.csv", members, "jeugdregio_code")
        return members["code"].tolist()

    def units(self, spec: str, casus: str, zonder: str = "") -> list[str]:
        """Codes of a ``;``-separated unit list. Named groups, relative to the case ``casus``:

        ``referenties`` the case's reference municipalities (its rows of Tabel 2-11);
        ``casus+referenties`` the case and its references; ``tabel1`` every municipality of Tabel 1;
        ``G4`` Amsterdam, Utrecht, Den Haag, Rotterdam; ``G4-overig`` the G4 without the case;
        ``jeugdregio`` the municipalities of the case's jeugdregio (gemeenten.csv);
        ``jeugdregio-overig`` those without the case; ``gemeenten`` all municipalities;
        ``gemeenten-100000+`` those with at least 100.000 inhabitants (gemeenten.csv).
        Codes in ``zonder`` are removed.
        """
        out: list[str] = []
        for token in [t.strip() for t in (spec or "").split(";") if t.strip()]:
            if token == "referenties":
                out += self._references(casus)
            elif token == "casus+referenties":
                out += [casus] + self._references(casus)
            elif token == "tabel1":
                out += [c for case, refs in self.referenties.items() for c in [case] + refs]
            elif token == "G4":
                out += list(G4)
            elif token == "G4-overig":
                out += [c for c in G4 if c != casus]
            elif token == "jeugdregio":
                out += self._jeugdregio(casus)
            elif token == "jeugdregio-overig":
                out += [c for c in self._jeugdregio(casus) if c != casus]
            elif token == "gemeenten":
                out += self.gemeenten["code"].tolist()
            elif token == "gemeenten-100000+":
                self._record("gemeenten.csv", self.gemeenten, "inwoners")
                out += self.gemeenten.loc[self.gemeenten["inwoners"] >= 100_000, "code"].tolist()
            elif CODE.match(token):
                out.append(token)
            else:
                raise ValueError(f"unknown unit or group {token!r}")
        drop = {t.strip() for t in (zonder or "").split(";") if t.strip()}
        return list(dict.fromkeys(c for c in out if c not in drop))

    def _references(self, casus: str) -> list[str]:
        if casus not in self.referenties:
            raise ValueError(f"{casus} is not a case of chapter 6")
        return list(self.referenties[casus])


def row_positions(frame: pd.DataFrame, keys: tuple[str, ...]) -> dict:
    """The value of ``keys`` (one column: the value; several: a tuple) -> the positions of its rows, in order; rows
    with a missing key are left out (as ``groupby`` does)."""
    out: dict = {}
    values = zip(*(frame[key].tolist() for key in keys)) if len(keys) > 1 else frame[keys[0]].tolist()
    missing = frame[list(keys)].isna().any(axis=1).tolist()
    for i, (value, skip) in enumerate(zip(values, missing)):
        if not skip:
            out.setdefault(value, []).append(i)
    return out


def weakest(kinds) -> str:
    """The weakest of provenance kinds (cbs < afgeleid < gegenereerd); an unknown kind counts as weakest."""
    return max(kinds, key=lambda k: KINDS.index(k) if k in KINDS else len(KINDS))


def read_tables(path: Path) -> dict:
    """The table entries of ``provenance.json`` (per role, Iv3 possibly per year), in either layout: the
    entries at top level, or under ``tables`` next to the build's ``warnings``. No file: no entries."""
    if not Path(path).exists():
        return {}
    raw = json.loads(Path(path).read_text(encoding="utf-8"))
    tables = raw.get("tables", raw) if isinstance(raw, dict) else {}
    return {key: entry for key, entry in tables.items() if isinstance(entry, dict)}


def row_kind(entry: dict, where: dict[str, str]) -> str:
    """The kind of a table's rows at the given keys (e.g. ``{"Perioden": "2020JJ00"}``): the first manifest
    block whose ``where`` matches decides, else the default. A block on a dimension not given may match:
    its kind counts too (the weaker of the two)."""
    prov = entry.get("provenance") or {}
    default = prov.get("default") or "cbs"
    if not prov and entry.get("generated"):
        return "gegenereerd"
    undecided = []
    for block in prov.get("blocks", []):
        conditions = block.get("where") or {}
        known = {d: keys for d, keys in conditions.items() if d in where}
        if any(str(where[d]) not in [str(k) for k in keys] for d, keys in known.items()):
            continue
        kind = block.get("kind", "gegenereerd")
        if len(known) == len(conditions):
            return weakest([kind, *undecided])
        undecided.append(kind)
    return weakest([default, *undecided])


def table_kinds(entry: dict) -> list[str]:
    """The provenance kinds of one table's rows: its manifest's default and blocks; ``generated`` adds
    ``gegenereerd``."""
    prov = entry.get("provenance") or {}
    kinds = [prov.get("default") or "cbs", *(block.get("kind", "gegenereerd") for block in prov.get("blocks", []))]
    if entry.get("generated"):
        kinds.append("gegenereerd")
    return kinds


def case_references(lasten_csv: Path) -> dict[str, list[str]]:
    """Case -> reference municipalities, from the transcribed Tabel 2, 4, 6, 8, 10 (the first GM row of a
    table is the case, the other GM rows its references)."""
    frame = pd.read_csv(lasten_csv, dtype=str, keep_default_na=False)
    out = {}
    for _, rows in frame.groupby("tabel", sort=False):
        codes = [c for c in rows["rij_code"] if c.startswith("GM")]
        out[codes[0]] = codes[1:]
    return out


# ---------------------------------------------------------------------------------------------
# Judging numbers against a claim row


@dataclass
class Uitkomst:
    waarde: float | None
    tekst: str
    klopt: bool


def _num(text, default: float | None = None) -> float | None:
    text = "" if text is None or (isinstance(text, float) and math.isnan(text)) else str(text).strip()
    return float(text) if text else default


def compare(x: float, claim: dict) -> bool:
    """Whether ``x`` satisfies the claim's ``vergelijking`` with ``waarde`` (``waarde2``) and ``tolerantie``."""
    op, w, w2 = claim["vergelijking"], _num(claim["waarde"]), _num(claim.get("waarde2"))
    tol = _num(claim.get("tolerantie"), 0.0) + EPS
    if op in ("=", "≈"):
        return abs(x - w) <= tol
    if op == "<=":
        return x <= w + tol
    if op == ">=":
        return x >= w - tol
    if op == "between":
        return w - tol <= x <= w2 + tol
    raise ValueError(f"unknown comparison {op!r}")


def _miss(x: float, claim: dict) -> float:
    """How far ``x`` is on the wrong side of the claim (larger = more critical)."""
    op, w, w2 = claim["vergelijking"], _num(claim["waarde"]), _num(claim.get("waarde2"))
    return {"=": abs(x - w), "≈": abs(x - w), "<=": x - w, ">=": w - x}.get(op) if op != "between" \
        else max(w - x, x - w2)


def parse_condition(text: str):
    match = CONDITION.match((text or "").strip())
    if not match:
        raise ValueError(f"unreadable voorwaarde {text!r} (expected e.g. '>=6' or '<=0.9')")
    return CONDITION_OPS[match.group(1)], float(match.group(2))


def judge(values: list[tuple[str, float]], claim: dict, fmt) -> Uitkomst:
    """Aggregate per-unit values as the claim's ``aggregatie`` says and compare."""
    if not values:
        raise NietBerekenbaar("geen eenheden")
    listing = "; ".join(f"{label} {fmt(v)}" for label, v in values)
    how = claim.get("aggregatie") or "enkel"
    if how == "enkel":
        if len(values) != 1:
            raise ValueError(f"{claim['id']}: aggregatie 'enkel' with {len(values)} values")
        x = values[0][1]
        return Uitkomst(x, fmt(x), compare(x, claim))
    if how == "elk":
        x = max((v for _, v in values), key=lambda v: _miss(v, claim))
        ok = all(compare(v, claim) for _, v in values)
        return Uitkomst(x, f"{listing} (kritiek: {fmt(x)})", ok)
    if how in ("gemiddelde", "minimum", "maximum"):
        numbers = [v for _, v in values]
        x = {"gemiddelde": sum(numbers) / len(numbers), "minimum": min(numbers), "maximum": max(numbers)}[how]
        return Uitkomst(x, f"{listing} -> {how} {fmt(x)}", compare(x, claim))
    if how == "aantal":
        test, bound = parse_condition(claim.get("voorwaarde"))
        hits = [label for label, v in values if test(v, bound)]
        x = float(len(hits))
        return Uitkomst(x, f"{len(hits)} van {len(values)} met {claim['voorwaarde']} ({listing})", compare(x, claim))
    raise ValueError(f"unknown aggregatie {how!r}")


def _label(data: ProcessedData, code: str) -> str:
    return data.name(code)


def _pairs(data: ProcessedData, claim: dict) -> list[tuple[str, str]]:
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    others = data.units(claim["ten_opzichte_van"], claim["casus"])
    return [(a, b) for a in units for b in others if a != b]


# ---------------------------------------------------------------------------------------------
# One function per claim type


def claim_waarde(data: ProcessedData, claim: dict) -> Uitkomst:
    """The value of an indicator per unit, compared as printed.

    Checks e.g. "het beroep op jeugdhulp met verblijf met 1% iets hoger" (Deventer, 1%), "betreft dat in
    Utrecht 0,5%", "met verblijf met 0,4% laag" (Peel en Maas), "tussen 0,7% en 0,9%" (the other G4, each),
    "ongeveer ½% of daar iets onder" (Deventer's references, each), "in het tweede decieël" (Utrecht),
    "indexcijfer van 108", "ongeveer 25%" (Zaltbommel's index lasten per gebruiker), "vijf van de zeven
    overige gemeenten ... decielen 6 en hoger" (count with a condition), "deciel 3 of hoger" (each).
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    values = [(_label(data, u), data.value(claim["indicator"], u, claim.get("periode"))) for u in units]
    return judge(values, claim, lambda v: _fmt_value(claim["indicator"], v))


def claim_verandering_procentpunt(data: ProcessedData, claim: dict) -> Uitkomst:
    """Change of a one-decimal percentage between ``periode`` and ``periode2``, in %-points, per unit.

    Checks Utrecht: "die daling in Utrecht maar 0,2%-punt is ten opzichte van het tweede halfjaar 2019,
    terwijl dat in de andere gemeenten ... minstens twee keer zo groot is en landelijk 0,6%-punt" —
    2019 H2 -> 2020 H1 from the percentages as published (indicators.verandering_procentpunt).
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    values = []
    for u in units:
        before = data.value(claim["indicator"], u, claim["periode"])
        after = data.value(claim["indicator"], u, claim["periode2"])
        values.append((_label(data, u), float(ind.verandering_procentpunt(after, before))))
    return judge(values, claim, lambda v: f"{nl_number(v, 1)}%-punt")


def claim_verandering_relatief(data: ProcessedData, claim: dict) -> Uitkomst:
    """Relative change of a value between ``periode`` and ``periode2``: (later / earlier - 1) x 100, per unit.

    Checks Deventer's "daling ... in 2020 ... (ca 4% tegenover 10% elders)" (% zonder verblijf 2019 H2 ->
    2020 H1, Deventer and the mean of its references), the counts met verblijf: Deventer's "licht
    neerwaartse lijn vanaf eerste halfjaar 2017", Utrecht's "daling van ongeveer 10%" (2017 H1 -> 2019 H2),
    Roosendaal's "nagenoeg halveert" (Roosendaal, Bergen op Zoom, West Brabant West, 2018 H2 -> 2019 H2),
    and Zaltbommel's users 2017 -> 2019 "niet meer dan circa 10%".
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    values = []
    for u in units:
        before = data.value(claim["indicator"], u, claim["periode"])
        after = data.value(claim["indicator"], u, claim["periode2"])
        if before == 0:
            raise NietBerekenbaar(f"{claim['indicator']} van {u} is 0 in {claim['periode']}")
        values.append((_label(data, u), (after / before - 1) * 100))
    return judge(values, claim, _fmt_percent)


def claim_verschil(data: ProcessedData, claim: dict) -> Uitkomst:
    """Difference unit minus comparison unit (each pair), in the indicator's unit.

    Checks "met verblijf ... iets hoger ligt dan het landelijk gemiddelde" (Deventer - Nederland),
    Utrecht's SES "duidelijk beter ... dan de andere drie grote steden" (deciles), Zaltbommel's index
    lasten per inwoner "harder stijgen dan de landelijk gemiddelde", its cost development per user
    "circa 10% boven de landelijke" (index points), "in vier gevallen ook ... lage percentages ... met
    verblijf" (references below Nederland, counted) and Peel en Maas's "zonder verblijf is laag".
    """
    values = [(f"{_label(data, a)} - {_label(data, b)}",
               data.value(claim["indicator"], a, claim.get("periode"))
               - data.value(claim["indicator"], b, claim.get("periode"))) for a, b in _pairs(data, claim)]
    return judge(values, claim, lambda v: _fmt_difference(claim["indicator"], v))


def claim_verhouding(data: ProcessedData, claim: dict) -> Uitkomst:
    """Ratio unit / comparison unit (each pair).

    Checks Utrecht's % zonder verblijf "ongeveer 30% hoger dan in de andere G4" (smallest ratio) and
    "ten minste twee keer zo veel jeugdhulp via wijkteams" (smallest ratio), and Zaltbommel: "vier die zeker
    10% onder het landelijk gemiddelde" (count of ratios <= 0,9), "Zaltbommel en Heusden ... meer dan 10%
    boven" (each >= 1,1), lasten per gebruiker "tenminste 20% onder" (each <= 0,8), "circa 40% onder" (0,6).
    """
    values = []
    for a, b in _pairs(data, claim):
        denominator = data.value(claim["indicator"], b, claim.get("periode"))
        if denominator == 0:
            raise NietBerekenbaar(f"{claim['indicator']} van {b} is 0")
        values.append((f"{_label(data, a)} / {_label(data, b)}",
                       data.value(claim["indicator"], a, claim.get("periode")) / denominator))
    return judge(values, claim, _fmt_ratio)


def _half_years(data: ProcessedData, start: str, end: str) -> list[str]:
    keys = sorted(k for k in data.jeugdhulp["periode"].dropna().unique() if start <= k <= end)
    if start not in keys or end not in keys:
        raise NietBerekenbaar(f"jeugdhulp.csv heeft niet alle halfjaren {start} t/m {end}")
    return keys


def claim_spreiding_absoluut(data: ProcessedData, claim: dict) -> Uitkomst:
    """Highest minus lowest value over the half years ``periode`` .. ``periode2`` (inclusive), per unit.

    Checks Utrecht: "Alhoewel dat percentage [met verblijf] in de tijd (2017 eerste halfjaar tot en met
    2019 tweede halfjaar) stabiel blijft" — stable = a range of at most 0,1 %-point.
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    periods = _half_years(data, claim["periode"], claim["periode2"])
    values = []
    for u in units:
        series = [data.value(claim["indicator"], u, p) for p in periods]
        values.append((_label(data, u), max(series) - min(series)))
    return judge(values, claim, lambda v: _fmt_difference(claim["indicator"], v))


def claim_spreiding_relatief(data: ProcessedData, claim: dict) -> Uitkomst:
    """Highest minus lowest value over the half years ``periode`` .. ``periode2``, as % of their mean.

    Checks Peel en Maas: the number with jeugdhulp met verblijf "in absolute aantallen sinds 2018
    nagenoeg stabiel" (2018 H1 .. 2020 H1).
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    periods = _half_years(data, claim["periode"], claim["periode2"])
    values = []
    for u in units:
        series = [data.value(claim["indicator"], u, p) for p in periods]
        mean = sum(series) / len(series)
        if mean == 0:
            raise NietBerekenbaar(f"{claim['indicator']} van {u} is 0 in {claim['periode']}..{claim['periode2']}")
        values.append((_label(data, u), (max(series) - min(series)) / mean * 100))
    return judge(values, claim, _fmt_percent)


def claim_deciel(data: ProcessedData, claim: dict) -> Uitkomst:
    """Decile of a half-year percentage among all municipalities (indicators.decile), per unit.

    ``richting`` ``oplopend``: decile 1 = lowest values, 10 = highest. Checks "Utrecht hoort samen met
    Zaltbommel tot de gemeenten die ... het hoogste aantal jongeren met jeugdhulp zonder verblijf ... en
    ... het laagste aantal jongeren met jeugdhulp met verblijf kennen" and Zaltbommel's "het laagste
    percentage jongeren met jeugdhulp [met] verblijf" (2019 H2).
    """
    population = data.gemeente_values(claim["indicator"], claim.get("periode"))
    deciles = ind.decile(population, highest_first=(claim.get("richting") == "aflopend"))
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    values = []
    for u in units:
        if u not in deciles.index or pd.isna(deciles[u]):
            raise NietBerekenbaar(f"{u} heeft geen {claim['indicator']} in {claim.get('periode')}")
        values.append((f"{_label(data, u)} ({_fmt_value(claim['indicator'], population[u])})", float(deciles[u])))
    return judge(values, claim, lambda v: f"deciel {nl_number(v, 0)}")


def _population(data: ProcessedData, claim: dict, extra: list[str]) -> pd.Series:
    codes = list(dict.fromkeys(extra + data.units(claim["ten_opzichte_van"], claim["casus"])))
    values = {}
    for c in codes:
        try:
            values[c] = data.value(claim["indicator"], c, claim.get("periode"))
        except NietBerekenbaar:
            if c in extra:
                raise
            values[c] = math.nan          # a member without a value is left out of the ranking (and named)
    return pd.Series(values, dtype=float)


def claim_rangorde(data: ProcessedData, claim: dict) -> Uitkomst:
    """Rank of a unit in a population (``richting`` oplopend: 1 = lowest), ties sharing the best rank;
    with ``verwacht_eenheden``, the units ranked before it must be exactly those.

    Checks Utrecht "moet slechts één gemeente (Heusden, in cluster Zaltbommel) voor zich laten" (lasten
    per gebruiker, all of Tabel 1), Deventer "zowel in kosten per gebruiker als in kosten per inwoner
    duidelijk onder ... de referentiegemeenten ... en zelfs onder het landelijk gemiddelde", Zaltbommel "de
    wat 'armere' gemeente" (SES), Peel en Maas's index lasten per inwoner "duidelijk lager" and its lasten
    per gebruiker "duidelijk hoger" than its references.
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    if len(units) != 1:
        raise ValueError(f"{claim['id']}: rangorde needs one unit")
    unit = units[0]
    values = _population(data, claim, [unit])
    missing = [c for c in values.index if pd.isna(values[c])]
    present = values.dropna()
    ascending = claim.get("richting") != "aflopend"
    ranks = present.rank(method="min", ascending=ascending)
    rank = float(ranks[unit])
    before = [c for c in present.index if ranks[c] < rank]
    ok = compare(rank, claim)
    expected = [c.strip() for c in (claim.get("verwacht_eenheden") or "").split(";") if c.strip()]
    if expected:
        ok = ok and set(before) == set(expected)
    order = present.sort_values(ascending=ascending)
    shown = "; ".join(f"{_label(data, c)} {_fmt_value(claim['indicator'], v)}"
                      for c, v in order.iloc[:max(3, int(rank) + 1)].items())
    text = f"rang {nl_number(rank, 0)} van {len(present)} ({shown}"
    text += "; ...)" if len(order) > max(3, int(rank) + 1) else ")"
    if missing:
        text += f"; zonder waarde: {', '.join(_label(data, c) for c in missing)}"
    return Uitkomst(rank, text, ok)


def claim_hoogste(data: ProcessedData, claim: dict) -> Uitkomst:
    """The ``waarde`` units with the highest (``richting`` aflopend) or lowest values of a population must
    be exactly ``verwacht_eenheden`` (a tie at the boundary takes in every tied unit).

    Checks Utrecht: "onder alle 100.000+ gemeenten Utrecht, samen met Alphen aan den Rijn en Zaanstad, de
    hoogste percentages jeugdhulp via wijkteams".
    """
    values = _population(data, claim, []).dropna()
    n = int(_num(claim["waarde"]))
    if len(values) < n:
        raise NietBerekenbaar(f"de populatie heeft maar {len(values)} waarden")
    ordered = values.sort_values(ascending=claim.get("richting") != "aflopend")
    boundary = ordered.iloc[n - 1]
    top = ordered[ordered >= boundary] if claim.get("richting") == "aflopend" else ordered[ordered <= boundary]
    expected = {c.strip() for c in claim["verwacht_eenheden"].split(";") if c.strip()}
    text = "; ".join(f"{_label(data, c)} {_fmt_value(claim['indicator'], v)}" for c, v in top.items())
    text += f" (van {len(values)}; daarna {_label(data, ordered.index[len(top)])} " \
            f"{_fmt_value(claim['indicator'], ordered.iloc[len(top)])})" if len(ordered) > len(top) else ""
    return Uitkomst(float(len(top)), text, set(top.index) == expected)


def claim_aandeel(data: ProcessedData, claim: dict) -> Uitkomst:
    """Sum of an indicator over the units as % of its sum over ``ten_opzichte_van``.

    Checks Roosendaal: "Roosendaal en Bergen op Zoom samen ongeveer 40% van de inwoners" of jeugdregio
    West Brabant West (inhabitants 1 January of the classification year, gemeenten.csv).
    """
    part = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    whole = data.units(claim["ten_opzichte_van"], claim["casus"])
    numerator = sum(data.value(claim["indicator"], c, claim.get("periode")) for c in part)
    denominator = sum(data.value(claim["indicator"], c, claim.get("periode")) for c in whole)
    if denominator == 0:
        raise NietBerekenbaar("noemer is 0")
    x = numerator / denominator * 100
    text = (f"{_fmt_percent(x)} ({_fmt_value(claim['indicator'], numerator)} van "
            f"{_fmt_value(claim['indicator'], denominator)}, {len(whole)} gemeenten)")
    return Uitkomst(x, text, compare(x, claim))


def claim_aantal_gemeenten(data: ProcessedData, claim: dict) -> Uitkomst:
    """How many units a group has.

    Checks Roosendaal: "vijf van de zeven overige gemeenten in de regio" — jeugdregio West Brabant West
    without Roosendaal and Bergen op Zoom has seven municipalities (gemeenten.csv).
    """
    units = data.units(claim["eenheden"], claim["casus"], claim.get("zonder"))
    x = float(len(units))
    return Uitkomst(x, f"{len(units)} ({', '.join(_label(data, u) for u in units)})", compare(x, claim))


CLAIM_TYPES = {
    "waarde": claim_waarde,
    "verandering_procentpunt": claim_verandering_procentpunt,
    "verandering_relatief": claim_verandering_relatief,
    "verschil": claim_verschil,
    "verhouding": claim_verhouding,
    "spreiding_absoluut": claim_spreiding_absoluut,
    "spreiding_relatief": claim_spreiding_relatief,
    "deciel": claim_deciel,
    "rangorde": claim_rangorde,
    "hoogste": claim_hoogste,
    "aandeel": claim_aandeel,
    "aantal_gemeenten": claim_aantal_gemeenten,
}


# ---------------------------------------------------------------------------------------------
# Public entry


def load_claims(published_dir: Path) -> pd.DataFrame:
    """The transcribed prose claims, every cell as text."""
    return pd.read_csv(Path(published_dir) / TEXT_FILE, dtype=str, keep_default_na=False)


def claim_summary(claim: dict) -> str:
    """The claim columns in one readable line, e.g. ``verandering_relatief(pct_zonder_verblijf; GM0150;
    2019HJ02 -> 2020HJ01) ≈ -4 ±1``."""
    parts = [claim.get("indicator") or ""]
    units = claim.get("eenheden") or ""
    if claim.get("zonder"):
        units += f" zonder {claim['zonder']}"
    parts.append(units)
    if claim.get("ten_opzichte_van"):
        parts.append(f"t.o.v. {claim['ten_opzichte_van']}")
    if claim.get("periode"):
        parts.append(claim["periode"] + (f" -> {claim['periode2']}" if claim.get("periode2") else ""))
    if claim.get("richting"):
        parts.append(claim["richting"])
    head = f"{claim['claimtype']}({'; '.join(p for p in parts if p)})"
    how = claim.get("aggregatie") or "enkel"
    if how != "enkel":
        head = f"{how}{' ' + claim['voorwaarde'] if claim.get('voorwaarde') else ''} {head}"
    target = claim["waarde"] if claim["vergelijking"] != "between" else f"{claim['waarde']} .. {claim['waarde2']}"
    tol = claim.get("tolerantie") or "0"
    tail = f" ±{tol}" if _num(tol, 0.0) else ""
    if claim.get("verwacht_eenheden"):
        tail += f" [{claim['verwacht_eenheden']}]"
    return f"{head} {claim['vergelijking']} {target}{tail}"


def check_claim(data: ProcessedData, claim: dict) -> dict:
    """One claim row -> one result row."""
    data.kinds = []
    function = CLAIM_TYPES[claim["claimtype"]]
    row = {"id": claim["id"], "casus": claim["casus"], "zin": claim["zin"], "geciteerd": claim["geciteerd"],
           "claim": claim_summary(claim)}
    try:
        outcome = function(data, claim)
    except NietBerekenbaar as reason:
        row.update(berekend="", berekend_waarde=math.nan, status=NIET_BEREKENBAAR, reden=str(reason))
    else:
        row.update(berekend=outcome.tekst, berekend_waarde=outcome.waarde,
                   status=KLOPT if outcome.klopt else KLOPT_NIET, reden="")
    # nothing read (a claim that could not be computed at all): no inputs, no provenance
    row["herkomst"] = data.weakest_kind() if data.kinds or row["status"] != NIET_BEREKENBAAR else ""
    return row


def check_claims(data: ProcessedData, claims: pd.DataFrame) -> pd.DataFrame:
    rows = [check_claim(data, claim) for claim in claims.to_dict("records")]
    return pd.DataFrame(rows, columns=RESULT_COLUMNS)


def check_prose(processed_dir: Path, published_dir: Path, config=None) -> pd.DataFrame:
    """Every transcribed prose claim of chapter 6 computed from ``processed_dir``: id, zin, geciteerd,
    claim, berekend (Dutch text), berekend_waarde, status (klopt / klopt niet / niet berekenbaar), reden,
    herkomst (weakest provenance kind of the inputs). The years of the single-year columns come from
    ``config`` (a StudyConfig) when given."""
    data = ProcessedData.from_dirs(Path(processed_dir), Path(published_dir)).with_years(config)
    return check_claims(data, load_claims(Path(published_dir)))


# ---------------------------------------------------------------------------------------------
# The prose against the printed tables themselves


class PrintedData(ProcessedData):
    """The values printed in Tabel 2-11 in the shape of the processed tables. Only what is printed can be
    read: a claim on another indicator, period or unit, or on a population the tables do not show (all
    municipalities, a jeugdregio's members, a decile population), is not computable."""

    UNPRINTED_GROUPS = ("gemeenten", "gemeenten-100000+", "jeugdregio", "jeugdregio-overig")

    def file_kind(self, name: str) -> str:
        return "gedrukt"

    def column_kind(self, name: str, column: str) -> str:
        return "gedrukt"

    def units(self, spec: str, casus: str, zonder: str = "") -> list[str]:
        for token in (t.strip() for t in (spec or "").split(";")):
            if token in self.UNPRINTED_GROUPS:
                raise NietBerekenbaar(f"de tabellen drukken de groep {token} niet af")
        return super().units(spec, casus, zonder)

    def gemeente_values(self, indicator: str, periode: str = "") -> pd.Series:
        raise NietBerekenbaar("de tabellen drukken niet alle gemeenten af (decielpopulatie)")


def printed_data(published_dir: Path, config=None) -> PrintedData:
    """Tabel 2-11 as printed (``data/external/published``), in the columns of the processed tables."""
    from pipeline.data.published import published_gebruik, published_lasten

    lasten_pub, gebruik_pub = published_lasten(Path(published_dir)), published_gebruik(Path(published_dir))
    rekening = str(config.periods.iv3_rekening_year) if config is not None else REKENING_JAAR
    if config is not None:
        b, c = config.periods.jeugdhulp_base, config.periods.jeugdhulp_current
        halves = {f"{b.year}HJ0{b.half}": f"pct_zonder_verblijf_{b.year}hj{b.half}",
                  f"{c.year}HJ0{c.half}": f"pct_zonder_verblijf_{c.year}hj{c.half}"}
        current = f"{c.year}HJ0{c.half}"
    else:
        halves = {"2017HJ01": "pct_zonder_verblijf_2017hj1", "2020HJ01": "pct_zonder_verblijf_2020hj1"}
        current = "2020HJ01"

    def first(frame: pd.DataFrame, column: str) -> pd.Series:
        return frame.dropna(subset=[column]).drop_duplicates("rij_code").set_index("rij_code")[column]

    both = pd.concat([lasten_pub, gebruik_pub], ignore_index=True)
    codes = list(dict.fromkeys(both["rij_code"]))
    labels = both.drop_duplicates("rij_code").set_index("rij_code")["rij_label"]
    kind = lambda code: ("nederland" if code == "NL01" else "jeugdregio" if code.startswith("JZ")  # noqa: E731
                         else "grootteklasse" if code.startswith("size:") else "gemeente")
    gm = [c for c in codes if c.startswith("GM")]
    ses = pd.DataFrame({"code": gm, "ses_deciel": first(both, "ses_deciel").reindex(gm).values,
                        "armoede_deciel": first(both, "armoede_deciel").reindex(gm).values})
    lasten = pd.DataFrame({
        "unit_type": [kind(c) for c in codes], "code": codes, "naam": labels.reindex(codes).values,
        "lasten_per_gebruiker": first(lasten_pub, f"lasten_per_gebruiker_{rekening}").reindex(codes).values,
        "lasten_per_inwoner_rekening": first(lasten_pub, f"lasten_per_inwoner_{rekening}").reindex(codes).values,
        "index_lasten_per_inwoner": first(lasten_pub, "index_lasten_per_inwoner").reindex(codes).values})
    rows = []
    for periode, column in halves.items():
        pct = first(gebruik_pub, column)
        index = first(gebruik_pub, "index_pct_zonder_verblijf")
        for code in pct.index:
            rows.append({"unit_type": kind(code), "code": code, "naam": labels[code], "periode": periode,
                         "pct_zonder_verblijf": pct[code],
                         "index_zonder_verblijf": index.get(code) if periode == current else math.nan})
    jeugdhulp = pd.DataFrame(rows, columns=["unit_type", "code", "naam", "periode", "pct_zonder_verblijf",
                                            "index_zonder_verblijf"])
    gemeenten = pd.DataFrame({"code": gm, "naam": labels.reindex(gm).values, "jeugdregio_code": math.nan,
                              "inwoners": math.nan})
    data = PrintedData(gemeenten=gemeenten, ses=ses, lasten=lasten, kerncijfers=pd.DataFrame({"code": codes}),
                       jeugdhulp=jeugdhulp, referenties=case_references(Path(published_dir) / LASTEN_FILE))
    return data.with_years(config)


def check_prose_on_printed(published_dir: Path, config=None) -> pd.DataFrame:
    """Every prose claim computed from the printed tables alone (``herkomst`` = ``gedrukt``): a claim that
    does not hold there contradicts the report's own tables; claims on what the tables do not print are
    ``niet berekenbaar``."""
    return check_claims(printed_data(published_dir, config), load_claims(Path(published_dir)))


if __name__ == "__main__":   # python -m pipeline.check.prose [processed_dir] [published_dir]
    from pipeline.data.published import PUBLISHED_DIR
    from pipeline.config import ROOT

    processed = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "data" / "processed"
    published = Path(sys.argv[2]) if len(sys.argv) > 2 else PUBLISHED_DIR
    result = check_prose(processed, published)
    with pd.option_context("display.max_rows", None, "display.max_colwidth", 200, "display.width", 250):
        print(result[["id", "geciteerd", "berekend", "status", "reden", "herkomst"]].to_string(index=False))
    print(result["status"].value_counts().to_string())
