"""IstioRelease: Istio on one cluster, in the order the mesh needs.

``istio-system`` (labelled with the cluster's network) -> ``cacerts`` -> ``base`` -> ``istiod`` ->
gateways. istiod waits for ``cacerts``: an istiod that started without it keeps a self-signed CA
and the clusters would not trust each other. The Helm value trees are built by the pure functions
below so tests can pin them exactly: Helm ignores unknown keys silently, so a typo would
otherwise go unnoticed.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.mesh.ca import ClusterCACerts
from components.mesh.handle import ClusterHandle
from components.model import MeshSpec

ISTIO_CHARTS = "https://istio-release.storage.googleapis.com/charts"
ISTIO_NAMESPACE = "istio-system"
NETWORK_LABEL = "topology.istio.io/network"
EASTWEST_GATEWAY = "istio-eastwestgateway"
CROSS_NETWORK_GATEWAY = "cross-network-gateway"
CROSS_NETWORK_PORT = 15443
INGRESS_NAMESPACE = "istio-ingress"
INGRESS_GATEWAY = "istio-ingressgateway"


def injection_labels(mesh: MeshSpec) -> dict[str, str]:
    """Namespace labels that turn sidecar (and gateway) injection on for the mesh's istiod."""
    return {"istio.io/rev": mesh.revision} if mesh.revision else {"istio-injection": "enabled"}


def deep_merge(*trees: Mapping[str, Any]) -> dict[str, Any]:
    """Merge value trees left to right; nested mappings merge, anything else is replaced."""
    merged: dict[str, Any] = {}
    for tree in trees:
        for key, value in tree.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
    return merged


def base_values(mesh: MeshSpec) -> dict[str, Any]:
    """Values of the ``base`` chart: the validating webhook follows the revision, if any."""
    return {"defaultRevision": mesh.revision} if mesh.revision else {}


def istiod_values(mesh: MeshSpec, cluster: str, network: str) -> dict[str, Any]:
    """Values of the ``istiod`` chart (DESIGN §5), with the config's overrides merged over them.

    ``global.meshID`` is one value for the whole mesh; ``clusterName`` becomes CLUSTER_ID and must
    equal the key of this cluster's remote secret elsewhere (unset it would be ``Kubernetes``).
    The overrides (mesh-wide, then the cluster's) cannot touch those: the config parser refuses it.
    """
    values: dict[str, Any] = {
        "global": {
            "meshID": mesh.mesh_id,
            "multiCluster": {"clusterName": cluster},
            "network": network,
        },
    }
    if mesh.revision:
        values["revision"] = mesh.revision
    if mesh.access_log:
        values["meshConfig"] = {"accessLogFile": "/dev/stdout"}
    return deep_merge(values, mesh.istiod_values, mesh.cluster(cluster).istiod_values)


def gateway_values(mesh: MeshSpec, name: str, annotations: Mapping[str, str]) -> dict[str, Any]:
    """Values of the ``gateway`` chart shared by both gateways: name, revision, Service annotations."""
    values: dict[str, Any] = {"name": name}
    if mesh.revision:
        values["revision"] = mesh.revision
    if annotations:
        values["service"] = {"annotations": dict(annotations)}
    return values


def eastwest_values(mesh: MeshSpec, network: str, annotations: Mapping[str, str]) -> dict[str, Any]:
    """Values of the ``gateway`` chart for the east-west gateway.

    ``networkGateway`` alone adds the network label, the requested-network-view env and ports
    15021/15443/15012/15017; the chart labels the pods ``istio: eastwestgateway``.
    """
    values = gateway_values(mesh, EASTWEST_GATEWAY, annotations)
    return {"name": values.pop("name"), "networkGateway": network, **values}


def cross_network_gateway_spec() -> dict[str, Any]:
    """The Istio Gateway that passes mTLS traffic for ``*.local`` through port 15443 untouched."""
    return {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {
                "port": {"number": CROSS_NETWORK_PORT, "name": "tls", "protocol": "TLS"},
                "tls": {"mode": "AUTO_PASSTHROUGH"},
                "hosts": ["*.local"],
            }
        ],
    }


@dataclass(frozen=True)
class IstioReleaseArgs:
    """Inputs of ``IstioRelease``.

    Args:
        mesh: the whole mesh (meshID, version, revision, networks, access log).
        cluster: the cluster to install on.
        cacerts: the cluster's plug-in CA material from ``MeshCA``.
    """

    mesh: MeshSpec
    cluster: ClusterHandle
    cacerts: ClusterCACerts


class IstioRelease(pulumi.ComponentResource):
    """Istio on one cluster: namespace, ``cacerts``, base, istiod and, on multi-network meshes,
    the east-west gateway with its ``cross-network-gateway``.

    Outputs: ``namespace`` (``istio-system``'s name, once it exists), ``base`` (the base
    Release, which creates ``istio-reader-service-account``) and ``istiod`` (the istiod Release;
    later steps that need a running istiod wait on it).
    """

    namespace: pulumi.Output[str]
    base: k8s.helm.v3.Release
    istiod: k8s.helm.v3.Release

    def __init__(self, name: str, args: IstioReleaseArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("istio-multicluster:mesh:IstioRelease", name, None, opts)
        mesh, cluster = args.mesh, args.cluster
        on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)

        namespace = k8s.core.v1.Namespace(
            f"{name}-istio-system",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=ISTIO_NAMESPACE, labels={NETWORK_LABEL: cluster.network}),
            opts=on_cluster,
        )
        namespace_name = namespace.metadata.name
        self.namespace = namespace_name
        cacerts = k8s.core.v1.Secret(
            f"{name}-cacerts",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="cacerts", namespace=namespace_name),
            type="Opaque",
            string_data=args.cacerts.secret_data(),
            opts=on_cluster,
        )
        self.base = self._release(name, "base", "istio-base", "base", mesh, namespace_name, base_values(mesh), on_cluster)
        self.istiod = self._release(
            name,
            "istiod",
            "istiod",
            "istiod",
            mesh,
            namespace_name,
            istiod_values(mesh, cluster.name, cluster.network),
            pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.base, cacerts])),
        )
        if mesh.multi_network:
            self._eastwest(name, mesh, cluster, namespace_name, on_cluster)
        if mesh.ingress_gateway:
            self._ingress(name, mesh, cluster, on_cluster)
        self.register_outputs({"istiod": self.istiod.status})

    def _eastwest(
        self, name: str, mesh: MeshSpec, cluster: ClusterHandle, namespace: pulumi.Output[str], on_cluster: pulumi.ResourceOptions
    ) -> None:
        after_istiod = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.istiod, *cluster.ready]))
        self._release(
            name,
            "eastwest",
            EASTWEST_GATEWAY,
            "gateway",
            mesh,
            namespace,
            eastwest_values(mesh, cluster.network, cluster.gateway_service_annotations),
            after_istiod,
        )
        k8s.apiextensions.CustomResource(
            f"{name}-cross-network-gateway",
            api_version="networking.istio.io/v1",
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CROSS_NETWORK_GATEWAY, namespace=namespace),
            spec=cross_network_gateway_spec(),
            opts=pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.istiod])),
        )

    def _ingress(self, name: str, mesh: MeshSpec, cluster: ClusterHandle, on_cluster: pulumi.ResourceOptions) -> None:
        namespace = k8s.core.v1.Namespace(
            f"{name}-istio-ingress",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=INGRESS_NAMESPACE, labels=injection_labels(mesh)),
            opts=on_cluster,
        )
        # The gateway chart's pods are injected by istiod, so istiod must run first.
        after_istiod = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[self.istiod, *cluster.ready]))
        self._release(
            name,
            "ingress",
            INGRESS_GATEWAY,
            "gateway",
            mesh,
            namespace.metadata.name,
            gateway_values(mesh, INGRESS_GATEWAY, cluster.gateway_service_annotations),
            after_istiod,
        )

    @staticmethod
    def _release(
        name: str,
        role: str,
        release: str,
        chart: str,
        mesh: MeshSpec,
        namespace: pulumi.Input[str],
        values: Mapping[str, Any],
        opts: pulumi.ResourceOptions,
    ) -> k8s.helm.v3.Release:
        return k8s.helm.v3.Release(
            f"{name}-{role}",
            k8s.helm.v3.ReleaseArgs(
                name=release,  # without it Helm's release name gets a random suffix
                chart=chart,
                version=mesh.istio_version,
                repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=ISTIO_CHARTS),
                namespace=namespace,
                values=dict(values),
            ),
            opts=opts,
        )
