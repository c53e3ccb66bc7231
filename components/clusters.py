"""Build each cluster of the spec with its cloud's component and return the handles."""

from __future__ import annotations

from components.existing import ExistingClusterArgs, ExistingKubernetesCluster
from components.mesh.handle import ClusterHandle
from components.model import ClusterSpec, ExistingCluster, MeshSpec


def build_clusters(spec: MeshSpec) -> dict[str, ClusterHandle]:
    """Handles of the clusters whose cloud layer exists, by name.

    Clusters build independently of each other (no dependencies between them), so Pulumi creates
    them in parallel. AKS and EKS clusters get their layers in later issues; until then they have
    no handle and the caller installs Istio only when every cluster has one.
    """
    handles: dict[str, ClusterHandle] = {}
    for cluster in spec.clusters:
        handle = _build(cluster)
        if handle is not None:
            handles[cluster.name] = handle
    return handles


def _build(cluster: ClusterSpec) -> ClusterHandle | None:
    if isinstance(cluster.platform, ExistingCluster):
        return ExistingKubernetesCluster(cluster.name, ExistingClusterArgs(cluster)).handle
    return None
