"""The names of the Azure platform's resources: the network, each AKS cluster, the vault with the
CA copies and istiod's access to them; see ``components.config.names``."""

from __future__ import annotations

from components.config.names import NameTemplate
from components.istio.facts import ROOT_CERT

RESOURCE_GROUP = "azure-native:resources:ResourceGroup"
ROLE_ASSIGNMENT = "azure-native:authorization:RoleAssignment"
SLEEP = "time:index/sleep:Sleep"

NETWORK = NameTemplate("istio-multicluster:azure:Network", "azure", "the Azure network")
GROUP = NETWORK.child(RESOURCE_GROUP, "{network}-{group}", "resource group {group}")
VNET = NETWORK.child("azure-native:network:VirtualNetwork", "{network}-{cluster}-vnet", "cluster {cluster}'s VNet")
SUBNET = NETWORK.child("azure-native:network:Subnet", "{network}-{cluster}-{pool}-subnet", "pool {pool}'s subnet on cluster {cluster}")
OUTBOUND_IP = NETWORK.child("azure-native:network:PublicIPAddress", "{network}-{cluster}-outbound-ip", "cluster {cluster}'s outbound IP")
PEERING = NETWORK.child(
    "azure-native:network:VirtualNetworkPeering", "{network}-{source}-to-{target}", "the peering of cluster {source}'s VNet to {target}'s"
)

AKS = NameTemplate("istio-multicluster:azure:AksCluster", "{cluster}", "AKS cluster {cluster}")
MANAGED_CLUSTER = AKS.child("azure-native:containerservice:ManagedCluster", "{aks}-aks", "cluster {cluster}'s ManagedCluster")
# The pools beyond the inline System pool: a component of their own, made after the VNet peerings;
# the pools keep the names they had under the cluster's component, which they alias.
POOLS = NameTemplate("istio-multicluster:azure:AksNodePools", "{aks}-pools", "the added pools of cluster {cluster}")
AGENT_POOL = POOLS.child("azure-native:containerservice:AgentPool", "{aks}-{pool}", "pool {pool} of cluster {cluster}")
PROVIDER = AKS.child("pulumi:providers:kubernetes", "{aks}-provider", "cluster {cluster}'s kubernetes provider")
CLUSTER_ADMIN = AKS.child(ROLE_ASSIGNMENT, "{aks}-deployer-cluster-admin", "the deployer's admin grant on cluster {cluster}")
CLUSTER_ADMIN_PROPAGATION = AKS.child(
    SLEEP, "{aks}-deployer-cluster-admin-propagation", "the wait for the deployer's admin grant on cluster {cluster} to take effect"
)
ADMIN_CLUSTER_ADMIN = AKS.child(ROLE_ASSIGNMENT, "{aks}-admin-{principal}-cluster-admin", "admin {principal}'s grant on cluster {cluster}")
NETWORK_CONTRIBUTOR = AKS.child(ROLE_ASSIGNMENT, "{aks}-{scope}-network-contributor", "cluster {cluster}'s grant on its {scope}")

VAULT = NameTemplate("istio-multicluster:azure:MeshKeyVault", "mesh-vault", "the mesh's Key Vault")
VAULT_GROUP = VAULT.child(RESOURCE_GROUP, "{vault}-group", "the vault's resource group")
VAULT_SUFFIX = VAULT.child("random:index/randomString:RandomString", "{vault}-suffix", "the vault name's random suffix")
VAULT_VAULT = VAULT.child("azure-native:keyvault:Vault", "{vault}-vault", "the vault")
SECRETS_OFFICER = VAULT.child(ROLE_ASSIGNMENT, "{vault}-deployer-secrets-officer", "the deployer's grant on the vault")
ADMIN_SECRETS_OFFICER = VAULT.child(ROLE_ASSIGNMENT, "{vault}-admin-{principal}-secrets-officer", "admin {principal}'s grant on the vault")
VAULT_SECRET = VAULT.child("azure-native:keyvault:Secret", "{vault}-{secret}", "the vault secret {secret}")

REGISTRY = NameTemplate("istio-multicluster:azure:MeshRegistry", "mesh-registry", "the mesh's container registry")
REGISTRY_SUFFIX = REGISTRY.child("random:index/randomString:RandomString", "{registry}-suffix", "the registry name's random suffix")
REGISTRY_REGISTRY = REGISTRY.child("azure-native:containerregistry:Registry", "{registry}-acr", "the container registry")
ACR_PULL = REGISTRY.child(ROLE_ASSIGNMENT, "{registry}-{cluster}-acr-pull", "cluster {cluster}'s kubelet grant to pull from the registry")

VAULT_ACCESS = NameTemplate(
    "istio-multicluster:azure:IstiodVaultAccess", "{cluster}-istiod-vault", "istiod's vault access on cluster {cluster}"
)
IDENTITY = VAULT_ACCESS.child(
    "azure-native:managedidentity:UserAssignedIdentity", "{access}-identity", "istiod's identity on cluster {cluster}"
)
FEDERATION = VAULT_ACCESS.child(
    "azure-native:managedidentity:FederatedIdentityCredential",
    "{access}-federation-{account}",
    "the federation of {account} on cluster {cluster}",
)
READS = VAULT_ACCESS.child(ROLE_ASSIGNMENT, "{access}-reads-{file}", "istiod's grant on {file} of cluster {cluster}")
READS_PROPAGATION = VAULT_ACCESS.child(
    SLEEP, "{access}-reads-propagation", "the wait for istiod's grants and federations on cluster {cluster} to take effect"
)

ROOT_CERT_NAME = "mesh-root-cert"


def secret_name(cluster: str, file: str) -> str:
    """The vault secret holding one of a cluster's CA files (the root certificate is shared)."""
    return ROOT_CERT_NAME if file == ROOT_CERT else f"{cluster}-{file.removesuffix('.pem')}"


def peering_name(source: str, target: str) -> str:
    """The Azure name of the peering from cluster ``source``'s VNet to ``target``'s."""
    return f"{source}-to-{target}"


def subnet_scope(pool: str) -> str:
    """How a cluster's grant on a pool's subnet is named."""
    return f"{pool}-subnet"


def outbound_ip_scope(index: int) -> str:
    """How a cluster's grant on its ``index``-th outbound IP is named."""
    return f"outbound-ip-{index}"
