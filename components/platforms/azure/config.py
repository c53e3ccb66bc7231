"""Azure's config: the Key Vault settings and each AKS cluster's fields, parsed and checked.

Rules only Azure knows: a System pool per cluster; pool subnets inside their VNet, disjoint and
large enough for their nodes (and, with flat Azure CNI, their pods); at most 100 pools and 5000
nodes per cluster; pool names unique (they name subnets and resources); the cluster name fits AKS's
DNS prefix (1-54 characters; the program uses the cluster name as the prefix) and, with every other
cluster's, the 80 characters of a peering name; the DNS service address inside the service range
and not reserved; no range in those AKS reserves; a pod range only with overlay networking; the
API's authorized ranges public, at most 200 with the outbound IPs the program adds; a resource
group shared only within a region and spelt one way; private API servers refused, because every
other cluster's istiod must reach this one's API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from itertools import combinations, permutations
from typing import Any

from components.config.counts import node_counts
from components.config.fields import Field, Object, Objects, Reader
from components.config.kinds import Address, Boolean, Choice, Cidr, Integer, ListOf, PublicCidr, Text, Version
from components.config.mesh_names import revision_source
from components.config.model import ClusterPlatform, ClusterSpec, MeshSpec, Role, platform_part, platform_settings
from components.config.names import NamePlan, NameSource, cluster_source
from components.config.platform import AllowList, DnsReach, EgressSource, Entry, ExposureLimits, ParsedMesh, RoutedRange
from components.config.problems import Problems
from components.config.repeats import counted_repeats, later_repeats
from components.config.rules import ApiExposure, overlapping_pairs, report_api_exposure
from components.config.stores import SecretStore
from components.istio.facts import CA_CERT, CA_FILES, CA_KEY, CERT_CHAIN, istiod_service
from components.platforms.azure import names
from components.platforms.azure.ca_store import KEY_VAULT

NAME = "azure"
AZURE_REGION = re.compile(r"[a-z][a-z0-9]*")
AKS_POOL_NAME = re.compile(r"[a-z][a-z0-9]{0,11}")
AZURE_VM_SIZE = re.compile(r"Standard_[A-Za-z0-9_]+")
# Azure takes Unicode letters and digits in a resource group's name (Char.IsLetterOrDigit, "Naming rules
# and restrictions for Azure resources", Microsoft.Resources), so this one pattern keeps Unicode \w on purpose;
# nothing else the program names is derived from it.
# An Entra object id: a GUID, hex digits in groups of 8-4-4-4-12.
ENTRA_OBJECT_ID = re.compile(r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}")
RESOURCE_GROUP = re.compile(r"[-\w._()]{1,89}[-\w_()]")
# Vault names: 3-24 characters, a letter first; the prefix leaves room for "-" and 6 random characters.
KEY_VAULT_PREFIX = re.compile(r"[a-zA-Z][a-zA-Z0-9]{1,16}")
# AKS DNS prefixes are 1-54 characters; the cluster name is used as the prefix.
AKS_DNS_PREFIX_MAX = 54
# AKS caps a node pool at 1000 nodes, a cluster at 100 pools and 5000 nodes (AKS service quotas
# and limits, container-service-limits).
AKS_POOL_MAX_NODES = 1000
AKS_MAX_POOLS = 100
AKS_CLUSTER_MAX_NODES = 5000
# Pool subnets under flat Azure CNI hold every node and its pods: (nodes + max surge) * (maxPods + 1)
# addresses, maxPods being 30 unless set (the program sets none) and the surge one node while AKS
# upgrades (AKS docs: concepts-network-ip-address-planning, upgrade-aks-cluster). With overlay the
# pods take podCidr addresses and each node one of the subnet. Azure keeps 5 addresses of every
# subnet (virtual network FAQ).
AKS_AZURE_CNI_MAX_PODS = 30
AKS_UPGRADE_SURGE_NODES = 1
AZURE_SUBNET_RESERVED = 5
# Ranges AKS clusters may not use for VNet, service or pod addresses (AKS docs, concepts-network-legacy-cni).
AKS_RESERVED_RANGES = tuple(IPv4Network(n) for n in ("169.254.0.0/16", "172.30.0.0/16", "172.31.0.0/16", "192.0.2.0/24"))
# Azure names a VNet peering with 1-80 characters (resource-name-rules, Microsoft.Network).
AZURE_PEERING_NAME_MAX = 80
DEFAULT_SERVICE_CIDR = IPv4Network("10.0.0.0/16")
DEFAULT_POD_CIDR = IPv4Network("10.244.0.0/16")
# Azure workload identity: the pod label that has its webhook project the identity's token, and the
# service-account annotation naming the identity (azure.github.io/azure-workload-identity).
WORKLOAD_IDENTITY_CLIENT = "azure.workload.identity/client-id"
WORKLOAD_IDENTITY_USE = "azure.workload.identity/use"


class AzureCni(StrEnum):
    """AKS pod networking: ``azure`` gives pods VNet IPs (routable over peering); ``overlay`` does not."""

    AZURE = "azure"
    OVERLAY = "overlay"


class PoolMode(StrEnum):
    SYSTEM = "System"
    USER = "User"


class CaDelivery(StrEnum):
    """How istiod gets its cluster's CA: a Kubernetes Secret, or files from Key Vault (CSI driver)."""

    SECRET = "secret"  # noqa: S105 - a delivery mode, not a password
    KEY_VAULT = "keyVault"


class NetworkPolicy(StrEnum):
    """AKS network policy engines (``cilium`` runs on the Cilium dataplane)."""

    NONE = "none"
    AZURE = "azure"
    CALICO = "calico"
    CILIUM = "cilium"


# Help for the fields AKS takes only at creation (azure-native's ManagedCluster forceNew list).
FIXED_CLUSTER = (
    " Fixed once the cluster exists: a change replaces the cluster, which Pulumi then believes still holds its "
    "objects; take the cluster out of `clusters`, `pulumi up`, and add it back instead."
)

KEY_VAULT_NAME_PREFIX = Field(
    "keyVaultNamePrefix",
    Text(KEY_VAULT_PREFIX, "start with a letter, then letters or digits, 2-17 characters (a '-' and 6 random characters follow)"),
    'Prefix of the Azure Key Vault holding the CA copies; "-" and 6 random characters follow (vault names are global). '
    "A letter first, 2-17 letters or digits. Changing it moves the vault: a new vault under a new name, with new copies "
    "and grants, made before the old one is deleted (which stays soft-deleted for 7 days).",
    default="istiomesh",
)
KEY_VAULT_LOCATION = Field(
    "keyVaultLocation",
    Text(AZURE_REGION, "use an Azure region name such as westeurope"),
    "Region of the Key Vault holding the CA copies; required with Azure clusters. Changing it moves the vault: a new vault "
    "under a new name (Azure keeps a deleted vault's name while it is soft-deleted), with new copies and grants, made "
    "before the old one is deleted; the vault's resource group keeps its first region.",
    default_text="none (required with Azure clusters)",
)
KEY_VAULT_RESOURCE_GROUP = Field(
    "keyVaultResourceGroup",
    Text(RESOURCE_GROUP, "use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'"),
    "Resource group of the Key Vault, created for it (in keyVaultLocation); the vault does not follow any cluster. "
    "Changing it moves the vault to a new group under a new name, made before the old vault and group are deleted.",
    default_text="`istio-mesh-vault-<stack>`",
)
REGISTRY_LOCATION = Field(
    "location",
    Text(AZURE_REGION, "use an Azure region name such as westeurope"),
    "Region of the registry. Changing it makes a new registry under a new name before the old one is deleted.",
    required=True,
    hint="name the registry's region, e.g. westeurope",
)
REGISTRY_SKU = Field(
    "sku",
    Text(choices=("Basic", "Standard", "Premium")),
    "Basic, Standard or Premium (storage, throughput, geo-replication; changed in place).",
    default="Basic",
)
REGISTRY_NAME_PREFIX = Field(
    "namePrefix",
    Text(re.compile(r"[a-z][a-z0-9]{1,43}"), "use 2-44 lowercase letters or digits, a letter first"),
    "Prefix of the registry's name; 6 random characters follow (registry names are global, 5-50 letters or digits). "
    "Changing it makes a new registry before the old one is deleted.",
    default="istiomesh",
)
CONTAINER_REGISTRY = Field(
    "containerRegistry",
    Object((REGISTRY_LOCATION, REGISTRY_SKU, REGISTRY_NAME_PREFIX), "containerRegistry"),
    "An Azure Container Registry for the mesh's images, {location, sku: Basic, namePrefix: istiomesh}, in the vault's "
    "resource group, without an admin user; every AKS cluster's kubelet identity may pull from it (AcrPull). Output: "
    "containerRegistry.loginServer.",
    default_text="none",
)
CA_DELIVERY = Field(
    "caDelivery",
    Choice(CaDelivery),
    "How istiod on AKS gets its CA: `secret` (the cacerts Secret, written from the Pulumi state) or `keyVault` (files "
    "mounted from Key Vault by the secrets-store CSI driver, read by a per-cluster identity federated to istiod's "
    "service account; the intermediate key never sits in a Kubernetes Secret).",
    default=CaDelivery.SECRET,
)
KEY_VAULT_PURGE_PROTECTION = Field(
    "keyVaultPurgeProtection",
    Boolean(),
    "Key Vault purge protection. Off by default so pulumi destroy leaves nothing behind; once on, Azure never lets it be turned off.",
    default=False,
)
ADMIN_KUBECONFIG_OUTPUT = Field(
    "aksAdminKubeconfigOutput",
    Boolean(),
    "Export each AKS cluster's admin kubeconfig (without entraId) in the `aks` output. It holds a client certificate: "
    "cluster-admin for anyone who can read the stack's outputs (stack references included), revocable only by "
    "rotating the cluster's certificates. Off: fetch credentials with `az aks get-credentials`. With entraId the "
    "output is always the user kubeconfig, which holds no credential.",
    default=False,
)

ADMIN_OBJECT_IDS = Field(
    "azureAdminObjectIds",
    ListOf(Text(ENTRA_OBJECT_ID, "use an Entra object id such as 5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a")),
    "Entra object ids (a group, say) granted what the identity running Pulumi is granted: Key Vault Secrets Officer on "
    "the vault and, on entraId clusters, AKS RBAC Cluster Admin. Without them only whoever ran the last `up` may delete "
    "the vault's secrets and the clusters' objects, so a `pulumi destroy` by anyone else fails with 403. The identity "
    "running Pulumi, if listed, is left out with a warning (it has its own grants).",
    default_text="none",
)

POOL_NAME = Field(
    "name",
    Text(AKS_POOL_NAME, "use at most 12 lowercase letters and digits, starting with a letter"),
    "At most 12 lowercase letters and digits. Renaming a pool replaces it; keep the first System pool's (AKS "
    "creates it with the cluster and cannot rename it).",
    required=True,
)
POOL_MODE = Field("mode", Choice(PoolMode), "`System` or `User`; one System pool at least.", default=PoolMode.USER)
POOL_VM_SIZE = Field(
    "vmSize",
    Text(AZURE_VM_SIZE, "use an Azure VM size such as Standard_D4s_v5"),
    "The pool's VM size."
    " Fixed for the first System pool (AKS creates it with the cluster and refuses the change, so the `up` fails: "
    "take the cluster out of the mesh and add it back); on another pool a change replaces that pool.",
    default="Standard_D4s_v5",
)
POOL_SUBNET = Field(
    "subnetCidr",
    Cidr(),
    "The pool's own subnet, inside `vnetCidr`. Fixed once the pool exists: Azure refuses to change the range of a "
    "subnet in use, so the `up` fails. Add a pool on a new range and remove the old one (for the first System pool: "
    "take the cluster out of the mesh and add it back).",
    required=True,
    hint="give the pool a subnet of its own inside vnetCidr",
)
POOL_COUNT = Field(
    "count",
    Integer(1, AKS_POOL_MAX_NODES),
    "Node count; with the autoscaler on, only the initial one (the autoscaler owns it afterwards, and a later change is not applied).",
    default=2,
)
POOL_MIN_COUNT = Field("minCount", Integer(1, AKS_POOL_MAX_NODES), "Autoscaler minimum.", default_text="`count`")
POOL_MAX_COUNT = Field(
    "maxCount",
    Integer(1, AKS_POOL_MAX_NODES),
    "Autoscaler maximum; the autoscaler is on when it differs from minCount.",
    default_text="`count`",
)
POOL_ZONES = Field(
    "availabilityZones",
    ListOf(Text(choices=("1", "2", "3"))),
    'Zones the pool\'s nodes spread over, e.g. ["1", "2", "3"]; fixed once the pool exists (in regions with zones): AKS '
    "refuses the change, so the `up` fails.",
    default_text="none",
)
POOL_FIELDS: tuple[Field[Any], ...] = (
    POOL_NAME, POOL_MODE, POOL_VM_SIZE, POOL_SUBNET, POOL_COUNT, POOL_MIN_COUNT, POOL_MAX_COUNT, POOL_ZONES,
)  # fmt: skip

REGION = Field(
    "region", Text(AZURE_REGION, "use an Azure region name such as westeurope"), (
        "Azure region, e.g. `westeurope`. Changing it replaces the cluster (with the default group, its group, VNet "
        "and everything in them too); take the cluster out of the mesh and add it back instead."
    ), required=True,
    hint="use an Azure region name such as westeurope",
)  # fmt: skip
RESOURCE_GROUP_NAME = Field(
    "resourceGroup",
    Text(RESOURCE_GROUP, "use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'"),
    "Resource group of the cluster and its VNet, created in the cluster's region. Clusters may share a group only "
    "within one region: Azure cannot move a group, so its location must not follow whichever cluster comes first. "
    "Two stacks in one subscription need groups of their own (the default names no stack); renaming a group "
    "replaces every cluster in it.",
    default_text="`istio-aks-<region>`",
)
VNET_CIDR = Field(
    "vnetCidr",
    Cidr(),
    "The cluster's VNet; all Azure VNets are peered, so they are disjoint.",
    required=True,
    hint="give the cluster's VNet range, e.g. 10.53.0.0/16",
)
SERVICE_CIDR = Field(
    "serviceCidr",
    Cidr(),
    "Service range; must not overlap any routed network, nor another service range on the same flat network." + FIXED_CLUSTER,
    default=DEFAULT_SERVICE_CIDR,
)
DNS_SERVICE_IP = Field(
    "dnsServiceIp", Address(), "kube-dns address, inside `serviceCidr`." + FIXED_CLUSTER, default_text="10th address of `serviceCidr`"
)
NETWORK_PLUGIN = Field(
    "networkPlugin",
    Choice(AzureCni),
    "`azure` (pods on VNet IPs) or `overlay` (pods on `podCidr`, NATed)." + FIXED_CLUSTER,
    default=AzureCni.AZURE,
)
POD_CIDR = Field("podCidr", Cidr(), "Overlay pod range (overlay only)." + FIXED_CLUSTER, default_text="`10.244.0.0/16` with overlay")
KUBERNETES_VERSION = Field(
    "kubernetesVersion", Version("use a version such as 1.33 or 1.33.2", parts=(2, 3)), "e.g. `1.33`.", default_text="AKS's default"
)
NODE_POOLS = Field(
    "nodePools",
    Objects(POOL_FIELDS, "a node pool", min_items=1),
    "The cluster's node pools (at most 100, 5000 nodes in all, as AKS takes), each on its own subnet, which with "
    "flat Azure CNI holds (nodes + 1) x 31 addresses (30 pods per node, one node more during upgrades) plus Azure's 5; "
    "see node pool fields.",
    required=True,
    hint="add a System pool at least",
)
SKU_TIER = Field(
    "skuTier",
    Text(choices=("Free", "Standard", "Premium")),
    "AKS tier: `Standard` (the API server's uptime SLA), `Premium` or `Free` (no SLA, for trials).",
    default="Standard",
)
NETWORK_POLICY = Field(
    "networkPolicy",
    Choice(NetworkPolicy),
    "Network policy engine: `calico`, `azure`, `cilium` (on the Cilium dataplane) or `none`." + FIXED_CLUSTER,
    default=NetworkPolicy.CALICO,
)
ENTRA_ID = Field(
    "entraId",
    Boolean(),
    "Entra ID authentication with Azure RBAC and local accounts disabled: the deploying identity is granted AKS RBAC Cluster "
    "Admin and the kubernetes provider runs the project's token command (no kubelogin). Off by default: a new role "
    "assignment can take minutes to reach the API server, and the first `pulumi up` may be refused until it does.",
    default=False,
)
AUTHORIZED_IP_RANGES = Field(
    "authorizedIpRanges",
    ListOf(PublicCidr()),
    "Public CIDRs allowed to reach the public API server: the operators' ranges (a warning is printed while it is open "
    "to anyone). The program then gives every AKS cluster a static outbound IP of its own and adds them all, since the "
    "other clusters' istiods come from there; at most 200 ranges with those (AKS's limit). Refused when the clusters "
    "span platforms: the program then sets operatorCidrs and the other clusters' egress addresses.",
    default_text="anyone",
)
PRIVATE_API_SERVER = Field(
    "privateApiServer", Boolean(), "Refused when `true`: every other cluster's istiod must reach this API server.", default=False
)
CLUSTER_FIELDS: tuple[Field[Any], ...] = (
    REGION, RESOURCE_GROUP_NAME, VNET_CIDR, SERVICE_CIDR, DNS_SERVICE_IP, NETWORK_PLUGIN, POD_CIDR,
    KUBERNETES_VERSION, NODE_POOLS, SKU_TIER, NETWORK_POLICY, ENTRA_ID, AUTHORIZED_IP_RANGES, PRIVATE_API_SERVER,
)  # fmt: skip


@dataclass(frozen=True)
class RegistrySpec:
    """The mesh's container registry.

    Args:
        location: its region.
        sku: Basic, Standard or Premium.
        name_prefix: its name's prefix; 6 random characters follow.
    """

    location: str
    sku: str
    name_prefix: str


@dataclass(frozen=True)
class AzureSettings:
    """Azure's mesh-wide settings.

    Args:
        key_vault_prefix: the Key Vault name's prefix; a random suffix makes it unique.
        key_vault_purge_protection: Key Vault purge protection.
        key_vault_location: the vault's region (none only without Azure clusters: the rules require it).
        key_vault_resource_group: the vault's resource group (none: ``istio-mesh-vault-<stack>``).
        ca_delivery: how istiod gets its CA.
        admin_kubeconfig_output: export the admin kubeconfigs of clusters without Entra ID (default false).
        admin_object_ids: Entra principals granted the deployer's rights, in lower case (default none).
        container_registry: the mesh's registry (default none).
    """

    key_vault_prefix: str
    key_vault_purge_protection: bool
    key_vault_location: str | None
    key_vault_resource_group: str | None
    ca_delivery: CaDelivery
    admin_kubeconfig_output: bool = False
    admin_object_ids: tuple[str, ...] = ()
    container_registry: RegistrySpec | None = None


@dataclass(frozen=True)
class AzureNodePool:
    """An AKS node pool on a subnet of its own.

    Args:
        name: pool name (lowercase letters and digits, at most 12, starting with a letter).
        mode: ``System`` or ``User``.
        vm_size: VM size.
        subnet_cidr: the pool's subnet, inside the cluster's VNet.
        count: initial node count; min_count/max_count bound the autoscaler.
        availability_zones: zones the nodes spread over (empty: none).
    """

    name: str
    mode: str
    vm_size: str
    subnet_cidr: IPv4Network
    count: int
    min_count: int
    max_count: int
    availability_zones: tuple[str, ...] = ()

    @property
    def autoscaled(self) -> bool:
        return self.min_count != self.max_count


@dataclass(frozen=True, kw_only=True)
class AzureCluster:
    """The Azure part of a cluster spec.

    Args:
        resource_group: resource group.
        vnet_cidr: the cluster's VNet; every Azure VNet in the mesh is peered, so they are disjoint.
        service_cidr: Kubernetes service range.
        dns_service_ip: kube-dns address inside service_cidr.
        cni: ``azure`` (pods on VNet IPs) or ``overlay`` (pods on pod_cidr).
        pod_cidr: overlay pod range (overlay only).
        kubernetes_version: AKS version (none: AKS's default).
        node_pools: one system pool at least.
        sku_tier: ``Free``, ``Standard`` or ``Premium`` (uptime SLA).
        authorized_ip_ranges: CIDRs allowed to reach the public API server (empty: anyone).
        network_policy: the network policy engine.
        entra_id: Entra ID authentication with Azure RBAC, local accounts disabled.
    """

    resource_group: str
    vnet_cidr: IPv4Network
    service_cidr: IPv4Network
    dns_service_ip: IPv4Address
    cni: AzureCni
    pod_cidr: IPv4Network | None
    kubernetes_version: str | None
    node_pools: tuple[AzureNodePool, ...]
    sku_tier: str
    authorized_ip_ranges: tuple[IPv4Network, ...]
    network_policy: NetworkPolicy = NetworkPolicy.CALICO
    entra_id: bool = False

    @property
    def system_pool(self) -> AzureNodePool:
        """The pool created with the cluster (the first System pool); AKS adds others only one by one."""
        return next(p for p in self.node_pools if p.mode == PoolMode.SYSTEM)

    @property
    def added_pools(self) -> tuple[AzureNodePool, ...]:
        """Every pool but the system pool, each an AgentPool resource of its own."""
        return tuple(p for p in self.node_pools if p is not self.system_pool)

    @property
    def cloud(self) -> str:
        return NAME

    @property
    def service_range(self) -> IPv4Network:
        return self.service_cidr


def azure_part(cluster: ClusterSpec) -> AzureCluster:
    return platform_part(cluster, AzureCluster)


def _registry(root: Reader) -> tuple[RegistrySpec | None, bool]:
    """``containerRegistry`` (``None`` when unset) and whether it failed."""
    entry = root.object(CONTAINER_REGISTRY)
    if entry is None:
        return None, root.problems.about(CONTAINER_REGISTRY.key)
    before = len(root.problems)
    location, sku, prefix = entry.value(REGISTRY_LOCATION), entry.value(REGISTRY_SKU), entry.value(REGISTRY_NAME_PREFIX)
    entry.reject_unknown()
    if len(root.problems) > before or location is None or sku is None or prefix is None:
        return None, True
    return RegistrySpec(location, sku, prefix), False


class AzureConfig:
    """The ``azure`` platform's config; see the module docstring."""

    name = NAME
    mesh_fields: tuple[Field[Any], ...] = (
        KEY_VAULT_NAME_PREFIX, KEY_VAULT_PURGE_PROTECTION, KEY_VAULT_LOCATION, KEY_VAULT_RESOURCE_GROUP, CA_DELIVERY,
        ADMIN_KUBECONFIG_OUTPUT, ADMIN_OBJECT_IDS, CONTAINER_REGISTRY,
    )  # fmt: skip
    cluster_fields = CLUSTER_FIELDS
    # With caDelivery: keyVault istiod's pods and service account carry Azure workload identity's
    # label and annotation (``components.platforms.azure.ca_delivery``), merged beside the user's own.
    owned_istiod_values: Mapping[tuple[str, ...], str] = {
        ("podLabels", WORKLOAD_IDENTITY_USE): "caDelivery: keyVault (istiod's Azure workload identity)",
        ("serviceAccountAnnotations", WORKLOAD_IDENTITY_CLIENT): "caDelivery: keyVault (istiod's Azure workload identity)",
    }

    def parse_settings(self, root: Reader) -> object | None:
        prefix = root.value(KEY_VAULT_NAME_PREFIX)
        purge = root.value(KEY_VAULT_PURGE_PROTECTION)
        location = root.value(KEY_VAULT_LOCATION)
        group = root.value(KEY_VAULT_RESOURCE_GROUP)
        delivery = root.value(CA_DELIVERY)
        admin_output = root.value(ADMIN_KUBECONFIG_OUTPUT)
        admins = root.value(ADMIN_OBJECT_IDS) or ()
        # Object IDs are GUIDs: one admin in two cases is listed twice.
        repeated = [index for (index, _), _first in later_repeats(enumerate(admins), lambda pair: pair[1].lower())]
        for index in repeated:
            root.fail(f"{ADMIN_OBJECT_IDS.key}[{index}]", "duplicate", f"{admins[index]} is listed twice; list each admin once")
        registry, registry_failed = _registry(root)
        if prefix is None or purge is None or delivery is None or admin_output is None or repeated or registry_failed:
            return None
        admins_lower = tuple(a.lower() for a in admins)
        return AzureSettings(prefix, purge, location, group, delivery, admin_output, admins_lower, registry)

    def parse_cluster(self, reader: Reader, name: str | None) -> tuple[str, ClusterPlatform] | None:
        region = reader.value(REGION)
        if name is not None and len(name) > AKS_DNS_PREFIX_MAX:
            reader.fail(
                "name",
                "name-length",
                f"{name} is {len(name)} characters; AKS takes it as the DNS prefix, which is at most {AKS_DNS_PREFIX_MAX}",
            )
        group = reader.value(RESOURCE_GROUP_NAME) or (f"istio-aks-{region}" if region else None)
        vnet = reader.value(VNET_CIDR)
        service = reader.value(SERVICE_CIDR)
        dns_ip = reader.value(DNS_SERVICE_IP)
        cni = reader.value(NETWORK_PLUGIN)
        pod = self._pod_cidr(reader, cni)
        _check_reserved_ranges(reader, {VNET_CIDR.key: vnet, SERVICE_CIDR.key: service, POD_CIDR.key: pod})
        version = reader.value(KUBERNETES_VERSION)
        pools = self._pools(reader, vnet, cni)
        if service is not None and dns_ip is None and not reader.has(DNS_SERVICE_IP):
            dns_ip = service.network_address + 10
        self._check_dns_ip(reader, service, dns_ip)
        tier = reader.value(SKU_TIER)
        policy = reader.value(NETWORK_POLICY)
        entra = reader.value(ENTRA_ID)
        authorized = reader.value(AUTHORIZED_IP_RANGES) or ()
        if reader.value(PRIVATE_API_SERVER):
            reader.fail(
                PRIVATE_API_SERVER.key,
                "private-api-server",
                "private AKS API servers are not supported: every other cluster's istiod must reach this API; "
                "keep it public and restrict it with authorizedIpRanges",
            )
        if reader.failed or None in (region, group, vnet, service, dns_ip, cni, tier, pools, policy, entra):
            return None
        assert region and group and vnet and service and dns_ip and cni and tier and pools and policy and entra is not None
        return region, AzureCluster(
            resource_group=group,
            vnet_cidr=vnet,
            service_cidr=service,
            dns_service_ip=dns_ip,
            cni=cni,
            pod_cidr=pod,
            kubernetes_version=version,
            node_pools=pools,
            sku_tier=tier,
            authorized_ip_ranges=authorized,
            network_policy=policy,
            entra_id=entra,
        )

    @staticmethod
    def _pod_cidr(reader: Reader, cni: AzureCni | None) -> IPv4Network | None:
        if cni is not AzureCni.OVERLAY:
            if reader.has(POD_CIDR):
                reader.fail(POD_CIDR.key, "pod-cidr", "only applies with networkPlugin: overlay; with Azure CNI pods take VNet subnet IPs")
            return None
        return reader.value(POD_CIDR) if reader.has(POD_CIDR) else DEFAULT_POD_CIDR

    @staticmethod
    def _pools(reader: Reader, vnet: IPv4Network | None, cni: AzureCni | None) -> tuple[AzureNodePool, ...] | None:
        pools: list[AzureNodePool] = []
        subnets: list[tuple[str, IPv4Network]] = []
        entries = reader.objects(NODE_POOLS)
        for pool_entry in entries:
            index = pool_entry.index
            pool = _pool(pool_entry)
            if pool is None:
                continue
            pools.append(pool)
            subnets.append((f"nodePools[{index}].subnetCidr", pool.subnet_cidr))
            if vnet is not None and not pool.subnet_cidr.subnet_of(vnet):
                reader.fail(
                    f"nodePools[{index}].subnetCidr",
                    "outside-vnet",
                    f"{pool.subnet_cidr} is outside vnetCidr {vnet}; pick a subnet inside the VNet",
                )
            elif cni is not None:
                _check_pool_subnet_size(reader, index, pool, cni)
        _check_cluster_size(reader, len(entries), pools)
        for (key_a, net_a), (key_b, net_b) in overlapping_pairs(subnets):
            reader.fail(
                key_b, "overlap", f"{net_b} overlaps {reader.at(key_a)} ({reader.owner}) {net_a}; give every subnet a range of its own"
            )
        for name, count in counted_repeats(p.name for p in pools):
            reader.fail(NODE_POOLS.key, "duplicate-name", f"pool name {name} is used {count} times; pool names must be unique")
        # Only when every pool parsed: the one that failed may be the System pool.
        if pools and len(pools) == len(entries) and not any(p.mode == PoolMode.SYSTEM for p in pools):
            reader.fail(NODE_POOLS.key, "no-system-pool", "has no System pool; AKS needs one (set mode: System on a pool)")
        return tuple(pools) if not reader.failed else None

    @staticmethod
    def _check_dns_ip(reader: Reader, service: IPv4Network | None, dns_ip: IPv4Address | None) -> None:
        if service is None or dns_ip is None:
            return
        if dns_ip not in service:
            reader.fail(DNS_SERVICE_IP.key, "dns-service-ip", f"{dns_ip} is outside serviceCidr {service}; pick an address inside it")
        elif dns_ip in (service.network_address, service.network_address + 1, service.broadcast_address):
            reader.fail(
                DNS_SERVICE_IP.key,
                "dns-service-ip",
                f"{dns_ip} is reserved in {service} (network, API server or broadcast address); use e.g. {service.network_address + 10}",
            )

    def check(self, mesh: ParsedMesh, problems: Problems) -> None:
        """The vault's region must be given, ``caDelivery: keyVault`` needs an AKS primary, and across
        platforms the API ranges are the program's (within one, an open API is warned of); the other
        Azure rules concern one cluster at a time and run while it parses."""
        settings = mesh.settings.get(NAME)
        clusters = mesh.on(NAME)
        missing = isinstance(settings, AzureSettings) and settings.key_vault_location is None
        if missing and clusters and not problems.about(KEY_VAULT_LOCATION.key):
            # A default taken from the clusters would move when one is added or removed, and moving
            # the vault replaces it: the CA copies go, and a purge-protected vault keeps its name taken.
            problems.add(
                KEY_VAULT_LOCATION.key,
                "required",
                "is required with Azure clusters: the Key Vault holding the mesh CA cannot move once created; "
                f"set it to a region of your choice, e.g. keyVaultLocation: {clusters[0].value.region}",
            )
        _peering_names(clusters, problems)
        _resource_groups(clusters, settings if isinstance(settings, AzureSettings) else None, problems)
        _vault_delivery_used(mesh, settings, problems)
        _admin_kubeconfig_used(mesh, settings, problems)
        _api_ranges(mesh, problems)

    def routed_ranges(self, mesh: ParsedMesh) -> Iterable[RoutedRange]:
        for entry in mesh.on(NAME):
            azure = azure_part(entry.value)
            yield RoutedRange(entry.at("vnetCidr"), entry.owner, azure.vnet_cidr)
            if azure.pod_cidr is not None:
                yield RoutedRange(entry.at("podCidr"), entry.owner, azure.pod_cidr, natted=True)

    # AKS takes at most 200 authorized IP ranges; the program lists the cluster's own outbound IP
    # too. Azure's security rules take address lists, so the gateway's ranges have no such limit.
    exposure_limits = ExposureLimits(api_ranges=200, own_egress=True)
    # Provided intermediates may be read from it (caProvidedIntermediates).
    secret_store: SecretStore | None = KEY_VAULT
    # What Route 53 can do with its ingresses (ingressDns).
    dns_reach = DnsReach.AZURE_REGION

    def egress_sources(self, mesh: ParsedMesh) -> Mapping[str, frozenset[EgressSource]]:
        """Each cluster's one outbound public IP."""
        return {entry.value.name: frozenset({EgressSource(f"{entry.value.name} outbound")}) for entry in mesh.on(NAME)}

    def plan_names(self, mesh: MeshSpec, plan: NamePlan) -> None:
        """The network, each AKS cluster, the vault, with caDelivery: keyVault istiod's access, and the registry."""
        clusters = mesh.on(NAME)
        if not clusters:
            return
        outbound = mesh.spans_platforms or any(azure_part(c).authorized_ip_ranges for c in clusters)
        _plan_network(mesh, clusters, outbound, plan)
        for cluster in clusters:
            _plan_aks(mesh, cluster, outbound, plan)
        settings = platform_settings(mesh, NAME, AzureSettings)
        _plan_vault(mesh, clusters, plan)
        if settings.ca_delivery is CaDelivery.KEY_VAULT:
            for cluster in (c for c in clusters if not mesh.is_remote(c.name)):
                _plan_vault_access(mesh, cluster.name, plan)
        if settings.container_registry is not None:
            registry = plan.add(names.REGISTRY)
            plan.add(names.REGISTRY_SUFFIX, registry=registry)
            plan.add(names.REGISTRY_REGISTRY, registry=registry)
            for cluster in clusters:
                plan.add(names.ACR_PULL, [cluster_source(mesh, cluster.name)], registry=registry, cluster=cluster.name)

    def api_allow_list(self, mesh: ParsedMesh, entry: Entry[ClusterSpec]) -> AllowList | None:
        """``authorizedIpRanges`` and every AKS cluster's outbound IP (``AksCluster._api_access``);
        none when the API server is open."""
        ranges = azure_part(entry.value).authorized_ip_ranges
        if not ranges:
            return None
        outbound = frozenset[EgressSource]().union(*self.egress_sources(mesh).values())
        return AllowList(entry.at(AUTHORIZED_IP_RANGES.key), len(set(ranges)), outbound)

    def flat_network_problem(self, first: ClusterSpec, second: ClusterSpec) -> str | None:
        overlay = [c.name for c in (first, second) if azure_part(c).cni is AzureCni.OVERLAY]
        if not overlay:
            return None
        verb = "uses" if len(overlay) == 1 else "use"
        return (
            f"{' and '.join(overlay)} {verb} overlay networking, whose pod IPs are not routable over VNet peering "
            "(set networkPlugin: azure for a flat network)"
        )


def _pool_source(mesh: MeshSpec, cluster: ClusterSpec, pool: AzureNodePool) -> NameSource:
    index = azure_part(cluster).node_pools.index(pool)
    return cluster_source(mesh, cluster.name, f"nodePools[{index}].name")


def _plan_network(mesh: MeshSpec, clusters: Sequence[ClusterSpec], outbound: bool, plan: NamePlan) -> None:
    network = plan.add(names.NETWORK)
    for cluster in clusters:
        group = azure_part(cluster).resource_group
        from_group = cluster_source(mesh, cluster.name, RESOURCE_GROUP_NAME.key if group != f"istio-aks-{cluster.region}" else REGION.key)
        plan.add(names.GROUP, [from_group], network=network, group=group)
        named = [cluster_source(mesh, cluster.name)]
        plan.add(names.VNET, named, network=network, cluster=cluster.name)
        for pool in azure_part(cluster).node_pools:
            plan.add(names.SUBNET, [*named, _pool_source(mesh, cluster, pool)], network=network, cluster=cluster.name, pool=pool.name)
        if outbound:
            plan.add(names.OUTBOUND_IP, named, network=network, cluster=cluster.name)
    for source, target in permutations(clusters, 2):
        sources = [cluster_source(mesh, source.name), cluster_source(mesh, target.name)]
        plan.add(names.PEERING, sources, network=network, source=source.name, target=target.name)


def _plan_aks(mesh: MeshSpec, cluster: ClusterSpec, outbound: bool, plan: NamePlan) -> None:
    azure = azure_part(cluster)
    named = [cluster_source(mesh, cluster.name)]
    aks = plan.add(names.AKS, named, cluster=cluster.name)
    parts = {"aks": aks, "cluster": cluster.name}
    entra = [names.CLUSTER_ADMIN, names.CLUSTER_ADMIN_PROPAGATION] if azure.entra_id else []
    for template in (names.MANAGED_CLUSTER, names.PROVIDER, names.POOLS, *entra):
        plan.add(template, named, **parts)
    if azure.entra_id:
        for index, admin in enumerate(platform_settings(mesh, NAME, AzureSettings).admin_object_ids):
            plan.add(names.ADMIN_CLUSTER_ADMIN, [*named, NameSource(f"{ADMIN_OBJECT_IDS.key}[{index}]")], principal=admin, **parts)
    for pool in azure.node_pools:
        pool_named = [*named, _pool_source(mesh, cluster, pool)]
        if pool is not azure.system_pool:
            plan.add(names.AGENT_POOL, pool_named, pool=pool.name, **parts)
        plan.add(names.NETWORK_CONTRIBUTOR, pool_named, scope=names.subnet_scope(pool.name), **parts)
    if outbound:
        plan.add(names.NETWORK_CONTRIBUTOR, named, scope=names.outbound_ip_scope(0), **parts)


def _plan_vault(mesh: MeshSpec, clusters: Sequence[ClusterSpec], plan: NamePlan) -> None:
    vault = plan.add(names.VAULT)
    for template in (names.VAULT_GROUP, names.VAULT_SUFFIX, names.VAULT_VAULT, names.SECRETS_OFFICER):
        plan.add(template, vault=vault)
    for index, admin in enumerate(platform_settings(mesh, NAME, AzureSettings).admin_object_ids):
        plan.add(names.ADMIN_SECRETS_OFFICER, [NameSource(f"{ADMIN_OBJECT_IDS.key}[{index}]")], vault=vault, principal=admin)
    plan.add(names.VAULT_SECRET, vault=vault, secret=names.ROOT_CERT_NAME)
    for cluster in clusters:
        for file in (CA_CERT, CA_KEY, CERT_CHAIN):
            plan.add(names.VAULT_SECRET, [cluster_source(mesh, cluster.name)], vault=vault, secret=names.secret_name(cluster.name, file))


def _plan_vault_access(mesh: MeshSpec, cluster: str, plan: NamePlan) -> None:
    named = [cluster_source(mesh, cluster)]
    access = plan.add(names.VAULT_ACCESS, named, cluster=cluster)
    plan.add(names.IDENTITY, named, access=access, cluster=cluster)
    for version in mesh.versions:
        account = istiod_service(version)
        plan.add(names.FEDERATION, [*named, revision_source(mesh, version)], access=access, cluster=cluster, account=account)
    for file in CA_FILES:
        plan.add(names.READS, named, access=access, cluster=cluster, file=file.removesuffix(".pem"))
    plan.add(names.READS_PROPAGATION, named, access=access, cluster=cluster)


def _vault_delivery_used(mesh: ParsedMesh, settings: object, problems: Problems) -> None:
    """Only istiod reads the CA, and only primaries run istiod: with AKS clusters that are all remotes,
    ``keyVault`` would deliver nothing (a mesh without AKS clusters is refused by the config layer's
    rule for unused platform keys)."""
    clusters = mesh.on(NAME)
    if not isinstance(settings, AzureSettings) or settings.ca_delivery is not CaDelivery.KEY_VAULT:
        return
    if clusters and len(mesh.clusters) == mesh.listed and all(c.value.role is Role.REMOTE for c in clusters):
        problems.add(
            CA_DELIVERY.key,
            "unused",
            f"{CaDelivery.KEY_VAULT} is only used by azure primaries, whose istiod reads its CA from Key Vault, and every "
            "azure cluster here is a remote, which runs no istiod; remove it",
        )


def _admin_kubeconfig_used(mesh: ParsedMesh, settings: object, problems: Problems) -> None:
    """An Entra ID cluster has no admin kubeconfig (local accounts are off): with every AKS cluster
    on Entra ID, ``aksAdminKubeconfigOutput`` would export nothing."""
    clusters = mesh.on(NAME)
    if not isinstance(settings, AzureSettings) or not settings.admin_kubeconfig_output:
        return
    if clusters and len(mesh.clusters) == mesh.listed and all(azure_part(c.value).entra_id for c in clusters):
        problems.add(
            ADMIN_KUBECONFIG_OUTPUT.key,
            "unused",
            "every azure cluster here uses entraId, which has no admin kubeconfig (local accounts are off); their "
            "credential-free user kubeconfigs are exported anyway; remove it",
        )


AKS_API = ApiExposure(
    AUTHORIZED_IP_RANGES.key,
    "the AKS API server",
    "operatorCidrs, the cluster's own outbound addresses and the other clusters' egress addresses",
    "every AKS cluster's outbound IP",
)


def _api_ranges(mesh: ParsedMesh, problems: Problems) -> None:
    for entry in mesh.on(NAME):
        report_api_exposure(mesh, entry, azure_part(entry.value).authorized_ip_ranges, AKS_API, problems)


def _pool(reader: Reader) -> AzureNodePool | None:
    name = reader.value(POOL_NAME)
    mode = reader.value(POOL_MODE)
    size = reader.value(POOL_VM_SIZE)
    subnet = reader.value(POOL_SUBNET)
    counts = node_counts(reader, POOL_COUNT, POOL_MIN_COUNT, POOL_MAX_COUNT)
    zones = reader.value(POOL_ZONES) or ()
    reader.reject_unknown()
    if reader.failed or name is None or mode is None or size is None or subnet is None or counts is None:
        return None
    return AzureNodePool(name, str(mode), size, subnet, *counts, availability_zones=zones)


def _check_reserved_ranges(reader: Reader, networks: Mapping[str, IPv4Network | None]) -> None:
    for key, network in networks.items():
        reserved = next((r for r in AKS_RESERVED_RANGES if network is not None and network.overlaps(r)), None)
        if reserved is not None:
            reader.fail(key, "aks-reserved-range", f"{network} overlaps {reserved}, which AKS reserves; pick a range outside it")


def _check_pool_subnet_size(reader: Reader, index: int, pool: AzureNodePool, cni: AzureCni) -> None:
    """The pool's subnet holds its largest node count and the upgrade surge, with their pods under flat Azure CNI."""
    per_node = AKS_AZURE_CNI_MAX_PODS + 1 if cni is AzureCni.AZURE else 1
    nodes = pool.max_count + AKS_UPGRADE_SURGE_NODES
    needed = nodes * per_node
    usable = pool.subnet_cidr.num_addresses - AZURE_SUBNET_RESERVED
    if needed <= usable:
        return
    prefix = next(p for p in range(32, -1, -1) if 2 ** (32 - p) - AZURE_SUBNET_RESERVED >= needed)
    bound = "maxCount" if pool.autoscaled else "count"
    taken = (
        f"with Azure CNI each node takes {per_node} (itself and AKS's default of {AKS_AZURE_CNI_MAX_PODS} pods)"
        if cni is AzureCni.AZURE
        else "each node takes 1 (its pods take podCidr addresses)"
    )
    reader.fail(
        f"nodePools[{index}].subnetCidr",
        "subnet-too-small",
        f"{pool.subnet_cidr} has {usable} usable addresses (Azure keeps {AZURE_SUBNET_RESERVED} of its "
        f"{pool.subnet_cidr.num_addresses}), but pool {pool.name} needs {needed}: {taken}, for its {pool.max_count} nodes "
        f"({bound}) and {AKS_UPGRADE_SURGE_NODES} more while AKS upgrades; give it a /{prefix} or larger, or fewer nodes",
    )


def _check_cluster_size(reader: Reader, listed: int, pools: list[AzureNodePool]) -> None:
    if listed > AKS_MAX_POOLS:
        reader.fail(
            NODE_POOLS.key,
            "too-many-pools",
            f"lists {listed} pools; AKS takes at most {AKS_MAX_POOLS} per cluster: merge pools of one VM size, or split the cluster",
        )
    nodes = sum(p.max_count for p in pools)
    if nodes > AKS_CLUSTER_MAX_NODES:
        reader.fail(
            NODE_POOLS.key,
            "too-many-nodes",
            f"can grow to {nodes} nodes (the pools' maxCount, or count); AKS takes at most {AKS_CLUSTER_MAX_NODES} per "
            "cluster: lower maxCount, or split the cluster",
        )


def _peering_names(clusters: Sequence[Entry[ClusterSpec]], problems: Problems) -> None:
    """Every pair of AKS clusters is peered both ways, each peering named after the pair (``AzureNetwork``)."""
    for first, second in combinations(clusters, 2):
        name = names.peering_name(second.value.name, first.value.name)
        if len(name) > AZURE_PEERING_NAME_MAX:
            joined = AZURE_PEERING_NAME_MAX - len(names.peering_name("", ""))
            problems.add(
                second.at("name"),
                "peering-name-length",
                f"the VNet peerings with {first.label('name')} are named {name} and back ({len(name)} characters), "
                f"more than the {AZURE_PEERING_NAME_MAX} Azure takes; shorten the two cluster names to {joined} characters together",
                second.owner,
            )


def _resource_groups(clusters: Sequence[Entry[ClusterSpec]], settings: AzureSettings | None, problems: Problems) -> None:
    """A group is created in its clusters' region, so clusters share one only within a region: a
    location taken from one of them would move when it is reordered or removed, and Azure cannot
    move a group (replacing it deletes every cluster in it). Azure compares group names ignoring
    case, so two spellings name one group; the vault's group is created apart from the clusters'."""
    first_in: dict[str, Entry[ClusterSpec]] = {}
    for entry in clusters:
        group = azure_part(entry.value).resource_group
        first = first_in.setdefault(group.lower(), entry)
        other = azure_part(first.value).resource_group
        if other != group:
            problems.add(
                entry.at(RESOURCE_GROUP_NAME.key),
                "resource-group-spelling",
                f"{group} names the resource group {other} of {first.label(RESOURCE_GROUP_NAME.key)}: Azure ignores case in "
                f"group names; spell it {other}",
                entry.owner,
            )
        elif first.value.region != entry.value.region:
            problems.add(
                entry.at(RESOURCE_GROUP_NAME.key),
                "resource-group-regions",
                f"{group} is also the group of {first.label(RESOURCE_GROUP_NAME.key)} in {first.value.region}, but this "
                f"cluster is in {entry.value.region}; a group sits in one region and Azure cannot move it, so give the "
                f"clusters of each region a group of their own (e.g. istio-aks-{entry.value.region})",
                entry.owner,
            )
    vault_group = settings.key_vault_resource_group if settings else None
    shared = first_in.get(vault_group.lower()) if vault_group else None
    if shared is not None:
        problems.add(
            KEY_VAULT_RESOURCE_GROUP.key,
            "resource-group-shared",
            f"{vault_group} is also the group of {shared.label(RESOURCE_GROUP_NAME.key)}; the program creates the vault's "
            "group apart from the clusters' (each is deleted with its contents): name another group",
        )
