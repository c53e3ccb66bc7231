"""AKS clusters in fleet mode: the mesh stack holds the VNets and the vault, the member stacks the clusters.

The mesh stack makes what the clusters of several member stacks share, as one stack does: the
resource groups, a VNet per cluster with its pool subnets (and, where something must admit the
clusters' egress, their outbound IPs), the peerings between every two VNets, the vault with the CA
copies and, with ``containerRegistry``, the registry. It exports, per AKS member, what its cluster
is built on (``fleetAzure``: its resource group, subnet and outbound IP ids, every cluster's
outbound addresses a restricted API server admits, and with ``caDelivery: keyVault`` its CA
secrets in the vault).

The peerings go before any cluster: Azure takes one write at a time on a VNet, and a peering puts
both VNets in ``Updating``, which AKS's VNet ownership step refuses (Azure/AKS#4522). One stack makes
them after the clusters; here the mesh stack's update makes them, with the subnets, before any member
runs, and a member's cluster and pools then write only its own VNet, one after the other. ``add``
makes a new cluster's VNet and peerings in the mesh's update, when no member runs; ``remove``
destroys the member first.

A member stack makes its AKS cluster, its added pools, its kubelet's pull grant on the registry and
istiod's access to its CA secrets, under the names one stack gives them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_azure_native as azure_native

from components.config.model import ClusterSpec, MeshSpec, platform_settings
from components.fleet.parts import MemberCluster, MeshPart
from components.istio.facts import istiod_service
from components.mesh.ca import MeshCA
from components.platforms.azure import (
    AZURE,
    admins_beside_deployer,
    issuer_url,
    kubelet_object_id,
    mesh_registry,
    mesh_vault,
    names,
    vault_readers,
)
from components.platforms.azure.ca_delivery import IstiodVaultAccess, IstiodVaultAccessArgs, VaultSecret
from components.platforms.azure.cluster import AksCluster, AksClusterArgs
from components.platforms.azure.config import NAME, AzureSettings, CaDelivery, azure_part
from components.platforms.azure.keyvault import CA_FILES, MeshKeyVault
from components.platforms.azure.network import ClusterSite
from components.platforms.azure.pools import AksNodePools, AksNodePoolsArgs
from components.platforms.azure.registry import grant_pull
from components.platforms.exposure import Exposure

AZURE_OUTPUT = "fleetAzure"


def build_mesh_part(mesh: MeshSpec, ca: MeshCA) -> MeshPart:
    """The mesh stack's Azure resources (none without AKS clusters) and its outputs."""
    clusters = mesh.on(NAME)
    if not clusters:
        return MeshPart()
    prepared = AZURE.prepare(mesh)
    network = prepared.network
    # Before any cluster: each cluster then writes only its own VNet (see the module docstring).
    network.peer({})
    settings = platform_settings(mesh, NAME, AzureSettings)
    client = azure_native.authorization.get_client_config_output()
    admins = admins_beside_deployer(settings.admin_object_ids)
    operators = [str(c) for c in mesh.operator_cidrs] if mesh.spans_platforms else None
    vault = mesh_vault(mesh, client, ca, operators, prepared.own_egress, admins)
    registry = mesh_registry(settings, vault, client.subscription_id, {})
    mesh_egress = list(prepared.own_egress.values())
    members: dict[str, dict[str, Any]] = {}
    for cluster in clusters:
        site = network.clusters[cluster.name].site()
        members[cluster.name] = {
            "resourceGroup": site.resource_group,
            "subnetIds": dict(site.subnet_ids),
            "outboundIpIds": list(site.outbound_ip_ids),
            "meshEgress": mesh_egress,
            **({"vault": _vault_entry(vault, cluster.name)} if cluster.name in vault_readers(mesh) else {}),
            **({"registryId": registry.registry_id} if registry is not None else {}),
        }
    outputs: dict[str, Any] = {"keyVault": {"name": vault.vault_name, "uri": vault.vault_uri}, AZURE_OUTPUT: members}
    if registry is not None:
        outputs["containerRegistry"] = {"loginServer": registry.login_server, "name": registry.registry_name}
    return MeshPart(outputs, prepared.egress)


def _vault_entry(vault: MeshKeyVault, cluster: str) -> dict[str, Any]:
    """What istiod's access in ``cluster``'s member names: the vault and its four CA secrets."""
    return {
        "name": vault.vault_name,
        "secrets": {file: {"id": ref.id, "name": ref.name} for file, ref in vault.secret_refs(cluster).items()},
    }


def member_keys(mesh: MeshSpec, cluster: ClusterSpec) -> tuple[str, ...]:
    """What ``cluster``'s member reads of its entry in ``fleetAzure``: its site, and its CA secrets
    (``caDelivery: keyVault``, a primary) and the registry (``containerRegistry``) where there are."""
    settings = platform_settings(mesh, NAME, AzureSettings)
    vault = ("vault",) if cluster.name in vault_readers(mesh) else ()
    registry = ("registryId",) if settings.container_registry is not None else ()
    return ("resourceGroup", "subnetIds", "outboundIpIds", "meshEgress", *vault, *registry)


def build_member_cluster(mesh: MeshSpec, own: ClusterSpec, built_on: Mapping[str, Any], exposure: Exposure | None) -> MemberCluster:
    """``own``'s AKS cluster on what the mesh stack exported for it (``built_on``, holding every
    key of ``member_keys``), its added pools, its pull grant and istiod's access to its CA secrets."""
    settings = platform_settings(mesh, NAME, AzureSettings)
    client = azure_native.authorization.get_client_config_output()
    site = ClusterSite(
        resource_group=str(built_on["resourceGroup"]),
        subnet_ids={str(pool): str(subnet) for pool, subnet in built_on["subnetIds"].items()},
        outbound_ip_ids=[str(ip) for ip in built_on["outboundIpIds"]],
    )
    from_vault = settings.ca_delivery is CaDelivery.KEY_VAULT
    aks = AksCluster(
        names.AKS.name(cluster=own.name),
        AksClusterArgs(
            own,
            site,
            client.subscription_id,
            client.object_id,
            exposure,
            from_vault,
            mesh_egress=[[str(c) for c in cidrs] for cidrs in built_on["meshEgress"]],
            export_admin_kubeconfig=settings.admin_kubeconfig_output,
            admin_object_ids=admins_beside_deployer(settings.admin_object_ids),
        ),
    )
    pools = AksNodePoolsArgs(cluster=aks, pools=azure_part(own).added_pools, network=site, after=[])
    AksNodePools(names.POOLS.name(aks=names.AKS.name(cluster=own.name), cluster=own.name), pools)
    if settings.container_registry is not None:
        kubelet = aks.managed_cluster.identity_profile.apply(kubelet_object_id)
        grant_pull(names.REGISTRY.name(), own.name, kubelet, str(built_on["registryId"]), client.subscription_id, pulumi.ResourceOptions())
    handle = aks.handle
    if own.name in vault_readers(mesh):
        vault, secrets = built_on["vault"], built_on["vault"]["secrets"]
        access = IstiodVaultAccess(
            names.VAULT_ACCESS.name(cluster=own.name),
            IstiodVaultAccessArgs(
                cluster=own.name,
                location=own.region,
                resource_group=site.resource_group,
                issuer_url=aks.managed_cluster.oidc_issuer_profile.apply(issuer_url),
                service_accounts=tuple(istiod_service(v) for v in mesh.versions),
                vault_name=str(vault["name"]),
                tenant_id=client.tenant_id,
                subscription_id=client.subscription_id,
                # In the files' order, as one stack lists them: a stack read returns a map's keys sorted.
                secrets={file: VaultSecret(str(secrets[file]["id"]), str(secrets[file]["name"])) for file in CA_FILES},
            ),
        )
        handle = dataclasses.replace(handle, ca_files=access.ca_files)
    return MemberCluster(handle, {"aks": {own.name: aks.outputs()}})
