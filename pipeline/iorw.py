"""Atomic file writes: every output goes to a temporary file next to its target and is renamed.

A reader (or an interrupted run) therefore only ever sees the old file or the complete new one.
Identical content is not rewritten, so file times stay and "up to date" checks stay cheap. This
module imports nothing heavy (no pandas), so the cache and the CLI can use it on their fast paths.
"""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path

FILE_MODE = 0o644  # mkstemp creates 0600; outputs are meant to be readable like any checkout


@contextmanager
def atomic_path(target: Path, suffix: str = ""):
    """A temporary path next to ``target``; renamed onto it when the block succeeds, removed if it fails.

    For writers that want a file name rather than a handle (``Figure.savefig``).
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix, dir=target.parent)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, FILE_MODE)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` atomically; a file that already holds exactly ``data`` is left alone."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return
    except OSError:
        pass
    with atomic_path(path) as tmp:
        tmp.write_bytes(data)


def write_text(path: Path, text: str) -> None:
    """UTF-8 text with ``\\n`` line ends, atomically (see :func:`write_bytes`)."""
    write_bytes(path, text.encode("utf-8"))


def write_csv(frame, path: Path) -> None:
    """A pandas frame as CSV, byte-identical for identical input (fixed float format, ``\\n``), atomically."""
    import numpy as np

    # floats as to_csv's float_format writes them ("%.6f", NaN empty), but a column at a time, not value by value
    floats = [name for name, column in frame.items() if isinstance(column.dtype, np.dtype) and column.dtype.kind == "f"]
    if floats and frame.columns.is_unique:
        frame = frame.assign(**{name: ["" if v != v else "%.6f" % v for v in frame[name].tolist()] for name in floats})
    write_text(path, frame.to_csv(index=False, lineterminator="\n", float_format="%.6f"))
