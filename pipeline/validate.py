"""Reproduction check: every computed chapter-6 cell side by side with the published one.

Two kinds of findings are kept apart:

* **data differences**: a computed cell that does not round to the printed value. Each is either
  listed, with a reason, in the reviewed file ``data/external/published/expected_differences.csv``, or it
  fails ``python -m pipeline validate`` (exit code 3), so CI catches a regression after a code change
  or a new CBS release;
* **errata**: places where the report disagrees with itself, found from the printed values alone:
  an index printed next to the two percentages it is built from, or one row printed in two tables.

Tolerance follows the printed rounding: deciles, euros and indices are compared as whole numbers,
percentages with one decimal (half up, as printed).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from .build import write_csv
from .iorw import write_text
from .validation_summary import SUMMARY_FILE
from .case import Processed, case_tables
from .config import StudyConfig
from .errors import PipelineError
from .formatting import printed_decimals
from .indicators import round_half_up
from .published import PUBLISHED_DIR, VALUE_COLUMNS, published_gebruik, published_lasten

EXPECTED_FILE = "expected_differences.csv"
MATCH, DIFFERS, NOT_PUBLISHED, NOT_COMPUTABLE = "match", "differs", "not published", "not computable"
CELL_COLUMNS = ["tabel", "rij_code", "rij_label", "kolom", "gepubliceerd_gedrukt", "gepubliceerd", "berekend",
                "berekend_afgerond", "verschil", "status", "verwacht", "reden"]


class ValidationError(PipelineError):
    """Computed cells differ from the report without a reviewed explanation."""

    exit_code = 3


def compare_cell(printed: float | None, computed: float | None, decimals: int) -> tuple[str, float | None, float | None]:
    """(status, computed rounded as printed, difference) for one cell."""
    printed_missing = printed is None or (isinstance(printed, float) and math.isnan(printed))
    computed_missing = computed is None or (isinstance(computed, float) and math.isnan(computed))
    if printed_missing:
        return NOT_PUBLISHED, (None if computed_missing else round_half_up(computed, decimals)), None
    if computed_missing:
        return NOT_COMPUTABLE, None, None
    rounded = round_half_up(float(computed), decimals)
    difference = round(rounded - float(printed), decimals)
    return (MATCH if difference == 0 else DIFFERS), rounded, difference


def load_expected(directory: Path = PUBLISHED_DIR) -> pd.DataFrame:
    """The reviewed list of known differences: tabel, rij_code, kolom, reden."""
    path = directory / EXPECTED_FILE
    frame = pd.read_csv(path, dtype={"tabel": int, "rij_code": str, "kolom": str, "reden": str})
    if frame["reden"].isna().any() or (frame["reden"].str.strip() == "").any():
        raise ValidationError(f"{path}: every expected difference needs a reason; fill in the reden column")
    return frame


def computed_tables(config: StudyConfig) -> dict[int, pd.DataFrame]:
    """The case tables exactly as the case notebooks build them, keyed by table number."""
    data = Processed.read(config.processed_dir)
    return {number: table for number, _, _, table in case_tables(config, data)}


def compare(computed: dict[int, pd.DataFrame], published: pd.DataFrame, expected: pd.DataFrame) -> pd.DataFrame:
    """One row per published cell (and per computed cell the report leaves out), with a status."""
    known = {(int(t), r, k): reason for t, r, k, reason in
             zip(expected["tabel"], expected["rij_code"], expected["kolom"], expected["reden"])}
    rows = []
    for number in sorted(set(published["tabel"])):
        pub = published[published["tabel"] == number].set_index("rij_code")
        mine = computed.get(number)
        mine = mine.set_index("rij_code") if mine is not None else pd.DataFrame()
        # only the columns printed in this table (the two table kinds are read from different files)
        columns = [c for c in pub.columns if f"{c}_gedrukt" in pub.columns and pub[f"{c}_gedrukt"].notna().all()]
        for code in pub.index:
            for column in columns:
                printed = pub.loc[code, column]
                value = mine.loc[code, column] if (code in mine.index and column in mine.columns) else None
                status, rounded, difference = compare_cell(printed, value, printed_decimals(column))
                reason = known.get((number, code, column), "")
                text = pub.loc[code, f"{column}_gedrukt"]
                if not reason and status == NOT_PUBLISHED:
                    reason = f"report prints {text!r}"
                if not reason and status == NOT_COMPUTABLE:
                    reason = "no value in the processed data"
                if "#" in str(text) and not reason:
                    reason = "report footnote #: figure taken from the municipality's annual accounts"
                rows.append({"tabel": number, "rij_code": code, "rij_label": pub.loc[code, "rij_label"],
                             "kolom": column, "gepubliceerd_gedrukt": text, "gepubliceerd": printed,
                             "berekend": value, "berekend_afgerond": rounded, "verschil": difference,
                             "status": status, "verwacht": (number, code, column) in known, "reden": reason})
    return pd.DataFrame(rows, columns=CELL_COLUMNS)


def _bounds_index(numerator: float, denominator: float) -> tuple[float, float]:
    """Smallest and largest index consistent with two percentages printed with one decimal."""
    low = (numerator - 0.05) / (denominator + 0.05) * 100
    high = (numerator + 0.05) / (denominator - 0.05) * 100
    return low, high


def find_errata(published: pd.DataFrame, base_column: str, current_column: str) -> pd.DataFrame:
    """Places where the printed report contradicts itself.

    1. An index printed next to the two one-decimal percentages it is computed from must lie within
       the range those rounded percentages allow (index of 100 = the base half year).
    2. A row printed in several tables (Nederland, a size class, a municipality's deciles) must show
       the same values everywhere.
    """
    findings = []
    gebruik = published.dropna(subset=[base_column, current_column, "index_pct_zonder_verblijf"])
    for row in gebruik.itertuples():
        base, current, printed = getattr(row, base_column), getattr(row, current_column), row.index_pct_zonder_verblijf
        low, high = _bounds_index(current, base)
        if not (round_half_up(low) <= printed <= round_half_up(high)):
            findings.append({
                "tabel": row.tabel, "rij_code": row.rij_code, "rij_label": row.rij_label,
                "kolom": "index_pct_zonder_verblijf", "gedrukt": f"{printed:.0f}",
                "verwacht_uit_gedrukte_waarden": f"{current / base * 100:.0f} ({low:.1f}-{high:.1f})",
                "toelichting": (f"{str(current).replace('.', ',')}% / {str(base).replace('.', ',')}% x 100 = "
                                f"{current / base * 100:.1f}, not {printed:.0f}")})
    value_columns = sorted({c for cols in VALUE_COLUMNS.values() for c in cols})
    for code, group in published.groupby("rij_code"):
        for column in value_columns:
            if column not in group:
                continue
            values = group[["tabel", column]].dropna()
            if values[column].nunique() > 1:
                listed = ", ".join(f"Tabel {t}: {v:g}" for t, v in zip(values["tabel"], values[column]))
                findings.append({"tabel": int(values["tabel"].iloc[0]), "rij_code": code,
                                 "rij_label": group["rij_label"].iloc[0], "kolom": column, "gedrukt": listed,
                                 "verwacht_uit_gedrukte_waarden": "one value", "toelichting": "same row, different values"})
    return pd.DataFrame(findings, columns=["tabel", "rij_code", "rij_label", "kolom", "gedrukt",
                                           "verwacht_uit_gedrukte_waarden", "toelichting"])


@dataclass
class ValidationResult:
    cells: pd.DataFrame
    errata: pd.DataFrame

    @property
    def published_cells(self) -> pd.DataFrame:
        return self.cells[self.cells["status"] != NOT_PUBLISHED]

    @property
    def unexplained(self) -> pd.DataFrame:
        bad = self.cells["status"].isin([DIFFERS, NOT_COMPUTABLE]) & ~self.cells["verwacht"]
        return self.cells[bad]

    def summary(self) -> str:
        n = self.counts()
        return (f"{n['matched']} of {n['published']} published cells match, {n['errata']} "
                f"{'erratum' if n['errata'] == 1 else 'errata'} in the report, {n['unexplained']} unexplained")

    def error(self) -> str | None:
        """The one-line error for unexplained differences (None when there are none)."""
        if not len(self.unexplained):
            return None
        first = self.unexplained.iloc[0]
        return (f"{len(self.unexplained)} computed cells differ from the report without a reviewed reason, first: "
                f"Tabel {first['tabel']} {first['rij_label']} {first['kolom']}: printed "
                f"{first['gepubliceerd_gedrukt']}, computed {first['berekend_afgerond']}; fix the cause or add it "
                f"with a reason to data/external/published/{EXPECTED_FILE}")

    def counts(self) -> dict:
        """Cells matched, published, explained by a reviewed reason; errata; unexplained differences."""
        cells = self.published_cells
        return {"matched": int((cells["status"] == MATCH).sum()), "published": len(cells),
                "expected": int(((cells["status"] != MATCH) & cells["verwacht"]).sum()),
                "errata": len(self.errata), "unexplained": len(self.unexplained)}


def validate(config: StudyConfig) -> ValidationResult:
    published = pd.concat([published_lasten(config.published_dir), published_gebruik(config.published_dir)],
                          ignore_index=True)
    cells = compare(computed_tables(config), published, load_expected(config.published_dir))
    b, c = config.periods.jeugdhulp_base, config.periods.jeugdhulp_current
    errata = find_errata(published, f"pct_zonder_verblijf_{b.year}hj{b.half}",
                         f"pct_zonder_verblijf_{c.year}hj{c.half}")
    result = ValidationResult(cells=cells, errata=errata)
    write_csv(cells, config.processed_dir / "validation.csv")
    write_csv(errata, config.processed_dir / "errata.csv")
    summary = {**result.counts(), "summary": result.summary(), "error": result.error()}
    write_text(config.processed_dir / SUMMARY_FILE, json.dumps(summary, indent=2, ensure_ascii=False) + "\n")
    return result


def validate_command(config: StudyConfig) -> int:
    result = validate(config)
    print(f"validation: {result.summary()} (data/processed/validation.csv)")
    if result.error():
        raise ValidationError(result.error())
    return 0
