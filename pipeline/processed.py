"""The contract between the build and everything after it: ``data/processed``.

:mod:`pipeline.build` writes these files; the case notebooks, the check against the print, the run
and the report stages read them through this module only, never the raw snapshot. Each value column
``X`` of a processed CSV has a column ``X_herkomst`` (:data:`KIND_SUFFIX`) with the provenance kind
of its value: ``cbs``, ``afgeleid`` (derived from real CBS figures) or ``gegenereerd`` (demo values).
``provenance.json`` lists the tables behind them and the build's warnings.

The readers of names and provenance use the csv and json modules: pages that need only those (the
index of a no-op run) do not pay for importing pandas.
"""

from __future__ import annotations

import csv
import json
import re
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

from pipeline.errors import SnapshotError

PROCESSED_FILES = ("gemeenten.csv", "ses.csv", "lasten.csv", "jeugdhulp.csv", "kerncijfers.csv", "keuzes.csv",
                   "provenance.json")
NEDERLAND = "NL01"              # the row of the whole country in every processed table
KIND_SUFFIX = "_herkomst"       # column X_herkomst: the provenance kind of value column X
GENERATED = "gegenereerd"       # the kind of a value that rests on any generated input
WARNING_CODES = re.compile(r"\((GM\d{4}|NL\d{2}|JZ\d{2}|PV\d{2})\)")


@dataclass
class Processed:
    """The processed tables for all municipalities, as ``build`` wrote them."""

    gemeenten: "pd.DataFrame"  # noqa: F821 - pandas is imported when the tables are read
    ses: "pd.DataFrame"  # noqa: F821
    lasten: "pd.DataFrame"  # noqa: F821
    jeugdhulp: "pd.DataFrame"  # noqa: F821
    kerncijfers: "pd.DataFrame"  # noqa: F821
    keuzes: "pd.DataFrame"  # noqa: F821
    provenance: dict

    @classmethod
    def read(cls, directory: Path) -> "Processed":
        import pandas as pd

        missing = [name for name in PROCESSED_FILES if not (directory / name).exists()]
        if missing:
            raise SnapshotError(f"processed data missing in {directory} ({', '.join(missing)}); "
                                "run `python -m pipeline build` first")
        read = lambda name: pd.read_csv(directory / name, dtype={"code": str})  # noqa: E731
        return cls(gemeenten=read("gemeenten.csv"), ses=read("ses.csv"), lasten=read("lasten.csv"),
                   jeugdhulp=read("jeugdhulp.csv"), kerncijfers=read("kerncijfers.csv"), keuzes=read("keuzes.csv"),
                   provenance=read_provenance(directory))

    @property
    def generated(self) -> bool:
        return is_generated(self.provenance)

    @cached_property
    def names(self) -> "pd.Series":  # noqa: F821
        """Municipality names by code (``gemeenten.csv``), indexed once: a case looks names up a hundred times."""
        return self.gemeenten.set_index("code")["naam"]


def at_half_year(jeugdhulp, period, column: str):
    """One column of jeugdhulp.csv for one half year (anything with .year and .half), indexed by unit code."""
    rows = jeugdhulp[(jeugdhulp["jaar"] == period.year) & (jeugdhulp["halfjaar"] == period.half)]
    return rows.set_index("code")[column]


def read_provenance(processed_dir: Path) -> dict:
    """The tables of ``provenance.json``: per role (Iv3: per year) id, version, dates, hash, provenance blocks."""
    return _read_build(processed_dir)["tables"]


def read_build_warnings(processed_dir: Path) -> list[dict]:
    """The build's warnings (suppressed or absent values): per warning its ``line`` and every ``codes`` it concerns."""
    return [entry if isinstance(entry, dict) else {"line": entry, "codes": WARNING_CODES.findall(entry)}
            for entry in _read_build(processed_dir).get("warnings", [])]


def _read_build(processed_dir: Path) -> dict:
    return json.loads((processed_dir / "provenance.json").read_text(encoding="utf-8"))


def is_generated(provenance: dict) -> bool:
    """Whether any table behind the numbers is generated (the demo snapshot) instead of CBS's."""
    return any(entry.get("generated") for entry in provenance.values())


def read_names(processed_dir: Path) -> dict[str, str]:
    """Municipality names by code from ``gemeenten.csv``."""
    with open(processed_dir / "gemeenten.csv", encoding="utf-8", newline="") as handle:
        return {row["code"]: row["naam"] for row in csv.DictReader(handle)}
