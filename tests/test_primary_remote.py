"""Primary-remote: primaries expose istiod through the east-west gateway; remotes use it."""

from __future__ import annotations

import pytest

from tests.configs import n_existing, parse
from tests.harness.program import StackRun, run_program, run_stack
from tests.programs import mesh_program


@pytest.fixture(scope="module")
def mesh() -> StackRun:
    config = {"topology": "primary-remote", "istioRevision": "1-30-0", **n_existing(3)}
    config["clusters"][1].update(role="remote", primary="c1")
    config["clusters"][2].update(role="remote", primary="c1")
    return run_program(config, program=mesh_program(parse(config), link=True))


def primary_address(run: StackRun) -> str:
    return run.named("c1-istio-eastwest-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]


def test_primary_sets_external_istiod_and_exposes_it(mesh: StackRun) -> None:
    values = mesh.named("c1-istio-istiod").inputs["values"]
    assert values == {
        "global": {"meshID": "mesh1", "multiCluster": {"clusterName": "c1"}, "network": "network1", "externalIstiod": True},
        "revision": "1-30-0",
    }
    gateway = mesh.named("c1-istio-istiod-gateway").inputs
    assert (gateway["kind"], gateway["metadata"]["name"]) == ("Gateway", "istiod-gateway")
    assert gateway["spec"]["servers"] == [
        {"port": {"name": "tls-istiod", "number": 15012, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
        {"port": {"name": "tls-webhook", "number": 15017, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
    ]
    service = mesh.named("c1-istio-istiod-vs").inputs
    assert (service["kind"], service["metadata"]["name"]) == ("VirtualService", "istiod-vs-1-30-0")
    sni = ["istiod-1-30-0.istio-system.svc", "istiod-1-30-0.istio-system.svc.cluster.local"]
    host = "istiod-1-30-0.istio-system.svc.cluster.local"
    assert service["spec"] == {
        "hosts": ["*"],
        "gateways": ["istiod-gateway"],
        "tls": [
            {"match": [{"port": 15012, "sniHosts": sni}], "route": [{"destination": {"host": host, "port": {"number": 15012}}}]},
            {"match": [{"port": 15017, "sniHosts": sni}], "route": [{"destination": {"host": host, "port": {"number": 443}}}]},
        ],
    }


def test_remote_installs_the_remote_profile_pointed_at_the_primary(mesh: StackRun) -> None:
    assert mesh.named("c2-istio-base").inputs["values"] == {"profile": "remote", "defaultRevision": "1-30-0"}
    assert mesh.named("c2-istio-istiod").inputs["values"] == {
        "profile": "remote",
        "global": {
            "meshID": "mesh1",
            "multiCluster": {"clusterName": "c2"},
            "network": "network2",
            "remotePilotAddress": primary_address(mesh),
        },
        "revision": "1-30-0",
        "istiodRemote": {"injectionPath": "/inject/cluster/c2/net/network2"},
    }
    assert mesh.named("c3-istio-istio-system").inputs["metadata"]["annotations"] == {"topology.istio.io/controlPlaneClusters": "c1"}
    assert "annotations" not in mesh.named("c1-istio-istio-system").inputs["metadata"]


def test_a_remote_waits_for_its_primarys_gateway_address_and_nothing_else_of_it(mesh: StackRun) -> None:
    deps = {mesh.by_urn(u).name for u in mesh.named("c2-istio-istiod").dependencies}
    assert {d for d in deps if d.startswith("c1-")} == {"c1-istio-eastwest-service"}
    assert mesh.named("c1-istio-eastwest").urn in mesh.named("c1-istio-eastwest-service").dependencies


def test_remotes_do_not_expose_istiod(mesh: StackRun) -> None:
    names = {r.name for r in mesh.resources}
    assert "c2-istio-istiod-gateway" not in names and "c2-istio-istiod-vs" not in names
    assert "c2-istio-cross-network-gateway" in names  # still its own network


def test_kind_stack_exports_each_east_west_address() -> None:
    run = run_stack("kind")
    addresses = run.outputs["eastWestGateways"]
    assert sorted(addresses) == ["kind-1", "kind-2"]
    for cluster, address in addresses.items():
        assert address == run.named(f"{cluster}-istio-eastwest-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
        assert address.startswith("172.18.255.")
