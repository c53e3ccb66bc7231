"""Pulumi.yaml: the typed config schema agrees with the parser, the README and the CLI's rules."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components import spec
from components.fields import ConfigError
from components.model import CaSpec
from components.spec import CONFIG_KEYS, DEFAULT_ISTIO_VERSION, DEFAULT_MESH_ID, parse_mesh_spec
from scripts.config_reference import readme_with_table
from tests.configs import n_existing
from tests.harness.program import project_defaults

ROOT = Path(__file__).resolve().parents[1]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SIMPLE_TYPES = {"string", "integer", "boolean", "array", "object"}


def test_runtime_is_python_with_pip_and_a_venv() -> None:
    assert PROJECT["name"] == "istio-multicluster"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "pip", "virtualenv": "venv"}}


def test_default_kubernetes_provider_is_disabled() -> None:
    assert PROJECT["config"]["pulumi:disable-default-providers"] == {"value": ["kubernetes"]}


def test_every_config_key_is_declared_with_its_type_and_a_description() -> None:
    declared = {k: v for k, v in PROJECT["config"].items() if ":" not in k}
    assert {k: v["type"] for k, v in declared.items()} == CONFIG_KEYS
    for key, decl in declared.items():
        assert decl["type"] in SIMPLE_TYPES and len(decl["description"]) > 20, key
        if decl["type"] == "array":
            assert decl["items"] == {"type": "object"}, key


def python_value_ok(kind: str, value: Any) -> bool:
    """The CLI's ValidateConfigValue for a default: integers, booleans, strings, lists."""
    return {
        "string": isinstance(value, str),
        "integer": isinstance(value, int) and not isinstance(value, bool),
        "boolean": isinstance(value, bool),
        "array": isinstance(value, list),
        "object": isinstance(value, dict),
    }[kind]


def test_defaults_have_their_declared_type_and_only_clusters_is_required() -> None:
    declared = {k: v for k, v in PROJECT["config"].items() if ":" not in k}
    for key, decl in declared.items():
        if "default" in decl:
            assert python_value_ok(decl["type"], decl["default"]), key
    # The CLI demands a value in every stack for keys without a default.
    assert [k for k, v in declared.items() if "default" not in v] == ["clusters"]


def test_pulumi_yaml_defaults_equal_the_parsers_defaults() -> None:
    """Whether the CLI applies Pulumi.yaml's defaults or the parser applies its own, the mesh is the same."""
    from_yaml = parse_mesh_spec({**project_defaults(), **n_existing(2)})
    from_code = parse_mesh_spec(n_existing(2))
    assert from_yaml == from_code
    assert (from_code.mesh_id, from_code.istio_version, from_code.revision, from_code.ca) == (
        DEFAULT_MESH_ID,
        DEFAULT_ISTIO_VERSION,
        None,
        CaSpec(),
    )


@pytest.mark.parametrize("stack", ["aks", "eks"])
def test_stack_files_set_only_declared_project_keys(stack: str) -> None:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    project_keys = {k.split(":", 1)[1] for k in config if k.startswith("istio-multicluster:")}
    assert project_keys <= set(CONFIG_KEYS)


def test_readme_config_reference_is_generated_from_pulumi_yaml() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_table(readme), "run: venv/bin/python -m scripts.config_reference --write"
    for key in CONFIG_KEYS:
        assert f"`istio-multicluster:{key}`" in readme


def test_readme_cluster_field_table_covers_every_field_the_parser_takes() -> None:
    readme = (ROOT / "README.md").read_text()
    fields = spec._COMMON_CLUSTER_FIELDS | spec._AZURE_FIELDS | spec._AWS_FIELDS | spec._EXISTING_FIELDS
    missing = sorted(f for f in fields if f"| `{f}` |" not in readme)
    assert missing == []


def test_readme_error_example_is_what_the_parser_says() -> None:
    readme = (ROOT / "README.md").read_text()
    example = readme.split("e.g.\n\n```\n", 1)[1].split("```", 1)[0].strip()
    config = yaml.safe_load((ROOT / "Pulumi.aks.yaml").read_text())["config"]
    clusters = config["istio-multicluster:clusters"]
    clusters[1].update(vnetCidr="10.52.0.0/15", networkPlugin="overlay")
    with pytest.raises(ConfigError) as raised:
        parse_mesh_spec({"clusters": clusters})
    assert str(raised.value) == example
