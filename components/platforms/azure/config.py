"""Azure's config: the Key Vault settings and each AKS cluster's fields, parsed and checked.

Rules only Azure knows: a System pool per cluster; pool subnets inside their VNet and disjoint;
pool names unique (they name subnets and resources); the cluster name fits AKS's DNS prefix (1-54
characters; the program uses the cluster name as the prefix); the DNS service address inside the
service range and not reserved; a pod range only with overlay networking; private API servers
refused, because every other cluster's istiod must reach this one's API.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from components.config.counts import node_counts
from components.config.fields import Field, Reader
from components.config.kinds import Address, Boolean, Choice, Cidr, Integer, ListOf, Objects, Text
from components.config.model import ClusterPlatform, ClusterSpec, platform_part
from components.config.platform import EgressSource, ExposureLimits, ParsedMesh, RoutedRange
from components.config.problems import Problems
from components.config.rules import overlapping_pairs

NAME = "azure"
AZURE_REGION = re.compile(r"^[a-z][a-z0-9]*$")
AKS_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
AKS_K8S_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
AZURE_VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,89}[-\w_()]$")
# Vault names: 3-24 characters, a letter first; the prefix leaves room for "-" and 6 random characters.
KEY_VAULT_PREFIX = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{1,16}$")
# AKS DNS prefixes are 1-54 characters; the cluster name is used as the prefix.
AKS_DNS_PREFIX_MAX = 54
# AKS caps a node pool at 1000 nodes.
AKS_POOL_MAX_NODES = 1000
DEFAULT_SERVICE_CIDR = IPv4Network("10.0.0.0/16")
DEFAULT_POD_CIDR = IPv4Network("10.244.0.0/16")


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

POOL_NAME = Field(
    "name",
    Text(AKS_POOL_NAME, "use at most 12 lowercase letters and digits, starting with a letter"),
    "At most 12 lowercase letters and digits.",
    required=True,
)
POOL_MODE = Field("mode", Choice(PoolMode), "`System` or `User`; one System pool at least.", default=PoolMode.USER)
POOL_VM_SIZE = Field(
    "vmSize", Text(AZURE_VM_SIZE, "use an Azure VM size such as Standard_D4s_v5"), "The pool's VM size.", default="Standard_D4s_v5"
)
POOL_SUBNET = Field(
    "subnetCidr",
    Cidr(),
    "The pool's own subnet, inside `vnetCidr`.",
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
    'Zones the pool\'s nodes spread over, e.g. ["1", "2", "3"]; fixed once the pool exists (in regions with zones).',
    default_text="none",
)
POOL_FIELDS: tuple[Field[Any], ...] = (
    POOL_NAME, POOL_MODE, POOL_VM_SIZE, POOL_SUBNET, POOL_COUNT, POOL_MIN_COUNT, POOL_MAX_COUNT, POOL_ZONES,
)  # fmt: skip

REGION = Field(
    "region", Text(AZURE_REGION, "use an Azure region name such as westeurope"), "Azure region, e.g. `westeurope`.", required=True,
    hint="use an Azure region name such as westeurope",
)  # fmt: skip
RESOURCE_GROUP_NAME = Field(
    "resourceGroup",
    Text(RESOURCE_GROUP, "use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'"),
    "Resource group of the cluster and its VNet.",
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
    "Service range; must not overlap any routed network, nor another service range on the same flat network.",
    default=DEFAULT_SERVICE_CIDR,
)
DNS_SERVICE_IP = Field("dnsServiceIp", Address(), "kube-dns address, inside `serviceCidr`.", default_text="10th address of `serviceCidr`")
NETWORK_PLUGIN = Field(
    "networkPlugin",
    Choice(AzureCni),
    "`azure` (pods on VNet IPs) or `overlay` (pods on `podCidr`, NATed).",
    default=AzureCni.AZURE,
)
POD_CIDR = Field("podCidr", Cidr(), "Overlay pod range (overlay only).", default_text="`10.244.0.0/16` with overlay")
KUBERNETES_VERSION = Field(
    "kubernetesVersion", Text(AKS_K8S_VERSION, "use a version such as 1.33 or 1.33.2"), "e.g. `1.33`.", default_text="AKS's default"
)
NODE_POOLS = Field(
    "nodePools",
    Objects(POOL_FIELDS, "a node pool", min_items=1),
    "The cluster's node pools, each on its own subnet; see node pool fields.",
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
    "Network policy engine: `calico`, `azure`, `cilium` (on the Cilium dataplane) or `none`.",
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
    ListOf(Cidr()),
    "CIDRs allowed to reach the public API server: the operators' ranges. The program then gives every AKS cluster a "
    "static outbound IP of its own and adds them all, since the other clusters' istiods come from there. Refused when "
    "the clusters span platforms: the program then sets operatorCidrs and the other clusters' egress addresses.",
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
class AzureSettings:
    """Azure's mesh-wide settings.

    Args:
        key_vault_prefix: the Key Vault name's prefix; a random suffix makes it unique.
        key_vault_purge_protection: Key Vault purge protection.
        key_vault_location: the vault's region (none only without Azure clusters: the rules require it).
        key_vault_resource_group: the vault's resource group (none: ``istio-mesh-vault-<stack>``).
        ca_delivery: how istiod gets its CA.
    """

    key_vault_prefix: str
    key_vault_purge_protection: bool
    key_vault_location: str | None
    key_vault_resource_group: str | None
    ca_delivery: CaDelivery


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


@dataclass(frozen=True)
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


class AzureConfig:
    """The ``azure`` platform's config; see the module docstring."""

    name = NAME
    mesh_fields: tuple[Field[Any], ...] = (
        KEY_VAULT_NAME_PREFIX, KEY_VAULT_PURGE_PROTECTION, KEY_VAULT_LOCATION, KEY_VAULT_RESOURCE_GROUP, CA_DELIVERY,
    )  # fmt: skip
    cluster_fields = CLUSTER_FIELDS

    def parse_settings(self, root: Reader) -> object | None:
        prefix = root.value(KEY_VAULT_NAME_PREFIX)
        purge = root.value(KEY_VAULT_PURGE_PROTECTION)
        location = root.value(KEY_VAULT_LOCATION)
        group = root.value(KEY_VAULT_RESOURCE_GROUP)
        delivery = root.value(CA_DELIVERY)
        if prefix is None or purge is None or delivery is None:
            return None
        return AzureSettings(prefix, purge, location, group, delivery)

    def parse_cluster(self, entry: Reader, name: str | None) -> tuple[str, ClusterPlatform] | None:
        region = entry.value(REGION)
        if name is not None and len(name) > AKS_DNS_PREFIX_MAX:
            entry.fail(
                "name",
                "name-length",
                f"{name} is {len(name)} characters; AKS takes it as the DNS prefix, which is at most {AKS_DNS_PREFIX_MAX}",
            )
        group = entry.value(RESOURCE_GROUP_NAME) or (f"istio-aks-{region}" if region else None)
        vnet = entry.value(VNET_CIDR)
        service = entry.value(SERVICE_CIDR)
        dns_ip = entry.value(DNS_SERVICE_IP)
        cni = entry.value(NETWORK_PLUGIN)
        pod = self._pod_cidr(entry, cni)
        version = entry.value(KUBERNETES_VERSION)
        pools = self._pools(entry, vnet)
        if service is not None and dns_ip is None and not entry.has(DNS_SERVICE_IP):
            dns_ip = service.network_address + 10
        self._check_dns_ip(entry, service, dns_ip)
        tier = entry.value(SKU_TIER)
        policy = entry.value(NETWORK_POLICY)
        entra = entry.value(ENTRA_ID)
        authorized = entry.value(AUTHORIZED_IP_RANGES) or ()
        if entry.value(PRIVATE_API_SERVER):
            entry.fail(
                PRIVATE_API_SERVER.key,
                "private-api-server",
                "private AKS API servers are not supported: every other cluster's istiod must reach this API; "
                "keep it public and restrict it with authorizedIpRanges",
            )
        if entry.failed or None in (region, group, vnet, service, dns_ip, cni, tier, pools, policy, entra):
            return None
        assert region and group and vnet and service and dns_ip and cni and tier and pools and policy and entra is not None
        return region, AzureCluster(group, vnet, service, dns_ip, cni, pod, version, pools, tier, authorized, policy, entra)

    @staticmethod
    def _pod_cidr(entry: Reader, cni: AzureCni | None) -> IPv4Network | None:
        if cni is not AzureCni.OVERLAY:
            if entry.has(POD_CIDR):
                entry.fail(POD_CIDR.key, "pod-cidr", "only applies with networkPlugin: overlay; with Azure CNI pods take VNet subnet IPs")
            return None
        return entry.value(POD_CIDR) if entry.has(POD_CIDR) else DEFAULT_POD_CIDR

    @staticmethod
    def _pools(entry: Reader, vnet: IPv4Network | None) -> tuple[AzureNodePool, ...] | None:
        pools: list[AzureNodePool] = []
        entries = entry.objects(NODE_POOLS)
        for index, pool_entry in enumerate(entries):
            pool = _pool(pool_entry)
            if pool is None:
                continue
            pools.append(pool)
            if vnet is not None and not pool.subnet_cidr.subnet_of(vnet):
                entry.fail(
                    f"nodePools[{index}].subnetCidr",
                    "outside-vnet",
                    f"{pool.subnet_cidr} is outside vnetCidr {vnet}; pick a subnet inside the VNet",
                )
        subnets = [(f"nodePools[{i}].subnetCidr", p.subnet_cidr) for i, p in enumerate(pools)]
        for (key_a, net_a), (key_b, net_b) in overlapping_pairs(subnets):
            entry.fail(
                key_b, "overlap", f"{net_b} overlaps {entry.at(key_a)} ({entry.owner}) {net_a}; give every subnet a range of its own"
            )
        names = [p.name for p in pools]
        for name in sorted({n for n in names if names.count(n) > 1}):
            entry.fail(NODE_POOLS.key, "duplicate-name", f"pool name {name} is used {names.count(name)} times; pool names must be unique")
        # Only when every pool parsed: the one that failed may be the System pool.
        if pools and len(pools) == len(entries) and not any(p.mode == PoolMode.SYSTEM for p in pools):
            entry.fail(NODE_POOLS.key, "no-system-pool", "has no System pool; AKS needs one (set mode: System on a pool)")
        return tuple(pools) if not entry.failed else None

    @staticmethod
    def _check_dns_ip(entry: Reader, service: IPv4Network | None, dns_ip: IPv4Address | None) -> None:
        if service is None or dns_ip is None:
            return
        if dns_ip not in service:
            entry.fail(DNS_SERVICE_IP.key, "dns-service-ip", f"{dns_ip} is outside serviceCidr {service}; pick an address inside it")
        elif dns_ip in (service.network_address, service.network_address + 1, service.broadcast_address):
            entry.fail(
                DNS_SERVICE_IP.key,
                "dns-service-ip",
                f"{dns_ip} is reserved in {service} (network, API server or broadcast address); use e.g. {service.network_address + 10}",
            )

    def check(self, mesh: ParsedMesh, problems: Problems) -> None:
        """The vault's region must be given, and across platforms the API ranges are the program's;
        the other Azure rules concern one cluster at a time and run while it parses."""
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
        for entry in clusters if mesh.spans_platforms else ():
            if azure_part(entry.value).authorized_ip_ranges:
                problems.add(
                    entry.at(AUTHORIZED_IP_RANGES.key),
                    "derived",
                    "is set by the program when the clusters span platforms: operatorCidrs, the cluster's own outbound "
                    "addresses and the other clusters' egress addresses; move your operators' ranges to operatorCidrs and remove it",
                    entry.owner,
                )

    def routed_ranges(self, mesh: ParsedMesh) -> Iterable[RoutedRange]:
        for entry in mesh.on(NAME):
            azure = azure_part(entry.value)
            yield RoutedRange(entry.at("vnetCidr"), entry.owner, azure.vnet_cidr)
            if azure.pod_cidr is not None:
                yield RoutedRange(entry.at("podCidr"), entry.owner, azure.pod_cidr, natted=True)

    # AKS takes at most 200 authorized IP ranges; the program lists the cluster's own outbound IP
    # too. Azure's security rules take address lists, so the gateway's ranges have no such limit.
    exposure_limits = ExposureLimits(api_ranges=200, own_egress=True)

    def egress_sources(self, mesh: ParsedMesh) -> Mapping[str, frozenset[EgressSource]]:
        """Each cluster's one outbound public IP."""
        return {entry.value.name: frozenset({EgressSource(f"{entry.value.name} outbound")}) for entry in mesh.on(NAME)}

    def flat_network_problem(self, first: ClusterSpec, second: ClusterSpec) -> str | None:
        overlay = [c.name for c in (first, second) if azure_part(c).cni is AzureCni.OVERLAY]
        if not overlay:
            return None
        verb = "uses" if len(overlay) == 1 else "use"
        return (
            f"{' and '.join(overlay)} {verb} overlay networking, whose pod IPs are not routable over VNet peering "
            "(set networkPlugin: azure for a flat network)"
        )


def _pool(entry: Reader) -> AzureNodePool | None:
    name = entry.value(POOL_NAME)
    mode = entry.value(POOL_MODE)
    size = entry.value(POOL_VM_SIZE)
    subnet = entry.value(POOL_SUBNET)
    counts = node_counts(entry, POOL_COUNT, POOL_MIN_COUNT, POOL_MAX_COUNT)
    zones = entry.value(POOL_ZONES) or ()
    entry.reject_unknown()
    if entry.failed or name is None or mode is None or size is None or subnet is None or counts is None:
        return None
    return AzureNodePool(name, str(mode), size, subnet, *counts, availability_zones=zones)
