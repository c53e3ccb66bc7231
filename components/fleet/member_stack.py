"""A fleet's member stack: one cluster's Istio, and the remote secrets of the peers its istiod finds.

Before any resource it reads its mesh stack's outputs with the engine's stack-reference read
(``pulumi:pulumi:readStackOutputs``, as the CA rotation reads this stack's own): the config it
parses as its own, which must list its cluster, and its own plug-in CA material, kept a secret. It
then reads each peer's member stack the same way: a peer whose stack does not exist yet, or has not
exported its link, is skipped with a message, and linked on a later run (``python -m fleet``'s peers
pass); a linked peer's kubeconfig is kept a secret. The read, unlike a ``StackReference`` resource,
leaves nothing of the other stack in this one's state: a ``StackReference`` stores the stack's whole
outputs (pkg/resource/deploy/builtins.go ``readStackReference``), which for the mesh stack are every
member's intermediate key. It exports its ``fleetMember`` (whose stack it is), the digest of the
mesh config it applied (``fleetConfigDigest``), its own link
(``fleetLink``: the kubeconfig peers put in their remote secret for it), the peers it linked
(``fleetLinkedPeers``), the reader tokens its cluster keeps (``fleetTokens``: an older generation
stays while a peer's remote secret carries it) and the roots marker of what its cluster holds
(``caRoots``).

A remote (primary-remote) points its control plane at the address its primary's stack exports
(``fleetPrimary``) and builds its gateways once its primary holds its link (``fleetAwaiting``
until then). With ``verify`` it reads every peer's stack, and its MeshCheck probes the clusters it
can reach now (``contract.probe_targets``), exported as ``fleetCheck``.

Resources are named as the single stack names them, so the member stacks of a fleet together make
what one stack makes of the same config.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.model import DnsService, MeshSpec
from components.config.parse import parse_mesh_spec
from components.config.problems import ConfigError, Problem
from components.dns import build_member_dns
from components.dns.routing import ROUTING_OUTPUT, routing_output
from components.fleet.aws import AWS_OUTPUT
from components.fleet.aws import MEMBER_KEYS as EKS_KEYS
from components.fleet.aws import build_member_cluster as build_eks_member
from components.fleet.azure import AZURE_OUTPUT
from components.fleet.azure import build_member_cluster as build_aks_member
from components.fleet.azure import member_keys as aks_keys
from components.fleet.contract import (
    AWAITING_OUTPUT,
    CA_OUTPUT,
    CHECK_OUTPUT,
    CONFIG_DIGEST_OUTPUT,
    CONFIG_OUTPUT,
    EGRESS_OUTPUT,
    INGRESS_ADDRESS_OUTPUT,
    INGRESS_OUTPUT,
    LINK_OUTPUT,
    LINKED_PEERS_OUTPUT,
    MEMBER_OUTPUT,
    PRIMARY_OUTPUT,
    TOKENS_OUTPUT,
    FleetMember,
    as_written,
    checked,
    config_digest,
    has_link,
    kept_tokens,
    link_digest,
    linked_peers,
    member_stack,
    probe_targets,
    retained_generations,
)
from components.fleet.reads import StackRead, read_existing, read_stack, unreadable
from components.istio.facts import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from components.mesh.ca import ClusterCACerts
from components.mesh.check import MeshCheck, MeshCheckArgs
from components.mesh.gateways import IstioGateways
from components.mesh.istio import IstioControlPlane, IstioControlPlaneArgs
from components.mesh.link import MeshLink, MeshLinkArgs
from components.mesh.mesh import build_gateways, build_primary
from components.mesh.rotation import MARKER_OUTPUT, delivered_marker, previous_marker
from components.mesh.summary import mesh_summary
from components.platforms import platform_configs
from components.platforms.aws.config import NAME as AWS
from components.platforms.azure.config import NAME as AZURE
from components.platforms.existing import names as existing_names
from components.platforms.existing.cluster import ExistingClusterArgs, ExistingKubernetesCluster
from components.platforms.exposure import Exposure
from components.previous_run import this_stack


def member_spec(member: FleetMember, mesh: StackRead) -> MeshSpec:
    """The mesh's config as the mesh stack exported it, parsed; refused when this member is not in it."""
    if mesh.failure and not mesh.missing:
        raise unreadable("the mesh stack", member.mesh_stack, mesh.failure)
    values = mesh.outputs.get(CONFIG_OUTPUT)
    if not isinstance(values, Mapping):
        why = f"could not be read ({mesh.failure})" if mesh.failure else f"exports no {CONFIG_OUTPUT}"
        message = f"{member.mesh_stack} {why}: run its up first (python -m fleet up does), and check that it sets fleetMesh: true"
        raise ConfigError([Problem("fleetMember.meshStack", "fleet-mesh-missing", message)])
    # The mesh stack checked the names of every resource of this config.
    spec = parse_mesh_spec(as_written(values), platform_configs(), plan_names=False)
    if member.cluster not in {c.name for c in spec.clusters}:
        listed = ", ".join(c.name for c in spec.clusters)
        message = f"{member.cluster} is not in the mesh's clusters ({listed}); add it there first"
        raise ConfigError([Problem("fleetMember.cluster", "fleet-not-member", message)])
    return spec


def issuer(mesh_outputs: Mapping[str, Any], cluster: str) -> ClusterCACerts:
    """The member's plug-in CA material, from the mesh stack's ``fleetCa``, as secrets."""
    parts = (mesh_outputs.get(CA_OUTPUT) or {}).get(cluster) or {}
    missing = [key for key in (CA_CERT, CA_KEY, ROOT_CERT, CERT_CHAIN) if not parts.get(key)]
    if missing:
        raise unreadable(f"the mesh stack's CA for {cluster}", "fleetCa", f"{', '.join(missing)} missing or not decrypted")

    def part(key: str) -> pulumi.Output[str]:
        return pulumi.Output.secret(str(parts[key]))

    return ClusterCACerts(ca_cert=part(CA_CERT), ca_key=part(CA_KEY), root_cert=part(ROOT_CERT), cert_chain=part(CERT_CHAIN))


def read_peers(spec: MeshSpec, member: FleetMember) -> dict[str, StackRead]:
    """The stacks of the other members this one reads: those its istiod discovers (their links),
    those that discover it (which of its tokens they carry), its primary (its address), and with
    ``verify`` every other (whether its check runs). A stack that exists but cannot be read stops
    the update."""
    own = spec.cluster(member.cluster)
    found: dict[str, StackRead] = {}
    for peer in (c.name for c in spec.clusters if c.name != member.cluster):
        wanted = spec.discovers(member.cluster, peer) or spec.discovers(peer, member.cluster) or peer == own.primary
        if not (spec.verify or wanted):
            continue
        found[peer] = read_existing(f"peer {peer}'s stack", member_stack(member.mesh_stack, peer))
    return found


def peer_links(spec: MeshSpec, member: FleetMember, reads: Mapping[str, StackRead]) -> dict[str, str]:
    """The kubeconfig of every peer this member's istiod discovers whose stack exports its link."""
    found: dict[str, str] = {}
    for peer, read in reads.items():
        if not spec.discovers(member.cluster, peer):
            continue
        stack = member_stack(member.mesh_stack, peer)
        if not has_link(read.outputs):
            why = " (its stack does not exist yet)" if read.missing else ""
            pulumi.log.info(f"istio-multicluster: peer {peer} ({stack}) has no link yet{why}; skipped until a later run")
            continue
        kubeconfig = read.outputs[LINK_OUTPUT].get("kubeconfig")
        if not isinstance(kubeconfig, str) or not kubeconfig:
            # The engine elides secrets it cannot decrypt (an empty link), logging only.
            raise unreadable(f"peer {peer}'s link", stack, "its kubeconfig is missing or could not be decrypted")
        found[peer] = kubeconfig
    return found


@dataclass(frozen=True)
class PrimaryRead:
    """What a remote's member stack reads of its primary's.

    Args:
        address: the primary's east-west address, which the remote's control plane points at.
        holds_link: whether the primary holds the remote's link (its injector reaches the remote
            through it), so that the remote's gateways can start.
    """

    address: str
    holds_link: bool


def read_primary(spec: MeshSpec, member: FleetMember, primary: str, read: StackRead) -> PrimaryRead:
    """The remote's primary as its member stack exported it (``read``). The primary's stack must
    have run with every revision of the config: the remote's pods of a revision reach their istiod
    through the primary's gateway route of that revision (``python -m fleet up`` runs primaries first)."""
    stack = member_stack(member.mesh_stack, primary)
    exported = read.outputs.get(PRIMARY_OUTPUT)
    address = exported.get("address") if isinstance(exported, Mapping) else None
    revisions = set(exported.get("revisions") or ()) if isinstance(exported, Mapping) else set()
    missing = [version for version in spec.versions if version not in revisions]
    if not isinstance(address, str) or not address or missing:
        what = f"routes to istiod {', '.join(missing)}" if address else "its east-west address"
        raise pulumi.RunError(
            f"istio-multicluster: primary {primary}'s stack ({stack}) has not exported {what} ({PRIMARY_OUTPUT}) yet; "
            f"nothing was changed. Run it first (python -m fleet up runs primaries before their remotes)"
        )
    return PrimaryRead(address, member.cluster in linked_peers(read.outputs))


def kept_generations(spec: MeshSpec, member: FleetMember, reads: Mapping[str, StackRead], previous: Mapping[str, Any]) -> list[int]:
    """The generations of the member's reader token to keep, the mesh's current one first: an
    older one stays while a peer that discovers this cluster still holds the link made of it
    (its update, not this one, moves its remote secret), so its istiod never holds a deleted token."""
    held = [
        digest
        for peer, read in reads.items()
        if spec.discovers(peer, member.cluster) and (digest := linked_peers(read.outputs).get(member.cluster)) is not None
    ]
    current = spec.reader_token_generation
    return [current, *retained_generations(current, kept_tokens(previous), held)]


def member_exposure(spec: MeshSpec, member: FleetMember, mesh_outputs: Mapping[str, Any]) -> Exposure | None:
    """Across platforms, who reaches the member's API server and east-west gateway: the operators
    and every cluster's egress, as the mesh stack exported them (``None`` on one platform)."""
    if not spec.spans_platforms:
        return None
    egress = mesh_outputs.get(EGRESS_OUTPUT)
    if not isinstance(egress, Mapping) or set(egress) != {c.name for c in spec.clusters}:
        raise unreadable("the mesh stack's egress addresses", member.mesh_stack, f"its {EGRESS_OUTPUT} does not name every cluster")
    return Exposure(tuple(str(c) for c in spec.operator_cidrs), {str(c): [str(r) for r in cidrs] for c, cidrs in egress.items()})


def build_cluster(spec: MeshSpec, member: FleetMember, mesh_outputs: Mapping[str, Any]) -> tuple[ClusterHandle, dict[str, Any]]:
    """The member's cluster, and the stack outputs that come with it: an existing cluster, an EKS
    cluster on the VPC the mesh stack made (``components.fleet.aws``), or an AKS cluster on its
    VNet (``components.fleet.azure``)."""
    own = spec.cluster(member.cluster)
    exposure = member_exposure(spec, member, mesh_outputs)
    if own.cloud not in (AWS, AZURE):
        return ExistingKubernetesCluster(existing_names.CLUSTER.name(cluster=own.name), ExistingClusterArgs(own, exposure)).handle, {}
    output, keys = (AWS_OUTPUT, EKS_KEYS) if own.cloud == AWS else (AZURE_OUTPUT, aks_keys(spec, own))
    built_on = (mesh_outputs.get(output) or {}).get(own.name)
    if not isinstance(built_on, Mapping):
        raise unreadable(f"the mesh stack's network for {own.name}", member.mesh_stack, f"it exports no {output} for it")
    missing = [key for key in keys if key not in built_on]
    if missing:
        raise unreadable(f"the mesh stack's network for {own.name}", member.mesh_stack, f"its {output} lacks {', '.join(missing)}")
    made = (build_eks_member if own.cloud == AWS else build_aks_member)(spec, own, built_on, exposure)
    return made.handle, made.outputs


def build_fleet_member(member: FleetMember) -> None:
    """The member stack of ``member``; see the module docstring."""
    # Every read (and refusal) before any resource.
    mesh = read_stack(member.mesh_stack)
    spec = member_spec(member, mesh)
    own = next(c for c in spec.clusters if c.name == member.cluster)
    ca = issuer(mesh.outputs, own.name)
    reads = read_peers(spec, member)
    peers = peer_links(spec, member, reads)
    remote_of = own.primary if spec.is_remote(own.name) else None
    primary = read_primary(spec, member, remote_of, reads[remote_of]) if remote_of else None
    previous = read_stack(this_stack()).outputs
    kept = kept_generations(spec, member, reads, previous)
    handle, platform_outputs = build_cluster(spec, member, mesh.outputs)
    if primary is None:
        release, gateways = build_primary(spec, handle, ca)
    else:
        assert own.primary is not None
        release, gateways = build_remote(spec, handle, ca, primary, issuer(mesh.outputs, own.primary))
    secrets = {peer: pulumi.Output.secret(kubeconfig) for peer, kubeconfig in peers.items()}
    link = MeshLink(names.LINK.name(), MeshLinkArgs(spec, {own.name: handle}, {own.name: release}, secrets, {own.name: kept}))
    pulumi.export("mesh", mesh_summary(spec))
    for name, value in platform_outputs.items():
        pulumi.export(name, value)
    pulumi.export(MEMBER_OUTPUT, member.value())
    pulumi.export(CONFIG_DIGEST_OUTPUT, pulumi.Output.secret(config_digest(mesh.outputs[CONFIG_OUTPUT])))
    export_link(own.name, link, peers, kept, kept_tokens(previous))
    issued = previous_marker(mesh.outputs)
    if issued is not None:
        # What reached this cluster: the mesh's stage, once its CA delivery and istiod finished.
        pulumi.export(MARKER_OUTPUT, delivered_marker(issued, release.delivered(), previous_marker(previous)))
    if gateways is None:
        pulumi.export(AWAITING_OUTPUT, own.primary)
        return
    export_gateways(spec, handle, gateways)
    if spec.verify:
        linked = {own.name: set(peers), **({remote_of: set(linked_peers(reads[remote_of].outputs))} if remote_of else {})}
        targets = build_check(spec, own.name, mesh.outputs, reads, linked, MemberCheck(handle, release, gateways, link))
        pulumi.export(CHECK_OUTPUT, targets)


def export_link(cluster: str, link: MeshLink, peers: Mapping[str, str], kept: Sequence[int], previous_tokens: Mapping[int, str]) -> None:
    """What peers read of this member's link: its own (``fleetLink``, and the tokens it keeps,
    ``fleetTokens``), and the peers' links it holds (``fleetLinkedPeers``)."""
    if cluster in link.kubeconfigs:
        kubeconfig = link.kubeconfigs[cluster]
        digest = kubeconfig.apply(link_digest)
        pulumi.export(LINK_OUTPUT, {"cluster": cluster, "kubeconfig": kubeconfig, "digest": digest})
        pulumi.export(TOKENS_OUTPUT, {str(kept[0]): digest, **{str(g): previous_tokens[g] for g in kept[1:]}})
    pulumi.export(LINKED_PEERS_OUTPUT, {peer: link_digest(kubeconfig) for peer, kubeconfig in sorted(peers.items())})
    pulumi.export("remoteSecrets", link.remote_secrets)


def export_gateways(spec: MeshSpec, handle: ClusterHandle, gateways: IstioGateways) -> None:
    """The member's gateways: its east-west address (a primary serving remotes: with the revisions
    its gateway routes to istiod, ``fleetPrimary``), its ingress URL, and with ``ingressDns`` its
    record under the mesh's name."""
    cluster = handle.spec.name
    if gateways.eastwest_address is not None:
        pulumi.export("eastWestGateways", {cluster: gateways.eastwest_address})
    if spec.exposes_istiod(cluster) and gateways.eastwest_address is not None:
        pulumi.export(PRIMARY_OUTPUT, {"address": gateways.eastwest_address, "revisions": list(spec.versions)})
    if gateways.ingress_url is not None:
        pulumi.export(INGRESS_OUTPUT, {cluster: gateways.ingress_url})
    if spec.ingress_dns is not None and spec.ingress_dns.service is DnsService.TRAFFIC_MANAGER and gateways.ingress_address is not None:
        # The mesh stack's profile points at it (``components.fleet.contract.dns_behind``).
        pulumi.export(INGRESS_ADDRESS_OUTPUT, gateways.ingress_address)
    answered = build_member_dns(spec, handle, gateways)
    if answered is not None:
        pulumi.export("ingressDns", answered)
        pulumi.export(ROUTING_OUTPUT, routing_output(spec.ingress_dns, answered))


@dataclass(frozen=True)
class MemberCheck:
    """What a member built that its MeshCheck probes from.

    Args:
        handle: its cluster.
        release: its control plane.
        gateways: its gateways.
        link: its remote secrets.
    """

    handle: ClusterHandle
    release: IstioControlPlane
    gateways: IstioGateways
    link: MeshLink


@dataclass(frozen=True)
class ReadCA:
    """The mesh CA as a member reads it from the mesh stack: what its MeshCheck proves.

    Args:
        root_cert_pem: the roots' bundle.
        clusters: every cluster's CA material.
    """

    root_cert_pem: pulumi.Output[str]
    clusters: Mapping[str, ClusterCACerts]


def build_check(
    spec: MeshSpec,
    cluster: str,
    mesh_outputs: Mapping[str, Any],
    reads: Mapping[str, StackRead],
    linked: Mapping[str, set[str]],
    built: MemberCheck,
) -> list[str]:
    """The member's MeshCheck, probing the clusters it can reach now (``probe_targets``); returns them."""
    running = {peer for peer, read in reads.items() if checked(read.outputs) is not None}
    primary = spec.cluster(cluster).primary if spec.is_remote(cluster) else None
    targets = probe_targets(cluster, [c.name for c in spec.clusters], primary, linked, running)
    ingress = {peer: (reads[peer].outputs.get(INGRESS_OUTPUT) or {}).get(peer) for peer in targets if peer != cluster}
    roots = pulumi.Output.from_input(str(mesh_outputs.get("rootCertPem", "")))
    ca = ReadCA(roots, {c.name: issuer(mesh_outputs, c.name) for c in spec.clusters})
    args = MeshCheckArgs(
        spec,
        {cluster: built.handle},
        {cluster: built.release},
        {cluster: built.gateways},
        built.link,
        ca,
        spec.verify_image,
        targets={cluster: targets},
        peer_ingress={peer: str(url) for peer, url in ingress.items() if url},
    )
    MeshCheck(names.CHECK.name(), args)
    return targets


def build_remote(
    spec: MeshSpec, handle: ClusterHandle, ca: ClusterCACerts, primary: PrimaryRead, primary_ca: ClusterCACerts
) -> tuple[IstioControlPlane, IstioGateways | None]:
    """A remote's control plane, pointed at its primary's east-west address, and its gateways once
    the primary holds its link (their pods are injected by the primary's istiod, which reaches the
    remote through that link; until then they would never start)."""
    args = IstioControlPlaneArgs(spec, handle, ca, primary_address=pulumi.Output.from_input(primary.address))
    release = IstioControlPlane(names.ISTIO.name(cluster=handle.name), args)
    if not primary.holds_link:
        pulumi.log.info(
            f"istio-multicluster: {handle.name}'s gateways wait until its primary {handle.spec.primary} holds its link; "
            "python -m fleet runs this stack again once it does"
        )
        return release, None
    # A remote's proxies get their certificates from its primary's istiod.
    return release, build_gateways(spec, handle, release, primary_ca)
