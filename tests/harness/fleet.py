"""A fake of the Automation API's workspace for the fleet driver, with the CLI's and the clouds'
rules the driver must respect:

- one update at a time per stack: a second one fails as the service refuses it (409 "Another
  update is currently in progress");
- a stack's outputs are those of its last completed update; a failed one leaves them as they were;
- a member stack reads the mesh stack when it starts (its membership) and links the peers whose
  stacks exported a link by then; it exports its own link when it finishes (so peers created in the
  same pass may miss each other, as real parallel updates do);
- in a primary-remote mesh (``remotes``), a remote fails unless its primary's stack exported
  ``fleetPrimary``; it links no peer, and makes its gateways only once its primary holds its link
  (else it exports ``fleetAwaiting``);
- a member of a cluster outside the membership, or whose mesh stack has no outputs, fails;
- the mesh stack cannot be destroyed while a member stack holds resources (its clusters sit in the
  mesh's networks: AWS and Azure refuse to delete a VPC or VNet in use);
- a member's config names its mesh stack and cluster, set when the stack is made; the mesh
  stack's config sets ``fleetMesh`` and lists the membership; other stacks of the project (say a
  whole mesh's, which may bear a member's name) hold their own config and outputs (``foreign``);
- a destroyed stack stays, empty (its config and history kept);
- the mesh stack exports its config without the CA's keys (``fleetConfig``: the membership and
  ``settings``), and a member exports the digest of the one it read (``fleetConfigDigest``).

Each member's resources are its cluster, its Istio and a remote secret per linked peer (a new link,
a new secret), so an update reports what it created and deleted.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from components.fleet.contract import (
    AWAITING_OUTPUT,
    CONFIG_DIGEST_OUTPUT,
    CONFIG_OUTPUT,
    LINK_OUTPUT,
    LINKED_PEERS_OUTPUT,
    MEMBER_CONFIG,
    MEMBER_OUTPUT,
    MEMBERS_OUTPUT,
    PRIMARY_OUTPUT,
    REMOTES_OUTPUT,
    FleetMember,
    config_digest,
    current_link,
    has_link,
    member_stack,
    member_values,
)
from fleet.driver import decoded
from fleet.workspace import Changes

OWN_RESOURCES = frozenset({"cluster", "istio"})


class ConcurrentUpdate(Exception):  # noqa: N818 - named as the service reports it
    pass


class StackFailed(Exception):  # noqa: N818 - named as the CLI reports it
    pass


@dataclass
class FakeStack:
    outputs: dict[str, Any] = field(default_factory=dict)
    resources: frozenset[str] = frozenset()
    member: FleetMember | None = None
    updating: bool = False
    config: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeFleet:
    """The backend's stacks and the mesh stack's config.

    Args:
        mesh_stack: the mesh stack's name.
        membership: the clusters its config lists.
        failing: stacks whose next operation fails, with the message (removed once used when
            ``once`` holds them).
        seconds: how long each operation takes (default 0.01: enough for parallel runs to overlap).
        fleet_mesh: whether the mesh stack's config sets ``fleetMesh: true`` (default it does).
        remotes: each remote's primary, by remote (default none: multi-primary).
        settings: the mesh stack's other config keys, as its stack file holds them (default none).
    """

    mesh_stack: str
    membership: list[str]
    failing: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.01
    fleet_mesh: bool = True
    remotes: dict[str, str] = field(default_factory=dict)
    settings: dict[str, str] = field(default_factory=dict)
    stacks: dict[str, FakeStack] = field(default_factory=dict)
    # Each cluster's reader token generation: a new one is a new link.
    tokens: dict[str, int] = field(default_factory=dict)
    log: list[tuple[str, str]] = field(default_factory=list)
    running: int = 0
    most_at_once: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def exists(self, stack: str) -> bool:
        return stack in self.stacks

    def holds_resources(self, stack: str) -> bool:
        return stack in self.stacks and bool(self.stacks[stack].resources)

    def config(self, stack: str) -> Mapping[str, str]:
        if stack == self.mesh_stack:
            clusters = json.dumps([self._listed(c) for c in self.membership])
            return {"fleetMesh": "true" if self.fleet_mesh else "false", "clusters": clusters, **self.settings}
        state = self.stacks.get(stack)
        if state is None:
            return {}
        return {**state.config, **({MEMBER_CONFIG: json.dumps(state.member.value())} if state.member else {})}

    def _listed(self, cluster: str) -> dict[str, str]:
        remote = {"role": "remote", "primary": self.remotes[cluster]} if cluster in self.remotes else {}
        return {"name": cluster, "cloud": "existing", **remote}

    def foreign(self, stack: str, config: dict[str, str], outputs: dict[str, Any]) -> None:
        """Another stack of the project, named ``stack``, with its config and outputs, holding resources."""
        self.stacks[stack] = FakeStack(outputs, frozenset({"its-own"}), config=config)

    def outputs(self, stack: str) -> Mapping[str, Any]:
        with self._lock:
            return dict(self.stacks[stack].outputs) if stack in self.stacks else {}

    def up(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        state = self._start("up", stack, member)
        try:
            if member is None:
                remotes = {r: p for r, p in self.remotes.items() if r in self.membership}
                config = member_values({key: decoded(text) for key, text in self.config(stack).items()})
                exported = {MEMBERS_OUTPUT: list(self.membership), REMOTES_OUTPUT: remotes, CONFIG_OUTPUT: config}
                return self._finish(stack, state, exported, OWN_RESOURCES)
            peers, applied = self._read_mesh(stack, member)
            token = f"{member.cluster}-token-{self.tokens.get(member.cluster, 0)}"
            link = {"cluster": member.cluster, "kubeconfig": token, "digest": token}
            outputs: dict[str, Any] = {MEMBER_OUTPUT: member.value(), LINK_OUTPUT: link, LINKED_PEERS_OUTPUT: peers}
            outputs[CONFIG_DIGEST_OUTPUT] = applied
            secrets = {f"remote-secret-{p}:{digest}" for p, digest in peers.items()}
            if member.cluster in self.remotes:
                if not self._primary_holds(member):
                    return self._finish(stack, state, {**outputs, AWAITING_OUTPUT: self.remotes[member.cluster]}, OWN_RESOURCES)
                return self._finish(stack, state, outputs, OWN_RESOURCES | {"gateways"})
            outputs[PRIMARY_OUTPUT] = {"address": f"{member.cluster}-eastwest", "revisions": ["1.30.3"]}
            return self._finish(stack, state, outputs, OWN_RESOURCES | secrets)
        finally:
            self._stop(state)

    def preview(self, stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Changes:
        """What an ``up`` would do to the stack's resources, changing nothing (its outputs, its log aside)."""
        if stack not in self.stacks:
            raise StackFailed(f"no stack named '{stack}' found")
        with self._lock:
            self.log.append(("preview", stack))
        return {"same": len(self.stacks[stack].resources)}

    def destroy(self, stack: str, on_output: Callable[[str], None]) -> Changes:
        if stack not in self.stacks:
            raise StackFailed(f"no stack named '{stack}' found")
        state = self._start("destroy", stack, None)
        try:
            if stack == self.mesh_stack:
                held = sorted(s for s, st in self.stacks.items() if s != stack and st.resources)
                if held:
                    raise StackFailed(f"DependencyViolation: the mesh's networks are in use by the clusters of {', '.join(held)}")
            changes = {"delete": len(state.resources)}
            with self._lock:
                state.outputs, state.resources = {}, frozenset()
            return changes
        finally:
            self._stop(state)

    def _start(self, operation: str, stack: str, member: FleetMember | None) -> FakeStack:
        with self._lock:
            state = self.stacks.setdefault(stack, FakeStack(member=member))
            if state.updating:
                raise ConcurrentUpdate(f"[409] Conflict: Another update is currently in progress on {stack}")
            if member is not None and state.member not in (None, member):
                raise StackFailed(f"{stack}: its fleetMember config names {state.member}, not {member}")
            state.updating = True
            self.running += 1
            self.most_at_once = max(self.most_at_once, self.running)
            self.log.append((operation, stack))
            message = self.failing.pop(stack, None)
        if message is not None:
            self._stop(state)
            raise StackFailed(f"error: update failed\n{message}")
        return state

    def _stop(self, state: FakeStack) -> None:
        with self._lock:
            if state.updating:
                state.updating = False
                self.running -= 1

    def _read_mesh(self, stack: str, member: FleetMember) -> tuple[dict[str, str], str]:
        """The member program's first step: the links of the peers that exported one, and the
        digest of the mesh config it applies."""
        with self._lock:
            mesh = self.stacks.get(member.mesh_stack)
            if mesh is None or not mesh.outputs:
                raise StackFailed(f"{stack}: the mesh stack {member.mesh_stack} has no outputs; run its up first")
            clusters = list(mesh.outputs[MEMBERS_OUTPUT])
            if member.cluster not in clusters:
                raise StackFailed(f"{stack}: cluster {member.cluster} is not in the mesh's membership")
            found: dict[str, str] = {}
            applied = config_digest(mesh.outputs[CONFIG_OUTPUT])
            primary = self.remotes.get(member.cluster)
            if primary is not None:
                exported = self.stacks.get(member_stack(member.mesh_stack, primary))
                if exported is None or PRIMARY_OUTPUT not in exported.outputs:
                    raise StackFailed(f"{stack}: primary {primary}'s stack has not exported fleetPrimary yet")
                return found, applied  # a remote runs no istiod: it links no peer
            for c in clusters:
                peer = self.stacks.get(member_stack(member.mesh_stack, c))
                if c != member.cluster and peer is not None and has_link(peer.outputs):
                    found[c] = current_link(peer.outputs)
            return found, applied

    def _primary_holds(self, member: FleetMember) -> bool:
        with self._lock:
            primary = self.stacks[member_stack(member.mesh_stack, self.remotes[member.cluster])]
            return member.cluster in primary.outputs.get(LINKED_PEERS_OUTPUT, {})

    def _finish(self, stack: str, state: FakeStack, outputs: dict[str, Any], resources: frozenset[str]) -> Changes:
        time.sleep(self.seconds)
        with self._lock:
            before = state.resources
            state.outputs, state.resources = outputs, resources
        return {"create": len(resources - before), "delete": len(before - resources), "same": len(resources & before)}
