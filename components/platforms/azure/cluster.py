"""AksCluster: an AKS cluster on its VNet's subnets, turned into a ``ClusterHandle``.

System and user pools each sit on their own subnet; Azure CNI (pods on VNet IPs) unless the cluster
asked for overlay; managed identity, OIDC issuer and workload identity, the Key Vault
secrets-provider add-on with rotation. The kubernetes provider's kubeconfig comes from the cluster's
admin credentials (a client certificate), so neither ``az`` nor ``kubelogin`` is needed where
Pulumi runs. The cluster identity gets Network Contributor on its own subnets and nothing wider:
AKS needs it to place internal load balancers (the east-west gateway) in them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s

from components.config.model import ClusterSpec
from components.mesh.handle import ClusterHandle
from components.platforms.azure.config import AzureCni, azure_part
from components.platforms.azure.network import ClusterNetwork

NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
INTERNAL_LB = {"service.beta.kubernetes.io/azure-load-balancer-internal": "true"}
SECRETS_PROVIDER_ADDON = "azureKeyvaultSecretsProvider"


def role_definition(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role)


@dataclass(frozen=True)
class AksClusterArgs:
    """Inputs of ``AksCluster``.

    Args:
        spec: the cluster's spec; its platform part must be an ``AzureCluster``.
        network: its resource group, VNet and pool subnets.
        subscription_id: the subscription, for role definition ids.
        internal_gateways: make gateway Services internal load balancers: right when every other
            cluster reaches this one over VNet peering.
    """

    spec: ClusterSpec
    network: ClusterNetwork
    subscription_id: pulumi.Input[str]
    internal_gateways: bool


class AksCluster(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``handle``, ``managed_cluster``, ``kubeconfig`` (secret)."""

    handle: ClusterHandle
    managed_cluster: azure_native.containerservice.ManagedCluster
    kubeconfig: pulumi.Output[str]
    _resource_group: pulumi.Output[str]

    def __init__(self, name: str, args: AksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("istio-multicluster:azure:AksCluster", name, None, opts)
        spec, network = args.spec, args.network
        self._resource_group = network.resource_group
        azure = azure_part(spec)
        child = pulumi.ResourceOptions(parent=self)
        self.managed_cluster = azure_native.containerservice.ManagedCluster(
            f"{name}-aks",
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
                    name=pool.name,
                    mode=pool.mode,
                    vm_size=pool.vm_size,
                    count=pool.count,
                    enable_auto_scaling=pool.min_count != pool.max_count,
                    min_count=pool.min_count if pool.min_count != pool.max_count else None,
                    max_count=pool.max_count if pool.min_count != pool.max_count else None,
                    os_type="Linux",
                    type="VirtualMachineScaleSets",
                    vnet_subnet_id=network.subnets[pool.name].id,
                )
                for pool in azure.node_pools
            ],
            network_profile=azure_native.containerservice.ContainerServiceNetworkProfileArgs(
                network_plugin="azure",
                network_plugin_mode="overlay" if azure.cni is AzureCni.OVERLAY else None,
                pod_cidr=str(azure.pod_cidr) if azure.pod_cidr else None,
                service_cidr=str(azure.service_cidr),
                dns_service_ip=str(azure.dns_service_ip),
                load_balancer_sku="standard",
                outbound_type="loadBalancer",
            ),
            enable_rbac=True,
            oidc_issuer_profile=azure_native.containerservice.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=azure_native.containerservice.ManagedClusterSecurityProfileArgs(
                workload_identity=azure_native.containerservice.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True),
            ),
            addon_profiles={
                SECRETS_PROVIDER_ADDON: azure_native.containerservice.ManagedClusterAddonProfileArgs(
                    enabled=True, config={"enableSecretRotation": "true", "rotationPollInterval": "2m"}
                )
            },
            api_server_access_profile=azure_native.containerservice.ManagedClusterAPIServerAccessProfileArgs(
                authorized_ip_ranges=[str(r) for r in azure.authorized_ip_ranges]
            )
            if azure.authorized_ip_ranges
            else None,
            opts=child,
        )
        self._subnet_rights(name, args, child)
        credentials = azure_native.containerservice.list_managed_cluster_admin_credentials_output(
            resource_group_name=network.resource_group, resource_name=self.managed_cluster.name
        )
        self.kubeconfig = pulumi.Output.secret(credentials.kubeconfigs[0].value.apply(lambda v: base64.b64decode(v).decode()))
        provider = k8s.Provider(
            f"{name}-provider",
            kubeconfig=self.kubeconfig,
            # The ARM id, not the kubeconfig: rotated credentials must not replace every object on the cluster.
            cluster_identifier=self.managed_cluster.id,
            opts=child,
        )
        api_url = self.managed_cluster.fqdn.apply(lambda fqdn: f"https://{fqdn}:443")
        # Only the east-west gateway goes internal; the ingress gateway serves the outside world.
        eastwest = INTERNAL_LB if args.internal_gateways else {}
        self.handle = ClusterHandle(spec.name, spec.network, provider, api_url, eastwest_annotations=eastwest)
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[str]]:
        """What an operator needs: the FQDN, the resource group and the kubeconfig (a secret)."""
        return {
            "fqdn": self.managed_cluster.fqdn,
            "resourceGroup": self._resource_group,
            "kubeconfig": self.kubeconfig,
        }

    def _subnet_rights(self, name: str, args: AksClusterArgs, child: pulumi.ResourceOptions) -> None:
        principal = self.managed_cluster.identity.apply(lambda identity: identity.principal_id if identity else "")
        for pool, subnet in args.network.subnets.items():
            azure_native.authorization.RoleAssignment(
                f"{name}-{pool}-subnet-network-contributor",
                principal_id=principal,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition(args.subscription_id, NETWORK_CONTRIBUTOR),
                scope=subnet.id,
                opts=child,
            )
