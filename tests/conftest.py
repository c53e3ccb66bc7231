"""Shared fixtures: one program run per shipped stack, reused by every test that only reads it."""

from __future__ import annotations

import gc
import os
import tempfile
from pathlib import Path

import pytest

from tests.harness.program import StackRun, run_stack

# A program run allocates some 100,000 short-lived objects (Outputs, futures, tasks), and the runs
# the tests keep make every full collection longer: with the default thresholds the collector took
# about a quarter of the suite's time. Collecting less often keeps memory well within bounds.
gc.set_threshold(50_000, 20, 100)

# pulumi-eks requires the AWS CLI, and the program checks for it before any resource
# (components/platforms/aws/cli.py); the machines that run the tests need not have it, so every
# test process finds a stand-in that answers `aws --version` as AWS CLI v2 does.
FAKE_AWS = Path(tempfile.mkdtemp(prefix="fake-aws-")) / "aws"
FAKE_AWS.write_text('#!/bin/sh\necho "aws-cli/2.31.0 Python/3.13.7 Linux/6.8.0 exe/x86_64.ubuntu.24"\n')
FAKE_AWS.chmod(0o755)
os.environ["PATH"] = f"{FAKE_AWS.parent}{os.pathsep}{os.environ.get('PATH', '')}"


@pytest.fixture(scope="session")
def aks_run() -> StackRun:
    return run_stack("aks")


@pytest.fixture(scope="session")
def eks_run() -> StackRun:
    return run_stack("eks")
