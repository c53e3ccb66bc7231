"""A security group's ingress rules as EC2 keeps them, which plain mocks do not: no two rules of
one group may admit the same protocol, ports and source (EC2 AuthorizeSecurityGroupIngress refuses
the second, ``InvalidPermission.Duplicate``). terraform-provider-aws creates a
``SecurityGroupIngressRule`` with AuthorizeSecurityGroupIngress and updates it in place
(ModifySecurityGroupRules); a replacement creates the new rule before the old one is deleted,
unless it deletes first, and deletes come at the end of an update, so a rule renamed without an
alias is created beside its old self and refused. Rules are regional: each is known with the
provider it goes through (one per region), so a rule moved to another region's group never meets
its old self.
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


Rule = tuple[str, Mapping[str, Any]]
"""A rule: the URN of the provider it goes through (its region), and its inputs."""


def rule_key(rule: Rule) -> tuple[object, ...]:
    """What EC2 tells a region's rules apart by; all traffic (-1) has no ports."""
    provider, inputs = rule
    all_traffic = str(inputs.get("ipProtocol")) == "-1"
    return (provider, *(None if all_traffic and key in ("fromPort", "toPort") else inputs.get(key) for key in KEYS))


class SecurityGroupRules:
    """The rules every group holds, starting with those of the state the run starts from."""

    def __init__(self, held: Iterable[Rule]) -> None:
        self._held = Counter(rule_key(rule) for rule in held)

    def write(self, operation: str, prior: Rule | None, rule: Rule, *, delete_first: bool = False) -> str:
        """Apply one rule's step (``create``, ``update``, ``replace`` or ``same``); returns EC2's
        refusal ("" when it takes it)."""
        with _CALLS:
            key = rule_key(rule)
            if operation == "same":
                return ""
            if prior is not None and (operation == "update" or delete_first):
                self._held[rule_key(prior)] -= 1
            if self._held[key] > 0:
                return f"InvalidPermission.Duplicate: the specified rule {dict(zip(KEYS, key[1:], strict=True))} already exists"
            self._held[key] += 1
            return ""
