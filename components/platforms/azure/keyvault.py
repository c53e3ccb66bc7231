"""MeshKeyVault: copies of the mesh CA in Azure Key Vault, readable by each cluster's secrets provider.

One vault per stack with RBAC authorization and soft delete; its name is the configured prefix, a
dash and six random characters from pulumi-random (vault names are global, 3-24 characters, a
letter first). It holds the root certificate and, per cluster, its intermediate certificate, key
and chain, never the root key. Each cluster's secrets-provider identity may read its own three
secrets and the root certificate, nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_random as random

from components.mesh.ca import ClusterCACerts
from components.platforms.azure.cluster import SECRETS_PROVIDER_ADDON, role_definition

KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
ROOT_CERT_NAME = "mesh-root-cert"


@dataclass(frozen=True)
class MeshKeyVaultArgs:
    """Inputs of ``MeshKeyVault``.

    Args:
        name_prefix: the vault name's prefix (a letter first, 2-17 letters or digits).
        purge_protection: turn purge protection on (Azure never lets it be turned off again).
        resource_group: where the vault lives.
        location: its region.
        tenant_id: the Entra tenant the vault trusts.
        subscription_id: for role definition ids.
        root_cert: the mesh root certificate (PEM).
        clusters: each cluster's CA material, by name.
        readers: each cluster's AKS resource, whose secrets-provider identity reads its secrets.
    """

    name_prefix: str
    purge_protection: bool
    resource_group: pulumi.Input[str]
    location: str
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    root_cert: pulumi.Input[str]
    clusters: Mapping[str, ClusterCACerts]
    readers: Mapping[str, azure_native.containerservice.ManagedCluster]


class MeshKeyVault(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``vault_name``, ``vault_uri``."""

    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]

    def __init__(self, name: str, args: MeshKeyVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("istio-multicluster:azure:MeshKeyVault", name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        suffix = random.RandomString(f"{name}-suffix", length=6, special=False, upper=False, opts=child)
        vault = azure_native.keyvault.Vault(
            f"{name}-vault",
            vault_name=pulumi.Output.concat(args.name_prefix, "-", suffix.result),
            resource_group_name=args.resource_group,
            location=args.location,
            properties=azure_native.keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=azure_native.keyvault.SkuArgs(family="A", name=azure_native.keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=7,
                # Azure refuses an explicit false; leaving it unset is "off".
                enable_purge_protection=True if args.purge_protection else None,
            ),
            opts=child,
        )
        self.vault_name = vault.name
        self.vault_uri = vault.properties.apply(lambda p: p.vault_uri or "")
        root = self._secret(name, vault, args.resource_group, ROOT_CERT_NAME, args.root_cert, child)
        for cluster, certs in args.clusters.items():
            readable = {"root-cert": root}
            for key, value in (("ca-cert", certs.ca_cert), ("ca-key", certs.ca_key), ("cert-chain", certs.cert_chain)):
                readable[key] = self._secret(name, vault, args.resource_group, f"{cluster}-{key}", value, child)
            reader = args.readers.get(cluster)
            if reader is not None:
                self._grant(name, cluster, reader, readable, args.subscription_id, child)
        self.register_outputs({"vaultName": self.vault_name, "vaultUri": self.vault_uri})

    @staticmethod
    def _secret(
        name: str,
        vault: azure_native.keyvault.Vault,
        group: pulumi.Input[str],
        secret_name: str,
        value: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> azure_native.keyvault.Secret:
        return azure_native.keyvault.Secret(
            f"{name}-{secret_name}",
            vault_name=vault.name,
            resource_group_name=group,
            secret_name=secret_name,
            properties=azure_native.keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value), content_type="application/x-pem-file"),
            opts=child,
        )

    @staticmethod
    def _grant(
        name: str,
        cluster: str,
        reader: azure_native.containerservice.ManagedCluster,
        secrets: Mapping[str, azure_native.keyvault.Secret],
        subscription_id: pulumi.Input[str],
        child: pulumi.ResourceOptions,
    ) -> None:
        identity = reader.addon_profiles.apply(lambda addons: _secrets_provider_object_id(addons, cluster))
        for label, secret in secrets.items():
            azure_native.authorization.RoleAssignment(
                f"{name}-{cluster}-reads-{label}",
                principal_id=identity,
                principal_type="ServicePrincipal",
                role_definition_id=role_definition(subscription_id, KEY_VAULT_SECRETS_USER),
                scope=secret.id,
                opts=child,
            )


def _secrets_provider_object_id(addons: object, cluster: str) -> str:
    profile = addons.get(SECRETS_PROVIDER_ADDON) if isinstance(addons, Mapping) else None
    object_id = getattr(getattr(profile, "identity", None), "object_id", None)
    if not object_id:
        raise ValueError(f"AKS cluster {cluster} reports no identity for its Key Vault secrets provider add-on")
    return str(object_id)
