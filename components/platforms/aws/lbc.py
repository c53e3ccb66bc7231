"""The AWS Load Balancer Controller: the IAM it needs, and its Helm chart.

It turns the gateway Services (annotated ``aws-load-balancer-type: external``) into NLBs, and
deletes those NLBs, their target groups and security groups when the Services go. The IAM policy
is the controller's published one for the pinned release (chart 1.13.0 is controller v2.13.0,
docs/install/iam_policy.json at that tag), written out here. Deleting and modifying load
balancers and target groups, deleting security groups and tagging them applies only to resources
tagged ``elbv2.k8s.aws/cluster``, which the controller puts on what it creates, and creating load
balancers and target groups requires that tag in the request. Adding and removing security group
ingress rules, which upstream allows on any group (the controller opens the nodes' groups, which
it did not create, to its NLBs), is limited here to the groups of the cluster's VPC. Creating and
deleting listeners and rules and changing them (certificates, priorities, web ACL), which upstream
allows on any load balancer, are limited to load balancers whose names start ``k8s-``, the names
the controller gives them (``CONTROLLER_NAME_PREFIX``), and to their listeners and rules, whose
ARNs carry that name: other load balancers in the account are out of its reach. A Service or
Ingress of yours that names its own load balancer (``aws-load-balancer-name``) must start that
name with ``k8s-``. Not by the cluster tag: the controller does tag listeners and rules
(ListenerRulesTagging, on by default: pkg/deploy/elbv2/listener_manager.go), but IAM's reference
for Elastic Load Balancing V2 (as awsdocs/iam-user-guide keeps it) lists no tag condition keys for
listener and listener-rule resources,
and a condition IAM does not evaluate never matches. Not scoped, as upstream publishes it:
creating security groups (the request carries the cluster tag, which the tagging statement
requires), and associating WAF web ACLs and Shield protection, whose resources are the web ACL
and the protection.

The chart's Service mutating webhook (``enableServiceMutatorWebhook``, on by default) matches
every Service in the cluster with failurePolicy Fail and has no endpoints until the controller's
pods run (kubernetes-sigs/aws-load-balancer-controller#4140): istiod's and metrics-server's
Services would be refused on a first ``pulumi up``. It only makes un-annotated LoadBalancer
Services the controller's; the gateway Services are annotated, so it is turned off.
"""

from __future__ import annotations

import json
from typing import Any

CHARTS = "https://aws.github.io/eks-charts"
CHART = "aws-load-balancer-controller"
CHART_VERSION = "1.13.0"
SERVICE_ACCOUNT = "aws-load-balancer-controller"
CLUSTER_TAG = "elbv2.k8s.aws/cluster"
# What the controller names every load balancer it makes, unless a Service or Ingress names its own
# (v2.13.0: pkg/service/model_build_load_balancer.go and pkg/ingress/model_build_load_balancer.go,
# buildLoadBalancerName: "k8s-<namespace>-<name>-<hash>" or "k8s-<group>-<hash>").
CONTROLLER_NAME_PREFIX = "k8s-"


def dns_suffix(region: str) -> str:
    """The partition's DNS suffix: service endpoints and principals, and NLB host names, end in it
    (``amazonaws.com.cn`` in China; aws.getPartition's dnsSuffix)."""
    return "amazonaws.com.cn" if partition(region) == "aws-cn" else "amazonaws.com"


def partition(region: str) -> str:
    """The AWS partition of ``region``: ARNs differ in China and GovCloud."""
    if region.startswith("cn-"):
        return "aws-cn"
    if region.startswith("us-gov-"):
        return "aws-us-gov"
    return "aws"


def _tagged(resource_tag: str, request_tag: str | None = None) -> dict[str, Any]:
    """A condition on the controller's cluster tag: ``"false"`` means the tag must be present."""
    null = {f"aws:ResourceTag/{CLUSTER_TAG}": resource_tag}
    if request_tag is not None:
        null[f"aws:RequestTag/{CLUSTER_TAG}"] = request_tag
    return {"Null": null}


def policy_document(region: str, vpc_id: str | None = None) -> dict[str, Any]:
    """The controller's IAM policy (v2.13.0), ARNs in ``region``'s partition; with ``vpc_id``, the
    ingress rules it may change on security groups it did not create limited to that VPC's groups."""
    arn = f"arn:{partition(region)}"
    ec2_sg = f"{arn}:ec2:*:*:security-group/*"
    balancers = [
        f"{arn}:elasticloadbalancing:*:*:targetgroup/*/*",
        f"{arn}:elasticloadbalancing:*:*:loadbalancer/net/*/*",
        f"{arn}:elasticloadbalancing:*:*:loadbalancer/app/*/*",
    ]
    listeners = [
        f"{arn}:elasticloadbalancing:*:*:listener/net/*/*/*",
        f"{arn}:elasticloadbalancing:*:*:listener/app/*/*/*",
        f"{arn}:elasticloadbalancing:*:*:listener-rule/net/*/*/*",
        f"{arn}:elasticloadbalancing:*:*:listener-rule/app/*/*/*",
    ]
    # The load balancers the controller names itself, their listeners and their rules (the ARNs
    # of all three carry the load balancer's name).
    named_by_controller = [
        f"{arn}:elasticloadbalancing:*:*:{kind}/{lb}/{CONTROLLER_NAME_PREFIX}*/{path}"
        for kind, path in (("loadbalancer", "*"), ("listener", "*/*"), ("listener-rule", "*/*/*"))
        for lb in ("net", "app")
    ]
    describe = [
        "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones", "ec2:DescribeInternetGateways",
        "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections", "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups",
        "ec2:DescribeInstances", "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:GetCoipPoolUsage", "ec2:DescribeCoipPools",
        "ec2:GetSecurityGroupsForVpc", "ec2:DescribeIpamPools", "ec2:DescribeRouteTables",
        "elasticloadbalancing:DescribeLoadBalancers", "elasticloadbalancing:DescribeLoadBalancerAttributes",
        "elasticloadbalancing:DescribeListeners", "elasticloadbalancing:DescribeListenerCertificates",
        "elasticloadbalancing:DescribeSSLPolicies", "elasticloadbalancing:DescribeRules", "elasticloadbalancing:DescribeTargetGroups",
        "elasticloadbalancing:DescribeTargetGroupAttributes", "elasticloadbalancing:DescribeTargetHealth",
        "elasticloadbalancing:DescribeTags", "elasticloadbalancing:DescribeTrustStores",
        "elasticloadbalancing:DescribeListenerAttributes", "elasticloadbalancing:DescribeCapacityReservation",
    ]  # fmt: skip
    integrations = [
        "cognito-idp:DescribeUserPoolClient", "acm:ListCertificates", "acm:DescribeCertificate", "iam:ListServerCertificates",
        "iam:GetServerCertificate", "waf-regional:GetWebACL", "waf-regional:GetWebACLForResource", "waf-regional:AssociateWebACL",
        "waf-regional:DisassociateWebACL", "wafv2:GetWebACL", "wafv2:GetWebACLForResource", "wafv2:AssociateWebACL",
        "wafv2:DisassociateWebACL", "shield:GetSubscriptionState", "shield:DescribeProtection", "shield:CreateProtection",
        "shield:DeleteProtection",
    ]  # fmt: skip
    modify_tagged = [
        "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetIpAddressType",
        "elasticloadbalancing:SetSecurityGroups", "elasticloadbalancing:SetSubnets", "elasticloadbalancing:DeleteLoadBalancer",
        "elasticloadbalancing:ModifyTargetGroup", "elasticloadbalancing:ModifyTargetGroupAttributes",
        "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyListenerAttributes",
        "elasticloadbalancing:ModifyCapacityReservation", "elasticloadbalancing:ModifyIpPools",
    ]  # fmt: skip
    listener_changes = [
        "elasticloadbalancing:SetWebAcl", "elasticloadbalancing:ModifyListener", "elasticloadbalancing:AddListenerCertificates",
        "elasticloadbalancing:RemoveListenerCertificates", "elasticloadbalancing:ModifyRule", "elasticloadbalancing:SetRulePriorities",
    ]  # fmt: skip

    def allow(actions: list[str], resource: str | list[str] = "*", condition: dict[str, Any] | None = None) -> dict[str, Any]:
        statement: dict[str, Any] = {"Effect": "Allow", "Action": actions, "Resource": resource}
        if condition:
            statement["Condition"] = condition
        return statement

    return {
        "Version": "2012-10-17",
        "Statement": [
            allow(
                ["iam:CreateServiceLinkedRole"], condition={"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}}
            ),
            allow(describe),
            allow(integrations),
            # Upstream allows this on any security group: the controller opens the groups of its
            # targets (the nodes', which it did not create and cannot tag-match) to its load
            # balancers. Those groups are in the cluster's VPC, and EC2 takes ec2:Vpc as a condition
            # on these actions (IAM's "Example: Work with security groups in a specific VPC").
            allow(
                ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress"],
                condition={"ArnLike": {"ec2:Vpc": f"{arn}:ec2:{region}:*:vpc/{vpc_id}"}} if vpc_id else None,
            ),
            allow(["ec2:CreateSecurityGroup"]),
            allow(
                ["ec2:CreateTags"],
                ec2_sg,
                {"StringEquals": {"ec2:CreateAction": "CreateSecurityGroup"}, "Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}},
            ),
            allow(["ec2:CreateTags", "ec2:DeleteTags"], ec2_sg, _tagged("false", request_tag="true")),
            allow(
                ["ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress", "ec2:DeleteSecurityGroup"], "*", _tagged("false")
            ),
            allow(
                ["elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:CreateTargetGroup"],
                "*",
                {"Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"}},
            ),
            allow(
                [
                    "elasticloadbalancing:CreateListener",
                    "elasticloadbalancing:DeleteListener",
                    "elasticloadbalancing:CreateRule",
                    "elasticloadbalancing:DeleteRule",
                ],
                named_by_controller,
            ),
            allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], balancers, _tagged("false", request_tag="true")),
            allow(["elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags"], listeners),
            allow(modify_tagged, "*", _tagged("false")),
            allow(
                ["elasticloadbalancing:AddTags"],
                balancers,
                {
                    "StringEquals": {"elasticloadbalancing:CreateAction": ["CreateTargetGroup", "CreateLoadBalancer"]},
                    "Null": {f"aws:RequestTag/{CLUSTER_TAG}": "false"},
                },
            ),
            allow(
                ["elasticloadbalancing:RegisterTargets", "elasticloadbalancing:DeregisterTargets"],
                f"{arn}:elasticloadbalancing:*:*:targetgroup/*/*",
            ),
            allow(listener_changes, named_by_controller),
        ],
    }


def trust_policy(oidc_provider_arn: str, issuer: str) -> str:
    """Only the controller's service account, through the cluster's OIDC provider, may assume the role."""
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": oidc_provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{issuer}:sub": f"system:serviceaccount:kube-system:{SERVICE_ACCOUNT}",
                            f"{issuer}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ],
        }
    )


def chart_values(cluster: str, region: str, vpc_id: Any, role_arn: Any) -> dict[str, Any]:
    """The chart's values: cluster, region and VPC (no instance metadata needed), the IRSA role, no Service mutator."""
    return {
        "clusterName": cluster,
        "region": region,
        "vpcId": vpc_id,
        "serviceAccount": {"create": True, "name": SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": role_arn}},
        "enableServiceMutatorWebhook": False,
    }
