"""The free quick start: two kind clusters on this machine and the ``kind`` stack on them.

    scripts/kind up      create the clusters (if missing), point the stack at them, pulumi up
    scripts/kind down    pulumi destroy, then delete the clusters

``--stack kind-ambient`` does the same for the ambient variant, on the same two clusters (run one
of the two stacks at a time).

``up`` reads the clusters from ``Pulumi.kind.yaml`` (cluster ``kind-1`` with context ``kind-kind-1``
is the kind cluster ``kind-1``), creates each with ``kind create cluster``, and writes two settings
per cluster with ``pulumi config set --path``, both read from Docker:

- ``apiServerUrl``: the control-plane container's address on the ``kind`` network. The other
  cluster's istiod dials it from a pod, where 127.0.0.1 (kind's kubeconfig) is the pod itself;
  Istio's own kind set-up uses the container IP (istio/istio#31081).
- ``metallb.addresses``: a range at the top of the ``kind`` network's IPv4 subnet per cluster,
  which Docker, handing out addresses from the bottom, leaves free. MetalLB gives them to the
  east-west gateways, and every container on the network (so every node) reaches them.

The state lives in the local backend (``pulumi login --local``), encrypted with the passphrase in
``PULUMI_CONFIG_PASSPHRASE`` (or the file named by ``PULUMI_CONFIG_PASSPHRASE_FILE``), which must
be set: Pulumi would otherwise stop to ask for it.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import yaml

ROOT = Path(__file__).resolve().parent.parent
STACK = "kind"
STACKS = ("kind", "kind-ambient")
NETWORK = "kind"
API_PORT = 6443
# Addresses per cluster for MetalLB, counted down from the top of the subnet (below its broadcast).
RANGE_SIZE = 25
TOP_GAP = 5
PASSPHRASE_VARIABLES = ("PULUMI_CONFIG_PASSPHRASE", "PULUMI_CONFIG_PASSPHRASE_FILE")


class Runner(Protocol):
    def __call__(self, command: Sequence[str]) -> str:
        """Run ``command``; return its standard output; raise if it fails."""
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


def require_passphrase(environment: Mapping[str, str]) -> None:
    if not any(environment.get(v) for v in PASSPHRASE_VARIABLES):
        raise QuickStartError(
            "set PULUMI_CONFIG_PASSPHRASE (or PULUMI_CONFIG_PASSPHRASE_FILE): the local backend encrypts the "
            "stack's secrets with it, and Pulumi would stop to ask for it"
        )


def up(run: Runner, clusters: Sequence[KindCluster], environment: Mapping[str, str], stack: str = STACK) -> None:
    """Create what is missing, configure ``stack`` (default ``kind``) from Docker, and run ``pulumi up``."""
    require_passphrase(environment)
    existing = set(run(["kind", "get", "clusters"]).split())
    for cluster in clusters:
        if cluster.kind_name not in existing:
            run(["kind", "create", "cluster", "--name", cluster.kind_name])
    subnet = ipv4_subnet(run(["docker", "network", "inspect", NETWORK]))
    addresses = {c.name: container_ip(run(["docker", "inspect", c.control_plane])) for c in clusters}
    run(["pulumi", "login", "--local"])
    run(["pulumi", "stack", "select", "--create", stack])
    for command in config_commands(clusters, addresses, metallb_ranges(subnet, len(clusters)), stack):
        run(command)
    run(["pulumi", "install"])
    run(["pulumi", "up", "--stack", stack, "--yes"])


def down(run: Runner, clusters: Sequence[KindCluster], environment: Mapping[str, str], stack: str = STACK) -> None:
    """``pulumi destroy`` of ``stack`` (default ``kind``) while the clusters still run, then delete them."""
    require_passphrase(environment)
    run(["pulumi", "login", "--local"])
    run(["pulumi", "destroy", "--stack", stack, "--yes"])
    existing = set(run(["kind", "get", "clusters"]).split())
    for cluster in clusters:
        if cluster.kind_name in existing:
            run(["kind", "delete", "cluster", "--name", cluster.kind_name])


def run_here(command: Sequence[str]) -> str:
    """Run ``command`` in the project directory, its output shown as it goes; return its stdout."""
    print("+", " ".join(command), file=sys.stderr)
    captured = command[0] in {"docker"} or command[:3] == ["kind", "get", "clusters"]
    result = subprocess.run(command, cwd=ROOT, check=True, text=True, stdout=subprocess.PIPE if captured else None)  # noqa: S603
    return result.stdout or ""


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/kind", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--stack", choices=STACKS, default=STACK, help="the stack to run (default: kind)")
    parsed = parser.parse_args(argv)
    action, stack = parsed.action, parsed.stack
    clusters = stack_clusters(yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()))
    try:
        (up if action == "up" else down)(run_here, clusters, os.environ, stack)
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
