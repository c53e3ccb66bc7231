"""EKS clusters in fleet mode: the mesh stack holds the VPCs and the CA's Secrets Manager copies,
each member stack its EKS cluster and the rules that admit its peers; together they make what one
stack makes of the same config, modulo the stacks' names and one difference on purpose: a peer in
the same VPC is admitted by the VPC's range, not by its security group (AWS refuses to delete a
group another group's rule references, and members are destroyed independently)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import pytest

from components.fleet.aws import AWS_OUTPUT
from components.fleet.contract import FleetMember, member_stack
from fleet.driver import Driver, Outcome, Step
from tests.configs import existing_cluster, vpc
from tests.harness.fleet_program import ProgramFleet, qualified
from tests.harness.monitor import Registered
from tests.harness.program import StackRun, run_program, shipped_config, stack_config
from tests.test_fleet_stacks import made, without_key_material

MESH = qualified("eks-fleet")
EKS = stack_config("eks")
CLUSTERS = ("cluster-1", "cluster-2")
RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
# Where a stack's own name shows: URNs, and the Secrets Manager names and tags (unique per stack).
STACK_NAMES = (
    (re.compile(r"urn:pulumi:[^:]+::"), "urn:pulumi:<stack>::"),
    (re.compile(r"istio-multicluster/(test|eks-fleet)/"), "istio-multicluster/<stack>/"),
    (re.compile(r'"istio-multicluster/stack": "(test|eks-fleet)"'), '"istio-multicluster/stack": "<stack>"'),
    # The vault's resource group is named after the stack, and so the ids of role assignments on it.
    (re.compile(r"istio-mesh-vault-(test|eks-fleet)"), "istio-mesh-vault-<stack>"),
    (re.compile(r"istio-mesh-dns-(\w+)-(test|eks-fleet)"), r"istio-mesh-dns-\1-<stack>"),
    (re.compile(r"roleAssignments/[0-9a-f-]{36}"), "roleAssignments/<guid>"),
    # A secret's ARN ends in a suffix Secrets Manager draws for each name.
    (re.compile(r'(:secret:istio-multicluster/<stack>/[\w/-]+?)-[0-9a-f]{6}"'), r'\1-<suffix>"'),
)


def settled(config: dict[str, Any]) -> tuple[ProgramFleet, list[Any]]:
    fleet = ProgramFleet(copy.deepcopy(config), MESH)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    return fleet, results


@pytest.fixture(scope="module")
def eks_fleet() -> tuple[ProgramFleet, list[Any]]:
    return settled(EKS)


def member(fleet: ProgramFleet, cluster: str) -> StackRun:
    return fleet.runs[member_stack(MESH, cluster)]


def without_stack_names(value: Any) -> Any:
    text = json.dumps(without_key_material(value), sort_keys=True)
    for pattern, stand_in in STACK_NAMES:
        text = pattern.sub(stand_in, text)
    return json.loads(text)


VPC_RANGE = "10.0.0.0/16"


def by_range(resource: Registered) -> dict[str, Any]:
    """A rule of one stack as a fleet member makes it: a peer of its VPC admitted by the VPC's range."""
    inputs = dict(resource.inputs)
    if resource.type == RULE and "-webhook-" not in resource.name and "referencedSecurityGroupId" in inputs:
        del inputs["referencedSecurityGroupId"]
        inputs["cidrIpv4"] = VPC_RANGE
    return inputs


def two_regions() -> dict[str, Any]:
    """cluster-2 in a VPC of its own in another region, each endpoint restricted: a peering across
    regions, a provider per region, rules by the peer VPC's range and each endpoint admitting the
    other VPC's NAT addresses."""
    config = copy.deepcopy(EKS)
    config["clusters"][1].update(vpc="vpc-2", region="us-east-1")
    for cluster in config["clusters"]:
        cluster["endpointPublicAccessCidrs"] = ["198.51.100.0/24"]
    second = vpc("vpc-2", 1, region="us-east-1", zones=["us-east-1a", "us-east-1c"], nat="per-az")
    return {**config, "vpcs": [*config["vpcs"], second]}


EDGE = shipped_config("eks-edge")


def rule_content(inputs: dict[str, Any]) -> str:
    """What AWS tells rules apart by: group, protocol, ports and source (two alike are refused)."""
    keys = ("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId")
    return json.dumps(without_stack_names({k: inputs.get(k) for k in keys}), sort_keys=True)


def assert_same_as_one_stack(fleet: ProgramFleet, config: dict[str, Any]) -> None:
    """Every resource one stack makes, by type and name, with the same inputs; the security rules
    by what they admit: a peer of the same VPC by the VPC's range, one rule per VPC and ports."""
    single, together = made([run_program(copy.deepcopy(config))]), made(list(fleet.runs.values()))

    def others(found: dict[tuple[str, str], Registered]) -> dict[tuple[str, str], Registered]:
        return {key: r for key, r in found.items() if r.type != RULE}

    assert sorted(others(together)) == sorted(others(single))
    for key, resource in others(single).items():
        assert without_stack_names(together[key].inputs) == without_stack_names(resource.inputs), key
    expected = {rule_content(by_range(r)) for r in single.values() if r.type == RULE}
    assert sorted(rule_content(r.inputs) for r in together.values() if r.type == RULE) == sorted(expected)


@pytest.mark.parametrize("config", [EKS, two_regions(), EDGE], ids=["one-vpc", "two-regions", "edge-dns"])
def test_an_eks_fleet_makes_what_one_stack_makes(config: dict[str, Any]) -> None:
    fleet, _ = settled(config)
    assert_same_as_one_stack(fleet, config)


def test_the_mesh_stack_holds_the_vpc_and_the_ca_copies_and_no_cluster(eks_fleet: tuple[ProgramFleet, list[Any]]) -> None:
    fleet, _ = eks_fleet
    mesh = fleet.runs[MESH]
    types = {r.type for r in mesh.resources if r.operation != "read"}
    assert {"aws:ec2/vpc:Vpc", "aws:ec2/natGateway:NatGateway", "aws:secretsmanager/secret:Secret"} <= types
    assert not [t for t in types if t.startswith(("eks:", "kubernetes:", "aws:eks/")) or t == RULE]
    vpc = mesh.named("aws-mesh-vpc-vpc").outputs["id"]
    subnets = {r.name: r.outputs["id"] for r in mesh.of_type("aws:ec2/subnet:Subnet")}
    for cluster in CLUSTERS:
        built_on = mesh.outputs[AWS_OUTPUT][cluster]
        assert built_on["vpcId"] == vpc
        assert sorted(built_on["privateSubnetIds"]) == sorted(i for n, i in subnets.items() if "private" in n)
        assert sorted(built_on["publicSubnetIds"]) == sorted(i for n, i in subnets.items() if "public" in n)
        # Both clusters are in one VPC: no other VPC's NAT to admit.
        assert built_on["peerEgress"] == []


def test_each_member_builds_its_cluster_on_the_meshs_vpc_and_rules_on_its_own_group_alone(
    eks_fleet: tuple[ProgramFleet, list[Any]],
) -> None:
    fleet, results = eks_fleet
    vpc = fleet.runs[MESH].outputs[AWS_OUTPUT]["cluster-1"]["vpcId"]
    for cluster, peer in (("cluster-1", "cluster-2"), ("cluster-2", "cluster-1")):
        run = member(fleet, cluster)
        eks = run.named(f"{cluster}-eks")
        assert eks.inputs["vpcId"] == vpc and eks.inputs["name"] == cluster
        assert not run.of_type("aws:ec2/vpc:Vpc") and not run.of_type("aws:secretsmanager/secret:Secret")
        rules = run.of_type(RULE)
        (own,) = {r.inputs["securityGroupId"] for r in rules}
        assert own not in {r.inputs["securityGroupId"] for r in member(fleet, peer).of_type(RULE)}
        # The peer shares the VPC: its API (443) and its traffic are admitted by the VPC's range,
        # so no group of this stack is referenced by another stack's rule.
        by_peer = {
            r.name: (r.inputs.get("cidrIpv4"), r.inputs.get("referencedSecurityGroupId")) for r in rules if f"-from-{peer}" in r.name
        }
        assert by_peer == {}
        by_vpc = {r.name: (r.inputs.get("cidrIpv4"), r.inputs.get("referencedSecurityGroupId")) for r in rules if "-from-vpc-" in r.name}
        assert by_vpc == {
            f"aws-mesh-{cluster}-api-from-vpc-mesh-vpc": (VPC_RANGE, None),
            f"aws-mesh-{cluster}-from-vpc-mesh-vpc-15443": (VPC_RANGE, None),
        }
        webhooks = {r.inputs["referencedSecurityGroupId"] for r in rules if "-webhook-" in r.name}
        assert webhooks == {own}
        # Every AWS resource goes through the provider of its region, named as one stack names it.
        providers = {run.by_urn(r.provider_urn).name for r in run.resources if r.type.startswith("aws:") and r.custom}
        assert providers == {"aws-eu-west-1"}
    assert [(r.stack.rsplit("-", 1)[1], r.step) for r in results] == [
        ("fleet", Step.MESH), ("1", Step.MEMBERS), ("2", Step.MEMBERS), ("1", Step.PEERS),
    ]  # fmt: skip


def test_a_member_before_its_mesh_made_the_network_stops_before_any_resource() -> None:
    fleet = ProgramFleet(copy.deepcopy(EKS), MESH)
    mesh = fleet.run(MESH, None)
    mesh.outputs.pop(AWS_OUTPUT)
    with pytest.raises(Exception, match=r"the mesh stack's network for cluster-1 .* it exports no fleetAws for it"):
        fleet.run(member_stack(MESH, "cluster-1"), FleetMember(MESH, "cluster-1"))


def mixed() -> dict[str, Any]:
    """The EKS clusters and an existing one: nothing is peered across platforms, so every API server
    and east-west gateway faces the internet, admitting the operators and the others' egress."""
    config = {**copy.deepcopy(EKS), "operatorCidrs": ["198.51.100.0/24"]}
    config["clusters"].append(existing_cluster("kind-3", "n3", egressCidrs=["203.0.113.7/32"]))
    return config


def test_a_fleet_across_platforms_admits_each_clusters_egress_as_one_stack_does() -> None:
    config = mixed()
    fleet, _ = settled(config)
    mesh = fleet.runs[MESH]
    egress = mesh.outputs["egressAddresses"]
    nat = [o["publicIp"] for r in mesh.of_type("aws:ec2/eip:Eip") for o in [r.outputs]]
    assert egress == {"cluster-1": [f"{nat[0]}/32"], "cluster-2": [f"{nat[0]}/32"], "kind-3": ["203.0.113.7/32"]}
    assert_same_as_one_stack(fleet, config)
    # The existing cluster's east-west gateway admits the EKS clusters' NAT address alone.
    service = member(fleet, "kind-3").named("kind-3-istio-eastwest").inputs["values"]["service"]
    assert service["loadBalancerSourceRanges"] == [f"{nat[0]}/32"]


@pytest.fixture(scope="module")
def edge_fleet() -> tuple[ProgramFleet, list[Any]]:
    return settled(EDGE)


def test_the_mesh_stack_requests_each_regions_certificate_and_each_member_owns_its_record(
    edge_fleet: tuple[ProgramFleet, list[Any]],
) -> None:
    """Route 53 keeps each record of a routed name apart by its set identifier (the cluster), so
    each member owns its record; the certificate for the name in a region serves every ALB edge
    there, so the mesh stack requests it before any member runs."""
    fleet, _ = edge_fleet
    mesh = fleet.runs[MESH]
    certificates = {r.inputs["domainName"]: r for r in mesh.of_type("aws:acm/certificate:Certificate")}
    assert set(certificates) == {"mesh.example.com"} and len(mesh.of_type("aws:acm/certificate:Certificate")) == 2
    # Its records are the certificates' validation records alone.
    assert [r.name for r in mesh.of_type("aws:route53/record:Record")] == ["edge-certificates-validation"]
    for cluster, region in (("eu-1", "eu-west-1"), ("us-1", "us-east-1")):
        run = member(fleet, cluster)
        [record] = run.of_type("aws:route53/record:Record")
        assert (record.inputs["setIdentifier"], record.inputs["latencyRoutingPolicies"]) == (cluster, [{"region": region}])
        served = mesh.outputs[AWS_OUTPUT][cluster]["edgeCertificateArn"]
        assert f":{region}:" in served and served in json.dumps(run.named(f"{cluster}-istio-ingress-edge").inputs)
        assert run.outputs["ingressDnsRouting"] == {
            "zoneId": EDGE["ingressDns"]["zoneId"],
            "name": "mesh.example.com",
            "routing": "latency",
        }


def test_a_routing_switch_is_refused_by_the_mesh_stack_before_any_member_runs(edge_fleet: tuple[ProgramFleet, list[Any]]) -> None:
    fleet, _ = edge_fleet
    fleet = copy.deepcopy(fleet)
    fleet.mesh_config = {**copy.deepcopy(EDGE), "ingressDns": {**EDGE["ingressDns"], "routing": "weighted"}}
    results = Driver(fleet, MESH, parallel=1).up()
    assert [(r.stack, r.outcome) for r in results] == [(MESH, Outcome.FAILED)]
    assert "ingressDns.routing: switches the records of mesh.example.com from latency to weighted routing" in results[0].message


def test_a_member_across_platforms_stops_when_the_mesh_exported_no_egress() -> None:
    fleet = ProgramFleet(mixed(), MESH)
    fleet.run(MESH, None).outputs.pop("egressAddresses")
    with pytest.raises(Exception, match=r"the mesh stack's egress addresses .* its egressAddresses does not name every cluster"):
        fleet.run(member_stack(MESH, "kind-3"), FleetMember(MESH, "kind-3"))


def test_three_clusters_in_one_vpc_make_no_two_rules_alike() -> None:
    """Each member admits both peers of its VPC by the VPC's range: one rule per ports, not one per
    peer (AWS refuses a second identical rule, InvalidPermission.Duplicate)."""
    config = three_in_one_vpc()
    fleet, _ = settled(config)
    for cluster in ("cluster-1", "cluster-2", "cluster-3"):
        found = [rule_content(r.inputs) for r in member(fleet, cluster).of_type(RULE)]
        assert len(found) == len(set(found)) == 4, cluster  # two webhooks, the API and the east-west port
    assert_same_as_one_stack(fleet, config)


def three_in_one_vpc() -> dict[str, Any]:
    config = copy.deepcopy(EKS)
    config["clusters"].append({**copy.deepcopy(config["clusters"][1]), "name": "cluster-3", "network": "network3"})
    return config


def test_moving_a_standing_cluster_to_another_vpc_is_refused_before_anything_and_remove_then_add_does_it() -> None:
    """One stack replaces the cluster in the update that replaces its network; in a fleet the mesh
    stack runs first and would delete the VPC or subnets the member's cluster still uses."""
    fleet, _ = settled(three_in_one_vpc())
    moved = three_in_one_vpc()
    moved["clusters"][1]["vpc"] = "vpc-2"
    moved["vpcs"].append(vpc("vpc-2", 1))
    fleet.mesh_config = copy.deepcopy(moved)
    results = Driver(fleet, MESH, parallel=1).up()
    assert [(r.stack, r.outcome) for r in results] == [(MESH, Outcome.FAILED)]
    assert "clusters[1].vpc: moves it from VPC mesh-vpc to vpc-2 (cluster cluster-2): in a fleet the mesh stack" in results[0].message
    resized = three_in_one_vpc()
    resized["vpcs"][0].update(
        cidr="10.9.0.0/16",
        privateSubnets=["10.9.0.0/20", "10.9.16.0/20", "10.9.32.0/20"],
        publicSubnets=["10.9.48.0/24", "10.9.49.0/24", "10.9.50.0/24"],
    )
    fleet.mesh_config = resized
    [refused] = Driver(fleet, MESH, parallel=1).up()
    # Each cluster in it is named (the summary shows the last).
    assert "vpcs[0].cidr: replaces VPC mesh-vpc or its subnets, where it runs (cluster cluster-3)" in refused.message
    # The way through: the cluster leaves (its member is destroyed), then comes back in the new VPC.
    left = three_in_one_vpc()
    left["clusters"].pop(1)
    fleet.mesh_config = left
    assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).remove("cluster-2"))
    fleet.mesh_config = moved
    assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).add("cluster-2"))
    assert fleet.runs[MESH].outputs[AWS_OUTPUT]["cluster-2"]["vpcId"] == fleet.runs[MESH].named("aws-vpc-2-vpc").outputs["id"]


def test_a_member_whose_entry_lacks_a_key_stops_before_any_resource() -> None:
    fleet = ProgramFleet(copy.deepcopy(EKS), MESH)
    fleet.run(MESH, None).outputs[AWS_OUTPUT]["cluster-1"].pop("peerEgress")
    with pytest.raises(Exception, match=r"the mesh stack's network for cluster-1 .* its fleetAws lacks peerEgress"):
        fleet.run(member_stack(MESH, "cluster-1"), FleetMember(MESH, "cluster-1"))


@pytest.mark.parametrize("config", [EKS, EDGE], ids=["one-vpc", "edge-dns"])
def test_a_preview_and_a_second_up_of_a_settled_eks_fleet_change_nothing(config: dict[str, Any]) -> None:
    """Every stack re-reads what the others exported (ids, ranges, certificates) and must make the
    same inputs of them, or a cluster would update on every run."""
    assert_a_preview_and_a_second_up_change_nothing(settled(config)[0])


def assert_a_preview_and_a_second_up_change_nothing(fleet: ProgramFleet) -> None:
    """A settled two-member fleet: a preview and a second ``up`` change nothing in any stack, and
    the ``up`` has no pass beyond the mesh stack and the members."""
    previewed = Driver(fleet, MESH, parallel=1).preview()
    assert all(r.outcome is Outcome.SUCCEEDED for r in previewed) and len(previewed) == 3
    assert {r.stack: r.changes for r in previewed if any(r.changes.values())} == {}
    again = Driver(fleet, MESH, parallel=1).up()
    assert {r.stack: r.changes for r in again if any(r.changes.values())} == {}
    assert [r.step for r in again] == [Step.MESH, Step.MEMBERS, Step.MEMBERS]


def test_a_rule_naming_a_peers_group_would_stop_the_peers_remove() -> None:
    """Why members admit peers by range: were a member's rule to reference a peer's cluster
    security group, as one stack's rules do, EC2 would refuse to delete that group when the peer's
    member is destroyed (DependencyViolation), and the remove would stop there."""
    fleet, _ = settled(three_in_one_vpc())
    (peer_group,) = [p.id for urn, p in member(fleet, "cluster-2").remote_children.items() if urn.endswith("eksClusterSecurityGroup")]
    holder = member(fleet, "cluster-1")
    rule = holder.of_type(RULE)[0]
    by_group = Registered(
        **{**vars(rule), "urn": f"{rule.urn}-by-group", "inputs": {**rule.inputs, "referencedSecurityGroupId": peer_group}}
    )
    holder.resources.append(by_group)
    [refused] = _remove_cluster_2(fleet)
    assert (refused.stack, refused.outcome) == (member_stack(MESH, "cluster-2"), Outcome.FAILED)
    assert refused.message == (
        f"error: deleting aws:ec2/securityGroup:SecurityGroup {peer_group}: DependencyViolation: "
        f"it is in use by {by_group.urn} of stack {member_stack(MESH, 'cluster-1')}"
    )
    holder.resources.remove(by_group)
    again = _remove_cluster_2(fleet)
    assert all(r.outcome is Outcome.SUCCEEDED for r in again), [(r.stack, r.message) for r in again]


def _remove_cluster_2(fleet: ProgramFleet) -> list[Any]:
    fleet.mesh_config = three_in_one_vpc()
    fleet.mesh_config["clusters"].pop(1)
    return Driver(fleet, MESH, parallel=1).remove("cluster-2")
