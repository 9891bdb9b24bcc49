"""84134NED Kerncijfers jeugdzorg with dimension VormenVanJeugdzorg.

* JZ Totaal jeugdzorg: real, every region and period of the dump's complete block (``cbs``).
* JH 121 / JH 1211 / JH 122, 2015-2017: derived from real 83432NED (``afgeleid``): count = 'alleen zorg in
  natura' + 'zorg in natura en pgb' (_7 + _65, _8 + _66, _13 + _71), relative over that table's youth base.
* the same forms 2018HJ01-2020JJ00 (and regions 83432NED lacks): ``gegenereerd``, as a share of the real
  JZ Totaal count of the same row (so real seasonality and level carry over), starting from the real 2017
  shares, smooth drift, a COVID dip in 2020 H1, calibrated to the printed 2020 H1 percentages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.indicators import round_half_up

from .constants import JEUGDZORG, OPENDATA, REGION_WIDTH, VORM_WIDTH, VORMEN, DUMP_SOURCE
from .output import category, dimension_property, period_entry, period_title, table_info, topic_property, write_table
from .regions import LEVELS, region_of, successor_2020
from .sources import InputError, map_periods, map_regions, pad, read_dump, to_number
from .targets import targets

FORMS = ["JH121", "JH1211", "JH122"]
REAL_YEARS = (2015, 2016, 2017)
GEN_PERIODS = [f"{y}{p}" for y in (2018, 2019, 2020) for p in ("HJ01", "HJ02", "JJ00")]


def round5(x: float) -> float:
    return float(5 * round_half_up(x / 5.0)) if x == x else np.nan


def relative(count: float, base: float) -> float:
    if not (count == count and base == base) or base <= 0:
        return np.nan
    return round_half_up(count / base * 100.0, 1)


def count_for_pct(target: float, base: float) -> float:
    centre = target / 100.0 * base
    for step in range(0, 200):
        for c in (round(centre) - step, round(centre) + step):
            if c >= 0 and relative(c, base) == target:
                return float(c)
    raise InputError(f"no count gives {target}% of a youth base {base:.0f}")


def real_total() -> pd.DataFrame:
    d = read_dump(JEUGDZORG)
    d["code"] = map_regions(d["RegioS"], JEUGDZORG)
    d["per"] = map_periods(d["Perioden"])
    out = pd.DataFrame({"code": d["code"], "per": d["per"], "title": d["RegioS"],
                        "jong": to_number(d["JongerenMetJeugdzorg_1"]),
                        "rel": to_number(d["JongerenMetJeugdzorgRelatief_2"]),
                        "traj": to_number(d["Jeugdzorgtrajecten_3"])})
    out["base"] = out["jong"] / out["rel"] * 100.0
    return out.set_index(["code", "per"])


def derived_2015_2017() -> pd.DataFrame:
    d = read_dump("83432NED")
    d = d[(d["Leeftijd"] == "Totaal") & d["Geslacht"].str.startswith("Totaal")]
    d = d.assign(code=map_regions(d["RegioS"], "83432NED"), per=map_periods(d["Perioden"]))
    num = {c: to_number(d[c]) for c in d.columns if c[-1].isdigit()}
    base = num["TotaalJongerenMetJeugdzorg_1"] / num["TotaalJongerenMetJeugdzorgRelatief_2"] * 100.0
    out = pd.DataFrame({"code": d["code"], "per": d["per"], "base": base,
                        "JH121": num["TotaalJeugdhulpZonderVerblijf_7"] + num["TotaalJeugdhulpZonderVerblijf_65"],
                        "JH1211": num["UitgevoerdDoorHetWijkOfBuurtteam_8"] + num["UitgevoerdDoorHetWijkOfBuurtteam_66"],
                        "JH122": num["TotaalJeugdhulpMetVerblijf_13"] + num["TotaalJeugdhulpMetVerblijf_71"]})
    return out.set_index(["code", "per"])


def generate(total: pd.DataFrame, derived: pd.DataFrame, rng) -> pd.DataFrame:
    """Unrounded counts per (code, per) and form for the generated rows (GM first, regions as member sums)."""
    codes = sorted(total.index.get_level_values(0).unique())
    gm = [c for c in codes if c.startswith("GM")]
    jz = total["jong"]
    # real 2017 shares of each form in JZ Totaal, by half (HJ01 / HJ02 / JJ00); national share as fallback
    share: dict[tuple[str, str, str], float] = {}
    for form in FORMS:
        for suffix in ("HJ01", "HJ02", "JJ00"):
            per = f"2017{suffix}"
            nat = derived.at[("NL01", per), form] / jz[("NL01", per)]
            for code in codes:
                value = np.nan
                if (code, per) in derived.index and (code, per) in jz.index:
                    value = derived.at[(code, per), form] / jz[(code, per)]
                share[(code, form, suffix)] = value if value == value else (nat if form != "JH1211" else np.nan)
    # new municipalities (2019) pool their predecessors' 2017 shares
    for code in gm:
        for form in FORMS:
            for suffix in ("HJ01", "HJ02", "JJ00"):
                per = f"2017{suffix}"
                if (code, per) in derived.index:
                    continue
                preds = [c for c in gm if c != code and successor_2020(c) == code and (c, per) in derived.index]
                if preds:
                    num = sum(derived.at[(c, per), form] for c in preds)
                    den = sum(jz[(c, per)] for c in preds)
                    if num == num and den == den and den > 0:
                        share[(code, form, suffix)] = num / den
    drift = {code: rng.normal(0.0, 0.03) for code in codes}
    wdrift = {code: rng.normal(0.04, 0.03) for code in codes}
    dip = {code: float(np.clip(rng.normal(0.955, 0.02), 0.88, 1.0)) for code in codes}
    rows = {}
    for code in gm:
        for per in GEN_PERIODS:
            if (code, per) not in jz.index or np.isnan(jz[(code, per)]):
                continue
            year, suffix = int(per[:4]), per[4:]
            noise = float(rng.normal(1.0, 0.015))
            s121 = share[(code, "JH121", suffix)] * (1 + drift[code]) ** (year - 2017) * noise
            if year == 2020:
                s121 *= dip[code] if suffix == "HJ01" else (1 + dip[code]) / 2 if suffix == "JJ00" else 0.99
            c121 = min(s121, 0.97) * jz[(code, per)]
            w = share[(code, "JH1211", suffix)]
            w = w / share[(code, "JH121", suffix)] if w == w and share[(code, "JH121", suffix)] > 0 else np.nan
            c1211 = min(w * (1 + wdrift[code]) ** (year - 2017), 0.95) * c121 if w == w else np.nan
            s122 = share[(code, "JH122", suffix)] * 0.98 ** (year - 2017) * float(rng.normal(1.0, 0.02))
            rows[(code, per)] = {"JH121": float(round(c121)), "JH1211": float(round(c1211)) if c1211 == c1211 else np.nan,
                                 "JH122": float(round(s122 * jz[(code, per)]))}
    counts = pd.DataFrame.from_dict(rows, orient="index")
    counts.index = pd.MultiIndex.from_tuples(counts.index, names=["code", "per"])
    calibrate_2020(counts, total)
    return counts


def members(level_code: str, per: str, counts: pd.DataFrame) -> list[str]:
    present = counts.xs(per, level="per").index
    if level_code == "NL01":
        return list(present)
    level = level_code[:2]
    return [c for c in present if region_of(c, level) == level_code]


def calibrate_2020(counts: pd.DataFrame, total: pd.DataFrame) -> None:
    per = "2020HJ01"
    t = targets().pct_zonder_2020hj1
    base = total["base"]
    for code, target in t.items():
        if code.startswith("GM"):
            counts.at[(code, per), "JH121"] = count_for_pct(target, base[(code, per)])
    fixed = {c for c in t if c.startswith("GM")}
    order = sorted(c for c in t if c.startswith("JZ")) + ["NL01"]
    for region in order:
        mem = members(region, per, counts)
        free = [c for c in mem if c not in fixed]
        start = counts.loc[[(c, per) for c in free], "JH121"].to_numpy(dtype=float)
        fixed_sum = counts.loc[[(c, per) for c in mem if c in fixed], "JH121"].sum()
        jz = total.loc[[(c, per) for c in free], "jong"].to_numpy(dtype=float)
        want = count_for_pct(t[region], base[(region, per)])   # total count the region's row needs
        lo, hi = 0.5, 1.5
        for _ in range(60):
            mid = (lo + hi) / 2
            if fixed_sum + np.minimum(np.round(start * mid), 0.97 * jz).sum() < want:
                lo = mid
            else:
                hi = mid
        new = np.minimum(np.round(start * hi), 0.97 * jz)
        diff = int(want - fixed_sum - new.sum())
        order_idx = np.argsort(-start, kind="stable")
        for i in range(abs(diff)):      # the last few units onto the largest free members
            new[order_idx[i % len(new)]] += 1 if diff > 0 else -1
        counts.loc[[(c, per) for c in free], "JH121"] = np.round(new)
        fixed.update(free)


def aggregate(counts: pd.DataFrame, region_codes: list[str]) -> pd.DataFrame:
    """Region rows as the sum of their member municipalities' counts (membership via the 2020 successor)."""
    gm = counts.reset_index()
    for level in LEVELS:
        gm[level] = gm["code"].map(lambda c, lv=level: region_of(c, lv))
    out = {}
    for region in region_codes:
        sel = gm if region == "NL01" else gm[gm[region[:2]] == region]
        sums = sel.groupby("per")[FORMS].sum(min_count=1)
        for per, row in sums.iterrows():
            out[(region, per)] = row.to_dict()
    frame = pd.DataFrame.from_dict(out, orient="index")
    frame.index = pd.MultiIndex.from_tuples(frame.index, names=["code", "per"])
    return frame


def build(rng):
    total = real_total()
    derived = derived_2015_2017()
    counts = generate(total, derived, rng)
    regions = sorted({c for c, _ in total.index if not c.startswith("GM")})
    counts = pd.concat([counts, aggregate(counts, regions)])
    periods = sorted({p for _, p in total.index}, key=lambda k: (k[:4], k[4:] != "HJ01", k[4:] != "HJ02"))
    region_order = list(dict.fromkeys(c for c, _ in total.index))     # CBS's order, as in the dump
    titles = total["title"].groupby(level=0).first()
    rows, missing_83432 = [], set()
    for form_key in ["JZT"] + FORMS:
        for code in region_order:
            for per in periods:
                jz = total.loc[(code, per)]
                row = {"ID": 0, "VormenVanJeugdzorg": pad(form_key, VORM_WIDTH), "RegioS": pad(code, REGION_WIDTH),
                       "Perioden": per}
                if form_key == "JZT":
                    count, rel = jz["jong"], jz["rel"]
                elif int(per[:4]) in REAL_YEARS:
                    if (code, per) in derived.index:
                        count = derived.at[(code, per), form_key]
                        rel = relative(count, derived.at[(code, per), "base"])
                    else:
                        missing_83432.add(code)
                        count = rel = np.nan
                else:
                    count = counts.at[(code, per), form_key] if (code, per) in counts.index else np.nan
                    if np.isnan(jz["jong"]):
                        count = np.nan
                    rel = relative(count, jz["base"])
                    count = round5(count)
                row.update({"JongerenMetJeugdzorg_1": None if count != count else float(count),
                            "JongerenMetJeugdzorgRelatief_2": None if rel != rel else float(rel),
                            "Jeugdzorgtrajecten_3": None})
                rows.append(row)
    statuses = {"2020HJ02": "Voorlopig", "2020JJ00": "Voorlopig"}
    sets = {
        "TableInfos": [table_info(JEUGDZORG, "Jeugdzorg; kerncijfers, regio, 2015-2020", "Kerncijfers jeugdzorg",
                                  modified="2021-10-29T02:00:00", period="2015-2020")],
        "DataProperties": [dimension_property(0, "VormenVanJeugdzorg", "Vormen van jeugdzorg"),
                           dimension_property(1, "RegioS", "Regio's", "GeoDimension"),
                           dimension_property(2, "Perioden", "Perioden", "TimeDimension"),
                           topic_property(3, "JongerenMetJeugdzorg_1", "Jongeren met jeugdzorg", "aantal", 0, "Double"),
                           topic_property(4, "JongerenMetJeugdzorgRelatief_2", "Jongeren met jeugdzorg, relatief", "%", 1),
                           topic_property(5, "Jeugdzorgtrajecten_3", "Jeugdzorgtrajecten", "aantal", 0, "Double")],
        "VormenVanJeugdzorg": [category(pad(k, VORM_WIDTH), v, "key invented offline (real key unknown)")
                               for k, v in VORMEN.items()],
        "RegioS": [category(pad(c, REGION_WIDTH), titles[c]) for c in region_order],
        "Perioden": [period_entry(p, period_title(p), statuses.get(p, "Definitief")) for p in periods],
        "TypedDataSet": rows,
    }
    real_periods = [p for p in periods if int(p[:4]) in REAL_YEARS]
    blocks = [
        {"where": {"VormenVanJeugdzorg": FORMS, "Perioden": GEN_PERIODS}, "kind": "gegenereerd",
         "note": "not in the offline dump (cut off after JZ Totaal): generated as a share of the real JZ Totaal count "
                 "of the same row, from the real 2017 shares (83432NED), smooth drift, a COVID dip in 2020 H1; "
                 "calibrated so the printed 2020 H1 percentages of chapter 6 (municipalities, NL01, JZ regions) "
                 "come out; region rows are sums of their municipalities; relative over the youth base implied by "
                 "JZ Totaal (JongerenMetJeugdzorg_1 / JongerenMetJeugdzorgRelatief_2 x 100); counts rounded to 5"},
        {"where": {"VormenVanJeugdzorg": FORMS, "Perioden": real_periods}, "kind": "afgeleid",
         "note": "from real 83432NED (Geslacht and Leeftijd total): count = 'alleen zorg in natura' + 'zorg in natura "
                 "en pgb' (_7 + _65 zonder verblijf, _8 + _66 wijkteam, _13 + _71 met verblijf), relative over that "
                 "table's youth base (_1 / _2 x 100), rounded half up to 1 decimal; empty where 83432NED has no row "
                 f"({len(missing_83432)} regions, e.g. COROP) or suppresses"},
    ]
    write_table(JEUGDZORG, sets, catalog=OPENDATA, blocks=blocks,
                source=DUMP_SOURCE.format(file="84134NED.csv") + "; JH forms 2015-2017 from "
                       + DUMP_SOURCE.format(file="83432NED.csv")
                       + "; VormenVanJeugdzorg keys (JZT, JH121, JH1211, JH122) are invented: real keys unknown offline")
    return total
