"""The platforms clusters can run on; adding one is a folder here and a line in ``PLATFORMS``."""

from __future__ import annotations

from collections.abc import Sequence

from components.config.model import MeshSpec
from components.config.platform import PlatformConfig
from components.mesh.ca import MeshCA
from components.platforms.aws import AWS
from components.platforms.azure import AZURE
from components.platforms.existing import EXISTING
from components.platforms.exposure import Exposure
from components.platforms.platform import Platform, PlatformBuild, PreparedPlatform

PLATFORMS: tuple[Platform, ...] = (AZURE, AWS, EXISTING)
# The order platforms are prepared in: those that check live facts first (AWS reads each region's
# zone list before its VPCs), so that a refusal stops the update before anything else is registered.
PREPARATION_ORDER: tuple[Platform, ...] = (AWS, AZURE, EXISTING)


def platform_configs() -> list[PlatformConfig]:
    return [p.config for p in PLATFORMS]


def prepare_platforms(mesh: MeshSpec) -> list[PreparedPlatform]:
    """The networks (and egress addresses) of every platform that has clusters in the mesh, before
    anything else of the stack: see ``PREPARATION_ORDER``."""
    return [platform.prepare(mesh) for platform in PREPARATION_ORDER if mesh.on(platform.config.name)]


def build_platforms(mesh: MeshSpec, prepared: Sequence[PreparedPlatform], ca: MeshCA) -> PlatformBuild:
    """Every platform's clusters and CA copies, built side by side. Across platforms the only edges
    between them are each cluster's ranges on the others' egress addresses (``Exposure``)."""
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
