"""Stack config -> ``MeshSpec``: parsing and field validation.

``parse_mesh_spec`` turns the project's config values into a ``MeshSpec`` or raises one
``ConfigError`` listing every problem, before any resource is registered. Field rules live beside
the parsers below; rules that compare clusters with each other live in ``components.spec_rules``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pulumi
from pulumi.runtime import config as runtime_config

from components.fields import DNS_LABEL, DNS_LABEL_HINT, Fields, Problems
from components.model import (
    DEFAULT_INTERMEDIATE_EARLY_RENEWAL_HOURS,
    DEFAULT_INTERMEDIATE_VALIDITY_HOURS,
    DEFAULT_ROOT_EARLY_RENEWAL_HOURS,
    DEFAULT_ROOT_VALIDITY_HOURS,
    AwsCluster,
    AwsNodeGroup,
    AzureCluster,
    AzureCni,
    AzureNodePool,
    CaSpec,
    Cloud,
    ClusterSpec,
    ExistingCluster,
    MeshSpec,
    MetalLbSpec,
    Platform,
    Role,
    Topology,
    VpcSpec,
)
from components.spec_rules import check_mesh

PROJECT = "istio-multicluster"

DEFAULT_MESH_ID = "mesh1"
# Istio supports the newest three minors (1.29-1.31 in late 2026); a pinned patch keeps runs repeatable.
DEFAULT_ISTIO_VERSION = "1.30.0"
OLDEST_SUPPORTED_ISTIO = (1, 29)
ISTIO_VERSION = re.compile(r"^(\d+)\.(\d+)\.(\d+)$")
AZURE_REGION = re.compile(r"^[a-z][a-z0-9]*$")
AWS_REGION = re.compile(r"^[a-z]{2}(-gov)?-[a-z]+-\d$")
AKS_POOL_NAME = re.compile(r"^[a-z][a-z0-9]{0,11}$")
AKS_K8S_VERSION = re.compile(r"^\d+\.\d+(\.\d+)?$")
EKS_K8S_VERSION = re.compile(r"^\d+\.\d+$")
AZURE_VM_SIZE = re.compile(r"^Standard_[A-Za-z0-9_]+$")
EC2_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|\d*xlarge|metal-\d+xl)$")
RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,89}[-\w_()]$")


# The project's config keys, as declared in Pulumi.yaml, with the type Pulumi hands them over in.
CONFIG_KEYS: dict[str, str] = {
    "meshId": "string",
    "istioVersion": "string",
    "istioRevision": "string",
    "topology": "string",
    "accessLog": "boolean",
    "ingressGateway": "boolean",
    "verify": "boolean",
    "keyVaultNamePrefix": "string",
    "keyVaultPurgeProtection": "boolean",
    "secretsRecoveryWindowDays": "integer",
    "istiodValues": "object",
    "caRootValidityHours": "integer",
    "caIntermediateValidityHours": "integer",
    "caRootEarlyRenewalHours": "integer",
    "caIntermediateEarlyRenewalHours": "integer",
    "clusters": "array",
    "vpcs": "array",
}

_COMMON_CLUSTER_FIELDS = {"name", "cloud", "region", "network", "role", "primary", "istiodValues"}
# istiod values the program derives from the mesh; an override would break cross-cluster trust or discovery.
OWNED_ISTIOD_VALUES = (("global", "meshID"), ("global", "multiCluster", "clusterName"), ("global", "network"), ("revision",))
_AZURE_FIELDS = {
    "resourceGroup", "vnetCidr", "serviceCidr", "dnsServiceIp", "networkPlugin", "podCidr",
    "kubernetesVersion", "nodePools", "skuTier", "authorizedIpRanges", "privateApiServer",
}  # fmt: skip
# Vault names: 3-24 characters, a letter first; the prefix leaves room for "-" and 6 random characters.
KEY_VAULT_PREFIX = re.compile(r"^[a-zA-Z][a-zA-Z0-9]{1,16}$")
_AWS_FIELDS = {"vpc", "serviceCidr", "kubernetesVersion", "nodeGroups", "endpointPublicAccessCidrs"}
_EXISTING_FIELDS = {"context", "kubeconfig", "apiServerUrl", "metallb"}
METALLB_CHART_VERSION = re.compile(r"^\d+\.\d+\.\d+$")


def decode_config(values: Mapping[str, str | None]) -> dict[str, object]:
    """Decode Pulumi's string config values: arrays and objects arrive as JSON text.

    Raises ``ConfigError`` for JSON that does not parse, naming the key.
    """
    decoded: dict[str, object] = {}
    problems = Problems()
    for key, text in values.items():
        if text is None:
            continue
        if CONFIG_KEYS.get(key) in ("array", "object"):
            try:
                decoded[key] = json.loads(text)
            except json.JSONDecodeError as error:
                problems.add(f"{key}: is not valid JSON ({error.msg} at character {error.pos})")
        else:
            decoded[key] = text
    problems.raise_if_any()
    return decoded


def parse_mesh_spec(raw: Mapping[str, object]) -> MeshSpec:
    """Parse and validate the project's config (keys without the project prefix).

    Raises ``ConfigError`` listing every problem found; returns a fully valid ``MeshSpec``.
    """
    problems = Problems()
    root = Fields(raw, problems)
    mesh_id = root.text("meshId", DEFAULT_MESH_ID, pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    version = _istio_version(root)
    revision = root.text("istioRevision", pattern=DNS_LABEL, hint=f"{DNS_LABEL_HINT}, e.g. 1-30-0")
    topology = root.text("topology", Topology.MULTI_PRIMARY.value, choices=[t.value for t in Topology])
    access_log = root.boolean("accessLog", False)
    ingress = root.boolean("ingressGateway", False)
    verify = root.boolean("verify", False)
    vault_prefix = root.text(
        "keyVaultNamePrefix", "istiomesh", pattern=KEY_VAULT_PREFIX,
        hint="start with a letter, then letters or digits, 2-17 characters (a '-' and 6 random characters follow)",
    )  # fmt: skip
    purge_protection = root.boolean("keyVaultPurgeProtection", False)
    recovery_days = root.integer("secretsRecoveryWindowDays", 30)
    if recovery_days is not None and recovery_days != 0 and not 7 <= recovery_days <= 30:
        root.fail("secretsRecoveryWindowDays", f"{recovery_days} is not 0 (delete at once) or 7 to 30 days, as Secrets Manager requires")
        recovery_days = None
    mesh_values = _istiod_values(root)
    ca = _ca(root)
    vpc_fields = root.children("vpcs")
    vpcs = tuple(v for v in (_vpc(f) for f in vpc_fields) if v is not None)
    cluster_fields = root.children("clusters", required=True, hint="list at least two clusters")
    clusters = tuple(c for c in (_cluster(f) for f in cluster_fields) if c is not None)
    root.reject_unknown(CONFIG_KEYS, "the istio-multicluster config")

    spec = MeshSpec(
        mesh_id or DEFAULT_MESH_ID,
        version or DEFAULT_ISTIO_VERSION,
        revision,
        Topology(topology or Topology.MULTI_PRIMARY),
        bool(access_log),
        ca or CaSpec(),
        clusters,
        vpcs,
        mesh_values or {},
        bool(ingress),
        bool(verify),
        vault_prefix or "istiomesh",
        bool(purge_protection),
        30 if recovery_days is None else recovery_days,
    )
    # Relations between clusters can only be judged when every cluster and VPC parsed (a failed
    # one would shift the indexes messages print); a bad mesh-level field does not hide them.
    if len(clusters) == len(cluster_fields) and len(vpcs) == len(vpc_fields):
        check_mesh(spec, len(cluster_fields), problems)
    problems.raise_if_any()
    return spec


def _istiod_values(fields: Fields) -> dict[str, Any] | None:
    """``istiodValues``: a Helm value tree that must not set what the program derives from the mesh."""
    if not fields.has("istiodValues"):
        return {}
    values = fields.child("istiodValues")
    if values is None:
        return None
    ok = True
    for path in OWNED_ISTIOD_VALUES:
        node: Any = values.raw
        for step in path:
            node = node.get(step) if isinstance(node, Mapping) else None
        if node is not None:
            values.problems.add(
                f"{fields.where('istiodValues.' + '.'.join(path))}: is set by the program from the mesh config "
                "(meshId, the cluster's name and network, istioRevision); remove it here"
            )
            ok = False
    return dict(values.raw) if ok else None


def _istio_version(root: Fields) -> str | None:
    version = root.text("istioVersion", DEFAULT_ISTIO_VERSION, pattern=ISTIO_VERSION, hint="use an exact release such as 1.30.0")
    if version is None:
        return None
    match = ISTIO_VERSION.match(version)
    assert match
    if (int(match[1]), int(match[2])) < OLDEST_SUPPORTED_ISTIO:
        oldest = ".".join(map(str, OLDEST_SUPPORTED_ISTIO))
        root.fail("istioVersion", f"{version} is end-of-life; use {oldest} or newer (default {DEFAULT_ISTIO_VERSION})")
        return None
    return version


def _ca(root: Fields) -> CaSpec | None:
    root_hours = root.integer("caRootValidityHours", DEFAULT_ROOT_VALIDITY_HOURS, minimum=1)
    inter_hours = root.integer("caIntermediateValidityHours", DEFAULT_INTERMEDIATE_VALIDITY_HOURS, minimum=1)
    root_early = root.integer("caRootEarlyRenewalHours", DEFAULT_ROOT_EARLY_RENEWAL_HOURS)
    inter_early = root.integer("caIntermediateEarlyRenewalHours", DEFAULT_INTERMEDIATE_EARLY_RENEWAL_HOURS)
    if root_hours is None or inter_hours is None or root_early is None or inter_early is None:
        return None
    ok = True
    if inter_hours > root_hours:
        root.fail(
            "caIntermediateValidityHours",
            f"{inter_hours} outlives the root ({root_hours}); an intermediate cannot be valid longer than its root",
        )
        ok = False
    if root_early >= root_hours:
        root.fail("caRootEarlyRenewalHours", f"{root_early} must be less than caRootValidityHours ({root_hours})")
        ok = False
    if inter_early >= inter_hours:
        root.fail(
            "caIntermediateEarlyRenewalHours",
            f"{inter_early} must be less than caIntermediateValidityHours ({inter_hours})",
        )
        ok = False
    return CaSpec(root_hours, inter_hours, root_early, inter_early) if ok else None


def _cluster(fields: Fields) -> ClusterSpec | None:
    name = fields.text("name", required=True, pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    if name:
        fields.owner = f" (cluster {name})"
    cloud = fields.text("cloud", required=True, choices=[c.value for c in Cloud], hint="azure, aws or existing")
    network = fields.text("network", required=True, pattern=DNS_LABEL, hint=f"name the cluster's Istio network; {DNS_LABEL_HINT}")
    role = fields.text("role", Role.PRIMARY.value, choices=[r.value for r in Role])
    primary = fields.text("primary", pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    platform: Platform | None = None
    region: str | None = None
    match cloud:
        case Cloud.AZURE:
            region = fields.text("region", required=True, pattern=AZURE_REGION, hint="use an Azure region name such as westeurope")
            platform = _azure(fields, region)
            fields.reject_unknown(_COMMON_CLUSTER_FIELDS | _AZURE_FIELDS, "an azure cluster")
        case Cloud.AWS:
            region = fields.text("region", required=True, pattern=AWS_REGION, hint="use an AWS region name such as eu-west-1")
            platform = _aws(fields)
            fields.reject_unknown(_COMMON_CLUSTER_FIELDS | _AWS_FIELDS, "an aws cluster")
        case Cloud.EXISTING:
            region = fields.text("region", "local")
            platform = _existing(fields)
            fields.reject_unknown(_COMMON_CLUSTER_FIELDS | _EXISTING_FIELDS, "an existing cluster")
        case _:
            pass
    values = _istiod_values(fields)
    if name is None or network is None or role is None or platform is None or region is None or values is None:
        return None
    return ClusterSpec(name, region, network, Role(role), primary, platform, values)


def _azure(fields: Fields, region: str | None) -> AzureCluster | None:
    group = fields.text(
        "resourceGroup", f"istio-aks-{region}", pattern=RESOURCE_GROUP,
        hint="use 1-90 letters, digits, '-', '_', '.', '(' or ')', not ending in '.'",
    )  # fmt: skip
    vnet = fields.network("vnetCidr", required=True, hint="give the cluster's VNet range, e.g. 10.53.0.0/16")
    service = fields.network("serviceCidr") if fields.has("serviceCidr") else IPv4Network("10.0.0.0/16")
    dns_ip = fields.address("dnsServiceIp")
    cni_text = fields.text("networkPlugin", AzureCni.AZURE.value, choices=[c.value for c in AzureCni])
    cni = AzureCni(cni_text) if cni_text else None
    pod = _overlay_pod_cidr(fields, cni)
    version = fields.text("kubernetesVersion", pattern=AKS_K8S_VERSION, hint="use a version such as 1.33 or 1.33.2")
    pools = tuple(p for p in (_azure_pool(f) for f in fields.children("nodePools", required=True, hint="add a System pool at least")) if p)
    if service is not None and dns_ip is None and not fields.has("dnsServiceIp"):
        dns_ip = service.network_address + 10
    _check_dns_ip(fields, service, dns_ip)
    tier = fields.text("skuTier", "Free", choices=["Free", "Standard", "Premium"])
    authorized = _networks(fields, "authorizedIpRanges")
    if fields.boolean("privateApiServer", False):
        fields.fail(
            "privateApiServer",
            "private AKS API servers are not supported: every other cluster's istiod must reach this API; "
            "keep it public and restrict it with authorizedIpRanges",
        )
        return None
    if pools and not any(p.mode == "System" for p in pools):
        fields.fail("nodePools", "has no System pool; AKS needs one (set mode: System on a pool)")
        return None
    if group is None or vnet is None or service is None or dns_ip is None or cni is None or not pools or tier is None or authorized is None:
        return None
    return AzureCluster(group, vnet, service, dns_ip, cni, pod, version, pools, tier, authorized)


def _networks(fields: Fields, key: str) -> tuple[IPv4Network, ...] | None:
    """An optional list of IPv4 CIDR blocks."""
    nets: list[IPv4Network] = []
    for text in fields.strings(key):
        try:
            nets.append(IPv4Network(text))
        except ValueError:
            fields.fail(key, f"{text!r} is not an IPv4 CIDR block with its host bits zero")
            return None
    return tuple(nets)


def _overlay_pod_cidr(fields: Fields, cni: AzureCni | None) -> IPv4Network | None:
    if cni is not AzureCni.OVERLAY:
        if fields.has("podCidr"):
            fields.fail("podCidr", "only applies with networkPlugin: overlay; with Azure CNI pods take VNet subnet IPs")
        return None
    return fields.network("podCidr") if fields.has("podCidr") else IPv4Network("10.244.0.0/16")


def _check_dns_ip(fields: Fields, service: IPv4Network | None, dns_ip: IPv4Address | None) -> None:
    if service is None or dns_ip is None:
        return
    if dns_ip not in service:
        fields.fail("dnsServiceIp", f"{dns_ip} is outside serviceCidr {service}; pick an address inside it")
    elif dns_ip in (service.network_address, service.network_address + 1, service.broadcast_address):
        fields.fail(
            "dnsServiceIp",
            f"{dns_ip} is reserved in {service} (network, API server or broadcast address); use e.g. {service.network_address + 10}",
        )


def _azure_pool(fields: Fields) -> AzureNodePool | None:
    name = fields.text(
        "name", required=True, pattern=AKS_POOL_NAME, hint="use at most 12 lowercase letters and digits, starting with a letter"
    )
    mode = fields.text("mode", "User", choices=["System", "User"])
    size = fields.text("vmSize", "Standard_D4s_v5", pattern=AZURE_VM_SIZE, hint="use an Azure VM size such as Standard_D4s_v5")
    subnet = fields.network("subnetCidr", required=True, hint="give the pool a subnet of its own inside vnetCidr")
    counts = _counts(fields, "count", "minCount", "maxCount", default_count=2)
    fields.reject_unknown({"name", "mode", "vmSize", "subnetCidr", "count", "minCount", "maxCount"}, "a node pool")
    if name is None or mode is None or size is None or subnet is None or counts is None:
        return None
    return AzureNodePool(name, mode, size, subnet, *counts)


def _counts(
    fields: Fields,
    desired_key: str,
    min_key: str,
    max_key: str,
    *,
    default_count: int,
    default_min: int | None = None,
    default_max: int | None = None,
) -> tuple[int, int, int] | None:
    desired = fields.integer(desired_key, default_count, minimum=1)
    if desired is None:
        return None
    low = fields.integer(min_key, desired if default_min is None else default_min, minimum=1)
    high = fields.integer(max_key, desired if default_max is None else default_max, minimum=1)
    if low is None or high is None:
        return None
    if not low <= desired <= high:
        fields.fail(desired_key, f"{desired} must lie between {min_key} ({low}) and {max_key} ({high})")
        return None
    return desired, low, high


def _aws(fields: Fields) -> AwsCluster | None:
    vpc = fields.text("vpc", required=True, pattern=DNS_LABEL, hint="name an entry of vpcs")
    service = fields.network("serviceCidr") if fields.has("serviceCidr") else IPv4Network("172.20.0.0/16")
    version = fields.text("kubernetesVersion", pattern=EKS_K8S_VERSION, hint="use a version such as 1.33")
    group_fields = fields.children("nodeGroups")
    parsed = [_aws_group(f) for f in group_fields]
    groups = tuple(g for g in parsed if g) if group_fields else (AwsNodeGroup("default", ("m5.large",), 2, 1, 5),)
    if service is not None and not (service.is_private and 12 <= service.prefixlen <= 24):
        fields.fail("serviceCidr", f"{service} must be a private range from /12 to /24, as EKS requires")
        service = None
    public_cidrs = _networks(fields, "endpointPublicAccessCidrs")
    if vpc is None or service is None or None in parsed or public_cidrs is None:
        return None
    return AwsCluster(vpc, service, version, groups, public_cidrs)


def _aws_group(fields: Fields) -> AwsNodeGroup | None:
    name = fields.text("name", required=True, pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    types = fields.strings("instanceTypes") or ("m5.large",)
    for instance_type in types:
        if not EC2_INSTANCE_TYPE.match(instance_type):
            fields.fail("instanceTypes", f"{instance_type!r} is not an EC2 instance type such as m5.large")
            types = ()
    counts = _counts(fields, "desired", "min", "max", default_count=2, default_min=1, default_max=5)
    fields.reject_unknown({"name", "instanceTypes", "desired", "min", "max"}, "a node group")
    if name is None or not types or counts is None:
        return None
    return AwsNodeGroup(name, types, *counts)


def _existing(fields: Fields) -> ExistingCluster | None:
    context = fields.text("context", required=True, hint="name the kubeconfig context, e.g. kind-kind-1")
    kubeconfig = fields.text("kubeconfig")
    url = fields.https_url("apiServerUrl")
    if url is None and not fields.has("apiServerUrl"):
        fields.fail(
            "apiServerUrl",
            "is required for an existing cluster; set the https URL other clusters' pods dial "
            "(for kind: https://<cluster>-control-plane:6443, never 127.0.0.1)",
        )
    metallb_fields = fields.child("metallb")
    metallb = _metallb(metallb_fields) if metallb_fields else None
    if context is None or url is None or (metallb_fields and metallb is None):
        return None
    return ExistingCluster(context, kubeconfig, url, metallb)


def _metallb(fields: Fields) -> MetalLbSpec | None:
    addresses = fields.strings("addresses", required=True)
    bad = [a for a in addresses if not _is_address_range(a)]
    for address in bad:
        fields.fail("addresses", f"{address!r} is not an IPv4 CIDR or a first-last range such as 172.18.255.200-172.18.255.250")
    version = fields.text(
        "chartVersion", MetalLbSpec.chart_version, pattern=METALLB_CHART_VERSION, hint="use an exact chart version such as 0.14.9"
    )
    fields.reject_unknown({"addresses", "chartVersion"}, "metallb")
    if not addresses or bad or version is None:
        return None
    return MetalLbSpec(addresses, version)


def _is_address_range(text: str) -> bool:
    first, dash, last = text.partition("-")
    try:
        if dash:
            return IPv4Address(first.strip()) <= IPv4Address(last.strip())
        IPv4Network(text)
    except ValueError:
        return False
    return True


def _vpc(fields: Fields) -> VpcSpec | None:
    name = fields.text("name", required=True, pattern=DNS_LABEL, hint=DNS_LABEL_HINT)
    if name:
        fields.owner = f" (vpc {name})"
    region = fields.text("region", required=True, pattern=AWS_REGION, hint="use an AWS region name such as eu-west-1")
    cidr = fields.network("cidr", required=True, hint="give the VPC range, e.g. 10.0.0.0/16")
    private = _subnets(fields, "privateSubnets")
    public = _subnets(fields, "publicSubnets")
    zones = fields.integer("availabilityZones", len(private) if private else 2, minimum=2)
    if zones is not None and zones < 2:
        fields.fail("privateSubnets", f"lists {zones} subnet; EKS needs subnets in at least 2 availability zones, one per zone")
        zones = None
    nat = fields.text("nat", "single", choices=["single", "per-az"])
    fields.reject_unknown({"name", "region", "cidr", "availabilityZones", "privateSubnets", "publicSubnets", "nat"}, "a vpc")
    if name is None or region is None or cidr is None or private is None or public is None or zones is None or nat is None:
        return None
    return VpcSpec(name, region, cidr, zones, private, public, nat)


def _subnets(fields: Fields, key: str) -> tuple[IPv4Network, ...] | None:
    texts = fields.strings(key, required=True)
    nets: list[IPv4Network] = []
    for text in texts:
        try:
            nets.append(IPv4Network(text))
        except ValueError:
            fields.fail(key, f"{text!r} is not an IPv4 CIDR block with its host bits zero")
            return None
    return tuple(nets) if nets else None


def load_mesh_spec(config: pulumi.Config) -> MeshSpec:
    """Read every project config key the stack sets and parse them (see ``parse_mesh_spec``).

    Keys the project does not declare are read too, so a typo such as ``istio-multicluster:meshID``
    is reported with a suggestion instead of being silently ignored.
    """
    keys = [*CONFIG_KEYS, *(k for k in _stack_project_keys() if k not in CONFIG_KEYS)]
    return parse_mesh_spec(decode_config({key: config.get(key) for key in keys}))


def _stack_project_keys() -> list[str]:
    """The project-namespaced keys the running stack has config for."""
    # Pulumi has no public "list config keys" call; the language host loads all config into
    # this map (or PULUMI_CONFIG) before the program runs.
    present = {*runtime_config.CONFIG.get(), *runtime_config.get_config_env()}
    prefix = f"{PROJECT}:"
    return sorted(key.removeprefix(prefix) for key in present if key.startswith(prefix))
