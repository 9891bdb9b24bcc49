"""Copy the real CBS inputs the generator needs from the shared offline data into data/external/cbs/.

Run once (``python -m tools.demo_snapshot.inputs /work/shared/data``); the generator itself reads only
data/external/. Dumps are sliced to their complete blocks (docs in /work/shared/data/cbs/v3-dumps/README.md),
keeping CSV, ';', the BOM and the original headers; the 03759ned capture keeps its files, with the
observations restricted to the one measure used. README.md records source, licence, slicing and sha256.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path

from .constants import CBS_DIR

COMMIT = "388b47d2e085d621c290a4d8950942744b0bc0bf"

# file -> (row filter {column: allowed values}, columns kept (None = all), how it was sliced)
DUMP_SLICES = {
    "84134NED.csv": ({"VormenVanJeugdzorg": {"JZ Totaal jeugdzorg"}}, None,
                     "rows with VormenVanJeugdzorg = `JZ Totaal jeugdzorg` (the complete block: 508 regions x 18 periods); all columns"),
    "83432NED.csv": ({"Leeftijd": {"Totaal"}},
                     ["ID", "Geslacht", "Leeftijd", "RegioS", "Perioden", "TotaalJongerenMetJeugdzorg_1",
                      "TotaalJongerenMetJeugdzorgRelatief_2", "JongerenMetAlleenPGB_3", "TotaalJongerenMetAlleenZIN_5",
                      "TotaalJeugdhulpZonderVerblijf_7", "UitgevoerdDoorHetWijkOfBuurtteam_8",
                      "TotaalJeugdhulpMetVerblijf_13", "TotaalJongerenMetZINEnPGB_63",
                      "TotaalJeugdhulpZonderVerblijf_65", "UitgevoerdDoorHetWijkOfBuurtteam_66",
                      "TotaalJeugdhulpMetVerblijf_71"],
                     "rows with Leeftijd = `Totaal` (Geslacht is total throughout; the complete block: 456 regions x 9 periods); "
                     "columns: dimensions, youth totals (_1, _2), alleen pgb (_3), the absolute counts 'alleen zorg in natura' "
                     "(_5, _7 zonder verblijf, _8 wijkteam, _13 met verblijf) and 'zorg in natura en pgb' (_63, _65, _66, _71)"),
    "84866NED.csv": ({"KenmerkenVanHuishoudens": {"Particuliere huishoudens"}}, None,
                     "rows with KenmerkenVanHuishoudens = `Particuliere huishoudens` (Populatie is `incl. studenten` throughout; "
                     "the complete block: 447 regions x 2011-2019); all columns"),
    "84868NED.csv": ({"KenmerkenVanHuishoudens": {"Particuliere huishoudens"}}, None,
                     "rows with KenmerkenVanHuishoudens = `Particuliere huishoudens` (only `Totaal` income-limit rows, "
                     "`Ten minste 1 jaar`: 447 regions x 2011-2019); all columns"),
    "84721NED.csv": ({}, None, "unchanged (complete, 355 municipalities of 2020)"),
    "84378NED.csv": ({}, ["ID", "RegioS", "Code_1", "Naam_2", "Code_16", "Naam_17", "Code_24", "Naam_25", "Code_26",
                          "Naam_27", "Inwonertal_50"],
                     "all 355 rows (complete, municipalities of 2019); columns: GM code and name, jeugdregio, "
                     "landsdeel, province, inhabitants (used for title -> code mapping only)"),
}
CAPTURE_FILES = ["index.json", "properties.json", "dimensions.json", "measure-codes.json", "codes-BurgerlijkeStaat.json",
                 "codes-Geslacht.json", "codes-Leeftijd.json", "codes-Perioden.json", "codes-RegioS.json"]
KEEP_MEASURES = {"M000352"}


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def slice_dump(raw: bytes, rows: dict, columns: list | None) -> bytes:
    text = raw.decode("utf-8-sig")
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=";")
    keep = columns or reader.fieldnames
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", lineterminator="\n")
    writer.writerow(keep)
    for record in reader:
        if all(record[c] in allowed for c, allowed in rows.items()):
            writer.writerow([record[c] for c in keep])
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def main(shared: Path) -> None:
    dumps_in = shared / "cbs" / "v3-dumps"
    capture_in = shared / "cbs" / "03759ned"
    (CBS_DIR / "v3-dumps").mkdir(parents=True, exist_ok=True)
    (CBS_DIR / "03759ned").mkdir(parents=True, exist_ok=True)
    lines = []
    for name, (rows, columns, how) in DUMP_SLICES.items():
        raw = (dumps_in / name).read_bytes()
        sliced = raw if not rows and columns is None else slice_dump(raw, rows, columns)
        (CBS_DIR / "v3-dumps" / name).write_bytes(sliced)
        lines.append(f"| `v3-dumps/{name}` | `output_files/all_datasets/{name}` | {how} | `{sha256(raw)}` | "
                     f"`{sha256(sliced)}` | {len(sliced):,} |")
    index = json.loads((capture_in / "index.json").read_text(encoding="utf-8"))
    for name in CAPTURE_FILES + index["observationPages"]:
        raw = (capture_in / name).read_bytes()
        how = "unchanged"
        data = raw
        if name.startswith("observations"):
            obs = json.loads(raw)
            obs["value"] = [o for o in obs["value"] if o["Measure"] in KEEP_MEASURES]
            data = json.dumps(obs, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
            how = "only Measure `M000352` (Bevolking op 1 januari) kept; `M000365` dropped; re-serialised compactly"
        (CBS_DIR / "03759ned" / name).write_bytes(data)
        lines.append(f"| `03759ned/{name}` | capture file `{name}` of index.json | {how} | `{sha256(raw)}` | "
                     f"`{sha256(data)}` | {len(data):,} |")
    readme = README.format(commit=COMMIT, table="\n".join(lines), captured=index.get("capturedAt"),
                           source=index.get("source"), filter=index.get("sliceFilter"))
    (CBS_DIR / "README.md").write_text(readme, encoding="utf-8")
    print(f"copied {len(lines)} files to {CBS_DIR}")


README = """# Real CBS inputs of the demo snapshot

These are the only real inputs `python -m tools.demo_snapshot` reads (besides data/external/published/).
They are copies of real CBS open data, so a clone regenerates data/raw/ without the shared offline folder.
Written by `python -m tools.demo_snapshot.inputs <shared data folder>`; do not edit by hand.

**Licence**: CC BY 4.0, (c) Centraal Bureau voor de Statistiek (CBS). Reuse must credit CBS as the source.

**Sources**
- `v3-dumps/`: CBS OData v3 TypedDataSet dumps (dimension keys replaced by titles) from the public repository
  github.com/dertje/cbs_datasets, commit {commit}, folder `output_files/all_datasets/`. Most dumps stop after
  10 000 rows in CBS's row order; only the complete blocks are kept here (see the slicing column). Format kept:
  CSV, `;`-separated, UTF-8 with BOM, the original header names (a subset where columns were dropped).
- `03759ned/`: CBS OData v4 capture of {source} (captured {captured}), slice `{filter}`; the files are listed in
  its `index.json`.

| file | original | how it was sliced | sha256 original | sha256 copy | bytes |
|---|---|---|---|---|---|
{table}

Column meaning checked in 83432NED's header: the measures come in four blocks of 29, `_5`-`_33` 'alleen zorg in
natura' (counts), `_34`-`_62` the same relative (%), `_63`-`_91` 'zorg in natura en pgb' (counts), `_92`-`_120` the
same relative. Jeugdhulp zonder verblijf is therefore `_7 + _65` (wijkteam `_8 + _66`, met verblijf `_13 + _71`);
check: Deventer 1e halfjaar 2017 (_7 + _65) over the youth base (_1 / _2 x 100) = 8.1 %, Nederland 7.1 %.
"""

if __name__ == "__main__":
    if len(sys.argv) != 2:
        raise SystemExit("usage: python -m tools.demo_snapshot.inputs <shared data folder, e.g. /work/shared/data>")
    main(Path(sys.argv[1]))
