"""TrafficManagerDns: the mesh's one name as an Azure Traffic Manager profile over its AKS clusters.

A profile named by ``ingressDns.name`` (its relative DNS name: clients resolve
``<name>.trafficmanager.net``, and point their own names at it with a CNAME) in a resource group of
its own, ``istio-mesh-dns-<meshId>-<stack>``, in ``keyVaultLocation`` (the mesh's Azure home, which no
cluster moves; Traffic Manager itself is global). One external endpoint per cluster: its ingress
gateway's public IP, located in the cluster's region (Performance routing needs it) and of equal
weight. Traffic Manager probes every endpoint over HTTP on the gateway's status port and ready path,
which the gateway Service exposes on its load balancer (the chart's ``status-port``), and answers only
with endpoints that pass: ``latency`` is Performance (the healthy endpoint nearest the client's
resolver), ``weighted`` is Weighted. Endpoints live inline in the profile, so a changed address or
an added cluster updates the profile in place.
"""

from __future__ import annotations

from collections.abc import Mapping

import pulumi
import pulumi_azure_native as azure_native

from components.config import mesh_names as names
from components.config.model import DnsRouting, IngressDns
from components.istio.facts import READY_PATH, STATUS_PORT

EXTERNAL_ENDPOINT = "Microsoft.Network/trafficManagerProfiles/externalEndpoints"
ROUTING = {DnsRouting.LATENCY: "Performance", DnsRouting.WEIGHTED: "Weighted"}
TTL_SECONDS = 60
PROBE_INTERVAL_SECONDS = 30
PROBE_TIMEOUT_SECONDS = 10
TOLERATED_FAILURES = 3
WEIGHT = 1


def profile_group(mesh_id: str, stack: str) -> str:
    """The profile's resource group: one per mesh and stack, so that two stacks' profiles (of two
    projects, say, with stacks of one name) never share one."""
    return f"istio-mesh-dns-{mesh_id}-{stack}"


class TrafficManagerDns(pulumi.ComponentResource):
    """See the module docstring. Output ``name``: ``<name>.trafficmanager.net``, once the profile exists.

    Args (besides ``name`` and ``opts``):
        dns: the mesh's ``ingressDns`` (service trafficManager).
        mesh_id: the mesh's ID, part of the resource group's name.
        location: the region of the profile's resource group (``keyVaultLocation``).
        endpoints: each cluster's region and ingress IP, by cluster name.
    """

    name: pulumi.Output[str]

    def __init__(
        self,
        name: str,
        dns: IngressDns,
        mesh_id: str,
        location: str,
        endpoints: Mapping[str, tuple[str, pulumi.Input[str]]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(names.DNS.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        group = azure_native.resources.ResourceGroup(
            names.DNS_GROUP.name(dns=name), resource_group_name=profile_group(mesh_id, pulumi.get_stack()), location=location, opts=child
        )
        profile = azure_native.trafficmanager.Profile(
            names.DNS_PROFILE.name(dns=name),
            resource_group_name=group.name,
            profile_name=dns.name,
            location="global",
            profile_status="Enabled",
            traffic_routing_method=ROUTING[dns.routing],
            dns_config=azure_native.trafficmanager.DnsConfigArgs(relative_name=dns.name, ttl=TTL_SECONDS),
            monitor_config=azure_native.trafficmanager.MonitorConfigArgs(
                protocol="HTTP",
                port=STATUS_PORT,
                path=READY_PATH,
                interval_in_seconds=PROBE_INTERVAL_SECONDS,
                timeout_in_seconds=PROBE_TIMEOUT_SECONDS,
                tolerated_number_of_failures=TOLERATED_FAILURES,
            ),
            endpoints=[
                azure_native.trafficmanager.EndpointArgs(
                    name=cluster,
                    type=EXTERNAL_ENDPOINT,
                    target=address,
                    endpoint_location=region,
                    endpoint_status="Enabled",
                    weight=WEIGHT,
                )
                for cluster, (region, address) in sorted(endpoints.items())
            ],
            opts=child,
        )
        self.name = profile.dns_config.apply(lambda _: dns.fqdn)
        self.register_outputs({"name": self.name})
