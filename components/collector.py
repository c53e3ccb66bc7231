"""The program's garbage-collector policy: full collections only when they can find something.

A Pulumi program registers every resource once and keeps it, with the outputs, futures and
callbacks the SDK hangs on it, until the engine has finished with the stack: the heap only grows
while the program runs. CPython's collector (Modules/gcmodule.c, ``gc_collect_generations``) starts a full
collection whenever the objects that survived the younger generations since the last one exceed a
quarter of the older heap, so a heap that only grows is walked whole again and again, and each
walk finds almost nothing. Measured under the mocks (``scripts/benchmark.py``), 64 clusters in one
stack: 12 full collections took half of the 21 s the program ran; with them made rare, 11 s, and
the same peak memory. The young generations still collect as often as CPython's defaults say: they
free the short-lived cycles (asyncio's tasks and exceptions) cheaply.
"""

from __future__ import annotations

import gc

# A full collection waits for this many collections of the middle generation (CPython's default:
# 10), each of which follows as many young ones (700): some seven million allocations apart.
MIDDLE_COLLECTIONS_PER_FULL = 1000


def make_full_collections_rare() -> None:
    """Keep the young generations' thresholds and let the oldest wait for
    ``MIDDLE_COLLECTIONS_PER_FULL`` middle-generation collections. Applies to this process, which
    for ``pulumi up`` is the program's own language host."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, MIDDLE_COLLECTIONS_PER_FULL)
