"""Each class of config the program must refuse, generated over the shipped stacks and run through
the program itself (``__main__.py``): the run stops with that class's problem at the generated field,
and nothing is registered. The parser-level tests (tests/test_config_values.py) cover every declared
field; these prove the program, not only the parser, stops on each class."""

from __future__ import annotations

import copy
from ipaddress import IPv4Network
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config.load import READ_NAMESPACES
from components.config.problems import ConfigError
from tests.configs import aws_cluster, vpc
from tests.harness.mocks import MeshMocks
from tests.harness.plans import PROGRAM_WORDS, STEMS, planned, registered
from tests.harness.program import SHIPPED_STACKS, run_program, shipped_config

STACKS = list(SHIPPED_STACKS)
EXAMPLES = settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def shipped(stack: str) -> dict[str, Any]:
    """The stack's config as the CLI passes it, with what its operator sets."""
    return copy.deepcopy(shipped_config(stack))


def refusal(config: dict[str, Any], stack: str, namespaced: dict[str, str] | None = None) -> list[tuple[str, str]]:
    """The (code, path) of each problem the program stops with; fails if it registered anything."""
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack=stack, mocks=mocks, namespaced=namespaced)
    assert mocks.monitor is not None and mocks.monitor.registered == []
    return [(p.code, p.path) for p in raised.value.problems]


def stopped_at(problems: list[tuple[str, str]], code: str, path: str) -> bool:
    """Whether a problem of ``code`` names ``path`` or the field that holds it (a revision tag's
    release is reported at ``istioRevisions``, the object of tags)."""
    return any(c == code and (path == at or path.startswith((f"{at}.", f"{at}["))) for c, at in problems)


def leaves(value: Any, path: str = "") -> list[tuple[str, Any]]:
    """Every (path, value) of the config's scalars, outside free-form Helm values."""
    if isinstance(value, dict):
        return [leaf for key, item in value.items() if key != "istiodValues" for leaf in leaves(item, f"{path}.{key}" if path else key)]
    if isinstance(value, list):
        return [leaf for index, item in enumerate(value) for leaf in leaves(item, f"{path}[{index}]")]
    return [(path, value)]


def object_fields(value: Any, path: str = "", depth: int = 0) -> list[str]:
    """Paths of the fields of objects inside lists (clusters, pools, VPCs...), outside Helm values."""
    found: list[str] = []
    if isinstance(value, dict):
        for key, item in value.items():
            here = f"{path}.{key}" if path else key
            if depth >= 1 and key != "istiodValues":
                found.append(here)
            if key != "istiodValues":
                found += object_fields(item, here, depth)
    elif isinstance(value, list):
        for index, item in enumerate(value):
            found += object_fields(item, f"{path}[{index}]", depth + 1)
    return found


def set_at(config: dict[str, Any], path: str, value: Any) -> None:
    steps = [int(s) if s.isdigit() else s for s in path.replace("[", ".").replace("]", "").split(".")]
    target: Any = config
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value


@EXAMPLES
@given(stack=st.sampled_from(STACKS), data=st.data(), pad=st.sampled_from(["\n", " ", "\t", "\r\n", " \n"]))
def test_padded_text_stops_the_program(stack: str, data: st.DataObject, pad: str) -> None:
    config = shipped(stack)
    path, value = data.draw(st.sampled_from([(p, v) for p, v in leaves(config) if isinstance(v, str) and v]))
    set_at(config, path, value + pad)
    assert stopped_at(refusal(config, stack), "whitespace", path)


# A value of each platform's mesh-wide keys that differs from its default.
PLATFORM_KEYS = {
    "azure": {
        "keyVaultLocation": "westeurope",
        "keyVaultNamePrefix": "othervault",
        "keyVaultResourceGroup": "vault-rg",
        "keyVaultPurgeProtection": True,
        "caDelivery": "keyVault",
    },
    "aws": {"secretsRegion": "eu-west-1", "secretsRecoveryWindowDays": 7, "vpcs": [vpc()]},
}
WITHOUT = {"kind": ["azure", "aws"], "kind-ambient": ["azure", "aws"], "eks": ["azure"], "aks": ["aws"]}


@EXAMPLES
@given(data=st.data())
def test_a_platforms_key_without_its_clusters_stops_the_program(data: st.DataObject) -> None:
    stack = data.draw(st.sampled_from(sorted(WITHOUT)))
    platform = data.draw(st.sampled_from(WITHOUT[stack]))
    key = data.draw(st.sampled_from(sorted(PLATFORM_KEYS[platform])))
    config = {**shipped(stack), key: PLATFORM_KEYS[platform][key]}
    assert ("unused", key) in refusal(config, stack)


@EXAMPLES
@given(stack=st.sampled_from(STACKS), namespace=st.sampled_from(READ_NAMESPACES), data=st.data())
def test_a_key_in_a_namespace_nothing_reads_stops_the_program(stack: str, namespace: str, data: st.DataObject) -> None:
    """A misspelt namespace: one letter dropped, doubled or swapped for another."""
    index = data.draw(st.integers(0, len(namespace) - 1))
    letter = data.draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz-"))
    misspelt = data.draw(st.sampled_from([namespace[:index] + namespace[index + 1 :], namespace[:index] + letter + namespace[index:]]))
    if misspelt in READ_NAMESPACES or not misspelt:
        return
    key = f"{misspelt}:{data.draw(st.sampled_from(['caDelivery', 'region', 'meshId']))}"
    assert ("unread-namespace", key) in refusal(shipped(stack), stack, namespaced={key: "x"})


@EXAMPLES
@given(stack=st.sampled_from(STACKS), data=st.data(), empty=st.sampled_from([None, "", [], {}]))
def test_an_empty_field_inside_an_object_stops_the_program(stack: str, data: st.DataObject, empty: Any) -> None:
    config = shipped(stack)
    path = data.draw(st.sampled_from(object_fields(config)))
    set_at(config, path, empty)
    assert ("empty", path) in refusal(config, stack)


# Ranges no public endpoint ever sees a client from, with a part of each.
NOT_PUBLIC = ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "198.18.0.0/15"]
ALLOW_LISTS = {"aks": "authorizedIpRanges", "eks": "endpointPublicAccessCidrs"}


@EXAMPLES
@given(stack=st.sampled_from(sorted(ALLOW_LISTS)), block=st.sampled_from(NOT_PUBLIC), prefix=st.integers(16, 32), data=st.data())
def test_a_private_range_in_an_api_allow_list_stops_the_program(stack: str, block: str, prefix: int, data: st.DataObject) -> None:
    network = IPv4Network(block)
    subnet = next(network.subnets(new_prefix=max(prefix, network.prefixlen)))
    config = shipped(stack)
    index = data.draw(st.integers(0, len(config["clusters"]) - 1))
    config["clusters"][index][ALLOW_LISTS[stack]] = ["203.0.113.0/24", str(subnet)]
    assert ("private-range", f"clusters[{index}].{ALLOW_LISTS[stack]}") in refusal(config, stack)


@settings(max_examples=10, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data())
def test_eks_clusters_named_from_the_programs_words_collide_only_when_refused(data: st.DataObject) -> None:
    """EKS clusters in one VPC whose names are each other's joined with the program's words: the
    security rules ``-from-``/``-api-from-`` and node groups meet other clusters' names."""
    names = [data.draw(st.sampled_from(STEMS))]
    for _ in range(2):
        stem = data.draw(st.sampled_from(names))
        word = data.draw(st.sampled_from(["from", "api", "api-from", "webhook", *PROGRAM_WORDS[:6], *names]))
        names.append(data.draw(st.sampled_from([f"{stem}-{word}", f"{word}-{stem}"])))
    names = list(dict.fromkeys(n for n in names if len(n) <= 39))
    if len(names) < 2:
        return
    config = {"secretsRegion": "eu-west-1", "vpcs": [vpc()], "clusters": [aws_cluster(n, f"n{i}") for i, n in enumerate(names)]}
    try:
        run = run_program(config)
    except ConfigError as error:
        assert {p.code for p in error.problems} == {"name-collision"}, [str(p) for p in error.problems]
        return
    assert registered(run) <= {(p.urn_type, p.name) for p in planned(config).names}
