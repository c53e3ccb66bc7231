"""MeshCheck: one version per cluster, a probe that needs all of them, and a check that runs when
what it proves changes, reports its own failure and recovers once the mesh is fixed."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from components.config.mesh_names import ProbeSet
from components.mesh.check import (
    CHECK_SECONDS,
    DEFAULT_PROBES,
    PAUSE_SECONDS,
    REQUEST_SECONDS,
    SIDECAR_SECONDS,
    east_west_path,
    paths_file,
    probe_script,
)
from tests.expected import CANARY
from tests.harness.program import StackRun, UpdateFailed, run_stack, stack_config
from tests.harness.webhooks import refused_at_first_up

IMAGE = "registry.istio.io/release/examples-helloworld-v1:1.0"
HARDENED = {
    "runAsNonRoot": True,
    "runAsUser": 65534,
    "runAsGroup": 65534,
    "readOnlyRootFilesystem": True,
    "allowPrivilegeEscalation": False,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}
CLUSTERS = ["kind-1", "kind-2", "kind-3"]


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


def test_each_cluster_serves_its_own_name_as_version_hardened(kind: StackRun) -> None:
    deployments = {r.name: r for r in kind.of_type("kubernetes:apps/v1:Deployment")}
    assert sorted(deployments) == [f"mesh-check-kind-{i}-helloworld-kind-{i}" for i in (1, 2, 3)]
    for i in (1, 2, 3):
        deployment = deployments[f"mesh-check-kind-{i}-helloworld-kind-{i}"]
        pod = deployment.inputs["spec"]["template"]["spec"]
        assert pod["containers"] == [
            {
                "name": "helloworld",
                "image": IMAGE,
                "env": [{"name": "SERVICE_VERSION", "value": f"kind-{i}"}],
                "ports": [{"containerPort": 5000}],
                "securityContext": HARDENED,
                "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}},
                "volumeMounts": [{"name": "tmp", "mountPath": "/tmp"}],  # noqa: S108 - the pod's emptyDir
            }
        ]
        assert pod["volumes"] == [{"name": "tmp", "emptyDir": {}}]
        assert deployment.provider_urn == kind.named(f"kind-{i}-provider").urn
        # Pods name the revision their tag points at, so they restart onto a new one when it moves.
        assert deployment.inputs["spec"]["template"]["metadata"]["annotations"] == {"istio-multicluster/revision": "1-30-3"}
        assert kind.named(f"kind-{i}-istio-tag-default").urn in deployment.dependencies


def test_while_a_canary_runs_each_tag_proves_its_own_proxies_reach_every_cluster() -> None:
    run = run_stack("kind", {"istioRevisions": CANARY})
    for i in (1, 2):
        namespace = run.named(f"mesh-check-kind-{i}-sample-canary").inputs["metadata"]
        assert namespace == {"name": "sample-canary", "labels": {"istio.io/rev": "canary"}}
        server = run.named(f"mesh-check-kind-{i}-canary-helloworld-kind-{i}")
        assert server.inputs["metadata"]["namespace"] == "sample-canary"
        assert server.inputs["spec"]["template"]["metadata"]["annotations"] == {"istio-multicluster/revision": "1-31-0"}
        assert run.needs(server.name, f"kind-{i}-istio-tag-canary")
        probe = run.named(f"mesh-check-kind-{i}-canary-probe")
        assert probe.inputs["metadata"]["namespace"] == "sample-canary"
        script = probe.inputs["spec"]["template"]["spec"]["containers"][0]["command"][2]
        assert script == probe_script(f"kind-{i}", ["kind-1", "kind-2"], ProbeSet("canary", "canary", sidecar=True))
        assert 'url="http://helloworld.sample-canary:5000/hello"' in script
        assert run.needs(probe.name, f"kind-{i}-istio-tag-canary")
        assert {f"mesh-check-kind-{k}-canary-helloworld-kind-{k}" for k in (1, 2)} <= {run.by_urn(u).name for u in probe.dependencies}
        # The default tag's workloads stay on the default revision.
        default = run.named(f"mesh-check-kind-{i}-helloworld-kind-{i}").inputs["spec"]["template"]["metadata"]
        assert default["annotations"] == {"istio-multicluster/revision": "1-30-3"}
    assert refused_at_first_up(run) == []


def test_probe_job_reports_its_failure_before_its_deadline_and_pulumi_waits_longer(kind: StackRun) -> None:
    job = kind.named("mesh-check-kind-2-probe")
    assert job.inputs["metadata"] == {"name": "mesh-check", "namespace": "sample", "annotations": {"pulumi.com/replaceUnready": "true"}}
    spec = job.inputs["spec"]
    assert (spec["backoffLimit"], spec["activeDeadlineSeconds"]) == (0, 395)
    assert job.custom_timeouts == {"create": "455s", "update": "455s"}
    # The probe's worst case (its sidecar ready just before SIDECAR_SECONDS, its last request just
    # before CHECK_SECONDS after a pause) leaves the pod about a minute and a half to be scheduled
    # and pull its image; Pulumi waits a minute more.
    assert 395 - (SIDECAR_SECONDS + PAUSE_SECONDS + CHECK_SECONDS + PAUSE_SECONDS + REQUEST_SECONDS) == 86
    template = spec["template"]
    # The classic sidecar: a native one would keep the probe from starting until it is ready.
    assert template["metadata"]["annotations"] == {"sidecar.istio.io/nativeSidecar": "false"}
    assert template["spec"]["containers"] == [
        {
            "name": "probe",
            "image": IMAGE,
            "command": ["/bin/sh", "-c", probe_script("kind-2", CLUSTERS)],
            "env": [{"name": "PATHS_FILE", "value": "/etc/mesh-check/paths"}],
            "volumeMounts": [{"name": "paths", "mountPath": "/etc/mesh-check", "readOnly": True}],
            "securityContext": HARDENED,
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}},
            "terminationMessagePolicy": "FallbackToLogsOnError",
        }
    ]
    assert template["spec"]["volumes"] == [{"name": "paths", "configMap": {"name": "mesh-check-paths"}}]
    # Besides every cluster, each other cluster's own Service, whose pods run there alone.
    listed = kind.named("mesh-check-kind-2-paths")
    assert listed.inputs["data"] == {"paths": paths_file([east_west_path(c, "sample") for c in ("kind-1", "kind-3")])}
    deps = {kind.by_urn(u).name for u in job.dependencies}
    assert listed.name in deps
    assert {f"mesh-check-kind-{i}-helloworld-kind-{i}" for i in (1, 2, 3)} <= deps
    assert {f"mesh-check-kind-{i}-helloworld-only-kind-{j}" for i in (1, 2, 3) for j in (1, 2, 3)} <= deps
    # depends_on a component means on its children: every remote secret of the mesh.
    assert {r.name for r in kind.resources if r.name.startswith("mesh-link-") and "-in-" in r.name} <= deps


def test_what_the_check_proves_is_a_secret_replacement_trigger_of_every_probe(kind: StackRun) -> None:
    triggers = {r.replacement_trigger for r in kind.of_type("kubernetes:batch/v1:Job")}
    assert len(triggers) == 1 and len(next(iter(triggers))) == 64
    assert all(r.trigger_secret for r in kind.of_type("kubernetes:batch/v1:Job"))


def probe_operations(run: StackRun) -> set[str]:
    return {r.operation for r in run.of_type("kubernetes:batch/v1:Job")}


@pytest.mark.parametrize(
    ("change", "operations"),
    [
        ({}, {"same"}),
        ({"istioRevisions": {"default": "1.31.0"}}, {"replace"}),
        ({"istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}}, {"replace", "create"}),
        ({"caRootValidityHours": 80000}, {"replace"}),
        ({"clusters:kind-2.apiServerUrl": "https://172.18.0.3:6443"}, {"replace"}),
        ({"accessLog": False}, {"same"}),
    ],
)
def test_the_check_runs_again_exactly_when_what_it_proves_changes(change: dict[str, Any], operations: set[str]) -> None:
    before = run_stack("kind")
    overrides: dict[str, Any] = {}
    for key, value in change.items():
        if key.startswith("clusters:"):
            cluster, field = key.removeprefix("clusters:").split(".")
            clusters = run_stack_config_clusters()
            next(c for c in clusters if c["name"] == cluster)[field] = value
            overrides["clusters"] = clusters
        else:
            overrides[key] = value
    after = run_stack("kind", overrides, state=before.state())
    assert probe_operations(after) == operations


def run_stack_config_clusters() -> list[dict[str, Any]]:
    return stack_config("kind")["clusters"]


def test_a_failed_check_fails_the_update_with_its_message_and_runs_again_once_the_mesh_is_fixed() -> None:
    message = "[Error] mesh check failed in kind-1 after 240s: saw kind-1; never saw kind-2"
    with pytest.raises(UpdateFailed) as failed:
        run_stack("kind", job_failures={"mesh-check-kind-1-probe": message})
    assert [e.split(": ", 1)[1] for e in failed.value.errors] == [f"Resource 'mesh-check' was created but failed to initialize: {message}"]
    # Nothing in the program changed, but the failed Job is replaced rather than awaited again.
    fixed = run_stack("kind", state=failed.value.run.state())
    assert {r.name: r.operation for r in fixed.of_type("kubernetes:batch/v1:Job")} == {
        "mesh-check-kind-1-probe": "replace",
        "mesh-check-kind-2-probe": "same",
    }


def run_probe(tmp_path: Path, answers: list[str], not_ready: int = 0, probes: ProbeSet | None = None) -> subprocess.CompletedProcess[str]:
    """Run the Job's script with stub curl (the sidecar ready after ``not_ready`` refusals, then
    helloworld answering in turn), date (3 s per call) and sleep."""
    (tmp_path / "answers").write_text("\n".join(answers) + "\n")
    (tmp_path / "count").write_text("0")
    (tmp_path / "not-ready").write_text(str(not_ready))
    (tmp_path / "clock").write_text("1000")
    stubs = {
        "curl": (
            'case "$*" in *quitquitquit*) exit 0 ;; esac\n'
            f'case "$*" in *healthz/ready*) r=$(cat {tmp_path}/not-ready); echo $((r - 1)) > {tmp_path}/not-ready; '
            '[ "$r" -le 0 ]; exit $? ;; esac\n'
            f"n=$(cat {tmp_path}/count); n=$((n + 1)); echo $n > {tmp_path}/count\n"
            f'line=$(sed -n "$(( (n - 1) % $(wc -l < {tmp_path}/answers) + 1 ))p" {tmp_path}/answers)\n'
            'echo "Hello version: $line, instance: helloworld-$line-abc"\n'
        ),
        "date": f"t=$(cat {tmp_path}/clock); echo $t; echo $((t + 3)) > {tmp_path}/clock\n",
        "sleep": "exit 0\n",
    }
    for name, body in stubs.items():
        (tmp_path / name).write_text("#!/bin/sh\n" + body)
        (tmp_path / name).chmod(0o755)
    env = {"PATH": f"{tmp_path}:/usr/bin:/bin"}
    return subprocess.run(
        ["/bin/sh", "-c", probe_script("kind-1", CLUSTERS, probes or DEFAULT_PROBES)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_probe_passes_once_every_cluster_answered(tmp_path: Path) -> None:
    result = run_probe(tmp_path, ["kind-2", "kind-2", "kind-1", "kind-3"])
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mesh check passed in kind-1 after 12s: saw kind-2 kind-1 kind-3"


def test_probe_waits_for_its_sidecar_and_its_budget_starts_then(tmp_path: Path) -> None:
    result = run_probe(tmp_path, ["kind-1", "kind-2", "kind-3"], not_ready=5)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "mesh check passed in kind-1 after 9s: saw kind-1 kind-2 kind-3"


def test_a_sidecar_that_never_gets_ready_ends_in_the_probes_own_line(tmp_path: Path) -> None:
    """Without this line the Job would end on its deadline, and the update's error would not say
    which cluster's mesh is broken."""
    result = run_probe(tmp_path, ["kind-1"], not_ready=1000)
    assert result.returncode == 1
    assert result.stderr.strip() == (
        f"mesh check failed in kind-1 after {SIDECAR_SECONDS}s: its sidecar never became ready (is istiod on kind-1 "
        "running and issuing certificates?); never saw kind-1 kind-2 kind-3"
    )
    assert (tmp_path / "count").read_text().strip() == "0"  # helloworld was never called


def test_probe_gives_up_within_its_budget_naming_what_it_saw_and_missed(tmp_path: Path) -> None:
    result = run_probe(tmp_path, ["kind-1", "kind-3"])
    assert result.returncode == 1
    assert result.stderr.strip() == "mesh check failed in kind-1 after 240s: saw kind-1 kind-3; never saw kind-2"
    assert (tmp_path / "count").read_text().strip() == "80"


def test_an_ambient_meshs_sidecar_probe_names_itself_in_its_lines(tmp_path: Path) -> None:
    """In an ambient mesh with the sidecar gateway, two probes run per cluster: a failure must say
    which data plane failed."""
    sidecars = ProbeSet("default", "sidecar", sidecar=True)
    failed = run_probe(tmp_path, ["kind-1"], not_ready=1000, probes=sidecars)
    assert failed.stderr.strip().startswith(f"mesh check of sidecars failed in kind-1 after {SIDECAR_SECONDS}s: its sidecar never")
    (tmp_path / "again").mkdir()
    passed = run_probe(tmp_path / "again", ["kind-1", "kind-2", "kind-3"], probes=sidecars)
    assert passed.stdout.strip() == "mesh check of sidecars passed in kind-1 after 9s: saw kind-1 kind-2 kind-3"
    ambient = probe_script("kind-1", CLUSTERS, ProbeSet("default", "default", sidecar=False))
    assert 'url="http://helloworld.sample:5000/hello"' in ambient and "mesh check passed in kind-1" in ambient


def test_no_check_without_verify() -> None:
    run = run_stack("kind", {"verify": False})
    assert not [r for r in run.resources if r.name.startswith("mesh-check")]
