"""deploy/ and esc/: the ESC environments the cloud stacks name, and Deployments settings as code."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from deploy.settings import ROOT, build, environment_check, read_config
from tests.harness.program import SHIPPED_STACKS, StackRun, run_program

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
    return deploy(CONFIG)


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_no_shipped_stack_imports_an_environment_so_every_backend_accepts_it(stack: str) -> None:
    """A self-managed backend refuses a stack file with ``environment:``; ESC is added by command."""
    assert "environment" not in yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())


@pytest.mark.parametrize("cloud", ["azure", "aws"])
def test_each_login_environment_the_repository_defines_exports_its_clouds_variables(cloud: str) -> None:
    definition = yaml.safe_load((ROOT / "esc" / f"{cloud}.yaml").read_text())
    function, variables = LOGINS[cloud]
    assert definition["imports"] == ["istio-multicluster/accounts"]
    assert set(definition["values"][cloud]["login"]) == {f"fn::open::{function}"}
    assert set(definition["values"]["environmentVariables"]) == variables


def test_the_readme_imports_what_deploy_creates_for_each_stack(deployed: StackRun) -> None:
    readme = (ROOT / "README.md").read_text()
    commands = deployed.outputs["importCommands"]
    assert commands == {
        "aks": "pulumi config env add istio-multicluster/azure --stack aks --yes",
        "eks": "pulumi config env add istio-multicluster/aws --stack eks --yes",
    }
    for command in commands.values():
        assert command in readme
        stack_file = (ROOT / f"Pulumi.{command.split('--stack ')[1].split()[0]}.yaml").read_text()
        assert command.removesuffix(" --yes") in stack_file


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


@pytest.mark.parametrize(("stack", "cloud"), [("aks", "azure"), ("eks", "aws")])
def test_each_cloud_stack_deploys_from_the_repository_with_esc_alone_and_previews_pull_requests(
    deployed: StackRun, stack: str, cloud: str
) -> None:
    settings = deployed.named(f"{stack}-deployment-settings").inputs
    assert (settings["organization"], settings["project"], settings["stack"]) == ("platform", "istio-multicluster", stack)
    assert settings["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
    assert "github" not in settings
    assert settings["vcs"] == {
        "provider": "github",
        "repository": "example-org/istio-multicluster",
        "deployCommits": False,
        "previewPullRequests": True,
        "pullRequestTemplate": False,
        "paths": ["__main__.py", "components/**", "Pulumi.yaml", "pyproject.toml", "uv.lock", f"Pulumi.{stack}.yaml"],
    }
    # No Deployments OIDC: credentials come from the stack's ESC environment only.
    assert settings["operationContext"] == {
        "preRunCommands": [environment_check(stack, cloud)],
        "options": {"skipIntermediateDeployments": True, "deleteAfterDestroy": False},
    }


STACK_FILE = "# a comment\nenvironment:\n  - {environment}\nconfig:\n  istio-multicluster:meshId: mesh1\n"


@pytest.mark.parametrize(
    ("stack_file", "passes"),
    [
        (STACK_FILE.format(environment="istio-multicluster/azure"), True),
        (STACK_FILE.format(environment="istio-multicluster/aws"), False),
        (STACK_FILE.format(environment="istio-multicluster/azure-old"), False),
        ("config:\n  istio-multicluster:meshId: mesh1\n", False),
    ],
)
def test_a_deployment_stops_with_what_to_do_when_the_stack_file_does_not_import_its_login(
    tmp_path: Path, stack_file: str, passes: bool
) -> None:
    """The first command runs in bash, as Deployments run it, on the committed stack file."""
    (tmp_path / "Pulumi.aks.yaml").write_text(stack_file)
    bash = shutil.which("bash") or "/bin/bash"
    result = subprocess.run([bash, "-c", environment_check("aks", "azure")], cwd=tmp_path, capture_output=True, text=True, check=False)
    assert (result.returncode == 0) is passes
    assert result.stderr == (
        ""
        if passes
        else "Pulumi.aks.yaml does not import the ESC environment istio-multicluster/azure, so this deployment has no cloud "
        "credentials: run 'pulumi config env add istio-multicluster/azure --stack aks --yes' and commit Pulumi.aks.yaml\n"
    )


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
    assert set(project["config"]) == {"organization", *(k for k in CONFIG if k != "organization"), "branch", "driftSchedule", "fleets"}


def deploy(config: dict[str, Any]) -> StackRun:
    def program() -> None:
        for name, value in build(read_config()).items():
            pulumi.export(name, value)

    return run_program(config, program=program)


def test_a_fleets_mesh_and_member_stacks_get_settings_that_run_nothing_unattended() -> None:
    run = deploy({**CONFIG, "fleets": ["kind-fleet"]})
    stacks = ["kind-fleet", "kind-fleet-kind-1", "kind-fleet-kind-2"]
    assert run.outputs["fleetStacks"] == {"kind-fleet": stacks}
    for stack in stacks:
        settings = run.named(f"{stack}-deployment-settings").inputs
        assert (settings["organization"], settings["project"], settings["stack"]) == ("platform", "istio-multicluster", stack)
        assert settings["sourceContext"] == {"git": {"branch": "refs/heads/main", "repoDir": "."}}
        assert settings["vcs"] == {
            "provider": "github",
            "repository": "example-org/istio-multicluster",
            "deployCommits": False,
            "previewPullRequests": False,
            "pullRequestTemplate": False,
        }
        assert settings["operationContext"] == {"options": {"skipIntermediateDeployments": False, "deleteAfterDestroy": False}}
    # Nothing else per fleet stack: no drift schedule, no environment.
    assert not [r for r in run.resources if r.name.startswith("kind-fleet") and not r.name.endswith("-deployment-settings")]


def test_a_fleet_whose_mesh_file_is_no_fleets_is_refused_by_name() -> None:
    with pytest.raises(
        Exception, match=r"istio-multicluster-deploy: fleets: kind: Pulumi\.kind\.yaml does not exist or does not set fleetMesh: true"
    ):
        deploy({**CONFIG, "fleets": ["kind"]})
