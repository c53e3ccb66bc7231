"""How long a first ``pulumi up`` takes, simulated: each resource takes a typical time for its type
and starts once everything it needs is done (the engine runs everything else in parallel). The
times are rough (minutes for AKS clusters and pools, seconds for most else, a Sleep its own
duration); what the tests compare is which resources lie on the longest path, which the rough
times are enough to tell."""

from __future__ import annotations

import re
from collections.abc import Mapping

from tests.harness import engine
from tests.harness.monitor import Registered
from tests.harness.program import StackRun

# Seconds; typical times from AKS, EKS and Helm runs of this size.
TYPICAL_SECONDS: Mapping[str, float] = {
    "azure-native:containerservice:ManagedCluster": 420,
    "azure-native:containerservice:AgentPool": 240,
    "azure-native:network:VirtualNetworkPeering": 30,
    "azure-native:network:Subnet": 10,
    "azure-native:network:VirtualNetwork": 10,
    "azure-native:keyvault:Vault": 60,
    "kubernetes:helm.sh/v3:Release": 90,
    "kubernetes:batch/v1:Job": 60,
}
OTHER_SECONDS = 3.0
DURATION = re.compile(r"([0-9]+)([hms])")
UNIT_SECONDS = {"h": 3600, "m": 60, "s": 1}


def seconds(resource: Registered) -> float:
    """How long ``resource`` takes to create."""
    if resource.type == "time:index/sleep:Sleep":
        return float(sum(int(n) * UNIT_SECONDS[u] for n, u in DURATION.findall(str(resource.inputs.get("createDuration", "")))))
    if not resource.custom or resource.operation == "read":
        return 0.0
    return TYPICAL_SECONDS.get(resource.type, OTHER_SECONDS)


def finish_times(run: StackRun, override: Mapping[str, float] | None = None) -> dict[str, float]:
    """When each resource (by URN) is done, ``override`` giving some types other times."""
    times = {**TYPICAL_SECONDS, **(override or {})}
    done: dict[str, float] = {}
    by_urn = {r.urn: r for r in run.resources}
    for wave in engine.create_waves(run.resources):
        for urn in wave:
            resource = by_urn[urn]
            start = max((done[u] for u in engine.edges(resource) if u in done), default=0.0)
            own = seconds(resource) if resource.type not in (override or {}) else times[resource.type]
            done[urn] = start + own
    return done


def makespan(run: StackRun, override: Mapping[str, float] | None = None) -> float:
    """The simulated duration of the whole first ``up``."""
    return max(finish_times(run, override).values(), default=0.0)
