"""The AWS CLI pulumi-eks requires is checked before any resource, with the way to get it."""

from __future__ import annotations

from pathlib import Path

import pytest

from components.config.problems import ConfigError
from components.platforms.aws.cli import INSTALL, aws_cli_problem
from tests.harness.mocks import MeshMocks
from tests.harness.program import run_program, stack_config


def answering(text: str) -> str | None:
    return aws_cli_problem(which=lambda _: "/usr/local/bin/aws", version_of=lambda _: text)


@pytest.mark.parametrize(
    "printed",
    ["aws-cli/2.7.0 Python/3.9.11 Linux/5.15", "aws-cli/2.31.0 Python/3.13.7 Linux/6.8", "aws-cli/1.24.0 Python/3.8.8 Darwin/20.5"],
)
def test_a_recent_enough_cli_passes(printed: str) -> None:
    assert answering(printed) is None


@pytest.mark.parametrize(("printed", "shown"), [("aws-cli/2.6.8 Python/3.9.11", "2.6.8"), ("aws-cli/1.18.0 Python/3.8.8", "1.18.0")])
def test_an_old_cli_is_refused_with_its_version(printed: str, shown: str) -> None:
    assert answering(printed) == (
        f"need the AWS CLI v2.7 or later (or v1.24+), which pulumi-eks requires, but /usr/local/bin/aws is {shown}; upgrade it ({INSTALL})"
    )


def test_a_missing_or_unreadable_cli_is_refused() -> None:
    assert aws_cli_problem(which=lambda _: None) == (
        f"need the AWS CLI (v2.7 or later) on PATH, which pulumi-eks runs for every EKS cluster; install it ({INSTALL})"
    )
    assert answering("command not found\n") == (
        f"need the AWS CLI (v2.7 or later), but `/usr/local/bin/aws --version` printed 'command not found'; reinstall it ({INSTALL})"
    )


def test_the_program_stops_before_any_resource_without_the_cli(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no aws anywhere
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(stack_config("eks"), stack="eks", mocks=mocks)
    assert mocks.monitor is not None and mocks.monitor.registered == []
    (problem,) = raised.value.problems
    assert str(problem) == (
        "clusters[0].cloud (cluster cluster-1): need the AWS CLI (v2.7 or later) on PATH, which pulumi-eks runs for every "
        f"EKS cluster; install it ({INSTALL})"
    )


def test_the_test_processes_find_the_stand_in() -> None:
    assert aws_cli_problem() is None
