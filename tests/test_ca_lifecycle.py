"""Day-2 edits of the mesh CA's lifetimes: what each ``pulumi up`` replaces, and that the clusters
keep trusting each other throughout.

pulumi-tls replaces a certificate whose ``validityPeriodHours`` changes and an intermediate whose
CA certificate changes (terraform-provider-tls: RequiresReplace, requireReplaceIfStateContainsPEMString),
but never a private key for it: a validity edit re-issues the certificates on the keys they had.
The root's subject and key stay, so every certificate either root signed verifies under the other:
while the clusters pick up their new ``cacerts`` one after the other, a workload certificate from
any cluster's old or new intermediate verifies against any cluster's old or new ``root-cert.pem``,
which istiod hands its proxies as the trust anchor. An early-renewal edit alone is an in-place
update that changes no certificate.
"""

from __future__ import annotations

from itertools import product
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization

from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from tests.certs import cert, verify_client, workload_cert
from tests.expected import cacerts
from tests.harness.changes import Changes, changes, named
from tests.harness.program import StackRun, run_stack

KIND = ("kind-1", "kind-2")
REISSUED = ("mesh-ca-{c}-cert", "mesh-check-{c}-probe")
# The providers update Secrets in place (enableSecretMutable): cacerts takes the new files.
CACERTS = ("{c}-istio-cacerts",)
FROM_VAULT_REISSUED = ("mesh-ca-{c}-cert", "mesh-check-{c}-probe")  # no cacerts Secret: the vault's copies change
KEYS = ("mesh-ca-root-key", *(f"mesh-ca-{c}-key" for c in KIND))
# A new root certificate is a new bundle: istiod restarts to read it (it re-reads only a changed
# intermediate in place), which the digest on its pods makes an update of its release.
ISTIODS = ("{c}-istio-istiod-1-30-3",)
VALIDITY_EDITS = {
    "caRootValidityHours": (
        {"caRootValidityHours": 80000},
        Changes(replace=named(REISSUED, KIND) | {"mesh-ca-root-cert"}, update=named((*ISTIODS, *CACERTS), KIND)),
    ),
    "caIntermediateValidityHours": (
        {"caIntermediateValidityHours": 17000},
        Changes(replace=named(REISSUED, KIND), update=named(CACERTS, KIND)),
    ),
}


@pytest.fixture(scope="module")
def kind_run() -> StackRun:
    return run_stack("kind")


@pytest.mark.parametrize("edit", VALIDITY_EDITS)
def test_a_validity_edit_reissues_certificates_on_the_same_keys(kind_run: StackRun, edit: str) -> None:
    """The root edit re-issues the root and every intermediate (signed by the new root), the
    intermediate edit the intermediates only; the keys, the CSRs and everything else stay; the
    cacerts Secrets take the new files in place and the probes run again."""
    overrides, expected = VALIDITY_EDITS[edit]
    after = run_stack("kind", overrides, state=kind_run.state())
    assert changes(kind_run, after) == expected
    assert {after.named(k).operation for k in KEYS} == {"same"}
    for cluster in KIND:
        old, new = cacerts(kind_run, cluster), cacerts(after, cluster)
        assert old[CA_CERT] != new[CA_CERT] and old[CA_KEY] == new[CA_KEY]
        assert cert(old[CA_CERT]).public_key() == cert(new[CA_CERT]).public_key()
        assert (old[ROOT_CERT] == new[ROOT_CERT]) is (edit != "caRootValidityHours")
        assert cert(old[ROOT_CERT]).public_key() == cert(new[ROOT_CERT]).public_key()
    hours = overrides[edit]
    renewed = "mesh-ca-root-cert" if edit == "caRootValidityHours" else "mesh-ca-kind-1-cert"
    assert after.named(renewed).inputs["validityPeriodHours"] == hours


@pytest.mark.parametrize("edit", VALIDITY_EDITS)
def test_clusters_trust_each_other_at_every_step_of_a_validity_edit(kind_run: StackRun, edit: str) -> None:
    """Each cluster's istiod moves from its old cacerts to its new ones on its own: for every pair
    of clusters and every mix of old and new, a workload certificate issued by one cluster's
    intermediate, presented with its cert-chain.pem, verifies against the other's root-cert.pem."""
    after = run_stack("kind", VALIDITY_EDITS[edit][0], state=kind_run.state())
    runs = {"old": kind_run, "new": after}
    for issuer, verifier, issued, trusted in product(KIND, KIND, runs, runs):
        files = cacerts(runs[issued], issuer)
        leaf = workload_cert(cert(files[CA_CERT]), private_key(files[CA_KEY]), "sample")
        chain = verify_client(leaf, files[CERT_CHAIN], cacerts(runs[trusted], verifier)[ROOT_CERT])
        assert [c.subject for c in chain][1:] == [cert(files[CA_CERT]).subject, cert(files[ROOT_CERT]).subject]


def private_key(pem: str) -> Any:
    return serialization.load_pem_private_key(pem.encode(), None)


EARLY_RENEWAL = {
    "caRootEarlyRenewalHours": ({"caRootEarlyRenewalHours": 9000}, frozenset({"mesh-ca-root-cert"})),
    "caIntermediateEarlyRenewalHours": ({"caIntermediateEarlyRenewalHours": 800}, named(["mesh-ca-{c}-cert"], KIND)),
}


@pytest.mark.parametrize("edit", EARLY_RENEWAL)
def test_an_early_renewal_edit_alone_updates_in_place_and_changes_no_certificate(kind_run: StackRun, edit: str) -> None:
    """pulumi-tls updates earlyRenewalHours in place, keeping the certificate in state
    (updatedUsingPlan): no certificate, Secret or probe changes."""
    overrides, updated = EARLY_RENEWAL[edit]
    after = run_stack("kind", overrides, state=kind_run.state())
    assert changes(kind_run, after) == Changes(update=updated)
    for name in updated:
        assert after.named(name).outputs["certPem"] == kind_run.named(name).outputs["certPem"]
        assert after.named(name).id == kind_run.named(name).id
        assert after.named(name).outputs["earlyRenewalHours"] == overrides[edit]


def test_in_the_cloud_stacks_a_validity_edit_rewrites_the_ca_copies() -> None:
    """Key Vault secrets take the new certificates as new versions in place (the aks stack's istiods
    read them from there: no cacerts Secret); Secrets Manager secret versions are replaced (a new
    value is a new version); no secret itself is replaced."""
    eks = run_stack("eks")
    after = run_stack("eks", {"caIntermediateValidityHours": 17000}, state=eks.state())
    versions = {f"mesh-secrets-{c}-{f} (SecretVersion)" for c in ("cluster-1", "cluster-2") for f in ("ca-cert", "cert-chain")}
    assert changes(eks, after).replace == named(REISSUED, ("cluster-1", "cluster-2")) | versions
    aks = run_stack("aks")
    moved = run_stack("aks", {"caRootValidityHours": 80000}, state=aks.state())
    clusters = ("westeurope-aks", "eastus-aks")
    assert changes(aks, moved) == Changes(
        # The ingress gateways roll with the CA's certificates.
        update=named(["mesh-vault-{c}-ca-cert", "mesh-vault-{c}-cert-chain", "{c}-istio-ingress", *ISTIODS], clusters)
        | {"mesh-vault-mesh-root-cert"},
        replace=named(FROM_VAULT_REISSUED, clusters) | {"mesh-ca-root-cert"},
    )
