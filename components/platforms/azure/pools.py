"""AksNodePools: an AKS cluster's pools beyond its inline System pool, one at a time, after the peerings.

AKS refuses a pool operation while another runs on the cluster ("OperationNotAllowed: Another
agentpool operation is in progress") and takes ownership of the pool subnet's VNet, which fails
while the VNet is Updating (Azure/AKS#4522, VirtualNetworkNotInSucceededState); azure-native
retries neither. So the pools come after every other write on the cluster's VNet (the peerings,
which need both clusters) and after each other. Deleted with the cluster: a destroy deletes the
cluster without deleting its pools one by one first; a pool removed from the config is deleted
alone. Nothing in the mesh waits for them (the inline System pool runs it).

A component of its own, made once the peerings exist, so that ``AksCluster`` finishes in its
constructor. The pools were its children before and keep their names, aliasing it: stacks made
then move them here without a replacement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native

from components.platforms.azure import names
from components.platforms.azure.cluster import AksCluster, autoscaled_count, pool_settings
from components.platforms.azure.config import AzureNodePool
from components.platforms.azure.network import ClusterSite


@dataclass(frozen=True, kw_only=True)
class AksNodePoolsArgs:
    """Inputs of ``AksNodePools``.

    Args:
        cluster: the cluster the pools join (their former parent, aliased).
        pools: the pools beyond the System pool, in config order.
        network: the cluster's resource group and a subnet per pool.
        after: the other writes on the cluster's VNet, which must be done first (the peerings).
    """

    cluster: AksCluster
    pools: Sequence[AzureNodePool]
    network: ClusterSite
    after: Sequence[pulumi.Resource]


class AksNodePools(pulumi.ComponentResource):
    """See the module docstring. Output ``pools``: the AgentPools, in config order."""

    pools: list[azure_native.containerservice.AgentPool]

    def __init__(self, name: str, args: AksNodePoolsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.POOLS.type, name, None, opts)
        cluster, network = args.cluster.managed_cluster, args.network
        aks = names.AKS.name(cluster=args.cluster.handle.name)  # the cluster component's name, the pools' prefix
        child = pulumi.ResourceOptions(parent=self, aliases=[pulumi.Alias(parent=args.cluster)])
        self.pools = []
        for pool in args.pools:
            self.pools.append(
                azure_native.containerservice.AgentPool(
                    names.AGENT_POOL.name(aks=aks, pool=pool.name),
                    agent_pool_name=pool.name,
                    resource_name_=cluster.name,
                    resource_group_name=network.resource_group,
                    **pool_settings(pool, network.subnet_ids[pool.name]),
                    opts=pulumi.ResourceOptions.merge(
                        child,
                        pulumi.ResourceOptions(
                            ignore_changes=autoscaled_count(pool),
                            depends_on=[*args.after, *self.pools[-1:]],
                            deleted_with=cluster,
                        ),
                    ),
                )
            )
        self.register_outputs({})
