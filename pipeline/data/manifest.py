"""The raw snapshot on disk: its manifest, the checksums that make it immutable, atomic writes.

A snapshot of one CBS table is a directory of JSON files as cbsodata saves them plus ``manifest.json``
(provenance and a sha256 per file; :mod:`pipeline.data.snapshot` describes the layout). This module
writes and verifies it with the standard library and orjson only: checking that ``data/raw`` is intact
and unchanged (``run``, ``report``, ``validate`` do before anything else) costs no pandas import.
Reading a snapshot into a table is :func:`pipeline.data.snapshot.load_table`.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path

import orjson

from pipeline.errors import SnapshotError

MANIFEST = "manifest.json"
REQUIRED_ENTITY_SETS = ("TableInfos", "DataProperties", "TypedDataSet")
MANIFEST_FORMAT = 1


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    try:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(1 << 20), b""):
                digest.update(chunk)
    except FileNotFoundError:
        raise
    except OSError as exc:
        raise _unreadable(path, exc) from None
    return digest.hexdigest()


def _unreadable(path: Path, exc: OSError) -> SnapshotError:
    return SnapshotError(f"{path} cannot be read ({exc.strerror or type(exc).__name__}); check its permissions "
                         "(chmod a+r) or restore data/raw from git")


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
    info = read_json(directory / "TableInfos.json")
    info = info[0] if info else {}
    data = read_json(directory / "TypedDataSet.json")
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


def read_json(path: Path, content: bytes | None = None):
    """The parsed JSON of ``path``; from ``content`` (its bytes, already read and verified) when given.

    Parsed with orjson (the raw dumps are tens of MB; it takes about half the time of the json module, same
    values); its ``JSONDecodeError`` is json's, so a corrupt file gets the same message either way."""
    try:
        if content is None:
            with open(path, "rb") as handle:
                content = handle.read()
        return orjson.loads(content.decode("utf-8"))   # text first: not UTF-8 is its own error, as before
    except FileNotFoundError:
        raise SnapshotError(f"{path} is missing; run `python -m pipeline fetch` or restore data/raw from git")
    except UnicodeDecodeError:
        raise SnapshotError(f"{path} is not UTF-8 text; the snapshot is corrupt: re-fetch it or restore data/raw "
                            "from git") from None
    except OSError as exc:
        raise _unreadable(path, exc) from None
    except json.JSONDecodeError as exc:
        raise SnapshotError(f"{path} is not valid JSON ({exc.msg} at line {exc.lineno}); "
                            "the snapshot is corrupt: re-fetch it or restore data/raw from git")


def read_manifest(directory: Path) -> dict:
    if not (directory / MANIFEST).exists():
        raise SnapshotError(f"no snapshot at {directory} (manifest.json missing); "
                            "run `python -m pipeline fetch` or `python -m pipeline demo-snapshot`")
    return read_json(directory / MANIFEST)


def verify_snapshot(directory: Path) -> dict:
    """Check every file against the manifest; return the manifest or raise SnapshotError."""
    return verified_contents(directory)[0]


def verified_contents(directory: Path) -> tuple[dict, dict[str, bytes]]:
    """The manifest and the bytes of every file it lists, each read once and checked against its sha256.

    :func:`pipeline.data.snapshot.load_table` parses the very bytes that were verified, so no file is read twice (and none can
    change between the check and the read)."""
    manifest = read_manifest(directory)
    listed = manifest.get("files", {})
    for name in REQUIRED_ENTITY_SETS:
        if f"{name}.json" not in listed:
            raise SnapshotError(f"{directory} lacks entity set {name}; the snapshot is incomplete: re-fetch it")
    # a file the manifest does not list has no checksum to verify: it is not part of the snapshot
    unlisted = sorted(p.name for p in directory.glob("*.json") if p.name != MANIFEST and p.name not in listed)
    if unlisted:
        raise SnapshotError(f"{directory / unlisted[0]} is not listed in {directory / MANIFEST}, so it cannot be "
                            "verified; the snapshot was edited: re-fetch it or restore data/raw from git")
    return manifest, _read_verified(directory, manifest)


def verify_checksums(directory: Path, manifest: dict) -> None:
    """Every file the manifest lists exists and has the recorded sha256, else a SnapshotError naming it."""
    _read_verified(directory, manifest)


def _read_verified(directory: Path, manifest: dict) -> dict[str, bytes]:
    """File name -> bytes of every file the manifest lists, after checking its sha256 (SnapshotError naming it)."""
    contents = {}
    for name, meta in manifest.get("files", {}).items():
        path = directory / name
        if not path.exists():
            raise SnapshotError(f"{path} is listed in the manifest but missing; re-fetch the table "
                                "or restore data/raw from git")
        try:
            with open(path, "rb") as handle:
                content = handle.read()
        except OSError as exc:
            raise _unreadable(path, exc) from None
        actual = hashlib.sha256(content).hexdigest()
        if actual != meta["sha256"]:
            raise SnapshotError(f"checksum mismatch in {path} (manifest {meta['sha256'][:12]}, "
                                f"file {actual[:12]}); the snapshot was edited or corrupted: "
                                "re-fetch it or restore data/raw from git")
        contents[name] = content
    return contents
