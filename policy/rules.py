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
  (``publicAccessCidrs``), AKS API servers (``authorizedIPRanges``, private clusters exempt), the
  sidecar mode's east-west gateway release (its Service's ``loadBalancerSourceRanges``) and the
  ambient mode's east-west ``Gateway`` (class ``istio-east-west``) without a ``parametersRef``,
  where the Service asks for an internet-facing AWS or Azure load balancer.
- ``no-open-gateway-parameters``: an internet-facing east-west ``Gateway`` that names a ConfigMap
  by ``parametersRef`` takes its Service's source ranges from that ConfigMap (istiod overlays its
  ``service`` key on the Service it deploys); the ConfigMap must exist on the same cluster and
  namespace and restrict them. A stack policy: only the stack joins the two. ``allowOpen`` as above.
- Not judged: the north-south ingress gateway (open to clients by design), and a Service whose
  annotations name no cloud (MetalLB on kind, an existing cluster's own load balancer).
- ``kubeconfigs-are-secret``: a remediation that marks every Kubernetes provider's kubeconfig as a
  secret: the provider's schema does not, and a kubeconfig holds credentials. (Validation policies
  see secret values unwrapped, so this rule enforces secrecy instead of reporting its absence.)
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import yaml
from pulumi_policy import (
    EnforcementLevel,
    Policy,
    PolicyConfigSchema,
    PolicyResource,
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
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
CONFIG_MAP = "kubernetes:core/v1:ConfigMap"
EASTWEST_CLASS = "istio-east-west"
AWS_PREFIX = "service.beta.kubernetes.io/aws-load-balancer-"
AWS_SCHEME = "service.beta.kubernetes.io/aws-load-balancer-scheme"
AWS_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
AWS_INTERNAL = "service.beta.kubernetes.io/aws-load-balancer-internal"
AZURE_PREFIX = "service.beta.kubernetes.io/azure-"
AZURE_INTERNAL = "service.beta.kubernetes.io/azure-load-balancer-internal"
ALLOW_OPEN_SCHEMA = PolicyConfigSchema(
    properties={"allowOpen": {"type": "array", "items": {"type": "string"}, "description": "Resource names allowed to be open."}}
)


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
    if open_eastwest_gateway(args.resource_type, props) and not parameters_ref(props):
        # Without parameters, istiod deploys the Service with no source ranges.
        return "its east-west gateway", list(ANYWHERE)
    return None


def internet_facing(annotations: Mapping[str, str]) -> bool:
    """Whether a gateway Service's annotations ask its cloud for an internet-facing load balancer.

    Only the annotations say which cloud's load balancer it is. AWS: the Load Balancer Controller
    (``aws-load-balancer-type: external``) makes an internal one unless the scheme says
    internet-facing; the in-tree controller an internet-facing one unless marked internal. Azure: a
    public one unless marked internal. A Service naming neither cloud (MetalLB on kind, an existing
    cluster's own load balancer) is not judged.
    """
    if any(key.startswith(AWS_PREFIX) for key in annotations):
        scheme = annotations.get(AWS_SCHEME)
        if scheme is not None:
            return scheme == "internet-facing"
        return annotations.get(AWS_TYPE) != "external" and annotations.get(AWS_INTERNAL) != "true"
    if any(key.startswith(AZURE_PREFIX) for key in annotations):
        return annotations.get(AZURE_INTERNAL) != "true"
    return False


def open_eastwest_gateway(resource_type: str, props: Mapping[str, Any]) -> bool:
    """Whether this is an ambient east-west Gateway whose Service faces the internet."""
    if resource_type != GATEWAY:
        return False
    spec = props.get("spec") or {}
    annotations = (spec.get("infrastructure") or {}).get("annotations") or {}
    return spec.get("gatewayClassName") == EASTWEST_CLASS and internet_facing(annotations)


def parameters_ref(props: Mapping[str, Any]) -> str | None:
    """The name of the ConfigMap a Gateway takes its deployment's parameters from, if any."""
    ref = ((props.get("spec") or {}).get("infrastructure") or {}).get("parametersRef") or {}
    return str(ref["name"]) if ref.get("kind") == "ConfigMap" and ref.get("name") else None


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


def placed(resource: PolicyResource, name: str) -> tuple[str, str, str]:
    """Where an object lives: its cluster (provider), namespace and ``name``."""
    namespace = str((resource.props.get("metadata") or {}).get("namespace") or "default")
    return (resource.provider.urn if resource.provider else "", namespace, name)


def service_ranges(config_map: PolicyResource) -> list[str]:
    """The source ranges the ConfigMap's ``service`` overlay sets (none when it sets none). In a
    preview before they exist, reading them raises the policy SDK's UnknownValueError, on which
    the SDK skips the policy (pulumi_policy/policy.py), so an unknown value is never judged."""
    overlay = (config_map.props.get("data") or {}).get("service")
    try:
        spec = (yaml.safe_load(overlay) if isinstance(overlay, str) else None) or {}
    except yaml.YAMLError:
        return []
    return [str(r) for r in (spec.get("spec") or {}).get("loadBalancerSourceRanges") or []]


def gateway_parameters_restrict(args: StackValidationArgs, report: ReportViolation) -> None:
    config_maps = {placed(r, str((r.props.get("metadata") or {}).get("name"))): r for r in args.resources if r.resource_type == CONFIG_MAP}
    allowed = args.get_config().get("allowOpen") or []
    for gateway in args.resources:
        name = parameters_ref(gateway.props)
        if not open_eastwest_gateway(gateway.resource_type, gateway.props) or name is None or gateway.name in allowed:
            continue
        config_map = config_maps.get(placed(gateway, name))
        ranges = ["0.0.0.0/0"] if config_map is None else service_ranges(config_map)
        if ranges and not admits_anyone(ranges):
            continue
        where = "does not exist on its cluster" if config_map is None else f"admits {', '.join(ranges or ANYWHERE)}"
        report(
            f"{gateway.name} ({gateway.resource_type}): its east-west gateway's parameters ConfigMap {name} {where}; "
            "give its service overlay the other clusters' ranges (loadBalancerSourceRanges), or allow it by name in this "
            "policy's allowOpen config",
            gateway.urn,
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
        config_schema=ALLOW_OPEN_SCHEMA,
    ),
    StackValidationPolicy(
        name="no-open-gateway-parameters",
        description="An internet-facing east-west Gateway's parameters ConfigMap restricts its Service's source ranges.",
        validate=gateway_parameters_restrict,
        config_schema=ALLOW_OPEN_SCHEMA,
    ),
    ResourceValidationPolicy(
        name="kubeconfigs-are-secret",
        description="Every Kubernetes provider's kubeconfig is a secret.",
        remediate=kubeconfig_as_secret,
        enforcement_level=EnforcementLevel.REMEDIATE,
    ),
]
