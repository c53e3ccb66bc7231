"""scripts/kind: what it reads from Docker and the commands it runs, without Docker, kind or Pulumi."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Sequence
from pathlib import Path

import pytest
import yaml

from components.platforms.existing.config import existing_part
from scripts import kind
from tests.configs import parse
from tests.harness.program import stack_config

ROOT = Path(__file__).resolve().parent.parent
CLUSTERS = kind.stack_clusters(yaml.safe_load((ROOT / "Pulumi.kind.yaml").read_text()))
PASSPHRASE = {"PULUMI_CONFIG_PASSPHRASE": "test"}


def network_inspect(*subnets: str) -> str:
    return json.dumps([{"Name": "kind", "IPAM": {"Driver": "default", "Config": [{"Subnet": s} for s in subnets]}}])


def container_inspect(name: str, address: str) -> str:
    return json.dumps([{"Name": f"/{name}", "NetworkSettings": {"Networks": {"kind": {"IPAddress": address}}}}])


MINIMUM = (3, 187, 0)
TOOLS = ("docker", "kind", "uv", "pulumi")


class FakeShell:
    """Records commands and answers the ones whose output the script reads."""

    def __init__(
        self,
        existing: Sequence[str] = (),
        subnets: Sequence[str] = ("fc00:f853:ccd:e793::/64", "172.18.0.0/16"),
        tools: Sequence[str] = TOOLS,
        daemon: bool = True,
        version: str = "v3.190.0\n",
    ) -> None:
        self.commands: list[list[str]] = []
        self.probes: list[list[str]] = []
        self.existing = list(existing)
        self.subnets = subnets
        self.tools = set(tools)
        self.daemon = daemon
        self.version = version

    def found(self, tool: str) -> bool:
        return tool in self.tools

    def probe(self, command: Sequence[str]) -> str | None:
        self.probes.append(list(command))
        if list(command) == ["docker", "info"]:
            return "Server Version: 28.2.2" if self.daemon else None
        if list(command) == ["pulumi", "version"]:
            return self.version
        raise AssertionError(f"unexpected probe {command}")

    def run(self, command: Sequence[str]) -> str:
        self.commands.append(list(command))
        if list(command) == ["kind", "get", "clusters"]:
            return "\n".join(self.existing)
        if command[:3] == ["docker", "network", "inspect"]:
            return network_inspect(*self.subnets)
        if command[:2] == ["docker", "inspect"]:
            index = int(command[2].removeprefix("kind-").split("-")[0])
            return container_inspect(command[2], f"172.18.0.{index + 1}")
        return ""


def test_the_clusters_come_from_the_stack_file() -> None:
    clusters = kind.stack_clusters(yaml.safe_load((ROOT / "Pulumi.kind.yaml").read_text()))
    assert clusters == [kind.KindCluster(0, "kind-1", "kind-1"), kind.KindCluster(1, "kind-2", "kind-2")]
    assert [c.control_plane for c in CLUSTERS] == ["kind-1-control-plane", "kind-2-control-plane"]


def test_metallb_ranges_sit_at_the_top_of_the_ipv4_subnet() -> None:
    subnet = kind.ipv4_subnet(network_inspect("fc00:f853:ccd:e793::/64", "172.18.0.0/16"))
    assert subnet == ipaddress.IPv4Network("172.18.0.0/16")
    assert kind.metallb_ranges(subnet, 2) == ["172.18.255.200-172.18.255.224", "172.18.255.225-172.18.255.249"]
    assert kind.metallb_ranges(ipaddress.IPv4Network("10.89.0.0/24"), 3) == [
        "10.89.0.175-10.89.0.199",
        "10.89.0.200-10.89.0.224",
        "10.89.0.225-10.89.0.249",
    ]


@pytest.mark.parametrize(
    ("subnets", "message"),
    [
        (("fc00::/64",), "the Docker network kind has no IPv4 subnet; kind creates one unless told otherwise"),
        (("172.18.0.0/26",), "the Docker network kind (172.18.0.0/26) is too small for 2 MetalLB ranges of 25"),
    ],
)
def test_a_network_without_room_is_refused_with_the_reason(subnets: tuple[str, ...], message: str) -> None:
    with pytest.raises(kind.QuickStartError, match=message.replace("(", r"\(").replace(")", r"\)")):
        kind.metallb_ranges(kind.ipv4_subnet(network_inspect(*subnets)), 2)


def test_up_creates_what_is_missing_and_writes_the_stack_config_from_docker() -> None:
    shell = FakeShell(existing=["kind-1"])
    kind.up(shell, CLUSTERS, PASSPHRASE, MINIMUM)
    config = ["pulumi", "config", "set", "--stack", "kind", "--path"]
    assert shell.commands == [
        ["kind", "get", "clusters"],
        ["kind", "create", "cluster", "--name", "kind-2"],
        ["docker", "network", "inspect", "kind"],
        ["docker", "inspect", "kind-1-control-plane"],
        ["docker", "inspect", "kind-2-control-plane"],
        ["pulumi", "stack", "select", "--create", "kind"],
        [*config, "istio-multicluster:clusters[0].apiServerUrl", "https://172.18.0.2:6443"],
        [*config, "istio-multicluster:clusters[0].metallb.addresses[0]", "172.18.255.200-172.18.255.224"],
        [*config, "istio-multicluster:clusters[1].apiServerUrl", "https://172.18.0.3:6443"],
        [*config, "istio-multicluster:clusters[1].metallb.addresses[0]", "172.18.255.225-172.18.255.249"],
        ["pulumi", "install"],
        ["pulumi", "up", "--stack", "kind", "--yes"],
    ]


def test_the_written_values_are_ones_the_config_layer_accepts() -> None:
    """Apply the config commands `up` runs to the stack's clusters and parse the result."""
    shell = FakeShell()
    kind.up(shell, CLUSTERS, PASSPHRASE, MINIMUM)
    clusters = stack_config("kind")["clusters"]
    prefix = "istio-multicluster:clusters["
    for command in (c for c in shell.commands if c[:3] == ["pulumi", "config", "set"]):
        path, value = command[-2], command[-1]
        index, field = path.removeprefix(prefix).split("].", 1)
        if field == "metallb.addresses[0]":
            clusters[int(index)]["metallb"]["addresses"][0] = value
        else:
            clusters[int(index)][field] = value
    spec = parse({"clusters": clusters})
    assert [(c.name, existing_part(c).api_server_url) for c in spec.clusters] == [
        ("kind-1", "https://172.18.0.2:6443"),
        ("kind-2", "https://172.18.0.3:6443"),
    ]


def test_down_destroys_before_deleting_the_clusters_that_exist() -> None:
    shell = FakeShell(existing=["kind-2", "other"])
    kind.down(shell, CLUSTERS, PASSPHRASE, MINIMUM)
    assert shell.commands == [
        ["pulumi", "destroy", "--stack", "kind", "--yes"],
        ["kind", "get", "clusters"],
        ["kind", "delete", "cluster", "--name", "kind-2"],
    ]


def test_every_missing_prerequisite_is_reported_at_once_before_any_command() -> None:
    shell = FakeShell(tools=("docker",), daemon=False)
    with pytest.raises(kind.QuickStartError) as raised:
        kind.up(shell, CLUSTERS, {}, MINIMUM)
    assert str(raised.value).splitlines() == [
        "5 prerequisite(s) missing; nothing was changed:",
        "  - PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set: the local backend encrypts the stack's "
        "secrets with it, and Pulumi would stop to ask for it; export one",
        "  - docker cannot reach its daemon (`docker info` fails): start Docker, or give your user access to it",
        "  - kind is not on PATH: install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)",
        "  - uv is not on PATH, which every pulumi command of this project runs: run scripts/kind, which provides it",
        "  - pulumi is not on PATH: install the Pulumi CLI 3.187.0 or newer (https://www.pulumi.com/docs/iac/download-install/)",
    ]
    assert shell.commands == []
    with pytest.raises(kind.QuickStartError, match="docker is not on PATH"):
        kind.down(FakeShell(tools=("kind", "uv", "pulumi")), CLUSTERS, PASSPHRASE, MINIMUM)


@pytest.mark.parametrize(
    ("printed", "problem"),
    [
        ("v3.186.9\n", "pulumi is 3.186.9; Pulumi.yaml requires 3.187.0 or newer: upgrade the Pulumi CLI"),
        ("v2.25.0\n", "pulumi is 2.25.0; Pulumi.yaml requires 3.187.0 or newer: upgrade the Pulumi CLI"),
        ("", "pulumi is unknown; Pulumi.yaml requires 3.187.0 or newer: upgrade the Pulumi CLI"),
        ("v3.187.0\n", None),
        ("v3.210.1-alpha.x1234\n", None),
        ("v4.0.0\n", None),
    ],
)
def test_the_pulumi_cli_must_meet_the_project_files_minimum(printed: str, problem: str | None) -> None:
    shell = FakeShell(version=printed)
    assert kind.missing_prerequisites(shell, PASSPHRASE, MINIMUM) == ([problem] if problem else [])
    assert kind.missing_prerequisites(shell, {"PULUMI_CONFIG_PASSPHRASE_FILE": "/run/secrets/passphrase"}, MINIMUM) == (
        [problem] if problem else []
    )


def test_the_minimum_is_the_one_pulumi_yaml_requires() -> None:
    assert kind.required_pulumi_version(yaml.safe_load((ROOT / "Pulumi.yaml").read_text())) == MINIMUM
    with pytest.raises(kind.QuickStartError, match=r"not of the form >=X\.Y\.Z"):
        kind.required_pulumi_version({"requiredPulumiVersion": "^3.187.0"})


def test_the_local_backend_is_set_for_the_scripts_commands_only_unless_the_user_chose_one() -> None:
    assert kind.child_environment({"PATH": "/bin"}) == {"PATH": "/bin", "PULUMI_BACKEND_URL": "file://~"}
    chosen = {"PULUMI_BACKEND_URL": "s3://state-bucket"}
    assert kind.child_environment(chosen) == chosen


def test_a_context_that_is_not_kinds_is_refused() -> None:
    stack = {"config": {"istio-multicluster:clusters": [{"name": "a", "context": "docker-desktop"}]}}
    with pytest.raises(kind.QuickStartError, match=r"clusters\[0\].context is 'docker-desktop'"):
        kind.stack_clusters(stack)


def test_the_ambient_variant_runs_its_own_stack_on_the_same_clusters() -> None:
    ambient = kind.stack_clusters(yaml.safe_load((ROOT / "Pulumi.kind-ambient.yaml").read_text()))
    assert ambient == CLUSTERS
    shell = FakeShell(existing=["kind-1", "kind-2"])
    kind.up(shell, ambient, PASSPHRASE, MINIMUM, "kind-ambient")
    stacks = [c[c.index("--stack") + 1] for c in shell.commands if "--stack" in c]
    assert stacks == ["kind-ambient"] * 5
    assert ["pulumi", "stack", "select", "--create", "kind-ambient"] in shell.commands


def test_the_fleet_variant_runs_the_fleet_driver_on_the_same_clusters() -> None:
    fleet = kind.stack_clusters(yaml.safe_load((ROOT / "Pulumi.kind-fleet.yaml").read_text()))
    assert fleet == CLUSTERS
    shell = FakeShell(existing=["kind-1", "kind-2"])
    kind.up(shell, fleet, PASSPHRASE, MINIMUM, "kind-fleet")
    driver = ["venv/bin/python", "-m", "fleet"]
    assert shell.commands[-1] == [*driver, "up", "--mesh", "organization/istio-multicluster/kind-fleet", "--parallel", "2"]
    assert ["pulumi", "stack", "select", "--create", "kind-fleet"] in shell.commands
    shell = FakeShell(existing=["kind-1", "kind-2"])
    kind.down(shell, fleet, PASSPHRASE, MINIMUM, "kind-fleet")
    assert shell.commands[0] == [*driver, "destroy", "--mesh", "organization/istio-multicluster/kind-fleet", "--parallel", "2"]
