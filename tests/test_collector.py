"""The program's collector policy: a growing stack is not walked whole by full collections."""

from __future__ import annotations

import gc
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

from components.collector import MIDDLE_COLLECTIONS_PER_FULL, make_full_collections_rare

ROOT = Path(__file__).resolve().parent.parent

# In a fresh process, as `pulumi up` runs the program: a warm run (the mock's keys, imports), then
# a measured one from CPython's default thresholds, counting the full collections it starts and the
# thresholds the program ran under. With those defaults, 16 clusters start 3 of them (measured); the
# program's policy must leave none.
MEASURED_RUN = textwrap.dedent(
    """
    import gc, json, runpy
    from tests.configs import n_existing
    from tests.harness.program import ROOT, run_program

    during = []

    def program():
        runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__")
        during.append(gc.get_threshold())

    config = n_existing(16)
    run_program(config)
    gc.collect()
    gc.set_threshold(700, 10, 10)
    before = gc.get_stats()[2]["collections"]
    run_program(config, program=program)
    full = gc.get_stats()[2]["collections"] - before
    print(json.dumps({"full": full, "during": during, "after": gc.get_threshold()}))
    """
)


def test_a_run_of_sixteen_clusters_starts_no_full_collection() -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-c", MEASURED_RUN]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, env=environment, check=False, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    # The harness gives the test process its own policy back after the run.
    measured = {"full": 0, "during": [[700, 10, MIDDLE_COLLECTIONS_PER_FULL]], "after": [700, 10, 10]}
    assert json.loads(done.stdout.splitlines()[-1]) == measured


def test_the_policy_keeps_the_young_generations_thresholds() -> None:
    saved = gc.get_threshold()
    try:
        gc.set_threshold(500, 7, 10)
        make_full_collections_rare()
        assert gc.get_threshold() == (500, 7, MIDDLE_COLLECTIONS_PER_FULL)
    finally:
        gc.set_threshold(*saved)
