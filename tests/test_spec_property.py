"""Property: whatever the stack config holds, parsing ends in a MeshSpec or a ConfigError, never a crash."""

from __future__ import annotations

import copy
from typing import Any

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.fields import ConfigError
from components.model import MeshSpec
from components.spec import CONFIG_KEYS, parse_mesh_spec
from tests.configs import aws_cluster, existing_cluster, two_azure, vpc

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**40), max_value=2**40),
    st.text(max_size=20),
    st.sampled_from(["10.0.0.0/16", "10.53.1.0/24", "azure", "aws", "existing", "primary", "remote", "1.30.0", "true", "overlay"]),
)
json_values = st.recursive(
    scalars, lambda inner: st.one_of(st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=12), inner, max_size=4)), max_leaves=12
)

SEEDS: list[dict[str, Any]] = [
    two_azure(),
    {"vpcs": [vpc()], "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2")]},
    {"topology": "primary-remote", "clusters": [existing_cluster("k1", "n1"), existing_cluster("k2", "n2", role="remote", primary="k1")]},
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


def replace(config: dict[str, Any], path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    result = copy.deepcopy(config)
    target: Any = result
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = value
    return result


def parse_or_config_error(config: Any) -> None:
    try:
        assert isinstance(parse_mesh_spec(config), MeshSpec)
    except ConfigError as error:
        assert error.problems, "a ConfigError always names at least one problem"


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(SEEDS), data=st.data(), value=json_values)
def test_mutated_valid_configs_never_crash(seed: dict[str, Any], data: st.DataObject, value: Any) -> None:
    path = data.draw(st.sampled_from(paths(seed)))
    parse_or_config_error(replace(seed, path, value))


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.sampled_from([*CONFIG_KEYS, "other"]), json_values, max_size=6))
def test_arbitrary_configs_never_crash(config: dict[str, Any]) -> None:
    parse_or_config_error(config)
