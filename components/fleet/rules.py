"""What fleet mode builds today, and the refusal of the rest, naming the field.

A member stack builds one cluster from the mesh's config: an existing one, EKS on the VPC the mesh
stack made, or AKS on the VNet it made, on one platform or across several (each admitting the
others' egress addresses, which the mesh stack exports). One Route 53 name over every ingress is
each member's record. What is not split yet: a Traffic Manager profile, one resource whose
endpoints are every cluster's ingress.
"""

from __future__ import annotations

from components.config.model import DnsService, MeshSpec
from components.config.problems import Problem

WHY = "fleet mode does not split it across member stacks yet; run this mesh as one stack (fleetMesh: false)"


def fleet_problems(mesh: MeshSpec) -> list[Problem]:
    """Why ``mesh`` cannot run as a fleet (empty when it can)."""
    found: list[Problem] = []
    if mesh.ingress_dns is not None and mesh.ingress_dns.service is not DnsService.ROUTE53:
        message = f"is {mesh.ingress_dns.service.value}: one Traffic Manager profile spans every cluster's endpoint; {WHY}"
        found.append(Problem("ingressDns.service", "fleet-unsupported", message))
    return found
