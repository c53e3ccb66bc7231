"""Day-2 changes: what the `pulumi up` after each config edit creates, updates, replaces and deletes.

Each test runs the program twice, the second time from the state the first left, and pins the exact
sets by resource name; every other resource must be left alone (same URN, same inputs). They are
the answer to "what will `pulumi preview` show". The README's upgrade walkthrough is generated
from the same runs (``UPDATE_README=1`` rewrites it) and checked against them.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.harness.changes import Changes, changes, named, paired
from tests.harness.program import StackRun, run_stack, stack_config
from tests.harness.walkthrough import assert_readme_block, change_lines, wrap

ROOT = Path(__file__).resolve().parent.parent
README_START, README_END = "<!-- upgrade-walkthrough:start -->", "<!-- upgrade-walkthrough:end -->"


def check_workloads(tag: str) -> tuple[str, ...]:
    """MeshCheck's resources for one tag on cluster ``{c}``: namespace, Service, Deployment, probe."""
    prefix = "mesh-check-{c}" if tag == "default" else f"mesh-check-{{c}}-{tag}"
    namespace = "sample" if tag == "default" else f"sample-{tag}"
    return (f"mesh-check-{{c}}-{namespace}", f"{prefix}-helloworld", f"{prefix}-helloworld-{{c}}", f"{prefix}-probe")


def probes(*tags: str) -> tuple[str, ...]:
    return tuple(check_workloads(tag)[3] for tag in tags)


def foundations(run: StackRun) -> frozenset[str]:
    """What an Istio change must never touch: the clouds' resources, the CA, the providers."""
    return frozenset(r.name for r in run.resources if not r.type.startswith(("kubernetes:", "istio-multicluster:")) and r.custom)


# --- Upgrading Istio: four edits of istioRevisions -------------------------------------------------


@dataclass(frozen=True)
class Step:
    """One config edit of the upgrade walkthrough and what its ``pulumi up`` does on each cluster."""

    title: str
    revisions: dict[str, str]
    expected: Changes
    note: str
    keyvault: Changes = field(default_factory=Changes)


def upgrade_steps(gateways: Sequence[str]) -> list[Step]:
    """The walkthrough from 1.30.3 to 1.31.0; ``gateways`` are the stack's gateway releases on ``{c}``.

    ``keyvault``: what an AKS stack with ``caDelivery: keyVault`` changes besides, a federated
    credential for each revision's service account, and a new wait for Entra to propagate the changed
    set of federations before the revision's istiod starts.
    """
    federation = "{c}-istiod-vault-federation-istiod-"
    propagation = "{c}-istiod-vault-reads-propagation"
    return [
        Step(
            "Install the canary beside the default",
            {"default": "1.30.3", "canary": "1.31.0"},
            Changes(
                create=frozenset({"{c}-istio-istiod-1-31-0", "{c}-istio-tag-canary", *check_workloads("canary")}),
                update=frozenset({"{c}-istio-base"}),
                replace=frozenset(probes("default")),
            ),
            "Nothing running changes: istiod 1.31.0 starts beside 1.30.3 and the CRDs come from 1.31.0. To try "
            "it, label a namespace `istio.io/rev=canary` (without `istio-injection`) and `kubectl rollout restart` "
            "its workloads; the check's `sample-canary` workloads already prove canary proxies reach every cluster.",
            Changes(create=frozenset({federation + "1-31-0"}), replace=frozenset({propagation})),
        ),
        Step(
            "Move the default tag to the new release, keeping the old one as `previous`",
            {"default": "1.31.0", "canary": "1.31.0", "previous": "1.30.3"},
            Changes(
                create=frozenset({"{c}-istio-tag-previous", *check_workloads("previous")}),
                update=frozenset({"{c}-istio-base", "{c}-istio-tag-default", *gateways, check_workloads("default")[2]}),
                replace=frozenset(probes("default", "canary")),
            ),
            "The `default` tag's webhook now injects 1.31.0 and validation moves with it; the gateways roll by "
            "themselves (their pods name the revision). Restart your workloads in `istio-injection=enabled` and "
            "`istio.io/rev=default` namespaces so their proxies come from 1.31.0. To roll one back, label its "
            "namespace `istio.io/rev=previous` and restart it.",
        ),
        Step(
            "Remove the old release",
            {"default": "1.31.0", "canary": "1.31.0"},
            Changes(
                replace=frozenset(probes("default", "canary")),
                delete=frozenset({"{c}-istio-istiod-1-30-3", "{c}-istio-tag-previous", *check_workloads("previous")}),
            ),
            "Only once no proxy runs 1.30.3 any more (`istioctl proxy-status` lists each proxy's version) and no "
            "namespace is labelled `istio.io/rev=previous`: proxies left on it lose their control plane, and new "
            "pods in such namespaces start without a sidecar.",
            Changes(delete=frozenset({federation + "1-30-3"}), replace=frozenset({propagation})),
        ),
        Step(
            "Drop the canary tag",
            {"default": "1.31.0"},
            Changes(
                replace=frozenset(probes("default")),
                delete=frozenset({"{c}-istio-tag-canary", *check_workloads("canary")}),
            ),
            "Relabel namespaces that use `istio.io/rev=canary` first (to `istio-injection=enabled`): the same "
            "istiod keeps serving them, but once the tag's webhook is gone their new pods start without a sidecar. "
            "The mesh is back to one revision, 1.31.0; the next upgrade starts again at step 1.",
        ),
    ]


START = {"default": "1.30.3"}
KIND_GATEWAYS = ("{c}-istio-eastwest",)
AKS_GATEWAYS = ("{c}-istio-ingress",)  # one flat network: no east-west gateway


def for_clusters(expected: Changes, clusters: Sequence[str]) -> Changes:
    return Changes(*(named(names, clusters) for names in (expected.create, expected.update, expected.replace, expected.delete)))


def walk(stack: str, overrides: dict[str, Any], steps: Sequence[Step]) -> list[tuple[StackRun, StackRun]]:
    """Each step's runs: before (the previous step's state) and after."""
    runs, before = [], run_stack(stack, {**overrides, "istioRevisions": START})
    for step in steps:
        after = run_stack(stack, {**overrides, "istioRevisions": step.revisions}, state=before.state())
        runs.append((before, after))
        before = after
    return runs


@pytest.fixture(scope="module")
def kind_upgrade() -> list[tuple[StackRun, StackRun]]:
    return walk("kind", {}, upgrade_steps(KIND_GATEWAYS))


@pytest.fixture(scope="module")
def aks_upgrade() -> list[tuple[StackRun, StackRun]]:
    return walk("aks", {"caDelivery": "keyVault"}, upgrade_steps(AKS_GATEWAYS))


@pytest.mark.parametrize("index", range(4))
def test_each_upgrade_step_on_kind_changes_exactly_this(kind_upgrade: list[tuple[StackRun, StackRun]], index: int) -> None:
    before, after = kind_upgrade[index]
    step = upgrade_steps(KIND_GATEWAYS)[index]
    assert changes(before, after) == for_clusters(step.expected, ["kind-1", "kind-2"])


@pytest.mark.parametrize("index", range(4))
def test_each_upgrade_step_on_aks_changes_exactly_this(aks_upgrade: list[tuple[StackRun, StackRun]], index: int) -> None:
    before, after = aks_upgrade[index]
    step = upgrade_steps(AKS_GATEWAYS)[index]
    found = changes(before, after)
    assert found == for_clusters(step.expected | step.keyvault, ["westeurope-aks", "eastus-aks"])
    # The CA, the clusters and their networks are never touched by an Istio change; the vault's
    # federations follow the revisions, and so does the wait for Entra to propagate them.
    revision_bound = {n for n in found.touched if n.endswith("-reads-propagation") or "-federation-" in n}
    assert not (found.touched - revision_bound) & foundations(before)


def test_the_upgrade_ends_on_one_revision_of_the_new_release(kind_upgrade: list[tuple[StackRun, StackRun]]) -> None:
    _, last = kind_upgrade[-1]
    releases = {r.name: r.inputs for r in last.of_type("kubernetes:helm.sh/v3:Release") if r.name.startswith("kind-1-istio")}
    assert {n: (i["name"], i["version"]) for n, i in releases.items()} == {
        "kind-1-istio-base": ("istio-base", "1.31.0"),
        "kind-1-istio-istiod-1-31-0": ("istiod-1-31-0", "1.31.0"),
        "kind-1-istio-eastwest": ("istio-eastwestgateway", "1.31.0"),
    }
    assert releases["kind-1-istio-base"]["values"] == {"defaultRevision": "1-31-0"}
    webhook = last.named("kind-1-istio-tag-default").inputs
    assert webhook["metadata"]["labels"]["istio.io/rev"] == "1-31-0"
    assert {w["clientConfig"]["service"]["name"] for w in webhook["webhooks"]} == {"istiod-1-31-0"}


# --- The README walkthrough ------------------------------------------------------------------------


def walkthrough(runs: Sequence[tuple[StackRun, StackRun]], steps: Sequence[Step], clusters: Sequence[str]) -> list[str]:
    """The README's upgrade walkthrough, from what each step's run did."""
    lines: list[str] = []
    for number, (step, (before, after)) in enumerate(zip(steps, runs, strict=True), start=1):
        lines += [f"{number}. **{step.title}**:", "", "   ```yaml", "   istio-multicluster:istioRevisions:"]
        lines += [f'     {tag}: "{version}"' for tag, version in step.revisions.items()]
        lines += ["   ```", "", "   `pulumi up` then, on each cluster:", ""]
        lines += [*change_lines(changes(before, after), clusters), "", *wrap(step.note, "   "), ""]
    return lines


def test_readme_upgrade_walkthrough_is_what_the_program_does(kind_upgrade: list[tuple[StackRun, StackRun]]) -> None:
    assert_readme_block(README_START, README_END, walkthrough(kind_upgrade, upgrade_steps(KIND_GATEWAYS), ["kind-1", "kind-2"]))


# --- Clusters and values -----------------------------------------------------------------------------


KIND_CLUSTER = (
    "{c}", "{c}-provider", "{c}-metallb", "{c}-metallb-system", "{c}-metallb-pool", "{c}-metallb-l2",
    "{c}-istio", "{c}-istio-gateways", "{c}-istio-istio-system", "{c}-istio-cacerts", "{c}-istio-base", "{c}-istio-istiod-1-30-3",
    "{c}-istio-tag-default", "{c}-istio-eastwest", "{c}-istio-cross-network-gateway",
    "mesh-ca-{c}-key", "mesh-ca-{c}-csr", "mesh-ca-{c}-cert", "mesh-link-{c}-reader-token", *check_workloads("default"),
    "mesh-check-{c}-helloworld-only-{c}", "mesh-check-{c}-paths",
)  # fmt: skip
# Each pair of clusters: the remote secrets, and each one's Service of the other's helloworld alone.
KIND_PAIR = ("mesh-link-{a}-in-{b}", "mesh-check-{a}-helloworld-only-{b}")
AKS_CLUSTER = (
    "azure-istio-aks-{region}", "azure-{c}-vnet", "{c}", "{c}-aks", "{c}-pools", "{c}-user1", "{c}-user2", "{c}-provider",
    *(f"azure-{{c}}-{pool}-subnet" for pool in ("system", "user1", "user2")),
    *(f"{{c}}-{pool}-subnet-network-contributor" for pool in ("system", "user1", "user2")),
    "{c}-istio", "{c}-istio-gateways", "{c}-istio-istio-system", "{c}-istio-base", "{c}-istio-ca-files", "{c}-istio-istiod-1-30-3",
    "{c}-istio-tag-default", "{c}-istio-istio-ingress", "{c}-istio-ingress",
    "{c}-istiod-vault", "{c}-istiod-vault-identity", "{c}-istiod-vault-federation-istiod-1-30-3",
    *(f"{{c}}-istiod-vault-reads-{f}" for f in ("ca-cert", "ca-key", "cert-chain", "root-cert", "propagation")),
    *(f"mesh-vault-{{c}}-{f}" for f in ("ca-cert", "ca-key", "cert-chain")),
    "mesh-ca-{c}-key", "mesh-ca-{c}-csr", "mesh-ca-{c}-cert", "mesh-link-{c}-reader-token", *check_workloads("default"),
    "mesh-check-{c}-helloworld-only-{c}", "mesh-check-{c}-ingress-gateway", "mesh-check-{c}-ingress-route", "mesh-check-{c}-paths",
)  # fmt: skip
AKS_PAIR = ("mesh-link-{a}-in-{b}", "azure-{a}-to-{b}", "mesh-check-{a}-helloworld-only-{b}")


def kind_three() -> list[dict[str, Any]]:
    clusters = stack_config("kind")["clusters"]
    third = {**copy.deepcopy(clusters[1]), "name": "kind-3", "network": "network3", "context": "kind-kind-3"}
    third.update(apiServerUrl="https://kind-3-control-plane:6443", metallb={"addresses": ["172.18.254.200-172.18.254.224"]})
    return [*clusters, third]


def aks_three() -> list[dict[str, Any]]:
    clusters = stack_config("aks")["clusters"]
    third = copy.deepcopy(clusters[1])
    third.update(name="northeurope-aks", region="northeurope", vnetCidr="10.54.0.0/16", serviceCidr="10.154.0.0/16")
    third["dnsServiceIp"] = "10.154.0.10"
    for index, pool in enumerate(third["nodePools"]):
        pool["subnetCidr"] = f"10.54.{index}.0/24"
    return [*clusters, third]


CLUSTER_STACKS = {
    "kind": ({}, kind_three, KIND_CLUSTER, KIND_PAIR, {}),
    "aks": ({"caDelivery": "keyVault"}, aks_three, AKS_CLUSTER, AKS_PAIR, {"northeurope-aks": "northeurope", "eastus-aks": "eastus"}),
}


def cluster_names(templates: Sequence[str], pairs: Sequence[str], cluster: str, clusters: Sequence[str], region: str) -> frozenset[str]:
    own = frozenset(t.format(c=cluster, region=region) for t in templates)
    return own | paired(pairs, cluster, clusters)


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_adding_a_cluster_creates_it_and_its_links_and_rechecks_the_others(stack: str) -> None:
    overrides, three, templates, pairs, regions = CLUSTER_STACKS[stack]
    clusters = three()
    new = clusters[2]["name"]
    before = run_stack(stack, overrides)
    after = run_stack(stack, {**overrides, "clusters": clusters}, state=before.state())
    names = [c["name"] for c in clusters]
    assert changes(before, after) == Changes(
        create=cluster_names(templates, pairs, new, names, regions.get(new, "")),
        # Their probes take one path more (and one less on removal): their paths' ConfigMaps, whose
        # data pulumi-kubernetes does not update in place, are replaced too.
        replace=named((*probes("default"), "mesh-check-{c}-paths"), names[:2]),
    )


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_removing_a_cluster_deletes_it_and_its_links_and_rechecks_the_others(stack: str) -> None:
    overrides, three, templates, pairs, regions = CLUSTER_STACKS[stack]
    clusters = three()
    gone = clusters[1]["name"]
    before = run_stack(stack, {**overrides, "clusters": clusters})
    after = run_stack(stack, {**overrides, "clusters": [clusters[0], clusters[2]]}, state=before.state())
    names = [c["name"] for c in clusters]
    kept = [n for n in names if n != gone]
    assert changes(before, after) == Changes(
        replace=named((*probes("default"), "mesh-check-{c}-paths"), kept),
        delete=cluster_names(templates, pairs, gone, names, regions.get(gone, "")),
    )


@pytest.mark.parametrize("stack", CLUSTER_STACKS)
def test_one_clusters_istiod_values_change_only_its_istiod(stack: str) -> None:
    overrides = CLUSTER_STACKS[stack][0]
    clusters = stack_config(stack)["clusters"]
    before = run_stack(stack, {**overrides, "clusters": clusters})
    changed = copy.deepcopy(clusters)
    changed[1]["istiodValues"] = {"pilot": {"replicaCount": 2}}
    after = run_stack(stack, {**overrides, "clusters": changed}, state=before.state())
    assert changes(before, after) == Changes(update=frozenset({f"{clusters[1]['name']}-istio-istiod-1-30-3"}))
    assert after.named(f"{clusters[1]['name']}-istio-istiod-1-30-3").inputs["values"]["pilot"] == {"replicaCount": 2}


def test_where_remotes_reach_their_primary_by_host_name_one_edit_swaps_the_release() -> None:
    """EKS primary-remote runs one release at a time (the config refuses a canary there): pointing
    every tag at the new release installs it, moves the tag and its webhook route in place, and
    removes the old release at the end of the same update."""
    clusters = stack_config("eks")["clusters"]
    clusters[1].update(role="remote", primary="cluster-1")
    overrides = {"topology": "primary-remote", "clusters": clusters}
    before = run_stack("eks", overrides)
    after = run_stack("eks", {**overrides, "istioRevisions": {"default": "1.31.0"}}, state=before.state())
    both = ["cluster-1", "cluster-2"]
    assert changes(before, after) == Changes(
        create=named(["{c}-istio-istiod-1-31-0"], both) | {"cluster-1-istio-istiod-vs-1-31-0"},
        update=named(["{c}-istio-base", "{c}-istio-tag-default", "{c}-istio-eastwest", "{c}-istio-ingress"], both)
        | named([check_workloads("default")[2]], both)
        | {"cluster-1-istio-istiod-webhook-vs"},
        replace=named(probes("default"), both),
        delete=named(["{c}-istio-istiod-1-30-3"], both) | {"cluster-1-istio-istiod-vs-1-30-3"},
    )
    route = after.named("cluster-1-istio-istiod-webhook-vs").inputs["spec"]["tls"][0]["route"]
    assert route == [{"destination": {"host": "istiod-1-31-0.istio-system.svc.cluster.local", "port": {"number": 443}}}]


# --- Reordering clusters ------------------------------------------------------------------------------


REORDERED = {
    "kind": {},
    "kind-ambient": {},
    "aks": {"caDelivery": "keyVault"},
    "eks": {},
    "multicloud": {"operatorCidrs": ["203.0.113.0/24"]},
    "kind with a canary": {"istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}},
}


@pytest.mark.parametrize("case", REORDERED)
def test_reordering_clusters_changes_nothing(case: str) -> None:
    """The config's order of clusters means nothing: every probe lists, and its replacement trigger
    digests, the clusters by name, so the second ``up`` after a reorder leaves every resource alone
    (no probe Job is replaced)."""
    stack = case.split(maxsplit=1)[0]
    overrides = REORDERED[case]
    before = run_stack(stack, overrides)
    after = run_stack(stack, {**overrides, "clusters": list(reversed(stack_config(stack)["clusters"]))}, state=before.state())
    assert changes(before, after) == Changes()


# What the program registered differently before: components that took over resources an earlier
# version registered under another (new type -> the former parent's type), and components renamed
# (new type -> old type). The moved and renamed resources alias what they were.
MOVED = {
    "istio-multicluster:mesh:IstioGateways": "istio-multicluster:mesh:IstioRelease",
    "istio-multicluster:azure:AksNodePools": "istio-multicluster:azure:AksCluster",
}
RENAMED = {"istio-multicluster:mesh:IstioControlPlane": "istio-multicluster:mesh:IstioRelease"}


def as_registered_before(urn: str) -> str:
    for component, parent in MOVED.items():
        urn = urn.replace(f"::{component}$", f"::{parent}$")
    for new, old in RENAMED.items():
        urn = urn.replace(new, old)
    return urn


@pytest.mark.parametrize("stack", ["kind", "kind-ambient", "eks", "aks"])
def test_stacks_made_by_earlier_versions_keep_every_resource(stack: str) -> None:
    """Istio's gateways were children of the control plane's component, then an IstioRelease, and an
    AKS cluster's added pools children of the cluster's; each names what it was as an alias, so a
    stack made then moves them: nothing deleted, nothing made again but the new components."""
    now = run_stack(stack)
    earlier = {
        as_registered_before(urn): dataclasses.replace(prior, type=RENAMED.get(prior.type, prior.type))
        for urn, prior in now.state().items()
        if prior.type not in MOVED
    }
    after = run_stack(stack, state=earlier)
    kept = {r.urn for r in after.resources} | {alias for r in after.resources for alias in r.aliases}
    # Reads leave nothing to delete, and a remote component's children stay its provider's.
    reads = {as_registered_before(r.urn) for r in now.resources if r.operation == "read"}
    managed = {urn for urn, prior in earlier.items() if not prior.remote_child and urn not in reads}
    assert sorted(managed - kept) == []
    assert {r.name for r in after.resources if r.operation == "create"} == {r.name for r in now.resources if r.type in MOVED}
    moved = [r for r in after.resources if r.aliases]
    assert {r.type for r in moved} >= set(RENAMED)
    assert {r.operation for r in moved} == {"same"}
