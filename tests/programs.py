"""Small Pulumi programs that build the mesh layers on stand-in clusters, for component tests."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config.mesh_names import CA
from components.config.model import MeshSpec
from components.mesh.ca import MeshCA, MeshCAArgs
from components.mesh.mesh import build_mesh


def api_url(cluster: str) -> str:
    return f"https://{cluster}.example:6443"


def mesh_program(spec: MeshSpec, annotations: Mapping[str, str] | None = None, gateway_dns_names: Sequence[str] = ()) -> Callable[[], None]:
    """MeshCA, then per cluster a kubernetes Provider and a handle, then the whole mesh on them."""

    def program() -> None:
        ca = MeshCA(CA.name(), MeshCAArgs([c.name for c in spec.clusters], spec.ca))
        handles: dict[str, ClusterHandle] = {}
        for cluster in spec.clusters:
            provider = k8s.Provider(f"{cluster.name}-k8s", kubeconfig=f"{{}}  # {cluster.name}", cluster_identifier=cluster.name)
            lb = dict(annotations or {})
            handles[cluster.name] = ClusterHandle(cluster, provider, api_url(cluster.name), lb, lb, gateway_dns_names=gateway_dns_names)
        build_mesh(spec, handles, ca)

    return program
