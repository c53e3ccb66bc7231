"""The program's garbage-collector policy: full collections only when they can find something.

A Pulumi program registers every resource once and keeps it, with the outputs, futures and
callbacks the SDK hangs on it, until the engine has finished with the stack: the heap only grows
while the program runs. CPython 3.11's collector (Modules/gcmodule.c, ``gc_collect_generations``)
starts a full collection once the oldest generation's count passes its threshold (10 collections
of the middle generation) and the objects that survived since the last full one exceed a quarter
of those it kept: a heap that grows by a quarter is walked whole again, and each walk finds almost
nothing. Measured under the mocks (``scripts/benchmark.py``), 64 clusters in one stack: 12 full
collections took half of the 21 s the program ran; with the threshold at 1000, none, 11 s, and the
same peak memory. The young generations still collect as often as CPython's defaults say: they
free the short-lived cycles (asyncio's tasks and exceptions) cheaply. A collector that ignores the
oldest generation's threshold (the incremental one some CPython 3.14 releases shipped) makes this
a no-op, and ``tests/test_collector.py`` fails there.
"""

from __future__ import annotations

import gc

# A full collection waits for this many collections of the middle generation (CPython's default:
# 10); each of those follows 10 young ones, and each young one 700 net allocations of container
# objects: full collections some seven million allocations apart.
MIDDLE_COLLECTIONS_PER_FULL = 1000


def make_full_collections_rare() -> None:
    """Keep the young generations' thresholds and let the oldest wait for
    ``MIDDLE_COLLECTIONS_PER_FULL`` middle-generation collections. Applies to this process, which
    for ``pulumi up`` is the program's own language host."""
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, MIDDLE_COLLECTIONS_PER_FULL)
