"""Table ids, keys and fixed parameters (docs/shapes.md), hard-coded on purpose: no dependency on pipeline.config."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXTERNAL = ROOT / "data" / "external"
CBS_DIR = EXTERNAL / "cbs"
DUMPS = CBS_DIR / "v3-dumps"
CAPTURE = CBS_DIR / "03759ned"
PUBLISHED = EXTERNAL / "published"
RAW = ROOT / "data" / "raw"
STUDY = ROOT / "config" / "study.yml"

SEED = 20210415
GENERATED_AT = "2026-11-25T00:00:00+00:00"   # fixed: regenerating gives byte-identical manifests
GENERATOR = f"tools.demo_snapshot (seed {SEED})"
BANNER = "demo snapshot: real CBS values where the offline inputs have them, generated (labelled) elsewhere"
DUMP_SOURCE = ("github.com/dertje/cbs_datasets commit 388b47d2e085d621c290a4d8950942744b0bc0bf, "
               "output_files/all_datasets/{file} (CBS OData v3 dump, CC BY 4.0 (c) CBS), "
               "copied as data/external/cbs/v3-dumps/{file}")

POPULATION = "03759ned"
GEBIEDEN = "84721NED"
GEBIEDEN_2019 = "84378NED"
JEUGDZORG = "84134NED"
JEUGDZORG_NATURA_PGB = "83432NED"
INKOMEN = "84866NED"
ARMOEDE = "84868NED"
IV3 = {2017: "45038NED", 2019: "45046NED"}
IV3_TITLE = "Gemeenten {year} onbewerkte Iv3-data"
OPENDATA = "opendata.cbs.nl"
DATADERDEN = "dataderden.cbs.nl"

REGION_WIDTH = 10            # "GM0150    "
IV3_REGION_WIDTH = 9         # "GM0150   "
TAAKVELD_WIDTH = 6           # "6.72  "

# population (03759ned) category keys
GESLACHT_TOTAAL = "T001038"
LEEFTIJD_TOTAAL = "10000"
BURGERLIJKE_STAAT_TOTAAL = "T001019"

# 84134NED care forms: the real keys are unknown offline, these are invented (said in the manifest)
VORMEN = {
    "JZT": "JZ Totaal jeugdzorg",
    "JH121": "JH 121 Totaal jeugdhulp zonder verblijf",
    "JH1211": "JH 1211 Uitgevoerd door wijkteam",
    "JH122": "JH 122 Totaal jeugdhulp met verblijf",
}
VORM_WIDTH = 8

CLASSIFICATION_YEAR = 2020
