"""Where the driver runs stacks: the Automation API's local workspace, or Pulumi Deployments.

``Workspace`` is what the driver needs of either: whether a stack exists, whether it holds
resources, its outputs (the last completed update's), its config (what its next update applies),
``up`` (creating the stack, and setting a member's ``fleetMember`` config, the first time) and
``destroy`` (the stack stays, empty, with its config and history) and ``preview`` of a stack that
exists (changing nothing). An operation that fails raises; its message is what the CLI printed last.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any, Protocol

from pulumi import automation as auto

from components.fleet.contract import MEMBER_CONFIG, FleetMember
from fleet.branch import PushedBranch
from fleet.files import config_of, file_config, stack_file

PROJECT = "istio-multicluster"
ROOT = Path(__file__).resolve().parents[1]
Changes = Mapping[str, int]
"""Resources by what the operation did to them (``create``, ``update``, ``delete``, ``same``...)."""


class Workspace(Protocol):
    """See the module docstring."""

    def exists(self, stack: str) -> bool: ...

    def holds_resources(self, stack: str) -> bool: ...

    def config(self, stack: str) -> Mapping[str, str]: ...

    def outputs(self, stack: str) -> Mapping[str, Any]: ...

    def up(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes: ...

    def destroy(self, stack: str, on_output: Callable[[str], None]) -> Changes: ...

    def preview(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes: ...


def member_config(member: FleetMember) -> dict[str, auto.ConfigValue]:
    """A member stack's config as the driver sets it: ``fleetMember`` whole, as JSON text. Not by
    ``--path``: the CLI stores a path's value that reads as an integer or a boolean as one
    (pulumi/pulumi#17586, #19213), so a cluster named ``123`` would become a number."""
    return {f"{PROJECT}:{MEMBER_CONFIG}": auto.ConfigValue(json.dumps(member.value()))}


def project_config(values: auto.ConfigMap) -> dict[str, str]:
    """The project's keys of a stack's config, without the project's prefix, as text."""
    prefix = f"{PROJECT}:"
    return {key.removeprefix(prefix): value.value for key, value in values.items() if key.startswith(prefix)}


def change_counts(summary: auto.UpdateSummary) -> dict[str, int]:
    """The summary's resource counts by operation name."""
    return op_counts(summary.resource_changes or {})


def op_counts(changes: Mapping[Any, int]) -> dict[str, int]:
    """Resource counts by operation name (the Automation API keys them by ``OpType``)."""
    return {str(getattr(op, "value", op)): count for op, count in changes.items()}


def plain_outputs(outputs: auto.OutputMap) -> dict[str, Any]:
    """Stack outputs without their secret flags (the driver reads names and lists, never secrets)."""
    return {key: value.value for key, value in outputs.items()}


class UnselectingWorkspace(auto.LocalWorkspace):
    """The Automation API's local workspace, except that creating or selecting a stack never
    writes the selected stack into the CLI's workspace file. ``pulumi stack select`` and ``pulumi
    stack init`` (which selects) rewrite that one file in place, so two of them at once corrupt it
    and every later command fails (pulumi/pulumi#8186, #6287); the driver runs members in
    parallel, and every other command the Automation API issues names its stack (``--stack``).
    The stack is checked for with ``pulumi stack --stack``, as the SDK does for remote workspaces,
    and made with ``stack init --no-select``."""

    def select_stack(self, stack_name: str) -> None:
        self._run_pulumi_cmd_sync(["stack", "--stack", stack_name])

    def create_stack(self, stack_name: str) -> None:
        # No secrets provider: the driver makes stacks with the backend's default, as `pulumi up` would.
        self._run_pulumi_cmd_sync(["stack", "init", stack_name, "--no-select"])


class LocalWorkspace:
    """Stacks of this project run here, on the logged-in backend, from this checkout."""

    def __init__(self, work_dir: Path = ROOT) -> None:
        self.work_dir = work_dir

    def _select(self, stack: str) -> auto.Stack:
        return auto.Stack.select(stack, UnselectingWorkspace(work_dir=str(self.work_dir)))

    def _stack(self, stack: str) -> auto.Stack:
        return auto.Stack.create_or_select(stack, UnselectingWorkspace(work_dir=str(self.work_dir)))

    def exists(self, stack: str) -> bool:
        try:
            self._select(stack)
        except auto.StackNotFoundError:
            return False
        return True

    def outputs(self, stack: str) -> Mapping[str, Any]:
        return plain_outputs(self._select(stack).outputs()) if self.exists(stack) else {}

    def holds_resources(self, stack: str) -> bool:
        """Whether the stack's state holds any resource: a first update that failed leaves some
        and no outputs; a destroy leaves none."""
        if not self.exists(stack):
            return False
        deployment = self._select(stack).export_stack().deployment or {}
        return bool(deployment.get("resources"))

    def config(self, stack: str) -> Mapping[str, str]:
        """The stack's config (what its next ``up`` applies); for a stack not made yet, its file's."""
        if not self.exists(stack):
            return file_config(self.work_dir, stack)
        return project_config(self._select(stack).get_all_config())

    def up(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        selected = self._stack(stack)
        # Set only when it differs, so a committed member file is left as it is.
        if member is not None and FleetMember.of(project_config(selected.get_all_config()).get(MEMBER_CONFIG)) != member:
            selected.set_all_config(member_config(member))
        return change_counts(selected.up(on_output=on_output).summary)

    def preview(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        # The member is the stack's own config here: the driver checked it before (_foreign).
        return op_counts(self._select(stack).preview(on_output=on_output).change_summary)

    def destroy(self, stack: str, on_output: Callable[[str], None]) -> Changes:
        # The stack stays, with its history and config: `pulumi stack rm` would also delete its
        # Pulumi.<stack>.yaml, which for the shipped member stacks is part of the checkout.
        return change_counts(self._select(stack).destroy(on_output=on_output).summary)


@dataclass
class RemoteWorkspace:
    """Every update runs on Pulumi Deployments' runners from the repository at ``url`` and
    ``branch`` (the Automation API's remote workspaces). A remote stack takes its config from its
    stack file in that branch, so the stacks' config is read from the branch as pushed (fetched
    once into this checkout's repository, ``fleet.branch``), and a member whose file there does not
    name it (``python -m fleet files`` writes them; commit and push them) is refused before its
    run. Every run is pinned to the commit read, so what was checked is what runs, and every stack
    of one command runs the same code. ``env`` is passed to every run (credentials come from the
    stack's ESC environment). Outputs, existence and resources are read here, from the same backend.

    Args:
        url: the repository's git URL.
        branch: the branch to run (default ``main``).
        env: environment variables for every run (default none).
        inherit_settings: each run also takes its stack's Deployments settings (``deploy/`` makes
            them for a fleet: the GitHub app's access to a private repository), default no.
        local: reads stacks' outputs and this checkout's stack files (default: this checkout's).
    """

    url: str
    branch: str = "main"
    env: Mapping[str, str] = field(default_factory=dict)
    inherit_settings: bool = False
    local: LocalWorkspace = field(default_factory=LocalWorkspace)

    @cached_property
    def pushed(self) -> PushedBranch:
        return PushedBranch(self.url, self.branch, self.local.work_dir)

    def _stack(self, stack: str) -> auto.RemoteStack:
        options = auto.RemoteWorkspaceOptions(env_vars=dict(self.env), inherit_settings=self.inherit_settings or None)
        commit = self.pushed.commit()
        return auto.create_or_select_remote_stack_git_source(stack, self.url, commit_hash=commit, opts=options)

    def exists(self, stack: str) -> bool:
        return self.local.exists(stack)

    def outputs(self, stack: str) -> Mapping[str, Any]:
        return self.local.outputs(stack)

    def holds_resources(self, stack: str) -> bool:
        return self.local.holds_resources(stack)

    def config(self, stack: str) -> Mapping[str, str]:
        return config_of(self.pushed.file(stack_file(stack)))

    def up(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        self._check_member_file(stack, member)
        return change_counts(self._stack(stack).up(on_output=on_output).summary)

    def _check_member_file(self, stack: str, member: FleetMember | None) -> None:
        """The stack file in the repository holds a member's config: a missing or other one would
        make the runner parse the member as a stack of its own."""
        if member is not None and FleetMember.of(self.config(stack).get(MEMBER_CONFIG)) != member:
            raise ValueError(
                f"{stack_file(stack)} on branch {self.branch} does not name {member.mesh_stack} and cluster {member.cluster}: "
                f"run python -m fleet files --mesh {member.mesh_stack}, commit the files and push them to {self.branch}"
            )

    def destroy(self, stack: str, on_output: Callable[[str], None]) -> Changes:
        return change_counts(self._stack(stack).destroy(on_output=on_output).summary)

    def preview(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        self._check_member_file(stack, member)
        return op_counts(self._stack(stack).preview(on_output=on_output).change_summary)
