"""The bundled demo snapshot: real CBS reference data plus generated jeugdzorg, income and Iv3 tables.

No machine here reaches CBS, so ``make report`` runs on a snapshot built by this module:

* **real** (reshaped, values unchanged): population per municipality 2019-2026 (CBS 03759ned, captured
  from the OData v4 service, written here in the v3 layout cbsodata produces, including CBS's province
  grouping and merger texts) and the 2020 gemeente -> jeugdregio membership;
* **generated** (fixed seed, labelled ``"generated": true`` in every manifest): the jeugdzorg key
  figures (84134NED), median standardised income (84866NED), children in low-income households
  (84868NED) and Iv3 lasten per taakveld. Where chapter 6 publishes a value, the generated inputs are
  calibrated so that the pipeline's own indicator functions reproduce it; everything else is
  synthetic but plausible. Municipalities formed by merger appear under their predecessors' codes in
  periods before the merger, as in CBS's own tables, so the back-casting code is exercised.

Regenerating with the same inputs gives byte-identical files.
"""

from __future__ import annotations

import json
import math
import shutil
from dataclasses import dataclass
from pathlib import Path

import cbsodata
import numpy as np
import pandas as pd

from .config import ROOT, StudyConfig
from .errors import SnapshotError
from .indicators import round_half_up
from .mergers import predecessors_at
from .published import published_gebruik, published_lasten, targets_by_code
from .reference import MEMBERSHIP_FILE, REGIONS_DIR, crosswalk, municipalities, population
from .snapshot import dump_json, file_checksums, replace_directory, staging_directory, write_snapshot

SEED = 20210415
GENERATED_AT = "2026-11-25T00:00:00+00:00"  # fixed, so regenerating gives byte-identical manifests
BANNER = "demo snapshot — not CBS data; run `make fetch` with internet access for real data"
HALF_YEARS = [(y, h) for y in range(2015, 2021) for h in (1, 2)][:-1]  # 2015 H1 .. 2020 H1
YEARS = list(range(2015, 2020))
TAAKVELDEN = {  # key -> title, as Iv3 names them; 6.71 and 6.81 (18+) are there so selection is tested
    "TV671": "6.71 Maatwerkdienstverlening 18+",
    "TV672": "6.72 Maatwerkdienstverlening 18-",
    "TV681": "6.81 Geëscaleerde zorg 18+",
    "TV682": "6.82 Geëscaleerde zorg 18-",
}
DOCUMENTS = {"BEG": "Begroting", "REK": "Jaarrekening"}


def default_shared() -> Path:
    return ROOT.parent / "shared" / "data"


# ---------------------------------------------------------------------------------------------
# Real data, reshaped into the v3 layout


def _pad(key: str, width: int = 10) -> str:
    """CBS v3 pads dimension keys with spaces to a fixed width; the snapshot keeps that shape."""
    return key.ljust(width)


def _v4_codes(directory: Path, dimension: str) -> list[dict]:
    return json.loads((directory / f"codes-{dimension}.json").read_text(encoding="utf-8"))["value"]


def population_entity_sets(capture: Path) -> dict[str, list]:
    """CBS 03759ned as captured from OData v4, as the entity sets cbsodata writes for a v3 table."""
    props = json.loads((capture / "properties.json").read_text(encoding="utf-8"))
    measures = json.loads((capture / "measure-codes.json").read_text(encoding="utf-8"))["value"]
    keys = {"M000352": "BevolkingOp1Januari_1", "M000365": "GemiddeldeBevolking_2"}
    infos = [{
        "ID": 0, "Title": props["Title"], "ShortTitle": props.get("ShortTitle", props["Title"][:40]),
        "Identifier": props["Identifier"], "Summary": props.get("Summary"), "Modified": props["Modified"],
        "MetaDataModified": props.get("ModificationDate"), "ReasonDelivery": props.get("VersionReason"),
        "Frequency": props.get("Frequency"), "Period": props.get("TemporalCoverage"),
        "Language": props.get("Language"), "Catalog": props.get("Catalog"), "OutputStatus": props.get("Status"),
        "Source": props.get("Source"), "SearchPriority": "2",
    }]
    dims = [("Geslacht", "Dimension", "Geslacht"), ("Leeftijd", "Dimension", "Leeftijd"),
            ("BurgerlijkeStaat", "Dimension", "Burgerlijke staat"), ("RegioS", "GeoDimension", "Regio's"),
            ("Perioden", "TimeDimension", "Perioden")]
    properties = [{"odata.type": "Cbs.OData.Dimension", "ID": i, "Position": i, "ParentID": None, "Type": kind,
                   "Key": key, "Title": title, "Description": None, "MapYear": None, "ReleasePolicy": False}
                  for i, (key, kind, title) in enumerate(dims)]
    for i, m in enumerate(measures, start=len(dims)):
        properties.append({"odata.type": "Cbs.OData.Topic", "ID": i, "Position": i, "ParentID": None,
                           "Type": "Topic", "Key": keys[m["Identifier"]], "Title": m["Title"].strip(),
                           "Description": m.get("Description"), "Datatype": m.get("DataType"),
                           "Unit": m.get("Unit"), "Decimals": m.get("Decimals"), "Default": "Impossible",
                           "PresentationType": m.get("PresentationType")})
    regions = _v4_codes(capture, "RegioS")
    provinces = {r["Identifier"]: r["Title"].replace(" (PV)", "").strip() for r in regions
                 if r["Identifier"].startswith("PV")}
    groups, group_ids = [], {}
    for group in sorted({r["DimensionGroupId"] for r in regions if (r["DimensionGroupId"] or "").startswith("GMPV")}):
        group_ids[group] = len(groups) + 1
        groups.append({"ID": group_ids[group], "DimensionKey": "RegioS", "Title": provinces.get(group[2:], group),
                       "Description": None, "ParentID": None})
    entity_sets: dict[str, list] = {"TableInfos": infos, "DataProperties": properties, "CategoryGroups": groups}
    for key, _, _ in dims:
        codes = regions if key == "RegioS" else _v4_codes(capture, key)
        entity_sets[key] = [{"Key": _pad(c["Identifier"]) if key == "RegioS" else c["Identifier"],
                             "Title": c["Title"], "Description": c.get("Description") or None,
                             **({"Status": c.get("Status")} if key == "Perioden" else {}),
                             **({"CategoryGroupID": group_ids.get(c.get("DimensionGroupId"))} if key == "RegioS" else {})}
                            for c in codes]
    observations = json.loads((capture / "observations-page-1.json").read_text(encoding="utf-8"))["value"]
    rows: dict[tuple, dict] = {}
    for obs in observations:
        cell = (obs["Geslacht"], obs["Leeftijd"], obs["BurgerlijkeStaat"], obs["RegioS"], obs["Perioden"])
        row = rows.setdefault(cell, {"ID": 0, "Geslacht": cell[0], "Leeftijd": cell[1], "BurgerlijkeStaat": cell[2],
                                     "RegioS": _pad(cell[3]), "Perioden": cell[4],
                                     "BevolkingOp1Januari_1": None, "GemiddeldeBevolking_2": None})
        value = obs["Value"]
        if value is not None and keys[obs["Measure"]] == "BevolkingOp1Januari_1":
            value = int(value)
        row[keys[obs["Measure"]]] = value
    typed = [rows[k] for k in sorted(rows, key=lambda k: (k[4], k[3]))]
    for i, row in enumerate(typed):
        row["ID"] = i
    entity_sets["TypedDataSet"] = typed
    return entity_sets


def write_population_snapshot(config: StudyConfig, shared: Path) -> None:
    capture = shared / "cbs" / "03759ned"
    if not capture.exists():
        raise SnapshotError(f"real population capture {capture} not found; pass --shared PATH to the shared data folder")
    index = json.loads((capture / "index.json").read_text(encoding="utf-8"))
    spec = config.tables["bevolking"]
    write_snapshot(config.table_dir("bevolking"), population_entity_sets(capture), table_id=spec.table_id,
                   catalog=spec.catalog, filters=index.get("sliceFilter"), fetched_at=index.get("capturedAt"),
                   cbsodata_version=None, generated=False,
                   source=f"real CBS data: OData v4 capture of {index.get('source')} "
                          f"(captured {index.get('capturedAt')}), reshaped to the v3 layout by pipeline.demo")


def write_regions_snapshot(config: StudyConfig, shared: Path) -> None:
    """Copy the real 2020 gemeente -> jeugdregio table with its provenance and checksums."""
    source = shared / "regions" / MEMBERSHIP_FILE
    target = config.raw_dir / REGIONS_DIR
    staged = staging_directory(target)
    try:
        shutil.copyfile(source, staged / MEMBERSHIP_FILE)
        manifest = {"format": 1, "table_id": REGIONS_DIR, "generated": False,
                    "source": "real CBS gebiedsindelingen 2020 (via cartomap/nl, CC BY 4.0); membership "
                              "derived by point-in-polygon, see shared/data/regions/README.md",
                    "files": {name: {"sha256": digest, "bytes": (staged / name).stat().st_size}
                              for name, digest in file_checksums(staged, pattern="*").items()}}
        dump_json(manifest, staged / "manifest.json")
        replace_directory(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise


# ---------------------------------------------------------------------------------------------
# Calibration helpers


def solve_scale(evaluate, target: float, lo: float = 0.2, hi: float = 5.0, steps: int = 60) -> float:
    """The scale factor s (lo..hi) at which the increasing function ``evaluate(s)`` is closest to ``target``."""
    for _ in range(steps):
        mid = (lo + hi) / 2
        if evaluate(mid) < target:
            lo = mid
        else:
            hi = mid
    best = min((lo, hi), key=lambda s: abs(evaluate(s) - target))
    return best


def integer_for_index(value: int, index: int) -> int:
    """A whole-euro base b such that round(value / b * 100) == index, closest to value * 100 / index."""
    centre = value * 100.0 / index
    for step in range(0, 50):
        for b in (int(round(centre)) - step, int(round(centre)) + step):
            if b > 0 and round_half_up(value / b * 100.0) == index:
                return b
    raise SnapshotError(f"no whole-euro base gives index {index} for {value}")


def split_integer(total: int, weights: list[float]) -> list[int]:
    """Split an integer over weights so the parts sum exactly to ``total`` (largest remainder)."""
    weights = np.asarray(weights, dtype=float)
    raw = total * weights / weights.sum()
    parts = np.floor(raw).astype(int)
    for i in np.argsort(-(raw - parts), kind="stable")[: total - parts.sum()]:
        parts[i] += 1
    return parts.tolist()


@dataclass
class Universe:
    """The municipalities of the classification year with what the generator needs about them."""

    ref: pd.DataFrame           # code, naam, provincie, jeugdregio_code, inwoners, grootteklasse
    pop2019: pd.Series          # real inhabitants on 1 January 2019
    crosswalk: pd.DataFrame
    classification_year: int
    published_dir: Path         # chapter 6's printed values, the calibration targets
    config_size_classes: dict   # the report's size classes (label -> SizeClass)

    @property
    def codes(self) -> list[str]:
        return self.ref["code"].tolist()

    def members_between(self, size_class) -> list[str]:
        """Municipalities in a size class, by inhabitants in the classification year (as the build does)."""
        return self.ref.loc[self.ref["inwoners"].map(size_class.contains), "code"].tolist()

    def members(self, column: str, value) -> list[str]:
        return self.ref.loc[self.ref[column] == value, "code"].tolist()


# ---------------------------------------------------------------------------------------------
# Income and poverty (84866NED, 84868NED)


def decile_sizes(n: int) -> list[int]:
    ranks = np.arange(1, n + 1)
    dec = 1 + np.floor(10 * (ranks - 1) / n).astype(int)
    return [int((dec == d).sum()) for d in range(1, 11)]


def values_with_deciles(codes: list[str], fixed: dict[str, float], rng, mean: float, sd: float,
                        ascending: bool) -> pd.Series:
    """One-decimal values whose decile (lowest = 1 if ascending) equals ``fixed`` where given."""
    sizes = decile_sizes(len(codes))
    free = [c for c in codes if c not in fixed]
    order = rng.permutation(len(free))
    slots: list[str] = []
    free_iter = iter([free[i] for i in order])
    for d in range(1, 11):
        members = [c for c in codes if fixed.get(c) == d]
        if len(members) > sizes[d - 1]:
            raise SnapshotError(f"too many published municipalities in decile {d}")
        members += [next(free_iter) for _ in range(sizes[d - 1] - len(members))]
        slots.extend(rng.permutation(members).tolist())
    base = np.sort(rng.normal(mean, sd, len(codes)))
    values = np.round(base, 1)
    # slots run from decile 1 up; when the highest value is decile 1 the values are reversed below,
    # so the strict steps between deciles must sit at the mirrored positions
    ascending_sizes = sizes if ascending else sizes[::-1]
    boundaries = set(np.cumsum(ascending_sizes)[:-1].tolist())
    for i in range(1, len(values)):
        floor = values[i - 1] + (0.1 if i in boundaries else 0.0)
        values[i] = round(max(values[i], floor), 1)
    if not ascending:
        values = values[::-1]
    return pd.Series(values, index=slots).reindex(codes)


def simple_table(table_id: str, title: str, short_title: str, measure: tuple[str, str, str, int],
                 regions: list[tuple[str, str]], year: int, values: dict[str, float]) -> dict[str, list]:
    """A CBS-shaped table with dimensions RegioS and Perioden and one measure, for one year."""
    key, mtitle, unit, decimals = measure
    return {
        "TableInfos": [_table_info(table_id, title, short_title)],
        "DataProperties": [
            {"odata.type": "Cbs.OData.GeoDimension", "ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDimension",
             "Key": "RegioS", "Title": "Regio's"},
            {"odata.type": "Cbs.OData.TimeDimension", "ID": 1, "Position": 1, "ParentID": None,
             "Type": "TimeDimension", "Key": "Perioden", "Title": "Perioden"},
            {"odata.type": "Cbs.OData.Topic", "ID": 2, "Position": 2, "ParentID": None, "Type": "Topic", "Key": key,
             "Title": mtitle, "Unit": unit, "Decimals": decimals, "Datatype": "Double"},
        ],
        "RegioS": [{"Key": _pad(code), "Title": name, "Description": None, "CategoryGroupID": None}
                   for code, name in regions],
        "Perioden": [{"Key": f"{year}JJ00", "Title": str(year), "Description": None, "Status": "Definitief"}],
        "TypedDataSet": [{"ID": i, "RegioS": _pad(code), "Perioden": f"{year}JJ00", key: values.get(code)}
                         for i, (code, _) in enumerate(regions)],
    }


def _table_info(table_id: str, title: str, short_title: str, catalog: str = "CBS", status: str = "Regulier") -> dict:
    return {"ID": 0, "Title": title, "ShortTitle": short_title, "Identifier": table_id,
            "Summary": f"{BANNER}. Generated by pipeline.demo (seed {SEED}).", "Modified": GENERATED_AT,
            "MetaDataModified": GENERATED_AT, "ReasonDelivery": "Demo", "Frequency": "Demo",
            "Period": "demo", "Language": "nl", "Catalog": catalog, "OutputStatus": status,
            "Source": "Generated demo data, not CBS.", "SearchPriority": "2"}


def generate_income(universe: Universe, rng) -> tuple[dict, dict]:
    lasten, gebruik = published_lasten(universe.published_dir), published_gebruik(universe.published_dir)
    both = pd.concat([lasten, gebruik])
    ses = {k: v for k, v in targets_by_code(both, "ses_deciel").items() if k.startswith("GM")}
    poor = {k: v for k, v in targets_by_code(both, "armoede_deciel").items() if k.startswith("GM")}
    codes = universe.codes
    income = values_with_deciles(codes, ses, rng, mean=30.5, sd=2.8, ascending=True)
    children = values_with_deciles(codes, poor, rng, mean=7.0, sd=2.8, ascending=False)
    children = children.clip(lower=0.5)
    regions = [("NL01", "Nederland")] + list(zip(universe.ref["code"], universe.ref["naam"]))
    income_values = {**income.to_dict(), "NL01": round(float(income.median()), 1)}
    children_values = {**children.to_dict(), "NL01": round(float(children.mean()), 1)}
    return (simple_table("84866NED", "Inkomen van huishoudens; inkomensklassen, huishoudenskenmerken, regio (demo)",
                         "Inkomen huishoudens; regio (demo)",
                         ("MediaanGestandaardiseerdInkomen_1", "Mediaan gestandaardiseerd inkomen", "1 000 euro", 1),
                         regions, 2019, income_values),
            simple_table("84868NED", "Kinderen in huishoudens met een laag inkomen; regio (demo)",
                         "Kinderen laag inkomen; regio (demo)",
                         ("KinderenInHuishoudensMetLaagInkomen_1", "Kinderen in huishoudens met laag inkomen", "%", 1),
                         regions, 2019, children_values))


# ---------------------------------------------------------------------------------------------
# Iv3 lasten (rekening 2019, begroting 2017) and jeugdzorg users 2019


@dataclass
class Finance:
    per_inwoner_2019: pd.Series  # whole euros, 6.72 + 6.82
    per_inwoner_2017: pd.Series  # whole euros, begroting
    share_672: pd.Series
    inhabitants_2017: pd.Series
    users_2019: pd.Series
    lasten_delta_2019: pd.Series  # thousands of euros added to 6.72 (rekening 2019), see users_for


def _lasten(per_inwoner: pd.Series, inhabitants: pd.Series) -> pd.Series:
    """Lasten in thousands of euros, as Iv3 reports them (whole thousands)."""
    return (per_inwoner * inhabitants / 1000.0).round()


def generate_finance(universe: Universe, rng) -> Finance:
    lasten_pub = published_lasten(universe.published_dir)
    t_fixed = targets_by_code(lasten_pub, "lasten_per_inwoner_2019")
    i_fixed = targets_by_code(lasten_pub, "index_lasten_per_inwoner")
    g_fixed = targets_by_code(lasten_pub, "lasten_per_gebruiker_2019")
    codes = universe.codes
    pop = universe.pop2019.reindex(codes).astype(float)
    base_t = pd.Series(rng.normal(285, 45, len(codes)).clip(150, 480), index=codes)
    base_growth = pd.Series(rng.normal(1.45, 0.15, len(codes)).clip(1.05, 2.0), index=codes)
    base_g = pd.Series(rng.normal(11000, 2000, len(codes)).clip(5500, 20000), index=codes)
    inh2017 = (pop * (1 - rng.normal(0.008, 0.005, len(codes)))).round()
    share = pd.Series(rng.uniform(0.70, 0.90, len(codes)), index=codes)

    fixed_t = {c: v for c, v in t_fixed.items() if c in pop.index}
    t = base_t.copy()
    for code, value in fixed_t.items():
        t[code] = value
    free_t = set(codes) - set(fixed_t)

    def calibrate(members: list[str], target: float, values: pd.Series, free: set) -> None:
        movable = [c for c in members if c in free]
        if not movable:
            raise SnapshotError("nothing left to calibrate an aggregate with")
        start = values[movable].copy()

        def evaluate(s):
            trial = values.copy()
            trial[movable] = (start * s).round()
            return float(trial[members].mean())  # the group definition of indicators.lasten_per_inwoner_groep

        s = solve_scale(evaluate, target)
        values[movable] = (start * s).round()
        free.difference_update(movable)

    size_classes = {label: universe.members_between(universe.config_size_classes[label]) for label in
                    sorted({k[5:] for k in t_fixed if k.startswith("size:")})}
    values = t.round()
    for label, members in size_classes.items():
        calibrate(members, t_fixed[f"size:{label}"], values, free_t)
    calibrate(codes, t_fixed["NL01"], values, free_t)
    t = values

    # begroting 2017: whole euros such that the index rounds to the published value
    b = (t / base_growth).round()
    fixed_b = {c: integer_for_index(int(t[c]), int(i)) for c, i in i_fixed.items() if c in pop.index}
    for code, value in fixed_b.items():
        b[code] = value
    free_b = set(codes) - set(fixed_b)
    for label, members in size_classes.items():
        target = integer_for_index(int(t_fixed[f"size:{label}"]), int(i_fixed[f"size:{label}"]))
        calibrate(members, target, b, free_b)
    calibrate(codes, integer_for_index(int(t_fixed["NL01"]), int(i_fixed["NL01"])), b, free_b)

    # users 2019 from lasten per gebruiker; the national ratio is calibrated on the free municipalities
    lasten2019 = _lasten_split_total(t, share, pop)
    g = base_g.copy()
    for code, value in g_fixed.items():
        if code in g.index:
            g[code] = value
    users = (lasten2019 * 1000.0 / g).round()
    delta = pd.Series(0, index=codes, dtype=int)
    for code, value in g_fixed.items():
        if code in users.index:
            delta[code], users[code] = users_for(lasten2019[code], value, pop[code])
    lasten2019 = lasten2019 + delta
    movable = [c for c in codes if c not in g_fixed]
    start = users[movable].copy()

    def national(s):
        trial = users.copy()
        trial[movable] = (start / s).round()
        return float(lasten2019.sum() * 1000.0 / trial.sum())

    s = solve_scale(national, g_fixed["NL01"])
    users[movable] = (start / s).round()
    return Finance(per_inwoner_2019=t.astype(int), per_inwoner_2017=b.astype(int), share_672=share,
                   inhabitants_2017=inh2017, users_2019=users.astype(int), lasten_delta_2019=delta)


def split_per_inwoner(total: pd.Series, share: pd.Series) -> tuple[pd.Series, pd.Series]:
    """Whole-euro amounts per inhabitant for 6.72 and 6.82 that add up to ``total`` exactly."""
    first = (total * share).round()
    return first, total - first


def _lasten_split_total(per_inwoner: pd.Series, share: pd.Series, inhabitants: pd.Series) -> pd.Series:
    first, second = split_per_inwoner(per_inwoner, share)
    return _lasten(first, inhabitants) + _lasten(second, inhabitants)


def users_for(lasten_x1000: float, per_gebruiker: float, inhabitants: float) -> tuple[int, int]:
    """A small change of lasten (thousands of euros) and a number of users such that lasten / users
    rounds to the published whole-euro amount.

    Lasten are whole thousands of euros, so for a large municipality no integer number of users may
    hit the published euro; lasten may move by up to 1.50 euro per inhabitant (about half a percent),
    which leaves the published whole-euro lasten per inwoner (a measure of its own) unchanged.
    """
    limit = 1.5 * inhabitants / 1000.0
    centre = int(round(lasten_x1000 * 1000.0 / per_gebruiker))
    for step in range(0, 500):
        for users in (centre - step, centre + step):
            if users <= 0:
                continue
            # whole thousands L with round(L * 1000 / users) == per_gebruiker
            lowest = math.ceil((per_gebruiker - 0.5) * users / 1000.0)
            for lasten in (lowest, lowest + 1):
                if round_half_up(lasten * 1000.0 / users) == per_gebruiker and abs(lasten - lasten_x1000) <= limit:
                    return int(lasten - lasten_x1000), users
    raise SnapshotError(f"no whole number of users gives € {per_gebruiker} per gebruiker")


# ---------------------------------------------------------------------------------------------
# Jeugdzorg (84134NED): youth, jeugdhulp zonder/met verblijf, via wijkteam, totaal jeugdzorg


@dataclass
class Youth:
    jongeren: pd.DataFrame        # index code, columns year
    zonder: pd.DataFrame          # index code, columns (year, half) -> count
    met: pd.DataFrame
    wijkteam: pd.DataFrame
    totaal: pd.DataFrame          # index code, columns year


def pct(counts: pd.Series, youth: pd.Series) -> float:
    return float(counts.sum() / youth.sum() * 100.0)


def count_for_pct(target: float, youth: int) -> int:
    """Count whose one-decimal percentage of ``youth`` equals ``target`` (exists for youth >= 1000)."""
    centre = target / 100.0 * youth
    for step in range(0, 50):
        for c in (int(round(centre)) - step, int(round(centre)) + step):
            if c >= 0 and round_half_up(c / youth * 100.0, 1) == target:
                return c
    raise SnapshotError(f"no count gives {target}% of {youth}")


def generate_youth(universe: Universe, finance: Finance, rng) -> Youth:
    gebruik = published_gebruik(universe.published_dir)
    p17_fixed = targets_by_code(gebruik, "pct_zonder_verblijf_2017hj1")
    p20_fixed = targets_by_code(gebruik, "pct_zonder_verblijf_2020hj1")
    codes = universe.codes
    n = len(codes)
    pop = universe.pop2019.reindex(codes).astype(float)
    youth_share = rng.uniform(0.185, 0.225, n)
    youth_trend = rng.normal(-0.004, 0.004, n)
    jongeren = pd.DataFrame({y: (pop * youth_share * (1 + youth_trend * (y - 2019))).round()
                             for y in range(2015, 2021)}, index=codes)

    p17 = pd.Series(rng.normal(7.1, 1.2, n).clip(4.0, 12.0), index=codes)
    p20 = p17 * rng.normal(1.01, 0.08, n).clip(0.8, 1.3)
    dip = pd.Series(rng.normal(0.935, 0.02, n).clip(0.85, 1.0), index=codes)
    pre = rng.normal(-0.02, 0.01, n)
    for code, value in p17_fixed.items():
        if code in p17.index:
            p17[code] = value
    for code, value in p20_fixed.items():
        if code in p20.index:
            p20[code] = value
    periods = HALF_YEARS
    base_i, last_i = periods.index((2017, 1)), len(periods) - 1
    path = {}
    for i, (y, h) in enumerate(periods):
        if i < base_i:
            path[(y, h)] = p17 * (1 + pre * (i - base_i))
        elif i <= last_i - 1:
            frac = (i - base_i) / (last_i - 1 - base_i)
            path[(y, h)] = p17 + (p20 / dip - p17) * frac + rng.normal(0, 0.08, n) * (i != base_i)
        else:
            path[(y, h)] = p20
    zonder = pd.DataFrame({k: (v / 100.0 * jongeren[k[0]]).round() for k, v in path.items()}, index=codes)

    def fix(period, targets):
        for code, value in targets.items():
            if code in zonder.index:
                zonder.loc[code, period] = count_for_pct(value, int(jongeren.loc[code, period[0]]))

    fix((2017, 1), p17_fixed)
    fix((2020, 1), p20_fixed)
    _calibrate_regions(universe, zonder, jongeren, (2017, 1), p17_fixed, p17_fixed)
    _calibrate_regions(universe, zonder, jongeren, (2020, 1), p20_fixed, p20_fixed)

    met_pct = rng.normal(1.0, 0.25, n).clip(0.3, 2.0)
    met = pd.DataFrame({k: (met_pct * (1 - 0.01 * i) / 100.0 * jongeren[k[0]]).round()
                        for i, k in enumerate(periods)}, index=codes)
    wijk_share = rng.uniform(0.1, 0.6, n)
    wijkteam = pd.DataFrame({k: (zonder[k] * wijk_share * (1 + 0.02 * i)).clip(upper=zonder[k]).round()
                             for i, k in enumerate(periods)}, index=codes)
    growth = rng.normal(0.04, 0.02, n)
    totaal = pd.DataFrame({y: (finance.users_2019 * (1 + growth * (y - 2019))).round() for y in YEARS}, index=codes)
    totaal[2019] = finance.users_2019
    return Youth(jongeren=jongeren.astype(int), zonder=zonder.astype(int), met=met.astype(int),
                 wijkteam=wijkteam.astype(int), totaal=totaal.astype(int))


def _calibrate_regions(universe: Universe, zonder: pd.DataFrame, jongeren: pd.DataFrame, period, targets: dict,
                       fixed_codes: dict) -> None:
    """Scale the free members of each published region, then of the whole country, to the published %."""
    year = period[0]
    free = set(universe.codes) - {c for c in fixed_codes if c.startswith("GM")}

    def calibrate(members, target):
        movable = [c for c in members if c in free]
        start = zonder.loc[movable, period].astype(float)

        def evaluate(s):
            trial = zonder[period].copy()
            trial[movable] = (start * s).round()
            return pct(trial[members], jongeren.loc[members, year])

        s = solve_scale(evaluate, target)
        zonder.loc[movable, period] = (start * s).round()
        free.difference_update(movable)

    for code, target in sorted(targets.items()):
        if code.startswith("JZ"):
            calibrate(universe.members("jeugdregio_code", code), target)
    calibrate(universe.codes, targets["NL01"])


# ---------------------------------------------------------------------------------------------
# From the 2020 classification back to the classification of each period


def classification_at(universe: Universe, period_start: str) -> dict[str, list[tuple[str, float]]]:
    """For each municipality of the classification year, the codes that made it up on ``period_start``."""
    as_of = f"{universe.classification_year}-01-01"
    return {code: predecessors_at(code, period_start, universe.crosswalk, as_of) for code in universe.codes}


def predecessor_weights(parts: list[tuple[str, float]], crosswalk: pd.DataFrame) -> list[float]:
    """Relative size of each predecessor: its share times the inhabitants CBS lists for it at the merger."""
    weights = []
    for code, share in parts:
        rows = crosswalk[crosswalk["old_code"] == code]
        inhabitants = rows["inhabitants"].sum() if not rows.empty else 1
        weights.append(share * max(inhabitants, 1))
    return weights


def explode(values: pd.Series, parts_by_code: dict, crosswalk: pd.DataFrame) -> dict[str, int]:
    """Integer values of the classification year split over the codes that existed in an earlier period."""
    out: dict[str, int] = {}
    for code, parts in parts_by_code.items():
        if len(parts) == 1 and parts[0][0] == code:
            out[code] = out.get(code, 0) + int(values[code])
            continue
        for (pred, _), part in zip(parts, split_integer(int(values[code]), predecessor_weights(parts, crosswalk))):
            out[pred] = out.get(pred, 0) + part
    return out


def region_names(regions: pd.DataFrame) -> dict[str, str]:
    """Region code -> CBS title, from the population table's RegioS dimension."""
    return dict(zip(regions["Key"], regions["Title"].str.strip()))


def jeugdzorg_entity_sets(universe: Universe, youth: Youth, names: dict[str, str]) -> dict[str, list]:
    measures = [
        ("JongerenTot18Jaar_1", "Jongeren tot 18 jaar", "aantal", 0),
        ("TotaalJeugdzorg_2", "Totaal jeugdzorg", "aantal", 0),
        ("JeugdhulpZonderVerblijf_3", "Jeugdhulp zonder verblijf", "aantal", 0),
        ("JeugdhulpZonderVerblijfRelatief_4", "Jeugdhulp zonder verblijf (relatief)", "%", 1),
        ("JeugdhulpMetVerblijf_5", "Jeugdhulp met verblijf", "aantal", 0),
        ("JeugdhulpMetVerblijfRelatief_6", "Jeugdhulp met verblijf (relatief)", "%", 1),
        ("JeugdhulpViaWijkteam_7", "Jeugdhulp via wijkteam", "aantal", 0),
    ]
    periods = []
    for y, h in HALF_YEARS:
        provisional = (y, h) == HALF_YEARS[-1]
        periods.append({"Key": f"{y}HJ0{h}", "Title": f"{y} {h}e halfjaar" + ("*" if provisional else ""),
                        "Description": "Voorlopige cijfers" if provisional else None,
                        "Status": "Voorlopig" if provisional else "Definitief"})
    for y in YEARS:
        periods.append({"Key": f"{y}JJ00", "Title": str(y), "Description": None, "Status": "Definitief"})

    rows: list[dict] = []
    all_codes: set[str] = set()

    def add_rows(period_key: str, values: dict[str, dict]):
        for code in sorted(values):
            all_codes.add(code)
            rows.append({"RegioS": _pad(code), "Perioden": period_key, **values[code]})

    for y, h in HALF_YEARS:
        start = f"{y}-{'01' if h == 1 else '07'}-01"
        parts = classification_at(universe, start)
        j = explode(youth.jongeren[y], parts, universe.crosswalk)
        z = explode(youth.zonder[(y, h)], parts, universe.crosswalk)
        m = explode(youth.met[(y, h)], parts, universe.crosswalk)
        w = explode(youth.wijkteam[(y, h)], parts, universe.crosswalk)
        values = {code: {"JongerenTot18Jaar_1": j[code], "TotaalJeugdzorg_2": None,
                         "JeugdhulpZonderVerblijf_3": z[code],
                         "JeugdhulpZonderVerblijfRelatief_4": round_half_up(z[code] / j[code] * 100, 1),
                         "JeugdhulpMetVerblijf_5": m[code],
                         "JeugdhulpMetVerblijfRelatief_6": round_half_up(m[code] / j[code] * 100, 1),
                         "JeugdhulpViaWijkteam_7": w[code]} for code in j}
        values["NL01"] = _national(values)
        add_rows(f"{y}HJ0{h}", values)
    for y in YEARS:
        parts = classification_at(universe, f"{y}-01-01")
        t = explode(youth.totaal[y], parts, universe.crosswalk)
        j = explode(youth.jongeren[y], parts, universe.crosswalk)
        values = {code: {"JongerenTot18Jaar_1": j[code], "TotaalJeugdzorg_2": t[code],
                         "JeugdhulpZonderVerblijf_3": None, "JeugdhulpZonderVerblijfRelatief_4": None,
                         "JeugdhulpMetVerblijf_5": None, "JeugdhulpMetVerblijfRelatief_6": None,
                         "JeugdhulpViaWijkteam_7": None} for code in t}
        values["NL01"] = _national(values)
        add_rows(f"{y}JJ00", values)
    for i, row in enumerate(rows):
        row["ID"] = i
    rows = [{"ID": r.pop("ID"), **r} for r in rows]
    regions = [{"Key": _pad(code), "Title": names.get(code, code), "Description": None, "CategoryGroupID": None}
               for code in sorted(all_codes, key=lambda c: (c != "NL01", c))]
    properties = [
        {"odata.type": "Cbs.OData.GeoDimension", "ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDimension",
         "Key": "RegioS", "Title": "Regio's"},
        {"odata.type": "Cbs.OData.TimeDimension", "ID": 1, "Position": 1, "ParentID": None, "Type": "TimeDimension",
         "Key": "Perioden", "Title": "Perioden"},
    ] + [{"odata.type": "Cbs.OData.Topic", "ID": i + 2, "Position": i + 2, "ParentID": None, "Type": "Topic",
          "Key": key, "Title": title, "Unit": unit, "Decimals": dec, "Datatype": "Double" if dec else "Long"}
         for i, (key, title, unit, dec) in enumerate(measures)]
    return {"TableInfos": [_table_info("84134NED", "Jeugdzorg; kerncijfers, regio (demo)", "Jeugdzorg; regio (demo)")],
            "DataProperties": properties, "CategoryGroups": [], "RegioS": regions, "Perioden": periods,
            "TypedDataSet": rows}


def _national(values: dict[str, dict]) -> dict:
    def total(key):
        present = [v[key] for v in values.values() if v[key] is not None]
        return int(sum(present)) if present else None

    j = total("JongerenTot18Jaar_1")
    z, m = total("JeugdhulpZonderVerblijf_3"), total("JeugdhulpMetVerblijf_5")
    return {"JongerenTot18Jaar_1": j, "TotaalJeugdzorg_2": total("TotaalJeugdzorg_2"),
            "JeugdhulpZonderVerblijf_3": z,
            "JeugdhulpZonderVerblijfRelatief_4": None if z is None else round_half_up(z / j * 100, 1),
            "JeugdhulpMetVerblijf_5": m,
            "JeugdhulpMetVerblijfRelatief_6": None if m is None else round_half_up(m / j * 100, 1),
            "JeugdhulpViaWijkteam_7": total("JeugdhulpViaWijkteam_7")}


def iv3_entity_sets(universe: Universe, finance: Finance, names: dict[str, str], rng) -> dict[str, list]:
    """Iv3 lasten per taakveld for begroting and jaarrekening, 2017 and 2019, in each year's classification."""
    codes = universe.codes
    pop = universe.pop2019.reindex(codes).astype(float)
    per_doc = {
        (2017, "BEG"): (finance.per_inwoner_2017.astype(float), finance.inhabitants_2017),
        (2017, "REK"): ((finance.per_inwoner_2017 * rng.normal(1.06, 0.05, len(codes))).round(),
                        finance.inhabitants_2017),
        (2019, "BEG"): ((finance.per_inwoner_2019 * rng.normal(0.92, 0.05, len(codes))).round(), pop),
        (2019, "REK"): (finance.per_inwoner_2019.astype(float), pop),
    }
    adult_672 = pd.Series(rng.normal(160, 30, len(codes)).clip(60, 300).round(), index=codes)
    adult_681 = pd.Series(rng.normal(25, 8, len(codes)).clip(5, 60).round(), index=codes)
    rows = []
    all_codes: set[str] = set()
    for (year, doc), (total, inhabitants) in sorted(per_doc.items()):
        first, second = split_per_inwoner(total, finance.share_672)
        per_tv = {"TV671": adult_672, "TV672": first, "TV681": adult_681, "TV682": second}
        parts = classification_at(universe, f"{year}-01-01")
        inh = explode(inhabitants.round(), parts, universe.crosswalk)
        for tv, per_inwoner in per_tv.items():
            # a predecessor gets its successor's amount per inhabitant, so back-casting recovers it
            pi = {}
            for code, pieces in parts.items():
                for pred, _ in pieces:
                    pi[pred] = int(per_inwoner[code])
            for code in sorted(inh):
                all_codes.add(code)
                lasten = int(round_half_up(pi[code] * inh[code] / 1000.0))
                if (year, doc, tv) == (2019, "REK", "TV672") and code in finance.lasten_delta_2019.index:
                    lasten += int(finance.lasten_delta_2019[code])
                rows.append({"RegioS": _pad(code), "Perioden": f"{year}JJ00", "Taakvelden": tv, "Documentsoort": doc,
                             "Lasten_1": lasten, "LastenPerInwoner_2": pi[code]})
    rows = [{"ID": i, **row} for i, row in enumerate(rows)]
    properties = [
        {"odata.type": "Cbs.OData.GeoDimension", "ID": 0, "Position": 0, "ParentID": None, "Type": "GeoDimension",
         "Key": "RegioS", "Title": "Gemeenten"},
        {"odata.type": "Cbs.OData.TimeDimension", "ID": 1, "Position": 1, "ParentID": None, "Type": "TimeDimension",
         "Key": "Perioden", "Title": "Perioden"},
        {"odata.type": "Cbs.OData.Dimension", "ID": 2, "Position": 2, "ParentID": None, "Type": "Dimension",
         "Key": "Taakvelden", "Title": "Taakvelden"},
        {"odata.type": "Cbs.OData.Dimension", "ID": 3, "Position": 3, "ParentID": None, "Type": "Dimension",
         "Key": "Documentsoort", "Title": "Documentsoort"},
        {"odata.type": "Cbs.OData.Topic", "ID": 4, "Position": 4, "ParentID": None, "Type": "Topic",
         "Key": "Lasten_1", "Title": "Lasten", "Unit": "1 000 euro", "Decimals": 0, "Datatype": "Long"},
        {"odata.type": "Cbs.OData.Topic", "ID": 5, "Position": 5, "ParentID": None, "Type": "Topic",
         "Key": "LastenPerInwoner_2", "Title": "Lasten per inwoner", "Unit": "euro", "Decimals": 0,
         "Datatype": "Long"},
    ]
    return {
        "TableInfos": [_table_info("Iv3Taakvelden", "Gemeenten; lasten per taakveld, begroting en jaarrekening (demo)",
                                   "Iv3 lasten taakvelden (demo)", catalog="Dataderden")],
        "DataProperties": properties, "CategoryGroups": [],
        "RegioS": [{"Key": _pad(c), "Title": names.get(c, c), "Description": None, "CategoryGroupID": None}
                   for c in sorted(all_codes)],
        "Perioden": [{"Key": f"{y}JJ00", "Title": str(y), "Description": None, "Status": "Definitief"}
                     for y in (2017, 2019)],
        "Taakvelden": [{"Key": k, "Title": v, "Description": None, "CategoryGroupID": None} for k, v in TAAKVELDEN.items()],
        "Documentsoort": [{"Key": k, "Title": v, "Description": None, "CategoryGroupID": None}
                          for k, v in DOCUMENTS.items()],
        "TypedDataSet": rows,
    }


# ---------------------------------------------------------------------------------------------


def _write_generated(config: StudyConfig, role: str, entity_sets: dict) -> None:
    spec = config.tables[role]
    write_snapshot(config.table_dir(role), entity_sets, table_id=spec.table_id, catalog=spec.catalog,
                   filters=None, fetched_at=GENERATED_AT, cbsodata_version=cbsodata.__version__,
                   generated=True, generator=f"pipeline.demo (seed {SEED})", banner=BANNER,
                   calibrated_to="data/external/published (chapter 6, Tabel 2-11)",
                   source="generated demo data, not CBS; shapes follow CBS OData v3")


def write_demo_snapshot(config: StudyConfig, shared: Path | None = None) -> None:
    """Write the whole bundled snapshot into ``config.raw_dir`` (real reference data + generated tables)."""
    shared = Path(shared) if shared else default_shared()
    write_population_snapshot(config, shared)
    write_regions_snapshot(config, shared)
    from .snapshot import load_table
    bevolking = load_table(config.table_dir("bevolking"))
    ref = municipalities(config, bevolking)
    pop = population(config, bevolking)
    pop2019 = pop[pop["year"] == 2019].set_index("code")["inwoners"]
    universe = Universe(ref=ref, pop2019=pop2019, crosswalk=crosswalk(config, bevolking),
                        classification_year=config.periods.classification_year,
                        published_dir=config.published_dir, config_size_classes=config.size_classes)
    names = region_names(bevolking.dimension("RegioS"))
    rng = np.random.default_rng(SEED)
    income, poverty = generate_income(universe, rng)
    _write_generated(config, "inkomen", income)
    _write_generated(config, "armoede", poverty)
    finance = generate_finance(universe, rng)
    youth = generate_youth(universe, finance, rng)
    _write_generated(config, "jeugdzorg", jeugdzorg_entity_sets(universe, youth, names))
    _write_generated(config, "iv3", iv3_entity_sets(universe, finance, names, rng))
    for role in config.tables:
        print(f"wrote {config.table_dir(role)}")
