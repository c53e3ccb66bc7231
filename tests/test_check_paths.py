"""MeshCheck proves the seeds' paths too: a Service whose pods run in one cluster alone, reached from
every other cluster east-west, and helloworld through every cluster's ingress gateway by its Host
north-south; a failure names the path that never answered."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from components.mesh.check import (
    CHECK_SECONDS,
    INGRESS_HOST,
    PATHS_DIR,
    PATHS_ENV,
    PATHS_KEY,
    east_west_path,
    ingress_path,
    paths_file,
    probe_script,
    solo_service_name,
)
from tests.harness.program import StackRun, run_stack, stack_config

PATHS = [
    east_west_path("kind-2", "sample"),
    east_west_path("kind-3", "sample"),
    ingress_path("kind-1", "http://172.18.255.201:80"),
    ingress_path("kind-2", "https://k8s-istioing-edge.eu-west-1.elb.amazonaws.com:443"),
]


def run_probe(tmp_path: Path, broken: str = "", misrouted: str = "") -> subprocess.CompletedProcess[str]:
    """The kind-1 probe with every path, against a stub curl that answers as the mesh would: the
    shared Service from each cluster in turn, a cluster's own Service from that cluster, an ingress
    only for the check's Host; nothing where a URL holds ``broken``, and kind-1 where it holds
    ``misrouted``; an HTTPS ingress only when asked not to verify its certificate, which names the
    users' domain. date advances 3 s a call."""
    (tmp_path / "count").write_text("0")
    (tmp_path / "clock").write_text("1000")
    curl = f"""case "$*" in *quitquitquit*|*healthz/ready*) exit 0 ;; esac
case "$*" in *"{broken or "no such url"}"*) exit 7 ;; *"{misrouted or "no such url"}"*) echo "Hello version: kind-1, i" ; exit 0 ;; esac
case "$*" in
  *helloworld.sample:5000*)
    n=$(cat {tmp_path}/count); n=$((n + 1)); echo $n > {tmp_path}/count
    echo "Hello version: kind-$(( (n - 1) % 3 + 1 )), instance: x" ;;
  *helloworld-kind-2.sample:5000*) echo "Hello version: kind-2, instance: x" ;;
  *helloworld-kind-3.sample:5000*) echo "Hello version: kind-3, instance: x" ;;
  *" https:"*"-H Host: {INGRESS_HOST} --insecure"*) echo "Hello version: kind-3, instance: x" ;;
  *" https:"*) exit 60 ;;
  *" http:"*"-H Host: {INGRESS_HOST}"*) echo "Hello version: kind-3, instance: x" ;;
  *) exit 7 ;;
esac
"""
    stubs = {"curl": curl, "date": f"t=$(cat {tmp_path}/clock); echo $t; echo $((t + 3)) > {tmp_path}/clock\n", "sleep": "exit 0\n"}
    for name, body in stubs.items():
        (tmp_path / name).write_text("#!/bin/sh\n" + body)
        (tmp_path / name).chmod(0o755)
    (tmp_path / "paths").write_text(paths_file(PATHS))
    script = probe_script("kind-1", ["kind-1", "kind-2", "kind-3"])
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin", PATHS_ENV: str(tmp_path / "paths")}
    return subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)


def test_the_probe_passes_once_every_cluster_and_every_path_answered(tmp_path: Path) -> None:
    result = run_probe(tmp_path)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "mesh check passed in kind-1 after 21s: saw kind-1 kind-2 kind-3 and every path (east-west to kind-2, east-west to "
        "kind-3, ingress of kind-1, ingress of kind-2)"
    )


@pytest.mark.parametrize(
    ("broken", "named"),
    [
        ("helloworld-kind-3.sample", "east-west to kind-3 (helloworld-kind-3, pods only in kind-3)"),
        ("172.18.255.201", f"ingress of kind-1 (http://172.18.255.201:80, Host {INGRESS_HOST})"),
        ("k8s-istioing-edge", f"ingress of kind-2 (https://k8s-istioing-edge.eu-west-1.elb.amazonaws.com:443, Host {INGRESS_HOST})"),
    ],
)
def test_a_path_that_never_answers_is_named_within_the_budget(tmp_path: Path, broken: str, named: str) -> None:
    result = run_probe(tmp_path, broken)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"mesh check failed in kind-1 after {CHECK_SECONDS}s: saw kind-1 kind-2 kind-3; nothing answered on: {named}"
    )


def test_every_broken_path_is_named_and_the_clusters_come_first(tmp_path: Path) -> None:
    both = run_probe(tmp_path, "sample:5000")
    assert both.stderr.strip().endswith("saw nothing; never saw kind-1 kind-2 kind-3")
    (tmp_path / "again").mkdir()
    ingress = run_probe(tmp_path / "again", "/hello -H Host")
    assert ingress.stderr.strip().endswith(
        f"nothing answered on: ingress of kind-1 (http://172.18.255.201:80, Host {INGRESS_HOST}); "
        f"ingress of kind-2 (https://k8s-istioing-edge.eu-west-1.elb.amazonaws.com:443, Host {INGRESS_HOST})"
    )


def test_a_wrong_cluster_answering_a_clusters_own_service_does_not_count(tmp_path: Path) -> None:
    result = run_probe(tmp_path, misrouted="helloworld-kind-2.sample")
    assert result.stderr.strip().endswith("nothing answered on: east-west to kind-2 (helloworld-kind-2, pods only in kind-2)")
    assert paths_file([east_west_path("kind-2", "sample")]).endswith("|http://helloworld-kind-2.sample:5000/hello||kind-2")


def test_without_a_paths_file_the_probe_proves_the_clusters_alone(tmp_path: Path) -> None:
    """The other probe sets (tags, ambient's sidecars) mount no paths."""
    for name, body in {"curl": 'echo "Hello version: kind-1, instance: x"', "sleep": "exit 0"}.items():
        (tmp_path / name).write_text(f"#!/bin/sh\n{body}\n")
        (tmp_path / name).chmod(0o755)
    script = probe_script("kind-1", ["kind-1"])
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    result = subprocess.run(["/bin/sh", "-c", script], env=env, capture_output=True, text=True, timeout=60, check=False)
    # The elapsed seconds are the wall clock's: a busy machine may cross a second boundary.
    assert re.fullmatch(r"mesh check passed in kind-1 after [01]s: saw kind-1", result.stdout.strip()), result.stderr


@pytest.fixture(scope="module")
def aks() -> StackRun:
    return run_stack("aks")


AKS = ("westeurope-aks", "eastus-aks")


def test_each_cluster_has_a_service_per_cluster_that_selects_only_its_pods(aks: StackRun) -> None:
    for cluster in AKS:
        for owner in AKS:
            service = aks.named(f"mesh-check-{cluster}-helloworld-only-{owner}")
            assert service.inputs["metadata"] == {
                "name": f"helloworld-{owner}",
                "namespace": "sample",
                "labels": {"app": "helloworld", "service": f"helloworld-{owner}"},
            }
            assert service.inputs["spec"]["selector"] == {"app": "helloworld", "version": owner}
            assert service.provider_urn == aks.named(f"{cluster}-provider").urn


def test_each_ingress_gateway_routes_the_checks_host_to_helloworld(aks: StackRun) -> None:
    for cluster in AKS:
        gateway = aks.named(f"mesh-check-{cluster}-ingress-gateway")
        assert gateway.inputs["metadata"] == {"name": "mesh-check", "namespace": "sample"}
        assert gateway.inputs["spec"] == {
            "selector": {"istio": "ingressgateway"},
            "servers": [{"port": {"number": 80, "name": "http", "protocol": "HTTP"}, "hosts": [INGRESS_HOST]}],
        }
        route = aks.named(f"mesh-check-{cluster}-ingress-route")
        destination = {"host": "helloworld.sample.svc.cluster.local", "port": {"number": 5000}}
        assert route.inputs["spec"] == {
            "hosts": [INGRESS_HOST],
            "gateways": ["mesh-check"],
            "http": [{"route": [{"destination": destination}]}],
        }
        for config in (gateway, route):
            assert config.provider_urn == aks.named(f"{cluster}-provider").urn
            assert aks.needs(config.name, f"{cluster}-istio-istiod-1-30-3")


def test_every_probe_asks_every_ingress_gateway_at_the_address_read_from_its_service(aks: StackRun) -> None:
    addresses = {c: aks.named(f"{c}-istio-ingress-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"] for c in AKS}
    for cluster in AKS:
        probe = aks.named(f"mesh-check-{cluster}-probe")
        others = [c for c in sorted(AKS) if c != cluster]
        paths = [east_west_path(c, "sample") for c in others] + [ingress_path(c, f"http://{addresses[c]}:80") for c in sorted(AKS)]
        listed = aks.named(f"mesh-check-{cluster}-paths")
        assert listed.inputs["metadata"] == {"name": "mesh-check-paths", "namespace": "sample"}
        assert listed.inputs["data"] == {PATHS_KEY: paths_file(paths)}
        assert listed.provider_urn == aks.named(f"{cluster}-provider").urn
        pod = probe.inputs["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["command"][2] == probe_script(cluster, list(AKS))
        assert container["env"] == [{"name": PATHS_ENV, "value": f"{PATHS_DIR}/{PATHS_KEY}"}]
        assert container["volumeMounts"] == [{"name": "paths", "mountPath": PATHS_DIR, "readOnly": True}]
        assert pod["volumes"] == [{"name": "paths", "configMap": {"name": "mesh-check-paths"}}]
        for needed in (
            listed.name,
            *(f"mesh-check-{c}-ingress-{k}" for c in AKS for k in ("gateway", "route")),
            *(f"{c}-istio-ingress" for c in AKS),
        ):
            assert aks.needs(probe.name, needed), needed


def test_in_ambient_a_clusters_own_service_is_global() -> None:
    run = run_stack("kind-ambient")
    labels = run.named("mesh-check-kind-1-helloworld-only-kind-2").inputs["metadata"]["labels"]
    assert labels == {"app": "helloworld", "service": "helloworld-kind-2", "istio.io/global": "true"}


def test_a_long_cluster_name_still_makes_a_service_name() -> None:
    long = "c" * 63
    name = solo_service_name(long)
    assert len(name) == 63 and re.fullmatch("helloworld--" + "c" * 42 + "-[0-9a-f]{8}", name)
    assert solo_service_name("c" * 52) == "helloworld-" + "c" * 52
    assert solo_service_name(long) != solo_service_name("c" * 62)
    # A cluster deliberately named as a cut name's tail still gets a Service of its own.
    tail = name.removeprefix("helloworld--")
    assert solo_service_name(tail) == f"helloworld-{tail}" != name
    assert re.fullmatch("[a-z]([-a-z0-9]*[a-z0-9])?", name)  # a DNS-1035 label, as Service names are


def test_in_primary_remote_the_ingress_route_lives_on_the_primary_and_every_probe_uses_every_ingress() -> None:
    """A remote's istiod is its primary's, which reads Istio config from the primary alone; its
    selector matches the remote's ingress gateway pods too."""
    config = stack_config("eks")
    config["clusters"][1].update(role="remote", primary="cluster-1")
    run = run_stack("eks", {"topology": "primary-remote", "clusters": config["clusters"]})
    assert [r.name for r in run.resources if "-ingress-gateway" in r.name or "-ingress-route" in r.name] == [
        "mesh-check-cluster-1-ingress-gateway",
        "mesh-check-cluster-1-ingress-route",
    ]
    listed = run.named("mesh-check-cluster-2-paths").inputs["data"][PATHS_KEY]
    assert [line.split(" (")[0] for line in listed.splitlines()] == [
        "east-west to cluster-1",
        "ingress of cluster-1",
        "ingress of cluster-2",
    ]
