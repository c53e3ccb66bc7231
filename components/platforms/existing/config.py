"""Existing clusters' config: a kubeconfig context, the API URL other clusters dial, optional MetalLB.

Rules that only this platform knows: two clusters must not share a kubeconfig context or an API
server (both would install into one cluster; URLs compare as the endpoint they dial), and MetalLB
ranges must not overlap (kind clusters share the ``kind`` Docker network, so two pools handing out
one address break both gateways).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network
from typing import Any

from components.config.fields import Field, Object, Reader
from components.config.kinds import DialableUrl, Fail, Kind, ListOf, PublicCidr, Text, Version, dialled_endpoint, text_of
from components.config.model import ClusterPlatform, ClusterSpec, MeshSpec, platform_part
from components.config.names import NamePlan, cluster_source
from components.config.platform import AllowList, DnsReach, EgressSource, Entry, ParsedMesh, RoutedRange
from components.config.problems import Problems
from components.config.repeats import later_repeats
from components.config.rules import report_overlaps
from components.config.stores import SecretStore
from components.platforms.existing import names

NAME = "existing"


@dataclass(frozen=True)
class AddressRange:
    """A MetalLB address range as written (``text``: a CIDR or ``first-last``) and its bounds."""

    text: str
    first: IPv4Address
    last: IPv4Address

    def overlaps(self, other: AddressRange) -> bool:
        return self.first <= other.last and other.first <= self.last

    def __str__(self) -> str:
        return self.text


class AddressRangeKind(Kind[AddressRange]):
    """An IPv4 CIDR or a ``first-last`` range, as MetalLB's IPAddressPool takes them."""

    @property
    def readme(self) -> str:
        return "CIDR or first-last range"

    def convert(self, value: object, fail: Fail) -> AddressRange | None:
        text = text_of(value, fail)
        if text is None:
            return None
        first, dash, last = text.partition("-")
        try:
            if dash:
                low, high = IPv4Address(first.strip()), IPv4Address(last.strip())
                if low <= high:
                    return AddressRange(text, low, high)
            else:
                network = IPv4Network(text)
                return AddressRange(text, network.network_address, network.broadcast_address)
        except ValueError:
            pass
        fail("address-range", f"{text!r} is not an IPv4 CIDR or a first-last range such as 172.18.255.200-172.18.255.250")
        return None

    def to_schema(self, value: AddressRange) -> object:
        return value.text


METALLB_ADDRESSES = Field(
    "addresses",
    ListOf(AddressRangeKind(), min_items=1),
    "Addresses LoadBalancer Services may take: CIDRs or first-last ranges; for kind, a slice of the `kind` Docker network.",
    required=True,
    hint="give at least one CIDR or first-last range, e.g. 172.18.255.200-172.18.255.250",
)
METALLB_CHART_VERSION = Field(
    "chartVersion", Version("use an exact chart version such as 0.14.9"), "The metallb Helm chart version.", default="0.14.9"
)
METALLB_FIELDS: tuple[Field[Any], ...] = (METALLB_ADDRESSES, METALLB_CHART_VERSION)

REGION = Field("region", Text(), "Informational only.", default="local")
CONTEXT = Field(
    "context", Text(), "The kubeconfig context, e.g. `kind-kind-1`.", required=True, hint="name the kubeconfig context, e.g. kind-kind-1"
)
KUBECONFIG = Field("kubeconfig", Text(), "Path of the kubeconfig file.", default_text="`$KUBECONFIG` or `~/.kube/config`")
API_SERVER_URL = Field(
    "apiServerUrl",
    DialableUrl(),
    "The https URL other clusters' pods dial; never loopback (for kind: the control-plane container on the `kind` network).",
    required=True,
    hint="set the https URL other clusters' pods dial (for kind: https://<cluster>-control-plane:6443, never 127.0.0.1)",
)
METALLB = Field(
    "metallb",
    Object(METALLB_FIELDS, "metallb"),
    "MetalLB with an `IPAddressPool` and an `L2Advertisement`, for clusters without a cloud load balancer.",
)
EGRESS_CIDRS = Field(
    "egressCidrs",
    ListOf(PublicCidr(), min_items=1),
    "Required when the clusters span platforms: the public addresses this cluster's traffic leaves from (its NAT or "
    "firewall), which the cloud clusters' API servers and east-west gateways then admit.",
    default_text="none (single-platform meshes)",
)
# The platforms Istio's charts carry a profile for (files/profile-platform-<name>.yaml in every chart,
# 1.29 to 1.31): paths and settings that differ from upstream Kubernetes, e.g. k3s's CNI directories.
ISTIO_PLATFORMS = ("gke", "k3d", "k3s", "microk8s", "minikube", "openshift")
ISTIO_PLATFORM = Field(
    "istioPlatform",
    Text(choices=ISTIO_PLATFORMS),
    "The platform profile of Istio's charts (global.platform) for a cluster whose node layout differs from upstream "
    "Kubernetes: its CNI directories (k3s, k3d, microk8s, minikube), GKE's resource quota for istio-cni, OpenShift's "
    "security settings. Set it on those platforms, above all with dataplane: ambient, whose istio-cni writes to the "
    "node's CNI directories.",
    default_text="none (kind and conformant clusters with the usual paths)",
)
CLUSTER_FIELDS: tuple[Field[Any], ...] = (REGION, CONTEXT, KUBECONFIG, API_SERVER_URL, METALLB, EGRESS_CIDRS, ISTIO_PLATFORM)


@dataclass(frozen=True)
class MetalLbSpec:
    """MetalLB for a cluster without a cloud load balancer (kind, bare metal).

    Args:
        addresses: the ranges LoadBalancer Services may take.
        chart_version: the metallb Helm chart version.
    """

    addresses: tuple[AddressRange, ...]
    chart_version: str


@dataclass(frozen=True, kw_only=True)
class ExistingCluster:
    """A cluster reached through a kubeconfig context (kind, minikube, any conformant cluster).

    Args:
        context: the kubeconfig context.
        kubeconfig: path of the kubeconfig file (none: ``$KUBECONFIG`` or ``~/.kube/config``).
        api_server_url: the https URL other clusters' pods dial.
        metallb: install MetalLB with these addresses (none: the cluster has a load balancer).
        egress_cidrs: where its traffic reaches the internet from (default none: single-platform meshes).
        istio_platform: the platform profile of Istio's charts (default none).
    """

    context: str
    kubeconfig: str | None
    api_server_url: str
    metallb: MetalLbSpec | None
    egress_cidrs: tuple[IPv4Network, ...] = ()
    istio_platform: str | None = None

    @property
    def cloud(self) -> str:
        return NAME

    @property
    def service_range(self) -> IPv4Network | None:
        return None


def existing_part(cluster: ClusterSpec) -> ExistingCluster:
    return platform_part(cluster, ExistingCluster)


class ExistingConfig:
    """The ``existing`` platform's config; see the module docstring."""

    name = NAME
    mesh_fields: tuple[Field[Any], ...] = ()
    cluster_fields = CLUSTER_FIELDS
    # Every Istio chart on a cluster with istioPlatform applies it (``IstioControlPlane._release``).
    owned_istiod_values: Mapping[tuple[str, ...], str] = {("global", "platform"): "the cluster's istioPlatform (existing clusters)"}

    def parse_settings(self, root: Reader) -> object | None:
        return None

    def parse_cluster(self, reader: Reader, name: str | None) -> tuple[str, ClusterPlatform] | None:
        region = reader.value(REGION)
        context = reader.value(CONTEXT)
        kubeconfig = reader.value(KUBECONFIG)
        url = reader.value(API_SERVER_URL)
        metallb_entry = reader.object(METALLB)
        metallb = None
        if metallb_entry is not None:
            addresses = metallb_entry.value(METALLB_ADDRESSES)
            version = metallb_entry.value(METALLB_CHART_VERSION)
            metallb_entry.reject_unknown()
            metallb = MetalLbSpec(addresses, version) if addresses and version else None
        egress = reader.value(EGRESS_CIDRS) or ()
        istio_platform = reader.value(ISTIO_PLATFORM)
        if reader.failed or region is None or context is None or url is None:
            return None
        return region, ExistingCluster(
            context=context, kubeconfig=kubeconfig, api_server_url=url, metallb=metallb, egress_cidrs=egress, istio_platform=istio_platform
        )

    def check(self, mesh: ParsedMesh, problems: Problems) -> None:
        clusters = mesh.on(NAME)
        for key, label, value_of in (
            ("context", "kubeconfig context", lambda c: (existing_part(c).kubeconfig or "", existing_part(c).context)),
            # Compared as the endpoint a client dials: case, a trailing dot or slash and an explicit :443
            # do not make two URLs of one API server different.
            ("apiServerUrl", "API server URL", lambda c: dialled_endpoint(existing_part(c).api_server_url)),
        ):
            for entry, first in later_repeats(clusters, lambda entry, value_of=value_of: value_of(entry.value)):
                problems.add(
                    entry.at(key),
                    f"duplicate-{key.lower()}",
                    f"is also the {label} of clusters[{first.index}] (cluster {first.value.name}); "
                    "both would install into one cluster: give each cluster its own",
                    entry.owner,
                )
        ranges = [
            (entry.at("metallb.addresses"), entry.owner, address)
            for entry in clusters
            if (metallb := existing_part(entry.value).metallb) is not None
            for address in metallb.addresses
        ]
        report_overlaps(problems, ranges, "MetalLB pool")
        _egress(mesh, problems)

    def routed_ranges(self, mesh: ParsedMesh) -> Iterable[RoutedRange]:
        return ()

    # The program does not manage an existing cluster's API endpoint or load balancer.
    exposure_limits = None
    # An existing cluster brings no secret store of its own.
    secret_store: SecretStore | None = None
    # What Route 53 can do with its ingresses (ingressDns): nothing, they may be private.
    dns_reach = DnsReach.NONE

    def egress_sources(self, mesh: ParsedMesh) -> Mapping[str, frozenset[EgressSource]]:
        """The declared ranges, each one range in the other clusters' lists."""
        return {
            entry.value.name: frozenset(
                EgressSource(str(cidr), f"list fewer, wider egressCidrs on cluster {entry.value.name}")
                for cidr in existing_part(entry.value).egress_cidrs
            )
            for entry in mesh.on(NAME)
        }

    def api_allow_list(self, mesh: ParsedMesh, entry: Entry[ClusterSpec]) -> AllowList | None:
        return None

    def flat_network_problem(self, first: ClusterSpec, second: ClusterSpec) -> str | None:
        return "the program cannot know whether two existing clusters' pod IPs are routable to each other"

    def plan_names(self, mesh: MeshSpec, plan: NamePlan) -> None:
        """Each existing cluster's component, provider and MetalLB."""
        for cluster in mesh.on(NAME):
            source = [cluster_source(mesh, cluster.name)]
            templates = [names.CLUSTER, names.PROVIDER]
            if existing_part(cluster).metallb is not None:
                templates += [names.METALLB_NAMESPACE, names.METALLB, names.METALLB_POOL, names.METALLB_L2]
            for template in templates:
                plan.add(template, source, cluster=cluster.name)


def _egress(mesh: ParsedMesh, problems: Problems) -> None:
    """Across platforms the cloud clusters admit only known egress addresses, and only the operator
    knows an existing cluster's; within one platform nothing reads them."""
    for entry in mesh.on(NAME):
        declared = existing_part(entry.value).egress_cidrs
        if mesh.spans_platforms and not declared:
            problems.add(
                entry.at(EGRESS_CIDRS.key),
                "required",
                "is required when the clusters span platforms: the other clusters' API servers and east-west gateways admit "
                "only known egress addresses; list the public addresses this cluster's traffic leaves from",
                entry.owner,
            )
        elif not mesh.spans_platforms and declared:
            problems.add(
                entry.at(EGRESS_CIDRS.key),
                "unused",
                "is only used when the clusters span platforms, and every cluster here is an existing one; remove it",
                entry.owner,
            )
