"""EKS as a real ``pulumi up`` and ``pulumi destroy`` see it: order both ways, credentials that
outlive 15 minutes, the controller's least privilege, admins, open endpoints, zones by name."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from components.config.problems import ConfigError
from components.platforms.aws import lbc
from components.platforms.aws.cluster import admin_key
from tests.configs import codes_of, parse, second_vpc
from tests.harness import engine
from tests.harness.accounts import DEPLOYER_ROLE
from tests.harness.changes import Changes, changes
from tests.harness.mocks import addon_version
from tests.harness.program import StackRun, run_stack, stack_config
from tests.harness.teardown import internet_route, load_balancers_left_at_destroy, routes_cut_before_release
from tests.harness.webhooks import services_before_the_load_balancer_controller_serves

CLUSTER = "cluster-1"


def eks_config(**cluster_changes: Any) -> dict[str, Any]:
    config = stack_config("eks")
    for cluster in config["clusters"]:
        cluster.update(copy.deepcopy(cluster_changes))
    return config


def two_vpcs() -> dict[str, Any]:
    config = stack_config("eks")
    config["clusters"][1]["vpc"] = "vpc-2"
    config["vpcs"] = [*config["vpcs"], second_vpc()]
    return config


@pytest.fixture(scope="module", params=["one-vpc", "two-vpcs"])
def eks(request: pytest.FixtureRequest) -> tuple[StackRun, str]:
    if request.param == "one-vpc":
        return run_stack("eks"), "mesh-vpc"
    return run_stack("eks", {"clusters": two_vpcs()["clusters"], "vpcs": two_vpcs()["vpcs"]}), "vpc-2"


def test_nodes_wait_for_the_nat_routes_and_the_controller_for_the_nodes(eks: tuple[StackRun, str]) -> None:
    run, vpc = eks
    cluster = "cluster-2"
    group = f"{cluster}-default"
    egress = [r.name for r in run.resources if r.name.startswith(f"aws-{vpc}-private-") and ("-default" in r.name or "-assoc-" in r.name)]
    assert len(egress) == (6 if vpc == "mesh-vpc" else 4)
    assert all(run.needs(group, e) for e in egress)
    assert run.needs(group, f"aws-{vpc}-nat-0") and run.needs(group, f"{cluster}-node-AmazonEKSWorkerNodePolicy")
    assert run.needs(f"{cluster}-aws-load-balancer-controller", group)
    assert run.needs(f"{cluster}-metrics-server", group)
    assert run.needs(f"{cluster}-istio-istiod-1-30-3", group)


def test_destroy_removes_the_nlbs_while_controller_nodes_and_nat_still_run(eks: tuple[StackRun, str]) -> None:
    run, vpc = eks
    cluster = "cluster-2"
    for gateway in (f"{cluster}-istio-eastwest", f"{cluster}-istio-ingress"):
        for keeper in (
            f"{cluster}-aws-load-balancer-controller",
            f"{cluster}-default",
            f"{cluster}-lbc",
            f"aws-{vpc}-nat-0",
            f"aws-{vpc}-igw",
            f"aws-{vpc}-private-rt-0-default",
            f"aws-{vpc}-private-subnet-0",
            f"aws-{vpc}-vpc",
            f"aws-{vpc}-public-rt",
            *(f"aws-{vpc}-public-assoc-{i}" for i in range(3 if vpc == "mesh-vpc" else 2)),
        ):
            assert run.needs(gateway, keeper), f"{gateway} may be deleted after {keeper}"
    assert load_balancers_left_at_destroy(run) == []
    assert routes_cut_before_release(run) == []


def test_the_nat_outlives_every_load_balancer_and_its_route_outlives_the_nat(eks: tuple[StackRun, str]) -> None:
    """The controller calls AWS through the NAT while it releases the NLBs; the NAT needs the
    public route. Destroy deletes dependents first, so the NAT waits for the route at creation."""
    run, vpc = eks
    route = [r.name for r in internet_route(run, run.named(f"aws-{vpc}-vpc").id)]
    assert sorted(route) == sorted(
        [f"aws-{vpc}-igw", f"aws-{vpc}-public-rt", *(f"aws-{vpc}-public-assoc-{i}" for i in range(3 if vpc == "mesh-vpc" else 2))]
    )
    assert all(run.needs(f"aws-{vpc}-nat-0", part) for part in route)


@pytest.fixture(scope="module")
def eks_ambient() -> StackRun:
    return run_stack("eks", {"dataplane": "ambient"})


def test_in_ambient_the_gateways_namespace_also_goes_before_the_route(eks_ambient: StackRun) -> None:
    assert routes_cut_before_release(eks_ambient) == []
    assert load_balancers_left_at_destroy(eks_ambient) == []


def test_the_service_mutator_is_off_so_no_service_waits_on_a_webhook(eks_run: StackRun) -> None:
    values = eks_run.named("cluster-1-aws-load-balancer-controller").inputs["values"]
    assert values["enableServiceMutatorWebhook"] is False
    assert services_before_the_load_balancer_controller_serves(eks_run) == []


def test_the_webhook_model_would_refuse_services_with_the_mutator_on(eks_run: StackRun) -> None:
    on = copy.deepcopy(eks_run)
    controller = on.named("cluster-1-aws-load-balancer-controller")
    controller.inputs["values"]["enableServiceMutatorWebhook"] = True
    refused = services_before_the_load_balancer_controller_serves(on)
    assert {r.split(":")[0] for r in refused} == {
        "cluster-1-metrics-server",
        "cluster-1-istio-base",
        "cluster-1-istio-istiod-1-30-3",
        "mesh-check-cluster-1-helloworld",
        "mesh-check-cluster-1-helloworld-only-cluster-1",
        "mesh-check-cluster-1-helloworld-only-cluster-2",
    }


def test_a_second_up_changes_nothing() -> None:
    first = run_stack("eks")
    second = run_stack("eks", state=first.state())
    assert {r.operation for r in second.resources if r.operation != "read"} == {"same"}


def statements_with(policy: dict[str, Any], action: str) -> list[dict[str, Any]]:
    return [s for s in policy["Statement"] if action in s["Action"]]


@pytest.mark.parametrize(
    "action",
    [
        "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:DeleteTargetGroup",
        "elasticloadbalancing:ModifyLoadBalancerAttributes",
        "elasticloadbalancing:ModifyTargetGroup",
        "elasticloadbalancing:SetSecurityGroups",
        "elasticloadbalancing:SetSubnets",
        "ec2:DeleteSecurityGroup",
    ],
)
def test_the_controller_may_delete_and_modify_only_what_carries_its_cluster_tag(action: str) -> None:
    statements = statements_with(lbc.policy_document("eu-west-1"), action)
    assert statements
    for statement in statements:
        assert statement["Condition"]["Null"]["aws:ResourceTag/elbv2.k8s.aws/cluster"] == "false"


def test_the_controller_may_create_load_balancers_and_security_group_tags_only_with_its_tag() -> None:
    policy = lbc.policy_document("eu-west-1")
    (create,) = statements_with(policy, "elasticloadbalancing:CreateLoadBalancer")
    assert create["Condition"] == {"Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}}
    tagging = statements_with(policy, "ec2:CreateTags")
    assert [s["Condition"] for s in tagging] == [
        {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, "Null": {"aws:RequestTag/elbv2.k8s.aws/cluster": "false"}},
        {"Null": {"aws:ResourceTag/elbv2.k8s.aws/cluster": "false", "aws:RequestTag/elbv2.k8s.aws/cluster": "true"}},
    ]
    assert len(policy["Statement"]) == 16  # v2.13.0's published policy, statement for statement
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"ec2:DescribeRouteTables", "elasticloadbalancing:ModifyIpPools", "elasticloadbalancing:DescribeCapacityReservation"} <= actions


def test_the_policy_names_arns_in_the_regions_partition(eks_run: StackRun) -> None:
    vpc = eks_run.named("aws-mesh-vpc-vpc").id
    assert json.loads(eks_run.named("cluster-1-lbc-policy").inputs["policy"]) == lbc.policy_document("eu-west-1", vpc)
    china = json.dumps(lbc.policy_document("cn-north-1"))
    assert "arn:aws-cn:elasticloadbalancing:" in china and "arn:aws:" not in china


def test_admins_get_access_entries_and_pulumi_eks_makes_no_unused_security_groups() -> None:
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    run = run_stack("eks", {"clusters": eks_config(adminPrincipalArns=[admin])["clusters"]})
    cluster = run.named("cluster-1-eks").inputs
    assert cluster["skipDefaultSecurityGroups"] is True
    assert cluster["accessEntries"] == {
        admin_key(admin): {
            "principalArn": admin,
            "accessPolicies": {
                "admin": {
                    "policyArn": "arn:aws:eks::aws:cluster-access-policy/AmazonEKSClusterAdminPolicy",
                    "accessScope": {"type": "cluster"},
                }
            },
        }
    }
    assert codes_of(eks_config(adminPrincipalArns=["platform-admins"])) == [
        (
            "pattern",
            f"clusters[{i}].adminPrincipalArns (cluster cluster-{i + 1}): 'platform-admins' is not valid; use an IAM role or user ARN "
            "such as arn:aws:iam::123456789012:role/platform-admins",
        )
        for i in (0, 1)
    ]


def test_an_api_open_to_the_world_is_a_warning_and_listed_ranges_reach_the_cluster() -> None:
    warnings = tuple(w for w in parse(stack_config("eks")).warnings if "endpointPublicAccessCidrs" in w)
    assert warnings == tuple(
        f"clusters[{i}].endpointPublicAccessCidrs (cluster cluster-{i + 1}): the EKS API endpoint accepts connections from anywhere; "
        "list the operators' ranges here (the program adds the other VPCs' NAT addresses)"
        for i in (0, 1)
    )
    config = eks_config(endpointPublicAccessCidrs=["203.0.113.0/24"])
    assert not [w for w in parse(config).warnings if "endpointPublicAccessCidrs" in w]
    run = run_stack("eks", {"clusters": config["clusters"]})
    assert run.named("cluster-1-eks").inputs["publicAccessCidrs"] == ["203.0.113.0/24"]


def test_internal_gateways_take_no_source_ranges(eks_run: StackRun) -> None:
    assert "loadBalancerSourceRanges" not in eks_run.named("cluster-1-istio-eastwest").inputs["values"]["service"]


def test_subnets_take_their_zones_by_name_checked_against_the_live_list(eks_run: StackRun) -> None:
    zones = [eks_run.named(f"aws-mesh-vpc-private-subnet-{i}").inputs["availabilityZone"] for i in range(3)]
    assert zones == ["eu-west-1a", "eu-west-1b", "eu-west-1c"]
    vpcs = stack_config("eks")["vpcs"]
    vpcs[0]["zones"] = ["eu-west-1a", "eu-west-1b", "eu-west-1d"]
    with pytest.raises(ConfigError, match=r"vpcs\[0\]\.zones \(vpc mesh-vpc\): eu-west-1d is not an available zone of eu-west-1"):
        run_stack("eks", {"vpcs": vpcs}, preview=True)


def test_the_deployer_among_the_admins_is_left_to_pulumi_eks_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    """pulumi-eks makes the creator cluster admin itself, and EKS refuses a second access entry for
    one principal (409): the deploying role, found behind its assumed-role session, is dropped."""
    admin = "arn:aws:iam::123456789012:role/platform-admins"
    run = run_stack("eks", {"clusters": eks_config(adminPrincipalArns=[DEPLOYER_ROLE, admin])["clusters"]})
    for cluster in ("cluster-1", "cluster-2"):
        entries = run.named(f"{cluster}-eks").inputs["accessEntries"]
        assert [entry["principalArn"] for entry in entries.values()] == [admin]
    warned = [r.getMessage() for r in caplog.records if r.levelname == "WARNING" and "adminPrincipalArns lists" in r.getMessage()]
    assert [w.split(":")[0] for w in warned] == ["cluster cluster-1", "cluster cluster-2"]
    assert all(f"lists {DEPLOYER_ROLE}, the identity running Pulumi, which pulumi-eks already makes" in w for w in warned)


def test_nats_beyond_the_default_elastic_ip_quota_are_a_warning() -> None:
    """Two 3-zone VPCs with a NAT per zone need 6 Elastic IPs in eu-west-1; EC2 grants 5 by default."""
    config = stack_config("eks")
    second = copy.deepcopy(config["vpcs"][0])
    second.update(
        name="vpc-2",
        cidr="10.1.0.0/16",
        privateSubnets=["10.1.0.0/20", "10.1.16.0/20", "10.1.32.0/20"],
        publicSubnets=["10.1.48.0/24", "10.1.49.0/24", "10.1.50.0/24"],
    )
    config["clusters"][1]["vpc"] = "vpc-2"
    config["vpcs"] = [{**config["vpcs"][0], "nat": "per-az"}, second]
    # 3 NATs in one VPC and 1 in the other: within the quota.
    assert [w for w in parse(config).warnings if "Elastic IPs" in w] == []
    config["vpcs"][1]["nat"] = "per-az"
    assert [w for w in parse(config).warnings if "Elastic IPs" in w] == [
        "vpcs[0].nat (vpc mesh-vpc): the NAT gateways of the VPCs in eu-west-1 need 6 Elastic IPs, more than EC2's default "
        "quota of 5 per region; unless the account's quota is higher, ask for more (Service Quotas, EC2-VPC Elastic IPs, "
        "L-0263D0A3) before pulumi up, or use nat: single"
    ]


@pytest.mark.parametrize(("group", "refused"), [("g" * 15, False), ("g" * 16, True)])
def test_a_node_group_prefix_leaves_room_for_the_unique_suffix(group: str, refused: bool) -> None:
    """``<cluster>-<group>-`` and 26 unique characters fit EKS's 63: the prefix is at most 37."""
    config = eks_config()
    config["clusters"][0]["name"] = "c" * 20
    config["clusters"][0]["nodeGroups"] = [{**config["clusters"][0]["nodeGroups"][0], "name": group}]
    codes = [code for code, _ in codes_of(config)] if refused else []
    if refused:
        assert codes == ["name-length"]
    else:
        assert not [w for w in parse(config).warnings if "node group" in w]


def test_reordering_vpcs_touches_no_peering() -> None:
    """Peerings are named and oriented by the VPCs' names: a reordered list is the same network.
    Named by position, the reorder made a second peering of the same two VPCs, which AWS refuses."""
    config = two_vpcs()
    before = run_stack("eks", {"clusters": config["clusters"], "vpcs": config["vpcs"]})
    after = run_stack("eks", {"clusters": config["clusters"], "vpcs": list(reversed(config["vpcs"]))}, state=before.state())
    assert changes(before, after) == Changes()
    (peering,) = after.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert (peering.inputs["vpcId"], peering.inputs["peerVpcId"]) == (after.named("aws-mesh-vpc-vpc").id, after.named("aws-vpc-2-vpc").id)


def test_what_the_controller_may_do_account_wide_is_exactly_what_its_docstring_says() -> None:
    """The statements without a condition or a resource scope beyond '*' are the ones the module
    docstring names: creating security groups, WAF and Shield associations."""
    policy = lbc.policy_document("eu-west-1", "vpc-0abc")
    unscoped = {a for s in policy["Statement"] if "Condition" not in s and s["Resource"] == "*" for a in s["Action"]}
    broad = unscoped - {a for a in unscoped if ":Describe" in a or ":Get" in a or ":List" in a}
    assert broad == {
        "ec2:CreateSecurityGroup",
        "waf-regional:AssociateWebACL", "waf-regional:DisassociateWebACL", "wafv2:AssociateWebACL", "wafv2:DisassociateWebACL",
        "shield:CreateProtection", "shield:DeleteProtection",
    }  # fmt: skip


LISTENER_ACTIONS = (
    "CreateListener", "DeleteListener", "CreateRule", "DeleteRule", "SetWebAcl", "ModifyListener", "AddListenerCertificates",
    "RemoveListenerCertificates", "ModifyRule", "SetRulePriorities",
)  # fmt: skip


@pytest.mark.parametrize("action", LISTENER_ACTIONS)
def test_listeners_and_rules_only_of_load_balancers_the_controller_names(action: str) -> None:
    """The controller names its load balancers k8s-... (buildLoadBalancerName, v2.13.0); listener and
    rule ARNs carry the load balancer's name, so other load balancers in the account are out of reach."""
    (statement,) = statements_with(lbc.policy_document("cn-north-1", "vpc-0abc"), f"elasticloadbalancing:{action}")
    prefix = "arn:aws-cn:elasticloadbalancing:*:*:"
    assert sorted(statement["Resource"]) == sorted(
        f"{prefix}{resource}"
        for resource in (
            "loadbalancer/net/k8s-*/*", "loadbalancer/app/k8s-*/*", "listener/net/k8s-*/*/*", "listener/app/k8s-*/*/*",
            "listener-rule/net/k8s-*/*/*/*", "listener-rule/app/k8s-*/*/*/*",
        )
    )  # fmt: skip
    assert "Condition" not in statement


def test_no_gateway_names_its_own_load_balancer(eks_run: StackRun) -> None:
    """A name of its own (aws-load-balancer-name) would fall outside the controller's k8s-* scope."""
    annotated = [r.name for r in eks_run.resources if "load-balancer-name" in json.dumps(r.inputs)]
    assert annotated == []
    assert [r for r in eks_run.resources if "aws-load-balancer-type" in json.dumps(r.inputs)]


def test_removing_or_reordering_eks_admins_leaves_the_others_entries_alone() -> None:
    """Keyed by position, removing the first admin moved the second to key admin-0: pulumi-eks
    made a new entry for a principal that still had one, and EKS refused it (409)."""
    first, second = "arn:aws:iam::123456789012:role/first", "arn:aws:iam::123456789012:role/second"
    before = run_stack("eks", {"clusters": eks_config(adminPrincipalArns=[first, second])["clusters"]})
    for admins in ([second], [second, first]):
        after = run_stack("eks", {"clusters": eks_config(adminPrincipalArns=admins)["clusters"]}, state=before.state())
        entries = after.named("cluster-1-eks").inputs["accessEntries"]
        assert {key: e["principalArn"] for key, e in entries.items()} == {admin_key(a): a for a in admins}
    assert admin_key(first) != admin_key(second) and admin_key(first).startswith("admin-")


def test_the_harness_refuses_a_second_entry_for_one_principal() -> None:
    prior = {"accessEntries": {"admin-0": {"principalArn": "a"}, "admin-1": {"principalArn": "b"}}}
    assert engine.refused_update("eks:index:Cluster", prior, {"accessEntries": {"admin-0": {"principalArn": "b"}}}) == (
        "ResourceInUseException: the cluster already has an access entry for b"
    )
    assert engine.refused_update("eks:index:Cluster", prior, {"accessEntries": {"admin-1": {"principalArn": "b"}}}) == ""


def test_the_controller_changes_ingress_only_on_its_vpcs_security_groups(eks_run: StackRun) -> None:
    """Upstream lets it add ingress rules to any security group in the account; here the groups of
    the cluster's VPC only (the nodes' groups it opens to its NLBs are there)."""
    vpc = eks_run.named("aws-mesh-vpc-vpc").id
    policy = json.loads(eks_run.named("cluster-1-lbc-policy").inputs["policy"])
    ingress = [s for s in statements_with(policy, "ec2:AuthorizeSecurityGroupIngress") if "Condition" in s and "ArnLike" in s["Condition"]]
    assert ingress == [
        {
            "Effect": "Allow",
            "Action": ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
            "Resource": "*",
            "Condition": {"ArnLike": {"ec2:Vpc": f"arn:aws:ec2:eu-west-1:*:vpc/{vpc}"}},
        }
    ]
    assert all("Condition" in s for s in statements_with(policy, "ec2:AuthorizeSecurityGroupIngress"))


def second_vpc_moved_to_us_east_1() -> tuple[StackRun, StackRun]:
    """Two VPCs, then the second (and cluster-2 in it) moved from eu-west-1 to us-east-1."""
    config = two_vpcs()
    before = run_stack("eks", {"clusters": config["clusters"], "vpcs": config["vpcs"]})
    moved = copy.deepcopy(config)
    moved["vpcs"][1].update(region="us-east-1", zones=["us-east-1a", "us-east-1c"])
    moved["clusters"][1]["region"] = "us-east-1"
    after = run_stack("eks", {"clusters": moved["clusters"], "vpcs": moved["vpcs"]}, state=before.state())
    return before, after


def test_a_replaced_peering_is_deleted_before_its_successor_is_made() -> None:
    """AWS keeps one peering per pair of VPCs: moving the second VPC (and its cluster) to another
    region replaces the peering, which must go first."""
    _, after = second_vpc_moved_to_us_east_1()
    (peering,) = after.of_type("aws:ec2/vpcPeeringConnection:VpcPeeringConnection")
    assert (peering.operation, peering.delete_first) == ("replace", True)


def eks_cluster(run: StackRun, cluster: str) -> dict[str, Any]:
    """The EKS cluster pulumi-eks made inside ``cluster``'s component, as its state holds it."""
    (found,) = [p.outputs for urn, p in run.remote_children.items() if urn.endswith(f"::{cluster}-eks-eksCluster")]
    return found


def test_a_cluster_moved_to_another_region_is_a_new_eks_cluster_with_a_new_security_group() -> None:
    """pulumi-eks makes the cluster through the AWS provider it is given: one of another region
    cannot manage the old cluster, so the engine replaces it (and its cluster security group), and
    the rules admitting its peers follow the new group."""
    before, after = second_vpc_moved_to_us_east_1()
    assert (after.named("cluster-2-eks").operation, after.named("cluster-1-eks").operation) == ("replace", "same")
    old, new = eks_cluster(before, "cluster-2"), eks_cluster(after, "cluster-2")
    group = new["vpcConfig"]["clusterSecurityGroupId"]
    assert group != old["vpcConfig"]["clusterSecurityGroupId"]
    assert new["arn"].startswith("arn:aws:eks:us-east-1:") and old["arn"].startswith("arn:aws:eks:eu-west-1:")
    rules = after.of_type("aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule")
    on_the_new_group = sorted(r.name for r in rules if r.inputs["securityGroupId"] == group)
    assert on_the_new_group == [
        "aws-mesh-cluster-2-from-vpc-mesh-vpc-15443",
        "aws-mesh-cluster-2-webhook-15012",
        "aws-mesh-cluster-2-webhook-15017",
    ]
    assert all(r.operation == "replace" for r in rules if r.name in on_the_new_group)


def addon_settings(run: StackRun, cluster: str = "cluster-1") -> tuple[Any, Any, dict[str, Any]]:
    """What the run asks of cluster's kube-proxy, VPC CNI and CoreDNS add-ons."""
    inputs = run.named(f"{cluster}-eks").inputs
    return inputs.get("kubeProxyAddonOptions"), inputs.get("vpcCniOptions"), run.named(f"{cluster}-coredns").inputs


def test_with_a_kubernetes_version_the_node_agents_run_its_default_add_on_builds_not_the_newest() -> None:
    """pulumi-eks asks for the newest build on every run unless told a version (mostRecent: true);
    the program tells it EKS's default for the configured version (mostRecent: false)."""
    run = run_stack("eks", {"clusters": eks_config(kubernetesVersion="1.33")["clusters"]})
    proxy, cni, coredns = addon_settings(run)
    overwrite = {"resolveConflictsOnCreate": "OVERWRITE", "resolveConflictsOnUpdate": "OVERWRITE"}
    assert proxy == {"version": addon_version("kube-proxy", "1.33", most_recent=False), **overwrite}
    assert cni == {"addonVersion": addon_version("vpc-cni", "1.33", most_recent=False), **overwrite}
    assert coredns == {
        "clusterName": "cluster-1",
        "addonName": "coredns",
        "addonVersion": addon_version("coredns", "1.33", most_recent=False),
        "resolveConflictsOnCreate": "OVERWRITE",
        "resolveConflictsOnUpdate": "OVERWRITE",
        "preserve": True,
    }


def test_pinned_add_on_versions_win_and_without_a_kubernetes_version_only_coredns_follows_the_cluster() -> None:
    pins = {"kube-proxy": "v1.33.3-eksbuild.4", "vpc-cni": "v1.20.1-eksbuild.1", "coredns": "v1.12.1-eksbuild.2"}
    pinned = run_stack("eks", {"clusters": eks_config(kubernetesVersion="1.33", addonVersions=pins)["clusters"]})
    proxy, cni, coredns = addon_settings(pinned)
    assert (proxy["version"], cni["addonVersion"], coredns["addonVersion"]) == (pins["kube-proxy"], pins["vpc-cni"], pins["coredns"])
    # Unset, pulumi-eks keeps choosing (with a warning); CoreDNS takes the default of what the cluster runs.
    floating = run_stack("eks")
    proxy, cni, coredns = addon_settings(floating)
    running = "1.33"  # what the mock EKS runs when no version is asked for
    assert (proxy, cni, coredns["addonVersion"]) == (None, None, addon_version("coredns", running, most_recent=False))


def test_coredns_becomes_an_add_on_after_the_nodes_it_runs_on() -> None:
    """An add-on is ACTIVE only once its pods run (terraform-provider-aws waitAddonCreated waits
    through DEGRADED), and CoreDNS's pods need nodes: made before them it would time out."""
    run = run_stack("eks")
    for cluster in ("cluster-1", "cluster-2"):
        assert run.needs(f"{cluster}-coredns", f"{cluster}-default")
        assert run.needs(f"{cluster}-coredns", f"{cluster}-eks")
        # Nothing waits for it: CoreDNS already runs, self-managed, while EKS adopts it.
        assert not [r.name for r in run.resources if r.name != f"{cluster}-coredns" and run.needs(r, run.named(f"{cluster}-coredns"))]


def test_a_new_kubernetes_version_moves_the_add_ons_with_it_and_nothing_else_changes_them() -> None:
    before = run_stack("eks", {"clusters": eks_config(kubernetesVersion="1.33")["clusters"]})
    again = run_stack("eks", {"clusters": eks_config(kubernetesVersion="1.33")["clusters"]}, state=before.state())
    assert not changes(before, again).touched
    after = run_stack("eks", {"clusters": eks_config(kubernetesVersion="1.34")["clusters"]}, state=before.state())
    # The control planes and CoreDNS update in place; kube-proxy and the CNI are the clusters' inputs.
    assert changes(before, after) == Changes(update=frozenset({"cluster-1-coredns", "cluster-2-coredns", "cluster-1-eks", "cluster-2-eks"}))
    assert addon_settings(after)[2]["addonVersion"] == addon_version("coredns", "1.34", most_recent=False)


@pytest.mark.parametrize(
    ("pins", "problem"),
    [
        (
            {"kube-proxy": "1.33.0"},
            "clusters[0].addonVersions.kube-proxy (cluster cluster-1): '1.33.0' is not valid; use an EKS add-on version such as "
            "v1.33.0-eksbuild.1",
        ),
        (
            {"kubeProxy": "v1.33.0-eksbuild.1"},
            "clusters[0].addonVersions.kubeProxy (cluster cluster-1): is not a field of addonVersions; did you mean kube-proxy?",
        ),
    ],
)
def test_add_on_pins_are_checked(pins: dict[str, str], problem: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse(eks_config(kubernetesVersion="1.33", addonVersions=pins))
    assert problem in [str(p) for p in error.value.problems]
