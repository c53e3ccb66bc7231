"""EksCluster: an EKS cluster with managed node groups, turned into a ``ClusterHandle``.

``pulumi_eks.Cluster`` (authentication mode API, access entries for the configured admins, OIDC
provider, no default node group, no default security groups: the mesh's rules go on the EKS
cluster security group, which managed nodes carry), one ``ManagedNodeGroup`` per configured group
on the private subnets with a node role whose AWS policies are attached with
``RolePolicyAttachment`` (never the exclusive ``PolicyAttachment``). The AWS Load Balancer
Controller turns the gateway Services into NLBs (and, with ``ingressEdge``, an Ingress into the ALB in
front of the ingress gateway); metrics-server feeds the gateway chart's autoscaler.

Order, both ways: node groups after the private subnets' NAT routes (nodes join and pull images
through them), the controller and metrics-server after the node groups (their pods need nodes),
and the gateways (``ready``) after the controller. ``pulumi destroy`` therefore deletes the
gateway Services while the controller that deletes their NLBs, its nodes and their way out still
run; otherwise NLBs, their security groups and ENIs leak and block the subnets and the VPC.

The kubernetes provider's kubeconfig, the one exported for people too, runs ``aws eks get-token``
for a token whenever it needs one: no token is kept in state, so ``pulumi destroy`` and ``refresh``
work hours after the last ``up`` (with no project virtualenv needed) and a second ``up`` changes
nothing. ``cluster_identifier`` is the cluster ARN, so a changed kubeconfig never replaces the
provider.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from ipaddress import IPv4Network
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config.kinds import OPEN_TO_ALL
from components.config.model import ClusterSpec
from components.istio.facts import READY_PATH, STATUS_PORT
from components.k8s.helm import helm_release
from components.k8s.kubeconfig import exec_kubeconfig
from components.k8s.provider import cluster_provider
from components.platforms.aws import lbc, names
from components.platforms.aws.addons import coredns_addon, node_agent_options
from components.platforms.aws.config import aws_part
from components.platforms.aws.edge import AlbEdge
from components.platforms.aws.network import ClusterNetwork
from components.platforms.exposure import Exposure, with_peers

ADMIN_POLICY = "AmazonEKSClusterAdminPolicy"
METRICS_SERVER_CHARTS = "https://kubernetes-sigs.github.io/metrics-server/"
METRICS_SERVER_CHART_VERSION = "3.12.2"


def nlb_annotations(scheme: str) -> dict[str, str]:
    """A Service the AWS Load Balancer Controller turns into an NLB sending straight to pod IPs."""
    return {
        "service.beta.kubernetes.io/aws-load-balancer-type": "external",
        "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
        "service.beta.kubernetes.io/aws-load-balancer-scheme": scheme,
    }


def ingress_nlb_annotations() -> dict[str, str]:
    """The ingress gateway's internet-facing NLB, every target group of which (one per Service
    port: 15021, 80, 443) checks the gateway's readiness. By default each checks TCP on its own
    port, and Envoy opens 443 only once some Gateway serves it: that group stays unhealthy, and
    Route 53 counts an NLB healthy only when every target group with targets has a healthy one
    (Route 53 AliasTarget.EvaluateTargetHealth), so an alias of it (ingressDns) would never be."""
    return {
        **nlb_annotations("internet-facing"),
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-protocol": "http",
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-port": str(STATUS_PORT),
        "service.beta.kubernetes.io/aws-load-balancer-healthcheck-path": READY_PATH,
    }


def admins_beside(cluster: str, principals: Sequence[str], deployer: str | None) -> tuple[str, ...]:
    """The configured admins but the deployer: pulumi-eks already gives the cluster's creator an
    access entry (bootstrapClusterCreatorAdminPermissions, pulumi/pulumi-eks#2373), and EKS refuses
    a second entry for one principal (409 ResourceInUseException). Dropped with a warning."""
    if deployer in principals:
        pulumi.log.warn(
            f"cluster {cluster}: adminPrincipalArns lists {deployer}, the identity running Pulumi, which pulumi-eks "
            "already makes cluster admin; a second access entry for it would fail with 409, so it is left out"
        )
    return tuple(p for p in principals if p != deployer)


def deployer_arn(provider: pulumi.ProviderResource) -> str:
    """The IAM principal running Pulumi as EKS access entries name it: the role (with its path)
    behind an assumed-role session, or the user."""
    invoke = pulumi.InvokeOptions(provider=provider)
    caller = aws.get_caller_identity(opts=invoke)
    return aws.iam.get_session_context(arn=caller.arn, opts=invoke).issuer_arn


def admin_key(principal: str) -> str:
    """The access entry's key in pulumi-eks (which names its resource after it): from the principal,
    so that reordering or removing admins leaves the others' entries alone; by position, a removal
    re-created every later entry under a principal that still had one, which EKS refuses (409)."""
    return f"admin-{hashlib.sha256(principal.encode()).hexdigest()[:12]}"


def access_entries(principals: tuple[str, ...], region: str) -> dict[str, eks.AccessEntryArgs]:
    """Cluster admin for each principal, through EKS access entries (authentication mode API)."""
    policy = f"arn:{lbc.partition(region)}:eks::aws:cluster-access-policy/{ADMIN_POLICY}"
    return {
        admin_key(principal): eks.AccessEntryArgs(
            principal_arn=principal,
            access_policies={
                "admin": eks.AccessPolicyAssociationArgs(
                    policy_arn=policy, access_scope=aws.eks.AccessPolicyAssociationAccessScopeArgs(type="cluster")
                )
            },
        )
        for principal in principals
    }


def eks_kubeconfig(cluster: str, region: str, health_checked: Mapping[str, Any]) -> str:
    """A kubeconfig that runs ``aws eks get-token`` for a token whenever it needs one, on the
    server and CA of pulumi-eks's ``kubeconfig`` output, which resolves only once the API answers
    on ``/healthz`` (pulumi-eks cluster.ts waits up to 5 minutes): the raw endpoint can exist before
    the API answers, and pulumi-kubernetes marks a cluster it cannot reach unreachable for the
    whole run. The AWS CLI is a prerequisite of pulumi-eks anyway (it checks for it in every run)."""
    (entry,) = health_checked["clusters"]
    server, ca_data = entry["cluster"]["server"], entry["cluster"]["certificate-authority-data"]
    args = ["eks", "get-token", "--cluster-name", cluster, "--region", region, "--output", "json"]
    return exec_kubeconfig(cluster, server, ca_data, "aws", args)


@dataclass(frozen=True)
class EksClusterArgs:
    """Inputs of ``EksCluster``.

    Args:
        spec: the cluster's spec; its platform part must be an ``AwsCluster``.
        network: the cluster's VPC, subnets, regional provider and egress.
        exposure: when the clusters span platforms, who may reach the API endpoint and the then
            internet-facing east-west gateway (default none: every other cluster shares or peers
            this VPC, so the gateway is an internal NLB and the endpoint admits
            ``endpointPublicAccessCidrs``).
        deployer_arn: the IAM principal running Pulumi (the role behind an assumed-role session),
            which pulumi-eks makes cluster admin itself; left out of the admins (default none).
        peer_egress: within one platform, the NAT addresses of the other VPCs holding mesh clusters:
            their istiods reach this cluster's public endpoint from there (the private endpoint's
            DNS answers only inside this VPC), so a restricted endpoint admits them too (default none).
        edge_certificate_arn: the certificate the program requested for ``ingressDns``'s name in the
            cluster's region, which its ``ingressEdge`` serves besides its own (default none).
    """

    spec: ClusterSpec
    network: ClusterNetwork
    exposure: Exposure | None = None
    peer_egress: pulumi.Input[Sequence[str]] = ()
    deployer_arn: str | None = None
    edge_certificate_arn: pulumi.Input[str] | None = None


class EksCluster(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``handle``, ``cluster``, ``kubeconfig`` (the operator's, a
    secret), ``security_group_id`` (the EKS cluster security group, which managed nodes carry) and
    ``node_groups``."""

    handle: ClusterHandle
    cluster: eks.Cluster
    kubeconfig: pulumi.Output[str]
    security_group_id: pulumi.Output[str]
    node_groups: list[eks.ManagedNodeGroup]

    def __init__(self, name: str, args: EksClusterArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.EKS.type, name, None, opts)
        spec, network = args.spec, args.network
        platform = aws_part(spec)
        on_aws = pulumi.ResourceOptions(parent=self, provider=network.provider)
        node_role, attachments = self._node_role(name, spec.region, on_aws)
        invoke = pulumi.InvokeOptions(parent=self, provider=network.provider)
        kube_proxy, vpc_cni = node_agent_options(platform.addon_versions, platform.kubernetes_version, invoke)
        self.cluster = eks.Cluster(
            names.EKS_CLUSTER.name(eks=name),
            name=spec.name,
            version=platform.kubernetes_version,
            # pulumi-eks leaves EKS's default, EXTENDED: six times the control plane's price once
            # the version leaves standard support. The config chooses; standard by default.
            upgrade_policy=aws.eks.ClusterUpgradePolicyArgs(support_type=platform.support_type.upper()),
            vpc_id=network.vpc_id,
            private_subnet_ids=network.private_subnet_ids,
            public_subnet_ids=network.public_subnet_ids,
            kubernetes_service_ip_address_range=str(platform.service_cidr),
            authentication_mode=eks.AuthenticationMode.API,
            access_entries=access_entries(admins_beside(spec.name, platform.admin_principal_arns, args.deployer_arn), spec.region) or None,
            create_oidc_provider=True,
            skip_default_node_group=True,
            skip_default_security_groups=True,
            endpoint_public_access=True,
            endpoint_private_access=True,
            public_access_cidrs=self._public_access(spec.name, platform.public_access_cidrs, args),
            kube_proxy_addon_options=kube_proxy,
            vpc_cni_options=vpc_cni,
            opts=pulumi.ResourceOptions(parent=self, providers={"aws": network.provider}),
        )
        self.node_groups = [
            eks.ManagedNodeGroup(
                names.NODE_GROUP.name(eks=name, group=group.name),
                cluster=self.cluster,
                # A prefix, not a name: instance types, subnets and the like replace a node group,
                # and the replacement, made before the old group is deleted, needs a name of its own.
                node_group_name_prefix=f"{spec.name}-{group.name}-",
                node_role=node_role,
                subnet_ids=network.private_subnet_ids,
                instance_types=list(group.instance_types),
                scaling_config=aws.eks.NodeGroupScalingConfigArgs(desired_size=group.desired, min_size=group.min, max_size=group.max),
                # Nodes join and pull images through the NAT routes; on destroy the routes outlive them.
                opts=pulumi.ResourceOptions(parent=self, providers={"aws": network.provider}, depends_on=[*attachments, *network.egress]),
            )
            for group in platform.node_groups
        ]
        eks_cluster = self.cluster.eks_cluster
        coredns_addon(name, eks_cluster, platform.addon_versions, self.node_groups, on_aws)
        self.security_group_id = eks_cluster.vpc_config.apply(_cluster_security_group)
        self.kubeconfig = pulumi.Output.secret(self.cluster.kubeconfig.apply(lambda k: eks_kubeconfig(spec.name, spec.region, k)))
        provider = cluster_provider(
            names.PROVIDER.name(eks=name),
            kubeconfig=self.kubeconfig,
            cluster_identifier=eks_cluster.arn,
            opts=pulumi.ResourceOptions(parent=self),
        )
        on_nodes = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=self.node_groups)
        controller = self._load_balancer_controller(name, spec, network, on_nodes, on_aws)
        self._metrics_server(name, on_nodes)
        self.handle = ClusterHandle(
            spec,
            provider,
            eks_cluster.endpoint,
            eastwest_annotations=nlb_annotations("internet-facing" if args.exposure else "internal"),
            ingress_annotations=ingress_nlb_annotations(),
            # Gateway Services need the controller to get an NLB and to lose it again on destroy.
            ready=[controller],
            schedulable=self.node_groups,
            eastwest_source_ranges=args.exposure.peers(spec.name) if args.exposure else None,
            # NLB host names are <name>-<id>.elb.<region>.<partition's suffix>: one wildcard label covers them.
            gateway_dns_names=(f"*.elb.{spec.region}.{lbc.dns_suffix(spec.region)}",),
            ingress_edge=self._edge(args, controller),
            load_balancer_zone=lambda host: load_balancer_zone(host, network.provider),
        )
        self.register_outputs(self.outputs())

    @staticmethod
    def _edge(args: EksClusterArgs, controller: pulumi.Resource) -> AlbEdge | None:
        """The ALB in front of the ingress gateway, with its own certificate (the default) and the
        program's for ``ingressDns``'s name."""
        edge = aws_part(args.spec).ingress_edge
        if edge is None:
            return None
        certificates = [arn for arn in (edge.certificate_arn, args.edge_certificate_arn) if arn is not None]
        assert certificates, "the config layer requires certificateArn without ingressDns"
        return AlbEdge(certificates, edge.web_acl_arn, controller)

    def outputs(self) -> dict[str, pulumi.Output[str]]:
        """What an operator needs: endpoint, OIDC provider ARN and a kubeconfig (a secret; it runs the AWS CLI)."""
        return {
            "endpoint": self.cluster.eks_cluster.endpoint,
            "oidcProviderArn": self.cluster.oidc_provider_arn,
            "kubeconfig": self.kubeconfig,
        }

    @staticmethod
    def _public_access(cluster: str, configured: tuple[IPv4Network, ...], args: EksClusterArgs) -> pulumi.Input[list[str]]:
        """Who reaches the public endpoint: across platforms the operators and the other clusters;
        else ``endpointPublicAccessCidrs`` with the other VPCs' NAT addresses, or EKS's own default
        (anyone) stated: an omitted list keeps the ranges a cluster had while its mesh spanned platforms."""
        if args.exposure is not None:
            return args.exposure.api(cluster)
        if not configured or OPEN_TO_ALL in configured:
            return [str(c) for c in configured] or [str(OPEN_TO_ALL)]
        return with_peers((str(c) for c in configured), args.peer_egress)

    def _node_role(self, name: str, region: str, on_aws: pulumi.ResourceOptions) -> tuple[aws.iam.Role, list[pulumi.Resource]]:
        trust = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": f"ec2.{lbc.dns_suffix(region)}"}, "Action": "sts:AssumeRole"}],
        }
        role = aws.iam.Role(names.NODE_ROLE.name(eks=name), assume_role_policy=json.dumps(trust), opts=on_aws)
        attachments: list[pulumi.Resource] = [
            aws.iam.RolePolicyAttachment(
                names.NODE_POLICY.name(eks=name, policy=policy),
                role=role.name,
                policy_arn=f"arn:{lbc.partition(region)}:iam::aws:policy/{policy}",
                opts=on_aws,
            )
            for policy in names.NODE_POLICIES
        ]
        return role, attachments

    def _load_balancer_controller(
        self, name: str, spec: ClusterSpec, network: ClusterNetwork, on_nodes: pulumi.ResourceOptions, on_aws: pulumi.ResourceOptions
    ) -> k8s.helm.v3.Release:
        trust = pulumi.Output.all(self.cluster.oidc_provider_arn, self.cluster.oidc_issuer).apply(
            lambda parts: lbc.trust_policy(parts[0], parts[1])
        )
        role = aws.iam.Role(names.CONTROLLER_ROLE.name(eks=name), assume_role_policy=trust, opts=on_aws)
        document = network.vpc_id.apply(lambda vpc: json.dumps(lbc.policy_document(spec.region, vpc)))
        policy = aws.iam.Policy(names.CONTROLLER_POLICY.name(eks=name), policy=document, opts=on_aws)
        attachment = aws.iam.RolePolicyAttachment(
            names.CONTROLLER_ATTACHMENT.name(eks=name), role=role.name, policy_arn=policy.arn, opts=on_aws
        )
        return helm_release(
            names.CONTROLLER.name(eks=name),
            release=lbc.CHART,
            chart=lbc.CHART,
            version=lbc.CHART_VERSION,
            repo=lbc.CHARTS,
            namespace="kube-system",
            values=lbc.chart_values(spec.name, spec.region, network.vpc_id, role.arn),
            # The controller's role must hold its policy before its first call to AWS; the NAT routes
            # come with the node groups (``on_nodes``).
            opts=pulumi.ResourceOptions.merge(on_nodes, pulumi.ResourceOptions(depends_on=[attachment])),
        )

    def _metrics_server(self, name: str, on_nodes: pulumi.ResourceOptions) -> None:
        helm_release(
            names.METRICS_SERVER.name(eks=name),
            release="metrics-server",
            chart="metrics-server",
            version=METRICS_SERVER_CHART_VERSION,
            repo=METRICS_SERVER_CHARTS,
            namespace="kube-system",
            opts=on_nodes,
        )


def load_balancer_name(host: str) -> str:
    """An internet-facing load balancer's name from its host name: ``<name>-<id>.<region>.elb...``
    (ALB) or ``<name>-<id>.elb.<region>...`` (NLB)."""
    return host.split(".", 1)[0].rsplit("-", 1)[0]


def load_balancer_zone(host: pulumi.Output[str], provider: pulumi.ProviderResource) -> pulumi.Output[str]:
    """The Route 53 hosted zone an alias to the load balancer ``host`` names: its canonical hosted
    zone (ALBs and NLBs of one region have different ones), read from Elastic Load Balancing."""
    found = aws.lb.get_load_balancer_output(name=host.apply(load_balancer_name), opts=pulumi.InvokeOutputOptions(provider=provider))
    return found.zone_id


def _cluster_security_group(vpc_config: aws.eks.outputs.ClusterVpcConfig) -> str:
    """The security group EKS creates for every cluster, which managed nodes carry; the mesh's rules go on it."""
    if not vpc_config.cluster_security_group_id:
        raise ValueError("EKS reported no cluster security group; run pulumi refresh, then pulumi up")
    return vpc_config.cluster_security_group_id
