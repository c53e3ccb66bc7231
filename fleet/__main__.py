"""``python -m fleet {up,preview,destroy,add,remove} --mesh <org/project/stack>``: see ``fleet.driver``;
``python -m fleet files --mesh ...`` writes the member stacks' files (``fleet.files``).

Progress goes to stderr, one line per stack started and finished; the summary table to stdout at
the end. Exit status 0 when every stack succeeded, 1 otherwise, 2 for a command it refused.
"""

from __future__ import annotations

import argparse
import datetime
import sys
from collections.abc import Sequence
from pathlib import Path

from fleet.driver import DEFAULT_PARALLEL, Driver, StackResult, exit_code, summary
from fleet.files import member_files
from fleet.workspace import ROOT, LocalWorkspace, RemoteWorkspace, Workspace


def parser() -> argparse.ArgumentParser:
    found = argparse.ArgumentParser(prog="python -m fleet", description="Run a fleet of member stacks around a mesh stack.")
    found.add_argument("command", choices=("up", "preview", "destroy", "add", "remove", "files"))
    found.add_argument("cluster", nargs="?", help="the cluster to add or remove")
    found.add_argument("--mesh", required=True, help="the mesh stack, fully qualified: <org>/istio-multicluster/<stack>")
    found.add_argument("--parallel", type=int, default=DEFAULT_PARALLEL, help=f"member stacks at once (default {DEFAULT_PARALLEL})")
    found.add_argument("--remote", action="store_true", help="run every update on Pulumi Deployments")
    found.add_argument("--repo", help="with --remote: the git URL Deployments clones")
    found.add_argument("--branch", default="main", help="with --remote: the branch to run (default main)")
    found.add_argument(
        "--inherit-settings",
        action="store_true",
        help="with --remote: each run also takes its stack's Deployments settings (deploy/ makes them; a private repository needs them)",
    )
    return found


def workspace(args: argparse.Namespace) -> Workspace:
    if not args.remote:
        return LocalWorkspace()
    return RemoteWorkspace(url=args.repo, branch=args.branch, inherit_settings=args.inherit_settings)


def problems(args: argparse.Namespace) -> list[str]:
    """What is wrong with the command line, before any stack runs."""
    found = []
    if args.command in ("add", "remove") and not args.cluster:
        found.append(f"{args.command} needs the cluster's name: python -m fleet {args.command} <cluster> --mesh ...")
    if args.command in ("up", "preview", "destroy", "files") and args.cluster:
        found.append(f"{args.command} takes no cluster (it runs every member)")
    if args.remote and not args.repo:
        found.append("--remote needs --repo, the git URL Pulumi Deployments clones")
    if args.inherit_settings and not args.remote:
        found.append("--inherit-settings takes the stacks' Deployments settings: it needs --remote")
    if args.mesh.count("/") != 2:
        found.append(f"--mesh {args.mesh}: name the stack fully, <org>/istio-multicluster/<stack>, as stack references do")
    if args.parallel < 1:
        found.append("--parallel must be at least 1")
    return found


def run(args: argparse.Namespace) -> list[StackResult]:
    def report(line: str) -> None:
        print(f"{datetime.datetime.now():%H:%M:%S} {line}", file=sys.stderr, flush=True)

    driver = Driver(workspace(args), args.mesh, args.parallel, report)
    if args.command == "up":
        return driver.up()
    if args.command == "destroy":
        return driver.destroy()
    if args.command == "preview":
        return driver.preview()
    return driver.add(args.cluster) if args.command == "add" else driver.remove(args.cluster)


def write_files(mesh_stack: str, root: Path = ROOT) -> int:
    """Write every member's stack file beside the mesh stack's; print their names."""
    for path, text in member_files(mesh_stack, root).items():
        path.write_text(text)
        print(path.name)
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    found = problems(args)
    if found:
        print("\n".join(f"python -m fleet: {p}" for p in found), file=sys.stderr)
        return 2
    try:
        if args.command == "files":
            return write_files(args.mesh)
        results = run(args)
    except ValueError as error:
        print(f"python -m fleet: {error}", file=sys.stderr)
        return 2
    print(summary(results))
    return exit_code(results)


if __name__ == "__main__":
    sys.exit(main())
