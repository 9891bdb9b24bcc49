"""Python's cyclic garbage collector, paused where a step allocates many objects that all stay alive.

The collector runs whenever allocations outnumber deallocations by a threshold, and a full collection
visits every tracked object in the process. Importing pandas, matplotlib, papermill and nbconvert (the
preload) and parsing the raw snapshot (the build) create hundreds of thousands of objects that live
until the process ends, so each collection finds nothing to free while the heap it walks keeps growing
(measured here: 0.1-0.4 s of the preload's ~1.5 s, ~0.1-0.25 s of the build's, on a noisy machine).
Paused for those blocks, the collector still runs everywhere else, and reference counting frees what is
not cyclic in any case.
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


@contextmanager
def long_lived() -> Iterator[None]:
    """A block whose objects live as long as the process (the preload, before the children fork): run
    without collections (:func:`collector_paused`), then frozen (``gc.freeze``), so that no later
    collection, here or in a forked child, visits them or copies their pages."""
    with collector_paused():
        yield
    gc.freeze()
