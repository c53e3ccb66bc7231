"""Pulumi Deployments and ESC for the cloud stacks: what ``deploy/`` creates in Pulumi Cloud.

- ESC environments in project ``istio-multicluster``: ``accounts`` (the role and Entra ids, from this
  program's config), ``aws`` and ``azure`` (the OIDC logins in ``esc/aws.yaml`` and
  ``esc/azure.yaml``, which import ``accounts``). A cloud stack imports its login environment with
  ``pulumi config env add`` (the shipped stack files import none, so they run on any backend with
  the operator's own credentials); an operator's ``pulumi up`` and every deployment then get the
  same short-lived credentials, by ESC alone: ESC is the one place cloud credentials come from, so
  the clouds trust one OIDC subject per environment.
- Per cloud stack, DeploymentSettings: the repository and branch (the GitHub app, through ``vcs``),
  a preview on every pull request that touches the program or the stack, never an unattended ``up``
  on a push; a first command that stops the deployment, saying what to do, when the committed stack
  file does not import its login environment (it would otherwise run without credentials);
  intermediate deployments skipped; the stack kept after ``destroy`` (its history and config stay
  for the next ``up``).
- Per cloud stack, a drift schedule that only detects (``pulumi refresh --preview-only``): a drift
  remediated by an unattended ``up`` could undo an operator's emergency fix on a live mesh.
- Per fleet (``fleets``: mesh stacks whose file sets ``fleetMesh: true``), DeploymentSettings for the
  mesh stack and every member stack its file lists: the repository through the GitHub app (which a
  private repository needs: ``python -m fleet up --remote --inherit-settings`` takes them), and
  nothing unattended: no previews of pull requests (a fleet's would be one run per member) and no
  deployment on a push; ``python -m fleet`` decides what runs and in which order.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_pulumiservice as service
import yaml

from fleet.files import member_files

ROOT = Path(__file__).resolve().parent.parent
PROJECT = "istio-multicluster"
ACCOUNTS = "accounts"
# The cloud stacks and the login environment (esc/<cloud>.yaml) each imports.
CLOUD_STACKS = {"aks": "azure", "eks": "aws"}
WATCHED = ["__main__.py", "components/**", "Pulumi.yaml", "pyproject.toml", "uv.lock"]


@dataclass(frozen=True)
class DeployConfig:
    """This program's config.

    Args:
        organization: the Pulumi organization of the stacks.
        repository: the GitHub repository, ``owner/name``.
        branch: the branch deployments run from (default ``main``).
        aws_role_arn: the role the eks stack assumes by OIDC.
        azure_client_id: the Entra application the aks stack signs in as.
        azure_tenant_id: its tenant.
        azure_subscription_id: the subscription the aks stack deploys into.
        drift_schedule: cron (UTC) of drift detection (default weekdays 05:00).
        fleets: the mesh stacks of fleets whose stacks get Deployments settings (default none).
    """

    organization: str
    repository: str
    aws_role_arn: str
    azure_client_id: str
    azure_tenant_id: str
    azure_subscription_id: str
    branch: str = "main"
    drift_schedule: str = "0 5 * * 1-5"
    fleets: tuple[str, ...] = ()


def read_config() -> DeployConfig:
    config = pulumi.Config()
    return DeployConfig(
        organization=config.get("organization") or pulumi.get_organization(),
        repository=config.require("repository"),
        aws_role_arn=config.require("awsRoleArn"),
        azure_client_id=config.require("azureClientId"),
        azure_tenant_id=config.require("azureTenantId"),
        azure_subscription_id=config.require("azureSubscriptionId"),
        branch=config.get("branch") or "main",
        drift_schedule=config.get("driftSchedule") or "0 5 * * 1-5",
        fleets=tuple(str(f) for f in config.get_object("fleets") or []),
    )


def accounts_yaml(config: DeployConfig) -> str:
    """The ``accounts`` environment: the ids the login environments import."""
    accounts = {
        "aws": {"roleArn": config.aws_role_arn},
        "azure": {"clientId": config.azure_client_id, "tenantId": config.azure_tenant_id, "subscriptionId": config.azure_subscription_id},
    }
    return yaml.safe_dump({"values": {ACCOUNTS: accounts}}, sort_keys=False)


def login_yaml(cloud: str) -> str:
    """The definition of the ``<cloud>`` login environment, as the repository keeps it."""
    return (ROOT / "esc" / f"{cloud}.yaml").read_text()


def login_environment(cloud: str) -> str:
    """The name a stack imports: ``istio-multicluster/<cloud>``."""
    return f"{PROJECT}/{cloud}"


def import_command(stack: str, cloud: str) -> str:
    """The command that makes ``stack`` take its credentials from its login environment."""
    return f"pulumi config env add {login_environment(cloud)} --stack {stack} --yes"


def environment_check(stack: str, cloud: str) -> str:
    """A deployment's first command: stop, saying what to do, unless the stack file imports the login.

    The stack file is the repository's (Deployments check it out); ``environment:`` lists imports
    one per line as ``  - <project>/<name>``, which ``pulumi config env add`` writes.
    """
    name = login_environment(cloud)
    message = (
        f"Pulumi.{stack}.yaml does not import the ESC environment {name}, so this deployment has no cloud credentials: "
        f"run '{import_command(stack, cloud)}' and commit Pulumi.{stack}.yaml"
    )
    return f"grep -Eq '^[[:space:]]*-[[:space:]]*{name}[[:space:]]*$' Pulumi.{stack}.yaml || {{ echo \"{message}\" >&2; exit 1; }}"


def deployment_settings(stack: str, cloud: str, config: DeployConfig) -> service.DeploymentSettings:
    return stack_settings(
        stack,
        config,
        # `github` is deprecated in pulumi-pulumiservice 1.5.0 for `vcs`, which names the provider.
        service.DeploymentSettingsVcsArgs(
            provider="github",
            repository=config.repository,
            deploy_commits=False,
            preview_pull_requests=True,
            paths=[*WATCHED, f"Pulumi.{stack}.yaml"],
        ),
        # No `oidc`: the stack's ESC environment is where every run, deployed or not, gets credentials.
        service.DeploymentSettingsOperationContextArgs(
            pre_run_commands=[environment_check(stack, cloud)],
            options=service.OperationContextOptionsArgs(skip_intermediate_deployments=True, delete_after_destroy=False),
        ),
    )


def stack_settings(
    stack: str,
    config: DeployConfig,
    vcs: service.DeploymentSettingsVcsArgs,
    operation_context: service.DeploymentSettingsOperationContextArgs,
) -> service.DeploymentSettings:
    """A stack's DeploymentSettings: this repository's branch as its source, with ``vcs`` and ``operation_context``."""
    return service.DeploymentSettings(
        f"{stack}-deployment-settings",
        organization=config.organization,
        project=PROJECT,
        stack=stack,
        source_context=service.DeploymentSettingsSourceContextArgs(
            git=service.DeploymentSettingsGitSourceArgs(branch=f"refs/heads/{config.branch}", repo_dir=".")
        ),
        vcs=vcs,
        operation_context=operation_context,
    )


def fleet_stacks(mesh_stack: str, root: Path = ROOT) -> list[str]:
    """The mesh stack of a fleet and its member stacks, from the mesh stack's file under ``root``."""
    mesh_file = root / f"Pulumi.{mesh_stack}.yaml"
    config = ((yaml.safe_load(mesh_file.read_text()) or {}).get("config") or {}) if mesh_file.exists() else {}
    if config.get(f"{PROJECT}:fleetMesh") is not True:
        raise ValueError(f"fleets: {mesh_stack}: Pulumi.{mesh_stack}.yaml does not exist or does not set fleetMesh: true")
    return [mesh_stack, *(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in member_files(mesh_stack, root))]


def fleet_deployment_settings(stack: str, config: DeployConfig) -> service.DeploymentSettings:
    """A fleet stack's settings: its source, and nothing that runs it unattended."""
    return stack_settings(
        stack,
        config,
        service.DeploymentSettingsVcsArgs(
            provider="github", repository=config.repository, deploy_commits=False, preview_pull_requests=False
        ),
        service.DeploymentSettingsOperationContextArgs(
            options=service.OperationContextOptionsArgs(skip_intermediate_deployments=False, delete_after_destroy=False),
        ),
    )


def environment(name: str, text: str, config: DeployConfig, opts: pulumi.ResourceOptions | None = None) -> service.Environment:
    return service.Environment(
        f"esc-{name}", organization=config.organization, project=PROJECT, name=name, yaml=pulumi.StringAsset(text), opts=opts
    )


def build(config: DeployConfig) -> dict[str, Any]:
    """Every resource; returns the stack outputs (the environments' and settings' names)."""
    accounts = environment(ACCOUNTS, accounts_yaml(config), config)
    after_accounts = pulumi.ResourceOptions(depends_on=[accounts])
    logins = {cloud: environment(cloud, login_yaml(cloud), config, after_accounts) for cloud in sorted(set(CLOUD_STACKS.values()))}
    for stack, cloud in CLOUD_STACKS.items():
        settings = deployment_settings(stack, cloud, config)
        # Drift runs are deployments: they need the stack's settings, and open its environment.
        service.DriftSchedule(
            f"{stack}-drift",
            organization=config.organization,
            project=PROJECT,
            stack=stack,
            schedule_cron=config.drift_schedule,
            auto_remediate=False,
            opts=pulumi.ResourceOptions(depends_on=[settings, logins[cloud]]),
        )
    try:
        fleets = {mesh: fleet_stacks(mesh) for mesh in config.fleets}
    except ValueError as error:  # a stack file that is no fleet's: say which, without a traceback
        raise pulumi.RunError(f"istio-multicluster-deploy: {error}") from None
    for stack in (stack for stacks in fleets.values() for stack in stacks):
        fleet_deployment_settings(stack, config)
    return {
        "environments": sorted(f"{PROJECT}/{name}" for name in [ACCOUNTS, *logins]),
        "fleetStacks": fleets,
        "stacks": sorted(CLOUD_STACKS),
        # What to run, from the repository's root, for each stack to take its credentials from ESC.
        "importCommands": {stack: import_command(stack, cloud) for stack, cloud in sorted(CLOUD_STACKS.items())},
    }
