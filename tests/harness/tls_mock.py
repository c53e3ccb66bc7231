"""Real keys and certificates for pulumi-tls resources, built the way terraform-provider-tls does.

The provider (internal/provider/common_cert.go) builds a Go ``x509.Certificate`` template:
BasicConstraintsValid always; IsCA plus a SubjectKeyId when ``is_ca_certificate``;
``MaxPathLen = max_path_length`` only when it is >= 0 and *without* ``MaxPathLenZero``, so Go
encodes 0 as "no path length constraint"; key usages and extended key usages from
``allowed_uses``. Go's ``CreateCertificate`` copies the parent's SubjectKeyId into the
AuthorityKeyId unless the certificate is self-signed, and marks KeyUsage and BasicConstraints
critical. A locally signed certificate takes subject and SANs from the CSR. Reproducing this, not
Istio's wish list, is what lets the CA tests catch a profile the real provider would not produce.
"""

from __future__ import annotations

import datetime
import fcntl
import hashlib
import secrets
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.harness.engine import known

KEY_USAGE_FLAGS = {
    "digital_signature": "digital_signature",
    "content_commitment": "content_commitment",
    "key_encipherment": "key_encipherment",
    "data_encipherment": "data_encipherment",
    "key_agreement": "key_agreement",
    "cert_signing": "key_cert_sign",
    "crl_signing": "crl_sign",
    "encipher_only": "encipher_only",
    "decipher_only": "decipher_only",
}
EXTENDED_KEY_USAGES = {
    "server_auth": ExtendedKeyUsageOID.SERVER_AUTH,
    "client_auth": ExtendedKeyUsageOID.CLIENT_AUTH,
    "code_signing": ExtendedKeyUsageOID.CODE_SIGNING,
    "email_protection": ExtendedKeyUsageOID.EMAIL_PROTECTION,
    "timestamping": ExtendedKeyUsageOID.TIME_STAMPING,
    "ocsp_signing": ExtendedKeyUsageOID.OCSP_SIGNING,
    "any_extended": ExtendedKeyUsageOID.ANY_EXTENDED_KEY_USAGE,
}
# Go's pkix.Name.ToRDNSequence order.
SUBJECT_FIELDS = (
    ("country", NameOID.COUNTRY_NAME),
    ("province", NameOID.STATE_OR_PROVINCE_NAME),
    ("locality", NameOID.LOCALITY_NAME),
    ("postalCode", NameOID.POSTAL_CODE),
    ("organization", NameOID.ORGANIZATION_NAME),
    ("organizationalUnit", NameOID.ORGANIZATIONAL_UNIT_NAME),
    ("commonName", NameOID.COMMON_NAME),
    ("serialNumber", NameOID.SERIAL_NUMBER),
)

# RSA 4096 generation costs ~0.3 s: keys are made once per machine and shared by pytest-xdist's
# workers and later runs.
_KEYS: dict[tuple[str, int], rsa.RSAPrivateKey] = {}
KEY_STORE = Path(tempfile.gettempdir()) / "istio-multicluster-test-keys"


def rsa_key(name: str, bits: int) -> rsa.RSAPrivateKey:
    key = _KEYS.get((name, bits))
    if key is None:
        key = _KEYS[(name, bits)] = _stored_key(name, bits)
    return key


def _stored_key(name: str, bits: int) -> rsa.RSAPrivateKey:
    """The key of ``name`` from the store, made there first if needed; a lock per key makes a
    second worker wait for the first instead of making its own."""
    KEY_STORE.mkdir(mode=0o700, exist_ok=True)
    path = KEY_STORE / f"{hashlib.sha256(name.encode()).hexdigest()[:24]}-{bits}.pem"
    with path.with_suffix(".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if path.exists():
            key = serialization.load_pem_private_key(path.read_bytes(), password=None)
            assert isinstance(key, rsa.RSAPrivateKey) and key.key_size == bits, path
            return key
        key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
        pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        partial = path.with_suffix(".partial")
        partial.write_bytes(pem)
        partial.chmod(0o600)
        partial.replace(path)
        return key


def private_key(name: str, inputs: Mapping[str, Any], stored_as: str | None = None) -> dict[str, Any]:
    """A PrivateKey's outputs, with the stored key ``stored_as`` (default: one of ``name``'s own)."""
    if inputs.get("algorithm", "RSA") != "RSA":
        raise ValueError(f"{name}: the mock only implements RSA keys")
    key = rsa_key(stored_as or name, int(inputs.get("rsaBits", 2048)))
    public = key.public_key()
    openssh = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    der = public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return {
        **inputs,
        "privateKeyPem": _pem(key, serialization.PrivateFormat.TraditionalOpenSSL),
        "privateKeyPemPkcs8": _pem(key, serialization.PrivateFormat.PKCS8),
        "privateKeyOpenssh": _pem(key, serialization.PrivateFormat.OpenSSH),
        "publicKeyPem": public.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode(),
        "publicKeyOpenssh": openssh.decode() + "\n",
        "publicKeyFingerprintSha256": "SHA256:" + hashlib.sha256(der).hexdigest(),
        "publicKeyFingerprintMd5": hashlib.md5(der).hexdigest(),  # noqa: S324 - a fingerprint, as the provider outputs
    }


def cert_request(inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = _load_key(inputs["privateKeyPem"])
    builder = x509.CertificateSigningRequestBuilder().subject_name(_subject(inputs.get("subject") or {}))
    dns_names = list(inputs.get("dnsNames") or [])
    if dns_names:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(d) for d in dns_names]), critical=False)
    csr = builder.sign(key, hashes.SHA256())
    return {**inputs, "certRequestPem": csr.public_bytes(serialization.Encoding.PEM).decode(), "keyAlgorithm": "RSA"}


def self_signed_cert(inputs: Mapping[str, Any]) -> dict[str, Any]:
    key = _load_key(inputs["privateKeyPem"])
    subject = _subject(inputs.get("subject") or {})
    sans = list(inputs.get("dnsNames") or [])
    cert = _certificate(inputs, subject, subject, key.public_key(), key, sans, issuer_ski=None)
    return _cert_outputs(inputs, cert)


def locally_signed_cert(inputs: Mapping[str, Any]) -> dict[str, Any]:
    csr = x509.load_pem_x509_csr(known(inputs["certRequestPem"], "certRequestPem").encode())
    ca_cert = x509.load_pem_x509_certificate(known(inputs["caCertPem"], "caCertPem").encode())
    ca_key = _load_key(inputs["caPrivateKeyPem"])
    try:
        sans = csr.extensions.get_extension_for_class(x509.SubjectAlternativeName).value.get_values_for_type(x509.DNSName)
    except x509.ExtensionNotFound:
        sans = []
    try:
        ca_ski: bytes | None = ca_cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except x509.ExtensionNotFound:
        ca_ski = None
    public = csr.public_key()
    assert isinstance(public, rsa.RSAPublicKey)
    cert = _certificate(inputs, csr.subject, ca_cert.subject, public, ca_key, sans, issuer_ski=ca_ski)
    return {**_cert_outputs(inputs, cert), "caKeyAlgorithm": "RSA"}


def _certificate(
    inputs: Mapping[str, Any],
    subject: x509.Name,
    issuer: x509.Name,
    public: rsa.RSAPublicKey,
    signer: rsa.RSAPrivateKey,
    sans: list[str],
    issuer_ski: bytes | None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    hours = int(inputs["validityPeriodHours"])
    is_ca = bool(inputs.get("isCaCertificate"))
    max_path = inputs.get("maxPathLength")
    # Go: MaxPathLen 0 without MaxPathLenZero means "unset"; the provider never sets MaxPathLenZero.
    path_length = int(max_path) if is_ca and max_path is not None and int(max_path) > 0 else None
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public)
        .serial_number(secrets.randbits(127) + 1)
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(hours=hours))
        .add_extension(x509.BasicConstraints(ca=is_ca, path_length=path_length), critical=True)
    )
    uses = list(inputs.get("allowedUses") or [])
    flags = {flag: False for flag in KEY_USAGE_FLAGS.values()}
    flags.update({KEY_USAGE_FLAGS[u]: True for u in uses if u in KEY_USAGE_FLAGS})
    if any(flags.values()):
        builder = builder.add_extension(x509.KeyUsage(**flags), critical=True)
    extended = [EXTENDED_KEY_USAGES[u] for u in uses if u in EXTENDED_KEY_USAGES]
    if extended:
        builder = builder.add_extension(x509.ExtendedKeyUsage(extended), critical=False)
    if is_ca or inputs.get("setSubjectKeyId"):
        builder = builder.add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False)
    if issuer_ski is not None:
        builder = builder.add_extension(x509.AuthorityKeyIdentifier(issuer_ski, None, None), critical=False)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName([x509.DNSName(s) for s in sans]), critical=False)
    return builder.sign(signer, hashes.SHA256())


def _cert_outputs(inputs: Mapping[str, Any], cert: x509.Certificate) -> dict[str, Any]:
    return {
        **inputs,
        "certPem": cert.public_bytes(serialization.Encoding.PEM).decode(),
        "validityStartTime": cert.not_valid_before_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "validityEndTime": cert.not_valid_after_utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "readyForRenewal": False,
        "earlyRenewalHours": int(inputs.get("earlyRenewalHours") or 0),
        "keyAlgorithm": "RSA",
    }


def serial_of(outputs: Mapping[str, Any]) -> str:
    """The resource id the provider uses: the certificate's serial number."""
    return str(x509.load_pem_x509_certificate(outputs["certPem"].encode()).serial_number)


def _subject(subject: Mapping[str, Any]) -> x509.Name:
    attributes = [x509.NameAttribute(oid, str(subject[key])) for key, oid in SUBJECT_FIELDS if subject.get(key)]
    return x509.Name(attributes)


def _load_key(pem: str) -> rsa.RSAPrivateKey:
    # The mock made these keys itself; validating 4096-bit primes on every load costs ~0.1 s each.
    key = serialization.load_pem_private_key(known(pem, "the private key").encode(), password=None, unsafe_skip_rsa_key_validation=True)
    assert isinstance(key, rsa.RSAPrivateKey)
    return key


def _pem(key: rsa.RSAPrivateKey, fmt: serialization.PrivateFormat) -> str:
    return key.private_bytes(serialization.Encoding.PEM, fmt, serialization.NoEncryption()).decode()
