"""Secret stores the program reads provided intermediates from, answering as the real ones do.

- Secrets Manager: ``SecretsManager`` answers the aws provider's ``getSecretVersion`` invoke in
  the mocks. A secret is found by its full ARN, or by the ARN without the six characters Secrets
  Manager appends to a name, and only through a provider of its own region; a missing or denied
  secret fails the invoke with the provider's error text.
- Key Vault: ``KeyVault`` is a ``requests`` transport adapter under Microsoft's real client
  (azure-keyvault-secrets on azure-core's RequestsTransport). It speaks Key Vault's data plane: a
  request without a token gets 401 with the challenge that names the tenant and the resource; a
  token must be for ``https://vault.azure.net/.default``; then 200 with the secret, 404
  ``SecretNotFound`` or 403 ``ForbiddenByRbac``; an unknown host does not resolve.
"""

from __future__ import annotations

import io
import json
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import grpc
import requests
import urllib3
from azure.core.credentials import AccessToken
from azure.core.pipeline.transport import RequestsTransport
from azure.keyvault.secrets import SecretClient
from pulumi.runtime.mocks import MockCallArgs
from requests.adapters import BaseAdapter
from requests.structures import CaseInsensitiveDict

from components.config.stores import Readers
from components.platforms.aws.ca_store import SECRETS_MANAGER
from components.platforms.azure.ca_store import KEY_VAULT, VAULT_SECRET
from tests.harness.accounts import DEPLOYER_SESSION, TENANT

VAULT_SCOPE = "https://vault.azure.net/.default"
ARN_REGION = re.compile(r"arn:[a-z-]+:secretsmanager:([a-z0-9-]+):")


class InvokeError(grpc.RpcError):
    """A provider's failed read as the engine answers the invoke: a gRPC error with its text."""

    def __init__(self, details: str) -> None:
        super().__init__(details)
        self._details = details

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNKNOWN

    def details(self) -> str:
        return self._details


@dataclass
class SecretsManager:
    """Secrets by full ARN; ``denied``: ARNs the deployer may not read."""

    secrets: dict[str, str] = field(default_factory=dict)
    denied: set[str] = field(default_factory=set)
    reads: list[tuple[str, str]] = field(default_factory=list)

    def answer(self, args: MockCallArgs, provider_region: str) -> tuple[dict[str, Any], list[tuple[str, str]]]:
        """``getSecretVersion`` of ``args.args["secretId"]`` through a provider of ``provider_region``;
        an error as the engine passes a provider's failed read on (an error of the invoke call)."""
        asked = str(args.args["secretId"])
        self.reads.append((asked, provider_region))
        found = ARN_REGION.match(asked)
        full = next((arn for arn in self.secrets if asked in (arn, arn[:-7])), None)
        prefix = f"reading Secrets Manager Secret Version ({asked}|AWSCURRENT): operation error Secrets Manager: GetSecretValue, "
        if full in self.denied:
            reason = (
                f"StatusCode: 400, AccessDeniedException: User: {DEPLOYER_SESSION} is not authorized to perform: "
                "secretsmanager:GetSecretValue"
            )
            raise InvokeError(prefix + "https response error " + reason)
        if full is None or found is None or found.group(1) != provider_region:
            reason = "StatusCode: 400, ResourceNotFoundException: Secrets Manager can't find the specified secret."
            raise InvokeError(prefix + "https response error " + reason)
        value = {"arn": full, "id": f"{full}|AWSCURRENT", "secretId": asked, "secretString": self.secrets[full], "secretBinary": ""}
        return {**value, "versionId": "v1", "versionStage": "AWSCURRENT", "versionStages": ["AWSCURRENT"], "region": provider_region}, []


# The public zone the tests' ingressDns configs name (example.com, RFC 2606), and a private one.
EXAMPLE_ZONE = "Z0123456789ABCDEFGHIJ"
PRIVATE_ZONE = "Z0PRIVATE0EXAMPLE0COM"


@dataclass
class OtherStack:
    """Another stack of the backend, as stack references read it: its outputs and the names of the
    secret ones (``StackRun.outputs`` and ``StackRun.secret_outputs`` of its last run)."""

    outputs: dict[str, Any] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)
    # Why the service refuses to read it ("" when it answers): a permission, the network.
    failure: str = ""


@dataclass
class Route53Zones:
    """Hosted zones by ID: (name with its trailing dot, private)."""

    zones: dict[str, tuple[str, bool]] = field(
        default_factory=lambda: {EXAMPLE_ZONE: ("example.com.", False), PRIVATE_ZONE: ("internal.example.com.", True)}
    )

    def answer(self, args: MockCallArgs) -> dict[str, Any]:
        """``getZone`` by ID; an unknown ID fails as Route 53 answers it."""
        zone_id = str(args.args.get("zoneId"))
        if zone_id not in self.zones:
            raise InvokeError(
                "reading Route 53 Hosted Zone: operation error Route 53: GetHostedZone, https response error StatusCode: 404, "
                f"NoSuchHostedZone: No hosted zone found with ID: {zone_id}"
            )
        name, private = self.zones[zone_id]
        return {"zoneId": zone_id, "id": zone_id, "name": name, "privateZone": private, "nameServers": [], "tags": {}}


class Credential:
    """An Entra ID credential that issues a token naming its scope, and records what it was asked."""

    def __init__(self) -> None:
        self.asked: list[tuple[tuple[str, ...], dict[str, Any]]] = []

    def get_token(self, *scopes: str, **kwargs: Any) -> AccessToken:
        self.asked.append((scopes, kwargs))
        return AccessToken(f"token-for-{' '.join(scopes)}", int(time.time()) + 3600)


class KeyVault(BaseAdapter):
    """Key Vault's data plane for the vaults in ``secrets``: ``{vault URL: {name: value}}``, a name
    optionally ``name/version``; ``forbidden``: vault URLs whose secrets the deployer may not read
    (403 ForbiddenByRbac); ``firewalled``: vault URLs whose firewall refuses this machine (403
    ForbiddenByFirewall); ``disabled``: secret names that are disabled (403 SecretDisabled)."""

    def __init__(
        self,
        secrets: Mapping[str, Mapping[str, str]],
        forbidden: frozenset[str] = frozenset(),
        firewalled: frozenset[str] = frozenset(),
        disabled: frozenset[str] = frozenset(),
    ) -> None:
        super().__init__()
        self.secrets = {vault: dict(named) for vault, named in secrets.items()}
        self.forbidden = forbidden
        self.firewalled = firewalled
        self.disabled = disabled
        self.requests: list[tuple[str, str, str | None]] = []
        self.credential = Credential()

    def client(self, vault_url: str) -> SecretClient:
        """Microsoft's client of ``vault_url`` over this fake (what ``ca_store.vault_client`` makes)."""
        session = requests.Session()
        session.mount("https://", self)
        return SecretClient(vault_url, self.credential, transport=RequestsTransport(session=session))

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> requests.Response:
        url = urlsplit(str(request.url))
        vault = f"https://{url.hostname}"
        authorization = request.headers.get("Authorization")
        self.requests.append((str(request.method), str(request.url), None if authorization is None else str(authorization)))
        if vault not in self.secrets:
            raise requests.ConnectionError(f"Failed to resolve '{url.hostname}' ([Errno -2] Name or service not known)")
        if request.headers.get("Authorization") != f"Bearer token-for-{VAULT_SCOPE}":
            challenge = f'Bearer authorization="https://login.microsoftonline.com/{TENANT}", resource="https://vault.azure.net"'
            return self._response(request, 401, {"error": {"code": "Unauthorized"}}, {"WWW-Authenticate": challenge})
        if vault in self.firewalled:
            message = "Client address is not authorized and caller is not a trusted service."
            return self._response(
                request, 403, {"error": {"code": "Forbidden", "message": message, "innererror": {"code": "ForbiddenByFirewall"}}}
            )
        if vault in self.forbidden:
            message = "Caller is not authorized to perform action on resource. Action: 'Microsoft.KeyVault/vaults/secrets/getSecret/action'"
            return self._response(
                request, 403, {"error": {"code": "Forbidden", "message": message, "innererror": {"code": "ForbiddenByRbac"}}}
            )
        path = url.path.removeprefix("/secrets/").strip("/")
        if path in self.disabled:
            message = "Operation get is not allowed on a disabled secret."
            return self._response(
                request, 403, {"error": {"code": "Forbidden", "message": message, "innererror": {"code": "SecretDisabled"}}}
            )
        value = self.secrets[vault].get(path)
        if value is None:
            message = f"A secret with (name/id) {path} was not found in this key vault."
            return self._response(request, 404, {"error": {"code": "SecretNotFound", "message": message}})
        return self._response(request, 200, {"value": value, "id": f"{vault}/secrets/{path}", "attributes": {"enabled": True}})

    def close(self) -> None:
        pass

    @staticmethod
    def _response(
        request: requests.PreparedRequest, status: int, body: object, headers: Mapping[str, str] | None = None
    ) -> requests.Response:
        content = json.dumps(body).encode()
        all_headers = {"Content-Type": "application/json; charset=utf-8", "Content-Length": str(len(content)), **(headers or {})}
        response = requests.Response()
        response.request, response.url, response.status_code = request, str(request.url), status
        response.headers = CaseInsensitiveDict(all_headers)
        response.raw = urllib3.HTTPResponse(body=io.BytesIO(content), headers=all_headers, status=status, preload_content=False)
        return response


def readers(secrets_manager: SecretsManager, key_vault: KeyVault) -> Readers:
    """What the program's readers read from these stores, without a Pulumi run (to plan names)."""

    def from_vault(reference: str) -> str:
        found = VAULT_SECRET.fullmatch(reference)
        assert found is not None, reference
        path = found.group("secret") + (f"/{found.group('version')}" if found.group("version") else "")
        return key_vault.secrets[found.group("vault")][path]

    return {SECRETS_MANAGER.field: secrets_manager.secrets.__getitem__, KEY_VAULT.field: from_vault}
