"""Deletes the clouds refuse while another stack's resource still uses what is deleted.

One engine orders deletes within a stack by its dependencies; across stacks nothing does, and the
cloud refuses the delete of a resource that a resource of another stack still names:

- EC2 refuses to delete a security group another group's rule references, and a VPC or subnet
  that network interfaces or groups still sit in (``DependencyViolation``, "has a dependent object").
- Azure refuses to delete a subnet a cluster's nodes use (``InUseSubnetCannotBeDeleted``), a VNet
  holding it (``InUseSubnetCannotBeDeleted`` again, from the VNet's delete), and a public IP a load
  balancer's frontend holds (``PublicIPAddressInUse``).

A resource "names" another by holding its id among its inputs, as the program passes them, at any
depth (an AKS pool's subnet sits in ``agentPoolProfiles``): that is how a rule, a cluster or a load
balancer points at what it uses. Ids compare without case: Azure's resource ids are
case-insensitive, and AWS's are lower case. Not modelled: deletes an ``up`` makes (a replaced VPC
while a member's cluster sits in it; ``components.fleet.aws.network_move_problems`` refuses those
before any resource), and ACM's refusal to delete a certificate a load balancer still uses.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

from tests.harness.program import StackRun

REFUSED_WHILE_NAMED = {
    "aws:ec2/securityGroup:SecurityGroup": "DependencyViolation",
    "aws:ec2/vpc:Vpc": "DependencyViolation",
    "aws:ec2/subnet:Subnet": "DependencyViolation",
    "azure-native:network:Subnet": "InUseSubnetCannotBeDeleted",
    "azure-native:network:VirtualNetwork": "InUseSubnetCannotBeDeleted",
    "azure-native:network:PublicIPAddress": "PublicIPAddressInUse",
}


def refused_delete(gone: StackRun, others: Mapping[str, StackRun]) -> str:
    """Why the cloud refuses to destroy ``gone`` while ``others`` (other stacks' last runs, by name)
    stand ("" when it does not): the first of its resources another stack's resource names."""
    owned = {id_.casefold(): (id_, type_, code) for id_, (type_, code) in _owned_ids(gone)}
    for stack, run in others.items():
        for urn, inputs in _inputs(run):
            for value in _strings(inputs):
                if value.casefold() in owned:
                    id_, type_, code = owned[value.casefold()]
                    return f"error: deleting {type_} {id_}: {code}: it is in use by {urn} of stack {stack}"
    return ""


def _owned_ids(run: StackRun) -> Iterator[tuple[str, tuple[str, str]]]:
    """The ids of the resources of ``run`` whose delete a user elsewhere blocks, with their type
    and the cloud's error code; a remote component's children (pulumi-eks's cluster security
    group) among them."""
    made = [(r.type, r.id) for r in run.resources if r.custom and r.operation != "read"]
    made += [(p.type, p.id) for p in run.remote_children.values()]
    for type_, id_ in made:
        if type_ in REFUSED_WHILE_NAMED and id_:
            yield id_, (type_, REFUSED_WHILE_NAMED[type_])


def _inputs(run: StackRun) -> Iterator[tuple[str, Any]]:
    for resource in run.resources:
        if resource.operation != "read":
            yield resource.urn, resource.inputs


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)
