"""Evaluation time and peak memory of the program under mocks for meshes of 2, 4, 8 and 16 clusters.

    venv/bin/python -m scripts.benchmark

Each mesh is N existing clusters on N networks (the cloud layers do not change how the mesh
scales). RSA key generation belongs to the mocks, not to the program, so every size is run once
to warm the mock's key cache and then measured: the figures are the program's evaluation
(config parsing, component construction, resource registration through the mock monitor).
Peak memory is tracemalloc's peak of Python allocations during a third, separate run.
"""

from __future__ import annotations

import time
import tracemalloc

from tests.configs import n_existing
from tests.harness.program import run_program

SIZES = (2, 4, 8, 16)


def measure(clusters: int) -> tuple[float, float, int]:
    config = n_existing(clusters)
    run_program(config)  # warm the mock's RSA keys
    started = time.perf_counter()
    result = run_program(config)
    seconds = time.perf_counter() - started
    # A separate run for memory: tracemalloc slows everything it watches.
    tracemalloc.start()
    run_program(config)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, len(result.resources)


def main() -> None:
    print("| clusters | resources | evaluation (s) | peak memory (MiB) |")
    print("| ---: | ---: | ---: | ---: |")
    for size in SIZES:
        seconds, mebibytes, resources = measure(size)
        print(f"| {size} | {resources} | {seconds:.2f} | {mebibytes:.1f} |")


if __name__ == "__main__":
    main()
