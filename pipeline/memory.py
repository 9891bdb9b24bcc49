"""Python's cyclic garbage collector, paused where a step allocates many objects that all stay alive.

The collector runs whenever allocations outnumber deallocations by a threshold, and a full collection
visits every tracked object in the process. Importing pandas, matplotlib, papermill and nbconvert (the
preload) and parsing the raw snapshot (the build) create hundreds of thousands of objects that live
until the process ends, so each collection finds nothing to free while the heap it walks keeps growing:
about a fifth of the preload and a tenth of the build was spent that way. Paused for those blocks, the
collector still runs everywhere else, and reference counting frees what is not cyclic in any case.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run the block without cyclic garbage collections; the collector is restored as it was, also
    after an error. Nesting is harmless: only the outermost pause switches it back on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
