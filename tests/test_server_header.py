"""ingressServerHeader: the ingress gateways' ``server`` header through Istio's proxyHeaders.server
on their pods (the seeds' EnvoyFilter on Envoy's removed v2 API no longer works)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.configs import codes_of, n_existing
from tests.expected import gateway_ca_annotations
from tests.harness.changes import Changes, changes, named
from tests.harness.program import StackRun, run_stack

AKS = ("westeurope-aks", "eastus-aks")


@pytest.fixture(scope="module")
def aks() -> StackRun:
    return run_stack("aks")


@pytest.mark.parametrize(
    ("header", "server"),
    [({"value": "web"}, {"value": "web"}), ({"disabled": True}, {"disabled": True})],
)
def test_the_ingress_gateways_pods_carry_the_proxy_config(aks: StackRun, header: dict[str, Any], server: dict[str, Any]) -> None:
    run = run_stack("aks", {"ingressServerHeader": header}, state=aks.state())
    for cluster in AKS:
        annotations = run.named(f"{cluster}-istio-ingress").inputs["values"]["podAnnotations"]
        assert annotations == {
            "istio-multicluster/revision": "1-30-3",
            **gateway_ca_annotations(run, cluster),
            "proxy.istio.io/config": json.dumps({"proxyHeaders": {"server": server}}),
        }
    # The pods roll onto it; nothing else changes but the probes' trigger does not move.
    assert changes(aks, run) == Changes(update=named(("{c}-istio-ingress",), AKS))


def test_without_it_the_pods_carry_no_proxy_config(aks: StackRun) -> None:
    for cluster in AKS:
        assert "proxy.istio.io/config" not in aks.named(f"{cluster}-istio-ingress").inputs["values"]["podAnnotations"]


@pytest.mark.parametrize(
    ("header", "ingress", "expected"),
    [
        (
            {"value": "web"},
            False,
            ("unused", "ingressServerHeader: acts only on the ingress gateways; set ingressGateway: true, or remove it"),
        ),
        (
            {"value": "web", "disabled": True},
            True,
            (
                "server-header",
                "ingressServerHeader: must be {value: <text>} to replace Envoy's istio-envoy, or {disabled: true} to send none",
            ),
        ),
        ({"disabled": False}, True, ("server-header", None)),
        ({"value": " web"}, True, ("whitespace", None)),
        ({"value": "web\r\nx: y"}, True, ("control-character", None)),
        ({"value": "wéb"}, True, ("pattern", None)),
        ({"value": "web", "remove": True}, True, ("unknown-field", None)),
    ],
)
def test_a_bad_header_is_refused_naming_the_field(header: dict[str, Any], ingress: bool, expected: tuple[str, str | None]) -> None:
    found = [(code, message) for code, message in codes_of({**n_existing(2), "ingressGateway": ingress, "ingressServerHeader": header})]
    code, message = expected
    assert [c for c, _ in found] == [code]
    assert found[0][1].startswith("ingressServerHeader")
    if message:
        assert found[0][1] == message
