"""Azure's one-write-at-a-time rule, which the mocks do not enforce.

Azure takes one write at a time on a virtual network and on an AKS cluster, and azure-native
retries neither refusal:
- subnet PUTs on one VNet in parallel fail with ``AnotherOperationInProgress``
  (pulumi/pulumi-azure-native#699, #1024);
- AKS runs one agent pool operation at a time ("OperationNotAllowed: Another agentpool operation
  is in progress") and takes ownership of the VNet of every pool's subnet, which fails while the
  VNet is ``Updating`` (Azure/AKS#4522; ``VirtualNetworkNotInSucceededState``);
- a peering PUT puts its VNet and the remote VNet in ``Updating``.

So every two resources that write one VNet must be ordered by the dependency graph: one needs the
other (then ``pulumi up`` creates them, and ``pulumi destroy`` deletes them, one after the other).
"""

from __future__ import annotations

from collections import defaultdict
from itertools import combinations

from tests.harness.monitor import Registered
from tests.harness.program import StackRun

VNET = "azure-native:network:VirtualNetwork"
SUBNET = "azure-native:network:Subnet"
MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
PEERING = "azure-native:network:VirtualNetworkPeering"
WRITERS = (SUBNET, MANAGED_CLUSTER, AGENT_POOL, PEERING)


def _vnets_behind(run: StackRun, resource: Registered) -> set[str]:
    """The VNets ``resource`` writes: the ones it names directly, and those of the subnets it uses."""
    found: set[str] = set()
    for urn in resource.dependencies:
        dependency = run.by_urn(urn)
        if dependency.type == VNET:
            found.add(dependency.name)
        elif dependency.type == SUBNET and resource.type != SUBNET:
            found |= {run.by_urn(u).name for u in dependency.dependencies if run.by_urn(u).type == VNET}
    return found


def writers_by_vnet(run: StackRun) -> dict[str, list[str]]:
    """For each VNet, the names of the resources that write it."""
    writers: dict[str, list[str]] = defaultdict(list)
    for resource in run.resources:
        if resource.type in WRITERS:
            for vnet in _vnets_behind(run, resource):
                writers[vnet].append(resource.name)
    return dict(writers)


def concurrent_vnet_writes(run: StackRun) -> list[str]:
    """Every pair of writes on one VNet that the engine may run at the same time."""
    return [
        f"{vnet}: {first} and {second}"
        for vnet, names in sorted(writers_by_vnet(run).items())
        for first, second in combinations(sorted(names), 2)
        if not (run.needs(first, second) or run.needs(second, first))
    ]
