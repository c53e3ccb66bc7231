"""Secrets Manager as a store of provided intermediates (``caProvidedIntermediates.<cluster>:
{secretsManager: <secret ARN>}``): read while the config is checked, before any resource.

The secret is read with the aws provider's ``getSecretVersion`` (its ``AWSCURRENT`` version), so
the deployer's AWS login reads it as it makes everything else: no second credential chain. Each
region's secrets are read through an explicit provider of that region, registered on first use
(the stacks set no ``aws:region``, so the default provider would have none); a provider is no
cloud resource, and the engine configures a new one at preview too, so the read and its checks
run in ``pulumi preview`` as in ``up``.
"""

from __future__ import annotations

import re

import pulumi
import pulumi_aws as aws

from components.config.stores import SecretReader, SecretStore, StoreReadError
from components.platforms.aws import names

FIELD = "secretsManager"
# arn:<partition>:secretsmanager:<region>:<account>:secret:<name>, with or without the six
# characters Secrets Manager appends to the name (it accepts both).
SECRET_ARN = re.compile(
    r"arn:aws(?:-cn|-us-gov|-iso[a-z-]*)?:secretsmanager:([a-z]{2}(?:-[a-z]+)+-[0-9]):[0-9]{12}:secret:[A-Za-z0-9/_+=.@-]{1,512}"
)
EXAMPLE = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mesh/west-intermediate"


def reference_problem(reference: str) -> str | None:
    """Why ``reference`` is not a secret's ARN; the ARN names the region to read it in."""
    return None if SECRET_ARN.fullmatch(reference) else f"{reference} is not a Secrets Manager secret ARN"


def secret_region(reference: str) -> str:
    """The region of a secret's ARN (``reference_problem`` passed)."""
    found = SECRET_ARN.fullmatch(reference)
    assert found is not None, reference
    return found.group(1)


def secrets_manager_reader() -> SecretReader:
    """A reader for one run: it registers each region's provider once."""
    providers: dict[str, aws.Provider] = {}

    def read(reference: str) -> str:
        region = secret_region(reference)
        if region not in providers:
            providers[region] = aws.Provider(names.CA_STORE_PROVIDER.name(region=region), region=region)
        options = pulumi.InvokeOptions(provider=providers[region])
        try:
            found = aws.secretsmanager.get_secret_version(secret_id=reference, opts=options)
        except Exception as error:
            reason = cloud_reason(error)
            raise StoreReadError(
                f"could not be read ({reason}): check the ARN, and that the deployer may call secretsmanager:GetSecretValue "
                "on it (and kms:Decrypt with its key)"
            ) from None
        if not found.secret_string:
            raise StoreReadError("holds no text (a binary secret?); store the intermediate as a secret string")
        return found.secret_string

    return read


def cloud_reason(error: Exception) -> str:
    """What AWS answered, from the provider's error: the part after the SDK's "https response
    error" (status, request and exception), else its last line."""
    lines = str(error).strip().splitlines() or [type(error).__name__]
    return lines[-1].rpartition("https response error ")[2]


SECRETS_MANAGER = SecretStore(FIELD, EXAMPLE, reference_problem, secrets_manager_reader)
