"""Config builders for tests: a valid two-cluster Azure mesh and small variations of it."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.config.model import CaSpec, MeshSpec
from components.config.parse import parse_mesh_spec
from components.config.problems import ConfigError, Problem
from components.platforms import platform_configs
from tests.harness.program import stack_config


def azure_cluster(name: str, region: str, octet: int, network: str = "network1", **extra: Any) -> dict[str, Any]:
    """An AKS cluster on VNet 10.<octet>.0.0/16 with a system pool and one user pool."""
    return {
        "name": name,
        "cloud": "azure",
        "region": region,
        "network": network,
        "vnetCidr": f"10.{octet}.0.0/16",
        "serviceCidr": f"10.{octet + 100}.0.0/16",
        "dnsServiceIp": f"10.{octet + 100}.0.10",
        "nodePools": [
            {"name": "system", "mode": "System", "subnetCidr": f"10.{octet}.0.0/24"},
            {"name": "user1", "subnetCidr": f"10.{octet}.1.0/24"},
        ],
        **extra,
    }


def aws_cluster(name: str, network: str, vpc: str = "mesh-vpc", **extra: Any) -> dict[str, Any]:
    return {"name": name, "cloud": "aws", "region": "eu-west-1", "network": network, "vpc": vpc, **extra}


# An ACM certificate and a regional WAF web ACL in eu-west-1, for ingressEdge.
EDGE_CERTIFICATE = "arn:aws:acm:eu-west-1:123456789012:certificate/0f5c3c1e-8b2a-4d6f-9e1a-2b3c4d5e6f70"
EDGE_WEB_ACL = "arn:aws:wafv2:eu-west-1:123456789012:regional/webacl/mesh-edge/1a2b3c4d-5e6f-4a7b-8c9d-0e1f2a3b4c5d"


def vpc(name: str = "mesh-vpc", second_octet: int = 0, **extra: Any) -> dict[str, Any]:
    base = f"10.{second_octet}"
    return {
        "name": name,
        "region": "eu-west-1",
        "cidr": f"{base}.0.0/16",
        "zones": ["eu-west-1a", "eu-west-1b"],
        "privateSubnets": [f"{base}.0.0/20", f"{base}.16.0/20"],
        "publicSubnets": [f"{base}.48.0/24", f"{base}.49.0/24"],
        **extra,
    }


def existing_cluster(name: str, network: str, **extra: Any) -> dict[str, Any]:
    return {
        "name": name,
        "cloud": "existing",
        "network": network,
        "context": f"kind-{name}",
        "apiServerUrl": f"https://{name}.example:6443",
        **extra,
    }


def two_azure() -> dict[str, Any]:
    """westeurope-aks (10.53/16) and eastus-aks (10.52/16) on one flat network."""
    return {
        "keyVaultLocation": "eastus",
        "clusters": [azure_cluster("westeurope-aks", "westeurope", 53), azure_cluster("eastus-aks", "eastus", 52)],
    }


def n_existing(count: int) -> dict[str, Any]:
    """``count`` existing clusters, each on its own network."""
    return {"clusters": [existing_cluster(f"c{i}", f"network{i}") for i in range(1, count + 1)]}


def with_cluster(config: dict[str, Any], index: int, **changes: Any) -> dict[str, Any]:
    """A deep copy of ``config`` with fields of ``clusters[index]`` replaced (None removes a field)."""
    result = copy.deepcopy(config)
    cluster = result["clusters"][index]
    for key, value in changes.items():
        if value is None:
            cluster.pop(key, None)
        else:
            cluster[key] = value
    return result


def parse(config: dict[str, Any]) -> MeshSpec:
    """The MeshSpec of ``config`` (keys without the project prefix), with every platform registered."""
    return parse_mesh_spec(config, platform_configs())


def problems(config: dict[str, Any]) -> tuple[Problem, ...]:
    """The problems ``config`` has; fails the test if it parses."""
    with pytest.raises(ConfigError) as raised:
        parse(config)
    return raised.value.problems


def problems_of(config: dict[str, Any]) -> list[str]:
    """Each problem as the operator reads it."""
    return [str(p) for p in problems(config)]


def codes_of(config: dict[str, Any]) -> list[tuple[str, str]]:
    """Each problem's code and printed sentence."""
    return [(p.code, str(p)) for p in problems(config)]


def default_ca() -> CaSpec:
    """The CA lifetimes a stack gets when it sets none (the declared defaults)."""
    return parse(n_existing(2)).ca


# The multicloud stack's clusters, and the operators' range its tests set.
AKS, EKS = "westeurope-aks", "eu-west-1-eks"
OPERATORS = ["203.0.113.0/24"]


def multicloud_config(**changes: Any) -> dict[str, Any]:
    return {**stack_config("multicloud"), "operatorCidrs": OPERATORS, **changes}


def second_vpc(region: str = "eu-west-1", octet: int = 1) -> dict[str, Any]:
    return {
        "name": "vpc-2",
        "region": region,
        "cidr": f"10.{octet}.0.0/16",
        "zones": [f"{region}a", f"{region}c"],  # the mocked account maps us-east-1b to use1-az3, which EKS refuses
        "privateSubnets": [f"10.{octet}.0.0/20", f"10.{octet}.16.0/20"],
        "publicSubnets": [f"10.{octet}.48.0/24", f"10.{octet}.49.0/24"],
    }


def three_clusters() -> list[dict[str, Any]]:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    third = copy.deepcopy(clusters[1])
    third.update(
        name="northeurope-aks", region="northeurope", vnetCidr="10.54.0.0/16", serviceCidr="10.154.0.0/16", dnsServiceIp="10.154.0.10"
    )
    for index, pool in enumerate(third["nodePools"]):
        pool["subnetCidr"] = f"10.54.{index}.0/24"
    return [*clusters, third]
