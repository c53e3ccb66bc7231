"""The Entra ID (Azure) login of the environment Pulumi runs in, for what the program asks of Azure
outside the azure-native provider: an AKS token (``components.k8s.aks_token``) and Key Vault reads
(``components.platforms.azure.ca_store``).

It imports no Pulumi SDK: the AKS token command loads it for every token.
"""

from __future__ import annotations

from collections.abc import Mapping

from azure.core.credentials import TokenCredential


def credential(environment: Mapping[str, str]) -> TokenCredential:
    """The federated credential that the azure-native provider uses too when ``ARM_USE_OIDC`` gives
    a token in ``ARM_OIDC_TOKEN`` (a Pulumi ESC or Deployments OIDC login), else azure-identity's
    default chain (service principal or workload identity variables, managed identity, the Azure
    CLI's login)."""
    from azure.identity import ClientAssertionCredential, DefaultAzureCredential  # noqa: PLC0415 - only when a token is asked for

    token = environment.get("ARM_OIDC_TOKEN")
    if environment.get("ARM_USE_OIDC") == "true" and token:
        return ClientAssertionCredential(environment["ARM_TENANT_ID"], environment["ARM_CLIENT_ID"], lambda: token)
    return DefaultAzureCredential(exclude_interactive_browser_credential=True)
