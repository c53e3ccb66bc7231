"""The names a config plans and the names a run registers, to compare them."""

from __future__ import annotations

from typing import Any

from components.config.names import NamePlan
from components.config.parse import parse_mesh_spec, resource_names
from components.config.stores import Readers
from components.platforms import platform_configs
from tests.harness.program import StackRun


def urn_type(urn: str) -> str:
    return urn.split("::")[2].removeprefix("pulumi:pulumi:Stack$")


def registered(run: StackRun) -> set[tuple[str, str]]:
    return {(urn_type(r.urn), r.name) for r in run.resources}


def planned(config: dict[str, Any], readers: Readers | None = None) -> NamePlan:
    """The plan of ``config``, whose store references ``readers`` read (default none)."""
    return resource_names(parse_mesh_spec(config, PLATFORMS, readers), PLATFORMS)


# Words the program joins names with, and names that end or start in them.
PROGRAM_WORDS = [
    "root", "probe", "sample", "canary", "reader-token", "in", "to", "from", "istio", "tag", "default", "helloworld",
    "cacerts", "eastwest", "ingress", "key", "csr", "cert", "provider", "metallb", "pool", "l2", "system", "base", "vs",
]  # fmt: skip


STEMS = ["a", "b", "x", "prod"]


PLATFORMS = platform_configs()
