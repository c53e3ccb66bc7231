"""ClusterHandle: all the cloud-agnostic mesh code knows of a cluster.

AKS, EKS and existing clusters each produce one; IstioControlPlane, MeshLink and MeshCheck see clusters
only through it. That seam is what lets one mesh hold N clusters of mixed clouds.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

import pulumi
import pulumi_kubernetes as k8s

from components.config.model import ClusterSpec


@dataclass(frozen=True)
class CaFiles:
    """The cluster's plug-in CA delivered to istiod as files by the secrets-store CSI driver, instead
    of the ``cacerts`` Secret, so that the CA key never sits in a Kubernetes Secret.

    Args:
        provider: the CSI provider's name in the SecretProviderClass, e.g. ``azure``.
        parameters: the SecretProviderClass's parameters; they must deliver exactly ``ca-cert.pem``,
            ``ca-key.pem``, ``root-cert.pem`` and ``cert-chain.pem``.
        pod_labels: labels istiod's pods need for their identity (default none).
        service_account_annotations: annotations istiod's service account needs (default none).
        needs: what must exist before istiod starts: the identity, its grants, the stored files.
    """

    provider: str
    parameters: Mapping[str, pulumi.Input[str]]
    pod_labels: Mapping[str, str] = field(default_factory=dict)
    service_account_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    needs: Sequence[pulumi.Resource] = ()


@dataclass(frozen=True)
class IngressBackend:
    """Where an edge in front of the ingress gateway sends traffic and checks its health.

    Args:
        namespace: the ingress gateway's namespace.
        service: its Service's name (a ClusterIP Service behind an edge).
        port: the Service's plain HTTP port, which the edge sends to once it has opened TLS.
        status_port: the gateway's health port; ``ready_path`` on it answers 200 while Envoy is ready.
        ready_path: the readiness path on ``status_port``.
    """

    namespace: pulumi.Input[str]
    service: str
    port: int
    status_port: int
    ready_path: str


class IngressEdge(Protocol):
    """A cloud load balancer a platform puts in front of a cluster's ingress gateway (an AWS ALB
    holding the TLS certificate, say), so that the gateway's own Service need not face the internet.
    The mesh makes the gateway, then asks the edge for what sends to it."""

    @property
    def scheme(self) -> str:
        """How clients reach the edge: ``https``."""
        ...

    @property
    def port(self) -> int:
        """The edge's port for ``scheme``."""
        ...

    @property
    def trusted_proxies(self) -> int:
        """How many proxies in front of the gateway append to X-Forwarded-For (Istio's
        ``gatewayTopology.numTrustedProxies``), so that the gateway sees the client's address."""
        ...

    def build(self, name: str, backend: IngressBackend, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        """Make the edge as resource ``name`` with ``opts`` (which wait for the gateway); returns
        its address (host name or IP)."""
        ...


@dataclass(frozen=True)
class ClusterHandle:
    """A cluster ready for Istio.

    Args:
        spec: the cluster's part of the config (its ``name``, the Istio cluster ID, its ``network``,
            role, primary and istiod values): the mesh receives it with the handle.
        provider: the kubernetes Provider every object on this cluster must use.
        api_server_url: the API server URL other clusters' pods dial (never loopback).
        eastwest_annotations: annotations for the east-west gateway Service, which make it the
            right cloud load balancer, e.g. internal where the clusters are peered (default: none).
        ingress_annotations: annotations for the north-south ingress gateway Service, which is
            reached from outside and so never internal by default (default: none).
        ready: resources that must exist before load-balanced workloads, e.g. a MetalLB address
            pool (default: none).
        crossing: resources that traffic from other clusters crosses to reach this one's pods,
            e.g. VNet peerings on one flat network; the mesh's probes wait for them (default: none).
        schedulable: resources that must exist before anything runs pods on the cluster, e.g. node
            groups; on destroy they outlive every workload (default: none, the cluster has nodes).
        eastwest_source_ranges: the only CIDRs the east-west gateway's load balancer admits, for a
            gateway the internet can reach (default none: no restriction; right for internal ones).
        ca_files: the CA delivered as files instead of the ``cacerts`` Secret (default none: the Secret).
        gateway_dns_names: DNS names that cover this cluster's load-balancer host names, for
            certificates of services reached through them, e.g. ``*.elb.eu-west-1.amazonaws.com``
            for AWS NLBs (default none: load balancers have IP addresses).
        chart_platform: the platform profile every Istio chart on the cluster applies
            (``global.platform``, e.g. ``k3s``; default none: upstream Kubernetes paths).
        ingress_edge: what the platform puts in front of the ingress gateway; with one the gateway's
            Service is ClusterIP and ``ingress_annotations`` are not used (default none: the gateway's
            own load balancer faces clients).
        load_balancer_zone: given one of its load balancers' host names, the Route 53 hosted zone an
            alias record to it names, for ``ingressDns`` (AWS; default none: its load balancers have
            IP addresses, named by A records with Route 53 health checks).
    """

    spec: ClusterSpec
    provider: k8s.Provider
    api_server_url: pulumi.Input[str]
    eastwest_annotations: Mapping[str, str] = field(default_factory=dict)
    ingress_annotations: Mapping[str, str] = field(default_factory=dict)
    ready: Sequence[pulumi.Resource] = ()
    crossing: Sequence[pulumi.Resource] = ()
    schedulable: Sequence[pulumi.Resource] = ()
    eastwest_source_ranges: pulumi.Input[Sequence[str]] | None = None
    ca_files: CaFiles | None = None
    gateway_dns_names: Sequence[str] = ()
    chart_platform: str | None = None
    ingress_edge: IngressEdge | None = None
    load_balancer_zone: Callable[[pulumi.Output[str]], pulumi.Output[str]] | None = None

    @property
    def name(self) -> str:
        """The cluster's unique name, the Istio cluster ID."""
        return self.spec.name

    @property
    def network(self) -> str:
        """The cluster's Istio network."""
        return self.spec.network
