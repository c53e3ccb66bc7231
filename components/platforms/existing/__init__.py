"""Existing clusters (kind, minikube, any conformant cluster) reached through a kubeconfig context."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from components.config.model import MeshSpec
from components.mesh.ca import MeshCA
from components.platforms.existing import names
from components.platforms.existing.cluster import ExistingClusterArgs, ExistingKubernetesCluster
from components.platforms.existing.config import NAME, ExistingConfig, existing_part
from components.platforms.exposure import Exposure, sorted_cidrs
from components.platforms.platform import PlatformBuild


@dataclass(frozen=True)
class PreparedExisting:
    """Existing clusters need nothing made first: their egress is what their config declares.

    Args:
        mesh: the mesh.
        egress: each existing cluster's declared egress, by cluster name (only across platforms).
    """

    mesh: MeshSpec
    egress: Mapping[str, list[str]]

    def build(self, ca: MeshCA, exposure: Exposure | None) -> PlatformBuild:
        clusters = {
            c.name: ExistingKubernetesCluster(names.CLUSTER.name(cluster=c.name), ExistingClusterArgs(c, exposure))
            for c in self.mesh.on(NAME)
        }
        return PlatformBuild({name: cluster.handle for name, cluster in clusters.items()})


class ExistingPlatform:
    """Each existing cluster becomes a handle (and MetalLB where configured); no outputs of its own."""

    config = ExistingConfig()

    def prepare(self, mesh: MeshSpec) -> PreparedExisting:
        """Nothing to make first: an existing cluster's egress is what its config declares."""
        egress = {c.name: sorted_cidrs(str(r) for r in existing_part(c).egress_cidrs) for c in mesh.on(NAME)}
        return PreparedExisting(mesh, egress if mesh.spans_platforms else {})


EXISTING = ExistingPlatform()
