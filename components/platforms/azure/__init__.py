"""Azure: resource groups, peered VNets, AKS clusters and Key Vault copies of the mesh CA."""

from __future__ import annotations

import pulumi_azure_native as azure_native

from components.config.model import MeshSpec, platform_settings
from components.mesh.ca import MeshCA
from components.platforms.azure.cluster import AksCluster, AksClusterArgs
from components.platforms.azure.config import NAME, AzureConfig, AzureSettings
from components.platforms.azure.keyvault import MeshKeyVault, MeshKeyVaultArgs
from components.platforms.azure.network import AzureNetwork, AzureNetworkArgs
from components.platforms.platform import PlatformBuild


class AzurePlatform:
    """The mesh's AKS clusters on peered VNets, and the vault with the CA copies.

    Outputs: ``aks`` (per cluster FQDN, resource group and kubeconfig, a secret) and ``keyVault``
    (name and URI).
    """

    config = AzureConfig()

    def build(self, mesh: MeshSpec, ca: MeshCA) -> PlatformBuild:
        clusters = mesh.on(NAME)
        settings = platform_settings(mesh, NAME, AzureSettings)
        client = azure_native.authorization.get_client_config_output()
        network = AzureNetwork("azure", AzureNetworkArgs(clusters))
        # Internal gateways only when every other cluster reaches this one over VNet peering.
        internal = len(clusters) == len(mesh.clusters)
        aks = {c.name: AksCluster(c.name, AksClusterArgs(c, network.clusters[c.name], client.subscription_id, internal)) for c in clusters}
        home = clusters[0]
        vault = MeshKeyVault(
            "mesh-vault",
            MeshKeyVaultArgs(
                name_prefix=settings.key_vault_prefix,
                purge_protection=settings.key_vault_purge_protection,
                resource_group=network.clusters[home.name].resource_group,
                location=home.region,
                tenant_id=client.tenant_id,
                subscription_id=client.subscription_id,
                root_cert=ca.root_cert_pem,
                clusters={name: ca.clusters[name] for name in aks},
                readers={name: cluster.managed_cluster for name, cluster in aks.items()},
            ),
        )
        return PlatformBuild(
            handles={name: cluster.handle for name, cluster in aks.items()},
            outputs={
                "aks": {name: cluster.outputs() for name, cluster in aks.items()},
                "keyVault": {"name": vault.vault_name, "uri": vault.vault_uri},
            },
        )


AZURE = AzurePlatform()
