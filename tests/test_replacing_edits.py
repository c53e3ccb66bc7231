"""The config edits that replace resources, as the README's "Which edits replace what" lists them:
each edit's second ``pulumi up`` replaces exactly these resources (the harness applies each
provider's replacement rules, ``tests/harness/replacements.py``)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.platforms.aws.config import CLUSTER_FIELDS as AWS_CLUSTER_FIELDS
from components.platforms.azure.config import POOL_FIELDS
from tests.harness.changes import changes, named
from tests.harness.program import UpdateFailed, run_stack, stack_config


def cluster(stack: str, index: int, **fields: Any) -> dict[str, Any]:
    """The stack's clusters with ``fields`` set on ``clusters[index]``."""
    clusters = copy.deepcopy(stack_config(stack)["clusters"])
    clusters[index].update(fields)
    return {"clusters": clusters}


def aks_pool(index: int, **fields: Any) -> dict[str, Any]:
    edited = cluster("aks", 1)
    edited["clusters"][1]["nodePools"][index].update(fields)
    return edited


def eks_group(**fields: Any) -> dict[str, Any]:
    edited = cluster("eks", 0)
    edited["clusters"][0]["nodeGroups"] = [{"name": "default", **fields}]
    return edited


def vpc(**fields: Any) -> dict[str, Any]:
    vpcs = copy.deepcopy(stack_config("eks")["vpcs"])
    vpcs[0].update(fields)
    return {"vpcs": vpcs}


MESH_VPC_SUBNETS = named(["aws-mesh-vpc-{c}-0", "aws-mesh-vpc-{c}-1", "aws-mesh-vpc-{c}-2"], ["private-subnet", "public-subnet"])
SECRETS = ("root-cert", *(f"{c}-{f}" for c in ("cluster-1", "cluster-2") for f in ("ca-cert", "ca-key", "cert-chain")))
EDITS: dict[str, tuple[str, dict[str, Any], frozenset[str]]] = {
    "AKS serviceCidr": ("aks", cluster("aks", 1, serviceCidr="10.160.0.0/16", dnsServiceIp="10.160.0.10"), frozenset({"eastus-aks-aks"})),
    "AKS networkPolicy": ("aks", cluster("aks", 1, networkPolicy="azure"), frozenset({"eastus-aks-aks"})),
    "AKS user pool vmSize": ("aks", aks_pool(1, vmSize="Standard_D8s_v5"), frozenset({"eastus-aks-user1"})),
    "EKS instanceTypes": ("eks", eks_group(instanceTypes=["m5.xlarge"]), frozenset({"cluster-1-default"})),
    "VPC cidr": (
        "eks",
        vpc(
            cidr="10.9.0.0/16",
            privateSubnets=["10.9.0.0/20", "10.9.16.0/20", "10.9.32.0/20"],
            publicSubnets=["10.9.48.0/24", "10.9.49.0/24", "10.9.50.0/24"],
        ),
        MESH_VPC_SUBNETS | {"aws-mesh-vpc-vpc"},
    ),
    "secretsRegion": (
        "eks",
        {"secretsRegion": "us-east-1"},
        frozenset(f"mesh-secrets-{s} ({kind})" for s in SECRETS for kind in ("Secret", "SecretVersion")),
    ),
    "verifyImage": (
        "eks",
        {"verifyImage": "registry.istio.io/release/examples-helloworld-v1:1.1"},
        frozenset({"mesh-check-cluster-1-probe", "mesh-check-cluster-2-probe"}),
    ),
}


@pytest.mark.parametrize("edit", EDITS)
def test_an_edit_replaces_exactly_what_the_readme_says(edit: str) -> None:
    stack, overrides, replaced = EDITS[edit]
    before = run_stack(stack)
    after = run_stack(stack, overrides, state=before.state())
    assert changes(before, after).replace == replaced


def test_a_replaced_aks_cluster_keeps_its_id_so_its_objects_look_untouched() -> None:
    """Why the README says to take a cluster out of the mesh and add it back rather than edit a
    field that replaces it: AKS gives the replacement the same ARM id, the kubernetes provider is
    keyed on that id, so Pulumi leaves every object on the (new, empty) cluster as it believes it is."""
    before = run_stack("aks")
    after = run_stack("aks", EDITS["AKS serviceCidr"][1], state=before.state())
    assert after.named("eastus-aks-aks").id == before.named("eastus-aks-aks").id
    on_cluster = [r for r in after.resources if r.provider_urn == after.named("eastus-aks-provider").urn and r.custom]
    # Reads (the gateways' Services) read again every run; every object is left alone.
    assert on_cluster and {r.operation for r in on_cluster if r.operation != "read"} == {"same"}


# --- Edits AKS refuses: the update fails -------------------------------------------------------


def first_system_pool_edit(field: str, value: Any, pool: int = 0) -> dict[str, Any]:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["nodePools"][pool][field] = value
    return {"clusters": clusters}


@pytest.mark.parametrize(
    ("field", "value", "pool", "refused"),
    [
        ("vmSize", "Standard_D8s_v5", 0, "PropertyChangeNotAllowed: Changing property 'vmSize' is not allowed (agent pool system)"),
        (
            "availabilityZones",
            ["1", "2"],
            0,
            "PropertyChangeNotAllowed: Changing property 'availabilityZones' is not allowed (agent pool system)",
        ),
        ("subnetCidr", "10.53.4.0/24", 0, "InUseSubnetCannotBeUpdated: the subnet is in use and its address range cannot be changed"),
        ("subnetCidr", "10.53.4.0/24", 1, "InUseSubnetCannotBeUpdated: the subnet is in use and its address range cannot be changed"),
        ("availabilityZones", ["1"], 1, "PropertyChangeNotAllowed: Changing property 'availabilityZones' is not allowed"),
    ],
)
def test_an_edit_aks_refuses_fails_the_update_and_its_help_says_so(field: str, value: Any, pool: int, refused: str) -> None:
    """The first System pool lives in the cluster's own PUT, where AKS refuses to change a pool's
    fixed fields; an added pool's zones are refused likewise. No provider replaces these, so the
    `up` fails: the field's help and the README say so, and how to make the change."""
    before = run_stack("aks")
    with pytest.raises(UpdateFailed) as failed:
        run_stack("aks", first_system_pool_edit(field, value, pool), state=before.state())
    (error,) = failed.value.errors
    assert error.endswith(f"updating failed: {refused}")
    help_text = next(f.description for f in POOL_FIELDS if f.key == field)
    assert "the `up` fails" in help_text


def test_an_added_pools_vm_size_replaces_that_pool() -> None:
    before = run_stack("aks")
    after = run_stack("aks", first_system_pool_edit("vmSize", "Standard_D8s_v5", pool=1), state=before.state())
    assert changes(before, after).replace == {"westeurope-aks-user1"}


def test_an_eks_service_range_edit_fails_as_eks_keeps_the_clusters_name() -> None:
    """pulumi-eks replaces the cluster for a new service range, creating the new one first under
    the same name, which EKS refuses: the field's help says to take the cluster out instead."""
    before = run_stack("eks")
    with pytest.raises(UpdateFailed) as failed:
        run_stack("eks", cluster("eks", 1, serviceCidr="172.21.0.0/16"), state=before.state())
    (error,) = failed.value.errors
    assert error.endswith(
        "creating the replacement failed: ResourceInUseException: 'cluster-2' already exists: "
        "the replacement is created before the old one is deleted"
    )
    assert "take the cluster out of `clusters`" in next(f.description for f in AWS_CLUSTER_FIELDS if f.key == "serviceCidr")


def test_new_instance_types_replace_a_node_group_under_a_new_name() -> None:
    before = run_stack("eks")
    after = run_stack("eks", EDITS["EKS instanceTypes"][1], state=before.state())
    group = after.named("cluster-1-default")
    assert group.operation == "replace" and not group.delete_first
    assert group.inputs["nodeGroupNamePrefix"] == "cluster-1-default-" and "nodeGroupName" not in group.inputs
