"""Key Vault as a store of provided intermediates (``caProvidedIntermediates.<cluster>: {keyVault:
https://<vault>.vault.azure.net/secrets/<name>}``): read while the config is checked, before any
resource.

Key Vault's management API, which azure-native speaks, never returns a secret's value (its
``SecretProperties.value`` is write-only), so the value is read on the data plane with Microsoft's
client (azure-keyvault-secrets) and the environment's Entra ID login: the one the azure-native
provider uses when a Pulumi ESC or Deployments login sets ``ARM_USE_OIDC``, else azure-identity's
default chain. A certificate imported into Key Vault with its key and chain is read the same way:
its secret (same name) holds the PEM bundle.
"""

from __future__ import annotations

import os
import re

from azure.core.exceptions import ClientAuthenticationError, HttpResponseError, ResourceNotFoundError, ServiceRequestError
from azure.keyvault.secrets import SecretClient

from components.config.stores import SecretReader, SecretStore, StoreReadError
from components.entra import credential

FIELD = "keyVault"
# A secret's identifier: the vault's URL (a vault name is 3-24 letters, digits and single hyphens,
# starting with a letter; the public, China and US Government clouds' DNS suffixes), the secret's
# name (1-127 letters, digits, hyphens) and optionally one version (32 hex digits).
VAULT_SECRET = re.compile(
    r"(?P<vault>https://(?P<name>[A-Za-z](?:-?[A-Za-z0-9]){2,23})\.(?:vault\.azure\.net|vault\.azure\.cn|vault\.usgovcloudapi\.net))"
    r"/secrets/(?P<secret>[A-Za-z0-9-]{1,127})(?:/(?P<version>[0-9a-f]{32}))?/?"
)
EXAMPLE = "https://meshca.vault.azure.net/secrets/west-intermediate"
HTTP_FORBIDDEN = 403


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` is not a Key Vault secret's URL."""
    found = VAULT_SECRET.fullmatch(reference)
    if found is None or len(found.group("name")) > 24:
        return f"{reference} is not a Key Vault secret URL (https://<vault>.vault.azure.net/secrets/<name>[/<version>])"
    return None


def vault_client(vault_url: str) -> SecretClient:
    """A client of the vault at ``vault_url`` with the environment's Entra ID login."""
    return SecretClient(vault_url, credential(os.environ))


def key_vault_reader() -> SecretReader:
    """A reader for one run: one client per vault."""
    clients: dict[str, SecretClient] = {}

    def read(reference: str) -> str:
        found = VAULT_SECRET.fullmatch(reference)
        assert found is not None, reference  # reference_problem passed
        vault, name, version = found.group("vault"), found.group("secret"), found.group("version")
        if vault not in clients:
            clients[vault] = vault_client(vault)
        try:
            value = clients[vault].get_secret(name, version).value
        except ResourceNotFoundError:
            raise StoreReadError(f"names a secret that {vault} does not have ({name}{f' version {version}' if version else ''})") from None
        except ClientAuthenticationError as error:
            raise StoreReadError(
                f"could not be read: no Azure login was accepted ({_first_line(error)}); run with the login the azure-native "
                "provider uses (ARM_USE_OIDC with ARM_OIDC_TOKEN, AZURE_* variables or az login)"
            ) from None
        except HttpResponseError as error:
            raise StoreReadError(_refusal(vault, name, error)) from None
        except ServiceRequestError as error:
            raise StoreReadError(
                f"could not be read: {vault} did not answer ({_first_line(error)}); a vault without public access needs a "
                "private endpoint that the machine running Pulumi reaches"
            ) from None
        if not value:
            raise StoreReadError("names a secret with no value; store the intermediate in it")
        return value

    return read


def _refusal(vault: str, name: str, error: HttpResponseError) -> str:
    """Why Key Vault refused the read. A 403 says which check refused in its inner error code:
    ForbiddenByFirewall (the vault's network rules), ForbiddenByRbac or ForbiddenByPolicy (the
    deployer's grants), SecretDisabled (the secret itself)."""
    if error.status_code != HTTP_FORBIDDEN:
        return f"could not be read ({_first_line(error)})"
    codes = {error.error.code, str((error.error.innererror or {}).get("code", ""))} if error.error is not None else set()
    if "ForbiddenByFirewall" in codes:
        return (
            f"could not be read: {vault}'s firewall does not admit the machine running Pulumi; add its address to the vault's network rules"
        )
    if "SecretDisabled" in codes:
        return f"names a disabled secret ({name}); enable it or name another version"
    return (
        f"could not be read: the deployer may not read {vault}'s secrets; give it the Key Vault Secrets User role "
        "on the vault (or, on a vault with access policies, get on secrets)"
    )


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


KEY_VAULT = SecretStore(FIELD, EXAMPLE, reference_problem, key_vault_reader)
