"""The validation counts as a small JSON file next to ``validation.csv``, readable without pandas.

``python -m pipeline all`` prints them and fails on unexplained differences, and the index page
shows them, without importing the table machinery of :mod:`pipeline.check.validate`.

Keys (written by :func:`pipeline.check.validate.validate`): ``matched``, ``published``, ``expected``, ``errata``,
``unexplained``, ``summary``, ``error`` as before, plus the split by provenance: ``echt`` (cells computed
from real data only, cbs and afgeleid) and ``gegenereerd`` (calibrated to the report: a match proves
nothing), each with ``gepubliceerd``, ``gelijk``, ``binnen_marge`` (afgeleid, within the derivation
margin), ``verschilt``, ``verklaard``, ``onverklaard``, ``niet_berekenbaar``; ``tekst`` (the prose
claims: ``claims``, ``echt``, ``echt_klopt``, ``echt_verklaard``, ``echt_onverklaard``, ``gegenereerd``,
``gegenereerd_klopt``, ``niet_berekenbaar``); ``bevindingen`` (findings per kind) and ``keuzes`` (per
choice and option: cells touched, cells equal, cells that flip).
"""

from __future__ import annotations

import json

from pipeline.config import StudyConfig

SUMMARY_FILE = "validation.json"
SPLIT_KEYS = ("gepubliceerd", "gelijk", "binnen_marge", "verschilt", "verklaard", "onverklaard", "niet_berekenbaar")


def read_summary(config: StudyConfig) -> dict | None:
    """The counts the last validation wrote, or None when it never ran."""
    try:
        return json.loads((config.processed_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def provenance_split(summary: dict) -> tuple[dict, dict] | None:
    """(real data, generated) counts of a summary, or None for a summary written before the split."""
    real, generated = summary.get("echt"), summary.get("gegenereerd")
    if not isinstance(real, dict) or not isinstance(generated, dict):
        return None
    return ({k: int(real.get(k, 0)) for k in SPLIT_KEYS}, {k: int(generated.get(k, 0)) for k in SPLIT_KEYS})
