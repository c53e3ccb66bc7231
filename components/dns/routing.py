"""A switch of Route 53 routing is two updates; the program refuses it as one.

Route 53 keeps one routing policy among the record sets of one name and type: it refuses a latency
record beside weighted ones, and the reverse (ChangeResourceRecordSets, InvalidChangeBatch). The
provider updates each record in a batch of its own (terraform-provider-aws internal/service/route53/
record.go: ``UPSERT``, or ``DELETE`` and ``CREATE`` when the set identifier changes), so switching
the routing of a running mesh fails at the first record, whichever it is, after the clusters were
touched. The program therefore exports the routing its records took (``ingressDnsRouting``, once every
record exists; a failed update leaves the previous one) and refuses, before any resource, a run that
would switch the same name in the same zone. A new name or zone is no switch: its records are new
record sets, created beside the old ones, which go at the end. So the way through is two updates:
another name (or no ``ingressDns``), then the name back with the new routing.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi

from components.config.model import DnsService, IngressDns
from components.config.problems import Problem

ROUTING_OUTPUT = "ingressDnsRouting"


def routing_marker(dns: IngressDns | None) -> dict[str, str] | None:
    """What the records of ``dns`` hold: zone, name and routing (``None`` without Route 53 records)."""
    if dns is None or dns.service is not DnsService.ROUTE53 or dns.zone_id is None:
        return None
    return {"zoneId": dns.zone_id, "name": _plain(dns.name), "routing": dns.routing.value}


def routing_switch_problems(dns: IngressDns | None, outputs: Mapping[str, Any]) -> list[Problem]:
    """Whether ``dns`` switches the routing of the records the last completed update (which exported
    ``outputs``) left; empty when it does not, or when there is no marker (a new stack)."""
    now, before = routing_marker(dns), outputs.get(ROUTING_OUTPUT)
    if now is None or not isinstance(before, Mapping):
        return []
    same_records = before.get("zoneId") == now["zoneId"] and _plain(str(before.get("name", ""))) == now["name"]
    if not same_records or before.get("routing") == now["routing"]:
        return []
    old, new = before.get("routing"), now["routing"]
    return [
        Problem(
            "ingressDns.routing",
            "dns-routing-switch",
            f"switches the records of {now['name']} from {old} to {new} routing in one update, which fails: Route 53 "
            f"takes no {new} record beside the {old} ones of the same name, and the provider changes one record at a "
            f"time. Run pulumi up with ingressDns.name set to another name (or without ingressDns), then set the name "
            f"back with routing: {new} and run pulumi up again; the name does not answer in between",
        )
    ]


def routing_output(dns: IngressDns | None, answered: pulumi.Output[str] | None) -> pulumi.Output[dict[str, str]] | None:
    """The marker, resolved once the records exist (``answered``: the mesh's name, which resolves
    then); ``None`` without Route 53 records."""
    marker = routing_marker(dns)
    if marker is None or answered is None:
        return None
    return answered.apply(lambda _: marker)


def _plain(name: str) -> str:
    """A DNS name as Route 53 compares it: case-insensitive, the trailing dot optional."""
    return name.rstrip(".").lower()
