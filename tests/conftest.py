"""Shared fixtures: one program run per shipped stack, reused by every test that only reads it."""

from __future__ import annotations

import pytest

from tests.harness.program import StackRun, run_stack


@pytest.fixture(scope="session")
def aks_run() -> StackRun:
    return run_stack("aks")


@pytest.fixture(scope="session")
def eks_run() -> StackRun:
    return run_stack("eks")
