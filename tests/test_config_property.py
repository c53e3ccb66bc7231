"""Property: whatever the stack config holds, parsing ends in a MeshSpec with every configured
cluster, or a ConfigError whose problems each name a field of that config; never a traceback, never
a cluster dropped; and the program itself either stops before its first resource or runs through."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterable
from typing import Any

from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from components.config.fields import Field, Object, Objects
from components.config.parse import parse_mesh_spec, project_fields
from components.config.problems import ConfigError
from components.platforms import platform_configs
from tests.configs import aws_cluster, existing_cluster, n_existing, two_azure, vpc
from tests.harness.mocks import MeshMocks
from tests.harness.program import run_program

PLATFORMS = platform_configs()
PATH_STEP = re.compile(r'([^.\[\]]+)|\[(\d+)\]|\[("(?:[^"\\]|\\.)*")\]')


def declared_keys(fields: Iterable[Field[Any]]) -> set[str]:
    """Every field name declared at any depth: the mesh's, each platform's, nested objects'."""
    keys: set[str] = set()
    for field in fields:
        keys.add(field.key)
        if isinstance(field.kind, Object | Objects):
            keys |= declared_keys(field.kind.fields)
    return keys


DECLARED = declared_keys([*project_fields(PLATFORMS), *(f for p in PLATFORMS for f in p.cluster_fields)])


def names_a_field(config: Any, path: str) -> bool:
    """Whether ``path`` (``clusters[1].nodePools[0].subnetCidr``) leads through ``config`` to a value
    there, or, at its last step only, to a field the declarations know (a missing required one)."""
    tokens = [m.group(0) for m in PATH_STEP.finditer(path)]
    if "".join(t if i == 0 or t.startswith("[") else f".{t}" for i, t in enumerate(tokens)) != path:
        return False
    steps = [key or (int(index) if index else json.loads(quoted)) for key, index, quoted in PATH_STEP.findall(path)]
    node = config
    for position, step in enumerate(steps):
        last = position == len(steps) - 1
        if isinstance(step, int):
            if not isinstance(node, list) or step >= len(node):
                return False
            node = node[step]
        elif isinstance(node, dict) and step in node:
            node = node[step]
        else:
            return last and step in DECLARED
    return bool(steps)


# What YAML 1.1 habits and unquoted values turn into once Pulumi (YAML 1.2) has read them.
YAML_SURPRISES = ["yes", "no", "on", "off", "y", "n", "True", "FALSE", 1.3, 1.0, 10, 0, -1, "", " ", "~", "null", "0x1f", "1e3"]
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(["10.0.0.0/16", "10.53.1.0/24", "azure", "aws", "existing", "primary", "remote", "1.30.0", "true", "overlay"]),
    st.sampled_from(YAML_SURPRISES),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12
)

SEEDS: list[dict[str, Any]] = [
    two_azure(),
    {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc()],
        "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2", nodeGroups=[{"name": "g", "instanceTypes": ["m5.large"]}])],
    },
    {
        "topology": "primary-remote",
        "clusters": [
            existing_cluster("k1", "n1", metallb={"addresses": ["172.18.255.200-172.18.255.210"]}),
            existing_cluster("k2", "n2", role="remote", primary="k1"),
        ],
    },
]


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [prefix] if prefix else []
    if isinstance(value, dict):
        for key, item in value.items():
            found += paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += paths(item, (*prefix, index))
    return found


def mutated(config: dict[str, Any], path: tuple[Any, ...], how: str, value: Any) -> dict[str, Any]:
    """``config`` with the value at ``path`` replaced by ``value``, emptied, or deleted."""
    result = copy.deepcopy(config)
    target: Any = result
    for step in path[:-1]:
        target = target[step]
    current = target[path[-1]]
    if how == "empty" and isinstance(current, list | dict):
        target[path[-1]] = type(current)()
    elif how == "delete" and isinstance(target, dict):
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return result


def assert_parses_or_names_fields(config: Any) -> None:
    try:
        spec = parse_mesh_spec(config, PLATFORMS)
    except ConfigError as error:
        assert error.problems, "a ConfigError always names at least one problem"
        for problem in error.problems:
            assert problem.code and problem.message, problem
            assert names_a_field(config, problem.path), f"{problem.path!r} names no field of the config: {problem}"
        return
    listed = config.get("clusters") if isinstance(config, dict) else None
    assert isinstance(listed, list) and len(spec.clusters) == len(listed), "a cluster was dropped from the mesh"


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), data=st.data(), how=st.sampled_from(["replace", "empty", "delete"]), value=json_values)
def test_mutated_valid_configs_end_in_a_spec_or_named_problems(seed: dict[str, Any], data: st.DataObject, how: str, value: Any) -> None:
    path = data.draw(st.sampled_from(paths(seed)))
    assert_parses_or_names_fields(mutated(seed, path, how, value))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*(f.key for f in project_fields(PLATFORMS)), "other"]), json_values, max_size=6))
def test_arbitrary_configs_end_in_a_spec_or_named_problems(config: dict[str, Any]) -> None:
    assert_parses_or_names_fields(config)


def test_every_seed_is_valid() -> None:
    for seed in SEEDS:
        assert len(parse_mesh_spec(seed, PLATFORMS).clusters) == len(seed["clusters"])


def test_a_path_that_names_no_field_is_told_apart() -> None:
    config = {"clusters": [{"name": "a", "nodePools": [{"name": "p"}]}]}
    assert names_a_field(config, "clusters[0].nodePools[0].name")
    assert names_a_field(config, "clusters[0].nodePools[0].subnetCidr")  # missing, but declared
    assert not names_a_field(config, "clusters[1].name")
    assert not names_a_field(config, "clusters[0].nodePool")
    assert not names_a_field(config, "clusters[0].subnetCidr.x")
    assert not names_a_field(config, "")
    assert names_a_field({"clusters": [{"0.": 1}]}, 'clusters[0]["0."]')
    assert not names_a_field({"clusters": [{"0.": 1}]}, "clusters[0].0.")


# Existing clusters keep a program run short; the seeds' platforms come from the parser tests above.
PROGRAM_SEEDS = [
    {**n_existing(2), "istiodValues": {"pilot": {"autoscaleMin": 2}}},
    {**n_existing(3), "verify": True, "ingressGateway": True, "accessLog": True},
    SEEDS[2],
    {**n_existing(2), "dataplane": "ambient", "istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}},
]


def leaves(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in leaves(item)]
    if isinstance(value, list):
        return [leaf for item in value for leaf in leaves(item)]
    return [value]


# Values that are valid somewhere in some seed: swapped between fields, they keep many configs
# valid, so the program itself runs on what the parser lets through.
PLAUSIBLE = st.one_of(st.sampled_from(sorted({repr(v): v for s in PROGRAM_SEEDS for v in leaves(s)}.values(), key=repr)), json_values)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(PROGRAM_SEEDS), data=st.data(), how=st.sampled_from(["replace", "replace", "delete"]), value=PLAUSIBLE)
def test_the_program_stops_before_any_resource_or_runs_through(seed: dict[str, Any], data: st.DataObject, how: str, value: Any) -> None:
    """What the parser lets through the program can build: no traceback after resources exist."""
    config = mutated(seed, data.draw(st.sampled_from(paths(seed))), how, value)
    mocks = MeshMocks()
    try:
        run_program(config, mocks=mocks)
    except ConfigError:
        assert mocks.monitor is not None and mocks.monitor.registered == []
        event("refused")
    else:
        event("built")
