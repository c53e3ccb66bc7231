"""AKS clusters in fleet mode: the mesh stack holds the resource groups, VNets (and their peerings),
the vault with the CA copies and the registry; each member stack its AKS cluster, its pools, its
pull grant and istiod's access to its CA secrets. Together they make what one stack makes of the
same config, modulo the stacks' names (the vault's resource group is named after the stack)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.fleet.azure import AZURE_OUTPUT, member_keys
from components.fleet.contract import FleetMember, member_stack
from fleet.driver import Driver, Outcome, Step
from tests.configs import parse
from tests.harness.fleet_program import ProgramFleet
from tests.harness.program import run_program, stack_config
from tests.test_fleet_eks import MESH, assert_a_preview_and_a_second_up_change_nothing, made, member, settled, without_stack_names
from tests.test_names import variants

AKS = stack_config("aks")
# Entra ID, a restricted API server, admins, a registry and istiod reading its CA from the vault.
AKS_KEYVAULT = dict(variants())["aks-keyvault"]
CLUSTERS = ("westeurope-aks", "eastus-aks")
PEERING = "azure-native:network:VirtualNetworkPeering"


@pytest.mark.parametrize("config", [AKS, AKS_KEYVAULT], ids=["aks", "keyvault-registry-entra"])
def test_an_aks_fleet_makes_what_one_stack_makes(config: dict[str, Any]) -> None:
    fleet, _ = settled(config)
    single, together = made([run_program(copy.deepcopy(config))]), made(list(fleet.runs.values()))
    assert sorted(together) == sorted(single)
    for key, resource in single.items():
        assert without_stack_names(together[key].inputs) == without_stack_names(resource.inputs), key


@pytest.fixture(scope="module")
def keyvault_fleet() -> ProgramFleet:
    return settled(AKS_KEYVAULT)[0]


def test_the_mesh_stack_holds_the_vnets_peerings_vault_and_registry_and_no_cluster(keyvault_fleet: ProgramFleet) -> None:
    mesh = keyvault_fleet.runs[MESH]
    types = {r.type for r in mesh.resources if r.operation != "read"}
    assert {
        "azure-native:network:VirtualNetwork",
        PEERING,
        "azure-native:keyvault:Vault",
        "azure-native:containerregistry:Registry",
    } <= types
    assert not [t for t in types if t.startswith(("azure-native:containerservice:", "kubernetes:"))]
    # The peerings wait for no cluster here (none is in this stack): each after the subnets of both
    # VNets and the previous peering, one write at a time.
    for peering in mesh.of_type(PEERING):
        assert not [d for d in peering.dependencies if "ManagedCluster" in d]
    subnets = {r.name: r.outputs["id"] for r in mesh.of_type("azure-native:network:Subnet")}
    for cluster in CLUSTERS:
        built_on = mesh.outputs[AZURE_OUTPUT][cluster]
        assert built_on["subnetIds"] == {pool: subnets[f"azure-{cluster}-{pool}-subnet"] for pool in ("system", "user1", "user2")}
        assert sorted(built_on) == sorted(member_keys(parse(AKS_KEYVAULT), parse(AKS_KEYVAULT).cluster(cluster)))
        assert sorted(built_on) == ["meshEgress", "outboundIpIds", "registryId", "resourceGroup", "subnetIds", "vault"]


def test_each_member_builds_its_cluster_with_its_grants_and_istiods_vault_access(keyvault_fleet: ProgramFleet) -> None:
    mesh = keyvault_fleet.runs[MESH]
    registry = mesh.named("mesh-registry-acr").outputs["id"]
    for cluster in CLUSTERS:
        run = member(keyvault_fleet, cluster)
        aks = run.named(f"{cluster}-aks")
        assert aks.inputs["agentPoolProfiles"][0]["vnetSubnetID"] == mesh.outputs[AZURE_OUTPUT][cluster]["subnetIds"]["system"]
        assert not run.of_type("azure-native:network:VirtualNetwork") and not run.of_type("azure-native:keyvault:Vault")
        pull = run.named(f"mesh-registry-{cluster}-acr-pull")
        assert pull.inputs["scope"] == registry
        # istiod reads its own cluster's four files from the mesh's vault, in the files' order.
        secrets = mesh.outputs[AZURE_OUTPUT][cluster]["vault"]["secrets"]
        reads = {r.inputs["scope"] for r in run.of_type("azure-native:authorization:RoleAssignment") if "-vault-reads-" in r.name}
        assert reads == {ref["id"] for ref in secrets.values()}
        files = run.named(f"{cluster}-istio-ca-files").inputs["spec"]["parameters"]
        assert files["keyvaultName"] == mesh.outputs["keyVault"]["name"] == mesh.outputs[AZURE_OUTPUT][cluster]["vault"]["name"]


def test_a_member_before_its_mesh_made_the_network_stops_before_any_resource() -> None:
    fleet = ProgramFleet(copy.deepcopy(AKS), MESH)
    fleet.run(MESH, None).outputs.pop(AZURE_OUTPUT)
    with pytest.raises(Exception, match=r"the mesh stack's network for westeurope-aks .* it exports no fleetAzure for it"):
        fleet.run(member_stack(MESH, "westeurope-aks"), FleetMember(MESH, "westeurope-aks"))


TRAFFIC_MANAGER = {**AKS, "ingressDns": {"service": "trafficManager", "name": "istio-mesh-prod"}}


def test_a_traffic_manager_name_is_the_mesh_stacks_profile_over_the_members_ingress() -> None:
    """One profile holds every cluster's endpoint inline: the mesh stack's, pointed at the ingress
    addresses the members export; the driver runs the mesh stack again once they differ from what
    the profile holds, and not when they do not."""
    fleet, results = settled(TRAFFIC_MANAGER)
    assert [(r.stack.rsplit("-", 1)[1], r.step) for r in results][-1] == ("fleet", Step.DNS)
    mesh = fleet.runs[MESH]
    addresses = {c: member(fleet, c).outputs["fleetIngressAddress"] for c in CLUSTERS}
    assert mesh.outputs["fleetDnsEndpoints"] == addresses
    endpoints = {e["name"]: e["target"] for e in mesh.named("ingress-dns-profile").inputs["endpoints"]}
    assert endpoints == addresses and mesh.outputs["ingressDns"] == "istio-mesh-prod.trafficmanager.net"
    single, together = made([run_program(copy.deepcopy(TRAFFIC_MANAGER))]), made(list(fleet.runs.values()))
    assert sorted(together) == sorted(single)
    for key, resource in single.items():
        assert without_stack_names(together[key].inputs) == without_stack_names(resource.inputs), key
    assert Step.DNS not in [r.step for r in Driver(fleet, MESH, parallel=1).up()]


@pytest.mark.parametrize("key", ["vault", "registryId", "meshEgress"])
def test_a_member_whose_entry_lacks_what_its_config_needs_stops_before_any_resource(key: str) -> None:
    """Never a silent default: without its CA secrets istiod would fall back to a cacerts Secret."""
    fleet = ProgramFleet(copy.deepcopy(AKS_KEYVAULT), MESH)
    fleet.run(MESH, None).outputs[AZURE_OUTPUT]["westeurope-aks"].pop(key)
    with pytest.raises(Exception, match=rf"the mesh stack's network for westeurope-aks .* its fleetAzure lacks {key}"):
        fleet.run(member_stack(MESH, "westeurope-aks"), FleetMember(MESH, "westeurope-aks"))


@pytest.mark.parametrize("config", [AKS_KEYVAULT, TRAFFIC_MANAGER], ids=["keyvault-registry-entra", "traffic-manager"])
def test_a_preview_and_a_second_up_of_a_settled_cloud_fleet_change_nothing(config: dict[str, Any]) -> None:
    """Every stack re-reads what the others exported (ids, addresses, digests) and must make the
    same inputs of them: a value that moved on the round trip (a float, a key order) would update
    or replace a cluster on every run."""
    assert_a_preview_and_a_second_up_change_nothing(settled(config)[0])


def test_a_preview_says_the_traffic_manager_update_that_up_makes_after_a_new_member() -> None:
    """The profile takes a new member's ingress address in the dns step, after up made the member:
    a preview cannot show it, and says so instead of leaving it out."""
    fleet, _ = settled(TRAFFIC_MANAGER)
    del fleet.runs[member_stack(MESH, "eastus-aks")]  # as before the member's first up
    previewed = Driver(fleet, MESH, parallel=1).preview()
    assert [(r.stack, r.step, r.outcome) for r in previewed[-2:]] == [
        (member_stack(MESH, "eastus-aks"), Step.MEMBERS, Outcome.SKIPPED),
        (MESH, Step.DNS, Outcome.SKIPPED),
    ]
    assert previewed[-1].message == (
        "not previewed: up then points the Traffic Manager profile at the ingress of eastus-aks, which its members make"
    )


def test_the_mesh_stacks_network_cannot_be_destroyed_while_a_member_cluster_uses_it() -> None:
    """Azure refuses to delete a subnet an AKS pool sits in (InUseSubnetCannotBeDeleted): the fleet
    harness refuses the mesh stack's destroy while a member stands, whatever the driver's order,
    finding the subnet inside the member cluster's pool profiles and without regard to case."""
    fleet, _ = settled(AKS)
    cluster = member(fleet, "westeurope-aks").of_type("azure-native:containerservice:ManagedCluster")[0]
    (pool,) = cluster.inputs["agentPoolProfiles"]
    pool["vnetSubnetID"] = pool["vnetSubnetID"].upper()
    with pytest.raises(RuntimeError, match=r"^error: deleting azure-native:network:Subnet /subscriptions/.*: InUseSubnetCannotBeDeleted: "):
        fleet.destroy(MESH, lambda line: None)
    results = Driver(fleet, MESH, parallel=1).destroy()
    assert [r.outcome for r in results] == [Outcome.SUCCEEDED] * 3 and results[-1].stack == MESH
