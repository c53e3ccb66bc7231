"""IstioControlPlane: exact Helm value trees, revisions and tags, order, providers and the east-west pieces."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest

from components.mesh.istio import deep_merge
from tests.configs import n_existing, parse
from tests.expected import CANARY, ca_bundle_annotation, gateway_ca_annotations, istiod_identity, service_client, tag_webhooks
from tests.harness.program import StackRun, run_program
from tests.programs import mesh_program

HELM = "kubernetes:helm.sh/v3:Release"
REPO = "https://istio-release.storage.googleapis.com/charts"
WEBHOOK = "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"


def run_mesh(config: dict[str, Any], annotations: dict[str, str] | None = None) -> StackRun:
    return run_program(config, program=mesh_program(parse(config), annotations))


@pytest.fixture(scope="module")
def multi() -> StackRun:
    config = {**n_existing(3), "istioRevisions": CANARY, "accessLog": True}
    return run_mesh(config, {"example.com/lb": "internal"})


@pytest.fixture(scope="module")
def flat() -> StackRun:
    # Existing clusters may not share a network in config (their pod routes are unknown), so the
    # single-network spec is built by hand here: IstioControlPlane itself only looks at the networks.
    spec = parse(n_existing(2))
    spec = replace(spec, clusters=tuple(replace(c, network="shared") for c in spec.clusters))
    return run_program(n_existing(2), program=mesh_program(spec))


def test_istiod_values_are_exactly_the_multicluster_tree_once_per_release(multi: StackRun) -> None:
    for index in (1, 2, 3):
        for revision in ("1-30-3", "1-31-0"):
            release = multi.named(f"c{index}-istio-istiod-{revision}").inputs
            assert release["values"] == {
                **istiod_identity(f"c{index}", f"network{index}", revision=revision),
                **ca_bundle_annotation(multi),
                "meshConfig": {"accessLogFile": "/dev/stdout"},
            }


def test_releases_are_named_pinned_and_from_istios_repository(multi: StackRun) -> None:
    releases = {r.name: r.inputs for r in multi.of_type(HELM) if r.name.startswith("c2-")}
    assert {n: (i["name"], i["chart"], i["version"], i["namespace"], i["repositoryOpts"]) for n, i in releases.items()} == {
        "c2-istio-base": ("istio-base", "base", "1.31.0", "istio-system", {"repo": REPO}),
        "c2-istio-istiod-1-30-3": ("istiod-1-30-3", "istiod", "1.30.3", "istio-system", {"repo": REPO}),
        "c2-istio-istiod-1-31-0": ("istiod-1-31-0", "istiod", "1.31.0", "istio-system", {"repo": REPO}),
        "c2-istio-eastwest": ("istio-eastwestgateway", "gateway", "1.30.3", "istio-system", {"repo": REPO}),
    }
    # CRDs from the newest release; the default validation webhook follows the default tag.
    assert releases["c2-istio-base"]["values"] == {"defaultRevision": "1-30-3"}
    assert releases["c2-istio-eastwest"]["values"] == {
        "name": "istio-eastwestgateway",
        "networkGateway": "network2",
        # Not rolled with the CA: it passes mesh mTLS through.
        "podAnnotations": {"istio-multicluster/revision": "1-30-3"},
        "service": {"annotations": {"example.com/lb": "internal"}},
    }


def test_each_tag_is_one_webhook_pointing_at_its_revision_after_that_istiod(multi: StackRun) -> None:
    for tag, revision in (("default", "1-30-3"), ("canary", "1-31-0")):
        webhook = multi.named(f"c1-istio-tag-{tag}")
        assert (webhook.type, webhook.inputs["metadata"]) == (
            WEBHOOK,
            {"name": f"istio-revision-tag-{tag}", "labels": {"istio.io/tag": tag, "istio.io/rev": revision, "app": "sidecar-injector"}},
        )
        assert webhook.inputs["webhooks"] == tag_webhooks(tag, service_client(revision))
        assert multi.needs(f"c1-istio-tag-{tag}", f"c1-istio-istiod-{revision}")
    assert not multi.needs("c1-istio-tag-canary", "c1-istio-istiod-1-30-3")
    assert len(multi.of_type(WEBHOOK)) == 3 * 2


def test_namespace_carries_the_network_and_cacerts_holds_exactly_istios_keys(multi: StackRun) -> None:
    namespace = multi.named("c3-istio-istio-system").inputs
    assert namespace["metadata"] == {"name": "istio-system", "labels": {"topology.istio.io/network": "network3"}}
    cacerts = multi.named("c3-istio-cacerts")
    assert cacerts.inputs["metadata"] == {"name": "cacerts", "namespace": "istio-system"}
    assert sorted(cacerts.inputs["stringData"]) == ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]
    assert "stringData" in cacerts.secret_inputs
    assert cacerts.inputs["stringData"]["ca-cert.pem"] == multi.named("mesh-ca-c3-cert").outputs["certPem"]


def test_order_inside_a_cluster(multi: StackRun) -> None:
    def deps(name: str) -> set[str]:
        return {multi.by_urn(u).name for u in multi.named(name).dependencies}

    assert "c1-istio-istio-system" in deps("c1-istio-cacerts")
    for revision in ("1-30-3", "1-31-0"):
        assert {"c1-istio-base", "c1-istio-cacerts"} <= deps(f"c1-istio-istiod-{revision}")
    # Gateway pods are injected through the default tag; Istio config is validated by its istiod.
    assert deps("c1-istio-eastwest") == {"c1-istio-istio-system", "c1-istio-tag-default"}
    assert deps("c1-istio-cross-network-gateway") == {"c1-istio-istio-system", "c1-istio-istiod-1-30-3"}


def test_no_edges_between_clusters(multi: StackRun) -> None:
    for resource in multi.resources:
        owner = resource.name.split("-istio-")[0] if "-istio-" in resource.name else None
        if owner is None:
            continue
        for urn in resource.dependencies:
            other = multi.by_urn(urn).name
            assert not (other.startswith("c") and "-istio-" in other and not other.startswith(f"{owner}-")), (resource.name, other)


def test_every_kubernetes_object_uses_its_own_clusters_provider(multi: StackRun) -> None:
    kube = [r for r in multi.resources if r.type.startswith("kubernetes:") and "-istio-" in r.name]
    assert len(kube) == 3 * 10  # namespace, cacerts, 4 releases, 2 tag webhooks, Gateway, east-west Service read
    for resource in kube:
        cluster = resource.name.split("-istio-")[0]
        assert resource.provider_urn == multi.named(f"{cluster}-k8s").urn, resource.name


def test_cross_network_gateway(multi: StackRun) -> None:
    gateway = multi.named("c1-istio-cross-network-gateway").inputs
    assert (gateway["apiVersion"], gateway["kind"]) == ("networking.istio.io/v1", "Gateway")
    assert gateway["metadata"] == {"name": "cross-network-gateway", "namespace": "istio-system"}
    assert gateway["spec"] == {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {"port": {"number": 15443, "name": "tls", "protocol": "TLS"}, "tls": {"mode": "AUTO_PASSTHROUGH"}, "hosts": ["*.local"]}
        ],
    }


def test_single_network_mesh_has_no_east_west_pieces(flat: StackRun) -> None:
    names = {r.name for r in flat.resources}
    assert not {n for n in names if "eastwest" in n or "cross-network" in n}
    assert flat.named("c1-istio-istiod-1-30-3").inputs["values"] == {
        **istiod_identity("c1", "shared"),
        **ca_bundle_annotation(flat),
    }
    assert flat.named("c1-istio-base").inputs["values"] == {"defaultRevision": "1-30-3"}


def test_deep_merge_merges_nested_trees_and_replaces_leaves() -> None:
    base = {"global": {"meshID": "m", "proxy": {"resources": {"cpu": "1"}}}, "pilot": {"replicaCount": 1}}
    merged = deep_merge(base, {"global": {"proxy": {"resources": {"memory": "1Gi"}}}, "pilot": {"replicaCount": 2}})
    assert merged == {"global": {"meshID": "m", "proxy": {"resources": {"cpu": "1", "memory": "1Gi"}}}, "pilot": {"replicaCount": 2}}
    assert base["pilot"] == {"replicaCount": 1}


def test_component_type_tokens(multi: StackRun) -> None:
    assert sorted(r.name for r in multi.of_type("istio-multicluster:mesh:IstioControlPlane")) == ["c1-istio", "c2-istio", "c3-istio"]


def test_values_overrides_merge_mesh_wide_then_per_cluster() -> None:
    config = n_existing(2)
    config["istiodValues"] = {"pilot": {"replicaCount": 2, "resources": {"requests": {"cpu": "500m"}}}}
    config["clusters"][1]["istiodValues"] = {"pilot": {"resources": {"requests": {"memory": "2Gi"}}}}
    run = run_mesh(config)
    mesh_only = {"replicaCount": 2, "resources": {"requests": {"cpu": "500m"}}}
    assert run.named("c1-istio-istiod-1-30-3").inputs["values"]["pilot"] == mesh_only
    assert run.named("c2-istio-istiod-1-30-3").inputs["values"] == {
        **istiod_identity("c2", "network2"),
        **ca_bundle_annotation(run),
        "pilot": {"replicaCount": 2, "resources": {"requests": {"cpu": "500m", "memory": "2Gi"}}},
    }


def test_ingress_gateway_in_an_injection_enabled_namespace_after_the_default_tag() -> None:
    run = run_mesh({**n_existing(2), "ingressGateway": True, "istioRevisions": CANARY}, {"lb": "x"})
    namespace = run.named("c1-istio-istio-ingress").inputs["metadata"]
    assert namespace == {"name": "istio-ingress", "labels": {"istio-injection": "enabled"}}
    ingress = run.named("c1-istio-ingress")
    assert (ingress.inputs["name"], ingress.inputs["chart"], ingress.inputs["version"], ingress.inputs["namespace"]) == (
        "istio-ingressgateway",
        "gateway",
        "1.30.3",
        "istio-ingress",
    )
    assert ingress.inputs["values"] == {
        "name": "istio-ingressgateway",
        "podAnnotations": {"istio-multicluster/revision": "1-30-3", **gateway_ca_annotations(run, "c1")},
        "service": {"annotations": {"lb": "x"}},
    }
    # And the CA's certificates, whose digests its pods carry.
    needed = {"c1-istio-istio-ingress", "c1-istio-tag-default", "mesh-ca-c1-cert", "mesh-ca-root-cert"}
    assert {run.by_urn(u).name for u in ingress.dependencies} == needed
