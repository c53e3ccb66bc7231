"""Evaluation time, resources and peak memory under mocks: one stack, and fleet mode's stacks.

    venv/bin/python -m scripts.benchmark [--sizes 2 4 8 16 32 64 128] [--mode single|fleet|floor|both]

Each mesh is N existing clusters on N networks (the cloud layers do not change how the mesh
scales). RSA key generation belongs to the mocks, not to the program, so every run is made once to
warm the mock's key cache and then measured: the figures are the program's evaluation (config
parsing, component construction, resource registration through the mock monitor), started from a
collected heap as a fresh ``pulumi up`` process starts. Peak memory is tracemalloc's peak of Python
allocations during a third, separate run.

``floor`` measures, beside each single stack, a program that registers as many plain Kubernetes
Secrets, flat, through one provider, under the program's collector policy
(``components.collector``): what the Pulumi SDK and the mocks cost per resource whatever the
program does. The single stack's time above it is the program's own (its components, its
values, its outputs and the depth of its call stack, which the SDK walks for every resource).

Fleet mode is measured per stack: the mesh stack of N clusters (the CA), and one member stack of N
whose N-1 peers have exported their links (``tests.harness.fleet_program.fleet_of``), which is what
every member of the fleet does; Pulumi Deployments runs the members side by side.
"""

from __future__ import annotations

import argparse
import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence

import pulumi
import pulumi_kubernetes as k8s

from components.collector import make_full_collections_rare
from components.fleet.contract import FleetMember, member_stack
from tests.configs import n_existing
from tests.harness.fleet_program import ProgramFleet, fleet_of, qualified
from tests.harness.program import StackRun, run_program

SIZES = (2, 4, 8, 16, 32, 64, 128)
MESH = qualified("bench-fleet")


def measure(run: Callable[[], StackRun]) -> tuple[float, float, int]:
    """Seconds of a warmed run, its peak memory in MiB, and its resources."""
    run()  # warm the mock's RSA keys
    # Each figure starts from a heap without the garbage of the warm run and earlier rows, as a
    # fresh `pulumi up` process does: the cyclic collector's cost grows with what the heap holds.
    gc.collect()
    started = time.perf_counter()
    result = run()
    seconds = time.perf_counter() - started
    # A separate run for memory: tracemalloc slows everything it watches.
    tracemalloc.start()
    run()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return seconds, peak / 2**20, len([r for r in result.resources if r.operation != "read"])


def single(clusters: int) -> Callable[[], StackRun]:
    config = n_existing(clusters)
    return lambda: run_program(config)


def floor(clusters: int) -> Callable[[], StackRun]:
    config = n_existing(clusters)
    count = len([r for r in run_program(config).resources if r.operation != "read"])

    def plain_secrets() -> None:
        make_full_collections_rare()  # the program's collector policy, as __main__.py sets it
        provider = k8s.Provider("floor", kubeconfig="{}")
        for index in range(count - 1):
            k8s.core.v1.Secret(
                f"floor-{index}",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=f"floor-{index}", namespace="istio-system"),
                string_data={"data": pulumi.Output.secret("text")},
                opts=pulumi.ResourceOptions(provider=provider),
            )

    return lambda: run_program(config, program=plain_secrets)


def fleet_mesh(clusters: int) -> Callable[[], StackRun]:
    return lambda: ProgramFleet(n_existing(clusters)).run(MESH, None)


def fleet_member(clusters: int) -> Callable[[], StackRun]:
    fleet = fleet_of(clusters, MESH)
    return lambda: fleet.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))


def rows(sizes: Sequence[int], mode: str) -> list[str]:
    found = ["| mode | stack | clusters | resources | evaluation (s) | peak memory (MiB) |", "| --- | --- | ---: | ---: | ---: | ---: |"]
    kinds = {
        "single": [("single", "the mesh", single)],
        "floor": [("single", "the mesh", single), ("floor", "as many plain Secrets", floor)],
        "fleet": [("fleet", "mesh", fleet_mesh), ("fleet", "one member", fleet_member)],
    }
    chosen = [*kinds["single"], *kinds["fleet"]] if mode == "both" else kinds[mode]
    for size in sizes:
        for name, stack, make in chosen:
            seconds, mebibytes, resources = measure(make(size))
            found.append(f"| {name} | {stack} | {size} | {resources} | {seconds:.2f} | {mebibytes:.1f} |")
    return found


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m scripts.benchmark")
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    parser.add_argument("--mode", choices=("single", "fleet", "floor", "both"), default="both")
    args = parser.parse_args(argv)
    for row in rows(args.sizes, args.mode):
        print(row, flush=True)


if __name__ == "__main__":
    main()
