"""Provided intermediates read from Secrets Manager or Key Vault by name, before any resource:
the reads (through an AWS provider of the secret's region; through Microsoft's Key Vault client
with the vault's challenge), both stored forms, the same checks as inline ones with the store's
field named, and a renewal made in the store reaching only that cluster's CA on the next ``up``."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.config.problems import ConfigError
from components.config.provided import stored_intermediate
from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from components.platforms.aws.ca_store import reference_problem as arn_problem
from components.platforms.azure.ca_store import reference_problem as vault_url_problem
from tests.certs import offline_intermediate, offline_root
from tests.expected import cacerts
from tests.harness.changes import Changes, changes, named
from tests.harness.mocks import MeshMocks
from tests.harness.plans import planned, registered
from tests.harness.program import StackRun, run_program, stack_config
from tests.harness.stores import VAULT_SCOPE, KeyVault, SecretsManager, readers

KIND = ("kind-1", "kind-2")
ROOT_CERT_PEM, ROOT_KEY_PEM = offline_root(common_name="Offline Root 1")
OTHER_CERT, OTHER_KEY = offline_root(common_name="Offline Root 2")
GIVEN = {c: offline_intermediate(ROOT_CERT_PEM, ROOT_KEY_PEM, c) for c in KIND}
ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:mesh/kind-1-intermediate-AbCdEf"
VAULT = "https://meshca.vault.azure.net"
SECRET_URL = f"{VAULT}/secrets/kind-2-intermediate"
BY_NAME = {"kind-1": {"secretsManager": ARN}, "kind-2": {"keyVault": SECRET_URL}}


def bundle(given: dict[str, str]) -> str:
    """The PEM bundle Key Vault holds for a certificate imported with its key and chain."""
    return given["keyPem"] + given["chainPem"]


def stores(first: dict[str, str] = GIVEN["kind-1"], second: str | None = None) -> tuple[SecretsManager, KeyVault]:
    return SecretsManager({ARN: json.dumps(first)}), KeyVault({VAULT: {"kind-2-intermediate": second or bundle(GIVEN["kind-2"])}})


def config(intermediates: dict[str, Any] = BY_NAME, **more: Any) -> dict[str, Any]:
    return {
        **stack_config("kind"),
        "verify": True,
        "caProvidedRoots": {"root": {"certPem": ROOT_CERT_PEM}},
        "caProvidedIntermediates": intermediates,
        **more,
    }


def up(store: tuple[SecretsManager, KeyVault] | None = None, previous: StackRun | None = None, **more: Any) -> StackRun:
    secrets_manager, key_vault = store or stores()
    state = {"state": previous.state(), "previous_outputs": previous.outputs_after(hours=24)} if previous is not None else {}
    return run_program(config(**more), stack="kind", secrets_manager=secrets_manager, key_vault=key_vault, **state)


@pytest.fixture(scope="module")
def read() -> tuple[StackRun, SecretsManager, KeyVault]:
    secrets_manager, key_vault = stores()
    return up((secrets_manager, key_vault)), secrets_manager, key_vault


def test_each_cluster_gets_what_its_store_holds(read: tuple[StackRun, SecretsManager, KeyVault]) -> None:
    run, _, _ = read
    for cluster in KIND:
        given = GIVEN[cluster]
        assert cacerts(run, cluster) == {
            CA_CERT: given["certPem"],
            CA_KEY: given["keyPem"],
            CERT_CHAIN: given["chainPem"],
            ROOT_CERT: ROOT_CERT_PEM,
        }
        assert "stringData" in run.named(f"{cluster}-istio-cacerts").secret_inputs


def test_the_only_resource_reading_adds_is_the_provider_of_the_secrets_region(read: tuple[StackRun, SecretsManager, KeyVault]) -> None:
    run, _, _ = read
    inline = run_program(config(GIVEN), stack="kind", secret_keys=["caProvidedIntermediates"])
    assert registered(run) - registered(inline) == {("pulumi:providers:aws", "ca-store-eu-west-1")}
    assert registered(inline) - registered(run) == set()
    assert run.named("ca-store-eu-west-1").inputs["region"] == "eu-west-1"
    plan = {(p.urn_type, p.name) for p in planned(config(), readers(*stores())).names}
    assert registered(run) - plan == set()
    assert ("pulumi:providers:aws", "ca-store-eu-west-1") in plan


def test_secrets_manager_is_read_through_that_provider(read: tuple[StackRun, SecretsManager, KeyVault]) -> None:
    _, secrets_manager, _ = read
    assert secrets_manager.reads == [(ARN, "eu-west-1")]


def test_key_vault_is_read_after_its_challenge_with_a_vault_token(read: tuple[StackRun, SecretsManager, KeyVault]) -> None:
    _, _, key_vault = read
    assert [(method, url.split("?")[0], token) for method, url, token in key_vault.requests] == [
        ("GET", f"{SECRET_URL}/", None),
        ("GET", f"{SECRET_URL}/", f"Bearer token-for-{VAULT_SCOPE}"),
    ]
    [(scopes, options)] = key_vault.credential.asked
    assert scopes == (VAULT_SCOPE,)
    assert options["tenant_id"] == "11111111-1111-1111-1111-111111111111"


def test_no_key_in_the_config_needs_no_secret_config() -> None:
    # The stack file holds two references, no key: nothing to encrypt.
    assert up().named("kind-1-istio-cacerts")
    mixed = {"kind-1": BY_NAME["kind-1"], "kind-2": GIVEN["kind-2"]}
    with pytest.raises(ConfigError) as raised:
        up(caProvidedIntermediates=mixed)
    assert [(p.path, p.code) for p in raised.value.problems] == [("caProvidedIntermediates", "ca-provided-plain")]


def test_a_preview_reads_and_checks_too() -> None:
    secrets_manager, key_vault = stores(first=offline_intermediate(OTHER_CERT, OTHER_KEY, "kind-1"))
    with pytest.raises(ConfigError, match="is not signed by the signing root"):
        run_program(config(), stack="kind", preview=True, secrets_manager=secrets_manager, key_vault=key_vault)
    assert secrets_manager.reads == [(ARN, "eu-west-1")]


def problems(store: tuple[SecretsManager, KeyVault], intermediates: dict[str, Any] = BY_NAME) -> list[tuple[str, str, str]]:
    secrets_manager, key_vault = store
    with pytest.raises(ConfigError) as raised:
        run_program(config(intermediates), stack="kind", secrets_manager=secrets_manager, key_vault=key_vault)
    return [(p.path, p.code, p.message) for p in raised.value.problems]


def test_a_missing_or_denied_secret_names_its_field_and_the_permission() -> None:
    secrets_manager, key_vault = stores()
    secrets_manager.denied.add(ARN)
    forbidden = KeyVault(key_vault.secrets, forbidden=frozenset({VAULT}))
    assert problems((secrets_manager, forbidden)) == [
        (
            "caProvidedIntermediates.kind-1.secretsManager",
            "ca-provided-store",
            "could not be read (StatusCode: 400, AccessDeniedException: User: "
            "arn:aws:sts::123456789012:assumed-role/deployer/ci is not authorized to perform: secretsmanager:GetSecretValue"
            "): check the ARN, and that the deployer may call secretsmanager:GetSecretValue on it (and kms:Decrypt with "
            "its key)",
        ),
        (
            "caProvidedIntermediates.kind-2.keyVault",
            "ca-provided-store",
            f"could not be read: the deployer may not read {VAULT}'s secrets; give it the Key Vault Secrets User role on the "
            "vault (or, on a vault with access policies, get on secrets)",
        ),
    ]


def test_a_secret_that_is_not_there_is_named() -> None:
    elsewhere = {"kind-1": {"secretsManager": ARN.replace("eu-west-1", "us-east-1")}, "kind-2": {"keyVault": f"{VAULT}/secrets/other"}}
    found = problems(stores(), elsewhere)
    assert [(path, code) for path, code, _ in found] == [
        ("caProvidedIntermediates.kind-1.secretsManager", "ca-provided-store"),
        ("caProvidedIntermediates.kind-2.keyVault", "ca-provided-store"),
    ]
    assert "ResourceNotFoundException: Secrets Manager can't find the specified secret." in found[0][2]
    assert found[1][2] == f"names a secret that {VAULT} does not have (other)"
    secrets_manager, key_vault = stores()
    firewalled = KeyVault(key_vault.secrets, firewalled=frozenset({VAULT}))
    assert problems((secrets_manager, firewalled))[0][2] == (
        f"could not be read: {VAULT}'s firewall does not admit the machine running Pulumi; add its address to the vault's network rules"
    )
    disabled = KeyVault(key_vault.secrets, disabled=frozenset({"kind-2-intermediate"}))
    assert problems((secrets_manager, disabled))[0][2] == "names a disabled secret (kind-2-intermediate); enable it or name another version"
    unreachable = problems(stores(), {**BY_NAME, "kind-2": {"keyVault": "https://gone.vault.azure.net/secrets/x"}})
    assert unreachable[0][2].startswith("could not be read: https://gone.vault.azure.net did not answer (")


def test_the_partial_arn_and_a_versioned_secret_url_are_read() -> None:
    version = "0123456789abcdef0123456789abcdef"
    secrets_manager, _ = stores()
    key_vault = KeyVault({VAULT: {f"kind-2-intermediate/{version}": bundle(GIVEN["kind-2"])}})
    named_exactly = {"kind-1": {"secretsManager": ARN[:-7]}, "kind-2": {"keyVault": f"{SECRET_URL}/{version}"}}
    run = run_program(config(named_exactly), stack="kind", secrets_manager=secrets_manager, key_vault=key_vault)
    assert cacerts(run, "kind-2")[CA_KEY] == GIVEN["kind-2"]["keyPem"]


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ({"secretsManager": "mesh/kind-1"}, "mesh/kind-1 is not a Secrets Manager secret ARN; for example arn:aws:secretsmanager:"),
        ({"keyVault": f"{VAULT}/keys/kind-1"}, f"{VAULT}/keys/kind-1 is not a Key Vault secret URL ("),
        ({"keyVault": 7}, "must be text; for example https://"),
        ({"secretsManager": ARN, "keyVault": SECRET_URL}, "must be {certPem, keyPem, chainPem}, PEM text each, or {keyVault: "),
        ({"vault": SECRET_URL}, "must be {certPem, keyPem, chainPem}, PEM text each, or {keyVault: "),
    ],
)
def test_a_bad_reference_is_refused_before_any_read(entry: dict[str, Any], expected: str) -> None:
    secrets_manager, key_vault = stores()
    [(path, code, message)] = problems((secrets_manager, key_vault), {**BY_NAME, "kind-1": entry})
    assert path.startswith("caProvidedIntermediates.kind-1") and code in {"ca-provided-store", "ca-provided-shape"}
    assert message.startswith(expected)
    assert secrets_manager.reads == []


@pytest.mark.parametrize(
    ("stored", "expected"),
    [
        ("not a certificate", "holds neither JSON {certPem, keyPem, chainPem} nor a PEM bundle"),
        (json.dumps({"certPem": GIVEN["kind-1"]["certPem"]}), "holds JSON that is not {certPem, keyPem, chainPem}, PEM text each"),
        (GIVEN["kind-1"]["chainPem"], "holds a PEM bundle with 0 private keys; it needs the intermediate's alone"),
        (json.dumps(offline_intermediate(OTHER_CERT, OTHER_KEY, "kind-1")), "the stored certPem is not signed by the signing root (CN="),
        (json.dumps(offline_intermediate(ROOT_CERT_PEM, ROOT_KEY_PEM, "kind-2")), "the stored certPem names no cluster kind-1"),
        (json.dumps(offline_intermediate(ROOT_CERT_PEM, ROOT_KEY_PEM, "kind-1", days=20)), "the stored certPem is valid from "),
    ],
)
def test_what_the_store_holds_is_checked_as_the_config_would_be(stored: str, expected: str) -> None:
    secrets_manager, key_vault = stores()
    secrets_manager.secrets[ARN] = stored
    (path, _, message), *_ = problems((secrets_manager, key_vault))
    assert path == "caProvidedIntermediates.kind-1.secretsManager"
    assert message.startswith(expected)


def test_a_refused_read_registers_nothing_but_the_reading_provider() -> None:
    secrets_manager, key_vault = stores(first=offline_intermediate(OTHER_CERT, OTHER_KEY, "kind-1"))
    mocks = MeshMocks()
    with pytest.raises(ConfigError):
        run_program(config(), stack="kind", mocks=mocks, secrets_manager=secrets_manager, key_vault=key_vault)
    assert mocks.monitor is not None
    assert [(r.type, r.name) for r in mocks.monitor.registered] == [("pulumi:providers:aws", "ca-store-eu-west-1")]


def test_a_renewal_made_in_the_store_reaches_only_that_clusters_ca() -> None:
    before = up()
    renewed = offline_intermediate(ROOT_CERT_PEM, ROOT_KEY_PEM, "kind-2")
    after = up(stores(second=bundle(renewed)), previous=before)
    assert changes(before, after) == Changes(
        update=named(("kind-2-istio-cacerts",), ("kind-2",)), replace=named(("mesh-check-{c}-probe",), KIND)
    )
    assert cacerts(after, "kind-2")[CA_CERT] == renewed["certPem"]
    assert up(previous=after) is not None


def test_a_rotation_reads_the_new_roots_intermediates_from_the_stores() -> None:
    both = {"root": {"certPem": ROOT_CERT_PEM}, "root-2": {"certPem": OTHER_CERT}}
    before = up()
    rotation = {"newRoot": "root-2", "stage": "trust"}
    trust = up(previous=before, caProvidedRoots=both, caRotation=rotation)
    new = {c: offline_intermediate(OTHER_CERT, OTHER_KEY, c) for c in KIND}
    issue = up(
        stores(new["kind-1"], bundle(new["kind-2"])), previous=trust, caProvidedRoots=both, caRotation={**rotation, "stage": "issue"}
    )
    for cluster in KIND:
        assert cacerts(issue, cluster)[CA_CERT] == new[cluster]["certPem"]
        assert cacerts(issue, cluster)[ROOT_CERT] == ROOT_CERT_PEM + OTHER_CERT


def test_stored_forms() -> None:
    given = GIVEN["kind-1"]
    assert stored_intermediate(json.dumps(given)) == (given, "")
    assert stored_intermediate(bundle(given)) == (given, "")
    two_keys = given["keyPem"] + bundle(given)
    assert stored_intermediate(two_keys) == (None, "holds a PEM bundle with 2 private keys; it needs the intermediate's alone")


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:mesh/west-AbCdEf", True),
        ("arn:aws-us-gov:secretsmanager:us-gov-west-1:123456789012:secret:west", True),
        ("arn:aws:secretsmanager:eu-west-1:1234:secret:west", False),
        ("arn:aws:ssm:eu-west-1:123456789012:parameter/west", False),
        ("west", False),
    ],
)
def test_secret_arns(reference: str, valid: bool) -> None:
    assert (arn_problem(reference) is None) is valid


@pytest.mark.parametrize(
    ("reference", "valid"),
    [
        ("https://meshca.vault.azure.net/secrets/west", True),
        ("https://mesh-ca.vault.azure.cn/secrets/west/0123456789abcdef0123456789abcdef", True),
        ("https://meshca.vault.azure.net/secrets/west/latest", False),
        ("http://meshca.vault.azure.net/secrets/west", False),
        ("https://meshca.vault.azure.net/certificates/west", False),
        ("https://1mesh.vault.azure.net/secrets/west", False),
        ("https://mesh--ca.vault.azure.net/secrets/west", False),
        ("https://a-vault-name-of-25-charsx.vault.azure.net/secrets/west", False),
        ("https://meshca.example.com/secrets/west", False),
    ],
)
def test_key_vault_secret_urls(reference: str, valid: bool) -> None:
    assert (vault_url_problem(reference) is None) is valid
