"""What an update does to each resource, by name: the day-2 tests' view of two runs."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from tests.harness.monitor import Registered
from tests.harness.program import StackRun


@dataclass(frozen=True)
class Changes:
    """Resource names by what the engine does with them; everything else is left alone."""

    create: frozenset[str] = frozenset()
    update: frozenset[str] = frozenset()
    replace: frozenset[str] = frozenset()
    delete: frozenset[str] = frozenset()

    def __or__(self, other: Changes) -> Changes:
        return Changes(self.create | other.create, self.update | other.update, self.replace | other.replace, self.delete | other.delete)

    @property
    def touched(self) -> frozenset[str]:
        return self.create | self.update | self.replace | self.delete


def changes(before: StackRun, after: StackRun) -> Changes:
    """What ``after`` (run from ``before``'s state) does to each resource, by name; reads are left out."""
    now = {r.urn: r for r in after.resources if r.operation != "read"}
    old = {r.urn: r for r in before.resources if r.operation != "read"}
    moved = {alias for r in now.values() for alias in r.aliases}  # their state moved to a new URN
    label = labels([*now.values(), *old.values()])
    by_operation = {op: frozenset(label[u] for u, r in now.items() if r.operation == op) for op in ("create", "update", "replace")}
    return Changes(**by_operation, delete=frozenset(label[u] for u in set(old) - set(now) - moved))


def labels(resources: Iterable[Registered]) -> dict[str, str]:
    """URN -> the resource's name, or ``name (Type)`` where resources of two types share a name
    (an AWS secret and its version)."""
    types: dict[str, set[str]] = {}
    for resource in resources:
        types.setdefault(resource.name, set()).add(resource.type)
    return {r.urn: r.name if len(types[r.name]) == 1 else f"{r.name} ({r.type.rsplit(':', 1)[1]})" for r in resources}


def named(templates: Iterable[str], clusters: Iterable[str]) -> frozenset[str]:
    """``templates`` filled in for every cluster (``{c}``)."""
    return frozenset(t.format(c=c) for t in templates for c in clusters)


def paired(templates: Iterable[str], new: str, clusters: Iterable[str]) -> frozenset[str]:
    """``templates`` filled in for each ordered pair of ``new`` and another cluster (``{a}``, ``{b}``)."""
    others = [c for c in clusters if c != new]
    return frozenset(t.format(a=a, b=b) for t in templates for o in others for a, b in ((new, o), (o, new)))
