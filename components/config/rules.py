"""Rules that compare clusters with each other, across platforms.

They run on whatever parsed (``ParsedMesh``), so one bad field does not hide a conflict elsewhere.
Each problem names the field and cluster at fault, what it conflicts with, and what to do. The
platforms add their own rules (``PlatformConfig.check``) and say which ranges they route and which
of their clusters may share a flat network.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import combinations
from typing import Any, Protocol, TypeVar

from components.config.istio import gateway_api_order, gateway_api_release
from components.config.kinds import OPEN_TO_ALL
from components.config.model import ClusterSpec, Dataplane, DnsRouting, DnsService, Role, Topology, version_order
from components.config.platform import DnsReach, EgressSource, Entry, ParsedMesh, PlatformConfig, RoutedRange
from components.config.problems import Owner, Problems
from components.config.repeats import later_repeats
from components.istio.owned import REMOTE_UNUSED_ISTIOD_VALUES


def check_mesh(mesh: ParsedMesh, platforms: Sequence[PlatformConfig], problems: Problems) -> None:
    """Run every cross-cluster rule, then each platform's own."""
    if mesh.listed < 2:
        problems.add(
            "clusters",
            "too-few-clusters",
            f"lists {mesh.listed} cluster{'s' if mesh.listed != 1 else ''}; a multicluster mesh needs at least 2",
        )
    _unique_names(mesh, problems)
    _roles(mesh, problems)
    _remote_istiod_values(mesh, problems)
    _operator_ranges(mesh, problems)
    _ambient(mesh, problems)
    _ingress_dns(mesh, {p.name: p.dns_reach for p in platforms}, problems)
    for platform in platforms:
        platform.check(mesh, problems)
    ranges = [r for p in platforms for r in p.routed_ranges(mesh)]
    _routed_ranges_disjoint(ranges, problems)
    _service_ranges(mesh, ranges, problems)
    _flat_networks(mesh, {p.name: p for p in platforms}, problems)
    _exposure_limits(mesh, platforms, problems)


def _ingress_dns(mesh: ParsedMesh, reach: Mapping[str, DnsReach], problems: Problems) -> None:
    """Route 53 latency records each name an AWS region; its health checks reach only public
    addresses, which an existing cluster's ingress may not be (kind's MetalLB ones are private).
    Traffic Manager's endpoints here are AKS ingress IPs, each located in its Azure region."""
    dns = mesh.ingress_dns
    if dns is None:
        return
    if dns.service is DnsService.ROUTE53 and dns.routing is DnsRouting.LATENCY:
        # Route 53 takes one latency record per region for a name and type (ResourceRecordSet.Region).
        located = [(e.value.name, e.value.region) for e in mesh.clusters]
        for (name, region), (first, _) in later_repeats(located, lambda pair: pair[1]):
            problems.add(
                "ingressDns.routing",
                "latency-one-per-region",
                f"latency takes one record per AWS region, and {first} and {name} are both in {region}: set routing: weighted",
            )
    for entry in mesh.clusters:
        cloud = entry.value.cloud
        if dns.service is DnsService.TRAFFIC_MANAGER:
            if reach[cloud] is not DnsReach.AZURE_REGION:
                problems.add(
                    "ingressDns.service",
                    "traffic-manager-needs-aks",
                    f"trafficManager names AKS ingresses only; cluster {entry.value.name} is on {cloud}: use service: route53",
                )
        elif reach[cloud] is DnsReach.NONE:
            problems.add(
                "ingressDns",
                "dns-existing",
                f"cannot name cluster {entry.value.name}: it is an existing cluster, whose ingress address may be private, "
                "and Route 53 health-checks only public ones; remove ingressDns, or the cluster",
            )
        elif dns.routing is DnsRouting.LATENCY and reach[cloud] is not DnsReach.AWS_REGION:
            problems.add(
                "ingressDns.routing",
                "latency-needs-aws",
                f"latency needs every cluster in an AWS region (each latency record names one); cluster {entry.value.name} is "
                f"on {cloud}: set routing: weighted",
            )


def owner_of(mesh: ParsedMesh, index: int) -> Owner | None:
    name = mesh.names.get(index)
    return Owner("cluster", name) if name is not None else None


def _unique_names(mesh: ParsedMesh, problems: Problems) -> None:
    for (index, name), (first, _) in later_repeats(sorted(mesh.names.items()), lambda item: item[1]):
        problems.add(
            f"clusters[{index}].name",
            "duplicate-name",
            f"{name} is already the name of clusters[{first}]; names become Istio cluster IDs and secret names, so each must be unique",
            Owner("cluster", name),
        )


def _roles(mesh: ParsedMesh, problems: Problems) -> None:
    primaries = {c.value.name for c in mesh.clusters if c.value.role is Role.PRIMARY}
    known = set(mesh.names.values())
    for entry in mesh.clusters:
        cluster = entry.value
        if cluster.role is Role.PRIMARY:
            if cluster.primary is not None:
                problems.add(entry.at("primary"), "role", "only a remote names a primary; remove it or set role: remote", entry.owner)
            continue
        if mesh.topology is Topology.MULTI_PRIMARY:
            problems.add(
                entry.at("role"),
                "role",
                "remote clusters need topology: primary-remote; set it, or make this cluster a primary",
                entry.owner,
            )
        elif cluster.primary is None:
            problems.add(
                entry.at("primary"), "required", "is required for a remote; name the primary cluster whose istiod it uses", entry.owner
            )
        elif cluster.primary not in primaries:
            remote = any(c.value.name == cluster.primary for c in mesh.clusters)
            if not remote and cluster.primary in known:
                continue  # that cluster failed to parse; its own problem says why
            what = "is a remote" if remote else "is not a cluster of this mesh"
            problems.add(
                entry.at("primary"),
                "unknown-primary",
                f"{cluster.primary} {what}; name one of the primaries: {', '.join(sorted(primaries)) or 'none are declared'}",
                entry.owner,
            )
    if mesh.topology is Topology.PRIMARY_REMOTE and mesh.clusters and not primaries:
        problems.add("topology", "no-primary", "primary-remote needs at least one cluster with role: primary")


def _remote_istiod_values(mesh: ParsedMesh, problems: Problems) -> None:
    """A remote's own istiodValues may not set what a remote does not use (``REMOTE_UNUSED_ISTIOD_VALUES``):
    the message says where the setting takes effect, its primary's istiodValues or the mesh-wide ones."""
    for entry in (c for c in mesh.clusters if c.value.role is Role.REMOTE):
        primary = entry.value.primary
        index = next((i for i, n in sorted(mesh.names.items()) if n == primary), None)
        where = f"clusters[{index}].istiodValues (cluster {primary})" if index is not None else "its primary's istiodValues"
        for key, what in REMOTE_UNUSED_ISTIOD_VALUES.items():
            if key in entry.value.istiod_values:
                problems.add(
                    entry.at(f"istiodValues.{key}"),
                    "remote-unused",
                    f"is not used on a remote, which runs no istiod: its proxies take their {what} from the istiod of their "
                    f"primary; set it in {where} or in the mesh-wide istiodValues",
                    entry.owner,
                )


def _ambient(mesh: ParsedMesh, problems: Problems) -> None:
    """Istio's ambient data plane runs across clusters only multi-primary, on a network per cluster
    (istio.io, ambient multicluster: remote clusters and shared networks are not supported)."""
    _gateway_api_release(mesh, problems)
    if mesh.dataplane is Dataplane.SIDECAR and mesh.ambient_sidecar_gateway is not None:
        problems.add(
            "ambientSidecarGateway",
            "unused",
            "is only used with dataplane: ambient (a sidecar mesh always runs the sidecar east-west gateway where it needs "
            "one); remove it, or set dataplane: ambient",
        )
    if mesh.dataplane is not Dataplane.AMBIENT:
        return
    if mesh.topology is Topology.PRIMARY_REMOTE:
        problems.add(
            "dataplane",
            "ambient-topology",
            "ambient runs across clusters only with every cluster a primary: Istio does not support remote clusters in "
            "ambient mode today; set topology: multi-primary, or dataplane: sidecar",
        )
    first_on: dict[str, str] = {}
    for entry in mesh.clusters:
        network = entry.value.network
        other = first_on.setdefault(network, entry.value.name)
        if other != entry.value.name:
            problems.add(
                entry.at("network"),
                "ambient-network",
                f"shares network {network} with cluster {other}, but ambient runs across clusters only with each cluster on a "
                "network of its own (Istio does not support a shared network in ambient mode today); give it its own network, "
                "or use dataplane: sidecar",
                entry.owner,
            )


def _gateway_api_release(mesh: ParsedMesh, problems: Problems) -> None:
    """A pinned Gateway API release is for ambient meshes (sidecar meshes install no CRDs of it), and
    no older than the one the newest installed Istio is built against, whose types istiod serves."""
    pinned = mesh.gateway_api_release
    if pinned is None or mesh.dataplane is None:
        return
    if mesh.dataplane is not Dataplane.AMBIENT:
        problems.add(
            "gatewayApiRelease",
            "unused",
            "is only used with dataplane: ambient, which installs the Gateway API CRDs; remove it, or set dataplane: ambient",
        )
        return
    if not mesh.revisions:
        return
    newest = max(mesh.revisions.values(), key=version_order)
    needed = gateway_api_release(newest)
    if gateway_api_order(pinned) < gateway_api_order(needed):
        problems.add(
            "gatewayApiRelease",
            "too-old",
            f"{pinned} is older than {needed}, the Gateway API release Istio {newest} (the newest in istioRevisions) is built "
            f"against; use {needed} or later",
        )


def _operator_ranges(mesh: ParsedMesh, problems: Problems) -> None:
    """``operatorCidrs`` is required exactly when the clusters span platforms: their API servers
    then face the internet and admit nothing else besides the other clusters' egress addresses."""
    clouds = sorted(mesh.clouds | {c.value.cloud for c in mesh.clusters})
    if mesh.spans_platforms and mesh.operator_cidrs is None:
        problems.add(
            "operatorCidrs",
            "required",
            f"is required when the clusters span platforms ({', '.join(clouds)}): their API servers face the internet and admit "
            "only these ranges and the other clusters' egress addresses; set the public ranges pulumi runs from, e.g. "
            "pulumi config set --path 'operatorCidrs[0]' \"$(curl -s https://checkip.amazonaws.com)/32\"",
        )
    elif not mesh.spans_platforms and mesh.operator_cidrs and clouds:
        problems.add(
            "operatorCidrs",
            "unused",
            f"is only used when the clusters span platforms, and all are {clouds[0]}; remove it, and restrict each "
            "cluster's API with its own field (authorizedIpRanges on azure, endpointPublicAccessCidrs on aws)",
        )


def _exposure_limits(mesh: ParsedMesh, platforms: Sequence[PlatformConfig], problems: Problems) -> None:
    """A cloud refuses more API (or gateway) ranges than its limit only after the networks exist, so
    the limits are checked here, on the lists the program will send."""
    if mesh.spans_platforms:
        _limits_across_platforms(mesh, platforms, problems)
    else:
        _allow_list_limits(mesh, platforms, problems)


def _limits_across_platforms(mesh: ParsedMesh, platforms: Sequence[PlatformConfig], problems: Problems) -> None:
    """Across platforms each API endpoint admits the operators and every other cluster's egress
    addresses, each east-west gateway the other clusters'."""
    if not mesh.operator_cidrs:
        return
    sources = {name: ids for p in platforms for name, ids in p.egress_sources(mesh).items()}
    operators = len(mesh.operator_cidrs)
    for platform in platforms:
        limits = platform.exposure_limits
        for entry in mesh.on(platform.name) if limits else ():
            assert limits is not None
            name = entry.value.name
            peers = frozenset[EgressSource]().union(*(ids for other, ids in sources.items() if other != name))
            admitted = peers | (sources.get(name, frozenset()) if limits.own_egress else frozenset())
            if operators + len(admitted) > limits.api_ranges:
                ways = ["list fewer, wider operatorCidrs", *sorted({s.fewer for s in admitted if s.fewer})]
                problems.add(
                    entry.at("name"),
                    "too-many-api-ranges",
                    f"its API endpoint would admit {operators + len(admitted)} ranges ({operators} operatorCidrs and "
                    f"{_addresses(len(admitted))} of the clusters), more than {platform.name}'s limit of {limits.api_ranges}; "
                    f"{', or '.join(ways)}",
                    entry.owner,
                )
            if limits.gateway_ranges is not None and len(peers) > limits.gateway_ranges:
                ways = sorted({s.fewer for s in peers if s.fewer}) or ["have fewer clusters outside its network"]
                problems.add(
                    entry.at("name"),
                    "too-many-gateway-ranges",
                    f"its east-west gateway would admit {_addresses(len(peers))} of the other clusters, more than the "
                    f"{limits.gateway_ranges} its {platform.name} load balancer takes; {', or '.join(ways)}",
                    entry.owner,
                )


def _allow_list_limits(mesh: ParsedMesh, platforms: Sequence[PlatformConfig], problems: Problems) -> None:
    """Within one platform a restricted API endpoint admits its own field's ranges and the mesh's
    egress addresses the program adds (``PlatformConfig.api_allow_list``): together within the limit."""
    for platform in platforms:
        limits = platform.exposure_limits
        for entry in mesh.on(platform.name) if limits else ():
            assert limits is not None
            allowed = platform.api_allow_list(mesh, entry)
            if allowed is None or allowed.listed + len(allowed.added) <= limits.api_ranges:
                continue
            ways = ["list fewer, wider ranges here", *sorted({s.fewer for s in allowed.added if s.fewer})]
            problems.add(
                allowed.path,
                "too-many-api-ranges",
                f"its API endpoint would admit {allowed.listed + len(allowed.added)} ranges ({allowed.listed} listed here and "
                f"{_addresses(len(allowed.added))} of the mesh's clusters, which the program adds), more than "
                f"{platform.name}'s limit of {limits.api_ranges}; {', or '.join(ways)}",
                entry.owner,
            )


def _addresses(count: int) -> str:
    return f"{count} egress address{'es' if count != 1 else ''}"


def _routed_ranges_disjoint(ranges: list[RoutedRange], problems: Problems) -> None:
    # Overlay pod ranges are NATed at the node, so two clusters may reuse one; VNets and VPCs may not.
    routed = [r for r in ranges if not r.natted]
    report_overlaps(problems, [(r.path, r.owner, r.network) for r in routed], "VNet and VPC")
    for pod in (r for r in ranges if r.natted):
        for other in routed:
            if pod.network.overlaps(other.network):
                problems.add(
                    pod.path,
                    "overlap",
                    f"{pod.network} overlaps {other.label} {other.network}; overlay pod ranges must not overlap any VNet or VPC",
                    pod.owner,
                )


def _service_ranges(mesh: ParsedMesh, ranges: list[RoutedRange], problems: Problems) -> None:
    for entry in mesh.clusters:
        service = entry.value.platform_spec.service_range
        if service is None:
            continue
        for other in ranges:
            if service.overlaps(other.network):
                problems.add(
                    entry.at("serviceCidr"),
                    "overlap",
                    f"{service} overlaps {other.label} {other.network}; service ranges must not overlap any routed network",
                    entry.owner,
                )


def _flat_networks(mesh: ParsedMesh, platforms: dict[str, PlatformConfig], problems: Problems) -> None:
    for first, second in combinations(mesh.clusters, 2):
        a, b = first.value, second.value
        if a.network != b.network:
            continue
        reason = _unroutable_reason(a, b, platforms)
        if reason:
            problems.add(
                second.at("network"),
                "flat-network",
                f"shares network {b.network} with clusters[{first.index}] (cluster {a.name}), but {reason}; "
                "give each its own network so traffic crosses the east-west gateways",
                second.owner,
            )
            continue
        a_service, b_service = a.platform_spec.service_range, b.platform_spec.service_range
        if a_service and b_service and a_service.overlaps(b_service):
            problems.add(
                second.at("serviceCidr"),
                "overlap",
                f"{b_service} overlaps {first.label('serviceCidr')} {a_service}; "
                "clusters on one flat network need service ranges of their own",
                second.owner,
            )


def _unroutable_reason(first: ClusterSpec, second: ClusterSpec, platforms: dict[str, PlatformConfig]) -> str | None:
    if first.cloud != second.cloud:
        return f"pod IPs of {first.cloud} and {second.cloud} clusters are not known to be routable to each other"
    return platforms[first.cloud].flat_network_problem(first, second)


class Span(Protocol):
    """An address range: an IPv4 network, or a first-last range."""

    def overlaps(self, other: Any, /) -> bool: ...


L = TypeVar("L")
S = TypeVar("S", bound=Span)


def overlapping_pairs(labelled: Sequence[tuple[L, S]]) -> Iterator[tuple[tuple[L, S], tuple[L, S]]]:
    """Every pair of overlapping ranges, earlier one first."""
    for first, second in combinations(labelled, 2):
        if first[1].overlaps(second[1]):
            yield first, second


@dataclass(frozen=True)
class ApiExposure:
    """How a platform's own API allow-list field reads in messages.

    Args:
        key: the cluster field, e.g. ``authorizedIpRanges``.
        api: what it guards, e.g. ``the AKS API server``.
        set_by: what the program sets it to when the clusters span platforms.
        adds: what the program adds to a list the operator gives, within one platform.
    """

    key: str
    api: str
    set_by: str
    adds: str


def report_api_exposure(mesh: ParsedMesh, entry: Entry[ClusterSpec], ranges: Sequence[Any], field: ApiExposure, problems: Problems) -> None:
    """A cluster's own API allow-list: across platforms the program derives it, so it is refused;
    within one platform an API open to anyone is valid but worth a warning."""
    if mesh.spans_platforms and ranges:
        problems.add(
            entry.at(field.key),
            "derived",
            f"is set by the program when the clusters span platforms: {field.set_by}; move your operators' ranges to "
            "operatorCidrs and remove it",
            entry.owner,
        )
    elif not mesh.spans_platforms and (not ranges or OPEN_TO_ALL in ranges):
        problems.warn(
            entry.at(field.key),
            "api-open",
            f"{field.api} accepts connections from anywhere; list the operators' ranges here (the program adds {field.adds})",
            entry.owner,
        )


def report_overlaps(problems: Problems, labelled: Sequence[tuple[str, Owner | None, Span]], what: str) -> None:
    """One problem per overlapping pair of ranges, reported at the later one:
    "<b> overlaps <a> ...; give every <what> a range of its own"."""
    spans = [((path, owner), span) for path, owner, span in labelled]
    for ((path_a, owner_a), net_a), ((path_b, owner_b), net_b) in overlapping_pairs(spans):
        label_a = f"{path_a} ({owner_a})" if owner_a else path_a
        problems.add(path_b, "overlap", f"{net_b} overlaps {label_a} {net_a}; give every {what} a range of its own", owner_b)
