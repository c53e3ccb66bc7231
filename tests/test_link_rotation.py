"""Rotating the reader tokens the remote secrets carry (``readerTokenGeneration``), with no moment
where an istiod loses a remote cluster: new token Secrets first, every remote secret switched to
them in place, the old tokens deleted last."""

from __future__ import annotations

import dataclasses

import pytest

from tests.harness.changes import Changes, changes, named
from tests.harness.mocks import token_secret_name
from tests.harness.program import StackRun, run_program, run_stack, stack_config
from tests.harness.walkthrough import assert_readme_block, change_lines

KIND = ("kind-1", "kind-2")
CONFIG = {**stack_config("kind"), "verify": True}


@pytest.fixture(scope="module")
def rotated() -> tuple[StackRun, StackRun]:
    before = run_program(CONFIG, stack="kind")
    after = run_program({**CONFIG, "readerTokenGeneration": 1}, stack="kind", state=before.state(), previous_outputs=before.outputs)
    return before, after


def test_one_up_issues_new_tokens_and_switches_the_remote_secrets_in_place(rotated: tuple[StackRun, StackRun]) -> None:
    before, after = rotated
    assert changes(before, after) == Changes(
        update=frozenset({"mesh-link-kind-1-in-kind-2", "mesh-link-kind-2-in-kind-1"}),
        replace=named(("mesh-link-{c}-reader-token", "mesh-check-{c}-probe"), KIND),
    )


def test_each_remote_secret_carries_its_sources_new_token(rotated: tuple[StackRun, StackRun]) -> None:
    before, after = rotated
    for source, holder in (("kind-1", "kind-2"), ("kind-2", "kind-1")):
        token = after.named(f"mesh-link-{source}-reader-token")
        assert token.inputs["metadata"]["name"] == "istio-reader-service-account-istio-remote-secret-token-1"
        secret = after.named(f"mesh-link-{source}-in-{holder}")
        kubeconfig = secret.inputs["stringData"][source]
        assert token_secret_name(kubeconfig) == token.inputs["metadata"]["name"]
        old = before.named(f"mesh-link-{source}-in-{holder}").inputs["stringData"][source]
        assert token_secret_name(old) == "istio-reader-service-account-istio-remote-secret-token"
        # The secret keeps its name and key: istiod sees an update of the cluster it knows.
        assert secret.inputs["metadata"] == before.named(f"mesh-link-{source}-in-{holder}").inputs["metadata"]


def test_the_old_token_goes_only_after_the_remote_secrets_moved(rotated: tuple[StackRun, StackRun]) -> None:
    """The new token has a new name, so pulumi-kubernetes creates it before deleting the old one
    (no delete-first replacement), and the engine deletes a replaced resource after everything
    that depends on the replacement is updated (the remote secrets need the new token)."""
    _, after = rotated
    for source, holder in (("kind-1", "kind-2"), ("kind-2", "kind-1")):
        token = after.named(f"mesh-link-{source}-reader-token")
        assert token.operation == "replace" and not token.delete_first
        assert after.needs(f"mesh-link-{source}-in-{holder}", token)


@pytest.mark.parametrize("stack", ["kind", "aks", "eks"])
def test_every_cluster_provider_updates_secrets_in_place(stack: str) -> None:
    """Otherwise a remote secret whose token changes is deleted and created again, and istiod drops
    the remote cluster's endpoints in between; cacerts likewise disappears for a moment."""
    run = run_stack(stack)
    providers = [r for r in run.resources if r.type == "pulumi:providers:kubernetes"]
    assert len(providers) == 2
    assert {str(p.inputs.get("enableSecretMutable")).lower() for p in providers} == {"true"}


def test_the_first_generation_keeps_the_token_name_stacks_already_have() -> None:
    run = run_stack("kind")
    names = {run.named(f"mesh-link-{c}-reader-token").inputs["metadata"]["name"] for c in KIND}
    assert names == {"istio-reader-service-account-istio-remote-secret-token"}


def test_a_stack_made_before_mutable_secrets_updates_its_providers_and_replaces_nothing() -> None:
    """The first up after upgrading: enableSecretMutable is new provider config, which pulumi-kubernetes
    takes as an update (it replaces a provider only when clusterIdentifier changes)."""
    before = run_program(CONFIG, stack="kind")
    state = before.state()
    for urn, prior in state.items():
        if prior.type == "pulumi:providers:kubernetes":
            inputs = {k: v for k, v in prior.inputs.items() if k != "enableSecretMutable"}
            state[urn] = dataclasses.replace(prior, inputs=inputs)
    after = run_program(CONFIG, stack="kind", state=state, previous_outputs=before.outputs)
    assert changes(before, after) == Changes(update=frozenset({"kind-1-provider", "kind-2-provider"}))


def test_the_readme_says_what_a_rotation_changes(rotated: tuple[StackRun, StackRun]) -> None:
    before, after = rotated
    body = ["```sh", "pulumi config set readerTokenGeneration 1", "```", "", "`pulumi up` then:", ""]
    body += [*change_lines(changes(before, after), KIND, indent=""), ""]
    body += [
        "Each new token Secret is created first; the old one is deleted last, after every remote secret that",
        "carried it holds the new token.",
        "",
    ]
    assert_readme_block("<!-- link-rotation-walkthrough:start -->", "<!-- link-rotation-walkthrough:end -->", body)
