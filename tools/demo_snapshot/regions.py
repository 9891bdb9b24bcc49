"""Municipalities of 2020 (84721NED) and membership of older codes via the merger crosswalk."""

from __future__ import annotations

from functools import lru_cache

import pandas as pd

from .population import crosswalk
from .sources import read_dump

LEVELS = {"JZ": "Code_16", "PV": "Code_26", "LD": "Code_24", "CR": "Code_8"}


@lru_cache(maxsize=None)
def gebieden() -> pd.DataFrame:
    frame = read_dump("84721NED")
    out = pd.DataFrame({"code": frame["Code_1"].str.strip(), "naam": frame["Naam_2"].str.strip()})
    for level, column in LEVELS.items():
        out[level] = frame[column].str.strip()
    out["jeugdregio_naam"] = frame["Naam_17"].str.strip()
    return out.set_index("code")


@lru_cache(maxsize=None)
def successor_2020(code: str) -> str:
    """The 2020 municipality an older code went (mostly) to, following the mergers up to 2020-01-01."""
    cw = crosswalk()
    moves = cw[(cw["old_code"] == code) & (cw["new_code"] != code) & (cw["date"] <= "2020-01-01")]
    if code in gebieden().index and moves.empty:
        return code
    if moves.empty:
        return code
    latest = moves[moves["date"] == moves["date"].max()]
    target = latest.sort_values(["inhabitants", "new_code"], ascending=[False, True])["new_code"].iloc[0]
    return successor_2020(target)


def region_of(code: str, level: str) -> str | None:
    succ = successor_2020(code)
    g = gebieden()
    return g.at[succ, level] if succ in g.index else None
