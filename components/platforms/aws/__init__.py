"""AWS: VPCs, EKS clusters with the load balancer controller, security rules between them, and
Secrets Manager copies of the mesh CA."""

from __future__ import annotations

from components.config.model import MeshSpec, platform_settings
from components.mesh.ca import MeshCA
from components.platforms.aws.cluster import EksCluster, EksClusterArgs
from components.platforms.aws.config import NAME, AwsConfig, AwsSettings, aws_part
from components.platforms.aws.network import AwsNetwork, AwsNetworkArgs
from components.platforms.aws.secrets import MeshSecretsManager, MeshSecretsManagerArgs
from components.platforms.aws.security import AwsMeshSecurity, AwsMeshSecurityArgs
from components.platforms.platform import PlatformBuild


class AwsPlatform:
    """The mesh's EKS clusters in their VPCs, the rules between them and the CA copies.

    Outputs: ``eks`` (per cluster endpoint, OIDC provider ARN and kubeconfig, a secret), ``vpcIds``
    and ``caSecretArns``.
    """

    config = AwsConfig()

    def build(self, mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
        clusters = mesh.on(NAME)
        settings = platform_settings(mesh, NAME, AwsSettings)
        used = {aws_part(c).vpc for c in clusters}
        vpcs = [v.value for v in settings.vpcs if v.value.name in used]
        network = AwsNetwork("aws", AwsNetworkArgs(vpcs, clusters))
        # Internal NLBs only when every other cluster reaches this one inside AWS (shared or peered VPCs).
        internal = len(clusters) == len(mesh.clusters)
        eks = {c.name: EksCluster(c.name, EksClusterArgs(c, network.vpcs[aws_part(c).vpc], internal)) for c in clusters}
        AwsMeshSecurity("aws-mesh", AwsMeshSecurityArgs(clusters, vpcs, eks, network.providers))
        home = clusters[0]
        secrets = MeshSecretsManager(
            "mesh-secrets",
            MeshSecretsManagerArgs(
                provider=network.providers[home.region],
                recovery_window_days=settings.recovery_window_days,
                root_cert=ca.root_cert_pem,
                clusters={name: ca.clusters[name] for name in eks},
            ),
        )
        return PlatformBuild(
            handles={name: cluster.handle for name, cluster in eks.items()},
            outputs={
                "eks": {name: cluster.outputs() for name, cluster in eks.items()},
                "vpcIds": {name: vpc.vpc.id for name, vpc in network.vpcs.items()},
                "caSecretArns": secrets.arns,
            },
        )


AWS = AwsPlatform()
