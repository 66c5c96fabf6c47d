"""The garbage collector's pace while a batch runs.

A batch keeps up to ``--concurrency`` sessions' objects alive at once, so
CPython's default pace (a young collection every 700 allocations, each one
walking every survivor) spent 0.5-0.6 ms of a batch account's ~6 ms CPU in
collections (issue 12).  For the batch: what was alive before it (modules,
profiles, the catalogue) is frozen out of the collector's walks, and young
collections come every 5,000 allocations; the older generations keep their
default ratios, so cyclic garbage is still collected as the batch goes and
memory stays bounded.  The previous pace comes back when the last batch ends.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

YOUNG_THRESHOLD = 5_000
_running = 0
_before: tuple[int, int, int] = (700, 10, 10)


@contextmanager
def batch_collection() -> Iterator[None]:
    """The collector's batch pace for the ``with`` block (nested or overlapping batches too)."""
    global _running, _before  # noqa: PLW0603 — the collector is process-wide
    if _running == 0:
        _before = gc.get_threshold()
        gc.freeze()
        gc.set_threshold(max(YOUNG_THRESHOLD, _before[0]), *_before[1:])
    _running += 1
    try:
        yield
    finally:
        _running -= 1
        if _running == 0:
            gc.set_threshold(*_before)
            gc.unfreeze()
