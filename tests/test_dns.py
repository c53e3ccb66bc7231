"""ingressDns: one Route 53 name over every cluster's ingress, each record answered only while its
ingress is healthy; and with it the ACM certificates of ALB edges that name none."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config.problems import ConfigError
from components.platforms.aws.cluster import load_balancer_name
from tests.configs import aws_cluster, codes_of, existing_cluster, two_azure, vpc
from tests.harness.changes import Changes, changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import OPERATOR_SET, StackRun, run_program, run_stack, shipped_config, stack_config
from tests.harness.route53 import record_set
from tests.harness.stores import PRIVATE_ZONE
from tests.harness.teardown import load_balancers_left_at_destroy, routes_cut_before_release
from tests.harness.webhooks import refused_at_first_up

RECORD = "aws:route53/record:Record"
CHECK = "aws:route53/healthCheck:HealthCheck"
ZONE = "Z0123456789ABCDEFGHIJ"
NAME = "mesh.example.com"
# Elastic Load Balancing's canonical hosted zones of ALBs in the two regions (the mock's table).
ALB_ZONES = {"eu-west-1": "Z32O12XQLNTSW2", "us-east-1": "Z35SXDOTRQ7X7K"}
CLUSTERS = {"eu-1": "eu-west-1", "us-1": "us-east-1"}


@pytest.fixture(scope="module")
def edge() -> StackRun:
    return run_stack("eks-edge", OPERATOR_SET["eks-edge"])


def edge_host(run: StackRun, cluster: str) -> str:
    return run.named(f"{cluster}-istio-ingress-edge").outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]


def test_each_cluster_has_a_latency_alias_of_its_alb_that_follows_its_health(edge: StackRun) -> None:
    records = [r for r in edge.of_type(RECORD) if r.name.startswith("ingress-dns-")]
    assert sorted(r.name for r in records) == ["ingress-dns-eu-1", "ingress-dns-us-1"]
    for cluster, region in CLUSTERS.items():
        record = edge.named(f"ingress-dns-{cluster}")
        assert record.inputs == {
            "zoneId": ZONE,
            "name": NAME,
            "type": "A",
            "setIdentifier": cluster,
            "aliases": [{"name": edge_host(edge, cluster), "zoneId": ALB_ZONES[region], "evaluateTargetHealth": True}],
            "latencyRoutingPolicies": [{"region": region}],
        }
        assert edge.needs(record.name, f"{cluster}-istio-ingress-edge")
        # Route 53 is global: one provider of its own, whatever the clusters' regions.
        assert edge.by_urn(record.provider_urn).name == "ingress-dns-route53"
        assert edge.by_urn(record.provider_urn).inputs["region"] == "us-east-1"
    assert edge.of_type(CHECK) == []
    assert edge.outputs["ingressDns"] == NAME


def test_each_edge_serves_a_certificate_for_the_name_issued_in_its_region(edge: StackRun) -> None:
    validation = edge.named("edge-certificates-validation")
    for cluster, region in CLUSTERS.items():
        certificate = edge.named(f"edge-certificates-{region}")
        assert certificate.inputs == {"domainName": NAME, "validationMethod": "DNS", "tags": {"Name": NAME}}
        assert certificate.outputs["arn"].startswith(f"arn:aws:acm:{region}:")
        assert edge.by_urn(certificate.provider_urn).inputs["region"] == region
        issued = edge.named(f"edge-certificates-{region}-validation")
        assert issued.inputs == {"certificateArn": certificate.outputs["arn"], "validationRecordFqdns": [validation.outputs["fqdn"]]}
        annotations = edge.named(f"{cluster}-istio-ingress-edge").inputs["metadata"]["annotations"]
        assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == certificate.outputs["arn"]
        # The ALB waits until ACM issued it.
        assert edge.needs(f"{cluster}-istio-ingress-edge", issued.name)


def test_one_validation_record_serves_every_region(edge: StackRun) -> None:
    """ACM's validation CNAME of one name is the same in every region: one record, made from the
    first region's certificate; a second would be the same record set written twice."""
    records = [r for r in edge.of_type(RECORD) if r.name.startswith("edge-certificates-")]
    assert [r.name for r in records] == ["edge-certificates-validation"]
    # Made from the first region's certificate (the mock gives every region the same option, as ACM does).
    option = edge.named("edge-certificates-eu-west-1").outputs["domainValidationOptions"][0]
    assert records[0].inputs == {
        "zoneId": ZONE,
        "name": option["resourceRecordName"],
        "type": "CNAME",
        "records": [option["resourceRecordValue"]],
        "ttl": 300,
        "allowOverwrite": True,
    }


def test_an_edge_with_its_own_certificate_serves_the_names_too_by_sni(edge: StackRun) -> None:
    """The given certificate is the listener's default; the program's for the mesh's name comes
    second (chosen by SNI), so the name is served with a certificate naming it whatever the given
    one covers (the probe's --insecure would hide a mismatch)."""
    config = shipped_config("eks-edge")
    arn = "arn:aws:acm:us-east-1:123456789012:certificate/0f5c3c1e-8b2a-4d6f-9e1a-2b3c4d5e6f70"
    config["clusters"][1]["ingressEdge"] = {"type": "alb", "certificateArn": arn}
    run = run_stack("eks-edge", config)
    certificates = sorted(r.name for r in run.resources if r.type == "aws:acm/certificate:Certificate")
    assert certificates == ["edge-certificates-eu-west-1", "edge-certificates-us-east-1"]
    annotations = run.named("us-1-istio-ingress-edge").inputs["metadata"]["annotations"]
    programs = run.named("edge-certificates-us-east-1").outputs["arn"]
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"] == f"{arn},{programs}"
    assert run.needs("us-1-istio-ingress-edge", "edge-certificates-us-east-1-validation")
    # Giving the certificate changes only the Ingress's annotation.
    assert changes(edge, run_stack("eks-edge", config, state=edge.state())) == Changes(update=frozenset({"us-1-istio-ingress-edge"}))


def aks_dns(routing: str = "weighted") -> dict[str, Any]:
    return {"ingressDns": {"zoneId": ZONE, "name": NAME, "routing": routing}}


def test_an_ip_ingress_gets_an_a_record_with_a_health_check_of_the_gateways_readiness() -> None:
    run = run_stack("aks", aks_dns())
    for cluster in ("westeurope-aks", "eastus-aks"):
        address = run.named(f"{cluster}-istio-ingress-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
        check = run.named(f"ingress-dns-{cluster}-health")
        assert check.inputs == {
            "type": "HTTP",
            "ipAddress": address,
            "port": 15021,
            "resourcePath": "/healthz/ready",
            "requestInterval": 30,
            "failureThreshold": 3,
            "tags": {"Name": f"{NAME} {cluster}"},
        }
        assert run.named(f"ingress-dns-{cluster}").inputs == {
            "zoneId": ZONE,
            "name": NAME,
            "type": "A",
            "setIdentifier": cluster,
            "records": [address],
            "ttl": 60,
            "healthCheckId": check.id,
            "weightedRoutingPolicies": [{"weight": 1}],
        }


def test_adding_the_name_to_a_running_mesh_only_adds_records() -> None:
    before = run_stack("aks")
    after = run_stack("aks", aks_dns(), state=before.state())
    done = changes(before, after)
    assert (done.update, done.replace, done.delete) == (frozenset(), frozenset(), frozenset())
    assert done.create == frozenset(
        {"ingress-dns", "ingress-dns-route53", "ingress-dns-zones"}
        | {f"ingress-dns-{c}{part}" for c in ("westeurope-aks", "eastus-aks") for part in ("", "-health")}
    )


DNS = {"zoneId": ZONE, "name": NAME}


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        (
            {**two_azure(), "ingressGateway": True, "ingressDns": {**DNS, "routing": "latency"}},
            [
                (
                    "latency-needs-aws",
                    "ingressDns.routing: latency needs every cluster in an AWS region (each latency record names one); "
                    "cluster westeurope-aks is on azure: set routing: weighted",
                ),
                (
                    "latency-needs-aws",
                    "ingressDns.routing: latency needs every cluster in an AWS region (each latency record names one); "
                    "cluster eastus-aks is on azure: set routing: weighted",
                ),
            ],
        ),
        (
            {
                "ingressGateway": True,
                "ingressDns": {**DNS, "routing": "weighted"},
                "clusters": [existing_cluster("k1", "n1"), existing_cluster("k2", "n2")],
            },
            [
                (
                    "dns-existing",
                    f"ingressDns: cannot name cluster {name}: it is an existing cluster, whose ingress address may be private, and "
                    "Route 53 health-checks only public ones; remove ingressDns, or the cluster",
                )
                for name in ("k1", "k2")
            ],
        ),
        (
            {**two_azure(), "ingressGateway": False, "ingressDns": {**DNS, "routing": "weighted"}},
            [
                (
                    "unused",
                    "ingressDns: names the clusters' ingresses, which this mesh does not run; set ingressGateway: true, or remove it",
                )
            ],
        ),
    ],
)
def test_a_name_the_clusters_cannot_have_is_refused(config: dict[str, Any], expected: list[tuple[str, str]]) -> None:
    assert [(c, m) for c, m in codes_of(config) if c != "aws-cli"] == expected


@pytest.mark.parametrize(
    ("dns", "code"),
    [
        ({"name": NAME}, "required"),
        ({"zoneId": ZONE}, "required"),
        ({**DNS, "name": "Mesh.Example.com"}, "pattern"),
        ({**DNS, "name": "mesh.example.com."}, "pattern"),
        ({**DNS, "zoneId": "/hostedzone/Z0123"}, "pattern"),
        ({**DNS, "routing": "failover"}, "choice"),
        ({**DNS, "ttl": 30}, "unknown-field"),
    ],
)
def test_a_bad_name_is_refused_naming_the_field(dns: dict[str, Any], code: str) -> None:
    config = {"secretsRegion": "eu-west-1", "ingressGateway": True, "ingressDns": dns, "vpcs": [vpc()]}
    config["clusters"] = [aws_cluster("c1", "n1"), aws_cluster("c2", "n2")]
    found = [(c, m) for c, m in codes_of(config) if c != "aws-cli"]
    assert [c for c, _ in found] == [code], found
    assert found[0][1].startswith("ingressDns")


def test_the_shipped_edge_stack_refuses_to_start_without_its_zone_and_name() -> None:
    config = stack_config("eks-edge")
    found = [(c, m) for c, m in codes_of(config) if c != "aws-cli"]
    assert [m.split(":")[0] for _, m in found] == ["ingressDns.name", "ingressDns.zoneId"]


def test_the_edge_stack_is_ordered_both_ways_and_previews(edge: StackRun) -> None:
    """Records go before the ALBs they name, ALBs before the controllers that delete them and
    before the certificates they serve; a first preview reads nothing it creates."""
    assert load_balancers_left_at_destroy(edge) == []
    assert routes_cut_before_release(edge) == []
    assert refused_at_first_up(edge) == []
    for cluster, region in CLUSTERS.items():
        assert edge.needs(f"ingress-dns-{cluster}", f"{cluster}-istio-ingress-edge")
        assert edge.needs(f"{cluster}-istio-ingress-edge", f"edge-certificates-{region}")
    preview = run_stack("eks-edge", OPERATOR_SET["eks-edge"], preview=True)
    assert [r.id for r in preview.resources if r.operation == "read"] == ["", ""]


TRAFFIC_MANAGER = {"service": "trafficManager", "name": "istio-mesh-prod"}


def test_on_aks_a_traffic_manager_profile_probes_every_ingress_and_routes_by_performance() -> None:
    run = run_stack("aks", {"ingressDns": TRAFFIC_MANAGER})
    group = run.named("ingress-dns-group")
    assert group.inputs == {"resourceGroupName": "istio-mesh-dns-mesh1-aks", "location": "eastus"}
    addresses = {
        c: run.named(f"{c}-istio-ingress-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
        for c in ("westeurope-aks", "eastus-aks")
    }
    profile = run.named("ingress-dns-profile")
    endpoint = {"type": "Microsoft.Network/trafficManagerProfiles/externalEndpoints", "endpointStatus": "Enabled", "weight": 1}
    assert profile.inputs == {
        "resourceGroupName": "istio-mesh-dns-mesh1-aks",
        "profileName": "istio-mesh-prod",
        "location": "global",
        "profileStatus": "Enabled",
        "trafficRoutingMethod": "Performance",
        "dnsConfig": {"relativeName": "istio-mesh-prod", "ttl": 60},
        "monitorConfig": {
            "protocol": "HTTP",
            "port": 15021,
            "path": "/healthz/ready",
            "intervalInSeconds": 30,
            "timeoutInSeconds": 10,
            "toleratedNumberOfFailures": 3,
        },
        "endpoints": [
            {**endpoint, "name": "eastus-aks", "target": addresses["eastus-aks"], "endpointLocation": "eastus"},
            {**endpoint, "name": "westeurope-aks", "target": addresses["westeurope-aks"], "endpointLocation": "westeurope"},
        ],
    }
    assert run.needs(profile, group)
    assert run.outputs["ingressDns"] == "istio-mesh-prod.trafficmanager.net"
    assert [r for r in run.resources if r.type.startswith("aws:")] == []


def test_weighted_traffic_manager_routing_and_adding_a_cluster_update_the_profile_in_place() -> None:
    before = run_stack("aks", {"ingressDns": TRAFFIC_MANAGER})
    after = run_stack("aks", {"ingressDns": {**TRAFFIC_MANAGER, "routing": "weighted"}}, state=before.state())
    assert changes(before, after) == Changes(update=frozenset({"ingress-dns-profile"}))
    assert after.named("ingress-dns-profile").inputs["trafficRoutingMethod"] == "Weighted"


@pytest.mark.parametrize(
    ("dns", "code", "message"),
    [
        (
            {**TRAFFIC_MANAGER, "zoneId": ZONE},
            "unused",
            "ingressDns.zoneId: names a Route 53 zone, which trafficManager does not use; remove it",
        ),
        (
            {**TRAFFIC_MANAGER, "name": NAME},
            "dns-label",
            f"ingressDns.name: {NAME} is more than one label; trafficManager takes the profile's relative name, e.g. istio-mesh-prod",
        ),
        (
            {"name": "mesh"},
            "required",
            "ingressDns.zoneId: is required with service route53; give the ID of the public hosted zone that holds name",
        ),
        (
            {"zoneId": ZONE, "name": "mesh"},
            "dns-name",
            "ingressDns.name: mesh is one label; with route53 give the full name in the zone, e.g. mesh.example.com",
        ),
    ],
)
def test_each_service_takes_its_own_fields(dns: dict[str, Any], code: str, message: str) -> None:
    assert codes_of({**two_azure(), "ingressGateway": True, "ingressDns": {**dns, "routing": "weighted"}}) == [(code, message)]


def test_traffic_manager_names_aks_clusters_only() -> None:
    config = {**shipped_config("multicloud"), "ingressGateway": True, "ingressDns": TRAFFIC_MANAGER}
    found = [(c, m) for c, m in codes_of(config) if c != "aws-cli"]
    assert found == [
        (
            "traffic-manager-needs-aks",
            "ingressDns.service: trafficManager names AKS ingresses only; cluster eu-west-1-eks is on aws: use service: route53",
        )
    ]


@pytest.mark.parametrize(
    ("dns", "expected"),
    [
        (
            {"zoneId": ZONE, "name": "mesh.example.org"},
            (
                "outside-zone",
                f"ingressDns.name: mesh.example.org is not inside zone {ZONE} (example.com); name one that ends in .example.com",
            ),
        ),
        (
            {"zoneId": PRIVATE_ZONE, "name": "mesh.internal.example.com"},
            (
                "zone-unreadable",
                f"ingressDns.zoneId: {PRIVATE_ZONE} is a private hosted zone, which answers only inside its VPCs; name a public one",
            ),
        ),
        (
            {"zoneId": "Z9NOSUCHZONE", "name": NAME},
            (
                "zone-unreadable",
                "ingressDns.zoneId: could not be read (StatusCode: 404, NoSuchHostedZone: No hosted zone found with ID: "
                "Z9NOSUCHZONE): check the ID, and that the deployer may call route53:GetHostedZone",
            ),
        ),
    ],
)
def test_the_program_reads_the_zone_before_any_resource(dns: dict[str, Any], expected: tuple[str, str]) -> None:
    """A name outside its zone, or a private zone, would be refused by Route 53 only when the up
    creates the records, after the clusters."""
    config = {**shipped_config("eks-edge"), "ingressDns": {**dns, "routing": "latency"}}
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="eks-edge", mocks=mocks)
    assert [(p.code, str(p)) for p in raised.value.problems if p.code != "aws-cli"] == [expected]
    assert mocks.monitor is not None
    assert [r.type for r in mocks.monitor.registered] == ["pulumi:providers:aws"]


def test_the_zone_is_read_through_a_provider_of_its_own(edge: StackRun) -> None:
    provider = edge.named("ingress-dns-zones")
    assert provider.type == "pulumi:providers:aws" and provider.inputs["region"] == "us-east-1"


def test_a_new_name_replaces_the_records_and_the_certificates_new_ones_first(edge: StackRun) -> None:
    config = copy.deepcopy(OPERATOR_SET["eks-edge"])
    config["ingressDns"]["name"] = "shop.example.com"
    after = run_stack("eks-edge", config, state=edge.state())
    done = changes(edge, after)
    replaced = {"ingress-dns-eu-1", "ingress-dns-us-1", "edge-certificates-validation"}
    replaced |= {f"edge-certificates-{r}{part}" for r in CLUSTERS.values() for part in ("", "-validation")}
    assert done.replace == frozenset(replaced)
    assert done.update == frozenset({"eu-1-istio-ingress-edge", "us-1-istio-ingress-edge"})
    assert (done.create, done.delete) == (frozenset(), frozenset())
    assert not any(r.delete_first for r in after.resources if r.name in replaced)


def test_the_validation_record_stays_when_a_region_that_sorts_first_comes(edge: StackRun) -> None:
    """Its provider is its own, not the first region's: an edge added in eu-west-1, which sorts
    before us-east-1, adds that region's certificate and leaves the one record alone (a replacement,
    made first, would be the same record set written twice)."""
    config = shipped_config("eks-edge")
    del config["clusters"][0]["ingressEdge"]
    before = run_stack("eks-edge", config)
    assert [r.name for r in before.resources if r.type == "aws:acm/certificate:Certificate"] == ["edge-certificates-us-east-1"]
    done = changes(before, run_stack("eks-edge", shipped_config("eks-edge"), state=before.state()))
    assert {"edge-certificates-eu-west-1", "edge-certificates-eu-west-1-validation"} <= done.create
    assert "edge-certificates-validation" not in done.touched
    assert edge.by_urn(edge.named("edge-certificates-validation").provider_urn).name == "edge-certificates-route53"


def test_latency_takes_one_cluster_per_region() -> None:
    config = {**stack_config("eks"), "ingressGateway": True, "ingressDns": {**DNS, "routing": "latency"}}
    assert [(c, m) for c, m in codes_of(config) if c != "aws-cli"] == [
        (
            "latency-one-per-region",
            "ingressDns.routing: latency takes one record per AWS region, and cluster-1 and cluster-2 are both in eu-west-1: "
            "set routing: weighted",
        )
    ]


def test_route53_is_refused_for_a_cluster_in_another_partition() -> None:
    clusters = [aws_cluster("c1", "n1", region="cn-north-1", vpc="cn"), aws_cluster("c2", "n2", region="cn-north-1", vpc="cn")]
    cn = vpc("cn", region="cn-north-1", zones=["cn-north-1a", "cn-north-1b"])
    config = {"secretsRegion": "cn-north-1", "ingressGateway": True, "ingressDns": {**DNS, "routing": "weighted"}, "vpcs": [cn]}
    found = [(c, m) for c, m in codes_of({**config, "clusters": clusters}) if c == "dns-partition"]
    assert found == [
        (
            "dns-partition",
            f"clusters[{i}].region (cluster c{i + 1}): cn-north-1 is in partition aws-cn, whose Route 53 the program does not use; "
            "remove ingressDns, or run this cluster in a mesh without it",
        )
        for i in (0, 1)
    ]


@pytest.mark.parametrize(
    ("host", "name"),
    [
        ("k8s-istioing-istioing-1a2b3c4d5e-1234567890.eu-west-1.elb.amazonaws.com", "k8s-istioing-istioing-1a2b3c4d5e"),
        ("k8s-istioing-istioing-0a1b2c3d4e-0123456789abcdef.elb.us-east-1.amazonaws.com", "k8s-istioing-istioing-0a1b2c3d4e"),
        ("edge-7-9876543210.eu-west-1.elb.amazonaws.com", "edge-7"),
    ],
)
def test_a_load_balancers_name_is_read_from_its_host_name(host: str, name: str) -> None:
    """Independently of the mock, which parses host names the same way: ALB and NLB forms as AWS gives them."""
    assert load_balancer_name(host) == name


def test_the_validation_record_takes_over_one_an_operators_certificate_made() -> None:
    """ACM gives one name one validation CNAME per account: an operator's certificate for the name,
    validated in the zone, made it already. UPSERT it (allow_overwrite) and keep it at destroy."""
    mocks = MeshMocks()
    probe = run_stack("eks-edge", OPERATOR_SET["eks-edge"])
    record = probe.named("edge-certificates-validation")
    mocks.foreign_record_sets = [record_set(record.inputs)]
    run = run_stack("eks-edge", OPERATOR_SET["eks-edge"], mocks=mocks)
    assert run.named("edge-certificates-validation").inputs["allowOverwrite"] is True
