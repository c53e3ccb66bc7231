"""The fleet driver's plan against a fake workspace that holds the CLI's and the clouds' rules
(tests/harness/fleet.py): order, passes, bounded parallelism, what re-runs after an add or a
remove, one stack's failure stopping no other, and resuming by running again."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml

from components.fleet.contract import CONFIG_OUTPUT, LINKED_PEERS_OUTPUT, FleetMember, behind_mesh, config_digest, member_stack
from fleet import __main__ as fleet_cli
from fleet import driver as driver_module
from fleet.driver import PEER_ROUNDS, Driver, Outcome, StackResult, Step, exit_code, summary
from fleet.files import file_config, member_files
from fleet.files import member_config as member_file
from fleet.workspace import ROOT, LocalWorkspace, RemoteWorkspace, auto
from tests.harness.fleet import ConcurrentUpdate, FakeFleet, FakeStack, StackFailed

MESH = "acme/istio-multicluster/fleet"


def fleet(*clusters: str, **kwargs: object) -> FakeFleet:
    return FakeFleet(MESH, list(clusters), **kwargs)  # type: ignore[arg-type]


def stack(cluster: str) -> str:
    return member_stack(MESH, cluster)


def running(*clusters: str) -> FakeFleet:
    """A fleet of ``clusters`` after its first ``up``, its log cleared."""
    fake = fleet(*clusters)
    Driver(fake, MESH).up()
    fake.log.clear()
    return fake


def steps(results: list[StackResult]) -> list[tuple[str, Step, str, Outcome]]:
    return [(r.stack.rsplit("/", 1)[1], r.step, r.operation, r.outcome) for r in results]


def linked(fake: FakeFleet, cluster: str) -> list[str]:
    return sorted(fake.outputs(stack(cluster))[LINKED_PEERS_OUTPUT])


def test_up_runs_the_mesh_then_the_members_then_those_that_missed_a_peer() -> None:
    fake = fleet("a", "b", "c")
    results = Driver(fake, MESH, parallel=1).up()
    # One at a time, each member links the peers that finished before it: a none, b a.
    assert steps(results) == [
        ("fleet", Step.MESH, "up", Outcome.SUCCEEDED),
        ("fleet-a", Step.MEMBERS, "up", Outcome.SUCCEEDED),
        ("fleet-b", Step.MEMBERS, "up", Outcome.SUCCEEDED),
        ("fleet-c", Step.MEMBERS, "up", Outcome.SUCCEEDED),
        ("fleet-a", Step.PEERS, "up", Outcome.SUCCEEDED),
        ("fleet-b", Step.PEERS, "up", Outcome.SUCCEEDED),
    ]
    assert {c: linked(fake, c) for c in "abc"} == {"a": ["b", "c"], "b": ["a", "c"], "c": ["a", "b"]}
    assert [r.changes for r in results if r.step is Step.PEERS] == [
        {"create": 2, "delete": 0, "same": 2},
        {"create": 1, "delete": 0, "same": 3},
    ]
    assert exit_code(results) == 0


def test_members_run_side_by_side_at_most_parallel_at_once() -> None:
    clusters = [f"c{i}" for i in range(12)]
    fake = fleet(*clusters, seconds=0.05)
    results = Driver(fake, MESH, parallel=4).up()
    assert fake.most_at_once == 4
    assert exit_code(results) == 0
    assert all(linked(fake, c) == sorted(set(clusters) - {c}) for c in clusters)


def test_a_second_up_of_an_unchanged_fleet_has_no_peers_pass() -> None:
    fake = fleet("a", "b")
    Driver(fake, MESH).up()
    again = Driver(fake, MESH).up()
    assert [s[:2] for s in steps(again)] == [("fleet", Step.MESH), ("fleet-a", Step.MEMBERS), ("fleet-b", Step.MEMBERS)]
    assert all(r.changes.get("create") == 0 and r.changes.get("delete") == 0 for r in again)


def test_a_failing_member_stops_no_other_and_the_next_up_resumes() -> None:
    fake = fleet("a", "b", "c", failing={stack("b"): "error: creating EKS Cluster: ResourceLimitExceeded"})
    results = Driver(fake, MESH, parallel=1).up()
    assert ("fleet-b", Step.MEMBERS, "up", Outcome.FAILED) in steps(results)
    assert next(r.message for r in results if r.outcome is Outcome.FAILED) == "error: creating EKS Cluster: ResourceLimitExceeded"
    # The failed member is in no peers pass, and no one links it.
    assert ("fleet-b", Step.PEERS) not in [s[:2] for s in steps(results)]
    assert (linked(fake, "a"), linked(fake, "c")) == (["c"], ["a"])
    assert exit_code(results) == 1
    resumed = Driver(fake, MESH, parallel=1).up()
    # In order: a runs before b exports its link, so only a needs the peers pass; c, after b, links it at once.
    assert [s[0] for s in steps(resumed) if s[1] is Step.PEERS] == ["fleet-a"]
    # Each running member gains exactly the resumed one's remote secret, in one of its updates.
    gained = {r.stack: r.changes for r in resumed if r.stack in (stack("a"), stack("c"))}
    assert gained == {stack(c): {"create": 1, "delete": 0, "same": 3} for c in "ac"}
    assert {c: linked(fake, c) for c in "abc"} == {"a": ["b", "c"], "b": ["a", "c"], "c": ["a", "b"]}
    assert exit_code(resumed) == 0


def test_a_failing_mesh_stack_runs_no_member() -> None:
    fake = fleet("a", "b", failing={MESH: "error: the stack config has 1 problem"})
    results = Driver(fake, MESH).up()
    assert steps(results) == [("fleet", Step.MESH, "up", Outcome.FAILED)]
    assert fake.log == [("up", MESH)]


def test_add_runs_the_mesh_the_new_member_and_gives_every_other_one_remote_secret() -> None:
    fake = running("a", "b", "c")
    fake.membership.append("d")
    results = Driver(fake, MESH).add("d")
    assert fake.log[:2] == [("up", MESH), ("up", stack("d"))]
    assert sorted(s[0] for s in steps(results) if s[1] is Step.PEERS) == ["fleet-a", "fleet-b", "fleet-c"]
    assert all(r.changes == {"create": 1, "delete": 0, "same": 4} for r in results if r.step is Step.PEERS)
    assert linked(fake, "d") == ["a", "b", "c"]


def applied(fake: FakeFleet) -> dict[str, bool]:
    """Whether each member's last update applied the config the mesh stack exports now."""
    mesh = fake.outputs(MESH)
    return {s.rsplit("-", 1)[1]: not behind_mesh(fake.outputs(s), mesh) for s in sorted(fake.stacks) if s != MESH and fake.outputs(s)}


def test_add_with_a_config_change_runs_every_member_behind_the_mesh_once() -> None:
    """A remote's links never change, so the peers pass alone would leave it on the old config."""
    fake = primary_remote()
    Driver(fake, MESH).up()
    fake.log.clear()
    fake.membership.append("p3")
    fake.settings["accessLog"] = "true"
    results = Driver(fake, MESH).add("p3")
    assert applied(fake) == dict.fromkeys(["p1", "p2", "p3", "r1", "r2"], True)
    ran = sorted(s[0] for s in steps(results) if s[1] is Step.PEERS)
    assert ran == ["fleet-p1", "fleet-p2", "fleet-r1", "fleet-r2"]
    assert all(r.outcome is Outcome.SUCCEEDED for r in results)


def test_add_alone_runs_the_remotes_again_and_they_change_nothing() -> None:
    """The membership is part of the config every member parses (a peer's network and role are
    read from it), so a remote applies the new one; nothing of a remote depends on p3."""
    fake = primary_remote()
    Driver(fake, MESH).up()
    fake.membership.append("p3")
    results = Driver(fake, MESH).add("p3")
    peers = {s.stack.rsplit("-", 1)[1]: s.changes for s in results if s.step is Step.PEERS}
    assert peers == {
        "p1": {"create": 1, "delete": 0, "same": 5},
        "p2": {"create": 1, "delete": 0, "same": 5},
        "r1": {"create": 0, "delete": 0, "same": 3},
        "r2": {"create": 0, "delete": 0, "same": 3},
    }
    assert applied(fake) == dict.fromkeys(["p1", "p2", "p3", "r1", "r2"], True)


def test_remove_with_a_config_change_runs_every_member_behind_the_mesh_once() -> None:
    fake = primary_remote()
    fake.membership.append("p3")
    Driver(fake, MESH).up()
    fake.membership.remove("p3")
    fake.settings["accessLog"] = "true"
    results = Driver(fake, MESH).remove("p3")
    assert sorted(s[0] for s in steps(results) if s[1] is Step.PEERS) == ["fleet-p1", "fleet-p2", "fleet-r1", "fleet-r2"]
    assert applied(fake) == dict.fromkeys(["p1", "p2", "r1", "r2"], True)


def test_a_member_that_exported_no_config_digest_is_behind() -> None:
    """A member last updated by a program that did not export it yet: run again, not trusted."""
    fake = running("a", "b")
    del fake.stacks[stack("a")].outputs["fleetConfigDigest"]
    results = Driver(fake, MESH).up()
    assert applied(fake) == {"a": True, "b": True} and not [r for r in results if r.step is Step.PEERS]
    del fake.stacks[stack("a")].outputs["fleetConfigDigest"]
    assert behind_mesh(fake.outputs(stack("a")), fake.outputs(MESH)) and not behind_mesh(fake.outputs(stack("a")), {})


def test_the_config_digest_reads_a_whole_float_as_the_integer() -> None:
    """The engine's stack read gives the member numbers as floats; the driver reads the CLI's JSON."""
    as_read = {"clusters": [{"name": "a", "nodes": 3.0}], "x": 1.5}
    assert config_digest(as_read) == config_digest({"x": 1.5, "clusters": [{"name": "a", "nodes": 3}]})
    assert config_digest({"n": 3}) != config_digest({"n": 4}) and config_digest({"n": "3"}) != config_digest({"n": 3})


def test_add_refuses_a_cluster_the_mesh_does_not_list() -> None:
    fake = running("a", "b")
    with pytest.raises(ValueError, match="cluster z is not in the mesh stack's clusters \\(a, b\\); add it there first"):
        Driver(fake, MESH).add("z")
    # Refused before the mesh ran, so nothing is lost from the summary.
    assert fake.log == []


@pytest.mark.parametrize("command", ["up", "destroy", "add", "remove"])
def test_a_mesh_stack_that_is_no_fleets_is_refused_before_anything_runs(command: str) -> None:
    """``--mesh kind`` names a whole mesh's stack: up would build it, destroy take it down."""
    fake = running("a", "b")
    fake.fleet_mesh = False
    with pytest.raises(ValueError, match=f"^{MESH} is not a fleet's mesh stack: its config does not set fleetMesh: true"):
        getattr(Driver(fake, MESH), command)(*(["b"] if command in ("add", "remove") else []))
    assert fake.log == [] and all(s.resources for s in fake.stacks.values())


def test_a_stack_that_bears_a_members_name_but_is_another_meshs_is_left_alone() -> None:
    """Mesh ``fleet`` and cluster ``ambient`` make ``fleet-ambient``, which may be a whole mesh's
    stack of the same project: neither up nor destroy may touch it."""
    fake = fleet("a", "ambient")
    other = {"clusters": '[{"name": "x"}]', "meshId": "other"}
    fake.foreign(stack("ambient"), other, {"rootCertPem": "...", "remoteSecrets": {}})
    results = Driver(fake, MESH).up()
    refused = next(r for r in results if r.stack == stack("ambient"))
    assert (refused.outcome, refused.message) == (
        Outcome.FAILED,
        f"{stack('ambient')} is not this fleet's member stack, left as it is: "
        "its config lists clusters: it is another mesh's stack that bears this member's name",
    )
    assert ("up", stack("ambient")) not in fake.log and exit_code(results) == 1
    assert fake.outputs(stack("a"))[LINKED_PEERS_OUTPUT] == {}
    fake.log.clear()
    destroyed = Driver(fake, MESH).destroy()
    assert ("destroy", stack("ambient")) not in fake.log and fake.stacks[stack("ambient")].resources
    assert destroyed[-1].outcome is Outcome.SKIPPED and fake.stacks[MESH].resources


@pytest.mark.parametrize(
    ("config", "outputs", "why"),
    [
        (
            {"fleetMember": '{"meshStack": "acme/istio-multicluster/fleet-eu", "cluster": "1"}'},
            {},
            "its config's fleetMember names cluster 1 of acme/istio-multicluster/fleet-eu, not cluster eu-1 of " + MESH,
        ),
        (
            {},
            {"rootCertPem": "..."},
            "its resources are those of no fleet member (another stack of this project), not cluster eu-1 of " + MESH,
        ),
        (
            {},
            {"fleetMember": {"meshStack": "acme/istio-multicluster/fleet-eu", "cluster": "1"}},
            "its resources are those of cluster 1 of acme/istio-multicluster/fleet-eu, not cluster eu-1 of " + MESH,
        ),
    ],
)
def test_another_fleets_member_of_the_same_name_is_left_alone(config: dict[str, str], outputs: dict[str, object], why: str) -> None:
    """Mesh ``fleet`` + cluster ``eu-1`` and mesh ``fleet-eu`` + cluster ``1`` both make ``fleet-eu-1``."""
    fake = fleet("a", "eu-1")
    fake.foreign(stack("eu-1"), config, outputs)
    results = Driver(fake, MESH).up()
    assert next(r.message for r in results if r.stack == stack("eu-1")).endswith(why)
    assert ("up", stack("eu-1")) not in fake.log


def test_destroy_finds_members_in_the_mesh_config_when_the_mesh_exports_none() -> None:
    """A mesh stack destroyed by hand (with existing clusters it holds only the CA, so nothing
    stops it) exports no membership, but its config still lists the members that stand."""
    fake = running("a", "b")
    fake.stacks[MESH] = FakeStack()
    results = Driver(fake, MESH).destroy()
    assert sorted(steps(results)) == [(f"fleet-{c}", Step.MEMBERS, "destroy", Outcome.SUCCEEDED) for c in "ab"]
    assert not any(s.resources for s in fake.stacks.values())


def test_destroy_takes_a_mesh_whose_first_update_failed() -> None:
    """A first update that failed part-way leaves resources (the CA) but no outputs."""
    fake = fleet("a", "b")
    fake.stacks[MESH] = FakeStack(resources=frozenset({"ca"}))
    results = Driver(fake, MESH).destroy()
    assert steps(results) == [("fleet", Step.MESH, "destroy", Outcome.SUCCEEDED)] and not fake.stacks[MESH].resources


def test_remove_destroys_the_member_first_then_every_other_deletes_its_secret() -> None:
    fake = running("a", "b", "c")
    fake.membership.remove("c")
    results = Driver(fake, MESH).remove("c")
    assert fake.log[:2] == [("destroy", stack("c")), ("up", MESH)]
    assert fake.outputs(stack("c")) == {} and fake.stacks[stack("c")].resources == frozenset()
    assert all(r.changes == {"create": 0, "delete": 1, "same": 3} for r in results if r.step is Step.PEERS)
    assert (linked(fake, "a"), linked(fake, "b")) == (["b"], ["a"])


def test_remove_refuses_a_cluster_still_in_the_mesh() -> None:
    fake = fleet("a", "b", "c")
    Driver(fake, MESH).up()
    fake.log.clear()
    with pytest.raises(ValueError, match="cluster c is still in the mesh stack's clusters"):
        Driver(fake, MESH).remove("c")
    # Refused before anything ran: c's member still stands.
    assert fake.log == [] and fake.outputs(stack("c"))


def test_up_refuses_a_cluster_that_left_the_config_while_its_member_stands() -> None:
    fake = fleet("a", "b", "c")
    Driver(fake, MESH).up()
    fake.membership.remove("c")
    fake.log.clear()
    with pytest.raises(ValueError, match="c left the mesh stack's clusters but their member stacks stand: run python -m fleet remove c"):
        Driver(fake, MESH).up()
    assert fake.log == []


def test_destroy_takes_every_member_then_the_mesh() -> None:
    fake = fleet("a", "b", "c")
    Driver(fake, MESH).up()
    fake.log.clear()
    results = Driver(fake, MESH, parallel=3).destroy()
    assert fake.log[-1] == ("destroy", MESH)
    assert sorted(fake.log[:-1]) == [("destroy", stack(c)) for c in "abc"]
    assert all(not s.resources and not s.outputs for s in fake.stacks.values()) and exit_code(results) == 0
    # Again: nothing stands, nothing runs.
    fake.log.clear()
    assert Driver(fake, MESH).destroy() == [] and fake.log == []


def test_destroy_keeps_the_mesh_while_a_member_stands() -> None:
    fake = fleet("a", "b")
    Driver(fake, MESH).up()
    fake.failing[stack("b")] = "error: deleting EKS Cluster: timeout"
    results = Driver(fake, MESH).destroy()
    assert results[-1] == StackResult(
        MESH, Step.MESH, "destroy", Outcome.SKIPPED,
        message=f"member stacks {stack('b')} still hold clusters in the mesh's networks; destroy them first",
    )  # fmt: skip
    assert fake.stacks[MESH].resources and fake.stacks[stack("b")].resources and not fake.stacks[stack("a")].resources


def test_the_fake_holds_the_rules_the_driver_must_respect() -> None:
    """Each rule fails when broken, so a driver that broke it would fail the tests above."""
    fake = fleet("a", "b")
    with pytest.raises(StackFailed, match="has no outputs; run its up first"):
        fake.up(stack("a"), FleetMember(MESH, "a"), print)
    Driver(fake, MESH).up()
    with pytest.raises(StackFailed, match="DependencyViolation"):
        fake.destroy(MESH, print)
    fake.stacks[stack("a")].updating = True
    with pytest.raises(ConcurrentUpdate):
        fake.up(stack("a"), FleetMember(MESH, "a"), print)
    with pytest.raises(StackFailed, match="is not in the mesh's membership"):
        fake.up(stack("z"), FleetMember(MESH, "z"), print)


def test_member_stacks_are_named_beside_the_mesh_stack() -> None:
    assert member_stack(MESH, "eu-1") == "acme/istio-multicluster/fleet-eu-1"
    assert member_stack("fleet", "eu-1") == "fleet-eu-1"
    with pytest.raises(ValueError, match="at most 100 characters"):
        member_stack("acme/istio-multicluster/" + "m" * 40, "c" * 63)


def test_the_summary_names_each_stack_its_step_result_changes_and_time() -> None:
    results = [
        StackResult(MESH, Step.MESH, "up", Outcome.SUCCEEDED, {"same": 40, "update": 1}, 12.4),
        StackResult(stack("a"), Step.MEMBERS, "up", Outcome.FAILED, {}, 3.0, "error: boom"),
    ]
    assert summary(results) == (
        "| stack | step | operation | result | changes | time |\n"
        "| --- | --- | --- | --- | --- | ---: |\n"
        f"| {MESH} | mesh | up | succeeded | update 1 | 12 s |\n"
        f"| {stack('a')} | members | up | failed: error: boom | none | 3 s |"
    )


# --- the command line ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["add", "--mesh", MESH], "python -m fleet: add needs the cluster's name: python -m fleet add <cluster> --mesh ..."),
        (["up", "a", "--mesh", MESH], "python -m fleet: up takes no cluster (it runs every member)"),
        (["up", "--mesh", MESH, "--remote"], "python -m fleet: --remote needs --repo, the git URL Pulumi Deployments clones"),
        (
            ["up", "--mesh", MESH, "--inherit-settings"],
            "python -m fleet: --inherit-settings takes the stacks' Deployments settings: it needs --remote",
        ),
        (
            ["up", "--mesh", "fleet"],
            "python -m fleet: --mesh fleet: name the stack fully, <org>/istio-multicluster/<stack>, as stack references do",
        ),
        (["up", "--mesh", MESH, "--parallel", "0"], "python -m fleet: --parallel must be at least 1"),
    ],
)
def test_a_bad_command_line_runs_nothing(argv: list[str], message: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert fleet_cli.main(argv) == 2
    assert capsys.readouterr().err.strip() == message


def test_the_command_line_runs_the_driver_and_prints_the_summary(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    fake = fleet("a", "b", failing={stack("b"): "error: boom"})
    monkeypatch.setattr(fleet_cli, "workspace", lambda args: fake)
    assert fleet_cli.main(["up", "--mesh", MESH, "--parallel", "1"]) == 1
    out, err = capsys.readouterr()
    assert out.splitlines()[0] == "| stack | step | operation | result | changes | time |"
    assert f"| {stack('b')} | members | up | failed: error: boom | none |" in out
    assert f"up {stack('b')} (members): failed in 0 s: error: boom" in err
    with pytest.raises(SystemExit):
        fleet_cli.parser().parse_args(["refresh", "--mesh", MESH])


def test_remote_runs_go_to_deployments_from_the_repository() -> None:
    args = fleet_cli.parser().parse_args(
        ["up", "--mesh", MESH, "--remote", "--repo", "https://github.com/acme/mesh.git", "--branch", "prod"]
    )
    remote = fleet_cli.workspace(args)
    assert isinstance(remote, RemoteWorkspace) and (remote.url, remote.branch) == ("https://github.com/acme/mesh.git", "prod")
    assert isinstance(fleet_cli.workspace(fleet_cli.parser().parse_args(["up", "--mesh", MESH])), LocalWorkspace)


def test_a_peer_whose_token_changed_is_linked_again_by_the_peers_pass() -> None:
    """Same peers, a new link: a member that ran before the peer holds its old token, which the
    peer's update deleted; the peers pass is decided by the links' digests, not the peers' names."""
    fake = fleet("a", "b", "c")
    Driver(fake, MESH, parallel=1).up()
    fake.tokens["b"] = 1
    results = Driver(fake, MESH, parallel=1).up()
    assert [s[0] for s in steps(results) if s[1] is Step.PEERS] == ["fleet-a"]
    assert fake.outputs(stack("a"))[LINKED_PEERS_OUTPUT] == {"b": "b-token-1", "c": "c-token-0"}
    assert fake.outputs(stack("c"))[LINKED_PEERS_OUTPUT] == {"a": "a-token-0", "b": "b-token-1"}


def test_files_writes_what_the_shipped_member_files_hold(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    mesh = "organization/istio-multicluster/kind-fleet"
    shutil.copy(ROOT / "Pulumi.kind-fleet.yaml", tmp_path)
    assert fleet_cli.write_files(mesh, tmp_path) == 0
    assert capsys.readouterr().out.split() == ["Pulumi.kind-fleet-kind-1.yaml", "Pulumi.kind-fleet-kind-2.yaml"]
    for name in ("Pulumi.kind-fleet-kind-1.yaml", "Pulumi.kind-fleet-kind-2.yaml"):
        assert yaml.safe_load((tmp_path / name).read_text()) == yaml.safe_load((ROOT / name).read_text())
        assert FleetMember.of(file_config(tmp_path, name.removeprefix("Pulumi.").removesuffix(".yaml")).get("fleetMember")) is not None


def test_member_files_import_the_environments_the_mesh_stack_imports(tmp_path: Path) -> None:
    """A member's run needs the credentials the mesh's has (kubeconfigs, cloud logins from ESC)."""
    mesh_file = yaml.safe_load((ROOT / "Pulumi.kind-fleet.yaml").read_text())
    (tmp_path / "Pulumi.kind-fleet.yaml").write_text(yaml.safe_dump({"environment": ["istio-multicluster/kubeconfigs"], **mesh_file}))
    written = member_files("organization/istio-multicluster/kind-fleet", tmp_path)
    assert {path.name: yaml.safe_load(text)["environment"] for path, text in written.items()} == {
        "Pulumi.kind-fleet-kind-1.yaml": ["istio-multicluster/kubeconfigs"],
        "Pulumi.kind-fleet-kind-2.yaml": ["istio-multicluster/kubeconfigs"],
    }


def git(repo: Path, *args: str) -> None:
    subprocess.run(["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *args], check=True, capture_output=True)  # noqa: S607


def member_file_text(cluster: str) -> str:
    return yaml.safe_dump(member_file(FleetMember("acme/istio-multicluster/fleet", cluster)))


def test_a_remote_member_is_refused_unless_its_file_on_the_pushed_branch_names_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Deployments clones the branch: this checkout's file, committed or not, is not what it runs."""
    origin, checkout = tmp_path / "origin.git", tmp_path / "checkout"
    git(tmp_path, "init", "--quiet", "--bare", "--initial-branch=main", str(origin))
    git(tmp_path, "init", "--quiet", "--initial-branch=main", str(checkout))
    (checkout / "Pulumi.fleet-eu-1.yaml").write_text(member_file_text("eu-2"))
    git(checkout, "add", "-A")
    git(checkout, "commit", "--quiet", "-m", "a member file naming another cluster")
    git(checkout, "push", "--quiet", str(origin), "main")
    # Mended here, not pushed.
    (checkout / "Pulumi.fleet-eu-1.yaml").write_text(member_file_text("eu-1"))
    git(checkout, "commit", "--quiet", "-am", "the right member")
    ran: list[dict[str, object]] = []
    result = SimpleNamespace(summary=SimpleNamespace(resource_changes={"create": 3}))

    def remote_stack(stack: str, url: str, *, commit_hash: str, opts: auto.RemoteWorkspaceOptions) -> SimpleNamespace:
        ran.append({"stack": stack, "url": url, "commit": commit_hash, "inherit": opts.inherit_settings})
        return SimpleNamespace(up=lambda on_output: result)

    monkeypatch.setattr(auto, "create_or_select_remote_stack_git_source", remote_stack)
    member, stack_name = FleetMember("acme/istio-multicluster/fleet", "eu-1"), "acme/istio-multicluster/fleet-eu-1"
    message = (
        "Pulumi.fleet-eu-1.yaml on branch main does not name acme/istio-multicluster/fleet and cluster eu-1: run "
        "python -m fleet files --mesh acme/istio-multicluster/fleet, commit the files and push them to main"
    )
    with pytest.raises(ValueError, match=re.escape(message)):
        RemoteWorkspace(url=str(origin), local=LocalWorkspace(checkout)).up(stack_name, member, print)
    # A preview too: the runner would preview the stack as one of its own, and refuse it less plainly.
    with pytest.raises(ValueError, match=re.escape(message)):
        RemoteWorkspace(url=str(origin), local=LocalWorkspace(checkout)).preview(stack_name, member, print)
    assert ran == []
    git(checkout, "push", "--quiet", str(origin), "main")
    pushed = subprocess.run(["git", "-C", str(origin), "rev-parse", "main"], capture_output=True, text=True, check=True).stdout.strip()  # noqa: S607
    git(checkout, "commit", "--quiet", "--allow-empty", "-m", "not pushed: never what runs")
    remote = RemoteWorkspace(url=str(origin), inherit_settings=True, local=LocalWorkspace(checkout))
    assert remote.up(stack_name, member, print) == {"create": 3}
    # Pinned to the commit the check read, which is what Deployments clones.
    assert ran == [{"stack": stack_name, "url": str(origin), "commit": pushed, "inherit": True}]
    with pytest.raises(ValueError, match=r"^could not read branch prod of .*origin\.git: "):
        RemoteWorkspace(url=str(origin), branch="prod", local=LocalWorkspace(checkout)).config(stack_name)


def primary_remote(**kwargs: object) -> FakeFleet:
    """Primaries p1 and p2, remotes r1 (of p1) and r2 (of p2)."""
    return fleet("p1", "r1", "p2", "r2", remotes={"r1": "p1", "r2": "p2"}, **kwargs)


def test_remotes_run_after_every_primary_and_build_gateways_once_linked() -> None:
    fake = primary_remote()
    results = Driver(fake, MESH, parallel=8).up()
    members = [stack for op, stack in fake.log if stack != MESH]
    # Side by side within a wave, but no remote starts before every primary has finished.
    assert {s.rsplit("-", 1)[1] for s in members[:2]} == {"p1", "p2"} and {s.rsplit("-", 1)[1] for s in members[2:4]} == {"r1", "r2"}
    assert sorted((s[0], s[1]) for s in steps(results) if s[1] is not Step.MEMBERS) == [
        ("fleet", Step.MESH), ("fleet-p1", Step.PEERS), ("fleet-p2", Step.PEERS),
        ("fleet-r1", Step.GATEWAYS), ("fleet-r2", Step.GATEWAYS),
    ]  # fmt: skip
    assert exit_code(results) == 0
    assert {c: linked(fake, c) for c in ("p1", "r1")} == {"p1": ["p2", "r1", "r2"], "r1": []}
    assert all("gateways" in fake.stacks[stack(r)].resources and "fleetAwaiting" not in fake.outputs(stack(r)) for r in ("r1", "r2"))
    fake.log.clear()
    again = Driver(fake, MESH).up()
    assert [s[1] for s in steps(again)] == [Step.MESH, *[Step.MEMBERS] * 4]


def test_a_failed_primary_skips_its_remotes_and_no_other() -> None:
    fake = primary_remote(failing={stack("p1"): "error: timed out waiting for istiod"})
    results = Driver(fake, MESH, parallel=1).up()
    assert next(r for r in results if r.stack == stack("r1")) == StackResult(
        stack("r1"), Step.MEMBERS, "up", Outcome.SKIPPED, message="its primary p1 failed"
    )
    assert ("up", stack("r1")) not in fake.log and "gateways" in fake.stacks[stack("r2")].resources
    # The next up resumes: p1, then r1, then p1 links r1 and r1 builds its gateways.
    resumed = Driver(fake, MESH, parallel=1).up()
    assert exit_code(resumed) == 0 and "gateways" in fake.stacks[stack("r1")].resources


def test_remove_refuses_a_primary_that_remotes_still_name() -> None:
    fake = running("p1", "r1", "p2", "r2")
    fake.remotes.update({"r1": "p1", "r2": "p2"})
    fake.membership.remove("p1")
    with pytest.raises(ValueError, match=r"^cluster p1 is the primary of r1, which the mesh stack.s clusters still list: remove them"):
        Driver(fake, MESH).remove("p1")
    assert fake.log == []


def test_destroy_takes_remotes_before_their_primaries_and_keeps_a_primary_whose_remote_stands() -> None:
    fake = primary_remote()
    Driver(fake, MESH).up()
    fake.log.clear()
    fake.failing[stack("r1")] = "error: deleting the istio-system namespace: timeout"
    results = Driver(fake, MESH, parallel=1).destroy()
    assert steps(results) == [
        ("fleet-r1", Step.MEMBERS, "destroy", Outcome.FAILED),
        ("fleet-r2", Step.MEMBERS, "destroy", Outcome.SUCCEEDED),
        ("fleet-p2", Step.MEMBERS, "destroy", Outcome.SUCCEEDED),
        ("fleet-p1", Step.MEMBERS, "destroy", Outcome.SKIPPED),
        ("fleet", Step.MESH, "destroy", Outcome.SKIPPED),
    ]
    assert results[3].message == "its remote r1 failed" and fake.stacks[stack("p1")].resources


def test_preview_runs_every_stack_that_exists_and_changes_nothing() -> None:
    fake = running("a", "b")
    fake.membership.append("c")
    results = Driver(fake, MESH, parallel=1).preview()
    assert steps(results) == [
        ("fleet", Step.MESH, "preview", Outcome.SUCCEEDED),
        ("fleet-a", Step.MEMBERS, "preview", Outcome.SUCCEEDED),
        ("fleet-b", Step.MEMBERS, "preview", Outcome.SUCCEEDED),
        ("fleet-c", Step.MEMBERS, "preview", Outcome.SKIPPED),
    ]
    assert results[-1].message == "no member stack yet: up makes it"
    assert fake.log == [("preview", MESH), ("preview", stack("a")), ("preview", stack("b"))] and not fake.exists(stack("c"))


def test_remove_leaves_alone_a_stack_that_bears_the_members_name_but_is_another_meshs() -> None:
    """Mesh ``fleet`` and cluster ``ambient``: ``fleet-ambient`` may be a whole mesh's stack."""
    fake = fleet("a")
    Driver(fake, MESH).up()
    fake.foreign(stack("ambient"), {"clusters": '[{"name": "x"}]'}, {"rootCertPem": "..."})
    fake.log.clear()
    results = Driver(fake, MESH).remove("ambient")
    assert steps(results) == [("fleet-ambient", Step.MEMBERS, "destroy", Outcome.FAILED)]
    assert fake.log == [] and fake.stacks[stack("ambient")].resources


def test_preview_does_not_take_a_secret_in_the_mesh_file_for_a_moved_config() -> None:
    """A remote workspace reads the branch's stack file, whose secrets are ciphertext; the mesh
    exported them decrypted, so the two never compare equal."""
    fake = running("a")
    config = fake.config(MESH)
    fake.stacks[MESH].outputs[CONFIG_OUTPUT] = {"clusters": json.loads(config["clusters"]), "istiodValues": "plain"}
    with_secret = {**config, "istiodValues": json.dumps({"secure": "v1:abc"})}
    fake.config = lambda stack: with_secret if stack == MESH else {}  # type: ignore[method-assign]
    assert [r.message for r in Driver(fake, MESH).preview()] == ["", ""]
    moved = {**with_secret, "accessLog": "true"}
    fake.config = lambda stack: moved if stack == MESH else {}  # type: ignore[method-assign]
    assert Driver(fake, MESH).preview()[1].message.startswith("against the mesh stack's last update")


def test_a_member_still_behind_when_the_peers_rounds_run_out_is_reported_not_dropped(monkeypatch: pytest.MonkeyPatch) -> None:
    fake = running("a", "b")
    # A member that every round leaves behind: its older reader token never loses its holder.
    monkeypatch.setattr(driver_module, "drops_token", lambda cluster, outputs: cluster == "a")
    results = Driver(fake, MESH, parallel=1).up()
    peers = [(s[0], s[3]) for s in steps(results) if s[1] is Step.PEERS]
    assert peers == [("fleet-a", Outcome.SUCCEEDED)] * PEER_ROUNDS + [("fleet-a", Outcome.SKIPPED)]
    assert (
        results[-1].message
        == f"still behind its peers or the mesh stack after {PEER_ROUNDS} rounds of the peers pass: run python -m fleet up again"
    )
    assert exit_code(results) == 1


@pytest.mark.parametrize(("service", "said"), [("trafficManager", True), ("route53", False)])
def test_only_a_traffic_manager_preview_with_new_members_says_the_dns_step(service: str, said: bool) -> None:
    """Route 53 records are each member's own: a preview of the new member shows them. A Traffic
    Manager profile is the mesh stack's, updated in the dns step after the members."""
    fake = running("a", "b")
    fake.settings["ingressDns"] = json.dumps({"service": service, "name": "mesh"})
    fake.membership.append("c")
    previewed = Driver(fake, MESH, parallel=1).preview()
    assert [(s[0], s[1]) for s in steps(previewed) if s[1] is Step.DNS] == ([("fleet", Step.DNS)] if said else [])
    fake.membership.remove("c")  # no member left to make: nothing the preview cannot show
    assert [s for s in steps(Driver(fake, MESH, parallel=1).preview()) if s[1] is Step.DNS] == []
