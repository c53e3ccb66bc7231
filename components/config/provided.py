"""Mesh CA material the operator provides, checked before any resource with ``cryptography``.

- Roots (``caProvidedRoots``): a certificate and its key, signing the intermediates as a
  generated root does; or a certificate alone, a trust anchor whose intermediates are provided.
- Intermediates (``caProvidedIntermediates``), one per cluster, signed by the user's offline root:
  then no root key exists anywhere in the stack, as Istio recommends. Each is given in the config,
  or read from a platform's secret store (``components.config.stores``) in one of two forms
  (``stored_intermediate``).
"""

from __future__ import annotations

import contextlib
import datetime
import itertools
import json
import re
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from components.config.stores import StoredAt

CERT_PEM = "certPem"
KEY_PEM = "keyPem"
CHAIN_PEM = "chainPem"
# The key types terraform-provider-tls signs with (LocallySignedCert ca_private_key_pem).
SIGNING_KEYS = (rsa.RSAPrivateKey, ec.EllipticCurvePrivateKey, ed25519.Ed25519PrivateKey)


@dataclass(frozen=True)
class ProvidedRoot:
    """A root given in the config.

    Args:
        cert_pem: its certificate (PEM).
        key_pem: its private key (PEM; a secret); ``None`` for a trust anchor, whose intermediates
            are provided.
        not_after: the end of its validity (UTC).
    """

    cert_pem: str
    key_pem: str | None
    not_after: datetime.datetime


@dataclass(frozen=True)
class ProvidedIntermediate:
    """A cluster's intermediate given in the config.

    Args:
        cert_pem: its certificate (PEM).
        key_pem: its private key (PEM; a secret).
        chain_pem: the certificate, then its issuers up to the root (PEM): Istio's cert-chain.pem.
        not_after: the end of its validity (UTC).
        stored_at: the secret it was read from; ``None``: given in the config (default).
    """

    cert_pem: str
    key_pem: str
    chain_pem: str
    not_after: datetime.datetime
    stored_at: StoredAt | None = None


Found = tuple[x509.Certificate | None, list[tuple[str, str, str]]]


def one_certificate(text: str, field: str, what: str) -> Found:
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return None, [(field, "ca-provided-cert", "is not a PEM certificate")]
    if len(certs) != 1:
        return None, [(field, "ca-provided-cert", f"holds {len(certs)} certificates; give the {what}'s alone")]
    return certs[0], []


def key_problems(cert: x509.Certificate, key_pem: str, what: str) -> list[tuple[str, str, str]]:
    """Whether ``key_pem`` is an unencrypted signing key, ``cert``'s own."""
    try:
        key = serialization.load_pem_private_key(key_pem.encode(), password=None)
    except (ValueError, TypeError):
        return [(KEY_PEM, "ca-provided-key", "is not an unencrypted PEM private key")]
    if not isinstance(key, SIGNING_KEYS):
        return [(KEY_PEM, "ca-provided-key", "is neither an RSA, an ECDSA nor an Ed25519 key, which are what can sign")]
    if key.public_key() != cert.public_key():
        return [(KEY_PEM, "ca-provided-key", f"is not the key of certPem's public key; give the {what}'s own key")]
    return []


def check_provided_root(
    cert_pem: str, key_pem: str | None, now: datetime.datetime, intermediate_hours: int
) -> tuple[ProvidedRoot | None, list[tuple[str, str, str]]]:
    """The root, or the problems that refuse it: ``(field, code, message)`` each."""
    cert, problems = one_certificate(cert_pem, CERT_PEM, "root")
    if cert is None:
        return None, problems
    problems = _ca_problems(cert)
    if key_pem is not None:
        problems += key_problems(cert, key_pem, "root")
    problems += _validity_problems(cert, now, intermediate_hours)
    return (None if problems else ProvidedRoot(cert_pem, key_pem, cert.not_valid_after_utc)), problems


def check_provided_intermediate(
    cluster: str,
    given: dict[str, str],
    signer: x509.Certificate,
    now: datetime.datetime,
    early_hours: int,
    stored_at: StoredAt | None = None,
) -> tuple[ProvidedIntermediate | None, list[tuple[str, str, str]]]:
    """A cluster's intermediate, or the problems that refuse it: a CA allowed to sign, its own key,
    signed by ``signer`` (the root that signs in this stage) with a chain that says so, naming the
    cluster, and outside its renewal window (``early_hours`` before its end)."""
    cert, problems = one_certificate(given[CERT_PEM], CERT_PEM, "intermediate")
    if cert is None:
        return None, problems
    problems = [*_ca_problems(cert), *key_problems(cert, given[KEY_PEM], "intermediate")]
    if cluster not in _names_in(cert):
        problems.append((CERT_PEM, "ca-provided-cluster", f"names no cluster {cluster} (in its subject or DNS names); give this cluster's"))
    try:
        cert.verify_directly_issued_by(signer)
    except (ValueError, TypeError, InvalidSignature):
        problems.append((CERT_PEM, "ca-provided-issuer", f"is not signed by the signing root ({signer.subject.rfc4514_string()})"))
    problems += _chain_problems(cert, given[CHAIN_PEM], signer)
    start, end = cert.not_valid_before_utc, cert.not_valid_after_utc
    if not start <= now < end - datetime.timedelta(hours=early_hours):
        problems.append(
            (
                CERT_PEM,
                "ca-provided-expiry",
                f"is valid from {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC; it must be valid now and more than "
                f"caIntermediateEarlyRenewalHours ({early_hours}) from its end: give a new one",
            )
        )
    if problems:
        return None, problems
    return ProvidedIntermediate(given[CERT_PEM], given[KEY_PEM], given[CHAIN_PEM], end, stored_at), []


# A PEM private key block of any kind (PKCS#8, PKCS#1 RSA, SEC1 EC).
PRIVATE_KEY_BLOCK = re.compile(r"-----BEGIN ([A-Z ]*PRIVATE KEY)-----.+?-----END \1-----", re.DOTALL)


def stored_intermediate(text: str) -> tuple[dict[str, str] | None, str]:
    """A stored intermediate as ``{certPem, keyPem, chainPem}``, or why the text is none.

    Two forms: JSON with those three fields (a Secrets Manager key/value secret), or a PEM bundle,
    its key and then the certificate and its issuers up to the root, which is how Key Vault gives a
    certificate imported with its key and chain (the secret of a certificate, PEM content type).
    """
    try:
        value = json.loads(text)
    except ValueError:
        return _pem_bundle(text)
    fields = {CERT_PEM, KEY_PEM, CHAIN_PEM}
    if not isinstance(value, dict) or set(value) != fields or not all(isinstance(v, str) for v in value.values()):
        return None, f"holds JSON that is not {{{CERT_PEM}, {KEY_PEM}, {CHAIN_PEM}}}, PEM text each"
    return {k: str(v) for k, v in value.items()}, ""


def _pem_bundle(text: str) -> tuple[dict[str, str] | None, str]:
    form = "neither JSON {certPem, keyPem, chainPem} nor a PEM bundle (the key, the certificate, its issuers up to the root)"
    keys = [m.group(0) for m in PRIVATE_KEY_BLOCK.finditer(text)]
    try:
        certs = x509.load_pem_x509_certificates(text.encode())
    except ValueError:
        return None, f"holds {form}"
    if len(keys) != 1:
        return None, f"holds a PEM bundle with {len(keys)} private keys; it needs the intermediate's alone"
    pems = [c.public_bytes(serialization.Encoding.PEM).decode() for c in certs]
    return {CERT_PEM: pems[0], KEY_PEM: keys[0] + "\n", CHAIN_PEM: "".join(pems)}, ""


def _names_in(cert: x509.Certificate) -> set[str]:
    names = {str(attribute.value) for attribute in cert.subject}
    with contextlib.suppress(x509.ExtensionNotFound):
        names |= set(cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName))
    return names


def _chain_problems(cert: x509.Certificate, chain_pem: str, signer: x509.Certificate) -> list[tuple[str, str, str]]:
    """cert-chain.pem: the intermediate first, each certificate signed by the next, the signing root last."""
    try:
        chain = x509.load_pem_x509_certificates(chain_pem.encode())
    except ValueError:
        return [(CHAIN_PEM, "ca-provided-chain", "is not PEM certificates")]
    message = "must be certPem, then each issuer, ending with the signing root"
    if len(chain) < 2 or chain[0] != cert or chain[-1] != signer:
        return [(CHAIN_PEM, "ca-provided-chain", message)]
    try:
        for child, parent in itertools.pairwise(chain):
            child.verify_directly_issued_by(parent)
    except (ValueError, TypeError, InvalidSignature):
        return [(CHAIN_PEM, "ca-provided-chain", message)]
    return []


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
