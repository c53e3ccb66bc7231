"""Route 53 routing switches: refused as one update (Route 53 takes one routing policy per name and
the provider changes one record at a time), carried out as two; and the harness's record sets,
which hold Route 53's rules so that a switch the program let through would fail here as it fails
in AWS."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config.model import DnsRouting, DnsService, IngressDns
from components.config.problems import ConfigError
from components.dns.routing import ROUTING_OUTPUT, routing_switch_problems
from tests.harness.changes import changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import OPERATOR_SET, StackRun, UpdateFailed, run_stack
from tests.harness.route53 import HostedZones, RecordSet, record_set

ZONE = "Z0123456789ABCDEFGHIJ"
NAME = "mesh.example.com"
RECORDS = frozenset({"ingress-dns-eu-1", "ingress-dns-us-1"})


@pytest.fixture(scope="module")
def latency() -> StackRun:
    return run_stack("eks-edge", OPERATOR_SET["eks-edge"])


def dns_config(name: str = NAME, routing: str = "weighted") -> dict[str, Any]:
    return {"ingressDns": {"zoneId": ZONE, "name": name, "routing": routing}}


def test_the_records_export_the_routing_they_hold(latency: StackRun) -> None:
    assert latency.outputs[ROUTING_OUTPUT] == {"zoneId": ZONE, "name": NAME, "routing": "latency"}


def test_a_switch_of_routing_is_refused_before_any_resource(latency: StackRun) -> None:
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_stack("eks-edge", dns_config(), state=latency.state(), previous_outputs=latency.outputs, mocks=mocks)
    assert [(p.path, p.code) for p in raised.value.problems] == [("ingressDns.routing", "dns-routing-switch")]
    assert str(raised.value.problems[0]) == (
        "ingressDns.routing: switches the records of mesh.example.com from latency to weighted routing in one update, "
        "which fails: Route 53 takes no weighted record beside the latency ones of the same name, and the provider "
        "changes one record at a time. Run pulumi up with ingressDns.name set to another name (or without ingressDns), "
        "then set the name back with routing: weighted and run pulumi up again; the name does not answer in between"
    )
    # Only the provider the zone was read through: no cloud resource.
    assert mocks.monitor is not None and [r.name for r in mocks.monitor.registered] == ["ingress-dns-zones"]


def test_without_the_refusal_route53_fails_the_switch_at_the_records(latency: StackRun) -> None:
    """Without the marker the program cannot tell, and the harness fails the update as Route 53
    does: what the refusal saves an operator from."""
    before = {k: v for k, v in latency.outputs.items() if k != ROUTING_OUTPUT}
    with pytest.raises(UpdateFailed) as failed:
        run_stack("eks-edge", dns_config(), state=latency.state(), previous_outputs=before)
    # Each record's batch finds the other still latency: both fail, whichever runs first.
    assert sorted(e.split("::")[-1] for e in failed.value.errors) == [
        f"ingress-dns-{mine}: updating failed: InvalidChangeBatch: RRSet [name='mesh.example.com.', type='A', "
        f"set-identifier='{mine}'] cannot be created: a latency record set [name='mesh.example.com.', type='A', "
        f"set-identifier='{other}'] exists with the same name and type"
        for mine, other in (("eu-1", "us-1"), ("us-1", "eu-1"))
    ]


def test_the_switch_goes_through_as_two_updates(latency: StackRun) -> None:
    """Another name first (its records are new record sets beside the old ones, which go at the end),
    then the name back with the new routing."""
    aside = run_stack("eks-edge", dns_config("switching.example.com"), state=latency.state(), previous_outputs=latency.outputs)
    assert changes(latency, aside).replace >= RECORDS
    back = run_stack("eks-edge", dns_config(), state=aside.state(), previous_outputs=aside.outputs)
    assert changes(aside, back).replace >= RECORDS
    assert back.outputs[ROUTING_OUTPUT] == {"zoneId": ZONE, "name": NAME, "routing": "weighted"}
    assert {r.inputs["weightedRoutingPolicies"][0]["weight"] for r in back.resources if r.name in RECORDS} == {1}


def test_the_same_routing_or_another_name_or_zone_is_no_switch() -> None:
    previous = {ROUTING_OUTPUT: {"zoneId": ZONE, "name": "Mesh.Example.com.", "routing": "latency"}}

    def dns(name: str = NAME, zone: str = ZONE, routing: DnsRouting = DnsRouting.WEIGHTED) -> IngressDns:
        return IngressDns(DnsService.ROUTE53, zone, name, routing)

    assert [p.code for p in routing_switch_problems(dns(), previous)] == ["dns-routing-switch"]
    assert routing_switch_problems(dns(routing=DnsRouting.LATENCY), previous) == []
    assert routing_switch_problems(dns(name="shop.example.com"), previous) == []
    assert routing_switch_problems(dns(zone="Z9876543210ZYXWVUTSRQ"), previous) == []
    assert routing_switch_problems(IngressDns(DnsService.TRAFFIC_MANAGER, None, "mesh", DnsRouting.WEIGHTED), previous) == []
    assert routing_switch_problems(None, previous) == []
    assert routing_switch_problems(dns(), {}) == []


def test_a_record_set_someone_else_holds_fails_the_first_up() -> None:
    mocks = MeshMocks()
    mocks.foreign_record_sets = [RecordSet(ZONE, NAME, "A", "", "simple", "")]
    with pytest.raises(UpdateFailed) as failed:
        run_stack("eks-edge", OPERATOR_SET["eks-edge"], mocks=mocks)
    assert len(failed.value.errors) == 2
    assert all("creating failed: InvalidChangeBatch" in e and "a simple record set" in e for e in failed.value.errors)


# --- the harness's hosted zones ------------------------------------------------------------------


def record(set_identifier: str, routing: str, region: str = "eu-west-1", name: str = NAME) -> dict[str, Any]:
    policy = {"latencyRoutingPolicies": [{"region": region}]} if routing == "latency" else {"weightedRoutingPolicies": [{"weight": 1}]}
    return {"zoneId": ZONE, "name": name, "type": "A", "setIdentifier": set_identifier, **policy}


def test_create_refuses_a_record_set_that_exists_and_upsert_takes_it() -> None:
    zones = HostedZones([record_set(record("a", "weighted"))])
    assert zones.write("create", None, record("a", "weighted")).startswith("InvalidChangeBatch: Tried to create resource record set")
    assert zones.write("update", record("a", "weighted"), {**record("a", "weighted"), "ttl": 30}) == ""
    # A replacement made first is a CREATE beside its predecessor; deleting first frees the key.
    assert "already exists" in zones.write("replace", record("a", "weighted"), record("a", "weighted"))
    assert zones.write("replace", record("a", "weighted"), record("a", "weighted"), delete_first=True) == ""


def test_one_routing_policy_per_name_and_one_latency_record_per_region() -> None:
    zones = HostedZones([record_set(record("a", "latency", "eu-west-1"))])
    assert "a latency record set" in zones.write("create", None, record("b", "weighted"))
    assert "is in eu-west-1 already" in zones.write("create", None, record("b", "latency", "eu-west-1"))
    assert zones.write("create", None, record("b", "latency", "us-east-1")) == ""
    assert zones.write("create", None, record("c", "weighted", name="other.example.com")) == ""
    assert set(zones.sets) == {(ZONE, NAME, "A", "a"), (ZONE, NAME, "A", "b"), (ZONE, "other.example.com", "A", "c")}


def test_an_update_of_the_set_identifier_deletes_and_creates_in_one_batch() -> None:
    zones = HostedZones([record_set(record("a", "weighted")), record_set(record("b", "weighted"))])
    assert "already exists" in zones.write("update", record("a", "weighted"), record("b", "weighted"))
    assert zones.write("update", record("a", "weighted"), record("c", "weighted")) == ""
    assert set(zones.sets) == {(ZONE, NAME, "A", "b"), (ZONE, NAME, "A", "c")}


def test_a_refused_batch_changes_nothing() -> None:
    zones = HostedZones([record_set(record("a", "latency")), record_set(record("b", "latency", "us-east-1"))])
    held = copy.deepcopy(zones.sets)
    assert zones.write("update", record("a", "latency"), record("a", "weighted")) != ""
    assert zones.sets == held
