"""Mesh roots the operator provides (``caProvidedRoots``): a certificate and its key, checked
before any resource with ``cryptography``, and signing the intermediates as a generated root does.

Istio recommends keeping the root offline: a provided root's key still passes through the stack's
config and state (both encrypted) because the program signs each cluster's intermediate with it.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

CERT_PEM = "certPem"
KEY_PEM = "keyPem"
# The key types terraform-provider-tls signs with (LocallySignedCert ca_private_key_pem).
SIGNING_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


@dataclass(frozen=True)
class ProvidedRoot:
    """A root given in the config.

    Args:
        cert_pem: its certificate (PEM).
        key_pem: its private key (PEM; a secret).
        not_after: the end of its validity (UTC).
    """

    cert_pem: str
    key_pem: str
    not_after: datetime.datetime


def check_provided_root(
    cert_pem: str, key_pem: str, now: datetime.datetime, intermediate_hours: int
) -> tuple[ProvidedRoot | None, list[tuple[str, str, str]]]:
    """The root, or the problems that refuse it: ``(field, code, message)`` each."""
    try:
        certs = x509.load_pem_x509_certificates(cert_pem.encode())
    except ValueError:
        return None, [(CERT_PEM, "ca-provided-cert", "is not a PEM certificate")]
    if len(certs) != 1:
        return None, [(CERT_PEM, "ca-provided-cert", f"holds {len(certs)} certificates; give the root's alone")]
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        return None, [(KEY_PEM, "ca-provided-key", "is not an unencrypted PEM private key")]
    cert = certs[0]
    problems = _ca_problems(cert)
    if not isinstance(key, SIGNING_KEYS):
        problems.append((KEY_PEM, "ca-provided-key", "is neither an RSA, an ECDSA nor an Ed25519 key, which are what can sign"))
    elif key.public_key() != cert.public_key():
        problems.append((KEY_PEM, "ca-provided-key", "is not the key of certPem's public key; give the root's own key"))
    problems += _validity_problems(cert, now, intermediate_hours)
    return (None if problems else ProvidedRoot(cert_pem, key_pem, cert.not_valid_after_utc)), problems


def _ca_problems(cert: x509.Certificate) -> list[tuple[str, str, str]]:
    problems = []
    try:
        constraints = cert.extensions.get_extension_for_class(x509.BasicConstraints).value
        is_ca = constraints.ca
    except x509.ExtensionNotFound:
        is_ca = False
    if not is_ca:
        problems.append((CERT_PEM, "ca-provided-cert", "is not a CA certificate (basicConstraints CA:TRUE); give a root CA"))
    try:
        usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
        signs = usage.key_cert_sign
    except x509.ExtensionNotFound:
        signs = True  # without keyUsage every use is allowed (RFC 5280 4.2.1.3)
    if not signs:
        problems.append((CERT_PEM, "ca-provided-cert", "may not sign certificates (keyUsage lacks keyCertSign)"))
    return problems


def _validity_problems(cert: x509.Certificate, now: datetime.datetime, intermediate_hours: int) -> list[tuple[str, str, str]]:
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if now < start:
        return [(CERT_PEM, "ca-provided-expiry", f"is valid only from {start:%Y-%m-%d %H:%M} UTC")]
    if now >= end:
        return [(CERT_PEM, "ca-provided-expiry", f"expired on {end:%Y-%m-%d %H:%M} UTC; rotate to another root (caRotation)")]
    needed = now + datetime.timedelta(hours=intermediate_hours)
    if end < needed:
        return [
            (
                CERT_PEM,
                "ca-provided-expiry",
                f"expires on {end:%Y-%m-%d %H:%M} UTC, before the intermediates it would sign now (caIntermediateValidityHours: "
                f"{intermediate_hours}, until {needed:%Y-%m-%d}); give a root valid longer or shorten caIntermediateValidityHours",
            )
        ]
    return []
