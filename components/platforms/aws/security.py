"""AwsMeshSecurity: the ingress rules between EKS clusters that the mesh needs, and no more.

Managed node groups carry their EKS cluster security group, so rules go on it. For every ordered
pair (X admits Y): the east-west gateway's port when they are on different Istio networks (15443,
mTLS passed through by SNI; in ambient 15008, HBONE: the only data port of the Gateway istiod
deploys, pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go, and 15443 too where the
sidecar gateway runs beside it, ``ambientSidecarGateway``), all traffic
when they share one (pods talk directly); within one VPC by security-group reference (in a fleet's
member stack by the VPC's range: see ``AwsMeshSecurityArgs.admitting``), across VPCs by the peer
VPC's range. Each cluster admits 443 from the peers in its VPC: the private endpoint is
on and its DNS answers privately only inside the VPC, so they reach the API server privately; peers
in other VPCs reach its public endpoint through their NAT (``EksCluster`` admits those addresses
where the endpoint is restricted). Each cluster admits 15012 and 15017
from its own group (API server -> istiod webhooks). Nothing is open to 0.0.0.0/0.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.config.model import ClusterSpec
from components.platforms.aws import names
from components.platforms.aws.config import VpcSpec, aws_part
from components.platforms.aws.ingress_rules import PER_CLUSTER_OF, RuleCluster, ingress_rules


@dataclass(frozen=True, kw_only=True)
class AwsMeshSecurityArgs:
    """Inputs of ``AwsMeshSecurity``.

    Args:
        specs: every EKS cluster's spec (networks decide the east-west port versus all traffic).
        vpcs: the VPCs they are in.
        groups: the EKS cluster security group of each cluster this stack builds.
        providers: the AWS provider of each region the admitting clusters are in.
        admitting: the clusters whose groups get rules here (default every cluster of ``specs``;
            a fleet member: its own). A stack that does not build every cluster admits the peers in
            its VPC by the VPC's range, not by their groups: AWS refuses to delete a security group
            another group's rule references (DeleteSecurityGroup: DependencyViolation), and a fleet's
            member stacks are destroyed independently, side by side.
        ambient: the mesh runs the ambient data plane (east-west on 15008, not 15443; default no).
        sidecar_gateway: in ambient, the sidecar mode's east-west gateway runs too (15443 as well;
            default no).
    """

    specs: Sequence[ClusterSpec]
    vpcs: Sequence[VpcSpec]
    groups: Mapping[str, pulumi.Input[str]]
    providers: Mapping[str, aws.Provider]
    admitting: Sequence[str] | None = None
    ambient: bool = False
    sidecar_gateway: bool = False


class AwsMeshSecurity(pulumi.ComponentResource):
    """See the module docstring."""

    def __init__(self, name: str, args: AwsMeshSecurityArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.SECURITY.type, name, None, opts)
        regions = {c.name: c.region for c in args.specs}
        clusters = [RuleCluster(c.name, c.network, aws_part(c).vpc) for c in args.specs]
        admitting = [c.name for c in args.specs] if args.admitting is None else list(args.admitting)
        vpc_ranges = {v.name: str(v.cidr) for v in args.vpcs}
        rules = ingress_rules(
            clusters, vpc_ranges, admitting, by_group=args.admitting is None, ambient=args.ambient, sidecar_gateway=args.sidecar_gateway
        )
        for rule in rules:
            # A rule that was one per cluster keeps its state under its new name (no second,
            # identical rule, which AWS refuses, made before the old one is deleted).
            aliases = [pulumi.Alias(name=PER_CLUSTER_OF[rule.template].name(security=name, **old)) for old in rule.formerly]
            opts_ = pulumi.ResourceOptions(parent=self, provider=args.providers[regions[rule.admits]], aliases=aliases or None)
            source_group = args.groups[rule.source_group] if rule.source_group is not None else None
            self._rule(
                rule.template.name(security=name, **rule.parts),
                args.groups[rule.admits],
                *rule.ports,
                source_group,
                rule.source_range,
                opts_,
                protocol=rule.protocol,
            )
        self.register_outputs({})

    @staticmethod
    def _rule(
        name: str,
        group: pulumi.Input[str],
        from_port: int,
        to_port: int,
        source_group: pulumi.Input[str] | None,
        source_cidr: str | None,
        opts: pulumi.ResourceOptions,
        protocol: str = "tcp",
    ) -> None:
        aws.vpc.SecurityGroupIngressRule(
            name,
            security_group_id=group,
            ip_protocol=protocol,
            from_port=None if protocol == "-1" else from_port,
            to_port=None if protocol == "-1" else to_port,
            referenced_security_group_id=source_group,
            cidr_ipv4=source_cidr,
            description=f"istio-multicluster: {name}",
            opts=opts,
        )
