"""Existing clusters (kind, minikube, any conformant cluster) reached through a kubeconfig context."""

from __future__ import annotations

from components.config.model import MeshSpec
from components.mesh.ca import MeshCA
from components.platforms.existing.cluster import ExistingClusterArgs, ExistingKubernetesCluster
from components.platforms.existing.config import NAME, ExistingConfig
from components.platforms.platform import PlatformBuild


class ExistingPlatform:
    """Each existing cluster becomes a handle (and MetalLB where configured); no outputs of its own."""

    config = ExistingConfig()

    def build(self, mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
        clusters = {c.name: ExistingKubernetesCluster(c.name, ExistingClusterArgs(c)) for c in mesh.on(NAME)}
        return PlatformBuild({name: cluster.handle for name, cluster in clusters.items()})


EXISTING = ExistingPlatform()
