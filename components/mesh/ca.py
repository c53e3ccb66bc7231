"""MeshCA: the mesh roots and one intermediate per cluster, Istio's plug-in CA built with pulumi-tls.

Outside a rotation there is one root; during one (``CaSpec.rotation``) two, and every cluster's
``root-cert.pem`` is the bundle of both, which istiod accepts (pilot/pkg/bootstrap/istio_ca.go:
``root-cert.pem`` "may contain multiple roots"; security/pkg/pki/util verifies the chain against
any of them). ``cert-chain.pem`` is the intermediate and the root that signed it.

The profile reproduces Istio's ``tools/certs`` (common.mk): RSA 4096 keys; root ``O=Istio, CN=Root
CA``, CA:TRUE; intermediates ``O=Istio, CN=Intermediate CA, L=<cluster>``, CA:TRUE with path
length 0 requested, SAN ``DNS:istiod.istio-system.svc``; key usage digitalSignature,
nonRepudiation, keyEncipherment, keyCertSign on both. The root private key only ever feeds the
two signing resources (the root certificate and each intermediate); it lives in the encrypted
Pulumi state and nowhere else.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_tls as tls

from components.config import mesh_names as names
from components.config.model import CaSpec
from components.istio.facts import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from components.mesh.expiry import CertificateEnd, expiry_output, rfc3339

KEY_BITS = 4096
ORGANIZATION = "Istio"
ROOT_COMMON_NAME = "Root CA"
INTERMEDIATE_COMMON_NAME = "Intermediate CA"
ISTIOD_SAN = "istiod.istio-system.svc"
# keyUsage = critical, digitalSignature, nonRepudiation, keyEncipherment, keyCertSign
CA_KEY_USAGES = ("digital_signature", "content_commitment", "key_encipherment", "cert_signing")


@dataclass(frozen=True)
class MeshCAArgs:
    """Inputs of ``MeshCA``.

    Args:
        cluster_names: one intermediate is issued per name; the name becomes its locality (L=).
        lifetimes: validity and early renewal of root and intermediates.
    """

    cluster_names: Sequence[str]
    lifetimes: CaSpec


@dataclass(frozen=True)
class ClusterCACerts:
    """The plug-in CA material of one cluster; every value is a Pulumi secret.

    Args:
        ca_cert: the cluster's intermediate certificate (PEM).
        ca_key: the intermediate's private key (PEM).
        root_cert: the bundle of the mesh roots (PEM; one outside a rotation).
        cert_chain: intermediate then the root that signed it, concatenated (PEM).
    """

    ca_cert: pulumi.Output[str]
    ca_key: pulumi.Output[str]
    root_cert: pulumi.Output[str]
    cert_chain: pulumi.Output[str]

    def secret_data(self) -> dict[str, pulumi.Output[str]]:
        """The ``cacerts`` Secret's ``stringData``: exactly Istio's four keys."""
        return {
            CA_CERT: self.ca_cert,
            CA_KEY: self.ca_key,
            ROOT_CERT: self.root_cert,
            CERT_CHAIN: self.cert_chain,
        }


@dataclass(frozen=True)
class RootMaterial:
    """A root as the intermediates and bundles use it.

    Args:
        key_pem: its private key (PEM; a secret); none for a provided trust anchor.
        cert_pem: its certificate (PEM).
        end: when it expires, for ``caExpiry``.
    """

    key_pem: pulumi.Output[str] | None
    cert_pem: pulumi.Output[str]
    end: CertificateEnd


class MeshCA(pulumi.ComponentResource):
    """The mesh's shared root CA and one intermediate CA per cluster.

    Outputs: ``root_cert_pem`` (public: the bundle of the roots, old first) and ``clusters``, the
    ``ClusterCACerts`` of each cluster by name; ``expiry()``, when each certificate expires and is
    renewed. The roots' private keys are not exposed.
    """

    bundle_pem: pulumi.Output[str]
    root_cert_pem: pulumi.Output[str]
    clusters: dict[str, ClusterCACerts]

    def __init__(self, name: str, args: MeshCAArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.CA.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        lifetimes = args.lifetimes

        roots = {root: self._root(name, root, lifetimes, child) for root in lifetimes.roots}
        signer = roots[lifetimes.signer]
        self.bundle_pem = pulumi.Output.concat(*(r.cert_pem for r in roots.values()))
        self.root_cert_pem = self.bundle_pem
        self._root_ends = {root: r.end for root, r in roots.items()}
        self._intermediate_ends: dict[str, CertificateEnd] = {}
        self.clusters = {
            cluster: self._provided(cluster, lifetimes)
            if lifetimes.intermediates
            else self._intermediate(name, cluster, signer, lifetimes, child)
            for cluster in args.cluster_names
        }
        self.register_outputs({"rootCertPem": self.root_cert_pem})

    @staticmethod
    def _root(name: str, root: str, lifetimes: CaSpec, child: pulumi.ResourceOptions) -> RootMaterial:
        """A root: the one the config provides, or a generated key and self-signed certificate."""
        provided = lifetimes.provided.get(root)
        if provided is not None:
            end = CertificateEnd(
                f"mesh root {root}'s certificate (provided)", pulumi.Output.from_input(rfc3339(provided.not_after)), 0, True
            )
            key = pulumi.Output.secret(provided.key_pem) if provided.key_pem is not None else None
            return RootMaterial(key, pulumi.Output.from_input(provided.cert_pem), end)
        key_name, cert_name = names.root_templates(root)
        key = _rsa_key(key_name.name(ca=name, root=root), child)
        cert = tls.SelfSignedCert(
            cert_name.name(ca=name, root=root),
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(organization=ORGANIZATION, common_name=ROOT_COMMON_NAME),
            is_ca_certificate=True,
            set_subject_key_id=True,
            allowed_uses=list(CA_KEY_USAGES),
            validity_period_hours=lifetimes.root_validity_hours,
            early_renewal_hours=lifetimes.root_early_renewal_hours,
            opts=child,
        )
        end = CertificateEnd(f"mesh root {root}'s certificate", cert.validity_end_time, lifetimes.root_early_renewal_hours)
        return RootMaterial(key.private_key_pem, cert.cert_pem, end)

    def _provided(self, cluster: str, lifetimes: CaSpec) -> ClusterCACerts:
        """A cluster's intermediate as the config gives it: no resource, no key but the intermediate's."""
        given = lifetimes.intermediates[cluster]
        not_after = pulumi.Output.from_input(rfc3339(given.not_after))
        what = f"cluster {cluster}'s intermediate CA certificate (provided)"
        self._intermediate_ends[cluster] = CertificateEnd(what, not_after, lifetimes.intermediate_early_renewal_hours, provided=True)
        return ClusterCACerts(
            ca_cert=pulumi.Output.secret(given.cert_pem),
            ca_key=pulumi.Output.secret(given.key_pem),
            root_cert=pulumi.Output.secret(self.bundle_pem),
            cert_chain=pulumi.Output.secret(given.chain_pem),
        )

    def expiry(self) -> pulumi.Output[dict[str, Any]]:
        """The ``caExpiry`` output, warning of renewals due or near (``expiry_output``)."""
        return expiry_output(self._root_ends, self._intermediate_ends)

    def _intermediate(
        self,
        name: str,
        cluster: str,
        signer: RootMaterial,
        lifetimes: CaSpec,
        child: pulumi.ResourceOptions,
    ) -> ClusterCACerts:
        """The cluster's key (kept across re-issues by another root), request and certificate, signed
        by the signing root; ``root_cert`` is the bundle of every root."""
        key = _rsa_key(names.CA_KEY.name(ca=name, cluster=cluster), child)
        request = tls.CertRequest(
            names.CA_CSR.name(ca=name, cluster=cluster),
            private_key_pem=key.private_key_pem,
            subject=tls.CertRequestSubjectArgs(organization=ORGANIZATION, common_name=INTERMEDIATE_COMMON_NAME, locality=cluster),
            dns_names=[ISTIOD_SAN],
            opts=child,
        )
        cert = tls.LocallySignedCert(
            names.CA_CERT.name(ca=name, cluster=cluster),
            cert_request_pem=request.cert_request_pem,
            ca_cert_pem=signer.cert_pem,
            ca_private_key_pem=signer.key_pem,  # a keyless root signs nothing: the config layer refuses it
            is_ca_certificate=True,
            # Istio's profile says pathlen:0. The TLS provider sets Go's MaxPathLen without
            # MaxPathLenZero, so 0 is encoded as "no limit"; we ask anyway so the intent is on record.
            max_path_length=0,
            set_subject_key_id=True,
            allowed_uses=list(CA_KEY_USAGES),
            validity_period_hours=lifetimes.intermediate_validity_hours,
            early_renewal_hours=lifetimes.intermediate_early_renewal_hours,
            opts=child,
        )
        self._intermediate_ends[cluster] = CertificateEnd(
            f"cluster {cluster}'s intermediate CA certificate", cert.validity_end_time, lifetimes.intermediate_early_renewal_hours
        )
        chain = pulumi.Output.concat(cert.cert_pem, signer.cert_pem)
        return ClusterCACerts(
            ca_cert=pulumi.Output.secret(cert.cert_pem),
            ca_key=pulumi.Output.secret(key.private_key_pem),
            root_cert=pulumi.Output.secret(self.bundle_pem),
            cert_chain=pulumi.Output.secret(chain),
        )


def _rsa_key(name: str, opts: pulumi.ResourceOptions) -> tls.PrivateKey:
    return tls.PrivateKey(name, algorithm="RSA", rsa_bits=KEY_BITS, opts=opts)
