"""What the last completed update of this stack exported, read back before any resource.

Some edits are safe only as steps of a sequence (a root rotation's stages, a Route 53 routing
switch), and the program tells the step it may take from the markers its last completed update
exported. It reads them with ``pulumi:pulumi:readStackOutputs``, the engine's own stack-reference
read: synchronous, so a refusal comes before any resource, and the same in a preview. A new stack
has no outputs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

import pulumi

from components.config.problems import ConfigError, Problem

READ_STACK_OUTPUTS = "pulumi:pulumi:readStackOutputs"


def this_stack() -> str:
    """This stack's fully qualified name, as stack references name it."""
    # The CLI names the organization of a self-managed backend's stacks `organization`.
    return f"{pulumi.get_organization() or 'organization'}/{pulumi.get_project()}/{pulumi.get_stack()}"


def previous_outputs(stack_name: str) -> Mapping[str, Any]:
    """The outputs the last completed update of ``stack_name`` (this stack) exported; empty for a new stack."""
    result = pulumi.runtime.invoke(READ_STACK_OUTPUTS, {"name": stack_name})
    outputs = (result.value or {}).get("outputs")
    return outputs if isinstance(outputs, Mapping) else {}


def refuse_unsafe_steps(*problems: Iterable[Problem]) -> None:
    """Refuse, before any resource, every step that the last completed update does not allow."""
    found = [p for group in problems for p in group]
    if found:
        raise ConfigError(found, "nothing was changed")
