"""The platforms clusters can run on; adding one is a folder here and a line in ``PLATFORMS``."""

from __future__ import annotations

from components.config.model import MeshSpec
from components.config.platform import PlatformConfig
from components.mesh.ca import MeshCA
from components.platforms.aws import AWS
from components.platforms.azure import AZURE
from components.platforms.existing import EXISTING
from components.platforms.exposure import Exposure
from components.platforms.platform import Platform, PlatformBuild

PLATFORMS: tuple[Platform, ...] = (AZURE, AWS, EXISTING)


def platform_configs() -> list[PlatformConfig]:
    return [p.config for p in PLATFORMS]


def build_platforms(mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
    """Every platform that has clusters in the mesh, built side by side. Across platforms the only
    edges between them are each cluster's ranges on the others' egress addresses (``Exposure``)."""
    prepared = [platform.prepare(mesh) for platform in PLATFORMS if mesh.on(platform.config.name)]
    exposure = None
    if mesh.spans_platforms:
        egress = {name: cidrs for part in prepared for name, cidrs in part.egress.items()}
        missing = [c.name for c in mesh.clusters if c.name not in egress]
        assert not missing, f"no egress addresses for {missing}: every platform must give its clusters'"
        exposure = Exposure(tuple(str(c) for c in mesh.operator_cidrs), egress)
    built = PlatformBuild(handles={})
    if exposure is not None:
        # What firewalls in front of other services (and existing clusters' API servers) must admit.
        built.outputs["egressAddresses"] = dict(exposure.egress)
    for part in prepared:
        made = part.build(ca, exposure)
        built.handles |= made.handles
        built.outputs |= made.outputs
    return built
