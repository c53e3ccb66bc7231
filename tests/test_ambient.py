"""``dataplane: ambient``: Pulumi.kind-ambient.yaml, ambient on the clouds, the refusals, and switching a mesh.

Per cluster: the Gateway API CRDs, then istiod (ambient profile, multi-network), then istio-cni and
ztunnel and the HBONE east-west Gateway; MeshCheck without sidecars.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

import pytest
import yaml
from pulumi.runtime import rpc

from components.config.mesh_names import ProbeSet
from components.mesh.check import CLASSIC_SIDECAR, probe_script
from tests.configs import AKS, EKS, OPERATORS, parse, problems_of, two_azure
from tests.expected import AKS_EGRESS, EKS_EGRESS, NLB_INTERNET_FACING, ca_bundle_annotation, gateway_ca_annotations, istiod_identity
from tests.harness.changes import Changes, changes
from tests.harness.program import StackRun, run_stack, stack_config
from tests.harness.teardown import load_balancers_left_at_destroy
from tests.harness.webhooks import refused_at_first_up

CLUSTERS = ("kind-1", "kind-2")
HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
GATEWAY_API_CRDS = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml"
ISTIO_CHARTS = {"repo": "https://istio-release.storage.googleapis.com/charts"}
HBONE_LISTENER = {
    "name": "mesh",
    "port": 15008,
    "protocol": "HBONE",
    "tls": {"mode": "Terminate", "options": {"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"}},
}
INTERNAL_NLB = {**NLB_INTERNET_FACING, "service.beta.kubernetes.io/aws-load-balancer-scheme": "internal"}


@pytest.fixture(scope="module")
def ambient() -> StackRun:
    return run_stack("kind-ambient")


def test_the_shipped_stack_is_the_kind_mesh_in_ambient() -> None:
    spec = parse(stack_config("kind-ambient"))
    assert (spec.dataplane.value, spec.topology.value, spec.networks, spec.verify) == (
        "ambient",
        "multi-primary",
        ("network1", "network2"),
        True,
    )
    kind = stack_config("kind")
    assert stack_config("kind-ambient") == {**kind, "dataplane": "ambient"}


def test_istiod_runs_the_ambient_profile_across_networks(ambient: StackRun) -> None:
    for index, cluster in enumerate(CLUSTERS, start=1):
        assert ambient.named(f"{cluster}-istio-istiod-1-30-3").inputs["values"] == {
            **istiod_identity(cluster, f"network{index}"),
            **ca_bundle_annotation(ambient),
            "profile": "ambient",
            "env": {
                "AMBIENT_ENABLE_MULTI_NETWORK": "true",
                "AMBIENT_ENABLE_MULTI_NETWORK_INGRESS": "true",
                "AMBIENT_ENABLE_BAGGAGE": "true",
            },
            "meshConfig": {"accessLogFile": "/dev/stdout"},
        }


def test_cni_and_ztunnel_come_from_the_default_tags_release(ambient: StackRun) -> None:
    for index, cluster in enumerate(CLUSTERS, start=1):
        cni = ambient.named(f"{cluster}-istio-cni").inputs
        assert (cni["name"], cni["chart"], cni["version"], cni["namespace"], cni["repositoryOpts"]) == (
            "istio-cni", "cni", "1.30.3", "istio-system", ISTIO_CHARTS,
        )  # fmt: skip
        assert cni["values"] == {"profile": "ambient"}
        ztunnel = ambient.named(f"{cluster}-istio-ztunnel").inputs
        assert (ztunnel["name"], ztunnel["chart"], ztunnel["version"], ztunnel["namespace"]) == (
            "ztunnel",
            "ztunnel",
            "1.30.3",
            "istio-system",
        )
        # ztunnel names its cluster and network as istiod does, and takes certificates from istiod-1-30-3.
        assert ztunnel["values"] == {"multiCluster": {"clusterName": cluster}, "network": f"network{index}", "revision": "1-30-3"}
        assert ambient.named(f"{cluster}-istio-cni").provider_urn == ambient.named(f"{cluster}-provider").urn


def test_the_east_west_gateway_is_an_hbone_gateway_api_gateway(ambient: StackRun) -> None:
    for index, cluster in enumerate(CLUSTERS, start=1):
        gateway = ambient.named(f"{cluster}-istio-eastwest")
        assert gateway.type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"
        assert gateway.inputs["metadata"] == {
            "name": "istio-eastwest",
            "namespace": "istio-system",
            "labels": {"topology.istio.io/network": f"network{index}", "istio.io/rev": "1-30-3"},
            "annotations": {"pulumi.com/waitFor": "condition=Programmed"},
        }
        # Its pods roll with the CA: it terminates HBONE with its own certificate.
        infrastructure = {"annotations": gateway_ca_annotations(ambient, cluster)}
        assert gateway.inputs["spec"] == {
            "gatewayClassName": "istio-east-west",
            "listeners": [HBONE_LISTENER],
            "infrastructure": infrastructure,
        }
        assert gateway.provider_urn == ambient.named(f"{cluster}-provider").urn
    # No sidecar-mode gateway release, no cross-network Gateway.
    assert not [r.name for r in ambient.resources if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("chart") == "gateway"]
    assert not [r.name for r in ambient.resources if r.name.endswith("cross-network-gateway")]
    assert sorted(ambient.outputs["eastWestGateways"]) == list(CLUSTERS)


def test_crds_then_istiod_then_the_data_plane_and_the_gateway(ambient: StackRun) -> None:
    waves = ambient.create_waves()
    wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
    for cluster in CLUSTERS:
        crds, istiod = f"{cluster}-istio-gateway-api-crds", f"{cluster}-istio-istiod-1-30-3"
        assert ambient.named(crds).inputs == {"file": GATEWAY_API_CRDS.format("v1.5.1")}
        assert ambient.named(crds).providers == {"kubernetes": ambient.named(f"{cluster}-istio-eastwest").provider}
        for later in (istiod, f"{cluster}-istio-ztunnel", f"{cluster}-istio-eastwest"):
            assert ambient.needs(later, crds), later
        assert ambient.needs(f"{cluster}-istio-ztunnel", istiod) and ambient.needs(f"{cluster}-istio-eastwest", istiod)
        # The control plane before the node agents: istio-cni too waits for the istiod.
        assert ambient.needs(f"{cluster}-istio-cni", istiod)
        assert wave_of[crds] < wave_of[istiod] < wave_of[f"{cluster}-istio-eastwest"]
    assert refused_at_first_up(ambient) == []


def test_the_crds_follow_the_newest_release_while_the_data_plane_follows_the_default_tag() -> None:
    run = run_stack("kind-ambient", {"istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}})
    assert run.named("kind-1-istio-gateway-api-crds").inputs["file"] == GATEWAY_API_CRDS.format("v1.6.0")
    assert run.named("kind-1-istio-istiod-1-31-0").inputs["values"]["profile"] == "ambient"
    assert run.named("kind-1-istio-ztunnel").inputs["values"]["revision"] == "1-30-3"
    assert run.named("kind-1-istio-cni").inputs["version"] == "1.30.3"
    # One data plane per cluster: the check runs once, in sample, whatever the tags.
    assert not [r.name for r in run.resources if "sample-canary" in r.name]
    assert run.named("kind-1-istio-tag-canary").type == "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration"


def test_the_check_runs_in_an_ambient_namespace_without_sidecar_handling(ambient: StackRun) -> None:
    for cluster in CLUSTERS:
        assert ambient.named(f"mesh-check-{cluster}-sample").inputs["metadata"] == {
            "name": "sample",
            "labels": {"istio.io/dataplane-mode": "ambient"},
        }
        assert ambient.named(f"mesh-check-{cluster}-helloworld").inputs["metadata"]["labels"] == {
            "app": "helloworld",
            "service": "helloworld",
            "istio.io/global": "true",
        }
        pod = ambient.named(f"mesh-check-{cluster}-helloworld-{cluster}").inputs["spec"]["template"]["metadata"]
        assert pod == {"labels": {"app": "helloworld", "version": cluster}}
        job = ambient.named(f"mesh-check-{cluster}-probe")
        template = job.inputs["spec"]["template"]
        assert template["metadata"] == {"labels": {"app": "mesh-check"}}
        script = template["spec"]["containers"][0]["command"][2]
        assert "quit() { :; }" in script and "quitquitquit" not in script
        for needed in (f"{cluster}-istio-cni", f"{cluster}-istio-ztunnel", *(f"{c}-istio-eastwest" for c in CLUSTERS)):
            assert ambient.needs(job.name, needed), needed


@pytest.fixture(scope="module")
def eks_ambient() -> StackRun:
    return run_stack("eks", {"dataplane": "ambient"})


def test_ambient_on_eks_puts_the_load_balancer_annotations_on_the_gateways_infrastructure(eks_ambient: StackRun) -> None:
    spec = eks_ambient.named("cluster-1-istio-eastwest").inputs["spec"]
    annotations = {**INTERNAL_NLB, **gateway_ca_annotations(eks_ambient, "cluster-1")}
    assert spec == {"gatewayClassName": "istio-east-west", "listeners": [HBONE_LISTENER], "infrastructure": {"annotations": annotations}}
    # The controller must run before istiod deploys the Gateway's Service.
    assert eks_ambient.needs("cluster-1-istio-eastwest", "cluster-1-aws-load-balancer-controller")


def test_eks_clusters_on_two_networks_admit_each_other_on_the_hbone_port_only(eks_ambient: StackRun) -> None:
    assert not [r.name for r in eks_ambient.resources if r.name.endswith("-sidecar")]
    for admits, source in (("cluster-1", "cluster-2"), ("cluster-2", "cluster-1")):
        rule = eks_ambient.named(f"aws-mesh-{admits}-from-{source}").inputs
        assert (rule["ipProtocol"], rule["fromPort"], rule["toPort"]) == ("tcp", 15008, 15008)
        assert rule["referencedSecurityGroupId"] == eks_ambient.named(f"{source}-eks").outputs["clusterSecurityGroupId"]


def test_destroy_waits_for_the_gateways_nlb_before_deleting_its_controller(eks_ambient: StackRun) -> None:
    # istiod's Service for the Gateway goes by garbage collection after the Gateway; only the
    # namespace's deletion waits for it, so the namespace must go before the controller.
    assert load_balancers_left_at_destroy(eks_ambient) == []
    for cluster in ("cluster-1", "cluster-2"):
        for keeper in (f"{cluster}-aws-load-balancer-controller", f"{cluster}-default", "aws-mesh-vpc-nat-0"):
            assert eks_ambient.needs(f"{cluster}-istio-istio-system", keeper)


def test_ambient_across_clouds_gives_the_gateways_service_its_source_ranges() -> None:
    run = run_stack("multicloud", {"operatorCidrs": OPERATORS, "dataplane": "ambient"})
    for cluster, peer, service_annotations in (
        (AKS, EKS_EGRESS, {"service.beta.kubernetes.io/azure-deny-all-except-load-balancer-source-ranges": "true"}),
        (EKS, AKS_EGRESS, NLB_INTERNET_FACING),
    ):
        options = run.named(f"{cluster}-istio-eastwest-options")
        assert options.inputs["metadata"] == {"name": "istio-eastwest-options", "namespace": "istio-system"}
        assert options.inputs["data"] == {"service": f"spec:\n  loadBalancerSourceRanges:\n  - {peer}\n"}
        gateway = run.named(f"{cluster}-istio-eastwest")
        assert gateway.inputs["spec"]["infrastructure"] == {
            "annotations": {**service_annotations, **gateway_ca_annotations(run, cluster)},
            "parametersRef": {"group": "", "kind": "ConfigMap", "name": "istio-eastwest-options"},
        }
        assert run.needs(gateway.name, options.name)


def test_a_first_preview_of_ambient_evaluates_and_reads_nothing() -> None:
    preview = run_stack("kind-ambient", preview=True)
    assert {r.name: r.id for r in preview.resources if r.operation == "read"} == {
        "kind-1-istio-eastwest-service": "",
        "kind-2-istio-eastwest-service": "",
    }
    assert preview.named("kind-1-istio-gateway-api-crds").inputs["file"] != rpc.UNKNOWN


@pytest.mark.parametrize(
    ("overrides", "problems"),
    [
        (
            {**stack_config("kind-ambient"), "topology": "primary-remote", "clusters": [
                stack_config("kind")["clusters"][0], {**stack_config("kind")["clusters"][1], "role": "remote", "primary": "kind-1"},
            ]},
            [
                "dataplane: ambient runs across clusters only with every cluster a primary: Istio does not support remote clusters "
                "in ambient mode today; set topology: multi-primary, or dataplane: sidecar"
            ],
        ),
        (
            {**two_azure(), "dataplane": "ambient"},
            [
                "clusters[1].network (cluster eastus-aks): shares network network1 with cluster westeurope-aks, but ambient runs "
                "across clusters only with each cluster on a network of its own (Istio does not support a shared network in ambient "
                "mode today); give it its own network, or use dataplane: sidecar"
            ],
        ),
        ({**stack_config("kind"), "dataplane": "waypoint"}, ["dataplane: 'waypoint' is not one of sidecar, ambient"]),
        (
            {**stack_config("kind"), "ambientSidecarGateway": True},
            [
                "ambientSidecarGateway: is only used with dataplane: ambient (a sidecar mesh always runs the sidecar east-west "
                "gateway where it needs one); remove it, or set dataplane: ambient"
            ],
        ),
        (
            {**stack_config("kind"), "gatewayApiRelease": "v1.5.1"},
            [
                "gatewayApiRelease: is only used with dataplane: ambient, which installs the Gateway API CRDs; remove it, or "
                "set dataplane: ambient"
            ],
        ),
        (
            {**stack_config("kind-ambient"), "gatewayApiRelease": "v1.4.1"},
            [
                "gatewayApiRelease: v1.4.1 is older than v1.5.1, the Gateway API release Istio 1.30.3 (the newest in "
                "istioRevisions) is built against; use v1.5.1 or later"
            ],
        ),
        (
            {**stack_config("kind-ambient"), "gatewayApiRelease": "1.5.1"},
            ["gatewayApiRelease: '1.5.1' is not valid; use a Gateway API release tag, e.g. v1.5.1"],
        ),
        (
            {**stack_config("kind-ambient"), "istiodValues": {"env": {"AMBIENT_ENABLE_MULTI_NETWORK": "false"}}},
            [
                "istiodValues.env.AMBIENT_ENABLE_MULTI_NETWORK: is set by the program from dataplane (ambient across networks); "
                "remove it here"
            ],
        ),
    ],
)  # fmt: skip
def test_what_ambient_refuses(overrides: dict[str, Any], problems: list[str]) -> None:
    assert problems_of(overrides) == problems


def test_switching_the_kind_mesh_to_ambient_changes_exactly_this() -> None:
    """The data plane and its Gateway come; the sidecar-mode gateway release and its Istio Gateway go
    (Pulumi deletes last, and the new Gateway's Service has a name of its own); istiod gets the
    ambient values; the check's namespace, Service and workloads switch and the probes run again."""
    before = run_stack("kind")
    after = run_stack("kind", {"dataplane": "ambient"}, state=before.state())
    per_cluster = {
        "create": ("{c}-istio-gateway-api-crds", "{c}-istio-cni", "{c}-istio-ztunnel", "{c}-istio-eastwest (Gateway)"),
        "update": (
            "{c}-istio-istiod-1-30-3", "mesh-check-{c}-sample", "mesh-check-{c}-helloworld", "mesh-check-{c}-helloworld-{c}",
        ),
        "replace": ("mesh-check-{c}-probe",),
        "delete": ("{c}-istio-eastwest (Release)", "{c}-istio-cross-network-gateway"),
    }  # fmt: skip
    expected = Changes(**{op: frozenset(t.format(c=c) for t in names for c in CLUSTERS) for op, names in per_cluster.items()})
    # Each cluster's own Services take the global label as the shared one does.
    solo = frozenset(f"mesh-check-{c}-helloworld-only-{o}" for c in CLUSTERS for o in CLUSTERS)
    assert changes(before, after) == dataclasses.replace(expected, update=expected.update | solo)


def test_rolling_istio_back_with_the_gateway_api_release_pinned_leaves_the_crds_alone() -> None:
    """The CRDs only move forward: from v1.5 their admission policy refuses older ones, and an older
    release would delete the types it lacks (v1.6.0 adds TCPRoute and UDPRoute to the standard
    channel) with every object of them. Pinned, a rollback from 1.31 to 1.30 leaves them alone."""
    upgraded = run_stack("kind-ambient", {"istioRevisions": {"default": "1.31.0"}})
    assert upgraded.outputs["mesh"]["gatewayApiRelease"] == "v1.6.0"
    back = run_stack("kind-ambient", {"istioRevisions": {"default": "1.30.3"}, "gatewayApiRelease": "v1.6.0"}, state=upgraded.state())
    done = changes(upgraded, back)
    assert not {name for name in done.touched if "gateway-api-crds" in name}
    assert back.named("kind-1-istio-gateway-api-crds").inputs["file"] == GATEWAY_API_CRDS.format("v1.6.0")
    assert back.outputs["mesh"]["gatewayApiRelease"] == "v1.6.0"


def test_new_peer_addresses_replace_the_gateways_options_and_nothing_else_on_its_cluster() -> None:
    """pulumi-kubernetes replaces a ConfigMap whose data changes (``enableConfigMapMutable`` is off):
    istiod reapplies the new source ranges when the ConfigMap comes back; the Gateway stays."""
    config = {"operatorCidrs": OPERATORS, "dataplane": "ambient"}
    before = run_stack("multicloud", config)
    vpcs = copy.deepcopy(stack_config("multicloud")["vpcs"])
    vpcs[0]["nat"] = "per-az"
    after = run_stack("multicloud", {**config, "vpcs": vpcs}, state=before.state())
    done = changes(before, after)
    assert f"{AKS}-istio-eastwest-options" in done.replace
    assert not {name for name in done.touched if name.startswith(f"{AKS}-istio-") and name != f"{AKS}-istio-eastwest-options"}
    peers = yaml.safe_load(after.named(f"{AKS}-istio-eastwest-options").inputs["data"]["service"])["spec"]["loadBalancerSourceRanges"]
    assert len(peers) == 3 and EKS_EGRESS in peers


def test_moving_the_default_tag_rolls_the_node_agents_after_the_new_istiod() -> None:
    """Istio's ambient upgrade: the new control plane first, then istio-cni and ztunnel (each roll
    restarts its pods on every node). Both wait for the istiod that the default tag now names."""
    run = run_stack("kind-ambient", {"istioRevisions": {"default": "1.31.0", "previous": "1.30.3"}})
    for cluster in CLUSTERS:
        for agent in ("cni", "ztunnel"):
            release = run.named(f"{cluster}-istio-{agent}")
            assert release.inputs["version"] == "1.31.0"
            assert run.needs(release.name, f"{cluster}-istio-istiod-1-31-0")
            assert not run.needs(release.name, f"{cluster}-istio-istiod-1-30-3")


SIDECAR_GATEWAY = {"ambientSidecarGateway": True}


@pytest.fixture(scope="module")
def with_sidecars() -> StackRun:
    return run_stack("kind-ambient", SIDECAR_GATEWAY)


def test_the_sidecar_gateway_runs_beside_the_hbone_one_exactly_as_in_a_sidecar_mesh(with_sidecars: StackRun) -> None:
    """istiod gives sidecars only east-west gateways with an mTLS port and ztunnel only those with an
    HBONE port (pilot/pkg/xds/endpoints/ep_filters.go), so the two coexist; the sidecar one is the
    release and Istio Gateway a sidecar mesh runs, unchanged, so a switch leaves it in place."""
    sidecar = run_stack("kind")
    for cluster in CLUSTERS:
        for name in (f"{cluster}-istio-eastwest (Release)", f"{cluster}-istio-cross-network-gateway"):
            assert with_sidecars.named(name).inputs == sidecar.named(name).inputs, name
        release = f"{cluster}-istio-eastwest (Release)"
        assert with_sidecars.needs(release, f"{cluster}-istio-tag-default")
        assert with_sidecars.named(f"{cluster}-istio-eastwest (Gateway)").inputs["spec"]["listeners"] == [HBONE_LISTENER]
        # The mesh reports the HBONE Gateway's address: its Service is the one read.
        assert with_sidecars.named(f"{cluster}-istio-eastwest-service").id == "istio-system/istio-eastwest"
    assert with_sidecars.outputs["eastWestGateways"] == run_stack("kind-ambient").outputs["eastWestGateways"]
    # Without the setting, no gateway release and no cross-network-gateway: only the HBONE Gateway.
    plain = run_stack("kind-ambient")
    assert not [
        r.name for r in plain.resources if "cross-network" in r.name or (r.type == HELM_RELEASE and r.inputs.get("chart") == "gateway")
    ]
    assert plain.named("kind-1-istio-eastwest").type == "kubernetes:gateway.networking.k8s.io/v1:Gateway"


def test_with_the_sidecar_gateway_the_check_also_proves_sidecar_workloads(with_sidecars: StackRun) -> None:
    sidecar = run_stack("kind")
    for cluster in CLUSTERS:
        namespace = with_sidecars.named(f"mesh-check-{cluster}-sample-sidecar").inputs["metadata"]
        assert namespace == {"name": "sample-sidecar", "labels": sidecar.named(f"mesh-check-{cluster}-sample").inputs["metadata"]["labels"]}
        service = with_sidecars.named(f"mesh-check-{cluster}-sidecar-helloworld").inputs["metadata"]
        # Ambient's multi-network switch makes every Service local unless global, sidecars' too (istio/istio#61713).
        assert service["labels"] == {"app": "helloworld", "service": "helloworld", "istio.io/global": "true"}
        assert service["namespace"] == "sample-sidecar"
        pod = with_sidecars.named(f"mesh-check-{cluster}-sidecar-helloworld-{cluster}").inputs["spec"]["template"]["metadata"]
        assert pod["annotations"] == {"istio-multicluster/revision": "1-30-3"}
        job = with_sidecars.named(f"mesh-check-{cluster}-sidecar-probe")
        assert job.inputs["metadata"]["namespace"] == "sample-sidecar"
        template = job.inputs["spec"]["template"]
        assert template["metadata"] == {"labels": {"app": "mesh-check"}, "annotations": CLASSIC_SIDECAR}
        script = template["spec"]["containers"][0]["command"][2]
        assert script == probe_script(cluster, CLUSTERS, ProbeSet("default", "sidecar", sidecar=True))
        assert 'url="http://helloworld.sample-sidecar:5000/hello"' in script
        needed = (f"{cluster}-istio-tag-default", *(f"{c}-istio-eastwest (Release)" for c in CLUSTERS))
        for name in needed:
            assert with_sidecars.needs(job.name, name), name
        # The ambient probe stays as it was, beside it.
        ambient_job = with_sidecars.named(f"mesh-check-{cluster}-probe").inputs
        assert ambient_job == run_stack("kind-ambient").named(f"mesh-check-{cluster}-probe").inputs


def test_switching_to_ambient_with_the_sidecar_gateway_then_without_it() -> None:
    """The switch in two steps: first ambient beside the sidecar gateway, so namespaces not yet
    relabelled keep reaching other clusters; then, once all are, the sidecar gateway goes."""
    sidecar = run_stack("kind")
    switched = run_stack("kind", {"dataplane": "ambient", **SIDECAR_GATEWAY}, state=sidecar.state())
    per_cluster = {
        "create": (
            "{c}-istio-gateway-api-crds", "{c}-istio-cni", "{c}-istio-ztunnel", "{c}-istio-eastwest (Gateway)",
            "mesh-check-{c}-sample-sidecar", "mesh-check-{c}-sidecar-helloworld", "mesh-check-{c}-sidecar-helloworld-{c}",
            "mesh-check-{c}-sidecar-probe",
        ),
        "update": (
            "{c}-istio-istiod-1-30-3", "mesh-check-{c}-sample", "mesh-check-{c}-helloworld", "mesh-check-{c}-helloworld-{c}",
        ),
        "replace": ("mesh-check-{c}-probe",),
    }  # fmt: skip
    expected = Changes(**{op: frozenset(t.format(c=c) for t in names for c in CLUSTERS) for op, names in per_cluster.items()})
    solo = frozenset(f"mesh-check-{c}-helloworld-only-{o}" for c in CLUSTERS for o in CLUSTERS)
    assert changes(sidecar, switched) == dataclasses.replace(expected, update=expected.update | solo)
    done = run_stack("kind", {"dataplane": "ambient"}, state=switched.state())
    gone = (
        "{c}-istio-eastwest (Release)", "{c}-istio-cross-network-gateway", "mesh-check-{c}-sample-sidecar",
        "mesh-check-{c}-sidecar-helloworld", "mesh-check-{c}-sidecar-helloworld-{c}", "mesh-check-{c}-sidecar-probe",
    )  # fmt: skip
    assert changes(switched, done) == Changes(delete=frozenset(t.format(c=c) for t in gone for c in CLUSTERS))


def test_on_eks_the_sidecar_gateway_gets_its_port_and_goes_before_the_controller() -> None:
    run = run_stack("eks", {"dataplane": "ambient", **SIDECAR_GATEWAY})
    for admits, source in (("cluster-1", "cluster-2"), ("cluster-2", "cluster-1")):
        group = run.named(f"{source}-eks").outputs["clusterSecurityGroupId"]
        for rule, port in ((f"aws-mesh-{admits}-from-{source}", 15008), (f"aws-mesh-{admits}-from-{source}-sidecar", 15443)):
            inputs = run.named(rule).inputs
            assert (inputs["ipProtocol"], inputs["fromPort"], inputs["toPort"], inputs["referencedSecurityGroupId"]) == (
                "tcp", port, port, group,
            ), rule  # fmt: skip
        assert run.needs(f"{admits}-istio-eastwest (Release)", f"{admits}-aws-load-balancer-controller")
    assert load_balancers_left_at_destroy(run) == []
