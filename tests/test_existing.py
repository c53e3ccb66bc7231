"""Existing clusters and the kind stack, end to end under mocks."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from tests.configs import problems_of
from tests.expected import ca_bundle_annotation, istiod_identity
from tests.harness.program import StackRun, run_stack, stack_config

RELEASE = "kubernetes:helm.sh/v3:Release"


@pytest.fixture(scope="module")
def kind() -> StackRun:
    return run_stack("kind")


def test_each_cluster_gets_its_own_explicit_provider_keyed_on_the_cluster(kind: StackRun) -> None:
    for cluster in ("kind-1", "kind-2"):
        provider = kind.named(f"{cluster}-provider")
        assert provider.type == "pulumi:providers:kubernetes"
        assert provider.inputs["context"] == f"kind-{cluster}"
        assert provider.inputs["clusterIdentifier"] == cluster
        assert provider.parent == kind.named(cluster).urn


def test_no_kubernetes_object_uses_a_default_provider_or_another_clusters(kind: StackRun) -> None:
    kube = [r for r in kind.resources if r.type.startswith("kubernetes:")]
    # per cluster: MetalLB 4, Istio 6 + the default tag's webhook + the east-west Service read, reader
    # token 1, one remote secret, MeshCheck 4 + a Service of each cluster's helloworld alone (2) + the
    # probe's paths
    assert len(kube) == 2 * 21
    for resource in kube:
        # remote secrets live in the holder: mesh-link-<source>-in-<holder>
        owner = resource.name.rsplit("-in-", 1)[1] if "-in-" in resource.name else re.findall(r"kind-\d", resource.name)[0]
        assert resource.provider_urn == kind.named(f"{owner}-provider").urn, resource.name


def test_metallb_has_a_pool_and_an_l2_advertisement_after_its_chart(kind: StackRun) -> None:
    pool, l2 = kind.named("kind-2-metallb-pool"), kind.named("kind-2-metallb-l2")
    assert (pool.inputs["apiVersion"], pool.inputs["kind"], pool.inputs["spec"]) == (
        "metallb.io/v1beta1",
        "IPAddressPool",
        {"addresses": ["172.18.255.225-172.18.255.250"]},
    )
    assert (l2.inputs["kind"], l2.inputs["spec"]) == ("L2Advertisement", {"ipAddressPools": ["mesh-pool"]})
    chart = kind.named("kind-2-metallb")
    assert (chart.inputs["chart"], chart.inputs["version"], chart.inputs["repositoryOpts"]) == (
        "metallb",
        "0.14.9",
        {"repo": "https://metallb.github.io/metallb"},
    )
    assert chart.urn in pool.dependencies and chart.urn in l2.dependencies
    namespace = kind.named("kind-2-metallb-system").inputs["metadata"]
    assert namespace["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_east_west_gateway_waits_for_metallb(kind: StackRun) -> None:
    deps = {kind.by_urn(u).name for u in kind.named("kind-1-istio-eastwest").dependencies}
    assert {"kind-1-istio-tag-default", "kind-1-metallb-pool", "kind-1-metallb-l2"} <= deps
    assert not {d for d in deps if d.startswith("kind-2")}


def test_remote_secrets_point_at_the_configured_api_servers(kind: StackRun) -> None:
    assert kind.outputs["remoteSecrets"] == {"kind-1": ["istio-remote-secret-kind-2"], "kind-2": ["istio-remote-secret-kind-1"]}
    kubeconfig = kind.named("mesh-link-kind-2-in-kind-1").inputs["stringData"]["kind-2"]
    assert "server: https://kind-2-control-plane:6443" in kubeconfig


def test_kind_stack_builds_the_whole_mesh(kind: StackRun) -> None:
    counts = Counter(r.type for r in kind.resources)
    assert counts["istio-multicluster:existing:Cluster"] == 2
    assert counts["istio-multicluster:mesh:IstioControlPlane"] == 2
    assert counts["istio-multicluster:mesh:MeshLink"] == 1
    assert counts["kubernetes:helm.sh/v3:Release"] == 2 * 4
    assert counts["kubernetes:networking.istio.io/v1:Gateway"] == 2
    istiod = kind.named("kind-1-istio-istiod-1-30-3").inputs["values"]
    assert istiod == {
        **istiod_identity("kind-1", "network1"),
        **ca_bundle_annotation(kind),
        "meshConfig": {"accessLogFile": "/dev/stdout"},
    }


def test_clusters_do_not_wait_for_each_other_or_for_the_ca(kind: StackRun) -> None:
    ca = {r.urn for r in kind.resources if r.name.startswith("mesh-ca")}
    for cluster in ("kind-1", "kind-2"):
        for resource in [kind.named(cluster), *kind.children_of(kind.named(cluster))]:
            assert not set(resource.dependencies) & ca
            assert not [u for u in resource.dependencies if kind.by_urn(u).name.startswith("kind-2" if cluster == "kind-1" else "kind-1")]


def test_an_istio_platform_goes_into_every_istio_chart_on_its_cluster_only() -> None:
    clusters = stack_config("kind-ambient")["clusters"]
    run = run_stack("kind-ambient", {"clusters": [clusters[0], {**clusters[1], "istioPlatform": "k3s"}], "ingressGateway": True})
    charts = {r.name: r.inputs for r in run.of_type(RELEASE) if r.inputs["repositoryOpts"]["repo"].startswith("https://istio-release")}
    on_k3s = {name for name in charts if name.startswith("kind-2-")}
    assert on_k3s == {f"kind-2-istio-{role}" for role in ("base", "istiod-1-30-3", "cni", "ztunnel", "ingress")}
    for name, inputs in charts.items():
        platform = inputs["values"].get("global", {}).get("platform")
        assert platform == ("k3s" if name in on_k3s else None), name
    # What the program derives stays as it was beside the platform.
    assert charts["kind-2-istio-ztunnel"]["values"] == {
        "multiCluster": {"clusterName": "kind-2"},
        "network": "network2",
        "revision": "1-30-3",
        "global": {"platform": "k3s"},
    }


@pytest.mark.parametrize(
    ("field", "value", "problem"),
    [
        (
            "istioPlatform",
            "eks",
            "clusters[1].istioPlatform (cluster kind-2): 'eks' is not one of gke, k3d, k3s, microk8s, minikube, openshift",
        ),
        (
            "istiodValues",
            {"global": {"platform": "k3s"}},
            "clusters[1].istiodValues.global.platform (cluster kind-2): is set by the program from the cluster's istioPlatform "
            "(existing clusters); remove it here",
        ),
    ],
)
def test_the_istio_platform_is_one_of_the_charts_profiles_and_only_set_there(field: str, value: object, problem: str) -> None:
    clusters = stack_config("kind")["clusters"]
    assert problems_of({**stack_config("kind"), "clusters": [clusters[0], {**clusters[1], field: value}]}) == [problem]
