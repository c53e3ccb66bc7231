"""What the real Pulumi engine and providers do that plain mocks do not, as rules the harness enforces.

- Preview: a resource being created or updated has only its inputs as outputs; everything the
  provider computes (ids, statuses, addresses) is unknown. A read (``Resource.get``) runs during
  preview whenever its id is known, and ``depends_on`` does not delay it (pulumi/pulumi#16395,
  pulumi-kubernetes#2789): reading an object the same update creates fails with
  "Preview failed: resource '<id>' does not exist". A read whose id is unknown is skipped.
- State: a resource whose inputs (and replacement trigger) are unchanged is not touched; its outputs
  come from state. A resource that failed to become ready is awaited again on the next update,
  unless it is a Job annotated ``pulumi.com/replaceUnready: "true"``, which is replaced instead.
- Jobs (pulumi-kubernetes await/job.go): Pulumi waits ``customTimeouts`` (create/update), else the
  ``pulumi.com/timeoutSeconds`` annotation, else 10 minutes. A Job that fails (BackoffLimitExceeded
  or DeadlineExceeded) fails the update at once with its pods' termination messages; one still
  running when the wait ends fails as "'<name>' timed out waiting to be Ready", without them.
- Updates: what an input change does to each resource type (update in place, or replace, and
  whether the old resource goes first) is the provider's; ``tests.harness.replacements`` holds it
  per type with its source, and a type without an entry is an error. A replacement that keeps a
  name Azure or the cluster still holds fails as the real create would.
- Destroy: resources are deleted in the reverse order of the dependency graph (explicit and
  input dependencies, parent, provider) and nothing else; resources with no path between them
  may be deleted at the same time.
"""

from __future__ import annotations

import contextlib
import copy
import dataclasses
import datetime
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from tests.harness import replacements

DEFAULT_JOB_TIMEOUT_SECONDS = 600
REPLACE_UNREADY = "pulumi.com/replaceUnready"
TIMEOUT_ANNOTATION = "pulumi.com/timeoutSeconds"
JOB = "kubernetes:batch/v1:Job"
DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)(h|m|s)")


class Node(Protocol):
    """What the graph rules need of a recorded resource."""

    @property
    def urn(self) -> str: ...

    @property
    def parent(self) -> str: ...

    @property
    def provider_urn(self) -> str: ...

    @property
    def dependencies(self) -> list[str]: ...


@dataclass(frozen=True)
class Prior:
    """One resource as a previous update left it in state.

    Args:
        id: its id.
        inputs: the inputs it was last updated with.
        outputs: its outputs.
        replacement_trigger: the replacement trigger it was registered with (None: none).
        failed: the error it failed to become ready with ("" when it is ready).
        type: its type token.
        remote_child: registered by a remote component's provider, not by the program (default false).
        provider: the URN of the provider that manages it ("" for a default provider; default "").
    """

    id: str
    inputs: dict[str, Any]
    outputs: dict[str, Any]
    replacement_trigger: Any
    failed: str
    type: str
    remote_child: bool = False
    provider: str = ""


def preview_outputs(inputs: Any, computed: Any, unknown: str) -> Any:
    """What a provider answers for a create or update during preview: the inputs as given, and
    ``unknown`` for everything it would compute (``computed`` holds its answer outside preview),
    at any depth: azure-native's PreviewOutputs, for one, marks every response property that the
    inputs do not set as computed."""
    if isinstance(inputs, dict) and isinstance(computed, dict):
        merged = {k: preview_outputs(inputs[k], v, unknown) if k in inputs else unknown for k, v in computed.items()}
        return {**merged, **{k: v for k, v in inputs.items() if k not in computed}}
    return inputs


class PreviewReadError(ValueError):
    """A read that the real engine would run during preview against an object that does not exist yet."""


PLACEHOLDER = "preview-placeholder"
"""What stands in for an unknown input when the harness asks a mock what it would compute."""


class UnknownInputError(ValueError):
    """A mock cannot compute its outputs because an input it needs is a preview placeholder (a
    certificate signed with a key that does not exist yet)."""


def known(value: str, what: str) -> str:
    """``value``, unless it is (or holds) a preview placeholder: then ``UnknownInputError``."""
    if PLACEHOLDER in value:
        raise UnknownInputError(f"{what} is unknown during preview")
    return value


def seconds(duration: str) -> int:
    """A Go duration as Pulumi's customTimeouts carry it ("15m", "1h30m", "90s") in seconds."""
    parts = DURATION_PART.findall(duration)
    if not parts or "".join(n + u for n, u in parts) != duration.strip():
        raise ValueError(f"not a duration: {duration!r}")
    return round(sum(float(n) * {"h": 3600, "m": 60, "s": 1}[u] for n, u in parts))


def annotations_of(inputs: Mapping[str, Any]) -> dict[str, str]:
    return dict((inputs.get("metadata") or {}).get("annotations") or {})


def job_await_timeout(inputs: Mapping[str, Any], custom_timeouts: Mapping[str, str], creating: bool) -> int:
    """How long Pulumi waits for a Job to complete, in seconds."""
    custom = custom_timeouts.get("create" if creating else "update")
    if custom:
        return seconds(custom)
    annotation = annotations_of(inputs).get(TIMEOUT_ANNOTATION)
    return int(annotation) if annotation else DEFAULT_JOB_TIMEOUT_SECONDS


def job_failure(name: str, inputs: Mapping[str, Any], timeout: int, message: str) -> str:
    """The error a failing Job ends the update with: its own message only if it fails (its
    ``activeDeadlineSeconds`` at the latest) before Pulumi stops waiting."""
    deadline = (inputs.get("spec") or {}).get("activeDeadlineSeconds")
    if deadline is None or int(deadline) >= timeout:
        return f"'{name}' timed out waiting to be Ready"
    return f"Resource '{name}' was created but failed to initialize: {message}"


def replaces_unready(inputs: Mapping[str, Any]) -> bool:
    return annotations_of(inputs).get(REPLACE_UNREADY) == "true"


PATH_STEP = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def with_ignored(prior: Mapping[str, Any], inputs: Mapping[str, Any], paths: Sequence[str]) -> dict[str, Any]:
    """``inputs`` with each ``ignoreChanges`` path (``a.b[0].c``) set back to its value in ``prior``:
    the engine sends the old value there, so a change at such a path is no change at all."""
    result = copy.deepcopy(dict(inputs))
    for path in paths:
        steps = _steps(path)
        old, new = _walk(prior, steps[:-1]), _walk(result, steps[:-1])
        last = steps[-1]
        kept = _walk(old, [last])
        if kept is not None and isinstance(new, (dict, list)):
            with contextlib.suppress(IndexError, TypeError):
                new[last] = kept  # type: ignore[index]
    return result


def _steps(path: str) -> list[str | int]:
    return [name or int(index) for name, index in PATH_STEP.findall(path)]


def _set(tree: Any, steps: Sequence[str | int], value: Any) -> bool:
    """Set ``value`` at ``steps`` in ``tree`` where its parent exists; whether it was set."""
    parent = _walk(tree, steps[:-1])
    if not isinstance(parent, (dict, list)) or (isinstance(parent, dict) and steps[-1] not in parent):
        return False
    try:
        parent[steps[-1]] = value  # type: ignore[index]
    except (IndexError, TypeError):
        return False
    return True


AZURE_NATIVE = "azure-native:"


def after_drift(state: Mapping[str, Prior], drift: Mapping[str, Mapping[str, Any]], *, refresh: bool) -> dict[str, Prior]:
    """The state the next update starts from once the cloud has moved on its own: ``drift`` holds,
    per URN, ``path -> value`` the cloud now reports (an autoscaler's node count, say).

    Without a refresh the state is what the last update left: the engine diffs against it and, for
    an ``ignoreChanges`` path, sends the old input, blind to the drift. A refresh reads every
    resource: its outputs take the drift, and azure-native's Read also writes into the inputs each
    input-shaped property whose output changed since the last update (pulumi-azure-native
    provider.go ``Read``: the difference between the old and new outputs' input projections is
    applied to the stored inputs). Other providers' inputs are left as they were.
    """
    result = dict(state)
    if not refresh:
        return result
    for urn, changes in drift.items():
        prior = state[urn]
        inputs, outputs = copy.deepcopy(prior.inputs), copy.deepcopy(prior.outputs)
        for path, value in changes.items():
            if not _set(outputs, _steps(path), value):
                raise KeyError(f"{urn} has no output {path} to drift")
            if prior.type.startswith(AZURE_NATIVE):
                _set(inputs, _steps(path), value)
        result[urn] = dataclasses.replace(prior, inputs=inputs, outputs=outputs)
    return result


def _walk(tree: Any, steps: Sequence[str | int]) -> Any:
    for step in steps:
        try:
            tree = tree[step]
        except (KeyError, IndexError, TypeError):
            return None
    return tree


MANAGED_CLUSTER = "azure-native:containerservice:ManagedCluster"
AGENT_POOL = "azure-native:containerservice:AgentPool"
SUBNET = "azure-native:network:Subnet"
# What AKS refuses to change in a pool that exists ("PropertyChangeNotAllowed: Changing property
# 'vmSize' is not allowed"); an AgentPool resource is replaced instead (replacements.py), but a
# pool inline in the cluster is only ever updated, with the cluster's PUT.
FIXED_POOL_FIELDS = ("vmSize", "availabilityZones", "vnetSubnetID", "osDiskSizeGB", "osType")


EKS_CLUSTER = "eks:index:Cluster"


def _access_entry_conflict(prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """pulumi-eks makes an ``aws:eks/accessEntry:AccessEntry`` per key of ``accessEntries``, named
    after the key, its principal ForceNew: an entry under a new key, or a key whose principal
    changed, is created before the old ones go, and EKS refuses a second entry for a principal."""
    before = {key: entry.get("principalArn") for key, entry in (prior.get("accessEntries") or {}).items()}
    after = {key: entry.get("principalArn") for key, entry in (inputs.get("accessEntries") or {}).items()}
    for key, principal in after.items():
        if before.get(key) != principal and principal in before.values():
            return f"ResourceInUseException: the cluster already has an access entry for {principal}"
    return ""


def refused_update(type_: str, prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """The cloud's error for an in-place update it refuses ("" when it takes it); see each rule."""
    rule = REFUSALS.get(type_)
    return rule(prior, inputs) if rule else ""


def _subnet_refusal(prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """Azure's virtual network docs: a subnet's range changes only while nothing is in it."""
    if prior.get("addressPrefix") != inputs.get("addressPrefix"):
        return "InUseSubnetCannotBeUpdated: the subnet is in use and its address range cannot be changed"
    return ""


def _pool_refusal(prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """A pool's fixed field that the provider does not replace the pool for (its zones, say)."""
    changed = [f for f in FIXED_POOL_FIELDS if prior.get(f) != inputs.get(f)]
    return f"PropertyChangeNotAllowed: Changing property '{changed[0]}' is not allowed" if changed else ""


def _inline_pool_refusal(prior: Mapping[str, Any], inputs: Mapping[str, Any]) -> str:
    """The cluster's PUT may not change a fixed field of its inline pools, nor drop one (pools go
    one by one)."""
    before = {p.get("name"): p for p in prior.get("agentPoolProfiles") or []}
    after = {p.get("name"): p for p in inputs.get("agentPoolProfiles") or []}
    for name, pool in before.items():
        if name not in after:
            return f"Agent pool {name} cannot be removed in the cluster's PUT: delete it with its own agent pool operation"
        changed = [f for f in FIXED_POOL_FIELDS if pool.get(f) != after[name].get(f)]
        if changed:
            return f"PropertyChangeNotAllowed: Changing property '{changed[0]}' is not allowed (agent pool {name})"
    return ""


REFUSALS: dict[str, Callable[[Mapping[str, Any], Mapping[str, Any]], str]] = {
    EKS_CLUSTER: _access_entry_conflict,
    SUBNET: _subnet_refusal,
    AGENT_POOL: _pool_refusal,
    MANAGED_CLUSTER: _inline_pool_refusal,
}


def same_as_prior(prior: Prior | None, inputs: Mapping[str, Any], trigger: Any, provider: str, *, provider_replaced: bool = False) -> bool:
    """Whether the engine leaves the resource as it is (no diff, trigger and provider unchanged and
    not replaced, not replaced as unready nor due for renewal)."""
    if prior is None or prior.inputs != inputs or prior.replacement_trigger != trigger or prior.provider != provider:
        return False
    return not (provider_replaced or replaced_as_unready(prior, inputs) or renewal_due(prior, inputs))


def replaced_as_unready(prior: Prior, inputs: Mapping[str, Any]) -> bool:
    """A Job that failed in an earlier update and asks to be replaced rather than awaited again."""
    return bool(prior.failed) and prior.type == JOB and replaces_unready(inputs)


HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
GATEWAY = "kubernetes:gateway.networking.k8s.io/v1:Gateway"
# GatewayClasses istiod deploys a LoadBalancer Service for (pilot/pkg/config/kube/gatewaycommon/classinfo.go).
ISTIO_LOAD_BALANCED_CLASSES = ("istio", "istio-east-west")


def load_balancer_made_by(type_: str, inputs: Mapping[str, Any], id_: str) -> str | None:
    """The id (``namespace/name``) of the LoadBalancer Service a registered resource makes, if any: a
    gateway chart's release (the Service takes the release's name) or a Gateway of a class istiod
    deploys (the Service takes the Gateway's name, pilot/pkg/config/kube/gatewaycommon/classinfo.go).
    A gateway chart whose values make its Service anything but a LoadBalancer (the chart's default)
    makes none."""
    if type_ == HELM_RELEASE and inputs.get("chart") == "gateway":
        service_type = ((inputs.get("values") or {}).get("service") or {}).get("type", "LoadBalancer")
        return id_ if service_type == "LoadBalancer" else None
    if type_ == GATEWAY and (inputs.get("spec") or {}).get("gatewayClassName") in ISTIO_LOAD_BALANCED_CLASSES:
        return id_
    return None


def replaced_inputs(type_: str, prior: Mapping[str, Any], inputs: Mapping[str, Any], *, mutable_secrets: bool = False) -> list[str]:
    """The changed inputs that make the type's provider replace the resource (its entry in
    ``tests.harness.replacements``); a type without an entry is an error, so none goes unmodelled.
    ``mutable_secrets``: the kubernetes provider's enableSecretMutable, with which it updates a
    Secret's data in place unless the Secret is immutable (pulumi-kubernetes provider/pkg/provider
    ``forceNewProperties``: ``IsSecret(obj) && (!enableSecretMutable || IsImmutable(obj))``)."""
    if type_ == SECRET and mutable_secrets and not inputs.get("immutable"):
        return replacements.changed_paths(replacements.MUTABLE_SECRET, prior, inputs)
    rule = replacements.rule_for(type_)
    if rule is None:
        raise KeyError(f"{type_}: no entry in tests/harness/replacements.py says which input changes replace it")
    return replacements.changed_paths(rule, prior, inputs)


def renewal_due(prior: Prior, inputs: Mapping[str, Any], now: datetime.datetime | None = None) -> bool:
    """A pulumi-tls certificate whose early-renewal time has come, which any update replaces."""
    rule = replacements.rule_for(prior.type)
    return bool(rule and rule.renewal) and replacements.renewal_due(prior.outputs, inputs, now or datetime.datetime.now(datetime.UTC))


def operation(
    prior: Prior, inputs: Mapping[str, Any], trigger: Any, provider: str, *, provider_replaced: bool = False, mutable_secrets: bool = False
) -> str:
    """``replace`` when a replacement trigger or a replace-forcing input changed, a certificate is
    due for renewal, or the resource moved to another provider or its provider was replaced (or a
    failed Job with ``replaceUnready`` is awaited again), else ``update``. The engine replaces a
    resource whose provider reference changed when the new provider's configuration diff says it
    cannot manage the old one (pkg/resource/deploy/step_generator.go ``providerChanged``); the
    program only moves resources between providers of different regions or clusters, so every
    move is a replacement here. A component is never replaced; a remote one's replacing inputs
    stand for the cloud resource its provider replaces inside it (``tests.harness.replacements``)."""
    if prior.replacement_trigger != trigger or prior.provider != provider or provider_replaced:
        return "replace"
    if replaced_inputs(prior.type, prior.inputs, inputs, mutable_secrets=mutable_secrets) or renewal_due(prior, inputs):
        return "replace"
    return "replace" if replaced_as_unready(prior, inputs) else "update"


# Where a replacement keeping its name fails. Key Vault keeps a deleted vault's name, which is
# global across Azure, and a deleted secret's name in its vault for the soft-delete retention
# (learn.microsoft.com/azure/key-vault/general/soft-delete-overview: a soft-deleted vault's name
# cannot be reused until it is purged or the retention ends); azure-native and pulumi-kubernetes
# ids are the names Azure and the cluster know the object by, so a replacement created before the
# old one is deleted collides with it.
SOFT_DELETED = {"azure-native:keyvault:Vault": "vaultName", "azure-native:keyvault:Secret": ""}
NAMED_IDS = ("azure-native:", "kubernetes:")
# Remote components whose cloud resource takes a name from this input (not auto-named): AWS refuses
# a second one of that name, so a replacement made before the old one is deleted fails.
FIXED_NAMES = {"eks:index:ManagedNodeGroup": "nodeGroupName", "eks:index:Cluster": "name"}


def replacement_conflict(prior: Prior, inputs: Mapping[str, Any], new_id: str, delete_first: bool, *, moved: bool = False) -> str:
    """Why creating the replacement of ``prior`` fails ("" when it does not): its name is still
    held by the soft-deleted predecessor, or by the predecessor itself when it is created first.
    A soft-deleted vault holds its name (``vaultName``) in every resource group; anything else is
    known by its id. A fixed AWS name is unique in its region only: a replacement ``moved`` to
    another provider (the program makes one per region) takes it in the new region."""
    global_name = SOFT_DELETED.get(prior.type, "")
    if global_name and prior.inputs.get(global_name) == inputs.get(global_name):
        return f"the name '{inputs.get(global_name)}' is still held by the soft-deleted {prior.type.rsplit(':', 1)[1]}; give it a new name"
    fixed = FIXED_NAMES.get(prior.type, "")
    if fixed and not delete_first and not moved and inputs.get(fixed) and prior.inputs.get(fixed) == inputs.get(fixed):
        return f"ResourceInUseException: '{inputs[fixed]}' already exists: the replacement is created before the old one is deleted"
    if not prior.id or prior.id != new_id:
        return ""
    if prior.type in SOFT_DELETED:
        return f"'{new_id}' is still held by the soft-deleted {prior.type.rsplit(':', 1)[1]}; give it a new name"
    if not delete_first and prior.type.startswith(NAMED_IDS):
        return f"'{new_id}' already exists: the replacement is created before the old one is deleted"
    return ""


def edges(node: Node) -> set[str]:
    """What ``node`` needs to exist: its dependencies, its parent and its provider."""
    needed = set(node.dependencies)
    if node.parent:
        needed.add(node.parent)
    if node.provider_urn:
        needed.add(node.provider_urn)
    return {u for u in needed if u and not is_stack(u)}


def is_stack(urn: str) -> bool:
    """Whether ``urn`` is the stack itself (every other URN carries it in its type chain)."""
    return urn.split("::")[2] == "pulumi:pulumi:Stack"


def depends_on(nodes: Iterable[Node], dependent: str, dependency: str) -> bool:
    """Whether ``dependent`` needs ``dependency``, directly or through others."""
    graph = {n.urn: edges(n) for n in nodes}
    seen: set[str] = set()
    stack = [dependent]
    while stack:
        for urn in graph.get(stack.pop(), set()):
            if urn == dependency:
                return True
            if urn not in seen:
                seen.add(urn)
                stack.append(urn)
    return False


def create_waves(nodes: Sequence[Node]) -> list[list[str]]:
    """URNs in the order the engine can create them: each wave needs only earlier waves."""
    graph = {n.urn: edges(n) & {m.urn for m in nodes} for n in nodes}
    waves: list[list[str]] = []
    done: set[str] = set()
    while len(done) < len(graph):
        wave = sorted(u for u, needs in graph.items() if u not in done and needs <= done)
        if not wave:
            raise ValueError(f"dependency cycle among {sorted(set(graph) - done)}")
        waves.append(wave)
        done |= set(wave)
    return waves


def destroy_waves(nodes: Sequence[Node]) -> list[list[str]]:
    """URNs in the order ``pulumi destroy`` deletes them: a resource goes once nothing that needs it is left."""
    graph = {n.urn: edges(n) & {m.urn for m in nodes} for n in nodes}
    needed_by: dict[str, set[str]] = {u: set() for u in graph}
    for urn, needs in graph.items():
        for dependency in needs:
            needed_by[dependency].add(urn)
    waves: list[list[str]] = []
    gone: set[str] = set()
    while len(gone) < len(graph):
        wave = sorted(u for u, users in needed_by.items() if u not in gone and users <= gone)
        waves.append(wave)
        gone |= set(wave)
    return waves
