"""IstioGateways: Istio's gateways on one cluster, after its control plane.

The east-west gateway (where the mesh needs one: the sidecar mode's release and
``cross-network-gateway``, or in ambient the HBONE Gateway, or both with ``ambientSidecarGateway``),
on a primary serving remotes the routes that expose its istiod, and the ingress gateway where
configured. A component of its own so that the control plane (``IstioControlPlane``) finishes in its
constructor, and so that a remote's gateways can wait for the link its primary needs to inject
them (``components.mesh.mesh``).

Its resources keep the names they had when the control plane's component (then an
``IstioRelease``) held them, and name it as an alias (``pulumi.Alias(parent=...)``): stacks made by
earlier versions move them here without deleting anything.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle, IngressBackend
from components.config import mesh_names as names
from components.config.model import DEFAULT_TAG, MeshSpec, revision_name
from components.config.names import NameTemplate
from components.istio import ambient
from components.istio.facts import (
    CROSS_NETWORK_GATEWAY,
    EASTWEST_GATEWAY,
    INGRESS_GATEWAY,
    INGRESS_HTTP_PORT,
    INGRESS_NAMESPACE,
    ISTIO_NAMESPACE,
    ISTIOD_GATEWAY,
    NETWORK_LABEL,
    READY_PATH,
    REV_LABEL,
    STATUS_PORT,
)
from components.istio.values import (
    cross_network_gateway_spec,
    eastwest_values,
    gateway_ca_annotations,
    ingress_values,
    injection_labels,
    istiod_gateway_spec,
    istiod_virtual_service_spec,
    istiod_webhook_virtual_service_spec,
)
from components.mesh.ca import ClusterCACerts
from components.mesh.istio import IstioControlPlane, istio_chart, istio_config, load_balancer_address


@dataclass(frozen=True)
class IstioGatewaysArgs:
    """Inputs of ``IstioGateways``.

    Args:
        mesh: the whole mesh.
        cluster: the cluster to install on.
        control_plane: the cluster's ``IstioControlPlane``, which validates their Istio config and injects
            their pods.
        issuer: the CA material of the istiod that signs their certificates (a remote's primary's);
            their pods carry its digests (``gateway_ca_annotations``).
        istiod_dns_names: for a primary, the names remotes' webhooks dial istiod by (default none).
        primary_routes: for a remote, its primary gateways' ``istiod_routes`` (default none).
        after: what else they wait for: on a remote, the link through which its primary injects
            them (default nothing).
    """

    mesh: MeshSpec
    cluster: ClusterHandle
    control_plane: IstioControlPlane
    issuer: ClusterCACerts
    istiod_dns_names: Sequence[str] = ()
    primary_routes: Mapping[str, Sequence[pulumi.Resource]] = field(default_factory=dict)
    after: Sequence[pulumi.Resource] = ()


class IstioGateways(pulumi.ComponentResource):
    """See the module docstring.

    Outputs: ``eastwest_address`` (the east-west gateway's load-balancer IP or hostname, in ambient
    the HBONE Gateway's; ``None`` without one), ``ingress_address`` (where clients reach the ingress:
    its gateway's load-balancer address, or the edge's in front of it; ``None`` without one),
    ``ingress_url`` (the ingress's scheme, address and port, e.g. ``http://203.0.113.7:80``),
    ``ingress_edge`` (whether the platform's edge fronts the ingress), ``eastwest`` (what makes the east-west gateways:
    releases and Gateways; empty without one), ``istiod_routes`` (on a primary serving remotes: the
    routes to each release's istiod, by version: what a remote's pods of that release need first).
    """

    eastwest_address: pulumi.Output[str] | None
    ingress_address: pulumi.Output[str] | None
    ingress_url: pulumi.Output[str] | None
    ingress_edge: bool
    eastwest: list[pulumi.Resource]
    istiod_routes: dict[str, list[pulumi.Resource]]

    def __init__(self, name: str, args: IstioGatewaysArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.GATEWAYS.type, name, None, opts)
        mesh, cluster, control_plane = args.mesh, args.cluster, args.control_plane
        self._args = args
        self._release_name = names.ISTIO.name(cluster=cluster.name)
        self._namespace = control_plane.namespace
        self._read = pulumi.ResourceOptions(parent=self, provider=cluster.provider)
        # Registered under the control plane's component when it was still an IstioRelease.
        former_parent = pulumi.create_urn(self._release_name, names.LEGACY_ISTIO_TYPE)
        self._on_cluster = pulumi.ResourceOptions(parent=self, provider=cluster.provider, aliases=[pulumi.Alias(parent=former_parent)])
        self.eastwest_address, self.ingress_address, self.ingress_url, self.eastwest, self.istiod_routes = None, None, None, [], {}
        self.ingress_edge = mesh.ingress_gateway and cluster.ingress_edge is not None
        self._ca_annotations = gateway_ca_annotations(args.issuer.root_cert, args.issuer.cert_chain)
        # Istio config needs the default revision's validation webhook to answer: istiod, and on a
        # remote (whose webhook fails closed and calls the primary's istiod through its east-west
        # gateway) the primary's routes to it. Gateway pods are injected through the default tag's
        # webhook: started before it exists they would run uninjected (the chart's image "auto"
        # never pulls). Their LoadBalancer Services need what provisions load balancers (``ready``).
        injector = control_plane.tags[DEFAULT_TAG]
        validation = [control_plane.istiod, *args.primary_routes.get(mesh.default_version, ())]
        config = pulumi.ResourceOptions.merge(self._on_cluster, pulumi.ResourceOptions(depends_on=[*validation, *args.after]))
        balanced = pulumi.ResourceOptions.merge(
            self._on_cluster, pulumi.ResourceOptions(depends_on=[injector, *cluster.ready, *args.after])
        )
        if mesh.ambient:
            # Only istiod deploys for the Gateway (no injection webhook involved).
            ready = pulumi.ResourceOptions.merge(config, pulumi.ResourceOptions(depends_on=[*cluster.ready]))
            self.eastwest_address = self._ambient_eastwest(cluster, ready)
        if mesh.needs_sidecar_eastwest(cluster.name):
            release = self._eastwest(mesh, cluster, balanced, config)
            if not mesh.ambient:
                # In ambient the HBONE Gateway's address is the one the mesh reports.
                self.eastwest_address = self._service_address(names.EASTWEST_SERVICE, release, EASTWEST_GATEWAY)
        if mesh.ingress_gateway:
            self._ingress(mesh, cluster, balanced)
        self.register_outputs({"eastwestAddress": self.eastwest_address, "ingressAddress": self.ingress_address})

    def _eastwest(
        self, mesh: MeshSpec, cluster: ClusterHandle, balanced: pulumi.ResourceOptions, config: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        """The sidecar mode's east-west gateway (mTLS on 15443) and its Istio config."""
        name, namespace = self._release_name, self._namespace
        # Not rolled with the CA: it passes mesh mTLS through unopened (AUTO_PASSTHROUGH on 15443,
        # and 15012/15017 to istiod), so its own certificate carries no traffic, and a restart
        # would cut every cross-cluster connection through it.
        values = eastwest_values(mesh, cluster.network, cluster.eastwest_annotations, cluster.eastwest_source_ranges)
        resource = names.EASTWEST.name(release=name)
        release = istio_chart(resource, EASTWEST_GATEWAY, "gateway", mesh.default_version, namespace, values, cluster, balanced)
        self.eastwest.append(release)
        if mesh.exposes_services(cluster.name):
            spec = cross_network_gateway_spec()
            istio_config(names.CROSS_NETWORK_GATEWAY.name(release=name), "Gateway", CROSS_NETWORK_GATEWAY, namespace, spec, config)
        if mesh.exposes_istiod(cluster.name):
            self._expose_istiod(mesh, config)
        return release

    def _service_address(
        self, template: NameTemplate, release: k8s.helm.v3.Release, service_name: str, namespace: str = ISTIO_NAMESPACE
    ) -> pulumi.Output[str]:
        """A gateway release's load-balancer address. Helm waits until the LoadBalancer Service
        has one; read it back once it does. The engine runs a read with a known id during preview,
        before the release installs anything, and ignores depends_on for reads (pulumi/pulumi#16395):
        the id comes from the release's status, which is unknown while the release is being created
        or changed, so the read waits for the release in an update and is skipped in a preview."""
        service_id = release.status.apply(lambda status: f"{status.namespace}/{service_name}")
        after_release = pulumi.ResourceOptions.merge(self._read, pulumi.ResourceOptions(depends_on=[release]))
        service = k8s.core.v1.Service.get(template.name(release=self._release_name), service_id, opts=after_release)
        return service.status.apply(lambda status: load_balancer_address(status, service_name, namespace))

    def _ambient_eastwest(self, cluster: ClusterHandle, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The HBONE east-west Gateway (with a ConfigMap of its Service's source ranges where it
        faces the internet); returns its load-balancer address. Pulumi waits until istiod reports it
        Programmed, which it does once the Service has an address."""
        name, namespace = self._release_name, self._namespace
        needs: list[pulumi.Resource] = []
        if cluster.eastwest_source_ranges is not None:
            needs.append(
                k8s.core.v1.ConfigMap(
                    names.EASTWEST_OPTIONS.name(release=name),
                    metadata=k8s.meta.v1.ObjectMetaArgs(name=ambient.EASTWEST_OPTIONS, namespace=namespace),
                    data=ambient.eastwest_options(cluster.eastwest_source_ranges),
                    opts=self._on_cluster,
                )
            )
        labels = {NETWORK_LABEL: cluster.network, REV_LABEL: self._args.mesh.default_revision}
        gateway = k8s.apiextensions.CustomResource(
            names.AMBIENT_EASTWEST.name(release=name),
            api_version="gateway.networking.k8s.io/v1",
            kind="Gateway",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=ambient.AMBIENT_EASTWEST, namespace=namespace, labels=labels, annotations=ambient.WAIT_FOR
            ),
            # Rolled with the CA: it terminates HBONE with its own mesh certificate.
            spec=ambient.eastwest_gateway_spec({**cluster.eastwest_annotations, **self._ca_annotations}, with_options=bool(needs)),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=needs)),
        )
        self.eastwest.append(gateway)
        # The Service istiod deploys has the Gateway's namespace and name, so the Gateway's id
        # (namespace/name) is the Service's. It is unknown until the Gateway exists, so the read
        # waits for it in an update and is skipped in the first preview (reads ignore depends_on,
        # pulumi/pulumi#16395); later previews read the Service that is already there.
        after = pulumi.ResourceOptions.merge(self._read, pulumi.ResourceOptions(depends_on=[gateway]))
        service = k8s.core.v1.Service.get(names.EASTWEST_SERVICE.name(release=name), gateway.id, opts=after)
        return service.status.apply(lambda status: load_balancer_address(status, ambient.AMBIENT_EASTWEST))

    def _expose_istiod(self, mesh: MeshSpec, config: pulumi.ResourceOptions) -> None:
        """The istiod-gateway and a route per revision, each after the istiod it routes to; with
        ``istiod_dns_names``, the route of webhook calls by URL. Records in ``istiod_routes`` what
        a remote's pods of each release need before they can reach it."""
        name, namespace = self._release_name, self._namespace
        gateway = istio_config(names.ISTIOD_GATEWAY.name(release=name), "Gateway", ISTIOD_GATEWAY, namespace, istiod_gateway_spec(), config)
        for version in mesh.versions:
            revision = revision_name(version)
            istiod = self._args.control_plane.istiods[version]
            after = pulumi.ResourceOptions.merge(config, pulumi.ResourceOptions(depends_on=[istiod]))
            spec = istiod_virtual_service_spec(version)
            resource = names.ISTIOD_ROUTE.name(release=name, revision=revision)
            route = istio_config(resource, "VirtualService", f"istiod-vs-{revision}", namespace, spec, after)
            self.istiod_routes[version] = [gateway, route]
        if self._args.istiod_dns_names:
            spec = istiod_webhook_virtual_service_spec(mesh.default_version, self._args.istiod_dns_names)
            resource = names.ISTIOD_WEBHOOK_ROUTE.name(release=name)
            webhooks = istio_config(resource, "VirtualService", "istiod-webhook-vs", namespace, spec, config)
            self.istiod_routes[mesh.default_version].append(webhooks)

    def _ingress(self, mesh: MeshSpec, cluster: ClusterHandle, balanced: pulumi.ResourceOptions) -> None:
        """The ingress gateway in its namespace, and where clients reach it: its own load balancer,
        or the platform's edge in front of it (then its Service is ClusterIP)."""
        namespace = k8s.core.v1.Namespace(
            names.INGRESS_NAMESPACE.name(release=self._release_name),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=INGRESS_NAMESPACE, labels=injection_labels()),
            opts=self._on_cluster,
        )
        # Its pods are injected through the default tag (``balanced`` waits for its webhook).
        # Rolled with the CA: it opens clients' TLS and calls workloads with mesh mTLS.
        edge = cluster.ingress_edge
        proxies = edge.trusted_proxies if edge is not None else 0
        values = ingress_values(mesh, cluster.ingress_annotations, self._ca_annotations, trusted_proxies=proxies)
        resource = names.INGRESS.name(release=self._release_name)
        release = istio_chart(
            resource, INGRESS_GATEWAY, "gateway", mesh.default_version, namespace.metadata.name, values, cluster, balanced
        )
        if edge is None:
            address = self._service_address(names.INGRESS_SERVICE, release, INGRESS_GATEWAY, INGRESS_NAMESPACE)
            self.ingress_address, self.ingress_url = address, address.apply(lambda a: f"http://{a}:{INGRESS_HTTP_PORT}")
            return
        backend = IngressBackend(namespace.metadata.name, INGRESS_GATEWAY, INGRESS_HTTP_PORT, STATUS_PORT, READY_PATH)
        # The edge sends to the gateway's pods and checks their health: after the release, whose
        # wait ends once they are ready; on destroy it goes first.
        after_release = pulumi.ResourceOptions.merge(self._read, pulumi.ResourceOptions(depends_on=[release]))
        address = edge.build(names.INGRESS_EDGE.name(release=self._release_name), backend, after_release)
        self.ingress_address, self.ingress_url = address, address.apply(lambda a: f"{edge.scheme}://{a}:{edge.port}")
