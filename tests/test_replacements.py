"""Every resource type the program registers has an entry in the harness's replacement table.

The table (``tests/harness/replacements.py``) says which input changes make each type's provider
replace a resource rather than update it; ``engine.operation`` applies it to every second run. A
type without an entry would be updated in place whatever changed, so this test runs every shipped
stack and every variant of the program that registers types of its own, and fails on a type the
table does not know, or an entry for a type nothing registers any more.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pytest

from tests.configs import EDGE_CERTIFICATE
from tests.harness.program import OPERATOR_SET, StackRun, run_stack, stack_config
from tests.harness.replacements import REPLACEMENTS, rule_for


def eks_clusters(**changes: Any) -> list[dict[str, Any]]:
    clusters = copy.deepcopy(stack_config("eks")["clusters"])
    clusters[1].update(changes)
    return clusters


def aks_clusters(**changes: Any) -> list[dict[str, Any]]:
    return [{**cluster, **changes} for cluster in copy.deepcopy(stack_config("aks")["clusters"])]


def second_vpc(region: str) -> dict[str, Any]:
    """A VPC of its own for cluster-2 (zones a and c: the mocked account has no EKS in us-east-1b)."""
    return {
        "name": "vpc-2",
        "region": region,
        "cidr": "10.1.0.0/16",
        "zones": [f"{region}a", f"{region}c"],
        "privateSubnets": ["10.1.0.0/20", "10.1.16.0/20"],
        "publicSubnets": ["10.1.48.0/24", "10.1.49.0/24"],
    }


OPERATORS = {"operatorCidrs": ["203.0.113.0/24"]}
CANARY = {"istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}}
# The shipped stacks and the variants that register types (or inputs) the shipped ones do not.
VARIANTS: dict[str, Callable[[], StackRun]] = {
    "aks": lambda: run_stack("aks"),
    "eks": lambda: run_stack("eks"),
    "kind": lambda: run_stack("kind"),
    "kind-ambient": lambda: run_stack("kind-ambient"),
    "multicloud": lambda: run_stack("multicloud", OPERATORS),
    "multicloud ambient": lambda: run_stack("multicloud", {**OPERATORS, "dataplane": "ambient"}),
    "aks keyVault delivery, canary, registry": lambda: run_stack(
        "aks", {"caDelivery": "keyVault", **CANARY, "containerRegistry": {"location": "westeurope"}}
    ),
    "aks entraId": lambda: run_stack("aks", {"clusters": aks_clusters(entraId=True)}),
    "aks restricted API": lambda: run_stack("aks", {"clusters": aks_clusters(authorizedIpRanges=["203.0.113.0/24"])}),
    "kind canary, no verify": lambda: run_stack("kind", {**CANARY, "verify": False, "ingressGateway": True}),
    "kind primary-remote": lambda: run_stack("kind", {"topology": "primary-remote", "clusters": primary_remote("kind")}),
    "eks primary-remote": lambda: run_stack("eks", {"topology": "primary-remote", "clusters": primary_remote("eks")}),
    "eks edge": lambda: run_stack("eks", {"clusters": eks_clusters(ingressEdge={"type": "alb", "certificateArn": EDGE_CERTIFICATE})}),
    "eks-edge": lambda: run_stack("eks-edge", OPERATOR_SET["eks-edge"]),
    "aks traffic manager": lambda: run_stack("aks", {"ingressDns": {"service": "trafficManager", "name": "istio-mesh-prod"}}),
    "aks one name": lambda: run_stack(
        "aks", {"ingressDns": {"zoneId": "Z0123456789ABCDEFGHIJ", "name": "mesh.example.com", "routing": "weighted"}}
    ),
    "eks two regions": lambda: run_stack(
        "eks", {"clusters": eks_clusters(vpc="vpc-2", region="us-east-1"), "vpcs": [*stack_config("eks")["vpcs"], second_vpc("us-east-1")]}
    ),
}


def primary_remote(stack: str) -> list[dict[str, Any]]:
    clusters = copy.deepcopy(stack_config(stack)["clusters"])
    clusters[1].update(role="remote", primary=clusters[0]["name"])
    return clusters


@pytest.fixture(scope="module")
def registered() -> dict[str, set[str]]:
    """Each registered type (reads left out: the engine never updates them), by the variants registering it."""
    found: dict[str, set[str]] = {}
    for variant, build in VARIANTS.items():
        for resource in build().resources:
            if resource.operation != "read":
                found.setdefault(resource.type, set()).add(variant)
    return found


def test_every_registered_type_has_an_entry(registered: dict[str, set[str]]) -> None:
    missing = {type_: sorted(where) for type_, where in registered.items() if rule_for(type_) is None}
    assert missing == {}, "add each to tests/harness/replacements.py, citing the provider source"


def test_every_entry_is_for_a_registered_type(registered: dict[str, set[str]]) -> None:
    """An entry for a type nothing registers is unchecked: drop it, or add the variant that registers it."""
    assert sorted(set(REPLACEMENTS) - set(registered)) == []


def test_every_entry_cites_its_source_and_none_known_says_so() -> None:
    for type_, rule in REPLACEMENTS.items():
        assert rule.source, type_
        assert rule.paths or rule.component or "none known" in rule.source, f"{type_}: an empty entry must say 'none known'"
