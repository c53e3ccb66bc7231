"""The free quick start: two kind clusters on this machine and the ``kind`` stack on them.

    scripts/kind up      create the clusters (if missing), point the stack at them, pulumi up
    scripts/kind down    pulumi destroy, then delete the clusters

``--stack kind-ambient`` does the same for the ambient variant, on the same two clusters (run one
of the stacks at a time). ``--stack kind-fleet`` runs fleet mode on them: the mesh stack
``kind-fleet`` and a member stack per cluster, with ``python -m fleet up`` (and ``destroy``) in
place of ``pulumi up`` (``destroy``).

``up`` reads the clusters from ``Pulumi.kind.yaml`` (cluster ``kind-1`` with context ``kind-kind-1``
is the kind cluster ``kind-1``), creates each with ``kind create cluster``, and writes two settings
per cluster with ``pulumi config set --path``, both read from Docker:

- ``apiServerUrl``: the control-plane container's address on the ``kind`` network. The other
  cluster's istiod dials it from a pod, where 127.0.0.1 (kind's kubeconfig) is the pod itself;
  Istio's own kind set-up uses the container IP (istio/istio#31081).
- ``metallb.addresses``: a range at the top of the ``kind`` network's IPv4 subnet per cluster,
  which Docker, handing out addresses from the bottom, leaves free. MetalLB gives them to the
  east-west gateways, and every container on the network (so every node) reaches them.

Before touching anything, both check every prerequisite and report all that are missing at once:
the passphrase, ``docker`` with its daemon reachable, ``kind``, ``uv`` and the Pulumi CLI at the
version ``Pulumi.yaml`` requires.

The state lives in the local backend in ``~/.pulumi`` (``PULUMI_BACKEND_URL=file://~``, set for
this script's own commands only: your ``pulumi login`` stays as it is; a ``PULUMI_BACKEND_URL``
you set yourself is used instead), encrypted with the passphrase in ``PULUMI_CONFIG_PASSPHRASE`` (or
the file named by ``PULUMI_CONFIG_PASSPHRASE_FILE``), which must be set: Pulumi would otherwise
stop to ask for it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACK = "kind"
STACKS = ("kind", "kind-ambient", "kind-fleet")
# Fleet mode's mesh stacks, which the fleet driver runs with their member stacks; the local
# backend's organization is `organization`.
FLEET_STACKS = ("kind-fleet",)
FLEET_DRIVER = ["venv/bin/python", "-m", "fleet"]
NETWORK = "kind"
API_PORT = 6443
# Addresses per cluster for MetalLB, counted down from the top of the subnet (below its broadcast).
RANGE_SIZE = 25
TOP_GAP = 5
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")
# The local backend in ~/.pulumi, what `pulumi login --local` selects, for this script's commands only.
BACKEND_VARIABLE = "PULUMI_BACKEND_URL"
LOCAL_BACKEND = "file://~"
# A Pulumi CLI version, (major, minor, patch).
Version = tuple[int, int, int]


class Shell(Protocol):
    """Where the quick start's commands run (a fake in the tests)."""

    def run(self, command: Sequence[str]) -> str:
        """Run ``command``; return its standard output; raise if it fails."""
        ...

    def probe(self, command: Sequence[str]) -> str | None:
        """Run ``command`` quietly; its standard output, or None when it fails."""
        ...

    def found(self, tool: str) -> bool:
        """Whether ``tool`` is on the PATH the commands run with."""
        ...


@dataclass(frozen=True)
class KindCluster:
    """A cluster of the kind stack: its name in the stack and its name in kind.

    Args:
        index: its position in the stack's ``clusters`` list.
        name: the stack's name for it, e.g. ``kind-1``.
        kind_name: kind's name for it (``kind-1`` for context ``kind-kind-1``).
    """

    index: int
    name: str
    kind_name: str

    @property
    def control_plane(self) -> str:
        return f"{self.kind_name}-control-plane"


class QuickStartError(Exception):
    """A precondition the quick start cannot meet, with what to do."""


def stack_clusters(stack_file: Mapping[str, object]) -> list[KindCluster]:
    """The clusters of a parsed ``Pulumi.kind.yaml``; each context must be ``kind-<kind name>``."""
    config = stack_file.get("config")
    clusters = config.get("istio-multicluster:clusters") if isinstance(config, Mapping) else None
    if not isinstance(clusters, list) or not clusters:
        raise QuickStartError("Pulumi.kind.yaml lists no clusters under istio-multicluster:clusters")
    found = []
    for index, cluster in enumerate(clusters):
        context = str(cluster.get("context", ""))
        if not context.startswith("kind-"):
            raise QuickStartError(f"clusters[{index}].context is {context!r}; a kind cluster's context is kind-<name>")
        found.append(KindCluster(index, str(cluster["name"]), context.removeprefix("kind-")))
    return found


def ipv4_subnet(inspect_output: str) -> ipaddress.IPv4Network:
    """The IPv4 subnet of a network from ``docker network inspect`` (which may list an IPv6 one too)."""
    networks = json.loads(inspect_output)
    for config in (networks[0].get("IPAM") or {}).get("Config") or []:
        subnet = ipaddress.ip_network(config.get("Subnet", ""), strict=False)
        if isinstance(subnet, ipaddress.IPv4Network):
            return subnet
    raise QuickStartError(f"the Docker network {NETWORK} has no IPv4 subnet; kind creates one unless told otherwise")


def metallb_ranges(subnet: ipaddress.IPv4Network, count: int) -> list[str]:
    """``count`` ranges of ``RANGE_SIZE`` addresses at the top of ``subnet``, the first cluster's lowest."""
    needed = RANGE_SIZE * count + TOP_GAP
    if subnet.num_addresses < 2 * needed:
        raise QuickStartError(f"the Docker network {NETWORK} ({subnet}) is too small for {count} MetalLB ranges of {RANGE_SIZE}")
    first = subnet.broadcast_address - needed
    starts = [first + RANGE_SIZE * i for i in range(count)]
    return [f"{start}-{start + RANGE_SIZE - 1}" for start in starts]


def container_ip(inspect_output: str) -> str:
    """The container's IPv4 address on the kind network, from ``docker inspect``."""
    containers = json.loads(inspect_output)
    networks = containers[0]["NetworkSettings"]["Networks"]
    address = (networks.get(NETWORK) or {}).get("IPAddress")
    if not address:
        raise QuickStartError(f"{containers[0].get('Name', 'the container')} is not on the Docker network {NETWORK}")
    return str(address)


def config_commands(
    clusters: Sequence[KindCluster], addresses: Mapping[str, str], ranges: Sequence[str], stack: str = STACK
) -> list[list[str]]:
    """The ``pulumi config set --path`` commands that point the stack at these clusters."""
    commands = []
    for cluster, pool in zip(clusters, ranges, strict=True):
        path = f"clusters[{cluster.index}]"
        commands.append(config_set(stack, f"{path}.apiServerUrl", f"https://{addresses[cluster.name]}:{API_PORT}"))
        commands.append(config_set(stack, f"{path}.metallb.addresses[0]", pool))
    return commands


def config_set(stack: str, path: str, value: str) -> list[str]:
    return ["pulumi", "config", "set", "--stack", stack, "--path", f"istio-multicluster:{path}", value]


def required_pulumi_version(project_file: Mapping[str, object]) -> Version:
    """The minimum in ``Pulumi.yaml``'s ``requiredPulumiVersion`` (``>=X.Y.Z``, the only form it uses)."""
    match = re.fullmatch(r">=\s*(\d+)\.(\d+)\.(\d+)", str(project_file.get("requiredPulumiVersion", "")))
    if not match:
        raise QuickStartError("Pulumi.yaml's requiredPulumiVersion is not of the form >=X.Y.Z")
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def pulumi_version(output: str) -> Version | None:
    """The version ``pulumi version`` prints (``v3.190.0``, perhaps with a suffix)."""
    match = re.match(r"v?(\d+)\.(\d+)\.(\d+)", output.strip())
    if not match:
        return None
    major, minor, patch = (int(part) for part in match.groups())
    return major, minor, patch


def dotted(version: Version) -> str:
    return ".".join(str(part) for part in version)


def missing_prerequisites(shell: Shell, environment: Mapping[str, str], minimum: Version) -> list[str]:
    """Every prerequisite ``up`` and ``down`` lack, each with what to do; empty when all are met."""
    missing = []
    if not any(environment.get(v) for v in PASSPHRASE_VARIABLES):
        missing.append(
            "PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE) is not set: the local backend encrypts the "
            "stack's secrets with it, and Pulumi would stop to ask for it; export one"
        )
    if not shell.found("docker"):
        missing.append("docker is not on PATH: install Docker (https://docs.docker.com/get-started/get-docker/)")
    elif shell.probe(["docker", "info"]) is None:
        missing.append("docker cannot reach its daemon (`docker info` fails): start Docker, or give your user access to it")
    if not shell.found("kind"):
        missing.append("kind is not on PATH: install it (https://kind.sigs.k8s.io/docs/user/quick-start/#installation)")
    if not shell.found("uv"):
        missing.append("uv is not on PATH, which every pulumi command of this project runs: run scripts/kind, which provides it")
    if not shell.found("pulumi"):
        missing.append(
            f"pulumi is not on PATH: install the Pulumi CLI {dotted(minimum)} or newer (https://www.pulumi.com/docs/iac/download-install/)"
        )
    else:
        found = pulumi_version(shell.probe(["pulumi", "version"]) or "")
        if found is None or found < minimum:
            have = dotted(found) if found else "unknown"
            missing.append(f"pulumi is {have}; Pulumi.yaml requires {dotted(minimum)} or newer: upgrade the Pulumi CLI")
    return missing


def check_prerequisites(shell: Shell, environment: Mapping[str, str], minimum: Version) -> None:
    missing = missing_prerequisites(shell, environment, minimum)
    if missing:
        lines = "".join(f"\n  - {problem}" for problem in missing)
        raise QuickStartError(f"{len(missing)} prerequisite(s) missing; nothing was changed:{lines}")


def child_environment(environment: Mapping[str, str]) -> dict[str, str]:
    """The environment of the script's commands: the local backend unless the user chose one."""
    return {BACKEND_VARIABLE: LOCAL_BACKEND, **environment}


def stack_command(action: str, stack: str) -> list[str]:
    """``pulumi up`` or ``destroy`` of ``stack``; for a fleet's mesh stack, the fleet driver's, which
    runs the mesh stack and its member stacks in their order."""
    if stack in FLEET_STACKS:
        return [*FLEET_DRIVER, action, "--mesh", f"organization/istio-multicluster/{stack}", "--parallel", "2"]
    return ["pulumi", action, "--stack", stack, "--yes"]


def up(shell: Shell, clusters: Sequence[KindCluster], environment: Mapping[str, str], minimum: Version, stack: str = STACK) -> None:
    """Create what is missing, configure ``stack`` (default ``kind``) from Docker, and run ``pulumi up``."""
    check_prerequisites(shell, environment, minimum)
    existing = set(shell.run(["kind", "get", "clusters"]).split())
    for cluster in clusters:
        if cluster.kind_name not in existing:
            shell.run(["kind", "create", "cluster", "--name", cluster.kind_name])
    subnet = ipv4_subnet(shell.run(["docker", "network", "inspect", NETWORK]))
    addresses = {c.name: container_ip(shell.run(["docker", "inspect", c.control_plane])) for c in clusters}
    shell.run(["pulumi", "stack", "select", "--create", stack])
    for command in config_commands(clusters, addresses, metallb_ranges(subnet, len(clusters)), stack):
        shell.run(command)
    shell.run(["pulumi", "install"])
    shell.run(stack_command("up", stack))


def down(shell: Shell, clusters: Sequence[KindCluster], environment: Mapping[str, str], minimum: Version, stack: str = STACK) -> None:
    """``pulumi destroy`` of ``stack`` (default ``kind``) while the clusters still run, then delete them."""
    check_prerequisites(shell, environment, minimum)
    shell.run(stack_command("destroy", stack))
    existing = set(shell.run(["kind", "get", "clusters"]).split())
    for cluster in clusters:
        if cluster.kind_name in existing:
            shell.run(["kind", "delete", "cluster", "--name", cluster.kind_name])


class LocalShell:
    """Runs commands in the project directory with ``environment``, their output shown as they go.

    Args:
        environment: the commands' environment variables (``child_environment``'s).
    """

    def __init__(self, environment: Mapping[str, str]) -> None:
        self.environment = dict(environment)

    def run(self, command: Sequence[str]) -> str:
        print("+", " ".join(command), file=sys.stderr)
        captured = command[0] == "docker" or list(command[:3]) == ["kind", "get", "clusters"]
        result = subprocess.run(  # noqa: S603
            command, cwd=ROOT, env=self.environment, check=True, text=True, stdout=subprocess.PIPE if captured else None
        )
        return result.stdout or ""

    def probe(self, command: Sequence[str]) -> str | None:
        try:
            result = subprocess.run(command, cwd=ROOT, env=self.environment, capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
        except (OSError, subprocess.TimeoutExpired):
            return None
        return result.stdout if result.returncode == 0 else None

    def found(self, tool: str) -> bool:
        return shutil.which(tool, path=self.environment.get("PATH")) is not None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/kind", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--stack", choices=STACKS, default=STACK, help="the stack to run (default: kind)")
    parsed = parser.parse_args(argv)
    action, stack = parsed.action, parsed.stack
    clusters = stack_clusters(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()))
    environment = child_environment(os.environ)
    print(f"scripts/kind {action}: backend {environment[BACKEND_VARIABLE]}", file=sys.stderr)
    try:
        minimum = required_pulumi_version(yaml.safe_load((ROOT / "Pulumi.yaml").read_text()))
        (up if action == "up" else down)(LocalShell(environment), clusters, environment, minimum, stack)
    except QuickStartError as error:
        print(f"scripts/kind {action}: {error}", file=sys.stderr)
        return 2
    except FileNotFoundError as error:
        print(f"scripts/kind {action}: {error.filename} is not on PATH; install it (README, Prerequisites)", file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as error:
        print(f"scripts/kind {action}: {' '.join(error.cmd)} failed (exit {error.returncode})", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
