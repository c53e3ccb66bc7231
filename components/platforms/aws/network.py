"""AwsNetwork: the VPCs the EKS clusters share, one ``aws.Provider`` per region.

Per VPC, once the region's live zone list shows its named zones: public and private subnets across them,
an internet gateway, NAT (one, or one per AZ), route tables, and the tags EKS and the AWS Load
Balancer Controller discover subnets by: ``kubernetes.io/role/elb`` on public subnets,
``kubernetes.io/role/internal-elb`` on private ones, ``kubernetes.io/cluster/<cluster>: shared``
on both for every cluster in the VPC. Nothing here waits for a cluster.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import pulumi
import pulumi_aws as aws

from components.config.model import ClusterSpec
from components.config.problems import ConfigError, Owner, Problem
from components.platforms.aws import names
from components.platforms.aws.config import ZONES, VpcSpec, aws_part


@dataclass(frozen=True)
class AwsNetworkArgs:
    """Inputs of ``AwsNetwork``.

    Args:
        vpcs: the VPCs the mesh's EKS clusters name.
        clusters: those EKS clusters (for the subnets' cluster discovery tags).
        secrets_region: the region of the CA copies, which gets a provider too (default none).
        zone_fields: the config path of each VPC's zones, by VPC name, for messages (default: ``vpcs[].zones``).
    """

    vpcs: Sequence[VpcSpec]
    clusters: Sequence[ClusterSpec]
    secrets_region: str | None = None
    zone_fields: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ClusterNetwork:
    """What an EKS cluster is built on: its VPC's, made in this stack (``VpcNetwork.for_clusters``)
    or, in a fleet's member stack, by the mesh stack and read from its outputs.

    Args:
        vpc_id: the VPC's ID.
        provider: the AWS provider of its region.
        private_subnet_ids: node and internal load balancer subnets, one per AZ.
        public_subnet_ids: internet-facing load balancer subnets, one per AZ.
        egress: the private subnets' way out, which nodes need before they join (default none: in a
            fleet the mesh stack's update made it before any member runs, and destroys it after).
    """

    vpc_id: pulumi.Output[str]
    provider: aws.Provider
    private_subnet_ids: Sequence[pulumi.Input[str]]
    public_subnet_ids: Sequence[pulumi.Input[str]]
    egress: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class VpcNetwork:
    """One VPC as the clusters in it see it.

    Args:
        vpc: the VPC.
        provider: the AWS provider of its region.
        private_subnet_ids: node and internal load balancer subnets, one per AZ.
        public_subnet_ids: NAT and internet-facing load balancer subnets, one per AZ.
        private_route_tables: where routes to peered VPCs go.
        egress: the private subnets' way out (NAT routes and their table associations): nodes need it
            to join the cluster and pull images, the load balancer controller to reach AWS's APIs.
        nat_addresses: the NAT gateways' Elastic IPs: every connection from the VPC's private
            subnets to the internet (another cloud's API server or gateway) comes from one of them.
    """

    vpc: aws.ec2.Vpc
    provider: aws.Provider
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    private_route_tables: list[aws.ec2.RouteTable]
    egress: list[pulumi.Resource]
    nat_addresses: list[pulumi.Output[str]]

    def for_clusters(self) -> ClusterNetwork:
        """What the clusters in this VPC are built on."""
        return ClusterNetwork(self.vpc.id, self.provider, self.private_subnet_ids, self.public_subnet_ids, self.egress)


class AwsNetwork(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``providers`` by region, ``vpcs`` by name."""

    providers: dict[str, aws.Provider]
    vpcs: dict[str, VpcNetwork]
    _regions: dict[str, str]

    def __init__(self, name: str, args: AwsNetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.NETWORK.type, name, None, opts)
        # One provider per region, named after it: a VPC added in the secrets' region shares theirs.
        regions = [v.region for v in args.vpcs] + ([args.secrets_region] if args.secrets_region else [])
        self.providers = {
            region: aws.Provider(
                names.REGION_PROVIDER.name(network=name, region=region), region=region, opts=pulumi.ResourceOptions(parent=self)
            )
            for region in dict.fromkeys(regions)
        }
        self._check_zones(args)
        self.vpcs = {}
        self._regions = {v.name: v.region for v in args.vpcs}
        for vpc in args.vpcs:
            members = [c.name for c in args.clusters if aws_part(c).vpc == vpc.name]
            self.vpcs[vpc.name] = self._vpc(name, vpc, members)
        # Clusters in separate VPCs reach each other's API, gateways (and pods) over peering. Each
        # pair in name order, whatever the order of vpcs: reordering the list must not rename a
        # peering or swap its requester and accepter (both would make a second peering of the same
        # two VPCs, which AWS refuses while the first exists).
        for first, second in combinations(sorted(self.vpcs), 2):
            self.peer(name, first, second)
        self.register_outputs({"vpcIds": {n: v.vpc.id for n, v in self.vpcs.items()}})

    def peer(self, network: str, first: str, second: str) -> None:
        """Peer two VPCs (accepting it in the second's region) and route each one's private subnets to the other."""
        a, b = self.vpcs[first], self.vpcs[second]
        a_region, b_region = self._regions[first], self._regions[second]
        same_region = a_region == b_region
        connection = aws.ec2.VpcPeeringConnection(
            names.PEERING.name(network=network, first=first, second=second),
            vpc_id=a.vpc.id,
            peer_vpc_id=b.vpc.id,
            peer_region=None if same_region else b_region,
            auto_accept=True if same_region else None,
            tags={"Name": f"{first}-{second}"},
            # AWS keeps one peering per pair of VPCs: a replacement (another region) goes after the old one.
            opts=pulumi.ResourceOptions(parent=self, provider=a.provider, delete_before_replace=True),
        )
        accepted: list[pulumi.Resource] = [connection]
        if not same_region:
            accepted.append(
                aws.ec2.VpcPeeringConnectionAccepter(
                    names.PEERING_ACCEPTER.name(network=network, first=first, second=second),
                    vpc_peering_connection_id=connection.id,
                    auto_accept=True,
                    opts=pulumi.ResourceOptions(parent=self, provider=b.provider),
                )
            )
        for here, there, label in ((a, b, first), (b, a, second)):
            for index, table in enumerate(here.private_route_tables):
                aws.ec2.Route(
                    names.PEER_ROUTE.name(network=network, vpc=label, index=str(index), other=second if label == first else first),
                    route_table_id=table.id,
                    destination_cidr_block=there.vpc.cidr_block,
                    vpc_peering_connection_id=connection.id,
                    opts=pulumi.ResourceOptions(parent=self, provider=here.provider, depends_on=accepted),
                )

    def _check_zones(self, args: AwsNetworkArgs) -> None:
        """Every VPC's zones against its region's live list, before any VPC is made: a zone the
        account lacks (or EKS cannot use) stops the update, and its preview, with every such zone
        named and nothing of the VPCs created. A subnet in such a zone would fail only after the VPC,
        its gateway and route tables exist."""
        problems: list[Problem] = []
        for spec in args.vpcs:
            live = aws.get_availability_zones(state="available", opts=pulumi.InvokeOptions(provider=self.providers[spec.region]))
            problems += zone_problems(spec, args.zone_fields.get(spec.name, f"vpcs[].{ZONES.key}"), live.names, live.zone_ids)
        if problems:
            regions = sorted({v.region for v in args.vpcs})
            raise ConfigError(problems, f"the live zone lists of {', '.join(regions)} show it, and no VPC was created")

    def _vpc(self, name: str, spec: VpcSpec, clusters: list[str]) -> VpcNetwork:
        provider = self.providers[spec.region]
        child = pulumi.ResourceOptions(parent=self, provider=provider)
        parts = {"network": name, "vpc": spec.name}
        vpc = aws.ec2.Vpc(
            names.VPC.name(**parts),
            cidr_block=str(spec.cidr),
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags={"Name": spec.name},
            opts=child,
        )
        discovery = {f"kubernetes.io/cluster/{cluster}": "shared" for cluster in clusters}
        public, routed = _public_subnets(name, spec, vpc, discovery, child)
        private: list[aws.ec2.Subnet] = []
        tables: list[aws.ec2.RouteTable] = []
        nats: list[aws.ec2.NatGateway] = []
        addresses: list[pulumi.Output[str]] = []
        egress: list[pulumi.Resource] = []
        # Each NAT needs the public route to the internet gateway, and so does everything behind it:
        # the nodes, the load balancer controller, whose AWS calls leave through the NAT (no VPC
        # endpoints), and so every load balancer it deletes. Depending on the route table, its
        # associations and the gateway, the NAT is deleted after all of that and before its route;
        # without it, destroy took the route away beside the gateway releases, the controller could
        # no longer reach AWS, and the NLBs, their security groups and the VPC were left behind.
        after_route = pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(depends_on=routed))
        for index, zone in enumerate(spec.zones):
            if spec.nat == "per-az" or index == 0:
                eip = aws.ec2.Eip(
                    names.NAT_ADDRESS.name(**parts, index=str(index)), domain="vpc", tags={"Name": f"{spec.name}-nat-{index}"}, opts=child
                )
                addresses.append(eip.public_ip)
                nats.append(
                    aws.ec2.NatGateway(
                        names.NAT.name(**parts, index=str(index)),
                        allocation_id=eip.id,
                        subnet_id=public[index].id,
                        tags={"Name": f"{spec.name}-nat-{index}"},
                        opts=after_route,
                    )
                )
            private.append(_subnet(name, spec, "private", index, zone, vpc, {"kubernetes.io/role/internal-elb": "1", **discovery}, child))
            # Private routes are separate Route resources (peering adds more): mixing inline routes
            # and Route resources on one table makes them fight.
            tables.append(
                aws.ec2.RouteTable(
                    names.PRIVATE_TABLE.name(**parts, index=str(index)),
                    vpc_id=vpc.id,
                    tags={"Name": f"{spec.name}-private-{index}"},
                    opts=child,
                )
            )
            route = aws.ec2.Route(
                names.PRIVATE_DEFAULT.name(**parts, index=str(index)),
                route_table_id=tables[index].id,
                destination_cidr_block="0.0.0.0/0",
                nat_gateway_id=nats[-1].id,
                opts=child,
            )
            association = aws.ec2.RouteTableAssociation(
                names.PRIVATE_ASSOCIATION.name(**parts, index=str(index)),
                subnet_id=private[index].id,
                route_table_id=tables[index].id,
                opts=child,
            )
            egress += [route, association]
        return VpcNetwork(vpc, provider, [s.id for s in private], [s.id for s in public], tables, egress, addresses)


def _public_subnets(
    name: str, spec: VpcSpec, vpc: aws.ec2.Vpc, discovery: dict[str, str], child: pulumi.ResourceOptions
) -> tuple[list[aws.ec2.Subnet], list[pulumi.Resource]]:
    """The public subnets, and the VPC's way out that the NATs need: the internet gateway, the
    public route table routing to it and the subnets' associations with that table."""
    parts = {"network": name, "vpc": spec.name}
    gateway = aws.ec2.InternetGateway(names.INTERNET_GATEWAY.name(**parts), vpc_id=vpc.id, tags={"Name": spec.name}, opts=child)
    table = aws.ec2.RouteTable(
        names.PUBLIC_TABLE.name(**parts),
        vpc_id=vpc.id,
        routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=gateway.id)],
        tags={"Name": f"{spec.name}-public"},
        opts=child,
    )
    public: list[aws.ec2.Subnet] = []
    routed: list[pulumi.Resource] = [gateway, table]
    for index, zone in enumerate(spec.zones):
        public.append(_subnet(name, spec, "public", index, zone, vpc, {"kubernetes.io/role/elb": "1", **discovery}, child))
        routed.append(
            aws.ec2.RouteTableAssociation(
                names.PUBLIC_ASSOCIATION.name(**parts, index=str(index)), subnet_id=public[index].id, route_table_id=table.id, opts=child
            )
        )
    return public, routed


# Zone IDs whose subnets EKS refuses for a cluster (UnsupportedAvailabilityZoneException); eksctl
# avoids the same ones (pkg/az/az.go). Zone names map to IDs differently in every account.
EKS_UNSUPPORTED_ZONE_IDS = frozenset({"use1-az3", "usw1-az2", "cac1-az3"})


def zone_problems(spec: VpcSpec, zone_field: str, names: Sequence[str], zone_ids: Sequence[str]) -> list[Problem]:
    """What the region's live list (``names`` and their ``zone_ids``) says against ``spec``'s zones:
    each one not available to this account, and each one whose zone ID EKS cannot use."""
    ids = dict(zip(names, zone_ids, strict=False))
    owner = Owner("vpc", spec.name)
    usable = [z for z in names if ids[z] not in EKS_UNSUPPORTED_ZONE_IDS]
    missing = [
        Problem(
            zone_field,
            "zone-unavailable",
            f"{zone} is not an available zone of {spec.region} for this account; its zones are {', '.join(names)}: list zones from those",
            owner,
        )
        for zone in spec.zones
        if zone not in ids
    ]
    without_eks = [
        Problem(
            zone_field,
            "zone-without-eks",
            f"{zone} is zone ID {ids[zone]} in this account, where EKS cannot run; pick zones from {', '.join(usable)}",
            owner,
        )
        for zone in spec.zones
        if ids.get(zone) in EKS_UNSUPPORTED_ZONE_IDS
    ]
    return missing + without_eks


def _subnet(
    network: str,
    spec: VpcSpec,
    role: str,
    index: int,
    zone: pulumi.Input[str],
    vpc: aws.ec2.Vpc,
    tags: dict[str, str],
    opts: pulumi.ResourceOptions,
) -> aws.ec2.Subnet:
    """The ``index``-th public or private subnet, in ``zone``; public ones give instances public IPs."""
    cidrs = spec.public_subnets if role == "public" else spec.private_subnets
    return aws.ec2.Subnet(
        names.SUBNET.name(network=network, vpc=spec.name, role=role, index=str(index)),
        vpc_id=vpc.id,
        cidr_block=str(cidrs[index]),
        availability_zone=zone,
        map_public_ip_on_launch=True if role == "public" else None,
        tags={"Name": f"{spec.name}-{role}-{index}", **tags},
        opts=opts,
    )
