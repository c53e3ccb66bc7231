"""A root rotation in a fleet: the mesh stack issues each stage, the member stacks deliver it.

The mesh stack holds the CA and the rotation's config, and exports the marker (``caRoots``) of the
stage it issued. Each member stack delivers that stage to its cluster (the plug-in CA material it
reads from the mesh stack) and exports the same marker, resolved only once its CA delivery and
istiod finished, with ``since`` when its cluster got those roots. A stage is safe only once the
previous one reached every cluster (``components.mesh.rotation``): before a change of the roots or
the signer, the mesh stack reads every member's marker, refuses while one lags, and times the wait
from the member that got the previous stage last.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from components.config.model import CaSpec
from components.config.problems import Problem
from components.mesh.rotation import latest_since, marker, rotation_problems, same_trust

MemberMarkers = Callable[[], Mapping[str, Mapping[str, Any] | None]]
"""Each member's marker, by cluster (``None``: its stack exported none), read when called."""


def fleet_rotation_problems(ca: CaSpec, issued: Mapping[str, Any] | None, members: MemberMarkers) -> list[Problem]:
    """What is unsafe in going from the ``issued`` marker (the mesh stack's last completed update)
    to ``ca``, given what reached each member's cluster (read only when ``ca`` changes the roots or
    the signer); empty for a new mesh."""
    if issued is None or "signer" not in issued or same_trust(marker(ca), issued):
        return rotation_problems(ca, issued)
    reached = members()
    lagging = sorted(cluster for cluster, found in reached.items() if found is None or not same_trust(found, issued))
    if lagging:
        at = "caRotation.stage" if ca.rotation is not None else "caRoot"
        stage = f"stage {issued['stage']} of root {issued.get('newRoot')}" if issued.get("stage") else f"root {issued['signer']}"
        return [
            Problem(
                at,
                "ca-stage-not-delivered",
                f"changes the roots or the signer, but the last change ({stage}) has not reached the clusters of member "
                f"stacks {', '.join(lagging)} yet; put the config back to that change, run python -m fleet up (the mesh "
                "stack refuses this change before any member runs; the up delivers the last change to every member), "
                "then make this change again",
            )
        ]
    delivered = [found for found in reached.values() if found is not None]
    return rotation_problems(ca, {**issued, "since": latest_since(delivered)})
