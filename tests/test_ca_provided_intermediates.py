"""Intermediates signed by the operator's offline root (``caProvidedIntermediates``): no root key
anywhere in the stack, every check before any resource, and a rotation in the same three stages."""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from components.config.problems import ConfigError
from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from tests.certs import cert, offline_intermediate, offline_root, verify_client, workload_cert
from tests.expected import cacerts
from tests.harness.changes import Changes, changes, named
from tests.harness.program import StackRun, run_program, stack_config

KIND = ("kind-1", "kind-2")
OLD_CERT, OLD_KEY = offline_root(common_name="Offline Root 1")
NEW_CERT, NEW_KEY = offline_root(common_name="Offline Root 2")
SECRET = ["caProvidedRoots", "caProvidedIntermediates"]
SIGNED_BY_OLD = {c: offline_intermediate(OLD_CERT, OLD_KEY, c) for c in KIND}
SIGNED_BY_NEW = {c: offline_intermediate(NEW_CERT, NEW_KEY, c) for c in KIND}


def config(intermediates: dict[str, Any], roots: dict[str, Any] | None = None, **more: Any) -> dict[str, Any]:
    return {
        **stack_config("kind"),
        "verify": True,
        "caProvidedRoots": roots if roots is not None else {"root": {"certPem": OLD_CERT}},
        "caProvidedIntermediates": intermediates,
        **more,
    }


@pytest.fixture(scope="module")
def provided() -> StackRun:
    return run_program(config(SIGNED_BY_OLD), stack="kind", secret_keys=SECRET)


def test_no_root_key_and_no_certificate_resource_exist(provided: StackRun) -> None:
    assert [r.name for r in provided.resources if r.type.startswith("tls:")] == []
    for cluster in KIND:
        given = SIGNED_BY_OLD[cluster]
        assert cacerts(provided, cluster) == {
            CA_CERT: given["certPem"],
            CA_KEY: given["keyPem"],
            CERT_CHAIN: given["chainPem"],
            ROOT_CERT: OLD_CERT,
        }
        assert "stringData" in provided.named(f"{cluster}-istio-cacerts").secret_inputs
    assert OLD_KEY not in str([r.inputs for r in provided.resources])


def test_workloads_of_every_cluster_verify_against_every_bundle(provided: StackRun) -> None:
    for issuer, verifier in product(KIND, KIND):
        files = cacerts(provided, issuer)
        key = serialization.load_pem_private_key(files[CA_KEY].encode(), password=None)
        leaf = workload_cert(cert(files[CA_CERT]), key, "sample")
        assert verify_client(leaf, files[CERT_CHAIN], cacerts(provided, verifier)[ROOT_CERT])[-1] == cert(OLD_CERT)


def test_their_ends_are_reported(provided: StackRun) -> None:
    for cluster in KIND:
        end = cert(SIGNED_BY_OLD[cluster]["certPem"]).not_valid_after_utc
        assert provided.outputs["caExpiry"]["intermediates"][cluster]["notAfter"] == end.strftime("%Y-%m-%dT%H:%M:%SZ")


def test_both_keys_must_be_secrets() -> None:
    with pytest.raises(ConfigError) as raised:
        run_program(config(SIGNED_BY_OLD), stack="kind", secret_keys=["caProvidedRoots"])
    assert [(p.path, p.code) for p in raised.value.problems] == [("caProvidedIntermediates", "ca-provided-plain")]


def problems(intermediates: dict[str, Any], roots: dict[str, Any] | None = None, **more: Any) -> list[tuple[str, str]]:
    with pytest.raises(ConfigError) as raised:
        run_program(config(intermediates, roots, **more), stack="kind", secret_keys=SECRET)
    return [(p.path, p.code) for p in raised.value.problems]


def test_every_cluster_or_none_and_only_the_meshs() -> None:
    assert problems({"kind-1": SIGNED_BY_OLD["kind-1"], "kind-9": SIGNED_BY_OLD["kind-2"]}) == [
        ("caProvidedIntermediates.kind-2", "ca-provided-missing"),
        ("caProvidedIntermediates.kind-9", "ca-provided-unused"),
    ]


def test_every_root_is_provided_with_them_and_without_its_key() -> None:
    assert problems(SIGNED_BY_OLD, roots={}) == [("caProvidedRoots", "ca-provided-missing")]
    keyed = {"root": {"certPem": OLD_CERT, "keyPem": OLD_KEY}}
    assert problems(SIGNED_BY_OLD, roots=keyed) == [("caProvidedRoots.root.keyPem", "ca-provided-unused")]


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        ({"certPem": SIGNED_BY_NEW["kind-1"]["certPem"]}, ["ca-provided-key", "ca-provided-issuer", "ca-provided-chain"]),
        ({"keyPem": SIGNED_BY_OLD["kind-2"]["keyPem"]}, ["ca-provided-key"]),
        ({"chainPem": SIGNED_BY_OLD["kind-1"]["certPem"]}, ["ca-provided-chain"]),
        ({"chainPem": SIGNED_BY_OLD["kind-1"]["certPem"] + NEW_CERT}, ["ca-provided-chain"]),
    ],
)
def test_a_bad_intermediate_is_refused_naming_the_field(change: dict[str, str], expected: list[str]) -> None:
    bad = {**SIGNED_BY_OLD, "kind-1": {**SIGNED_BY_OLD["kind-1"], **change}}
    assert [code for _, code in problems(bad)] == expected


def test_one_that_names_another_cluster_or_is_due_for_renewal_is_refused() -> None:
    unnamed = {**SIGNED_BY_OLD, "kind-1": offline_intermediate(OLD_CERT, OLD_KEY, "kind-1", named=False)}
    assert problems(unnamed) == [("caProvidedIntermediates.kind-1.certPem", "ca-provided-cluster")]
    short = {**SIGNED_BY_OLD, "kind-1": offline_intermediate(OLD_CERT, OLD_KEY, "kind-1", days=20)}
    assert problems(short) == [("caProvidedIntermediates.kind-1.certPem", "ca-provided-expiry")]


def test_a_rotation_takes_new_intermediates_at_issue_and_refuses_old_ones() -> None:
    both = {"root": {"certPem": OLD_CERT}, "root-2": {"certPem": NEW_CERT}}
    before = run_program(config(SIGNED_BY_OLD), stack="kind", secret_keys=SECRET)

    def up(previous: StackRun, stage: str, intermediates: dict[str, Any], roots: dict[str, Any]) -> StackRun:
        staged = config(intermediates, roots, caRotation={"newRoot": "root-2", "stage": stage})
        return run_program(
            staged, stack="kind", state=previous.state(), previous_outputs=previous.outputs_after(hours=24), secret_keys=SECRET
        )

    trust = up(before, "trust", SIGNED_BY_OLD, both)
    with pytest.raises(ConfigError, match="is not signed by the signing root"):
        up(trust, "issue", SIGNED_BY_OLD, both)
    issue = up(trust, "issue", SIGNED_BY_NEW, both)
    retire = up(issue, "retire", SIGNED_BY_NEW, {"root-2": {"certPem": NEW_CERT}})
    cacerts_updated, probes = named(("{c}-istio-cacerts",), KIND), named(("mesh-check-{c}-probe",), KIND)
    istiods = named(("{c}-istio-istiod-1-30-3",), KIND)
    assert changes(before, trust) == Changes(update=cacerts_updated | istiods, replace=probes)
    assert changes(trust, issue) == Changes(update=cacerts_updated, replace=probes)
    assert changes(issue, retire) == Changes(update=cacerts_updated | istiods, replace=probes)
    for stage, bundle in ((trust, OLD_CERT + NEW_CERT), (issue, OLD_CERT + NEW_CERT), (retire, NEW_CERT)):
        assert cacerts(stage, "kind-1")[ROOT_CERT] == bundle
