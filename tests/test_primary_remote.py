"""Primary-remote: primaries expose istiod through the east-west gateway; remotes use it."""

from __future__ import annotations

import base64
import dataclasses

import pytest

from components.config.problems import ConfigError
from tests.configs import n_existing, parse
from tests.expected import CANARY, ca_bundle_annotation, gateway_ca_annotations, istiod_identity, service_client, tag_webhooks
from tests.harness.program import StackRun, run_program, run_stack, stack_config
from tests.harness.webhooks import ISTIO_CONFIG, refused_at_first_up, remote_istio_config_before_the_primarys_routes
from tests.programs import mesh_program

REVISIONS = ("1-30-3", "1-31-0")


@pytest.fixture(scope="module")
def mesh() -> StackRun:
    config = {"topology": "primary-remote", "istioRevisions": CANARY, **n_existing(3)}
    config["clusters"][1].update(role="remote", primary="c1")
    config["clusters"][2].update(role="remote", primary="c1")
    return run_program(config, program=mesh_program(parse(config)))


def root_bundle(run: StackRun) -> str:
    """The mesh root as a webhook's caBundle: base64 of the PEM."""
    return base64.b64encode(run.named("mesh-ca-root-cert").outputs["certPem"].encode()).decode()


def primary_address(run: StackRun) -> str:
    return run.named("c1-istio-eastwest-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]


def istiod_routes(revision: str) -> dict[str, object]:
    sni = [f"istiod-{revision}.istio-system.svc", f"istiod-{revision}.istio-system.svc.cluster.local"]
    host = f"istiod-{revision}.istio-system.svc.cluster.local"
    return {
        "hosts": ["*"],
        "gateways": ["istiod-gateway"],
        "tls": [
            {"match": [{"port": 15012, "sniHosts": sni}], "route": [{"destination": {"host": host, "port": {"number": 15012}}}]},
            {"match": [{"port": 15017, "sniHosts": sni}], "route": [{"destination": {"host": host, "port": {"number": 443}}}]},
        ],
    }


def test_primary_sets_external_istiod_and_exposes_each_revision(mesh: StackRun) -> None:
    for revision in REVISIONS:
        assert mesh.named(f"c1-istio-istiod-{revision}").inputs["values"] == {
            **istiod_identity("c1", "network1", revision=revision, externalIstiod=True),
            **ca_bundle_annotation(mesh),
        }
        service = mesh.named(f"c1-istio-istiod-vs-{revision}").inputs
        assert (service["kind"], service["metadata"]["name"]) == ("VirtualService", f"istiod-vs-{revision}")
        # The SNI names the revision: remotes dial istiod-<revision>.istio-system.svc.
        assert service["spec"] == istiod_routes(revision)
    gateway = mesh.named("c1-istio-istiod-gateway").inputs
    assert (gateway["kind"], gateway["metadata"]["name"]) == ("Gateway", "istiod-gateway")
    assert gateway["spec"]["servers"] == [
        {"port": {"name": "tls-istiod", "number": 15012, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
        {"port": {"name": "tls-webhook", "number": 15017, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
    ]


def test_remote_installs_the_remote_profile_of_each_revision_pointed_at_the_primary(mesh: StackRun) -> None:
    # istiod patches only its own cluster's validating webhooks: a remote's trusts the mesh root.
    assert mesh.named("c2-istio-base").inputs["values"] == {
        "profile": "remote",
        "defaultRevision": "1-30-3",
        "base": {"validationCABundle": root_bundle(mesh)},
    }
    assert "values" not in mesh.named("c2-istio-base").secret_inputs
    for revision in REVISIONS:
        assert mesh.named(f"c2-istio-istiod-{revision}").inputs["values"] == {
            "profile": "remote",
            **istiod_identity("c2", "network2", revision=revision, remotePilotAddress=primary_address(mesh)),
            "istiodRemote": {"injectionPath": "/inject/cluster/c2/net/network2"},
        }
    assert mesh.named("c3-istio-istio-system").inputs["metadata"]["annotations"] == {"topology.istio.io/controlPlaneClusters": "c1"}
    assert "annotations" not in mesh.named("c1-istio-istio-system").inputs["metadata"]


def test_mesh_config_goes_to_the_primarys_istiod_and_never_to_a_remotes_values() -> None:
    """A remote runs no istiod: its proxies take mesh config from the primary's, where the access log
    and the mesh-wide meshConfig go."""
    config = {"topology": "primary-remote", "accessLog": True, "istiodValues": {"meshConfig": {"enableTracing": True}}, **n_existing(2)}
    config["clusters"][1].update(role="remote", primary="c1")
    run = run_program(config, program=mesh_program(parse(config)))
    primary = run.named("c1-istio-istiod-1-30-3").inputs["values"]
    assert primary["meshConfig"] == {"accessLogFile": "/dev/stdout", "enableTracing": True}
    assert run.named("c2-istio-istiod-1-30-3").inputs["values"] == {
        "profile": "remote",
        **istiod_identity("c2", "network2", remotePilotAddress=primary_address(run)),
        "istiodRemote": {"injectionPath": "/inject/cluster/c2/net/network2"},
    }


def test_a_remotes_tags_reach_the_primary_through_its_revision_service(mesh: StackRun) -> None:
    for tag, revision in (("default", "1-30-3"), ("canary", "1-31-0")):
        webhooks = mesh.named(f"c2-istio-tag-{tag}").inputs["webhooks"]
        assert webhooks == tag_webhooks(tag, service_client(revision, "/inject/cluster/c2/net/network2"))
        assert mesh.needs(f"c2-istio-tag-{tag}", f"c2-istio-istiod-{revision}")
        # Its pods reach that revision only through the primary's gateway route, after its istiod.
        assert mesh.needs(f"c2-istio-tag-{tag}", f"c1-istio-istiod-vs-{revision}")
        assert mesh.needs(f"c1-istio-istiod-vs-{revision}", f"c1-istio-istiod-{revision}")
        assert mesh.needs(f"c2-istio-tag-{tag}", "c1-istio-istiod-gateway")
    assert not mesh.needs("c2-istio-tag-default", "c1-istio-istiod-vs-1-31-0")


def test_a_remote_waits_for_its_primarys_gateway_address_and_nothing_else_of_it(mesh: StackRun) -> None:
    deps = {mesh.by_urn(u).name for u in mesh.named("c2-istio-istiod-1-30-3").dependencies}
    assert {d for d in deps if d.startswith("c1-")} == {"c1-istio-eastwest-service"}
    assert mesh.named("c1-istio-eastwest").urn in mesh.named("c1-istio-eastwest-service").dependencies


def test_remotes_do_not_expose_istiod_and_take_the_primarys_exposed_services(mesh: StackRun) -> None:
    names = {r.name for r in mesh.resources}
    assert not {n for n in names if n.startswith("c2-istio-istiod-gateway") or n.startswith("c2-istio-istiod-vs")}
    # No istiod reads a remote's Istio config: the primary's cross-network-gateway selects the
    # east-west gateway pods of every cluster it serves (istio.io, primary-remote on different networks).
    assert "c2-istio-eastwest" in names and "c2-istio-cross-network-gateway" not in names
    assert [r.name for r in mesh.resources if r.type.startswith(ISTIO_CONFIG) and not r.name.startswith("c1-")] == []
    assert "c1-istio-cross-network-gateway" in names


def test_kind_stack_exports_each_east_west_address() -> None:
    run = run_stack("kind")
    addresses = run.outputs["eastWestGateways"]
    assert sorted(addresses) == ["kind-1", "kind-2"]
    for cluster, address in addresses.items():
        assert address == run.named(f"{cluster}-istio-eastwest-service").outputs["status"]["loadBalancer"]["ingress"][0]["ip"]
        assert address.startswith("172.18.255.")


def test_a_remotes_gateways_wait_for_the_secret_through_which_its_primary_serves_its_injector(mesh: StackRun) -> None:
    """The remote's webhook has no CA bundle until the primary's istiod patches it through the
    remote secret; injected gateway pods created before that are refused."""
    for remote in ("c2", "c3"):
        secret = mesh.named(f"mesh-link-{remote}-in-c1").urn
        assert secret in mesh.named(f"{remote}-istio-eastwest").dependencies
    # A primary injects its own pods: its gateways wait for no link.
    assert not [u for u in mesh.named("c1-istio-eastwest").dependencies if "mesh-link" in u]


@pytest.fixture(scope="module")
def eks_primary_remote() -> StackRun:
    """The eks stack with cluster-2 a remote of cluster-1: the primary's address is an NLB host name."""
    config = stack_config("eks")
    config["clusters"][1].update(role="remote", primary="cluster-1")
    return run_stack("eks", {"topology": "primary-remote", "clusters": config["clusters"], "verify": True})


def test_a_remote_reaches_a_primary_by_host_name_through_webhook_urls(eks_primary_remote: StackRun) -> None:
    run = eks_primary_remote
    host = run.named("cluster-1-istio-eastwest-service").outputs["status"]["loadBalancer"]["ingress"][0]["hostname"]
    assert host.endswith(".elb.eu-west-1.amazonaws.com")
    values = run.named("cluster-2-istio-istiod-1-30-3").inputs["values"]
    assert values["global"]["remotePilotAddress"] == host
    # An ExternalName istiod Service cannot back a webhook (istio/istio#45014): the webhook dials the URL.
    url = f"https://{host}:15017/inject/cluster/cluster-2/net/network2"
    assert values["istiodRemote"] == {"injectionURL": url}
    assert run.named("cluster-2-istio-tag-default").inputs["webhooks"] == tag_webhooks("default", {"url": url})
    assert run.named("cluster-2-istio-base").inputs["values"] == {
        "profile": "remote",
        "defaultRevision": "1-30-3",
        "base": {"validationURL": f"https://{host}:15017/validate", "validationCABundle": root_bundle(run)},
    }


def test_a_primary_serving_remotes_by_host_name_names_them_in_its_certificate_and_routes(eks_primary_remote: StackRun) -> None:
    """The API server checks the URL's host against istiod's certificate, and the east-west gateway
    sees that host as the TLS SNI: without it in the routes the webhook calls find no route."""
    values = eks_primary_remote.named("cluster-1-istio-istiod-1-30-3").inputs["values"]
    assert values["env"] == {"ISTIOD_CUSTOM_HOST": "*.elb.eu-west-1.amazonaws.com"}
    assert values["global"]["externalIstiod"] is True
    run = eks_primary_remote
    assert run.named("cluster-1-istio-istiod-vs-1-30-3").inputs["spec"] == istiod_routes("1-30-3")
    # One route, updated in place when the default tag moves: istiod drops a second route for the
    # same SNI host from a newer VirtualService while an older one claims it.
    webhooks = run.named("cluster-1-istio-istiod-webhook-vs").inputs
    assert webhooks["metadata"] == {"name": "istiod-webhook-vs", "namespace": "istio-system"}
    host = "istiod-1-30-3.istio-system.svc.cluster.local"
    assert webhooks["spec"] == {
        "hosts": ["*"],
        "gateways": ["istiod-gateway"],
        "tls": [
            {
                "match": [{"port": 15017, "sniHosts": ["*.elb.eu-west-1.amazonaws.com"]}],
                "route": [{"destination": {"host": host, "port": {"number": 443}}}],
            }
        ],
    }
    assert run.needs("cluster-2-istio-tag-default", "cluster-1-istio-istiod-webhook-vs")


def test_a_canary_cannot_run_where_remotes_reach_their_primary_by_host_name() -> None:
    config = stack_config("eks")
    config["clusters"][1].update(role="remote", primary="cluster-1")
    with pytest.raises(ConfigError) as raised:
        run_stack("eks", {"topology": "primary-remote", "clusters": config["clusters"], "istioRevisions": CANARY})
    assert [(p.code, str(p)) for p in raised.value.problems] == [
        (
            "revisions-by-host-name",
            "istioRevisions (cluster cluster-1): runs 1.30.3 and 1.31.0 side by side, but the remotes of cluster-1 reach its "
            "istiod through an AWS load balancer's host name, which cannot tell one revision's webhook calls from another's; "
            'upgrade them in one step instead, pointing every tag at the new release, e.g. {default: "1.31.0"}',
        )
    ]


def test_remote_verification_workloads_wait_for_the_link_that_serves_their_injection(eks_primary_remote: StackRun) -> None:
    run = eks_primary_remote
    secret = run.named("mesh-link-cluster-2-in-cluster-1").urn
    assert secret in run.named("mesh-check-cluster-2-helloworld-cluster-2").dependencies
    assert secret in run.named("mesh-check-cluster-2-probe").dependencies
    assert secret not in run.named("mesh-check-cluster-1-helloworld-cluster-1").dependencies


def test_the_ip_address_path_is_unchanged(mesh: StackRun) -> None:
    assert "env" not in mesh.named("c1-istio-istiod-1-30-3").inputs["values"]
    assert mesh.named("c2-istio-base").inputs["values"]["base"] == {"validationCABundle": root_bundle(mesh)}
    assert "c1-istio-istiod-webhook-vs" not in {r.name for r in mesh.resources}


def test_no_remote_workload_reaches_its_injector_before_the_primary_can_serve_it(mesh: StackRun, eks_primary_remote: StackRun) -> None:
    assert refused_at_first_up(mesh) == []
    assert refused_at_first_up(eks_primary_remote) == []


def test_a_remotes_istio_config_waits_for_the_routes_its_validating_webhook_calls_through(
    mesh: StackRun, eks_primary_remote: StackRun
) -> None:
    # The remote's validating webhook fails closed and calls the default revision's istiod on the
    # primary. The program puts no Istio config on remotes; the rule still holds for any that comes.
    for run, remote in ((mesh, "c2"), (eks_primary_remote, "cluster-2")):
        assert remote_istio_config_before_the_primarys_routes(run) == []
        on_remote = run.named(f"{remote}-istio-istio-system").provider
        config = dataclasses.replace(
            run.named(f"{remote.replace('2', '1')}-istio-cross-network-gateway"), provider=on_remote, dependencies=[]
        )
        config.urn, config.name = (
            config.urn.replace(remote.replace("2", "1"), remote),
            config.name.replace(remote.replace("2", "1"), remote),
        )
        run.resources.append(config)
        assert remote_istio_config_before_the_primarys_routes(run)[0].startswith(f"{config.name}: remote {remote}'s validating webhook")
        run.resources.remove(config)


def test_a_reader_token_exists_only_where_another_cluster_reads_through_it(mesh: StackRun) -> None:
    """A reader token reads every Secret of its cluster for as long as it exists; the only primary
    of a primary-remote mesh is discovered by no one, so it gets none."""
    tokens = sorted(r.name for r in mesh.of_type("kubernetes:core/v1:Secret") if r.name.endswith("-reader-token"))
    assert tokens == ["mesh-link-c2-reader-token", "mesh-link-c3-reader-token"]
    secrets = sorted(r.name for r in mesh.of_type("kubernetes:core/v1:Secret") if "-in-" in r.name)
    assert secrets == ["mesh-link-c2-in-c1", "mesh-link-c3-in-c1"]


def test_the_suggested_release_is_the_newest_by_version_not_by_text() -> None:
    """As text 1.30.9 sorts after 1.30.10; the suggestion must be the newer release."""
    config = stack_config("eks")
    config["clusters"][1].update(role="remote", primary="cluster-1")
    with pytest.raises(ConfigError) as raised:
        run_stack(
            "eks",
            {"topology": "primary-remote", "clusters": config["clusters"], "istioRevisions": {"default": "1.30.9", "canary": "1.30.10"}},
        )
    (problem,) = raised.value.problems
    assert "runs 1.30.9 and 1.30.10 side by side" in str(problem)
    assert str(problem).endswith('e.g. {default: "1.30.10"}')


def test_a_remotes_ingress_rolls_with_its_primarys_ca_which_signs_its_certificates(eks_primary_remote: StackRun) -> None:
    annotations = eks_primary_remote.named("cluster-2-istio-ingress").inputs["values"]["podAnnotations"]
    assert annotations == {"istio-multicluster/revision": "1-30-3", **gateway_ca_annotations(eks_primary_remote, "cluster-1")}
    assert annotations != {"istio-multicluster/revision": "1-30-3", **gateway_ca_annotations(eks_primary_remote, "cluster-2")}
