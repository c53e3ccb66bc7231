"""ingressEdge: an ALB in front of an EKS cluster's ingress gateway, made by the AWS Load Balancer
Controller from an Ingress; the gateway's Service becomes ClusterIP, and the mesh check calls the
ALB over HTTPS."""

from __future__ import annotations

import copy
import json
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pytest

from components.cluster.handle import IngressBackend
from components.mesh.check import INGRESS_HOST, PATHS_KEY, east_west_path, ingress_path, paths_file
from components.platforms.aws import edge
from tests.configs import EDGE_CERTIFICATE, EDGE_WEB_ACL, aws_cluster, codes_of, vpc
from tests.expected import gateway_ca_annotations
from tests.harness.changes import Changes, changes
from tests.harness.program import StackRun, run_stack, stack_config
from tests.harness.teardown import load_balancers_left_at_destroy, routes_cut_before_release
from tests.harness.webhooks import refused_at_first_up

INGRESS = "kubernetes:networking.k8s.io/v1:Ingress"


def edged(**edge_fields: Any) -> dict[str, Any]:
    """The eks stack with an ALB in front of cluster-1's ingress gateway alone."""
    clusters = copy.deepcopy(stack_config("eks")["clusters"])
    clusters[0]["ingressEdge"] = {"type": "alb", "certificateArn": EDGE_CERTIFICATE, **edge_fields}
    return {"clusters": clusters}


@pytest.fixture(scope="module")
def eks() -> StackRun:
    return run_stack("eks", edged(webAclArn=EDGE_WEB_ACL))


def alb_host(run: StackRun) -> str:
    return run.named("cluster-1-istio-ingress-edge").outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]


def test_the_ingress_asks_the_controller_for_an_https_alb_that_checks_the_gateways_readiness(eks: StackRun) -> None:
    (ingress,) = eks.of_type(INGRESS)
    assert ingress.name == "cluster-1-istio-ingress-edge"
    assert ingress.inputs["metadata"] == {
        "name": "istio-ingress-edge",
        "namespace": "istio-ingress",
        "annotations": {
            "alb.ingress.kubernetes.io/scheme": "internet-facing",
            "alb.ingress.kubernetes.io/target-type": "ip",
            "alb.ingress.kubernetes.io/listen-ports": '[{"HTTP": 80}, {"HTTPS": 443}]',
            "alb.ingress.kubernetes.io/ssl-redirect": "443",
            "alb.ingress.kubernetes.io/certificate-arn": EDGE_CERTIFICATE,
            "alb.ingress.kubernetes.io/ssl-policy": "ELBSecurityPolicy-TLS13-1-2-2021-06",
            "alb.ingress.kubernetes.io/backend-protocol": "HTTP",
            "alb.ingress.kubernetes.io/healthcheck-protocol": "HTTP",
            "alb.ingress.kubernetes.io/healthcheck-port": "15021",
            "alb.ingress.kubernetes.io/healthcheck-path": "/healthz/ready",
            "alb.ingress.kubernetes.io/wafv2-acl-arn": EDGE_WEB_ACL,
        },
    }
    backend = {"service": {"name": "istio-ingressgateway", "port": {"number": 80}}}
    assert ingress.inputs["spec"] == {
        "ingressClassName": "alb",
        "rules": [{"http": {"paths": [{"path": "/", "pathType": "Prefix", "backend": backend}]}}],
    }
    assert ingress.provider_urn == eks.named("cluster-1-provider").urn
    assert ingress.parent == eks.named("cluster-1-istio-gateways").urn


def test_behind_the_edge_the_gateways_service_is_cluster_ip_and_trusts_one_proxy(eks: StackRun) -> None:
    values = eks.named("cluster-1-istio-ingress").inputs["values"]
    assert values == {
        "name": "istio-ingressgateway",
        "service": {"type": "ClusterIP"},
        "podAnnotations": {
            "istio-multicluster/revision": "1-30-3",
            **gateway_ca_annotations(eks, "cluster-1"),
            "proxy.istio.io/config": json.dumps({"gatewayTopology": {"numTrustedProxies": 1}}),
        },
    }
    # cluster-2 keeps its own internet-facing NLB, read back as before.
    assert (
        eks.named("cluster-2-istio-ingress").inputs["values"]["service"]["annotations"][
            "service.beta.kubernetes.io/aws-load-balancer-scheme"
        ]
        == "internet-facing"
    )
    reads = sorted(r.name for r in eks.resources if r.operation == "read" and r.name.endswith("-ingress-service"))
    assert reads == ["cluster-2-istio-ingress-service"]


def test_with_a_server_header_both_settings_share_the_proxy_config() -> None:
    run = run_stack("eks", {**edged(), "ingressServerHeader": {"value": "web"}})
    config = json.loads(run.named("cluster-1-istio-ingress").inputs["values"]["podAnnotations"]["proxy.istio.io/config"])
    assert config == {"gatewayTopology": {"numTrustedProxies": 1}, "proxyHeaders": {"server": {"value": "web"}}}


def test_the_edge_waits_for_the_controller_and_the_gateway_and_goes_first_on_destroy(eks: StackRun) -> None:
    ingress = "cluster-1-istio-ingress-edge"
    assert eks.needs(ingress, "cluster-1-aws-load-balancer-controller")
    assert eks.needs(ingress, "cluster-1-istio-ingress")
    assert load_balancers_left_at_destroy(eks) == []
    assert routes_cut_before_release(eks) == []
    assert refused_at_first_up(eks) == []


def test_an_edge_made_before_the_controller_serves_is_caught_by_the_harness(monkeypatch: pytest.MonkeyPatch) -> None:
    """The harness's rules see the Ingress: one that skips the controller would be refused by its
    webhook at the first up and left with its ALB at destroy."""

    def unordered(self: edge.AlbEdge, name: str, backend: IngressBackend, opts: pulumi.ResourceOptions) -> pulumi.Output[str]:
        alone = pulumi.ResourceOptions(parent=opts.parent, provider=opts.provider)
        spec = k8s.networking.v1.IngressSpecArgs(ingress_class_name="alb")
        made = k8s.networking.v1.Ingress(name, metadata=k8s.meta.v1.ObjectMetaArgs(name=edge.EDGE_NAME), spec=spec, opts=alone)
        return made.metadata.apply(lambda _: "alb.example")

    monkeypatch.setattr(edge.AlbEdge, "build", unordered)
    run = run_stack("eks", edged(), preview=False)
    assert load_balancers_left_at_destroy(run) == [
        "cluster-1-istio-ingress-edge: cluster-1-istio-ingress-edge may be deleted after cluster-1-aws-load-balancer-controller, "
        "which releases its load balancer"
    ]
    assert refused_at_first_up(run) == [
        "cluster-1-istio-ingress-edge: the load balancer controller's Ingress validator has no endpoints yet"
    ]


def test_every_probe_calls_the_alb_over_https(eks: StackRun) -> None:
    host = alb_host(eks)
    assert host.endswith(".eu-west-1.elb.amazonaws.com") and ".elb.eu-west-1." not in host
    nlb = eks.named("cluster-2-istio-ingress-service").outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]
    for cluster, other in (("cluster-1", "cluster-2"), ("cluster-2", "cluster-1")):
        paths = [
            east_west_path(other, "sample"),
            ingress_path("cluster-1", f"https://{host}:443"),
            ingress_path("cluster-2", f"http://{nlb}:80"),
        ]
        listed = eks.named(f"mesh-check-{cluster}-paths")
        assert listed.inputs["data"] == {PATHS_KEY: paths_file(paths)}
        assert eks.needs(listed.name, "cluster-1-istio-ingress-edge")
    listed = eks.named("mesh-check-cluster-1-paths").inputs["data"][PATHS_KEY]
    assert f"ingress of cluster-1 (https://{host}:443, Host {INGRESS_HOST})|https://{host}:443/hello|{INGRESS_HOST}|" in listed


def test_adding_the_edge_rolls_the_gateway_makes_the_alb_and_rechecks() -> None:
    """The gateway's Service turns ClusterIP in place (the controller deletes its NLB), the ALB is
    made, and every probe runs again: how an ingress is reached is part of what they prove."""
    before = run_stack("eks")
    after = run_stack("eks", edged(), state=before.state())
    assert changes(before, after) == Changes(
        create=frozenset({"cluster-1-istio-ingress-edge"}),
        update=frozenset({"cluster-1-istio-ingress"}),
        replace=frozenset(
            {"mesh-check-cluster-1-probe", "mesh-check-cluster-2-probe", "mesh-check-cluster-1-paths", "mesh-check-cluster-2-paths"}
        ),
    )


def test_removing_the_web_acl_detaches_it_rather_than_leaving_it() -> None:
    """Without the annotation the controller keeps the ALB's web ACL; ``none`` detaches it."""
    before = run_stack("eks", edged(webAclArn=EDGE_WEB_ACL))
    after = run_stack("eks", edged(), state=before.state())
    assert changes(before, after) == Changes(update=frozenset({"cluster-1-istio-ingress-edge"}))
    annotations = after.named("cluster-1-istio-ingress-edge").inputs["metadata"]["annotations"]
    assert annotations["alb.ingress.kubernetes.io/wafv2-acl-arn"] == "none"


def test_a_preview_that_changes_the_ingress_replaces_no_probe() -> None:
    """The ingress addresses, unknown while the gateways change, reach the probes in their paths'
    ConfigMaps, not in the Jobs' templates."""
    running = run_stack("eks", edged())
    preview = run_stack("eks", {**edged(), "ingressServerHeader": {"value": "web"}}, preview=True, state=running.state())
    operations = {r.name: r.operation for r in preview.resources if r.name.startswith("mesh-check-") and r.name.endswith("-probe")}
    assert operations == {"mesh-check-cluster-1-probe": "same", "mesh-check-cluster-2-probe": "same"}


OTHER_REGION_CERTIFICATE = EDGE_CERTIFICATE.replace("eu-west-1", "us-east-1")
GLOBAL_WEB_ACL = EDGE_WEB_ACL.replace("eu-west-1", "us-east-1").replace(":regional/", ":global/")


@pytest.mark.parametrize(
    ("edge_config", "ingress", "expected"),
    [
        (
            {"type": "alb", "certificateArn": OTHER_REGION_CERTIFICATE},
            True,
            (
                "edge-region",
                "clusters[0].ingressEdge.certificateArn (cluster c1): is in us-east-1, but the cluster's ALB is in eu-west-1, "
                "which takes only its own; request or import the certificate in ACM there",
            ),
        ),
        (
            {"type": "alb", "certificateArn": EDGE_CERTIFICATE, "webAclArn": EDGE_WEB_ACL.replace("eu-west-1", "eu-central-1")},
            True,
            (
                "edge-region",
                "clusters[0].ingressEdge.webAclArn (cluster c1): is in eu-central-1, but the cluster's ALB is in eu-west-1, "
                "which takes only its own; create the web ACL with scope REGIONAL there",
            ),
        ),
        (
            {"type": "alb", "certificateArn": EDGE_CERTIFICATE, "webAclArn": GLOBAL_WEB_ACL},
            True,
            (
                "global-web-acl",
                f"clusters[0].ingressEdge.webAclArn (cluster c1): {GLOBAL_WEB_ACL} is a global (CloudFront) web ACL; an ALB "
                "takes a regional one: create it with scope REGIONAL in eu-west-1",
            ),
        ),
        (
            {"type": "alb", "certificateArn": EDGE_CERTIFICATE.replace("arn:aws:", "arn:aws-cn:")},
            True,
            (
                "edge-partition",
                "clusters[0].ingressEdge.certificateArn (cluster c1): is in partition aws-cn, but the cluster's region eu-west-1 "
                "is in aws; request or import the certificate in ACM there",
            ),
        ),
        (
            {"type": "alb", "certificateArn": EDGE_CERTIFICATE},
            False,
            (
                "unused",
                "clusters[0].ingressEdge (cluster c1): puts an ALB in front of the ingress gateway, which this mesh does not run; "
                "set ingressGateway: true, or remove it",
            ),
        ),
        ({"certificateArn": EDGE_CERTIFICATE}, True, ("required", None)),
        ({"type": "alb", "certificateArn": "arn:aws:iam::123456789012:server-certificate/web"}, True, ("pattern", None)),
        ({"type": "nlb", "certificateArn": EDGE_CERTIFICATE}, True, ("choice", None)),
        (
            {"type": "alb"},
            True,
            (
                "required",
                "clusters[0].ingressEdge.certificateArn (cluster c1): is required without ingressDns (whose name the program "
                "would otherwise request a certificate for); give the ARN of an ACM certificate in the cluster's region, or set "
                "ingressDns",
            ),
        ),
        ({"type": "alb", "certificateArn": EDGE_CERTIFICATE, "sslPolicy": "old"}, True, ("unknown-field", None)),
    ],
)
def test_a_bad_edge_is_refused_naming_the_field(edge_config: dict[str, Any], ingress: bool, expected: tuple[str, str | None]) -> None:
    config = {
        "secretsRegion": "eu-west-1",
        "ingressGateway": ingress,
        "vpcs": [vpc()],
        "clusters": [aws_cluster("c1", "n1", ingressEdge=edge_config), aws_cluster("c2", "n2")],
    }
    found = [(code, message) for code, message in codes_of(config) if code != "aws-cli"]
    code, message = expected
    assert [c for c, _ in found] == [code], found
    assert found[0][1].startswith("clusters[0].ingressEdge")
    if message:
        assert found[0][1] == message


def test_removing_the_edge_deletes_the_alb_and_gives_the_gateway_its_nlb_back() -> None:
    before = run_stack("eks", edged())
    after = run_stack("eks", state=before.state())
    assert changes(before, after) == Changes(
        update=frozenset({"cluster-1-istio-ingress"}),
        replace=frozenset(
            {"mesh-check-cluster-1-probe", "mesh-check-cluster-2-probe", "mesh-check-cluster-1-paths", "mesh-check-cluster-2-paths"}
        ),
        delete=frozenset({"cluster-1-istio-ingress-edge"}),
    )
    assert (
        after.named("cluster-1-istio-ingress").inputs["values"]["service"]["annotations"][
            "service.beta.kubernetes.io/aws-load-balancer-scheme"
        ]
        == "internet-facing"
    )
