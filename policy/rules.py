"""The rules an istio-multicluster stack lives by, as Pulumi policies.

- ``kubernetes-explicit-provider``: every Kubernetes object names its cluster's provider. A default
  provider deploys to whatever cluster the operator's kubeconfig points at.
- ``private-keys-only-in-secret-properties``: a PEM private key (the mesh CA's, a cluster CA's) may
  appear only in properties its provider keeps secret: the signing inputs of pulumi-tls
  certificates, a Kubernetes Secret's data, a Key Vault or Secrets Manager secret's value. Anywhere
  else (a ConfigMap, Helm values, a tag) it would sit in the state in plain text.
- ``no-private-key-in-stack-outputs``: no stack output carries a private key.
- ``no-open-api-or-gateway``: no API server and no east-west gateway admits 0.0.0.0/0, unless the
  policy's ``allowOpen`` config names the resource (a demo stack, say). Checked: EKS endpoints
  (``publicAccessCidrs``), AKS API servers (``authorizedIPRanges``, private clusters exempt), and
  the east-west gateways' ``loadBalancerSourceRanges`` where their Service asks for an
  internet-facing AWS or Azure load balancer.
- ``kubeconfigs-are-secret``: a remediation that marks every Kubernetes provider's kubeconfig as a
  secret: the provider's schema does not, and a kubeconfig holds credentials. (Validation policies
  see secret values unwrapped, so this rule enforces secrecy instead of reporting its absence.)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Secret,
    StackValidationArgs,
    StackValidationPolicy,
)

PRIVATE_KEY = re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")
STACK = "pulumi:pulumi:Stack"
KUBERNETES_PROVIDER = "pulumi:providers:kubernetes"
# Where a private key may be: property paths (dotted, from the resource's inputs) that the
# provider's schema marks secret, so the engine encrypts them in the state.
SECRET_KEY_PROPERTIES: Mapping[str, tuple[str, ...]] = {
    "tls:index/privateKey:PrivateKey": ("privateKeyPem", "privateKeyPemPkcs8", "privateKeyOpenssh"),
    "tls:index/selfSignedCert:SelfSignedCert": ("privateKeyPem",),
    "tls:index/certRequest:CertRequest": ("privateKeyPem",),
    "tls:index/locallySignedCert:LocallySignedCert": ("caPrivateKeyPem",),
    "kubernetes:core/v1:Secret": ("stringData", "data"),
    "azure-native:keyvault:Secret": ("properties.value",),
    "aws:secretsmanager/secretVersion:SecretVersion": ("secretString",),
}
ANYWHERE = ("0.0.0.0/0",)
EASTWEST_RELEASE = "istio-eastwestgateway"
AWS_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
AZURE_INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"


def strings_in(value: Any, path: str = "") -> Iterator[tuple[str, str]]:
    """Every string in a property tree, with its dotted path (list items as ``[i]``)."""
    if isinstance(value, Secret):
        value = value.value
    if isinstance(value, str):
        yield path, value
    elif isinstance(value, Mapping):
        for key, item in value.items():
            yield from strings_in(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, Sequence):
        for index, item in enumerate(value):
            yield from strings_in(item, f"{path}[{index}]")


def key_paths(props: Mapping[str, Any]) -> list[str]:
    """The paths of ``props`` that hold a PEM private key."""
    return [path for path, text in strings_in(props) if PRIVATE_KEY.search(text)]


def is_under(path: str, allowed: Sequence[str]) -> bool:
    return any(path == a or path.startswith((f"{a}.", f"{a}[")) for a in allowed)


def explicit_provider(args: ResourceValidationArgs, report: ReportViolation) -> None:
    if not args.resource_type.startswith("kubernetes:"):
        return
    provider = args.provider
    if provider is None or provider.name == "default" or provider.name.startswith("default_"):
        report(
            f"{args.name} ({args.resource_type}) uses the default Kubernetes provider, which deploys to whatever cluster "
            "the current kubeconfig points at; give it its cluster's provider",
            args.urn,
        )


def keys_only_in_secret_properties(args: ResourceValidationArgs, report: ReportViolation) -> None:
    allowed = SECRET_KEY_PROPERTIES.get(args.resource_type, ())
    for path in key_paths(args.props):
        if not is_under(path, allowed):
            report(
                f"{args.name} ({args.resource_type}) holds a private key in {path}, which its provider does not keep "
                "secret; private keys belong only in the signing inputs of certificates and in Kubernetes, Key Vault "
                "or Secrets Manager secrets",
                args.urn,
            )


def no_key_in_stack_outputs(args: StackValidationArgs, report: ReportViolation) -> None:
    for resource in args.resources:
        if resource.resource_type == STACK:
            for path in key_paths(resource.props):
                report(f"the stack output {path} holds a private key; export certificates, never keys", resource.urn)


def open_ranges(args: ResourceValidationArgs) -> tuple[str, Sequence[str]] | None:  # noqa: PLR0911
    """What the resource admits from anywhere: (what, the ranges), or ``None`` when it is closed."""
    props = args.props
    if args.resource_type in {"eks:index:Cluster", "aws:eks/cluster:Cluster"}:
        # pulumi-eks takes the endpoint settings at the top; the cluster it makes, in vpcConfig.
        endpoint = props if args.resource_type == "eks:index:Cluster" else (props.get("vpcConfig") or {})
        if endpoint.get("endpointPublicAccess") is False:
            return None
        return "its public API endpoint", list(endpoint.get("publicAccessCidrs") or ANYWHERE)  # EKS's default: anyone
    if args.resource_type == "azure-native:containerservice:ManagedCluster":
        profile = props.get("apiServerAccessProfile") or {}
        if profile.get("enablePrivateCluster"):
            return None
        return "its API server", list(profile.get("authorizedIPRanges") or ANYWHERE)
    if args.resource_type == "kubernetes:helm.sh/v3:Release" and props.get("name") == EASTWEST_RELEASE:
        service = (props.get("values") or {}).get("service") or {}
        if not internet_facing(service.get("annotations") or {}):
            return None
        return "its east-west gateway", list(service.get("loadBalancerSourceRanges") or ANYWHERE)
    return None


def internet_facing(annotations: Mapping[str, str]) -> bool:
    """Whether a gateway Service's annotations ask its cloud for an internet-facing load balancer.

    Only the annotations say which cloud's load balancer it is: one with neither AWS's scheme nor
    Azure's internal flag (an existing cluster's, MetalLB on kind) is not judged.
    """
    return annotations.get(AWS_SCHEME) == "internet-facing" or annotations.get(AZURE_INTERNAL) == "false"


def admits_anyone(ranges: Sequence[str]) -> bool:
    return any(ipaddress.ip_network(r, strict=False).prefixlen == 0 for r in ranges)


def no_open_api_or_gateway(args: ResourceValidationArgs, report: ReportViolation) -> None:
    found = open_ranges(args)
    if found is None or not admits_anyone(found[1]):
        return
    if args.name in (args.get_config().get("allowOpen") or []):
        return
    what, ranges = found
    report(
        f"{args.name} ({args.resource_type}): {what} admits {', '.join(ranges) or '0.0.0.0/0'}; restrict it to the "
        "operators' and the other clusters' ranges, or allow it by name in this policy's allowOpen config",
        args.urn,
    )


async def kubeconfig_as_secret(args: ResourceValidationArgs) -> Mapping[str, Any]:
    """The provider's properties with its kubeconfig a secret; nothing (``{}``) when it is one.

    ``args.props`` unwraps secrets on reading; its ``__target`` holds the values as the engine
    sent them, secrets marked, and the engine takes the same object back, so the other
    properties keep their secrecy.
    """
    raw = args.props["__target"]
    if args.resource_type != KUBERNETES_PROVIDER or "kubeconfig" not in raw:
        args.not_applicable("only Kubernetes providers given a kubeconfig")
    if isinstance(raw["kubeconfig"], Secret):
        return {}
    raw["kubeconfig"] = Secret(raw["kubeconfig"])
    return args.props


POLICIES: list[Policy] = [
    ResourceValidationPolicy(
        name="kubernetes-explicit-provider",
        description="Every Kubernetes object names its cluster's provider.",
        validate=explicit_provider,
    ),
    ResourceValidationPolicy(
        name="private-keys-only-in-secret-properties",
        description="A private key appears only in properties the provider keeps secret.",
        validate=keys_only_in_secret_properties,
    ),
    StackValidationPolicy(
        name="no-private-key-in-stack-outputs",
        description="No stack output carries a private key.",
        validate=no_key_in_stack_outputs,
    ),
    ResourceValidationPolicy(
        name="no-open-api-or-gateway",
        description="No API server or east-west gateway admits 0.0.0.0/0 unless allowed by name (config allowOpen).",
        validate=no_open_api_or_gateway,
        config_schema=PolicyConfigSchema(
            properties={"allowOpen": {"type": "array", "items": {"type": "string"}, "description": "Resource names allowed to be open."}}
        ),
    ),
    ResourceValidationPolicy(
        name="kubeconfigs-are-secret",
        description="Every Kubernetes provider's kubeconfig is a secret.",
        remediate=kubeconfig_as_secret,
        enforcement_level=EnforcementLevel.REMEDIATE,
    ),
]
