"""Small Pulumi programs that build the mesh layers on stand-in clusters, for component tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping

import pulumi_kubernetes as k8s

from components.config.model import MeshSpec
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.handle import ClusterHandle
from components.mesh.istio import install_istio
from components.mesh.link import MeshLink, MeshLinkArgs


def api_url(cluster: str) -> str:
    return f"https://{cluster}.example:6443"


def mesh_program(spec: MeshSpec, annotations: Mapping[str, str] | None = None, *, link: bool = False) -> Callable[[], None]:
    """MeshCA, then per cluster a kubernetes Provider and a handle, Istio on all; MeshLink if ``link``."""

    def program() -> None:
        ca = MeshCA("mesh-ca", MeshCAArgs([c.name for c in spec.clusters], spec.ca))
        handles: dict[str, ClusterHandle] = {}
        for cluster in spec.clusters:
            provider = k8s.Provider(f"{cluster.name}-k8s", kubeconfig=f"{{}}  # {cluster.name}", cluster_identifier=cluster.name)
            lb = dict(annotations or {})
            handles[cluster.name] = ClusterHandle(cluster.name, cluster.network, provider, api_url(cluster.name), lb, lb)
        releases = install_istio(spec, handles, ca.clusters)
        if link:
            MeshLink("mesh-link", MeshLinkArgs(spec, handles, releases))

    return program
