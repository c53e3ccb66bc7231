"""Shared fixtures: one program run per shipped stack, reused by every test that only reads it."""

from __future__ import annotations

import gc

import pytest

from tests.harness.program import StackRun, run_stack

# A program run allocates some 100,000 short-lived objects (Outputs, futures, tasks), and the runs
# the tests keep make every full collection longer: with the default thresholds the collector took
# about a quarter of the suite's time. Collecting less often keeps memory well within bounds.
gc.set_threshold(50_000, 20, 100)


@pytest.fixture(scope="session")
def aks_run() -> StackRun:
    return run_stack("aks")


@pytest.fixture(scope="session")
def eks_run() -> StackRun:
    return run_stack("eks")
