"""MeshCheck: one version per cluster, and a probe whose success needs every one of them."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.mesh.check import CURL_IMAGE, HELLOWORLD_IMAGE, probe_script
from tests.harness.program import StackRun, run_stack


@pytest.fixture(scope="module")
def kind() -> StackRun:
    return run_stack("kind", {"clusters": three_kind_clusters()})


def three_kind_clusters() -> list[dict[str, object]]:
    return [
        {
            "name": f"kind-{i}",
            "cloud": "existing",
            "network": f"network{i}",
            "context": f"kind-kind-{i}",
            "apiServerUrl": f"https://kind-{i}-control-plane:6443",
        }
        for i in (1, 2, 3)
    ]


def test_sample_namespace_and_service_in_every_cluster(kind: StackRun) -> None:
    for i in (1, 2, 3):
        namespace = kind.named(f"mesh-check-kind-{i}-sample")
        assert namespace.inputs["metadata"] == {"name": "sample", "labels": {"istio-injection": "enabled"}}
        service = kind.named(f"mesh-check-kind-{i}-helloworld").inputs
        assert service["metadata"]["name"] == "helloworld"
        assert service["spec"]["ports"] == [{"name": "http", "port": 5000, "targetPort": 5000}]
        assert service["spec"]["selector"] == {"app": "helloworld"}
        assert namespace.provider_urn == kind.named(f"kind-{i}-provider").urn


def test_version_k_runs_only_in_cluster_k(kind: StackRun) -> None:
    deployments = {r.name: r for r in kind.of_type("kubernetes:apps/v1:Deployment")}
    assert sorted(deployments) == [f"mesh-check-kind-{i}-helloworld-v{i}" for i in (1, 2, 3)]
    for i in (1, 2, 3):
        deployment = deployments[f"mesh-check-kind-{i}-helloworld-v{i}"]
        container = deployment.inputs["spec"]["template"]["spec"]["containers"][0]
        assert container["image"] == HELLOWORLD_IMAGE
        assert container["env"] == [{"name": "SERVICE_VERSION", "value": f"v{i}"}]
        assert deployment.provider_urn == kind.named(f"kind-{i}-provider").urn
        assert kind.named(f"kind-{i}-istio-istiod").urn in deployment.dependencies


def test_probe_job_needs_every_version_and_waits_for_the_whole_mesh(kind: StackRun) -> None:
    job = kind.named("mesh-check-kind-2-probe")
    spec = job.inputs["spec"]
    assert spec["backoffLimit"] == 0 and spec["activeDeadlineSeconds"] > 0
    container = spec["template"]["spec"]["containers"][0]
    assert container["image"] == CURL_IMAGE
    assert container["command"][:2] == ["/bin/sh", "-c"]
    assert 'want="v1 v2 v3"' in container["command"][2]
    deps = {kind.by_urn(u).name for u in job.dependencies}
    assert {f"mesh-check-kind-{i}-helloworld-v{i}" for i in (1, 2, 3)} <= deps
    # depends_on a component means on its children: every remote secret of the mesh.
    assert {r.name for r in kind.resources if r.name.startswith("mesh-link-") and "-in-" in r.name} <= deps


def run_probe(tmp_path: Path, answers: list[str]) -> subprocess.CompletedProcess[str]:
    """Run the Job's script with stub curl (answering in turn) and sleep, as the pod would."""
    (tmp_path / "answers").write_text("\n".join(answers) + "\n")
    (tmp_path / "count").write_text("0")
    curl = tmp_path / "curl"
    curl.write_text(
        "#!/bin/sh\n"
        'case "$*" in *quitquitquit*) exit 0 ;; esac\n'
        f"n=$(cat {tmp_path}/count); n=$((n + 1)); echo $n > {tmp_path}/count\n"
        f'line=$(sed -n "$(( (n - 1) % $(wc -l < {tmp_path}/answers) + 1 ))p" {tmp_path}/answers)\n'
        'echo "Hello version: $line, instance: helloworld-$line-abc"\n'
    )
    sleep = tmp_path / "sleep"
    sleep.write_text("#!/bin/sh\nexit 0\n")
    curl.chmod(0o755)
    sleep.chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    return subprocess.run(
        ["/bin/sh", "-c", probe_script(["v1", "v2", "v3"])], env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_probe_passes_once_every_cluster_answered(tmp_path: Path) -> None:
    result = run_probe(tmp_path, ["v2", "v2", "v1", "v3"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mesh check passed: saw v2 v1 v3"


def test_probe_fails_listing_what_it_saw_and_what_it_missed(tmp_path: Path) -> None:
    result = run_probe(tmp_path, ["v1", "v3"])
    assert result.returncode == 1
    assert result.stderr.strip() == "mesh check failed after 90 attempts: saw v1 v3; never saw v2"
    assert (tmp_path / "count").read_text().strip() == "90"


def test_no_check_without_verify() -> None:
    run = run_stack("kind", {"verify": False})
    assert not [r for r in run.resources if r.name.startswith("mesh-check")]
