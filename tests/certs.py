"""Certificates for the tests: leaves signed by a cluster's intermediate, and the chain check a client makes."""

from __future__ import annotations

import datetime
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509 import verification
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


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


def offline_root(
    *, days: int = 3650, ca: bool = True, cert_sign: bool = True, starts_in_days: int = 0, common_name: str = "Offline Root"
) -> tuple[str, str]:
    """A root CA as an operator's offline CA makes one: (certificate PEM, unencrypted key PEM)."""
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=starts_in_days)
    name = x509.Name([x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"), x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    usage = x509.KeyUsage(True, False, False, False, False, cert_sign, cert_sign, False, False)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now + datetime.timedelta(days=min(0, days - 1), minutes=-1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(usage, critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    return certificate.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def offline_intermediate(root_cert_pem: str, root_key_pem: str, cluster: str, *, days: int = 700, named: bool = True) -> dict[str, str]:
    """A cluster's intermediate signed by an offline root, as ``caProvidedIntermediates`` takes it."""
    root = cert(root_cert_pem)
    root_key = serialization.load_pem_private_key(root_key_pem.encode(), password=None)
    assert isinstance(root_key, rsa.RSAPrivateKey)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    now = datetime.datetime.now(datetime.UTC)
    subject = [x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Example"), x509.NameAttribute(NameOID.COMMON_NAME, "Intermediate CA")]
    if named:
        subject.append(x509.NameAttribute(NameOID.LOCALITY_NAME, cluster))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(x509.Name(subject))
        .issuer_name(root.subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=1))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(True, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_subject_key_identifier(
                root.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value
            ),
            critical=False,
        )
        .sign(root_key, hashes.SHA256())
    )
    cert_pem = certificate.public_bytes(serialization.Encoding.PEM).decode()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode()
    return {"certPem": cert_pem, "keyPem": key_pem, "chainPem": cert_pem + root_cert_pem}
