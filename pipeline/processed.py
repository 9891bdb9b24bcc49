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

TABLES = ("gemeenten", "ses", "lasten", "jeugdhulp", "kerncijfers", "keuzes")  # the CSVs, as fields of Processed
PROCESSED_FILES = (*(f"{name}.csv" for name in TABLES), "provenance.json")
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
        """The tables of ``directory``, parsed once per process while its files stay the same (:func:`_parsed`);
        each call gets its own copy of the frames, so no reader sees what another changed in place."""
        import copy

        parsed = _parsed(Path(directory))
        return cls(**{name: getattr(parsed, name).copy() for name in TABLES},
                   provenance=copy.deepcopy(parsed.provenance))

    @property
    def generated(self) -> bool:
        return is_generated(self.provenance)

    @cached_property
    def names(self) -> "pd.Series":  # noqa: F821
        """Municipality names by code (``gemeenten.csv``), indexed once: a case looks names up a hundred times."""
        return self.gemeenten.set_index("code")["naam"]


_PARSED: dict[Path, tuple[tuple, Processed]] = {}  # per directory: the files' signature and what they held


def _signature(directory: Path) -> tuple:
    """What identifies the processed files as written: per file its inode, size and modification time in
    nanoseconds. The build replaces a file by renaming a new one over it (:mod:`pipeline.iorw`), which changes
    all three, and leaves a file whose content would not change alone."""
    missing = [name for name in PROCESSED_FILES if not (directory / name).exists()]
    if missing:
        raise SnapshotError(f"processed data missing in {directory} ({', '.join(missing)}); "
                            "run `python -m pipeline build` first")
    stats = [(directory / name).stat() for name in PROCESSED_FILES]
    return tuple((s.st_ino, s.st_size, s.st_mtime_ns) for s in stats)


def _parsed(directory: Path) -> Processed:
    """The processed files parsed (pandas), or the parse this process made of the same files before.

    A parent parses them before it forks a child per case notebook (:func:`preload_processed`), so the
    children, which all read the same files, start with them parsed (0.04-0.06 s less each)."""
    import pandas as pd

    signature = _signature(directory)
    cached = _PARSED.get(directory)
    if cached is None or cached[0] != signature:
        read = lambda name: pd.read_csv(directory / f"{name}.csv", dtype={"code": str})  # noqa: E731
        cached = (signature, Processed(**{name: read(name) for name in TABLES}, provenance=read_provenance(directory)))
        _PARSED[directory] = cached
    return cached[1]


def preload_processed(directory: Path) -> None:
    """Parse the processed files now, in a process about to fork a child per case notebook or page: each
    child's :meth:`Processed.read` then copies this parse instead of reading the files again."""
    _parsed(Path(directory))


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
