"""The validation counts as a small JSON file next to ``validation.csv``, readable without pandas.

``python -m pipeline all`` prints them and fails on unexplained differences, and the index page
shows them, without importing the table machinery of :mod:`pipeline.validate`.
"""

from __future__ import annotations

import json

from .config import StudyConfig

SUMMARY_FILE = "validation.json"


def read_summary(config: StudyConfig) -> dict | None:
    """The counts the last validation wrote, or None when it never ran."""
    try:
        return json.loads((config.processed_dir / SUMMARY_FILE).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None
