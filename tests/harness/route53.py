"""Route 53's record sets, as ChangeResourceRecordSets keeps them, which plain mocks do not.

A hosted zone knows a record set by (name, type, set identifier), and refuses a change batch that
would break one of these rules (Route 53 API Reference, ChangeResourceRecordSets, and its
InvalidChangeBatch errors):
- ``CREATE`` of a record set that exists ("Tried to create resource record set ... but it already
  exists");
- record sets of one name and type all take one routing policy: a latency record beside a weighted
  one, or a simple record (no set identifier) beside either, is refused;
- latency records of one name and type name different regions.

terraform-provider-aws (internal/service/route53/record.go) sends: on create, ``CREATE`` (``UPSERT``
only with ``allow_overwrite``, which the program leaves off); on an update that keeps type and set
identifier, ``UPSERT``; on one that changes either, ``DELETE`` of the old and ``CREATE`` of the new in
one batch. Each record is its own batch, so an update of many records is checked one record at a
time against the rest as they stand. A replacement (new name or zone) creates the new record before
the old one is deleted, unless it deletes first. Deletes come at the end of an update and are not
refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

RECORD = "aws:route53/record:Record"
# The SDK registers resources from a thread pool: one batch at a time, as Route 53 applies them. One
# lock for the process, so that a run (and its mocks) can still be deep-copied.
_BATCHES = threading.Lock()


@dataclass(frozen=True)
class RecordSet:
    """One record set of a hosted zone: its key and its routing.

    Args:
        zone: the hosted zone's ID.
        name: the record's name, lower case, without the trailing dot.
        type: the record type.
        set_identifier: the set identifier ("" for a simple record).
        policy: ``latency``, ``weighted`` or ``simple``.
        region: a latency record's region ("" otherwise).
    """

    zone: str
    name: str
    type: str
    set_identifier: str
    policy: str
    region: str

    @property
    def key(self) -> tuple[str, str, str, str]:
        return (self.zone, self.name, self.type, self.set_identifier)

    def describe(self) -> str:
        return f"[name='{self.name}.', type='{self.type}', set-identifier='{self.set_identifier}']"


def record_set(inputs: Mapping[str, Any]) -> RecordSet:
    """The record set a Record's inputs write."""
    latency = inputs.get("latencyRoutingPolicies") or []
    policy = "latency" if latency else "weighted" if inputs.get("weightedRoutingPolicies") else "simple"
    return RecordSet(
        zone=str(inputs.get("zoneId", "")),
        name=str(inputs.get("name", "")).rstrip(".").lower(),
        type=str(inputs.get("type", "")),
        set_identifier=str(inputs.get("setIdentifier") or ""),
        policy=policy,
        region=str(latency[0].get("region", "")) if latency else "",
    )


class HostedZones:
    """Every record set of every hosted zone, by key; ``write`` applies one record's step."""

    def __init__(self, existing: Iterable[RecordSet] = ()) -> None:
        self.sets: dict[tuple[str, str, str, str], RecordSet] = {s.key: s for s in existing}

    def write(self, operation: str, prior: Mapping[str, Any] | None, inputs: Mapping[str, Any], *, delete_first: bool = False) -> str:
        """Apply the provider's change batch for one record step (``create``, ``update`` or
        ``replace``); returns Route 53's refusal ("" when the batch is taken)."""
        with _BATCHES:
            return self._write(operation, prior, inputs, delete_first=delete_first)

    def _write(self, operation: str, prior: Mapping[str, Any] | None, inputs: Mapping[str, Any], *, delete_first: bool) -> str:
        new = record_set(inputs)
        old = record_set(prior) if prior is not None else None
        upsert = operation == "update" and old is not None and (old.type, old.set_identifier) == (new.type, new.set_identifier)
        # allow_overwrite sends UPSERT where the provider would CREATE (record.go).
        upsert = upsert or (operation != "update" and bool(inputs.get("allowOverwrite")))
        without = dict(self.sets)
        if old is not None and (operation == "update" or delete_first):
            without.pop(old.key, None)
        if not upsert and new.key in without:
            return f"InvalidChangeBatch: Tried to create resource record set {new.describe()} but it already exists"
        refusal = _policy_refusal(new, [s for k, s in without.items() if k != new.key])
        if not refusal:
            without[new.key] = new
            self.sets = without
        return refusal


def _policy_refusal(new: RecordSet, others: Iterable[RecordSet]) -> str:
    """Why Route 53 refuses ``new`` beside the record sets of its name and type ("" when it does not)."""
    for other in others:
        if (other.zone, other.name, other.type) != (new.zone, new.name, new.type):
            continue
        if other.policy != new.policy:
            return (
                f"InvalidChangeBatch: RRSet {new.describe()} cannot be created: a {other.policy} record set "
                f"{other.describe()} exists with the same name and type"
            )
        if new.policy == "latency" and other.region == new.region:
            return (
                f"InvalidChangeBatch: RRSet {new.describe()} cannot be created: the latency record set {other.describe()} "
                f"of the same name and type is in {new.region} already"
            )
    return ""
