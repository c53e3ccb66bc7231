"""The mesh config model: frozen, typed objects a ``MeshSpec`` is made of.

``components.spec`` builds them from stack config and validates them; every other component
reads them and nothing else of the config.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Any

# Istio's tools/certs profile: ROOTCA_DAYS=3650 and INTERMEDIATE_DAYS=730.
DEFAULT_ROOT_VALIDITY_HOURS = 3650 * 24
DEFAULT_INTERMEDIATE_VALIDITY_HOURS = 730 * 24
# Renew the root a year and the intermediates a month before they expire.
DEFAULT_ROOT_EARLY_RENEWAL_HOURS = 365 * 24
DEFAULT_INTERMEDIATE_EARLY_RENEWAL_HOURS = 30 * 24


class Cloud(StrEnum):
    """Where a cluster runs."""

    AZURE = "azure"
    AWS = "aws"
    EXISTING = "existing"


class Topology(StrEnum):
    """Istio's multicluster control-plane models."""

    MULTI_PRIMARY = "multi-primary"
    PRIMARY_REMOTE = "primary-remote"


class Role(StrEnum):
    """A cluster's control-plane role."""

    PRIMARY = "primary"
    REMOTE = "remote"


class AzureCni(StrEnum):
    """AKS pod networking: ``azure`` gives pods VNet IPs (routable over peering); ``overlay`` does not."""

    AZURE = "azure"
    OVERLAY = "overlay"


@dataclass(frozen=True)
class CaSpec:
    """Lifetimes of the mesh CA (Istio's plug-in CA).

    Args:
        root_validity_hours: root certificate lifetime (default 87600, Istio's 3650 days).
        intermediate_validity_hours: per-cluster intermediate lifetime (default 17520, Istio's 730 days).
        root_early_renewal_hours: renew the root this long before it expires (default 8760).
        intermediate_early_renewal_hours: renew an intermediate this long before it expires
            (default 720); this replaces only that intermediate, never the root.
    """

    root_validity_hours: int = DEFAULT_ROOT_VALIDITY_HOURS
    intermediate_validity_hours: int = DEFAULT_INTERMEDIATE_VALIDITY_HOURS
    root_early_renewal_hours: int = DEFAULT_ROOT_EARLY_RENEWAL_HOURS
    intermediate_early_renewal_hours: int = DEFAULT_INTERMEDIATE_EARLY_RENEWAL_HOURS


@dataclass(frozen=True)
class AzureNodePool:
    """An AKS node pool on a subnet of its own.

    Args:
        name: pool name (lowercase letters and digits, at most 12, starting with a letter).
        mode: ``System`` or ``User`` (default ``User``).
        vm_size: VM size (default ``Standard_D4s_v5``).
        subnet_cidr: the pool's subnet, inside the cluster's VNet.
        count: initial node count (default 2); min_count/max_count bound the autoscaler (default count).
    """

    name: str
    mode: str
    vm_size: str
    subnet_cidr: IPv4Network
    count: int
    min_count: int
    max_count: int


@dataclass(frozen=True)
class AzureCluster:
    """The Azure part of a cluster spec.

    Args:
        resource_group: resource group (default ``istio-aks-<region>``).
        vnet_cidr: the cluster's VNet; every Azure VNet in the mesh is peered, so they are disjoint.
        service_cidr: Kubernetes service range (default 10.0.0.0/16 as AKS does).
        dns_service_ip: kube-dns address inside service_cidr (default: its 10th address).
        cni: ``azure`` (pods on VNet IPs, default) or ``overlay`` (pods on pod_cidr).
        pod_cidr: overlay pod range (default 10.244.0.0/16, overlay only).
        kubernetes_version: AKS version, e.g. ``1.33`` (default: AKS's default).
        node_pools: one system pool at least.
        sku_tier: ``Free`` (default), ``Standard`` or ``Premium`` (uptime SLA).
        authorized_ip_ranges: CIDRs allowed to reach the public API server (default: anyone).
            Other clusters' istiod dial it too: include their egress addresses.
    """

    resource_group: str
    vnet_cidr: IPv4Network
    service_cidr: IPv4Network
    dns_service_ip: IPv4Address
    cni: AzureCni
    pod_cidr: IPv4Network | None
    kubernetes_version: str | None
    node_pools: tuple[AzureNodePool, ...]
    sku_tier: str = "Free"
    authorized_ip_ranges: tuple[IPv4Network, ...] = ()


@dataclass(frozen=True)
class AwsNodeGroup:
    """An EKS managed node group.

    Args:
        name: group name (DNS-1123 label).
        instance_types: EC2 instance types (default ``m5.large``).
        desired: desired size (default 2); min/max bound the autoscaler (default 1 and 5).
    """

    name: str
    instance_types: tuple[str, ...]
    desired: int
    min: int
    max: int


@dataclass(frozen=True)
class AwsCluster:
    """The AWS part of a cluster spec.

    Args:
        vpc: name of an entry of ``vpcs``; clusters naming the same VPC share it.
        service_cidr: Kubernetes service range (default 172.20.0.0/16 as EKS does).
        kubernetes_version: EKS version, e.g. ``1.33`` (default: EKS's default).
        node_groups: managed node groups (default one group ``default``).
        public_access_cidrs: who may reach the public API endpoint (default: anyone). Other
            clusters' istiod dial it too: include their NAT addresses.
    """

    vpc: str
    service_cidr: IPv4Network
    kubernetes_version: str | None
    node_groups: tuple[AwsNodeGroup, ...]
    public_access_cidrs: tuple[IPv4Network, ...] = ()


@dataclass(frozen=True)
class MetalLbSpec:
    """MetalLB for a cluster without a cloud load balancer (kind, bare metal).

    Args:
        addresses: IPv4 CIDRs or ``first-last`` ranges the LoadBalancer Services may take; for kind,
            a slice of the ``kind`` Docker network, e.g. ``172.18.255.200-172.18.255.250``.
        chart_version: the metallb Helm chart version (default ``0.14.9``).
    """

    addresses: tuple[str, ...]
    chart_version: str = "0.14.9"


@dataclass(frozen=True)
class ExistingCluster:
    """A cluster reached through a kubeconfig context (kind, minikube, any conformant cluster).

    Args:
        context: the kubeconfig context.
        kubeconfig: path of the kubeconfig file (default: ``$KUBECONFIG`` or ``~/.kube/config``).
        api_server_url: the https URL other clusters' pods dial; required, because a local
            kubeconfig usually names 127.0.0.1, which no other cluster can reach.
        metallb: install MetalLB with these addresses (default: none).
    """

    context: str
    kubeconfig: str | None
    api_server_url: str
    metallb: MetalLbSpec | None = None


Platform = AzureCluster | AwsCluster | ExistingCluster


@dataclass(frozen=True)
class ClusterSpec:
    """One cluster of the mesh.

    Args:
        name: unique DNS-1123 label; it becomes the Istio cluster ID and remote-secret names.
        region: cloud region (for ``existing``: informational, default ``local``).
        network: Istio network; clusters sharing one must have routable pod IPs.
        role: ``primary`` (default) or ``remote`` (primary-remote topology only).
        primary: for a remote, the primary whose istiod it uses.
        platform: the cloud-specific part.
        istiod_values: istiod Helm values for this cluster, merged over the mesh-wide ones (default none).
    """

    name: str
    region: str
    network: str
    role: Role
    primary: str | None
    platform: Platform
    istiod_values: Mapping[str, Any] = field(default_factory=dict)

    @property
    def cloud(self) -> Cloud:
        match self.platform:
            case AzureCluster():
                return Cloud.AZURE
            case AwsCluster():
                return Cloud.AWS
            case ExistingCluster():
                return Cloud.EXISTING


@dataclass(frozen=True)
class VpcSpec:
    """An AWS VPC shared by the EKS clusters that name it.

    Args:
        name: DNS-1123 label the clusters refer to.
        region: AWS region; every cluster using the VPC must be in it.
        cidr: the VPC range.
        availability_zones: how many AZs to spread over (default: one per private subnet, >= 2).
        private_subnets: one per AZ, for nodes and internal load balancers.
        public_subnets: one per AZ, for NAT and internet-facing load balancers.
        nat: ``single`` (default, cheaper) or ``per-az`` (survives an AZ outage).
    """

    name: str
    region: str
    cidr: IPv4Network
    availability_zones: int
    private_subnets: tuple[IPv4Network, ...]
    public_subnets: tuple[IPv4Network, ...]
    nat: str


@dataclass(frozen=True)
class MeshSpec:
    """The whole mesh, as one stack's config describes it.

    Args:
        mesh_id: ``global.meshID``, one value for every cluster (default ``mesh1``).
        istio_version: exact Istio release, also the Helm chart version (default ``1.30.0``).
        revision: istiod revision for revision-based installs (default: none).
        topology: ``multi-primary`` (default) or ``primary-remote``.
        access_log: send Envoy access logs to stdout (default false).
        ca: mesh CA lifetimes.
        clusters: at least two.
        vpcs: AWS VPCs the EKS clusters use (default none).
        istiod_values: istiod Helm values for every cluster, merged over the program's (default none).
        ingress_gateway: install a north-south ingress gateway in ``istio-ingress`` (default false).
        verify: deploy MeshCheck, which fails ``pulumi up`` unless traffic crosses every cluster (default false).
        key_vault_prefix: the Azure Key Vault name's prefix; a random suffix makes it unique (default ``istiomesh``).
        key_vault_purge_protection: Key Vault purge protection (default false, so a destroy leaves nothing).
        secrets_recovery_window_days: Secrets Manager recovery window: 0 or 7-30 days (default 30).
    """

    mesh_id: str
    istio_version: str
    revision: str | None
    topology: Topology
    access_log: bool
    ca: CaSpec
    clusters: tuple[ClusterSpec, ...]
    vpcs: tuple[VpcSpec, ...] = ()
    istiod_values: Mapping[str, Any] = field(default_factory=dict)
    ingress_gateway: bool = False
    verify: bool = False
    key_vault_prefix: str = "istiomesh"
    key_vault_purge_protection: bool = False
    secrets_recovery_window_days: int = 30

    @property
    def networks(self) -> tuple[str, ...]:
        """The distinct Istio networks, in cluster order."""
        return tuple(dict.fromkeys(c.network for c in self.clusters))

    @property
    def multi_network(self) -> bool:
        return len(self.networks) > 1

    def cluster(self, name: str) -> ClusterSpec:
        return next(c for c in self.clusters if c.name == name)
