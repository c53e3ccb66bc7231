"""The member stacks' files: ``Pulumi.<mesh stack>-<cluster>.yaml`` with the member's ``fleetMember``
and the ESC environments the mesh stack's file imports (a member's run needs the same credentials).

A remote run (Pulumi Deployments) takes a stack's config from its file in the repository, so every
member's file must be committed before ``python -m fleet up --remote``; ``python -m fleet files``
writes them from the mesh stack's file (its ``clusters``). A local run sets the same config itself.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml

from components.fleet.contract import MEMBER_CONFIG, FleetMember, member_stack

PROJECT = "istio-multicluster"
HEADER = (
    "# A member stack of the fleet whose mesh stack is {mesh}: cluster {cluster}'s Istio and its peers'\n"
    "# remote secrets. Its config is the mesh stack's; this names the mesh and the cluster.\n"
)


def short_name(stack: str) -> str:
    return stack.rsplit("/", 1)[-1]


def member_config(member: FleetMember, environment: list[str] | None = None) -> dict[str, Any]:
    """A member stack file's content; ``environment``: the ESC environments it imports (default
    none), the mesh stack's, so a member's run gets the same credentials."""
    return {**({"environment": environment} if environment else {}), "config": {f"{PROJECT}:{MEMBER_CONFIG}": member.value()}}


def stack_file(stack: str) -> str:
    """The name of ``stack``'s file (``Pulumi.<stack>.yaml``)."""
    return f"Pulumi.{short_name(stack)}.yaml"


def file_config(root: Path, stack: str) -> dict[str, str]:
    """The project's keys of the config in a stack's file under ``root`` (none: no file)."""
    path = root / stack_file(stack)
    return config_of(path.read_text() if path.exists() else None)


def config_of(text: str | None) -> dict[str, str]:
    """The project's keys of the config in a stack file's ``text`` (none: no file), as the CLI
    passes them: strings as they are, anything else as JSON."""
    config = ((yaml.safe_load(text) or {}).get("config") or {}) if text else {}
    prefix = f"{PROJECT}:"
    return {
        key.removeprefix(prefix): value if isinstance(value, str) else json.dumps(value)
        for key, value in config.items()
        if key.startswith(prefix)
    }


def member_files(mesh_stack: str, root: Path) -> dict[Path, str]:
    """Every member's stack file, by path, from the clusters of the mesh stack's file under ``root``."""
    mesh_file = root / f"Pulumi.{short_name(mesh_stack)}.yaml"
    if not mesh_file.exists():
        raise ValueError(f"{mesh_file.name} does not exist: the mesh stack's file lists the clusters")
    content = yaml.safe_load(mesh_file.read_text()) or {}
    config = content.get("config") or {}
    environment = [str(e) for e in content.get("environment") or []]
    clusters = config.get(f"{PROJECT}:clusters")
    if not isinstance(clusters, list) or not all(isinstance(c, dict) and "name" in c for c in clusters):
        raise ValueError(f"{mesh_file.name} lists no clusters under {PROJECT}:clusters")
    found: dict[Path, str] = {}
    for cluster in (str(c["name"]) for c in clusters):
        member = FleetMember(mesh_stack, cluster)
        text = HEADER.format(mesh=mesh_stack, cluster=cluster) + yaml.safe_dump(member_config(member, environment), sort_keys=False)
        found[root / f"Pulumi.{short_name(member_stack(mesh_stack, cluster))}.yaml"] = text
    return found
