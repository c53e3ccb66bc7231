"""A root rotation in three stages, each one ``pulumi up`` (components/mesh/rotation.py):
trust -> issue -> retire, then caRoot names the new root and nothing changes. At every stage the
exact resources that change, chains verified with ``cryptography`` across every mix of the two
stages the clusters may be between, the marker each stage leaves, and the refusals of unsafe
moves, before any resource."""

from __future__ import annotations

import datetime
import re
from itertools import pairwise, product
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.verification import VerificationError

from components import single_stack
from components.config.model import FIRST_ROOT, CaRotation, RotationStage
from components.config.problems import ConfigError
from components.mesh.ca import CA_CERT, CA_KEY, CERT_CHAIN, ROOT_CERT
from components.mesh.mesh import Mesh, build_mesh
from components.mesh.rotation import SINCE_FORMAT, rotation_problems
from tests.certs import cert, verify_client, workload_cert
from tests.configs import codes_of, default_ca, existing_cluster, n_existing
from tests.expected import ca_bundle_annotation, cacerts
from tests.harness.changes import Changes, changes, named
from tests.harness.program import OPERATOR_SET, SHIPPED_STACKS, StackRun, UpdateFailed, run_program, stack_config
from tests.harness.walkthrough import assert_readme_block, change_lines

ROOT = Path(__file__).resolve().parent.parent
KIND = ("kind-1", "kind-2")
CONFIG = {**stack_config("kind"), "verify": True}
STAGES = ("trust", "issue", "retire")
# What every stage changes: the cacerts Secrets, in place (the providers update Secrets in place),
# and the probes, replaced (they prove the CA).
CACERTS = ("{c}-istio-cacerts",)
PROBES = ("mesh-check-{c}-probe",)
ISTIODS = ("{c}-istio-istiod-1-30-3",)
# The ingress gateways, which roll with the CA (they open mesh mTLS).
INGRESS = ("{c}-istio-ingress",)
NEW_ROOT = frozenset({"mesh-ca-root-root-2-key", "mesh-ca-root-root-2-cert"})
OLD_ROOT = frozenset({"mesh-ca-root-key", "mesh-ca-root-cert"})


def rotating(stage: str, **more: Any) -> dict[str, Any]:
    return {**CONFIG, "caRotation": {"newRoot": "root-2", "stage": stage}, **more}


def after(previous: StackRun, config: dict[str, Any]) -> StackRun:
    """The next ``pulumi up``: from ``previous``'s state, reading back its outputs."""
    return run_program(config, stack="kind", state=previous.state(), previous_outputs=previous.outputs_after(hours=24))


@pytest.fixture(scope="module")
def stages() -> dict[str, StackRun]:
    runs = {"before": run_program(CONFIG, stack="kind")}
    previous = runs["before"]
    for stage in STAGES:
        runs[stage] = previous = after(previous, rotating(stage))
    runs["done"] = after(previous, {**CONFIG, "caRoot": "root-2"})
    return runs


def test_each_stage_changes_exactly_what_it_must(stages: dict[str, StackRun]) -> None:
    """trust: the new root, every bundle (so every istiod restarts); issue: every intermediate, by
    the new root (istiod re-reads it in place); retire: every bundle again, and the old root goes."""
    cacerts, probes = named(CACERTS, KIND), named(PROBES, KIND)
    assert changes(stages["before"], stages["trust"]) == Changes(create=NEW_ROOT, update=named(ISTIODS, KIND) | cacerts, replace=probes)
    assert changes(stages["trust"], stages["issue"]) == Changes(update=cacerts, replace=probes | named(("mesh-ca-{c}-cert",), KIND))
    assert changes(stages["issue"], stages["retire"]) == Changes(update=named(ISTIODS, KIND) | cacerts, replace=probes, delete=OLD_ROOT)
    # Naming the new root as caRoot once the rotation is done changes nothing.
    assert changes(stages["retire"], stages["done"]) == Changes()


def roots_of(bundle: str) -> list[str]:
    """The roots of a bundle, by the key's public numbers' digest (names are equal: Root CA)."""

    return [
        c.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo).hex()[-16:]
        for c in x509.load_pem_x509_certificates(bundle.encode())
    ]


def test_bundles_and_signers_follow_the_stages(stages: dict[str, StackRun]) -> None:
    old = roots_of(stages["before"].named("mesh-ca-root-cert").outputs["certPem"])[0]
    new = roots_of(stages["trust"].named("mesh-ca-root-root-2-cert").outputs["certPem"])[0]
    expected = {
        "before": ([old], old),
        "trust": ([old, new], old),
        "issue": ([old, new], new),
        "retire": ([new], new),
        "done": ([new], new),
    }
    for stage, (bundle, signer) in expected.items():
        for cluster in KIND:
            files = cacerts(stages[stage], cluster)
            assert roots_of(files[ROOT_CERT]) == bundle, stage
            chain = files[CERT_CHAIN]
            assert chain.startswith(files[CA_CERT]) and roots_of(chain.removeprefix(files[CA_CERT])) == [signer], stage
        assert stages[stage].outputs["rootCertPem"] == cacerts(stages[stage], KIND[0])[ROOT_CERT]


def test_no_two_clusters_ever_stop_trusting_each_other(stages: dict[str, StackRun]) -> None:
    """Between two stages each cluster's istiod moves on its own: for every pair of clusters, a
    workload certificate from either stage's intermediate verifies against either stage's bundle."""
    order = ["before", *STAGES, "done"]
    for earlier, later in pairwise(order):
        runs = (stages[earlier], stages[later])
        for issuer, verifier, issued, trusted in product(KIND, KIND, runs, runs):
            files = cacerts(issued, issuer)
            key = serialization.load_pem_private_key(files[CA_KEY].encode(), password=None, unsafe_skip_rsa_key_validation=True)
            leaf = workload_cert(cert(files[CA_CERT]), key, "sample")
            chain = verify_client(leaf, files[CERT_CHAIN], cacerts(trusted, verifier)[ROOT_CERT])
            assert chain[1] == cert(files[CA_CERT]), (earlier, later, issuer, verifier)


def test_skipping_a_stage_would_break_trust_which_is_why_it_is_refused(stages: dict[str, StackRun]) -> None:
    """The proof's other half: a leaf of the old root's intermediate fails against the retired bundle."""
    files = cacerts(stages["trust"], "kind-1")
    key = serialization.load_pem_private_key(files[CA_KEY].encode(), password=None, unsafe_skip_rsa_key_validation=True)
    leaf = workload_cert(cert(files[CA_CERT]), key, "sample")
    with pytest.raises(VerificationError):
        verify_client(leaf, files[CERT_CHAIN], cacerts(stages["retire"], "kind-2")[ROOT_CERT])


def test_istiod_carries_the_digest_of_the_bundle_it_must_read(stages: dict[str, StackRun]) -> None:
    roots = {"before": ("root",), "trust": ("root", "root-2"), "issue": ("root", "root-2"), "retire": ("root-2",)}
    for stage, names in roots.items():
        values = stages[stage].named("kind-1-istio-istiod-1-30-3").inputs["values"]
        assert (
            values["podAnnotations"]
            == ca_bundle_annotation(stages[stage] if stage != "retire" else stages["trust"], names)["podAnnotations"]
        )


def test_each_stage_leaves_the_marker_the_next_reads(stages: dict[str, StackRun]) -> None:
    rotation = {"root": "root", "newRoot": "root-2"}
    markers = {stage: {k: v for k, v in run.outputs["caRoots"].items() if k != "since"} for stage, run in stages.items()}
    assert markers == {
        "before": {"roots": ["root"], "signer": "root"},
        "trust": {"roots": ["root", "root-2"], "signer": "root", "stage": "trust", **rotation},
        "issue": {"roots": ["root", "root-2"], "signer": "root-2", "stage": "issue", **rotation},
        "retire": {"roots": ["root-2"], "signer": "root-2", "stage": "retire", **rotation},
        "done": {"roots": ["root-2"], "signer": "root-2"},
    }


def test_the_marker_waits_for_the_clusters_to_get_the_ca() -> None:
    """In a first preview nothing is delivered yet: the marker is unknown, so a failed update never
    leaves one that claims a stage."""
    from pulumi.output import Unknown  # noqa: PLC0415

    preview = run_program(CONFIG, stack="kind", preview=True)
    assert isinstance(preview.outputs["caRoots"], Unknown)


SIGNER_DROPPED = (
    "leaves root {dropped} out of the bundles, but it signs every cluster's intermediate since the last completed run, and "
    "workload certificates chained to it would stop verifying; keep it until another root has signed the intermediates "
    "(a rotation's stage issue), then retire it"
)
SIGNER_UNTRUSTED = (
    "has root {signer} sign the intermediates, but since the last completed run the clusters trust only {trusted}; a new "
    "root reaches every bundle first (a rotation's stage trust, one pulumi up), then signs (stage issue)"
)


@pytest.mark.parametrize(
    ("from_stage", "config", "refused"),
    [
        # Straight to issue: the clusters do not trust root-2 yet.
        ("before", rotating("issue"), [("caRotation.stage", "ca-signer-untrusted", {"signer": "root-2", "trusted": "root"})]),
        # trust -> retire: root signs every intermediate.
        ("trust", rotating("retire"), [("caRotation.stage", "ca-signer-dropped", {"dropped": "root"})]),
        # Abandoned after issue: root-2 signs every intermediate.
        ("issue", CONFIG, [("caRoot", "ca-signer-dropped", {"dropped": "root-2"})]),
        # Back to trust after retire: root is gone.
        ("retire", rotating("trust"), [("caRotation.stage", "ca-signer-untrusted", {"signer": "root", "trusted": "root-2"})]),
        # A new root outright, without a rotation.
        (
            "before",
            {**CONFIG, "caRoot": "root-2"},
            [
                ("caRoot", "ca-signer-dropped", {"dropped": "root"}),
                ("caRoot", "ca-signer-untrusted", {"signer": "root-2", "trusted": "root"}),
            ],
        ),
        # The rotation done but caRoot left at the retired root.
        (
            "retire",
            CONFIG,
            [
                ("caRoot", "ca-signer-dropped", {"dropped": "root-2"}),
                ("caRoot", "ca-signer-untrusted", {"signer": "root", "trusted": "root-2"}),
            ],
        ),
    ],
)
def test_an_unsafe_move_is_refused_before_any_resource(
    stages: dict[str, StackRun], from_stage: str, config: dict[str, Any], refused: list[tuple[str, str, dict[str, str]]]
) -> None:
    previous = stages[from_stage]
    with pytest.raises(ConfigError) as raised:
        after(previous, config)
    messages = {"ca-signer-dropped": SIGNER_DROPPED, "ca-signer-untrusted": SIGNER_UNTRUSTED}
    assert [(p.path, p.code, p.message) for p in raised.value.problems] == [
        (path, code, messages[code].format(**parts)) for path, code, parts in refused
    ]
    assert str(raised.value).startswith("istio-multicluster: the stack config has ")
    assert "; nothing was changed:" in str(raised.value).splitlines()[0]


@pytest.mark.parametrize(
    ("from_stage", "config"),
    [
        ("before", rotating("trust")),  # starting
        ("trust", rotating("trust")),  # a re-run
        ("trust", CONFIG),  # abandoned after trust: root-2 signed nothing
        ("issue", rotating("trust")),  # back to the old signer: both roots still trusted
        ("issue", rotating("issue")),
        ("retire", rotating("retire")),
        ("retire", {**CONFIG, "caRoot": "root-2", "caRotation": {"newRoot": "root-3", "stage": "trust"}}),  # the next one
    ],
)
def test_safe_moves_and_reruns_are_allowed(stages: dict[str, StackRun], from_stage: str, config: dict[str, Any]) -> None:
    after(stages[from_stage], config)


def test_a_stack_without_a_marker_accepts_any_root() -> None:
    """A new stack, or one last updated before the marker existed: nothing to compare against."""
    assert rotation_problems(default_ca(), None) == []
    assert rotation_problems(default_ca(), {"unrelated": "output"}) == []


def test_the_stages_roots_and_signers() -> None:
    base = default_ca()
    assert (base.roots, base.signer) == ((FIRST_ROOT,), FIRST_ROOT)
    for stage, roots, signer in (
        (RotationStage.TRUST, ("root", "r2"), "root"),
        (RotationStage.ISSUE, ("root", "r2"), "r2"),
        (RotationStage.RETIRE, ("r2",), "r2"),
    ):
        spec = type(base)(**{**base.__dict__, "rotation": CaRotation("r2", stage)})
        assert (spec.roots, spec.signer) == (roots, signer)


@pytest.mark.parametrize(
    ("rotation", "refused"),
    [
        (
            {"newRoot": "root", "stage": "trust"},
            ("caRotation.newRoot", "ca-rotation", "is caRoot (root); a rotation introduces a root of another name"),
        ),
        ({"newRoot": "r2", "stage": "swap"}, ("caRotation.stage", "choice", "'swap' is not one of trust, issue, retire")),
        ({"newRoot": "R2", "stage": "trust"}, ("caRotation.newRoot", "pattern", None)),
        ({"stage": "trust"}, ("caRotation.newRoot", "required", None)),
        ({"newRoot": "r2", "stage": "trust", "delayHours": 1}, ("caRotation.delayHours", "unknown-field", None)),
        ({"newRoot": "r2", "stage": "trust", "waitHours": -1}, ("caRotation.waitHours", "range", "must be at least 0, got -1")),
    ],
)
def test_a_bad_rotation_is_refused_naming_the_field(rotation: dict[str, Any], refused: tuple[str, str, str | None]) -> None:
    found = [(c, m) for c, m in codes_of({**n_existing(2), "caRotation": rotation}) if m.startswith("caRotation")]
    path, code, message = refused
    assert [c for c, _ in found] == [code]
    assert found[0][1].startswith(f"{path}: ")
    if message:
        assert found[0][1] == f"{path}: {message}"


def test_a_named_root_that_collides_with_a_cluster_is_refused() -> None:
    found = codes_of({"caRoot": "x", "clusters": [existing_cluster("root-x", "n1"), existing_cluster("b", "n2")]})
    assert found == [
        (
            "name-collision",
            "clusters[0].name (cluster root-x): tls PrivateKey mesh-ca-root-x-key would be registered twice, for mesh root x's "
            "key and for cluster root-x's intermediate CA key; Pulumi refuses the second after creating everything before it: "
            "rename one of caRoot or clusters[0].name",
        )
    ]


def stage_changes(stack: str, extra: dict[str, Any]) -> dict[str, Changes]:
    config = {**stack_config(stack), **extra}
    previous = run_program(config, stack=stack)
    found = {}
    for stage in STAGES:
        run = run_program(
            {**config, "caRotation": {"newRoot": "root-2", "stage": stage}},
            stack=stack,
            state=previous.state(),
            previous_outputs=previous.outputs_after(hours=24),
        )
        found[stage], previous = changes(previous, run), run
    return found


def test_the_key_vault_copies_follow_each_stage_and_istiod_reads_them() -> None:
    """caDelivery: keyVault: no cacerts Secret; the vault's secrets take each stage's files as new
    versions (the CSI driver polls them every 2 minutes; istiod restarts for a new bundle)."""
    clusters = ("westeurope-aks", "eastus-aks")
    probes = named(("mesh-check-{c}-probe",), clusters)
    found = stage_changes("aks", {"caDelivery": "keyVault"})
    # The ingress gateways roll at every stage: new roots to trust, or a new chain to present.
    bundle, ingress = named(ISTIODS, clusters) | {"mesh-vault-mesh-root-cert"}, named(INGRESS, clusters)
    assert found == {
        "trust": Changes(create=NEW_ROOT, update=bundle | ingress, replace=probes),
        "issue": Changes(
            update=named(("mesh-vault-{c}-ca-cert", "mesh-vault-{c}-cert-chain"), clusters) | ingress,
            replace=probes | named(("mesh-ca-{c}-cert",), clusters),
        ),
        "retire": Changes(update=bundle | ingress, replace=probes, delete=OLD_ROOT),
    }


def test_the_secrets_manager_copies_follow_each_stage() -> None:
    clusters = ("cluster-1", "cluster-2")
    cacerts, probes = named(CACERTS, clusters), named(PROBES, clusters)
    root_copy = {"mesh-secrets-root-cert (SecretVersion)"}
    found = stage_changes("eks", {})
    copies = named(("mesh-secrets-{c}-ca-cert (SecretVersion)", "mesh-secrets-{c}-cert-chain (SecretVersion)"), clusters)
    ingress = named(INGRESS, clusters)
    assert found == {
        "trust": Changes(create=NEW_ROOT, update=named(ISTIODS, clusters) | cacerts | ingress, replace=probes | root_copy),
        "issue": Changes(update=cacerts | ingress, replace=probes | copies | named(("mesh-ca-{c}-cert",), clusters)),
        "retire": Changes(update=named(ISTIODS, clusters) | cacerts | ingress, replace=probes | root_copy, delete=OLD_ROOT),
    }


# --- The README walkthrough ------------------------------------------------------------------------

README_START, README_END = "<!-- rotation-walkthrough:start -->", "<!-- rotation-walkthrough:end -->"
STEP_NOTES = {
    "trust": "Every cluster's bundle holds both roots; the intermediates do not change. The program refuses issue "
    "until caRotation.waitHours (24) have passed since this up, or restart the workloads and set waitHours: 0.",
    "issue": "Every intermediate is re-issued by the new root; the bundles keep both. The program refuses retire "
    "until caRotation.waitHours have passed since this up, or restart the workloads and set waitHours: 0.",
    "retire": "The old root leaves every bundle, and its key and certificate leave the state.",
    "done": "The rotation is over: the same root under its own name, nothing changes.",
}


def rotation_walkthrough(stages: dict[str, StackRun]) -> list[str]:
    lines: list[str] = []
    order = ["before", *STAGES, "done"]
    for number, (earlier, stage) in enumerate(pairwise(order), start=1):
        if stage == "done":
            lines += [f"{number}. **Done**:", "", "   ```yaml", "   istio-multicluster:caRoot: root-2", "   ```", ""]
        else:
            lines += [f"{number}. **{stage}**:", "", "   ```yaml", "   istio-multicluster:caRotation:"]
            lines += ["     newRoot: root-2", f"     stage: {stage}", "   ```", ""]
        done = change_lines(changes(stages[earlier], stages[stage]), KIND)
        lines += ["   `pulumi up` then:", "", *done, ""] if done else ["   `pulumi up` then changes nothing.", ""]
        lines += [f"   {STEP_NOTES[stage]}", ""]
    return lines


def test_the_readme_rotation_walkthrough_is_what_the_program_does(stages: dict[str, StackRun]) -> None:
    assert_readme_block(README_START, README_END, rotation_walkthrough(stages))


def test_a_stage_whose_up_failed_after_the_ca_reached_the_clusters_is_run_again(stages: dict[str, StackRun]) -> None:
    """The issue stage's up fails on a probe (the CA and istiod were updated): its marker says issue,
    so running issue again is allowed, and so is retire after it; the second issue changes only what
    failed."""
    with pytest.raises(UpdateFailed) as failed:
        run_program(
            rotating("issue"),
            stack="kind",
            state=stages["trust"].state(),
            previous_outputs=stages["trust"].outputs_after(hours=24),
            job_failures={"mesh-check-kind-1-probe": "connection refused"},
        )
    partial = failed.value.run
    assert partial.outputs["caRoots"]["stage"] == "issue"
    again = after(partial, rotating("issue"))
    assert changes(partial, again) == Changes(replace=frozenset({"mesh-check-kind-1-probe"}))
    after(again, rotating("retire"))


def test_the_marker_waits_for_every_clusters_ca_istiods_and_base(monkeypatch: pytest.MonkeyPatch) -> None:
    """What ``caRoots`` resolves after: on each cluster the CA delivery (cacerts here), every istiod
    release and the base release; nothing of another kind (a failed probe must not hold it back)."""
    built: list[Mesh] = []

    def build(*args: Any) -> Mesh:
        built.append(build_mesh(*args))
        return built[-1]

    monkeypatch.setattr(single_stack, "build_mesh", build)
    run_program({**CONFIG, "istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}}, stack="kind")
    delivered = sorted(resource._name for resource in built[0].ca_delivered())
    assert delivered == sorted(f"{c}-istio-{part}" for c in KIND for part in ("cacerts", "base", "istiod-1-30-3", "istiod-1-31-0"))


@pytest.mark.parametrize("preview", [True, False])
def test_an_unsafe_stage_is_refused_in_the_preview_too(stages: dict[str, StackRun], preview: bool) -> None:
    trust = stages["trust"]
    with pytest.raises(ConfigError, match="leaves root root out of the bundles"):
        run_program(rotating("retire"), stack="kind", preview=preview, state=trust.state(), previous_outputs=trust.outputs_after(hours=24))


# --- Waiting for workloads between stages ------------------------------------------------------------


def since_of(outputs: dict[str, Any]) -> datetime.datetime:
    return datetime.datetime.strptime(outputs["caRoots"]["since"], SINCE_FORMAT).replace(tzinfo=datetime.UTC)


def next_up(previous: StackRun, config: dict[str, Any], hours: float, preview: bool = False) -> StackRun:
    """The next ``pulumi up`` (or preview), ``hours`` after ``previous``."""
    return run_program(config, stack="kind", preview=preview, state=previous.state(), previous_outputs=previous.outputs_after(hours=hours))


@pytest.mark.parametrize("preview", [True, False])
def test_issue_waits_a_workload_certificate_lifetime_after_trust(stages: dict[str, StackRun], preview: bool) -> None:
    trust = stages["trust"]
    with pytest.raises(ConfigError) as raised:
        next_up(trust, rotating("issue"), hours=23, preview=preview)
    since = since_of(trust.outputs_after(hours=23))
    ready = since + datetime.timedelta(hours=24)
    # The hours since the marker's time are counted on the real clock: the fixture ran minutes ago at most.
    hours = re.search(r"intermediates (\d+\.\d) hours after", raised.value.problems[0].message)
    assert hours is not None and 23.0 <= float(hours.group(1)) < 23.5
    assert [(p.path, p.code, p.message) for p in raised.value.problems] == [
        (
            "caRotation.stage",
            "ca-rotation-wait",
            f"has root root-2 sign the intermediates {hours.group(1)} hours after the last stage reached every cluster "
            f"({since:{SINCE_FORMAT}}); workloads take up to caRotation.waitHours (24) to renew their certificates and the "
            f"roots they trust. Run it after {ready:{SINCE_FORMAT}}, or restart every workload on every cluster (kubectl "
            "rollout restart) and set caRotation.waitHours: 0",
        )
    ]
    next_up(trust, rotating("issue"), hours=24, preview=preview)
    at_once = {**CONFIG, "caRotation": {"newRoot": "root-2", "stage": "issue", "waitHours": 0}}
    next_up(trust, at_once, hours=0, preview=preview)


def test_retire_waits_after_issue_however_it_is_written(stages: dict[str, StackRun]) -> None:
    issue = stages["issue"]
    for config, path in ((rotating("retire"), "caRotation.stage"), ({**CONFIG, "caRoot": "root-2"}, "caRoot")):
        with pytest.raises(ConfigError) as raised:
            next_up(issue, config, hours=1)
        [problem] = raised.value.problems
        assert (problem.path, problem.code) == (path, "ca-rotation-wait")
        assert problem.message.startswith("drops root root 1.0 hours after the last stage reached every cluster")
        # Without a caRotation block its waitHours cannot be set: the way out is stage retire.
        way_out = "caRotation.waitHours: 0" if path == "caRotation.stage" else "the rotation's stage retire with caRotation.waitHours: 0"
        assert problem.message.endswith(f"and set {way_out}")
    shorter = {**CONFIG, "caRotation": {"newRoot": "root-2", "stage": "retire", "waitHours": 12}}
    next_up(issue, shorter, hours=12)


def test_adding_a_root_rerunning_or_abandoning_at_trust_need_no_wait(stages: dict[str, StackRun]) -> None:
    trust = next_up(stages["before"], rotating("trust"), hours=0)
    next_up(trust, CONFIG, hours=0)
    # A re-run (5 hours on) keeps the time the stage first reached every cluster; the next stage sets its own.
    again = next_up(trust, rotating("trust"), hours=5)
    assert since_of(again.outputs) == since_of(trust.outputs_after(hours=5))
    issue = next_up(again, rotating("issue"), hours=24)
    assert since_of(issue.outputs) > since_of(again.outputs_after(hours=24))


# --- Every shipped stack ------------------------------------------------------------------------------

# What a stage may change: the CA, what delivers it (cacerts, the vault's and Secrets Manager's
# copies), istiod, the gateways that open mesh mTLS, and the probes.
MAY_CHANGE = re.compile(
    r"mesh-ca-.*|.*-istio-istiod-.*|.*-istio-cacerts|mesh-vault-.*|mesh-secrets-.*|.*-istio-ingress|.*-istio-eastwest|mesh-check-.*-probe"
)


# A fleet's mesh stack refuses a rotation until fleet mode reads its members' progress
# (tests/test_fleet_stacks.py); every other shipped stack rotates.
@pytest.mark.parametrize("stack", [s for s in SHIPPED_STACKS if not stack_config(s).get("fleetMesh")])
def test_every_shipped_stack_rotates_in_three_stages(stack: str) -> None:
    # The multicloud stack asks the operator for the ranges its API servers admit.
    extra = OPERATOR_SET.get(stack, {})
    config = stack_config(stack)
    clusters = [c["name"] for c in config["clusters"]]
    found = stage_changes(stack, extra)
    assert (found["trust"].create, found["issue"].create, found["retire"].create) == (NEW_ROOT, frozenset(), frozenset())
    assert (found["trust"].delete, found["issue"].delete, found["retire"].delete) == (frozenset(), frozenset(), OLD_ROOT)
    everything = {stage: c.create | c.update | c.replace | c.delete for stage, c in found.items()}
    assert [n for names in everything.values() for n in names if not MAY_CHANGE.fullmatch(n)] == []
    istiods = named(ISTIODS, clusters)
    assert (istiods <= found["trust"].update, istiods & everything["issue"], istiods <= found["retire"].update) == (True, set(), True)
    assert named(("mesh-ca-{c}-cert",), clusters) <= found["issue"].replace
    # Gateways that open mesh mTLS roll at every stage; the sidecar east-west gateway never does.
    rolled = named(INGRESS, clusters) if config.get("ingressGateway") else frozenset()
    rolled |= named(("{c}-istio-eastwest",), clusters) if config.get("dataplane") == "ambient" else frozenset()
    for stage in STAGES:
        assert rolled <= found[stage].update
        assert {n for n in everything[stage] if n.endswith("-istio-eastwest")} <= rolled


def test_a_marker_from_before_stages_were_timed_is_not_timed(stages: dict[str, StackRun]) -> None:
    """A stack whose last run wrote caRoots without since (an earlier version of the program) is
    not held back; the run writes since, and the next stage is timed from it."""
    trust = stages["trust"]
    untimed = trust.outputs_after(hours=0)
    del untimed["caRoots"]["since"]
    issue = run_program(rotating("issue"), stack="kind", state=trust.state(), previous_outputs=untimed)
    assert "since" in issue.outputs["caRoots"]
    with pytest.raises(ConfigError, match=r"drops root root 1\.0 hours after"):
        next_up(issue, rotating("retire"), hours=1)
