"""Which ingress rules the EKS clusters' groups need: one home for the component that makes them
(``AwsMeshSecurity``) and the name plan that checks their names before any resource.

For every ordered pair (X admits Y): the east-west gateway's port when they are on different Istio
networks (in ambient HBONE's, and 15443 too beside the sidecar gateway), all traffic when they
share one, and the API server (443) when they share a VPC. A peer in the same VPC is admitted by
its group where one stack builds every cluster (``by_group``), else by the VPC's range; a peer in
another VPC by that VPC's range. Rules by range are one per admitting cluster, VPC and ports,
whichever peers need them: AWS refuses a second rule of the same group, protocol, ports and range
(``InvalidPermission.Duplicate``); each keeps, as aliases, the per-cluster names it had before.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from itertools import permutations

from components.config.names import NameTemplate
from components.istio.facts import CROSS_NETWORK_PORT, HBONE_PORT, WEBHOOK_PORTS
from components.platforms.aws import names


@dataclass(frozen=True)
class RuleCluster:
    """What decides an EKS cluster's rules.

    Args:
        name: the cluster.
        network: its Istio network.
        vpc: its VPC's name.
    """

    name: str
    network: str
    vpc: str


@dataclass(frozen=True)
class IngressRule:
    """One rule on an admitting cluster's group.

    Args:
        template: its name's template; ``parts`` fill it (``security`` aside).
        parts: the name's parts.
        admits: the cluster whose group it goes on.
        sources: the clusters it admits.
        protocol: ``tcp`` or ``-1`` (all traffic).
        ports: first and last port (ignored for all traffic).
        source_group: the cluster whose group it admits (same VPC, one stack), else None.
        source_range: the VPC range it admits, else None.
        formerly: the parts of the per-cluster names the rule had before it was one per VPC.
    """

    template: NameTemplate
    parts: dict[str, str]
    admits: str
    sources: tuple[str, ...]
    protocol: str
    ports: tuple[int, int]
    source_group: str | None = None
    source_range: str | None = None
    formerly: tuple[dict[str, str], ...] = ()


def ingress_rules(
    clusters: Sequence[RuleCluster],
    vpc_ranges: Mapping[str, str],
    admitting: Sequence[str],
    *,
    by_group: bool,
    ambient: bool,
    sidecar_gateway: bool,
) -> list[IngressRule]:
    """Every rule the groups of ``admitting`` need, in a stable order (``vpc_ranges``: each VPC's
    CIDR; ``by_group``: admit a peer of the same VPC by its group); see the module docstring."""
    by_name = {c.name: c for c in clusters}
    chosen = list(admitting)
    east_west = HBONE_PORT if ambient else CROSS_NETWORK_PORT
    rules = [
        IngressRule(names.WEBHOOK_RULE, {"cluster": c, "port": str(port)}, c, (c,), "tcp", (port, port), source_group=c)
        for c in chosen
        for port in WEBHOOK_PORTS
    ]
    ranged: dict[tuple[str, str, str], IngressRule] = {}
    for admits, source in permutations(by_name, 2):
        if admits not in chosen:
            continue
        a, b = by_name[admits], by_name[source]
        flat, vpc = a.network == b.network, b.vpc
        same_vpc = a.vpc == vpc
        peer: tuple[str, str, tuple[int, int]] = ("peer", "-1", (0, 65535)) if flat else ("peer", "tcp", (east_west, east_west))
        wanted: list[tuple[str, str, tuple[int, int]]] = [("api", "tcp", (443, 443)), peer] if same_vpc else [peer]
        if ambient and sidecar_gateway and not flat:
            wanted.append(("sidecar", "tcp", (CROSS_NETWORK_PORT, CROSS_NETWORK_PORT)))
        for kind, protocol, ports in wanted:
            pair = {"admits": admits, "source": source}
            if same_vpc and by_group:
                rules.append(IngressRule(PER_CLUSTER[kind], pair, admits, (source,), protocol, ports, source_group=source))
                continue
            label = "all" if protocol == "-1" else str(ports[0])
            key = (admits, vpc, f"{kind}-{label}")
            found = ranged.get(key)
            if found is None:
                parts = {"admits": admits, "vpc": vpc, **({"ports": label} if kind == "peer" else {})}
                found = IngressRule(BY_RANGE[kind], parts, admits, (), protocol, ports, source_range=vpc_ranges[vpc])
            ranged[key] = dataclasses.replace(found, sources=(*found.sources, source), formerly=(*found.formerly, pair))
    return rules + list(ranged.values())


PER_CLUSTER = {"api": names.API_RULE, "peer": names.PEER_RULE, "sidecar": names.SIDECAR_PEER_RULE}
BY_RANGE = {"api": names.API_RANGE_RULE, "peer": names.PEER_RANGE_RULE, "sidecar": names.SIDECAR_RANGE_RULE}
PER_CLUSTER_OF = {BY_RANGE[kind]: PER_CLUSTER[kind] for kind in BY_RANGE}
