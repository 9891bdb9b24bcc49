"""Iv3 per-year tables on dataderden (45038NED 2017, 45046NED 2019): fully generated, calibrated to chapter 6.

Lasten of a taakveld = sum over its L categories (x 1 000 euro). Calibration (targets.py):
* jaarrekening 2019 (6.72 + 6.82) of a printed municipality = printed lasten per gebruiker x real users
  (84134NED JZ Totaal 2019JJ00) / 1000; Nederland total = 11 409 x NL users / 1000; size-class groups
  (sum lasten / sum inhabitants, members by 2020 population, config/study.yml size_classes) hit the printed
  value through their non-printed members; lasten per inwoner of a municipality then follows (a check).
* begroting 2017: per inwoner such that round(rekening 2019) / round(begroting 2017) x 100 rounds to the printed
  index (municipalities; merged ones through their predecessors; NL01 and size classes by sum / sum).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import yaml

from pipeline.indicators import round_half_up

from .constants import DATADERDEN, IV3, IV3_REGION_WIDTH, IV3_TITLE, STUDY, TAAKVELD_WIDTH
from .output import category, dimension_property, table_info, topic_property, write_table
from .population import classification_before, crosswalk
from .regions import gebieden, successor_2020
from .sources import InputError, capture_codes, pad
from .targets import targets

TAAKVELDEN = {"6.1": "6.1 Samenkracht en burgerparticipatie", "6.71": "6.71 Maatwerkdienstverlening 18+",
              "6.72": "6.72 Maatwerkdienstverlening 18-", "6.81": "6.81 Geëscaleerde zorg 18+",
              "6.82": "6.82 Geëscaleerde zorg 18-"}
SUMMED = ("6.72", "6.82")
CATEGORIES = {"L1.1": "Salarissen en sociale lasten", "L3.8": "Overige goederen en diensten",
              "L4.3.1": "Inkomensoverdrachten - gemeenschappelijke regelingen",
              "L4.4.2": "Inkomensoverdrachten - overige", "B3.8": "Overige goederen en diensten (baten)",
              "B4.3.1": "Inkomensoverdrachten - gemeenschappelijke regelingen (baten)"}
L_WEIGHTS = {"L1.1": 0.06, "L3.8": 0.64, "L4.3.1": 0.22, "L4.4.2": 0.08}
MISSING = -99998


def size_classes() -> dict[str, tuple[int, int]]:
    study = yaml.safe_load(STUDY.read_text(encoding="utf-8"))
    return {k: (v["min"], v["max"]) for k, v in study["size_classes"].items()}


def integer_for_index(value: int, index: int) -> int:
    centre = value * 100.0 / index
    for step in range(0, 50):
        for b in (int(round(centre)) - step, int(round(centre)) + step):
            if b > 0 and round_half_up(value / b * 100.0) == index:
                return b
    raise InputError(f"no whole-euro base gives index {index} for {value}")


def scale_to(values: pd.Series, free: list[str], members: list[str], pop: pd.Series, target: float) -> None:
    """Scale the free members' lasten so round(sum lasten / sum pop over members) == target (whole euros)."""
    if not free:
        raise InputError("no free municipality left to calibrate a group with")
    start = values[free].astype(float).copy()
    lo, hi = 0.05, 20.0
    want = target
    for _ in range(80):
        mid = (lo + hi) / 2
        trial = values.copy()
        trial[free] = (start * mid).round()
        if trial[members].sum() * 1000.0 / pop[members].sum() < want:
            lo = mid
        else:
            hi = mid
    values[free] = (start * hi).round()


def build(rng, pops: dict[int, pd.Series], users: pd.Series) -> dict:
    t = targets()
    cw = crosswalk()
    p19 = pops[2019]
    muni19 = sorted(gebieden().index)
    pop19 = p19[muni19].astype(float)
    pop20 = pops[2020][muni19].astype(float)
    classes = {label: [c for c in muni19 if lo <= pop20[c] < hi] for label, (lo, hi) in size_classes().items()}
    users19 = users[muni19].astype(float)
    # --- rekening 2019, 6.72 + 6.82 (x 1000 euro)
    L19 = (pd.Series(rng.normal(285, 45, len(muni19)).clip(150, 480), index=muni19) * pop19 / 1000).round()
    printed = set()
    for code, g in t.lasten_per_gebruiker_2019.items():
        if code.startswith("GM"):
            L19[code] = round_half_up(g * users19[code] / 1000.0)
            printed.add(code)
    for code, v in t.lasten_per_inwoner_2019.items():
        if code.startswith("GM"):
            printed.add(code)
    free_all = [c for c in muni19 if c not in printed]
    used = set()
    for label, members in classes.items():
        key = f"size:{label}"
        if key in t.lasten_per_inwoner_2019:
            free = [c for c in members if c in free_all]
            scale_to(L19, free, members, pop19, t.lasten_per_inwoner_2019[key])
            used.update(free)
    nl_total = round_half_up(t.lasten_per_gebruiker_2019["NL01"] * float(users["NL01"]) / 1000.0)
    rest = [c for c in free_all if c not in used]
    L19[rest] = (L19[rest] * (nl_total - L19.drop(rest).sum()) / L19[rest].sum()).round()
    L19[rest[0]] += nl_total - L19.sum()
    r19 = (L19 * 1000 / pop19).map(round_half_up)
    # --- begroting 2017 per inwoner in the 2017 classification
    muni18 = classification_before(set(muni19), cw, "2019-01-01")
    muni17 = sorted(classification_before(muni18, cw, "2018-01-01"))
    pop17 = pops[2017][muni17].astype(float)
    succ = pd.Series({c: successor_2020(c) for c in muni17})
    growth = pd.Series(rng.normal(1.45, 0.15, len(muni19)).clip(1.05, 2.0), index=muni19)
    b20 = (r19 / growth).round()                      # per inwoner 2017, by 2020 municipality
    for code, idx in t.index_lasten_per_inwoner.items():
        if code.startswith("GM"):
            b20[code] = integer_for_index(int(r19[code]), int(idx))
    L17 = pd.Series({c: round_half_up(b20[succ[c]] * pop17[c] / 1000.0) for c in muni17})
    groups17 = {m: succ.index[succ == m].tolist() for m in muni19}

    def members17(members):
        return [p for m in members for p in groups17[m]]
    fixed17 = set(members17([c for c in t.index_lasten_per_inwoner if c.startswith("GM")]))
    free17_all = [c for c in muni17 if c not in fixed17]
    used17 = set()
    for label, members in classes.items():
        key = f"size:{label}"
        if key in t.index_lasten_per_inwoner:
            r_group = round_half_up(L19[members].sum() * 1000 / pop19[members].sum())
            target = integer_for_index(int(r_group), int(t.index_lasten_per_inwoner[key]))
            m17 = members17(members)
            free = [c for c in m17 if c in free17_all]
            scale_to(L17, free, m17, pop17, target)
            used17.update(free)
    r_nl = round_half_up(L19.sum() * 1000 / pop19.sum())
    target = integer_for_index(int(r_nl), int(t.index_lasten_per_inwoner["NL01"]))
    free = [c for c in free17_all if c not in used17]
    scale_to(L17, free, muni17, pop17, target)
    return {"L19": L19, "pop19": pop19, "L17": L17, "pop17": pop17, "muni17": muni17, "muni19": muni19,
            "classes": classes, "succ": succ, "r19": r19}


def split(total: float, weights: dict[str, float], rng) -> dict[str, int]:
    w = np.array([weights[k] * rng.uniform(0.7, 1.3) for k in weights])
    raw = total * w / w.sum()
    parts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - parts), kind="stable")[: int(round(total - parts.sum()))]:
        parts[i] += 1
    return dict(zip(weights, parts.tolist()))


def table(year: int, totals: dict[str, pd.Series], pop: pd.Series, rng, missing_cells: set) -> None:
    names = {c["Identifier"]: c["Title"] for c in capture_codes("RegioS")}
    codes = sorted(pop.index)
    share = pd.Series(rng.uniform(0.70, 0.90, len(codes)), index=codes)
    rows = []
    for vs, total in totals.items():
        for code in codes:
            first = round(float(total[code]) * share[code])
            per_tv = {"6.72": first, "6.82": float(total[code]) - first,
                      "6.71": round(pop[code] * rng.normal(160, 30) / 1000), "6.81": round(pop[code] * rng.normal(25, 8) / 1000),
                      "6.1": round(pop[code] * rng.normal(90, 20) / 1000)}
            for tv, amount in per_tv.items():
                parts = split(max(amount, 0), L_WEIGHTS, rng)
                if (code, tv) in missing_cells and tv in SUMMED:
                    parts["L3.8"] += parts["L4.4.2"]
                    parts["L4.4.2"] = MISSING
                baten = {"B3.8": round(amount * rng.uniform(0.0, 0.05)), "B4.3.1": round(amount * rng.uniform(0.0, 0.03))}
                for cat in CATEGORIES:
                    v1 = parts.get(cat, baten.get(cat))
                    if (code, tv) in missing_cells and tv not in SUMMED and cat in ("L1.1", "B3.8"):
                        v1 = MISSING
                    rows.append({"ID": 0, "Gemeenten": pad(code, IV3_REGION_WIDTH),
                                 "TaakveldBalanspost": pad(tv, TAAKVELD_WIDTH), "Categorie": pad(cat, 8),
                                 "Verslagsoort": f"{year}{vs}", "k_1ePlaatsing_1": int(v1),
                                 "k_2ePlaatsing_2": MISSING if v1 == MISSING else int(v1) if cat.startswith("B") else 0})
    table_id = IV3[year]
    title = IV3_TITLE.format(year=year)
    kinds = {"X000": "Begroting", "X001": "1e kwartaal", "X002": "2e kwartaal", "X003": "3e kwartaal",
             "X004": "4e kwartaal", "X005": "Jaarrekening"}
    sets = {"TableInfos": [table_info(table_id, title, title, catalog=DATADERDEN, modified=f"{year + 1}-11-30T02:00:00",
                                      period=str(year))],
            "DataProperties": [dimension_property(0, "Gemeenten", "Gemeenten", "GeoDimension"),
                               dimension_property(1, "TaakveldBalanspost", "Taakveld/Balanspost"),
                               dimension_property(2, "Categorie", "Categorie"),
                               dimension_property(3, "Verslagsoort", "Verslagsoort"),
                               topic_property(4, "k_1ePlaatsing_1", "1e plaatsing", "x 1 000 euro", 0),
                               topic_property(5, "k_2ePlaatsing_2", "2e plaatsing", "x 1 000 euro", 0)],
            "Gemeenten": [category(pad(c, IV3_REGION_WIDTH), names.get(c, c)) for c in codes],
            "TaakveldBalanspost": [category(pad(k, TAAKVELD_WIDTH), v) for k, v in TAAKVELDEN.items()],
            "Categorie": [category(pad(k, 8), f"{k} {v}") for k, v in CATEGORIES.items()],
            "Verslagsoort": [category(f"{year}{k}", v) for k, v in kinds.items()],
            "TypedDataSet": rows}
    blocks = [{"where": {}, "kind": "gegenereerd",
               "note": "no real Iv3 values offline: generated (fixed seed), calibrated to chapter 6 (lasten per "
                       "gebruiker 2019, size-class lasten per inwoner, index begroting 2017); -99998 = geen opgave"}]
    write_table(table_id, sets, catalog=DATADERDEN, blocks=blocks,
                source=f"generated demo data in the shape of CBS dataderden table {table_id} ({title})")


def write(rng, pops, users) -> dict:
    res = build(rng, pops, users)
    b17 = res["L17"]
    rek17 = (b17 * rng.normal(1.06, 0.05, len(b17))).round()
    beg19 = (res["L19"] * rng.normal(0.92, 0.05, len(res["L19"]))).round()
    # geen opgave: on taakvelden not summed, and once on a summed one of a municipality in no printed table
    small = [c for c in res["muni19"] if c not in res["classes"].get("20-50K", []) and res["pop19"][c] < 20000]
    missing = {(small[0], "6.1"), (small[1], "6.71"), (small[2], "6.72")}
    table(2017, {"X000": b17, "X005": rek17}, res["pop17"], rng, missing)
    table(2019, {"X000": beg19, "X005": res["L19"]}, res["pop19"], rng, missing)
    return res
