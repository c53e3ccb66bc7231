"""MeshCA: Istio's plug-in CA profile, verified with ``cryptography`` the way the mesh uses it."""

from __future__ import annotations

import datetime
from typing import Any

import pulumi
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import verification
from cryptography.x509.oid import NameOID

from components.config.model import CaSpec
from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT, MeshCA, MeshCAArgs
from tests.certs import cert, verify_client, workload_cert
from tests.configs import default_ca, n_existing
from tests.harness.mocks import MeshMocks
from tests.harness.program import StackRun, run_program

TLS = "tls:index/"
CA_KEY_USAGE = {"digital_signature", "content_commitment", "key_encipherment", "key_cert_sign"}


def mentions(value: Any, needle: str) -> bool:
    """Whether any string inside ``value`` (nested dicts and lists) contains ``needle``."""
    if isinstance(value, str):
        return needle in value
    if isinstance(value, dict):
        return any(mentions(v, needle) for v in value.values())
    if isinstance(value, list):
        return any(mentions(v, needle) for v in value)
    return False


def key_usages(certificate: x509.Certificate) -> set[str]:
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage)
    assert usage.critical
    names = [
        "digital_signature",
        "content_commitment",
        "key_encipherment",
        "data_encipherment",
        "key_agreement",
        "key_cert_sign",
        "crl_sign",
    ]
    return {n for n in names if getattr(usage.value, n)}


def assert_rsa_4096_valid_for(certificate: x509.Certificate, hours: int) -> None:
    public = certificate.public_key()
    assert isinstance(public, rsa.RSAPublicKey) and public.key_size == 4096
    assert certificate.not_valid_after_utc - certificate.not_valid_before_utc == datetime.timedelta(hours=hours)


def cacerts_program(cluster_names: list[str], lifetimes: CaSpec | None = None, name: str = "mesh-ca") -> Any:
    """A program that builds a MeshCA and exports each cluster's cacerts data, to read it back."""

    def program() -> None:
        ca = MeshCA(name, MeshCAArgs(cluster_names, lifetimes or default_ca()))
        for cluster, certs in ca.clusters.items():
            pulumi.export(cluster, certs.secret_data())
        pulumi.export("root", ca.root_cert_pem)

    return program


@pytest.fixture(scope="module")
def three() -> StackRun:
    return run_program(n_existing(3), program=cacerts_program(["c1", "c2", "c3"]))


def test_root_follows_istios_profile(three: StackRun) -> None:
    root = cert(three.outputs["root"])
    assert root.subject.rfc4514_string() == "CN=Root CA,O=Istio"
    assert root.issuer == root.subject
    root.verify_directly_issued_by(root)
    constraints = root.extensions.get_extension_for_class(x509.BasicConstraints)
    assert constraints.critical and constraints.value.ca and constraints.value.path_length is None
    assert key_usages(root) == CA_KEY_USAGE
    assert_rsa_4096_valid_for(root, hours=87600)


@pytest.mark.parametrize("cluster", ["c1", "c2", "c3"])
def test_intermediate_per_cluster_signed_by_the_root(three: StackRun, cluster: str) -> None:
    data = three.outputs[cluster]
    assert set(data) == {CA_CERT, CA_KEY, ROOT_CERT, CERT_CHAIN}
    root, intermediate = cert(data[ROOT_CERT]), cert(data[CA_CERT])
    assert data[ROOT_CERT] == three.outputs["root"]
    assert intermediate.subject.get_attributes_for_oid(NameOID.ORGANIZATION_NAME)[0].value == "Istio"
    assert intermediate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "Intermediate CA"
    assert intermediate.subject.get_attributes_for_oid(NameOID.LOCALITY_NAME)[0].value == cluster
    intermediate.verify_directly_issued_by(root)
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    assert key_usages(intermediate) == CA_KEY_USAGE
    assert intermediate.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName) == [
        "istiod.istio-system.svc"
    ]
    root_ski = root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    assert intermediate.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier).value.key_identifier == root_ski
    assert_rsa_4096_valid_for(intermediate, hours=17520)


@pytest.mark.parametrize("cluster", ["c1", "c2", "c3"])
def test_cacerts_chain_is_intermediate_then_root_and_key_matches(three: StackRun, cluster: str) -> None:
    data = three.outputs[cluster]
    assert data[CERT_CHAIN] == data[CA_CERT] + data[ROOT_CERT]
    chain = x509.load_pem_x509_certificates(data[CERT_CHAIN].encode())
    assert [c.subject for c in chain] == [cert(data[CA_CERT]).subject, cert(data[ROOT_CERT]).subject]
    key = serialization.load_pem_private_key(data[CA_KEY].encode(), password=None)
    assert key.public_key() == cert(data[CA_CERT]).public_key()


def test_workload_from_one_cluster_is_trusted_in_every_other(three: StackRun) -> None:
    """mTLS across clusters: a peer presents leaf + its cert-chain; the other side trusts only its root-cert.pem."""
    for issuer in ("c1", "c2", "c3"):
        data = three.outputs[issuer]
        leaf = workload_cert(cert(data[CA_CERT]), serialization.load_pem_private_key(data[CA_KEY].encode(), None), "sample")
        for verifier_cluster in ("c1", "c2", "c3"):
            chain = verify_client(leaf, data[CERT_CHAIN], three.outputs[verifier_cluster][ROOT_CERT])
            assert [c.subject for c in chain] == [leaf.subject, cert(data[CA_CERT]).subject, cert(data[ROOT_CERT]).subject]


def test_a_foreign_root_is_not_trusted(three: StackRun) -> None:
    # Keys no other run has: another root key.
    other = run_program(n_existing(2), program=cacerts_program(["x1", "x2"], name="other-ca"), mocks=MeshMocks(first_key=100))
    data = three.outputs["c1"]
    leaf = workload_cert(cert(data[CA_CERT]), serialization.load_pem_private_key(data[CA_KEY].encode(), None), "sample")
    with pytest.raises(verification.VerificationError):
        verify_client(leaf, data[CERT_CHAIN], other.outputs["x1"][ROOT_CERT])


def test_cacerts_values_are_secret_and_the_root_cert_is_not(three: StackRun) -> None:
    # An exported object holding a secret is secret as a whole.
    assert three.secret_outputs == {"c1", "c2", "c3"}


def test_root_key_feeds_only_the_signing_resources_and_stays_secret(three: StackRun) -> None:
    root_key_pem = three.named("mesh-ca-root-key").outputs["privateKeyPem"]
    holders = {r.name: [k for k, v in r.inputs.items() if v == root_key_pem] for r in three.resources if mentions(r.inputs, root_key_pem)}
    assert holders == {
        "mesh-ca-root-cert": ["privateKeyPem"],
        "mesh-ca-c1-cert": ["caPrivateKeyPem"],
        "mesh-ca-c2-cert": ["caPrivateKeyPem"],
        "mesh-ca-c3-cert": ["caPrivateKeyPem"],
    }
    for name, keys in holders.items():
        assert set(keys) <= three.named(name).secret_inputs
    assert not mentions(three.outputs, root_key_pem)
    assert mentions(three.outputs, three.named("mesh-ca-c1-key").outputs["privateKeyPem"])  # the check can see keys


def test_tls_resources_requested_with_the_profile(three: StackRun) -> None:
    root = three.named("mesh-ca-root-cert").inputs
    assert root["subject"] == {"organization": "Istio", "commonName": "Root CA"}
    assert (root["isCaCertificate"], root["validityPeriodHours"], root["earlyRenewalHours"]) == (True, 87600, 8760)
    assert root["allowedUses"] == ["digital_signature", "content_commitment", "key_encipherment", "cert_signing"]
    csr = three.named("mesh-ca-c2-csr").inputs
    assert csr["subject"] == {"organization": "Istio", "commonName": "Intermediate CA", "locality": "c2"}
    assert csr["dnsNames"] == ["istiod.istio-system.svc"]
    signed = three.named("mesh-ca-c2-cert").inputs
    assert (signed["isCaCertificate"], signed["maxPathLength"], signed["validityPeriodHours"], signed["earlyRenewalHours"]) == (
        True,
        0,
        17520,
        720,
    )
    assert {(r.inputs["algorithm"], r.inputs["rsaBits"]) for r in three.of_type(f"{TLS}privateKey:PrivateKey")} == {("RSA", 4096)}


def test_path_length_zero_is_requested_but_the_tls_provider_encodes_no_limit(three: StackRun) -> None:
    """terraform-provider-tls never sets Go's MaxPathLenZero, so max_path_length=0 yields no pathLenConstraint.

    The mock reproduces the provider; this pins the gap so a provider fix shows up here.
    """
    intermediate = cert(three.outputs["c1"][CA_CERT])
    assert intermediate.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length is None


def test_every_ca_resource_is_a_child_of_the_component_and_depends_on_nothing_outside(three: StackRun) -> None:
    component = three.named("mesh-ca")
    assert component.type == "istio-multicluster:mesh:MeshCA"
    children = three.children_of(component)
    assert sorted(r.name for r in children) == sorted(
        ["mesh-ca-root-key", "mesh-ca-root-cert"] + [f"mesh-ca-{c}-{role}" for c in ("c1", "c2", "c3") for role in ("key", "csr", "cert")]
    )
    inside = {r.urn for r in children}
    for resource in children:
        assert set(resource.dependencies) <= inside, resource.name
    cert_deps = {three.by_urn(u).name for u in three.named("mesh-ca-c3-cert").dependencies}
    assert cert_deps == {"mesh-ca-c3-csr", "mesh-ca-root-cert", "mesh-ca-root-key"}
    assert three.named("mesh-ca-root-cert").dependencies == [three.named("mesh-ca-root-key").urn]


def test_lifetimes_come_from_config_and_renewing_intermediates_leaves_the_root_alone() -> None:
    short = CaSpec(
        root_validity_hours=1000, intermediate_validity_hours=100, root_early_renewal_hours=10, intermediate_early_renewal_hours=5
    )
    first = run_program(n_existing(2), program=cacerts_program(["c1", "c2"], short))
    second = run_program(n_existing(2), program=cacerts_program(["c1", "c2"], CaSpec(1000, 200, 10, 5)))
    for run, hours in ((first, 100), (second, 200)):
        assert run.named("mesh-ca-c1-cert").inputs["validityPeriodHours"] == hours
        assert run.named("mesh-ca-c1-cert").inputs["earlyRenewalHours"] == 5
    # The intermediates' settings are not inputs of the root: changing them cannot replace it.
    assert first.named("mesh-ca-root-cert").inputs == second.named("mesh-ca-root-cert").inputs
    assert first.named("mesh-ca-root-cert").inputs["validityPeriodHours"] == 1000
