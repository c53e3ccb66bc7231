"""AWS: VPCs, EKS clusters with the load balancer controller, security rules between them, and
Secrets Manager copies of the mesh CA."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi

from components.config.model import ClusterSpec, MeshSpec, platform_settings
from components.mesh.ca import MeshCA
from components.platforms.aws import names
from components.platforms.aws.certificates import EdgeCertificates, EdgeCertificatesArgs
from components.platforms.aws.cluster import EksCluster, EksClusterArgs, deployer_arn
from components.platforms.aws.config import NAME, ZONES, AwsConfig, AwsSettings, VpcSpec, aws_part, certified_regions
from components.platforms.aws.network import AwsNetwork, AwsNetworkArgs
from components.platforms.aws.secrets import MeshSecretsManager, MeshSecretsManagerArgs
from components.platforms.aws.security import AwsMeshSecurity, AwsMeshSecurityArgs
from components.platforms.exposure import Exposure, host_cidrs
from components.platforms.platform import PlatformBuild


@dataclass(frozen=True)
class PreparedAws:
    """AWS's part of the mesh once its VPCs exist: what ``build`` makes the clusters from.

    Args:
        mesh: the mesh.
        settings: AWS's mesh-wide settings.
        vpcs: the VPCs the mesh's EKS clusters use.
        network: those VPCs, made.
        egress: each cluster's egress addresses (its VPC's NAT addresses), by cluster name.
    """

    mesh: MeshSpec
    settings: AwsSettings
    vpcs: list[VpcSpec]
    network: AwsNetwork
    egress: Mapping[str, pulumi.Output[list[str]]]

    def build(self, ca: MeshCA, exposure: Exposure | None) -> PlatformBuild:
        return AwsPlatform.clusters(self.mesh, self.settings, self.vpcs, self.network, ca, exposure)


class AwsPlatform:
    """The mesh's EKS clusters in their VPCs, the rules between them and the CA copies.

    Outputs: ``eks`` (per cluster endpoint, OIDC provider ARN and kubeconfig, a secret), ``vpcIds``
    and ``caSecretArns``.
    """

    config = AwsConfig()

    def prepare(self, mesh: MeshSpec) -> PreparedAws:
        """The VPCs (and their NAT Elastic IPs, the clusters' egress addresses) first."""
        clusters = mesh.on(NAME)
        settings = platform_settings(mesh, NAME, AwsSettings)
        used = {aws_part(c).vpc for c in clusters}
        vpcs = [v.value for v in settings.vpcs if v.value.name in used]
        zone_fields = {v.value.name: v.at(ZONES.key) for v in settings.vpcs}
        network = AwsNetwork(names.NETWORK.name(), AwsNetworkArgs(vpcs, clusters, settings.secrets_region, zone_fields))
        # Every node of a VPC leaves through its NAT gateways, whichever zone it is in.
        egress = {c.name: host_cidrs(network.vpcs[aws_part(c).vpc].nat_addresses) for c in clusters}
        return PreparedAws(mesh, settings, vpcs, network, egress)

    @staticmethod
    def clusters(
        mesh: MeshSpec, settings: AwsSettings, vpcs: list[VpcSpec], network: AwsNetwork, ca: MeshCA, exposure: Exposure | None
    ) -> PlatformBuild:
        clusters = mesh.on(NAME)
        # Only where someone is listed: the caller is compared with the configured admins.
        listed = any(aws_part(c).admin_principal_arns for c in clusters)
        deployer = deployer_arn(network.providers[clusters[0].region]) if listed else None
        certificates = edge_certificates(mesh, network)
        eks = {
            c.name: EksCluster(
                names.EKS.name(cluster=c.name),
                EksClusterArgs(
                    c,
                    network.vpcs[aws_part(c).vpc].for_clusters(),
                    exposure,
                    peer_egress(c, clusters, network),
                    deployer,
                    certificates.get(c.region),
                ),
            )
            for c in clusters
        }
        AwsMeshSecurity(
            names.SECURITY.name(),
            AwsMeshSecurityArgs(
                specs=clusters,
                vpcs=vpcs,
                groups={name: cluster.security_group_id for name, cluster in eks.items()},
                providers=network.providers,
                ambient=mesh.ambient,
                sidecar_gateway=mesh.ambient_sidecar_gateway,
            ),
        )
        secrets = ca_copies(settings, network, ca, list(eks))
        return PlatformBuild(
            handles={name: cluster.handle for name, cluster in eks.items()},
            outputs={
                "eks": {name: cluster.outputs() for name, cluster in eks.items()},
                "vpcIds": {name: vpc.vpc.id for name, vpc in network.vpcs.items()},
                "caSecretArns": secrets.arns,
            },
        )


AWS = AwsPlatform()


def edge_certificates(mesh: MeshSpec, network: AwsNetwork) -> dict[str, pulumi.Output[str]]:
    """The validated certificate of each region whose edges name none (``EdgeCertificates``), by region."""
    regions = certified_regions(mesh)
    if not regions:
        return {}
    assert mesh.ingress_dns is not None, "certified_regions is empty without ingressDns"
    args = EdgeCertificatesArgs(mesh.ingress_dns, {region: network.providers[region] for region in regions})
    return EdgeCertificates(names.EDGE_CERTIFICATES.name(), args).arns


def ca_copies(settings: AwsSettings, network: AwsNetwork, ca: MeshCA, clusters: Sequence[str]) -> MeshSecretsManager:
    """The Secrets Manager copies of the mesh CA for ``clusters``, in ``secretsRegion``."""
    assert settings.secrets_region is not None, "the config layer requires secretsRegion with EKS clusters"
    return MeshSecretsManager(
        names.SECRETS.name(),
        MeshSecretsManagerArgs(
            provider=network.providers[settings.secrets_region],
            recovery_window_days=settings.recovery_window_days,
            root_cert=ca.root_cert_pem,
            clusters={name: ca.clusters[name] for name in clusters},
        ),
    )


def peer_egress(cluster: ClusterSpec, clusters: Sequence[ClusterSpec], network: AwsNetwork) -> pulumi.Output[list[str]]:
    """The NAT addresses of the other VPCs that hold mesh clusters: where their istiods reach this
    cluster's public endpoint from (peers in its own VPC use the private endpoint)."""
    own = aws_part(cluster).vpc
    others = dict.fromkeys(aws_part(c).vpc for c in clusters if aws_part(c).vpc != own)
    return host_cidrs([address for vpc in others for address in network.vpcs[vpc].nat_addresses])
