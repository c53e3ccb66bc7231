"""Property: whatever the stack config holds, parsing ends in a MeshSpec with every configured
cluster, or a ConfigError whose problems each name a field; never a traceback, never a cluster dropped."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config.parse import parse_mesh_spec, project_fields
from components.config.problems import ConfigError
from components.platforms import platform_configs
from tests.configs import aws_cluster, existing_cluster, two_azure, vpc

PLATFORMS = platform_configs()
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
            assert problem.path and problem.code and problem.message, problem
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
