"""AlbEdge: an internet-facing ALB in front of an EKS cluster's ingress gateway (``ingressEdge``).

The AWS Load Balancer Controller makes it from an ``Ingress`` of class ``alb`` (the IngressClass its
chart creates, ``createIngressClassResource``/``ingressClass: alb``): listeners HTTP 80 and HTTPS
443 with the ACM certificate, every HTTP listener redirecting to 443 (``ssl-redirect``), targets the
gateway's pod IPs on the Service's plain HTTP port (``target-type: ip``; the VPC CNI gives pods VPC
addresses, so the Service stays ClusterIP) and health checks on the pods' status port and ready path:
an integer ``healthcheck-port`` is taken as the target's own port with IP targets
(v2.13.0 pkg/ingress/model_build_target_group.go ``buildTargetGroupHealthCheckPort``). The
controller opens the nodes' security group to the ALB for both ports.

The web ACL is always stated: without ``wafv2-acl-arn`` the controller leaves whatever web ACL the
ALB has, so removing ``webAclArn`` would leave it attached; ``none`` detaches it (docs/guide/ingress/
annotations.md, wafv2-acl-arn).

Order, both ways: the Ingress waits for the controller (its validating webhook ``vingress.elbv2.k8s.aws``
fails closed, and only the controller removes its finalizer ``ingress.k8s.aws/resources`` once the
ALB, its listeners, target group and security groups are gone) and for the gateway's release (so
pulumi-kubernetes's Ingress await finds the backend's endpoints); ``pulumi destroy`` therefore
deletes it, and waits for the ALB to go, before either.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import IngressBackend

INGRESS_CLASS = "alb"
PREFIX = "alb.ingress.kubernetes.io"
HTTPS_PORT = 443
HTTP_PORT = 80
# AWS's recommended policy for ALB HTTPS listeners: TLS 1.3 and 1.2 only.
SSL_POLICY = "ELBSecurityPolicy-TLS13-1-2-2021-06"
# What the controller needs to detach a web ACL (absence keeps the current one).
NO_WEB_ACL = "none"
EDGE_NAME = "istio-ingress-edge"


def alb_annotations(
    certificate_arns: Sequence[pulumi.Input[str]], web_acl_arn: str | None, backend: IngressBackend
) -> dict[str, pulumi.Input[str]]:
    """The Ingress's annotations: what the controller makes of it (see the module docstring). The
    first certificate is the listener's default, the others are chosen by SNI
    (docs/guide/ingress/annotations.md, certificate-arn)."""
    return {
        f"{PREFIX}/scheme": "internet-facing",
        f"{PREFIX}/target-type": "ip",
        f"{PREFIX}/listen-ports": json.dumps([{"HTTP": HTTP_PORT}, {"HTTPS": HTTPS_PORT}]),
        f"{PREFIX}/ssl-redirect": str(HTTPS_PORT),
        f"{PREFIX}/certificate-arn": pulumi.Output.all(*certificate_arns).apply(",".join),
        f"{PREFIX}/ssl-policy": SSL_POLICY,
        f"{PREFIX}/backend-protocol": "HTTP",
        f"{PREFIX}/healthcheck-protocol": "HTTP",
        f"{PREFIX}/healthcheck-port": str(backend.status_port),
        f"{PREFIX}/healthcheck-path": backend.ready_path,
        f"{PREFIX}/wafv2-acl-arn": web_acl_arn or NO_WEB_ACL,
    }


def alb_hostname(status: k8s.networking.v1.outputs.IngressStatus | None) -> str:
    """The ALB's DNS name, which the controller writes to the Ingress's status once it made the ALB
    (pulumi-kubernetes waits for it before the Ingress counts as created)."""
    entries: Sequence[k8s.networking.v1.outputs.IngressLoadBalancerIngress] = (
        (status.load_balancer.ingress or []) if status and status.load_balancer else []
    )
    for entry in entries:
        if entry.hostname:
            return entry.hostname
    raise ValueError(f"the Ingress {EDGE_NAME} has no ALB host name yet; run pulumi refresh, then pulumi up")


@dataclass(frozen=True)
class AlbEdge:
    """The ALB edge of one EKS cluster; see the module docstring.

    Args:
        certificate_arns: the ACM certificates it serves, the default first: ``ingressEdge``'s, and
            the one the program requested and validated for ``ingressDns``'s name.
        web_acl_arn: the regional WAF web ACL it is associated with (none: detached).
        controller: the cluster's AWS Load Balancer Controller release.
    """

    certificate_arns: Sequence[pulumi.Input[str]]
    web_acl_arn: str | None
    controller: pulumi.Resource
    scheme: str = "https"
    port: int = HTTPS_PORT
    # The ALB appends the client's address to X-Forwarded-For.
    trusted_proxies: int = 1

    def build(self, name: str, backend: IngressBackend, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """The Ingress in the gateway's namespace, sending every path to its Service; returns the ALB's host name."""
        service = k8s.networking.v1.IngressServiceBackendArgs(
            name=backend.service, port=k8s.networking.v1.ServiceBackendPortArgs(number=backend.port)
        )
        path = k8s.networking.v1.HTTPIngressPathArgs(
            path="/", path_type="Prefix", backend=k8s.networking.v1.IngressBackendArgs(service=service)
        )
        ingress = k8s.networking.v1.Ingress(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=EDGE_NAME, namespace=backend.namespace, annotations=alb_annotations(self.certificate_arns, self.web_acl_arn, backend)
            ),
            spec=k8s.networking.v1.IngressSpecArgs(
                ingress_class_name=INGRESS_CLASS,
                rules=[k8s.networking.v1.IngressRuleArgs(http=k8s.networking.v1.HTTPIngressRuleValueArgs(paths=[path]))],
            ),
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=[self.controller])),
        )
        return ingress.status.apply(alb_hostname)
