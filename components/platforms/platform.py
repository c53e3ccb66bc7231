"""What the program asks of each platform: its config, and its clusters built as ``ClusterHandle``s.

``__main__`` builds every platform that has clusters in the mesh and knows nothing else of them;
everything after this step sees clusters only through their handles.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

import pulumi

from components.config.model import MeshSpec
from components.config.platform import PlatformConfig
from components.mesh.ca import MeshCA
from components.mesh.handle import ClusterHandle


@dataclass
class PlatformBuild:
    """What building a platform made.

    Args:
        handles: a handle per cluster of the platform, by cluster name.
        outputs: the platform's stack outputs, by output name (default none).
    """

    handles: dict[str, ClusterHandle]
    outputs: dict[str, pulumi.Input[Any]] = field(default_factory=dict)


class Platform(Protocol):
    """A platform: its config (fields, parsing, rules) and how it builds its clusters."""

    @property
    def config(self) -> PlatformConfig: ...

    def build(self, mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
        """The platform's networks, clusters and CA copies for ``mesh.on(config.name)``."""
        ...
