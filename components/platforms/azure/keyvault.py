"""MeshKeyVault: copies of the mesh CA in Azure Key Vault.

One vault per stack, in a resource group of its own and a region fixed by config (reordering or
removing clusters never moves it). RBAC authorization, soft delete for 7 days, purge protection
only when asked. Its name is the configured prefix, a dash and six random characters from
pulumi-random (vault names are global, 3-24 characters, a letter first). It holds the root
certificate and, per cluster, its intermediate certificate, key and chain, never the root key.

Moving it (``keyVaultLocation``, ``keyVaultResourceGroup`` or ``keyVaultNamePrefix``) makes a new
vault under a new name (the random suffix is kept per location, group and prefix), with its copies
of the CA and its grants, before the old vault is deleted: Azure keeps a deleted vault's name for
the soft-delete retention, and an AKS cluster's CA delivery (``caDelivery: keyVault``) follows to
the new vault in the same update.

azure-native deletes a Key Vault secret through the vault's data plane (ARM has no delete for
secrets), where the vault's RBAC decides, not the subscription's: the identity running Pulumi gets
Key Vault Secrets Officer on the vault, and every secret depends on that grant, so ``pulumi
destroy`` (or a replacement) removes the secrets while the grant still exists. Nothing else may
read the secrets unless ``caDelivery: keyVault`` grants istiod's identity its own cluster's four.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_random as random

from components.istio.facts import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from components.mesh.ca import ClusterCACerts
from components.platforms.azure import names
from components.platforms.azure.ca_delivery import VaultSecret
from components.platforms.azure.names import ROOT_CERT_NAME, secret_name
from components.platforms.azure.roles import KEY_VAULT_SECRETS_OFFICER, assign_role, grant_each

SOFT_DELETE_DAYS = 7


# A cluster's CA files in the vault, in the order istiod's volume lists them.
CA_FILES = (ROOT_CERT, CA_CERT, CA_KEY, CERT_CHAIN)


def vault_uri(uri: str | None) -> str:
    """The vault's URI, which Azure returns for every vault it created: istiod's CSI volume reads the
    CA from it, and an empty one would fail there, far from the cause."""
    if not uri:
        raise ValueError("Key Vault returned no vaultUri for a vault it created")
    return uri


@dataclass(frozen=True)
class MeshKeyVaultArgs:
    """Inputs of ``MeshKeyVault``.

    Args:
        name_prefix: the vault name's prefix (a letter first, 2-17 letters or digits).
        purge_protection: turn purge protection on (Azure never lets it be turned off again).
        resource_group_name: the vault's own resource group, created here.
        location: its region.
        tenant_id: the Entra tenant the vault trusts.
        subscription_id: for role definition ids.
        deployer_object_id: the identity running Pulumi, granted the data-plane role that deleting secrets needs.
        root_cert: the mesh root certificate (PEM).
        clusters: each cluster's CA material, by name.
        allowed_ranges: the only addresses (CIDRs) the vault's data plane admits (default None:
            any address, as Azure's default; RBAC still decides who may read what).
        admin_object_ids: Entra principals granted Key Vault Secrets Officer beside the deployer,
            so that they may delete the secrets at destroy (default none).
    """

    name_prefix: str
    purge_protection: bool
    resource_group_name: str
    location: str
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    deployer_object_id: pulumi.Input[str]
    root_cert: pulumi.Input[str]
    clusters: Mapping[str, ClusterCACerts]
    allowed_ranges: pulumi.Output[list[str]] | None = None
    admin_object_ids: Sequence[str] = ()


def network_rules(allowed: pulumi.Output[list[str]] | None) -> azure_native.keyvault.NetworkRuleSetArgs:
    """The vault's firewall, always stated (so that a stack that stops knowing its callers opens it
    again): deny all but ``allowed`` where given. Single addresses go without ``/32``, as Azure
    stores them, so that a refresh finds what the program sends."""
    if allowed is None:
        return azure_native.keyvault.NetworkRuleSetArgs(default_action="Allow", bypass="AzureServices", ip_rules=[])
    rules = allowed.apply(lambda cidrs: [azure_native.keyvault.IPRuleArgs(value=c.removesuffix("/32")) for c in cidrs])
    return azure_native.keyvault.NetworkRuleSetArgs(default_action="Deny", bypass="AzureServices", ip_rules=rules)


class MeshKeyVault(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``vault_name``, ``vault_uri``, ``vault`` and ``secrets``
    (per cluster, its four CA files' secrets by file name: ``ca-cert.pem``, ...)."""

    vault: azure_native.keyvault.Vault
    vault_name: pulumi.Output[str]
    vault_uri: pulumi.Output[str]
    secrets: dict[str, dict[str, azure_native.keyvault.Secret]]

    def __init__(self, name: str, args: MeshKeyVaultArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.VAULT.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        # A group's region holds only its metadata, and its resources may live anywhere: the group
        # keeps the region it was created in, so that moving the vault never replaces the group
        # (azure-native replaces a group whose location changes, replacement.go forceNewMap, and
        # deletes it first, with everything in it). A new group name is a new group, made first.
        group = azure_native.resources.ResourceGroup(
            names.VAULT_GROUP.name(vault=name),
            resource_group_name=args.resource_group_name,
            location=args.location,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(ignore_changes=["location"], delete_before_replace=False)),
        )
        # Vault names are global, and a deleted vault keeps its name while it is soft-deleted: a vault
        # that moves (another region, group or prefix) gets a new suffix, so that it can be created
        # beside the old one (pulumi-random replaces a string whose keepers change).
        suffix = random.RandomString(
            names.VAULT_SUFFIX.name(vault=name),
            length=6,
            special=False,
            upper=False,
            keepers={"location": args.location, "resourceGroup": args.resource_group_name, "prefix": args.name_prefix},
            opts=child,
        )
        # azure-native deletes an explicitly named resource before creating its replacement, even
        # when the name changes (provider.go Diff); a moved vault and its secrets always have new
        # names, so they are made first and the old ones deleted once nothing uses them.
        created_first = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=False))
        self.vault = azure_native.keyvault.Vault(
            names.VAULT_VAULT.name(vault=name),
            vault_name=pulumi.Output.concat(args.name_prefix, "-", suffix.result),
            resource_group_name=group.name,
            location=args.location,
            properties=azure_native.keyvault.VaultPropertiesArgs(
                tenant_id=args.tenant_id,
                sku=azure_native.keyvault.SkuArgs(family="A", name=azure_native.keyvault.SkuName.STANDARD),
                enable_rbac_authorization=True,
                enable_soft_delete=True,
                soft_delete_retention_in_days=SOFT_DELETE_DAYS,
                # Azure refuses an explicit false; leaving it unset is "off".
                enable_purge_protection=True if args.purge_protection else None,
                network_acls=network_rules(args.allowed_ranges),
            ),
            opts=created_first,
        )
        self.vault_name = self.vault.name
        self.resource_group_name = group.name
        self.vault_uri = self.vault.properties.apply(lambda properties: vault_uri(properties.vault_uri))
        writer = assign_role(
            names.SECRETS_OFFICER.name(vault=name),
            args.deployer_object_id,
            KEY_VAULT_SECRETS_OFFICER,
            self.vault.id,
            args.subscription_id,
            child,
        )
        admins = grant_each(
            lambda admin: names.ADMIN_SECRETS_OFFICER.name(vault=name, principal=admin),
            args.admin_object_ids,
            KEY_VAULT_SECRETS_OFFICER,
            self.vault.id,
            args.subscription_id,
            child,
        )
        # Whoever destroys (the deployer or an admin) deletes the secrets while its grant holds.
        after_grant = pulumi.ResourceOptions.merge(created_first, pulumi.ResourceOptions(depends_on=[writer, *admins]))
        root = self._secret(name, group.name, ROOT_CERT_NAME, args.root_cert, after_grant)
        self.secrets = {}
        for cluster, certs in args.clusters.items():
            files = {CA_CERT: certs.ca_cert, CA_KEY: certs.ca_key, CERT_CHAIN: certs.cert_chain}
            self.secrets[cluster] = {
                file: root if file == ROOT_CERT else self._secret(name, group.name, secret_name(cluster, file), files[file], after_grant)
                for file in CA_FILES
            }
        self.register_outputs({"vaultName": self.vault_name, "vaultUri": self.vault_uri})

    def secret_refs(self, cluster: str) -> dict[str, VaultSecret]:
        """``cluster``'s four CA files' secrets, by file name, as istiod's access names them."""
        return {file: VaultSecret(secret.id, secret.name) for file, secret in self.secrets[cluster].items()}

    def _secret(
        self, name: str, group: pulumi.Input[str], secret: str, value: pulumi.Input[str], opts: pulumi.ResourceOptions
    ) -> azure_native.keyvault.Secret:
        return azure_native.keyvault.Secret(
            names.VAULT_SECRET.name(vault=name, secret=secret),
            vault_name=self.vault.name,
            resource_group_name=group,
            secret_name=secret,
            properties=azure_native.keyvault.SecretPropertiesArgs(value=pulumi.Output.secret(value), content_type="application/x-pem-file"),
            opts=opts,
        )
