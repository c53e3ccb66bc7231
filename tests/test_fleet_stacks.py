"""Fleet mode's program: the mesh stack and the member stacks, run by the fleet driver under mocks
(tests/harness/fleet_program.py). Together they make what one stack makes of the same config; each
member holds O(N) resources; the CA's root key stays in the mesh stack; a member picks up a peer
whose stack comes later; bad member config is refused naming the field."""

from __future__ import annotations

import copy
import json
import logging
import re
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any

import pulumi
import pytest
from cryptography import x509

from components.config.problems import ConfigError
from components.fleet.contract import (
    AWAITING_OUTPUT,
    CA_OUTPUT,
    CHECK_OUTPUT,
    CONFIG_DIGEST_OUTPUT,
    CONFIG_OUTPUT,
    LINK_OUTPUT,
    LINKED_PEERS_OUTPUT,
    MEMBERS_OUTPUT,
    TOKENS_OUTPUT,
    FleetMember,
    config_digest,
    member_stack,
)
from fleet.driver import Driver, Outcome, StackResult, Step
from fleet.files import member_config as member_file
from fleet.workspace import member_config
from tests.configs import existing_cluster, n_existing, parse
from tests.harness.changes import Changes, changes
from tests.harness.fleet_program import ProgramFleet, fleet_of, qualified
from tests.harness.mocks import MeshMocks, token_secret_name
from tests.harness.monitor import Registered
from tests.harness.program import FLEET_MEMBER_STACKS, StackRun, project_defaults, run_program, run_stack, stack_config
from tests.harness.stores import OtherStack

MESH = qualified("kind-fleet")
SECRET = "kubernetes:core/v1:Secret"
PEM = re.compile(r"-----BEGIN [A-Z ]+-----[^-]+-----END [A-Z ]+-----\n?")
PEM_BASE64 = re.compile(r"LS0tLS1CRUdJTi[A-Za-z0-9+/=]+")
DIGEST = re.compile(r"\b[0-9a-f]{64}\b")
JWT = re.compile(r"eyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


# Away from every default, so that a setting a member dropped would show.
KIND = {"verify": False, "meshId": "fleet-mesh", "ingressGateway": True, "istioRevisions": {"default": "1.30.3", "canary": "1.31.0"}}


def kind_fleet() -> ProgramFleet:
    fleet = ProgramFleet({**stack_config("kind"), **KIND}, MESH)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    return fleet


@pytest.fixture(scope="module")
def fleet() -> ProgramFleet:
    return kind_fleet()


def member(fleet: ProgramFleet, cluster: str) -> StackRun:
    return fleet.runs[member_stack(MESH, cluster)]


def made(runs: list[StackRun]) -> dict[tuple[str, str], Registered]:
    """Every resource the runs made (reads and stack references aside), by type and name."""
    return {(r.type, r.name): r for run in runs for r in run.resources if r.operation != "read"}


def without_key_material(value: Any) -> Any:
    """``value`` with certificates, keys, service-account tokens and digests of them replaced: each
    run of the mocks mints its own, so two runs of one config differ in them alone."""
    text = json.dumps(value, sort_keys=True)
    for pattern, stand_in in ((PEM, "<pem>"), (PEM_BASE64, "<pem64>"), (JWT, "<jwt>"), (DIGEST, "<digest>")):
        text = pattern.sub(stand_in, text)
    return json.loads(text)


def test_the_fleet_makes_what_one_stack_makes(fleet: ProgramFleet) -> None:
    alone = run_stack("kind", KIND)
    single, together = made([alone]), made(list(fleet.runs.values()))
    assert sorted(together) == sorted(single)

    # Each cloud and Kubernetes resource made once across the fleet, as one stack makes it (the
    # components, MeshLink in every member, group them and make nothing).
    def custom(runs: list[StackRun]) -> Counter[tuple[str, str]]:
        return Counter((r.type, r.name) for run in runs for r in run.resources if r.custom and r.operation != "read")

    assert custom(list(fleet.runs.values())) == custom([alone]) and set(custom([alone]).values()) == {1}
    for key, resource in single.items():
        theirs = together[key]
        assert without_key_material(theirs.inputs) == without_key_material(resource.inputs), key
        assert theirs.secret_inputs == resource.secret_inputs, key


def test_the_mesh_stack_holds_the_ca_and_no_cluster(fleet: ProgramFleet) -> None:
    mesh = fleet.runs[MESH]
    assert {r.type for r in mesh.resources} == {
        "istio-multicluster:mesh:MeshCA",
        "tls:index/privateKey:PrivateKey",
        "tls:index/selfSignedCert:SelfSignedCert",
        "tls:index/certRequest:CertRequest",
        "tls:index/locallySignedCert:LocallySignedCert",
    }
    assert mesh.outputs[MEMBERS_OUTPUT] == ["kind-1", "kind-2"]
    assert CA_OUTPUT in mesh.secret_outputs and CONFIG_OUTPUT not in mesh.secret_outputs
    assert sorted(mesh.outputs[CA_OUTPUT]["kind-1"]) == ["ca-cert.pem", "ca-key.pem", "cert-chain.pem", "root-cert.pem"]


def test_the_root_key_never_leaves_the_mesh_stack(fleet: ProgramFleet) -> None:
    # As JSON holds it (the state's, the outputs').
    root_key = json.dumps(fleet.runs[MESH].named("mesh-ca-root-key").outputs["privateKeyPem"])[1:-1]
    assert root_key in json.dumps({urn: p.outputs for urn, p in fleet.runs[MESH].state().items()})
    assert root_key not in json.dumps(fleet.runs[MESH].outputs)
    for name, run in fleet.runs.items():
        if name != MESH:
            assert root_key not in json.dumps([run.outputs, {urn: [p.inputs, p.outputs] for urn, p in run.state().items()}])


def test_the_members_config_is_the_meshs_without_what_only_the_ca_reads() -> None:
    config = {**stack_config("kind"), "verify": False, "caRootValidityHours": 40000}
    fleet = ProgramFleet(config, MESH)
    fleet.run(MESH, None)
    exported = fleet.outputs(MESH)[CONFIG_OUTPUT]
    # As the CLI passes config: structures decoded, the rest text.
    assert exported["caRootValidityHours"] == "40000" and exported["clusters"] == config["clusters"]
    assert not {"fleetMesh", "caProvidedRoots", "caProvidedIntermediates", "caRoot", "caRotation"} & set(exported)


def test_each_member_builds_its_own_cluster_with_its_intermediate_from_the_mesh(fleet: ProgramFleet) -> None:
    root = x509.load_pem_x509_certificate(fleet.runs[MESH].outputs["rootCertPem"].encode())
    for cluster, peer in (("kind-1", "kind-2"), ("kind-2", "kind-1")):
        run = member(fleet, cluster)
        cacerts = run.named(f"{cluster}-istio-cacerts")
        assert cacerts.secret_inputs >= {"stringData"}
        intermediate = x509.load_pem_x509_certificate(cacerts.inputs["stringData"]["ca-cert.pem"].encode())
        intermediate.verify_directly_issued_by(root)
        # Its own intermediate and key, not a peer's (both would verify against the root).
        issued = fleet.runs[MESH].named(f"mesh-ca-{cluster}-cert").outputs["certPem"]
        key = fleet.runs[MESH].named(f"mesh-ca-{cluster}-key").outputs["privateKeyPem"]
        assert (cacerts.inputs["stringData"]["ca-cert.pem"], cacerts.inputs["stringData"]["ca-key.pem"]) == (issued, key)
        # Every Kubernetes object goes through this cluster's provider; the peer's only remote secret is here.
        providers = {run.by_urn(r.provider_urn).name for r in run.resources if r.type.startswith("kubernetes:") and r.custom}
        assert providers == {f"{cluster}-provider"}
        assert [r.name for r in run.of_type(SECRET) if r.name.startswith("mesh-link-") and "-in-" in r.name] == [
            f"mesh-link-{peer}-in-{cluster}"
        ]
        # The link it holds of its peer is the peer's current one.
        assert run.outputs[LINKED_PEERS_OUTPUT] == {peer: member(fleet, peer).outputs[LINK_OUTPUT]["digest"]}
        assert LINK_OUTPUT in run.secret_outputs and run.outputs[LINK_OUTPUT]["cluster"] == cluster
        # The mesh config it applied, a secret (the config may hold secrets).
        assert run.outputs[CONFIG_DIGEST_OUTPUT] == config_digest(fleet.runs[MESH].outputs[CONFIG_OUTPUT])
        assert CONFIG_DIGEST_OUTPUT in run.secret_outputs


def test_a_members_state_holds_its_own_intermediate_key_and_no_other(fleet: ProgramFleet) -> None:
    """The mesh and peers are read with the engine's stack-reference read, which leaves nothing in
    state; a StackReference resource would keep the mesh stack's whole outputs, every member's key."""
    # As the state's JSON holds them.
    keys = {c: json.dumps(fleet.runs[MESH].outputs[CA_OUTPUT][c]["ca-key.pem"])[1:-1] for c in ("kind-1", "kind-2")}
    for cluster, other in (("kind-1", "kind-2"), ("kind-2", "kind-1")):
        run = member(fleet, cluster)
        # The stack's outputs are in its state too.
        state = json.dumps([run.outputs, {urn: [p.inputs, p.outputs] for urn, p in run.state().items()}])
        assert keys[cluster] in state and keys[other] not in state
        assert run.of_type("pulumi:pulumi:StackReference") == []


def test_a_peers_kubeconfig_arrives_as_a_secret_and_stays_one(fleet: ProgramFleet) -> None:
    """The peer's reader token is in the member's state and outputs only where they are secret."""
    run = member(fleet, "kind-1")
    kubeconfig = member(fleet, "kind-2").outputs[LINK_OUTPUT]["kubeconfig"]
    [token] = JWT.findall(kubeconfig)
    remote = run.named("mesh-link-kind-2-in-kind-1")
    assert "stringData" in remote.secret_inputs and remote.inputs["stringData"]["kind-2"] == kubeconfig
    plain_inputs = {r.urn: {k: v for k, v in r.inputs.items() if k not in r.secret_inputs} for r in run.resources}
    plain_outputs = {k: v for k, v in run.outputs.items() if k not in run.secret_outputs}
    assert token not in json.dumps(plain_inputs) and token not in json.dumps(plain_outputs)


def three() -> ProgramFleet:
    fleet = ProgramFleet(n_existing(3), MESH)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    return fleet


def test_a_peer_without_a_stack_yet_is_skipped_and_linked_by_the_peers_pass(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fleet = ProgramFleet(n_existing(3), MESH)
    fleet.run(MESH, None)
    first = fleet.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))
    assert sorted(first.outputs[LINKED_PEERS_OUTPUT]) == [] and first.outputs["remoteSecrets"] == {"c1": []}
    skipped = [r.getMessage() for r in caplog.records if "has no link yet" in r.getMessage()]
    assert skipped == [
        f"istio-multicluster: peer {peer} ({member_stack(MESH, peer)}) has no link yet (its stack does not exist yet); "
        "skipped until a later run"
        for peer in ("c2", "c3")
    ]
    results = Driver(fleet, MESH, parallel=1).up()
    assert [(r.stack, r.step) for r in results if r.step is Step.PEERS] == [
        (member_stack(MESH, "c1"), Step.PEERS),
        (member_stack(MESH, "c2"), Step.PEERS),
    ]
    assert {c: sorted(member(fleet, c).outputs[LINKED_PEERS_OUTPUT]) for c in ("c1", "c2", "c3")} == {
        "c1": ["c2", "c3"], "c2": ["c1", "c3"], "c3": ["c1", "c2"],
    }  # fmt: skip


def test_adding_a_cluster_adds_exactly_its_remote_secret_to_every_other_member() -> None:
    fleet = three()
    before = {c: member(fleet, c) for c in ("c1", "c2", "c3")}
    fleet.mesh_config = n_existing(4)
    results = Driver(fleet, MESH, parallel=1).add("c4")
    assert all(r.outcome is Outcome.SUCCEEDED for r in results)
    for cluster, run in before.items():
        assert changes(run, member(fleet, cluster)) == Changes(create=frozenset({f"mesh-link-c4-in-{cluster}"}))
    # The mesh stack gains c4's intermediate, nothing else.
    assert sorted(member(fleet, "c4").outputs[LINKED_PEERS_OUTPUT]) == ["c1", "c2", "c3"]


def test_removing_a_cluster_deletes_exactly_its_remote_secret_from_every_other_member() -> None:
    fleet = three()
    before = {c: member(fleet, c) for c in ("c1", "c2")}
    fleet.mesh_config = n_existing(2)
    results = Driver(fleet, MESH, parallel=1).remove("c3")
    assert all(r.outcome is Outcome.SUCCEEDED for r in results)
    assert fleet.outputs(member_stack(MESH, "c3")) == {} and fleet.runs[member_stack(MESH, "c3")].resources == []
    for cluster, run in before.items():
        assert changes(run, member(fleet, cluster)) == Changes(delete=frozenset({f"mesh-link-c3-in-{cluster}"}))


def test_a_member_of_a_fleet_of_128_holds_one_remote_secret_per_peer() -> None:
    """O(N) per member: its own cluster's Istio and one remote secret per peer."""
    size = 128
    fleet = fleet_of(size, MESH)
    own = ProgramFleet(n_existing(2), MESH)
    own.run(MESH, None)
    alone = own.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))
    run = fleet.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))
    secrets = [r for r in run.of_type(SECRET) if r.name.startswith("mesh-link-c") and r.name.endswith("-in-c1")]
    assert len(secrets) == size - 1
    assert len([r for r in run.resources if r.operation != "read"]) == len([r for r in alone.resources if r.operation != "read"]) + size - 1


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"meshId": "other"},
            [("meshId", "fleet-member-config")],
        ),
        (
            {"fleetMember": {"meshStack": "kind-fleet", "cluster": "kind-1"}},
            [("fleetMember.meshStack", "qualified-stack")],
        ),
        (
            {"fleetMember": {"meshStack": MESH, "cluster": "Kind_1", "role": "x"}},
            [("fleetMember.role", "unknown-field"), ("fleetMember.cluster", "pattern")],
        ),
        (
            {"fleetMember": {"meshStack": MESH, "cluster": "kind-9"}},
            [("fleetMember.cluster", "fleet-not-member")],
        ),
        (
            {"fleetMember": {"meshStack": qualified("no-such-stack"), "cluster": "kind-1"}},
            [("fleetMember.meshStack", "fleet-mesh-missing")],
        ),
    ],
)
def test_a_member_stacks_bad_config_is_refused_naming_the_field(
    fleet: ProgramFleet, values: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    config = {**project_defaults(), "fleetMember": {"meshStack": MESH, "cluster": "kind-1"}, **values}
    mocks = MeshMocks()
    mocks.other_stacks = fleet.others()
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="kind-fleet-kind-1", mocks=mocks)
    assert [(p.path, p.code) for p in raised.value.problems] == expected
    assert mocks.monitor is not None and mocks.monitor.registered == []


def test_the_member_refusal_messages_say_what_to_do(fleet: ProgramFleet) -> None:
    mocks = MeshMocks()
    mocks.other_stacks = fleet.others()
    config = {**project_defaults(), "fleetMember": {"meshStack": MESH, "cluster": "kind-9"}, "meshId": "x"}
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="kind-fleet-kind-9", mocks=mocks)
    assert [str(p) for p in raised.value.problems] == [
        "meshId: is set in a member stack, whose config is its mesh stack's (fleetConfig); set it in the mesh stack, or remove it here"
    ]
    config = {**project_defaults(), "fleetMember": {"meshStack": MESH, "cluster": "kind-9"}}
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="kind-fleet-kind-9", mocks=mocks)
    assert [str(p) for p in raised.value.problems] == [
        "fleetMember.cluster: kind-9 is not in the mesh's clusters (kind-1, kind-2); add it there first"
    ]


def test_the_harness_answers_stack_references_with_secrets_kept_secret(fleet: ProgramFleet) -> None:
    """What a StackReference resource would read (the program reads with readStackOutputs instead,
    which keeps nothing in state); an unknown stack fails as the service fails it."""

    def program() -> None:
        reference = pulumi.StackReference("mesh", stack_name=MESH)
        pulumi.export("ca", reference.get_output(CA_OUTPUT))
        pulumi.export("members", reference.get_output(MEMBERS_OUTPUT))

    mocks = MeshMocks()
    mocks.other_stacks = fleet.others()
    run = run_program({}, program=program, mocks=mocks)
    assert run.outputs["members"] == ["kind-1", "kind-2"] and run.secret_outputs == {"ca"}
    with pytest.raises(Exception, match='unknown stack "organization/istio-multicluster/nowhere"'):
        run_program({}, program=missing_reference, mocks=MeshMocks())


def missing_reference() -> None:
    pulumi.StackReference("gone", stack_name=qualified("nowhere"))


def test_the_shipped_fleet_runs_and_its_member_files_are_what_the_driver_sets() -> None:
    mesh_config = {k: v for k, v in stack_config("kind-fleet").items() if k != "fleetMesh"}
    assert stack_config("kind-fleet")["fleetMesh"] is True
    fleet = ProgramFleet(mesh_config, MESH)
    mesh = qualified("kind-fleet")
    results = Driver(fleet, mesh, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    assert FLEET_MEMBER_STACKS == ("kind-fleet-kind-1", "kind-fleet-kind-2")
    for stack in FLEET_MEMBER_STACKS:
        cluster = stack.removeprefix("kind-fleet-")
        assert qualified(stack) == member_stack(mesh, cluster)
        # What the driver sets on the member stacks it makes, and what a remote run reads from the file.
        assert stack_config(stack) == {**project_defaults(), **{
            key.removeprefix("istio-multicluster:"): value for key, value in member_file(FleetMember(mesh, cluster))["config"].items()
        }}  # fmt: skip
        assert sorted(fleet.runs[qualified(stack)].outputs[LINKED_PEERS_OUTPUT]) == [c for c in ("kind-1", "kind-2") if c != cluster]


TOKEN_TYPE = "kubernetes.io/service-account-token"


def deleted_tokens_carried(fleet: ProgramFleet) -> list[str]:
    """Each remote secret whose token's Secret is gone from its source's cluster (the token died
    with it), as ``<source> in <holder>``."""
    gone: list[str] = []
    for stack, run in fleet.runs.items():
        for secret in (r for r in run.of_type(SECRET) if r.name.startswith("mesh-link-") and "-in-" in r.name):
            [(source, kubeconfig)] = secret.inputs["stringData"].items()
            tokens = {t.inputs["metadata"]["name"] for t in member(fleet, source).of_type(SECRET) if t.inputs.get("type") == TOKEN_TYPE}
            if token_secret_name(kubeconfig) not in tokens:
                gone.append(f"{source} in {stack.rsplit('-', 1)[1]}")
    return gone


def watched(fleet: ProgramFleet) -> list[list[str]]:
    """After every update the driver runs: the remote secrets that carry a deleted token."""
    seen: list[list[str]] = []
    up = fleet.up

    def up_and_look(stack: str, member: FleetMember | None, on_output: Callable[[str], None]) -> Mapping[str, int]:
        done = up(stack, member, on_output)
        seen.append(deleted_tokens_carried(fleet))
        return done

    fleet.up = up_and_look  # type: ignore[method-assign]
    return seen


def test_new_reader_tokens_reach_every_member_and_no_istiod_ever_holds_a_deleted_one() -> None:
    """Each member makes its new token in its own update, and its peers take the new link in
    theirs: the old token stays while a peer carries it, and goes in the member's next run."""
    fleet = three()
    fleet.mesh_config = {**n_existing(3), "readerTokenGeneration": 1}
    before = {c: member(fleet, c).outputs[LINK_OUTPUT]["digest"] for c in ("c1", "c2", "c3")}
    seen = watched(fleet)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results)
    assert seen and not [gone for gone in seen if gone]
    links = {c: member(fleet, c).outputs[LINK_OUTPUT]["digest"] for c in ("c1", "c2", "c3")}
    assert all(links[c] != before[c] for c in links)
    for cluster, link in links.items():
        run = member(fleet, cluster)
        assert run.outputs[LINKED_PEERS_OUTPUT] == {p: d for p, d in links.items() if p != cluster}
        # By the end of the up each cluster keeps its new token alone.
        tokens = [(t.name, t.inputs["metadata"]["name"]) for t in run.of_type(SECRET) if t.inputs.get("type") == TOKEN_TYPE]
        assert tokens == [(f"mesh-link-{cluster}-reader-token-1", "istio-reader-service-account-istio-remote-secret-token-1")]
        assert run.outputs[TOKENS_OUTPUT] == {"1": link}
    # c1 and c2 take their peers' new links; c3, which took them in the members pass, runs once
    # its peers moved, to delete its old token.
    assert [r.stack.rsplit("-", 1)[1] for r in results if r.step is Step.PEERS] == ["c1", "c2", "c3"]


def test_a_member_keeps_its_old_token_while_a_peer_carries_it() -> None:
    fleet = three()
    fleet.mesh_config = {**n_existing(3), "readerTokenGeneration": 1}
    fleet.run(MESH, None)
    c1 = fleet.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))
    names = sorted((t.name, t.operation) for t in c1.of_type(SECRET) if t.inputs.get("type") == TOKEN_TYPE)
    # Each generation its own resource: nothing is replaced, the old one is left as it was.
    assert names == [("mesh-link-c1-reader-token", "same"), ("mesh-link-c1-reader-token-1", "create")]
    assert sorted(c1.outputs[TOKENS_OUTPUT]) == ["0", "1"] and deleted_tokens_carried(fleet) == []


def test_the_exported_config_is_a_secret_when_a_key_in_it_is_one() -> None:
    run = run_program({**n_existing(2), "fleetMesh": True, "meshId": "hidden"}, stack="kind-fleet", secret_keys=["meshId"])
    assert CONFIG_OUTPUT in run.secret_outputs and run.outputs[CONFIG_OUTPUT]["meshId"] == "hidden"
    plain = run_program({**n_existing(2), "fleetMesh": True}, stack="kind-fleet")
    assert CONFIG_OUTPUT not in plain.secret_outputs


@pytest.mark.parametrize(
    ("peer", "reason"),
    [
        (OtherStack(failure="403 Forbidden: the deployer may not read stack"), "403 Forbidden: the deployer may not read stack"),
        (OtherStack({LINK_OUTPUT: {}}, {LINK_OUTPUT}), "its kubeconfig is missing or could not be decrypted"),
    ],
)
def test_a_peer_that_exists_but_cannot_be_read_stops_the_update(fleet: ProgramFleet, peer: OtherStack, reason: str) -> None:
    """Skipping it would delete its remote secret from a running mesh: only a stack the engine calls
    unknown is skipped."""
    mocks = MeshMocks()
    mocks.other_stacks = {**fleet.others(), member_stack(MESH, "kind-2"): peer}
    config = {**project_defaults(), "fleetMember": {"meshStack": MESH, "cluster": "kind-1"}}
    with pytest.raises(pulumi.RunError) as raised:
        run_program(config, stack="kind-fleet-kind-1", mocks=mocks, state=member(fleet, "kind-1").state())
    assert "peer kind-2's" in str(raised.value) and f"{reason}; nothing was changed" in str(raised.value)
    assert mocks.monitor is not None and mocks.monitor.registered == []


def test_a_cluster_named_in_digits_reaches_its_member_as_the_driver_sets_it() -> None:
    """The CLI stores a ``--path`` value that reads as an integer as one (pulumi/pulumi#17586), so
    the driver sets ``fleetMember`` whole as JSON text; the program reads that text as the object."""
    config = n_existing(2)
    config["clusters"][0]["name"] = "123"
    fleet = ProgramFleet(config, MESH)
    fleet.run(MESH, None)
    [(key, value)] = member_config(FleetMember(MESH, "123")).items()
    assert (key, json.loads(value.value)) == ("istio-multicluster:fleetMember", {"meshStack": MESH, "cluster": "123"})
    mocks = MeshMocks()
    mocks.other_stacks = fleet.others()
    run = run_program({**project_defaults(), "fleetMember": value.value}, stack="kind-fleet-123", mocks=mocks)
    assert run.outputs["fleetMember"] == {"meshStack": MESH, "cluster": "123"}
    cluster_names = {r.inputs["values"]["global"]["multiCluster"]["clusterName"] for r in run.resources if "-istiod-" in r.name}
    assert cluster_names == {"123"}


PRIMARY_REMOTE = {
    **KIND,
    "topology": "primary-remote",
    "clusters": [
        existing_cluster("p1", "n1"),
        {**existing_cluster("r1", "n2"), "role": "remote", "primary": "p1"},
        existing_cluster("p2", "n3"),
        {**existing_cluster("r2", "n4"), "role": "remote", "primary": "p2"},
    ],
}


@pytest.fixture(scope="module")
def primary_remote() -> tuple[ProgramFleet, list[StackResult]]:
    fleet = ProgramFleet(copy.deepcopy(PRIMARY_REMOTE), MESH)
    return fleet, Driver(fleet, MESH, parallel=1).up()


def test_a_primary_remote_fleet_makes_what_one_stack_makes(primary_remote: tuple[ProgramFleet, list[StackResult]]) -> None:
    fleet, results = primary_remote
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    alone = run_program(copy.deepcopy(PRIMARY_REMOTE))
    single, together = made([alone]), made(list(fleet.runs.values()))
    assert sorted(together) == sorted(single)
    for key, resource in single.items():
        assert without_key_material(together[key].inputs) == without_key_material(resource.inputs), key
        assert together[key].secret_inputs == resource.secret_inputs, key
    # Remotes hold no remote secrets; each primary holds every other cluster's.
    held = {c: sorted(member(fleet, c).outputs["remoteSecrets"][c]) for c in ("p1", "r1", "p2", "r2")}
    assert held == {c: sorted(names) for c, names in alone.outputs["remoteSecrets"].items()}
    assert held["r1"] == held["r2"] == [] and held["p1"] == ["istio-remote-secret-p2", "istio-remote-secret-r1", "istio-remote-secret-r2"]
    assert member(fleet, "r1").outputs[LINKED_PEERS_OUTPUT] == {} and AWAITING_OUTPUT not in member(fleet, "r1").outputs


def test_primaries_run_first_and_remotes_build_gateways_once_their_primary_links_them(
    primary_remote: tuple[ProgramFleet, list[StackResult]],
) -> None:
    _, results = primary_remote
    assert [(r.stack.rsplit("-", 1)[1], r.step) for r in results] == [
        ("fleet", Step.MESH),
        ("p1", Step.MEMBERS),
        ("p2", Step.MEMBERS),
        ("r1", Step.MEMBERS),
        ("r2", Step.MEMBERS),
        # p1 ran before p2 and both before the remotes: each gains what it missed.
        ("p1", Step.PEERS),
        ("p2", Step.PEERS),
        ("r1", Step.GATEWAYS),
        ("r2", Step.GATEWAYS),
    ]


def test_a_remote_waits_for_its_primarys_link_before_its_gateways(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    fleet = ProgramFleet(copy.deepcopy(PRIMARY_REMOTE), MESH)
    fleet.run(MESH, None)
    fleet.run(member_stack(MESH, "p1"), FleetMember(MESH, "p1"))
    first = fleet.run(member_stack(MESH, "r1"), FleetMember(MESH, "r1"))
    assert first.outputs[AWAITING_OUTPUT] == "p1"
    assert not [r for r in first.resources if r.name.startswith("r1-istio-") and r.name.endswith(("gateways", "eastwest", "ingress"))]
    assert "istio-multicluster: r1's gateways wait until its primary p1 holds its link" in caplog.text
    fleet.run(member_stack(MESH, "p1"), FleetMember(MESH, "p1"))
    second = fleet.run(member_stack(MESH, "r1"), FleetMember(MESH, "r1"))
    assert AWAITING_OUTPUT not in second.outputs
    # The gateways, and nothing else changes.
    gateways = {"r1-istio-gateways", "r1-istio-eastwest", "r1-istio-ingress", "r1-istio-istio-ingress"}
    assert changes(first, second) == Changes(create=frozenset(gateways))


def test_a_remote_before_its_primary_stops_before_any_resource() -> None:
    fleet = ProgramFleet(copy.deepcopy(PRIMARY_REMOTE), MESH)
    fleet.run(MESH, None)
    with pytest.raises(Exception, match=re.escape(
        f"istio-multicluster: primary p1's stack ({member_stack(MESH, 'p1')}) has not exported its east-west address "
        "(fleetPrimary) yet; nothing was changed. Run it first (python -m fleet up runs primaries before their remotes)"
    )):  # fmt: skip
        fleet.run(member_stack(MESH, "r1"), FleetMember(MESH, "r1"))


def settled(config: dict[str, Any]) -> tuple[ProgramFleet, list[StackResult]]:
    fleet = ProgramFleet(copy.deepcopy(config), MESH)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
    return fleet, results


def assert_same_as_one_stack(fleet: ProgramFleet, config: dict[str, Any]) -> None:
    alone = run_program(copy.deepcopy(config))
    single, together = made([alone]), made(list(fleet.runs.values()))
    assert sorted(together) == sorted(single)
    for key, resource in single.items():
        assert without_key_material(together[key].inputs) == without_key_material(resource.inputs), key


@pytest.mark.parametrize(
    "config", [{**n_existing(3), **KIND, "verify": True}, {**PRIMARY_REMOTE, "verify": True}], ids=["multi-primary", "primary-remote"]
)
def test_a_verified_fleet_settles_on_the_check_one_stack_makes(config: dict[str, Any]) -> None:
    """Each member's probe reaches the clusters it can when it runs; by the end of the up every
    probe reaches every cluster, with the Jobs, Services and paths one stack makes."""
    fleet, _ = settled(config)
    assert_same_as_one_stack(fleet, config)
    names = [c["name"] for c in config["clusters"]]
    assert {c: member(fleet, c).outputs[CHECK_OUTPUT] for c in names} == {c: names for c in names}


def test_a_members_probe_grows_as_the_fleet_settles() -> None:
    fleet, results = settled({**PRIMARY_REMOTE, "verify": True})
    assert [(r.stack.rsplit("-", 1)[1], r.step) for r in results if r.step in (Step.GATEWAYS, Step.CHECKS)] == [
        ("r1", Step.GATEWAYS), ("r2", Step.GATEWAYS), ("p1", Step.CHECKS), ("r1", Step.CHECKS), ("p2", Step.CHECKS),
    ]  # fmt: skip
    # Run alone after the mesh and p1, p2 probes p1 and itself: r1 and r2 run no workloads yet.
    fleet = ProgramFleet(copy.deepcopy({**PRIMARY_REMOTE, "verify": True}), MESH)
    fleet.run(MESH, None)
    fleet.run(member_stack(MESH, "p1"), FleetMember(MESH, "p1"))
    p2 = fleet.run(member_stack(MESH, "p2"), FleetMember(MESH, "p2"))
    assert p2.outputs[CHECK_OUTPUT] == ["p1", "p2"]
    job = next(r for r in p2.resources if r.type == "kubernetes:batch/v1:Job")
    assert "p1 p2" in job.inputs["spec"]["template"]["spec"]["containers"][0]["command"][2]
    # p1 ran before p2 existed; run again it reaches p2, and its Job is replaced (pulumi-kubernetes
    # replaces a Job whose .spec.template changes), so the probe runs again.
    p1_before = fleet.runs[member_stack(MESH, "p1")]
    p1_after = fleet.run(member_stack(MESH, "p1"), FleetMember(MESH, "p1"))
    assert (p1_before.outputs[CHECK_OUTPUT], p1_after.outputs[CHECK_OUTPUT]) == (["p1"], ["p1", "p2"])
    assert "mesh-check-p1-probe" in changes(p1_before, p1_after).replace
    # A remote whose gateways wait runs no check either: its pods would find no injector.
    r1 = fleet.run(member_stack(MESH, "r1"), FleetMember(MESH, "r1"))
    assert CHECK_OUTPUT not in r1.outputs and not [r for r in r1.resources if r.type == "kubernetes:batch/v1:Job"]


def rotating(stage: str) -> dict[str, Any]:
    return {**n_existing(2), "caRotation": {"newRoot": "root-2", "stage": stage}}


def delivered(fleet: ProgramFleet) -> dict[str, tuple[list[str], str]]:
    """The roots and signer each member's cluster holds, by its marker."""
    return {c: (member(fleet, c).outputs["caRoots"]["roots"], member(fleet, c).outputs["caRoots"]["signer"]) for c in ("c1", "c2")}


def test_a_fleet_rotates_its_root_stage_by_stage() -> None:
    fleet, _ = settled(n_existing(2))
    for stage, roots, signer in (
        ("trust", ["root", "root-2"], "root"),
        ("issue", ["root", "root-2"], "root-2"),
        ("retire", ["root-2"], "root-2"),
    ):
        fleet.age(24)
        fleet.mesh_config = rotating(stage)
        results = Driver(fleet, MESH, parallel=1).up()
        assert all(r.outcome is Outcome.SUCCEEDED for r in results), [r.message for r in results]
        assert delivered(fleet) == {"c1": (roots, signer), "c2": (roots, signer)}
    # Each member's istiod signs with an intermediate of the new root, which its bundle holds.
    root = x509.load_pem_x509_certificate(fleet.runs[MESH].outputs["rootCertPem"].encode())
    for cluster in ("c1", "c2"):
        cacerts = member(fleet, cluster).named(f"{cluster}-istio-cacerts").inputs["stringData"]
        x509.load_pem_x509_certificate(cacerts["ca-cert.pem"].encode()).verify_directly_issued_by(root)
        assert cacerts["root-cert.pem"] == fleet.runs[MESH].outputs["rootCertPem"]


def test_the_next_stage_waits_until_every_members_cluster_has_the_last() -> None:
    fleet, _ = settled(n_existing(2))
    fleet.mesh_config = rotating("trust")
    fleet.run(MESH, None)
    fleet.run(member_stack(MESH, "c1"), FleetMember(MESH, "c1"))
    fleet.age(48)
    fleet.mesh_config = rotating("issue")
    with pytest.raises(ConfigError) as raised:
        fleet.run(MESH, None)
    assert [str(p) for p in raised.value.problems] == [
        "caRotation.stage: changes the roots or the signer, but the last change (stage trust of root root-2) has not reached "
        "the clusters of member stacks c2 yet; put the config back to that change, run python -m fleet up (the mesh stack "
        "refuses this change before any member runs; the up delivers the last change to every member), then make this "
        "change again"
    ]
    fleet.mesh_config = rotating("trust")
    fleet.run(member_stack(MESH, "c2"), FleetMember(MESH, "c2"))
    # c2 got the roots just now: the wait runs from the member that got them last.
    fleet.mesh_config = rotating("issue")
    with pytest.raises(ConfigError) as waited:
        fleet.run(MESH, None)
    assert [p.code for p in waited.value.problems] == ["ca-rotation-wait"]
    fleet.age(24)
    assert fleet.run(MESH, None).outputs["caRoots"]["signer"] == "root-2"


def test_a_preview_of_a_settled_fleet_changes_nothing_and_says_when_the_mesh_config_moved_on() -> None:
    fleet, _ = settled(n_existing(2))
    quiet = Driver(fleet, MESH, parallel=1).preview()
    assert [(r.stack.rsplit("/", 1)[1], r.outcome, r.changes, r.message) for r in quiet] == [
        (name, Outcome.SUCCEEDED, {"create": 0, "update": 0, "replace": 0, "delete": 0}, "")
        for name in ("kind-fleet", "kind-fleet-c1", "kind-fleet-c2")
    ]
    # A member setting changed in the mesh's config: members preview against the mesh's last update.
    fleet.mesh_config = {**n_existing(2), "accessLog": True}
    moved = Driver(fleet, MESH, parallel=1).preview()
    assert [r.message for r in moved[1:]] == [
        "against the mesh stack's last update; its config changed since, and this member changes with it on up"
    ] * 2
    Driver(fleet, MESH, parallel=1).up()
    assert all(not r.message for r in Driver(fleet, MESH, parallel=1).preview())


# One primary: nobody discovers it, so it exports no link of its own, yet holds its remotes'.
SINGLE_PRIMARY = {
    **KIND,
    "topology": "primary-remote",
    "clusters": [
        existing_cluster("p1", "n1"),
        {**existing_cluster("r1", "n2"), "role": "remote", "primary": "p1"},
        {**existing_cluster("r2", "n3"), "role": "remote", "primary": "p1"},
    ],
}


def holds(fleet: ProgramFleet, cluster: str) -> dict[str, str]:
    return dict(member(fleet, cluster).outputs[LINKED_PEERS_OUTPUT])


def link_of(fleet: ProgramFleet, cluster: str) -> str:
    return str(member(fleet, cluster).outputs[LINK_OUTPUT]["digest"])


def test_a_single_primary_fleet_settles_in_one_up() -> None:
    fleet, results = settled(SINGLE_PRIMARY)
    assert LINK_OUTPUT not in member(fleet, "p1").outputs
    assert [(r.stack.rsplit("-", 1)[1], r.step) for r in results if r.step in (Step.PEERS, Step.GATEWAYS)] == [
        ("p1", Step.PEERS), ("r1", Step.GATEWAYS), ("r2", Step.GATEWAYS),
    ]  # fmt: skip
    assert holds(fleet, "p1") == {"r1": link_of(fleet, "r1"), "r2": link_of(fleet, "r2")}
    assert all(AWAITING_OUTPUT not in member(fleet, r).outputs for r in ("r1", "r2"))
    assert_same_as_one_stack(fleet, SINGLE_PRIMARY)


def test_a_single_primary_takes_its_remotes_new_tokens_and_drops_a_removed_remote() -> None:
    fleet, _ = settled(SINGLE_PRIMARY)
    fleet.mesh_config = {**copy.deepcopy(SINGLE_PRIMARY), "readerTokenGeneration": 1}
    before = holds(fleet, "p1")
    assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).up())
    assert holds(fleet, "p1") == {"r1": link_of(fleet, "r1"), "r2": link_of(fleet, "r2")} != before
    fleet.mesh_config["clusters"] = [c for c in fleet.mesh_config["clusters"] if c["name"] != "r2"]
    assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).remove("r2"))
    assert sorted(holds(fleet, "p1")) == ["r1"] and member(fleet, "p1").outputs["remoteSecrets"] == {"p1": ["istio-remote-secret-r1"]}


def test_a_second_primary_added_to_a_single_primary_fleet_links_both_ways() -> None:
    fleet, _ = settled(SINGLE_PRIMARY)
    fleet.mesh_config = copy.deepcopy(SINGLE_PRIMARY)
    fleet.mesh_config["clusters"].append(existing_cluster("p2", "n4"))
    assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).add("p2"))
    assert sorted(holds(fleet, "p1")) == ["p2", "r1", "r2"] and sorted(holds(fleet, "p2")) == ["p1", "r1", "r2"]
    assert holds(fleet, "p2")["p1"] == link_of(fleet, "p1")


def test_a_config_change_made_with_an_add_reaches_the_remotes_too() -> None:
    """The peers pass runs the members whose links change; a remote's never do. Each member
    exports the digest of the mesh config it applied, and one behind runs again."""
    fleet, _ = settled(SINGLE_PRIMARY)
    fleet.mesh_config = {**copy.deepcopy(SINGLE_PRIMARY), "istiodValues": {"global": {"logAsJson": True}}}
    fleet.mesh_config["clusters"].append(existing_cluster("p2", "n4"))
    results = Driver(fleet, MESH, parallel=1).add("p2")
    assert all(r.outcome is Outcome.SUCCEEDED for r in results)
    # Mesh-wide istiod values go on every cluster's istiod release, a remote's too.
    for cluster in ("p1", "p2", "r1", "r2"):
        values = member(fleet, cluster).named(f"{cluster}-istio-istiod-1-30-3").inputs["values"]
        assert values["global"]["logAsJson"] is True, cluster
        assert member(fleet, cluster).outputs[CONFIG_DIGEST_OUTPUT] == config_digest(fleet.runs[MESH].outputs[CONFIG_OUTPUT])


@pytest.mark.parametrize("config", [PRIMARY_REMOTE, SINGLE_PRIMARY], ids=["two-primaries", "one-primary"])
def test_a_primary_remote_fleet_rotates_its_tokens_without_a_deleted_one_carried(config: dict[str, Any]) -> None:
    """A remote's token is carried by every primary that discovers it, not only its own primary:
    the remote reads each of them before it lets an old token go."""
    fleet, _ = settled(config)
    fleet.mesh_config = {**copy.deepcopy(config), "readerTokenGeneration": 1}
    seen = watched(fleet)
    results = Driver(fleet, MESH, parallel=1).up()
    assert all(r.outcome is Outcome.SUCCEEDED for r in results) and not [gone for gone in seen if gone]
    # Every cluster another discovers keeps its new token alone; the others (the only primary) none.
    spec = parse(config)
    for cluster in (c["name"] for c in config["clusters"]):
        run = member(fleet, cluster)
        tokens = [t.inputs["metadata"]["name"] for t in run.of_type(SECRET) if t.inputs.get("type") == TOKEN_TYPE]
        assert tokens == (["istio-reader-service-account-istio-remote-secret-token-1"] if spec.discovered(cluster) else []), cluster
    assert deleted_tokens_carried(fleet) == []


def test_a_remote_keeps_its_old_token_while_another_primary_than_its_own_carries_it() -> None:
    fleet, _ = settled(PRIMARY_REMOTE)
    fleet.mesh_config = {**copy.deepcopy(PRIMARY_REMOTE), "readerTokenGeneration": 1}
    fleet.run(MESH, None)
    for cluster in ("r1", "p1", "r1"):
        fleet.run(member_stack(MESH, cluster), FleetMember(MESH, cluster))
    # p1 took r1's new link; p2 has not run yet and carries the old one, which r1 keeps.
    assert deleted_tokens_carried(fleet) == [] and sorted(member(fleet, "r1").outputs[TOKENS_OUTPUT]) == ["0", "1"]


def test_the_mesh_stack_plans_the_older_token_generations_it_applied_and_refuses_their_collisions() -> None:
    """A member keeps an older generation's token (its own resource) while a peer holds it, so the
    mesh stack plans the names of every generation it applied (exported as fleetTokenGenerations,
    read back on its next update), not only the current one. The plan is checked mesh-wide, as one
    stack's is: generation 1's token of cluster x-in-y would bear the name of x's remote secret in
    y-reader-token-1."""
    fleet = ProgramFleet({"clusters": [existing_cluster("x", "network1"), existing_cluster("y-reader-token-1", "network2")]}, MESH)
    for generation in (1, 2):
        fleet.mesh_config = {**copy.deepcopy(fleet.mesh_config), "readerTokenGeneration": generation}
        assert all(r.outcome is Outcome.SUCCEEDED for r in Driver(fleet, MESH, parallel=1).up())
    assert fleet.runs[MESH].outputs["fleetTokenGenerations"] == [1, 2]
    fleet.mesh_config["clusters"].append(existing_cluster("x-in-y", "network3"))
    [refused] = Driver(fleet, MESH, parallel=1).add("x-in-y")
    assert (refused.stack, refused.outcome) == (MESH, Outcome.FAILED)
    assert refused.message == (
        "- clusters[1].name (cluster y-reader-token-1): kubernetes Secret mesh-link-x-in-y-reader-token-1 would be registered "
        "twice, for cluster x-in-y's reader token 1 and for the remote secret of cluster x in cluster y-reader-token-1; Pulumi "
        "refuses the second after creating everything before it: rename one of clusters[0].name, clusters[1].name or "
        "clusters[2].name"
    )
