"""Istio's ports are facts of its charts and istiod, read everywhere from ``components.istio.facts``:
the gateways' listeners and the platforms' firewall rules must name the same ports.

The east-west gateway's Service gets its ports from the gateway chart (``networkGateway``:
manifests/charts/gateway/templates/service.yaml, 15021/15443/15012/15017), and istiod sends
cross-network mTLS to 15443 unless the Service says otherwise (DefaultNetworkGatewayPort). The
program sets none of them, so the constants must equal Istio's defaults: changing one alone would
open a firewall port no gateway listens on.
"""

from __future__ import annotations

import pytest

from components.istio.facts import (
    CROSS_NETWORK_PORT,
    EASTWEST_SERVICE_PORTS,
    HBONE_PORT,
    STATUS_PORT,
    WEBHOOK_PORT,
    WEBHOOK_PORTS,
    XDS_PORT,
)
from components.istio.values import cross_network_gateway_spec, eastwest_values, istiod_gateway_spec
from tests.configs import parse
from tests.harness.program import StackRun, run_stack, stack_config

RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"


def test_the_constants_are_istios_defaults_which_the_program_does_not_change() -> None:
    assert (STATUS_PORT, CROSS_NETWORK_PORT, XDS_PORT, WEBHOOK_PORT, HBONE_PORT) == (15021, 15443, 15012, 15017, 15008)
    assert EASTWEST_SERVICE_PORTS == {"status-port": 15021, "tls": 15443, "tls-istiod": 15012, "tls-webhook": 15017}
    # The east-west release takes the chart's ports: nothing in its values moves them.
    values = eastwest_values(parse(stack_config("kind")), "network1", {})
    assert not {"networkGatewayPorts", "ports"} & set(values) and "ports" not in values.get("service", {})


def ports_admitted(run: StackRun, suffix: str) -> set[int]:
    """The ports admitted by the peer rules named ``...{suffix}`` (the API rules, 443, aside)."""
    return {r.inputs["fromPort"] for r in run.of_type(RULE) if r.name.endswith(suffix) and "-api-" not in r.name}


@pytest.fixture(scope="module")
def eks() -> StackRun:
    return run_stack("eks")


def test_clusters_admit_each_other_on_the_port_their_gateways_pass_cross_network_traffic_on(eks: StackRun) -> None:
    (server,) = cross_network_gateway_spec()["servers"]
    assert ports_admitted(eks, "-from-cluster-2") == {server["port"]["number"]} == {EASTWEST_SERVICE_PORTS["tls"]}
    for cluster in ("cluster-1", "cluster-2"):
        assert eks.named(f"{cluster}-istio-cross-network-gateway").inputs["spec"] == cross_network_gateway_spec()


def test_the_webhook_rules_admit_the_ports_the_istiod_gateway_passes_through(eks: StackRun) -> None:
    served = {server["port"]["number"] for server in istiod_gateway_spec()["servers"]}
    assert served == set(WEBHOOK_PORTS) == {EASTWEST_SERVICE_PORTS["tls-istiod"], EASTWEST_SERVICE_PORTS["tls-webhook"]}
    assert {r.inputs["fromPort"] for r in eks.of_type(RULE) if "-webhook-" in r.name} == served


def test_in_ambient_the_rules_admit_the_hbone_listener_and_with_sidecars_the_sidecar_port_too() -> None:
    for config, expected in (({}, {HBONE_PORT}), ({"ambientSidecarGateway": True}, {HBONE_PORT, CROSS_NETWORK_PORT})):
        run = run_stack("eks", {"dataplane": "ambient", **config})
        listeners = {listener["port"] for listener in run.named("cluster-1-istio-eastwest (Gateway)").inputs["spec"]["listeners"]}
        assert listeners == {HBONE_PORT}
        admitted = {r.inputs["fromPort"] for r in run.of_type(RULE) if "-from-" in r.name and "-api-" not in r.name}
        assert admitted == expected
