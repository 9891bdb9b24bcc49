"""Raw snapshots: the directory `cbsodata.download_data(table_id, dir=...)` writes, plus a manifest.

A snapshot of one CBS table lives in ``data/raw/<table_id>/``: one JSON file per OData entity set
(``TableInfos.json``, ``DataProperties.json``, one file per dimension such as ``RegioS.json`` and
``Perioden.json``, ``CategoryGroups.json`` and ``TypedDataSet.json``) exactly as cbsodata saves them,
and ``manifest.json`` with the provenance and a sha256 per file. Snapshots are immutable: they are
replaced whole (written to a temporary directory and renamed), never edited in place.

Reading a snapshot verifies every checksum first, then strips CBS's padding spaces from dimension
keys (``"GM0150    "`` -> ``"GM0150"``) in both the dimension tables and the data.
:meth:`CbsTable.select` gives the rows of the categories a config role names, with measures scaled
by their DataProperties unit, suppressed cells (``null``, ``"."``) and "geen opgave" codes as missing
values, and the provenance kind of every row (``docs/shapes.md``).
"""

from __future__ import annotations

import math
import operator
import re
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path

import numpy as np
import pandas as pd

from pipeline.errors import MissingColumnError, SnapshotError
from pipeline.data.manifest import MANIFEST, read_json, verified_contents
from pipeline.data.periods import Period, parse_periods

KINDS = ("cbs", "afgeleid", "gegenereerd")  # provenance of a value, weakest last (docs/shapes.md)
UNTYPED_MISSING = {".", "", "-"}            # CBS's markers in untyped data for "no figure"

DIMENSION_TYPES = ("Dimension", "TimeDimension", "GeoDimension", "GeoDetail")


def strip_keys(values: pd.Series) -> pd.Series:
    """CBS pads dimension keys with spaces to a fixed width; codes are compared stripped."""
    # a column of keys has few distinct values: strip each once
    codes, uniques = pd.factorize(values)   # a missing value has code -1 and is not among the uniques
    if (codes < 0).any() or pd.api.types.infer_dtype(uniques, skipna=False) != "string":
        return values.astype(str).str.strip()   # not all text: every value as text
    stripped = pd.Index(uniques).str.strip().to_numpy(dtype=object)
    return pd.Series(stripped[codes], index=values.index, name=values.name, dtype=object)


def _records_frame(records) -> pd.DataFrame:
    """An entity set (a list of records) as a DataFrame: what ``pd.DataFrame(records)`` gives, faster for
    long tables (the columns are the records' keys in order of first appearance)."""
    if not records or not isinstance(records, list) or not isinstance(records[0], dict) or not records[0]:
        return pd.DataFrame(records)
    columns = list(records[0])
    rows = _same_key_rows(records, columns) if len(columns) > 1 else None
    if rows is None:
        return pd.DataFrame.from_records(records, columns=list(dict.fromkeys(chain.from_iterable(records))))
    return pd.DataFrame.from_records(rows, columns=columns)


def _same_key_rows(records: list, columns: list[str]) -> list[tuple] | None:
    """One tuple of values per record, in the order of ``columns`` (the first record's keys), when every record
    has exactly those keys (as CBS writes them); None otherwise. Each record has every column and as many keys:
    the same keys."""
    try:
        rows = list(map(operator.itemgetter(*columns), records))
    except (KeyError, TypeError):   # a record without one of the keys, or not a record
        return None
    return rows if set(map(len, records)) == {len(columns)} else None


@dataclass
class CbsTable:
    """One verified snapshot, with padding stripped and metadata at hand."""

    directory: Path
    manifest: dict
    info: dict
    properties: pd.DataFrame
    dimensions: dict[str, pd.DataFrame] = field(default_factory=dict)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)
    # CategoryGroups.json (e.g. the provinces grouping RegioS), from the verified bytes; none: no rows
    category_groups: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=["ID", "Title"]))

    @property
    def table_id(self) -> str:
        return self.manifest["table_id"]

    @property
    def generated(self) -> bool:
        return bool(self.manifest.get("generated", False))

    @property
    def provenance(self) -> dict:
        """The manifest's provenance: a default kind and blocks of rows of another kind (docs/shapes.md)."""
        default = "gegenereerd" if self.generated else "cbs"
        return self.manifest.get("provenance") or {"default": default, "blocks": []}

    def row_kinds(self, data: pd.DataFrame) -> pd.Series:
        """The provenance kind of each row of ``data`` (rows of this table): the first matching block, else default."""
        prov = self.provenance
        default, blocks = prov.get("default", "cbs"), prov.get("blocks", [])
        # A kind depends only on the keys of the dimensions the blocks name, and a table has many blocks but few
        # distinct keys per dimension: each block is matched against the distinct keys (factorised once), the
        # kind decided once per combination of them (a grid) and every row looked up in it by its keys. A grid
        # much larger than the data (blocks naming many dimensions) is not made: then each row is decided by itself.
        named = [d for d in dict.fromkeys(d for block in blocks for d in block.get("where", {})) if d in data]
        factorised = [pd.factorize(data[d]) for d in named]   # a missing key: code -1, the extra last slot below
        codes = tuple(at for at, _ in factorised)
        keys = [{key: i for i, key in enumerate(distinct)} for _, distinct in factorised]   # key -> its code

        def hits(block: dict) -> list[np.ndarray]:   # per named dimension: the distinct keys the block matches
            where, result = block.get("where", {}), []
            for dimension, code_of in zip(named, keys):
                hit = np.ones(len(code_of) + 1, dtype=bool)
                if dimension in where:
                    hit[:] = False
                    hit[[code_of[k] for k in (str(k).strip() for k in where[dimension]) if k in code_of]] = True
                result.append(hit)
            return result

        kinds = list(dict.fromkeys([default, *(block["kind"] for block in blocks)]))   # numbered, default 0
        number = {kind: i for i, kind in enumerate(kinds)}
        if math.prod(len(key) + 1 for key in keys) <= max(len(data), 1) * 2:
            grid = np.zeros([len(key) + 1 for key in keys], dtype=np.intp)
            for block in reversed(blocks):
                grid[np.ix_(*hits(block))] = number[block["kind"]]
            chosen = grid[codes] if named else np.full(len(data), grid[()], dtype=np.intp)
        else:
            chosen = np.zeros(len(data), dtype=np.intp)
            for block in reversed(blocks):
                rows = np.logical_and.reduce([hit[at] for hit, at in zip(hits(block), codes)])
                chosen[rows] = number[block["kind"]]
        return pd.Series(np.array(kinds, dtype=object)[chosen], index=data.index, dtype=object)

    def unit_factor(self, measure: str) -> float:
        """What a measure's values are multiplied by to get plain units, read from its DataProperties ``Unit``.

        ``"x 1 000 euro"`` and ``"1 000 euro"`` give 1000, ``"x 1 mln euro"`` 10**6; counts, percentages
        and euros give 1. Never a hard-coded multiplier: the table says what its numbers mean.
        """
        row = self.properties[self.properties["Key"] == measure]
        unit = str(row["Unit"].iloc[0]) if not row.empty and "Unit" in row and row["Unit"].iloc[0] else ""
        text = unit.lower().replace("\u00a0", " ").replace(".", " ")
        if re.search(r"\bmln\b|\bmiljoen\b", text):
            return 1_000_000.0
        if re.search(r"(^|x\s*|\b)1\s*000\b", text):
            return 1000.0
        return 1.0

    def resolve_category(self, dimension: str, spec) -> list[str]:
        """Stripped keys of the category a config spec names: by key, else by title, else every key with the prefix.

        A key that is not (or no longer) in the dimension falls back to the title, so a renumbered key in a
        new release still resolves; when neither matches the error lists the candidates.
        """
        frame = self.dimension(dimension)
        keys = frame["Key"].tolist()
        if spec.key and spec.key.strip() in keys:
            return [spec.key.strip()]
        if spec.title:
            wanted = _normalise_title(spec.title)
            hits = frame[frame["Title"].map(_normalise_title) == wanted]["Key"].tolist()
            if len(hits) == 1:
                return hits
            if len(hits) > 1:
                raise MissingColumnError(f"table {self.table_id}: dimension {dimension} has {len(hits)} categories "
                                         f"titled {spec.title!r} ({', '.join(hits[:5])}); give the key in config/study.yml")
        if spec.key_prefix:
            hits = [k for k in keys if k.startswith(spec.key_prefix)]
            if hits:
                return hits
        candidates = "; ".join(f"{k}: {t}" for k, t in zip(frame["Key"], frame["Title"].astype(str).str.strip()))
        if len(candidates) > 300:
            candidates = candidates[:300].rsplit(";", 1)[0] + "; ..."
        raise MissingColumnError(
            f"table {self.table_id}: no category {spec.describe()} in dimension {dimension}; candidates: "
            f"{candidates}; update tables: in config/study.yml (see `python -m pipeline inspect {self.table_id}`)")

    def periods(self) -> list[Period]:
        """Years and half years of the Perioden dimension (an Iv3 table has none: empty list)."""
        return parse_periods(self.dimensions["Perioden"]) if "Perioden" in self.dimensions else []

    def select(self, spec, year: int | None = None) -> pd.DataFrame:
        """The rows of a config role's categories, tidy: one column per dimension, measures by their role name.

        Configured dimensions are filtered to their named categories and hold the category *name*
        (``zonder_verblijf``), not CBS's key; the region dimension is renamed ``regio``; measures are
        numeric and scaled to plain units (string measures stay text); ``null``, ``"."`` and the
        role's ``missing_codes`` are missing values; ``herkomst`` is the provenance kind of each row.
        Duplicate rows are an error: CBS publishes one value per cell.
        """
        data = self.data
        if spec.region_dimension not in data:
            raise MissingColumnError(f"table {self.table_id} has no region dimension {spec.region_dimension!r} "
                                     f"(dimensions: {', '.join(self.dimensions)}); set region_dimension in config/study.yml")
        mask = np.ones(len(data), dtype=bool)
        names = {}
        for dimension, categories in spec.categories.items():
            self.dimension(dimension)
            if dimension not in data:
                raise MissingColumnError(f"table {self.table_id}: dimension {dimension} not in its data; "
                                         "re-fetch the table")
            lookup = {}
            for name, category in categories.items():
                category = category.for_year(year) if year is not None else category
                for key in self.resolve_category(dimension, category):
                    lookup.setdefault(key, name)
            inside, names[dimension] = _categories(data[dimension], lookup)
            mask &= inside
        rows = data[mask]
        measures = {name: self.resolve_measure(m.key, m.title) for name, m in spec.measures.items()}
        dims = [d for d in self.dimensions if d in rows]
        out = pd.DataFrame({d: rows[d] for d in dims})
        for dimension, named in names.items():
            out[dimension] = named[mask]   # the category name of every selected row
        for name, key in measures.items():
            out[name] = _measure_values(rows[key], self.unit_factor(key), spec.missing_codes)
        out["herkomst"] = self.row_kinds(rows).values
        duplicated = rows.duplicated(subset=dims, keep=False)
        if duplicated.any():
            first = rows[duplicated].iloc[0]
            raise SnapshotError(f"table {self.table_id} has duplicate rows (e.g. "
                                + ", ".join(str(first[d]) for d in dims)
                                + "); the snapshot is corrupt: re-fetch it or restore data/raw from git")
        out = out.rename(columns={spec.region_dimension: "regio"})
        return out.reset_index(drop=True)

    def measures(self) -> pd.DataFrame:
        """Key, Title and Unit of every measure (topic) in the table."""
        topics = self.properties[self.properties["Type"] == "Topic"]
        return topics[[c for c in ("Key", "Title", "Unit", "Decimals") if c in topics]].reset_index(drop=True)

    def resolve_measure(self, key: str | None, title: str | None = None) -> str:
        """Find a measure by its configured key, else by title (a new release may renumber ``_3`` to ``_4``)."""
        if key and (key, "Topic") in set(zip(self.properties["Key"], self.properties["Type"])):
            return key
        measures = self.measures()
        if title is not None:
            wanted = _normalise_title(title)
            hits = measures[measures["Title"].map(_normalise_title) == wanted]
            if len(hits) == 1:
                return hits["Key"].iloc[0]
        stem = key.rsplit("_", 1)[0] if key else "\0"
        candidates = measures[measures["Key"].str.startswith(stem)]["Key"].tolist() or measures["Key"].tolist()
        raise MissingColumnError(
            f"measure {key or title!r} ({title or 'no title'}) not in table {self.table_id}; "
            f"candidates: {', '.join(candidates[:8])}; update `tables:` in config/study.yml "
            f"(see `python -m pipeline inspect {self.table_id}`)")

    def period_table(self) -> pd.DataFrame:
        """The Perioden dimension (Key, Title, Status) with keys stripped."""
        return self.dimension("Perioden")

    def dimension(self, name: str) -> pd.DataFrame:
        if name not in self.dimensions:
            raise MissingColumnError(f"dimension {name!r} not in table {self.table_id} "
                                     f"(has: {', '.join(self.dimensions)}); check the table id in config/study.yml")
        return self.dimensions[name]


def _categories(values: pd.Series, lookup: dict) -> tuple[np.ndarray, np.ndarray]:
    """Which values are keys of ``lookup`` (key -> category name), and each value's name (None for the others);
    each distinct value is looked up once."""
    codes, distinct = pd.factorize(values)   # a missing value: code -1, the last slot below
    names = np.array([lookup.get(value) for value in distinct] + [None], dtype=object)
    inside = np.array([value in lookup for value in distinct] + [False], dtype=bool)
    return inside[codes], names[codes]


def _measure_values(values: pd.Series, factor: float, missing_codes) -> pd.Series:
    """Numbers scaled to plain units, with CBS's "no figure" markers and codes as missing; text stays text."""
    present = values.dropna()
    if not present.empty and pd.api.types.infer_dtype(present, skipna=True) == "string":   # every value a str
        stripped = values.astype("string").str.strip()
        if not stripped.dropna().isin(list(UNTYPED_MISSING)).all() and \
                pd.to_numeric(stripped.replace(list(UNTYPED_MISSING), pd.NA), errors="coerce").notna().sum() == 0:
            return values.map(lambda v: v.strip() if isinstance(v, str) else v)
        values = stripped.replace(list(UNTYPED_MISSING), pd.NA)
    numbers = pd.to_numeric(values, errors="coerce").astype(float)
    if missing_codes:
        numbers = numbers.mask(numbers.isin(list(missing_codes)))
    return numbers * factor


def _normalise_title(title: str) -> str:
    return " ".join(str(title).lower().split())


def load_table(directory: Path) -> CbsTable:
    """Verify and load a snapshot directory into a :class:`CbsTable`."""
    directory = Path(directory)
    manifest, contents = verified_contents(directory)   # every file read once, parsed from the verified bytes
    infos = read_json(directory / "TableInfos.json", contents["TableInfos.json"])
    properties = _records_frame(read_json(directory / "DataProperties.json", contents["DataProperties.json"]))
    dims = {}
    for key in properties.loc[properties["Type"].isin(DIMENSION_TYPES), "Key"]:
        path = directory / f"{key}.json"
        if path.name not in contents:  # e.g. Perioden.json: read only what was verified
            raise SnapshotError(f"{path} (dimension {key}) is not listed in {directory / MANIFEST}, so it cannot be "
                                "verified; the snapshot is incomplete or edited: re-fetch it or restore data/raw from git")
        frame = _records_frame(read_json(path, contents[path.name]))
        frame["Key"] = strip_keys(frame["Key"])
        dims[key] = frame
    data = _records_frame(read_json(directory / "TypedDataSet.json", contents["TypedDataSet.json"]))
    for key in dims:
        if key in data:
            data[key] = strip_keys(data[key])
    table = CbsTable(directory=directory, manifest=manifest, info=infos[0] if infos else {},
                     properties=properties, dimensions=dims, data=data)
    if "CategoryGroups.json" in contents:
        table.category_groups = _records_frame(read_json(directory / "CategoryGroups.json",
                                                          contents["CategoryGroups.json"]))
    return table
