"""Validation rules that compare clusters, networks and VPCs with each other.

Each rule appends one sentence per problem to ``problems``: the field path and cluster at fault,
what it conflicts with, and what to do. They run after every field parsed, so each rule can rely
on well-formed values.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from ipaddress import IPv4Network
from itertools import combinations

from components.fields import Problems
from components.model import (
    AwsCluster,
    AzureCluster,
    AzureCni,
    ClusterSpec,
    MeshSpec,
    Role,
    Topology,
)


def check_mesh(spec: MeshSpec, listed: int, problems: Problems) -> None:
    """Run every cross-cluster rule; ``listed`` counts the clusters the config lists."""
    if listed < 2:
        problems.add(f"clusters: lists {listed} cluster{'s' if listed != 1 else ''}; a multicluster mesh needs at least 2")
    _unique_names(spec, problems)
    _roles(spec, problems)
    _vpcs(spec, problems)
    _azure_subnets(spec, problems)
    _routable_ranges_disjoint(spec, problems)
    _service_ranges(spec, problems)
    _flat_networks(spec, problems)


def where(spec: MeshSpec, cluster: ClusterSpec, key: str) -> str:
    """``clusters[i].key (cluster name)``, the way every message names a cluster's field."""
    return f"clusters[{spec.clusters.index(cluster)}].{key} (cluster {cluster.name})"


def _unique_names(spec: MeshSpec, problems: Problems) -> None:
    counts = Counter(c.name for c in spec.clusters)
    for cluster in spec.clusters:
        first = next(c for c in spec.clusters if c.name == cluster.name)
        if counts[cluster.name] > 1 and cluster is not first:
            problems.add(
                f"{where(spec, cluster, 'name')}: {cluster.name} is already the name of clusters[{spec.clusters.index(first)}]; "
                "names become Istio cluster IDs and secret names, so each must be unique"
            )
    vpc_counts = Counter(v.name for v in spec.vpcs)
    for name, count in vpc_counts.items():
        if count > 1:
            problems.add(f"vpcs: {name} is declared {count} times; give each VPC a unique name")


def _roles(spec: MeshSpec, problems: Problems) -> None:
    primaries = {c.name for c in spec.clusters if c.role is Role.PRIMARY}
    for cluster in spec.clusters:
        if cluster.role is Role.PRIMARY:
            if cluster.primary is not None:
                problems.add(f"{where(spec, cluster, 'primary')}: only a remote names a primary; remove it or set role: remote")
            continue
        if spec.topology is Topology.MULTI_PRIMARY:
            problems.add(
                f"{where(spec, cluster, 'role')}: remote clusters need topology: primary-remote; set it, or make this cluster a primary"
            )
        elif cluster.primary is None:
            problems.add(f"{where(spec, cluster, 'primary')}: is required for a remote; name the primary cluster whose istiod it uses")
        elif cluster.primary not in primaries:
            what = "is a remote" if any(c.name == cluster.primary for c in spec.clusters) else "is not a cluster of this mesh"
            problems.add(
                f"{where(spec, cluster, 'primary')}: {cluster.primary} {what}; "
                f"name one of the primaries: {', '.join(sorted(primaries)) or 'none are declared'}"
            )
    if spec.topology is Topology.PRIMARY_REMOTE and spec.clusters and not primaries:
        problems.add("topology: primary-remote needs at least one cluster with role: primary")


def _vpcs(spec: MeshSpec, problems: Problems) -> None:
    for index, vpc in enumerate(spec.vpcs):
        here = f"vpcs[{index}]"
        owner = f" (vpc {vpc.name})"
        for key, subnets in (("privateSubnets", vpc.private_subnets), ("publicSubnets", vpc.public_subnets)):
            if len(subnets) != vpc.availability_zones:
                problems.add(
                    f"{here}.{key}{owner}: lists {len(subnets)} subnets for {vpc.availability_zones} availability zones; give one per zone"
                )
            for subnet in subnets:
                if not subnet.subnet_of(vpc.cidr):
                    problems.add(f"{here}.{key}{owner}: {subnet} is outside the VPC {vpc.cidr}; pick a range inside it")
        _disjoint(
            problems,
            [
                (f"{here}.{k}{owner}", s)
                for k, nets in (("privateSubnets", vpc.private_subnets), ("publicSubnets", vpc.public_subnets))
                for s in nets
            ],
            "subnet",
        )
    names = {v.name: v for v in spec.vpcs}
    for cluster in spec.clusters:
        if not isinstance(cluster.platform, AwsCluster):
            continue
        vpc = names.get(cluster.platform.vpc)
        if vpc is None:
            problems.add(
                f"{where(spec, cluster, 'vpc')}: {cluster.platform.vpc} is not declared in vpcs; "
                f"add it there or name one of: {', '.join(names) or 'none are declared'}"
            )
        elif vpc.region != cluster.region:
            problems.add(
                f"{where(spec, cluster, 'region')}: {cluster.region} differs from its vpc {vpc.name} in {vpc.region}; "
                "a cluster lives in its VPC's region"
            )


def _azure_subnets(spec: MeshSpec, problems: Problems) -> None:
    for cluster in spec.clusters:
        azure = cluster.platform
        if not isinstance(azure, AzureCluster):
            continue
        names = Counter(p.name for p in azure.node_pools)
        for name, count in names.items():
            if count > 1:
                problems.add(f"{where(spec, cluster, 'nodePools')}: pool name {name} is used {count} times; pool names must be unique")
        for index, pool in enumerate(azure.node_pools):
            if not pool.subnet_cidr.subnet_of(azure.vnet_cidr):
                problems.add(
                    f"{where(spec, cluster, f'nodePools[{index}].subnetCidr')}: {pool.subnet_cidr} is outside "
                    f"vnetCidr {azure.vnet_cidr}; pick a subnet inside the VNet"
                )
        _disjoint(
            problems,
            [(where(spec, cluster, f"nodePools[{i}].subnetCidr"), p.subnet_cidr) for i, p in enumerate(azure.node_pools)],
            "subnet",
        )


def _routable_ranges(spec: MeshSpec) -> Iterator[tuple[str, IPv4Network]]:
    """Every range that is routed between clusters: VNets, VPCs (once each) and overlay pod ranges."""
    for cluster in spec.clusters:
        if isinstance(cluster.platform, AzureCluster):
            yield where(spec, cluster, "vnetCidr"), cluster.platform.vnet_cidr
            if cluster.platform.pod_cidr is not None:
                yield where(spec, cluster, "podCidr"), cluster.platform.pod_cidr
    used = {c.platform.vpc for c in spec.clusters if isinstance(c.platform, AwsCluster)}
    for index, vpc in enumerate(spec.vpcs):
        if vpc.name in used:
            yield f"vpcs[{index}].cidr (vpc {vpc.name})", vpc.cidr


def _routable_ranges_disjoint(spec: MeshSpec, problems: Problems) -> None:
    ranges = list(_routable_ranges(spec))
    overlay_pods = [(label, net) for label, net in ranges if ".podCidr" in label]
    # Overlay pod ranges are NATed at the node, so two clusters may reuse one; VNets and VPCs may not.
    _disjoint(problems, [r for r in ranges if r not in overlay_pods], "VNet and VPC")
    for pod_label, pod in overlay_pods:
        for label, net in ranges:
            if (label, net) not in overlay_pods and pod.overlaps(net):
                problems.add(f"{pod_label}: {pod} overlaps {label} {net}; overlay pod ranges must not overlap any VNet or VPC")


def _service_ranges(spec: MeshSpec, problems: Problems) -> None:
    ranges = list(_routable_ranges(spec))
    for cluster in spec.clusters:
        service = _service_cidr(cluster)
        if service is None:
            continue
        for label, net in ranges:
            if service.overlaps(net):
                problems.add(
                    f"{where(spec, cluster, 'serviceCidr')}: {service} overlaps {label} {net}; "
                    "service ranges must not overlap any routed network"
                )


def _flat_networks(spec: MeshSpec, problems: Problems) -> None:
    for first, second in combinations(spec.clusters, 2):
        if first.network != second.network:
            continue
        reason = _unroutable_reason(first, second)
        if reason:
            problems.add(
                f"{where(spec, second, 'network')}: shares network {second.network} with clusters[{spec.clusters.index(first)}] "
                f"(cluster {first.name}), but {reason}; give each its own network so traffic crosses the east-west gateways"
            )
            continue
        first_service, second_service = _service_cidr(first), _service_cidr(second)
        if first_service and second_service and first_service.overlaps(second_service):
            problems.add(
                f"{where(spec, second, 'serviceCidr')}: {second_service} overlaps {where(spec, first, 'serviceCidr')} {first_service}; "
                "clusters on one flat network need service ranges of their own"
            )


def _unroutable_reason(first: ClusterSpec, second: ClusterSpec) -> str | None:
    """Why pod IPs of two clusters cannot reach each other directly, or ``None`` when they can."""
    a, b = first.platform, second.platform
    if isinstance(a, AzureCluster) and isinstance(b, AzureCluster):
        overlay = [c.name for c, p in ((first, a), (second, b)) if p.cni is AzureCni.OVERLAY]
        if overlay:
            verb = "uses" if len(overlay) == 1 else "use"
            return (
                f"{' and '.join(overlay)} {verb} overlay networking, whose pod IPs are not routable over VNet peering "
                "(set networkPlugin: azure for a flat network)"
            )
        return None
    if isinstance(a, AwsCluster) and isinstance(b, AwsCluster):
        if a.vpc != b.vpc:
            return f"they are in different VPCs ({a.vpc}, {b.vpc}) (put both in one VPC for a flat network)"
        return None
    return f"pod IPs of {first.cloud} and {second.cloud} clusters are not known to be routable to each other"


def _service_cidr(cluster: ClusterSpec) -> IPv4Network | None:
    platform = cluster.platform
    if isinstance(platform, AzureCluster | AwsCluster):
        return platform.service_cidr
    return None


def _disjoint(problems: Problems, labelled: list[tuple[str, IPv4Network]], what: str) -> None:
    for (label_a, net_a), (label_b, net_b) in combinations(labelled, 2):
        if net_a.overlaps(net_b):
            problems.add(f"{label_b}: {net_b} overlaps {label_a} {net_a}; give every {what} a range of its own")
