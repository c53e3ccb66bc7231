"""containerRegistry (the seed's ACR): one registry per mesh with a random name suffix, no admin
user, and AcrPull for every AKS cluster's kubelet identity; its login server is an output."""

from __future__ import annotations

from typing import Any

import pytest

from tests.configs import codes_of, n_existing
from tests.harness.accounts import SUBSCRIPTION
from tests.harness.changes import changes
from tests.harness.program import StackRun, run_stack, stack_config

AKS = ("westeurope-aks", "eastus-aks")
REGISTRY = {"location": "westeurope"}
ACR_PULL = f"/subscriptions/{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/7f951dda-4ed3-4680-a7ca-43fe172d538d"


@pytest.fixture(scope="module")
def with_registry() -> StackRun:
    return run_stack("aks", {"containerRegistry": REGISTRY})


def test_the_registry_has_a_random_suffix_and_no_admin_user(with_registry: StackRun) -> None:
    acr = with_registry.named("mesh-registry-acr")
    suffix = with_registry.named("mesh-registry-suffix")
    assert suffix.inputs == {
        "length": 6,
        "special": False,
        "upper": False,
        "keepers": {"location": "westeurope", "prefix": "istiomesh", "resourceGroup": "istio-mesh-vault-aks"},
    }
    name = acr.inputs["registryName"]
    assert name == "istiomesh" + suffix.outputs["result"] and name.isalnum() and 5 <= len(name) <= 50
    assert (acr.inputs["location"], acr.inputs["sku"], acr.inputs["adminUserEnabled"]) == ("westeurope", {"name": "Basic"}, False)
    assert acr.inputs["resourceGroupName"] == with_registry.named("mesh-vault-group").outputs["resourceGroupName"]


def test_every_kubelet_may_pull(with_registry: StackRun) -> None:
    acr = with_registry.named("mesh-registry-acr")
    for cluster in AKS:
        grant = with_registry.named(f"mesh-registry-{cluster}-acr-pull")
        kubelet = with_registry.named(f"{cluster}-aks").outputs["identityProfile"]["kubeletidentity"]["objectId"]
        assert grant.inputs == {
            "principalId": kubelet,
            "principalType": "ServicePrincipal",
            "roleDefinitionId": ACR_PULL,
            "scope": acr.id,
        }


def test_the_login_server_is_an_output(with_registry: StackRun) -> None:
    name = with_registry.named("mesh-registry-acr").inputs["registryName"]
    assert with_registry.outputs["containerRegistry"] == {"loginServer": f"{name}.azurecr.io", "name": name}
    assert "containerRegistry" not in run_stack("aks").outputs


def test_a_sku_change_updates_it_in_place_and_a_move_makes_a_new_one_first(with_registry: StackRun) -> None:
    premium = run_stack("aks", {"containerRegistry": {**REGISTRY, "sku": "Premium"}}, state=with_registry.state())
    assert changes(with_registry, premium).update == frozenset({"mesh-registry-acr"})
    old_name = with_registry.named("mesh-registry-acr").inputs["registryName"]
    # A new region, or the vault's group moving: either replaces the registry, under a new name
    # (the old one still holds its global name until it is deleted, after the new one exists).
    for move in ({"containerRegistry": {**REGISTRY, "location": "northeurope"}}, {"keyVaultResourceGroup": "other-rg"}):
        moved = run_stack("aks", {"containerRegistry": REGISTRY, **move}, state=with_registry.state())
        assert {"mesh-registry-suffix", "mesh-registry-acr"} <= changes(with_registry, moved).replace, move
        assert moved.named("mesh-registry-acr").inputs["registryName"] != old_name, move
        # Created before the old one is deleted (azure-native alone would delete first).
        assert moved.named("mesh-registry-acr").delete_first is False, move


@pytest.mark.parametrize(
    ("registry", "code", "path"),
    [
        ({"sku": "Basic"}, "required", "containerRegistry.location"),
        ({"location": "westeurope", "sku": "Gold"}, "choice", "containerRegistry.sku"),
        ({"location": "westeurope", "namePrefix": "mesh-acr"}, "pattern", "containerRegistry.namePrefix"),
        ({"location": "westeurope", "namePrefix": "m" * 45}, "pattern", "containerRegistry.namePrefix"),
        ({"location": "westeurope", "adminUser": True}, "unknown-field", "containerRegistry.adminUser"),
    ],
)
def test_a_bad_registry_is_refused_naming_the_field(registry: dict[str, Any], code: str, path: str) -> None:
    config = {**stack_config("aks"), "containerRegistry": registry}
    found = [(c, m) for c, m in codes_of(config) if m.startswith("containerRegistry")]
    assert [c for c, _ in found] == [code]
    assert found[0][1].startswith(f"{path}: ")


def test_without_aks_clusters_it_is_refused_as_unused() -> None:
    found = codes_of({**n_existing(2), "containerRegistry": REGISTRY})
    assert found == [("unused", "containerRegistry: is only used with azure clusters (cloud: azure), and this mesh has none; remove it")]
