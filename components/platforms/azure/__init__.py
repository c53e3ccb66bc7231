"""Azure: resource groups, peered VNets, AKS clusters and Key Vault copies of the mesh CA."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure_native

from components.config.model import ClusterSpec, MeshSpec, Role, platform_settings
from components.istio.facts import istiod_service
from components.mesh.ca import MeshCA
from components.platforms.azure import names
from components.platforms.azure.ca_delivery import IstiodVaultAccess, IstiodVaultAccessArgs
from components.platforms.azure.cluster import AksCluster, AksClusterArgs
from components.platforms.azure.config import NAME, AzureConfig, AzureSettings, CaDelivery, azure_part
from components.platforms.azure.keyvault import MeshKeyVault, MeshKeyVaultArgs
from components.platforms.azure.network import AzureNetwork, AzureNetworkArgs
from components.platforms.azure.pools import AksNodePools, AksNodePoolsArgs
from components.platforms.azure.registry import MeshRegistry, MeshRegistryArgs
from components.platforms.exposure import Exposure, host_cidrs, with_peers
from components.platforms.platform import PlatformBuild


def outbound_address(ip: azure_native.network.PublicIPAddress) -> pulumi.Output[str]:
    """The address of a static public IP, which Azure assigns when it creates the resource."""

    def known(address: str | None) -> str:
        if not address:
            raise ValueError("Azure created a static public IP without an address; run pulumi refresh, then pulumi up")
        return address

    return ip.ip_address.apply(known)


def admins_beside_deployer(admins: Sequence[str]) -> tuple[str, ...]:
    """``azureAdminObjectIds`` but the identity running Pulumi, which has grants of its own: Azure
    refuses a second assignment of one role to one principal on one scope (RoleAssignmentExists).
    Dropped with a warning; the client config is read only when admins are listed."""
    if not admins:
        return ()
    deployer = azure_native.authorization.get_client_config().object_id.lower()
    if deployer in admins:
        pulumi.log.warn(
            f"azureAdminObjectIds lists {deployer}, the identity running Pulumi, which the program grants the same "
            "roles already; a second assignment would fail, so it is left out"
        )
    return tuple(a for a in admins if a != deployer)


def vault_callers(
    clusters: Sequence[ClusterSpec], operators: Sequence[str] | None, readers: Mapping[str, pulumi.Output[list[str]]]
) -> pulumi.Output[list[str]] | None:
    """Every address that reaches the vault's data plane, where the stack knows them all; None
    where it does not. The deployer deletes secrets there (ARM has no delete for them, so
    azure-native calls the vault): ``operatorCidrs`` across platforms, else the operators' ``authorizedIpRanges``. With
    ``caDelivery: keyVault`` each reading cluster's CSI driver calls from its outbound IPs
    (``readers``), which the program owns whenever operator ranges are known. ARM's own calls
    (creating the vault and its secrets) pass any vault firewall: it guards the data plane only.
    ``operators``: across platforms, ``operatorCidrs`` (default: on one platform, None)."""
    if operators is None:
        operators = [str(r) for c in clusters for r in azure_part(c).authorized_ip_ranges]
    if not operators:
        return None
    addresses = pulumi.Output.all(*readers.values()).apply(lambda lists: [c for cidrs in lists for c in cidrs])
    return with_peers(operators, addresses)


@dataclass(frozen=True)
class PreparedAzure:
    """Azure's part of the mesh once its resource groups and VNets exist: what ``build`` makes the
    clusters from.

    Args:
        mesh: the mesh.
        network: the clusters' resource groups, VNets, subnets and outbound IPs, made.
        egress: the clusters' egress addresses the other platforms admit (only across platforms).
        own_egress: every outbound IP the program made, by cluster (what restricted API servers of
            this platform admit).
    """

    mesh: MeshSpec
    network: AzureNetwork
    egress: Mapping[str, pulumi.Output[list[str]]]
    own_egress: Mapping[str, pulumi.Output[list[str]]]

    def build(self, ca: MeshCA, exposure: Exposure | None) -> PlatformBuild:
        return AzurePlatform.clusters(self.mesh, self.network, ca, exposure, self.own_egress)


class AzurePlatform:
    """The mesh's AKS clusters on peered VNets, the vault with the CA copies and, with
    ``caDelivery: keyVault``, istiod's access to its cluster's copies.

    Outputs: ``aks`` (per cluster FQDN, resource group and kubeconfig, a secret) and ``keyVault``
    (name and URI).
    """

    config = AzureConfig()

    def prepare(self, mesh: MeshSpec) -> PreparedAzure:
        """Resource groups, VNets and, across platforms, each cluster's outbound IP (its egress) first."""
        # The program's own outbound IPs where something must admit the clusters' egress: the other
        # platforms' clusters, or restricted API servers of this one (AKS's own outbound IPs are not
        # known before the clusters exist).
        restricted = any(azure_part(c).authorized_ip_ranges for c in mesh.on(NAME))
        network = AzureNetwork(names.NETWORK.name(), AzureNetworkArgs(mesh.on(NAME), outbound_ips=mesh.spans_platforms or restricted))
        egress = {name: host_cidrs([outbound_address(ip) for ip in n.outbound_ips]) for name, n in network.clusters.items()}

        # Without outbound IPs of the program's (one platform) AKS picks the addresses: none are known.
        return PreparedAzure(mesh, network, egress if mesh.spans_platforms else {}, egress)

    @staticmethod
    def clusters(
        mesh: MeshSpec, network: AzureNetwork, ca: MeshCA, exposure: Exposure | None, egress: Mapping[str, pulumi.Output[list[str]]]
    ) -> PlatformBuild:
        clusters = mesh.on(NAME)
        settings = platform_settings(mesh, NAME, AzureSettings)
        client = azure_native.authorization.get_client_config_output()
        from_vault = settings.ca_delivery is CaDelivery.KEY_VAULT
        admins = admins_beside_deployer(settings.admin_object_ids)
        aks = {
            c.name: AksCluster(
                names.AKS.name(cluster=c.name),
                AksClusterArgs(
                    c,
                    network.clusters[c.name].site(),
                    client.subscription_id,
                    client.object_id,
                    exposure,
                    from_vault,
                    mesh_egress=list(egress.values()),
                    export_admin_kubeconfig=settings.admin_kubeconfig_output,
                    admin_object_ids=admins,
                ),
            )
            for c in clusters
        }
        # Peerings once both clusters have joined their VNets, pools after the peerings: one write at
        # a time on a VNet. Pods reach each other's over the peerings (one flat network): the
        # mesh's probes wait for them, load balancers need not.
        peerings = network.peer({name: [cluster.managed_cluster] for name, cluster in aks.items()})
        for spec in clusters:
            args = AksNodePoolsArgs(
                cluster=aks[spec.name], pools=azure_part(spec).added_pools, network=network.clusters[spec.name].site(), after=peerings
            )
            AksNodePools(names.POOLS.name(aks=names.AKS.name(cluster=spec.name), cluster=spec.name), args)
        vault = mesh_vault(mesh, client, ca, exposure.operator_cidrs if exposure else None, egress, admins)
        registry = mesh_registry(settings, vault, client.subscription_id, aks)
        handles = {name: dataclasses.replace(cluster.handle, crossing=peerings) for name, cluster in aks.items()}
        if from_vault:
            for spec in (c for c in clusters if c.role is Role.PRIMARY):
                issuer = aks[spec.name].managed_cluster.oidc_issuer_profile.apply(issuer_url)
                access = IstiodVaultAccess(
                    names.VAULT_ACCESS.name(cluster=spec.name),
                    IstiodVaultAccessArgs(
                        cluster=spec.name,
                        location=spec.region,
                        resource_group=network.clusters[spec.name].resource_group,
                        issuer_url=issuer,
                        service_accounts=tuple(istiod_service(v) for v in mesh.versions),
                        vault_name=vault.vault_name,
                        tenant_id=client.tenant_id,
                        subscription_id=client.subscription_id,
                        secrets=vault.secret_refs(spec.name),
                        made=list(vault.secrets[spec.name].values()),
                    ),
                )
                handles[spec.name] = dataclasses.replace(handles[spec.name], ca_files=access.ca_files)
        return PlatformBuild(
            handles=handles,
            outputs={
                "aks": {name: cluster.outputs() for name, cluster in aks.items()},
                "keyVault": {"name": vault.vault_name, "uri": vault.vault_uri},
                **({"containerRegistry": {"loginServer": registry.login_server, "name": registry.registry_name}} if registry else {}),
            },
        )


AZURE = AzurePlatform()


def vault_readers(mesh: MeshSpec) -> list[str]:
    """The clusters whose istiod reads its CA files from the vault (``caDelivery: keyVault``): the primaries."""
    settings = platform_settings(mesh, NAME, AzureSettings)
    return [c.name for c in mesh.on(NAME) if c.role is Role.PRIMARY] if settings.ca_delivery is CaDelivery.KEY_VAULT else []


def mesh_vault(
    mesh: MeshSpec,
    client: pulumi.Output[azure_native.authorization.GetClientConfigResult],
    ca: MeshCA,
    operators: Sequence[str] | None,
    egress: Mapping[str, pulumi.Output[list[str]]],
    admins: Sequence[str],
) -> MeshKeyVault:
    """The vault with the CA copies of every AKS cluster, admitting the reading clusters' outbound
    addresses (``egress``, by cluster) where the operators' ranges are known (``operators``:
    across platforms ``operatorCidrs``, else None: the clusters' ``authorizedIpRanges``)."""
    settings = platform_settings(mesh, NAME, AzureSettings)
    clusters = mesh.on(NAME)
    # The config layer requires the vault's region: it follows no cluster, so that adding or
    # removing clusters never moves it.
    assert settings.key_vault_location is not None
    return MeshKeyVault(
        names.VAULT.name(),
        MeshKeyVaultArgs(
            name_prefix=settings.key_vault_prefix,
            purge_protection=settings.key_vault_purge_protection,
            resource_group_name=settings.key_vault_resource_group or f"istio-mesh-vault-{pulumi.get_stack()}",
            location=settings.key_vault_location,
            tenant_id=client.tenant_id,
            subscription_id=client.subscription_id,
            deployer_object_id=client.object_id,
            root_cert=ca.root_cert_pem,
            clusters={c.name: ca.clusters[c.name] for c in clusters},
            allowed_ranges=vault_callers(clusters, operators, {name: egress[name] for name in vault_readers(mesh)}),
            admin_object_ids=admins,
        ),
    )


def mesh_registry(
    settings: AzureSettings, vault: MeshKeyVault, subscription_id: pulumi.Input[str], aks: Mapping[str, AksCluster]
) -> MeshRegistry | None:
    """The mesh's container registry in the vault's group, with every AKS cluster's kubelet allowed
    to pull (``None`` unless ``containerRegistry`` is set)."""
    if settings.container_registry is None:
        return None
    kubelets = {name: cluster.managed_cluster.identity_profile.apply(kubelet_object_id) for name, cluster in aks.items()}
    args = MeshRegistryArgs(settings.container_registry, vault.resource_group_name, subscription_id, kubelets)
    return MeshRegistry(names.REGISTRY.name(), args)


def kubelet_object_id(profile: Mapping[str, Any] | None) -> str:
    """The object id of the identity the cluster's nodes pull images with (AKS makes it with the
    cluster, ``identityProfile.kubeletidentity``); a cluster without one cannot be granted AcrPull."""
    identity = (profile or {}).get("kubeletidentity")
    object_id = getattr(identity, "object_id", None) if identity is not None else None
    if not object_id:
        raise ValueError("AKS reported no kubelet identity for a cluster it created; run pulumi refresh, then pulumi up")
    return str(object_id)


def issuer_url(profile: azure_native.containerservice.outputs.ManagedClusterOIDCIssuerProfileResponse | None) -> str:
    """The cluster's OIDC issuer, which istiod's federated credential trusts; the program turns it on,
    so a missing one is a broken cluster, not a value to federate with."""
    if profile is None or not profile.issuer_url:
        raise ValueError("AKS reported no OIDC issuer URL although the program enables it; run pulumi refresh, then pulumi up")
    return profile.issuer_url
