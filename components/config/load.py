"""Read the stack's project config from Pulumi and parse it (see ``components.config.parse``).

Pulumi hands config values over as strings; arrays and objects arrive as JSON text. Every project
key the stack sets is read, declared or not, so a misspelt key such as ``istio-multicluster:meshID``
is reported with a suggestion instead of being silently ignored.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence

import pulumi
from pulumi.runtime import config as runtime_config

from components.config.model import MeshSpec
from components.config.parse import parse_mesh_spec, project_fields
from components.config.platform import PlatformConfig
from components.config.problems import Problems

PROJECT = "istio-multicluster"


def decode_config(values: Mapping[str, str | None], platforms: Sequence[PlatformConfig]) -> dict[str, object]:
    """Decode Pulumi's string config values: arrays and objects arrive as JSON text.

    Raises ``ConfigError`` for JSON that does not parse, naming the key.
    """
    structured = {f.key for f in project_fields(platforms) if f.kind.schema in ("array", "object")}
    decoded: dict[str, object] = {}
    problems = Problems()
    for key, text in values.items():
        if text is None:
            continue
        if key not in structured:
            decoded[key] = text
            continue
        try:
            decoded[key] = json.loads(text)
        except json.JSONDecodeError as error:
            problems.add(key, "json", f"is not valid JSON ({error.msg} at character {error.pos})")
    problems.raise_if_any()
    return decoded


def load_mesh_spec(config: pulumi.Config, platforms: Sequence[PlatformConfig]) -> MeshSpec:
    """Read every project config key the stack sets and parse them into a ``MeshSpec``."""
    declared = [f.key for f in project_fields(platforms)]
    keys = [*declared, *(k for k in _stack_project_keys() if k not in declared)]
    spec = parse_mesh_spec(decode_config({key: config.get(key) for key in keys}, platforms), platforms)
    for warning in spec.warnings:
        pulumi.log.warn(f"istio-multicluster: {warning}")
    return spec


def _stack_project_keys() -> list[str]:
    """The project-namespaced keys the running stack has config for."""
    # Pulumi has no public "list config keys" call; the language host loads all config into
    # this map (or PULUMI_CONFIG) before the program runs.
    present = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    prefix = f"{PROJECT}:"
    return sorted(key.removeprefix(prefix) for key in present if key.startswith(prefix))
