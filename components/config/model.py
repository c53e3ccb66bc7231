"""The mesh as the stack config describes it: frozen, typed objects built only from valid config.

Everything after the config layer reads these and nothing else of the config. The platform part of
a cluster (``ClusterSpec.platform_spec``) is each platform's own dataclass; the mesh code never looks
inside it.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network
from typing import Any, Protocol, TypeVar

from components.config.provided import ProvidedIntermediate, ProvidedRoot

DEFAULT_TAG = "default"


def revision_name(version: str) -> str:
    """The istiod revision of an exact version: 1.30.3 -> 1-30-3."""
    return version.replace(".", "-")


def version_order(version: str) -> tuple[int, ...]:
    """An exact Istio version (x.y.z) as numbers, to sort releases: 1.30.10 after 1.30.9."""
    return tuple(int(part) for part in version.split("."))


P = TypeVar("P")


class Topology(StrEnum):
    """Istio's multicluster control-plane models."""

    MULTI_PRIMARY = "multi-primary"
    PRIMARY_REMOTE = "primary-remote"


@dataclass(frozen=True)
class ServerHeader:
    """The ``server`` header of the ingress gateways' responses (Istio's ``proxyHeaders.server``).

    Args:
        value: what they send instead of Envoy's ``istio-envoy`` (default none).
        disabled: they add none and pass the application's through (default no).
    """

    value: str | None = None
    disabled: bool = False


# Traffic Manager profiles answer under this domain: <relative name>.trafficmanager.net.
TRAFFIC_MANAGER_DOMAIN = "trafficmanager.net"


class DnsService(StrEnum):
    """Where the mesh's one name lives."""

    ROUTE53 = "route53"
    TRAFFIC_MANAGER = "trafficManager"


class DnsRouting(StrEnum):
    """How the mesh's one name picks among the clusters' ingresses (Route 53 routing policies)."""

    LATENCY = "latency"
    WEIGHTED = "weighted"


@dataclass(frozen=True)
class IngressDns:
    """One DNS name for the whole mesh: an answer per cluster's ingress, given while it is healthy.

    Args:
        service: Route 53 records, or an Azure Traffic Manager profile.
        zone_id: Route 53: the public hosted zone holding ``name`` (none with Traffic Manager).
        name: Route 53: the mesh's name, e.g. ``mesh.example.com``; Traffic Manager: the
            profile's relative name, a label (the mesh's name is ``<name>.trafficmanager.net``).
        routing: ``latency`` (each client gets the nearest healthy region; Traffic Manager's
            Performance) or ``weighted`` (any healthy cluster, evenly) (default latency).
    """

    service: DnsService
    zone_id: str | None
    name: str
    routing: DnsRouting = DnsRouting.LATENCY

    @property
    def fqdn(self) -> str:
        """The name clients resolve."""
        return f"{self.name}.{TRAFFIC_MANAGER_DOMAIN}" if self.service is DnsService.TRAFFIC_MANAGER else self.name


class Dataplane(StrEnum):
    """Istio's data planes: a sidecar proxy per pod, or ambient (a ztunnel per node, no sidecars)."""

    SIDECAR = "sidecar"
    AMBIENT = "ambient"


class Role(StrEnum):
    """A cluster's control-plane role."""

    PRIMARY = "primary"
    REMOTE = "remote"


class ClusterPlatform(Protocol):
    """The platform-specific part of a cluster spec (an AKS, EKS or existing cluster's fields)."""

    @property
    def cloud(self) -> str:
        """The platform's name, as the cluster's ``cloud`` field gives it."""
        ...

    @property
    def service_range(self) -> IPv4Network | None:
        """The cluster's Kubernetes service range, when the program sets it."""
        ...


FIRST_ROOT = "root"


class RotationStage(StrEnum):
    """A stage of a root rotation, each one ``pulumi up`` (Istio's own test of it:
    tests/integration/security/cacert_rotation): ``trust`` (every bundle holds the old root and the
    new one; intermediates unchanged), ``issue`` (intermediates re-issued by the new root; bundles
    still hold both), ``retire`` (the old root leaves the bundles and the state)."""

    TRUST = "trust"
    ISSUE = "issue"
    RETIRE = "retire"


# A workload certificate's default lifetime (Istio's SECRET_TTL): istio-agent renews at half of it.
DEFAULT_ROTATION_WAIT_HOURS = 24


@dataclass(frozen=True)
class CaRotation:
    """A rotation of the mesh root in progress.

    Args:
        new_root: the name of the root it introduces.
        stage: how far it has gone.
        wait_hours: how long a stage that changes the signer or drops a root waits after the last
            stage reached every cluster, for workloads to renew their certificates (default 24).
    """

    new_root: str
    stage: RotationStage
    wait_hours: int = DEFAULT_ROTATION_WAIT_HOURS


@dataclass(frozen=True)
class CaSpec:
    """Lifetimes of the mesh CA (Istio's plug-in CA), in hours, and its roots.

    Args:
        root_validity_hours: root certificate lifetime.
        intermediate_validity_hours: per-cluster intermediate lifetime.
        root_early_renewal_hours: renew the root this long before it expires.
        intermediate_early_renewal_hours: renew an intermediate this long before it expires; this
            replaces only that intermediate, never the root.
        root: the name of the root that signs the intermediates outside a rotation (default ``root``).
        rotation: a rotation to another root in progress (default none).
        provided: the roots the operator gives (certificate and key), by name; the program
            generates the others (default none).
        intermediates: every cluster's intermediate when the operator gives them, by cluster; then
            no root is generated and no root key is in the stack (default none).
    """

    root_validity_hours: int
    intermediate_validity_hours: int
    root_early_renewal_hours: int
    intermediate_early_renewal_hours: int
    root: str = FIRST_ROOT
    rotation: CaRotation | None = None
    provided: Mapping[str, ProvidedRoot] = field(default_factory=dict)
    intermediates: Mapping[str, ProvidedIntermediate] = field(default_factory=dict)

    @property
    def roots(self) -> tuple[str, ...]:
        """The roots that exist, in the order the bundle lists them: the old one first."""
        if self.rotation is None:
            return (self.root,)
        if self.rotation.stage is RotationStage.RETIRE:
            return (self.rotation.new_root,)
        return (self.root, self.rotation.new_root)

    @property
    def signer(self) -> str:
        """The root that signs the intermediates: the new one from the ``issue`` stage on."""
        if self.rotation is None or self.rotation.stage is RotationStage.TRUST:
            return self.root
        return self.rotation.new_root


@dataclass(frozen=True, kw_only=True)
class ClusterSpec:
    """One cluster of the mesh.

    Args:
        name: unique DNS-1123 label; it becomes the Istio cluster ID and remote-secret names.
        region: the platform's region (``local`` for existing clusters unless set).
        network: Istio network; clusters sharing one must have routable pod IPs.
        role: ``primary`` or ``remote`` (primary-remote topology only).
        primary: for a remote, the primary whose istiod it uses (none for primaries).
        platform_spec: the platform-specific part of the spec (each platform's own dataclass).
        istiod_values: istiod Helm values for this cluster, merged over the mesh-wide ones.
    """

    name: str
    region: str
    network: str
    role: Role
    primary: str | None
    platform_spec: ClusterPlatform
    istiod_values: Mapping[str, Any]

    @property
    def cloud(self) -> str:
        return self.platform_spec.cloud


@dataclass(frozen=True, kw_only=True)
class MeshSpec:
    """The whole mesh, as one stack's config describes it.

    Args:
        mesh_id: ``global.meshID``, one value for every cluster.
        revisions: revision tag -> exact Istio release; the ``default`` tag is always there.
        topology: ``multi-primary`` or ``primary-remote``.
        access_log: send Envoy access logs to stdout.
        ingress_gateway: install a north-south ingress gateway in ``istio-ingress``.
        verify: deploy MeshCheck, which fails ``pulumi up`` unless traffic crosses every cluster.
        verify_image: the image of MeshCheck's workloads and probes.
        istiod_values: istiod Helm values for every cluster, merged over the program's.
        ca: mesh CA lifetimes.
        clusters: at least two.
        platform_settings: each platform's mesh-wide settings (vault prefix, VPCs, ...), by platform name.
        warnings: valid settings an operator should reconsider, printed by ``pulumi up`` (default none).
        operator_cidrs: where the operators reach internet-facing API servers from; given exactly when
            the clusters span platforms (default none).
        dataplane: ``sidecar`` or ``ambient`` (default sidecar).
        gateway_api_release: the Gateway API release pinned for ambient (default none: the one the
            newest installed Istio is built against; ``components.config.istio.installed_gateway_api``).
        ambient_sidecar_gateway: in ambient, also run the sidecar mode's east-west gateway, for
            workloads still on sidecars (default no).
        reader_token_generation: which reader tokens the remote secrets carry; a new one issues new
            tokens and retires the old (default 0, the first).
        reader_token_history: in a fleet's mesh stack, the generations its earlier updates applied,
            each of which a member may still keep while a peer holds it (default none; the config
            does not hold it: the mesh stack reads it back from its last update).
        ingress_server_header: the ingress gateways' ``server`` header (default none: Envoy's).
        ingress_dns: one DNS name for every cluster's ingress (default none).
        fleet_mesh: this is a fleet's mesh stack: the CA and the members' exports, no cluster of
            its own (default no: one stack builds everything).
    """

    mesh_id: str
    revisions: Mapping[str, str]
    topology: Topology
    access_log: bool
    ingress_gateway: bool
    verify: bool
    verify_image: str
    istiod_values: Mapping[str, Any]
    ca: CaSpec
    clusters: tuple[ClusterSpec, ...]
    platform_settings: Mapping[str, object]
    warnings: tuple[str, ...] = ()
    operator_cidrs: tuple[IPv4Network, ...] = ()
    dataplane: Dataplane = Dataplane.SIDECAR
    gateway_api_release: str | None = None
    ambient_sidecar_gateway: bool = False
    reader_token_generation: int = 0
    reader_token_history: tuple[int, ...] = ()
    ingress_server_header: ServerHeader | None = None
    ingress_dns: IngressDns | None = None
    fleet_mesh: bool = False

    @property
    def ambient(self) -> bool:
        return self.dataplane is Dataplane.AMBIENT

    def needs_sidecar_eastwest(self, name: str) -> bool:
        """Whether the cluster runs the sidecar mode's east-west gateway (15443): in a sidecar mesh
        wherever it needs an east-west gateway; in ambient, beside the HBONE one, when
        ``ambient_sidecar_gateway`` asks for it (istiod gives sidecars only gateways with an mTLS
        port, ztunnel only gateways with an HBONE port: pilot/pkg/xds/endpoints/ep_filters.go)."""
        if self.ambient:
            return self.ambient_sidecar_gateway
        return self.needs_eastwest(name)

    @property
    def spans_platforms(self) -> bool:
        """Clusters on more than one platform: nothing is peered, so API servers and east-west
        gateways face the internet, each admitting only the other clusters (and operators)."""
        return len({c.cloud for c in self.clusters}) > 1

    @property
    def versions(self) -> tuple[str, ...]:
        """The distinct Istio releases installed, oldest first: one istiod revision each."""
        return tuple(sorted(set(self.revisions.values()), key=version_order))

    @property
    def newest_version(self) -> str:
        """The release whose base chart (CRDs and the default validation webhook) is installed."""
        return self.versions[-1]

    @property
    def default_version(self) -> str:
        """The release the ``default`` tag points at: gateways and unlabelled injection follow it."""
        return self.revisions[DEFAULT_TAG]

    @property
    def default_revision(self) -> str:
        return revision_name(self.default_version)

    @property
    def networks(self) -> tuple[str, ...]:
        """The distinct Istio networks, in cluster order."""
        return tuple(dict.fromkeys(c.network for c in self.clusters))

    @property
    def multi_network(self) -> bool:
        return len(self.networks) > 1

    @functools.cached_property
    def _positions(self) -> dict[str, int]:
        """Each cluster's position by name: looked up for every pair of clusters (links, the
        names' plan), which a scan of the list would make cubic in the clusters."""
        return {c.name: i for i, c in enumerate(self.clusters)}

    def cluster(self, name: str) -> ClusterSpec:
        return self.clusters[self.index(name)]

    def index(self, name: str) -> int:
        """The cluster's position in the config's ``clusters`` list."""
        return self._positions[name]

    def is_remote(self, name: str) -> bool:
        return self.cluster(name).role is Role.REMOTE

    def exposes_istiod(self, name: str) -> bool:
        """Primaries of a primary-remote mesh serve remotes' proxies through their east-west gateway."""
        return self.topology is Topology.PRIMARY_REMOTE and not self.is_remote(name)

    def needs_eastwest(self, name: str) -> bool:
        """Whether the cluster runs an east-west gateway: traffic crosses networks, or remotes reach its istiod."""
        return self.multi_network or self.exposes_istiod(name)

    def discovers(self, holder: str, source: str) -> bool:
        """Whether ``holder``'s istiod must discover ``source``: primaries discover every other cluster;
        remotes run no istiod of their own and hold no remote secrets."""
        return holder != source and not self.is_remote(holder)

    def discovered(self, source: str) -> bool:
        """Whether some istiod must discover ``source``, so that it needs a reader token: a long-lived
        credential that reads every Secret of its cluster, made nowhere it is not used (the primary
        of a primary-remote mesh with one primary is discovered by nobody)."""
        return any(self.discovers(holder.name, source) for holder in self.clusters)

    def exposes_services(self, name: str) -> bool:
        """Whether the cluster holds ``cross-network-gateway``: on every network's east-west
        gateway, only where an istiod reads Istio config; a remote's gateway takes the primary's
        (istio.io, primary-remote on different networks: exposing services on the primary exposes
        them on the east-west gateways of both clusters)."""
        return self.multi_network and not self.is_remote(name)

    def on(self, cloud: str) -> tuple[ClusterSpec, ...]:
        """The clusters of one platform, in config order."""
        return tuple(c for c in self.clusters if c.cloud == cloud)


def platform_part(cluster: ClusterSpec, kind: type[P]) -> P:
    """The platform part of ``cluster``, which the caller knows to be a ``kind``."""
    assert isinstance(cluster.platform_spec, kind), f"{cluster.name} is a {cluster.cloud} cluster, not {kind.__name__}"
    return cluster.platform_spec


def platform_settings(mesh: MeshSpec, name: str, kind: type[P]) -> P:
    """The mesh-wide settings of platform ``name``, which the caller knows to be a ``kind``."""
    settings = mesh.platform_settings.get(name)
    assert isinstance(settings, kind), f"the {name} settings did not parse"
    return settings
