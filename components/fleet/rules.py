"""What fleet mode builds today, and the refusal of the rest, naming the field.

A member stack builds one cluster from the mesh's config: an existing one, or EKS on the VPC the
mesh stack made, on one platform or across both (each admitting the others' egress addresses, which
the mesh stack exports). What is not split yet: AKS's shared VNets and Key Vault copies, and a
Traffic Manager profile (AKS). One Route 53 name over every ingress is each member's record.
"""

from __future__ import annotations

from components.config.model import DnsService, MeshSpec
from components.config.problems import Problem
from components.platforms.aws.config import NAME as AWS
from components.platforms.existing.config import NAME as EXISTING

# The platforms whose clusters a member stack builds: an existing cluster, or EKS on the VPC the
# mesh stack made. AKS is refused: its VNets, peerings and Key Vault copies are not split yet.
FLEET_CLOUDS = frozenset({EXISTING, AWS})

WHY = "fleet mode does not split it across member stacks yet; run this mesh as one stack (fleetMesh: false)"


def fleet_problems(mesh: MeshSpec) -> list[Problem]:
    """Why ``mesh`` cannot run as a fleet (empty when it can)."""
    found = [
        Problem(f"clusters[{index}].cloud", "fleet-unsupported", f"is {c.cloud}: fleet mode builds existing and EKS clusters; {WHY}")
        for index, c in enumerate(mesh.clusters)
        if c.cloud not in FLEET_CLOUDS
    ]
    if mesh.ingress_dns is not None and mesh.ingress_dns.service is not DnsService.ROUTE53:
        found.append(
            Problem(
                "ingressDns.service",
                "fleet-unsupported",
                f"is {mesh.ingress_dns.service.value}: a Traffic Manager profile over AKS clusters; {WHY}",
            )
        )
    return found
