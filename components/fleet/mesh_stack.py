"""The fleet's mesh stack: the membership validated once, the CA, and what every member reads.

It makes the mesh CA (the root and every member's intermediate) and no cluster; with EKS
clusters, the VPCs they share, the CA's Secrets Manager copies and ``ingressDns``'s certificates
(``components.fleet.aws``); with AKS clusters, their VNets and peerings, the vault with the CA
copies and the registry (``components.fleet.azure``); with a Traffic Manager name, the profile.
It refuses a Route 53 routing switch of the records its members hold. It exports the
membership (``fleetMembers``, and each remote's primary: ``fleetRemotes``), the config every member parses as its own (``fleetConfig``: the
stack's config without what only the CA reads: the provided roots and intermediates, which hold
private keys, and the root's name and rotation, which refer to them), and each member's plug-in CA
material (``fleetCa``, a secret). The root's key stays in this stack's state.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

import pulumi

from components.config.mesh_names import CA
from components.config.model import DnsService, MeshSpec
from components.config.parse import resource_names
from components.config.platform import PlatformConfig
from components.config.problems import Problem, Problems
from components.dns import build_fleet_dns
from components.dns.routing import routing_marker, routing_switch_problems
from components.fleet.aws import build_mesh_part as build_aws_part
from components.fleet.aws import network_move_problems
from components.fleet.azure import build_mesh_part as build_azure_part
from components.fleet.contract import (
    CA_OUTPUT,
    CONFIG_OUTPUT,
    DNS_ENDPOINTS_OUTPUT,
    EGRESS_OUTPUT,
    INGRESS_ADDRESS_OUTPUT,
    MEMBERS_OUTPUT,
    REMOTES_OUTPUT,
    TOKEN_GENERATIONS_OUTPUT,
    applied_generations,
    member_stack,
    member_values,
)
from components.fleet.reads import read_existing
from components.fleet.rotation import fleet_rotation_problems
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.rotation import MARKER_OUTPUT, marker_output, previous_marker
from components.mesh.summary import mesh_summary
from components.platforms.existing import EXISTING
from components.previous_run import previous_outputs, refuse_unsafe_steps, this_stack


def member_outputs(cluster: str) -> Mapping[str, Any]:
    """The outputs of ``cluster``'s member stack beside this one (none: it does not exist yet); one
    that exists but cannot be read stops the update."""
    return read_existing(f"member {cluster}'s stack", member_stack(this_stack(), cluster)).outputs


def member_markers(mesh_outputs: Mapping[str, Any]) -> dict[str, Mapping[str, Any] | None]:
    """The roots marker each member of the last completed update's membership exported."""
    return {str(cluster): previous_marker(member_outputs(str(cluster))) for cluster in mesh_outputs.get(MEMBERS_OUTPUT) or []}


def member_stands(cluster: str) -> bool:
    """Whether ``cluster``'s member stack has outputs: its last update completed, with its cluster."""
    return bool(member_outputs(cluster))


def member_routing_problems(spec: MeshSpec, mesh_outputs: Mapping[str, Any]) -> list[Problem]:
    """A Route 53 routing switch of the records the members of the last completed update hold
    (each its own): refused here, before any member runs, as one stack refuses it (the first member
    would fail, the others keep the old routing). Members' stacks are read only with ``ingressDns``."""
    if routing_marker(spec.ingress_dns) is None:
        return []
    for cluster in mesh_outputs.get(MEMBERS_OUTPUT) or []:
        problems = routing_switch_problems(spec.ingress_dns, member_outputs(str(cluster)))
        if problems:
            return problems
    return []


def kept_token_name_problems(spec: MeshSpec, platforms: Sequence[PlatformConfig]) -> list[Problem]:
    """Collisions of the names of older reader tokens a member may keep (``spec``'s history), which
    the config's own check, knowing only the current generation, could not plan."""
    if not set(spec.reader_token_history) - {0, spec.reader_token_generation}:
        return []
    problems = Problems()
    resource_names(spec, platforms).check(problems)
    return problems.items


def build_fleet_mesh(
    spec: MeshSpec, values: Mapping[str, Any], platforms: Sequence[PlatformConfig], secret_keys: frozenset[str] = frozenset()
) -> MeshCA:
    """The mesh stack of ``spec`` (its config ``values``, read by ``platforms``, of which
    ``secret_keys`` are secrets, default none): its CA and exports; see the module docstring. The
    exported config is a secret when any key in it is one."""
    outputs = previous_outputs(this_stack())
    previous = previous_marker(outputs)
    spec = replace(spec, reader_token_history=applied_generations(outputs, spec.reader_token_generation))
    refuse_unsafe_steps(
        fleet_rotation_problems(spec.ca, previous, lambda: member_markers(outputs)),
        member_routing_problems(spec, outputs),
        network_move_problems(outputs.get(CONFIG_OUTPUT), values, member_stands),
        kept_token_name_problems(spec, platforms),
    )
    ca = MeshCA(CA.name(), MeshCAArgs(cluster_names=[c.name for c in spec.clusters], lifetimes=spec.ca))
    pulumi.export("mesh", mesh_summary(spec))
    # The stage this stack issued; each member exports it again once its cluster has it.
    pulumi.export(MARKER_OUTPUT, marker_output(spec.ca, [ca], previous))
    pulumi.export("rootCertPem", ca.root_cert_pem)
    pulumi.export("caExpiry", ca.expiry())
    pulumi.export(MEMBERS_OUTPUT, [c.name for c in spec.clusters])
    pulumi.export(TOKEN_GENERATIONS_OUTPUT, list(spec.reader_token_history))
    pulumi.export(REMOTES_OUTPUT, {c.name: c.primary for c in spec.clusters if spec.is_remote(c.name) and c.primary})
    config = member_values(values)
    pulumi.export(CONFIG_OUTPUT, pulumi.Output.secret(config) if secret_keys & set(config) else config)
    pulumi.export(CA_OUTPUT, pulumi.Output.secret({name: certs.secret_data() for name, certs in ca.clusters.items()}))
    aws, azure = build_aws_part(spec, ca), build_azure_part(spec, ca)
    for name, value in {**aws.outputs, **azure.outputs}.items():
        pulumi.export(name, value)
    if spec.spans_platforms:
        # What every member's API server and east-west gateway admit across platforms (``Exposure``).
        pulumi.export(EGRESS_OUTPUT, {**EXISTING.prepare(spec).egress, **aws.egress, **azure.egress})
    export_profile(spec)
    return ca


def export_profile(spec: MeshSpec) -> None:
    """With a Traffic Manager name, the profile over the ingress addresses the members' stacks
    exported (a member made after this run is added when the driver runs this stack again)."""
    if spec.ingress_dns is None or spec.ingress_dns.service is not DnsService.TRAFFIC_MANAGER:
        return
    addresses: dict[str, str] = {}
    for cluster in spec.clusters:
        exported = member_outputs(cluster.name)
        if isinstance(exported.get(INGRESS_ADDRESS_OUTPUT), str):
            addresses[cluster.name] = exported[INGRESS_ADDRESS_OUTPUT]
    answered = build_fleet_dns(spec, {name: (spec.cluster(name).region, address) for name, address in addresses.items()})
    assert answered is not None
    pulumi.export("ingressDns", answered)
    pulumi.export(DNS_ENDPOINTS_OUTPUT, addresses)
