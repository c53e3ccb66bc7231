"""The program's environment holds its runtime only, and requirements.txt is that runtime, locked.

`pulumi install` (and the Pulumi CLI's uv toolchain) runs `uv sync`, which installs the default
dependency groups: what deploy/ and the policy pack import, which share the environment, and no
test tools. requirements.txt is what the
`pip` toolchain and `pulumi new` read: `uv export` of the same lock, with every hash.
"""

from __future__ import annotations

import shutil
import subprocess
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = {"pytest", "pytest-xdist", "hypothesis", "ruff", "pyright", "types-pyyaml"}
EXPORT = ["export", "--frozen", "--format", "requirements-txt"]


def uv() -> str:
    """The uv scripts/env.sh uses: the one on PATH, else the pinned one it installs in .tools."""
    found = shutil.which("uv") or str(ROOT / ".tools" / "bin" / "uv")
    assert Path(found).exists(), "no uv: run ./scripts/check, which installs the pinned one"
    return found


def requirements() -> dict[str, str]:
    """requirements.txt's packages and their versions."""
    lines = (ROOT / "requirements.txt").read_text().splitlines()
    pins = [line.split(" ")[0] for line in lines if "==" in line and not line.startswith(("#", " "))]
    return {name.lower(): version for name, version in (pin.split("==") for pin in pins)}


def test_requirements_txt_is_the_locks_runtime_export() -> None:
    exported = subprocess.run([uv(), *EXPORT], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert (ROOT / "requirements.txt").read_text() == exported, (
        "regenerate: uv export --frozen --format requirements-txt > requirements.txt"
    )


def test_every_requirement_is_pinned_with_its_hashes() -> None:
    text = (ROOT / "requirements.txt").read_text()
    assert len(requirements()) > 30
    assert text.count("--hash=sha256:") >= len(requirements())


def test_the_programs_environment_holds_its_runtime_and_no_test_tools() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    # deploy/ and the policy pack share the environment: their SDKs are in it, the test tools not.
    assert project["tool"]["uv"]["default-groups"] == ["deploy", "policy"]
    assert {"pulumi-pulumiservice", "pulumi-policy"} <= set(requirements())
    runtime = {pin.split("==")[0].lower(): pin.split("==")[1] for pin in project["project"]["dependencies"]}
    installed = requirements()
    assert {name: installed.get(name) for name in runtime} == runtime
    assert DEV_TOOLS & set(installed) == set()
    dev = {pin.split("==")[0].split("[")[0].lower() for pin in project["dependency-groups"]["dev"]}
    assert dev - {"cryptography"} <= DEV_TOOLS  # cryptography is also a runtime dependency (azure-identity's)
