"""Municipal mergers (gemeentelijke herindelingen) as a crosswalk, parsed from CBS's own texts.

CBS describes every herindeling in the ``Description`` of the RegioS dimension, e.g. for Altena
(GM1959): "Ontstaan per 01-01-2019, ontvangen van: - Aalburg (GM0738), ... 13321 inwoners; - Werkendam
(GM0870) ...". The crosswalk turns those texts into rows ``old_code -> new_code`` with the date and the
inhabitants that moved, so figures published in an older classification can be back-cast to a newer
one (annex 3, note 6: Altena and West Betuwe before 2019). Boundary corrections (grenswijzigingen) move
a handful of inhabitants and are deliberately left out.
"""

from __future__ import annotations

import re
from datetime import date

import pandas as pd

_EVENT = re.compile(r"^(Ontstaan|Gemeentelijke herindeling) per (\d\d)-(\d\d)-(\d{4}), ontvangen van:")
_SOURCE = re.compile(r"^- (?P<name>.+?) \((?P<code>GM\d{4})\)")
_SIZE = re.compile(r"(?P<inhabitants>\d+) inwoners")
CROSSWALK_COLUMNS = ["old_code", "old_name", "new_code", "date", "inhabitants"]


def parse_merger_text(new_code: str, text: str) -> list[dict]:
    """All predecessors named in one municipality's CBS description, one dict per predecessor."""
    rows: list[dict] = []
    event_date = None
    pending = None
    for line in text.replace("\r\n", "\n").split("\n"):
        line = line.strip()
        event = _EVENT.match(line)
        if event:
            day, month, year = int(event.group(2)), int(event.group(3)), int(event.group(4))
            event_date = date(year, month, day).isoformat()
            continue
        if event_date is None:
            continue
        source = _SOURCE.match(line)
        if source:
            pending = {"old_code": source.group("code"), "old_name": source.group("name"),
                       "new_code": new_code, "date": event_date}
            continue
        size = _SIZE.search(line)
        if pending and line.startswith("...") and size:
            pending["inhabitants"] = int(size.group("inhabitants"))
            # A municipality that absorbs others lists itself too: kept as old_code == new_code.
            rows.append(pending)
            pending = None
            continue
        if not line or not line.startswith(("-", "...")):
            event_date = None  # the block of predecessors has ended
    return rows


def build_crosswalk(regions: pd.DataFrame) -> pd.DataFrame:
    """Crosswalk from a RegioS dimension table (columns Key, Description), sorted for determinism."""
    rows = []
    for key, text in zip(regions["Key"].tolist(), regions["Description"].fillna("").tolist()):
        if key.startswith("GM") and "ontvangen van:" in text:   # the words every merger text has (_EVENT)
            rows.extend(parse_merger_text(key, text))
    frame = pd.DataFrame(rows, columns=CROSSWALK_COLUMNS)
    frame["inhabitants"] = frame["inhabitants"].astype("int64")
    return frame.sort_values(["date", "new_code", "old_code"]).reset_index(drop=True)


class CrosswalkIndex:
    """The crosswalk as lookups: merger events per new code, and the inhabitants moved per old code and date."""

    def __init__(self, crosswalk: pd.DataFrame):
        self.events: dict[str, list[tuple[str, str, int]]] = {}
        self.moved: dict[tuple[str, str], int] = {}
        for old, new, when, inhabitants in zip(crosswalk["old_code"], crosswalk["new_code"], crosswalk["date"],
                                               crosswalk["inhabitants"]):
            self.events.setdefault(new, []).append((when, old, int(inhabitants)))
            self.moved[(old, when)] = self.moved.get((old, when), 0) + int(inhabitants)


def predecessors_at(code: str, period_start: str, crosswalk, as_of: str,
                    _before: str | None = None) -> list[tuple[str, float]]:
    """The municipalities that made up ``code`` on ``period_start`` (ISO date), with the share of each.

    Follows merger chains backwards: a municipality formed after ``period_start`` is replaced by its
    predecessors, recursively. A row whose old and new code are equal is the municipality continuing
    through a merger (Haarlemmermeer absorbing Haarlemmerliede in 2019). The share is the fraction of a
    predecessor's inhabitants that went to ``code`` (1.0 for a whole-municipality merger), so a
    municipality split over several successors counts only in part. ``as_of`` is the date of the
    classification ``code`` belongs to: later mergers (Haaren split over four successors in 2021) do
    not concern a 2020 municipality. ``crosswalk`` is the crosswalk frame or its :class:`CrosswalkIndex`.
    """
    index = crosswalk if isinstance(crosswalk, CrosswalkIndex) else CrosswalkIndex(crosswalk)
    events = [e for e in index.events.get(code, []) if period_start < e[0] <= as_of
              and (_before is None or e[0] < _before)]
    if not events:
        return [(code, 1.0)]
    latest = max(e[0] for e in events)
    result: list[tuple[str, float]] = []
    for _, old_code, inhabitants in (e for e in events if e[0] == latest):
        total = index.moved.get((old_code, latest), 0)
        share = float(inhabitants) / float(total) if total else 1.0
        for pred, pred_share in predecessors_at(old_code, period_start, index, as_of, _before=latest):
            result.append((pred, share * pred_share))
    return result
