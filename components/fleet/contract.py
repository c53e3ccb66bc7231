"""What the mesh stack and the member stacks export for each other and for the driver.

The mesh stack exports ``fleetMembers``: the clusters of the membership, in config order;
``fleetRemotes``: each remote's primary (none in a multi-primary mesh);
``fleetConfig``: the mesh's config, which every member parses as its own (without the CA's provided
roots and intermediates and the rotation: those are the mesh stack's alone, and the root key never
leaves its state); ``fleetCa``: each member's plug-in CA material (a secret). A member
stack exports ``fleetMember`` (its ``fleetMember`` config: which mesh and cluster its resources
belong to, so that the driver never runs another stack that happens to bear a member's name),
``fleetLink`` (what its peers need to reach its API server, a secret, with a digest of
it) and ``fleetLinkedPeers``: the digest of each peer's link it held when its update finished. A
member whose peer's stack did not exist yet (or had not exported its link) skipped that peer, and
one that holds a peer's older link (the peer's reader token changed since) is stale: the driver
runs it again once the peer's link is there.

In a primary-remote mesh a primary whose istiod serves remotes also exports ``fleetPrimary``: its
east-west address and the Istio revisions its gateway routes to istiod, which its remotes' control
planes are pointed at. A remote's gateways wait until its primary holds the remote's link (the
primary's injector reaches the remote through it): until then the remote exports
``fleetAwaiting``, its primary's name, and the driver runs it again once the primary links it.

With ``verify``, a member whose MeshCheck workloads run exports ``fleetCheck``: the clusters its
probe reached (``probe_targets``). A member reaches the clusters whose workloads run and whose
endpoints its proxies' istiod knows when it runs, so its probe grows as the fleet settles: the
driver runs a member again when its peers' stacks say it would reach more. A member exports its
ingress URL (``ingress``) for its peers' probes.

A member whose cluster others discover exports ``fleetTokens``: the link digest of each reader
token generation its cluster keeps. A new ``readerTokenGeneration`` makes a new token in the
member's update, but its peers take the new link only in theirs: the member keeps the older token
while a peer's remote secret carries it (the peer's ``fleetLinkedPeers`` says which), and the driver
runs it again once none does, which deletes it (``drops_token``).

With a Traffic Manager name, one profile over every cluster's ingress, the mesh stack holds the
profile: members export their ingress address (``fleetIngressAddress``), the mesh stack reads them
and exports the endpoints its profile holds (``fleetDnsEndpoints``), and the driver runs the mesh
stack again once they differ (``dns_behind``).

Every member exports ``fleetConfigDigest`` (a secret: the config may hold secrets): the digest of
the mesh's ``fleetConfig`` its last update applied. A member whose digest differs from the mesh
stack's ``fleetConfig`` now is behind the mesh: ``add`` and ``remove`` run it again with the
members whose links changed, so a config change made with them reaches every member.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

MEMBERS_OUTPUT = "fleetMembers"
CONFIG_OUTPUT = "fleetConfig"
CA_OUTPUT = "fleetCa"
LINK_OUTPUT = "fleetLink"
LINKED_PEERS_OUTPUT = "fleetLinkedPeers"
MEMBER_CONFIG = "fleetMember"
MEMBER_OUTPUT = MEMBER_CONFIG
REMOTES_OUTPUT = "fleetRemotes"
PRIMARY_OUTPUT = "fleetPrimary"
AWAITING_OUTPUT = "fleetAwaiting"
CHECK_OUTPUT = "fleetCheck"
INGRESS_OUTPUT = "ingress"
CONFIG_DIGEST_OUTPUT = "fleetConfigDigest"
TOKENS_OUTPUT = "fleetTokens"
# The mesh stack's: every reader token generation it applied, which members may still keep.
TOKEN_GENERATIONS_OUTPUT = "fleetTokenGenerations"  # noqa: S105 - an output's name, not a secret
# Across platforms, each cluster's egress addresses, by cluster: what the others admit.
EGRESS_OUTPUT = "egressAddresses"
# With a Traffic Manager name: a member's ingress address, and the ones the mesh stack's profile holds.
INGRESS_ADDRESS_OUTPUT = "fleetIngressAddress"
DNS_ENDPOINTS_OUTPUT = "fleetDnsEndpoints"
# What only the mesh stack's CA reads; the rest of the config is every member's.
CA_ONLY_KEYS = frozenset({"caProvidedRoots", "caProvidedIntermediates", "caRoot", "caRotation", "fleetMesh"})
# Pulumi's stack names: letters, digits, '-', '_' and '.', at most 100 characters.
STACK_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}")


@dataclass(frozen=True)
class FleetMember:
    """A member stack's place in the fleet: its ``fleetMember`` config.

    Args:
        mesh_stack: the mesh stack's fully qualified name (``<org>/<project>/<stack>``).
        cluster: the cluster of the mesh's membership this stack builds.
    """

    mesh_stack: str
    cluster: str

    def value(self) -> dict[str, str]:
        """The ``fleetMember`` config value (and output) naming this member."""
        return {"meshStack": self.mesh_stack, "cluster": self.cluster}

    @staticmethod
    def of(value: object) -> FleetMember | None:
        """The member a ``fleetMember`` value names: an object, or its JSON text as the CLI passes
        config and as the driver sets it; ``None`` for anything else."""
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                return None
        if not isinstance(value, Mapping):
            return None
        mesh_stack, cluster = value.get("meshStack"), value.get("cluster")
        return FleetMember(mesh_stack, cluster) if isinstance(mesh_stack, str) and isinstance(cluster, str) else None


def member_values(values: Mapping[str, Any]) -> dict[str, Any]:
    """The config every member parses: the mesh stack's without ``CA_ONLY_KEYS``."""
    return {key: value for key, value in values.items() if key not in CA_ONLY_KEYS}


def member_stack(mesh_stack: str, cluster: str) -> str:
    """The member stack of ``cluster`` beside ``mesh_stack`` (``org/project/name`` or ``name``):
    same organization and project, named ``<mesh stack>-<cluster>``."""
    prefix, _, name = mesh_stack.rpartition("/")
    member = f"{name}-{cluster}"
    if not STACK_NAME.fullmatch(member):
        raise ValueError(
            f"the member stack of cluster {cluster} would be named {member!r}, which Pulumi refuses "
            "(letters, digits, '-', '_' and '.', at most 100 characters); give the mesh stack a shorter name"
        )
    return f"{prefix}/{member}" if prefix else member


def members(mesh_outputs: Mapping[str, Any]) -> list[str]:
    """The membership the mesh stack's last completed update exported."""
    found = mesh_outputs.get(MEMBERS_OUTPUT)
    if not isinstance(found, Sequence) or isinstance(found, str):
        raise ValueError(
            f"the mesh stack exports no {MEMBERS_OUTPUT}: is it a fleet mesh stack (fleetMesh: true), and did its up complete?"
        )
    return [str(m) for m in found]


def remotes(mesh_outputs: Mapping[str, Any]) -> dict[str, str]:
    """Each remote's primary, as the mesh stack's last completed update exported them."""
    found = mesh_outputs.get(REMOTES_OUTPUT)
    return {str(r): str(p) for r, p in found.items()} if isinstance(found, Mapping) else {}


def awaiting(member_outputs: Mapping[str, Any]) -> str:
    """The primary a remote's member stack waits for to hold its link ("" for none)."""
    return str(member_outputs.get(AWAITING_OUTPUT) or "")


def checked(member_outputs: Mapping[str, Any]) -> list[str] | None:
    """The clusters a member's probe reached in its last update (``None``: it runs no check)."""
    found = member_outputs.get(CHECK_OUTPUT)
    return [str(c) for c in found] if isinstance(found, Sequence) and not isinstance(found, str) else None


def probe_targets(
    cluster: str, clusters: Sequence[str], primary: str | None, linked: Mapping[str, Collection[str]], running: Collection[str]
) -> list[str]:
    """The clusters ``cluster``'s probe must reach, in ``clusters``' order: itself, and each other
    cluster whose check workloads run (``running``: its stack exports ``fleetCheck``) and whose
    endpoints its proxies' istiod knows: for a primary, the peers it holds links for; for a remote
    (of ``primary``), its primary and the peers its primary holds links for (``linked``: each
    cluster's linked peers)."""
    knows = {primary, *linked.get(primary, ())} if primary else set(linked.get(cluster, ()))
    return [c for c in clusters if c == cluster or (c in knows and c in running)]


def link_digest(kubeconfig: str) -> str:
    """What tells two links apart without the secret: a digest of the kubeconfig (its reader token
    is random and long, so the digest gives nothing of it away)."""
    return hashlib.sha256(kubeconfig.encode()).hexdigest()


def config_digest(config: Mapping[str, Any]) -> str:
    """A digest of the mesh's exported config, the same whichever way it was read: the engine's
    stack read (in a member's program) gives numbers as floats, the CLI's JSON (the driver) as
    written, so a whole float counts as the integer."""
    return hashlib.sha256(json.dumps(as_written(config), sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def as_written(value: Any) -> Any:
    """A config value read back from another stack's outputs as it was written: the engine's stack
    read gives every number as a float (a protobuf ``Value``), and a whole one was an integer (the
    config's integers, a node group's ``max``, are refused as floats)."""
    if isinstance(value, Mapping):
        return {str(k): as_written(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [as_written(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def behind_mesh(member_outputs: Mapping[str, Any], mesh_outputs: Mapping[str, Any]) -> bool:
    """Whether a member's last update applied another config than the mesh stack exports now. A
    mesh stack that exports none (never updated) has nothing to be behind."""
    config = mesh_outputs.get(CONFIG_OUTPUT)
    if not isinstance(config, Mapping):
        return False
    return member_outputs.get(CONFIG_DIGEST_OUTPUT) != config_digest(config)


def kept_tokens(member_outputs: Mapping[str, Any]) -> dict[int, str]:
    """The reader token generations a member stack's cluster kept when its last update finished,
    each with the digest of the link made of it (none: never updated, or never discovered)."""
    found = member_outputs.get(TOKENS_OUTPUT)
    return {int(g): str(d) for g, d in found.items()} if isinstance(found, Mapping) else {}


def applied_generations(mesh_outputs: Mapping[str, Any], current: int) -> tuple[int, ...]:
    """Every reader token generation the mesh stack applied, ``current`` included: those its last
    update exported, and the one its last config held (a mesh stack made before it exported them)."""
    exported = mesh_outputs.get(TOKEN_GENERATIONS_OUTPUT)
    applied = {int(g) for g in exported} if isinstance(exported, list) else set()
    config = mesh_outputs.get(CONFIG_OUTPUT)
    held = config.get("readerTokenGeneration") if isinstance(config, Mapping) else None
    if isinstance(held, int | float):
        applied.add(int(held))
    return tuple(sorted(applied | {current}))


def retained_generations(current: int, previous: Mapping[int, str], held: Collection[str]) -> list[int]:
    """The older generations of a member's token to keep: those whose link a peer still holds
    (``held``: the digests of this member's link its holders' stacks say they hold)."""
    return sorted(g for g, digest in previous.items() if g != current and digest in held)


def drops_token(cluster: str, outputs: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether ``cluster``'s member keeps a token no other member's remote secret carries any more,
    which its next update deletes (``outputs``: every member's, by cluster)."""
    held = {linked_peers(o).get(cluster) for c, o in outputs.items() if c != cluster}
    current = current_link(outputs.get(cluster, {}))
    return any(digest != current and digest not in held for digest in kept_tokens(outputs.get(cluster, {})).values())


def dns_behind(mesh_outputs: Mapping[str, Any], outputs: Mapping[str, Mapping[str, Any]]) -> bool:
    """Whether the mesh stack's Traffic Manager profile holds other endpoints than the members'
    ingress addresses now (``outputs``: every member's, by cluster); False without a profile."""
    held = mesh_outputs.get(DNS_ENDPOINTS_OUTPUT)
    if not isinstance(held, Mapping):
        return False
    now = {c: o[INGRESS_ADDRESS_OUTPUT] for c, o in outputs.items() if isinstance(o.get(INGRESS_ADDRESS_OUTPUT), str)}
    return dict(held) != now


def linked_peers(member_outputs: Mapping[str, Any]) -> dict[str, str]:
    """The links a member stack held when its last update finished: each peer's link digest, by
    peer (none: never updated)."""
    found = member_outputs.get(LINKED_PEERS_OUTPUT)
    return {str(p): str(d) for p, d in found.items()} if isinstance(found, Mapping) else {}


def has_link(member_outputs: Mapping[str, Any]) -> bool:
    """Whether a member stack exports what its peers need."""
    return isinstance(member_outputs.get(LINK_OUTPUT), Mapping)


def current_link(member_outputs: Mapping[str, Any]) -> str:
    """The digest of the link a member stack exports now ("" for none)."""
    link = member_outputs.get(LINK_OUTPUT)
    return str(link.get("digest", "")) if isinstance(link, Mapping) else ""
