"""A mock resource monitor that records the whole resource graph.

Pulumi's ``MockMonitor`` hands ``Mocks.new_resource`` only type, name and inputs. Tests here also
need what the engine would see: parent, dependencies, provider reference, which inputs arrived as
secrets, and the stack outputs. ``RecordingMonitor`` keeps all of it and, like the engine, turns the
outputs a resource declares in ``additionalSecretOutputs`` into secrets.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

from google.protobuf import json_format, struct_pb2
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

from tests.harness import engine, replacements
from tests.harness.engine import Prior

STACK_REFERENCE = "pulumi:pulumi:StackReference"
SIG = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig


@dataclass
class Registered:
    """One resource as the engine saw its registration (or read).

    ``operation`` is what the engine did with it: ``create``, ``update`` (inputs changed since the
    state it started from), ``replace`` (its replacement trigger or an input the provider cannot
    change in place did), ``same`` (left alone, outputs from state) or ``read``. ``failed`` holds
    the error it failed to become ready with ("" when it is ready). ``delete_first``: a
    replacement that deletes the old resource before it creates the new one
    (``tests.harness.replacements.deletes_first``). ``deleted_with``: the URN whose deletion
    ``pulumi destroy`` lets delete this one too, skipping its own delete ("" for none).
    ``aliases``: the URNs it had before (the engine moves their state to it: no delete, no create).
    """

    urn: str
    type: str
    name: str
    custom: bool
    parent: str
    provider: str
    dependencies: list[str]
    property_dependencies: dict[str, list[str]]
    inputs: dict[str, Any]
    secret_inputs: set[str]
    outputs: dict[str, Any]
    id: str
    operation: str = "create"
    replacement_trigger: Any = None
    trigger_secret: bool = False
    custom_timeouts: dict[str, str] = field(default_factory=dict)
    failed: str = ""
    providers: dict[str, str] = field(default_factory=dict)
    ignore_changes: list[str] = field(default_factory=list)
    delete_first: bool = False
    deleted_with: str = ""
    aliases: list[str] = field(default_factory=list)

    @property
    def provider_urn(self) -> str:
        """The provider reference without its ``::id`` suffix ("" for a default provider)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""

    @property
    def placement(self) -> str:
        """What the resource is made through: its provider, or for a remote component (pulumi-eks's
        Cluster, which takes its providers as a map by package) the providers it hands its
        children. Moved to another, the engine replaces the resources (a provider of another
        region or cluster cannot manage them), the remote component's children among them."""
        if self.provider_urn or not self.providers:
            return self.provider_urn
        return " ".join(sorted(ref.rsplit("::", 1)[0] for ref in self.providers.values()))

    def as_prior(self) -> Prior:
        return Prior(self.id, self.inputs, self.outputs, self.replacement_trigger, self.failed, self.type, provider=self.placement)


@runtime_checkable
class Lifecycle(Protocol):
    """Mocks that know what a provider does beyond a create."""

    def update_resource(self, args: MockResourceArgs, prior: Prior) -> tuple[str, dict[str, Any]] | None:
        """The id and outputs of an in-place update that keeps what the provider computed before,
        or None when the provider computes them anew (then the mock's create answers)."""
        ...

    def replace_resource(self, args: MockResourceArgs, prior: Prior) -> tuple[str, dict[str, Any]]:
        """The id and outputs of the new resource replacing ``prior``."""
        ...

    def refused_write(
        self, type_: str, operation: str, prior: Prior | None, inputs: Mapping[str, Any], *, delete_first: bool, provider: str = ""
    ) -> str:
        """Why the cloud refuses a create, update or replace outside preview, given what it holds
        already ("" when it takes it); ``provider``: the URN of the provider the step goes through."""
        ...


@dataclass
class StackOutputs:
    values: dict[str, Any] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)


# The SDK sends registrations from a thread pool: claiming a URN must be one atomic step. One lock
# for the process, so that a run (and its monitor) can still be deep-copied.
_CLAIMING = threading.Lock()

JobOutcomes = dict[str, str]
"""Per Job resource name, the message it fails with when the mesh it probes is broken (absent: it completes)."""


class RecordingMonitor(MockMonitor):
    """``MockMonitor`` that records every registration (see ``Registered``) and applies the engine's
    rules of ``tests.harness.engine``: preview, state, Job awaits.

    Args:
        mocks: the providers' stand-ins.
        preview: evaluate as ``pulumi preview`` does (default false).
        state: the resources a previous update left, by URN (default: an empty stack).
        job_failures: Jobs that fail, by resource name, with their pods' message (default none).
    """

    def GetDeploymentInfo(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """The mock monitor's features but alias specs: the SDK then sends aliases as the full URNs
        it computes (``aliasURNs``), parents' aliases included."""
        info = super().GetDeploymentInfo(request)
        features = [f for f in info.supportedFeatures if f != resource_pb2.RESOURCE_MONITOR_FEATURE_ALIAS_SPECS]
        return resource_pb2.DeploymentInfo(supportedFeatures=features)

    def __init__(
        self, mocks: Mocks, *, preview: bool = False, state: Mapping[str, Prior] | None = None, job_failures: JobOutcomes | None = None
    ) -> None:
        super().__init__(mocks)
        self.preview = preview
        self.state = dict(state or {})
        self.job_failures = dict(job_failures or {})
        self.registered: list[Registered] = []
        self.stack_urn = ""
        self.stack_outputs = StackOutputs()
        self.duplicate_urns: list[str] = []
        self._claimed: set[str] = set()
        self.failures: list[str] = []
        self.preview_read_errors: list[str] = []
        self.remote_children: dict[str, Prior] = {}
        self.replaced_providers: set[str] = set()
        self.aliases_of: dict[str, list[str]] = {}
        # A remote component's children live in state too; outputs kept from state refer to them.
        for urn, prior in self.state.items():
            if prior.remote_child:
                self.resources[urn] = MockMonitor.ResourceRegistration(urn, prior.id, prior.outputs)
                self.remote_children[urn] = prior

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        self._claim(urn)
        _ensure_event_loop()
        raw = plain_properties(request.object)
        inputs = unwrap_secrets(raw)
        raw_trigger = plain_value(request.replacement_trigger) if request.HasField("replacement_trigger") else None
        trigger = unwrap_secrets(raw_trigger)
        timeouts = {k: v for k, v in json_format.MessageToDict(request.customTimeouts).items() if v}
        # Aliases name the URNs this resource had in earlier updates: the engine takes their state
        # as this one's (pkg/resource/deploy/step_generator.go, "aliases"). The SDK computes them
        # as full URNs here, parents' aliases included, since this monitor declines alias specs.
        # The engine gives a child the aliases its parent's aliases imply (the SDK leaves that to
        # it when the monitor takes alias specs, as the CLI's does).
        inherited = [self.make_urn(parent, request.type, request.name) for parent in self.aliases_of.get(request.parent, [])]
        aliases = [form for alias in request.aliasURNs for form in harness_forms(alias)] + inherited
        self.aliases_of[urn] = [a for a in aliases if a in self.state]
        prior = self.state.get(urn) or next((self.state[a] for a in aliases if a in self.state), None)
        if prior is not None and request.ignoreChanges:
            inputs = engine.with_ignored(prior.inputs, inputs, list(request.ignoreChanges))
        record = Registered(
            urn=urn,
            type=request.type,
            name=request.name,
            custom=bool(request.custom),
            parent=request.parent,
            provider=request.provider,
            dependencies=list(request.dependencies),
            property_dependencies={k: list(v.urns) for k, v in request.propertyDependencies.items()},
            inputs=inputs,
            secret_inputs=secret_paths(raw),
            outputs={},
            id="",
            replacement_trigger=trigger,
            trigger_secret=bool(secret_paths(raw_trigger)) if raw_trigger is not None else False,
            custom_timeouts=timeouts,
            providers=dict(request.providers),
            ignore_changes=list(request.ignoreChanges),
            deleted_with=request.deletedWith,
            aliases=[a for a in aliases if a in self.state and a != urn],
        )
        provider_replaced = any(urn in self.replaced_providers for urn in record.placement.split())
        # A remote component (pulumi-eks's Cluster) gets its providers as a map by package: the
        # mocks answer for it as if made through the one of its own package's cloud.
        provider = request.provider or next(iter(request.providers.values()), "")
        args = MockResourceArgs(request.type, request.name, inputs, provider, request.importId, request.custom or False)
        if prior is not None and engine.same_as_prior(prior, inputs, trigger, record.placement, provider_replaced=provider_replaced):
            id_, state = prior.id, dict(prior.outputs)
            record.operation = "same"
            record.failed = prior.failed and f"{prior.failed} (awaited again: it failed to become ready in an earlier update)"
        else:
            record.operation = "create"
            if prior is not None:
                record.operation = engine.operation(
                    prior,
                    inputs,
                    trigger,
                    record.placement,
                    provider_replaced=provider_replaced,
                    mutable_secrets=self._mutable_secrets(record.provider_urn),
                )
            id_, state = self._answer(record.operation, args, prior)
            if prior is not None and record.operation == "replace":
                self._replace(record, prior, inputs, request, id_)
            refusal = engine.refused_update(record.type, prior.inputs, inputs) if prior and record.operation == "update" else ""
            if refusal and not self.preview:
                self.failures.append(f"{urn}: updating failed: {refusal}")
            self._check_write(record, prior, inputs)
            if request.type == engine.JOB and not self.preview:
                record.failed = self._job_failure(request.name, inputs, timeouts, creating=prior is None)
        for key in request.additionalSecretOutputs:
            if key in state:
                state[key] = secret(state[key])
        record.id, record.outputs = id_ or "", unwrap_secrets(state)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_ or "", state)
        self.registered.append(record)
        if record.failed:
            self.failures.append(f"{urn}: {record.failed}")
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_ or "", object=_sync_await(rpc.serialize_properties(state, {})))

    def _claim(self, urn: str) -> None:
        """Record ``urn`` as registered (or read); a second time, as a duplicate, which the engine
        refuses ("Duplicate resource URN"): the run fails with every one of them when it ends (an
        exception here would reach the program as one failed registration, or be dropped)."""
        with _CLAIMING:
            if urn in self._claimed:
                self.duplicate_urns.append(urn)
            self._claimed.add(urn)

    def _answer(self, operation: str, args: MockResourceArgs, prior: Prior | None) -> tuple[str | None, dict[str, Any]]:
        """The provider's id and outputs for a create, update or replace. An update the provider
        does in place keeps what it computed before (``Lifecycle.update_resource``); a replacement
        is a new resource (``Lifecycle.replace_resource``). During preview: the inputs as given,
        whatever the provider computes unknown."""
        lifecycle = self.mocks if isinstance(self.mocks, Lifecycle) else None
        kept = lifecycle.update_resource(args, prior) if lifecycle and prior is not None and operation == "update" else None
        if kept is not None:
            return kept
        if self.preview:
            computed = self._preview_answer(args)
            return (prior.id if prior and operation == "update" else ""), engine.preview_outputs(args.inputs, computed, rpc.UNKNOWN)
        if lifecycle and prior is not None and operation == "replace":
            return lifecycle.replace_resource(args, prior)
        return self.mocks.new_resource(args)

    def _replace(self, record: Registered, prior: Prior, inputs: dict[str, Any], request: Any, new_id: str | None) -> None:
        """Record a replacement: whether it deletes first, that its provider's resources follow it
        (a replaced provider), and the failure of a replacement that keeps a taken name."""
        option = request.deleteBeforeReplace if request.deleteBeforeReplaceDefined else None
        record.delete_first = replacements.deletes_first(record.type, prior.inputs, inputs, option)
        if record.type.startswith("pulumi:providers:"):
            self.replaced_providers.add(record.urn)
        moved = prior.provider != record.placement
        conflict = "" if self.preview else engine.replacement_conflict(prior, inputs, new_id or "", record.delete_first, moved=moved)
        if conflict:
            self.failures.append(f"{record.urn}: creating the replacement failed: {conflict}")

    def _check_write(self, record: Registered, prior: Prior | None, inputs: dict[str, Any]) -> None:
        """The cloud's refusal of this step given what it holds (``Lifecycle.refused_write``)."""
        if self.preview or not isinstance(self.mocks, Lifecycle):
            return
        refusal = self.mocks.refused_write(
            record.type, record.operation, prior, inputs, delete_first=record.delete_first, provider=record.provider_urn
        )
        if refusal:
            verb = {"create": "creating", "update": "updating"}.get(record.operation, "creating the replacement")
            self.failures.append(f"{record.urn}: {verb} failed: {refusal}")

    def _preview_answer(self, args: MockResourceArgs) -> dict[str, Any]:
        """The mock's answer outside preview, to tell computed outputs from inputs; unknown inputs are
        stood in for by placeholders. A mock that cannot answer for them (a certificate from a key
        that does not exist yet raises ``UnknownInputError``) computes nothing: outputs beyond the
        inputs are then absent, which the SDK reads as unknown during preview. Any other error of a
        mock fails the run, as it does outside preview."""
        placeholders = json.loads(json.dumps(args.inputs).replace(rpc.UNKNOWN, engine.PLACEHOLDER))
        stand_in = MockResourceArgs(args.typ, args.name, placeholders, args.provider, args.resource_id, args.custom)
        try:
            return self.mocks.new_resource(stand_in)[1]
        except engine.UnknownInputError:
            return dict(args.inputs)

    def _check_service_made(self, provider: str, service_id: str) -> None:
        """A Service read must name one that a gateway release or Gateway registered in this run, on
        the same cluster, makes; any other name is "not found" on a real cluster."""
        made = {(r.provider, engine.load_balancer_made_by(r.type, r.inputs, r.id)) for r in self.registered}
        if (provider, service_id) not in made:
            raise LookupError(f'services "{service_id}" not found: no gateway release or Gateway on this cluster makes it')

    def _job_failure(self, name: str, inputs: dict[str, Any], timeouts: dict[str, str], *, creating: bool) -> str:
        message = self.job_failures.get(name)
        if message is None:
            return ""
        resource_name = str((inputs.get("metadata") or {}).get("name") or name)
        return engine.job_failure(resource_name, inputs, engine.job_await_timeout(inputs, timeouts, creating), message)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """A ``Resource.get``: skipped while its id is unknown; during preview, a known id must
        name an object that existed before this update."""
        _ensure_event_loop()
        raw = plain_properties(request.properties)
        urn = self.make_urn(request.parent, request.type, request.name)
        self._claim(urn)
        # The engine skips a read whose id is unknown; an unconfigured provider (its config still
        # unknown during preview) answers a read with unknowns too.
        known = request.id != rpc.UNKNOWN and not (self.preview and self._provider_unknown(request.provider))
        # Another stack's outputs (a StackReference) exist before this update: the engine reads them in a preview too.
        if known and self.preview and request.type != STACK_REFERENCE and not self._existed_before(request.type, request.id):
            message = f"Preview failed: resource '{request.id}' does not exist (read by {urn} during preview)"
            self.preview_read_errors.append(message)
            raise engine.PreviewReadError(message)
        state: dict[str, Any] = {}
        id_ = request.id if known else ""
        if known and request.type == "kubernetes:core/v1:Service":
            self._check_service_made(request.provider, request.id)
        if known:
            args = MockResourceArgs(
                typ=request.type, name=request.name, inputs=unwrap_secrets(raw), provider=request.provider, resource_id=request.id
            )
            id_, state = self.mocks.new_resource(args)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_ or request.id, state)
        self.registered.append(
            Registered(
                urn=urn,
                type=request.type,
                name=request.name,
                custom=True,
                parent=request.parent,
                provider=request.provider,
                dependencies=list(request.dependencies),
                property_dependencies={},
                inputs=unwrap_secrets(raw),
                secret_inputs=secret_paths(raw),
                outputs=unwrap_secrets(state),
                id=id_ or "",
                operation="read",
            )
        )
        return resource_pb2.ReadResourceResponse(urn=urn, properties=_sync_await(rpc.serialize_properties(state, {})))

    def _mutable_secrets(self, provider_urn: str) -> bool:
        """Whether the kubernetes provider ``provider_urn`` has enableSecretMutable (the engine
        passes provider config as strings, the mocks as given)."""
        provider = next((r for r in self.registered if r.urn == provider_urn), None)
        return provider is not None and str(provider.inputs.get("enableSecretMutable", "")).lower() == "true"

    def _provider_unknown(self, provider_ref: str) -> bool:
        registration = self.resources.get(provider_ref.rsplit("::", 1)[0])
        return registration is not None and rpc.UNKNOWN in json.dumps(registration.state)

    def _existed_before(self, type_: str, id_: str) -> bool:
        return any(p.type == type_ and p.id == id_ for p in self.state.values())

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self.stack_urn:
            raw = rpc.deserialize_properties(request.outputs)
            self.stack_outputs = StackOutputs(unwrap_secrets(raw), secret_paths(raw))
        return super().RegisterResourceOutputs(request)

    def add_child(self, parent_urn: str, type_: str, name: str, id_: str, state: dict[str, Any]) -> dict[str, Any]:
        """Register a child the way a remote component's provider would; returns a resource reference."""
        urn = self.make_urn(parent_urn, type_, name)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        if not self.preview:
            self.remote_children[urn] = Prior(id_, {}, state, None, "", type_, remote_child=True)
        return {SIG: RESOURCE_SIG, "urn": urn, "id": id_, "packageVersion": ""}


def harness_forms(alias: str) -> list[str]:
    """An alias URN as the SDK computes it (the full type chain from the root stack) in the forms
    this monitor names resources by (``MockMonitor.make_urn``: the parent's own type and the
    resource's; the root stack's for a top-level resource of a stack, none in a bare program)."""
    prefix, project, chain, name = alias.split("::", 3)
    types = chain.split("$")
    if len(types) == 1:
        return [alias, "::".join([prefix, project, f"pulumi:pulumi:Stack${types[0]}", name])]
    return ["::".join([prefix, project, "$".join(types[-2:]), name])]


def plain_value(value: Any) -> Any:
    """One protobuf Value as plain data, like ``plain_properties``."""
    return plain_properties(struct_pb2.Struct(fields={"v": value})).get("v")


def plain_properties(struct: Any) -> dict[str, Any]:
    """A registration's properties as plain data: secrets keep their marker, resource references
    become their URN.

    ``rpc.deserialize_properties`` would construct a Resource object for every reference (a
    ManagedNodeGroup's ``cluster``, say) on this worker thread's event loop, which then clashes
    with the program's loop; the recorder and the mocks only need the URN.
    """

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if value.get(SIG) == RESOURCE_SIG:
                return value["urn"]
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, float) and value.is_integer():
            return int(value)
        return value

    return walk(json_format.MessageToDict(struct))


def secret(value: Any) -> dict[str, Any]:
    """A value the SDK deserializes as a Pulumi secret."""
    return {SIG: SECRET_SIG, "value": value}


def is_secret_marker(value: Any) -> bool:
    return isinstance(value, dict) and value.get(SIG) == SECRET_SIG


def unwrap_secrets(value: Any) -> Any:
    if is_secret_marker(value):
        return unwrap_secrets(value["value"])
    if isinstance(value, dict):
        return {k: unwrap_secrets(v) for k, v in value.items()}
    if isinstance(value, list):
        return [unwrap_secrets(v) for v in value]
    return value


def secret_paths(value: Any, path: str = "") -> set[str]:
    """Dotted paths of every secret value (``data.token``, ``items[0]``); "" when the whole is secret."""
    if is_secret_marker(value):
        return {path}
    found: set[str] = set()
    if isinstance(value, dict):
        for key, item in value.items():
            found |= secret_paths(item, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found |= secret_paths(item, f"{path}[{index}]")
    return found
