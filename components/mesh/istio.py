"""IstioControlPlane: Istio on one cluster, in the order the mesh needs.

``istio-system`` (labelled with the cluster's network) -> ``base`` and ``cacerts`` -> ``istiod`` ->
gateways. istiod waits for ``cacerts``: an istiod that started without it keeps a self-signed CA
and the clusters would not trust each other. The Helm value trees and Istio config specs come
from ``components.istio.values``, pure functions tests pin exactly.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.istio import installed_gateway_api
from components.config.model import MeshSpec, revision_name
from components.config.names import NameTemplate
from components.istio import ambient
from components.istio.facts import (
    CA_FILES_CLASS,
    CONTROL_PLANE_ANNOTATION,
    ISTIO_CHARTS,
    ISTIO_NAMESPACE,
    NETWORK_LABEL,
)
from components.istio.values import (
    base_values,
    bundle_digest,
    deep_merge,
    istiod_values,
    remote_base_values,
    remote_injection,
    remote_istiod_values,
    with_bundle_digest,
    with_ca_files,
)
from components.k8s.helm import helm_release
from components.mesh.ca import ClusterCACerts
from components.mesh.tags import injector_client_config, revision_tag


@dataclass(frozen=True)
class IstioControlPlaneArgs:
    """Inputs of ``IstioControlPlane``.

    Args:
        mesh: the whole mesh (meshID, version, revision, networks, access log).
        cluster: the cluster to install on.
        cacerts: the cluster's plug-in CA material from ``MeshCA``.
        primary_address: for a remote, its primary's east-west gateway address (default none).
        istiod_dns_names: for a primary, the names remotes' webhooks dial istiod by (default none).
        primary_routes: for a remote, its primary gateways' ``istiod_routes``: what must exist before the
            remote's pods of each release can reach their istiod (default none).
    """

    mesh: MeshSpec
    cluster: ClusterHandle
    cacerts: ClusterCACerts
    primary_address: pulumi.Output[str] | None = None
    istiod_dns_names: Sequence[str] = ()
    primary_routes: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)


class IstioControlPlane(pulumi.ComponentResource):
    """Istio's control plane on one cluster: ``istio-system``, the CA istiod reads, ``base``, an
    istiod per release, the revision tags' webhooks, and in ambient the node agents. Its gateways
    are a component of their own (``components.mesh.gateways.IstioGateways``), made after it, and on
    a remote only once its primary can serve it (see ``components.mesh.mesh``).

    In a primary-remote mesh a primary also sets ``global.externalIstiod``; a remote installs the
    ``remote`` profile pointed at ``primary_address`` and annotates ``istio-system`` with its primary.

    Outputs: ``namespace`` (``istio-system``'s name, once it exists), ``base`` (the base
    Release, which creates ``istio-reader-service-account``), ``istiods`` (an istiod Release per
    release of Istio, by version), ``istiod`` (the ``default`` tag's; Istio config waits on it, and on
    a remote on its primary's routes to it, for validation), ``tags`` (each revision tag's injection
    webhook, by tag; injected pods wait on their tag's), ``dataplane`` (in ambient, istio-cni and
    ztunnel: what ambient workloads need running; empty with sidecars).

    With ``dataplane: ambient`` (see ``components.istio.ambient``): the Gateway API CRDs before the
    istiods, which run the ambient profile; ``cni`` and ``ztunnel`` from the ``default`` tag's release.
    """

    namespace: pulumi.Output[str]
    base: k8s.helm.v3.Release
    istiod: k8s.helm.v3.Release
    istiods: dict[str, k8s.helm.v3.Release]
    tags: dict[str, k8s.admissionregistration.v1.MutatingWebhookConfiguration]
    dataplane: list[pulumi.Resource]

    def __init__(self, name: str, args: IstioControlPlaneArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        # Named IstioRelease before (a word Helm and Istio already use): the alias keeps its state,
        # and its children's, whose aliases the SDK derives from their parent's.
        renamed = pulumi.ResourceOptions(aliases=[pulumi.Alias(type_=names.LEGACY_ISTIO_TYPE)])
        super().__init__(names.ISTIO.type, name, None, pulumi.ResourceOptions.merge(opts, renamed))
        self._name, self._args = name, args
        mesh, cluster = args.mesh, args.cluster
        self._on_cluster = on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        self.dataplane = []

        remote = mesh.is_remote(cluster.name)
        primary = cluster.spec.primary
        namespace = k8s.core.v1.Namespace(
            names.ISTIO_SYSTEM.name(release=name),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ISTIO_NAMESPACE,
                labels={NETWORK_LABEL: cluster.network},
                annotations={CONTROL_PLANE_ANNOTATION: primary} if remote and primary else None,
            ),
            opts=self._namespace_options(mesh, cluster),
        )
        namespace_name = namespace.metadata.name
        self.namespace = namespace_name
        # A remote runs no istiod of its own: its proxies' certificates come from the primary's CA.
        ca_ready = [] if remote else self._plug_in_ca(name, args, namespace_name, on_cluster)
        self.ca_delivery: list[pulumi.Resource] = list(ca_ready)
        address = args.primary_address
        if remote and address is None:
            raise ValueError(f"remote cluster {cluster.name} needs its primary's east-west address")
        base = self._remote_base(args) if remote else base_values(mesh)
        # The base chart (CRDs, the default validation webhook) comes from the newest release.
        self.base = self._release(names.BASE, "istio-base", "base", mesh.newest_version, namespace_name, base, on_cluster)
        # istiod's pods need their CA first (or istiod keeps a self-signed one) and nodes to run on;
        # in ambient the Gateway API CRDs, whose types it serves.
        crds = [self._gateway_api_crds(name, args)] if mesh.ambient else []
        after_base = pulumi.ResourceOptions.merge(
            on_cluster, pulumi.ResourceOptions(depends_on=[self.base, *ca_ready, *cluster.schedulable, *crds])
        )
        self.istiods = {
            version: self._release(
                names.ISTIOD,
                f"istiod-{revision_name(version)}",
                "istiod",
                version,
                namespace_name,
                self._istiod_values(args, version),
                after_base,
                revision=revision_name(version),
            )
            for version in mesh.versions
        }
        self.istiod = self.istiods[mesh.default_version]
        self.tags = {tag: self._tag(name, args, tag, version) for tag, version in sorted(mesh.revisions.items())}
        if mesh.ambient:
            self.dataplane = self._ambient_dataplane(args, namespace_name, after_base)
        self.register_outputs({"istiod": self.istiod.status})

    def delivered(self) -> list[pulumi.Resource]:
        """The CA delivery, the istiod releases and the base release of this cluster."""
        return [*self.ca_delivery, *self.istiods.values(), self.base]

    def _namespace_options(self, mesh: MeshSpec, cluster: ClusterHandle) -> pulumi.ResourceOptions:
        """In ambient, ``istio-system`` outlives what provisions load balancers (``cluster.ready``).
        istiod's Service for the east-west Gateway is deleted by the garbage collector after the
        Gateway is gone (its owner reference does not block the owner's deletion), so nothing but
        the namespace, whose deletion Pulumi awaits until every object in it is gone, waits for the
        load balancer's release; deleted after the AWS Load Balancer Controller it would leak the
        NLB and its security group and stop the VPC's deletion. A sidecar-mode gateway needs none
        of this: Helm's uninstall waits for its Service."""
        if not mesh.ambient:
            return self._on_cluster
        return pulumi.ResourceOptions.merge(self._on_cluster, pulumi.ResourceOptions(depends_on=[*cluster.ready]))

    def _gateway_api_crds(self, name: str, args: IstioControlPlaneArgs) -> k8s.yaml.v2.ConfigFile:
        """The Gateway API's standard-channel CRDs, fetched by the provider from the release's URL."""
        return k8s.yaml.v2.ConfigFile(
            names.GATEWAY_API_CRDS.name(release=name),
            file=ambient.gateway_api_crds_url(installed_gateway_api(args.mesh)),
            opts=pulumi.ResourceOptions(parent=self, providers={"kubernetes": args.cluster.provider}),
        )

    def _ambient_dataplane(
        self, args: IstioControlPlaneArgs, namespace: pulumi.Output[str], after_base: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """istio-cni and ztunnel on every node, after the ``default`` tag's istiod: Istio upgrades
        the control plane before the node agents (its ambient upgrade guide), so a release that
        moves the tag rolls them only once the new istiod runs; ztunnel also takes its certificates
        from that istiod (Helm's wait for its pods needs it running). Both follow the ``default``
        tag's release: they are one per node, not one per revision."""
        mesh, cluster = args.mesh, args.cluster
        version = mesh.default_version
        after_istiod = pulumi.ResourceOptions.merge(after_base, pulumi.ResourceOptions(depends_on=[self.istiod]))
        cni = self._release(names.CNI, "istio-cni", "cni", version, namespace, ambient.cni_values(), after_istiod)
        values = ambient.ztunnel_values(mesh, cluster.name, cluster.network)
        ztunnel = self._release(names.ZTUNNEL, "ztunnel", "ztunnel", version, namespace, values, after_istiod)
        return [cni, ztunnel]

    def _tag(
        self, name: str, args: IstioControlPlaneArgs, tag: str, version: str
    ) -> k8s.admissionregistration.v1.MutatingWebhookConfiguration:
        """The tag's injection webhook, after the istiod of the revision it points at (see ``components.mesh.tags``)."""
        revision = revision_name(version)
        cluster = args.cluster
        config: pulumi.Input[k8s.admissionregistration.v1.WebhookClientConfigArgs]
        if args.mesh.is_remote(cluster.name):
            assert args.primary_address is not None
            config = args.primary_address.apply(
                lambda address: injector_client_config(revision, *remote_injection(cluster.name, cluster.network, address))
            )
        else:
            config = injector_client_config(revision)
        # On a remote, pods reach their istiod through the primary's gateway route of that revision.
        needs = [self.istiods[version], *args.primary_routes.get(version, ())]
        after = pulumi.ResourceOptions.merge(self._on_cluster, pulumi.ResourceOptions(depends_on=needs))
        return revision_tag(names.TAG.name(release=name, tag=tag), tag, revision, config, after)

    @staticmethod
    def _remote_base(args: IstioControlPlaneArgs) -> pulumi.Output[dict[str, Any]]:
        assert args.primary_address is not None
        # The root certificate is public; as a secret it would hide the whole values in every diff.
        root = pulumi.Output.unsecret(args.cacerts.root_cert)
        return pulumi.Output.all(args.primary_address, root).apply(lambda parts: remote_base_values(args.mesh, parts[0], parts[1]))

    @staticmethod
    def _istiod_values(args: IstioControlPlaneArgs, version: str) -> pulumi.Input[Mapping[str, Any]]:
        mesh, cluster = args.mesh, args.cluster
        if mesh.is_remote(cluster.name):
            address = args.primary_address
            assert address is not None
            return address.apply(lambda a: remote_istiod_values(mesh, cluster.name, cluster.network, version, a))
        values = istiod_values(mesh, cluster.name, cluster.network, version, args.istiod_dns_names)
        values = with_ca_files(values, cluster.ca_files) if cluster.ca_files is not None else values
        # The bundle is public; as a secret it would hide the whole values in every diff.
        return with_bundle_digest(values, pulumi.Output.unsecret(args.cacerts.root_cert).apply(bundle_digest))

    @staticmethod
    def _plug_in_ca(
        name: str, args: IstioControlPlaneArgs, namespace: pulumi.Output[str], on_cluster: pulumi.ResourceOptions
    ) -> list[pulumi.Resource]:
        """The cluster's CA where istiod reads it: the ``cacerts`` Secret, or a SecretProviderClass
        whose CSI volume istiod mounts (``with_ca_files``). Returns what istiod must wait for."""
        files = args.cluster.ca_files
        if files is None:
            cacerts = k8s.core.v1.Secret(
                names.CACERTS.name(release=name),
                metadata=k8s.meta.v1.ObjectMetaArgs(name="cacerts", namespace=namespace),
                type="Opaque",
                string_data=args.cacerts.secret_data(),
                opts=on_cluster,
            )
            return [cacerts]
        provider_class = k8s.apiextensions.CustomResource(
            names.CA_FILES.name(release=name),
            api_version="secrets-store.csi.x-k8s.io/v1",
            kind="SecretProviderClass",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=CA_FILES_CLASS, namespace=namespace),
            spec={"provider": files.provider, "parameters": dict(files.parameters)},
            opts=on_cluster,
        )
        return [provider_class, *files.needs]

    def _release(
        self,
        resource: NameTemplate,
        release: str,
        chart: str,
        version: str,
        namespace: pulumi.Input[str],
        values: pulumi.Input[Mapping[str, Any]],
        opts: pulumi.ResourceOptions,
        revision: str = "",
    ) -> k8s.helm.v3.Release:
        """One Istio chart of the control plane, its resource named by ``resource`` (with ``revision``
        where the name has one)."""
        name = resource.name(release=self._name, revision=revision)
        return istio_chart(name, release, chart, version, namespace, values, self._args.cluster, opts)


def istio_chart(
    resource: str,
    release: str,
    chart: str,
    version: str,
    namespace: pulumi.Input[str],
    values: pulumi.Input[Mapping[str, Any]],
    cluster: ClusterHandle,
    opts: pulumi.ResourceOptions,
) -> k8s.helm.v3.Release:
    """One of Istio's charts on ``cluster``; the cluster's platform profile, if any, goes into every
    chart (each has the same profiles and applies ``global.platform`` in its zzz_profile.yaml)."""
    platform = cluster.chart_platform
    if platform is not None:
        values = pulumi.Output.from_input(values).apply(lambda tree: deep_merge(tree, {"global": {"platform": platform}}))
    return helm_release(
        resource, release=release, chart=chart, version=version, repo=ISTIO_CHARTS, namespace=namespace, values=values, opts=opts
    )


def istio_config(
    resource: str, kind: str, name: str, namespace: pulumi.Input[str], spec: dict[str, Any], opts: pulumi.ResourceOptions
) -> k8s.apiextensions.CustomResource:
    """One ``networking.istio.io/v1`` object."""
    return k8s.apiextensions.CustomResource(
        resource,
        api_version="networking.istio.io/v1",
        kind=kind,
        metadata=k8s.meta.v1.ObjectMetaArgs(name=name, namespace=namespace),
        spec=spec,
        opts=opts,
    )


def load_balancer_address(status: Any, service: str, namespace: str = ISTIO_NAMESPACE) -> str:
    """The first ingress IP or hostname (AWS NLBs have hostnames; istiod resolves them itself)."""
    ingress = (status.load_balancer.ingress or []) if status and status.load_balancer else []
    for entry in ingress:
        if entry.ip or entry.hostname:
            return str(entry.ip or entry.hostname)
    # Helm only finishes once the address is assigned, so an empty one means a broken load
    # balancer, and remotes must not be pointed at "".
    raise ValueError(
        f"Service {namespace}/{service} has no load-balancer address; "
        "check that the cluster can provision LoadBalancer Services (MetalLB on kind)"
    )
