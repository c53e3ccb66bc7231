"""Azure's one-write-at-a-time rule (tests/harness/azure_writes.py) over the shipped stacks: subnets,
AKS clusters, their pools and the peerings of one VNet never run side by side, and nothing in the
mesh waits for the pools beyond the inline System pool."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.configs import OPERATORS, three_clusters
from tests.harness.azure_writes import AGENT_POOL, concurrent_vnet_writes, writers_by_vnet
from tests.harness.makespan import finish_times, makespan
from tests.harness.program import StackRun, run_stack, stack_config

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"


def test_the_rule_sees_every_write_on_a_vnet(aks_run: StackRun) -> None:
    # A rule that found no writers would pass any program.
    assert sorted(writers_by_vnet(aks_run)["azure-westeurope-aks-vnet"]) == [
        "azure-eastus-aks-to-westeurope-aks",
        "azure-westeurope-aks-system-subnet",
        "azure-westeurope-aks-to-eastus-aks",
        "azure-westeurope-aks-user1-subnet",
        "azure-westeurope-aks-user2-subnet",
        "westeurope-aks-aks",
        "westeurope-aks-user1",
        "westeurope-aks-user2",
    ]


@pytest.mark.parametrize(
    ("stack", "overrides"), [("aks", {}), ("aks", {"caDelivery": "keyVault"}), ("multicloud", {"operatorCidrs": OPERATORS})]
)
def test_no_two_writes_on_one_vnet_run_together(stack: str, overrides: dict[str, Any]) -> None:
    assert concurrent_vnet_writes(run_stack(stack, overrides)) == []


def test_no_two_writes_on_one_vnet_run_together_with_three_clusters() -> None:
    run = run_stack("aks", {"clusters": three_clusters()})
    assert len(writers_by_vnet(run)["azure-northeurope-aks-vnet"]) == 3 + 1 + 2 + 4
    assert concurrent_vnet_writes(run) == []


def test_a_new_pool_follows_the_last_one(aks_run: StackRun) -> None:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["nodePools"].append(dict(clusters[0]["nodePools"][2], name="user3", subnetCidr="10.53.3.0/24"))
    after = run_stack("aks", {"clusters": clusters}, state=aks_run.state())
    assert after.named("westeurope-aks-user3").operation == "create"
    assert after.needs("westeurope-aks-user3", "westeurope-aks-user2")
    assert concurrent_vnet_writes(after) == []


def test_pools_go_with_their_cluster_at_destroy(aks_run: StackRun) -> None:
    # AKS deletes a cluster's pools with it; deleting them first, one at a time, only lengthens a destroy.
    cluster = aks_run.named("westeurope-aks-aks").urn
    pools = [p for p in aks_run.of_type(AGENT_POOL) if p.name.startswith("westeurope-aks-")]
    assert [p.deleted_with for p in pools] == [cluster, cluster]


def test_the_mesh_waits_for_the_system_pool_only(aks_run: StackRun) -> None:
    releases = [r.name for r in aks_run.of_type(HELM_RELEASE)]
    assert releases
    for release in releases:
        for pool in aks_run.of_type(AGENT_POOL):
            assert not aks_run.needs(release, pool.name), f"{release} waits for {pool.name}"


JOB = "kubernetes:batch/v1:Job"


@pytest.mark.parametrize("overrides", [{}, {"caDelivery": "keyVault"}])
def test_serialized_pools_do_not_delay_a_verified_mesh(overrides: dict[str, Any]) -> None:
    """The pools, one after the other, lengthen the whole first ``up``; the mesh's probes finish
    at the same time however long the pools take (they are not on its path)."""
    run = run_stack("aks", overrides)
    probes = [r.urn for r in run.of_type(JOB)]
    assert len(probes) == 2
    real = finish_times(run)
    instant_pools = finish_times(run, {AGENT_POOL: 0})
    slow_pools = finish_times(run, {AGENT_POOL: 3600})
    assert [real[p] for p in probes] == [instant_pools[p] for p in probes] == [slow_pools[p] for p in probes]
    assert makespan(run, {AGENT_POOL: 3600}) > makespan(run)


def test_traffic_crosses_clusters_only_once_the_peerings_exist(aks_run: StackRun) -> None:
    # One flat network: pods reach the other cluster's pods only over peering, so the probes wait
    # for the peerings; a public ingress gateway needs none of them and does not wait.
    peerings = [p.name for p in aks_run.of_type("azure-native:network:VirtualNetworkPeering")]
    probes = [r.name for r in aks_run.of_type(JOB)]
    assert len(probes) == 2 and len(peerings) == 2
    assert all(aks_run.needs(probe, peering) for probe in probes for peering in peerings)
    ingress = [r.name for r in aks_run.of_type(HELM_RELEASE) if r.name.endswith("-istio-ingress")]
    assert len(ingress) == 2
    assert not any(aks_run.needs(gateway, peering) for gateway in ingress for peering in peerings)
