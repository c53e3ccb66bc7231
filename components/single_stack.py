"""The default mode: one stack builds every cluster, the CA, the links and the mesh's name."""

from __future__ import annotations

import pulumi

from components.config.mesh_names import CA
from components.config.model import MeshSpec
from components.dns import build_mesh_dns
from components.dns.routing import ROUTING_OUTPUT, routing_output, routing_switch_problems
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.mesh import build_mesh
from components.mesh.rotation import MARKER_OUTPUT, marker_output, previous_marker, rotation_problems
from components.mesh.summary import mesh_summary
from components.platforms import build_platforms, prepare_platforms
from components.previous_run import previous_outputs, refuse_unsafe_steps, this_stack


def build_single_stack(spec: MeshSpec) -> None:
    """Every resource of ``spec`` and the stack's outputs, after refusing what the last completed
    update does not allow (a root rotation's stage, a Route 53 routing switch)."""
    previous = previous_outputs(this_stack())
    previous_roots = previous_marker(previous)
    refuse_unsafe_steps(rotation_problems(spec.ca, previous_roots), routing_switch_problems(spec.ingress_dns, previous))

    networks = prepare_platforms(spec)
    ca = MeshCA(CA.name(), MeshCAArgs(cluster_names=[c.name for c in spec.clusters], lifetimes=spec.ca))
    platforms = build_platforms(spec, networks, ca)
    mesh = build_mesh(spec, platforms.handles, ca)
    dns = build_mesh_dns(spec, platforms.handles, mesh.gateways)

    pulumi.export("mesh", mesh_summary(spec))
    pulumi.export("rootCertPem", ca.root_cert_pem)
    pulumi.export("caExpiry", ca.expiry())
    pulumi.export(MARKER_OUTPUT, marker_output(spec.ca, mesh.ca_delivered(), previous_roots))
    for name, value in platforms.outputs.items():
        pulumi.export(name, value)
    pulumi.export("eastWestGateways", {name: g.eastwest_address for name, g in mesh.gateways.items() if g.eastwest_address is not None})
    pulumi.export("remoteSecrets", mesh.link.remote_secrets)
    if spec.ingress_gateway:
        pulumi.export("ingress", {name: g.ingress_url for name, g in mesh.gateways.items()})
    if dns is not None:
        pulumi.export("ingressDns", dns)
    routing = routing_output(spec.ingress_dns, dns)
    if routing is not None:
        pulumi.export(ROUTING_OUTPUT, routing)
