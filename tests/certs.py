"""Certificates for the tests: leaves signed by a cluster's intermediate, and the chain check a client makes."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID


def cert(pem: str) -> x509.Certificate:
    return x509.load_pem_x509_certificate(pem.encode())


def workload_cert(issuer_cert: x509.Certificate, issuer_key: Any, namespace: str) -> x509.Certificate:
    """A workload certificate as istiod issues it: SPIFFE URI SAN, server and client auth."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    return (
        x509.CertificateBuilder()
        .subject_name(x509.Name([]))
        .issuer_name(issuer_cert.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(hours=24))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.KeyUsage(True, False, True, False, False, False, False, False, False), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .add_extension(
            x509.SubjectAlternativeName([x509.UniformResourceIdentifier(f"spiffe://cluster.local/ns/{namespace}/sa/default")]),
            critical=True,
        )
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                issuer_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .sign(issuer_key, hashes.SHA256())
    )


def verify_client(leaf: x509.Certificate, chain_pem: str, root_pem: str) -> list[x509.Certificate]:
    """The chain ``leaf`` verifies by, presented with the first certificate of ``chain_pem`` (its
    intermediate), against every root of ``root_pem`` (a bundle, as istiod's root-cert.pem may be)."""
    roots = x509.load_pem_x509_certificates(root_pem.encode())
    verifier = verification.PolicyBuilder().store(verification.Store(roots)).build_client_verifier()
    return verifier.verify(leaf, x509.load_pem_x509_certificates(chain_pem.encode())[:1]).chain
