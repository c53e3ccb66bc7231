"""Read the stack's project config from Pulumi and parse it (see ``components.config.parse``).

Pulumi hands config values over as strings; arrays and objects arrive as JSON text. Every project
key the stack sets is read, declared or not, so a misspelt key such as ``istio-multicluster:meshID``
is reported with a suggestion instead of being silently ignored; so is a key in a namespace that
is neither the project's nor one of its providers' (``istio-multicluter:caDelivery``), which
nothing would read.
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Iterable, Mapping, Sequence

import pulumi
from pulumi.runtime import config as runtime_config

from components.config.model import MeshSpec
from components.config.parse import parse_mesh_spec, project_fields
from components.config.platform import PlatformConfig
from components.config.problems import ConfigError, Problem, Problems
from components.config.stores import Readers

PROJECT = "istio-multicluster"
# The config namespaces something in this program reads: the engine's own (pulumi:
# disable-default-providers in Pulumi.yaml, pulumi:autonaming, ...) and those of the providers the
# program uses, which read their namespace's keys as provider defaults (aws:region,
# azure-native:subscriptionId, ...): the packages pyproject.toml pins.
READ_NAMESPACES = (PROJECT, "pulumi", "aws", "azure-native", "eks", "kubernetes", "random", "tls")


def decode_config(values: Mapping[str, str | None], platforms: Sequence[PlatformConfig]) -> dict[str, object]:
    """Decode Pulumi's string config values: arrays and objects arrive as JSON text.

    Raises ``ConfigError`` for JSON that does not parse, naming the key.
    """
    structured = {f.key for f in project_fields(platforms) if f.kind.schema in ("array", "object")}
    decoded: dict[str, object] = {}
    problems = Problems()
    for key, text in values.items():
        if text is None:
            continue
        if key not in structured:
            decoded[key] = text
            continue
        try:
            decoded[key] = json.loads(text)
        except json.JSONDecodeError as error:
            problems.add(key, "json", f"is not valid JSON ({error.msg} at character {error.pos})")
    problems.raise_if_any()
    return decoded


def load_mesh_spec(config: pulumi.Config, platforms: Sequence[PlatformConfig], extra_readers: Readers | None = None) -> MeshSpec:
    """Read every project config key the stack sets and parse them into a ``MeshSpec``, with the
    platforms' secret-store readers and ``extra_readers`` (default none; the program passes the
    Route 53 zone reader).

    Raises ``ConfigError`` listing every problem: keys in namespaces nothing reads first, then the
    project config's own.
    """
    unread = unread_namespace_problems(_stack_keys())
    try:
        readers = {p.secret_store.field: p.secret_store.open() for p in platforms if p.secret_store is not None}
        # A config already refused for its namespaces makes no cloud call for the extra reads.
        readers |= {} if unread else (extra_readers or {})
        spec = parse_mesh_spec(project_values(config, platforms), platforms, readers)
    except ConfigError as error:
        raise ConfigError([*unread, *error.problems]) from None
    unread += plain_key_problems(spec)
    if unread:
        raise ConfigError(unread)
    for warning in spec.warnings:
        pulumi.log.warn(f"istio-multicluster: {warning}")
    return spec


def project_values(config: pulumi.Config, platforms: Sequence[PlatformConfig]) -> dict[str, object]:
    """Every project config key the stack sets, declared or not, decoded (see ``decode_config``)."""
    declared = [f.key for f in project_fields(platforms)]
    prefix = f"{PROJECT}:"
    present = [k.removeprefix(prefix) for k in _stack_keys() if k.startswith(prefix)]
    keys = [*declared, *(k for k in present if k not in declared)]
    return decode_config({key: config.get(key) for key in keys}, platforms)


def set_project_values(config: pulumi.Config) -> dict[str, str]:
    """The project config keys (without the project prefix) the running stack sets, with their
    text as the CLI passes it."""
    prefix = f"{PROJECT}:"
    keys = [k.removeprefix(prefix) for k in _stack_keys() if k.startswith(prefix)]
    return {key: text for key in keys if (text := config.get(key)) is not None}


def secret_project_keys() -> frozenset[str]:
    """The project config keys (without the project prefix) the running stack sets as secrets."""
    prefix = f"{PROJECT}:"
    return frozenset(k.removeprefix(prefix) for k in _stack_keys() if k.startswith(prefix) and runtime_config.is_config_secret(k))


def _stack_keys() -> list[str]:
    """Every ``namespace:key`` the running stack has config for."""
    # Pulumi has no public "list config keys" call; the language host loads all config into
    # this map (or PULUMI_CONFIG) before the program runs.
    return sorted({*runtime_config.CONFIG.get(), *runtime_config.get_config_env()})


def plain_key_problems(spec: MeshSpec) -> list[Problem]:
    """Provided roots and intermediates hold private keys: their config keys must be secrets
    (encrypted in the stack file). A root given as a certificate alone holds none, nor does an
    intermediate read from a secret store."""
    holding = {
        "caProvidedRoots": any(root.key_pem is not None for root in spec.ca.provided.values()),
        "caProvidedIntermediates": any(given.stored_at is None for given in spec.ca.intermediates.values()),
    }
    return [
        Problem(
            key,
            "ca-provided-plain",
            "holds private keys in plain text in the stack file; set it again with --secret "
            f"(pulumi config set --secret --path '{key}.<name>.keyPem' \"$(cat key.pem)\")",
        )
        for key, holds in holding.items()
        if holds and not runtime_config.is_config_secret(f"{PROJECT}:{key}")
    ]


def unread_namespace_problems(keys: Iterable[str]) -> list[Problem]:
    """A problem for each key whose namespace nothing in this program reads (``READ_NAMESPACES``),
    suggesting the closest namespace that is read."""
    problems = Problems()
    for key in keys:
        namespace, _, name = key.partition(":")
        if namespace in READ_NAMESPACES:
            continue
        # A lower cutoff than difflib's 0.6, so that azure finds azure-native.
        close = difflib.get_close_matches(namespace, READ_NAMESPACES, n=1, cutoff=0.5)
        fix = f"did you mean {close[0]}:{name}?" if close else f"this program reads the namespaces {', '.join(READ_NAMESPACES)}; remove it"
        problems.add(key, "unread-namespace", f"is in namespace {namespace}, which nothing in this program reads; {fix}")
    return problems.items
