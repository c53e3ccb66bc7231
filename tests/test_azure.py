"""Azure: the aks stack end to end under mocks, variants by config override, and the dependency graph."""

from __future__ import annotations

import copy

import pytest
import yaml

from components.platforms.azure.cluster import system_identity
from components.platforms.azure.keyvault import vault_uri
from tests.configs import three_clusters
from tests.expected import cluster_of, gateway_ca_annotations, istiod_values_from_vault
from tests.harness.changes import changes
from tests.harness.program import StackRun, run_stack, stack_config

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CLUSTERS = ("westeurope-aks", "eastus-aks")


def names(run: StackRun, type_: str) -> list[str]:
    return sorted(r.name for r in run.of_type(type_))


def deps(run: StackRun, name: str) -> set[str]:
    return {run.by_urn(u).name for u in run.named(name).dependencies}


def test_network_two_vnets_pool_subnets_and_peering_both_ways(aks_run: StackRun) -> None:
    vnets = {r.inputs["virtualNetworkName"]: r.inputs for r in aks_run.of_type("azure-native:network:VirtualNetwork")}
    assert {n: (v["location"], v["addressSpace"], v["resourceGroupName"]) for n, v in vnets.items()} == {
        "westeurope-aks-vnet": ("westeurope", {"addressPrefixes": ["10.53.0.0/16"]}, "istio-aks-westeurope"),
        "eastus-aks-vnet": ("eastus", {"addressPrefixes": ["10.52.0.0/16"]}, "istio-aks-eastus"),
    }
    subnets = sorted(
        (r.inputs["virtualNetworkName"], r.inputs["subnetName"], r.inputs["addressPrefix"])
        for r in aks_run.of_type("azure-native:network:Subnet")
    )
    assert subnets == sorted(
        [
            (f"{c}-vnet", f"{p}-subnet", f"10.{o}.{i}.0/24")
            for c, o in (("westeurope-aks", 53), ("eastus-aks", 52))
            for i, p in enumerate(("system", "user1", "user2"))
        ]
    )
    peerings = {r.name: r.inputs for r in aks_run.of_type("azure-native:network:VirtualNetworkPeering")}
    assert sorted(peerings) == ["azure-eastus-aks-to-westeurope-aks", "azure-westeurope-aks-to-eastus-aks"]
    there = peerings["azure-westeurope-aks-to-eastus-aks"]
    assert there["virtualNetworkName"] == "westeurope-aks-vnet"
    assert there["remoteVirtualNetwork"]["id"].endswith("/virtualNetworks/eastus-aks-vnet")
    assert (there["allowForwardedTraffic"], there["allowVirtualNetworkAccess"]) == (True, True)
    groups = {r.inputs["resourceGroupName"]: r.inputs["location"] for r in aks_run.of_type("azure-native:resources:ResourceGroup")}
    # The vault's group: its own, in keyVaultLocation (eastus in Pulumi.aks.yaml), whichever clusters there are.
    assert groups == {"istio-aks-westeurope": "westeurope", "istio-aks-eastus": "eastus", "istio-mesh-vault-aks": "eastus"}


def test_each_vnet_leaves_its_subnets_to_the_subnet_resources(aks_run: StackRun) -> None:
    """The pool subnets are Subnet resources of their own, so the VNet must never send a subnet list:
    a VNet PUT that lists subnets replaces the VNet's subnets with that list (the SDK's own warning
    on ``subnets``: inline and standalone subnets "conflict with each other, leading to resources
    deletion"; pulumi-azure-native#611). azure-native and ARM (API 2023-09-01 on) leave subnets alone
    only while ``subnets`` is absent from the PUT; ``ignoreChanges`` keeps it absent whatever the
    VNet's inputs in state come to hold (after an import or a refresh), not only what the program
    passes today."""
    vnets = aks_run.of_type("azure-native:network:VirtualNetwork")
    assert vnets and all(v.ignore_changes == ["subnets"] and "subnets" not in v.inputs for v in vnets)
    for vnet in vnets:
        own = [s for s in aks_run.of_type("azure-native:network:Subnet") if s.inputs["virtualNetworkName"] == vnet.outputs["name"]]
        assert len(own) == 3 and all(aks_run.needs(s.name, vnet.name) for s in own)


def test_aks_cluster_profile(aks_run: StackRun) -> None:
    aks = aks_run.named("westeurope-aks-aks").inputs
    assert (aks["resourceName"], aks["location"], aks["resourceGroupName"], aks["dnsPrefix"]) == (
        "westeurope-aks",
        "westeurope",
        "istio-aks-westeurope",
        "westeurope-aks",
    )
    zones = ["1", "2", "3"]
    # Only the system pool is created with the cluster; AKS adds the others one by one.
    (system,) = aks["agentPoolProfiles"]
    assert (system["name"], system["mode"], system["count"], system["minCount"], system["maxCount"], system["availabilityZones"]) == (
        "system", "System", 2, 2, 3, zones,
    )  # fmt: skip
    pools = {
        r.inputs["agentPoolName"]: r.inputs
        for r in aks_run.of_type("azure-native:containerservice:AgentPool")
        if r.name.startswith("westeurope")
    }
    assert {
        n: (p["mode"], p["vmSize"], p["count"], p["minCount"], p["maxCount"], p["enableAutoScaling"], p["availabilityZones"])
        for n, p in pools.items()
    } == {
        "user1": ("User", "Standard_D4s_v5", 2, 1, 5, True, zones),
        "user2": ("User", "Standard_D4s_v5", 2, 1, 5, True, zones),
    }
    assert all(p["resourceName"] == "westeurope-aks" and p["resourceGroupName"] == "istio-aks-westeurope" for p in pools.values())
    subnet_ids = [system["vnetSubnetID"], *(p["vnetSubnetID"] for p in pools.values())]
    assert len(set(subnet_ids)) == 3 and all("/virtualNetworks/westeurope-aks-vnet/subnets/" in s for s in subnet_ids)
    # Flat Azure CNI: no pod range (the SDK's typed arguments would have sent 10.244.0.0/16).
    assert aks["networkProfile"] == {
        "networkPlugin": "azure",
        "networkPolicy": "calico",
        "serviceCidr": "10.153.0.0/16",
        "dnsServiceIP": "10.153.0.10",
        "loadBalancerSku": "standard",
        "outboundType": "loadBalancer",
        # AKS's own default, stated so that leaving a mesh across platforms lets go of the program's IP.
        "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}},
    }
    assert aks["identity"] == {"type": "SystemAssigned"}
    assert aks["oidcIssuerProfile"] == {"enabled": True}
    assert aks["securityProfile"] == {"workloadIdentity": {"enabled": True}}
    # The stack delivers the CA from Key Vault: the Secrets Store CSI driver's add-on mounts it.
    assert aks["addonProfiles"] == {
        "azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"}}
    }
    assert "aadProfile" not in aks and "disableLocalAccounts" not in aks
    assert aks["sku"] == {"name": "Base", "tier": "Standard"}
    assert aks["apiServerAccessProfile"] == {"authorizedIPRanges": []}  # anyone (AKS's default), stated


def test_cluster_identity_gets_network_contributor_on_its_own_subnets_only(aks_run: StackRun) -> None:
    grants = [
        r
        for r in aks_run.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith(NETWORK_CONTRIBUTOR)
    ]
    assert len(grants) == 6
    cluster = aks_run.named("eastus-aks-aks")
    for grant in (g for g in grants if g.name.startswith("eastus-aks-")):
        assert "/virtualNetworks/eastus-aks-vnet/subnets/" in grant.inputs["scope"]
        assert grant.inputs["principalId"] == cluster.outputs["identity"]["principalId"]
        assert grant.inputs["principalType"] == "ServicePrincipal"


def test_provider_kubeconfig_comes_from_admin_credentials_and_is_keyed_on_the_cluster(aks_run: StackRun) -> None:
    provider = aks_run.named("westeurope-aks-provider")
    cluster = aks_run.named("westeurope-aks-aks")
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{cluster.outputs['fqdn']}:443"
    assert "exec" not in kubeconfig["users"][0]["user"]  # no kubelogin or az needed
    assert provider.inputs["clusterIdentifier"] == cluster.id
    assert "kubeconfig" in provider.secret_inputs
    # The admin client certificate stays out of the outputs, which stack references read.
    assert aks_run.outputs["aks"] == {
        name: {"fqdn": aks_run.named(f"{name}-aks").outputs["fqdn"], "resourceGroup": f"istio-aks-{name.split('-')[0]}"}
        for name in ("westeurope-aks", "eastus-aks")
    }
    assert "aks" not in aks_run.secret_outputs


def test_the_admin_kubeconfig_is_exported_as_a_secret_only_when_asked() -> None:
    run = run_stack("aks", {"aksAdminKubeconfigOutput": True})
    for name in ("westeurope-aks", "eastus-aks"):
        assert run.outputs["aks"][name]["kubeconfig"] == run.named(f"{name}-provider").inputs["kubeconfig"]
    assert "aks" in run.secret_outputs


def test_every_kubernetes_object_uses_its_own_clusters_provider(aks_run: StackRun) -> None:
    kube = [r for r in aks_run.resources if r.type.startswith("kubernetes:")]
    assert kube
    for resource in kube:
        owner = cluster_of(resource.name, CLUSTERS)
        assert resource.provider_urn == aks_run.named(f"{owner}-provider").urn, resource.name


def test_remote_secrets_dial_the_aks_fqdn(aks_run: StackRun) -> None:
    kubeconfig = yaml.safe_load(aks_run.named("mesh-link-eastus-aks-in-westeurope-aks").inputs["stringData"]["eastus-aks"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{aks_run.named('eastus-aks-aks').outputs['fqdn']}:443"


def test_key_vault_holds_the_ca_copies_but_never_the_root_key(aks_run: StackRun) -> None:
    vault = aks_run.named("mesh-vault-vault").inputs
    assert vault["vaultName"] == aks_run.outputs["keyVault"]["name"]
    assert vault["vaultName"].startswith("istiomesh-") and 3 <= len(vault["vaultName"]) <= 24 and vault["vaultName"][0].isalpha()
    assert vault["properties"]["enableRbacAuthorization"] is True and vault["properties"]["enableSoftDelete"] is True
    assert "enablePurgeProtection" not in vault["properties"]
    assert vault["properties"]["softDeleteRetentionInDays"] == 7
    assert (vault["resourceGroupName"], vault["location"]) == ("istio-mesh-vault-aks", "eastus")
    secrets = {r.inputs["secretName"]: r for r in aks_run.of_type("azure-native:keyvault:Secret")}
    assert sorted(secrets) == sorted(["mesh-root-cert"] + [f"{c}-{k}" for c in CLUSTERS for k in ("ca-cert", "ca-key", "cert-chain")])
    assert secrets["mesh-root-cert"].inputs["properties"]["value"] == aks_run.outputs["rootCertPem"]
    assert secrets["eastus-aks-ca-key"].inputs["properties"]["value"] == aks_run.named("mesh-ca-eastus-aks-key").outputs["privateKeyPem"]
    for secret in secrets.values():
        assert "properties.value" in secret.secret_inputs or "properties" in secret.secret_inputs
    root_key = aks_run.named("mesh-ca-root-key").outputs["privateKeyPem"]
    assert all(s.inputs["properties"]["value"] != root_key for s in secrets.values())


def test_with_the_ca_in_a_secret_no_identity_may_read_the_vaults_copies() -> None:
    in_secret = run_stack("aks", {"caDelivery": "secret"})
    grants = [
        r
        for r in in_secret.of_type("azure-native:authorization:RoleAssignment")
        if r.inputs["roleDefinitionId"].endswith(KEY_VAULT_SECRETS_USER)
    ]
    assert grants == []
    assert "addonProfiles" not in in_secret.named("westeurope-aks-aks").inputs  # no secrets provider either


def test_flat_azure_mesh_has_no_east_west_gateway(aks_run: StackRun) -> None:
    assert not [r for r in aks_run.resources if "eastwest" in r.name]
    assert aks_run.outputs["eastWestGateways"] == {}


def test_clusters_do_not_wait_for_each_other_and_peerings_wait_for_both_clusters(aks_run: StackRun) -> None:
    west = deps(aks_run, "westeurope-aks-aks")
    assert not {d for d in west if "eastus" in d}
    assert {f"azure-westeurope-aks-{pool}-subnet" for pool in ("system", "user1", "user2")} <= west
    for pool in ("user1", "user2"):
        assert f"azure-westeurope-aks-{pool}-subnet" in deps(aks_run, f"westeurope-aks-{pool}")
    # A peering puts both VNets in Updating, which AKS's VNet ownership step refuses: after both
    # clusters, and the pools after the peerings.
    assert {"westeurope-aks-aks", "eastus-aks-aks"} <= deps(aks_run, "azure-westeurope-aks-to-eastus-aks")
    assert "azure-westeurope-aks-to-eastus-aks" in deps(aks_run, "azure-eastus-aks-to-westeurope-aks")
    for cluster in ("westeurope-aks", "eastus-aks"):
        assert "azure-eastus-aks-to-westeurope-aks" in deps(aks_run, f"{cluster}-user1")
        assert f"{cluster}-user1" in deps(aks_run, f"{cluster}-user2")
    for peering in names(aks_run, "azure-native:network:VirtualNetworkPeering"):
        assert not {d for d in deps(aks_run, peering) if "provider" in d}


def test_ca_waits_for_nothing_azure(aks_run: StackRun) -> None:
    for resource in aks_run.resources:
        if resource.name.startswith("mesh-ca"):
            assert not [u for u in resource.dependencies if aks_run.by_urn(u).type.startswith("azure-native:")]


def test_three_azure_clusters_peer_six_ways() -> None:
    run = run_stack("aks", {"clusters": three_clusters()})
    assert len(run.of_type("azure-native:network:VirtualNetworkPeering")) == 6
    assert len(run.of_type("azure-native:containerservice:ManagedCluster")) == 3
    assert sum(1 for r in run.of_type("kubernetes:core/v1:Secret") if "-in-" in r.name) == 6


def test_multi_network_overlay_gets_internal_east_west_gateways() -> None:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0].update(networkPlugin="overlay")
    clusters[1].update(networkPlugin="overlay", network="network2", podCidr="10.245.0.0/16")
    run = run_stack("aks", {"clusters": clusters})
    profile = run.named("eastus-aks-aks").inputs["networkProfile"]
    assert (profile["networkPluginMode"], profile["podCidr"]) == ("overlay", "10.245.0.0/16")
    for cluster in CLUSTERS:
        values = run.named(f"{cluster}-istio-eastwest").inputs["values"]
        assert values["service"] == {"annotations": {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}}
    assert sorted(run.outputs["eastWestGateways"]) == sorted(CLUSTERS)


def test_authorized_ranges_tier_and_policy_reach_the_cluster() -> None:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0].update(skuTier="Premium", authorizedIpRanges=["203.0.113.0/24"], networkPolicy="cilium")
    run = run_stack("aks", {"clusters": clusters, "keyVaultPurgeProtection": True})
    aks = run.named("westeurope-aks-aks").inputs
    assert aks["sku"] == {"name": "Base", "tier": "Premium"}
    assert (aks["networkProfile"]["networkPolicy"], aks["networkProfile"]["networkDataplane"]) == ("cilium", "cilium")
    assert run.named("mesh-vault-vault").inputs["properties"]["enablePurgeProtection"] is True


def test_a_restricted_api_server_admits_every_aks_clusters_outbound_ip_which_the_program_owns() -> None:
    """The other clusters' istiods reach the public endpoint through their load balancers' outbound
    IPs, which AKS would choose only once the clusters exist: restricting one API server gives every
    AKS cluster a static outbound IP of the program's, and the restricted list admits them all."""
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["authorizedIpRanges"] = ["203.0.113.0/24"]
    run = run_stack("aks", {"clusters": clusters})
    ips = {r.name: f"{r.outputs['ipAddress']}/32" for r in run.of_type("azure-native:network:PublicIPAddress")}
    assert sorted(ips) == ["azure-eastus-aks-outbound-ip", "azure-westeurope-aks-outbound-ip"]
    restricted = run.named("westeurope-aks-aks").inputs
    assert restricted["apiServerAccessProfile"] == {
        "authorizedIPRanges": sorted([*ips.values(), "203.0.113.0/24"], key=lambda c: tuple(int(o) for o in c.split("/")[0].split(".")))
    }
    assert run.named("eastus-aks-aks").inputs["apiServerAccessProfile"] == {"authorizedIPRanges": []}
    for cluster in ("westeurope-aks", "eastus-aks"):
        profile = run.named(f"{cluster}-aks").inputs["networkProfile"]["loadBalancerProfile"]
        assert profile == {"outboundIPs": {"publicIPs": [{"id": run.named(f"azure-{cluster}-outbound-ip").id}]}}


def test_a_second_up_changes_nothing(aks_run: StackRun) -> None:
    again = run_stack("aks", state=aks_run.state())
    assert {r.operation for r in again.resources if r.operation != "read"} == {"same"}


def test_aks_stack_runs_revisioned_istio_with_ingress_and_the_mesh_check(aks_run: StackRun) -> None:
    istiod = aks_run.named("westeurope-aks-istio-istiod-1-30-3").inputs
    # The shipped stack's CA comes from Key Vault, mounted by the CSI driver with istiod's identity.
    assert istiod["values"] == istiod_values_from_vault(aks_run, "westeurope-aks")
    ingress = aks_run.named("eastus-aks-istio-ingress").inputs
    # Public: no internal-LB annotation.
    annotations = {"istio-multicluster/revision": "1-30-3", **gateway_ca_annotations(aks_run, "eastus-aks")}
    assert ingress["values"] == {"name": "istio-ingressgateway", "podAnnotations": annotations}
    assert aks_run.named("eastus-aks-istio-istio-ingress").inputs["metadata"]["labels"] == {"istio-injection": "enabled"}
    jobs = sorted(r.name for r in aks_run.of_type("kubernetes:batch/v1:Job"))
    assert jobs == ["mesh-check-eastus-aks-probe", "mesh-check-westeurope-aks-probe"]


def test_the_autoscaler_owns_autoscaled_pools_node_counts() -> None:
    """A refresh reads the autoscaler's count; sending the configured (initial) one back would resize
    the pool, so autoscaled counts are ignored after creation and fixed-size ones are not."""
    clusters = stack_config("aks")["clusters"]
    pools = clusters[1]["nodePools"]
    fixed = [*pools[:2], {**pools[2], "minCount": 2, "maxCount": 2}]
    run = run_stack("aks", {"clusters": [clusters[0], {**clusters[1], "nodePools": fixed}]})
    for cluster in ("westeurope-aks", "eastus-aks"):
        assert run.named(f"{cluster}-aks").ignore_changes == ["agentPoolProfiles[0].count"]
        assert run.named(f"{cluster}-user1").ignore_changes == ["count"]
    assert run.named("westeurope-aks-user2").ignore_changes == ["count"]
    assert run.named("eastus-aks-user2").ignore_changes == []
    before = run
    counted = [{**pool, "count": 3} for pool in fixed[:2]] + [{**fixed[2], "count": 3, "minCount": 3, "maxCount": 3}]
    after = run_stack("aks", {"clusters": [clusters[0], {**clusters[1], "nodePools": counted}]}, state=before.state())
    assert changes(before, after).touched == {"eastus-aks-user2"}


def test_an_aks_cluster_without_its_identity_or_a_vault_without_its_uri_fails_saying_so() -> None:
    """Passing "" on would assign roles to no one, or mount a CA from nowhere, and fail far away."""
    with pytest.raises(ValueError, match="AKS cluster westeurope-aks reports no system-assigned identity"):
        system_identity("westeurope-aks", None)
    with pytest.raises(ValueError, match="Key Vault returned no vaultUri"):
        vault_uri(None)
