"""Real reference data: municipalities, their province, jeugdregio, population and size class.

All of it comes from CBS tables in the raw snapshot: the population table (03759ned: inhabitants on
1 January, RegioS with CBS's province grouping and merger texts) and Gebieden in Nederland of the
classification year (84721NED: every gemeente's jeugdregio).
"""

from __future__ import annotations

import pandas as pd

from pipeline.config import StudyConfig, cbs_size_class
from pipeline.errors import SnapshotError
from pipeline.data.mergers import build_crosswalk
from pipeline.data.snapshot import CbsTable, load_table


def population(config: StudyConfig, table: CbsTable | None = None) -> pd.DataFrame:
    """Inhabitants on 1 January per region code and year: columns code, year, inwoners, herkomst."""
    table = table or load_table(config.table_dir("bevolking"))
    years = {p.key: p.year for p in table.periods() if p.half is None}
    sel = table.select(config.tables["bevolking"])
    sel = sel[sel["Perioden"].isin(years)].dropna(subset=["inwoners"])
    out = pd.DataFrame({"code": sel["regio"], "year": sel["Perioden"].map(years).astype(int),
                        "inwoners": sel["inwoners"].astype("int64"), "herkomst": sel["herkomst"]})
    return out.sort_values(["year", "code"]).reset_index(drop=True)


def provinces(table: CbsTable) -> pd.DataFrame:
    """Province name per municipality code, from CBS's grouping of RegioS (CategoryGroups)."""
    regions = table.dimension("RegioS")
    groups = table.category_groups   # read and verified with the snapshot
    names = dict(zip(groups["ID"], groups["Title"]))
    gm = regions[regions["Key"].str.startswith("GM")]
    return pd.DataFrame({"code": gm["Key"], "provincie": gm["CategoryGroupID"].map(names)})


def membership(config: StudyConfig, table: CbsTable) -> pd.DataFrame:
    """Gemeente -> jeugdregio (code and name) from Gebieden in Nederland (84721NED, string measures)."""
    sel = table.select(config.tables["gebieden"])
    sel = sel[sel["regio"].str.startswith("GM")]
    return pd.DataFrame({"code": sel["regio"], "jeugdregio_code": sel["jeugdregio_code"].str.strip(),
                         "jeugdregio_naam": sel["jeugdregio_naam"].str.strip()})


def municipalities(config: StudyConfig, table: CbsTable | None = None,
                   gebieden: CbsTable | None = None, pop: pd.DataFrame | None = None) -> pd.DataFrame:
    """Every municipality of the classification year, with name, province, jeugdregio and size class.

    ``pop``: :func:`population` of ``table``, when already read (the build reads it once)."""
    table = table or load_table(config.table_dir("bevolking"))
    gebieden = gebieden or load_table(config.table_dir("gebieden"))
    year = config.periods.classification_year
    pop = population(config, table) if pop is None else pop
    current = pop[(pop["year"] == year) & pop["code"].str.startswith("GM")][["code", "inwoners"]]
    if current.empty:
        raise SnapshotError(f"population table {table.table_id} has no municipalities for {year}; "
                            "set periods.classification_year to a year the snapshot covers")
    names = table.dimension("RegioS").set_index("Key")["Title"]
    # CBS disambiguates "Utrecht (gemeente)" from the province; the tables print the plain name
    frame = current.assign(naam=current["code"].map(names).str.strip().str.replace(r" \(gemeente\)$", "", regex=True))
    frame = frame.merge(provinces(table), on="code", how="left")
    frame = frame.merge(membership(config, gebieden), on="code", how="left")
    missing = frame.loc[frame["jeugdregio_code"].isna(), "code"].tolist()
    if missing:
        raise SnapshotError(f"table {gebieden.table_id} has no jeugdregio for {', '.join(missing[:5])}; "
                            f"it must be Gebieden in Nederland {year}: fetch that year's table")
    frame["grootteklasse"] = frame["inwoners"].map(cbs_size_class)  # CBS's gemeentegrootteklasse
    columns = ["code", "naam", "provincie", "jeugdregio_code", "jeugdregio_naam", "inwoners", "grootteklasse"]
    return frame[columns].sort_values("code").reset_index(drop=True)


def crosswalk(config: StudyConfig, table: CbsTable | None = None) -> pd.DataFrame:
    table = table or load_table(config.table_dir("bevolking"))
    return build_crosswalk(table.dimension("RegioS"))
