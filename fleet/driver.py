"""The fleet's runs, in the order the stacks need, each stack's failure its own.

- ``up``: the mesh stack (membership, CA, shared networks); if it fails nothing else runs, since
  every member reads it. Then every member stack side by side, at most ``parallel`` at a time. A
  member that fails stops no other. Then the peers pass: every member that succeeded and holds
  other links than its peers export now (a peer created in the same pass, after it read the mesh;
  a peer gone; a peer whose reader token changed) runs once more, side by side.
- ``add <cluster>``: the mesh stack (whose config lists the cluster now), the new member, then the
  peers pass: every other member gains exactly the new cluster's remote secret.
- ``remove <cluster>``: the member's stack is destroyed first (while the mesh still holds its
  network and CA), then the mesh stack (whose config no longer lists it), then the peers pass: every
  other member deletes exactly its remote secret.
- ``destroy``: every member side by side, then the mesh stack, only if every member is gone (its
  clusters sit in the mesh's networks).

Re-running a command resumes it: stacks that are up to date change nothing, and the peers pass
is decided from the stacks' outputs, not from what this run did.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum

from components.fleet.contract import FleetMember, current_link, has_link, linked_peers, member_stack, members
from fleet.workspace import Changes, Workspace

DEFAULT_PARALLEL = 8


class Step(StrEnum):
    """Which part of a command a stack ran in."""

    MESH = "mesh"
    MEMBERS = "members"
    PEERS = "peers"


class Outcome(StrEnum):
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    SKIPPED = "skipped"


@dataclass(frozen=True)
class StackResult:
    """One stack's part in a command.

    Args:
        stack: the stack's name.
        step: the part of the command it ran in.
        operation: ``up`` or ``destroy``.
        outcome: succeeded, failed, or skipped (with why in ``message``).
        changes: resources by what the operation did to them (empty unless it ran).
        seconds: how long it ran (0 when skipped).
        message: why it failed or was skipped ("" when it succeeded).
    """

    stack: str
    step: Step
    operation: str
    outcome: Outcome
    changes: Changes = field(default_factory=dict)
    seconds: float = 0.0
    message: str = ""


Report = Callable[[str], None]


@dataclass
class Driver:
    """Runs the fleet of ``mesh_stack`` on ``workspace``; see the module docstring.

    Args:
        workspace: where stacks run.
        mesh_stack: the mesh stack's fully qualified name.
        parallel: member stacks run at once (default 8).
        report: takes a line of progress per stack started and finished (default: dropped).
    """

    workspace: Workspace
    mesh_stack: str
    parallel: int = DEFAULT_PARALLEL
    report: Report = lambda _: None

    def up(self) -> list[StackResult]:
        self._refuse_orphans()
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        if mesh.outcome is not Outcome.SUCCEEDED:
            return [mesh]
        clusters = members(self.workspace.outputs(self.mesh_stack))
        first = self._each(clusters, Step.MEMBERS, "up")
        return [mesh, *first, *self._peers(clusters, first)]

    def add(self, cluster: str) -> list[StackResult]:
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        if mesh.outcome is not Outcome.SUCCEEDED:
            return [mesh]
        clusters = members(self.workspace.outputs(self.mesh_stack))
        if cluster not in clusters:
            raise ValueError(f"cluster {cluster} is not in the mesh stack's clusters ({', '.join(clusters)}); add it there first")
        added = self._each([cluster], Step.MEMBERS, "up")
        return [mesh, *added, *self._peers(clusters, added)]

    def remove(self, cluster: str) -> list[StackResult]:
        if cluster in self.workspace.configured_clusters(self.mesh_stack):
            raise ValueError(f"cluster {cluster} is still in the mesh stack's clusters; remove it there, then run remove again")
        stack = member_stack(self.mesh_stack, cluster)
        gone = self._run(stack, Step.MEMBERS, "destroy", None) if self.workspace.exists(stack) else None
        if gone is not None and gone.outcome is not Outcome.SUCCEEDED:
            return [gone]
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        done = [r for r in (gone, mesh) if r is not None]
        if mesh.outcome is not Outcome.SUCCEEDED:
            return done
        clusters = members(self.workspace.outputs(self.mesh_stack))
        if cluster in clusters:
            raise ValueError(f"cluster {cluster} is still in the mesh stack's clusters; remove it there, then run remove again")
        return [*done, *self._peers(clusters, [])]

    def destroy(self) -> list[StackResult]:
        outputs = self.workspace.outputs(self.mesh_stack)
        if not outputs:  # no mesh stack, or one destroyed already: nothing stands
            return []
        clusters = members(outputs)
        existing = [c for c in clusters if self.workspace.exists(member_stack(self.mesh_stack, c))]
        gone = self._each(existing, Step.MEMBERS, "destroy")
        failed = [r.stack for r in gone if r.outcome is not Outcome.SUCCEEDED]
        if failed:
            why = f"member stacks {', '.join(failed)} still hold clusters in the mesh's networks; destroy them first"
            return [*gone, StackResult(self.mesh_stack, Step.MESH, "destroy", Outcome.SKIPPED, message=why)]
        return [*gone, self._run(self.mesh_stack, Step.MESH, "destroy", None)]

    def _refuse_orphans(self) -> None:
        """A cluster the mesh exported as a member but its config no longer lists would be dropped
        by the mesh's update while its member stack keeps its Istio and its peers' reader tokens."""
        previous = self.workspace.outputs(self.mesh_stack)
        if not previous:
            return
        configured = set(self.workspace.configured_clusters(self.mesh_stack))
        gone = [c for c in members(previous) if c not in configured and self.workspace.outputs(member_stack(self.mesh_stack, c))]
        if gone:
            raise ValueError(
                f"{', '.join(gone)} left the mesh stack's clusters but their member stacks stand: run python -m fleet remove "
                f"{gone[0]} for each (it destroys the member, then updates the mesh and the others)"
            )

    def _peers(self, clusters: Sequence[str], ran: Iterable[StackResult]) -> list[StackResult]:
        """The peers pass: members whose links differ from the peers exporting theirs now."""
        failed = {r.stack for r in ran if r.outcome is not Outcome.SUCCEEDED}
        outputs = {c: self.workspace.outputs(member_stack(self.mesh_stack, c)) for c in clusters}
        links = {c: current_link(o) for c, o in outputs.items() if has_link(o)}
        stale = [
            c
            for c in clusters
            if c in links
            and member_stack(self.mesh_stack, c) not in failed
            and linked_peers(outputs[c]) != {peer: link for peer, link in links.items() if peer != c}
        ]
        return self._each(stale, Step.PEERS, "up")

    def _each(self, clusters: Sequence[str], step: Step, operation: str) -> list[StackResult]:
        """``operation`` on the member stacks of ``clusters``, at most ``parallel`` at a time."""
        stacks = [(member_stack(self.mesh_stack, c), FleetMember(self.mesh_stack, c)) for c in clusters]
        if self.parallel <= 1:
            return [self._run(stack, step, operation, member) for stack, member in stacks]
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(lambda s: self._run(s[0], step, operation, s[1]), stacks))

    def _run(self, stack: str, step: Step, operation: str, member: FleetMember | None) -> StackResult:
        """One stack's operation; a failure is its result, not an exception."""
        self.report(f"{operation} {stack} ({step})")
        started = time.monotonic()
        try:
            if operation == "up":
                changes = self.workspace.up(stack, member, lambda line: None)
            else:
                changes = self.workspace.destroy(stack, lambda line: None)
        except Exception as error:
            result = StackResult(stack, step, operation, Outcome.FAILED, seconds=time.monotonic() - started, message=_last_line(error))
        else:
            result = StackResult(stack, step, operation, Outcome.SUCCEEDED, dict(changes), time.monotonic() - started)
        self.report(
            f"{operation} {stack} ({step}): {result.outcome} in {result.seconds:.0f} s{': ' + result.message if result.message else ''}"
        )
        return result


def _last_line(error: Exception) -> str:
    """What the CLI said last: the reason, without the command's whole output."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    return lines[-1] if lines else type(error).__name__


def summary(results: Sequence[StackResult]) -> str:
    """The table printed at the end: per stack and step, the outcome, changes and time."""
    rows = ["| stack | step | operation | result | changes | time |", "| --- | --- | --- | --- | --- | ---: |"]
    for r in results:
        changed = ", ".join(f"{op} {n}" for op, n in sorted(r.changes.items()) if op != "same" and n) or "none"
        result = f"{r.outcome}: {r.message}" if r.message else str(r.outcome)
        rows.append(f"| {r.stack} | {r.step} | {r.operation} | {result} | {changed} | {r.seconds:.0f} s |")
    return "\n".join(rows)


def exit_code(results: Sequence[StackResult]) -> int:
    """0 when every stack that ran succeeded and none was skipped, else 1."""
    return 0 if all(r.outcome is Outcome.SUCCEEDED for r in results) else 1
