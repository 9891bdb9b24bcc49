"""Entity-set builders shared by the tables, and writing one snapshot with its provenance."""

from __future__ import annotations

import math
from collections import Counter

from pipeline.data.manifest import write_snapshot

from pathlib import Path

from .constants import BANNER, GENERATED_AT, GENERATOR, OPENDATA


def table_info(table_id: str, title: str, short_title: str, *, catalog: str = OPENDATA, modified: str,
               period: str, summary: str | None = None) -> dict:
    return {"ID": 0, "Title": title, "ShortTitle": short_title, "Identifier": table_id, "Summary": summary,
            "Modified": modified, "MetaDataModified": modified, "ReasonDelivery": "Actualisering",
            "ExplanatoryText": "", "OutputStatus": "Regulier", "Source": "CBS.", "Language": "nl",
            "Catalog": catalog, "Frequency": "Perjaar", "Period": period, "SearchPriority": "2"}


def dimension_property(i: int, key: str, title: str, kind: str = "Dimension") -> dict:
    return {"odata.type": f"Cbs.OData.{kind}", "ID": i, "Position": i, "ParentID": None, "Type": kind, "Key": key,
            "Title": title, "Description": None, **({"MapYear": None, "ReleasePolicy": False}
                                                     if kind == "GeoDimension" else {})}


def topic_property(i: int, key: str, title: str, unit: str, decimals: int, datatype: str | None = None,
                   description: str | None = None) -> dict:
    return {"odata.type": "Cbs.OData.Topic", "ID": i, "Position": i, "ParentID": None, "Type": "Topic", "Key": key,
            "Title": title, "Description": description,
            "Datatype": datatype or ("Double" if decimals else "Long"), "Unit": unit, "Decimals": decimals,
            "Default": "Missing", "PresentationType": "Absolute" if unit != "%" else "Relative"}


def category(key: str, title: str, description: str | None = None, group: int | None = None) -> dict:
    return {"Key": key, "Title": title, "Description": description, "CategoryGroupID": group}


def period_entry(key: str, title: str, status: str = "Definitief") -> dict:
    return {"Key": key, "Title": title, "Description": None, "Status": status}


def period_title(key: str) -> str:
    year = key[:4]
    if key[4:6] == "HJ":
        return f"{int(key[7])}e halfjaar {year}"
    return year


def clean(value):
    """JSON value of a cell: NaN -> null, integral floats of count measures stay as they are given."""
    if value is None:
        return None
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def check_unique(rows: list[dict], dims: list[str], table_id: str) -> None:
    counts = Counter(tuple(r[d] for d in dims) for r in rows)
    dupes = [k for k, n in counts.items() if n > 1]
    if dupes:
        raise SystemExit(f"{table_id}: duplicate rows for {dupes[:3]}")


def kind_of(row: dict, blocks: list[dict], default: str = "cbs") -> str:
    for block in blocks:
        if all(str(row[dim]).strip() in keys for dim, keys in block["where"].items()):
            return block["kind"]
    return default


def write_table(out: Path, table_id: str, entity_sets: dict, *, catalog: str, source: str, blocks: list[dict],
                filters: str | None = None, extra: dict | None = None) -> dict:
    """Write <out>/<table_id>/ and print one summary line (id, rows, kinds)."""
    rows = entity_sets["TypedDataSet"]
    for i, row in enumerate(rows):
        row["ID"] = i
    entity_sets["TypedDataSet"] = [{"ID": r["ID"], **{k: clean(v) for k, v in r.items() if k != "ID"}} for r in rows]
    generated = any(b["kind"] == "gegenereerd" for b in blocks)
    provenance = {"default": "cbs", "blocks": blocks}
    fields = dict(table_id=table_id, catalog=catalog, filters=filters, fetched_at=GENERATED_AT,
                  cbsodata_version=None, generated=generated, provenance=provenance, source=source)
    if generated:
        fields.update(generator=GENERATOR, banner=BANNER,
                      calibrated_to="data/external/published (chapter 6, Tabel 2-11)")
    fields.update(extra or {})
    dims = [p["Key"] for p in entity_sets["DataProperties"] if p["Type"] != "Topic"]
    check_unique(entity_sets["TypedDataSet"], dims, table_id)
    manifest = write_snapshot(Path(out) / table_id, entity_sets, **fields)
    kinds = Counter(kind_of(r, blocks) for r in entity_sets["TypedDataSet"])
    summary = ", ".join(f"{k} {n}" for k, n in sorted(kinds.items()))
    print(f"{table_id}: {manifest['rows']} rows ({summary})")
    return manifest
