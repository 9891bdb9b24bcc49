"""Reading the real inputs in data/external/cbs/ and mapping the dumps' titles back to CBS keys."""

from __future__ import annotations

import json
import re
from functools import lru_cache

import pandas as pd

from .constants import CAPTURE, DUMPS


class InputError(SystemExit):
    """One-line failure (the CLI prints it without a traceback)."""


def read_dump(table_id: str) -> pd.DataFrame:
    path = DUMPS / f"{table_id}.csv"
    if not path.exists():
        raise InputError(f"input {path} missing; run `python -m tools.demo_snapshot.inputs /work/shared/data` once")
    return pd.read_csv(path, sep=";", encoding="utf-8-sig", dtype=str, keep_default_na=False)


def to_number(values: pd.Series) -> pd.Series:
    """Dump cells as floats; empty cells (CBS suppression / no figure) become NaN, never zero."""
    return pd.to_numeric(values.replace({"": None, ".": None}), errors="raise")


def capture_json(name: str) -> dict:
    path = CAPTURE / name
    if not path.exists():
        raise InputError(f"input {path} missing; run `python -m tools.demo_snapshot.inputs /work/shared/data` once")
    return json.loads(path.read_text(encoding="utf-8"))


def capture_codes(dimension: str) -> list[dict]:
    return capture_json(f"codes-{dimension}.json")["value"]


# Names CBS used in older tables for regions that later got a new title
REGION_ALIASES = {"Friesland (PV)": "Fryslân (PV)"}
SUFFIX = re.compile(r"^(?P<name>.+) \((?P<kind>PV|LD|JZ|CR|AM)\)$")
PAIR_PREFIX = {"JZ": ("Code_16", "Naam_17"), "AM": ("Code_4", "Naam_5"), "CR": ("Code_8", "Naam_9"),
               "LD": ("Code_24", "Naam_25"), "PV": ("Code_26", "Naam_27")}


@lru_cache(maxsize=None)
def region_lookup() -> tuple[dict, dict]:
    """(title -> code from 03759ned's RegioS codes, (kind, name) -> code from Gebieden in Nederland 2019/2020)."""
    by_title: dict[str, str] = {}
    for code in capture_codes("RegioS"):
        title = code["Title"].strip()
        if title in by_title and by_title[title] != code["Identifier"]:
            raise InputError(f"03759ned RegioS title {title!r} is ambiguous")
        by_title[title] = code["Identifier"]
    pairs: dict[tuple[str, str], str] = {}
    for table in ("84721NED", "84378NED"):
        frame = read_dump(table)
        for _, row in frame.iterrows():
            pairs.setdefault(("GM", row["Naam_2"].strip()), row["Code_1"].strip())
            pairs.setdefault(("GM", row["RegioS"].strip()), row["Code_1"].strip())
            for kind, (code_col, name_col) in PAIR_PREFIX.items():
                if code_col in frame:
                    pairs.setdefault((kind, row[name_col].strip()), row[code_col].strip())
    return by_title, pairs


def region_code(title: str) -> str | None:
    by_title, pairs = region_lookup()
    title = REGION_ALIASES.get(title.strip(), title.strip())
    if title in by_title:
        return by_title[title]
    match = SUFFIX.match(title)
    if match:
        return pairs.get((match["kind"], match["name"]))
    if title.endswith(" (gemeente)"):
        return pairs.get(("GM", title[: -len(" (gemeente)")]))
    return pairs.get(("GM", title))


def map_regions(titles: pd.Series, table_id: str) -> pd.Series:
    """Region keys for the dump's titles; every title must map, else a one-line error naming them."""
    unique = titles.drop_duplicates()
    codes = {t: region_code(t) for t in unique}
    missing = sorted(t for t, c in codes.items() if c is None)
    if missing:
        raise InputError(f"{table_id}: {len(missing)} region titles map to no CBS code: {', '.join(missing[:10])}")
    mapped = pd.Series(codes)
    clash = mapped[mapped.duplicated(keep=False)]
    if not clash.empty:
        raise InputError(f"{table_id}: region titles {', '.join(clash.index[:6])} map to the same codes")
    return titles.map(codes)


PERIOD = re.compile(r"^(?:(?P<half>[12])e half ?jaar )?(?P<year>\d{4})\*?$")


def period_key(title: str) -> str:
    match = PERIOD.match(title.strip())
    if not match:
        raise InputError(f"period title {title!r} is neither 'YYYY' nor '1e halfjaar YYYY'")
    return f"{match['year']}HJ0{match['half']}" if match["half"] else f"{match['year']}JJ00"


def map_periods(titles: pd.Series) -> pd.Series:
    return titles.map({t: period_key(t) for t in titles.drop_duplicates()})


def pad(key: str, width: int) -> str:
    return key.ljust(width)
