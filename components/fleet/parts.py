"""What a cloud's part of a fleet hands back: the mesh stack's share (``MeshPart``) and a member's
cluster (``MemberCluster``); ``components.fleet.aws`` and ``components.fleet.azure`` make them."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.cluster.handle import ClusterHandle


@dataclass(frozen=True)
class MeshPart:
    """What the mesh stack made for one cloud's clusters.

    Args:
        outputs: the mesh stack's outputs for them, by name (default none: no cluster on it).
        egress: each of its clusters' egress addresses, by cluster (default none).
    """

    outputs: dict[str, Any] = field(default_factory=dict)
    egress: Mapping[str, pulumi.Output[list[str]]] = field(default_factory=dict)


@dataclass(frozen=True)
class MemberCluster:
    """What a member stack made of its cluster.

    Args:
        handle: the cluster, for Istio.
        outputs: the member stack's outputs for it, by name.
    """

    handle: ClusterHandle
    outputs: dict[str, Any]
