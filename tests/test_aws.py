"""AWS: the eks stack end to end under mocks, variants by config override, and the dependency graph."""

from __future__ import annotations

import copy
import json
from collections import Counter
from typing import Any

import pytest
import yaml
from pulumi.runtime import MockResourceArgs

from tests.configs import problems_of, second_vpc
from tests.expected import cluster_of
from tests.harness.changes import Changes, changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import StackRun, run_program, run_stack, stack_config

CLUSTERS = ("cluster-1", "cluster-2")
SG_RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def rules(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r.name: r.inputs for r in run.of_type(SG_RULE)}


def sg(run: StackRun, cluster: str) -> str:
    """The cluster security group, as the EKS mock reported it."""
    return run.named(f"{cluster}-eks").outputs["clusterSecurityGroupId"]


def test_vpc_subnets_across_zones_with_discovery_tags(eks_run: StackRun) -> None:
    vpc = eks_run.named("aws-mesh-vpc-vpc").inputs
    assert (vpc["cidrBlock"], vpc["enableDnsHostnames"], vpc["enableDnsSupport"]) == ("10.0.0.0/16", True, True)
    cluster_tags = {"kubernetes.io/cluster/cluster-1": "shared", "kubernetes.io/cluster/cluster-2": "shared"}
    for index, (private, public, zone) in enumerate(
        zip(
            ["10.0.0.0/20", "10.0.16.0/20", "10.0.32.0/20"],
            ["10.0.48.0/24", "10.0.49.0/24", "10.0.50.0/24"],
            ["eu-west-1a", "eu-west-1b", "eu-west-1c"],
            strict=True,
        )
    ):
        private_subnet = eks_run.named(f"aws-mesh-vpc-private-subnet-{index}").inputs
        public_subnet = eks_run.named(f"aws-mesh-vpc-public-subnet-{index}").inputs
        assert (private_subnet["cidrBlock"], private_subnet["availabilityZone"]) == (private, zone)
        assert (public_subnet["cidrBlock"], public_subnet["availabilityZone"], public_subnet["mapPublicIpOnLaunch"]) == (public, zone, True)
        assert private_subnet["tags"] == {"Name": f"mesh-vpc-private-{index}", "kubernetes.io/role/internal-elb": "1", **cluster_tags}
        assert public_subnet["tags"] == {"Name": f"mesh-vpc-public-{index}", "kubernetes.io/role/elb": "1", **cluster_tags}
    assert len(eks_run.of_type("aws:ec2/natGateway:NatGateway")) == 1  # nat: single
    defaults = [r.inputs for r in eks_run.of_type("aws:ec2/route:Route") if r.name.endswith("-default")]
    assert len(defaults) == 3 and {d["destinationCidrBlock"] for d in defaults} == {"0.0.0.0/0"}
    public_routes = eks_run.named("aws-mesh-vpc-public-rt").inputs["routes"]
    assert public_routes == [{"cidrBlock": "0.0.0.0/0", "gatewayId": eks_run.named("aws-mesh-vpc-igw").id}]


def test_security_rules_admit_only_what_the_mesh_needs(eks_run: StackRun) -> None:
    found = rules(eks_run)
    sg1, sg2 = sg(eks_run, "cluster-1"), sg(eks_run, "cluster-2")
    assert sg1 != sg2
    summary = {
        n: (
            r["securityGroupId"],
            r["ipProtocol"],
            r.get("fromPort"),
            r.get("toPort"),
            r.get("referencedSecurityGroupId"),
            r.get("cidrIpv4"),
        )
        for n, r in found.items()
    }
    assert summary == {
        "aws-mesh-cluster-1-webhook-15012": (sg1, "tcp", 15012, 15012, sg1, None),
        "aws-mesh-cluster-1-webhook-15017": (sg1, "tcp", 15017, 15017, sg1, None),
        "aws-mesh-cluster-2-webhook-15012": (sg2, "tcp", 15012, 15012, sg2, None),
        "aws-mesh-cluster-2-webhook-15017": (sg2, "tcp", 15017, 15017, sg2, None),
        "aws-mesh-cluster-1-from-cluster-2": (sg1, "tcp", 15443, 15443, sg2, None),
        "aws-mesh-cluster-2-from-cluster-1": (sg2, "tcp", 15443, 15443, sg1, None),
        "aws-mesh-cluster-1-api-from-cluster-2": (sg1, "tcp", 443, 443, sg2, None),
        "aws-mesh-cluster-2-api-from-cluster-1": (sg2, "tcp", 443, 443, sg1, None),
    }
    assert all(r.get("cidrIpv4") != "0.0.0.0/0" for r in found.values())


def test_eks_cluster_and_node_groups(eks_run: StackRun) -> None:
    cluster = eks_run.named("cluster-1-eks").inputs
    assert (cluster["name"], cluster["authenticationMode"], cluster["createOidcProvider"], cluster["skipDefaultNodeGroup"]) == (
        "cluster-1",
        "API",
        True,
        True,
    )
    assert (cluster["endpointPublicAccess"], cluster["kubernetesServiceIpAddressRange"]) == (True, "172.20.0.0/16")
    assert cluster["vpcId"] == eks_run.named("aws-mesh-vpc-vpc").id
    assert cluster["privateSubnetIds"] == [eks_run.named(f"aws-mesh-vpc-private-subnet-{i}").id for i in range(3)]
    group = eks_run.named("cluster-1-default").inputs
    assert (group["nodeGroupNamePrefix"], group["instanceTypes"], group["scalingConfig"]) == (
        "cluster-1-default-",
        ["m5.large"],
        {"desiredSize": 2, "minSize": 1, "maxSize": 5},
    )
    assert group["subnetIds"] == cluster["privateSubnetIds"]
    attachments = sorted(
        r.inputs["policyArn"].rsplit("/", 1)[1]
        for r in eks_run.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
        if r.name.startswith("cluster-1-node-")
    )
    assert attachments == sorted(["AmazonEC2ContainerRegistryReadOnly", "AmazonEKS_CNI_Policy", "AmazonEKSWorkerNodePolicy"])
    assert not [r for r in eks_run.resources if r.type == "aws:iam/policyAttachment:PolicyAttachment"]


def test_load_balancer_controller_role_trusts_only_its_service_account(eks_run: StackRun) -> None:
    trust = json.loads(eks_run.named("cluster-2-lbc-role").inputs["assumeRolePolicy"])
    statement = trust["Statement"][0]
    oidc_arn = eks_run.outputs["eks"]["cluster-2"]["oidcProviderArn"]
    issuer = oidc_arn.split("oidc-provider/", 1)[1]
    assert statement["Principal"] == {"Federated": oidc_arn}
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    assert statement["Condition"] == {
        "StringEquals": {
            f"{issuer}:sub": "system:serviceaccount:kube-system:aws-load-balancer-controller",
            f"{issuer}:aud": "sts.amazonaws.com",
        }
    }
    release = eks_run.named("cluster-2-aws-load-balancer-controller").inputs
    assert (
        release["values"]["serviceAccount"]["annotations"]["eks.amazonaws.com/role-arn"]
        == eks_run.named("cluster-2-lbc-role").outputs["arn"]
    )
    assert release["values"]["clusterName"] == "cluster-2"


def test_gateways_are_nlbs_and_wait_for_the_controller(eks_run: StackRun) -> None:
    nlb = {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    }
    eastwest = eks_run.named("cluster-1-istio-eastwest")
    assert eastwest.inputs["values"]["service"]["annotations"] == {**nlb, "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}
    ingress = eks_run.named("cluster-1-istio-ingress").inputs["values"]["service"]["annotations"]
    # Every target group of the ingress NLB checks the gateway's readiness: Route 53 counts an NLB
    # healthy only if every target group with targets has a healthy one, and 443 has no listener
    # until some Gateway serves it.
    assert ingress == {
        **nlb,
        "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "http",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": "15021",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": "/healthz/ready",
    }
    assert eks_run.named("cluster-1-aws-load-balancer-controller").urn in eastwest.dependencies
    assert eks_run.outputs["eastWestGateways"]["cluster-1"].endswith(".elb.eu-west-1.amazonaws.com")  # a hostname: istiod resolves it


def test_provider_runs_aws_eks_get_token_on_the_health_checked_endpoint_and_is_keyed_on_the_arn(eks_run: StackRun) -> None:
    provider = eks_run.named("cluster-1-provider")
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    # No token in state (it would expire in 15 minutes), and no project virtualenv needed at destroy.
    assert kubeconfig["users"][0]["user"] == {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "aws",
            "args": ["eks", "get-token", "--cluster-name", "cluster-1", "--region", "eu-west-1", "--output", "json"],
            "interactiveMode": "Never",
        }
    }
    assert kubeconfig["clusters"][0]["cluster"]["server"] == eks_run.outputs["eks"]["cluster-1"]["endpoint"]
    # People get the same kubeconfig.
    assert eks_run.outputs["eks"]["cluster-1"]["kubeconfig"] == provider.inputs["kubeconfig"]
    # The EKS cluster is named after the mesh cluster: the subnets' discovery tags name it so too.
    assert provider.inputs["clusterIdentifier"] == "arn:aws:eks:eu-west-1:123456789012:cluster/cluster-1"
    assert "kubeconfig" in provider.secret_inputs and "eks" in eks_run.secret_outputs


class SlowApiMocks(MeshMocks):
    """pulumi-eks whose ``kubeconfig`` output names a server the raw endpoint does not: the one the
    program must use is the output that resolves once the API answers."""

    def new_resource(self, args: MockResourceArgs) -> tuple[str, dict[str, Any]]:
        id_, outputs = super().new_resource(args)
        if args.typ == "eks:index:Cluster":
            outputs = copy.deepcopy(outputs)
            outputs["kubeconfig"]["clusters"][0]["cluster"]["server"] = HEALTH_CHECKED
        return id_, outputs


HEALTH_CHECKED = "https://health-checked.example"


def test_the_provider_waits_for_the_api_to_answer() -> None:
    run = run_stack("eks", mocks=SlowApiMocks())
    kubeconfig = yaml.safe_load(run.named("cluster-1-provider").inputs["kubeconfig"])
    assert kubeconfig["clusters"][0]["cluster"]["server"] == HEALTH_CHECKED


def test_every_kubernetes_object_uses_its_own_clusters_provider(eks_run: StackRun) -> None:
    for resource in (r for r in eks_run.resources if r.type.startswith("kubernetes:")):
        owner = cluster_of(resource.name, CLUSTERS)
        assert resource.provider_urn == eks_run.named(f"{owner}-provider").urn, resource.name


@pytest.mark.parametrize("days", [0, 7, 30])
def test_every_ca_copy_takes_the_recovery_window_configured(days: int) -> None:
    secrets = run_stack("eks", {"secretsRecoveryWindowDays": days}).of_type("aws:secretsmanager/secret:Secret")
    assert len(secrets) == 7
    assert [s.inputs["recoveryWindowInDays"] for s in secrets] == [days] * 7


def test_secrets_manager_holds_the_ca_copies_but_never_the_root_key(eks_run: StackRun) -> None:
    secrets = {r.inputs["name"]: r.inputs for r in eks_run.of_type("aws:secretsmanager/secret:Secret")}
    expected = ["istio-multicluster/eks/root-cert"] + [
        f"istio-multicluster/eks/{c}/{k}" for c in CLUSTERS for k in ("ca-cert", "ca-key", "cert-chain")
    ]
    assert sorted(secrets) == sorted(expected)
    assert {s["recoveryWindowInDays"] for s in secrets.values()} == {0}
    assert secrets["istio-multicluster/eks/root-cert"]["tags"] == {
        "istio-multicluster/stack": "eks",
        "istio-multicluster/item": "root-cert",
    }
    versions = eks_run.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    assert all("secretString" in v.secret_inputs for v in versions)
    root_key = eks_run.named("mesh-ca-root-key").outputs["privateKeyPem"]
    assert all(v.inputs["secretString"] != root_key for v in versions)
    assert sorted(eks_run.outputs["caSecretArns"]) == sorted(k.removeprefix("istio-multicluster/eks/") for k in expected)


def test_clusters_do_not_wait_for_each_other_and_the_ca_waits_for_nothing_aws(eks_run: StackRun) -> None:
    for cluster, other in (("cluster-1", "cluster-2"), ("cluster-2", "cluster-1")):
        deps = {eks_run.by_urn(u).name for u in eks_run.named(f"{cluster}-eks").dependencies}
        assert not {d for d in deps if other in d}
    for resource in eks_run.resources:
        if resource.name.startswith("mesh-ca"):
            assert not [u for u in resource.dependencies if eks_run.by_urn(u).type.startswith(("aws:", "eks:"))]


def clusters_with(**changes: Any) -> list[dict[str, Any]]:
    clusters = copy.deepcopy(stack_config("eks")["clusters"])
    for cluster in clusters:
        cluster.update(changes)
    return clusters


def test_per_cluster_vpcs_are_peered_with_routes() -> None:
    clusters = clusters_with()
    clusters[1]["vpc"] = "vpc-2"
    run = run_stack("eks", {"clusters": clusters, "vpcs": [*stack_config("eks")["vpcs"], second_vpc()]})
    peering = run.named("aws-peering-mesh-vpc-vpc-2").inputs
    assert (peering["autoAccept"], peering["peerVpcId"]) == (True, run.named("aws-vpc-2-vpc").id)
    routes = [r.inputs for r in run.of_type("aws:ec2/route:Route") if "vpcPeeringConnectionId" in r.inputs]
    assert sorted(r["destinationCidrBlock"] for r in routes) == ["10.0.0.0/16"] * 2 + ["10.1.0.0/16"] * 3
    across = rules(run)["aws-mesh-cluster-1-from-vpc-vpc-2-15443"]
    assert (across["cidrIpv4"], across.get("referencedSecurityGroupId"), across["fromPort"]) == ("10.1.0.0/16", None, 15443)
    # The private endpoint's DNS answers only inside its VPC: across VPCs nothing comes privately on 443.
    assert not [n for n in rules(run) if "-api-from-" in n]


def test_a_restricted_endpoint_admits_the_other_vpcs_nat_where_their_istiods_come_from() -> None:
    clusters = clusters_with(endpointPublicAccessCidrs=["203.0.113.0/24"])
    clusters[1]["vpc"] = "vpc-2"
    run = run_stack("eks", {"clusters": clusters, "vpcs": [*stack_config("eks")["vpcs"], second_vpc()]})
    nat = {vpc: f"{run.named(f'aws-{vpc}-nat-eip-0').outputs['publicIp']}/32" for vpc in ("mesh-vpc", "vpc-2")}
    assert run.named("cluster-1-eks").inputs["publicAccessCidrs"] == [nat["vpc-2"], "203.0.113.0/24"]  # address order
    assert run.named("cluster-2-eks").inputs["publicAccessCidrs"] == [nat["mesh-vpc"], "203.0.113.0/24"]
    # In one VPC the peers use the private endpoint: nothing is added.
    same = run_stack("eks", {"clusters": clusters_with(endpointPublicAccessCidrs=["203.0.113.0/24"])})
    assert same.named("cluster-1-eks").inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_clusters_in_two_regions_get_two_providers_and_an_accepted_peering() -> None:
    clusters = clusters_with()
    clusters[1].update(vpc="vpc-2", region="us-east-1")
    run = run_stack("eks", {"clusters": clusters, "vpcs": [*stack_config("eks")["vpcs"], second_vpc("us-east-1")]})
    providers = {r.name: r.inputs["region"] for r in run.of_type("pulumi:providers:aws")}
    assert providers == {"aws-eu-west-1": "eu-west-1", "aws-us-east-1": "us-east-1"}
    assert run.named("aws-vpc-2-vpc").provider_urn == run.named("aws-us-east-1").urn
    assert run.named("aws-peering-mesh-vpc-vpc-2").inputs["peerRegion"] == "us-east-1"
    assert run.named("aws-peering-mesh-vpc-vpc-2-accepter").provider_urn == run.named("aws-us-east-1").urn


def test_flat_network_in_a_shared_vpc_admits_pod_traffic_and_has_no_east_west_gateway() -> None:
    clusters = clusters_with(network="network1")
    clusters[1]["serviceCidr"] = "172.21.0.0/16"  # one flat network: service ranges of their own
    run = run_stack("eks", {"clusters": clusters})
    rule = rules(run)["aws-mesh-cluster-1-from-cluster-2"]
    assert (rule["ipProtocol"], rule.get("fromPort"), rule.get("toPort")) == ("-1", None, None)
    assert not [r for r in run.resources if r.name.endswith("-istio-eastwest")]


def test_three_clusters() -> None:
    clusters = clusters_with()
    clusters.append({**copy.deepcopy(clusters[0]), "name": "cluster-3", "network": "network3"})
    run = run_stack("eks", {"clusters": clusters})
    assert len(run.of_type("eks:index:Cluster")) == 3
    assert len([n for n in rules(run) if "-from-" in n and "-api-" not in n]) == 6
    assert len([n for n in rules(run) if "-api-from-" in n]) == 6
    assert sum(1 for r in run.of_type("kubernetes:core/v1:Secret") if "-in-" in r.name) == 6


def test_outputs_name_the_vpc_and_each_clusters_endpoint_oidc_provider_and_kubeconfig(eks_run: StackRun) -> None:
    assert eks_run.outputs["vpcIds"] == {"mesh-vpc": eks_run.named("aws-mesh-vpc-vpc").id}
    for cluster in CLUSTERS:
        out = eks_run.outputs["eks"][cluster]
        assert sorted(out) == ["endpoint", "kubeconfig", "oidcProviderArn"]
        assert out["oidcProviderArn"] == eks_run.named(f"{cluster}-eks").outputs["oidcProviderArn"]
        operator = yaml.safe_load(out["kubeconfig"])
        assert operator["users"][0]["user"]["exec"]["command"] == "aws"
        assert operator["users"][0]["user"]["exec"]["args"] == [
            "eks", "get-token", "--cluster-name", cluster, "--region", "eu-west-1", "--output", "json",
        ]  # fmt: skip
        assert operator["clusters"] == yaml.safe_load(eks_run.named(f"{cluster}-provider").inputs["kubeconfig"])["clusters"]


def test_the_ca_copies_stay_in_secrets_region_whatever_the_clusters() -> None:
    """A region taken from the clusters would move with them, replacing every copy while the old
    names stay taken for the recovery window; secretsRegion is the copies' own."""
    secret, version = "aws:secretsmanager/secret:Secret", "aws:secretsmanager/secretVersion:SecretVersion"
    clusters = clusters_with()
    clusters[1].update(vpc="vpc-2", region="us-east-1")
    two_regions = {"clusters": clusters, "vpcs": [*stack_config("eks")["vpcs"], second_vpc("us-east-1")]}
    before = run_stack("eks", two_regions)
    assert {before.by_urn(s.provider_urn).inputs["region"] for s in before.of_type(secret)} == {"eu-west-1"}
    reordered = run_stack("eks", {**two_regions, "clusters": list(reversed(clusters))}, state=before.state())
    assert {r.operation for r in [*reordered.of_type(secret), *reordered.of_type(version)]} == {"same"}
    elsewhere = run_stack("eks", {"secretsRegion": "eu-central-1"})
    provider = elsewhere.by_urn(next(s for s in elsewhere.of_type(secret) if s.name == "mesh-secrets-root-cert").provider_urn)
    assert (provider.name, provider.inputs["region"]) == ("aws-eu-central-1", "eu-central-1")
    assert problems_of({k: v for k, v in stack_config("eks").items() if k != "secretsRegion"}) == [
        "secretsRegion: is required with EKS clusters: the Secrets Manager copies of the mesh CA cannot move once created; set "
        "it to a region of your choice, e.g. secretsRegion: eu-west-1"
    ]


@pytest.mark.parametrize(("chosen", "sent"), [(None, "STANDARD"), ("standard", "STANDARD"), ("extended", "EXTENDED")])
def test_the_upgrade_policy_is_standard_support_unless_extended_is_chosen(chosen: str | None, sent: str) -> None:
    """pulumi-eks leaves EKS's default, extended support, which costs six times the control plane's
    price once the version leaves standard support."""
    config = stack_config("eks")
    if chosen:
        config["clusters"][0]["supportType"] = chosen
    run = run_stack("eks", {"clusters": config["clusters"]})
    assert run.named("cluster-1-eks").inputs["upgradePolicy"] == {"supportType": sent}
    assert run.named("cluster-2-eks").inputs["upgradePolicy"] == {"supportType": "STANDARD"}


def in_china() -> dict[str, Any]:
    config = stack_config("eks")
    for vpc_entry in config["vpcs"]:
        vpc_entry.update(region="cn-north-1", zones=["cn-north-1a", "cn-north-1b", "cn-north-1c"])
    for entry in config["clusters"]:
        entry["region"] = "cn-north-1"
    return {"clusters": config["clusters"], "vpcs": config["vpcs"], "secretsRegion": "cn-north-1"}


def test_in_china_names_end_in_the_partitions_suffix() -> None:
    """NLB host names and service principals end in amazonaws.com.cn there."""
    run = run_stack("eks", {**in_china(), "topology": "primary-remote"})
    trust = json.loads(run.named("cluster-1-node-role").inputs["assumeRolePolicy"])
    assert trust["Statement"][0]["Principal"] == {"Service": "ec2.amazonaws.com.cn"}
    istiod = next(r for r in run.resources if r.name.startswith("cluster-1-istio-istiod-"))
    assert istiod.inputs["values"]["env"] == {"ISTIOD_CUSTOM_HOST": "*.elb.cn-north-1.amazonaws.com.cn"}


def alike_rules(run: StackRun) -> list[tuple[object, ...]]:
    """Rules AWS cannot tell apart (group, protocol, ports and source): it refuses the second with
    InvalidPermission.Duplicate."""
    keys = ("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "referencedSecurityGroupId")
    counted = Counter(tuple(r.get(k) for k in keys) for r in rules(run).values())
    return [key for key, count in counted.items() if count > 1]


def two_peers_in_another_vpc() -> dict[str, Any]:
    """cluster-2 and cluster-3 in vpc-2, each on a network of its own: cluster-1 admits both by
    vpc-2's range on the east-west port, which is one rule."""
    clusters = clusters_with()
    clusters[1]["vpc"] = "vpc-2"
    third = {**copy.deepcopy(clusters[1]), "name": "cluster-3", "network": "network3"}
    return {"clusters": [*clusters, third], "vpcs": [*stack_config("eks")["vpcs"], second_vpc()]}


def test_peers_of_one_vpc_share_one_rule_by_its_range() -> None:
    run = run_stack("eks", two_peers_in_another_vpc())
    assert alike_rules(run) == []
    from_vpc_2 = {n: (r["cidrIpv4"], r["fromPort"]) for n, r in rules(run).items() if n.startswith("aws-mesh-cluster-1-from-")}
    assert from_vpc_2 == {"aws-mesh-cluster-1-from-vpc-vpc-2-15443": ("10.1.0.0/16", 15443)}


def test_a_rule_named_by_its_peer_before_keeps_its_state_under_its_vpcs_name() -> None:
    """Stacks made before rules by range were one per VPC hold them under the peer's name: the new
    name aliases it, so no second identical rule is created before the old one is deleted."""
    config = {**stack_config("eks"), **two_peers_in_another_vpc()}
    config["clusters"] = config["clusters"][:2]
    before = run_program(config, stack="eks")
    state = before.state()
    renamed = before.named("aws-mesh-cluster-1-from-vpc-vpc-2-15443").urn
    old = renamed.replace("aws-mesh-cluster-1-from-vpc-vpc-2-15443", "aws-mesh-cluster-1-from-cluster-2")
    state[old] = state.pop(renamed)
    after = run_program(config, stack="eks", state=state, previous_outputs=before.outputs)
    assert {r.name: r.operation for r in after.of_type(SG_RULE)}["aws-mesh-cluster-1-from-vpc-vpc-2-15443"] == "same"
    assert changes(before, after) == Changes()
