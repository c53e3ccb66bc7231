"""Pulumi.yaml and the README are generated from the field declarations and agree with the CLI's rules."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.config.parse import project_fields
from components.config.problems import ConfigError
from components.k8s import aks_token as azure_token
from components.platforms import platform_configs
from scripts.config_reference import pulumi_yaml_with_schema, readme_with_tables
from tests.configs import n_existing, parse
from tests.harness.program import project_defaults

ROOT = Path(__file__).resolve().parents[1]
PROJECT = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())
SIMPLE_TYPES = {"string", "integer", "boolean", "array", "object"}


def test_runtime_is_python_with_uv_into_the_venv_the_token_commands_run() -> None:
    assert PROJECT["name"] == "istio-multicluster"
    assert PROJECT["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": "venv"}}
    # The kubernetes providers exec the program's own Python for Entra ID tokens.
    assert azure_token.exec_command()[0] == "venv/bin/python"


def test_the_cli_version_the_readme_names_is_required_by_the_project() -> None:
    """Object-typed config needs Pulumi 3.187.0 (README "Prerequisites"); the project says so, so the
    CLI refuses an older version up front (3.219.0 and later) instead of failing on the config."""
    assert PROJECT["requiredPulumiVersion"] == ">=3.187.0"
    assert "Pulumi CLI 3.187.0 or newer" in (ROOT / "README.md").read_text()


def test_every_pinned_dependency_is_locked_with_hashes() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    locked = {p["name"]: p for p in lock["package"]}
    pins = [*pyproject["project"]["dependencies"], *pyproject["dependency-groups"]["dev"]]
    for pin in pins:
        name, version = re.sub(r"\[.*\]", "", pin).split("==")
        package = locked[name.lower().replace("_", "-")]
        assert package["version"] == version, pin
    for package in lock["package"]:
        if package["source"].get("registry"):
            files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
            assert files and all(f["hash"].startswith("sha256:") for f in files), package["name"]


def test_default_kubernetes_provider_is_disabled() -> None:
    assert PROJECT["config"]["pulumi:disable-default-providers"] == {"value": ["kubernetes"]}


def test_pulumi_yaml_schema_is_generated_from_the_declarations() -> None:
    text = (ROOT / "Pulumi.yaml").read_text()
    assert text == pulumi_yaml_with_schema(text), "run: venv/bin/python -m scripts.config_reference --write"
    declared = {k: v for k, v in PROJECT["config"].items() if ":" not in k}
    assert list(declared) == [f.key for f in project_fields(platform_configs())]


def python_value_ok(kind: str, value: Any) -> bool:
    """The CLI's ValidateConfigValue for a default: integers, booleans, strings, lists, objects."""
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
        assert decl["type"] in SIMPLE_TYPES and len(decl["description"]) > 20, key
        if decl["type"] == "array":
            # The CLI checks each item's type: CIDR and object-id lists hold strings, the others objects.
            assert decl["items"] == {"type": "string" if key in ("operatorCidrs", "azureAdminObjectIds") else "object"}, key
        if "default" in decl:
            assert python_value_ok(decl["type"], decl["default"]), key
    # The CLI demands a value in every stack for keys without a default.
    assert [k for k, v in declared.items() if "default" not in v] == ["clusters"]


def test_pulumi_yaml_defaults_give_the_same_mesh_as_the_declarations() -> None:
    """Whether the CLI applies Pulumi.yaml's defaults or the parser applies the declarations', the mesh is the same."""
    from_yaml = parse({**project_defaults(), **n_existing(2)})
    from_code = parse(n_existing(2))
    assert from_yaml == from_code
    assert (from_code.mesh_id, from_code.revisions) == ("mesh1", {"default": "1.30.3"})
    ca = from_code.ca
    assert (ca.root_validity_hours, ca.intermediate_validity_hours, ca.root_early_renewal_hours, ca.intermediate_early_renewal_hours) == (
        87600,
        17520,
        8760,
        720,
    )


@pytest.mark.parametrize("stack", ["aks", "eks", "kind"])
def test_stack_files_set_only_declared_project_keys(stack: str) -> None:
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())["config"]
    project_keys = {k.split(":", 1)[1] for k in config if k.startswith("istio-multicluster:")}
    assert project_keys <= {f.key for f in project_fields(platform_configs())}


def test_readme_config_reference_is_generated_from_the_declarations() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme == readme_with_tables(readme), "run: venv/bin/python -m scripts.config_reference --write"
    for config in platform_configs():
        for field in config.cluster_fields:
            assert f"| `{field.key}` | {config.name} |" in readme


def test_readme_error_example_is_what_the_parser_says() -> None:
    readme = (ROOT / "README.md").read_text()
    example = readme.split("e.g.\n\n```\n", 1)[1].split("```", 1)[0].strip()
    config = yaml.safe_load((ROOT / "Pulumi.aks.yaml").read_text())["config"]
    clusters = config["istio-multicluster:clusters"]
    clusters[1].update(vnetCidr="10.52.0.0/15", networkPlugin="overlay")
    with pytest.raises(ConfigError) as raised:
        parse({"keyVaultLocation": "eastus", "clusters": clusters})
    assert str(raised.value) == example


def test_the_template_block_prompts_only_declared_string_keys_and_names_every_shipped_stack() -> None:
    """`pulumi new <repo-url>` reads ``template``: each prompt writes a string under a key the
    project declares (a string one: a prompt answers with text), and the quickstart names every
    shipped stack file, which are what a new stack starts from."""
    template = PROJECT["template"]
    assert set(template) == {"displayName", "description", "config", "quickstart"}
    for key, prompt in template["config"].items():
        namespace, name = key.split(":")
        assert namespace == PROJECT["name"]
        assert PROJECT["config"][name]["type"] == "string"
        assert prompt["default"] == PROJECT["config"][name]["default"]
    shipped = sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml"))
    assert shipped == [
        "aks",
        "eks",
        "eks-edge",
        "kind",
        "kind-ambient",
        "kind-fleet",
        "kind-fleet-kind-1",
        "kind-fleet-kind-2",
        "multicloud",
    ]
    # Longest first, so that kind-fleet-kind-1 is not read as kind-fleet, nor kind-fleet as kind.
    names = "|".join(sorted(map(re.escape, shipped), key=len, reverse=True))
    named = re.findall(rf"(?<![\w-])({names})(?![\w-])", template["quickstart"])
    assert set(named) == set(shipped)
    assert "./scripts/kind up" in template["quickstart"] and "./scripts/check" in template["quickstart"]


def test_the_license_is_apache_2_and_the_project_says_so() -> None:
    license_text = (ROOT / "LICENSE").read_text()
    assert license_text.lstrip().startswith("Apache License\n                           Version 2.0, January 2004")
    assert "END OF TERMS AND CONDITIONS" in license_text
    assert yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())["license"] == "Apache-2.0"


def test_the_changelogs_newest_release_is_the_projects_version() -> None:
    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    releases = re.findall(r"^## (\d+\.\d+\.\d+)$", (ROOT / "CHANGELOG.md").read_text(), flags=re.MULTILINE)
    assert releases[0] == version
    assert yaml.safe_load((ROOT / "policy" / "PulumiPolicy.yaml").read_text())["version"] == version


def test_the_github_workflow_runs_the_readme_test_command_and_previews_under_the_policy_pack() -> None:
    workflow = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    # PyYAML reads the key `on` as True (YAML 1.1).
    assert set(workflow[True]) == {"pull_request", "push"}
    test_steps = workflow["jobs"]["test"]["steps"]
    assert {"run": "./scripts/check"} in test_steps
    assert "exec ./scripts/check" in (ROOT / ".ci" / "run").read_text()
    python = next(s["with"]["python-version"] for s in test_steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python == "3.11"
    preview = workflow["jobs"]["preview"]
    runs = " ".join(step.get("run", "") for step in preview["steps"])
    assert "--policy-pack policy --policy-pack-config policy/shipped-stacks.json" in runs
    assert preview["strategy"]["matrix"]["stack"] == ["aks", "eks"]
    assert any(step.get("uses", "").startswith("astral-sh/setup-uv") for step in preview["steps"])
    cli = re.search(r"--version (\d+)\.(\d+)\.(\d+)", runs)
    assert cli
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    sdk = next(p["version"] for p in lock["package"] if p["name"] == "pulumi")
    assert ".".join(cli.groups()) == sdk
    assert tuple(int(part) for part in cli.groups()) >= (3, 187, 0)


def github_anchor(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation but hyphens dropped, spaces hyphens."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def test_the_readme_contents_list_every_section_in_order() -> None:
    readme = (ROOT / "README.md").read_text()
    headings = [h for h in re.findall(r"^## (.+)$", readme, flags=re.MULTILINE) if h != "Contents"]
    contents = readme.split("## Contents\n\n", 1)[1].split("\n\n", 1)[0]
    assert contents.splitlines() == [f"- [{h}](#{github_anchor(h)})" for h in headings]
