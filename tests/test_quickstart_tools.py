"""scripts/kind end to end, as a user runs it: bash, scripts/env.sh and scripts/kind.py against fake
docker, kind and pulumi executables that refuse what the real ones refuse (tests/harness/fake_tools.py),
on a PATH holding those and a few coreutils, and no uv."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.harness import fake_tools

ROOT = Path(__file__).resolve().parent.parent
# What scripts/kind and scripts/env.sh call besides the tools under test.
COREUTILS = ("bash", "dirname", "mkdir", "ln", "realpath")
USER_LOGIN = {"current": "https://api.pulumi.com"}
CONFIG = "istio-multicluster:clusters"


def real_uv() -> str:
    """The uv scripts/check ran with: on PATH, else the pinned one in .tools."""
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    if not Path(found).exists():
        pytest.skip("no uv to hand to scripts/env.sh (run the tests through scripts/check)")
    return found


class Machine:
    """A home directory, a PATH and the fakes' state for one user of the quick start."""

    def __init__(self, tmp: Path, tools: tuple[str, ...] = fake_tools.TOOLS, daemon: bool = True) -> None:
        self.state = tmp / "state"
        self.home = tmp / "home"
        (self.home / ".pulumi").mkdir(parents=True)
        (self.home / ".pulumi" / "credentials.json").write_text(json.dumps(USER_LOGIN))
        fakes, system = tmp / "fakes", tmp / "system"
        fake_tools.install(fakes, self.state)
        for tool in set(fake_tools.TOOLS) - set(tools):
            (fakes / tool).unlink()
        system.mkdir()
        for tool in COREUTILS:
            located = shutil.which(tool)
            assert located, tool
            (system / tool).symlink_to(located)
        self.environment = {
            "HOME": str(self.home),
            "PATH": f"{fakes}:{system}",
            # scripts/env.sh takes the uv that `uv run` (or scripts/check) names, so no download.
            "UV": real_uv(),
            "UV_CACHE_DIR": os.environ.get("UV_CACHE_DIR", str(Path.home() / ".cache" / "uv")),
            "FAKE_DOCKER_DAEMON": "up" if daemon else "down",
        }
        assert shutil.which("uv", path=self.environment["PATH"]) is None

    def run(self, *args: str, passphrase: bool = True) -> subprocess.CompletedProcess[str]:
        environment = {**self.environment, **({"PULUMI_CONFIG_PASSPHRASE": "quick start"} if passphrase else {})}
        return subprocess.run(
            [str(ROOT / "scripts" / "kind"), *args], env=environment, capture_output=True, text=True, timeout=120, check=False
        )

    def calls(self) -> list[list[str]]:
        return fake_tools.calls(self.state)

    def stacks(self) -> dict[str, dict[str, object]]:
        return json.loads((self.home / ".pulumi" / "fake-stacks.json").read_text())


def test_up_runs_to_pulumi_up_with_only_docker_kind_and_pulumi_on_path(tmp_path: Path) -> None:
    machine = Machine(tmp_path)
    result = machine.run("up")
    assert result.returncode == 0, result.stderr
    config = ["pulumi", "config", "set", "--stack", "kind", "--path"]
    assert machine.calls() == [
        ["docker", "info"],
        ["pulumi", "version"],
        ["kind", "get", "clusters"],
        ["kind", "create", "cluster", "--name", "kind-1"],
        ["kind", "create", "cluster", "--name", "kind-2"],
        ["docker", "network", "inspect", "kind"],
        ["docker", "inspect", "kind-1-control-plane"],
        ["docker", "inspect", "kind-2-control-plane"],
        ["pulumi", "stack", "select", "--create", "kind"],
        [*config, f"{CONFIG}[0].apiServerUrl", "https://172.18.0.2:6443"],
        [*config, f"{CONFIG}[0].metallb.addresses[0]", "172.18.255.200-172.18.255.224"],
        [*config, f"{CONFIG}[1].apiServerUrl", "https://172.18.0.3:6443"],
        [*config, f"{CONFIG}[1].metallb.addresses[0]", "172.18.255.225-172.18.255.249"],
        ["pulumi", "install"],
        ["pulumi", "up", "--stack", "kind", "--yes"],
    ]
    # The stack lives in the local backend in ~/.pulumi; the user's own login is untouched.
    assert machine.stacks()["kind"]["deployed"] is True
    assert json.loads((machine.home / ".pulumi" / "credentials.json").read_text()) == USER_LOGIN
    assert "backend file://~" in result.stderr

    calls_of_up = len(machine.calls())
    down = machine.run("down")
    assert down.returncode == 0, down.stderr
    assert machine.calls()[calls_of_up:] == [
        ["docker", "info"],
        ["pulumi", "version"],
        ["pulumi", "destroy", "--stack", "kind", "--yes"],
        ["kind", "get", "clusters"],
        ["kind", "delete", "cluster", "--name", "kind-1"],
        ["kind", "delete", "cluster", "--name", "kind-2"],
    ]
    assert machine.stacks()["kind"]["deployed"] is False


def test_every_missing_prerequisite_is_reported_before_anything_is_touched(tmp_path: Path) -> None:
    machine = Machine(tmp_path, tools=())
    result = machine.run("up", passphrase=False)
    assert result.returncode == 2
    assert result.stderr.splitlines()[-5:] == [
        "scripts/kind up: 4 prerequisite(s) missing; nothing was changed:",
        "  - PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set: the local backend encrypts the stack's "
        "secrets with it, and Pulumi would stop to ask for it; export one",
        "  - docker is not on PATH: install Docker (https://docs.docker.com/get-started/get-docker/)",
        "  - kind is not on PATH: install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
        "  - pulumi is not on PATH: install the Pulumi CLI 3.187.0 or newer (https://www.pulumi.com/docs/iac/download-install/)",
    ]
    assert machine.calls() == []


def test_a_stopped_daemon_and_an_old_cli_are_found_before_any_cluster_is_created(tmp_path: Path) -> None:
    machine = Machine(tmp_path, daemon=False)
    machine.environment["FAKE_PULUMI_VERSION"] = "v3.150.0"
    result = machine.run("up")
    assert result.returncode == 2
    assert result.stderr.splitlines()[-3:] == [
        "scripts/kind up: 2 prerequisite(s) missing; nothing was changed:",
        "  - docker cannot reach its daemon (`docker info` fails): start Docker, or give your user access to it",
        "  - pulumi is 3.150.0; Pulumi.yaml requires 3.187.0 or newer: upgrade the Pulumi CLI",
    ]
    assert machine.calls() == [["docker", "info"], ["pulumi", "version"]]


def test_the_fakes_refuse_what_the_real_tools_refuse(tmp_path: Path) -> None:
    """Without these refusals the end-to-end test above could pass on a script that breaks for users."""
    machine = Machine(tmp_path)
    fakes = machine.environment["PATH"].split(":")[0]

    def pulumi(*args: str, **extra: str) -> subprocess.CompletedProcess[str]:
        environment = {**machine.environment, **extra}
        return subprocess.run([f"{fakes}/pulumi", *args], cwd=ROOT, env=environment, capture_output=True, text=True, check=False)

    local = {"PULUMI_BACKEND_URL": "file://~", "PULUMI_CONFIG_PASSPHRASE": "p"}
    assert "Could not find `uv` executable" in pulumi("install", **local).stderr
    assert "passphrase must be set" in pulumi("stack", "select", "--create", "kind", PULUMI_BACKEND_URL="file://~").stderr
    assert "no stack named 'kind'" in pulumi("config", "set", "--stack", "kind", "--path", "a", "b", **local).stderr
    (machine.home / ".pulumi" / "credentials.json").unlink()
    assert "no backend" in pulumi("stack", "select", "--create", "kind").stderr
    docker = subprocess.run(
        [f"{fakes}/docker", "network", "inspect", "kind"], env=machine.environment, capture_output=True, text=True, check=False
    )
    assert "network kind not found" in docker.stderr
