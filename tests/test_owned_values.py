"""The istiod values the program owns and the builders that write them cannot disagree.

``istiodValues`` is merged under the program's values, and the config refuses every owned path
(``PROGRAM_OWNED_ISTIOD_VALUES``). A path a builder writes that the list lacks would let a user's
value be silently overwritten; an entry no builder writes would refuse a value for nothing. The
builders run here on meshes that make every branch write, and the paths they write are compared
with the list both ways.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from components.cluster.handle import CaFiles
from components.config.model import MeshSpec
from components.istio.owned import (
    MERGED_ISTIOD_LISTS,
    MERGED_ISTIOD_MAPS,
    PROGRAM_OWNED_ISTIOD_VALUES,
    REPLACED_ISTIOD_VALUES,
    WRITTEN_ISTIOD_VALUES,
)
from components.istio.values import (
    istiod_values,
    owned_istiod_values,
    remote_istiod_values,
    with_bundle_digest,
    with_ca_files,
)
from tests.configs import parse
from tests.harness.program import stack_config

CA_FILES = CaFiles(
    "azure", {"keyvaultName": "v"}, pod_labels={"azure.workload.identity/use": "true"}, service_account_annotations={"a": "b"}
)


def leaf_paths(tree: Mapping[str, Any], prefix: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    """Every path to a value that is not a mapping (a list is one value)."""
    for key, value in tree.items():
        if isinstance(value, Mapping) and value:
            yield from leaf_paths(value, (*prefix, key))
        else:
            yield (*prefix, key)


def meshes() -> dict[str, MeshSpec]:
    kind = stack_config("kind")
    remote = {**kind["clusters"][1], "role": "remote", "primary": kind["clusters"][0]["name"]}
    return {
        "sidecar": parse(kind),
        "access log": parse({**kind, "accessLog": True}),
        "ambient": parse(stack_config("kind-ambient")),
        "primary-remote": parse({**kind, "topology": "primary-remote", "clusters": [kind["clusters"][0], remote]}),
    }


def trees(mesh: MeshSpec) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """Per cluster: what the program writes alone, and the whole values tree (overrides included)."""
    for cluster in mesh.clusters:
        version = mesh.default_version
        if mesh.is_remote(cluster.name):
            remote = remote_istiod_values(mesh, cluster.name, cluster.network, version, "istiod.example")
            alone = remote_istiod_values(
                dataclasses.replace(mesh, istiod_values={}), cluster.name, cluster.network, version, "istiod.example"
            )
            yield alone, remote
        else:
            names = ("istiod.example",)
            # What IstioControlPlane applies to a primary's values, in its order.
            alone = with_ca_files(owned_istiod_values(mesh, cluster.name, cluster.network, version, names), CA_FILES)
            whole = with_ca_files(istiod_values(mesh, cluster.name, cluster.network, version, names), CA_FILES)
            yield with_bundle_digest(alone, "digest"), with_bundle_digest(whole, "digest")


def written() -> dict[tuple[str, ...], str]:
    """Every path the builders write, with the variant that wrote it first."""
    paths: dict[tuple[str, ...], str] = {}
    for variant, mesh in meshes().items():
        for alone, _ in trees(mesh):
            for path in leaf_paths(alone):
                paths.setdefault(path, variant)
    return paths


def owner(path: tuple[str, ...]) -> tuple[str, ...] | None:
    """The listed entry that owns ``path``: itself or a prefix of it."""
    return next((path[:n] for n in range(len(path), 0, -1) if path[:n] in WRITTEN_ISTIOD_VALUES), None)


def test_every_path_a_builder_writes_is_owned() -> None:
    merged = set(MERGED_ISTIOD_LISTS) | set(MERGED_ISTIOD_MAPS)
    unowned = {path: variant for path, variant in written().items() if owner(path) is None and path[0] not in merged}
    assert unowned == {}, "add these to WRITTEN_ISTIOD_VALUES (components/istio/values.py)"


def test_every_owned_path_is_written_by_some_builder() -> None:
    owners = {owner(path) for path in written()}
    assert sorted(set(WRITTEN_ISTIOD_VALUES) - owners) == []


def test_the_chart_features_the_program_replaces_are_never_written_and_all_are_refused() -> None:
    assert not {path for path in written() for replaced in REPLACED_ISTIOD_VALUES if path[: len(replaced)] == replaced}
    assert set(PROGRAM_OWNED_ISTIOD_VALUES) == set(WRITTEN_ISTIOD_VALUES) | set(REPLACED_ISTIOD_VALUES)


@pytest.mark.parametrize("path", sorted(WRITTEN_ISTIOD_VALUES))
def test_the_programs_value_wins_over_an_override_of_the_same_path(path: tuple[str, ...]) -> None:
    """The config refuses these paths; were one to get through, the program's value still wins."""
    override: dict[str, Any] = {}
    node = override
    for key in path[:-1]:
        node = node.setdefault(key, {})
    node[path[-1]] = "from-the-user"
    checked = 0
    for mesh in meshes().values():
        for alone, whole in trees(dataclasses.replace(mesh, istiod_values=override)):
            if any(written[: len(path)] == path for written in leaf_paths(alone)):
                assert value_at(whole, path) == value_at(alone, path) != "from-the-user"
                checked += 1
    assert checked


def value_at(tree: Mapping[str, Any], path: tuple[str, ...]) -> Any:
    node: Any = tree
    for key in path:
        node = node[key]
    return node
