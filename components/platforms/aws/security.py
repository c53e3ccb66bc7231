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
from itertools import permutations

import pulumi
import pulumi_aws as aws

from components.config.model import ClusterSpec
from components.istio.facts import CROSS_NETWORK_PORT, HBONE_PORT, WEBHOOK_PORTS
from components.platforms.aws import names
from components.platforms.aws.config import VpcSpec, aws_part


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
        specs = {c.name: c for c in args.specs}
        vpcs = {v.name: v for v in args.vpcs}
        admitting = list(specs) if args.admitting is None else list(args.admitting)
        east_west = HBONE_PORT if args.ambient else CROSS_NETWORK_PORT
        by_group = args.admitting is None
        for cluster in admitting:
            group = args.groups[cluster]
            on_aws = pulumi.ResourceOptions(parent=self, provider=args.providers[specs[cluster].region])
            for port in WEBHOOK_PORTS:
                self._rule(names.WEBHOOK_RULE.name(security=name, cluster=cluster, port=str(port)), group, port, port, group, None, on_aws)
        for admits, source in permutations(specs, 2):
            if admits not in admitting:
                continue
            a, b = specs[admits], specs[source]
            flat = a.network == b.network
            low, high = (0, 65535) if flat else (east_west, east_west)
            same_vpc = aws_part(a).vpc == aws_part(b).vpc
            on_aws = pulumi.ResourceOptions(parent=self, provider=args.providers[a.region])
            peer_group = args.groups[source] if same_vpc and by_group else None
            peer_range = None if peer_group is not None else str(vpcs[aws_part(b).vpc].cidr)
            group = args.groups[admits]
            if same_vpc:
                api = names.API_RULE.name(security=name, admits=admits, source=source)
                self._rule(api, group, 443, 443, peer_group, peer_range, on_aws)
            self._rule(
                names.PEER_RULE.name(security=name, admits=admits, source=source),
                group,
                low,
                high,
                peer_group,
                peer_range,
                on_aws,
                protocol="-1" if flat else "tcp",
            )
            if args.ambient and args.sidecar_gateway and not flat:
                self._rule(
                    names.SIDECAR_PEER_RULE.name(security=name, admits=admits, source=source),
                    group,
                    CROSS_NETWORK_PORT,
                    CROSS_NETWORK_PORT,
                    peer_group,
                    peer_range,
                    on_aws,
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
