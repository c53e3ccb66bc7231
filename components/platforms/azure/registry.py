"""MeshRegistry: an Azure Container Registry for the mesh's images, which every AKS cluster pulls from.

In the vault's resource group, in a region fixed by config. Its name is the configured prefix and
six random characters from pulumi-random (registry names are global, 5-50 letters or digits, no
dash); a new region, prefix or resource group (the vault's moving) gets a new suffix, so the new
registry is created before the old one is deleted. No admin user: each cluster's kubelet identity (the managed identity its nodes pull
images with, AKS's ``identityProfile.kubeletidentity``) gets AcrPull on the registry, so no
imagePullSecret is needed. Images pushed to the old registry do not move with it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_azure_native as azure_native
import pulumi_random as random

from components.platforms.azure import names
from components.platforms.azure.config import RegistrySpec
from components.platforms.azure.roles import ACR_PULL, assign_role

SUFFIX_LENGTH = 6


@dataclass(frozen=True)
class MeshRegistryArgs:
    """Inputs of ``MeshRegistry``.

    Args:
        spec: its region, SKU and name prefix.
        resource_group_name: the group it lives in (the vault's).
        subscription_id: for the role definition id.
        kubelets: each AKS cluster's kubelet identity (its object id), by cluster.
    """

    spec: RegistrySpec
    resource_group_name: pulumi.Input[str]
    subscription_id: pulumi.Input[str]
    kubelets: Mapping[str, pulumi.Input[str]]


class MeshRegistry(pulumi.ComponentResource):
    """See the module docstring. Outputs: ``login_server``, ``registry_name``, ``registry_id``."""

    login_server: pulumi.Output[str]
    registry_name: pulumi.Output[str]
    registry_id: pulumi.Output[str]

    def __init__(self, name: str, args: MeshRegistryArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.REGISTRY.type, name, None, opts)
        child = pulumi.ResourceOptions(parent=self)
        spec = args.spec
        suffix = random.RandomString(
            names.REGISTRY_SUFFIX.name(registry=name),
            length=SUFFIX_LENGTH,
            special=False,
            upper=False,
            # Every input that replaces the registry: a replacement under the same global name would
            # be created before the old one is deleted, which Azure refuses.
            keepers={"location": spec.location, "prefix": spec.name_prefix, "resourceGroup": args.resource_group_name},
            opts=child,
        )
        # azure-native deletes an explicitly named resource before creating its replacement
        # (provider.go Diff); a moved registry always has a new name, so it is made first.
        registry = azure_native.containerregistry.Registry(
            names.REGISTRY_REGISTRY.name(registry=name),
            registry_name=pulumi.Output.concat(spec.name_prefix, suffix.result),
            resource_group_name=args.resource_group_name,
            location=spec.location,
            sku=azure_native.containerregistry.SkuArgs(name=spec.sku),
            admin_user_enabled=False,
            opts=pulumi.ResourceOptions.merge(child, pulumi.ResourceOptions(delete_before_replace=False)),
        )
        for cluster, kubelet in args.kubelets.items():
            grant_pull(name, cluster, kubelet, registry.id, args.subscription_id, child)
        self.login_server = registry.login_server
        self.registry_name = registry.name
        self.registry_id = registry.id
        self.register_outputs({"loginServer": self.login_server, "name": self.registry_name})


def grant_pull(
    registry: str,
    cluster: str,
    kubelet: pulumi.Input[str],
    registry_id: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> pulumi.Resource:
    """AcrPull on the registry for ``cluster``'s kubelet identity (``registry``: the registry
    component's name, which names the grant). A kubelet identity is a managed identity: Azure need
    not wait for it to replicate."""
    return assign_role(
        names.ACR_PULL.name(registry=registry, cluster=cluster),
        kubelet,
        ACR_PULL,
        registry_id,
        subscription_id,
        opts,
        service_principal=True,
    )
