"""A mock resource monitor that records the whole resource graph.

Pulumi's ``MockMonitor`` hands ``Mocks.new_resource`` only type, name and inputs. Tests here also
need what the engine would see: parent, dependencies, provider reference, which inputs arrived as
secrets, and the stack outputs. ``RecordingMonitor`` keeps all of it and, like the engine, turns the
outputs a resource declares in ``additionalSecretOutputs`` into secrets.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf import json_format
from pulumi.runtime import rpc
from pulumi.runtime.mocks import MockMonitor, MockResourceArgs, Mocks
from pulumi.runtime.proto import resource_pb2
from pulumi.runtime.sync_await import _ensure_event_loop, _sync_await

SIG = rpc._special_sig_key
SECRET_SIG = rpc._special_secret_sig
RESOURCE_SIG = rpc._special_resource_sig


@dataclass
class Registered:
    """One resource as the engine saw its registration."""

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

    @property
    def provider_urn(self) -> str:
        """The provider reference without its ``::id`` suffix ("" for a default provider)."""
        return self.provider.rsplit("::", 1)[0] if self.provider else ""


@dataclass
class StackOutputs:
    values: dict[str, Any] = field(default_factory=dict)
    secret: set[str] = field(default_factory=set)


class RecordingMonitor(MockMonitor):
    """``MockMonitor`` that records every registration (see ``Registered``) and the stack outputs."""

    def __init__(self, mocks: Mocks) -> None:
        super().__init__(mocks)
        self.registered: list[Registered] = []
        self.stack_urn = ""
        self.stack_outputs = StackOutputs()
        self.duplicate_urns: list[str] = []

    def RegisterResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        urn = self.make_urn(request.parent, request.type, request.name)
        if request.type == "pulumi:pulumi:Stack":
            self.stack_urn = urn
            return resource_pb2.RegisterResourceResponse(urn=urn)
        if urn in self.resources:
            # The engine refuses a second registration of one URN; the SDK swallows a mock's
            # exception, so the run checks this list when it ends.
            self.duplicate_urns.append(urn)
            raise ValueError(f"Duplicate resource URN '{urn}'; try giving it a unique name")
        _ensure_event_loop()
        raw = plain_properties(request.object)
        inputs = unwrap_secrets(raw)
        args = MockResourceArgs(
            typ=request.type,
            name=request.name,
            inputs=inputs,
            provider=request.provider,
            resource_id=request.importId,
            custom=request.custom or False,
        )
        id_, state = self.mocks.new_resource(args)
        id_ = id_ or ""
        for key in request.additionalSecretOutputs:
            if key in state:
                state[key] = secret(state[key])
        response_object = _sync_await(rpc.serialize_properties(state, {}))
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        self.registered.append(
            Registered(
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
                outputs=unwrap_secrets(state),
                id=id_,
            )
        )
        return resource_pb2.RegisterResourceResponse(urn=urn, id=id_, object=response_object)

    def ReadResource(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        """A ``Resource.get``: recorded like a registration, with the id it read."""
        _ensure_event_loop()
        raw = plain_properties(request.properties)
        args = MockResourceArgs(
            typ=request.type, name=request.name, inputs=unwrap_secrets(raw), provider=request.provider, resource_id=request.id
        )
        id_, state = self.mocks.new_resource(args)
        urn = self.make_urn(request.parent, request.type, request.name)
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
                id=id_ or request.id,
            )
        )
        return resource_pb2.ReadResourceResponse(urn=urn, properties=_sync_await(rpc.serialize_properties(state, {})))

    def RegisterResourceOutputs(self, request: Any) -> Any:  # noqa: N802 - gRPC method name
        if request.urn == self.stack_urn:
            raw = rpc.deserialize_properties(request.outputs)
            self.stack_outputs = StackOutputs(unwrap_secrets(raw), secret_paths(raw))
        return super().RegisterResourceOutputs(request)

    def add_child(self, parent_urn: str, type_: str, name: str, id_: str, state: dict[str, Any]) -> dict[str, Any]:
        """Register a child the way a remote component's provider would; returns a resource reference."""
        urn = self.make_urn(parent_urn, type_, name)
        self.resources[urn] = MockMonitor.ResourceRegistration(urn, id_, state)
        return {SIG: RESOURCE_SIG, "urn": urn, "id": id_, "packageVersion": ""}


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
