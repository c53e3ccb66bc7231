"""AWS's config: the VPCs, the Secrets Manager recovery window and each EKS cluster's fields.

Rules only AWS knows: each VPC's zones named (not picked by position from the live list, which
shifts when a zone is impaired) in its region, its subnets inside it, disjoint, one per zone and
at least two zones (EKS needs subnets in two); a cluster names a declared VPC in its own region; the
service range inside an RFC 1918 block, /12 to /24 (EKS's rule); the endpoint's ranges public, or
0.0.0.0/0 alone, and with the NAT addresses the program adds at most EKS's 40; node group names
unique, since they name the group in AWS and the resource in Pulumi; names short enough for the
IAM roles derived from them: pulumi-eks names the cluster's service role ``<name>-eks-eksRole-role`` plus "-" and 7 random
characters, and IAM role names are at most 64 characters, so a cluster name is at most 39; node
group names ``<cluster>-<group>-`` and 26 unique characters are at most 63 (EKS).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from ipaddress import IPv4Network
from itertools import combinations
from typing import Any

from components.config.counts import node_counts
from components.config.fields import Field, Object, Objects, Reader
from components.config.kinds import (
    DNS_LABEL,
    DNS_LABEL_HINT,
    OPEN_TO_ALL,
    Choice,
    Cidr,
    Integer,
    ListOf,
    PublicCidr,
    Text,
    Version,
)
from components.config.model import (
    ClusterPlatform,
    ClusterSpec,
    DnsService,
    MeshSpec,
    Role,
    Topology,
    platform_part,
    platform_settings,
    version_order,
)
from components.config.names import NamePlan, NameSource, cluster_source
from components.config.platform import AllowList, DnsReach, EgressSource, Entry, ExposureLimits, ParsedMesh, RoutedRange
from components.config.problems import Owner, Problems
from components.config.repeats import counted_repeats
from components.config.rules import ApiExposure, overlapping_pairs, report_api_exposure
from components.config.stores import SecretStore
from components.platforms.aws import lbc, names
from components.platforms.aws.ca_store import SECRETS_MANAGER, secret_region
from components.platforms.aws.cli import aws_cli_problem
from components.platforms.aws.ingress_rules import RuleCluster, ingress_rules

NAME = "aws"
AWS_REGION = re.compile(r"[a-z]{2}(-gov)?-[a-z]+-[0-9]")
IAM_PRINCIPAL_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:iam::[0-9]{12}:(role|user)/[A-Za-z0-9_+=,.@/-]+")
ACM_CERTIFICATE_ARN = re.compile(r"arn:aws(-cn|-us-gov)?:acm:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:certificate/[0-9a-f-]{36}")
WEB_ACL_ARN = re.compile(
    r"arn:aws(-cn|-us-gov)?:wafv2:[a-z]{2}(-gov)?-[a-z]+-[0-9]:[0-9]{12}:(regional|global)/webacl/[A-Za-z0-9_-]{1,128}/[0-9a-f-]{36}"
)
EC2_INSTANCE_TYPE = re.compile(r"[a-z][a-z0-9-]*\.(nano|micro|small|medium|large|metal|[0-9]*xlarge|metal-[0-9]+xl)")
EKS_CLUSTER_NAME_MAX = 64 - len("-eks-eksRole-role-") - 7
EKS_NODE_GROUP_NAME_MAX = 63
# A node group is named from a prefix, ``<cluster>-<group>-``, and the 26 characters
# terraform-provider-aws appends (id.PrefixedUniqueId), so that a replacement (new instance types)
# is created under a new name before the old group is deleted.
UNIQUE_SUFFIX = 26
NODE_GROUP_PREFIX_MAX = EKS_NODE_GROUP_NAME_MAX - UNIQUE_SUFFIX
DEFAULT_SERVICE_CIDR = IPv4Network("172.20.0.0/16")
# EKS's serviceIpv4Cidr: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, from /12 to /24
# (EKS API reference, KubernetesNetworkConfigRequest).
EKS_SERVICE_BLOCKS = tuple(IPv4Network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
EKS_SERVICE_PREFIXES = range(12, 24 + 1)
DEFAULT_INSTANCE_TYPE = "m5.large"
# Managed node groups take up to 450 nodes (EKS service quota "Nodes per managed node group").
EKS_GROUP_MAX_NODES = 450

SECRETS_REGION = Field(
    "secretsRegion",
    Text(AWS_REGION, "use an AWS region name such as eu-west-1"),
    "Region of the Secrets Manager copies of the mesh CA; required with EKS clusters. Fixed once created: moving it "
    "replaces every copy, and the old names stay taken for the recovery window.",
    default_text="none (required with EKS clusters)",
)
SECRETS_RECOVERY_WINDOW_DAYS = Field(
    "secretsRecoveryWindowDays",
    Integer(0, 30),
    "Recovery window of the Secrets Manager copies of the CA, 0 (delete at once, so pulumi destroy leaves nothing) or 7-30 days.",
    default=30,
)

VPC_NAME = Field("name", Text(DNS_LABEL, DNS_LABEL_HINT), "DNS-1123 label the clusters refer to.", required=True)
VPC_REGION = Field(
    "region", Text(AWS_REGION, "use an AWS region name such as eu-west-1"), "AWS region.", required=True,
    hint="use an AWS region name such as eu-west-1",
)  # fmt: skip
VPC_CIDR = Field("cidr", Cidr(), "The VPC range.", required=True, hint="give the VPC range, e.g. 10.0.0.0/16")
PRIVATE_SUBNETS = Field(
    "privateSubnets", ListOf(Cidr(), min_items=1), "One per AZ, inside `cidr`: nodes and internal load balancers.", required=True
)
PUBLIC_SUBNETS = Field(
    "publicSubnets", ListOf(Cidr(), min_items=1), "One per AZ, inside `cidr`: NAT and internet-facing load balancers.", required=True
)
ZONES = Field(
    "zones",
    ListOf(Text(re.compile(r"[a-z]{2}(-gov)?-[a-z]+-[0-9][a-z]"), "use zone names such as eu-west-1a"), min_items=2),
    "Availability zones by name, one per private and public subnet, in their order (at least 2, as EKS needs). "
    "Names, not positions in the region's live list, so that an impaired zone never shifts subnets.",
    required=True,
    hint="list the zones by name, one per subnet, e.g. [eu-west-1a, eu-west-1b]",
)
NAT = Field(
    "nat",
    Text(choices=("single", "per-az")),
    "`single` (cheaper) or `per-az` (survives an AZ outage). Each NAT takes an Elastic IP: a warning says when a "
    "region's NATs need more than EC2's default quota of 5.",
    default="single",
)
VPC_FIELDS: tuple[Field[Any], ...] = (VPC_NAME, VPC_REGION, VPC_CIDR, ZONES, PRIVATE_SUBNETS, PUBLIC_SUBNETS, NAT)
VPCS = Field(
    "vpcs",
    Objects(VPC_FIELDS, "a vpc"),
    "AWS VPCs that EKS clusters name in their vpc field: name, region, cidr, zones, privateSubnets, publicSubnets, nat (single | per-az).",
    default=(),
)

GROUP_NAME = Field("name", Text(DNS_LABEL, DNS_LABEL_HINT), "Unique within the cluster.", required=True)
INSTANCE_TYPES = Field(
    "instanceTypes",
    ListOf(Text(EC2_INSTANCE_TYPE, "use an EC2 instance type such as m5.large"), min_items=1),
    "EC2 instance types.",
    default=(DEFAULT_INSTANCE_TYPE,),
)
DESIRED = Field("desired", Integer(1, EKS_GROUP_MAX_NODES), "Desired node count.", default=2)
MIN = Field(
    "min", Integer(1, EKS_GROUP_MAX_NODES), "The node group's minimum size (the bound a cluster autoscaler you add keeps to).", default=1
)
MAX = Field(
    "max", Integer(1, EKS_GROUP_MAX_NODES), "The node group's maximum size (the bound a cluster autoscaler you add keeps to).", default=5
)
GROUP_FIELDS: tuple[Field[Any], ...] = (GROUP_NAME, INSTANCE_TYPES, DESIRED, MIN, MAX)

REGION = Field(
    "region", Text(AWS_REGION, "use an AWS region name such as eu-west-1"), "AWS region; the VPC's.", required=True,
    hint="use an AWS region name such as eu-west-1",
)  # fmt: skip
VPC = Field("vpc", Text(DNS_LABEL, "name an entry of vpcs"), "Name of an entry of `vpcs`; clusters naming one VPC share it.", required=True)
SERVICE_CIDR = Field(
    "serviceCidr",
    Cidr(),
    "Service range: inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16, /12 to /24 (EKS). Fixed once the cluster "
    "exists: a change replaces the cluster under the same name, which EKS refuses, so the `up` fails; take the cluster "
    "out of `clusters`, `pulumi up`, and add it back instead.",
    default=DEFAULT_SERVICE_CIDR,
)
KUBERNETES_VERSION = Field(
    "kubernetesVersion", Version("use a version such as 1.33", parts=(2, 2)), "e.g. `1.33`.", default_text="EKS's default"
)
NODE_GROUPS = Field(
    "nodeGroups",
    Objects(GROUP_FIELDS, "a node group", min_items=1),
    "Managed node groups on the private subnets; see node group fields.",
    default_text="one group `default`: m5.large, 2 nodes (1-5)",
)
ENDPOINT_PUBLIC_ACCESS_CIDRS = Field(
    "endpointPublicAccessCidrs",
    ListOf(PublicCidr(open_to_all=True)),
    "Who may reach the public API endpoint: the operators' public ranges, or `0.0.0.0/0` alone for anyone (a warning "
    "is printed while it is open to anyone). The program adds the NAT addresses of the other VPCs holding mesh "
    "clusters, whose istiods come that way; clusters in the same VPC use the private endpoint. At most 40 ranges with "
    "those (EKS's limit). Refused when the clusters span platforms: the program then sets it to `operatorCidrs` and "
    "the other clusters' egress addresses.",
    default_text="anyone",
)


class SupportType(StrEnum):
    """What EKS does when the cluster's Kubernetes version leaves standard support."""

    STANDARD = "standard"
    EXTENDED = "extended"


SUPPORT_TYPE = Field(
    "supportType",
    Choice(SupportType),
    "When the Kubernetes version leaves EKS standard support: `standard` (EKS upgrades the control plane to the next "
    "version itself; set kubernetesVersion to it, or the next `up` asks EKS to go back, which it refuses) or `extended` "
    "(the version stays up to 12 more months at the extended-support price, $0.60 an hour per cluster instead of $0.10).",
    default=SupportType.STANDARD,
)
ADMIN_PRINCIPAL_ARNS = Field(
    "adminPrincipalArns",
    ListOf(Text(IAM_PRINCIPAL_ARN, "use an IAM role or user ARN such as arn:aws:iam::123456789012:role/platform-admins")),
    "IAM roles or users granted cluster admin (an EKS access entry with AmazonEKSClusterAdminPolicy), "
    "beside the identity that creates the cluster.",
    default_text="only the creator",
)
# The EKS add-ons the program keeps at a known version (EKS installs all three on a new cluster).
ADDONS = ("kube-proxy", "vpc-cni", "coredns")
ADDON_VERSION = Text(re.compile(r"v[0-9]+\.[0-9]+\.[0-9]+-eksbuild\.[0-9]+"), "use an EKS add-on version such as v1.33.0-eksbuild.1")
ADDON_VERSION_FIELDS: tuple[Field[Any], ...] = tuple(
    Field(addon, ADDON_VERSION, f"The {addon} add-on's version.", default_text="EKS's default for the cluster's Kubernetes version")
    for addon in ADDONS
)
ADDON_VERSIONS = Field(
    "addonVersions",
    Object(ADDON_VERSION_FIELDS, "addonVersions"),
    "Exact versions of the kube-proxy, vpc-cni and coredns add-ons (`aws eks describe-addon-versions --addon-name <name> "
    "--kubernetes-version <version>`). An add-on left out runs EKS's default version for the cluster's kubernetesVersion, "
    "so it moves when kubernetesVersion does (or when AWS changes that default), not on every run. Without "
    "kubernetesVersion, kube-proxy and vpc-cni left out take their newest build on any run (pulumi-eks's choice; a "
    "warning says so) and coredns EKS's default for the version the cluster runs.",
    default_text="EKS's default version of each for the cluster's Kubernetes version",
)
EDGE_TYPE = Field(
    "type",
    Text(choices=("alb",)),
    "The edge: `alb`, an Application Load Balancer made by the AWS Load Balancer Controller from an Ingress.",
    required=True,
    hint="set type: alb",
)
EDGE_CERTIFICATE = Field(
    "certificateArn",
    Text(ACM_CERTIFICATE_ARN, "use an ACM certificate ARN such as arn:aws:acm:eu-west-1:123456789012:certificate/<id>"),
    "The ACM certificate the ALB serves HTTPS with by default, in the cluster's region (an ALB takes certificates of its "
    "own region only). With ingressDns on Route 53 the ALB also serves the program's certificate for the mesh's name "
    "(chosen by SNI), so clients of that name get a certificate naming it whatever this one covers.",
    default_text="with ingressDns, the one the program requests from ACM for its name in the cluster's region, validated "
    "in its zone; without it, required",
)
EDGE_WEB_ACL = Field(
    "webAclArn",
    Text(WEB_ACL_ARN, "use a WAF web ACL ARN such as arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/<name>/<id>"),
    "A regional AWS WAF web ACL in the cluster's region to associate with the ALB. Removing it detaches it "
    "(the program then tells the controller `none`, which it needs to detach one).",
    default_text="none",
)
INGRESS_EDGE = Field(
    "ingressEdge",
    Object((EDGE_TYPE, EDGE_CERTIFICATE, EDGE_WEB_ACL), "ingressEdge"),
    "An internet-facing ALB in front of the ingress gateway (needs `ingressGateway: true`), made by the AWS Load "
    "Balancer Controller from an Ingress: HTTPS on 443 with `certificateArn` (policy ELBSecurityPolicy-TLS13-1-2-2021-06), "
    "HTTP on 80 redirected to it, traffic to the gateway's pods on port 80 and health checks on their 15021 "
    "`/healthz/ready`, optionally a WAF web ACL. The gateway's Service becomes ClusterIP (no NLB of its own) and trusts "
    "one proxy in X-Forwarded-For. Cost: an ALB, about $16 a month plus capacity units, instead of the gateway's NLB.",
    default_text="none: the ingress gateway's own NLB faces clients",
)
CLUSTER_FIELDS: tuple[Field[Any], ...] = (
    REGION, VPC, SERVICE_CIDR, KUBERNETES_VERSION, SUPPORT_TYPE, NODE_GROUPS, ENDPOINT_PUBLIC_ACCESS_CIDRS, ADMIN_PRINCIPAL_ARNS,
    ADDON_VERSIONS, INGRESS_EDGE,
)  # fmt: skip


@dataclass(frozen=True)
class VpcSpec:
    """An AWS VPC shared by the EKS clusters that name it.

    Args:
        name: DNS-1123 label the clusters refer to.
        region: AWS region; every cluster using the VPC is in it.
        cidr: the VPC range.
        zones: the availability zones by name, one per subnet (>= 2).
        private_subnets: one per AZ, for nodes and internal load balancers.
        public_subnets: one per AZ, for NAT and internet-facing load balancers.
        nat: ``single`` (cheaper) or ``per-az`` (survives an AZ outage).
    """

    name: str
    region: str
    cidr: IPv4Network
    zones: tuple[str, ...]
    private_subnets: tuple[IPv4Network, ...]
    public_subnets: tuple[IPv4Network, ...]
    nat: str


@dataclass(frozen=True)
class AwsSettings:
    """AWS's mesh-wide settings.

    Args:
        vpcs: the VPCs that parsed.
        vpc_names: the name of every VPC entry whose name parsed (so a cluster naming a VPC that
            failed to parse is not also told the VPC is missing).
        recovery_window_days: Secrets Manager recovery window: 0 or 7-30 days.
        secrets_region: where the CA copies live (none: not given, a problem with EKS clusters).
    """

    vpcs: tuple[Entry[VpcSpec], ...]
    vpc_names: frozenset[str]
    recovery_window_days: int
    secrets_region: str | None


@dataclass(frozen=True)
class AwsNodeGroup:
    """An EKS managed node group.

    Args:
        name: group name (DNS-1123 label).
        instance_types: EC2 instance types.
        desired: desired size; min/max bound the group's size (the program installs no autoscaler).
    """

    name: str
    instance_types: tuple[str, ...]
    desired: int
    min: int
    max: int


DEFAULT_NODE_GROUP = AwsNodeGroup("default", (DEFAULT_INSTANCE_TYPE,), 2, 1, 5)


@dataclass(frozen=True)
class AlbEdgeSpec:
    """An ALB in front of a cluster's ingress gateway (``ingressEdge``).

    Args:
        certificate_arn: the ACM certificate the ALB serves by default, in the cluster's region
            (none: it serves the one the program requests for ``ingressDns``'s name alone).
        web_acl_arn: a regional WAF web ACL in the cluster's region (default none).
    """

    certificate_arn: str | None
    web_acl_arn: str | None = None


@dataclass(frozen=True, kw_only=True)
class AwsCluster:
    """The AWS part of a cluster spec.

    Args:
        vpc: name of an entry of ``vpcs``; clusters naming the same VPC share it.
        service_cidr: Kubernetes service range.
        kubernetes_version: EKS version (none: EKS's default).
        node_groups: managed node groups.
        public_access_cidrs: who may reach the public API endpoint (empty: anyone, or, when the
            clusters span platforms, the operators and the other clusters).
        admin_principal_arns: IAM principals granted cluster admin beside the creator.
        support_type: what EKS does at the end of standard support (default standard).
        addon_versions: pinned versions of the add-ons in ``ADDONS``, by add-on name (default
            none: EKS's default for the cluster's Kubernetes version).
        ingress_edge: an ALB in front of the ingress gateway (default none).
    """

    vpc: str
    service_cidr: IPv4Network
    kubernetes_version: str | None
    node_groups: tuple[AwsNodeGroup, ...]
    public_access_cidrs: tuple[IPv4Network, ...]
    admin_principal_arns: tuple[str, ...]
    support_type: SupportType = SupportType.STANDARD
    addon_versions: Mapping[str, str] = field(default_factory=dict)
    ingress_edge: AlbEdgeSpec | None = None

    @property
    def cloud(self) -> str:
        return NAME

    @property
    def service_range(self) -> IPv4Network:
        return self.service_cidr


def aws_part(cluster: ClusterSpec) -> AwsCluster:
    return platform_part(cluster, AwsCluster)


class AwsConfig:
    """The ``aws`` platform's config; see the module docstring."""

    name = NAME
    mesh_fields: tuple[Field[Any], ...] = (SECRETS_REGION, SECRETS_RECOVERY_WINDOW_DAYS, VPCS)
    cluster_fields = CLUSTER_FIELDS
    owned_istiod_values: Mapping[tuple[str, ...], str] = {}

    def parse_settings(self, root: Reader) -> object | None:
        days = root.value(SECRETS_RECOVERY_WINDOW_DAYS)
        if days is not None and days != 0 and days < 7:
            root.fail(
                SECRETS_RECOVERY_WINDOW_DAYS.key,
                "recovery-window",
                f"{days} is not 0 (delete at once) or 7 to 30 days, as Secrets Manager requires",
            )
            days = None
        entries = root.objects(VPCS)
        vpcs: list[Entry[VpcSpec]] = []
        declared: set[str] = set()
        for entry in entries:
            vpc = _vpc(entry, declared)
            if vpc is not None:
                vpcs.append(Entry(entry.index, vpc, Owner("vpc", vpc.name), "vpcs"))
        # With a bad window the run fails anyway; the VPCs still go to the rules that compare them.
        window = days if days is not None else SECRETS_RECOVERY_WINDOW_DAYS.default or 0
        return AwsSettings(tuple(vpcs), frozenset(declared), window, root.value(SECRETS_REGION))

    def parse_cluster(self, reader: Reader, name: str | None) -> tuple[str, ClusterPlatform] | None:
        region = reader.value(REGION)
        if name is not None and len(name) > EKS_CLUSTER_NAME_MAX:
            reader.fail(
                "name",
                "name-length",
                f"{name} is {len(name)} characters; EKS clusters take at most {EKS_CLUSTER_NAME_MAX}, "
                "so that the IAM role names derived from them stay within IAM's 64",
            )
        vpc = reader.value(VPC)
        service = reader.value(SERVICE_CIDR)
        _check_service_range(reader, service)
        public_cidrs = reader.value(ENDPOINT_PUBLIC_ACCESS_CIDRS) or ()
        _check_open_alone(reader, public_cidrs)
        version = reader.value(KUBERNETES_VERSION)
        groups = _node_groups(reader, name) if reader.has(NODE_GROUPS) else (DEFAULT_NODE_GROUP,)
        admins = reader.value(ADMIN_PRINCIPAL_ARNS) or ()
        support = reader.value(SUPPORT_TYPE)
        if "eastWestSourceRanges" in reader.raw:
            reader.refuse_replaced(
                "eastWestSourceRanges",
                "is no longer read: an east-west gateway faces the internet only when the clusters span platforms, and then "
                "admits exactly the other clusters' egress addresses; remove it",
            )
        addons = _addon_versions(reader, version)
        edge = _ingress_edge(reader, region)
        if reader.failed or region is None or vpc is None or service is None or groups is None or support is None:
            return None
        return region, AwsCluster(
            vpc=vpc,
            service_cidr=service,
            kubernetes_version=version,
            node_groups=groups,
            public_access_cidrs=public_cidrs,
            admin_principal_arns=admins,
            support_type=support,
            addon_versions=addons,
            ingress_edge=edge,
        )

    def check(self, mesh: ParsedMesh, problems: Problems) -> None:
        settings = mesh.settings.get(NAME)
        if not isinstance(settings, AwsSettings):
            return
        clusters = mesh.on(NAME)
        if clusters and settings.secrets_region is None and not problems.about(SECRETS_REGION.key):
            # A default taken from the clusters would move when one is added, removed or reordered,
            # and moving the copies replaces them while the old names stay taken.
            problems.add(
                SECRETS_REGION.key,
                "required",
                "is required with EKS clusters: the Secrets Manager copies of the mesh CA cannot move once created; "
                f"set it to a region of your choice, e.g. secretsRegion: {clusters[0].value.region}",
            )
        if clusters and (missing := aws_cli_problem()):
            problems.add(clusters[0].at("cloud"), "aws-cli", missing, clusters[0].owner)
        declared = {v.value.name: v.value for v in settings.vpcs}
        for entry in mesh.on(NAME):
            cluster = aws_part(entry.value)
            vpc = declared.get(cluster.vpc)
            if vpc is None and cluster.vpc not in settings.vpc_names:
                problems.add(
                    entry.at("vpc"),
                    "unknown-vpc",
                    f"{cluster.vpc} is not declared in vpcs; add it there or name one of: "
                    f"{', '.join(sorted(settings.vpc_names)) or 'none are declared'}",
                    entry.owner,
                )
            elif vpc is not None and vpc.region != entry.value.region:
                problems.add(
                    entry.at("region"),
                    "vpc-region",
                    f"{entry.value.region} differs from its vpc {vpc.name} in {vpc.region}; a cluster lives in its VPC's region",
                    entry.owner,
                )
        _unused_vpcs(mesh, settings, problems)
        _edges_need_the_ingress_gateway(mesh, problems)
        _route53_in_its_partition(mesh, problems)
        _elastic_ip_quota(settings, problems)
        _one_release_behind_host_names(mesh, problems)
        _public_endpoints(mesh, problems)

    def routed_ranges(self, mesh: ParsedMesh) -> Iterable[RoutedRange]:
        settings = mesh.settings.get(NAME)
        if not isinstance(settings, AwsSettings):
            return
        used = {aws_part(c.value).vpc for c in mesh.on(NAME)}
        for vpc in settings.vpcs:
            if vpc.value.name in used:
                yield RoutedRange(vpc.at("cidr"), vpc.owner, vpc.value.cidr)

    # EKS takes at most 40 publicAccessCidrs (Amazon EKS service quotas); nodes reach their own API
    # through the private endpoint, so a cluster's own NAT addresses are not listed. The load
    # balancer controller writes one rule per port and source range into the NLB's security group
    # (pkg/service/model_build_managed_sg.go), which takes 60 inbound rules by default, and the
    # east-west gateway's Service has 4 ports (15021, 15443, 15012, 15017): 15 ranges.
    exposure_limits = ExposureLimits(api_ranges=40, own_egress=False, gateway_ranges=60 // 4)
    # Provided intermediates may be read from it (caProvidedIntermediates).
    secret_store: SecretStore | None = SECRETS_MANAGER
    # What Route 53 can do with its ingresses (ingressDns).
    dns_reach = DnsReach.AWS_REGION

    def egress_sources(self, mesh: ParsedMesh) -> Mapping[str, frozenset[EgressSource]]:
        """A VPC's NAT Elastic IPs: one, or one per zone with ``nat: per-az``; its clusters share them."""
        settings = mesh.settings.get(NAME)
        if not isinstance(settings, AwsSettings):
            return {}
        vpcs = {v.value.name: v.value for v in settings.vpcs}
        sources: dict[str, frozenset[EgressSource]] = {}
        for entry in mesh.on(NAME):
            vpc = vpcs.get(aws_part(entry.value).vpc)
            if vpc is not None:
                per_az = vpc.nat == "per-az"
                fewer = f"set nat: single on vpc {vpc.name}" if per_az else ""
                count = len(vpc.zones) if per_az else 1
                sources[entry.value.name] = frozenset(EgressSource(f"vpc {vpc.name} nat {i}", fewer) for i in range(count))
        return sources

    def plan_names(self, mesh: MeshSpec, plan: NamePlan) -> None:
        """The providers that read provided intermediates, the network, each EKS cluster, the rules
        between them and the CA copies."""
        for region in dict.fromkeys(
            secret_region(given.stored_at.reference)
            for given in mesh.ca.intermediates.values()
            if given.stored_at is not None and given.stored_at.field == SECRETS_MANAGER.field
        ):
            plan.add(names.CA_STORE_PROVIDER, region=region)
        clusters = mesh.on(NAME)
        if not clusters:
            return
        settings = platform_settings(mesh, NAME, AwsSettings)
        used = {aws_part(c).vpc for c in clusters}
        _plan_network(settings, [v for v in settings.vpcs if v.value.name in used], plan)
        for cluster in clusters:
            _plan_eks(mesh, cluster, plan)
            if mesh.fleet_mesh:
                plan.add(
                    names.MEMBER_REGION_PROVIDER,
                    [cluster_source(mesh, cluster.name, "region")],
                    network=names.NETWORK.name(),
                    region=cluster.region,
                )
        _plan_edge_certificates(mesh, clusters, plan)
        _plan_security(mesh, clusters, plan)
        secrets = plan.add(names.SECRETS)
        for template in (names.SECRET, names.SECRET_VERSION):
            plan.add(template, secrets=secrets, item=names.ROOT_ITEM)
        for cluster in clusters:
            for item in names.CLUSTER_ITEMS:
                for template in (names.SECRET, names.SECRET_VERSION):
                    key = names.item_resource(names.cluster_item(cluster.name, item))
                    plan.add(template, [cluster_source(mesh, cluster.name)], secrets=secrets, item=key)

    def api_allow_list(self, mesh: ParsedMesh, entry: Entry[ClusterSpec]) -> AllowList | None:
        """``endpointPublicAccessCidrs`` and the NAT addresses of the other VPCs that hold mesh
        clusters (``EksCluster._public_access``); none when the endpoint is open."""
        cidrs = aws_part(entry.value).public_access_cidrs
        if not cidrs or OPEN_TO_ALL in cidrs:
            return None
        sources = self.egress_sources(mesh)
        others = frozenset[EgressSource]().union(*sources.values()) - sources.get(entry.value.name, frozenset())
        return AllowList(entry.at(ENDPOINT_PUBLIC_ACCESS_CIDRS.key), len(set(cidrs)), others)

    def flat_network_problem(self, first: ClusterSpec, second: ClusterSpec) -> str | None:
        a, b = aws_part(first), aws_part(second)
        if a.vpc != b.vpc:
            return f"they are in different VPCs ({a.vpc}, {b.vpc}) (put both in one VPC for a flat network)"
        return None


def _plan_network(settings: AwsSettings, vpcs: Sequence[Entry[VpcSpec]], plan: NamePlan) -> None:
    network = plan.add(names.NETWORK)
    regions = [(v.value.region, NameSource(v.at("region"), v.owner)) for v in vpcs]
    if settings.secrets_region is not None:
        regions.append((settings.secrets_region, NameSource(SECRETS_REGION.key)))
    for region, source in {r: s for r, s in reversed(regions)}.items():
        plan.add(names.REGION_PROVIDER, [source], network=network, region=region)
    for vpc in vpcs:
        _plan_vpc(network, vpc, plan)
    for first, second in combinations(vpcs, 2):
        pair = {"first": first.value.name, "second": second.value.name}
        sources = [NameSource(first.at("name"), first.owner), NameSource(second.at("name"), second.owner)]
        plan.add(names.PEERING, sources, network=network, **pair)
        if first.value.region != second.value.region:
            plan.add(names.PEERING_ACCEPTER, sources, network=network, **pair)
        for here, there in ((first, second), (second, first)):
            for index in range(len(here.value.zones)):
                route = {"vpc": here.value.name, "other": there.value.name, "index": str(index)}
                plan.add(names.PEER_ROUTE, sources, network=network, **route)


def _plan_vpc(network: str, vpc: Entry[VpcSpec], plan: NamePlan) -> None:
    source = [NameSource(vpc.at("name"), vpc.owner)]
    parts = {"network": network, "vpc": vpc.value.name}
    for template in (names.VPC, names.INTERNET_GATEWAY, names.PUBLIC_TABLE):
        plan.add(template, source, **parts)
    for index in range(len(vpc.value.zones)):
        at = {**parts, "index": str(index)}
        plan.add(names.SUBNET, source, role="public", **at)
        plan.add(names.PUBLIC_ASSOCIATION, source, **at)
        if vpc.value.nat == "per-az" or index == 0:
            plan.add(names.NAT_ADDRESS, source, **at)
            plan.add(names.NAT, source, **at)
        plan.add(names.SUBNET, source, role="private", **at)
        for template in (names.PRIVATE_TABLE, names.PRIVATE_DEFAULT, names.PRIVATE_ASSOCIATION):
            plan.add(template, source, **at)


def _plan_eks(mesh: MeshSpec, cluster: ClusterSpec, plan: NamePlan) -> None:
    named = [cluster_source(mesh, cluster.name)]
    eks = plan.add(names.EKS, named, cluster=cluster.name)
    parts = {"eks": eks, "cluster": cluster.name}
    for template in (names.EKS_CLUSTER, names.PROVIDER, names.NODE_ROLE, names.CONTROLLER_ROLE, names.CONTROLLER_POLICY):
        plan.add(template, named, **parts)
    for template in (names.CONTROLLER_ATTACHMENT, names.CONTROLLER, names.METRICS_SERVER, names.COREDNS):
        plan.add(template, named, **parts)
    for policy in names.NODE_POLICIES:
        plan.add(names.NODE_POLICY, named, policy=policy, **parts)
    groups = aws_part(cluster).node_groups
    for index, group in enumerate(groups):
        # The default group is no config value of its own.
        group_source = [cluster_source(mesh, cluster.name, f"nodeGroups[{index}].name")] if group is not DEFAULT_NODE_GROUP else []
        plan.add(names.NODE_GROUP, [*named, *group_source], group=group.name, **parts)


def certified_regions(mesh: MeshSpec) -> list[str]:
    """The regions whose edges serve the program's certificate for ``ingressDns``'s name
    (``EdgeCertificates``), by name: every region with an edge, when the name is Route 53's."""
    if mesh.ingress_dns is None or mesh.ingress_dns.service is not DnsService.ROUTE53:
        return []
    return sorted({c.region for c in mesh.on(NAME) if aws_part(c).ingress_edge is not None})


def _plan_edge_certificates(mesh: MeshSpec, clusters: Sequence[ClusterSpec], plan: NamePlan) -> None:
    regions = certified_regions(mesh)
    if not regions:
        return
    certificates = plan.add(names.EDGE_CERTIFICATES)
    plan.add(names.EDGE_ROUTE53, certificates=certificates)
    plan.add(names.EDGE_VALIDATION_RECORD, certificates=certificates)
    for region in regions:
        sources = [cluster_source(mesh, c.name, "region") for c in clusters if c.region == region]
        for template in (names.EDGE_CERTIFICATE, names.EDGE_VALIDATION):
            plan.add(template, sources, certificates=certificates, region=region)


def _plan_security(mesh: MeshSpec, clusters: Sequence[ClusterSpec], plan: NamePlan) -> None:
    """The rules ``AwsMeshSecurity`` makes: one stack's, or (a fleet's mesh stack plans for its
    members) every member's own, each peer by its VPC's range."""
    security = plan.add(names.SECURITY)
    settings = platform_settings(mesh, NAME, AwsSettings)
    ranges = {v.value.name: str(v.value.cidr) for v in settings.vpcs}
    listed = [RuleCluster(c.name, c.network, aws_part(c).vpc) for c in clusters if aws_part(c).vpc in ranges]
    admitting = [c.name for c in listed]
    rules = ingress_rules(
        listed, ranges, admitting, by_group=not mesh.fleet_mesh, ambient=mesh.ambient, sidecar_gateway=mesh.ambient_sidecar_gateway
    )
    for rule in rules:
        plan.add(
            rule.template, [cluster_source(mesh, c) for c in dict.fromkeys((rule.admits, *rule.sources))], security=security, **rule.parts
        )


def _vpc(reader: Reader, declared: set[str]) -> VpcSpec | None:
    name = reader.value(VPC_NAME)
    if name is not None:
        if name in declared:
            reader.fail(VPC_NAME.key, "duplicate-name", f"{name} is declared twice; give each VPC a unique name")
        declared.add(name)
        reader.owner = Owner("vpc", name)
    region = reader.value(VPC_REGION)
    cidr = reader.value(VPC_CIDR)
    private = reader.value(PRIVATE_SUBNETS)
    public = reader.value(PUBLIC_SUBNETS)
    if "availabilityZones" in reader.raw:
        count = reader.raw["availabilityZones"]
        reader.refuse_replaced(
            "availabilityZones",
            f"is replaced by zones; list the {count} zones by name, e.g. zones: [{region or 'eu-west-1'}a, {region or 'eu-west-1'}b]",
        )
    zones = reader.value(ZONES)
    if zones is not None and region is not None:
        _check_zones(reader, region, zones)
    nat = reader.value(NAT)
    reader.reject_unknown()
    if cidr is not None and private is not None and public is not None and zones is not None:
        _check_subnets(reader, cidr, len(zones), {PRIVATE_SUBNETS.key: private, PUBLIC_SUBNETS.key: public})
    if reader.failed or name is None or region is None or cidr is None or private is None or public is None or zones is None or nat is None:
        return None
    return VpcSpec(name, region, cidr, zones, private, public, nat)


def _check_service_range(reader: Reader, service: IPv4Network | None) -> None:
    if service is not None and not (any(service.subnet_of(b) for b in EKS_SERVICE_BLOCKS) and service.prefixlen in EKS_SERVICE_PREFIXES):
        reader.fail(
            SERVICE_CIDR.key,
            "service-cidr",
            f"{service} must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 and be from /12 to /24, as EKS requires",
        )


def _addon_versions(reader: Reader, kubernetes_version: str | None) -> dict[str, str]:
    """The pinned add-on versions. Without ``kubernetesVersion`` only pins hold kube-proxy and the
    VPC CNI still: pulumi-eks then takes the newest build of each for the version the cluster runs,
    on every ``up`` (``mostRecent: true``, nodejs/eks/cluster/cluster.ts), which a warning says."""
    pins: dict[str, str] = {}
    addons = reader.object(ADDON_VERSIONS)
    if addons is not None:
        pins = {f.key: value for f in ADDON_VERSION_FIELDS if addons.has(f) and (value := addons.value(f)) is not None}
        addons.reject_unknown()
    floating = [addon for addon in ("kube-proxy", "vpc-cni") if addon not in pins]
    if kubernetes_version is None and floating and not reader.failed:
        reader.problems.warn(
            reader.at(KUBERNETES_VERSION.key),
            "floating-addons",
            f"is unset, so pulumi-eks moves {' and '.join(floating)} to their newest builds for the version the cluster runs "
            "on any `up`; set kubernetesVersion to the version the cluster runs (or will run) to keep them at EKS's default "
            "for it, or pin them in addonVersions",
            reader.owner,
        )
    return pins


def _ingress_edge(reader: Reader, region: str | None) -> AlbEdgeSpec | None:
    """``ingressEdge``: its ARNs must be of the cluster's region (and so its partition): an ALB takes
    certificates and web ACLs of its own region only; a global (CloudFront) web ACL never attaches
    to an ALB."""
    edge = reader.object(INGRESS_EDGE)
    if edge is None:
        return None
    edge.value(EDGE_TYPE)
    certificate, web_acl = edge.value(EDGE_CERTIFICATE), edge.value(EDGE_WEB_ACL)
    edge.reject_unknown()
    if edge.failed or region is None:
        return None
    if certificate is not None:
        _same_region(edge, EDGE_CERTIFICATE.key, certificate, region, "request or import the certificate in ACM there")
    if web_acl is not None:
        if ":global/webacl/" in web_acl:
            edge.fail(
                EDGE_WEB_ACL.key,
                "global-web-acl",
                f"{web_acl} is a global (CloudFront) web ACL; an ALB takes a regional one: create it with scope REGIONAL in {region}",
            )
        else:
            _same_region(edge, EDGE_WEB_ACL.key, web_acl, region, "create the web ACL with scope REGIONAL there")
    return None if edge.failed else AlbEdgeSpec(certificate, web_acl)


def _same_region(reader: Reader, key: str, arn: str, region: str, remedy: str) -> None:
    _, partition_name, _, arn_region, *_ = arn.split(":")
    if partition_name != lbc.partition(region):
        reader.fail(
            key,
            "edge-partition",
            f"is in partition {partition_name}, but the cluster's region {region} is in {lbc.partition(region)}; {remedy}",
        )
    elif arn_region != region:
        reader.fail(key, "edge-region", f"is in {arn_region}, but the cluster's ALB is in {region}, which takes only its own; {remedy}")


def _route53_in_its_partition(mesh: ParsedMesh, problems: Problems) -> None:
    """The mesh's Route 53 records, zone read and validation record go through us-east-1, the aws
    partition's Route 53 region: China and GovCloud have Route 53s of their own."""
    dns = mesh.ingress_dns
    if dns is None or dns.service is not DnsService.ROUTE53:
        return
    for entry in mesh.on(NAME):
        if (partition := lbc.partition(entry.value.region)) != "aws":
            problems.add(
                entry.at("region"),
                "dns-partition",
                f"{entry.value.region} is in partition {partition}, whose Route 53 the program does not use; remove ingressDns, "
                "or run this cluster in a mesh without it",
                entry.owner,
            )


def _edges_need_the_ingress_gateway(mesh: ParsedMesh, problems: Problems) -> None:
    """An edge fronts the ingress gateway, and serves a certificate: given, or made for ``ingressDns``'s name."""
    for entry in mesh.on(NAME):
        edge = aws_part(entry.value).ingress_edge
        if edge is None:
            continue
        if mesh.ingress_gateway is False:
            problems.add(
                entry.at(INGRESS_EDGE.key),
                "unused",
                "puts an ALB in front of the ingress gateway, which this mesh does not run; set ingressGateway: true, or remove it",
                entry.owner,
            )
        elif edge.certificate_arn is None and not mesh.ingress_dns_given:
            problems.add(
                entry.at(f"{INGRESS_EDGE.key}.{EDGE_CERTIFICATE.key}"),
                "required",
                "is required without ingressDns (whose name the program would otherwise request a certificate for); give "
                "the ARN of an ACM certificate in the cluster's region, or set ingressDns",
                entry.owner,
            )


def _check_open_alone(reader: Reader, cidrs: tuple[IPv4Network, ...]) -> None:
    """0.0.0.0/0 admits anyone: ranges beside it admit no one more, and would be sent to EKS as given."""
    if OPEN_TO_ALL in cidrs and len(cidrs) > 1:
        reader.fail(
            ENDPOINT_PUBLIC_ACCESS_CIDRS.key,
            "open-beside-ranges",
            f"lists {OPEN_TO_ALL}, which admits anyone, beside {len(cidrs) - 1} other range{'s' if len(cidrs) > 2 else ''}; "
            f"list {OPEN_TO_ALL} alone to leave the endpoint open, or only the public ranges you trust",
        )


def _check_zones(reader: Reader, region: str, zones: tuple[str, ...]) -> None:
    for zone in zones:
        if zone[:-1] != region:
            reader.fail(
                ZONES.key, "zone-region", f"{zone} is not a zone of {region}; name zones as the region and a letter, e.g. {region}a"
            )
    for zone, count in counted_repeats(zones):
        reader.fail(ZONES.key, "duplicate-zone", f"{zone} is listed {count} times; spread the subnets over distinct zones")


def _check_subnets(reader: Reader, cidr: IPv4Network, zones: int, subnets: dict[str, tuple[IPv4Network, ...]]) -> None:
    for key, nets in subnets.items():
        for net in nets:
            if not net.subnet_of(cidr):
                reader.fail(key, "outside-vpc", f"{net} is outside the VPC {cidr}; pick a range inside it")
        if len(nets) != zones:
            reader.fail(key, "subnets-per-zone", f"lists {len(nets)} subnets for {zones} availability zones; give one per zone")
    labelled = [(key, net) for key, nets in subnets.items() for net in nets]
    for (key_a, net_a), (key_b, net_b) in overlapping_pairs(labelled):
        reader.fail(key_b, "overlap", f"{net_b} overlaps {reader.at(key_a)} ({reader.owner}) {net_a}; give every subnet a range of its own")


def _node_groups(reader: Reader, cluster: str | None) -> tuple[AwsNodeGroup, ...] | None:
    groups: list[AwsNodeGroup] = []
    for group_entry in reader.objects(NODE_GROUPS):
        name = group_entry.value(GROUP_NAME)
        types = group_entry.value(INSTANCE_TYPES)
        counts = node_counts(group_entry, DESIRED, MIN, MAX)
        group_entry.reject_unknown()
        if name is not None and cluster is not None and len(f"{cluster}-{name}-") > NODE_GROUP_PREFIX_MAX:
            group_entry.fail(
                GROUP_NAME.key,
                "name-length",
                f"the node group's name starts {cluster}-{name}- ({len(cluster) + len(name) + 2} characters) and takes "
                f"{UNIQUE_SUFFIX} random ones after it, so that a replacement can be made before the old group goes; "
                f"EKS takes at most {EKS_NODE_GROUP_NAME_MAX}: shorten the group or cluster name",
            )
        if not group_entry.failed and name is not None and types is not None and counts is not None:
            groups.append(AwsNodeGroup(name, types, *counts))
    for name, count in counted_repeats(g.name for g in groups):
        reader.fail(NODE_GROUPS.key, "duplicate-name", f"group name {name} is used {count} times; node group names must be unique")
    return tuple(groups) if not reader.failed else None


def _unused_vpcs(mesh: ParsedMesh, settings: AwsSettings, problems: Problems) -> None:
    """The program creates only the VPCs a cluster names (``AwsPlatform.prepare``), so another entry
    would silently do nothing. Decided once every cluster parsed (one that did not may name it);
    ``vpcs`` without any aws cluster is refused by the config layer's rule for unused platform keys."""
    clusters = mesh.on(NAME)
    if not clusters or len(mesh.clusters) != mesh.listed:
        return
    used = {aws_part(c.value).vpc for c in clusters}
    for vpc in settings.vpcs:
        if vpc.value.name not in used:
            problems.add(
                f"{vpc.list_key}[{vpc.index}]",
                "unused",
                "no aws cluster names it in its vpc field, so it would never be created; remove it, or name it in a cluster's vpc field",
                vpc.owner,
            )


# EC2's default quota of Elastic IPs per region ("EC2-VPC Elastic IPs", Service Quotas code
# L-0263D0A3); every NAT gateway takes one.
DEFAULT_ELASTIC_IPS = 5


def _elastic_ip_quota(settings: AwsSettings, problems: Problems) -> None:
    """A warning where the NATs of a region's VPCs need more Elastic IPs than the default quota:
    the first ``up`` would fail part-way with AddressLimitExceeded unless the account's quota was raised."""
    needed: dict[str, list[Entry[VpcSpec]]] = {}
    for vpc in settings.vpcs:
        needed.setdefault(vpc.value.region, []).append(vpc)
    for region, vpcs in needed.items():
        count = sum(len(v.value.zones) if v.value.nat == "per-az" else 1 for v in vpcs)
        if count > DEFAULT_ELASTIC_IPS:
            first = vpcs[0]
            problems.warn(
                f"{first.list_key}[{first.index}].nat",
                "elastic-ips",
                f"the NAT gateways of the VPCs in {region} need {count} Elastic IPs, more than EC2's default quota of "
                f"{DEFAULT_ELASTIC_IPS} per region; unless the account's quota is higher, ask for more (Service Quotas, "
                "EC2-VPC Elastic IPs, L-0263D0A3) before pulumi up, or use nat: single",
                first.owner,
            )


EKS_API = ApiExposure(
    ENDPOINT_PUBLIC_ACCESS_CIDRS.key,
    "the EKS API endpoint",
    "operatorCidrs and the other clusters' egress addresses",
    "the other VPCs' NAT addresses",
)


def _public_endpoints(mesh: ParsedMesh, problems: Problems) -> None:
    for entry in mesh.on(NAME):
        report_api_exposure(mesh, entry, aws_part(entry.value).public_access_cidrs, EKS_API, problems)


def _one_release_behind_host_names(mesh: ParsedMesh, problems: Problems) -> None:
    """Remotes of an EKS primary reach it through an NLB host name, and their webhooks dial it by
    URL, so every webhook call arrives with that one name as its TLS SNI: the east-west gateway
    can route it to one revision only (the ``default`` tag's). A second revision's injection on
    those remotes would silently come from the first, so a canary cannot run there."""
    versions = sorted(set((mesh.revisions or {}).values()), key=version_order)
    if mesh.topology is not Topology.PRIMARY_REMOTE or len(versions) < 2:
        return
    served = {c.value.primary for c in mesh.clusters if c.value.role is Role.REMOTE}
    for entry in mesh.on(NAME):
        if entry.value.name in served:
            problems.add(
                "istioRevisions",
                "revisions-by-host-name",
                f"runs {' and '.join(versions)} side by side, but the remotes of {entry.value.name} reach its istiod through an "
                "AWS load balancer's host name, which cannot tell one revision's webhook calls from another's; upgrade them in "
                f'one step instead, pointing every tag at the new release, e.g. {{default: "{versions[-1]}"}}',
                entry.owner,
            )
