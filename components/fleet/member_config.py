"""A member stack's own config: ``fleetMember: {meshStack, cluster}``, and nothing else.

Everything else a member needs is the mesh stack's config, which it reads from the mesh stack's
outputs; a key set in a member stack would be silently ignored, so it is refused. The CLI gives
every stack Pulumi.yaml's project defaults, which the program's declarations generate: a key at
its declared default is no key the operator set.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from components.config.fields import Field
from components.config.kinds import DNS_LABEL, DNS_LABEL_HINT
from components.config.problems import Problems
from components.fleet.contract import MEMBER_CONFIG, FleetMember

# <org>/<project>/<stack>: Pulumi's names take letters, digits, '-', '_' and '.'.
QUALIFIED_STACK = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
FIELDS = ("meshStack", "cluster")


def at_default(field: Field[Any] | None, text: str) -> bool:
    """Whether ``text`` (a config value as the CLI passes it) is what Pulumi.yaml declares as
    ``field``'s default (``Field.declared_default``), which the CLI passes to every stack."""
    default = field.declared_default if field is not None else None
    if default is None:
        return False
    if isinstance(default, bool):
        return text == ("true" if default else "false")
    if isinstance(default, Mapping | list):
        try:
            return json.loads(text) == default
        except json.JSONDecodeError:
            return False
    return text == str(default)


def fleet_member(value: object, set_values: Mapping[str, str], fields: Sequence[Field[Any]]) -> FleetMember | None:
    """The member ``value`` (``fleetMember``, decoded) describes, given every project key the stack
    sets (``set_values``, as the CLI passes them) and the project's ``fields``; ``None`` when it is
    no member stack. Raises ``ConfigError`` naming each problem."""
    if value is None:
        return None
    problems = Problems()
    declared = {f.key: f for f in fields}
    set_keys = [key for key, text in set_values.items() if not at_default(declared.get(key), text)]
    for key in sorted(set(set_keys) - {MEMBER_CONFIG}):
        problems.add(
            key,
            "fleet-member-config",
            "is set in a member stack, whose config is its mesh stack's (fleetConfig); set it in the mesh stack, or remove it here",
        )
    if not isinstance(value, Mapping):
        problems.add(MEMBER_CONFIG, "type", "must be an object: {meshStack: <org>/<project>/<stack>, cluster: <name>}")
        problems.raise_if_any()
        return None
    for key in sorted(set(value) - set(FIELDS)):
        problems.add(f"{MEMBER_CONFIG}.{key}", "unknown-field", f"is not a field of {MEMBER_CONFIG}; it takes {', '.join(FIELDS)}")
    mesh_stack, cluster = value.get("meshStack"), value.get("cluster")
    if not isinstance(mesh_stack, str) or not QUALIFIED_STACK.fullmatch(mesh_stack):
        problems.add(
            f"{MEMBER_CONFIG}.meshStack",
            "qualified-stack",
            "must name the mesh stack fully, <org>/<project>/<stack>, as stack references do "
            "(a self-managed backend's org is organization)",
        )
    if not isinstance(cluster, str) or not DNS_LABEL.fullmatch(cluster):
        problems.add(f"{MEMBER_CONFIG}.cluster", "pattern", f"must name a cluster of the mesh's clusters; {DNS_LABEL_HINT}")
    problems.raise_if_any()
    assert isinstance(mesh_stack, str) and isinstance(cluster, str)
    return FleetMember(mesh_stack, cluster)
