"""CBS periods: years and half years recognised from the Perioden dimension, by key pattern or title.

CBS v3 period keys are ``2017JJ00`` (year) and ``2017HJ01`` (half year); titles are ``2017``,
``1e halfjaar 2017`` (84134NED) or ``1e half jaar 2024`` (its successor 85099NED), and older
releases write ``2017 1e halfjaar``. Keys are tried first, then titles; a period neither describes
(quarters, months) is left out. Nothing here assumes which periods a table has.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from pipeline.errors import SnapshotError

HALF_YEAR_KEY = re.compile(r"^(?P<year>\d{4})HJ0?(?P<half>[12])$")
YEAR_KEY = re.compile(r"^(?P<year>\d{4})JJ00$")
HALF_YEAR_TITLE = (re.compile(r"^(?P<half>[12])e\s+half\s*jaar\s+(?P<year>\d{4})\b", re.IGNORECASE),
                   re.compile(r"^(?P<year>\d{4})\s+(?P<half>[12])e\s+half\s*jaar\b", re.IGNORECASE))
YEAR_TITLE = re.compile(r"^(?P<year>\d{4})\s*\*?$")


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


def recognise(key: str, title: str) -> tuple[int, int | None] | None:
    """(year, half or None) of one period, from its key pattern or else its title; None when neither fits."""
    title = " ".join(str(title).split())
    candidates = [(HALF_YEAR_KEY, key), (YEAR_KEY, key), *((p, title) for p in HALF_YEAR_TITLE), (YEAR_TITLE, title)]
    for pattern, text in candidates:
        match = pattern.match(text)
        if match:
            half = match.groupdict().get("half")
            return int(match["year"]), int(half) if half else None
    return None


def parse_periods(dimension: pd.DataFrame) -> list[Period]:
    """Half years and years of a Perioden dimension (Key, Title, Status), in the table's order.

    A period CBS marks provisional (Status ``Voorlopig``, or a title ending in ``*``) is flagged,
    since its figures will be revised in a later release.
    """
    result = []
    for row in dimension.itertuples():
        title = str(row.Title).strip()
        found = recognise(str(row.Key).strip(), title)
        if found is None:
            continue
        status = str(getattr(row, "Status", "") or "")
        provisional = status.lower().startswith("voorlopig") or title.endswith("*")
        result.append(Period(str(row.Key).strip(), title, found[0], found[1], provisional))
    return result


def find_half_year(periods: list[Period], year: int, half: int, table_id: str) -> Period:
    for p in periods:
        if p.year == year and p.half == half:
            return p
    have = ", ".join(p.label for p in periods if p.half)
    raise SnapshotError(f"table {table_id} has no period {year}HJ{half} (has {have or 'no half years'}); "
                        "change periods in config/study.yml or fetch a snapshot that covers it")


def find_year(periods: list[Period], year: int, table_id: str) -> Period:
    for p in periods:
        if p.year == year and p.half is None:
            return p
    have = ", ".join(p.label for p in periods if not p.half)
    raise SnapshotError(f"table {table_id} has no year {year} (has {have or 'no years'}); "
                        "change periods in config/study.yml or fetch a snapshot that covers it")
