"""A cluster reached through an existing kubeconfig context: kind, minikube, any conformant cluster.

Produces a ``ClusterHandle`` with its own explicit kubernetes Provider and the API server URL the
other clusters dial (from config: a local kubeconfig usually names 127.0.0.1). Optionally installs
MetalLB, which needs both an ``IPAddressPool`` and an ``L2Advertisement`` before it answers for
LoadBalancer Services such as the east-west gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config.model import ClusterSpec
from components.k8s.helm import helm_release
from components.k8s.provider import cluster_provider
from components.platforms.existing import names
from components.platforms.existing.config import MetalLbSpec, existing_part
from components.platforms.exposure import Exposure

METALLB_CHARTS = "https://metallb.github.io/metallb"
METALLB_NAMESPACE = "metallb-system"
METALLB_POOL = "mesh-pool"
METALLB_ADVERTISEMENT = "mesh-l2"
# MetalLB's controller validates its objects through a webhook with crds.validationFailurePolicy
# (default Fail). When Helm's wait ends the webhook may not serve yet (its readiness is not tied
# to it in every release: metallb/metallb#1610, #3133), and Pulumi does not retry a create the
# webhook refused, so the address pool would fail the first `pulumi up`. With Ignore the pool is
# admitted while the webhook is starting and validated once it serves; the config layer has
# already validated the ranges (syntax, order, no overlap between clusters).
METALLB_VALUES = {"crds": {"validationFailurePolicy": "Ignore"}}
# The speaker needs host networking and NET_RAW: the namespace must admit privileged pods.
PRIVILEGED = {f"pod-security.kubernetes.io/{mode}": "privileged" for mode in ("enforce", "audit", "warn")}


@dataclass(frozen=True)
class ExistingClusterArgs:
    """Inputs of ``ExistingKubernetesCluster``.

    Args:
        spec: the cluster's spec; its platform part must be an ``ExistingCluster``.
        exposure: when the clusters span platforms, who may reach its east-west gateway, which the
            other clouds' clusters reach over the internet (default none: no restriction).
    """

    spec: ClusterSpec
    exposure: Exposure | None = None


class ExistingKubernetesCluster(pulumi.ComponentResource):
    """An existing cluster made ready for the mesh. Output: ``handle``."""

    handle: ClusterHandle

    def __init__(self, name: str, args: ExistingClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.CLUSTER.type, name, None, opts)
        spec = args.spec
        platform = existing_part(spec)
        provider = cluster_provider(
            names.PROVIDER.name(cluster=name),
            context=platform.context,
            kubeconfig=platform.kubeconfig,
            # Keyed on the cluster, not the kubeconfig: rotated credentials must not replace the
            # provider and with it every object on the cluster.
            cluster_identifier=spec.name,
            opts=pulumi.ResourceOptions(parent=self),
        )
        ready = self._metallb(name, platform.metallb, provider) if platform.metallb else []
        ranges = args.exposure.peers(spec.name) if args.exposure else None
        self.handle = ClusterHandle(
            spec,
            provider,
            platform.api_server_url,
            ready=ready,
            eastwest_source_ranges=ranges,
            chart_platform=platform.istio_platform,
        )
        self.register_outputs({"apiServerUrl": platform.api_server_url})

    def _metallb(self, name: str, metallb: MetalLbSpec, provider: k8s.Provider) -> list[pulumi.Resource]:
        on_cluster = pulumi.ResourceOptions(parent=self, provider=provider)
        namespace = k8s.core.v1.Namespace(
            names.METALLB_NAMESPACE.name(cluster=name),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=METALLB_NAMESPACE, labels=PRIVILEGED),
            opts=on_cluster,
        )
        release = helm_release(
            names.METALLB.name(cluster=name),
            release="metallb",
            chart="metallb",
            version=metallb.chart_version,
            repo=METALLB_CHARTS,
            namespace=namespace.metadata.name,
            values=METALLB_VALUES,
            opts=on_cluster,
        )
        # The CRDs and the webhook that validates these come with the chart.
        after_chart = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[release]))
        pool = k8s.apiextensions.CustomResource(
            names.METALLB_POOL.name(cluster=name),
            api_version="metallb.io/v1beta1",
            kind="IPAddressPool",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=METALLB_POOL, namespace=namespace.metadata.name),
            spec={"addresses": [str(a) for a in metallb.addresses]},
            opts=after_chart,
        )
        advertisement = k8s.apiextensions.CustomResource(
            names.METALLB_L2.name(cluster=name),
            api_version="metallb.io/v1beta1",
            kind="L2Advertisement",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=METALLB_ADVERTISEMENT, namespace=namespace.metadata.name),
            spec={"ipAddressPools": [METALLB_POOL]},
            opts=after_chart,
        )
        return [pool, advertisement]
