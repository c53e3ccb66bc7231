"""AzureNetwork: resource groups, a VNet per AKS cluster with a subnet per node pool, and VNet
peering in both directions for every pair of Azure clusters.

Peering lets the API servers, the east-west gateways (internal load balancers) and, on a flat
network, the pods (Azure CNI gives them VNet IPs) reach each other. Azure takes one write at a time
on a VNet, so its subnets are made one after the other and the peerings (``peer``) once the clusters
and their pools on both VNets are done. When the
clusters span platforms, each cluster also gets a static outbound public IP here, which the other
clouds' clusters admit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations

import pulumi
import pulumi_azure_native as azure_native

from components.config.model import ClusterSpec
from components.platforms.azure import names
from components.platforms.azure.config import azure_part


@dataclass(frozen=True)
class AzureNetworkArgs:
    """Inputs of ``AzureNetwork``.

    Args:
        clusters: the mesh's Azure clusters.
        outbound_ips: give each cluster a static public IP for its outbound traffic, created here so
            that other clouds' clusters can admit it before this cluster exists (default false: AKS
            makes and manages the outbound IP itself).
    """

    clusters: Sequence[ClusterSpec]
    outbound_ips: bool = False


@dataclass(frozen=True)
class ClusterSite:
    """What an AKS cluster is built on: its share of the network, made in this stack
    (``ClusterNetwork.site``) or, in a fleet's member stack, by the mesh stack and read from its
    outputs.

    Args:
        resource_group: the cluster's resource group name.
        subnet_ids: the node pools' subnets, by pool name.
        outbound_ip_ids: the public IPs its load balancer sends outbound traffic from (none: AKS's own).
        made: the subnets, made in this stack: the cluster joins its VNet once they are done
            (default none: in a fleet the mesh stack's update made them before any member runs).
    """

    resource_group: pulumi.Input[str]
    subnet_ids: Mapping[str, pulumi.Input[str]]
    outbound_ip_ids: Sequence[pulumi.Input[str]] = ()
    made: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class ClusterNetwork:
    """One cluster's share of the network.

    Args:
        resource_group: the cluster's resource group name (once it exists).
        vnet: the cluster's VNet.
        subnets: the node pools' subnets, by pool name.
        outbound_ips: the public IPs its load balancer sends outbound traffic from (default none:
            AKS's own).
    """

    resource_group: pulumi.Output[str]
    vnet: azure_native.network.VirtualNetwork
    subnets: dict[str, azure_native.network.Subnet]
    outbound_ips: tuple[azure_native.network.PublicIPAddress, ...] = ()

    def site(self) -> ClusterSite:
        """What the cluster is built on."""
        subnets = {pool: subnet.id for pool, subnet in self.subnets.items()}
        return ClusterSite(self.resource_group, subnets, [ip.id for ip in self.outbound_ips], list(self.subnets.values()))


class AzureNetwork(pulumi.ComponentResource):
    """See the module docstring. Output: ``clusters``, each cluster's ``ClusterNetwork`` by name."""

    clusters: dict[str, ClusterNetwork]

    def __init__(self, name: str, args: AzureNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.NETWORK.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        groups: dict[str, azure_native.resources.ResourceGroup] = {}
        self.clusters = {}
        for cluster in args.clusters:
            azure = azure_part(cluster)
            if azure.resource_group not in groups:
                groups[azure.resource_group] = azure_native.resources.ResourceGroup(
                    names.GROUP.name(network=name, group=azure.resource_group),
                    resource_group_name=azure.resource_group,
                    location=cluster.region,
                    opts=child,
                )
            network = self._cluster_network(name, cluster, groups[azure.resource_group].name, child)
            if args.outbound_ips:
                network = dataclasses.replace(network, outbound_ips=(self._outbound_ip(name, cluster, network.resource_group, child),))
            self.clusters[cluster.name] = network
        self._name, self._child = name, child
        self.register_outputs({"vnets": {c: n.vnet.id for c, n in self.clusters.items()}})

    @staticmethod
    def _cluster_network(name: str, cluster: ClusterSpec, group: pulumi.Output[str], child: pulumi.ResourceOptions) -> ClusterNetwork:
        azure = azure_part(cluster)
        vnet = azure_native.network.VirtualNetwork(
            names.VNET.name(network=name, cluster=cluster.name),
            virtual_network_name=f"{cluster.name}-vnet",
            resource_group_name=group,
            location=cluster.region,
            address_space=azure_native.network.AddressSpaceArgs(address_prefixes=[str(azure.vnet_cidr)]),
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["subnets"])),
        )
        # Azure takes one write at a time on a VNet, a subnet's included: parallel subnet PUTs fail
        # with AnotherOperationInProgress (pulumi/pulumi-azure-native#699, #1024), so one after the other.
        subnets: dict[str, azure_native.network.Subnet] = {}
        for pool in azure.node_pools:
            subnets[pool.name] = azure_native.network.Subnet(
                names.SUBNET.name(network=name, cluster=cluster.name, pool=pool.name),
                subnet_name=f"{pool.name}-subnet",
                resource_group_name=group,
                virtual_network_name=vnet.name,
                address_prefix=str(pool.subnet_cidr),
                opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=list(subnets.values())[-1:])),
            )
        return ClusterNetwork(group, vnet, subnets)

    @staticmethod
    def _outbound_ip(
        name: str, cluster: ClusterSpec, group: pulumi.Output[str], child: pulumi.ResourceOptions
    ) -> azure_native.network.PublicIPAddress:
        """A Standard static IPv4 address (the SKU AKS's Standard load balancer takes), in the cluster's
        resource group, which outlives the cluster on destroy: Azure refuses to delete an address a
        load balancer still uses, and the cluster depends on it. Zone-redundant (zones 1-3) where the
        System pool is zonal, so the region has zones: Azure makes an address without zones
        zone-redundant by default only in some regions, and the egress must survive a zone's loss.
        An address's zones cannot change, and the System pool's zones stay with the cluster, so
        adding zones to another pool never replaces the address the load balancer uses."""
        zonal = bool(azure_part(cluster).system_pool.availability_zones)
        return azure_native.network.PublicIPAddress(
            names.OUTBOUND_IP.name(network=name, cluster=cluster.name),
            public_ip_address_name=f"{cluster.name}-outbound",
            resource_group_name=group,
            location=cluster.region,
            sku=azure_native.network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
            public_ip_allocation_method="Static",
            public_ip_address_version="IPv4",
            zones=["1", "2", "3"] if zonal else None,
            opts=child,
        )

    def peer(self, writers: Mapping[str, Sequence[pulumi.Resource]]) -> list[azure_native.network.VirtualNetworkPeering]:
        """Peer every cluster's VNet with every other's, once ``writers`` (each cluster's resources
        that write its VNet before the peerings: the AKS cluster) are done. A peering PUT puts both
        VNets in ``Updating``, which AKS's VNet ownership step refuses (``VirtualNetworkNotInSucceededState``,
        Azure/AKS#4522), and Azure takes one write at a time on a VNet, so the peerings go one after
        the other, after the clusters, and later writers (the pools) wait for them. Kept under this
        component: their names stay."""
        peerings: list[azure_native.network.VirtualNetworkPeering] = []
        for source, target in permutations(self.clusters, 2):
            local, remote = self.clusters[source], self.clusters[target]
            after = [*writers.get(source, ()), *writers.get(target, ()), *local.subnets.values(), *remote.subnets.values()]
            peerings.append(
                azure_native.network.VirtualNetworkPeering(
                    names.PEERING.name(network=self._name, source=source, target=target),
                    virtual_network_peering_name=names.peering_name(source, target),
                    resource_group_name=local.resource_group,
                    virtual_network_name=local.vnet.name,
                    remote_virtual_network=azure_native.network.SubResourceArgs(id=remote.vnet.id),
                    allow_virtual_network_access=True,
                    allow_forwarded_traffic=True,
                    opts=pulumi.ResourceOptions.merge(self._child, pulumi.ResourceOptions(depends_on=[*after, *peerings[-1:]])),
                )
            )
        return peerings
