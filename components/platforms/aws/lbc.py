"""The AWS Load Balancer Controller: the IAM it needs, and its Helm chart.

It turns the gateway Services (annotated ``aws-load-balancer-type: external``) into NLBs, and
deletes those NLBs, their target groups and security groups when the Services go. The IAM policy
is the controller's published one for the pinned release (chart 1.13.0 is controller v2.13.0,
docs/install/iam_policy.json at that tag), kept as data in ``lbc_policy.json``. Deleting and modifying load
balancers and target groups, deleting security groups and tagging them applies only to resources
tagged ``elbv2.k8s.aws/cluster``, which the controller puts on what it creates, and creating load
balancers and target groups requires that tag in the request. Adding and removing security group
ingress rules, which upstream allows on any group (the controller opens the nodes' groups, which
it did not create, to its NLBs), is limited here to the groups of the cluster's VPC. Creating and
deleting listeners and rules and changing them (certificates, priorities, web ACL), which upstream
allows on any load balancer, are limited to load balancers whose names start ``k8s-``, the names
the controller gives them (v2.13.0: pkg/service/model_build_load_balancer.go and
pkg/ingress/model_build_load_balancer.go, buildLoadBalancerName: "k8s-<namespace>-<name>-<hash>" or
"k8s-<group>-<hash>"), and to their listeners and rules, whose
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
from pathlib import Path
from typing import Any

CHARTS = "https://aws.github.io/eks-charts"
CHART = "aws-load-balancer-controller"
CHART_VERSION = "1.13.0"
SERVICE_ACCOUNT = "aws-load-balancer-controller"


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


# The policy as data: upstream's v2.13.0 statements with the narrowing the module docstring
# describes, ARNs in ``${Partition}``, and the VPC whose security groups' ingress rules the
# controller may change as ``${Region}`` and ``${VpcId}``.
POLICY_FILE = Path(__file__).with_name("lbc_policy.json")
VPC_CONDITION_KEY = "ec2:Vpc"


def policy_document(region: str, vpc_id: str | None = None) -> dict[str, Any]:
    """The controller's IAM policy (v2.13.0), ARNs in ``region``'s partition; with ``vpc_id``, the
    ingress rules it may change on security groups it did not create limited to that VPC's groups
    (without it, on any group, as upstream has it)."""
    text = POLICY_FILE.read_text().replace("${Partition}", partition(region)).replace("${Region}", region)
    document: dict[str, Any] = json.loads(text.replace("${VpcId}", vpc_id or "*"))
    if vpc_id is None:
        for statement in document["Statement"]:
            if VPC_CONDITION_KEY in statement.get("Condition", {}).get("ArnLike", {}):
                del statement["Condition"]
    return document


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
