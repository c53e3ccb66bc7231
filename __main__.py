"""istio-multicluster: wiring only. Stack config -> MeshSpec -> platforms -> mesh -> stack outputs."""

import pulumi

from components.config.load import load_mesh_spec
from components.config.mesh_names import CA
from components.config.stores import ROUTE53_ZONES
from components.dns import build_mesh_dns
from components.dns.routing import ROUTING_OUTPUT, routing_output, routing_switch_problems
from components.dns.zones import route53_zone_reader
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.mesh import build_mesh
from components.mesh.rotation import MARKER_OUTPUT, marker_output, previous_marker, rotation_problems
from components.mesh.summary import mesh_summary
from components.platforms import build_platforms, platform_configs, prepare_platforms
from components.previous_run import previous_outputs, refuse_unsafe_steps, this_stack

spec = load_mesh_spec(pulumi.Config(), platform_configs(), {ROUTE53_ZONES: route53_zone_reader()})
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
