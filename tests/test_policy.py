"""The policy pack: each rule's verdict on passing and failing resources, and on the shipped stacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest
from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

from policy import rules
from tests.harness.policy import OPEN, OPTIONS, args, policy_args, violations
from tests.harness.program import ROOT, run_stack

KEY = "-----BEGIN RSA PRIVATE KEY-----\nMIIE...\n-----END RSA PRIVATE KEY-----\n"
CERT = "-----BEGIN CERTIFICATE-----\nMIIF...\n-----END CERTIFICATE-----\n"
DEFAULT_PROVIDER = PolicyProviderResource("pulumi:providers:kubernetes", {}, "urn:...::default_4_34_2", "default_4_34_2")


def test_kubernetes_objects_need_their_clusters_provider() -> None:
    deployment = "kubernetes:apps/v1:Deployment"
    assert violations("kubernetes-explicit-provider", args(deployment, {}, "web")) == []
    message = (
        "web (kubernetes:apps/v1:Deployment) uses the default Kubernetes provider, which deploys to whatever cluster the "
        "current kubeconfig points at; give it its cluster's provider"
    )
    assert violations("kubernetes-explicit-provider", args(deployment, {}, "web", DEFAULT_PROVIDER)) == [message]
    assert violations("kubernetes-explicit-provider", args(deployment, {}, "web", None)) == [message]
    assert violations("kubernetes-explicit-provider", args("aws:ec2/vpc:Vpc", {}, "vpc", None)) == []


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("tls:index/locallySignedCert:LocallySignedCert", {"caPrivateKeyPem": KEY, "caCertPem": CERT}),
        ("kubernetes:core/v1:Secret", {"stringData": {"ca-key.pem": KEY, "ca-cert.pem": CERT}}),
        ("azure-native:keyvault:Secret", {"properties": {"value": KEY}}),
        ("aws:secretsmanager/secretVersion:SecretVersion", {"secretString": KEY}),
        ("kubernetes:core/v1:ConfigMap", {"data": {"root-cert.pem": CERT}}),
    ],
)
def test_keys_may_sit_in_the_properties_their_providers_keep_secret(type_: str, props: dict[str, Any]) -> None:
    assert violations("private-keys-only-in-secret-properties", args(type_, props)) == []


@pytest.mark.parametrize(
    ("type_", "props", "path"),
    [
        ("kubernetes:core/v1:ConfigMap", {"data": {"ca-key.pem": KEY}}, "data.ca-key.pem"),
        ("kubernetes:helm.sh/v3:Release", {"values": {"pilot": {"env": [{"value": KEY}]}}}, "values.pilot.env[0].value"),
        ("azure-native:keyvault:Secret", {"tags": {"key": KEY}}, "tags.key"),
        ("tls:index/locallySignedCert:LocallySignedCert", {"certRequestPem": KEY}, "certRequestPem"),
    ],
)
def test_a_key_anywhere_else_is_a_violation_naming_where(type_: str, props: dict[str, Any], path: str) -> None:
    assert violations("private-keys-only-in-secret-properties", args(type_, props, "x")) == [
        f"x ({type_}) holds a private key in {path}, which its provider does not keep secret; private keys belong only in "
        "the signing inputs of certificates and in Kubernetes, Key Vault or Secrets Manager secrets"
    ]


def stack_resource(outputs: Mapping[str, Any]) -> PolicyResource:
    return PolicyResource(rules.STACK, outputs, "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", "p-s", OPTIONS, None, None, [], {})


def test_no_stack_output_carries_a_key() -> None:
    policy = next(p for p in rules.POLICIES if p.name == "no-private-key-in-stack-outputs")
    assert isinstance(policy, StackValidationPolicy)
    found: list[str] = []
    leaky = StackValidationArgs([stack_resource({"rootCertPem": CERT, "clusters": {"c1": {"caKey": KEY}}})])
    policy.validate(leaky, lambda message, urn=None: found.append(message))
    assert found == ["the stack output clusters.c1.caKey holds a private key; export certificates, never keys"]
    found.clear()
    policy.validate(StackValidationArgs([stack_resource({"rootCertPem": CERT})]), lambda m, u=None: found.append(m))
    assert found == []


@pytest.mark.parametrize(
    ("type_", "props", "open_to"),
    [
        ("eks:index:Cluster", {"endpointPublicAccess": True}, "its public API endpoint admits 0.0.0.0/0"),
        (
            "eks:index:Cluster",
            {"publicAccessCidrs": ["203.0.113.0/24", "0.0.0.0/0"]},
            "its public API endpoint admits 203.0.113.0/24, 0.0.0.0/0",
        ),
        ("azure-native:containerservice:ManagedCluster", {"apiServerAccessProfile": {}}, "its API server admits 0.0.0.0/0"),
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AWS_SCHEME: "internet-facing"}}}},
            "its east-west gateway admits 0.0.0.0/0",
        ),
    ],
)
def test_an_api_or_gateway_open_to_anyone_is_refused_unless_allowed_by_name(type_: str, props: dict[str, Any], open_to: str) -> None:
    assert violations(OPEN, args(type_, props, "c1")) == [
        f"c1 ({type_}): {open_to}; restrict it to the operators' and the other clusters' ranges, or allow it by name in this "
        "policy's allowOpen config"
    ]
    assert violations(OPEN, args(type_, props, "c1", allowOpen=["c1"])) == []


@pytest.mark.parametrize(
    ("type_", "props"),
    [
        ("eks:index:Cluster", {"endpointPublicAccess": True, "publicAccessCidrs": ["203.0.113.0/24"]}),
        ("eks:index:Cluster", {"endpointPublicAccess": False}),
        ("azure-native:containerservice:ManagedCluster", {"apiServerAccessProfile": {"authorizedIPRanges": ["203.0.113.7/32"]}}),
        ("azure-native:containerservice:ManagedCluster", {"apiServerAccessProfile": {"enablePrivateCluster": True}}),
        (
            "kubernetes:helm.sh/v3:Release",
            {
                "name": "istio-eastwestgateway",
                "values": {
                    "service": {"annotations": {rules.AWS_SCHEME: "internet-facing"}, "loadBalancerSourceRanges": ["198.51.100.0/24"]}
                },
            },
        ),
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AWS_SCHEME: "internal"}}}},
        ),
        ("kubernetes:helm.sh/v3:Release", {"name": "istio-eastwestgateway", "values": {}}),  # MetalLB on kind: not judged
    ],
)
def test_restricted_private_or_internal_ones_pass(type_: str, props: dict[str, Any]) -> None:
    assert violations(OPEN, args(type_, props, "c1")) == []


def remediate(type_: str, raw: dict[str, Any]) -> Any:
    policy = next(p for p in rules.POLICIES if p.name == "kubeconfigs-are-secret")
    assert isinstance(policy, ResourceValidationPolicy)
    props = deserialize_properties(raw, True)  # as the engine hands them to a remediation
    # A loop of its own: asyncio.run would unset the one Pulumi's runs in this process use.
    loop = asyncio.new_event_loop()
    try:
        remediation = policy.remediate(args(type_, props))
        assert remediation is not None
        return loop.run_until_complete(remediation)
    finally:
        loop.close()


SECRET_SIG = {"4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270"}


def test_a_plain_kubeconfig_becomes_a_secret_and_nothing_else_changes() -> None:
    result = remediate(rules.KUBERNETES_PROVIDER, {"kubeconfig": "apiVersion: v1", "token": {**SECRET_SIG, "value": "t"}, "context": "c"})
    raw = result["__target"]
    assert isinstance(raw["kubeconfig"], Secret) and raw["kubeconfig"].value == "apiVersion: v1"
    assert isinstance(raw["token"], Secret) and raw["token"].value == "t"
    assert raw["context"] == "c"


def test_a_secret_kubeconfig_is_left_alone() -> None:
    assert remediate(rules.KUBERNETES_PROVIDER, {"kubeconfig": {**SECRET_SIG, "value": "apiVersion: v1"}}) == {}


# --- The shipped stacks, as the policies would see them -------------------------------------------


@pytest.mark.parametrize("stack", ["kind", "kind-ambient", "aks", "eks"])
def test_the_shipped_stacks_keep_keys_and_providers_in_order(stack: str) -> None:
    run = run_stack(stack)
    for name in ("kubernetes-explicit-provider", "private-keys-only-in-secret-properties"):
        found = [v for r in run.resources if r.custom for v in violations(name, policy_args(r, run))]
        assert found == [], name


def test_the_shipped_cloud_stacks_are_open_where_their_config_warns_and_nowhere_else() -> None:
    """Both cloud stacks leave their API servers open (their config warns; set the ranges to close
    them); no east-west gateway is open."""
    open_resources = {
        stack: sorted(r.name for r in run.resources if violations(OPEN, policy_args(r, run)))
        for stack, run in (("aks", run_stack("aks")), ("eks", run_stack("eks")))
    }
    assert open_resources == {"aks": ["eastus-aks-aks", "westeurope-aks-aks"], "eks": ["cluster-1-eks", "cluster-2-eks"]}
    # The config the README passes to try the shipped stacks under the pack allows exactly those.
    shipped = json.loads((ROOT / "policy" / "shipped-stacks.json").read_text())
    assert sorted(shipped[OPEN]["allowOpen"]) == sorted(open_resources["aks"] + open_resources["eks"])
