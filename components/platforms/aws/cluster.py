"""EksCluster: an EKS cluster with managed node groups, turned into a ``ClusterHandle``.

``pulumi_eks.Cluster`` (authentication mode API, OIDC provider, no default node group, public
endpoint with configurable CIDRs), one ``ManagedNodeGroup`` per configured group on the private
subnets with a node role whose AWS policies are attached with ``RolePolicyAttachment`` (never the
exclusive ``PolicyAttachment``). The AWS Load Balancer Controller (IAM role for its service account)
turns the gateway Services into NLBs; metrics-server feeds the gateway chart's autoscaler.

The kubernetes provider authenticates with a token from ``aws.eks.get_cluster_auth`` instead of
pulumi-eks' ``aws eks get-token`` exec kubeconfig, so no AWS CLI is needed where Pulumi runs; its
``cluster_identifier`` is the cluster ARN, so the token changing every run never replaces it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.config.model import ClusterSpec
from components.k8s.helm import helm_release
from components.k8s.kubeconfig import bearer_kubeconfig
from components.mesh.handle import ClusterHandle
from components.platforms.aws.config import aws_part
from components.platforms.aws.network import VpcNetwork

NODE_POLICIES = ("AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly")
LBC_CHARTS = "https://aws.github.io/eks-charts"
LBC_CHART_VERSION = "1.13.0"
LBC_SERVICE_ACCOUNT = "aws-load-balancer-controller"
METRICS_SERVER_CHARTS = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_CHART_VERSION = "3.12.2"
# What the controller does to run NLBs for Services: describe the network, manage load balancers,
# target groups and their security groups. Scoped by action, as the controller's own policy is.
LBC_POLICY = {
    "Version": "2012-10-17",
    "Statement": [
        {
            "Effect": "Allow",
            "Action": ["iam:CreateServiceLinkedRole"],
            "Resource": "*",
            "Condition": {"StringEquals": {"iam:AWSServiceName": "elasticloadbalancing.amazonaws.com"}},
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2:DescribeAccountAttributes", "ec2:DescribeAddresses", "ec2:DescribeAvailabilityZones",
                "ec2:DescribeInternetGateways", "ec2:DescribeVpcs", "ec2:DescribeVpcPeeringConnections",
                "ec2:DescribeSubnets", "ec2:DescribeSecurityGroups", "ec2:DescribeInstances",
                "ec2:DescribeNetworkInterfaces", "ec2:DescribeTags", "ec2:DescribeRouteTables",
                "ec2:GetSecurityGroupsForVpc", "elasticloadbalancing:Describe*",
            ],
            "Resource": "*",
        },
        {
            "Effect": "Allow",
            "Action": [
                "ec2:CreateSecurityGroup", "ec2:CreateTags", "ec2:DeleteTags", "ec2:DeleteSecurityGroup",
                "ec2:AuthorizeSecurityGroupIngress", "ec2:RevokeSecurityGroupIngress",
                "elasticloadbalancing:CreateLoadBalancer", "elasticloadbalancing:DeleteLoadBalancer",
                "elasticloadbalancing:ModifyLoadBalancerAttributes", "elasticloadbalancing:SetSecurityGroups",
                "elasticloadbalancing:SetSubnets", "elasticloadbalancing:CreateTargetGroup",
                "elasticloadbalancing:DeleteTargetGroup", "elasticloadbalancing:ModifyTargetGroup",
                "elasticloadbalancing:ModifyTargetGroupAttributes", "elasticloadbalancing:RegisterTargets",
                "elasticloadbalancing:DeregisterTargets", "elasticloadbalancing:CreateListener",
                "elasticloadbalancing:DeleteListener", "elasticloadbalancing:ModifyListener",
                "elasticloadbalancing:AddTags", "elasticloadbalancing:RemoveTags",
            ],
            "Resource": "*",
        },
    ],
}  # fmt: skip


def nlb_annotations(scheme: str) -> dict[str, str]:
    """A Service the AWS Load Balancer Controller turns into an NLB sending straight to pod IPs."""
    return {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme,
    }


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of ``EksCluster``.

    Args:
        spec: the cluster's spec; its platform part must be an ``AwsCluster``.
        network: the cluster's VPC, subnets and regional provider.
        internal_gateways: make the east-west gateway an internal NLB (right when every other
            cluster shares or peers this VPC); otherwise internet-facing.
        public_access_cidrs: who may reach the public API endpoint (default: anyone).
    """

    spec: ClusterSpec
    network: VpcNetwork
    internal_gateways: bool
    public_access_cidrs: tuple[str, ...] = ()


class EksCluster(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``handle``, ``cluster``, ``kubeconfig`` (secret),
    ``security_group_id`` (the EKS cluster security group, which managed nodes carry)."""

    handle: ClusterHandle
    cluster: eks.Cluster
    kubeconfig: pulumi.Output[str]
    security_group_id: pulumi.Output[str]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("istio-multicluster:aws:EksCluster", name, None, opts)
        spec, network = args.spec, args.network
        platform = aws_part(spec)
        on_aws = pulumi.ResourceOptions(parent=self, provider=network.provider)
        node_role, attachments = self._node_role(name, on_aws)
        self.cluster = eks.Cluster(
            f"{name}-eks",
            name=spec.name,
            version=platform.kubernetes_version,
            vpc_id=network.vpc.id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            kubernetes_service_ip_address_range=str(platform.service_cidr),
            authentication_mode=eks.AuthenticationMode.API,
            create_oidc_provider=True,
            skip_default_node_group=True,
            endpoint_public_access=True,
            endpoint_private_access=True,
            public_access_cidrs=list(args.public_access_cidrs) or None,
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": network.provider}),
        )
        for group in platform.node_groups:
            eks.ManagedNodeGroup(
                f"{name}-{group.name}",
                cluster=self.cluster,
                node_group_name=f"{spec.name}-{group.name}",
                node_role=node_role,
                subnet_ids=network.private_subnet_ids,
                instance_types=list(group.instance_types),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=group.desired, min_size=group.min, max_size=group.max),
                opts=pulumi.ResourceOptions(parent=self, providers={"aws": network.provider}, depends_on=attachments),
            )
        eks_cluster = self.cluster.eks_cluster
        self.security_group_id = eks_cluster.vpc_config.apply(lambda c: c.cluster_security_group_id or "")
        auth = aws.eks.get_cluster_auth_output(name=eks_cluster.name, opts=pulumi.InvokeOutputOptions(provider=network.provider))
        self.kubeconfig = pulumi.Output.secret(
            pulumi.Output.all(eks_cluster.endpoint, eks_cluster.certificate_authority.data, auth.token).apply(
                lambda parts: bearer_kubeconfig(spec.name, parts[0], parts[1], parts[2])
            )
        )
        provider = k8s.Provider(
            f"{name}-provider", kubeconfig=self.kubeconfig, cluster_identifier=eks_cluster.arn, opts=pulumi.ResourceOptions(parent=self)
        )
        controller = self._load_balancer_controller(name, spec.name, network, provider, on_aws)
        self._metrics_server(name, provider)
        self.handle = ClusterHandle(
            spec.name,
            spec.network,
            provider,
            eks_cluster.endpoint,
            eastwest_annotations=nlb_annotations("internal" if args.internal_gateways else "internet-facing"),
            ingress_annotations=nlb_annotations("internet-facing"),
            # Without the controller running, the in-tree cloud provider would make a Classic LB.
            ready=[controller],
            # NLB host names are <name>-<id>.elb.<region>.amazonaws.com: one wildcard label covers them.
            gateway_dns_names=(f"*.elb.{spec.region}.amazonaws.com",),
        )
        self.register_outputs(self.outputs())

    def outputs(self) -> dict[str, pulumi.Output[str]]:
        """What an operator needs: endpoint, OIDC provider ARN and the kubeconfig (a secret)."""
        return {
            "endpoint": self.cluster.eks_cluster.endpoint,
            "oidcProviderArn": self.cluster.oidc_provider_arn,
            "kubeconfig": self.kubeconfig,
        }

    def _node_role(self, name: str, on_aws: pulumi.ResourceOptions) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "ec2.amazonaws.com"}, "Action": "sts:AssumeRole"}],
        }
        role = aws.iam.Role(f"{name}-node-role", assume_role_policy=json.dumps(trust), opts=on_aws)
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                f"{name}-node-{policy}", role=role.name, policy_arn=f"arn:aws:iam::aws:policy/{policy}", opts=on_aws
            )
            for policy in NODE_POLICIES
        ]
        return role, attachments

    def _load_balancer_controller(
        self, name: str, cluster: str, network: VpcNetwork, provider: k8s.Provider, on_aws: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        oidc_arn = self.cluster.oidc_provider_arn
        issuer = self.cluster.oidc_issuer
        trust = pulumi.Output.all(oidc_arn, issuer).apply(
            lambda parts: json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Federated": parts[0]},
                            "Action": "sts:AssumeRoleWithWebIdentity",
                            "Condition": {
                                "StringEquals": {
                                    f"{parts[1]}:sub": f"system:serviceaccount:kube-system:{LBC_SERVICE_ACCOUNT}",
                                    f"{parts[1]}:aud": "sts.amazonaws.com",
                                }
                            },
                        }
                    ],
                }
            )
        )
        role = aws.iam.Role(f"{name}-lbc-role", assume_role_policy=trust, opts=on_aws)
        policy = aws.iam.Policy(f"{name}-lbc-policy", policy=json.dumps(LBC_POLICY), opts=on_aws)
        attachment = aws.iam.RolePolicyAttachment(f"{name}-lbc", role=role.name, policy_arn=policy.arn, opts=on_aws)
        return helm_release(
            f"{name}-aws-load-balancer-controller",
            release="aws-load-balancer-controller",
            chart="aws-load-balancer-controller",
            version=LBC_CHART_VERSION,
            repo=LBC_CHARTS,
            namespace="kube-system",
            values={
                "clusterName": cluster,
                "region": network.provider.region,
                "vpcId": network.vpc.id,
                "serviceAccount": {"create": True, "name": LBC_SERVICE_ACCOUNT, "annotations": {"eks.amazonaws.com/role-arn": role.arn}},
            },
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[attachment]),
        )

    def _metrics_server(self, name: str, provider: k8s.Provider) -> None:
        helm_release(
            f"{name}-metrics-server",
            release="metrics-server",
            chart="metrics-server",
            version=METRICS_SERVER_CHART_VERSION,
            repo=METRICS_SERVER_CHARTS,
            namespace="kube-system",
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
