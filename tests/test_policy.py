"""The policy pack: each rule's verdict on passing and failing resources, and on the shipped stacks."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import pytest
import yaml
from pulumi_policy import (
    PolicyProviderResource,
    PolicyResource,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.deserialize import deserialize_properties

from policy import rules
from tests.configs import OPERATORS
from tests.harness.monitor import Registered
from tests.harness.policy import (
    OPEN,
    OPTIONS,
    Edit,
    all_violations,
    args,
    policy_resources,
    stack_violations,
    violations,
)
from tests.harness.program import OPERATOR_SET, ROOT, SHIPPED_STACKS, StackRun, run_stack

PARAMETERS = "no-open-gateway-parameters"

AZURE_DENY_ALL = "service.beta.kubernetes.io/azure-deny-all-except-load-balancer-source-ranges"


def ambient_gateway(annotations: dict[str, str], parameters: str | None = None) -> dict[str, Any]:
    infrastructure: dict[str, Any] = {"annotations": annotations}
    if parameters:
        infrastructure["parametersRef"] = {"group": "", "kind": "ConfigMap", "name": parameters}
    return {
        "metadata": {"name": "istio-eastwest", "namespace": "istio-system"},
        "spec": {"gatewayClassName": "istio-east-west", "infrastructure": infrastructure},
    }


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
        # Azure makes a public load balancer unless told internal: the program's internet-facing
        # AKS gateway carries only the deny-all annotation.
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {AZURE_DENY_ALL: "true"}}}},
            "its east-west gateway admits 0.0.0.0/0",
        ),
        # AWS's in-tree controller: internet-facing unless marked internal.
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AWS_TYPE: "nlb"}}}},
            "its east-west gateway admits 0.0.0.0/0",
        ),
        (rules.GATEWAY, ambient_gateway({rules.AWS_SCHEME: "internet-facing"}), "its east-west gateway admits 0.0.0.0/0"),
        (rules.GATEWAY, ambient_gateway({AZURE_DENY_ALL: "true"}), "its east-west gateway admits 0.0.0.0/0"),
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
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AZURE_INTERNAL: "true"}}}},
        ),
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AWS_TYPE: "external"}}}},
        ),
        # AWS's in-tree controller, told to make an internal load balancer.
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-eastwestgateway", "values": {"service": {"annotations": {rules.AWS_INTERNAL: "true"}}}},
        ),
        # The north-south ingress gateway is open to clients by design.
        (
            "kubernetes:helm.sh/v3:Release",
            {"name": "istio-ingressgateway", "values": {"service": {"annotations": {rules.AWS_SCHEME: "internet-facing"}}}},
        ),
        (rules.GATEWAY, ambient_gateway({rules.AWS_SCHEME: "internet-facing"}, "istio-eastwest-options")),  # judged with its ConfigMap
        (rules.GATEWAY, ambient_gateway({rules.AWS_SCHEME: "internal"})),
        (rules.GATEWAY, ambient_gateway({rules.AZURE_INTERNAL: "true"})),
        (rules.GATEWAY, ambient_gateway({})),
        (rules.GATEWAY, {**ambient_gateway({rules.AWS_SCHEME: "internet-facing"}), "spec": {"gatewayClassName": "istio"}}),
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


SHIPPED = SHIPPED_STACKS
# The shipped cloud stacks leave their API servers open (their config warns; set the ranges to close them).
OPEN_API_SERVERS = {
    "aks": ["eastus-aks-aks", "westeurope-aks-aks"],
    "eks": ["cluster-1-eks", "cluster-2-eks"],
    "eks-edge": ["eu-1-eks", "us-1-eks"],
}
OPEN_MESSAGE = (
    "{name} ({type}): its {what} admits 0.0.0.0/0; restrict it to the operators' and the other clusters' ranges, or allow it "
    "by name in this policy's allowOpen config"
)
VARIANTS = {
    # stack, overrides: every way the program exposes an east-west gateway to the internet, and a
    # topology whose remotes hold no gateways of their own for istiod.
    "multicloud-ambient": ("multicloud", {"dataplane": "ambient", "operatorCidrs": OPERATORS}),
    "multicloud-ambient-sidecar-gateway": (
        "multicloud",
        {"dataplane": "ambient", "ambientSidecarGateway": True, "operatorCidrs": OPERATORS},
    ),
    "multicloud-primary-remote": ("multicloud", {"topology": "primary-remote", "operatorCidrs": OPERATORS}),
    "eks-primary-remote": ("eks", {"topology": "primary-remote"}),
    "eks-ambient": ("eks", {"dataplane": "ambient"}),
}


def shipped_or_variant(name: str) -> StackRun:
    if name in VARIANTS:
        stack, overrides = VARIANTS[name]
        return run_stack(stack, overrides)
    return run_stack(name, OPERATOR_SET.get(name))


@pytest.mark.parametrize("name", [*SHIPPED, *VARIANTS])
def test_every_shipped_stack_and_variant_passes_the_whole_pack_but_the_open_api_servers_it_warns_of(name: str) -> None:
    run = shipped_or_variant(name)
    stack = VARIANTS[name][0] if name in VARIANTS else name
    open_servers = OPEN_API_SERVERS.get(stack, [])
    expected = sorted(OPEN_MESSAGE.format(name=n, type=run.named(n).type, what=what(run.named(n).type)) for n in open_servers)
    assert {k: sorted(v) for k, v in all_violations(run).items()} == ({OPEN: expected} if expected else {})
    # The config the README passes to try the shipped stacks under the pack allows exactly those.
    shipped = json.loads((ROOT / "policy" / "shipped-stacks.json").read_text())
    assert all_violations(run, **shipped) == {}


def what(type_: str) -> str:
    return "public API endpoint" if type_.startswith("eks:") else "API server"


def test_the_allowance_for_the_shipped_stacks_names_exactly_their_open_api_servers() -> None:
    shipped = json.loads((ROOT / "policy" / "shipped-stacks.json").read_text())
    assert sorted(shipped[OPEN]["allowOpen"]) == sorted(n for names in OPEN_API_SERVERS.values() for n in names)
    assert set(shipped) == {OPEN}


def test_an_internet_facing_gateway_of_every_kind_is_caught_once_its_ranges_are_removed() -> None:
    """The multicloud stacks' gateways face the internet: removing what restricts them is reported,
    whichever way the program exposed them (sidecar release; ambient Gateway and its ConfigMap)."""
    sidecar = shipped_or_variant("multicloud")

    def no_release_ranges(resource: Registered, props: dict[str, Any]) -> dict[str, Any]:
        if props.get("name") == rules.EASTWEST_RELEASE:
            del props["values"]["service"]["loadBalancerSourceRanges"]
        return props

    opened = [r for r in policy_resources(sidecar, no_release_ranges) if violations(OPEN, as_args(r))]
    assert sorted(r.name for r in opened) == ["eu-west-1-eks-istio-eastwest", "westeurope-aks-istio-eastwest"]

    ambient = shipped_or_variant("multicloud-ambient")
    gateways = ["eu-west-1-eks-istio-eastwest", "westeurope-aks-istio-eastwest"]
    assert stack_violations(PARAMETERS, policy_resources(ambient)) == []

    def ranges(value: list[str]) -> Edit:
        def edit(resource: Registered, props: dict[str, Any]) -> dict[str, Any]:
            if resource.type == rules.CONFIG_MAP and props["metadata"]["name"] == "istio-eastwest-options":
                props["data"]["service"] = yaml.safe_dump({"spec": {"loadBalancerSourceRanges": value}})
            return props

        return edit

    # Registration order is not fixed: compare sorted (gateways is).
    def message(gateway: str, problem: str) -> str:
        return (
            f"{gateway} ({rules.GATEWAY}): its east-west gateway's parameters ConfigMap istio-eastwest-options {problem}; give its "
            "service overlay the other clusters' ranges (loadBalancerSourceRanges), or allow it by name in this policy's "
            "allowOpen config"
        )

    assert sorted(stack_violations(PARAMETERS, policy_resources(ambient, ranges([])))) == [message(g, "admits 0.0.0.0/0") for g in gateways]
    everyone = policy_resources(ambient, ranges(["198.51.100.7/32", "0.0.0.0/0"]))
    assert sorted(stack_violations(PARAMETERS, everyone)) == [message(g, "admits 198.51.100.7/32, 0.0.0.0/0") for g in gateways]
    assert stack_violations(PARAMETERS, everyone, allowOpen=gateways) == []

    def no_config_map(resource: Registered, props: dict[str, Any]) -> dict[str, Any] | None:
        return None if resource.type == rules.CONFIG_MAP and props["metadata"]["name"] == "istio-eastwest-options" else props

    assert sorted(stack_violations(PARAMETERS, policy_resources(ambient, no_config_map))) == [
        message(g, "does not exist on its cluster") for g in gateways
    ]

    def no_reference(resource: Registered, props: dict[str, Any]) -> dict[str, Any]:
        if resource.type == rules.GATEWAY:
            del props["spec"]["infrastructure"]["parametersRef"]
        return props

    unreferenced = [r.name for r in policy_resources(ambient, no_reference) if violations(OPEN, as_args(r))]
    assert sorted(unreferenced) == gateways


def test_a_config_map_on_another_cluster_does_not_restrict_a_gateway() -> None:
    ambient = shipped_or_variant("multicloud-ambient")
    resources = policy_resources(ambient)
    aks_map = next(r for r in resources if r.name == "westeurope-aks-istio-eastwest-options")
    eks_map = next(r for r in resources if r.name == "eu-west-1-eks-istio-eastwest-options")
    # The EKS ConfigMap is replaced by one on the AKS cluster (same namespace and name).
    moved = PolicyResource(rules.CONFIG_MAP, eks_map.props, eks_map.urn, eks_map.name, OPTIONS, aks_map.provider, None, [], {})
    found = stack_violations(PARAMETERS, [moved if r is eks_map else r for r in resources])
    assert [m.split(" ")[0] for m in found] == ["eu-west-1-eks-istio-eastwest"]
    assert "does not exist on its cluster" in found[0]


def as_args(resource: PolicyResource) -> ResourceValidationArgs:
    return args(resource.resource_type, resource.props, resource.name, resource.provider)
