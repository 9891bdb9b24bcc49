"""Raw snapshots: the directory `cbsodata.download_data(table_id, dir=...)` writes, plus a manifest.

A snapshot of one CBS table lives in ``data/raw/<table_id>/``: one JSON file per OData entity set
(``TableInfos.json``, ``DataProperties.json``, one file per dimension such as ``RegioS.json`` and
``Perioden.json``, ``CategoryGroups.json`` and ``TypedDataSet.json``) exactly as cbsodata saves them,
and ``manifest.json`` with the provenance and a sha256 per file. Snapshots are immutable: they are
replaced whole (written to a temporary directory and renamed), never edited in place.

Reading a snapshot verifies every checksum first, then strips CBS's padding spaces from dimension
keys (``"GM0150    "`` -> ``"GM0150"``) in both the dimension tables and the data.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from .errors import MissingColumnError, SnapshotError

MANIFEST = "manifest.json"
REQUIRED_ENTITY_SETS = ("TableInfos", "DataProperties", "TypedDataSet")
DIMENSION_TYPES = ("Dimension", "TimeDimension", "GeoDimension", "GeoDetail")
MANIFEST_FORMAT = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def dump_json(obj, path: Path) -> None:
    """Write JSON the way cbsodata's ``_save_data`` does (indent 2, ASCII), so files are comparable."""
    with open(path, "w", encoding="utf-8", newline="\n") as handle:
        json.dump(obj, handle, indent=2)


def file_checksums(directory: Path, pattern: str = "*.json") -> dict[str, str]:
    """sha256 of every file matching ``pattern`` in a snapshot directory, except the manifest itself."""
    return {
        p.name: sha256_file(p)
        for p in sorted(directory.glob(pattern))
        if p.name != MANIFEST and p.is_file()
    }


def build_manifest(directory: Path, **provenance) -> dict:
    """The manifest of a snapshot directory: provenance fields plus sha256 and size of every file."""
    files = {}
    for name, digest in file_checksums(directory).items():
        files[name] = {"sha256": digest, "bytes": (directory / name).stat().st_size}
    info = _read_json(directory / "TableInfos.json")
    info = info[0] if info else {}
    data = _read_json(directory / "TypedDataSet.json")
    manifest = {
        "format": MANIFEST_FORMAT,
        "table_id": provenance.pop("table_id"),
        "catalog": provenance.pop("catalog"),
        "title": info.get("Title"),
        "short_title": info.get("ShortTitle"),
        "modified": info.get("Modified"),
        "output_status": info.get("OutputStatus"),
        "rows": len(data),
    }
    manifest.update(provenance)
    manifest["files"] = files
    return manifest


def write_manifest(directory: Path, manifest: dict) -> None:
    dump_json(manifest, directory / MANIFEST)


def snapshot_hash(manifest: dict) -> str:
    """One hash for a whole table snapshot: the hash of its sorted file checksums."""
    joined = "\n".join(f"{name} {meta['sha256']}" for name, meta in sorted(manifest["files"].items()))
    return hashlib.sha256(joined.encode()).hexdigest()


def replace_directory(staged: Path, target: Path) -> None:
    """Swap ``staged`` in at ``target`` so ``target`` is always either the old or the new snapshot.

    The old directory is moved aside first and only deleted once the new one is in place; if the
    second rename fails, the old one is moved back.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    backup = None
    if target.exists():
        backup = Path(tempfile.mkdtemp(prefix=f".{target.name}.old-", dir=target.parent))
        backup.rmdir()
        os.replace(target, backup)
    try:
        os.replace(staged, target)
    except OSError:
        if backup is not None:
            os.replace(backup, target)
        raise
    if backup is not None:
        shutil.rmtree(backup)


def staging_directory(target: Path) -> Path:
    """A fresh temporary directory next to ``target`` (same file system, so the final rename is atomic)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    staged = Path(tempfile.mkdtemp(prefix=f".{target.name}.new-", dir=target.parent))
    staged.chmod(0o755)  # mkdtemp makes 0700; a swapped-in snapshot must be readable like any checkout
    return staged


def write_snapshot(target: Path, entity_sets: dict[str, list], **provenance) -> dict:
    """Write a complete snapshot (entity sets + manifest) atomically; return its manifest."""
    staged = staging_directory(target)
    try:
        for name, records in entity_sets.items():
            dump_json(records, staged / f"{name}.json")
        manifest = build_manifest(staged, **provenance)
        write_manifest(staged, manifest)
        replace_directory(staged, target)
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    return manifest


def _read_json(path: Path):
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except FileNotFoundError:
        raise SnapshotError(f"{path} is missing; run `python -m pipeline fetch` or restore data/raw from git")
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                            "the snapshot is corrupt: re-fetch it or restore data/raw from git")


def read_manifest(directory: Path) -> dict:
    if not (directory / MANIFEST).exists():
        raise SnapshotError(f"no snapshot at {directory} (manifest.json missing); "
                            "run `python -m pipeline fetch` or `python -m pipeline demo-snapshot`")
    return _read_json(directory / MANIFEST)


def verify_snapshot(directory: Path) -> dict:
    """Check every file against the manifest; return the manifest or raise SnapshotError."""
    manifest = read_manifest(directory)
    listed = manifest.get("files", {})
    for name in REQUIRED_ENTITY_SETS:
        if f"{name}.json" not in listed:
            raise SnapshotError(f"{directory} lacks entity set {name}; the snapshot is incomplete: re-fetch it")
    verify_checksums(directory, manifest)
    return manifest


def verify_checksums(directory: Path, manifest: dict) -> None:
    """Every file the manifest lists exists and has the recorded sha256, else a SnapshotError naming it."""
    for name, meta in manifest.get("files", {}).items():
        path = directory / name
        if not path.exists():
            raise SnapshotError(f"{path} is listed in the manifest but missing; re-fetch the table "
                                "or restore data/raw from git")
        actual = sha256_file(path)
        if actual != meta["sha256"]:
            raise SnapshotError(f"checksum mismatch in {path} (manifest {meta['sha256'][:12]}, "
                                f"file {actual[:12]}); the snapshot was edited or corrupted: "
                                "re-fetch it or restore data/raw from git")


def strip_keys(values: pd.Series) -> pd.Series:
    """CBS pads dimension keys with spaces to a fixed width; codes are compared stripped."""
    return values.astype(str).str.strip()


@dataclass
class CbsTable:
    """One verified snapshot, with padding stripped and metadata at hand."""

    directory: Path
    manifest: dict
    info: dict
    properties: pd.DataFrame
    dimensions: dict[str, pd.DataFrame] = field(default_factory=dict)
    data: pd.DataFrame = field(default_factory=pd.DataFrame)

    @property
    def table_id(self) -> str:
        return self.manifest["table_id"]

    @property
    def generated(self) -> bool:
        return bool(self.manifest.get("generated", False))

    def measures(self) -> pd.DataFrame:
        """Key, Title and Unit of every measure (topic) in the table."""
        topics = self.properties[self.properties["Type"] == "Topic"]
        return topics[[c for c in ("Key", "Title", "Unit", "Decimals") if c in topics]].reset_index(drop=True)

    def resolve_measure(self, key: str, title: str | None = None) -> str:
        """Find a measure by its configured key, else by title (a new release may renumber ``_3`` to ``_4``)."""
        measures = self.measures()
        if key in set(measures["Key"]):
            return key
        if title is not None:
            wanted = _normalise_title(title)
            hits = measures[measures["Title"].map(_normalise_title) == wanted]
            if len(hits) == 1:
                return hits["Key"].iloc[0]
        stem = key.rsplit("_", 1)[0]
        candidates = measures[measures["Key"].str.startswith(stem)]["Key"].tolist() or measures["Key"].tolist()
        raise MissingColumnError(
            f"measure {key!r} ({title or 'no title'}) not in table {self.table_id}; "
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


def _normalise_title(title: str) -> str:
    return " ".join(str(title).lower().split())


def load_table(directory: Path) -> CbsTable:
    """Verify and load a snapshot directory into a :class:`CbsTable`."""
    directory = Path(directory)
    manifest = verify_snapshot(directory)
    infos = _read_json(directory / "TableInfos.json")
    properties = pd.DataFrame(_read_json(directory / "DataProperties.json"))
    dims = {}
    for key in properties.loc[properties["Type"].isin(DIMENSION_TYPES), "Key"]:
        path = directory / f"{key}.json"
        frame = pd.DataFrame(_read_json(path))
        frame["Key"] = strip_keys(frame["Key"])
        dims[key] = frame
    data = pd.DataFrame(_read_json(directory / "TypedDataSet.json"))
    for key in dims:
        if key in data:
            data[key] = strip_keys(data[key])
    return CbsTable(directory=directory, manifest=manifest, info=infos[0] if infos else {},
                    properties=properties, dimensions=dims, data=data)
