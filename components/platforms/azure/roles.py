"""Azure built-in roles the program assigns (ids from Azure's built-in roles reference)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import pulumi
import pulumi_azure_native as azure_native
import pulumiverse_time as time

# Manage networks (AKS places internal load balancers and node NICs in the pools' subnets).
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"
# Read secret contents (istiod's identity, its own cluster's CA files).
KEY_VAULT_SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
# Every action on secrets but managing permissions (the deployer: azure-native deletes secrets through the data plane).
KEY_VAULT_SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
# Pull images from a container registry (every AKS cluster's kubelet identity).
ACR_PULL = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
# Manage all resources in a cluster through Azure RBAC for Kubernetes (the deployer, with Entra ID).
AKS_RBAC_CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"

# How long the program waits after a grant before whatever needs it. AKS documents that new role
# assignments for Kubernetes authorization "can take up to five minutes to propagate" ("Use Azure
# RBAC for Kubernetes Authorization"), and the Kubernetes provider does not retry a 403. Key Vault's
# RBAC guide gives about 10 minutes for a data-plane grant: istiod's rollout follows the wait and
# Helm then waits 600 s while the CSI driver retries the mount, so 5 + 10 minutes cover it, where
# no wait left istiod's first rollout failing on grants made seconds before it.
GRANT_PROPAGATION = "5m"


def role_definition(subscription_id: pulumi.Input[str], role: str) -> pulumi.Output[str]:
    return pulumi.Output.concat("/subscriptions/", subscription_id, "/providers/Microsoft.Authorization/roleDefinitions/", role)


def assign_role(
    name: str,
    principal_id: pulumi.Input[str],
    role: str,
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    *,
    service_principal: bool = False,
) -> azure_native.authorization.RoleAssignment:
    """``role`` for ``principal_id`` on ``scope``. ``service_principal`` says the principal is a
    managed identity (Azure then skips waiting for it to replicate); the deployer may be a user,
    so its type is left for Azure to find (default false)."""
    return azure_native.authorization.RoleAssignment(
        name,
        principal_id=principal_id,
        principal_type="ServicePrincipal" if service_principal else None,
        role_definition_id=role_definition(subscription_id, role),
        scope=scope,
        opts=opts,
    )


def grant_each(
    names: Callable[[str], str],
    principals: Sequence[str],
    role: str,
    scope: pulumi.Input[str],
    subscription_id: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
) -> list[azure_native.authorization.RoleAssignment]:
    """``role`` on ``scope`` for each of ``principals``, the assignment named ``names(principal)``."""
    return [assign_role(names(p), p, role, scope, subscription_id, opts) for p in principals]


def propagation_wait(name: str, grants: Sequence[pulumi.Resource], keys: pulumi.Input[str], opts: pulumi.ResourceOptions) -> time.Sleep:
    """A wait of ``GRANT_PROPAGATION`` after ``grants`` are made, for what must not run before they
    take effect. ``keys`` (e.g. the grants' ids, joined) are its trigger: a grant made anew (a new
    principal, scope or role) waits again; an unchanged one is not waited for on later runs."""
    return time.Sleep(
        name,
        create_duration=GRANT_PROPAGATION,
        triggers={"grants": keys},
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(grants))),
    )


def joined_ids(resources: Sequence[pulumi.CustomResource]) -> pulumi.Output[str]:
    """The resources' ids, one string, for a trigger."""
    return pulumi.Output.all(*(r.id for r in resources)).apply(lambda ids: ",".join(sorted(str(i) for i in ids)))
