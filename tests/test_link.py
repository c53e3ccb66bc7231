"""MeshLink: reader tokens and remote secrets, exactly as istiod reads them."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import pytest
import yaml

from components.k8s.kubeconfig import bearer_kubeconfig
from components.mesh.link import remote_kubeconfig
from tests.configs import n_existing, parse
from tests.harness.program import StackRun, run_program
from tests.programs import api_url, mesh_program

REMOTE_SECRET = "istio-multicluster:mesh:MeshLink"


def run_linked(config: dict[str, Any]) -> StackRun:
    return run_program(config, program=mesh_program(parse(config)))


def remote_secrets(run: StackRun) -> list[Any]:
    return [r for r in run.of_type("kubernetes:core/v1:Secret") if "-in-" in r.name]


@pytest.fixture(scope="module")
def three() -> StackRun:
    return run_linked(n_existing(3))


@pytest.mark.parametrize("count", [2, 3, 5])
def test_every_ordered_pair_of_primaries_gets_a_remote_secret(count: int) -> None:
    run = run_linked(n_existing(count))
    pairs = sorted(
        (r.inputs["metadata"]["annotations"]["networking.istio.io/cluster"], r.name.split("-in-")[1]) for r in remote_secrets(run)
    )
    names = [f"c{i}" for i in range(1, count + 1)]
    assert pairs == sorted((source, holder) for source in names for holder in names if source != holder)
    assert len(pairs) == count * (count - 1)


def test_remote_secret_is_exactly_what_istiod_watches(three: StackRun) -> None:
    secret = three.named("mesh-link-c1-in-c2")
    assert secret.inputs["metadata"] == {
        "name": "istio-remote-secret-c1",
        "namespace": "istio-system",
        "labels": {"istio/multiCluster": "true"},
        "annotations": {"networking.istio.io/cluster": "c1"},
    }
    assert list(secret.inputs["stringData"]) == ["c1"]
    assert "stringData" in secret.secret_inputs or "stringData.c1" in secret.secret_inputs
    assert secret.provider_urn == three.named("c2-k8s").urn


def test_kubeconfig_carries_the_live_token_ca_and_reachable_server(three: StackRun) -> None:
    token = three.named("mesh-link-c1-reader-token").outputs["data"]
    kubeconfig = yaml.safe_load(three.named("mesh-link-c1-in-c3").inputs["stringData"]["c1"])
    assert kubeconfig["clusters"] == [{"name": "c1", "cluster": {"server": api_url("c1"), "certificate-authority-data": token["ca.crt"]}}]
    assert kubeconfig["users"] == [{"name": "c1", "user": {"token": base64.b64decode(token["token"]).decode()}}]
    assert kubeconfig["contexts"] == [{"name": "c1", "context": {"cluster": "c1", "user": "c1"}}]
    assert kubeconfig["current-context"] == "c1"
    assert "exec" not in str(kubeconfig) and "auth-provider" not in str(kubeconfig)


def test_reader_token_is_on_its_own_cluster_after_base(three: StackRun) -> None:
    token = three.named("mesh-link-c2-reader-token")
    assert token.inputs["type"] == "kubernetes.io/service-account-token"
    assert token.inputs["metadata"] == {
        "name": "istio-reader-service-account-istio-remote-secret-token",
        "namespace": "istio-system",
        "annotations": {"kubernetes.io/service-account.name": "istio-reader-service-account"},
    }
    assert three.named("c2-istio-base").urn in token.dependencies
    assert token.provider_urn == three.named("c2-k8s").urn


def test_remote_secret_waits_only_for_the_two_clusters_it_joins(three: StackRun) -> None:
    secret = three.named("mesh-link-c1-in-c2")
    deps = {three.by_urn(u).name for u in secret.dependencies}
    assert deps == {"mesh-link-c1-reader-token", "c2-istio-istio-system"}


def test_primary_remote_puts_only_secrets_into_primaries() -> None:
    config = {"topology": "primary-remote", **n_existing(3)}
    config["clusters"][1].update(role="remote", primary="c1")
    config["clusters"][2].update(role="remote", primary="c1")
    run = run_linked(config)
    assert sorted(r.name for r in remote_secrets(run)) == ["mesh-link-c2-in-c1", "mesh-link-c3-in-c1"]


def test_adding_a_cluster_adds_secrets_and_keeps_existing_ones() -> None:
    two, three = run_linked(n_existing(2)), run_linked(n_existing(3))
    before = {r.urn: r.inputs["metadata"] for r in remote_secrets(two)}
    after = {r.urn: r.inputs["metadata"] for r in remote_secrets(three)}
    assert before.items() <= after.items()  # same URNs, same names: nothing is replaced
    assert len(after) - len(before) == 4


def test_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="reader token Secret of cluster c1 has no token"):
        remote_kubeconfig("c1", "https://c1:6443", "Y2E=", "")
    with pytest.raises(ValueError, match="no bearer token for cluster c1"):
        bearer_kubeconfig("c1", "https://c1:6443", "Y2E=", "")


def test_link_component_reports_the_secrets_each_cluster_holds(three: StackRun) -> None:
    link = three.named("mesh-link")
    assert link.type == REMOTE_SECRET
    assert {r.name for r in three.children_of(link)} == {f"mesh-link-c{i}-reader-token" for i in (1, 2, 3)} | {
        f"mesh-link-c{s}-in-c{h}" for s in (1, 2, 3) for h in (1, 2, 3) if s != h
    }


def test_mixed_networks_link_every_pair_and_gateways_exist_on_all() -> None:
    # Two clusters share a flat network, the third is on its own: every primary still discovers
    # every other cluster, and the mesh is multi-network, so all three run an east-west gateway.
    spec = parse(n_existing(3))
    networks = {"c1": "shared", "c2": "shared", "c3": "other"}
    spec = replace(spec, clusters=tuple(replace(c, network=networks[c.name]) for c in spec.clusters))
    run = run_program(n_existing(3), program=mesh_program(spec))
    assert len(remote_secrets(run)) == 6
    assert sorted(r.name for r in run.resources if r.name.endswith("-istio-eastwest")) == [
        "c1-istio-eastwest",
        "c2-istio-eastwest",
        "c3-istio-eastwest",
    ]
    assert run.named("c2-istio-eastwest").inputs["values"]["networkGateway"] == "shared"
