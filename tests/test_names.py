"""Resource names: the plan lists what the program registers, and a collision is refused before
any resource, exactly when the program would otherwise register one URN twice."""

from __future__ import annotations

import copy
import functools
import json
import re
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from components.config import mesh_names
from components.config.names import NamePlan, NameTemplate
from components.config.parse import parse_mesh_spec, resource_names
from components.config.problems import ConfigError
from components.fleet.contract import TOKEN_GENERATIONS_OUTPUT, applied_generations
from components.platforms.aws import names as aws_names
from components.platforms.azure import names as azure_names
from components.platforms.existing import names as existing_names
from fleet.driver import Driver, Outcome
from tests.certs import offline_intermediate, offline_root
from tests.configs import EDGE_CERTIFICATE, aws_cluster, azure_cluster, existing_cluster, problems, vpc
from tests.harness.fleet_program import ProgramFleet
from tests.harness.plans import PLATFORMS, PROGRAM_WORDS, STEMS, planned, registered
from tests.harness.program import StackRun, run_program, shipped_config, stack_config
from tests.harness.stores import KeyVault, SecretsManager, readers

NAME_MODULES = (mesh_names, azure_names, aws_names, existing_names)
TEMPLATES = [value for module in NAME_MODULES for value in vars(module).values() if isinstance(value, NameTemplate)]
# Planned for every primary although the platform registers one of each pair (a Secret or CSI files;
# the webhook route where remotes dial istiod by host name): no other template has their types' names.
# Planned wherever the platform may make one of them: a cluster's ingress is its gateway's Service
# (read back) or the platform's edge.
PLANNED_WHERE_POSSIBLE = {
    mesh_names.CACERTS,
    mesh_names.CA_FILES,
    mesh_names.ISTIOD_WEBHOOK_ROUTE,
    mesh_names.INGRESS_SERVICE,
    mesh_names.INGRESS_EDGE,
    # Only where the ingress has an IP address: an alias follows its load balancer's health.
    mesh_names.DNS_HEALTH_CHECK,
}
CANARY = {"default": "1.30.3", "canary": "1.31.0"}
# Config keys holding private keys, which a stack sets with --secret.
SECRET_KEYS = ("caProvidedRoots", "caProvidedIntermediates")


def variants() -> Iterator[tuple[str, dict[str, Any]]]:
    """Configs that together make every kind of resource the program registers."""
    aks = stack_config("aks")
    clusters = copy.deepcopy(aks["clusters"])
    clusters[0].update(entraId=True, authorizedIpRanges=["203.0.113.0/24"])
    admins = ["5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a"]
    registry = {"location": "westeurope"}
    keyvault = {"caDelivery": "keyVault", "azureAdminObjectIds": admins, "containerRegistry": registry}
    yield "aks-keyvault", {**aks, **keyvault, "clusters": clusters, "istioRevisions": CANARY}
    eks = stack_config("eks")
    clusters = copy.deepcopy(eks["clusters"])
    clusters[1].update(vpc="vpc-2", region="us-east-1")
    clusters[0].update(ingressEdge={"type": "alb", "certificateArn": EDGE_CERTIFICATE})
    second = vpc("vpc-2", 1, region="us-east-1", zones=["us-east-1a", "us-east-1c"], nat="per-az")
    yield "eks-two-regions", {**eks, "clusters": clusters, "vpcs": [*eks["vpcs"], second], "verify": True, "ingressGateway": True}
    remote = {**copy.deepcopy(eks["clusters"][1]), "role": "remote", "primary": eks["clusters"][0]["name"]}
    yield "eks-primary-remote", {**eks, "topology": "primary-remote", "clusters": [eks["clusters"][0], remote], "verify": True}
    yield "kind-ambient", {**stack_config("kind-ambient"), "ingressGateway": True, "ambientSidecarGateway": True}
    yield "eks-ambient", {**eks, "dataplane": "ambient", "ambientSidecarGateway": True, "verify": True}
    kind = stack_config("kind")
    remote = {**kind["clusters"][1], "role": "remote", "primary": kind["clusters"][0]["name"]}
    yield "kind-primary-remote", {**kind, "topology": "primary-remote", "istioRevisions": CANARY, "clusters": [kind["clusters"][0], remote]}
    multicloud = {**stack_config("multicloud"), "operatorCidrs": ["198.51.100.0/24"]}
    yield "multicloud", {**multicloud, "ingressGateway": True}
    yield "multicloud-ambient", {**multicloud, "dataplane": "ambient"}
    # One name over ALB edges with the program's certificates (aliases), and over AKS ingresses
    # (health-checked A records).
    yield "eks-edge", shipped_config("eks-edge")
    dns = {"zoneId": "Z0123456789ABCDEFGHIJ", "name": "mesh.example.com", "routing": "weighted"}
    yield "aks-dns", {**aks, "ingressDns": dns}
    yield "aks-traffic-manager", {**aks, "ingressDns": {"service": "trafficManager", "name": "istio-mesh-prod"}}
    # A root rotation's first stage: two roots, the second named by its config; and one to a
    # provided root, which is no resource.
    yield "kind-rotation", {**kind, "caRoot": "root-1", "caRotation": {"newRoot": "root-2", "stage": "trust"}}
    cert_pem, key_pem = ROOT
    provided = {"root-2": {"certPem": cert_pem, "keyPem": key_pem}}
    yield "kind-provided", {**kind, "caRotation": {"newRoot": "root-2", "stage": "trust"}, "caProvidedRoots": provided}
    intermediates = {c["name"]: offline_intermediate(cert_pem, key_pem, c["name"]) for c in kind["clusters"]}
    anchor = {"root": {"certPem": cert_pem}}
    yield "kind-intermediates", {**kind, "caProvidedRoots": anchor, "caProvidedIntermediates": intermediates}
    # Intermediates read from Secrets Manager (through a provider of the secret's region) and Key Vault.
    by_name = {"kind-1": {"secretsManager": STORED_ARN}, "kind-2": {"keyVault": STORED_URL}}
    yield "kind-stored", {**kind, "caProvidedRoots": anchor, "caProvidedIntermediates": by_name}


STORED_ARN = "arn:aws:secretsmanager:us-east-2:123456789012:secret:kind-1"
STORED_URL = "https://meshca.vault.azure.net/secrets/kind-2"


def stores(config: dict[str, Any]) -> tuple[SecretsManager, KeyVault]:
    """Secrets Manager and Key Vault holding the intermediates ``config`` names there."""
    by_name = config.get("caProvidedIntermediates", {})
    in_manager = {v["secretsManager"]: json.dumps(intermediate(c)) for c, v in by_name.items() if "secretsManager" in v}
    in_vault = {v["keyVault"].rsplit("/", 1)[1]: json.dumps(intermediate(c)) for c, v in by_name.items() if "keyVault" in v}
    return SecretsManager(in_manager), KeyVault({"https://meshca.vault.azure.net": in_vault})


@functools.cache
def intermediate(cluster: str) -> dict[str, str]:
    return offline_intermediate(*ROOT, cluster)


ROOT = offline_root()


@pytest.fixture(scope="module")
def runs() -> list[tuple[dict[str, Any], StackRun]]:
    return [
        (
            config,
            run_program(
                config,
                stack=label.split("-")[0],
                secret_keys=[k for k in ("caProvidedRoots", "caProvidedIntermediates") if k in config],
                secrets_manager=stores(config)[0],
                key_vault=stores(config)[1],
            ),
        )
        for label, config in variants()
    ]


def test_the_plan_lists_exactly_what_each_variant_registers(runs: list[tuple[dict[str, Any], StackRun]]) -> None:
    for config, run in runs:
        plan = planned(config, readers(*stores(config)))
        names = {(p.urn_type, p.name) for p in plan.names}
        assert registered(run) - names == set(), "registered but not planned"
        unregistered = {p.template for p in plan.names if (p.urn_type, p.name) not in registered(run)}
        assert unregistered <= PLANNED_WHERE_POSSIBLE


# EKS clusters in one VPC, admitted by its range (the members' rules), in ambient beside the sidecar
# gateway, through two reader token rotations (generation 0, then 1, then 2).
FLEET_CONFIG = {**stack_config("eks"), "dataplane": "ambient", "ambientSidecarGateway": True}


@pytest.fixture(scope="module")
def fleet_made() -> tuple[NamePlan, set[tuple[str, str]]]:
    """A fleet (``FLEET_CONFIG``) made, then rotated to reader token generation 1 and 2: the mesh
    stack's plan of the last config with the generations it applied (read back from its outputs,
    as it does), and what any run of any stack of the fleet registered on the way (a member keeps
    an older token while a peer still holds it). Members plan no names: the mesh stack checks them."""
    mesh = "organization/istio-multicluster/fleet"
    fleet = ProgramFleet(copy.deepcopy(FLEET_CONFIG), mesh)
    made: set[tuple[str, str]] = set()
    run = fleet.run

    def recorded(stack: str, member: Any, mocks: Any = None) -> StackRun:
        done = run(stack, member, mocks)
        made.update(registered(done))
        return done

    fleet.run = recorded  # type: ignore[method-assign]
    for generation in (0, 1, 2):
        fleet.mesh_config = {**copy.deepcopy(FLEET_CONFIG), "readerTokenGeneration": generation}
        assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, mesh, parallel=1).up())
    # As the mesh stack reads it back on its next update (numbers come back from the engine as floats).
    applied = applied_generations(fleet.runs[mesh].outputs, 2)
    assert applied == (0, 1, 2) and fleet.runs[mesh].outputs[TOKEN_GENERATIONS_OUTPUT] == [0, 1, 2]
    spec = replace(parse_mesh_spec({**fleet.mesh_config, "fleetMesh": True}, PLATFORMS), reader_token_history=applied)
    return resource_names(spec, PLATFORMS), made


def test_the_mesh_stack_plans_what_every_stack_of_its_fleet_registers(fleet_made: tuple[NamePlan, set[tuple[str, str]]]) -> None:
    plan, made = fleet_made
    assert made - {(p.urn_type, p.name) for p in plan.names} == set(), "registered but not planned"
    assert {p.template for p in plan.names if (p.urn_type, p.name) not in made} <= PLANNED_WHERE_POSSIBLE


def test_every_template_names_a_resource_of_some_variant(
    runs: list[tuple[dict[str, Any], StackRun]], fleet_made: tuple[NamePlan, set[tuple[str, str]]]
) -> None:
    used = {
        p.template
        for config, run in runs
        for p in planned(config, readers(*stores(config))).names
        if (p.urn_type, p.name) in registered(run)
    }
    plan, made = fleet_made
    used |= {p.template for p in plan.names if (p.urn_type, p.name) in made}
    assert [t.pattern for t in TEMPLATES if t not in used] == []


def collides_without_the_check(config: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URNs the program registers twice when the plan's check is off: what the engine refuses."""
    with monkeypatch.context() as patched:
        patched.setattr(NamePlan, "check", lambda self, problems: None)
        with pytest.raises(AssertionError, match="Duplicate resource URN") as raised:
            run_program(config)
    return re.findall(r"::([^:']+)'", str(raised.value))


ISSUE_EXAMPLES = [
    pytest.param(
        {"clusters": [existing_cluster("root", "n1"), existing_cluster("b", "n2")]},
        "clusters[0].name (cluster root): tls PrivateKey mesh-ca-root-key would be registered twice, for the mesh root CA's key "
        "and for cluster root's intermediate CA key; Pulumi refuses the second after creating everything before it: rename "
        "clusters[0].name",
        id="root",
    ),
    pytest.param(
        {"verify": True, "istioRevisions": CANARY, "clusters": [existing_cluster("prod", "n1"), existing_cluster("prod-canary", "n2")]},
        "istioRevisions.canary: kubernetes Service mesh-check-prod-canary-helloworld would be registered twice, for the check's "
        "Service of tag default on cluster prod-canary and for the check's Service of tag canary on cluster prod; Pulumi refuses "
        "the second after creating everything before it: rename one of clusters[0].name, clusters[1].name or istioRevisions.canary",
        id="prod-and-prod-canary",
    ),
    pytest.param(
        {"clusters": [existing_cluster("x", "n1"), existing_cluster("y-reader-token", "n2"), existing_cluster("x-in-y", "n3")]},
        "clusters[1].name (cluster y-reader-token): kubernetes Secret mesh-link-x-in-y-reader-token would be registered twice, "
        "for cluster x-in-y's reader token and for the remote secret of cluster x in cluster y-reader-token; Pulumi refuses the "
        "second after creating everything before it: rename one of clusters[0].name, clusters[1].name or clusters[2].name",
        id="reader-token-and-remote-secret",
    ),
    pytest.param(
        {
            "secretsRegion": "eu-west-1",
            "vpcs": [vpc()],
            "clusters": [aws_cluster("prod", "n1"), aws_cluster("prod-api", "n2"), aws_cluster("stage", "n3")],
        },
        "clusters[2].name (cluster stage): aws SecurityGroupIngressRule aws-mesh-prod-api-from-stage would be registered twice, "
        "for cluster prod's API rule for cluster stage and for cluster prod-api's rule for cluster stage; Pulumi refuses the "
        "second after creating everything before it: rename one of clusters[0].name, clusters[1].name or clusters[2].name",
        id="eks-api-rule",
    ),
    pytest.param(
        {
            "secretsRegion": "eu-west-1",
            "vpcs": [vpc()],
            "clusters": [aws_cluster(n, f"n{i}") for i, n in enumerate(["a", "b-from-c", "a-from-b", "c"])],
        },
        "clusters[3].name (cluster c): aws SecurityGroupIngressRule aws-mesh-a-from-b-from-c would be registered twice, for "
        "cluster a's rule for cluster b-from-c and for cluster a-from-b's rule for cluster c; Pulumi refuses the second after "
        "creating everything before it: rename one of clusters[0].name, clusters[1].name, clusters[2].name or clusters[3].name",
        id="eks-peer-rule",
    ),
    pytest.param(
        {
            "keyVaultLocation": "eastus",
            "clusters": [
                azure_cluster("a", "westeurope", 51),
                azure_cluster("b-to-c", "westeurope", 52),
                azure_cluster("a-to-b", "westeurope", 53),
                azure_cluster("c", "westeurope", 54),
            ],
        },
        "clusters[3].name (cluster c): azure-native VirtualNetworkPeering azure-a-to-b-to-c would be registered twice, for the "
        "peering of cluster a's VNet to b-to-c's and for the peering of cluster a-to-b's VNet to c's; Pulumi refuses the second "
        "after creating everything before it: rename one of clusters[0].name, clusters[1].name, clusters[2].name or clusters[3].name",
        id="azure-peering",
    ),
    pytest.param(
        {
            "secretsRegion": "eu-west-1",
            "vpcs": [vpc("a", 1), vpc("b-c", 2), vpc("a-b", 3), vpc("c", 4)],
            "clusters": [aws_cluster(f"k{i}", f"n{i}", vpc=name) for i, name in enumerate(["a", "b-c", "a-b", "c"])],
        },
        "vpcs[3].name (vpc c): aws VpcPeeringConnection aws-peering-a-b-c would be registered twice, for the peering of vpcs a "
        "and b-c and for the peering of vpcs a-b and c; Pulumi refuses the second after creating everything before it: rename "
        "one of vpcs[0].name, vpcs[1].name, vpcs[2].name or vpcs[3].name",
        id="vpc-peering",
    ),
]


@pytest.mark.parametrize(("config", "message"), ISSUE_EXAMPLES)
def test_a_collision_is_refused_naming_every_field_and_it_is_real(
    config: dict[str, Any], message: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = problems(config)
    assert [(p.code, str(p)) for p in found][:1] == [("name-collision", message)]
    assert {p.code for p in found} == {"name-collision"}
    name = message.split(" would be registered twice", maxsplit=1)[0].rsplit(" ", 1)[-1]
    assert name in collides_without_the_check(config, monkeypatch)


@st.composite
def adversarial_mesh(draw: st.DrawFn) -> dict[str, Any]:
    """Existing clusters whose names are other names of the mesh joined with the program's words."""
    names = [draw(st.sampled_from(STEMS))]
    for _ in range(draw(st.integers(1, 3))):
        stem = draw(st.sampled_from(names))
        word = draw(st.sampled_from([*PROGRAM_WORDS, *names, *STEMS]))
        names.append(draw(st.sampled_from([f"{stem}-{word}", f"{word}-{stem}", word])))
    names = list(dict.fromkeys(names))
    if len(names) < 2:
        names.append(draw(st.sampled_from([n for n in PROGRAM_WORDS if n not in names])))
    clusters = [
        existing_cluster(name, f"n{index}", metallb={"addresses": [f"172.18.{index}.1-172.18.{index}.9"]})
        for index, name in enumerate(names)
    ]
    config: dict[str, Any] = {"clusters": clusters, "verify": draw(st.booleans()), "ingressGateway": draw(st.booleans())}
    tag = draw(st.sampled_from([None, "canary", *STEMS, *[w for w in PROGRAM_WORDS if w != "default"]]))
    if tag is not None:
        config["istioRevisions"] = {"default": "1.30.3", tag: "1.31.0"}
    if draw(st.booleans()):
        config["topology"] = "primary-remote"
        for cluster in clusters[1:]:
            cluster.update(role="remote", primary=names[0])
    return config


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(adversarial_mesh())
def test_adversarial_names_are_refused_exactly_when_the_program_would_collide(config: dict[str, Any]) -> None:
    try:
        run = run_program(config)
    except ConfigError as error:
        assert {p.code for p in error.problems} == {"name-collision"}, [str(p) for p in error.problems]
        with pytest.MonkeyPatch.context() as patched:
            patched.setattr(NamePlan, "check", lambda self, problems: None)
            colliding = planned_collisions(planned(config))
            assert colliding, "refused, but the plan has no collision"
            assert colliding <= set(collides_without_the_check(config, patched))
        return
    assert registered(run) <= {(p.urn_type, p.name) for p in planned(config).names}


def planned_collisions(plan: NamePlan) -> set[str]:
    """The names two planned resources of one type share, leaving out those the program may not register."""
    seen: dict[tuple[str, str], list[NameTemplate]] = {}
    for name in plan.names:
        seen.setdefault((name.urn_type, name.name), []).append(name.template)
    return {name for (_, name), templates in seen.items() if len(templates) > 1 and not set(templates) & PLANNED_WHERE_POSSIBLE}
