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

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.config.model import ClusterSpec, MeshSpec, platform_settings
from components.config.problems import Problem
from components.fleet.parts import MemberCluster, MeshPart
from components.mesh.ca import MeshCA
from components.platforms.aws import AWS, ca_copies, edge_certificates, names, peer_egress
from components.platforms.aws.cluster import EksCluster, EksClusterArgs, deployer_arn
from components.platforms.aws.config import NAME, PRIVATE_SUBNETS, PUBLIC_SUBNETS, VPC_CIDR, VPC_REGION, ZONES, AwsSettings, aws_part
from components.platforms.aws.network import ClusterNetwork
from components.platforms.aws.security import AwsMeshSecurity, AwsMeshSecurityArgs
from components.platforms.exposure import Exposure

AWS_OUTPUT = "fleetAws"
# What a member reads of its entry in ``fleetAws`` (``edgeCertificateArn`` only with ingressDns's certificates).
MEMBER_KEYS = ("vpcId", "privateSubnetIds", "publicSubnetIds", "peerEgress")


def build_mesh_part(mesh: MeshSpec, ca: MeshCA) -> MeshPart:
    """The mesh stack's AWS resources (none without EKS clusters) and its outputs."""
    clusters = mesh.on(NAME)
    if not clusters:
        return MeshPart()
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
    return MeshPart(outputs, prepared.egress)


def build_member_cluster(mesh: MeshSpec, own: ClusterSpec, built_on: Mapping[str, Any], exposure: Exposure | None) -> MemberCluster:
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
    egress: Sequence[str] = [str(a) for a in built_on["peerEgress"]]
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
    return MemberCluster(cluster.handle, {"eks": {own.name: cluster.outputs()}})


# A VPC's fields whose change replaces the VPC or its subnets (a new range, zone or region).
REPLACING_VPC_FIELDS = (VPC_REGION.key, VPC_CIDR.key, ZONES.key, PRIVATE_SUBNETS.key, PUBLIC_SUBNETS.key)


def network_move_problems(previous: Mapping[str, Any] | None, values: Mapping[str, Any], standing: Callable[[str], bool]) -> list[Problem]:
    """The edits of the mesh stack's config (``values``, against the config its last completed
    update exported, ``previous``) that would delete a VPC or subnets an EKS member's cluster still
    uses: a cluster moved to another VPC, or a VPC whose range, zones, subnets or region change
    under a cluster. One stack replaces the cluster in the same update; here the mesh stack runs
    first, and AWS refuses to delete a VPC or subnet in use (DependencyViolation). ``standing``
    says whether a cluster's member stack holds resources (read only for a moved cluster)."""
    if not isinstance(previous, Mapping):
        return []
    before = {str(c.get("name")): c for c in previous.get("clusters") or [] if isinstance(c, Mapping)}
    old_vpcs = {str(v.get("name")): v for v in previous.get("vpcs") or [] if isinstance(v, Mapping)}
    new_vpcs = {str(v.get("name")): (index, v) for index, v in enumerate(values.get("vpcs") or []) if isinstance(v, Mapping)}
    problems: list[Problem] = []
    for index, cluster in enumerate(values.get("clusters") or []):
        name, old = str(cluster.get("name")), before.get(str(cluster.get("name")))
        if cluster.get("cloud") != NAME or old is None or old.get("cloud") != NAME:
            continue
        vpc, was = str(cluster.get("vpc")), str(old.get("vpc"))
        if vpc != was and standing(name):
            problems.append(Problem(f"clusters[{index}].vpc", "fleet-network-move", _moved(name, f"moves it from VPC {was} to {vpc}")))
            continue
        position, spec = new_vpcs.get(vpc, (None, None))
        changed = [f for f in REPLACING_VPC_FIELDS if spec is not None and vpc in old_vpcs and spec.get(f) != old_vpcs[vpc].get(f)]
        if changed and standing(name):
            at = f"vpcs[{position}].{changed[0]}"
            problems.append(Problem(at, "fleet-network-move", _moved(name, f"replaces VPC {vpc} or its subnets, where it runs")))
    return problems


def _moved(cluster: str, what: str) -> str:
    return (
        f"{what} (cluster {cluster}): in a fleet the mesh stack updates first and would delete what the cluster still "
        f"uses, which AWS refuses; take {cluster} out of clusters and run python -m fleet remove {cluster}, then make "
        f"this edit, put it back and run python -m fleet add {cluster}"
    )
