"""deploy/ and esc/: the ESC environments the cloud stacks name, and Deployments settings as code."""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pytest
import yaml

from deploy.settings import ROOT, build, read_config, stack_environments
from tests.harness.program import StackRun, run_program

CONFIG = {
    "organization": "platform",
    "repository": "example-org/istio-multicluster",
    "awsRoleArn": "arn:aws:iam::123456789012:role/istio-multicluster",
    "azureClientId": "aaaaaaaa-0000-0000-0000-000000000001",
    "azureTenantId": "aaaaaaaa-0000-0000-0000-000000000002",
    "azureSubscriptionId": "aaaaaaaa-0000-0000-0000-000000000003",
}
LOGINS = {
    "aws": ("aws-login", {"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"}),
    "azure": ("azure-login", {"ARM_USE_OIDC", "ARM_CLIENT_ID", "ARM_TENANT_ID", "ARM_SUBSCRIPTION_ID", "ARM_OIDC_TOKEN"}),
}


@pytest.fixture(scope="module")
def deployed() -> StackRun:
    def program() -> None:
        for name, value in build(read_config()).items():
            pulumi.export(name, value)

    return run_program(CONFIG, program=program)


@pytest.mark.parametrize(("stack", "cloud"), [("aks", "azure"), ("eks", "aws")])
def test_each_cloud_stack_names_a_login_environment_the_repository_defines(stack: str, cloud: str) -> None:
    assert stack_environments(stack) == [f"istio-multicluster/{cloud}"]
    definition = yaml.safe_load((ROOT / "esc" / f"{cloud}.yaml").read_text())
    function, variables = LOGINS[cloud]
    assert definition["imports"] == ["istio-multicluster/accounts"]
    assert set(definition["values"][cloud]["login"]) == {f"fn::open::{function}"}
    assert set(definition["values"]["environmentVariables"]) == variables


def test_the_kind_stack_needs_no_environment() -> None:
    assert stack_environments("kind") == []


def references(text: str) -> set[str]:
    return set(re.findall(r"\$\{(accounts\.[^}]+)\}", text))


def lookup(tree: dict[str, Any], path: str) -> Any:
    for step in path.split("."):
        tree = tree[step]
    return tree


def test_the_logins_read_only_ids_the_accounts_environment_holds(deployed: StackRun) -> None:
    accounts = yaml.safe_load(deployed.named("esc-accounts").inputs["yaml"]["text"])["values"]
    assert accounts == {
        "accounts": {
            "aws": {"roleArn": CONFIG["awsRoleArn"]},
            "azure": {
                "clientId": CONFIG["azureClientId"],
                "tenantId": CONFIG["azureTenantId"],
                "subscriptionId": CONFIG["azureSubscriptionId"],
            },
        }
    }
    for cloud in LOGINS:
        text = deployed.named(f"esc-{cloud}").inputs["yaml"]["text"]
        assert text == (ROOT / "esc" / f"{cloud}.yaml").read_text()
        assert references(text) and all(isinstance(lookup(accounts, r), str) for r in references(text))
        assert deployed.needs(f"esc-{cloud}", "esc-accounts")
    assert deployed.outputs["environments"] == ["istio-multicluster/accounts", "istio-multicluster/aws", "istio-multicluster/azure"]


@pytest.mark.parametrize(
    ("stack", "oidc"),
    [
        (
            "aks",
            {
                "azure": {
                    "clientId": CONFIG["azureClientId"],
                    "tenantId": CONFIG["azureTenantId"],
                    "subscriptionId": CONFIG["azureSubscriptionId"],
                }
            },
        ),
        ("eks", {"aws": {"roleARN": CONFIG["awsRoleArn"], "sessionName": "istio-multicluster-deployments", "duration": "2h"}}),
    ],
)
def test_each_cloud_stack_deploys_from_the_repository_with_oidc_and_previews_pull_requests(
    deployed: StackRun, stack: str, oidc: dict[str, Any]
) -> None:
    settings = deployed.named(f"{stack}-deployment-settings").inputs
    assert (settings["organization"], settings["project"], settings["stack"]) == ("platform", "istio-multicluster", stack)
    assert settings["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
    assert settings["github"] == {
        "repository": "example-org/istio-multicluster",
        "deployCommits": False,
        "previewPullRequests": True,
        "pullRequestTemplate": False,
        "paths": ["__main__.py", "components/**", "Pulumi.yaml", "pyproject.toml", "uv.lock", f"Pulumi.{stack}.yaml"],
    }
    assert settings["operationContext"] == {"oidc": oidc, "options": {"skipIntermediateDeployments": True, "deleteAfterDestroy": False}}


@pytest.mark.parametrize(("stack", "cloud"), [("aks", "azure"), ("eks", "aws")])
def test_drift_is_detected_on_a_schedule_and_never_remediated(deployed: StackRun, stack: str, cloud: str) -> None:
    drift = deployed.named(f"{stack}-drift")
    assert drift.inputs == {
        "organization": "platform",
        "project": "istio-multicluster",
        "stack": stack,
        "scheduleCron": "0 5 * * 1-5",
        "autoRemediate": False,
    }
    assert {deployed.by_urn(u).name for u in drift.dependencies} == {f"{stack}-deployment-settings", f"esc-{cloud}"}


def test_the_deploy_project_declares_every_key_the_program_reads() -> None:
    project = yaml.safe_load((ROOT / "deploy" / "Pulumi.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"toolchain": "uv", "virtualenv": "../venv"}}
    assert set(project["config"]) == {"organization", *(k for k in CONFIG if k != "organization"), "branch", "driftSchedule"}
