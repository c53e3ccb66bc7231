"""No value the stack config holds is silently dropped, ignored or corrupted: each class of such
values is refused before any resource, with cases generated from the field declarations, so a field
added later is covered without a new test.

The declarations (``components.config.declarations`` and each platform's config) are walked into
"declaration paths" (``clusters[azure].nodePools[].name``); the base configs below are valid meshes
that together give every declared field a value, found at its concrete path (``clusters[0].nodePools[0].name``).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.config import declarations as d
from components.config.fields import EMPTY_VALUES_RULE, Field, Object, Objects
from components.config.kinds import Kind, ListOf
from components.config.load import READ_NAMESPACES, decode_config, unread_namespace_problems
from components.config.parse import project_fields
from components.config.problems import ConfigError, Problem
from components.istio.owned import REMOTE_UNUSED_ISTIOD_VALUES
from components.platforms import platform_configs
from tests.configs import (
    EDGE_CERTIFICATE,
    EDGE_WEB_ACL,
    aws_cluster,
    azure_cluster,
    existing_cluster,
    n_existing,
    parse,
    problems,
    two_azure,
    vpc,
)
from tests.harness.mocks import MeshMocks
from tests.harness.program import run_program, stack_config

ROOT = Path(__file__).resolve().parents[1]
PLATFORMS = platform_configs()
BY_NAME = {p.name: p for p in PLATFORMS}

# One mesh over every platform, with every optional field of theirs set to a valid value that is
# not its default: ambient (for gatewayApiRelease, ambientSidecarGateway), across platforms (operatorCidrs, egressCidrs).
ACROSS_PLATFORMS: dict[str, Any] = {
    "meshId": "mesh2",
    "istioRevisions": {"default": "1.30.3"},
    "topology": "multi-primary",
    "dataplane": "ambient",
    "gatewayApiRelease": "v1.5.1",
    "ambientSidecarGateway": True,
    "verifyImage": "registry.example/mesh/helloworld:1.0",
    "operatorCidrs": ["203.0.113.0/24"],
    "keyVaultNamePrefix": "meshvault",
    "keyVaultPurgeProtection": True,
    "keyVaultLocation": "westeurope",
    "keyVaultResourceGroup": "mesh-vault",
    "containerRegistry": {"location": "westeurope", "sku": "Standard", "namePrefix": "meshacr"},
    "caDelivery": "keyVault",
    "azureAdminObjectIds": ["5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a"],
    "secretsRegion": "eu-west-1",
    "secretsRecoveryWindowDays": 7,
    "vpcs": [vpc(nat="per-az")],
    "clusters": [
        azure_cluster(
            "az1",
            "westeurope",
            53,
            network="n1",
            resourceGroup="rg-az1",
            networkPlugin="overlay",
            podCidr="10.244.0.0/16",
            kubernetesVersion="1.33",
            skuTier="Premium",
            networkPolicy="azure",
            entraId=True,
            nodePools=[
                {
                    "name": "system",
                    "mode": "System",
                    "vmSize": "Standard_D4s_v5",
                    "subnetCidr": "10.53.0.0/24",
                    "count": 2,
                    "minCount": 1,
                    "maxCount": 3,
                    "availabilityZones": ["1", "2"],
                }
            ],
        ),
        aws_cluster(
            "eks1",
            "n2",
            serviceCidr="172.21.0.0/16",
            kubernetesVersion="1.33",
            nodeGroups=[{"name": "g", "instanceTypes": ["m5.large"], "desired": 3, "min": 2, "max": 4}],
            adminPrincipalArns=["arn:aws:iam::123456789012:role/admins"],
            supportType="extended",
            addonVersions={"kube-proxy": "v1.33.0-eksbuild.2", "vpc-cni": "v1.19.5-eksbuild.1", "coredns": "v1.11.4-eksbuild.14"},
        ),
        existing_cluster(
            "k1",
            "n3",
            region="lab",
            kubeconfig="/home/me/.kube/config",
            metallb={"addresses": ["172.18.255.200-172.18.255.250"], "chartVersion": "0.14.8"},
            egressCidrs=["198.51.100.0/24"],
            istioPlatform="k3s",
        ),
    ],
}
# Fields refused across platforms, and each platform's remotes.
ONE_PLATFORM: list[dict[str, Any]] = [
    {
        **two_azure(),
        "aksAdminKubeconfigOutput": True,  # here, not across platforms: that mesh's AKS cluster uses Entra ID
        "topology": "primary-remote",
        "ingressGateway": True,
        "ingressDns": {"service": "trafficManager", "name": "istio-mesh-prod", "routing": "weighted"},
        "clusters": [
            azure_cluster("az1", "westeurope", 53, authorizedIpRanges=["203.0.113.0/24"]),
            azure_cluster("az2", "eastus", 52, role="remote", primary="az1"),
        ],
    },
    {
        "topology": "primary-remote",
        "secretsRegion": "eu-west-1",
        "ingressGateway": True,
        "ingressDns": {"zoneId": "Z0123456789ABCDEFGHIJ", "name": "mesh.example.com", "routing": "weighted"},
        "vpcs": [vpc()],
        "clusters": [
            aws_cluster(
                "c1",
                "n1",
                endpointPublicAccessCidrs=["203.0.113.0/24"],
                ingressEdge={"type": "alb", "certificateArn": EDGE_CERTIFICATE, "webAclArn": EDGE_WEB_ACL},
            ),
            aws_cluster("c2", "n2", role="remote", primary="c1"),
        ],
    },
    {
        "topology": "primary-remote",
        "caRoot": "root-2026",
        "caRotation": {"newRoot": "root-2027", "stage": "trust"},
        "ingressGateway": True,
        "ingressServerHeader": {"value": "web"},
        "clusters": [existing_cluster("k1", "n1"), existing_cluster("k2", "n2", role="remote", primary="k1")],
    },
]
BASES = [ACROSS_PLATFORMS, *ONE_PLATFORM]


def test_every_base_config_is_valid() -> None:
    for base in BASES:
        assert len(parse(base).clusters) == len(base["clusters"])


# -- Walking the declarations and the base configs -------------------------------------------------


def cluster_fields(platform: str) -> list[Field[Any]]:
    return [*d.cluster_fields([p.name for p in PLATFORMS]), *BY_NAME[platform].cluster_fields]


MESH_KEYS = [f for f in project_fields(PLATFORMS) if f.key != "clusters"]


def declared(fields: Sequence[Field[Any]], prefix: str) -> Iterator[tuple[str, Field[Any]]]:
    """Each field below ``fields`` by declaration path."""
    for field in fields:
        yield f"{prefix}{field.key}", field
        if isinstance(field.kind, Objects):
            yield from declared(field.kind.fields, f"{prefix}{field.key}[].")
        elif isinstance(field.kind, Object):
            yield from declared(field.kind.fields, f"{prefix}{field.key}.")


DECLARED: dict[str, Field[Any]] = dict(
    [*declared(MESH_KEYS, ""), *(item for p in PLATFORMS for item in declared(cluster_fields(p.name), f"clusters[{p.name}]."))]
)
# Fields inside an object of the config (a cluster, pool, group, VPC, metallb), not top-level keys.
NESTED = {path: field for path, field in DECLARED.items() if "." in path}


@dataclass(frozen=True)
class Found:
    """A declared field's value in a base config: the base, its concrete path, the value."""

    base: dict[str, Any]
    path: str
    value: Any


def instances(fields: Sequence[Field[Any]], obj: Mapping[str, Any], decl: str, path: str) -> Iterator[tuple[str, str, Any]]:
    """(declaration path, concrete path, value) of each field ``obj`` sets, and of the objects inside it
    (their value: the object)."""
    for field in fields:
        if field.key not in obj:
            continue
        value = obj[field.key]
        yield f"{decl}{field.key}", f"{path}{field.key}", value
        if isinstance(field.kind, Objects):
            for index, item in enumerate(value):
                yield f"{decl}{field.key}[]", f"{path}{field.key}[{index}]", item
                yield from instances(field.kind.fields, item, f"{decl}{field.key}[].", f"{path}{field.key}[{index}].")
        elif isinstance(field.kind, Object):
            yield from instances(field.kind.fields, value, f"{decl}{field.key}.", f"{path}{field.key}.")


def base_instances(base: dict[str, Any]) -> Iterator[tuple[str, str, Any]]:
    yield from instances(MESH_KEYS, base, "", "")
    for index, cluster in enumerate(base["clusters"]):
        yield f"clusters[{cluster['cloud']}]", f"clusters[{index}]", cluster
        yield from instances(cluster_fields(cluster["cloud"]), cluster, f"clusters[{cluster['cloud']}].", f"clusters[{index}].")


def first_found() -> dict[str, Found]:
    found: dict[str, Found] = {}
    for base in BASES:
        for decl, path, value in base_instances(base):
            found.setdefault(decl, Found(base, path, value))
    return found


FOUND = first_found()


def with_value(config: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy of ``config`` with the value at ``path`` (``clusters[0].nodePools[0].name``) replaced."""
    result = copy.deepcopy(config)
    steps = [int(s) if s.isdigit() else s for s in re.findall(r"[^.\[\]]+", path)]
    target: Any = result
    for step in steps[:-1]:
        target = target[step]
    target[steps[-1]] = value
    return result


def triples(config: dict[str, Any]) -> list[tuple[str, str, str]]:
    return [(p.path, p.code, p.message) for p in problems(config)]


# -- 1. Text with whitespace at its ends or a control character inside ---------------------------


def reads_text(kind: Kind[Any]) -> bool:
    """Whether ``kind`` takes text (every such kind goes through ``text_of``); lists by their items."""
    if isinstance(kind, ListOf):
        return reads_text(kind.item)
    codes: list[str] = []
    kind.convert("x", lambda code, _message: codes.append(code))
    return "type" not in codes


TEXT_FIELDS = sorted(path for path, field in DECLARED.items() if reads_text(field.kind))
PADDINGS = {"newline": ("", "\n"), "crlf": ("", "\r\n"), "space": ("", " "), "tab": ("", "\t"), "leading-space": (" ", "")}


def test_every_text_field_has_a_value_in_a_base_config() -> None:
    assert [path for path in TEXT_FIELDS if path not in FOUND] == [], "give these fields a value in a base config above"
    assert len(TEXT_FIELDS) >= 50


def padded_cases() -> Iterator[Any]:
    for decl in TEXT_FIELDS:
        for name, (before, after) in PADDINGS.items():
            yield pytest.param(decl, before, after, id=f"{decl}-{name}")


def text_of_found(found: Found) -> tuple[str, Any]:
    """The text a field holds (a list's first item) and how to put another text in its place."""
    if isinstance(found.value, list):
        return found.value[0], lambda text: [text, *found.value[1:]]
    return found.value, lambda text: text


@pytest.mark.parametrize(("decl", "before", "after"), list(padded_cases()))
def test_text_padded_with_whitespace_is_refused(decl: str, before: str, after: str) -> None:
    found = FOUND[decl]
    text, put = text_of_found(found)
    padded = f"{before}{text}{after}"
    expected = (found.path, "whitespace", f"{padded!r} begins or ends with whitespace; remove it")
    assert expected in triples(with_value(found.base, found.path, put(padded)))


@pytest.mark.parametrize("decl", TEXT_FIELDS)
def test_text_with_a_line_break_inside_is_refused(decl: str) -> None:
    found = FOUND[decl]
    text, put = text_of_found(found)
    broken = f"{text[:1]}\n{text[1:] or text}"
    expected = (found.path, "control-character", f"{broken!r} contains the control character '\\n'; remove it")
    assert expected in triples(with_value(found.base, found.path, put(broken)))


def test_revision_tags_and_releases_are_whole_matches() -> None:
    assert triples({**n_existing(2), "istioRevisions": {"default\n": "1.30.3"}}) == [
        (
            "istioRevisions",
            "tag",
            "tag 'default\\n' is not valid; use a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and "
            "ending with a letter or digit",
        )
    ]
    assert triples({**n_existing(2), "istioRevisions": {"default": "1.30.3\n"}}) == [
        ("istioRevisions", "whitespace", "default: '1.30.3\\n' begins or ends with whitespace; remove it")
    ]


def test_the_config_layer_matches_patterns_against_the_whole_value() -> None:
    """``re.match`` and ``re.search`` (and ``$``, which matches before a final newline) let a value
    carry more than the pattern allows; the config layer uses ``fullmatch`` only."""
    partial = []
    for source in sorted((ROOT / "components").rglob("*.py")):
        for node in ast.walk(ast.parse(source.read_text())):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("match", "search"):
                partial.append(f"{source.relative_to(ROOT)}:{node.lineno}")
    assert partial == []


# -- 7. Empty values ---------------------------------------------------------------------------------

EMPTY = {"null": None, "empty": "", "an empty list": [], "an empty object": {}}


def empty_cases() -> Iterator[Any]:
    for decl in sorted(NESTED):
        for word, value in EMPTY.items():
            yield pytest.param(decl, word, value, id=f"{decl}-{word.split()[-1]}")


@pytest.mark.parametrize(("decl", "word", "value"), list(empty_cases()))
def test_an_empty_value_inside_an_object_is_refused(decl: str, word: str, value: Any) -> None:
    container = FOUND[decl.rsplit(".", 1)[0]]
    path = f"{container.path}.{decl.rsplit('.', 1)[1]}"
    field = NESTED[decl]
    if field.required:
        message = f"is {word}, but it is required; {field.hint or 'give it a value'}"
    else:
        message = f"is {word}; remove the field to get its default"
    assert (path, "empty", message) in triples(with_value(container.base, path, value))


def test_every_nested_field_has_its_object_in_a_base_config() -> None:
    assert sorted({decl.rsplit(".", 1)[0] for decl in NESTED} - set(FOUND)) == []


def test_an_empty_authorized_range_list_is_refused_not_an_open_api_server() -> None:
    config = with_value(two_azure(), "clusters[0].authorizedIpRanges", [])
    assert [str(p) for p in problems(config)] == [
        "clusters[0].authorizedIpRanges (cluster westeurope-aks): is an empty list; remove the field to get its default"
    ]
    config = with_value(two_azure(), "clusters[1].serviceCidr", None)
    assert [str(p) for p in problems(config)] == [
        "clusters[1].serviceCidr (cluster eastus-aks): is null; remove the field to get its default"
    ]


def test_an_open_aks_api_server_is_warned_of_as_an_open_eks_endpoint_is() -> None:
    open_api = (
        "the AKS API server accepts connections from anywhere; list the operators' ranges here (the program adds every AKS "
        "cluster's outbound IP)"
    )
    assert parse(two_azure()).warnings == (
        f"clusters[0].authorizedIpRanges (cluster westeurope-aks): {open_api}",
        f"clusters[1].authorizedIpRanges (cluster eastus-aks): {open_api}",
    )
    assert parse(ONE_PLATFORM[0]).warnings == (f"clusters[1].authorizedIpRanges (cluster az2): {open_api}",)


def pulumi_text(value: object) -> str:
    """A declared default as the CLI hands it to the program (see tests.harness.program.as_pulumi_config)."""
    return json.dumps(value) if isinstance(value, list | dict) else str(value).lower() if isinstance(value, bool) else str(value)


def test_top_level_keys_at_their_declared_defaults_are_unset() -> None:
    """The CLI passes Pulumi.yaml's default for every key a stack leaves out, empty ones included."""
    passed = {f.key: pulumi_text(f.declared_default) for f in MESH_KEYS}
    decoded = decode_config(passed, PLATFORMS)
    assert decoded["operatorCidrs"] == [] and decoded["keyVaultLocation"] == "" and decoded["secretsRecoveryWindowDays"] == "30"
    assert parse({**decoded, **n_existing(2)}) == parse(n_existing(2))
    # Unset, operatorCidrs is still required across platforms.
    across = {**decoded, **{k: v for k, v in ACROSS_PLATFORMS.items() if k != "operatorCidrs"}}
    assert [p.code for p in problems(across) if p.path == "operatorCidrs"] == ["required"]


def test_the_readme_states_the_empty_values_rule() -> None:
    assert f"Empty values: {EMPTY_VALUES_RULE}" in (ROOT / "README.md").read_text()


# -- 2. A platform's settings without its clusters -----------------------------------------------------

PLATFORM_KEYS = [(p.name, f) for p in PLATFORMS for f in p.mesh_fields]


def test_every_platform_key_has_a_value_other_than_its_default_in_a_base_config() -> None:
    missing = [f.key for _, f in PLATFORM_KEYS if f.key not in FOUND or FOUND[f.key].value == f.declared_default]
    assert missing == []


@pytest.mark.parametrize(("platform", "field"), PLATFORM_KEYS, ids=[f.key for _, f in PLATFORM_KEYS])
def test_a_platform_key_without_that_platforms_clusters_is_refused(platform: str, field: Field[Any]) -> None:
    config = {**n_existing(2), field.key: FOUND[field.key].value}
    assert triples(config) == [
        (field.key, "unused", f"is only used with {platform} clusters (cloud: {platform}), and this mesh has none; remove it")
    ]


def test_a_platform_key_is_judged_only_once_every_clusters_platform_is_known() -> None:
    config = {**n_existing(2), "secretsRegion": "eu-west-1"}
    config["clusters"][1]["cloud"] = "gcp"
    assert [p.code for p in problems(config)] == ["choice"]


def test_key_vault_delivery_needs_an_aks_primary() -> None:
    config = {
        "topology": "primary-remote",
        "caDelivery": "keyVault",
        "keyVaultLocation": "westeurope",
        "operatorCidrs": ["203.0.113.0/24"],
        "clusters": [
            existing_cluster("k1", "n1", egressCidrs=["198.51.100.0/24"]),
            azure_cluster("az1", "westeurope", 53, network="n2", role="remote", primary="k1"),
        ],
    }
    assert triples(config) == [
        (
            "caDelivery",
            "unused",
            "keyVault is only used by azure primaries, whose istiod reads its CA from Key Vault, and every azure cluster here is "
            "a remote, which runs no istiod; remove it",
        )
    ]
    config["caDelivery"] = "secret"
    assert parse(config).platform_settings["azure"]


def test_a_vpc_no_cluster_names_is_refused() -> None:
    config = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc(), vpc("spare", 1)],
        "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2")],
    }
    assert [str(p) for p in problems(config)] == [
        "vpcs[1] (vpc spare): no aws cluster names it in its vpc field, so it would never be created; remove it, or name it in "
        "a cluster's vpc field"
    ]


# -- 5. verifyImage ------------------------------------------------------------------------------------

DIGEST = "sha256:" + "a" * 64


@pytest.mark.parametrize(
    "image",
    [
        "registry.istio.io/release/examples-helloworld-v1:1.0",
        f"registry.istio.io/release/examples-helloworld-v1@{DIGEST}",
        f"registry.istio.io/release/examples-helloworld-v1:1.0@{DIGEST}",
        "localhost:5000/helloworld:v1",
    ],
)
def test_an_image_with_a_tag_or_digest_is_taken(image: str) -> None:
    assert parse({**n_existing(2), "verifyImage": image}).verify_image == image


@pytest.mark.parametrize("image", ["registry.istio.io/release/examples-helloworld-v1", "localhost:5000/helloworld", "helloworld:1.0"])
def test_an_image_without_a_tag_or_digest_is_refused(image: str) -> None:
    assert triples({**n_existing(2), "verifyImage": image}) == [
        (
            "verifyImage",
            "pattern",
            f"{image!r} is not valid; use registry/repository:tag, registry/repository@sha256:<digest> or both; a tag or digest "
            "is required (without one the image is whatever :latest is when a node pulls it)",
        )
    ]


def test_a_parse_failure_is_a_config_error_not_a_traceback() -> None:
    with pytest.raises(ConfigError) as raised:
        parse(with_value(ACROSS_PLATFORMS, "clusters[1].vpc", "mesh-vpc\n"))
    assert all(isinstance(p, Problem) for p in raised.value.problems)


# -- 3. What a remote does not use -------------------------------------------------------------------


def primary_remote(remote_values: dict[str, Any]) -> dict[str, Any]:
    return {
        "topology": "primary-remote",
        "clusters": [existing_cluster("k1", "n1"), existing_cluster("k2", "n2", role="remote", primary="k1", istiodValues=remote_values)],
    }


@pytest.mark.parametrize(("key", "what"), sorted(REMOTE_UNUSED_ISTIOD_VALUES.items()))
def test_a_remotes_own_istiod_values_may_not_set_what_comes_from_its_primary(key: str, what: str) -> None:
    assert triples(primary_remote({key: {"enableTracing": True}})) == [
        (
            f"clusters[1].istiodValues.{key}",
            "remote-unused",
            f"is not used on a remote, which runs no istiod: its proxies take their {what} from the istiod of their primary; "
            "set it in clusters[0].istiodValues (cluster k1) or in the mesh-wide istiodValues",
        )
    ]
    config = primary_remote({})
    config["clusters"][0]["istiodValues"] = {key: {"enableTracing": True}}
    del config["clusters"][1]["istiodValues"]
    assert parse({**config, "istiodValues": {key: {"defaultConfig": {"holdApplicationUntilProxyStarts": True}}}})


def test_istiod_remote_is_the_programs_on_every_cluster() -> None:
    owned = "is set by the program from topology and role (a remote's injection webhooks, served by its primary's istiod); remove it here"
    assert triples(primary_remote({"istiodRemote": {"injectionPath": "/inject"}})) == [
        ("clusters[1].istiodValues.istiodRemote", "owned-value", owned)
    ]
    assert triples({**n_existing(2), "istiodValues": {"istiodRemote": {"enabled": True}}}) == [
        ("istiodValues.istiodRemote", "owned-value", owned)
    ]


# -- 4. What the program merges into istiod's values ----------------------------------------------------

MERGED_REFUSALS = [
    pytest.param(
        {"podLabels": ["team=mesh"]},
        [
            (
                "istiodValues.podLabels",
                "istiod-value-type",
                "is a list, but it is an object of text, to which the program adds its own entries; write it as an object, "
                "e.g. {team: mesh}",
            ),
        ],
        id="labels-as-a-list",
    ),
    pytest.param(
        {"serviceAccountAnnotations": {"tier": 1}},
        [
            (
                "istiodValues.serviceAccountAnnotations.tier",
                "istiod-value-type",
                "is the number 1, but Kubernetes takes labels and annotations as text; quote it",
            )
        ],
        id="annotation-not-text",
    ),
    pytest.param(
        {"volumes": "extra"},
        [
            (
                "istiodValues.volumes",
                "istiod-value-type",
                "is the text 'extra', but it is a list of objects, to which the program adds its own; write it as a list, "
                "e.g. [{name: extra, emptyDir: {}}]",
            )
        ],
        id="volumes-as-text",
    ),
    pytest.param(
        {"volumeMounts": [{"name": "extra", "mountPath": "/extra"}, "tmp"]},
        [("istiodValues.volumeMounts[1]", "istiod-value-type", "is the text 'tmp', but each entry of volumeMounts is an object")],
        id="mount-as-text",
    ),
    pytest.param(
        {"podLabels": {"azure.workload.identity/use": "false"}},
        [
            (
                'istiodValues.podLabels["azure.workload.identity/use"]',
                "owned-value",
                "is set by the program from caDelivery: keyVault (istiod's Azure workload identity); remove it here",
            )
        ],
        id="workload-identity-label",
    ),
    pytest.param(
        {"serviceAccountAnnotations": {"azure.workload.identity/client-id": "00000000-0000-0000-0000-000000000000"}},
        [
            (
                'istiodValues.serviceAccountAnnotations["azure.workload.identity/client-id"]',
                "owned-value",
                "is set by the program from caDelivery: keyVault (istiod's Azure workload identity); remove it here",
            )
        ],
        id="workload-identity-annotation",
    ),
    pytest.param(
        {"volumes": [{"name": "cacerts-files", "emptyDir": {}}]},
        [
            (
                "istiodValues.volumes[0].name",
                "owned-value",
                "cacerts-files is the name of the program's volume of CA files (caDelivery); choose another",
            )
        ],
        id="ca-files-volume",
    ),
    pytest.param(
        {"volumeMounts": [{"name": "mine", "mountPath": "/etc/cacerts-files/"}]},
        [
            (
                "istiodValues.volumeMounts[0].mountPath",
                "owned-value",
                "/etc/cacerts-files is where the program mounts the CA files (caDelivery); choose another",
            )
        ],
        id="ca-files-mount",
    ),
]


@pytest.mark.parametrize(("values", "expected"), MERGED_REFUSALS)
@pytest.mark.parametrize("level", ["mesh", "cluster"])
def test_values_the_program_merges_into_keep_their_shape_and_the_programs_entries(
    values: dict[str, Any], expected: list[tuple[str, str, str]], level: str
) -> None:
    config = {**two_azure(), "caDelivery": "keyVault"}
    if level == "mesh":
        config["istiodValues"] = values
    else:
        config = with_value(config, "clusters[1].istiodValues", values)
        expected = [(path.replace("istiodValues", "clusters[1].istiodValues", 1), code, message) for path, code, message in expected]
    assert triples(config) == expected


# -- 6. Keys in a namespace nothing reads; the program refuses before any resource --------------------


def refused_by_the_program(values: dict[str, Any], namespaced: dict[str, str] | None = None) -> list[tuple[str, str, str]]:
    """The problems ``__main__.py`` stops with, having registered nothing."""
    mocks = MeshMocks()
    with pytest.raises(ConfigError) as raised:
        run_program(values, stack="kind", mocks=mocks, namespaced=namespaced)
    assert mocks.monitor is not None and mocks.monitor.registered == []
    return [(p.path, p.code, p.message) for p in raised.value.problems]


def test_a_key_under_a_misspelt_project_namespace_is_refused_with_the_key_it_meant() -> None:
    assert refused_by_the_program(stack_config("kind"), {"istio-multicluter:caDelivery": "keyVault"}) == [
        (
            "istio-multicluter:caDelivery",
            "unread-namespace",
            "is in namespace istio-multicluter, which nothing in this program reads; did you mean istio-multicluster:caDelivery?",
        )
    ]


def test_keys_in_unread_namespaces_come_first_among_every_problem() -> None:
    namespaced = {"azure:location": "westeurope", "gcp:project": "mesh"}
    assert refused_by_the_program({**stack_config("kind"), "meshId": "Mesh"}, namespaced) == [
        (
            "azure:location",
            "unread-namespace",
            "is in namespace azure, which nothing in this program reads; did you mean azure-native:location?",
        ),
        (
            "gcp:project",
            "unread-namespace",
            "is in namespace gcp, which nothing in this program reads; this program reads the namespaces istio-multicluster, "
            "pulumi, aws, azure-native, eks, kubernetes, random, tls; remove it",
        ),
        (
            "meshId",
            "pattern",
            "'Mesh' is not valid; use a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a "
            "letter or digit",
        ),
    ]


def test_the_engines_and_the_providers_namespaces_are_read() -> None:
    namespaced = {f"{namespace}:anything": "x" for namespace in READ_NAMESPACES if namespace != "istio-multicluster"}
    assert unread_namespace_problems(namespaced) == []
    run = run_program(stack_config("kind"), stack="kind", namespaced={"aws:region": "eu-west-1", "pulumi:disable-default-providers": "[]"})
    assert run.resources


def test_the_readme_names_every_namespace_that_is_read() -> None:
    section = (ROOT / "README.md").read_text().split("## Config reference", 1)[1].split("<!-- config-reference:start", 1)[0]
    assert [n for n in READ_NAMESPACES if f"`{n}`" not in section] == []


def test_key_vault_delivery_without_aks_clusters_stops_before_any_resource() -> None:
    """The worst case of an unused key: the CA key would sit in a Kubernetes Secret after all."""
    assert refused_by_the_program({**stack_config("kind"), "caDelivery": "keyVault"}) == [
        ("caDelivery", "unused", "is only used with azure clusters (cloud: azure), and this mesh has none; remove it")
    ]
