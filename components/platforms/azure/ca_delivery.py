"""IstiodVaultAccess: istiod on one AKS cluster reads its CA files from Key Vault (``caDelivery: keyVault``).

A user-assigned identity per cluster, federated to istiod's service account through the cluster's
OIDC issuer (workload identity: only istiod's pods can use it, unlike the node-wide identity of the
secrets-provider add-on, which any pod reaches through the instance metadata service), granted
Key Vault Secrets User on exactly its cluster's four secrets. The secrets-store CSI driver (the
AKS add-on) exchanges istiod's service-account token for the identity's and writes the four
secrets as ``ca-cert.pem``, ``ca-key.pem``, ``root-cert.pem`` and ``cert-chain.pem`` (object
aliases) into the volume istiod mounts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import yaml

from components.cluster.handle import CaFiles
from components.platforms.azure import names
from components.platforms.azure.config import WORKLOAD_IDENTITY_CLIENT, WORKLOAD_IDENTITY_USE
from components.platforms.azure.roles import KEY_VAULT_SECRETS_USER, assign_role, joined_ids, propagation_wait

TOKEN_AUDIENCE = "api://AzureADTokenExchange"  # noqa: S105 - the token exchange audience, not a secret


def vault_objects(secrets: Mapping[str, str]) -> str:
    """The SecretProviderClass ``objects`` parameter: a YAML ``array`` of YAML documents, one per
    secret (``secrets``: file name -> secret name), each written under its file name."""
    documents = [
        yaml.safe_dump({"objectName": name, "objectType": "secret", "objectAlias": file}, sort_keys=False) for file, name in secrets.items()
    ]
    return yaml.safe_dump({"array": documents}, sort_keys=False)


@dataclass(frozen=True)
class VaultSecret:
    """A Key Vault secret as istiod's access names it.

    Args:
        id: its ARM id (the scope of the read grant).
        name: its name in the vault (what the CSI driver reads).
    """

    id: pulumi.Input[str]
    name: pulumi.Input[str]


@dataclass(frozen=True)
class IstiodVaultAccessArgs:
    """Inputs of ``IstiodVaultAccess``.

    Args:
        cluster: the cluster's name.
        location: its region.
        resource_group: its resource group (the identity lives beside it).
        issuer_url: the cluster's OIDC issuer.
        service_accounts: istiod's service accounts in istio-system, one per revision (``istiod-<revision>``).
        vault_name: the vault.
        tenant_id: the vault's tenant.
        subscription_id: for role definition ids.
        secrets: the cluster's four CA files' secrets, by file name.
        made: those secrets, made in this stack: istiod's volume waits for them (default none: in a
            fleet the mesh stack made them before any member runs).
    """

    cluster: str
    location: str
    resource_group: pulumi.Input[str]
    issuer_url: pulumi.Input[str]
    service_accounts: tuple[str, ...]
    vault_name: pulumi.Input[str]
    tenant_id: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    secrets: Mapping[str, VaultSecret]
    made: Sequence[pulumi.Resource] = ()


class IstiodVaultAccess(pulumi.ComponentResource):
    """See the module docstring. Output ``ca_files``: what the mesh layer mounts into istiod."""

    ca_files: CaFiles

    def __init__(self, name: str, args: IstiodVaultAccessArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.VAULT_ACCESS.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        identity = azure_native.managedidentity.UserAssignedIdentity(
            names.IDENTITY.name(access=name),
            resource_name_=f"{args.cluster}-istiod",
            resource_group_name=args.resource_group,
            location=args.location,
            opts=child,
        )
        # Azure refuses concurrent writes of one identity's federated credentials: one after the other.
        federations: list[pulumi.Resource] = []
        for account in args.service_accounts:
            federations.append(
                azure_native.managedidentity.FederatedIdentityCredential(
                    names.FEDERATION.name(access=name, account=account),
                    resource_name_=identity.name,
                    federated_identity_credential_resource_name=account,
                    resource_group_name=args.resource_group,
                    issuer=args.issuer_url,
                    subject=f"system:serviceaccount:istio-system:{account}",
                    audiences=[TOKEN_AUDIENCE],
                    opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=federations[-1:])),
                )
            )
        grants = [
            assign_role(
                names.READS.name(access=name, file=file.removesuffix(".pem")),
                identity.principal_id,
                KEY_VAULT_SECRETS_USER,
                secret.id,
                args.subscription_id,
                child,
                service_principal=True,
            )
            for file, secret in args.secrets.items()
        ]
        # The CSI driver reads the secrets with istiod's token as soon as istiod starts: the grants
        # and federations must have taken effect by then, which Azure does not promise for minutes.
        made = [*federations, *grants]
        propagated = propagation_wait(names.READS_PROPAGATION.name(access=name), made, joined_ids(made), child)
        secret_names = {file: secret.name for file, secret in args.secrets.items()}
        objects = pulumi.Output.all(**secret_names).apply(vault_objects)
        self.ca_files = CaFiles(
            provider="azure",
            parameters={
                "usePodIdentity": "false",
                "clientID": identity.client_id,
                "keyvaultName": args.vault_name,
                "tenantID": args.tenant_id,
                "objects": objects,
            },
            pod_labels={WORKLOAD_IDENTITY_USE: "true"},
            service_account_annotations={WORKLOAD_IDENTITY_CLIENT: identity.client_id},
            needs=[identity, *federations, *grants, propagated, *args.made],
        )
        self.register_outputs({"clientId": identity.client_id})
