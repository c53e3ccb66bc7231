"""Every shipped stack as ``pulumi preview`` evaluates it: on an empty stack, and on running clusters
to which a change adds objects that the program reads back.

Reads with a known id run during preview and ignore ``depends_on`` (pulumi/pulumi#16395); reading
an object the same update creates fails the whole preview. The harness fails such reads.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.harness.program import run_stack, stack_config


@pytest.mark.parametrize(("stack", "gateways"), [("aks", 2), ("eks", 4), ("kind", 2), ("kind-ambient", 2)])
def test_a_first_preview_reads_nothing_it_creates(stack: str, gateways: int) -> None:
    """Each east-west and ingress gateway's address is read back, and in a first preview no read has
    an id yet (aks shares one network: no east-west gateway; aks and eks run ingress gateways)."""
    run = run_stack(stack, preview=True)
    reads = [r for r in run.resources if r.operation == "read"]
    releases = [r for r in run.resources if r.type.endswith((":Release", ":Gateway"))]
    assert len([r for r in releases if r.name.endswith(("-istio-eastwest", "-istio-ingress"))]) == len(reads) == gateways
    assert all(r.id == "" for r in reads), [(r.name, r.id) for r in reads]


def flat(stack: str) -> dict[str, Any]:
    """The stack's clusters all on one Istio network: no east-west gateways."""
    config = stack_config(stack)
    for index, cluster in enumerate(config["clusters"]):
        cluster["network"] = "network1"
        cluster["serviceCidr"] = f"172.{20 + index}.0.0/16"  # one flat network needs service ranges of their own
    return {"clusters": config["clusters"]}


def split(stack: str) -> dict[str, Any]:
    """The stack's clusters each on a network of its own: east-west gateways everywhere."""
    config = stack_config(stack)
    for index, cluster in enumerate(config["clusters"]):
        cluster["network"] = f"network{index + 1}"
    return {"clusters": config["clusters"]}


@pytest.mark.parametrize(("stack", "before", "after"), [("aks", None, split), ("eks", flat, None)])
def test_adding_east_west_gateways_to_running_clusters_previews(stack: str, before: Any, after: Any) -> None:
    running = run_stack(stack, before(stack) if before else None)
    preview = run_stack(stack, after(stack) if after else None, preview=True, state=running.state())
    new_gateways = [r for r in preview.resources if r.name.endswith("-istio-eastwest") and r.operation == "create"]
    assert len(new_gateways) == 2
    # The new gateways' Services are not read in the preview (the harness fails a read of an object
    # the update creates, so the ingress gateways' reads are of Services that exist).
    assert [r.id for r in preview.resources if r.operation == "read" and r.name.endswith("-eastwest-service")] == ["", ""]
