"""Exposure: who may reach a cluster's API server and east-west gateway when they face the internet.

When the clusters span platforms nothing is peered: each cluster's istiod watches the other
clusters' API servers, and its pods dial their east-west gateways, over the internet, from their
cluster's egress addresses. So every cloud API server admits the operators' ranges and the other
clusters' egress addresses, and every east-west gateway admits the other clusters' egress
addresses, never ``0.0.0.0/0``. Each platform makes its egress addresses (AWS NAT Elastic IPs,
Azure outbound public IPs, the declared ranges of existing clusters) before any cluster, so a
cluster names its peers' addresses without waiting for the peers themselves.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network

import pulumi


def sorted_cidrs(cidrs: Iterable[str]) -> list[str]:
    """Each range once, in address order, so the lists (and their diffs) never depend on cluster order."""
    return [str(n) for n in sorted({IPv4Network(c) for c in cidrs})]


def host_cidrs(addresses: Sequence[pulumi.Input[str]]) -> pulumi.Output[list[str]]:
    """Single addresses (NAT Elastic IPs, public IPs) as /32 ranges."""
    return pulumi.Output.all(*addresses).apply(lambda ips: sorted_cidrs(f"{ip}/32" for ip in ips))


def with_peers(ranges: Iterable[str], peers: pulumi.Input[Sequence[str]]) -> pulumi.Output[list[str]]:
    """``ranges`` and the peers' egress addresses, each once, in address order."""
    fixed = list(ranges)
    return pulumi.Output.from_input(peers).apply(lambda cidrs: sorted_cidrs([*fixed, *cidrs]))


@dataclass(frozen=True)
class Exposure:
    """The ranges a mesh across platforms admits; see the module docstring.

    Args:
        operator_cidrs: where people and CI runners reach the API servers from (``operatorCidrs``).
        egress: each cluster's egress addresses as CIDRs, by cluster name.
    """

    operator_cidrs: tuple[str, ...]
    egress: Mapping[str, pulumi.Input[Sequence[str]]]

    def peers(self, cluster: str) -> pulumi.Output[list[str]]:
        """Every other cluster's egress addresses: what ``cluster``'s east-west gateway admits."""
        return self._joined(name for name in self.egress if name != cluster)

    def api(self, cluster: str, *, own: bool = False) -> pulumi.Output[list[str]]:
        """What ``cluster``'s API server admits: the operators and the other clusters (and, with
        ``own``, its own egress, for nodes that reach their API server's public endpoint)."""
        return with_peers(self.operator_cidrs, self._joined(name for name in self.egress if own or name != cluster))

    def _joined(self, names: Iterable[str]) -> pulumi.Output[list[str]]:
        lists = [self.egress[name] for name in names]
        return pulumi.Output.all(*lists).apply(lambda parts: sorted_cidrs(c for part in parts for c in part))
