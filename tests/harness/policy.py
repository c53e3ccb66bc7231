"""Running the policy pack's rules on a run's resources."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyProviderResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
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
