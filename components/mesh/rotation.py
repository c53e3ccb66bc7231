"""A root rotation's stages, in order: each checked against what the last completed run applied.

A stage is safe only once its predecessor reached every cluster: ``issue`` re-issues the
intermediates by the new root, which a cluster whose bundle does not hold that root yet cannot
verify; ``retire`` drops the old root, which leaves unverifiable every leaf still chained to an
intermediate of the old root; and a root changes only by rotation (a new ``caRoot`` outright would
do both at once). The program exports the marker ``caRoots`` (the roots the clusters trust, the one
that signs, and during a rotation its new root and stage), which resolves only when every
cluster's CA delivery and istiod release finished: an update that failed anywhere before leaves the
previous marker in the stack's outputs. The next run reads it back before any resource
(``components.previous_run``) and refuses a change that ``rotation_problems`` finds unsafe.

Reaching every cluster's istiod is not reaching every workload: istio-agent takes the bundle of
roots with each certificate and renews at half its lifetime (security/pkg/nodeagent/cache/
secretcache.go). So the marker also says ``since`` when its roots and signer first reached every
cluster (carried over by runs that change neither), and a stage that changes the signer or drops a
root waits ``caRotation.waitHours`` after it.
"""

from __future__ import annotations

import datetime
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.config.model import DEFAULT_ROTATION_WAIT_HOURS, CaSpec
from components.config.problems import Problem

MARKER_OUTPUT = "caRoots"
SINCE_FORMAT = "%Y-%m-%dT%H:%M:%SZ"


def marker(ca: CaSpec) -> dict[str, Any]:
    """The marker of ``ca``: the roots every cluster trusts, the one that signs the intermediates,
    and during a rotation its new root and stage (for people reading the output)."""
    found: dict[str, Any] = {"roots": list(ca.roots), "signer": ca.signer}
    if ca.rotation is not None:
        found |= {"root": ca.root, "newRoot": ca.rotation.new_root, "stage": ca.rotation.stage.value}
    return found


def previous_marker(outputs: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The marker among the last completed update's ``outputs``, if any."""
    found = outputs.get(MARKER_OUTPUT)
    return found if isinstance(found, Mapping) else None


def rotation_problems(ca: CaSpec, previous: Mapping[str, Any] | None, now: datetime.datetime | None = None) -> list[Problem]:
    """What is unsafe in going from the ``previous`` marker (what the last completed run applied to
    every cluster) to ``ca``; empty when nothing is, or when there is no marker (a new stack).

    Two rules keep every cluster able to verify every other's workloads at every moment:
    - the root that signed the intermediates stays in the bundles (leaves chained to it live on
      until they are renewed), so it leaves only after another root signed them (``retire`` after
      ``issue``);
    - a root signs the intermediates only once every cluster trusts it (``issue`` after ``trust``).
    A root changed outright breaks both; stages skipped or run backwards break one. A stage that
    keeps both rules but changes the signer or drops a root comes ``waitHours`` after the previous
    marker's ``since`` (``now``, UTC; default the time of the call).
    """
    if previous is None or "signer" not in previous:
        return []
    problems = _order_problems(ca, previous)
    wait = None if problems else _wait_problem(ca, previous, now or datetime.datetime.now(datetime.UTC))
    return problems if wait is None else [wait]


def _order_problems(ca: CaSpec, previous: Mapping[str, Any]) -> list[Problem]:
    trusted = [str(r) for r in previous.get("roots") or []]
    signed_by = str(previous["signer"])
    at = "caRotation.stage" if ca.rotation is not None else "caRoot"
    problems = []
    if signed_by not in ca.roots:
        problems.append(
            Problem(
                at,
                "ca-signer-dropped",
                f"leaves root {signed_by} out of the bundles, but it signs every cluster's intermediate since the last "
                f"completed run, and workload certificates chained to it would stop verifying; keep it until another "
                f"root has signed the intermediates (a rotation's stage issue), then retire it",
            )
        )
    if ca.signer not in trusted:
        problems.append(
            Problem(
                at,
                "ca-signer-untrusted",
                f"has root {ca.signer} sign the intermediates, but since the last completed run the clusters trust only "
                f"{', '.join(trusted)}; a new root reaches every bundle first (a rotation's stage trust, one pulumi up), "
                "then signs (stage issue)",
            )
        )
    return problems


def _wait_problem(ca: CaSpec, previous: Mapping[str, Any], now: datetime.datetime) -> Problem | None:
    """Whether the change comes too soon after the previous marker's ``since``: a new signer needs
    every workload to trust it, a dropped root every workload to hold a certificate not chained to
    it. Abandoning a rotation at ``trust`` drops a root that signed nothing: no wait. A marker
    without ``since`` (written before it was kept) is not timed."""
    trusted, signed_by = [str(r) for r in previous.get("roots") or []], str(previous["signer"])
    unsigned = str(previous.get("newRoot")) if previous.get("stage") == "trust" else None
    dropped = [r for r in trusted if r not in ca.roots and r != unsigned]
    since = _since(previous)
    if (ca.signer == signed_by and not dropped) or since is None:
        return None
    # Finishing a rotation by editing caRoot instead of stage retire waits as retire would.
    wait = ca.rotation.wait_hours if ca.rotation is not None else DEFAULT_ROTATION_WAIT_HOURS
    ready = since + datetime.timedelta(hours=wait)
    if now >= ready:
        return None
    what = f"has root {ca.signer} sign the intermediates" if ca.signer != signed_by else f"drops root {', '.join(dropped)}"
    hours = (now - since).total_seconds() / 3600
    return Problem(
        "caRotation.stage" if ca.rotation is not None else "caRoot",
        "ca-rotation-wait",
        f"{what} {hours:.1f} hours after the last stage reached every cluster ({since:{SINCE_FORMAT}}); workloads take up "
        f"to caRotation.waitHours ({wait}) to renew their certificates and the roots they trust. Run it after "
        f"{ready:{SINCE_FORMAT}}, or restart every workload on every cluster (kubectl rollout restart) and set "
        + ("caRotation.waitHours: 0" if ca.rotation is not None else "the rotation's stage retire with caRotation.waitHours: 0"),
    )


def _since(marker: Mapping[str, Any]) -> datetime.datetime | None:
    text = marker.get("since")
    try:
        return datetime.datetime.strptime(str(text), SINCE_FORMAT).replace(tzinfo=datetime.UTC) if text else None
    except ValueError:
        return None


def marker_output(ca: CaSpec, delivered: Sequence[pulumi.Resource], previous: Mapping[str, Any] | None) -> pulumi.Output[dict[str, str]]:
    """The marker of ``ca``, resolved once every resource of ``delivered`` is created or updated: a
    custom resource's id resolves when its step is done (unknown in a preview that creates it, never
    when the step failed); a component's URN when it is registered. Its ``since`` is the
    ``previous`` marker's when the roots and signer are the same, else the time it resolves."""
    return delivered_marker(marker(ca), delivered, previous)


def same_trust(first: Mapping[str, Any], second: Mapping[str, Any]) -> bool:
    """Whether two markers name the same roots and signer."""
    return list(first.get("roots") or []) == list(second.get("roots") or []) and first.get("signer") == second.get("signer")


def delivered_marker(
    value: Mapping[str, Any], delivered: Sequence[pulumi.Resource], previous: Mapping[str, Any] | None
) -> pulumi.Output[dict[str, str]]:
    """The marker ``value`` (without ``since``) as ``marker_output`` resolves it."""
    base = {key: item for key, item in value.items() if key != "since"}
    since = _since(previous) if previous is not None and same_trust(previous, base) else None
    ids = [r.id for r in delivered if isinstance(r, pulumi.CustomResource)]
    urns = [r.urn for r in delivered if not isinstance(r, pulumi.CustomResource)]

    def resolved(_: object) -> dict[str, Any]:
        return base | {"since": f"{since or datetime.datetime.now(datetime.UTC):{SINCE_FORMAT}}"}

    return pulumi.Output.all(*ids, *urns).apply(resolved)


def latest_since(markers: Sequence[Mapping[str, Any]]) -> str | None:
    """The latest ``since`` of ``markers`` (``None`` when one has none: it is not timed)."""
    found = [_since(m) for m in markers]
    if not found or any(s is None for s in found):
        return None
    return f"{max(s for s in found if s is not None):{SINCE_FORMAT}}"
