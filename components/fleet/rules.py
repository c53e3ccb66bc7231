"""What fleet mode builds today, and the refusal of the rest, naming the field.

A member stack builds one cluster from the mesh's config; what needs several clusters in one stack
is not split yet: clouds' shared networks and CA copies (AKS and EKS), and one DNS name over
every ingress.
"""

from __future__ import annotations

from components.config.model import MeshSpec
from components.config.problems import Problem
from components.platforms.existing.config import NAME as EXISTING

WHY = "fleet mode does not split it across member stacks yet; run this mesh as one stack (fleetMesh: false)"


def fleet_problems(mesh: MeshSpec) -> list[Problem]:
    """Why ``mesh`` cannot run as a fleet (empty when it can)."""
    found = [
        Problem(f"clusters[{index}].cloud", "fleet-unsupported", f"is {c.cloud}: fleet mode builds existing clusters; {WHY}")
        for index, c in enumerate(mesh.clusters)
        if c.cloud != EXISTING
    ]
    if mesh.ingress_dns is not None:
        found.append(Problem("ingressDns", "fleet-unsupported", f"one name covers every cluster's ingress; {WHY}"))
    return found
