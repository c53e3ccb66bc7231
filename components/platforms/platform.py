"""What the program asks of each platform: its config, and its clusters built as ``ClusterHandle``s.

``__main__`` builds every platform that has clusters in the mesh and knows nothing else of them;
everything after this step sees clusters only through their handles.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components.cluster.handle import ClusterHandle
from components.config.model import MeshSpec
from components.config.platform import PlatformConfig
from components.mesh.ca import MeshCA
from components.platforms.exposure import Exposure


@dataclass
class PlatformBuild:
    """What building a platform made.

    Args:
        handles: a handle per cluster of the platform, by cluster name.
        outputs: the platform's stack outputs, by output name (default none).
    """

    handles: dict[str, ClusterHandle]
    outputs: dict[str, pulumi.Input[Any]] = field(default_factory=dict)


class PreparedPlatform(Protocol):
    """A platform's networks, made before any cluster of any platform, and what builds its clusters
    on them (each platform's own dataclass: ``PreparedAws``, ``PreparedAzure``, ``PreparedExisting``)."""

    @property
    def egress(self) -> Mapping[str, pulumi.Input[Sequence[str]]]:
        """Each of its clusters' egress addresses as CIDRs, by cluster name (read only when the
        clusters span platforms; a platform may leave out what it would not otherwise make)."""
        ...

    def build(self, ca: MeshCA, exposure: Exposure | None) -> PlatformBuild:
        """Its clusters and CA copies, given the mesh CA and, when the clusters span platforms, who
        may reach their internet-facing API servers and gateways."""
        ...


class Platform(Protocol):
    """A platform: its config (fields, parsing, rules) and how it builds its clusters, in two steps
    so that every cluster can admit the others' egress addresses without waiting for them."""

    @property
    def config(self) -> PlatformConfig: ...

    def prepare(self, mesh: MeshSpec) -> PreparedPlatform:
        """The platform's networks and egress addresses for ``mesh.on(config.name)``."""
        ...
