"""84134NED Kerncijfers jeugdzorg with dimension VormenVanJeugdzorg.

* JZ Totaal jeugdzorg: real, every region and period of the dump's complete block (``cbs``).
* JH 121 / JH 1211 / JH 122, 2015-2017: derived from real 83432NED (``afgeleid``): count = 'alleen zorg in
  natura' + 'zorg in natura en pgb' (_7 + _65, _8 + _66, _13 + _71), relative over that table's youth base.
  Where 83432NED suppresses the small 'zorg in natura en pgb' part (published counts are multiples of 5 and at
  least 10) but has the 'alleen zorg in natura' part, the cell is ``gegenereerd``: the ZIN-only count (the known
  lower bound) plus 0 or 5 (:func:`fill_suppressed`); where even the ZIN-only part is missing it stays empty.
* the same forms 2018HJ01-2020JJ00 (and regions 83432NED lacks): ``gegenereerd``, as a share of the real
  JZ Totaal count of the same row (so real seasonality and level carry over), starting from the real 2017
  shares, smooth drift, a COVID dip in 2020 H1, calibrated to the printed 2020 H1 percentages.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.build import indicators as ind
from pipeline.build.indicators import round_half_up

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


# 83432NED columns per form: ('alleen zorg in natura', 'zorg in natura en pgb'), absolute counts
PARTS = {"JH121": ("TotaalJeugdhulpZonderVerblijf_7", "TotaalJeugdhulpZonderVerblijf_65"),
         "JH1211": ("UitgevoerdDoorHetWijkOfBuurtteam_8", "UitgevoerdDoorHetWijkOfBuurtteam_66"),
         "JH122": ("TotaalJeugdhulpMetVerblijf_13", "TotaalJeugdhulpMetVerblijf_71")}
# 83432NED publishes counts rounded to 5 and none below 10 (checked on the dump: the smallest value of every
# count column, the 'ZIN en pgb' ones included, is 10, and no cell is 0): a suppressed part hides 0-9 youths.
SUPPRESSED_BELOW = 10
REMAINDERS = (0.0, 5.0)          # the rounded values below the threshold a generated part may take


def derived_2015_2017() -> pd.DataFrame:
    """Per (code, per): the youth base and, per form, the derived count (NaN when a part is missing) and its
    two parts (``<form>_zin``, ``<form>_pgb``)."""
    d = read_dump("83432NED")
    d = d[(d["Leeftijd"] == "Totaal") & d["Geslacht"].str.startswith("Totaal")]
    d = d.assign(code=map_regions(d["RegioS"], "83432NED"), per=map_periods(d["Perioden"]))
    num = {c: to_number(d[c]) for c in d.columns if c[-1].isdigit()}
    base = num["TotaalJongerenMetJeugdzorg_1"] / num["TotaalJongerenMetJeugdzorgRelatief_2"] * 100.0
    out = pd.DataFrame({"code": d["code"], "per": d["per"], "base": base})
    for form, (zin, pgb) in PARTS.items():
        out[form] = num[zin] + num[pgb]
        out[f"{form}_zin"] = num[zin]
        out[f"{form}_pgb"] = num[pgb]
    return out.set_index(["code", "per"])


def fill_suppressed(derived: pd.DataFrame, total: pd.DataFrame) -> tuple[pd.DataFrame, dict]:
    """The derived counts with the cells whose 'ZIN en pgb' part is suppressed filled, and those cells.

    Filled: a (region, period, form) of 83432NED whose 'alleen ZIN' part is published and whose 'ZIN en pgb'
    part is empty. Its count is the ZIN-only count plus a remainder of 0 or 5 (below the suppression threshold,
    in the table's steps of 5): 5 where the national ratio of the two parts (same form and period) would put
    the hidden part at 2.5 or more, else 0. Then, in this order: the printed 2017 H1 % zonder verblijf of
    chapter 6 where a filled cell feeds it (directly, or for a municipality formed later through its
    predecessors, back-cast as the build does: percentages weighted by the predecessors' JZ Totaal youth) picks
    the remainders (fewest changes first); a year's part is at least its half years' parts; the wijkteam part
    at most the zonder-verblijf part. Regions absent from 83432NED and cells without the ZIN-only part stay
    empty. Returns (derived, {(form, per): [codes]})."""
    out = derived.copy()
    gaps = {form: out[f"{form}_zin"].notna() & out[f"{form}_pgb"].isna() for form in FORMS}
    rem: dict[str, pd.Series] = {}
    for form in FORMS:
        ratio = (out[f"{form}_pgb"] / out[f"{form}_zin"]).xs("NL01", level="code")
        expected = out[f"{form}_zin"] * out.index.get_level_values("per").map(ratio).to_numpy()
        rem[form] = pd.Series(np.where(expected >= 2.5, REMAINDERS[1], REMAINDERS[0]), index=out.index)[gaps[form]]
    calibrate_2017(out, rem["JH121"], total)
    for form in FORMS:
        r = rem[form]
        for (code, per), value in list(r.items()):
            if per.endswith("JJ00"):
                halves = [r.get((code, f"{per[:4]}{h}"), 0.0) for h in ("HJ01", "HJ02")]
                r[(code, per)] = max([value, *halves])
    cap = out["JH121_pgb"].fillna(rem["JH121"].reindex(out.index))
    rem["JH1211"] = np.minimum(rem["JH1211"], cap.reindex(rem["JH1211"].index).fillna(0.0))
    cells: dict[tuple[str, str], list[str]] = {}
    for form in FORMS:
        r = rem[form]
        assert (r < SUPPRESSED_BELOW).all() and r.index.isin(out.index[gaps[form]]).all()
        out.loc[r.index, form] = out.loc[r.index, f"{form}_zin"] + r
        for code, per in r.index:
            cells.setdefault((form, per), []).append(code)
    return out, cells


SUPPRESSED_NOTE = "83432NED suppresses the 'ZIN en pgb' part: generated above the ZIN-only lower bound"
BLOCK_COST = (150, 8, 10)    # characters of a block's text in the exports: fixed, per region key, per period key


def cover_blocks(filled: dict, periods: list[str]) -> list[tuple[str, list[str], list[str]]]:
    """(form, regions, periods) blocks whose products together are exactly the filled cells.

    A block is a product of key lists; the blocks may overlap (all are gegenereerd), so each region's cells
    need not be one block. Greedy: per form, the product with the most new cells per character of its text
    (the exports print every block with its note on one sheet cell), in a fixed order: deterministic."""
    out = []
    bit = {p: 1 << i for i, p in enumerate(periods)}
    for form in FORMS:
        gaps: dict[str, int] = {}
        for (f, per), codes in filled.items():
            if f == form:
                for code in codes:
                    gaps[code] = gaps.get(code, 0) | bit[per]
        todo = dict(gaps)
        while any(todo.values()):
            best = None
            for mask in range(1, 1 << len(periods)):
                members = [c for c in sorted(gaps) if gaps[c] & mask == mask and todo[c] & mask]
                if not members:
                    continue
                gain = sum(bin(todo[c] & mask).count("1") for c in members)
                cost = BLOCK_COST[0] + BLOCK_COST[1] * len(members) + BLOCK_COST[2] * bin(mask).count("1")
                if best is None or gain * best[1] > best[0] * cost:
                    best = (gain, cost, mask, members)
            _, _, mask, members = best
            for c in members:
                todo[c] &= ~mask
            out.append((form, members, [p for p in periods if bit[p] & mask]))
    return out


def calibrate_2017(derived: pd.DataFrame, rem: pd.Series, total: pd.DataFrame) -> None:
    """Pick the JH 121 2017 H1 remainders (in place) that give chapter 6's printed % where one depends on them."""
    import itertools

    per = "2017HJ01"
    present = [c for c, p in derived.index if p == per]
    for code, target in sorted(targets().pct_zonder_2017hj1.items()):
        members = [code] if code in present else [c for c in present if c.startswith("GM") and c != code
                                                   and successor_2020(c) == code]
        free = [c for c in members if (c, per) in rem.index]
        if not free:
            continue

        def pct(choice: dict) -> float:
            counts = {c: derived.at[(c, per), "JH121_zin"] + choice[c] if c in choice else derived.at[(c, per), "JH121"]
                      for c in members}
            pcts = [relative(counts[c], derived.at[(c, per), "base"]) for c in members]
            if len(members) == 1:
                return pcts[0]
            return ind.backcast_weighted_pct(pcts, [total.at[(c, per), "jong"] for c in members])

        default = {c: rem[(c, per)] for c in free}
        options = sorted((dict(zip(free, combo)) for combo in itertools.product(REMAINDERS, repeat=len(free))),
                         key=lambda ch: sum(ch[c] != default[c] for c in free))
        for choice in options:
            if pct(choice) == target:
                for c, v in choice.items():
                    rem[(c, per)] = v
                break


SUFFIXES = ("HJ01", "HJ02", "JJ00")


def years_since_2017(per: str) -> int:
    return int(per[:4]) - 2017


def base_shares(total: pd.DataFrame, derived: pd.DataFrame, gm: list[str], rng) -> dict:
    """Real 2017 share of each form in JZ Totaal (JH 1211: in JH 121) per (code, form, suffix).

    Where 83432NED suppresses 2017: its 2016 share; a municipality formed later: its predecessors' pooled
    share; otherwise the national share times a municipal factor (lognormal, fixed seed)."""
    jz = total["jong"]

    def real(code, form, year, suffix):
        per = f"{year}{suffix}"
        if (code, per) not in derived.index or (code, per) not in jz.index:
            return np.nan
        num = derived.at[(code, per), form]
        den = derived.at[(code, per), "JH121"] if form == "JH1211" else jz[(code, per)]
        return num / den if num == num and den == den and den > 0 else np.nan

    factor = {(code, form): float(np.exp(rng.normal(0.0, 0.25 if form != "JH1211" else 0.12)))
              for code in gm for form in FORMS}
    share = {}
    for form in FORMS:
        for suffix in SUFFIXES:
            nat = real("NL01", form, 2017, suffix)
            for code in gm:
                value = real(code, form, 2017, suffix)
                if value != value:
                    value = real(code, form, 2016, suffix)
                if value != value:
                    preds = [c for c in gm if c != code and successor_2020(c) == code]
                    nums = [derived.at[(c, f"2017{suffix}"), form] for c in preds if (c, f"2017{suffix}") in derived.index]
                    dens = [(derived.at[(c, f"2017{suffix}"), "JH121"] if form == "JH1211" else jz.get((c, f"2017{suffix}"), np.nan))
                            for c in preds if (c, f"2017{suffix}") in derived.index]
                    if preds and nums and not np.isnan(nums).any() and not np.isnan(dens).any() and sum(dens) > 0:
                        value = sum(nums) / sum(dens)
                if value != value:
                    value = nat * factor[(code, form)]
                share[(code, form, suffix)] = float(min(value, 0.95))
    return share


def path_counts(share17: dict, code: str, form: str, growth: float, jz, noise: dict, extra=None) -> dict:
    """Counts of one form over the generated periods: 2017 share x growth per year x noise x extra factor."""
    out = {}
    for per in GEN_PERIODS:
        if (code, per) not in jz.index or np.isnan(jz[(code, per)]):
            continue
        s = share17[(code, form, per[4:])] * growth ** years_since_2017(per) * noise.get(per, 1.0)
        if extra:
            s *= extra.get(per, 1.0)
        out[per] = min(s, 0.97) * jz[(code, per)]
    return out


def growth_for(share17: dict, code: str, form: str, per: str, count: float, jz) -> float:
    """The yearly growth that makes the path pass through ``count`` at ``per`` (without noise)."""
    s = count / jz[(code, per)] / share17[(code, form, per[4:])]
    return float(s ** (1.0 / years_since_2017(per)))


def rel_pct(count: float, base: float) -> float:
    return relative(count, base)


def generate(total: pd.DataFrame, derived: pd.DataFrame, rng, pop2020: pd.Series) -> pd.DataFrame:
    """Unrounded counts per (code, per) and form for the generated rows (GM; regions are member sums).

    JH 121: smooth drift from the real 2017 shares, 2020 H1 calibrated to the printed percentages, 2019 H2
    from 2020 H1 and a COVID dip (the prose's dips where it names one, NL01 through the other members); the
    half years between follow the yearly growth from 2017 to 2019 H2. JH 122 and JH 1211 likewise pass through
    the prose's levels (targets.py); elsewhere they drift from the real 2017 shares."""
    t = targets().prose
    codes = sorted(total.index.get_level_values(0).unique())
    gm = [c for c in codes if c.startswith("GM")]
    jz, base = total["jong"], total["base"]
    share17 = base_shares(total, derived, gm, rng)
    drift = {code: rng.normal(0.0, 0.03) for code in gm}
    dip = {code: float(np.clip(rng.normal(0.955, 0.02), 0.90, 0.99)) for code in gm}
    noise = {(code, form): {per: float(rng.normal(1.0, 0.015)) for per in GEN_PERIODS} for code in gm for form in FORMS}
    gm_rows = [c for c in gm if any((c, p) in jz.index and not np.isnan(jz[(c, p)]) for p in GEN_PERIODS)]

    # --- JH 121: start path, 2020 H1 calibrated (printed), then 2019 H2 from the dip
    c121 = {}
    for code in gm_rows:
        extra = {"2020HJ01": dip[code], "2020JJ00": (1 + dip[code]) / 2, "2020HJ02": 0.99}
        c121[code] = path_counts(share17, code, "JH121", 1 + drift[code], jz, noise[(code, "JH121")], extra)
    counts = pd.DataFrame([{"code": c, "per": p, "JH121": float(round(v))} for c, d in c121.items() for p, v in d.items()])
    counts = counts.set_index(["code", "per"])
    calibrate_2020(counts, total)
    h1, h2 = "2020HJ01", "2019HJ02"

    def pct20(code):
        return rel_pct(counts.at[(code, h1), "JH121"], base[(code, h1)])

    want19 = {}
    for code in gm_rows:
        if (code, h1) not in counts.index or (code, h2) not in jz.index:
            continue
        p20 = pct20(code)
        if code in t.zonder_dip_procentpunt:
            want19[code] = round_half_up(p20 - t.zonder_dip_procentpunt[code], 1)
        elif code in t.zonder_dip_relatief:
            want19[code] = p20 / (1 + t.zonder_dip_relatief[code] / 100.0)
        elif code in t.zonder_dip_minimaal:
            want19[code] = max(p20 / dip[code], p20 - t.zonder_dip_minimaal[code] + 0.05)
        else:
            want19[code] = p20 / dip[code]
    fixed19 = set(t.zonder_dip_procentpunt) | set(t.zonder_dip_relatief) | set(t.zonder_dip_minimaal)
    nl_want = round_half_up(targets().pct_zonder_2020hj1["NL01"] - t.zonder_dip_procentpunt["NL01"], 1)
    nl_count19 = count_for_pct(nl_want, base[("NL01", h2)])
    for _ in range(8):   # decile 10 in 2019 H2 for the named municipalities, NL01 through the free ones
        for code in t.zonder_deciel10_2019hj2:
            fixed19.add(code)
            if code in t.zonder_dip_procentpunt or code in t.zonder_dip_relatief:
                continue       # its % is fixed by its dip; checked below
            if ind.decile(pd.Series(want19).map(lambda v: round_half_up(v, 1)))[code] != 10:
                others = sorted((v for c, v in want19.items() if c != code), reverse=True)
                want19[code] = others[int(len(want19) / 10) - 3] + 0.1
        free = [c for c in want19 if c not in fixed19]
        fixed_sum = sum(want19[c] / 100.0 * base[(c, h2)] for c in want19 if c in fixed19)
        free_sum = sum(want19[c] / 100.0 * base[(c, h2)] for c in free)
        k = (nl_count19 - fixed_sum) / free_sum
        for c in free:
            want19[c] *= k
        if abs(k - 1) < 1e-9:
            break
    rows = {}
    for code in gm_rows:
        d = c121[code]
        if code in want19:
            count19 = want19[code] / 100.0 * base[(code, h2)]
            if code in fixed19:    # the exact one-decimal % the prose needs, from a whole count
                count19 = count_for_pct(round_half_up(want19[code], 1), base[(code, h2)])
            g = growth_for(share17, code, "JH121", h2, count19, jz)
            d = path_counts(share17, code, "JH121", g, jz, noise[(code, "JH121")],
                            {"2020JJ00": (1 + dip[code]) / 2 * 1.02, "2020HJ02": dip[code] * 1.01})
            d[h2] = count19
        if (code, h1) in counts.index:
            d[h1] = counts.at[(code, h1), "JH121"]
        for per, v in d.items():
            rows.setdefault((code, per), {})["JH121"] = float(round(v))
    # NL01 2019 H2: the free members carry the rest exactly (whole counts)
    free = sorted((c for c in want19 if c not in fixed19), key=lambda x: -rows[(x, h2)]["JH121"])
    diff = int(round(nl_count19 - sum(r["JH121"] for (c, per), r in rows.items() if per == h2)))
    for i in range(abs(diff)):
        rows[(free[i % len(free)], h2)]["JH121"] += 1 if diff > 0 else -1

    # --- JH 1211 via wijkteam: ratio to JH 121, drifting; 2020 H1 at the prose's levels, 100 000+ capped
    wdrift = {code: rng.normal(0.04, 0.03) for code in gm}
    big = set(pop2020.index[pop2020 >= 100_000])
    for code in gm_rows:
        w17 = share17[(code, "JH1211", "HJ01")]
        g = 1 + wdrift[code]
        target = t.wijkteam_pct_2020hj1.get(code)
        if target is None and code in big and w17 * g ** 3 * 100 > t.wijkteam_cap_100k:
            target = t.wijkteam_cap_100k - 2.0
        if target is not None:
            g = (target / 100.0 / w17) ** (1 / 3)
        for per in GEN_PERIODS:
            if (code, per) not in rows:
                continue
            w = share17[(code, "JH1211", per[4:])] * g ** years_since_2017(per)
            if per != h1 or target is None:
                w *= noise[(code, "JH1211")][per]
            else:
                w = target / 100.0
            rows[(code, per)]["JH1211"] = float(round(min(w, 0.95) * rows[(code, per)]["JH121"]))

    # --- JH 122 met verblijf
    halving = {}
    for region, factors in t.met_halving.items():
        for code in gm_rows:
            if region_of(code, region[:2]) == region:
                halving[code] = factors
    met_fixed = {c for c, _ in t.met_pct if c.startswith("GM")} | set(t.met_count_ratio) | set(t.met_constant) | set(halving)
    decline = {code: 0.97 * float(rng.normal(1.0, 0.02)) for code in gm}
    c122 = {}
    for code in gm_rows:
        anchors = [(per, pct) for (c, per), pct in t.met_pct.items() if c == code]
        g = decline[code]
        extra = halving.get(code)
        if code in t.met_count_ratio:
            frm, to, ratio = t.met_count_ratio[code]
            real = derived.at[(code, frm), "JH122"]
            g = growth_for(share17, code, "JH122", to, real * ratio, jz)
        elif anchors:
            per, pct = anchors[0]
            g = growth_for(share17, code, "JH122", per, pct / 100.0 * base[(code, per)], jz)
        d = path_counts(share17, code, "JH122", g, jz, noise[(code, "JH122")], extra)
        for per, pct in anchors:
            d[per] = count_for_pct(pct, base[(code, per)])
        if code in t.met_count_ratio:
            frm, to, ratio = t.met_count_ratio[code]
            d[to] = float(round(derived.at[(code, frm), "JH122"] * ratio))
        if code in t.met_constant:
            frm, at, pct = t.met_constant[code]
            level = round5(pct / 100.0 * base[(code, at)])
            for per in d:
                if per >= frm and per[4:] != "JJ00":
                    d[per] = level
                elif per >= frm:
                    d[per] = level * share17[(code, "JH122", "JJ00")] / share17[(code, "JH122", "HJ01")]
        c122[code] = d
    # NL01 levels through the free members: one multiplier per calibrated half year, interpolated between
    free = [c for c in c122 if c not in met_fixed]
    mult = {}
    for (c, per), pct in t.met_pct.items():
        if c == "NL01":
            want = count_for_pct(pct, base[("NL01", per)])
            fixed_sum = sum(d.get(per, 0.0) for c2, d in c122.items() if c2 not in free)
            mult[per] = (want - fixed_sum) / sum(c122[c2].get(per, 0.0) for c2 in free)
    m19, m20 = mult.get(h2, 1.0), mult.get(h1, 1.0)
    steps = {"2018HJ01": m19 ** 0.25, "2018HJ02": m19 ** 0.5, "2018JJ00": m19 ** 0.4, "2019HJ01": m19 ** 0.75,
             "2019JJ00": m19 ** 0.85, h2: m19, h1: m20, "2020HJ02": m20, "2020JJ00": m20}
    for c in free:
        for per in c122[c]:
            c122[c][per] *= steps.get(per, 1.0)
    # decile 1 in 2019 H2 for the named: at most a tenth of the municipalities strictly below them
    for d in c122.values():     # whole counts first: the % the table will show
        if h2 in d:
            d[h2] = float(round(d[h2]))
    pct19 = pd.Series({c: rel_pct(d[h2], base[(c, h2)]) for c, d in c122.items() if h2 in d})
    lifted = set()
    for code in t.met_deciel1_2019hj2:
        lowest = pct19[pct19 < pct19[code]].sort_values(kind="stable")
        room = int(np.ceil(len(pct19) / 10)) - 1
        # the fixed ones below stay there: the free ones above the room left take the named one's %
        free_low = [c for c in lowest.index if c not in met_fixed]
        keep = max(room - (len(lowest) - len(free_low)), 0)
        for c in free_low[keep:]:
            if c not in met_fixed:
                c122[c][h2] = float(np.ceil(pct19[code] / 100.0 * base[(c, h2)]))
                pct19[c] = rel_pct(c122[c][h2], base[(c, h2)])
                lifted.add(c)
    for per in (h2, h1):
        if per in mult:
            want = count_for_pct(t.met_pct[("NL01", per)], base[("NL01", per)])
            ranked = sorted(free, key=lambda x: -c122[x].get(per, 0.0))
            for c in c122:
                if per in c122[c]:
                    c122[c][per] = float(round(c122[c][per]))
            diff = int(round(want - sum(d.get(per, 0.0) for d in c122.values())))
            if per == h2:   # the last units not onto those lifted to a decile's edge, nor across a named one's %
                edges = [pct19[c] for c in t.met_deciel1_2019hj2]
                step = -int(np.ceil(abs(diff) / len(ranked))) if diff < 0 else 0

                def crosses(c):
                    if h2 not in c122[c]:
                        return False
                    now, then = rel_pct(c122[c][h2], base[(c, h2)]), rel_pct(c122[c][h2] + step, base[(c, h2)])
                    return any(then < e <= now for e in edges)
                ranked = [c for c in ranked if c not in lifted and not crosses(c)]
            for i in range(abs(diff)):
                c122[ranked[i % len(ranked)]][per] += 1 if diff > 0 else -1
    for code, d in c122.items():
        for per, v in d.items():
            rows[(code, per)]["JH122"] = float(round(v))
    out = pd.DataFrame.from_dict(rows, orient="index")[FORMS]
    out.index = pd.MultiIndex.from_tuples(out.index, names=["code", "per"])
    return out


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


def build(out, rng, pop2020: pd.Series):
    total = real_total()
    derived, filled = fill_suppressed(derived_2015_2017(), total)
    counts = generate(total, derived, rng, pop2020)
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
        *({"where": {"VormenVanJeugdzorg": [form], "RegioS": codes, "Perioden": pers}, "kind": "gegenereerd",
           "note": SUPPRESSED_NOTE} for form, codes, pers in cover_blocks(filled, real_periods)),
        {"where": {"VormenVanJeugdzorg": FORMS, "Perioden": real_periods}, "kind": "afgeleid",
         "note": "from real 83432NED (Geslacht and Leeftijd total): count = 'alleen zorg in natura' + 'zorg in natura "
                 "en pgb' (_7 + _65 zonder verblijf, _8 + _66 wijkteam, _13 + _71 met verblijf), relative over that "
                 "table's youth base (_1 / _2 x 100), rounded half up to 1 decimal; empty where 83432NED has no row "
                 f"({len(missing_83432)} regions, e.g. COROP) or suppresses even the 'alleen zorg in natura' part. "
                 "Where it suppresses only the 'ZIN en pgb' part, the cell is gegenereerd (the blocks before this "
                 "one; they overlap, every cell they name is one): count = 'alleen zorg in natura' + 0 or 5, as "
                 f"83432NED publishes no count below {SUPPRESSED_BELOW} and rounds to 5; 5 where the national ratio "
                 "of the two parts (same form and period) puts the hidden part at 2.5 or more; the printed 2017 H1 "
                 "% zonder verblijf of Altena (6,5) and West Betuwe (6,1) picks their predecessors' remainders; "
                 "relative over 83432NED's youth base as here"},
    ]
    write_table(out, JEUGDZORG, sets, catalog=OPENDATA, blocks=blocks,
                source=DUMP_SOURCE.format(file="84134NED.csv") + "; JH forms 2015-2017 from "
                       + DUMP_SOURCE.format(file="83432NED.csv")
                       + "; VormenVanJeugdzorg keys (JZT, JH121, JH1211, JH122) are invented: real keys unknown offline")
    return total
