"""Build each cluster of the spec with its cloud's components and return their handles.

Clusters build independently of each other (no dependencies between them), so Pulumi creates
them in parallel; the Azure network builds beside them, not before them, apart from the subnets
each AKS pool sits on.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_azure_native as azure_native

from components.aws.cluster import EksCluster, EksClusterArgs
from components.aws.network import AwsNetwork, AwsNetworkArgs
from components.aws.secrets import MeshSecretsManager, MeshSecretsManagerArgs
from components.aws.security import AwsMeshSecurity, AwsMeshSecurityArgs
from components.azure.cluster import AksCluster, AksClusterArgs
from components.azure.keyvault import MeshKeyVault, MeshKeyVaultArgs
from components.azure.network import AzureNetwork, AzureNetworkArgs
from components.existing import ExistingClusterArgs, ExistingKubernetesCluster
from components.mesh.ca import MeshCA
from components.mesh.handle import ClusterHandle
from components.model import AwsCluster, AzureCluster, ExistingCluster, MeshSpec


@dataclass
class BuiltClusters:
    """What ``build_clusters`` made.

    Args:
        handles: a handle per cluster whose cloud layer exists, by name.
        aks: the AKS components, by cluster name (default none).
        eks: the EKS components, by cluster name (default none).
        aws_network: the AWS VPCs and regional providers, when the mesh has EKS clusters (default none).
        azure_network: the Azure network, when the mesh has Azure clusters (default none).
        subscription_id: the Azure subscription, when it does (default none).
        tenant_id: the Azure tenant, when it does (default none).
    """

    handles: dict[str, ClusterHandle] = field(default_factory=dict)
    aks: dict[str, AksCluster] = field(default_factory=dict)
    eks: dict[str, EksCluster] = field(default_factory=dict)
    aws_network: AwsNetwork | None = None
    azure_network: AzureNetwork | None = None
    subscription_id: pulumi.Output[str] | None = None
    tenant_id: pulumi.Output[str] | None = None


def build_clusters(spec: MeshSpec) -> BuiltClusters:
    """Every cluster of the mesh: AKS, EKS and existing ones."""
    built = BuiltClusters()
    _build_aws(spec, built)
    azure = [c for c in spec.clusters if isinstance(c.platform, AzureCluster)]
    if azure:
        client = azure_native.authorization.get_client_config_output()
        built.subscription_id, built.tenant_id = client.subscription_id, client.tenant_id
        built.azure_network = AzureNetwork("azure", AzureNetworkArgs(azure))
        # Internal gateways only when every other cluster reaches this one over VNet peering.
        internal = len(azure) == len(spec.clusters)
        for cluster in azure:
            args = AksClusterArgs(cluster, built.azure_network.clusters[cluster.name], client.subscription_id, internal)
            built.aks[cluster.name] = AksCluster(cluster.name, args)
            built.handles[cluster.name] = built.aks[cluster.name].handle
    for cluster in spec.clusters:
        if isinstance(cluster.platform, ExistingCluster):
            built.handles[cluster.name] = ExistingKubernetesCluster(cluster.name, ExistingClusterArgs(cluster)).handle
    return built


def _build_aws(spec: MeshSpec, built: BuiltClusters) -> None:
    aws_clusters = [c for c in spec.clusters if isinstance(c.platform, AwsCluster)]
    if not aws_clusters:
        return
    used = {c.platform.vpc for c in aws_clusters if isinstance(c.platform, AwsCluster)}
    built.aws_network = AwsNetwork("aws", AwsNetworkArgs([v for v in spec.vpcs if v.name in used], aws_clusters))
    # Internal NLBs only when every other cluster reaches this one inside AWS (shared or peered VPCs).
    internal = len(aws_clusters) == len(spec.clusters)
    for cluster in aws_clusters:
        assert isinstance(cluster.platform, AwsCluster)
        network = built.aws_network.vpcs[cluster.platform.vpc]
        cidrs = tuple(str(c) for c in cluster.platform.public_access_cidrs)
        built.eks[cluster.name] = EksCluster(cluster.name, EksClusterArgs(cluster, network, internal, cidrs))
        built.handles[cluster.name] = built.eks[cluster.name].handle
    AwsMeshSecurity("aws-mesh", AwsMeshSecurityArgs(spec, built.eks, built.aws_network.providers))


def store_ca_copies(spec: MeshSpec, ca: MeshCA, built: BuiltClusters) -> MeshKeyVault | None:
    """The Key Vault copies of the CA, when the mesh has Azure clusters; it lives with the first one."""
    if not built.aks or built.azure_network is None or built.subscription_id is None or built.tenant_id is None:
        return None
    home = next(c for c in spec.clusters if c.name in built.aks)
    args = MeshKeyVaultArgs(
        name_prefix=spec.key_vault_prefix,
        purge_protection=spec.key_vault_purge_protection,
        resource_group=built.azure_network.clusters[home.name].resource_group,
        location=home.region,
        tenant_id=built.tenant_id,
        subscription_id=built.subscription_id,
        root_cert=ca.root_cert_pem,
        clusters={name: certs for name, certs in ca.clusters.items() if name in built.aks},
        readers={name: aks.managed_cluster for name, aks in built.aks.items()},
    )
    return MeshKeyVault("mesh-vault", args)


def store_ca_copies_aws(spec: MeshSpec, ca: MeshCA, built: BuiltClusters) -> MeshSecretsManager | None:
    """The Secrets Manager copies of the CA, when the mesh has EKS clusters, in the first one's region."""
    if not built.eks or built.aws_network is None:
        return None
    home = next(c for c in spec.clusters if c.name in built.eks)
    args = MeshSecretsManagerArgs(
        provider=built.aws_network.providers[home.region],
        recovery_window_days=spec.secrets_recovery_window_days,
        root_cert=ca.root_cert_pem,
        clusters={name: certs for name, certs in ca.clusters.items() if name in built.eks},
    )
    return MeshSecretsManager("mesh-secrets", args)
