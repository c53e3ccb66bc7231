"""The fleet's runs, in the order the stacks need, each stack's failure its own.

- ``up``: the mesh stack (membership, CA, shared networks); if it fails nothing else runs, since
  every member reads it. Then every member stack side by side, at most ``parallel`` at a time:
  the primaries, then the remotes (a remote's control plane points at the address its primary's
  update exports; a remote whose primary failed is skipped). A member that fails stops no other.
  Then the peers pass: every member that succeeded and holds other links than its istiod must hold
  now (a peer created in the same pass, after it read the mesh; a peer gone; a peer whose reader
  token changed) runs once more, side by side, and again while a round leaves one stale. Then
  the remotes whose gateways waited for their primary to hold their link, which it now does.
  Then, with ``verify``, the members whose MeshCheck would reach more clusters than it did (a
  peer's workloads started after it ran).
- ``add <cluster>``: the mesh stack (whose config lists the cluster now), the new member, then the
  peers pass: every other member gains exactly the new cluster's remote secret.
- ``remove <cluster>``: the member's stack is destroyed first (while the mesh still holds its
  network and CA), then the mesh stack (whose config no longer lists it), then the peers pass: every
  other member deletes exactly its remote secret.
- ``preview``: the mesh stack and every member stack that exists, side by side, changing nothing
  (see ``Driver.preview``).
- ``destroy``: every member side by side (remotes before their primaries), then the mesh stack,
  only if every member is gone (its clusters sit in the mesh's networks).

Re-running a command resumes it: stacks that are up to date change nothing, and the peers pass
is decided from the stacks' outputs, not from what this run did.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from components.config.declarations import FLEET_MESH
from components.config.model import DnsService
from components.fleet.contract import (
    CONFIG_OUTPUT,
    MEMBER_CONFIG,
    MEMBER_OUTPUT,
    FleetMember,
    awaiting,
    behind_mesh,
    checked,
    current_link,
    dns_behind,
    drops_token,
    has_link,
    linked_peers,
    member_stack,
    member_values,
    members,
    probe_targets,
    remotes,
)
from fleet.workspace import Changes, Workspace

DEFAULT_PARALLEL = 8
# Peers-pass rounds: a round can give a primary its first link, which the next round hands on,
# and a member drops an older reader token in the round after its last holder moved off it. Every
# fleet the tests drive (rotations, adds, primary-remote) settles in 2 (measured by setting 1, which
# fails 6 of them, and 2, which fails none); two more are spare, and running out is reported.
PEER_ROUNDS = 4


class Step(StrEnum):
    """Which part of a command a stack ran in: the mesh stack, the members (primaries, then
    remotes), the peers pass, the remotes whose gateways waited for their primary, the members
    whose MeshCheck would reach more clusters now, and the mesh stack again, whose Traffic Manager
    profile points at other ingress addresses than the members export now."""

    MESH = "mesh"
    MEMBERS = "members"
    PEERS = "peers"
    GATEWAYS = "gateways"
    CHECKS = "checks"
    DNS = "dns"


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


@dataclass(frozen=True)
class Membership:
    """The fleet's clusters and each remote's primary, as the mesh stack exported them.

    Args:
        clusters: the member clusters, in config order.
        remotes: each remote's primary, by remote (empty in a multi-primary mesh).
    """

    clusters: Sequence[str]
    remotes: Mapping[str, str]

    @staticmethod
    def of(mesh_outputs: Mapping[str, Any]) -> Membership:
        return Membership(members(mesh_outputs), remotes(mesh_outputs))


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
        self._refuse_other_mesh()
        self._refuse_orphans()
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        if mesh.outcome is not Outcome.SUCCEEDED:
            return [mesh]
        fleet = self._membership()
        first = self._waves(fleet, list(fleet.clusters), "up")
        return [mesh, *first, *self._settle(fleet, first)]

    def add(self, cluster: str) -> list[StackResult]:
        self._refuse_other_mesh()
        if cluster not in self._configured():
            raise ValueError(f"cluster {cluster} is not in the mesh stack's clusters ({', '.join(self._configured())}); add it there first")
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        if mesh.outcome is not Outcome.SUCCEEDED:
            return [mesh]
        fleet = self._membership()
        if cluster not in fleet.clusters:  # the config changed while the mesh ran
            return [mesh, self._skipped(cluster, Step.MEMBERS, "up", "the mesh stack's update did not make it a member")]
        added = self._waves(fleet, [cluster], "up")
        return [mesh, *added, *self._settle(fleet, added)]

    def remove(self, cluster: str) -> list[StackResult]:
        self._refuse_other_mesh()
        if cluster in self._configured():
            raise ValueError(f"cluster {cluster} is still in the mesh stack's clusters; remove it there, then run remove again")
        served = sorted(remote for remote, primary in self._configured_remotes().items() if primary == cluster)
        if served:
            raise ValueError(
                f"cluster {cluster} is the primary of {', '.join(served)}, which the mesh stack's clusters still list: "
                "remove them first, or give them another primary"
            )
        stack = member_stack(self.mesh_stack, cluster)
        gone = self._run(stack, Step.MEMBERS, "destroy", FleetMember(self.mesh_stack, cluster)) if self.workspace.exists(stack) else None
        if gone is not None and gone.outcome is not Outcome.SUCCEEDED:
            return [gone]
        mesh = self._run(self.mesh_stack, Step.MESH, "up", None)
        done = [r for r in (gone, mesh) if r is not None]
        if mesh.outcome is not Outcome.SUCCEEDED:
            return done
        fleet = self._membership()
        if cluster in fleet.clusters:  # the config changed while the mesh ran
            return [*done, self._skipped(cluster, Step.PEERS, "up", "the mesh stack's update kept it a member")]
        return [*done, *self._settle(fleet, [])]

    def destroy(self) -> list[StackResult]:
        """Every member whose stack holds resources, remotes before their primaries, then the mesh
        stack. The members are those the mesh exported and those its config lists: a mesh whose
        first update failed exported none but holds its CA, and members may stand that it has not
        exported yet."""
        if not self.workspace.exists(self.mesh_stack):
            return []
        self._refuse_other_mesh()
        outputs = self.workspace.outputs(self.mesh_stack)
        exported = Membership.of(outputs) if outputs else Membership([], {})
        clusters = list(dict.fromkeys([*exported.clusters, *self._configured()]))
        fleet = Membership(clusters, {**self._configured_remotes(), **exported.remotes})
        standing = [c for c in clusters if self.workspace.holds_resources(member_stack(self.mesh_stack, c))]
        gone = self._waves(fleet, standing, "destroy")
        failed = [r.stack for r in gone if r.outcome is not Outcome.SUCCEEDED]
        if failed:
            why = f"member stacks {', '.join(failed)} still hold clusters in the mesh's networks; destroy them first"
            return [*gone, StackResult(self.mesh_stack, Step.MESH, "destroy", Outcome.SKIPPED, message=why)]
        if not self.workspace.holds_resources(self.mesh_stack):
            return gone
        return [*gone, self._run(self.mesh_stack, Step.MESH, "destroy", None)]

    def preview(self) -> list[StackResult]:
        """What ``up`` would change in the mesh stack and in each member stack that exists, changing
        nothing. A member previews against the mesh stack's last update: when the mesh's config has
        changed since (a key set or changed), each member's result says so, since the mesh's next
        ``up`` exports it and the member changes with it."""
        self._refuse_other_mesh()
        mesh = self._run(self.mesh_stack, Step.MESH, "preview", None) if self.workspace.exists(self.mesh_stack) else None
        if mesh is not None and mesh.outcome is not Outcome.SUCCEEDED:
            return [mesh]
        outputs = self.workspace.outputs(self.mesh_stack)
        exported = Membership.of(outputs) if outputs else Membership([], {})
        configured = self._configured()
        made = [c for c in exported.clusters if c in configured and self.workspace.exists(member_stack(self.mesh_stack, c))]
        not_yet = [self._skipped(c, Step.MEMBERS, "preview", "no member stack yet: up makes it") for c in configured if c not in made]
        members = self._each(made, Step.MEMBERS, "preview")
        if self._config_pending(outputs):
            note = "against the mesh stack's last update; its config changed since, and this member changes with it on up"
            members = [replace(r, message=f"{r.message}; {note}" if r.message else note) for r in members]
        return [*([mesh] if mesh else []), *members, *not_yet, *self._dns_not_previewed([c for c in configured if c not in made])]

    def _dns_not_previewed(self, new: Sequence[str]) -> list[StackResult]:
        """What a preview cannot show: after the members, ``up`` runs the mesh stack again (step
        ``dns``) to point its Traffic Manager profile at the ingress addresses of members it made,
        which do not exist yet. Said as a skipped step rather than left out."""
        dns = decoded(self.workspace.config(self.mesh_stack).get("ingressDns", ""))
        if not new or not isinstance(dns, Mapping) or dns.get("service") != DnsService.TRAFFIC_MANAGER:
            return []
        why = f"not previewed: up then points the Traffic Manager profile at the ingress of {', '.join(new)}, which its members make"
        self.report(f"preview {self.mesh_stack} ({Step.DNS}): skipped: {why}")
        return [StackResult(self.mesh_stack, Step.DNS, "preview", Outcome.SKIPPED, message=why)]

    def _config_pending(self, mesh_outputs: Mapping[str, Any]) -> bool:
        """Whether the mesh stack's config sets a key its last update did not export as set."""
        exported = mesh_outputs.get(CONFIG_OUTPUT)
        if not isinstance(exported, Mapping):
            return bool(mesh_outputs)
        now = member_values({key: decoded(text) for key, text in self.workspace.config(self.mesh_stack).items()})
        # A secret read from a stack file is ciphertext ({"secure": ...}): it cannot be compared.
        return any(exported.get(key) != value for key, value in now.items() if not is_ciphertext(value))

    def _membership(self) -> Membership:
        return Membership.of(self.workspace.outputs(self.mesh_stack))

    def _waves(self, fleet: Membership, clusters: Sequence[str], operation: str) -> list[StackResult]:
        """``operation`` on the members of ``clusters``: for ``up`` the primaries side by side, then
        the remotes (a remote's control plane points at its primary's east-west address, which its
        primary's update exports); for ``destroy`` the other way round. A member whose primary (or,
        for ``destroy``, whose remote) failed is skipped."""
        primaries = [c for c in clusters if c not in fleet.remotes]
        remotes = [c for c in clusters if c in fleet.remotes]
        first, then = (primaries, remotes) if operation == "up" else (remotes, primaries)
        done = self._each(first, Step.MEMBERS, operation)
        failed = {r.stack for r in done if r.outcome is not Outcome.SUCCEEDED}
        blocked: dict[str, str] = {}
        for remote in remotes:
            primary = fleet.remotes[remote]
            waited, waiting = (primary, remote) if operation == "up" else (remote, primary)
            if member_stack(self.mesh_stack, waited) in failed:
                blocked.setdefault(waiting, f"its {'primary' if operation == 'up' else 'remote'} {waited} failed")
        skipped = [self._skipped(c, Step.MEMBERS, operation, blocked[c]) for c in then if c in blocked]
        return [*done, *self._each([c for c in then if c not in blocked], Step.MEMBERS, operation), *skipped]

    def _settle(self, fleet: Membership, ran: Iterable[StackResult]) -> list[StackResult]:
        """The peers pass, then the remotes whose gateways waited for a primary that links them
        now, then the members whose MeshCheck would reach more clusters than it did."""
        failed = {r.stack for r in ran if r.outcome is not Outcome.SUCCEEDED}
        peers = self._peers(fleet, failed)
        failed |= {r.stack for r in peers if r.outcome is not Outcome.SUCCEEDED}
        outputs = {c: self.workspace.outputs(member_stack(self.mesh_stack, c)) for c in fleet.clusters}
        ready = [
            remote
            for remote in fleet.clusters
            if remote in fleet.remotes
            and awaiting(outputs[remote]) == fleet.remotes[remote]
            and remote in linked_peers(outputs[fleet.remotes[remote]])
            and member_stack(self.mesh_stack, remote) not in failed
        ]
        gateways = self._each(ready, Step.GATEWAYS, "up")
        failed |= {r.stack for r in gateways if r.outcome is not Outcome.SUCCEEDED}
        return [*peers, *gateways, *self._checks(fleet, failed), *self._dns(fleet)]

    def _dns(self, fleet: Membership) -> list[StackResult]:
        """The mesh stack again when its Traffic Manager profile holds other endpoints than the
        members' ingress addresses now (a member made, moved or gone since it ran)."""
        outputs = {c: self.workspace.outputs(member_stack(self.mesh_stack, c)) for c in fleet.clusters}
        if not dns_behind(self.workspace.outputs(self.mesh_stack), outputs):
            return []
        return [self._run(self.mesh_stack, Step.DNS, "up", None)]

    def _checks(self, fleet: Membership, failed: set[str]) -> list[StackResult]:
        """Members whose MeshCheck reached fewer clusters than it would now (``probe_targets``): a
        peer whose workloads started, or whose link it or its primary gained, after it ran."""
        outputs = {c: self.workspace.outputs(member_stack(self.mesh_stack, c)) for c in fleet.clusters}
        linked = {c: set(linked_peers(o)) for c, o in outputs.items()}
        running = {c for c, o in outputs.items() if checked(o) is not None}
        stale = [
            c
            for c in fleet.clusters
            if c in running
            and member_stack(self.mesh_stack, c) not in failed
            and checked(outputs[c]) != probe_targets(c, fleet.clusters, fleet.remotes.get(c), linked, running)
        ]
        return self._each(stale, Step.CHECKS, "up")

    def _configured(self) -> list[str]:
        """The clusters the mesh stack's config lists now (what its next update applies)."""
        return [str(c["name"]) for c in listed_clusters(self.workspace.config(self.mesh_stack).get("clusters"))]

    def _configured_remotes(self) -> dict[str, str]:
        """Each remote's primary, as the mesh stack's config gives them now."""
        listed = listed_clusters(self.workspace.config(self.mesh_stack).get("clusters"))
        return {str(c["name"]): str(c["primary"]) for c in listed if c.get("role") == "remote" and c.get("primary")}

    def _refuse_other_mesh(self) -> None:
        """``--mesh`` must name a fleet's mesh stack: an ``up`` of another stack would build a whole
        mesh in one stack, and a ``destroy`` would take it down."""
        if self.workspace.config(self.mesh_stack).get(FLEET_MESH.key) != "true":
            raise ValueError(
                f"{self.mesh_stack} is not a fleet's mesh stack: its config does not set {FLEET_MESH.key}: true "
                f"(a stack of this project without it is a whole mesh; run it with pulumi up)"
            )

    def _refuse_orphans(self) -> None:
        """A cluster the mesh exported as a member but its config no longer lists would be dropped
        by the mesh's update while its member stack keeps its Istio and its peers' reader tokens."""
        previous = self.workspace.outputs(self.mesh_stack)
        if not previous:
            return
        configured = set(self._configured())
        gone = [c for c in members(previous) if c not in configured and self.workspace.holds_resources(member_stack(self.mesh_stack, c))]
        if gone:
            raise ValueError(
                f"{', '.join(gone)} left the mesh stack's clusters but their member stacks stand: run python -m fleet remove "
                f"{gone[0]} for each (it destroys the member, then updates the mesh and the others)"
            )

    def _foreign(self, stack: str, member: FleetMember) -> str:
        """Why ``stack`` is not ``member``'s to run ("" when it is). Member stacks are named
        ``<mesh stack>-<cluster>``, which another stack of the project may bear (mesh ``kind`` and
        cluster ``ambient`` make ``kind-ambient``): its config or its outputs say whose it is."""
        config = self.workspace.config(stack)
        named = FleetMember.of(config.get(MEMBER_CONFIG))
        if MEMBER_CONFIG in config and named != member:
            return f"its config's {MEMBER_CONFIG} names {_describe(named)}, not {_describe(member)}"
        if "clusters" in config:
            return "its config lists clusters: it is another mesh's stack that bears this member's name"
        outputs = self.workspace.outputs(stack)
        exported = FleetMember.of(outputs.get(MEMBER_OUTPUT))
        if outputs and exported != member:
            whose = _describe(exported) if exported else "no fleet member (another stack of this project)"
            return f"its resources are those of {whose}, not {_describe(member)}"
        return ""

    def _peers(self, fleet: Membership, failed: set[str]) -> list[StackResult]:
        """The peers pass: members whose links differ from those their istiod must hold now (every
        other member's that exports one; a remote's, none: it runs no istiod), or that applied an
        older mesh config (``_stale``), again until none does. A round can make another: a primary
        that a new primary discovers exports its first link only when it runs (the only primary of
        a primary-remote mesh exports none), and the new one must then take it. Each member runs at most ``PEER_ROUNDS`` times."""
        done: list[StackResult] = []
        for _ in range(PEER_ROUNDS):
            ran = self._each(self._stale(fleet, failed | {r.stack for r in done if r.outcome is not Outcome.SUCCEEDED}), Step.PEERS, "up")
            if not ran:
                return done
            done += ran
        # Rounds ran out: said, not dropped (the command then exits 1), since a member left behind
        # lacks a peer's link or still keeps a reader token a rotation meant to retire.
        behind = self._stale(fleet, failed | {r.stack for r in done if r.outcome is not Outcome.SUCCEEDED})
        why = f"still behind its peers or the mesh stack after {PEER_ROUNDS} rounds of the peers pass: run python -m fleet up again"
        return done + [self._skipped(cluster, Step.PEERS, "up", why) for cluster in behind]

    def _stale(self, fleet: Membership, failed: set[str]) -> list[str]:
        """Members that ran whose links differ from those they must hold, whose last update
        applied another mesh config than the mesh stack's now (``add`` and ``remove`` run the
        mesh with whatever else its config changed, and a remote's links never change), or that
        keep an older reader token no peer carries any more."""
        mesh = self.workspace.outputs(self.mesh_stack)
        outputs = {c: self.workspace.outputs(member_stack(self.mesh_stack, c)) for c in fleet.clusters}
        links = {c: current_link(o) for c, o in outputs.items() if has_link(o)}

        def stale(cluster: str) -> bool:
            held = {} if cluster in fleet.remotes else {peer: link for peer, link in links.items() if peer != cluster}
            return linked_peers(outputs[cluster]) != held or behind_mesh(outputs[cluster], mesh) or drops_token(cluster, outputs)

        # Every member that ran, whether or not it exports a link itself.
        return [c for c in fleet.clusters if outputs[c] and member_stack(self.mesh_stack, c) not in failed and stale(c)]

    def _each(self, clusters: Sequence[str], step: Step, operation: str) -> list[StackResult]:
        """``operation`` on the member stacks of ``clusters``, at most ``parallel`` at a time."""
        stacks = [(member_stack(self.mesh_stack, c), FleetMember(self.mesh_stack, c)) for c in clusters]
        if self.parallel <= 1:
            return [self._run(stack, step, operation, member) for stack, member in stacks]
        with ThreadPoolExecutor(max_workers=self.parallel) as pool:
            return list(pool.map(lambda s: self._run(s[0], step, operation, s[1]), stacks))

    def _skipped(self, cluster: str, step: Step, operation: str, why: str) -> StackResult:
        stack = member_stack(self.mesh_stack, cluster)
        self.report(f"{operation} {stack} ({step}): skipped: {why}")
        return StackResult(stack, step, operation, Outcome.SKIPPED, message=why)

    def _run(self, stack: str, step: Step, operation: str, member: FleetMember | None) -> StackResult:
        """One stack's operation; a failure is its result, not an exception. A member's stack is
        first checked to be that member's (``_foreign``), and left alone when it is not."""
        self.report(f"{operation} {stack} ({step})")
        started = time.monotonic()
        try:
            foreign = self._foreign(stack, member) if member is not None else ""
            if foreign:
                raise ValueError(f"{stack} is not this fleet's member stack, left as it is: {foreign}")
            if operation == "up":
                changes = self.workspace.up(stack, member, lambda line: None)
            elif operation == "preview":
                changes = self.workspace.preview(stack, member, lambda line: None)
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


def decoded(text: str) -> Any:
    """A config value as the program reads it: an object or a list decoded, anything else text."""
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return text
    return value if isinstance(value, dict | list) else text


def is_ciphertext(value: Any) -> bool:
    """A secret config value as a stack file holds it, encrypted."""
    return isinstance(value, dict) and set(value) == {"secure"}


def _describe(member: FleetMember | None) -> str:
    return f"cluster {member.cluster} of {member.mesh_stack}" if member else "nothing readable"


def listed_clusters(text: str | None) -> list[dict[str, Any]]:
    """The named clusters of a ``clusters`` config value (JSON, as the CLI passes it)."""
    try:
        listed = json.loads(text or "[]")
    except json.JSONDecodeError:
        return []
    return [c for c in listed if isinstance(c, dict) and "name" in c] if isinstance(listed, list) else []


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
