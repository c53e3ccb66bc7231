"""Running the policy pack's rules on a run's resources."""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)

from policy import rules
from tests.harness.monitor import Registered
from tests.harness.program import StackRun


def violations(policy_name: str, resource: ResourceValidationArgs) -> list[str]:
    policy = next(p for p in rules.POLICIES if p.name == policy_name)
    assert isinstance(policy, ResourceValidationPolicy)
    found: list[str] = []
    policy.validate(resource, lambda message, urn=None: found.append(message))
    return found


OPEN = "no-open-api-or-gateway"


def policy_args(resource: Registered, run: StackRun) -> ResourceValidationArgs:
    """The resource as the policy host shows it: its inputs and its provider (none for a default one)."""
    provider = None
    if resource.provider:
        registered = run.by_urn(resource.provider_urn)
        provider = PolicyProviderResource(registered.type, {}, registered.urn, registered.name)
    return args(resource.type, resource.inputs, resource.name, provider)


OPTIONS = PolicyResourceOptions(False, [], False, [], PolicyCustomTimeouts(0, 0, 0), [], None)


CLUSTER_PROVIDER = PolicyProviderResource("pulumi:providers:kubernetes", {}, "urn:...::kind-1-provider", "kind-1-provider")


def args(
    type_: str, props: Mapping[str, Any], name: str = "r", provider: PolicyProviderResource | None = CLUSTER_PROVIDER, **config: Any
) -> ResourceValidationArgs:
    return ResourceValidationArgs(type_, props, f"urn:pulumi:s::p::{type_}::{name}", name, OPTIONS, provider, config)


def stack_violations(policy_name: str, resources: Sequence[PolicyResource], **config: Any) -> list[str]:
    """A stack policy's findings on ``resources``."""
    policy = next(p for p in rules.POLICIES if p.name == policy_name)
    assert isinstance(policy, StackValidationPolicy)
    found: list[str] = []
    policy.validate(StackValidationArgs(list(resources), config), lambda message, urn=None: found.append(message))
    return found


# Changes a resource's properties before a policy sees them; None drops the resource.
Edit = Callable[[Registered, dict[str, Any]], dict[str, Any] | None]


def policy_resources(run: StackRun, edit: Edit | None = None) -> list[PolicyResource]:
    """The run's resources as a stack policy sees them (their inputs as properties), each
    passed through ``edit`` first when given (``None`` from it drops the resource)."""
    found = []
    for resource in run.resources:
        props: dict[str, Any] | None = copy.deepcopy(dict(resource.inputs))
        if edit is not None:
            props = edit(resource, props)
        if props is None:
            continue
        provider = policy_args(resource, run).provider
        found.append(PolicyResource(resource.type, props, resource.urn, resource.name, OPTIONS, provider, None, [], {}))
    return found


def all_violations(run: StackRun, **config: Any) -> dict[str, list[str]]:
    """Every validation policy's findings on the run, by policy (those with none left out)."""
    found: dict[str, list[str]] = {}
    for policy in rules.POLICIES:
        if isinstance(policy, StackValidationPolicy):
            messages = stack_violations(policy.name, policy_resources(run), **config.get(policy.name, {}))
        elif isinstance(policy, ResourceValidationPolicy):
            messages = [
                m for r in run.resources for m in violations(policy.name, with_config(policy_args(r, run), config.get(policy.name, {})))
            ]
        else:
            continue
        if messages:
            found[policy.name] = messages
    return found


def with_config(resource: ResourceValidationArgs, config: Mapping[str, Any]) -> ResourceValidationArgs:
    return ResourceValidationArgs(
        resource.resource_type, resource.props, resource.urn, resource.name, resource.opts, resource.provider, config
    )
