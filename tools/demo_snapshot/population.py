"""03759ned: real population 2019-2026 (v4 capture, reshaped to v3) plus generated 1 January 2017 and 2018."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.data.mergers import build_crosswalk

from .constants import (BURGERLIJKE_STAAT_TOTAAL, GESLACHT_TOTAAL, LEEFTIJD_TOTAAL, OPENDATA, POPULATION,
                        REGION_WIDTH)
from .output import write_table
from .sources import capture_codes, capture_json, pad
from .targets import targets

MEASURE_KEYS = {"M000352": "BevolkingOp1Januari_1", "M000365": "GemiddeldeBevolking_2"}
GENERATED_YEARS = (2017, 2018)


def crosswalk() -> pd.DataFrame:
    regions = pd.DataFrame(capture_codes("RegioS")).rename(columns={"Identifier": "Key"})
    return build_crosswalk(regions)


def real_population() -> pd.Series:
    """Real inhabitants on 1 January, indexed (code, year), NL01 / PV / GM."""
    obs = capture_json("observations-page-1.json")["value"]
    rows = {(o["RegioS"], int(o["Perioden"][:4])): int(o["Value"]) for o in obs
            if o["Measure"] == "M000352" and o["Value"] is not None}
    return pd.Series(rows).sort_index()


def classification_before(codes: set[str], cw: pd.DataFrame, date: str) -> set[str]:
    """Municipality codes of the classification just before the mergers dated ``date``."""
    events = cw[cw["date"] == date]
    formed = set(events["new_code"]) - set(events["old_code"])
    return (codes - formed) | set(events["old_code"])


def backcast(pop_after: dict[str, float], cw: pd.DataFrame, date: str, rng, year: int) -> dict[str, int]:
    """1 January population in the classification before ``date`` from the one after it.

    A predecessor of a merger gets the inhabitants CBS's merger text lists for it (all its moves on that
    date); others keep their own figure. Then one year of growth is taken off (N(0.45 %, 0.4 %)).
    """
    events = cw[cw["date"] == date]
    moved = events.groupby("old_code")["inhabitants"].sum()
    codes = classification_before(set(pop_after), cw, date)
    out = {}
    for code in sorted(codes):
        level = float(moved[code]) if code in moved.index else float(pop_after[code])
        growth = float(np.clip(rng.normal(0.0045, 0.004), -0.01, 0.02))
        # the merger texts count at the merger date (1 January of the merger year); the previous
        # 1 January is one year earlier for mergers on 1 January of ``year + 1``
        shift = 1 if int(date[:4]) == year + 1 else 0
        out[code] = int(round(level / (1 + growth) ** shift))
    return out


def scale_to_total(pops: dict[str, int], total: int) -> dict[str, int]:
    """Scale municipal figures so they sum to the real national total; largest remainders get the last units."""
    codes = sorted(pops)
    raw = np.array([pops[c] for c in codes], dtype=float) * total / sum(pops.values())
    whole = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - whole), kind="stable")[: int(total - whole.sum())]:
        whole[i] += 1
    return dict(zip(codes, whole.tolist()))


def generated_population(real: pd.Series, cw: pd.DataFrame, rng) -> dict[int, dict[str, int]]:
    """1 January 2018 and 2017 per municipality, summing to the real national totals (targets.py)."""
    totals = targets().nl_population
    pop2019 = {c: v for (c, y), v in real.items() if y == 2019 and c.startswith("GM")}
    pop2018 = scale_to_total(backcast(pop2019, cw, "2019-01-01", rng, 2018), totals[2018])
    # 1 January 2018 is in the 2018 classification (mergers of 2018-01-01 already done): take the growth 2017
    pop2017 = scale_to_total(backcast(pop2018, cw, "2018-01-01", rng, 2017), totals[2017])
    return {2018: pop2018, 2017: pop2017}


def entity_sets(rng) -> tuple[dict, list[dict], dict]:
    props = capture_json("properties.json")
    measures = [m for m in capture_json("measure-codes.json")["value"] if m["Identifier"] in MEASURE_KEYS]
    real = real_population()
    kept = {o["Measure"] for o in capture_json("observations-page-1.json")["value"]}
    measures = [m for m in measures if m["Identifier"] in kept]
    infos = [{
        "ID": 0, "Title": props["Title"], "ShortTitle": props.get("ShortTitle", props["Title"][:40]),
        "Identifier": props["Identifier"], "Summary": props.get("Summary"), "Modified": props["Modified"],
        "MetaDataModified": props.get("ModificationDate"), "ReasonDelivery": props.get("VersionReason"),
        "Frequency": props.get("Frequency"), "Period": props.get("TemporalCoverage"),
        "Language": props.get("Language"), "Catalog": props.get("Catalog"), "OutputStatus": props.get("Status"),
        "Source": props.get("Source"), "SearchPriority": "2"}]
    dims = [("Geslacht", "Dimension", "Geslacht"), ("Leeftijd", "Dimension", "Leeftijd"),
            ("BurgerlijkeStaat", "Dimension", "Burgerlijke staat"), ("RegioS", "GeoDimension", "Regio's"),
            ("Perioden", "TimeDimension", "Perioden")]
    properties = [{"odata.type": f"Cbs.OData.{kind}", "ID": i, "Position": i, "ParentID": None, "Type": kind,
                   "Key": key, "Title": title, "Description": None, "MapYear": None, "ReleasePolicy": False}
                  for i, (key, kind, title) in enumerate(dims)]
    for i, m in enumerate(measures, start=len(dims)):
        properties.append({"odata.type": "Cbs.OData.Topic", "ID": i, "Position": i, "ParentID": None,
                           "Type": "Topic", "Key": MEASURE_KEYS[m["Identifier"]], "Title": m["Title"].strip(),
                           "Description": m.get("Description"), "Datatype": m.get("DataType"),
                           "Unit": m.get("Unit"), "Decimals": m.get("Decimals"), "Default": "Impossible",
                           "PresentationType": m.get("PresentationType")})
    regions = capture_codes("RegioS")
    provinces = {r["Identifier"]: r["Title"].replace(" (PV)", "").strip() for r in regions
                 if r["Identifier"].startswith("PV")}
    groups, group_ids = [], {}
    for group in sorted({r["DimensionGroupId"] for r in regions if (r["DimensionGroupId"] or "").startswith("GMPV")}):
        group_ids[group] = len(groups) + 1
        groups.append({"ID": group_ids[group], "DimensionKey": "RegioS", "Title": provinces.get(group[2:], group),
                       "Description": None, "ParentID": None})
    sets: dict[str, list] = {"TableInfos": infos, "DataProperties": properties, "CategoryGroups": groups}
    for key, _, _ in dims:
        codes = regions if key == "RegioS" else capture_codes(key)
        sets[key] = [{"Key": pad(c["Identifier"], REGION_WIDTH) if key == "RegioS" else c["Identifier"],
                      "Title": c["Title"], "Description": c.get("Description") or None,
                      **({"Status": c.get("Status")} if key == "Perioden" else {}),
                      **({"CategoryGroupID": group_ids.get(c.get("DimensionGroupId"))} if key == "RegioS" else {})}
                     for c in codes]
    cw = crosswalk()
    generated = generated_population(real, cw, rng)
    province_of = {r["Identifier"]: (r["DimensionGroupId"] or "")[2:] for r in regions}
    values: dict[tuple[str, int], int] = {k: int(v) for k, v in real.items()}
    for year, pops in generated.items():
        for code, v in pops.items():
            values[(code, year)] = v
        values[("NL01", year)] = int(sum(pops.values()))
        by_province = pd.Series(pops).groupby(pd.Series({c: province_of[c] for c in pops})).sum()
        for pv, v in by_province.items():
            values[(pv, year)] = int(v)
    rows = [{"ID": 0, "Geslacht": GESLACHT_TOTAAL, "Leeftijd": LEEFTIJD_TOTAAL, "BurgerlijkeStaat": BURGERLIJKE_STAAT_TOTAAL,
             "RegioS": pad(code, REGION_WIDTH), "Perioden": f"{year}JJ00",
             **{MEASURE_KEYS[m["Identifier"]]: (v if m["Identifier"] == "M000352" else None) for m in measures}}
            for (code, year), v in sorted(values.items(), key=lambda kv: (kv[0][1], kv[0][0]))]
    sets["TypedDataSet"] = rows
    blocks = [{"where": {"Perioden": [f"{y}JJ00" for y in GENERATED_YEARS]}, "kind": "gegenereerd",
               "note": "not in the offline capture (2019-2026 only); needed for begroting 2017 per inwoner. "
                       "Generated in the classification of each year: predecessors of the mergers of 2018-01-01 and "
                       "2019-01-01 get the inhabitants CBS's merger texts list for them, every figure minus one "
                       "year of growth N(0.45%, 0.4%) per year back, then all scaled so the municipalities sum to "
                       "the real national totals (17 081 507 on 1 January 2017, 17 181 084 on 1 January 2018); "
                       "NL01 and provinces are the sums"}]
    populations = {year: pd.Series(p) for year, p in generated.items()}
    for year in sorted({y for _, y in real.index}):
        populations[year] = real.xs(year, level=1)
    return sets, blocks, populations


def write(out, rng) -> dict[int, pd.Series]:
    """Write 03759ned; return population per year (Series code -> inhabitants, incl. NL01/PV for real years)."""
    sets, blocks, populations = entity_sets(rng)
    index = capture_json("index.json")
    write_table(out, POPULATION, sets, catalog=OPENDATA, blocks=blocks, filters=index.get("sliceFilter"),
                source=f"real CBS data: OData v4 capture of {index.get('source')} (captured {index.get('capturedAt')}), "
                       "copied as data/external/cbs/03759ned/, reshaped to the v3 layout by tools.demo_snapshot; "
                       "measure M000365 (Gemiddelde bevolking) not kept; 2017JJ00 and 2018JJ00 generated (see provenance)")
    return populations
