"""What the config layer asks of each platform: its fields, how to parse them, its own rules.

A platform (Azure, AWS, existing clusters, ...) declares the project config keys it owns and the
fields of its clusters, parses them into its own dataclasses, and checks what only it knows (VPC
layouts, node pool subnets, kubeconfig contexts). The rules that compare clusters across platforms
(overlapping ranges, flat networks) ask it for the ranges it routes and whether two of its clusters
can share a flat network.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import Enum
from ipaddress import IPv4Network
from typing import Any, Generic, Protocol, TypeVar

from components.config.fields import Field, Reader
from components.config.model import ClusterPlatform, ClusterSpec, Dataplane, IngressDns, MeshSpec, Topology
from components.config.names import NamePlan
from components.config.problems import Owner, Problems
from components.config.stores import SecretStore

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    """A parsed object with its position in the config list it came from.

    Args:
        index: its index in the list (``clusters[index]``).
        value: what it parsed into.
        owner: how messages name it (``cluster eastus-aks``).
        list_key: the config list it is in (default ``clusters``).
    """

    index: int
    value: T
    owner: Owner
    list_key: str = "clusters"

    def at(self, key: str) -> str:
        """The path of one of its fields, e.g. ``clusters[1].vnetCidr``."""
        return f"{self.list_key}[{self.index}].{key}"

    def label(self, key: str) -> str:
        """The path with the owner, as a message names another object's field."""
        return f"{self.at(key)} ({self.owner})"


@dataclass(frozen=True)
class RoutedRange:
    """An address range routed between clusters (a VNet, a VPC, an overlay pod range).

    Args:
        path: the field that declares it.
        owner: the cluster or VPC it belongs to.
        network: the range.
        natted: overlay pod ranges are NATed at the node, so clusters may reuse them (default false).
    """

    path: str
    owner: Owner
    network: IPv4Network
    natted: bool = False

    @property
    def label(self) -> str:
        return f"{self.path} ({self.owner})"


@dataclass(frozen=True, kw_only=True)
class ParsedMesh:
    """What parsed, for the rules that compare clusters; anything that failed is absent.

    Args:
        topology: the topology, if it parsed.
        clusters: every cluster that parsed, with its index.
        names: the name of every cluster entry whose name parsed, by index (for uniqueness and references).
        listed: how many clusters the config lists.
        settings: each platform's mesh-wide settings that parsed, by platform name.
        revisions: ``istioRevisions``, if it parsed (default none).
        operator_cidrs: ``operatorCidrs``; none when unset, empty when it failed to parse (default none).
        clouds: the platform of every cluster entry whose ``cloud`` parsed, even if the rest failed
            (default none).
        dataplane: ``dataplane``, if it parsed (default none).
        gateway_api_release: ``gatewayApiRelease``, if given and it parsed (default none).
        ambient_sidecar_gateway: ``ambientSidecarGateway``, if given and it parsed (default none).
        ingress_gateway: ``ingressGateway``, if it parsed (default none).
        ingress_dns: ``ingressDns``, if given and it parsed (default none).
        ingress_dns_given: whether the config sets ``ingressDns`` (parsed or not) (default no).
    """

    topology: Topology | None
    clusters: tuple[Entry[ClusterSpec], ...]
    names: dict[int, str]
    listed: int
    settings: dict[str, object]
    revisions: Mapping[str, str] | None = None
    operator_cidrs: tuple[IPv4Network, ...] | None = None
    clouds: frozenset[str] = frozenset()
    dataplane: Dataplane | None = None
    gateway_api_release: str | None = None
    ambient_sidecar_gateway: bool | None = None
    ingress_gateway: bool | None = None
    ingress_dns: IngressDns | None = None
    ingress_dns_given: bool = False

    @property
    def spans_platforms(self) -> bool:
        """Clusters on more than one platform (see ``MeshSpec.spans_platforms``); counted over every
        entry, so that one cluster's bad field does not change the rules the others get."""
        return len(self.clouds | {c.value.cloud for c in self.clusters}) > 1

    def on(self, cloud: str) -> list[Entry[ClusterSpec]]:
        return [c for c in self.clusters if c.value.cloud == cloud]


@dataclass(frozen=True)
class ExposureLimits:
    """How many ranges a platform's internet-facing API endpoint and east-west gateway take.

    Args:
        api_ranges: the cloud's maximum of API ranges (EKS publicAccessCidrs: 40; AKS authorized IP
            ranges: 200), whoever sets them.
        own_egress: whether, across platforms, the API's list also holds the cluster's own egress addresses.
        gateway_ranges: the most source ranges its east-west gateway's load balancer takes, across
            platforms (default none: no limit).
    """

    api_ranges: int
    own_egress: bool
    gateway_ranges: int | None = None


@dataclass(frozen=True)
class AllowList:
    """What a restricted API endpoint admits when the clusters share one platform: the ranges its
    field lists and the mesh's egress addresses the program adds.

    Args:
        path: the field that lists the ranges, e.g. ``clusters[0].authorizedIpRanges``.
        listed: how many distinct ranges it lists.
        added: the egress addresses the program adds (other VPCs' NAT, every AKS cluster's outbound IP).
    """

    path: str
    listed: int
    added: frozenset[EgressSource]


@dataclass(frozen=True)
class EgressSource:
    """One egress address a cluster will have, for counting the ranges its peers admit.

    Args:
        key: identifies the address; clusters that share it (one VPC's NAT) give the same key.
        fewer: how to have fewer such addresses, for the message when there are too many (default none).
    """

    key: str
    fewer: str = ""


class DnsReach(Enum):
    """What Route 53 can do with a platform's ingress addresses (``ingressDns``)."""

    # Possibly private (kind's MetalLB addresses): Route 53 health-checks only public ones.
    NONE = "none"
    # Public IPs in Azure regions: Route 53 A records with health checks, Traffic Manager endpoints.
    AZURE_REGION = "azure-region"
    # AWS load balancers in AWS regions: alias records, latency records.
    AWS_REGION = "aws-region"


class PlatformConfig(Protocol):
    """A platform's part of the config; see the module docstring."""

    @property
    def name(self) -> str:
        """The value of a cluster's ``cloud`` field that selects this platform."""
        ...

    @property
    def mesh_fields(self) -> Sequence[Field[Any]]:
        """The project config keys this platform owns (a vault prefix, the VPCs, ...)."""
        ...

    @property
    def cluster_fields(self) -> Sequence[Field[Any]]:
        """The fields of one of its clusters, beyond the common ones."""
        ...

    @property
    def owned_istiod_values(self) -> Mapping[tuple[str, ...], str]:
        """istiod value paths the platform sets on its clusters, each with the config that decides it;
        ``istiodValues`` may set none of them (see ``components.config.istio.check_istiod_values``)."""
        ...

    def parse_settings(self, root: Reader) -> object | None:
        """Its mesh-wide settings from the config root; ``None`` when they failed."""
        ...

    def parse_cluster(self, reader: Reader, name: str | None) -> tuple[str, ClusterPlatform] | None:
        """A cluster's region and platform part (``name`` when it parsed); ``None`` when it failed."""
        ...

    def check(self, mesh: ParsedMesh, problems: Problems) -> None:
        """Its rules across clusters and settings (VPC references, shared contexts, ...)."""
        ...

    def routed_ranges(self, mesh: ParsedMesh) -> Iterable[RoutedRange]:
        """The ranges its clusters route to each other, which no other routed range may overlap."""
        ...

    def flat_network_problem(self, first: ClusterSpec, second: ClusterSpec) -> str | None:
        """Why two of its clusters cannot share a flat Istio network (pod IPs not routable), or ``None``."""
        ...

    @property
    def exposure_limits(self) -> ExposureLimits | None:
        """Its limits on internet-facing ranges; ``None``: it sets none."""
        ...

    @property
    def dns_reach(self) -> DnsReach:
        """What Route 53 can do with its clusters' ingresses."""
        ...

    @property
    def secret_store(self) -> SecretStore | None:
        """Its secret store, which provided intermediates may be read from; ``None``: it has none."""
        ...

    def egress_sources(self, mesh: ParsedMesh) -> Mapping[str, frozenset[EgressSource]]:
        """For each of its clusters (by name), the egress addresses it will have when the clusters span platforms."""
        ...

    def plan_names(self, mesh: MeshSpec, plan: NamePlan) -> None:
        """Add the name of every resource it registers for ``mesh`` (see ``components.config.names``)."""
        ...

    def api_allow_list(self, mesh: ParsedMesh, entry: Entry[ClusterSpec]) -> AllowList | None:
        """Within one platform, what the API endpoint of ``entry`` (one of its clusters) admits;
        ``None`` when it is open to anyone or not the program's to set."""
        ...
