"""The policy pack stands alone: what `pulumi policy publish` ships is policy/ and nothing else.

The CLI zips the pack's directory; where a stack's update downloads it, it installs the pack's
requirements.txt into a virtualenv of its own and runs ``__main__.py`` with runpy (pulumi/policy),
which puts the directory first on ``sys.path``.
"""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
PACK = ROOT / "policy"
# The import name of each distribution the pack may use.
IMPORT_NAMES = {"pulumi-policy": "pulumi_policy", "pyyaml": "yaml"}


def pinned(requirements: Path) -> dict[str, str]:
    lines = requirements.read_text().splitlines()
    pins = [line.split(" ")[0] for line in lines if "==" in line and not line.startswith(("#", " "))]
    return {name.lower(): version for name, version in (pin.split("==") for pin in pins)}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            found.add(node.module.split(".")[0])
    return found


def test_the_pack_imports_only_the_standard_library_its_requirements_and_itself() -> None:
    modules = set().union(*(imported_modules(path) for path in PACK.glob("*.py")))
    own = {path.stem for path in PACK.glob("*.py")}
    third_party = modules - set(sys.stdlib_module_names) - own - {"__future__"}
    assert third_party == {"pulumi_policy", "yaml"}
    requirements = pinned(PACK / "requirements.txt")
    assert {IMPORT_NAMES[name] for name in IMPORT_NAMES if name in requirements} == third_party


def test_its_requirements_are_the_policy_groups_locked_export() -> None:
    uv = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    command = [uv, "export", "--frozen", "--only-group", "policy", "--no-emit-project", "--format", "requirements-txt"]
    exported = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert (PACK / "requirements.txt").read_text() == exported, f"regenerate: {' '.join(command[1:])} > policy/requirements.txt"
    text = (PACK / "requirements.txt").read_text()
    assert text.count("--hash=sha256:") >= len(pinned(PACK / "requirements.txt"))
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert project["dependency-groups"]["policy"] == ["pulumi-policy==1.21.0", "pyyaml==6.0.3"]


def test_the_pack_has_the_projects_version_and_runs_locally_from_the_projects_environment() -> None:
    pack = yaml.safe_load((PACK / "PulumiPolicy.yaml").read_text())
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert pack["version"] == project["project"]["version"]
    assert pack["runtime"] == {"name": "python", "options": {"virtualenv": "../venv"}}


def test_a_copy_of_the_directory_alone_starts_as_the_policy_host_starts_it(tmp_path: Path) -> None:
    """Copied away from the project (nothing of it importable) and run as pulumi/policy runs it
    (unbuffered, `python -u`):
    the pack serves the analyzer, printing its port, instead of failing on an import."""
    copy = tmp_path / "pack"
    shutil.copytree(PACK, copy, ignore=shutil.ignore_patterns("__pycache__"))
    assert (copy / "requirements.txt").exists()
    launcher = f"import runpy; runpy.run_path({str(copy)!r}, run_name='__main__')"
    with subprocess.Popen(
        [sys.executable, "-I", "-u", "-c", launcher], cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as host:
        try:
            assert host.stdout is not None
            port = host.stdout.readline().strip()
        finally:
            host.kill()
        errors = host.stderr.read() if host.stderr else ""
    assert port.isdigit(), errors
