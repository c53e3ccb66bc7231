"""One DNS name for the whole mesh (``ingressDns``): Route 53 records (any cloud) or an Azure
Traffic Manager profile (AKS), over every cluster's ingress."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.model import DnsService, MeshSpec, platform_settings
from components.dns.route53 import MeshDns, MeshDnsArgs
from components.dns.traffic_manager import TrafficManagerDns
from components.mesh.gateways import IstioGateways
from components.platforms.azure.config import NAME as AZURE
from components.platforms.azure.config import AzureSettings


def build_mesh_dns(
    mesh: MeshSpec, clusters: Mapping[str, ClusterHandle], gateways: Mapping[str, IstioGateways]
) -> pulumi.Output[str] | None:
    """The mesh's name over every cluster's ingress, once it answers (``None`` without ``ingressDns``)."""
    dns = mesh.ingress_dns
    if dns is None:
        return None
    ingress = {name: g.ingress_address for name, g in gateways.items() if g.ingress_address is not None}
    assert set(ingress) == set(clusters), "the config layer requires ingressGateway with ingressDns: every cluster has an ingress"
    if dns.service is DnsService.TRAFFIC_MANAGER:
        location = platform_settings(mesh, AZURE, AzureSettings).key_vault_location
        assert location is not None, "the config layer requires keyVaultLocation with AKS clusters"
        endpoints: dict[str, tuple[str, pulumi.Input[str]]] = {
            name: (clusters[name].spec.region, address) for name, address in ingress.items()
        }
        return TrafficManagerDns(names.DNS.name(), dns, mesh.mesh_id, location, endpoints).name
    return MeshDns(names.DNS.name(), MeshDnsArgs(dns, clusters, ingress)).name


def build_member_dns(mesh: MeshSpec, cluster: ClusterHandle, gateways: IstioGateways) -> pulumi.Output[str] | None:
    """A fleet member's own record under the mesh's name (``None`` without Route 53 ``ingressDns``
    or an ingress yet): Route 53 keeps each record of a routed name apart by its set identifier, the
    cluster's name, so each member stack owns its record, as one stack names it. A Traffic Manager
    profile is one resource, the mesh stack's (``build_fleet_dns``)."""
    dns = mesh.ingress_dns
    if dns is None or dns.service is not DnsService.ROUTE53 or gateways.ingress_address is None:
        return None
    return MeshDns(names.DNS.name(), MeshDnsArgs(dns, {cluster.spec.name: cluster}, {cluster.spec.name: gateways.ingress_address})).name


def build_fleet_dns(mesh: MeshSpec, endpoints: Mapping[str, tuple[str, pulumi.Input[str]]]) -> pulumi.Output[str] | None:
    """A fleet mesh stack's Traffic Manager profile over the members' ingress addresses it read
    (``endpoints``: region and address, by cluster); ``None`` without a Traffic Manager name."""
    dns = mesh.ingress_dns
    if dns is None or dns.service is not DnsService.TRAFFIC_MANAGER:
        return None
    location = platform_settings(mesh, AZURE, AzureSettings).key_vault_location
    assert location is not None, "the config layer requires keyVaultLocation with AKS clusters"
    return TrafficManagerDns(names.DNS.name(), dns, mesh.mesh_id, location, endpoints).name
