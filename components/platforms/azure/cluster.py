"""AksCluster: an AKS cluster on its VNet's subnets, turned into a ``ClusterHandle``.

The first System pool is created with the cluster; every other pool is an ``AgentPool`` resource
of its own, because AKS refuses new pools in the cluster's own PUT once it exists ("use per agent
pool operations") and changing an inline pool sets every pool scaling. Each pool sits on its own
subnet, across the configured zones. Azure CNI (pods on VNet IPs) unless overlay was asked for; the
network profile is given as plain values, because the SDK's typed arguments add
``podCidr: 10.244.0.0/16``, which has no place with flat Azure CNI. Managed identity, OIDC issuer and
workload identity; a network policy engine; the SKU tier. The Key Vault secrets-provider add-on
(and its CSI driver) only where istiod reads its CA from Key Vault.

The kubernetes provider authenticates with the cluster's admin credentials (a client
certificate), or, with ``entraId``, with an Entra token the project's own command fetches whenever
it needs one (no kubelogin; the deploying identity is granted AKS RBAC Cluster Admin). Either way
nothing short-lived stays in state: ``pulumi destroy`` and ``refresh`` work hours later. The
cluster identity gets Network Contributor on its own subnets and outbound IPs and nothing wider:
AKS needs it to place internal load balancers (the east-west gateway) in the subnets and to use
the IPs; load-balanced workloads wait for these grants. When the clusters span platforms the
load balancer sends outbound traffic from the program's static public IP, and the API server
admits the operators and the other clusters.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
import yaml

from components.cluster.handle import ClusterHandle
from components.config.model import ClusterSpec
from components.k8s import aks_token
from components.k8s.kubeconfig import exec_kubeconfig
from components.k8s.provider import cluster_provider
from components.platforms.azure import names
from components.platforms.azure.config import AzureCluster, AzureCni, AzureNodePool, NetworkPolicy, azure_part
from components.platforms.azure.network import ClusterSite
from components.platforms.azure.roles import (
    AKS_RBAC_CLUSTER_ADMIN,
    NETWORK_CONTRIBUTOR,
    assign_role,
    grant_each,
    joined_ids,
    propagation_wait,
)
from components.platforms.exposure import Exposure, with_peers

INTERNAL_LB = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
# An internet-facing gateway's source ranges go into the cluster's network security group as allow
# rules; without this the group's default rules still admit the VNet and its peers
# (cloud-provider-azure pkg/provider/loadbalancer/accesscontrol.go DenyAllExceptSourceRanges). The
# deny rule targets the load balancer's frontend address, not the nodes its health probes reach.
ONLY_SOURCE_RANGES = {"service.beta.kubernetes.io/azure-deny-all-except-load-balancer-source-ranges": "true"}
SECRETS_PROVIDER_ADDON = "azureKeyvaultSecretsProvider"


def network_profile(azure: AzureCluster, outbound_ips: Sequence[pulumi.Input[str]] = ()) -> dict[str, Any]:
    """The cluster's network profile, exactly: a pod range only with overlay, Cilium's dataplane only
    with its policy, and the load balancer's outbound addresses: the program's where it made them,
    else one that AKS manages, stated so that a cluster leaving a mesh across platforms lets go of
    the program's address before it is deleted (an omitted profile keeps the current one)."""
    profile: dict[str, Any] = {
        "network_plugin": "azure",
        "network_policy": azure.network_policy.value,
        "service_cidr": str(azure.service_cidr),
        "dns_service_ip": str(azure.dns_service_ip),
        "load_balancer_sku": "standard",
        "outbound_type": "loadBalancer",
    }
    if azure.cni is AzureCni.OVERLAY:
        profile |= {"network_plugin_mode": "overlay", "pod_cidr": str(azure.pod_cidr)}
    if azure.network_policy is NetworkPolicy.CILIUM:
        profile["network_dataplane"] = "cilium"
    if outbound_ips:
        profile["load_balancer_profile"] = {"outbound_ips": {"public_ips": [{"id": ip} for ip in outbound_ips]}}
    else:
        profile["load_balancer_profile"] = {"managed_outbound_ips": {"count": 1}}
    return profile


def pool_settings(pool: AzureNodePool, subnet_id: pulumi.Input[str]) -> dict[str, Any]:
    """What a pool is, inline or as an AgentPool: mode, size, counts (autoscaled when min differs from max), subnet, zones."""
    return {
        "mode": pool.mode,
        "vm_size": pool.vm_size,
        "count": pool.count,
        "enable_auto_scaling": pool.autoscaled,
        "min_count": pool.min_count if pool.autoscaled else None,
        "max_count": pool.max_count if pool.autoscaled else None,
        "os_type": "Linux",
        "type": "VirtualMachineScaleSets",
        "vnet_subnet_id": subnet_id,
        "availability_zones": list(pool.availability_zones) or None,
    }


def autoscaled_count(pool: AzureNodePool, path: str = "") -> list[str]:
    """With the autoscaler on, the pool's node count is the autoscaler's: a refresh reads its count,
    and the configured one (the initial size) must not be sent back and resize the pool."""
    return [f"{path}count"] if pool.autoscaled else []


def entra_kubeconfig(encoded: str) -> str:
    """The provider's kubeconfig for an Entra ID cluster: AKS's server and CA, the project's token command."""
    config = yaml.safe_load(base64.b64decode(encoded))
    cluster = config["clusters"][0]
    command, args = aks_token.exec_command()
    return exec_kubeconfig(cluster["name"], cluster["cluster"]["server"], cluster["cluster"]["certificate-authority-data"], command, args)


def system_identity(cluster: str, identity: azure_native.containerservice.outputs.ManagedClusterIdentityResponse | None) -> str:
    """The principal of the cluster's system-assigned identity, which the program asks for: without
    one the role assignments would go to an empty principal and Azure's refusal would not say why."""
    if identity is None or not identity.principal_id:
        raise ValueError(f"AKS cluster {cluster} reports no system-assigned identity; the program creates it with one")
    return identity.principal_id


@dataclass(frozen=True)
class AksClusterArgs:
    """Inputs of ``AksCluster``.

    Args:
        spec: the cluster's spec; its platform part must be an ``AzureCluster``.
        network: its resource group, pool subnets and outbound IPs.
        subscription_id: the subscription, for role definition ids.
        deployer_object_id: the identity running Pulumi (granted cluster admin with Entra ID).
        exposure: when the clusters span platforms, who may reach the API server and the then
            internet-facing east-west gateway (default none: every other cluster reaches this one
            over VNet peering, so the gateway is an internal load balancer and the API server admits
            ``authorizedIpRanges``).
        secrets_provider: turn on the Key Vault secrets-provider add-on (its CSI driver mounts
            istiod's CA files).
        mesh_egress: within one platform, the outbound addresses of the mesh's AKS clusters (this
            one's included) where the program owns them: a restricted API server admits them, as
            the other clusters' istiods reach its public endpoint from there (default none).
        export_admin_kubeconfig: put the admin kubeconfig (a client certificate) in the outputs of a
            cluster without Entra ID (default false: only the provider holds it).
        admin_object_ids: Entra principals granted AKS RBAC Cluster Admin beside the deployer, on
            an Entra ID cluster (default none).
    """

    spec: ClusterSpec
    network: ClusterSite
    subscription_id: pulumi.Input[str]
    deployer_object_id: pulumi.Input[str]
    exposure: Exposure | None = None
    secrets_provider: bool = False
    mesh_egress: Sequence[pulumi.Input[Sequence[str]]] = ()
    export_admin_kubeconfig: bool = False
    admin_object_ids: Sequence[str] = ()


class AksCluster(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``handle``, ``managed_cluster``, ``kubeconfig`` (secret;
    None without Entra ID unless the admin one is to be exported). The pools beyond the inline
    System pool are ``components.platforms.azure.pools.AksNodePools``, made after the peerings."""

    handle: ClusterHandle
    managed_cluster: azure_native.containerservice.ManagedCluster
    kubeconfig: pulumi.Output[str] | None

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.AKS.type, name, None, opts)
        spec, network = args.spec, args.network
        self._resource_group = network.resource_group
        azure = azure_part(spec)
        child = pulumi.ResourceOptions(parent=self)
        system = azure.system_pool
        self.managed_cluster = azure_native.containerservice.ManagedCluster(
            names.MANAGED_CLUSTER.name(aks=name),
            resource_name_=spec.name,
            resource_group_name=network.resource_group,
            location=spec.region,
            dns_prefix=spec.name,
            kubernetes_version=azure.kubernetes_version,
            identity=azure_native.containerservice.ManagedClusterIdentityArgs(
                type=azure_native.containerservice.ResourceIdentityType.SYSTEM_ASSIGNED
            ),
            sku=azure_native.containerservice.ManagedClusterSKUArgs(name="Base", tier=azure.sku_tier),
            agent_pool_profiles=[
                azure_native.containerservice.ManagedClusterAgentPoolProfileArgs(
                    name=system.name, **pool_settings(system, network.subnet_ids[system.name])
                )
            ],
            network_profile=network_profile(azure, network.outbound_ip_ids),  # type: ignore[arg-type]  # plain values
            enable_rbac=True,
            aad_profile=azure_native.containerservice.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True)
            if azure.entra_id
            else None,
            disable_local_accounts=True if azure.entra_id else None,
            oidc_issuer_profile=azure_native.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=azure_native.containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=azure_native.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            ),
            addon_profiles={
                SECRETS_PROVIDER_ADDON: azure_native.containerservice.ManagedClusterAddonProfileArgs(
                    enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"}
                )
            }
            if args.secrets_provider
            else None,
            api_server_access_profile=self._api_access(spec.name, azure, args),
            # The cluster joins its VNet once every subnet write on it is done (Azure takes one at a time).
            opts=pulumi.ResourceOptions.merge(
                child,
                pulumi.ResourceOptions(ignore_changes=autoscaled_count(system, "agentPoolProfiles[0]."), depends_on=list(network.made)),
            ),
        )
        network_rights = self._network_rights(name, args, child)
        provider = self._kubernetes_provider(name, args, azure, child)
        api_url = self.managed_cluster.fqdn.apply(lambda fqdn: f"https://{fqdn}:443")
        exposure = args.exposure
        self.handle = ClusterHandle(
            spec,
            provider,
            api_url,
            # The east-west gateway is internal over peering, or public but limited to the peers across
            # platforms; the ingress gateway serves the outside world either way.
            eastwest_annotations=ONLY_SOURCE_RANGES if exposure else INTERNAL_LB,
            # The inline System pool, made with the cluster, runs the mesh: nothing waits for the
            # other pools, which AKS adds one at a time.
            ready=network_rights,
            eastwest_source_ranges=exposure.peers(spec.name) if exposure else None,
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[str]]:
        """What an operator needs: the FQDN, the resource group and, where there is one to give,
        the kubeconfig (a secret)."""
        outputs = {"fqdn": self.managed_cluster.fqdn, "resourceGroup": self._resource_group}
        return outputs if self.kubeconfig is None else {**outputs, "kubeconfig": self.kubeconfig}

    @staticmethod
    def _api_access(
        cluster: str, azure: AzureCluster, args: AksClusterArgs
    ) -> azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs:
        """Who reaches the public API server. Across platforms: the operators, the other clusters
        and the cluster's own outbound IP, through which its nodes reach their API server's public
        endpoint (AKS adds that address itself; listing it keeps the program's view equal to Azure's).
        Otherwise ``authorizedIpRanges`` with every AKS cluster's outbound IP (the other clusters'
        istiods reach the public endpoint from there: peering carries no traffic to it), or, unset,
        an empty list (anyone), stated: an omitted profile keeps the ranges a cluster had while
        its mesh spanned platforms or its API was restricted."""
        ranges: pulumi.Input[Sequence[str]] = []
        if args.exposure is not None:
            ranges = args.exposure.api(cluster, own=True)
        elif azure.authorized_ip_ranges:
            egress = pulumi.Output.all(*args.mesh_egress).apply(lambda lists: [c for cidrs in lists for c in cidrs])
            ranges = with_peers((str(r) for r in azure.authorized_ip_ranges), egress)
        return azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs(authorized_ip_ranges=ranges)

    def _kubernetes_provider(self, name: str, args: AksClusterArgs, azure: AzureCluster, child: pulumi.ResourceOptions) -> k8s.Provider:
        """The kubernetes provider, keyed on the ARM id: rotated credentials must not replace every object on the cluster."""
        group, cluster = args.network.resource_group, self.managed_cluster.name
        if not azure.entra_id:
            credentials = azure_native.containerservice.list_managed_cluster_admin_credentials_output(
                resource_group_name=group, resource_name=cluster
            )
            admin = pulumi.Output.secret(credentials.kubeconfigs[0].value.apply(lambda v: base64.b64decode(v).decode()))
            # A client certificate: cluster-admin until the cluster's certificates are rotated. The
            # provider needs it; the stack's outputs (which stack references read) only when asked.
            self.kubeconfig = admin if args.export_admin_kubeconfig else None
            return cluster_provider(names.PROVIDER.name(aks=name), kubeconfig=admin, cluster_identifier=self.managed_cluster.id, opts=child)
        grant = assign_role(
            names.CLUSTER_ADMIN.name(aks=name),
            args.deployer_object_id,
            AKS_RBAC_CLUSTER_ADMIN,
            self.managed_cluster.id,
            args.subscription_id,
            child,
        )
        # Every Kubernetes call is refused (403) until the grant reaches AKS's authorization webhook.
        propagated = propagation_wait(names.CLUSTER_ADMIN_PROPAGATION.name(aks=name), [grant], joined_ids([grant]), child)
        # The admins may run the next destroy: every object on the cluster goes while their grants hold.
        admins = grant_each(
            lambda admin: names.ADMIN_CLUSTER_ADMIN.name(aks=name, principal=admin),
            args.admin_object_ids,
            AKS_RBAC_CLUSTER_ADMIN,
            self.managed_cluster.id,
            args.subscription_id,
            child,
        )
        # The user kubeconfig runs kubelogin (fine for people); the provider runs the project's token command.
        credentials = azure_native.containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=group, resource_name=cluster, format="exec"
        )
        encoded = credentials.kubeconfigs[0].value
        self.kubeconfig = pulumi.Output.secret(encoded.apply(lambda v: base64.b64decode(v).decode()))
        return cluster_provider(
            names.PROVIDER.name(aks=name),
            kubeconfig=pulumi.Output.secret(encoded.apply(entra_kubeconfig)),
            cluster_identifier=self.managed_cluster.id,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=[propagated, *admins])),
        )

    def _network_rights(self, name: str, args: AksClusterArgs, child: pulumi.ResourceOptions) -> list[pulumi.Resource]:
        """Network Contributor for the cluster identity on its subnets and outbound IPs: the cloud
        provider needs it to put load balancers in the subnets and to join the IPs to the load
        balancer's outbound rules (without it a LoadBalancer Service fails with LinkedAuthorizationFailed
        on publicIPAddresses/join/action, Azure/AKS#1945). A system-assigned identity exists only
        with the cluster, so the grants follow it, and the gateways wait for them."""
        principal = self.managed_cluster.identity.apply(lambda identity: system_identity(args.spec.name, identity))
        scopes = {names.subnet_scope(pool): subnet for pool, subnet in args.network.subnet_ids.items()}
        scopes |= {names.outbound_ip_scope(index): ip for index, ip in enumerate(args.network.outbound_ip_ids)}
        return [
            assign_role(
                names.NETWORK_CONTRIBUTOR.name(aks=name, scope=label),
                principal,
                NETWORK_CONTRIBUTOR,
                scope,
                args.subscription_id,
                child,
                service_principal=True,
            )
            for label, scope in scopes.items()
        ]
