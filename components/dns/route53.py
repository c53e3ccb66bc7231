"""MeshDns: the mesh's one name in Route 53, a record per cluster's ingress, each answered only while
that ingress is healthy.

Each record carries the cluster's name as its set identifier and the mesh's routing: ``latency``
(the record names the cluster's AWS region; Route 53 answers with the healthy record nearest the
client) or ``weighted`` (equal weights: any healthy record). Where the cluster's platform names
its load balancers' hosted zone (AWS: ``ClusterHandle.load_balancer_zone``) the record is an alias
of the ingress's load balancer with ``evaluate_target_health``: Route 53 answers it while the load
balancer has healthy targets, which for an ALB edge are the gateway pods passing its
``/healthz/ready`` check, and alias queries and checks cost nothing. Elsewhere (AKS's public IPs)
the record is an A record of the ingress address with a Route 53 health check of the gateway's
status port and ready path, which the gateway Service exposes on its load balancer (the gateway
chart's ``status-port``). Route 53 is global; its records go through a provider of their own.

Records follow the ingress addresses: a replaced load balancer changes its record in place;
``pulumi destroy`` deletes each record before the load balancer it names.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.model import DnsRouting, IngressDns
from components.istio.facts import READY_PATH, STATUS_PORT

# Route 53 is global: its API is served from us-east-1 for the aws partition.
ROUTE53_REGION = "us-east-1"
RECORD_TTL = 60
CHECK_INTERVAL_SECONDS = 30
FAILURE_THRESHOLD = 3
WEIGHT = 1


@dataclass(frozen=True)
class MeshDnsArgs:
    """Inputs of ``MeshDns``.

    Args:
        dns: the zone, the name and the routing.
        clusters: every cluster's handle, by name.
        ingress: every cluster's ingress address (host name or IP), by name.
    """

    dns: IngressDns
    clusters: Mapping[str, ClusterHandle]
    ingress: Mapping[str, pulumi.Output[str]]


class MeshDns(pulumi.ComponentResource):
    """See the module docstring. Output ``name``: the mesh's name, once every record exists."""

    name: pulumi.Output[str]

    def __init__(self, name: str, args: MeshDnsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.DNS.type, name, None, opts)
        provider = aws.Provider(names.DNS_PROVIDER.name(dns=name), region=ROUTE53_REGION, opts=pulumi.ResourceOptions(parent=self))
        self._on_route53 = pulumi.ResourceOptions(parent=self, provider=provider)
        self._dns = args.dns
        assert args.dns.zone_id is not None, "the config layer requires zoneId with route53"
        self._zone_id = args.dns.zone_id
        records = [self._record(name, cluster, args.clusters[cluster], address) for cluster, address in sorted(args.ingress.items())]
        self.name = pulumi.Output.all(*(r.fqdn for r in records)).apply(lambda _: args.dns.name)
        self.register_outputs({"name": self.name})

    def _record(self, name: str, cluster: str, handle: ClusterHandle, address: pulumi.Output[str]) -> aws.route53.Record:
        """The cluster's record: an alias of its load balancer, else its IP with a health check."""
        latency, weighted = self._routing(handle)
        resource = names.DNS_RECORD.name(dns=name, cluster=cluster)
        if handle.load_balancer_zone is not None:
            alias = aws.route53.RecordAliasArgs(name=address, zone_id=handle.load_balancer_zone(address), evaluate_target_health=True)
            return aws.route53.Record(
                resource, zone_id=self._zone_id, name=self._dns.name, type="A", set_identifier=cluster, aliases=[alias],
                latency_routing_policies=latency, weighted_routing_policies=weighted, opts=self._on_route53,
            )  # fmt: skip
        check = aws.route53.HealthCheck(
            names.DNS_HEALTH_CHECK.name(dns=name, cluster=cluster),
            type="HTTP",
            ip_address=address,
            port=STATUS_PORT,
            resource_path=READY_PATH,
            request_interval=CHECK_INTERVAL_SECONDS,
            failure_threshold=FAILURE_THRESHOLD,
            tags={"Name": f"{self._dns.name} {cluster}"},
            opts=self._on_route53,
        )
        return aws.route53.Record(
            resource, zone_id=self._zone_id, name=self._dns.name, type="A", set_identifier=cluster, records=[address],
            ttl=RECORD_TTL, health_check_id=check.id, latency_routing_policies=latency, weighted_routing_policies=weighted,
            opts=self._on_route53,
        )  # fmt: skip

    def _routing(
        self, handle: ClusterHandle
    ) -> tuple[list[aws.route53.RecordLatencyRoutingPolicyArgs] | None, list[aws.route53.RecordWeightedRoutingPolicyArgs] | None]:
        """The record's routing policy: the cluster's region (latency), or an equal weight."""
        if self._dns.routing is DnsRouting.LATENCY:
            return [aws.route53.RecordLatencyRoutingPolicyArgs(region=handle.spec.region)], None
        return None, [aws.route53.RecordWeightedRoutingPolicyArgs(weight=WEIGHT)]
