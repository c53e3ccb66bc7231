"""The platforms clusters can run on; adding one is a folder here and a line in ``PLATFORMS``."""

from __future__ import annotations

from components.config.model import MeshSpec
from components.config.platform import PlatformConfig
from components.mesh.ca import MeshCA
from components.platforms.aws import AWS
from components.platforms.azure import AZURE
from components.platforms.existing import EXISTING
from components.platforms.platform import Platform, PlatformBuild

PLATFORMS: tuple[Platform, ...] = (AZURE, AWS, EXISTING)


def platform_configs() -> list[PlatformConfig]:
    return [p.config for p in PLATFORMS]


def build_platforms(mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
    """Every platform that has clusters in the mesh, built side by side (no edges between them)."""
    built = PlatformBuild(handles={})
    for platform in PLATFORMS:
        if mesh.on(platform.config.name):
            part = platform.build(mesh, ca)
            built.handles |= part.handles
            built.outputs |= part.outputs
    return built
