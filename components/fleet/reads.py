"""Reading another stack of the fleet before any resource, and what a failed read means.

Fleet stacks read each other with the engine's stack-reference read (``readStackOutputs``): the
mesh stack's outputs (a member's config and CA), a peer's (its link), a member's (the roots its
cluster holds). A stack that does not exist is told apart from one that cannot be read: only the
first may be skipped.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

from components.previous_run import previous_outputs


@dataclass(frozen=True)
class StackRead:
    """Another stack's outputs as this run read them.

    Args:
        outputs: its outputs (empty when it could not be read).
        failure: why it could not be read, as the engine said it ("" when it was).
    """

    outputs: Mapping[str, Any]
    failure: str = ""

    @property
    def missing(self) -> bool:
        """The stack does not exist: the engine's read says ``unknown stack "<name>"``
        (pkg/backend/backend.go ``GetStackOutputs``). Any other failure (the network, a permission)
        is no proof the stack is gone."""
        return MISSING_STACK in self.failure


MISSING_STACK = 'unknown stack "'


def read_stack(stack: str) -> StackRead:
    """Another stack's outputs; a failed read is kept with the engine's reason."""
    try:
        return StackRead(previous_outputs(stack))
    except Exception as error:
        return StackRead({}, str(error).strip().splitlines()[-1] if str(error).strip() else type(error).__name__)


def unreadable(what: str, stack: str, reason: str) -> pulumi.RunError:
    """The update stops before any resource: a peer or the mesh that exists but cannot be read would
    otherwise look absent, and its remote secret would be deleted from a running mesh."""
    return pulumi.RunError(
        f"istio-multicluster: {what} ({stack}) could not be read: {reason}; nothing was changed. Check that the deployer "
        "may read that stack and decrypt its secrets, then run again"
    )


def read_existing(what: str, stack: str) -> StackRead:
    """``stack``'s outputs, or its absence (``missing``); any other failed read stops the update."""
    read = read_stack(stack)
    if read.failure and not read.missing:
        raise unreadable(what, stack, read.failure)
    return read
