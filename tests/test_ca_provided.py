"""Roots the operator provides (``caProvidedRoots``): checked before any resource, signing the
intermediates as a generated root does, never a resource of their own, and rotated like any root."""

from __future__ import annotations

from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from components.config.problems import ConfigError
from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from tests.certs import cert, offline_root, verify_client, workload_cert
from tests.configs import codes_of, n_existing
from tests.expected import cacerts
from tests.harness.changes import Changes, changes
from tests.harness.program import StackRun, run_program, stack_config

KIND = ("kind-1", "kind-2")
CERT_PEM, KEY_PEM = offline_root()
CONFIG = {**stack_config("kind"), "caProvidedRoots": {"root": {"certPem": CERT_PEM, "keyPem": KEY_PEM}}}
SECRET = ["caProvidedRoots"]


@pytest.fixture(scope="module")
def provided() -> StackRun:
    return run_program(CONFIG, stack="kind", secret_keys=SECRET)


def test_a_provided_root_is_no_resource_and_signs_every_intermediate(provided: StackRun) -> None:
    names = {r.name for r in provided.resources}
    assert not {"mesh-ca-root-key", "mesh-ca-root-cert"} & names
    for cluster in KIND:
        signed = provided.named(f"mesh-ca-{cluster}-cert")
        assert signed.inputs["caCertPem"] == CERT_PEM and signed.inputs["caPrivateKeyPem"] == KEY_PEM
        assert "caPrivateKeyPem" in signed.secret_inputs
        files = cacerts(provided, cluster)
        assert files[ROOT_CERT] == CERT_PEM and files[CERT_CHAIN] == files[CA_CERT] + CERT_PEM
        key = serialization.load_pem_private_key(files[CA_KEY].encode(), password=None, unsafe_skip_rsa_key_validation=True)
        leaf = workload_cert(cert(files[CA_CERT]), key, "sample")
        for verifier in KIND:
            chain = verify_client(leaf, files[CERT_CHAIN], cacerts(provided, verifier)[ROOT_CERT])
            assert chain[-1] == cert(CERT_PEM)
    assert provided.outputs["rootCertPem"] == CERT_PEM
    assert KEY_PEM not in str(provided.outputs)


def test_its_expiry_is_reported_and_no_up_renews_it(provided: StackRun) -> None:
    report = provided.outputs["caExpiry"]["roots"]["root"]
    assert report["notAfter"] == cert(CERT_PEM).not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert report["renewsAfter"] == report["notAfter"]


def test_a_root_provided_near_its_end_is_warned_of(monkeypatch: pytest.MonkeyPatch) -> None:
    import pulumi  # noqa: PLC0415

    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    short_cert, short_key = offline_root(days=800)
    config = {**CONFIG, "caIntermediateValidityHours": 24 * 780, "caProvidedRoots": {"root": {"certPem": short_cert, "keyPem": short_key}}}
    run_program(config, stack="kind", secret_keys=SECRET)
    assert [w for w in warned if "provided" in w] == []
    near_cert, near_key = offline_root(days=20)
    config = {
        **CONFIG,
        "caIntermediateValidityHours": 24 * 10,
        "caIntermediateEarlyRenewalHours": 24,
        "caProvidedRoots": {"root": {"certPem": near_cert, "keyPem": near_key}},
    }
    run_program(config, stack="kind", secret_keys=SECRET)
    end = cert(near_cert).not_valid_after_utc
    assert [w for w in warned if "provided" in w] == [
        f"istio-multicluster: mesh root root's certificate (provided) expires on {end:%Y-%m-%d %H:%M} UTC (in 19 days) and no "
        "`pulumi up` renews it: rotate to another root (caRotation) before then"
    ]


def test_a_provided_root_must_be_a_secret() -> None:
    with pytest.raises(ConfigError) as raised:
        run_program(CONFIG, stack="kind")
    assert [(p.path, p.code) for p in raised.value.problems] == [("caProvidedRoots", "ca-provided-plain")]


OTHER_CERT, OTHER_KEY = offline_root()


def refusals(entry: Any, **more: Any) -> list[tuple[str, str]]:
    return codes_of({**n_existing(2), **more, "caProvidedRoots": {"root": entry}})


@pytest.mark.parametrize(
    ("entry", "more", "expected"),
    [
        ({"certPem": "not a pem", "keyPem": KEY_PEM}, {}, [("ca-provided-cert", "caProvidedRoots.root.certPem: is not a PEM certificate")]),
        (
            {"certPem": CERT_PEM + OTHER_CERT, "keyPem": KEY_PEM},
            {},
            [("ca-provided-cert", "caProvidedRoots.root.certPem: holds 2 certificates; give the root's alone")],
        ),
        (
            {"certPem": CERT_PEM, "keyPem": "-----BEGIN PRIVATE KEY-----\nxx\n-----END PRIVATE KEY-----\n"},
            {},
            [("ca-provided-key", "caProvidedRoots.root.keyPem: is not an unencrypted PEM private key")],
        ),
        (
            {"certPem": CERT_PEM, "keyPem": OTHER_KEY},
            {},
            [("ca-provided-key", "caProvidedRoots.root.keyPem: is not the key of certPem's public key; give the root's own key")],
        ),
        (
            {"certPem": CERT_PEM},
            {},
            [
                (
                    "ca-provided-key",
                    "caProvidedRoots.root.keyPem: is required: root root signs the intermediates (or provide them: "
                    "caProvidedIntermediates)",
                )
            ],
        ),
        (
            {"certPem": CERT_PEM, "keyPem": KEY_PEM, "chainPem": CERT_PEM},
            {},
            [("ca-provided-shape", "caProvidedRoots.root: must be {certPem: <PEM>, keyPem: <PEM>} (keyPem only to sign), text")],
        ),
        (
            {"certPem": CERT_PEM, "keyPem": KEY_PEM},
            {"caRoot": "other"},
            [("ca-provided-unused", "caProvidedRoots.root: is not a root of the mesh (other); remove it")],
        ),
    ],
)
def test_a_bad_provided_root_is_refused_naming_the_field(entry: Any, more: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [c for c in refusals(entry, **more) if c[1].startswith("caProvidedRoots")] == expected


def test_a_root_that_is_no_ca_or_may_not_sign_is_refused() -> None:
    not_ca, not_ca_key = offline_root(ca=False)
    assert [c for c in refusals({"certPem": not_ca, "keyPem": not_ca_key}) if c[1].startswith("caProvided")] == [
        ("ca-provided-cert", "caProvidedRoots.root.certPem: is not a CA certificate (basicConstraints CA:TRUE); give a root CA")
    ]
    no_sign, no_sign_key = offline_root(cert_sign=False)
    assert [c for c in refusals({"certPem": no_sign, "keyPem": no_sign_key}) if c[1].startswith("caProvided")] == [
        ("ca-provided-cert", "caProvidedRoots.root.certPem: may not sign certificates (keyUsage lacks keyCertSign)")
    ]


def test_a_root_out_of_its_validity_or_too_short_for_the_intermediates_is_refused() -> None:
    late, late_key = offline_root(starts_in_days=2)
    found = [c for c in refusals({"certPem": late, "keyPem": late_key}) if c[1].startswith("caProvided")]
    assert found == [
        ("ca-provided-expiry", f"caProvidedRoots.root.certPem: is valid only from {cert(late).not_valid_before_utc:%Y-%m-%d %H:%M} UTC")
    ]
    expired, expired_key = offline_root(days=-1)
    found = [c for c in refusals({"certPem": expired, "keyPem": expired_key}) if c[1].startswith("caProvided")]
    end = cert(expired).not_valid_after_utc
    assert found == [
        ("ca-provided-expiry", f"caProvidedRoots.root.certPem: expired on {end:%Y-%m-%d %H:%M} UTC; rotate to another root (caRotation)")
    ]
    short, short_key = offline_root(days=100)
    found = [c for c in refusals({"certPem": short, "keyPem": short_key}) if c[1].startswith("caProvided")]
    assert [code for code, _ in found] == ["ca-provided-expiry"]
    assert "before the intermediates it would sign now (caIntermediateValidityHours: 17520" in found[0][1]


def test_a_generated_root_rotates_to_a_provided_one_in_the_same_three_stages() -> None:
    config = stack_config("kind")
    before = run_program(config, stack="kind")
    previous, runs = before, {}
    provided_roots = {"root-2": {"certPem": CERT_PEM, "keyPem": KEY_PEM}}
    for stage in ("trust", "issue", "retire"):
        staged = {**config, "caRotation": {"newRoot": "root-2", "stage": stage}, "caProvidedRoots": provided_roots}
        runs[stage] = previous = run_program(
            staged, stack="kind", state=previous.state(), previous_outputs=previous.outputs_after(hours=24), secret_keys=SECRET
        )
    # The provided root adds no resource; the stages change what they change for a generated one.
    assert changes(before, runs["trust"]).create == frozenset()
    assert changes(runs["issue"], runs["retire"]).delete == frozenset({"mesh-ca-root-key", "mesh-ca-root-cert"})
    assert cacerts(runs["retire"], "kind-1")[ROOT_CERT] == CERT_PEM
    assert runs["issue"].named("mesh-ca-kind-1-cert").inputs["caCertPem"] == CERT_PEM
    done = run_program(
        {**config, "caRoot": "root-2", "caProvidedRoots": provided_roots},
        stack="kind",
        state=previous.state(),
        previous_outputs=previous.outputs_after(hours=24),
        secret_keys=SECRET,
    )
    assert changes(previous, done) == Changes()
