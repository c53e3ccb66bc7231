"""The driver's local workspace against a fake ``pulumi`` CLI (tests/harness/fake_automation_cli.py)
that answers the Automation API as the real one does: the commands the adapter issues, the config it
writes into the stack file, and what it reads back."""

from __future__ import annotations

import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import yaml
from pulumi import automation as auto

from components.fleet.contract import FleetMember, member_stack
from fleet.workspace import LocalWorkspace
from tests.harness.fake_automation_cli import calls, install, plan

MESH = "organization/istio-multicluster/fleet"


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """A project directory and the fake CLI's state, the fake first on PATH."""
    project, state = tmp_path / "project", tmp_path / "state"
    project.mkdir()
    (project / "Pulumi.yaml").write_text("name: istio-multicluster\nruntime: python\n")
    install(tmp_path / "bin", state)
    monkeypatch.setenv("PATH", f"{tmp_path / 'bin'}{os.pathsep}{os.environ['PATH']}")
    return project, state


def commands(state: Path) -> list[list[str]]:
    """The calls after ``version``, without the flags every call carries."""
    return [[a for a in call if a != "--non-interactive"] for call in calls(state) if call[:1] != ["version"]]


def test_a_members_first_up_creates_its_stack_sets_its_member_whole_and_runs_it(cli: tuple[Path, Path]) -> None:
    project, state = cli
    workspace, member, stack = LocalWorkspace(project), FleetMember(MESH, "123"), f"{MESH}-123"
    assert not workspace.exists(stack) and not workspace.holds_resources(stack) and workspace.outputs(stack) == {}
    link = {"cluster": "123", "kubeconfig": "token", "digest": "d"}
    plan(state, stack, {"fleetMember": member.value(), "fleetLink": link}, resources=5, secret=["fleetLink"])
    assert workspace.up(stack, member, print) == {"create": 5, "same": 0}
    # Set whole, as one string: the cluster named 123 stays text (a --path value would be a number).
    stored = yaml.safe_load((project / "Pulumi.fleet-123.yaml").read_text())["config"]["istio-multicluster:fleetMember"]
    assert json.loads(stored) == {"meshStack": MESH, "cluster": "123"}
    assert FleetMember.of(workspace.config(stack)["fleetMember"]) == member
    assert workspace.outputs(stack) == {"fleetMember": member.value(), "fleetLink": link} and workspace.holds_resources(stack)
    set_all = [c for c in commands(state) if c[:2] == ["config", "set-all"]]
    assert set_all == [["config", "set-all", "--stack", stack, "--plaintext", f"istio-multicluster:fleetMember={stored}"]]


def test_a_stack_whose_file_already_names_the_member_is_left_as_it_is(cli: tuple[Path, Path]) -> None:
    """A committed member file (fleet files' mapping) is not rewritten by each up."""
    project, state = cli
    workspace, member, stack = LocalWorkspace(project), FleetMember(MESH, "eu-1"), f"{MESH}-eu-1"
    text = yaml.safe_dump({"config": {"istio-multicluster:fleetMember": member.value()}})
    (project / "Pulumi.fleet-eu-1.yaml").write_text(text)
    workspace.up(stack, member, print)
    workspace.up(stack, member, print)
    assert (project / "Pulumi.fleet-eu-1.yaml").read_text() == text
    assert not [c for c in commands(state) if c[:2] == ["config", "set-all"]]


def test_destroy_keeps_the_stack_its_file_and_history(cli: tuple[Path, Path]) -> None:
    project, state = cli
    workspace, member, stack = LocalWorkspace(project), FleetMember(MESH, "eu-1"), f"{MESH}-eu-1"
    plan(state, stack, {"fleetMember": member.value()}, resources=3)
    workspace.up(stack, member, print)
    assert workspace.destroy(stack, print) == {"delete": 3}
    assert workspace.exists(stack) and not workspace.holds_resources(stack) and workspace.outputs(stack) == {}
    assert (project / "Pulumi.fleet-eu-1.yaml").exists()
    assert not [c for c in commands(state) if c[:2] == ["stack", "rm"]]


def test_the_config_of_a_stack_not_made_yet_is_its_files(cli: tuple[Path, Path]) -> None:
    """What the driver reads of a mesh stack before its first up: the file the up will apply."""
    project, _ = cli
    (project / "Pulumi.fleet.yaml").write_text(
        yaml.safe_dump({"config": {"istio-multicluster:fleetMesh": True, "istio-multicluster:clusters": [{"name": "a"}]}})
    )
    assert LocalWorkspace(project).config(MESH) == {"fleetMesh": "true", "clusters": '[{"name": "a"}]'}


def test_the_fake_stores_a_path_value_that_reads_as_an_integer_as_one(cli: tuple[Path, Path]) -> None:
    """Why the member is set whole: by path, cluster 123 comes back a number, which names no member."""
    project, _ = cli
    stack = auto.create_or_select_stack(stack_name=f"{MESH}-123", work_dir=str(project))
    stack.set_all_config({"istio-multicluster:fleetMember.cluster": auto.ConfigValue("123")}, path=True)
    assert json.loads(stack.get_all_config()["istio-multicluster:fleetMember"].value) == {"cluster": 123}
    assert FleetMember.of(stack.get_all_config()["istio-multicluster:fleetMember"].value) is None


def test_the_fake_refuses_what_the_cli_refuses(cli: tuple[Path, Path], tmp_path: Path) -> None:
    project, _ = cli
    with pytest.raises(auto.StackNotFoundError):
        auto.select_stack(stack_name=f"{MESH}-nowhere", work_dir=str(project))
    elsewhere = tmp_path / "not-a-project"
    elsewhere.mkdir()
    with pytest.raises(auto.CommandError, match=r"no Pulumi\.yaml project file found"):
        auto.create_or_select_stack(stack_name=MESH, work_dir=str(elsewhere))


def test_members_run_side_by_side_without_ever_selecting_a_stack(cli: tuple[Path, Path]) -> None:
    """The driver runs up to eight members at once. ``stack select`` and ``stack init`` (which
    selects) rewrite the workspace's one settings file in place, and two at once corrupt it
    (pulumi/pulumi#8186): the adapter names its stack on every command instead."""
    project, state = cli
    workspace = LocalWorkspace(project)
    members = [FleetMember(MESH, f"c{i}") for i in range(4)]
    for member in members:
        plan(state, member_stack(MESH, member.cluster), {"fleetMember": member.value()}, resources=2)

    def cycle(member: FleetMember) -> tuple[bool, dict[str, int], dict[str, int]]:
        stack = member_stack(MESH, member.cluster)
        made = workspace.up(stack, member, print)
        return workspace.exists(stack), dict(made), dict(workspace.destroy(stack, print))

    with ThreadPoolExecutor(max_workers=4) as pool:
        results = list(pool.map(cycle, members))
    assert results == [(True, {"create": 2, "same": 0}, {"delete": 2})] * 4
    assert not (state / "workspace.json").exists()
    inits = [c for c in commands(state) if c[:2] == ["stack", "init"]]
    assert sorted(inits) == sorted(["stack", "init", member_stack(MESH, m.cluster), "--no-select"] for m in members)
    assert not [c for c in commands(state) if c[:2] == ["stack", "select"]]


def test_the_fake_selects_as_the_cli_does(cli: tuple[Path, Path]) -> None:
    """The rule the test above relies on: the SDK's own select writes the workspace's selection."""
    project, state = cli
    auto.create_or_select_stack(stack_name=MESH, work_dir=str(project))
    assert json.loads((state / "workspace.json").read_text()) == {"stack": MESH}
