"""A fleet's stacks run by the real program under mocks, as a workspace the fleet driver can drive.

Each stack keeps its own state and outputs; a member's run sees the other stacks' last outputs (stack
references and ``readStackOutputs`` read them, secrets kept secret), and gets Pulumi.yaml's project
defaults as its config besides ``fleetMember``, as the CLI gives every stack. Runs are one at a time
(the mocks are process-wide): drive it with ``parallel=1``.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.fleet.contract import CONFIG_OUTPUT, LINK_OUTPUT, MEMBER_CONFIG, MEMBERS_OUTPUT, FleetMember, member_stack
from fleet.workspace import Changes
from tests.configs import n_existing
from tests.harness.changes import Changes as NamedChanges
from tests.harness.changes import changes
from tests.harness.in_use import refused_delete
from tests.harness.mocks import MeshMocks
from tests.harness.program import ORGANIZATION, PROJECT, StackRun, project_defaults, run_program
from tests.harness.stores import OtherStack


def qualified(stack: str) -> str:
    """A stack's name as stack references name it on a self-managed backend."""
    return f"{ORGANIZATION}/{PROJECT}/{stack}"


@dataclass
class ProgramFleet:
    """The mesh stack's config and every stack's last run, by fully qualified name.

    Args:
        mesh_config: the mesh stack's config (``fleetMesh: true`` is added).
        mesh_stack: the mesh stack's name, for ``config`` (default: none, which ``run`` needs not).
    """

    mesh_config: dict[str, Any]
    mesh_stack: str = ""
    runs: dict[str, StackRun] = field(default_factory=dict)
    members: dict[str, FleetMember] = field(default_factory=dict)

    def exists(self, stack: str) -> bool:
        return stack in self.runs

    def holds_resources(self, stack: str) -> bool:
        return stack in self.runs and any(r.operation != "read" for r in self.runs[stack].resources)

    def config(self, stack: str) -> Mapping[str, str]:
        """The mesh stack's config, or a member's ``fleetMember``, as the CLI passes them."""
        if stack == self.mesh_stack:
            values = {**self.mesh_config, "fleetMesh": True}
            return {key: value if isinstance(value, str) else json.dumps(value) for key, value in values.items()}
        member = self.members.get(stack)
        return {MEMBER_CONFIG: json.dumps(member.value())} if member else {}

    def outputs(self, stack: str) -> Mapping[str, Any]:
        return dict(self.runs[stack].outputs) if stack in self.runs else {}

    def others(self) -> dict[str, OtherStack]:
        return {name: OtherStack(dict(run.outputs), set(run.secret_outputs)) for name, run in self.runs.items()}

    def run(self, stack: str, member: FleetMember | None, mocks: MeshMocks | None = None) -> StackRun:
        """One ``up`` of ``stack`` from its last state; the run is kept as the stack's."""
        if member is not None:
            self.members[stack] = member
        run = self._program(stack, member, preview=False, mocks=mocks)
        self.runs[stack] = run
        return run

    def _program(self, stack: str, member: FleetMember | None, *, preview: bool, mocks: MeshMocks | None = None) -> StackRun:
        """The program on ``stack`` from its last state and outputs, reading the others' outputs."""
        values = {**self.mesh_config, "fleetMesh": True} if member is None else {**project_defaults(), MEMBER_CONFIG: member.value()}
        mocks = mocks or MeshMocks()
        mocks.other_stacks = self.others()
        before = self.runs.get(stack)
        short = stack.rsplit("/", 1)[1]
        state = before.state() if before else None
        return run_program(
            values, stack=short, preview=preview, mocks=mocks, state=state, previous_outputs=before.outputs if before else None
        )

    def age(self, hours: float) -> None:
        """Every stack's outputs as runs ``hours`` later read them back (``StackRun.outputs_after``)."""
        for run in self.runs.values():
            run.outputs = run.outputs_after(hours)

    def up(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        before = self.runs.get(stack)
        after = self.run(stack, member)
        if before is None:
            return {"create": len([r for r in after.resources if r.operation != "read"])}
        done = changes(before, after)
        return counts(done)

    def preview(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        """What an ``up`` would change, from the stack's state; nothing is kept."""
        done = changes(self.runs[stack], self._program(stack, member, preview=True))
        return counts(done)

    def destroy(self, stack: str, on_output: Callable[[str], None]) -> Changes:
        """The stack stays, empty; unless the cloud refuses a delete because another stack's
        resource still uses what it deletes (``tests.harness.in_use``): then it fails, as the
        CLI's destroy does, with its state as it was."""
        gone = self.runs[stack]
        refusal = refused_delete(gone, {name: run for name, run in self.runs.items() if name != stack})
        if refusal:
            raise RuntimeError(refusal)
        self.runs[stack] = StackRun([], {}, set(), gone.mocks)
        return {"delete": len([r for r in gone.resources if r.operation != "read"])}


def fleet_of(size: int, mesh_stack: str) -> ProgramFleet:
    """A fleet of ``size`` existing clusters (``c1``...) whose mesh stack and every member but c1 have
    run: their outputs as those stacks export them, made from a run of two, so that c1's run is what
    a member of ``size`` does (running 128 mesh intermediates would spend the time on the mocks'
    RSA keys, and 127 members on nothing c1 shows)."""
    fleet = ProgramFleet(n_existing(2), mesh_stack)
    fleet.run(mesh_stack, None)
    probe = fleet.run(member_stack(mesh_stack, "c2"), FleetMember(mesh_stack, "c2"))
    clusters = n_existing(size)["clusters"]
    mesh = fleet.runs[mesh_stack]
    config = {**mesh.outputs[CONFIG_OUTPUT], "clusters": clusters}
    outputs = {**mesh.outputs, MEMBERS_OUTPUT: [c["name"] for c in clusters], CONFIG_OUTPUT: config}
    fleet.runs[mesh_stack] = StackRun(mesh.resources, outputs, mesh.secret_outputs, mesh.mocks)
    link = probe.outputs[LINK_OUTPUT]
    for cluster in clusters[1:]:
        peer = {LINK_OUTPUT: {**link, "cluster": cluster["name"]}}
        fleet.runs[member_stack(mesh_stack, cluster["name"])] = StackRun([], peer, {LINK_OUTPUT}, probe.mocks)
    return fleet


def counts(done: NamedChanges) -> Changes:
    """Resources by what the engine did to them, as an update's summary counts them."""
    return {"create": len(done.create), "update": len(done.update), "replace": len(done.replace), "delete": len(done.delete)}
