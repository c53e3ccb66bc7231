"""Config patterns admit ASCII only: Python's \\d, \\w, \\s and \\b match Unicode digits, letters and spaces,
so "1.٣٠.3" passed the Istio version pattern and reached Helm with Arabic-Indic digits, and an AWS
account id or zone could carry digits no API reads as such."""

from __future__ import annotations

import ast
import re
from pathlib import Path
from typing import Any

import pytest

from components.config.istio import EXACT_VERSION, GATEWAY_API_TAG
from components.config.kinds import DNS_LABEL, HOST_LABEL
from components.platforms.aws.config import AWS_REGION, EC2_INSTANCE_TYPE, IAM_PRINCIPAL_ARN
from components.platforms.azure.config import AKS_POOL_NAME, AZURE_REGION, AZURE_VM_SIZE, KEY_VAULT_PREFIX
from tests.configs import n_existing, problems

ROOT = Path(__file__).resolve().parent.parent
UNICODE_CLASSES = re.compile(r"\\[dwsbDWSB]")
REGEX_FUNCTIONS = {"compile", "fullmatch", "match", "search", "split", "sub", "findall", "finditer"}
# Azure takes Unicode letters and digits in resource group names (components/platforms/azure/config.py).
UNICODE_ON_PURPOSE = {r"[-\w._()]{1,89}[-\w_()]"}


def regex_literals(path: Path) -> list[tuple[int, str]]:
    """Every string literal given to a function of `re` in one source file, with its line."""
    found: list[tuple[int, str]] = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if not (isinstance(node.func.value, ast.Name) and node.func.value.id == "re" and node.func.attr in REGEX_FUNCTIONS):
            continue
        for arg in node.args[:1]:
            for part in ast.walk(arg):
                if isinstance(part, ast.Constant) and isinstance(part.value, str):
                    found.append((node.lineno, part.value))
    return found


def program_sources() -> list[Path]:
    return sorted(p for folder in ("components", "policy", "deploy") for p in (ROOT / folder).rglob("*.py"))


def test_the_scan_sees_the_program_patterns() -> None:
    # A scan that found nothing would pass every rule below.
    literals = [text for path in program_sources() for _, text in regex_literals(path)]
    assert len(literals) >= 20
    assert r"[a-z]{2}(-gov)?-[a-z]+-[0-9]" in literals


def test_no_program_pattern_uses_a_unicode_class() -> None:
    offenders = [
        f"{path.relative_to(ROOT)}:{line}: {text}"
        for path in program_sources()
        for line, text in regex_literals(path)
        if UNICODE_CLASSES.search(text) and text not in UNICODE_ON_PURPOSE
    ]
    assert offenders == []


ARABIC_INDIC_THREE = "\u0663"
FULLWIDTH_A = "\uff41"


@pytest.mark.parametrize(
    ("pattern", "ascii_text"),
    [
        (EXACT_VERSION, "1.30.3"),
        (GATEWAY_API_TAG, "v1.3.0"),
        (DNS_LABEL, "kind-3"),
        (HOST_LABEL, "api3"),
        (AWS_REGION, "eu-west-3"),
        (EC2_INSTANCE_TYPE, "m5.3xlarge"),
        (IAM_PRINCIPAL_ARN, "arn:aws:iam::333333333333:role/a3"),
        (AZURE_REGION, "westeurope3"),
        (AKS_POOL_NAME, "user3"),
        (AZURE_VM_SIZE, "Standard_D3s_v5"),
        (KEY_VAULT_PREFIX, "mesh3"),
    ],
)
def test_a_non_ascii_digit_or_letter_is_refused(pattern: re.Pattern[str], ascii_text: str) -> None:
    assert pattern.fullmatch(ascii_text)
    assert not pattern.fullmatch(ascii_text.replace("3", ARABIC_INDIC_THREE))
    assert not pattern.fullmatch(ascii_text.replace("a", FULLWIDTH_A, 1)) or "a" not in ascii_text


@pytest.mark.parametrize(
    ("field", "path", "value"),
    [
        ("istioRevisions", "istioRevisions", {"default": f"1.{ARABIC_INDIC_THREE}0.3"}),
        ("meshId", "meshId", f"mesh{ARABIC_INDIC_THREE}"),
    ],
)
def test_a_config_with_non_ascii_digits_is_refused_naming_the_field(field: str, path: str, value: Any) -> None:
    config = {**n_existing(2), field: value}
    assert [p.path for p in problems(config)] == [path]
