"""Secret stores that the config may name instead of holding a secret itself.

A platform offers its store (AWS: Secrets Manager, Azure: Key Vault) as a ``SecretStore``: the key
a config entry names it with, and how a reference to one of its secrets looks. The config layer
checks references; reading one is the platform's, done while the config is checked, before any
resource, so what was read is checked as strictly as what was given.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass


class StoreReadError(Exception):
    """A secret that could not be read; the message says why and what to do."""


# Reads the text of a secret by its reference; raises StoreReadError.
SecretReader = Callable[[str], str]


@dataclass(frozen=True)
class SecretStore:
    """A platform's secret store as the config names it.

    Args:
        field: the key of a config entry that names one of its secrets (``secretsManager``).
        example: a reference, for messages.
        reference_problem: why a text is not a reference to one of its secrets (``None``: it is).
        open: a reader for one run of the program (it may register the providers it reads with).
    """

    field: str
    example: str
    reference_problem: Callable[[str], str | None]
    open: Callable[[], SecretReader]


@dataclass(frozen=True)
class StoredAt:
    """Where a provided secret was read from.

    Args:
        field: the store's key (``secretsManager``, ``keyVault``).
        reference: the secret's reference (an ARN, a Key Vault secret URL).
    """

    field: str
    reference: str


Readers = Mapping[str, SecretReader]
# The reader of Route 53 zones (a zone's name by its ID), beside the platforms' secret stores.
ROUTE53_ZONES = "route53Zone"
