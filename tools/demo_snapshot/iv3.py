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

from pipeline.build.indicators import round_half_up

from .constants import DATADERDEN, IV3, IV3_REGION_WIDTH, IV3_TITLE, STUDY, TAAKVELD_WIDTH
from .output import category, dimension_property, table_info, topic_property, write_table
from pipeline.data.mergers import predecessors_at

from .population import classification_before, crosswalk
from .regions import gebieden
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


def interval_pick(lo: float, hi: float, centre: float) -> int | None:
    """The whole number in [lo, hi) closest to ``centre``, or None when there is none."""
    first, last = int(np.ceil(lo)), int(np.ceil(hi)) - 1
    if first > last:
        return None
    return int(min(max(round(centre), first), last))


def scale_free(values: pd.Series, free: list[str], value_of, target: float, bounds=(0.05, 20.0)) -> float:
    """Scale the free entries (whole thousands) so ``value_of(values)`` reaches ``target``; returns the factor."""
    if not free:
        raise InputError("no free municipality left to calibrate a group with")
    start = values[free].astype(float).copy()
    lo, hi = bounds
    for _ in range(80):
        mid = (lo + hi) / 2
        values[free] = (start * mid).round()
        if value_of(values) < target:
            lo = mid
        else:
            hi = mid
    values[free] = (start * hi).round()
    return hi


def geen_opgave(muni: list[str], pop19: pd.Series, printed: set, excluded: set) -> str:
    """The municipality whose jaarrekening 2019 is all 'geen opgave': the first (by code) of 5 000-20 000
    inhabitants in no printed table and no case's jeugdregio (so no printed cell needs its figures)."""
    return next(c for c in muni if 5_000 <= pop19[c] < 20_000 and c not in printed and c not in excluded)


def build(rng, pops: dict[int, pd.Series], users: pd.Series, users17: pd.Series) -> dict:
    t = targets()
    cw = crosswalk()
    p19 = pops[2019]
    muni19 = sorted(gebieden().index)
    pop19 = p19[muni19].astype(float)
    pop20 = pops[2020][muni19].astype(float)
    classes = {label: [c for c in muni19 if lo <= pop20[c] < hi] for label, (lo, hi) in size_classes().items()}
    users19 = users[muni19].astype(float)
    printed = ({c for c in t.lasten_per_gebruiker_2019 if c.startswith("GM")}
               | {c for c in t.lasten_per_inwoner_2019 if c.startswith("GM")}
               | {c for c in t.index_lasten_per_inwoner if c.startswith("GM")}
               | set(t.ses_deciel) | set(t.armoede_deciel))
    g = gebieden()
    case_regions = {"JZ07", "JZ30", "JZ37", "JZ36"}
    no_report = geen_opgave(muni19, pop19, printed, set(g.index[g["JZ"].isin(case_regions)]))
    counted = [c for c in muni19 if c != no_report]          # members with a jaarrekening 2019 total
    # --- rekening 2019, 6.72 + 6.82 (x 1000 euro)
    L19 = (pd.Series(rng.normal(285, 45, len(muni19)).clip(150, 480), index=muni19) * pop19 / 1000).round()
    for code in printed:
        gpb = t.lasten_per_gebruiker_2019.get(code)
        lpi = t.lasten_per_inwoner_2019.get(code)
        pick = None
        if gpb is not None and lpi is not None:     # both printed: a whole amount that gives both, if one exists
            lo = max((gpb - 0.5) * users19[code], (lpi - 0.5) * pop19[code]) / 1000.0
            hi = min((gpb + 0.5) * users19[code], (lpi + 0.5) * pop19[code]) / 1000.0
            pick = interval_pick(lo, hi, gpb * users19[code] / 1000.0)
        if pick is None and gpb is not None:
            pick = round_half_up(gpb * users19[code] / 1000.0)
        if pick is None and lpi is not None:
            pick = round_half_up(lpi * pop19[code] / 1000.0)
        if pick is not None:
            L19[code] = pick
    fixed19 = {c for c in printed if c in t.lasten_per_gebruiker_2019 or c in t.lasten_per_inwoner_2019}
    free_all = [c for c in counted if c not in fixed19]
    used = set()
    for label, members in classes.items():
        key = f"size:{label}"
        if key in t.lasten_per_inwoner_2019:
            mem = [c for c in members if c in counted]
            free = [c for c in mem if c in free_all]
            scale_free(L19, free, lambda v, m=mem: v[m].sum() * 1000.0 / pop19[m].sum(), t.lasten_per_inwoner_2019[key])
            used.update(free)
    # Nederland: lasten and users of the municipalities with a jaarrekening (the build's rule)
    nl_users = users19[counted].sum()
    nl_total = round_half_up(t.lasten_per_gebruiker_2019["NL01"] * nl_users / 1000.0)
    rest = [c for c in free_all if c not in used]
    L19[rest] = (L19[rest] * (nl_total - L19[counted].drop(rest).sum()) / L19[rest].sum()).round()
    L19[rest[0]] += nl_total - L19[counted].sum()
    r19 = (L19 * 1000 / pop19).map(round_half_up)
    # --- begroting 2017 per inwoner in the 2017 classification; 2020 municipalities back-cast as the build does
    muni18 = classification_before(set(muni19), cw, "2019-01-01")
    muni17 = sorted(classification_before(muni18, cw, "2018-01-01"))
    pop17 = pops[2017][muni17].astype(float)
    set17 = set(muni17)
    parts = {m: ([(m, 1.0)] if m in set17 else predecessors_at(m, "2017-01-01", cw, "2020-01-01")) for m in muni19}
    for m, ps in parts.items():
        if any(p not in set17 for p, _ in ps):
            raise InputError(f"{m}: predecessors {ps} not all in the 2017 classification")

    def group17(values: pd.Series, members) -> float:
        num = sum(s * values[p] for m in members for p, s in parts[m])
        den = sum(s * pop17[p] for m in members for p, s in parts[m])
        return num * 1000.0 / den

    growth = pd.Series(rng.normal(1.45, 0.15, len(muni19)).clip(1.05, 2.0), index=muni19)
    b20 = (r19 / growth).round()                      # per inwoner 2017, by 2020 municipality
    for code, idx in t.index_lasten_per_inwoner.items():
        if code.startswith("GM"):
            b20[code] = integer_for_index(int(r19[code]), int(idx))
    owner = {p: m for m in muni19 for p, _ in parts[m]}
    L17 = pd.Series({p: round_half_up(b20[owner[p]] * pop17[p] / 1000.0) if p in owner
                     else round_half_up(float(b20.mean()) * pop17[p] / 1000.0) for p in muni17})
    fixed17 = {p for c in t.index_lasten_per_inwoner if c.startswith("GM") for p, _ in parts[c]}
    used17 = set()
    for label, members in classes.items():
        key = f"size:{label}"
        if key in t.index_lasten_per_inwoner:
            mem = [c for c in members if c in counted]
            r_group = round_half_up(L19[mem].sum() * 1000 / pop19[mem].sum())
            target = integer_for_index(int(r_group), int(t.index_lasten_per_inwoner[key]))
            free = [p for m in members for p, _ in parts[m] if p not in fixed17]
            scale_free(L17, free, lambda v, m=members: group17(v, m), target)
            used17.update(free)
    # Nederland: index 151 is out of reach (targets.py); the free municipalities move at most -25 % / +35 %
    r_nl = round_half_up(L19[counted].sum() * 1000 / pop19[counted].sum())
    target = integer_for_index(int(r_nl), int(t.index_lasten_per_inwoner["NL01"]))
    free = [p for p in muni17 if p not in fixed17 and p not in used17]
    scale_free(L17, free, lambda v: group17(v, muni19), target, bounds=(0.75, 1.35))
    # --- rekening 2017: begroting x N(1.06, 0.05); lasten per gebruiker 2017 to the prose's development 2017-2019
    rek17 = (L17 * rng.normal(1.06, 0.05, len(L17))).round()
    idx = t.prose.index_lasten_per_gebruiker
    fixed_rek = set()
    for code, target_index in idx.items():
        if code.startswith("GM"):
            gpb19 = round_half_up(L19[code] * 1000.0 / users19[code])
            gpb17 = gpb19 / (target_index / 100.0)
            (p, _), = parts[code]
            rek17[p] = round_half_up(gpb17 * float(users17[code]) / 1000.0)
            fixed_rek.add(p)
    nl19 = round_half_up(L19[counted].sum() * 1000.0 / nl_users)
    nl17 = nl19 / (idx["NL01"] / 100.0)
    free = [p for p in muni17 if p not in fixed_rek]
    total17 = lambda v: sum(s * v[p] for m in muni19 for p, s in parts[m]) * 1000.0 / float(users17["NL01"])  # noqa: E731
    scale_free(rek17, free, total17, nl17, bounds=(0.5, 2.0))
    return {"L19": L19, "pop19": pop19, "L17": L17, "rek17": rek17, "pop17": pop17, "muni17": muni17,
            "muni19": muni19, "classes": classes, "r19": r19, "geen_opgave": no_report}


def split(total: float, weights: dict[str, float], rng) -> dict[str, int]:
    w = np.array([weights[k] * rng.uniform(0.7, 1.3) for k in weights])
    raw = total * w / w.sum()
    parts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - parts), kind="stable")[: int(round(total - parts.sum()))]:
        parts[i] += 1
    return dict(zip(weights, parts.tolist()))


def table(out, year: int, totals: dict[str, pd.Series], pop: pd.Series, rng, missing_cells: set,
          no_report: tuple | None = None) -> None:
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
                    if no_report == (code, vs):
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
    note = ("no real Iv3 values offline: generated (fixed seed), calibrated to chapter 6 (lasten per gebruiker 2019, "
            "size-class lasten per inwoner, index begroting 2017; rekening 2017: lasten per gebruiker 2017-2019 of "
            "the prose); -99998 = geen opgave: two cells on taakvelden not summed (6.1, 6.71)")
    if no_report:
        note += f", and the whole {kinds[no_report[1]].lower()} of {no_report[0]} (not delivered)"
    blocks = [{"where": {}, "kind": "gegenereerd", "note": note}]
    write_table(out, table_id, sets, catalog=DATADERDEN, blocks=blocks,
                source=f"generated demo data in the shape of CBS dataderden table {table_id} ({title})")


def write(out, rng, pops, users, users17) -> dict:
    res = build(rng, pops, users, users17)
    beg19 = (res["L19"] * rng.normal(0.92, 0.05, len(res["L19"]))).round()
    # geen opgave: single cells on taakvelden not summed, and one municipality's whole jaarrekening 2019
    small = [c for c in res["muni19"] if c not in res["classes"].get("20-50K", []) and res["pop19"][c] < 20000
             and c != res["geen_opgave"]]
    missing = {(small[0], "6.1"), (small[1], "6.71")}
    table(out, 2017, {"X000": res["L17"], "X005": res["rek17"]}, res["pop17"], rng, missing)
    table(out, 2019, {"X000": beg19, "X005": res["L19"]}, res["pop19"], rng, missing, (res["geen_opgave"], "X005"))
    print(f"iv3: jaarrekening 2019 of {res['geen_opgave']} is geen opgave (-99998)")
    return res
