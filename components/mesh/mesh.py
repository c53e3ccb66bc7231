"""The mesh on top of the clusters: Istio on each, the links between them, the optional check.

The order is the one the clusters need, and nothing more: each primary's control plane and
gateways; each remote's control plane, pointed at its primary's east-west address; the remote
secrets; then each remote's gateways, whose pods the primary's injector serves only once it can
reach the remote through its secret; then MeshCheck. Clusters do not otherwise wait for each other.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.model import MeshSpec, Role
from components.mesh.ca import ClusterCACerts, MeshCA
from components.mesh.check import MeshCheck, MeshCheckArgs
from components.mesh.gateways import IstioGateways, IstioGatewaysArgs
from components.mesh.istio import IstioControlPlane, IstioControlPlaneArgs
from components.mesh.link import MeshLink, MeshLinkArgs


@dataclass(frozen=True)
class Mesh:
    """What ``build_mesh`` made.

    Args:
        releases: Istio's control plane on each cluster, by name.
        gateways: Istio's gateways on each cluster, by name.
        link: the remote secrets.
    """

    releases: dict[str, IstioControlPlane]
    gateways: dict[str, IstioGateways]
    link: MeshLink

    def ca_delivered(self) -> list[pulumi.Resource]:
        """What puts the mesh CA in istiod's hands on every cluster: the CA delivery (the cacerts
        Secret, or the CSI class and what it reads), every istiod release and the base release (a
        remote's validation webhook trusts the roots through it)."""
        return [resource for release in self.releases.values() for resource in release.delivered()]


def build_mesh(mesh: MeshSpec, clusters: Mapping[str, ClusterHandle], ca: MeshCA) -> Mesh:
    """Istio, links and (with ``verify``) MeshCheck on every cluster; see the module docstring."""
    releases: dict[str, IstioControlPlane] = {}
    gateways: dict[str, IstioGateways] = {}
    for spec in mesh.clusters:
        if spec.role is Role.PRIMARY:
            releases[spec.name], gateways[spec.name] = build_primary(mesh, clusters[spec.name], ca.clusters[spec.name])
    remotes = [spec for spec in mesh.clusters if spec.role is Role.REMOTE]
    for spec in remotes:
        assert spec.primary is not None, "the config layer requires a primary for every remote"
        primary = gateways[spec.primary]
        args = IstioControlPlaneArgs(
            mesh,
            clusters[spec.name],
            ca.clusters[spec.name],
            primary_address=primary.eastwest_address,
            primary_routes=primary.istiod_routes,
        )
        releases[spec.name] = IstioControlPlane(names.ISTIO.name(cluster=spec.name), args)
    link = MeshLink(names.LINK.name(), MeshLinkArgs(mesh, clusters, releases))
    for spec in remotes:
        assert spec.primary is not None
        routes = gateways[spec.primary].istiod_routes
        after = link.secrets_about(spec.name)
        # A remote's proxies get their certificates from its primary's istiod.
        issuer = ca.clusters[spec.primary]
        gateways[spec.name] = build_gateways(mesh, clusters[spec.name], releases[spec.name], issuer, primary_routes=routes, after=after)
    if mesh.verify:
        MeshCheck(names.CHECK.name(), MeshCheckArgs(mesh, clusters, releases, gateways, link, ca, mesh.verify_image))
    return Mesh(releases, gateways, link)


def build_primary(mesh: MeshSpec, handle: ClusterHandle, issuer: ClusterCACerts) -> tuple[IstioControlPlane, IstioGateways]:
    """A primary's control plane and gateways, signed by ``issuer`` (its intermediate)."""
    dns_names = handle.gateway_dns_names if mesh.exposes_istiod(handle.name) else ()
    args = IstioControlPlaneArgs(mesh, handle, issuer, istiod_dns_names=dns_names)
    release = IstioControlPlane(names.ISTIO.name(cluster=handle.name), args)
    return release, build_gateways(mesh, handle, release, issuer, istiod_dns_names=dns_names)


def build_gateways(
    mesh: MeshSpec,
    cluster: ClusterHandle,
    control_plane: IstioControlPlane,
    issuer: ClusterCACerts,
    *,
    istiod_dns_names: Sequence[str] = (),
    primary_routes: Mapping[str, Sequence[pulumi.Resource]] | None = None,
    after: Sequence[pulumi.Resource] = (),
) -> IstioGateways:
    args = IstioGatewaysArgs(mesh, cluster, control_plane, issuer, istiod_dns_names, dict(primary_routes or {}), after)
    return IstioGateways(names.GATEWAYS.name(release=names.ISTIO.name(cluster=cluster.name), cluster=cluster.name), args)
