"""A security group's ingress rules as EC2 keeps them, which plain mocks do not: no two rules of
one group may admit the same protocol, ports and source (EC2 AuthorizeSecurityGroupIngress refuses
the second, ``InvalidPermission.Duplicate``). terraform-provider-aws creates a
``SecurityGroupIngressRule`` with AuthorizeSecurityGroupIngress and updates it in place
(ModifySecurityGroupRules); a replacement creates the new rule before the old one is deleted,
unless it deletes first, and deletes come at the end of an update, so a rule renamed without an
alias is created beside its old self and refused.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

RULE = "aws:vpc/securityGroupIngressRule:SecurityGroupIngressRule"
KEYS = ("securityGroupId", "ipProtocol", "fromPort", "toPort", "cidrIpv4", "cidrIpv6", "referencedSecurityGroupId", "prefixListId")
# The SDK registers resources from a thread pool; EC2 takes one call at a time here.
_CALLS = threading.Lock()


def rule_key(inputs: Mapping[str, Any]) -> tuple[object, ...]:
    """What EC2 tells a group's rules apart by; all traffic (-1) has no ports."""
    all_traffic = str(inputs.get("ipProtocol")) == "-1"
    return tuple(None if all_traffic and key in ("fromPort", "toPort") else inputs.get(key) for key in KEYS)


class SecurityGroupRules:
    """The rules every group holds, starting with those of the state the run starts from."""

    def __init__(self, held: Iterable[Mapping[str, Any]]) -> None:
        self._held = Counter(rule_key(inputs) for inputs in held)

    def write(self, operation: str, prior: Mapping[str, Any] | None, inputs: Mapping[str, Any], *, delete_first: bool = False) -> str:
        """Apply one rule's step (``create``, ``update``, ``replace`` or ``same``); returns EC2's
        refusal ("" when it takes it)."""
        with _CALLS:
            key = rule_key(inputs)
            if operation == "same":
                return ""
            if prior is not None and (operation == "update" or delete_first):
                self._held[rule_key(prior)] -= 1
            if self._held[key] > 0:
                return f"InvalidPermission.Duplicate: the specified rule {dict(zip(KEYS, key, strict=True))} already exists"
            self._held[key] += 1
            return ""
