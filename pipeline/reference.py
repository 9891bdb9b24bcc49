"""Real reference data: municipalities, their province, jeugdregio, population and size class.

All of it comes from real CBS data in the raw snapshot: the population table (03759ned, RegioS with
CBS's province grouping and merger texts) and the 2020 gemeente -> jeugdregio membership derived from
CBS's gebiedsindelingen (``data/raw/regions``). Nothing here is generated.
"""

from __future__ import annotations


import pandas as pd

from .config import StudyConfig
from .errors import SnapshotError
from .mergers import build_crosswalk
from .selection import cbs_size_class
from .snapshot import CbsTable, load_table, read_manifest, verify_checksums

REGIONS_DIR = "regions"
MEMBERSHIP_FILE = "gemeente_jeugdregio_2020.csv"


def year_key(table: CbsTable, year: int) -> str:
    """The Perioden key of a calendar year, looked up in the dimension (``2020JJ00``)."""
    periods = table.period_table()
    hits = periods[periods["Key"].str.match(rf"^{year}JJ00$")]
    if hits.empty:
        raise SnapshotError(f"table {table.table_id} has no period for year {year} "
                            f"(has {', '.join(periods['Key'].tail(5))}); fetch a newer snapshot or change periods in the config")
    return hits["Key"].iloc[0]


def population(config: StudyConfig, table: CbsTable | None = None) -> pd.DataFrame:
    """Inhabitants on 1 January per region code and year: columns code, year, inwoners."""
    table = table or load_table(config.table_dir("bevolking"))
    spec = config.tables["bevolking"].measures["inwoners"]
    measure = table.resolve_measure(spec.key, spec.title)
    periods = table.period_table()
    years = periods[periods["Key"].str.match(r"^\d{4}JJ00$")]
    frame = table.data[table.data["Perioden"].isin(years["Key"])]
    out = pd.DataFrame({"code": frame["RegioS"], "year": frame["Perioden"].str[:4].astype(int),
                        "inwoners": frame[measure]}).dropna(subset=["inwoners"])
    out["inwoners"] = out["inwoners"].astype("int64")
    return out.sort_values(["year", "code"]).reset_index(drop=True)


def provinces(table: CbsTable) -> pd.DataFrame:
    """Province name per municipality code, from CBS's grouping of RegioS (CategoryGroups)."""
    regions = table.dimension("RegioS")
    groups_path = table.directory / "CategoryGroups.json"
    groups = pd.read_json(groups_path) if groups_path.exists() else pd.DataFrame(columns=["ID", "Title"])
    names = dict(zip(groups["ID"], groups["Title"]))
    gm = regions[regions["Key"].str.startswith("GM")]
    return pd.DataFrame({"code": gm["Key"], "provincie": gm["CategoryGroupID"].map(names)})


def membership(config: StudyConfig) -> pd.DataFrame:
    """The gemeente -> jeugdregio table of the snapshot (codes and names)."""
    directory = config.raw_dir / REGIONS_DIR
    verify_checksums(directory, read_manifest(directory))
    frame = pd.read_csv(directory / MEMBERSHIP_FILE, dtype=str)
    return frame.rename(columns={"gemeente_code": "code", "gemeente_naam": "naam"})


def municipalities(config: StudyConfig, table: CbsTable | None = None) -> pd.DataFrame:
    """Every municipality of the classification year, with name, province, jeugdregio and size class."""
    table = table or load_table(config.table_dir("bevolking"))
    year = config.periods.classification_year
    pop = population(config, table)
    current = pop[(pop["year"] == year) & pop["code"].str.startswith("GM")][["code", "inwoners"]]
    if current.empty:
        raise SnapshotError(f"population table {table.table_id} has no municipalities for {year}; "
                            "set periods.classification_year to a year the snapshot covers")
    names = table.dimension("RegioS").set_index("Key")["Title"]
    # CBS disambiguates "Utrecht (gemeente)" from the province; the tables print the plain name
    frame = current.assign(naam=current["code"].map(names).str.strip().str.replace(r" \(gemeente\)$", "", regex=True))
    frame = frame.merge(provinces(table), on="code", how="left")
    regions = membership(config)[["code", "jeugdregio_code", "jeugdregio_naam"]]
    frame = frame.merge(regions, on="code", how="left")
    frame["grootteklasse"] = frame["inwoners"].map(cbs_size_class)  # CBS's gemeentegrootteklasse
    columns = ["code", "naam", "provincie", "jeugdregio_code", "jeugdregio_naam", "inwoners", "grootteklasse"]
    return frame[columns].sort_values("code").reset_index(drop=True)


def crosswalk(config: StudyConfig, table: CbsTable | None = None) -> pd.DataFrame:
    table = table or load_table(config.table_dir("bevolking"))
    return build_crosswalk(table.dimension("RegioS"))
