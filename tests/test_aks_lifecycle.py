"""AKS as a real ``pulumi up`` and ``pulumi destroy`` see it, and the mesh CA delivered from Key Vault."""

from __future__ import annotations

import copy
import datetime
import ipaddress
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from azure.core.credentials import AccessToken

from components.config.problems import ConfigError
from components.entra import credential
from components.k8s.aks_token import AKS_SERVER_APP, aks_token, exec_command
from tests.configs import codes_of, parse, two_azure, with_cluster
from tests.expected import ca_bundle_annotation, istiod_identity, istiod_values_from_vault
from tests.harness import engine
from tests.harness.accounts import DEPLOYER_OBJECT_ID
from tests.harness.changes import Changes, changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import StackRun, refreshes_every_run, run_program, run_stack, stack_config

ROOT = Path(__file__).resolve().parents[1]
SECRETS_OFFICER = "b86a8fe4-44ce-4948-aee5-eccb2c155cd7"
SECRETS_USER = "4633458b-17de-408a-b874-0445c86b69e6"
CLUSTER_ADMIN = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
DEPLOYER = DEPLOYER_OBJECT_ID  # the mocked getClientConfig's objectId
CLUSTERS = ("westeurope-aks", "eastus-aks")
FILES = ("ca-cert.pem", "ca-key.pem", "root-cert.pem", "cert-chain.pem")


def grants(run: StackRun, role: str) -> list[Any]:
    return [r for r in run.of_type("azure-native:authorization:RoleAssignment") if r.inputs["roleDefinitionId"].endswith(role)]


def test_the_deployer_may_delete_secrets_and_the_grant_outlives_every_secret(aks_run: StackRun) -> None:
    (writer,) = grants(aks_run, SECRETS_OFFICER)
    assert writer.name == "mesh-vault-deployer-secrets-officer"
    assert (writer.inputs["principalId"], writer.inputs["scope"]) == (DEPLOYER, aks_run.named("mesh-vault-vault").id)
    secrets = [r.name for r in aks_run.of_type("azure-native:keyvault:Secret")]
    assert len(secrets) == 7
    assert all(aks_run.needs(secret, writer.name) for secret in secrets)
    waves = aks_run.destroy_waves()
    wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
    assert max(wave_of[s] for s in secrets) < wave_of[writer.name] < wave_of["mesh-vault-vault"] < wave_of["mesh-vault-group"]


@pytest.fixture(scope="module")
def from_vault() -> StackRun:
    return run_stack("aks", {"caDelivery": "keyVault"})


def test_istiod_has_an_identity_federated_to_its_service_account(from_vault: StackRun) -> None:
    for cluster in CLUSTERS:
        identity = from_vault.named(f"{cluster}-istiod-vault-identity")
        assert (identity.inputs["resourceName"], identity.inputs["resourceGroupName"]) == (
            f"{cluster}-istiod",
            f"istio-aks-{cluster.split('-')[0]}",
        )
        federation = from_vault.named(f"{cluster}-istiod-vault-federation-istiod-1-30-3").inputs
        issuer = from_vault.named(f"{cluster}-aks").outputs["oidcIssuerProfile"]["issuerURL"]
        assert federation == {
            "resourceName": identity.outputs["name"],
            "federatedIdentityCredentialResourceName": "istiod-1-30-3",
            "resourceGroupName": identity.inputs["resourceGroupName"],
            "issuer": issuer,
            "subject": "system:serviceaccount:istio-system:istiod-1-30-3",
            "audiences": ["api://AzureADTokenExchange"],
        }


def test_istiods_identity_reads_exactly_its_own_clusters_four_secrets(from_vault: StackRun) -> None:
    readers = grants(from_vault, SECRETS_USER)
    for cluster in CLUSTERS:
        principal = from_vault.named(f"{cluster}-istiod-vault-identity").outputs["principalId"]
        scopes = sorted(g.inputs["scope"].rsplit("/", 1)[1] for g in readers if g.inputs["principalId"] == principal)
        assert scopes == sorted(["mesh-root-cert", f"{cluster}-ca-cert", f"{cluster}-ca-key", f"{cluster}-cert-chain"])
    assert len(readers) == 8  # nothing else reads them: no node-wide add-on identity
    assert all(g.inputs["principalType"] == "ServicePrincipal" for g in readers)


def test_a_secret_provider_class_writes_the_four_files_istiod_expects(from_vault: StackRun) -> None:
    spc = from_vault.named("westeurope-aks-istio-ca-files").inputs
    assert (spc["apiVersion"], spc["kind"], spc["metadata"]) == (
        "secrets-store.csi.x-k8s.io/v1",
        "SecretProviderClass",
        {"name": "istio-cacerts", "namespace": "istio-system"},
    )
    identity = from_vault.named("westeurope-aks-istiod-vault-identity").outputs
    parameters = spc["spec"]["parameters"]
    assert spc["spec"]["provider"] == "azure"
    assert {k: v for k, v in parameters.items() if k != "objects"} == {
        "usePodIdentity": "false",
        "clientID": identity["clientId"],
        "keyvaultName": from_vault.outputs["keyVault"]["name"],
        "tenantID": "11111111-1111-1111-1111-111111111111",
    }
    objects = [yaml.safe_load(document) for document in yaml.safe_load(parameters["objects"])["array"]]
    assert objects == [
        {"objectName": "mesh-root-cert", "objectType": "secret", "objectAlias": "root-cert.pem"},
        {"objectName": "westeurope-aks-ca-cert", "objectType": "secret", "objectAlias": "ca-cert.pem"},
        {"objectName": "westeurope-aks-ca-key", "objectType": "secret", "objectAlias": "ca-key.pem"},
        {"objectName": "westeurope-aks-cert-chain", "objectType": "secret", "objectAlias": "cert-chain.pem"},
    ]
    assert sorted(o["objectAlias"] for o in objects) == sorted(FILES)


def test_istiod_mounts_the_files_beside_the_charts_cacerts_mount_and_reads_them_from_there(from_vault: StackRun) -> None:
    values = from_vault.named("westeurope-aks-istio-istiod-1-30-3").inputs["values"]
    assert values == istiod_values_from_vault(from_vault, "westeurope-aks")


def test_the_users_volumes_labels_and_annotations_are_kept_beside_the_programs_own() -> None:
    mesh_wide = {
        "podLabels": {"team": "mesh"},
        "volumes": [{"name": "extra", "emptyDir": {}}],
        "env": {"PILOT_TRACE_SAMPLING": "5"},
    }
    own = {
        "serviceAccountAnnotations": {"example.com/owner": "platform"},
        "volumeMounts": [{"name": "extra", "mountPath": "/var/extra"}],
        "podLabels": {"tier": "control"},
    }
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["istiodValues"] = own
    run = run_stack("aks", {"caDelivery": "keyVault", "istiodValues": mesh_wide, "clusters": clusters})
    client = run.named("westeurope-aks-istiod-vault-identity").outputs["clientId"]
    assert run.named("westeurope-aks-istio-istiod-1-30-3").inputs["values"] == {
        **istiod_identity("westeurope-aks", "network1"),
        **ca_bundle_annotation(run),
        "meshConfig": {"accessLogFile": "/dev/stdout"},
        "podLabels": {"team": "mesh", "tier": "control", "azure.workload.identity/use": "true"},
        "serviceAccountAnnotations": {"example.com/owner": "platform", "azure.workload.identity/client-id": client},
        "volumes": [
            {"name": "extra", "emptyDir": {}},
            {
                "name": "cacerts-files",
                "csi": {
                    "driver": "secrets-store.csi.k8s.io",
                    "readOnly": True,
                    "volumeAttributes": {"secretProviderClass": "istio-cacerts"},
                },
            },
        ],
        "volumeMounts": [
            {"name": "extra", "mountPath": "/var/extra"},
            {"name": "cacerts-files", "mountPath": "/etc/cacerts-files", "readOnly": True},
        ],
        "env": {"PILOT_TRACE_SAMPLING": "5", "ROOT_CA_DIR": "/etc/cacerts-files"},
    }


def test_istiod_values_of_the_wrong_shape_are_refused_before_any_resource() -> None:
    """Merged into the program's, they raised a TypeError after 68 resources (labels as a list) or
    were spliced in character by character (volumes as text)."""
    mocks = MeshMocks()
    values = {"podLabels": ["team=mesh"], "volumes": "extra"}
    with pytest.raises(ConfigError) as raised:
        run_program({**stack_config("aks"), "caDelivery": "keyVault", "istiodValues": values}, stack="aks", mocks=mocks)
    assert mocks.monitor is not None and mocks.monitor.registered == []
    assert [p.path for p in raised.value.problems] == ["istiodValues.volumes", "istiodValues.podLabels"]


def test_no_ca_key_sits_in_a_kubernetes_secret_and_istiod_waits_for_its_access(from_vault: StackRun) -> None:
    assert not [r for r in from_vault.resources if r.name.endswith("-istio-cacerts")]
    istiod = "eastus-aks-istio-istiod-1-30-3"
    for needed in (
        "eastus-aks-istio-ca-files",
        "eastus-aks-istiod-vault-identity",
        "eastus-aks-istiod-vault-federation-istiod-1-30-3",
        "eastus-aks-istiod-vault-reads-ca-key",
        "mesh-vault-eastus-aks-ca-key",
    ):
        assert from_vault.needs(istiod, needed), needed
    assert from_vault.named("eastus-aks-aks").inputs["addonProfiles"] == {
        "azureKeyvaultSecretsProvider": {"enabled": True, "config": {"enableSecretRotation": "true", "rotationPollInterval": "2m"}}
    }


def test_adding_a_node_pool_adds_its_pool_subnet_and_grant_and_changes_nothing_else(aks_run: StackRun) -> None:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["nodePools"].append({"name": "user3", "vmSize": "Standard_D4s_v5", "subnetCidr": "10.53.3.0/24", "count": 1})
    after = run_stack("aks", {"clusters": clusters}, state=aks_run.state())
    changed = {r.name: r.operation for r in after.resources if r.operation not in ("same", "read")}
    assert changed == {
        "westeurope-aks-user3": "create",
        "azure-westeurope-aks-user3-subnet": "create",
        "westeurope-aks-user3-subnet-network-contributor": "create",
    }


def test_reordering_clusters_leaves_the_vault_where_it_is(aks_run: StackRun) -> None:
    clusters = list(reversed(stack_config("aks")["clusters"]))
    after = run_stack("aks", {"clusters": clusters}, state=aks_run.state())
    vault = [r for r in after.resources if r.name.startswith("mesh-vault")]
    assert vault and {r.operation for r in vault} == {"same"}


def test_the_vaults_home_can_be_set() -> None:
    run = run_stack("aks", {"keyVaultLocation": "northeurope", "keyVaultResourceGroup": "platform-secrets"})
    assert run.named("mesh-vault-group").inputs == {"resourceGroupName": "platform-secrets", "location": "northeurope"}
    assert run.named("mesh-vault-vault").inputs["location"] == "northeurope"


VAULT_COPIES = frozenset(
    {"mesh-vault-mesh-root-cert"} | {f"mesh-vault-{c}-{f}" for c in CLUSTERS for f in ("ca-cert", "ca-key", "cert-chain")}
)
ISTIOD_READS = frozenset(f"{c}-istiod-vault-reads-{f.removesuffix('.pem')}" for c in CLUSTERS for f in FILES)
# New grants are waited for again before istiod reads through them.
ISTIOD_READS_WAITS = frozenset(f"{c}-istiod-vault-reads-propagation" for c in CLUSTERS)
VAULT_MOVED = Changes(
    update=frozenset(f"{c}-istio-ca-files" for c in CLUSTERS),
    replace=frozenset({"mesh-vault-suffix", "mesh-vault-vault", "mesh-vault-deployer-secrets-officer"})
    | VAULT_COPIES
    | ISTIOD_READS
    | ISTIOD_READS_WAITS,
)
VAULT_MOVES = {
    "keyVaultLocation": ({"keyVaultLocation": "northeurope"}, VAULT_MOVED),
    "keyVaultNamePrefix": ({"keyVaultNamePrefix": "meshca"}, VAULT_MOVED),
    "keyVaultResourceGroup": (
        {"keyVaultResourceGroup": "platform-secrets"},
        VAULT_MOVED | Changes(replace=frozenset({"mesh-vault-group"})),
    ),
}


@pytest.mark.parametrize("edit", VAULT_MOVES)
def test_a_moved_vault_is_a_new_vault_made_before_the_old_one_goes(from_vault: StackRun, edit: str) -> None:
    """A vault cannot move, and a deleted vault keeps its name while soft-deleted: the program makes
    a new vault under a new name, with the CA copies and every grant on them, points istiod's CA
    files at it, and only then deletes the old ones (nothing is deleted first). The vault's group
    stays where it is unless it is renamed (then a new group, made first too)."""
    overrides, expected = VAULT_MOVES[edit]
    after = run_stack("aks", {"caDelivery": "keyVault", **overrides}, state=from_vault.state())
    assert changes(from_vault, after) == expected
    assert not [r.name for r in after.resources if r.operation == "replace" and r.delete_first]
    old, new = from_vault.outputs["keyVault"]["name"], after.outputs["keyVault"]["name"]
    assert new != old and new.startswith(overrides.get("keyVaultNamePrefix", "istiomesh") + "-")
    spc = after.named("eastus-aks-istio-ca-files").inputs["spec"]["parameters"]
    assert spc["keyvaultName"] == new
    readers = {g.inputs["scope"] for g in grants(after, SECRETS_USER)}
    assert readers == {s.id for s in after.of_type("azure-native:keyvault:Secret")}
    assert all(f"/vaults/{new}/" in scope for scope in readers)
    again = run_stack("aks", {"caDelivery": "keyVault", **overrides}, state=after.state())
    assert changes(after, again) == Changes()


def test_a_moved_vault_keeps_its_group_where_it_was(from_vault: StackRun) -> None:
    """A resource group's region holds only its metadata; changing it would replace the group, and
    azure-native deletes a group before its replacement, with every resource in it."""
    after = run_stack("aks", {"caDelivery": "keyVault", "keyVaultLocation": "northeurope"}, state=from_vault.state())
    assert after.named("mesh-vault-group").operation == "same"
    assert after.named("mesh-vault-group").inputs["location"] == "eastus"
    assert after.named("mesh-vault-vault").inputs["location"] == "northeurope"


@pytest.fixture(scope="module")
def entra() -> StackRun:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    for cluster in clusters:
        cluster["entraId"] = True
    return run_stack("aks", {"clusters": clusters})


def test_entra_id_disables_local_accounts_and_grants_the_deployer_cluster_admin(entra: StackRun) -> None:
    aks = entra.named("westeurope-aks-aks")
    assert aks.inputs["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
    assert aks.inputs["disableLocalAccounts"] is True
    admin = entra.named("westeurope-aks-deployer-cluster-admin").inputs
    assert (admin["principalId"], admin["scope"]) == (DEPLOYER, aks.id)
    assert admin["roleDefinitionId"].endswith(CLUSTER_ADMIN)


def test_with_entra_id_the_provider_runs_the_projects_token_command_after_the_grant(entra: StackRun) -> None:
    provider = entra.named("westeurope-aks-provider")
    kubeconfig = yaml.safe_load(provider.inputs["kubeconfig"])
    assert kubeconfig["users"][0]["user"] == {
        "exec": {
            "apiVersion": "client.authentication.k8s.io/v1beta1",
            "command": "venv/bin/python",
            "args": ["-m", "components.k8s.aks_token"],
            "interactiveMode": "Never",
        }
    }
    assert kubeconfig["clusters"][0]["cluster"]["server"] == f"https://{entra.named('westeurope-aks-aks').outputs['fqdn']}:443"
    assert entra.needs("westeurope-aks-provider", "westeurope-aks-deployer-cluster-admin")
    operator = yaml.safe_load(entra.outputs["aks"]["westeurope-aks"]["kubeconfig"])
    assert operator["users"][0]["user"]["exec"]["command"] == "kubelogin"  # for people


def test_with_entra_id_the_operators_kubeconfig_output_is_secret(entra: StackRun) -> None:
    """The user kubeconfig names the cluster's server and CA and runs kubelogin: no token, but the
    program keeps every kubeconfig it exports secret, as with admin credentials."""
    assert entra.secret_outputs == {"aks"}


def test_the_azure_token_command_asks_for_the_aks_server_application() -> None:
    asked: list[str] = []

    class Credential:
        def get_token(self, *scopes: str, **_: Any) -> AccessToken:
            asked.extend(scopes)
            return AccessToken("eyJ.token", int(datetime.datetime(2026, 11, 21, 9, 0, tzinfo=datetime.UTC).timestamp()))

    token = aks_token(Credential())  # type: ignore[arg-type]
    assert asked == [f"{AKS_SERVER_APP}/.default"] and token.token == "eyJ.token"


def test_azure_config_refusals() -> None:
    config = {**two_azure(), "caDelivery": "vault", "keyVaultLocation": "West Europe"}
    config = with_cluster(config, 0, networkPolicy="istio")
    config["clusters"][1]["nodePools"][0]["availabilityZones"] = ["1", "4"]
    assert codes_of(config) == [
        ("pattern", "keyVaultLocation: 'West Europe' is not valid; use an Azure region name such as westeurope"),
        ("choice", "caDelivery: 'vault' is not one of secret, keyVault"),
        ("choice", "clusters[0].networkPolicy (cluster westeurope-aks): 'istio' is not one of none, azure, calico, cilium"),
        ("choice", "clusters[1].nodePools[0].availabilityZones (cluster eastus-aks): '4' is not one of 1, 2, 3"),
    ]
    assert parse(two_azure()).clusters[0].platform_spec.service_range is not None


def test_the_token_command_uses_an_esc_or_deployments_oidc_login_when_there_is_one() -> None:
    from azure.identity import ClientAssertionCredential, DefaultAzureCredential  # noqa: PLC0415 - the SDK under test

    oidc = {"ARM_USE_OIDC": "true", "ARM_OIDC_TOKEN": "eyJ...", "ARM_CLIENT_ID": "client", "ARM_TENANT_ID": "tenant"}
    assert isinstance(credential(oidc), ClientAssertionCredential)
    assert isinstance(credential({**oidc, "ARM_USE_OIDC": "false"}), DefaultAzureCredential)
    assert isinstance(credential({}), DefaultAzureCredential)


SLEEP = "time:index/sleep:Sleep"


def test_with_entra_id_nothing_on_the_cluster_runs_before_the_admin_grant_has_propagated(entra: StackRun) -> None:
    # AKS: a new role assignment can take up to five minutes to reach its authorization webhook, and
    # the Kubernetes provider does not retry a 403.
    for cluster in CLUSTERS:
        wait = entra.named(f"{cluster}-deployer-cluster-admin-propagation")
        grant = entra.named(f"{cluster}-deployer-cluster-admin")
        assert wait.inputs == {"createDuration": "5m", "triggers": {"grants": grant.id}}
        assert wait.dependencies == [grant.urn]
        provider = entra.named(f"{cluster}-provider")
        assert wait.urn in provider.dependencies
        on_cluster = [r for r in entra.resources if r.provider == f"{provider.urn}::{provider.id}"]
        assert on_cluster
        assert all(entra.needs(r.name, wait.name) for r in on_cluster)
    waits = {r.name for r in entra.of_type(SLEEP)}
    assert waits == {f"{c}-{w}-propagation" for c in CLUSTERS for w in ("deployer-cluster-admin", "istiod-vault-reads")}


def test_istiod_starts_once_its_vault_grants_and_federations_have_propagated(from_vault: StackRun) -> None:
    for cluster in CLUSTERS:
        wait = from_vault.named(f"{cluster}-istiod-vault-reads-propagation")
        grants = [from_vault.named(f"{cluster}-istiod-vault-reads-{f.removesuffix('.pem')}") for f in FILES]
        federations = [
            r for r in from_vault.of_type("azure-native:managedidentity:FederatedIdentityCredential") if r.name.startswith(cluster)
        ]
        made = [*federations, *grants]
        assert wait.inputs == {"createDuration": "5m", "triggers": {"grants": ",".join(sorted(r.id for r in made))}}
        assert sorted(wait.dependencies) == sorted(r.urn for r in made)
        istiods = [r for r in from_vault.of_type("kubernetes:helm.sh/v3:Release") if r.name.startswith(f"{cluster}-istio-istiod-")]
        assert istiods
        assert all(from_vault.needs(r.name, wait.name) for r in istiods)


def test_an_unchanged_grant_is_not_waited_for_again(from_vault: StackRun) -> None:
    again = run_stack("aks", {"caDelivery": "keyVault"}, state=from_vault.state())
    assert {r.operation for r in again.of_type(SLEEP)} == {"same"}


# --- Autoscaled node counts: the autoscaler's, never the config's after creation ----------------


def with_max_counts(system: int, user: int) -> dict[str, Any]:
    """The aks stack's clusters with the System pool's and user1's autoscaler maxima changed: an
    edit that updates the cluster (its inline System pool) and the user1 pool in place."""
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    for cluster in clusters:
        pools = {pool["name"]: pool for pool in cluster["nodePools"]}
        pools["system"]["maxCount"], pools["user1"]["maxCount"] = system, user
    return {"clusters": clusters}


AUTOSCALED = {"westeurope-aks-aks": {"agentPoolProfiles[0].count": 3}, "westeurope-aks-user1": {"count": 4}}


def test_an_update_sends_the_autoscalers_counts_not_the_configs() -> None:
    """The autoscaler moved the System pool to 3 nodes and user1 to 4 (the config says 2 each);
    then an operator raises the maxima. AKS refuses a PUT of an autoscaled pool whose count differs
    from the scale set's ("Cannot manually scale AgentPool ... with cluster autoscaler enabled"), so
    the update must send 3 and 4: the project refreshes before every run, and the program ignores
    the count after creation."""
    before = run_stack("aks")
    after = run_stack("aks", with_max_counts(4, 6), state=before.state_after_drift(AUTOSCALED))
    cluster, pool = after.named("westeurope-aks-aks"), after.named("westeurope-aks-user1")
    assert (cluster.operation, pool.operation) == ("update", "update")
    system = cluster.inputs["agentPoolProfiles"][0]
    assert (system["count"], system["maxCount"]) == (3, 4)
    assert (pool.inputs["count"], pool.inputs["maxCount"]) == (4, 6)
    # The other cluster did not drift: its counts stay the configured ones.
    assert after.named("eastus-aks-user1").inputs["count"] == 2


def test_without_a_refresh_the_update_would_send_the_stale_count() -> None:
    """What the refresh prevents, so that the test above fails when the project stops refreshing."""
    before = run_stack("aks")
    drift = {before.named(name).urn: changes for name, changes in AUTOSCALED.items()}
    stale = engine.after_drift(before.state(), drift, refresh=False)
    after = run_stack("aks", with_max_counts(4, 6), state=stale)
    assert after.named("westeurope-aks-user1").inputs["count"] == 2
    assert refreshes_every_run()


# --- The vault's firewall: only the callers the stack knows -----------------------------------

VAULT_OPEN = {"defaultAction": "Allow", "bypass": "AzureServices", "ipRules": []}
OPERATORS = "198.51.100.0/24"


def vault_rules(run: StackRun) -> dict[str, Any]:
    return run.named("mesh-vault-vault").inputs["properties"]["networkAcls"]


def restricted_aks(delivery: str) -> dict[str, Any]:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    clusters[0]["authorizedIpRanges"] = [OPERATORS]
    return {"clusters": clusters, "caDelivery": delivery}


def outbound_address(run: StackRun, cluster: str) -> str:
    return run.named(f"azure-{cluster}-outbound-ip").outputs["ipAddress"]


def test_a_vault_whose_callers_are_unknown_stays_open_as_stated(aks_run: StackRun) -> None:
    """AKS picks a one-platform cluster's outbound addresses unless an API is restricted: the CSI
    driver's calls could come from anywhere, so the vault admits any address (RBAC decides)."""
    assert vault_rules(aks_run) == VAULT_OPEN


@pytest.mark.parametrize("delivery", ["keyVault", "secret"])
def test_a_restricted_mesh_closes_the_vault_to_all_but_the_operators_and_its_readers(delivery: str) -> None:
    run = run_stack("aks", restricted_aks(delivery))
    readers = sorted((outbound_address(run, c) for c in CLUSTERS), key=ipaddress.ip_address) if delivery == "keyVault" else []
    # Key Vault stores a single address without /32: sent so, a refresh finds no difference.
    assert vault_rules(run) == {
        "defaultAction": "Deny",
        "bypass": "AzureServices",
        "ipRules": [{"value": v} for v in [*readers, OPERATORS]],
    }
    assert all("/" not in r["value"] for r in vault_rules(run)["ipRules"][:-1])


def test_across_platforms_the_vault_admits_the_operator_cidrs() -> None:
    run = run_stack("multicloud", {"operatorCidrs": ["203.0.113.0/24"]})
    assert vault_rules(run) == {"defaultAction": "Deny", "bypass": "AzureServices", "ipRules": [{"value": "203.0.113.0/24"}]}


def test_closing_the_vault_is_an_update_in_place(aks_run: StackRun) -> None:
    after = run_stack("aks", restricted_aks("keyVault"), state=aks_run.state())
    assert after.named("mesh-vault-vault").operation == "update"


# --- Admins beside the deployer: who may destroy ------------------------------------------------

ADMINS = "5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a"


@pytest.fixture(scope="module")
def with_admins() -> StackRun:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    for cluster in clusters:
        cluster["entraId"] = True
    return run_stack("aks", {"clusters": clusters, "azureAdminObjectIds": [ADMINS.upper()]})


def test_admins_hold_the_deployers_rights_on_the_vault_and_every_entra_cluster(with_admins: StackRun) -> None:
    officers = grants(with_admins, SECRETS_OFFICER)
    assert sorted((g.name, g.inputs["principalId"]) for g in officers) == [
        ("mesh-vault-admin-5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a-secrets-officer", ADMINS),
        ("mesh-vault-deployer-secrets-officer", DEPLOYER),
    ]
    assert {g.inputs["scope"] for g in officers} == {with_admins.named("mesh-vault-vault").id}
    secrets = [r.name for r in with_admins.of_type("azure-native:keyvault:Secret")]
    assert all(with_admins.needs(s, g.name) for s in secrets for g in officers)
    for cluster in CLUSTERS:
        admin = with_admins.named(f"{cluster}-admin-{ADMINS}-cluster-admin")
        assert (admin.inputs["principalId"], admin.inputs["scope"]) == (ADMINS, with_admins.named(f"{cluster}-aks").id)
        assert admin.inputs["roleDefinitionId"].endswith(CLUSTER_ADMIN)
        # Every object on the cluster is deleted while the admins' grant holds: they may run the destroy.
        provider = with_admins.named(f"{cluster}-provider")
        on_cluster = [r for r in with_admins.resources if r.provider == f"{provider.urn}::{provider.id}"]
        assert on_cluster and all(with_admins.needs(r.name, admin.name) for r in on_cluster)


def test_the_deployer_among_the_azure_admins_is_left_out_with_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    run = run_stack("aks", {"azureAdminObjectIds": [DEPLOYER, ADMINS]})
    assert sorted(g.inputs["principalId"] for g in grants(run, SECRETS_OFFICER)) == sorted([DEPLOYER, ADMINS])
    assert [g.name for g in grants(run, SECRETS_OFFICER) if g.inputs["principalId"] == DEPLOYER] == ["mesh-vault-deployer-secrets-officer"]
    assert any(f"azureAdminObjectIds lists {DEPLOYER}, the identity running Pulumi" in r.getMessage() for r in caplog.records)


def test_azure_admins_are_object_ids_listed_once() -> None:
    config = {**stack_config("aks"), "azureAdminObjectIds": [ADMINS, ADMINS.upper(), "platform-admins"]}
    assert codes_of(config) == [
        (
            "pattern",
            "azureAdminObjectIds: 'platform-admins' is not valid; use an Entra object id such as 5f0c9a4e-2b1d-4c3e-9f8a-7b6c5d4e3f2a",
        ),
    ]
    config["azureAdminObjectIds"] = [ADMINS, ADMINS.upper()]
    assert codes_of(config) == [("duplicate", f"azureAdminObjectIds[1]: {ADMINS.upper()} is listed twice; list each admin once")]


def test_the_token_command_loads_no_pulumi_sdk_and_warns_nothing() -> None:
    """client-go runs it for every token: run from a platform package, it loaded every Pulumi SDK
    (about two seconds) and printed runpy's RuntimeWarning each time."""
    probe = (
        "import sys; import components.k8s.aks_token; "
        "print(sorted(m for m in sys.modules if m.startswith(('pulumi', 'components.platforms'))))"
    )
    command = [sys.executable, "-W", "error::RuntimeWarning", "-c", probe]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False, timeout=60)
    assert (done.returncode, done.stdout.strip(), done.stderr) == (0, "[]", "")
    assert exec_command()[1] == ["-m", "components.k8s.aks_token"]


def test_asking_for_admin_kubeconfigs_of_entra_clusters_only_is_refused() -> None:
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    for cluster in clusters:
        cluster["entraId"] = True
    config = {**stack_config("aks"), "clusters": clusters, "aksAdminKubeconfigOutput": True}
    assert codes_of(config) == [
        (
            "unused",
            "aksAdminKubeconfigOutput: every azure cluster here uses entraId, which has no admin kubeconfig (local accounts "
            "are off); their credential-free user kubeconfigs are exported anyway; remove it",
        )
    ]
    clusters[0]["entraId"] = False  # one cluster with an admin kubeconfig: the setting has an effect
    assert parse({**config, "clusters": clusters}).warnings  # parses (the open APIs only warn)
