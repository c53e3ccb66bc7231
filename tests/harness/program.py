"""Run ``__main__.py`` under mocks with a stack's config and return the whole resource graph.

The mocks do not read Pulumi.yaml or Pulumi.<stack>.yaml, so this does what the CLI would: it
takes the project config defaults from Pulumi.yaml, lays the stack file's values over them (and
any overrides a test gives), hands them to the runtime as Pulumi passes config (strings; JSON for
arrays and objects), runs the program to completion and collects every registration.
"""

from __future__ import annotations

import copy
import datetime
import gc
import json
import runpy
import unittest.mock
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import pulumi
import yaml
from pulumi.runtime import settings
from pulumi.runtime.config import set_all_config
from pulumi.runtime.stack import massage, run_pulumi_func
from pulumi.runtime.sync_await import _sync_await

from components.mesh.rotation import MARKER_OUTPUT, SINCE_FORMAT
from components.platforms.azure import ca_store
from tests.harness import engine
from tests.harness.engine import Prior
from tests.harness.mocks import MeshMocks
from tests.harness.monitor import RecordingMonitor, Registered
from tests.harness.stores import KeyVault, SecretsManager

ROOT = Path(__file__).resolve().parents[2]
PROJECT = "istio-multicluster"


def project_defaults() -> dict[str, Any]:
    """The ``default`` of every project config key declared in Pulumi.yaml."""
    declared = yaml.safe_load((ROOT / "Pulumi.yaml").read_text())["config"]
    return {key: decl["default"] for key, decl in declared.items() if ":" not in key and "default" in decl}


def stack_config(stack: str) -> dict[str, Any]:
    """Pulumi.yaml defaults overlaid with Pulumi.<stack>.yaml, keys without the project prefix."""
    values = project_defaults()
    stack_file = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text())
    for key, value in (stack_file.get("config") or {}).items():
        namespace, _, name = key.partition(":")
        if namespace == PROJECT:
            values[name] = value
    return values


def as_pulumi_config(values: Mapping[str, Any]) -> dict[str, str]:
    """Config as the CLI hands it to a program: ``project:key`` -> string (JSON for structures)."""

    def text(value: Any) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, list | dict):
            return json.dumps(value)
        return str(value)

    return {f"{PROJECT}:{key}": text(value) for key, value in values.items() if value is not None}


def refreshes_every_run() -> bool:
    """Whether Pulumi.yaml makes the CLI refresh before every preview, update and destroy
    (``options.refresh: always``)."""
    options = yaml.safe_load((ROOT / "Pulumi.yaml").read_text()).get("options") or {}
    return options.get("refresh") == "always"


REMOTE_COMPONENTS = ("eks:", "kubernetes:yaml/v2:")


@dataclass
class StackRun:
    """Everything one program run registered."""

    resources: list[Registered]
    outputs: dict[str, Any]
    secret_outputs: set[str]
    mocks: MeshMocks
    remote_children: dict[str, Prior] = field(default_factory=dict)

    def of_type(self, type_: str) -> list[Registered]:
        return [r for r in self.resources if r.type == type_]

    def named(self, name: str) -> Registered:
        """The one resource named ``name``; ``name (Type)`` picks among resources of several types
        that share a name (as ``tests.test_day2.labels`` calls them)."""
        matches = [r for r in self.resources if r.name == name]
        if not matches and name.endswith(")") and " (" in name:
            plain, kind = name[:-1].rsplit(" (", 1)
            matches = [r for r in self.resources if r.name == plain and r.type.rsplit(":", 1)[1] == kind]
        assert len(matches) == 1, f"{len(matches)} resources named {name}: {[r.urn for r in matches]}"
        return matches[0]

    def by_urn(self, urn: str) -> Registered:
        return next(r for r in self.resources if r.urn == urn)

    def children_of(self, parent: Registered) -> list[Registered]:
        return [r for r in self.resources if r.parent == parent.urn]

    def state(self) -> dict[str, Prior]:
        """What this update leaves in the stack's state, for the next run."""
        return {**self.remote_children, **{r.urn: r.as_prior() for r in self.resources}}

    def outputs_after(self, hours: float) -> dict[str, Any]:
        """The stack outputs as a run ``hours`` later reads them back: the program times a root
        rotation's stages by the clock, from the ``since`` of its ``caRoots`` marker, which moves
        that far into the past."""
        outputs = copy.deepcopy(self.outputs)
        marker = outputs.get(MARKER_OUTPUT)
        if isinstance(marker, dict) and "since" in marker:
            since = datetime.datetime.strptime(marker["since"], SINCE_FORMAT) - datetime.timedelta(hours=hours)
            marker["since"] = f"{since:{SINCE_FORMAT}}"
        return outputs

    def state_after_drift(self, drift: Mapping[str, Mapping[str, Any]]) -> dict[str, Prior]:
        """What the next ``pulumi up`` starts from once the cloud has changed what ``drift`` names
        (per resource name, ``path -> value``), refreshed first when the project says so."""
        by_urn = {self.named(name).urn: changes for name, changes in drift.items()}
        return engine.after_drift(self.state(), by_urn, refresh=refreshes_every_run())

    def needs(self, dependent: str | Registered, dependency: str | Registered) -> bool:
        """Whether resource ``dependent`` (a name, or the resource) needs ``dependency`` (likewise),
        directly or through others: then it is created after it and deleted before it."""
        first, second = (r if isinstance(r, Registered) else self.named(r) for r in (dependent, dependency))
        return engine.depends_on(self.resources, first.urn, second.urn)

    def destroy_waves(self) -> list[list[str]]:
        """Resource names in the order ``pulumi destroy`` deletes them (reads, providers and local components excluded)."""
        return self._names(engine.destroy_waves(self.resources))

    def create_waves(self) -> list[list[str]]:
        """Resource names in the order ``pulumi up`` can create them (reads, providers and local components excluded)."""
        return self._names(engine.create_waves(self.resources))

    def _names(self, waves: list[list[str]]) -> list[list[str]]:
        # Remote components (pulumi-eks, the kubernetes provider's ConfigFile) stand for resources
        # the mocks do not see.
        real = [r for r in self.resources if (r.custom or r.type.startswith(REMOTE_COMPONENTS)) and r.operation != "read"]
        kept = {r.urn: r.name for r in real if not r.type.startswith("pulumi:providers")}
        named = [sorted(kept[u] for u in wave if u in kept) for wave in waves]
        return [wave for wave in named if wave]


class UpdateFailed(Exception):  # noqa: N818 - named as Pulumi reports it
    """The update failed as the engine would fail it; ``run`` holds what it registered (and leaves in state)."""

    def __init__(self, errors: list[str], run: StackRun) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors
        self.run = run


ORGANIZATION = "organization"


def run_program(
    values: Mapping[str, Any],
    *,
    stack: str = "test",
    preview: bool = False,
    program: Callable[[], None] | None = None,
    mocks: MeshMocks | None = None,
    state: Mapping[str, Prior] | None = None,
    job_failures: Mapping[str, str] | None = None,
    namespaced: Mapping[str, str] | None = None,
    previous_outputs: Mapping[str, Any] | None = None,
    secret_keys: Sequence[str] = (),
    secrets_manager: SecretsManager | None = None,
    key_vault: KeyVault | None = None,
) -> StackRun:
    """Run ``__main__.py`` (or ``program``) with the given config values; see ``stack_config``.

    ``state`` is what a previous update left (``StackRun.state()``); ``job_failures`` names Jobs
    that fail, with their pods' message; ``namespaced`` adds config keys as the CLI passes them,
    ``namespace:key`` -> text (a provider's, or a misspelt project namespace); ``previous_outputs``
    the stack outputs of the last completed update (``StackRun.outputs``), which the program reads
    back (default none: a new stack); ``secret_keys`` the project keys set with ``--secret``;
    ``secrets_manager`` and ``key_vault`` the secrets the program may read (default none). Exceptions the program
    raises (a ``ConfigError``, say) propagate unchanged; a failure the engine would report raises
    ``UpdateFailed``.
    """
    mocks = mocks or MeshMocks()
    mocks.secrets_manager = secrets_manager or SecretsManager()
    mocks.previous_outputs = dict(previous_outputs or {})
    mocks.stack_name = f"{ORGANIZATION}/{PROJECT}/{stack}"
    monitor = RecordingMonitor(mocks, preview=preview, state=state, job_failures=dict(job_failures or {}))
    mocks.monitor = monitor
    settings.ROOT.set(None)
    set_all_config({**as_pulumi_config(values), **(namespaced or {})}, [f"{PROJECT}:{key}" for key in secret_keys])
    # The CLI names the organization of a self-managed backend's stacks `organization`.
    pulumi.runtime.set_mocks(mocks, project=PROJECT, stack=stack, preview=preview, monitor=monitor, organization=ORGANIZATION)
    # What pulumi.runtime.test does before each test: forget the previous run's RPCs and outputs.
    runtime_settings: Any = settings.SETTINGS
    runtime_settings.rpc_manager.clear()
    runtime_settings.outputs.clear()
    run = program or (lambda: runpy.run_path(str(ROOT / "__main__.py"), run_name="__main__"))

    def body() -> None:
        run()
        root = settings.get_root_resource()
        assert isinstance(root, pulumi.ComponentResource)
        # set_mocks finished the root stack before the program ran; register its exports now.
        exports = cast(dict[str, Any], massage(getattr(root, "outputs", {}), []))
        root.register_outputs(exports)

    vault = key_vault or KeyVault({})
    # The program sets the collector's policy for its process (components/collector.py); here the
    # process is the test's, whose own policy (tests/conftest.py) holds again after the run.
    thresholds = gc.get_threshold()
    try:
        with unittest.mock.patch.object(ca_store, "vault_client", vault.client):
            _sync_await(run_pulumi_func(body))
    finally:
        gc.set_threshold(*thresholds)
        # Before any other error of the run: the engine refuses a duplicate when it is registered.
        if monitor.duplicate_urns:
            raise AssertionError(f"Duplicate resource URN: {sorted(monitor.duplicate_urns)}")
    result = StackRun(monitor.registered, monitor.stack_outputs.values, monitor.stack_outputs.secret, mocks, monitor.remote_children)
    if monitor.preview_read_errors or monitor.failures:
        raise UpdateFailed([*monitor.preview_read_errors, *monitor.failures], result)
    return result


def run_stack(stack: str, overrides: Mapping[str, Any] | None = None, **kwargs: Any) -> StackRun:
    """Run the program for the shipped ``Pulumi.<stack>.yaml``, with optional config overrides.

    A plain first ``up`` (no state, preview, failures or mocks of the caller's) is the same run
    every time, so it is made once per process and each caller gets a copy of its own.
    """
    values = {**stack_config(stack), **(overrides or {})}
    if kwargs:
        return run_program(values, stack=stack, **kwargs)
    key = (stack, json.dumps(values, sort_keys=True, default=repr))
    if key not in _FIRST_UPS:
        _FIRST_UPS[key] = run_program(values, stack=stack)
    return copy.deepcopy(_FIRST_UPS[key])


_FIRST_UPS: dict[tuple[str, str], StackRun] = {}
# Every stack file the project ships.
STACK_FILES = tuple(sorted(path.name.removeprefix("Pulumi.").removesuffix(".yaml") for path in ROOT.glob("Pulumi.*.yaml")))


def is_fleet_member(stack: str) -> bool:
    """A member stack's file names its mesh stack and cluster, and nothing it runs on its own."""
    config = yaml.safe_load((ROOT / f"Pulumi.{stack}.yaml").read_text()).get("config") or {}
    return f"{PROJECT}:fleetMember" in config


# Every shipped stack that runs on its own; fleet member stacks run after their mesh stack
# (tests/test_fleet_stacks.py runs the shipped fleet).
SHIPPED_STACKS = tuple(s for s in STACK_FILES if not is_fleet_member(s))
FLEET_MEMBER_STACKS = tuple(s for s in STACK_FILES if is_fleet_member(s))
# What a shipped stack asks its operator to set before the first up (its comments say how): the
# tests set documentation values (RFC 5737 addresses, example.com).
OPERATOR_SET: dict[str, dict[str, Any]] = {
    "multicloud": {"operatorCidrs": ["203.0.113.0/24"]},
    "eks-edge": {"ingressDns": {"zoneId": "Z0123456789ABCDEFGHIJ", "name": "mesh.example.com", "routing": "latency"}},
}


def shipped_config(stack: str) -> dict[str, Any]:
    """The shipped stack's config with what its operator sets."""
    return {**stack_config(stack), **copy.deepcopy(OPERATOR_SET.get(stack, {}))}
