"""EKS clusters in fleet mode: the mesh stack holds the VPCs, the member stacks the clusters.

The mesh stack makes what the clusters of several member stacks share, as one stack does: every
VPC (subnets, NAT, peerings and their routes; ``AwsNetwork``) and the Secrets Manager copies of the
CA (``MeshSecretsManager``: the mesh stack holds the CA). It exports, per EKS member, what its
cluster is built on (``fleetAws``: the VPC and subnet IDs, the other VPCs' NAT addresses, from
which peers' istiods reach its public endpoint, and with ``ingressDns`` the certificate the mesh
stack requested for its name in the cluster's region, which its ALB edge serves).

A member stack makes its EKS cluster on them (with a provider of its region named as one stack
names it) and the rules on its own cluster security group that admit its peers
(``AwsMeshSecurity`` with ``admitting`` its cluster alone), each by its VPC's range, known from the
config: a rule referencing a peer's group would block the peer's cluster from being deleted while
it stands (AWS refuses to delete a referenced group), and members are destroyed independently.
The mesh stack's update made the VPCs before any member runs, and a member's destroy runs before
the mesh's, so the member's nodes need not wait on the NAT routes here (``ClusterNetwork.egress``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.cluster.handle import ClusterHandle
from components.config.model import ClusterSpec, MeshSpec, platform_settings
from components.mesh.ca import MeshCA
from components.platforms.aws import AWS, ca_copies, edge_certificates, names, peer_egress
from components.platforms.aws.cluster import EksCluster, EksClusterArgs, deployer_arn
from components.platforms.aws.config import NAME, AwsSettings, aws_part
from components.platforms.aws.network import ClusterNetwork
from components.platforms.aws.security import AwsMeshSecurity, AwsMeshSecurityArgs
from components.platforms.exposure import Exposure

AWS_OUTPUT = "fleetAws"


@dataclass(frozen=True)
class AwsMeshPart:
    """What the mesh stack made for its EKS clusters.

    Args:
        outputs: the mesh stack's outputs for them, by name.
        egress: each EKS cluster's egress addresses (its VPC's NAT addresses), by cluster.
    """

    outputs: dict[str, Any]
    egress: Mapping[str, pulumi.Output[list[str]]]


def build_mesh_part(mesh: MeshSpec, ca: MeshCA) -> AwsMeshPart:
    """The mesh stack's AWS resources (none without EKS clusters) and its outputs."""
    clusters = mesh.on(NAME)
    if not clusters:
        return AwsMeshPart({}, {})
    prepared = AWS.prepare(mesh)
    network = prepared.network
    secrets = ca_copies(prepared.settings, network, ca, [c.name for c in clusters])
    # One certificate per region for ingressDns's name, which every ALB edge there serves.
    certificates = edge_certificates(mesh, network)
    members = {
        c.name: {
            "vpcId": network.vpcs[aws_part(c).vpc].vpc.id,
            "privateSubnetIds": network.vpcs[aws_part(c).vpc].private_subnet_ids,
            "publicSubnetIds": network.vpcs[aws_part(c).vpc].public_subnet_ids,
            "peerEgress": peer_egress(c, clusters, network),
            **({"edgeCertificateArn": certificates[c.region]} if c.region in certificates else {}),
        }
        for c in clusters
    }
    outputs = {"vpcIds": {n: v.vpc.id for n, v in network.vpcs.items()}, "caSecretArns": secrets.arns, AWS_OUTPUT: members}
    return AwsMeshPart(outputs, prepared.egress)


@dataclass(frozen=True)
class EksMember:
    """What a member stack made of its EKS cluster.

    Args:
        handle: the cluster, for Istio.
        outputs: the member stack's outputs for it, by name.
    """

    handle: ClusterHandle
    outputs: dict[str, Any]


def build_member_cluster(mesh: MeshSpec, own: ClusterSpec, built_on: Mapping[str, Any], exposure: Exposure | None) -> EksMember:
    """``own``'s EKS cluster on what the mesh stack exported for it (``built_on``), and the rules
    that admit its peers; ``exposure``: across platforms, who reaches its API server and gateways."""
    settings = platform_settings(mesh, NAME, AwsSettings)
    provider = aws.Provider(names.MEMBER_REGION_PROVIDER.name(network=names.NETWORK.name(), region=own.region), region=own.region)
    network = ClusterNetwork(
        vpc_id=pulumi.Output.from_input(str(built_on["vpcId"])),
        provider=provider,
        private_subnet_ids=[str(s) for s in built_on["privateSubnetIds"]],
        public_subnet_ids=[str(s) for s in built_on["publicSubnetIds"]],
    )
    deployer = deployer_arn(provider) if aws_part(own).admin_principal_arns else None
    egress: Sequence[str] = [str(a) for a in built_on.get("peerEgress") or ()]
    certificate = built_on.get("edgeCertificateArn")
    args = EksClusterArgs(own, network, exposure, egress, deployer, str(certificate) if certificate else None)
    cluster = EksCluster(names.EKS.name(cluster=own.name), args)
    AwsMeshSecurity(
        names.SECURITY.name(),
        AwsMeshSecurityArgs(
            specs=mesh.on(NAME),
            vpcs=[v.value for v in settings.vpcs],
            groups={own.name: cluster.security_group_id},
            providers={own.region: provider},
            admitting=[own.name],
            ambient=mesh.ambient,
            sidecar_gateway=mesh.ambient_sidecar_gateway,
        ),
    )
    return EksMember(cluster.handle, {"eks": {own.name: cluster.outputs()}})
