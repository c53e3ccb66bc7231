"""The harness's model of the engine: preview, state between updates, Job awaits, destroy order.

Each rule is checked on a small program so that the stack tests can rely on it.
"""

from __future__ import annotations

import copy
import dataclasses
import datetime
from typing import Any

import pulumi
import pulumi_azure_native as azure_native
import pulumi_kubernetes as k8s
import pulumi_random as random
import pulumi_tls as tls
import pytest

from components.mesh.istio import load_balancer_address
from tests.configs import n_existing
from tests.harness import engine, replacements
from tests.harness.changes import changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import StackRun, UpdateFailed, run_program, run_stack, stack_config
from tests.harness.webhooks import refused_at_first_up, remote_istio_config_before_the_primarys_routes

SELF_SIGNED = "tls:index/selfSignedCert:SelfSignedCert"


def run(program: Any, **kwargs: Any) -> StackRun:
    return run_program(n_existing(2), program=program, **kwargs)


def job(name: str, *, deadline: int | None = None, annotations: dict[str, str] | None = None, timeout: str | None = None) -> Any:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}", cluster_identifier="c1")
        k8s.batch.v1.Job(
            name,
            metadata=k8s.meta.v1.ObjectMetaArgs(name="probe", namespace="sample", annotations=annotations),
            spec=k8s.batch.v1.JobSpecArgs(
                active_deadline_seconds=deadline,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    spec=k8s.core.v1.PodSpecArgs(restart_policy="Never", containers=[k8s.core.v1.ContainerArgs(name="c", image="i")])
                ),
            ),
            opts=pulumi.ResourceOptions(
                provider=provider, custom_timeouts=pulumi.CustomTimeouts(create=timeout, update=timeout) if timeout else None
            ),
        )

    return program


def test_preview_keeps_inputs_and_makes_computed_outputs_unknown_at_any_depth() -> None:
    seen: list[str] = []

    def program() -> None:
        aks = azure_native.containerservice.ManagedCluster(
            "aks",
            resource_group_name="rg",
            location="westeurope",
            addon_profiles={"azureKeyvaultSecretsProvider": azure_native.containerservice.ManagedClusterAddonProfileArgs(enabled=True)},
        )
        aks.addon_profiles.apply(lambda addons: seen.append(f"addons {addons}"))
        aks.fqdn.apply(lambda fqdn: seen.append(f"fqdn {fqdn}"))
        aks.location.apply(lambda location: seen.append(f"location {location}"))

    run(program, preview=True)
    # The add-on's identity is computed by Azure, so the whole addonProfiles value is unknown.
    assert seen == ["location westeurope"]
    run(program)
    assert len(seen) == 4


def test_unchanged_resources_keep_their_outputs_from_state() -> None:
    first = run(job("probe"))
    second = run(job("probe"), state=first.state())
    assert second.named("probe").operation == "same"
    third = run(job("probe", deadline=60), state=first.state())
    assert third.named("probe").operation == "update"


def test_job_await_timeout_comes_from_custom_timeouts_then_the_annotation_then_ten_minutes() -> None:
    assert engine.job_await_timeout({}, {}, creating=True) == 600
    annotated = {"metadata": {"annotations": {"pulumi.com/timeoutSeconds": "120"}}}
    assert engine.job_await_timeout(annotated, {}, creating=True) == 120
    assert engine.job_await_timeout(annotated, {"create": "15m", "update": "1h30m"}, creating=False) == 5400


@pytest.mark.parametrize(
    ("deadline", "timeout", "error"),
    [
        (None, None, "'probe' timed out waiting to be Ready"),
        (690, None, "'probe' timed out waiting to be Ready"),
        (300, "10m", "Resource 'probe' was created but failed to initialize: [Error] mesh check failed"),
    ],
)
def test_a_failing_job_reports_its_own_message_only_if_it_fails_before_pulumi_stops_waiting(
    deadline: int | None, timeout: str | None, error: str
) -> None:
    with pytest.raises(UpdateFailed) as failed:
        run(job("probe", deadline=deadline, timeout=timeout), job_failures={"probe": "[Error] mesh check failed"})
    assert failed.value.errors == [f"{failed.value.run.named('probe').urn}: {error}"]


def test_a_failed_job_blocks_later_updates_unless_it_is_replaced_when_unready() -> None:
    with pytest.raises(UpdateFailed) as failed:
        run(job("probe", deadline=60), job_failures={"probe": "broken"})
    # The mesh is fixed, the program unchanged: the engine awaits the failed Job again.
    with pytest.raises(UpdateFailed) as again:
        run(job("probe", deadline=60), state=failed.value.run.state())
    assert "awaited again" in again.value.errors[0]
    replaceable = job("probe", deadline=60, annotations={"pulumi.com/replaceUnready": "true"})
    with pytest.raises(UpdateFailed) as failed:
        run(replaceable, job_failures={"probe": "broken"})
    rerun = run(replaceable, state=failed.value.run.state())
    assert rerun.named("probe").operation == "replace" and rerun.named("probe").failed == ""


def test_destroy_deletes_dependents_first_and_only_the_graph_orders_it() -> None:
    def program() -> None:
        provider = k8s.Provider("k8s", kubeconfig="{}", cluster_identifier="c1")
        on = pulumi.ResourceOptions(provider=provider)
        namespace = k8s.core.v1.Namespace("ns", metadata={"name": "a"}, opts=on)
        k8s.core.v1.ConfigMap("uses-ns", metadata={"namespace": namespace.metadata.name}, opts=on)
        k8s.core.v1.ConfigMap("independent", metadata={"namespace": "b"}, opts=on)

    result = run(program)
    assert result.destroy_waves() == [["independent", "uses-ns"], ["ns"]]
    assert result.create_waves() == [["independent", "ns"], ["uses-ns"]]
    assert result.needs("uses-ns", "ns") and not result.needs("independent", "ns")


def test_the_webhook_model_refuses_injected_pods_on_a_remote_before_its_primary_holds_its_secret() -> None:
    def program() -> None:
        primary = k8s.Provider("primary", kubeconfig="{}", cluster_identifier="c1")
        remote = k8s.Provider("remote", kubeconfig="{}", cluster_identifier="c2")
        annotations = {"topology.istio.io/controlPlaneClusters": "c1"}
        k8s.core.v1.Namespace("c2-istio-istio-system", metadata={"name": "istio-system", "annotations": annotations}, opts=opts(remote))
        k8s.core.v1.Namespace("sample", metadata={"name": "sample", "labels": {"istio-injection": "enabled"}}, opts=opts(remote))
        secret = k8s.core.v1.Secret(
            "c2-in-c1",
            metadata={"name": "istio-remote-secret-c2", "annotations": {"networking.istio.io/cluster": "c2"}},
            opts=opts(primary),
        )
        tag = tag_webhook("default", remote)
        k8s.apps.v1.Deployment("early", metadata={"name": "early", "namespace": "sample"}, spec=POD_SPEC, opts=opts(remote, tag))
        k8s.apps.v1.Deployment("late", metadata={"name": "late", "namespace": "sample"}, spec=POD_SPEC, opts=opts(remote, tag, secret))

    refused = refused_at_first_up(run(program))
    assert [r.split(":")[0] for r in refused] == ["early"]


POD_SPEC: Any = {"selector": {"matchLabels": {"a": "b"}}, "template": {"metadata": {"labels": {"a": "b"}}, "spec": {"containers": []}}}


def tag_webhook(tag: str, provider: k8s.Provider) -> k8s.admissionregistration.v1.MutatingWebhookConfiguration:
    return k8s.admissionregistration.v1.MutatingWebhookConfiguration(
        f"tag-{tag}", metadata={"name": f"istio-revision-tag-{tag}"}, webhooks=[], opts=opts(provider)
    )


def test_the_webhook_model_flags_pods_that_may_start_before_their_tags_injector() -> None:
    def program() -> None:
        cluster = k8s.Provider("cluster", kubeconfig="{}", cluster_identifier="c1")
        k8s.core.v1.Namespace("canary", metadata={"name": "canary", "labels": {"istio.io/rev": "canary"}}, opts=opts(cluster))
        canary, default = tag_webhook("canary", cluster), tag_webhook("default", cluster)
        k8s.apps.v1.Deployment("early", metadata={"name": "early", "namespace": "canary"}, spec=POD_SPEC, opts=opts(cluster))
        k8s.apps.v1.Deployment("wrong-tag", metadata={"name": "w", "namespace": "canary"}, spec=POD_SPEC, opts=opts(cluster, default))
        k8s.apps.v1.Deployment("late", metadata={"name": "late", "namespace": "canary"}, spec=POD_SPEC, opts=opts(cluster, canary))
        k8s.helm.v3.Release("gateway", chart="gateway", opts=opts(cluster))
        k8s.helm.v3.Release("injected-gateway", chart="gateway", opts=opts(cluster, default))

    refused = refused_at_first_up(run(program))
    assert refused == [
        "early: its pods may start before tag canary's injection webhook exists",
        "wrong-tag: its pods may start before tag canary's injection webhook exists",
        "gateway: its pods may start before tag default's injection webhook exists",
    ]


def test_the_crd_model_flags_custom_resources_that_may_come_before_their_crds() -> None:
    crds = "https://github.com/kubernetes-sigs/gateway-api/releases/download/v1.5.1/standard-install.yaml"

    def program() -> None:
        first = k8s.Provider("first", kubeconfig="{}", cluster_identifier="c1")
        second = k8s.Provider("second", kubeconfig="{}", cluster_identifier="c2")
        installed = k8s.yaml.v2.ConfigFile("crds", file=crds, opts=pulumi.ResourceOptions(providers={"kubernetes": first}))
        k8s.yaml.v2.ConfigFile("crds-2", file=crds, opts=pulumi.ResourceOptions(providers={"kubernetes": second}))
        for name, provider, after in (("ok", first, [installed]), ("early", first, []), ("other-cluster", second, [installed])):
            k8s.apiextensions.CustomResource(
                name, api_version="gateway.networking.k8s.io/v1", kind="Gateway", metadata={"name": name}, opts=opts(provider, *after)
            )

    refused = refused_at_first_up(run(program))
    assert [r.split(":")[0] for r in refused] == ["early", "other-cluster"]


@pytest.mark.parametrize(
    ("type_", "before", "after", "replaced"),
    [
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": "a", "labels": {"x": "1"}}}, {"metadata": {"name": "a"}}, []),
        ("kubernetes:core/v1:Namespace", {"metadata": {"name": "a"}}, {"metadata": {"name": "b"}}, ["metadata.name"]),
        (
            "kubernetes:core/v1:Secret",
            {"metadata": {"name": "a"}, "stringData": {"k": "1"}},
            {"metadata": {"name": "a"}, "stringData": {"k": "2"}},
            ["stringData"],
        ),
        ("kubernetes:batch/v1:Job", {"spec": {"template": {"a": 1}}}, {"spec": {"template": {"a": 2}}}, ["spec.template"]),
        ("kubernetes:apps/v1:Deployment", {"spec": {"template": {"a": 1}}}, {"spec": {"template": {"a": 2}}}, []),
        ("kubernetes:helm.sh/v3:Release", {"name": "istiod", "version": "1"}, {"name": "istiod", "version": "2"}, []),
        ("kubernetes:helm.sh/v3:Release", {"name": "istiod"}, {"name": "istiod-1-30-3"}, ["name"]),
        ("azure-native:keyvault:Vault", {"location": "eastus"}, {"location": "westus"}, []),
        (
            "azure-native:containerservice:ManagedCluster",
            {"networkProfile": {"serviceCidr": "10.0.0.0/16", "loadBalancerProfile": {"managedOutboundIPs": {"count": 1}}}},
            {"networkProfile": {"serviceCidr": "10.0.0.0/16", "loadBalancerProfile": {"outboundIPs": {"publicIPs": []}}}},
            [],
        ),
        (
            "azure-native:containerservice:ManagedCluster",
            {"networkProfile": {"serviceCidr": "10.0.0.0/16"}},
            {"networkProfile": {"serviceCidr": "10.1.0.0/16"}},
            ["networkProfile.serviceCidr"],
        ),
        ("azure-native:network:PublicIPAddress", {"sku": {"name": "Basic"}}, {"sku": {"name": "Standard"}}, ["sku"]),
        # No source makes a public IP's zones replace it: azure-native sends them as an update.
        ("azure-native:network:PublicIPAddress", {"zones": None}, {"zones": ["1", "2", "3"]}, []),
        ("azure-native:keyvault:Vault", {"vaultName": "a-1"}, {"vaultName": "a-2"}, ["vaultName"]),
        ("azure-native:resources:ResourceGroup", {"location": "eastus"}, {"location": "westus"}, ["location"]),
        ("tls:index/selfSignedCert:SelfSignedCert", {"validityPeriodHours": 1}, {"validityPeriodHours": 2}, ["validityPeriodHours"]),
        ("tls:index/selfSignedCert:SelfSignedCert", {"earlyRenewalHours": 1}, {"earlyRenewalHours": 2}, []),
        ("tls:index/locallySignedCert:LocallySignedCert", {"caCertPem": "old"}, {"caCertPem": "new"}, ["caCertPem"]),
        ("random:index/randomString:RandomString", {"keepers": {"a": "1"}}, {"keepers": {"a": "2"}}, ["keepers"]),
        ("aws:secretsmanager/secretVersion:SecretVersion", {"secretString": "a"}, {"secretString": "b"}, ["secretString"]),
        ("eks:index:Cluster", {"version": "1.33"}, {"version": "1.34"}, []),
        (
            "eks:index:Cluster",
            {"kubernetesServiceIpAddressRange": "a"},
            {"kubernetesServiceIpAddressRange": "b"},
            ["kubernetesServiceIpAddressRange"],
        ),
        (
            "azure-native:containerservice:ManagedCluster",
            {"agentPoolProfiles": [{"networkProfile": {"nodePublicIPTags": []}}]},
            {"agentPoolProfiles": [{"networkProfile": {"nodePublicIPTags": [{"tag": "x"}]}}]},
            ["agentPoolProfiles[].networkProfile.nodePublicIPTags"],
        ),
    ],
)
def test_the_provider_replaces_what_it_cannot_change_in_place(type_: str, before: Any, after: Any, replaced: list[str]) -> None:
    assert engine.replaced_inputs(type_, before, after) == replaced


def opts(provider: k8s.Provider, *after: pulumi.Resource) -> pulumi.ResourceOptions:
    return pulumi.ResourceOptions(provider=provider, depends_on=list(after))


def test_a_service_can_be_read_only_where_a_gateway_release_or_gateway_makes_it() -> None:
    def program(made_on_first: bool) -> Any:
        def build() -> None:
            first = k8s.Provider("first", kubeconfig="{}", cluster_identifier="c1")
            second = k8s.Provider("second", kubeconfig="{}", cluster_identifier="c2")
            gateway = k8s.apiextensions.CustomResource(
                "gw",
                api_version="gateway.networking.k8s.io/v1",
                kind="Gateway",
                metadata={"name": "istio-eastwest", "namespace": "istio-system"},
                spec={"gatewayClassName": "istio-east-west"},
                opts=pulumi.ResourceOptions(provider=first if made_on_first else second),
            )
            k8s.core.v1.Service.get("read", gateway.id, opts=pulumi.ResourceOptions(provider=first))

        return build

    assert run(program(made_on_first=True)).named("read").id == "istio-system/istio-eastwest"
    with pytest.raises(Exception, match='services "istio-system/istio-eastwest" not found'):
        run(program(made_on_first=False))


def test_an_east_west_service_without_an_address_stops_the_update() -> None:
    status = k8s.core.v1.outputs.ServiceStatus(load_balancer=k8s.core.v1.outputs.LoadBalancerStatus(ingress=[]))
    with pytest.raises(ValueError, match="Service istio-system/istio-eastwest has no load-balancer address"):
        load_balancer_address(status, "istio-eastwest")


def test_a_resource_moved_to_another_provider_is_replaced_and_never_left_alone() -> None:
    prior = engine.Prior("id", {"name": "x"}, {}, None, "", "aws:secretsmanager/secret:Secret", provider="urn:p::aws-eu-west-1")
    assert engine.same_as_prior(prior, {"name": "x"}, None, "urn:p::aws-eu-west-1")
    assert not engine.same_as_prior(prior, {"name": "x"}, None, "urn:p::aws-us-east-1")
    assert engine.operation(prior, {"name": "x"}, None, "urn:p::aws-us-east-1") == "replace"
    assert engine.operation(prior, {"name": "x", "description": "y"}, None, "urn:p::aws-eu-west-1") == "update"
    assert engine.operation(prior, {"name": "x"}, None, "urn:p::aws-eu-west-1", provider_replaced=True) == "replace"
    assert not engine.same_as_prior(prior, {"name": "x"}, None, "urn:p::aws-eu-west-1", provider_replaced=True)


class FailingRandom(MeshMocks):
    """Mocks whose pulumi-random stand-in is broken: any input it is given makes it fail."""

    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        if args.typ.startswith("random:"):
            raise KeyError("the mock itself is broken")
        return super().new_resource(args)


@pytest.mark.parametrize("preview", [False, True])
def test_a_broken_mock_fails_the_run_at_preview_as_at_update(preview: bool) -> None:
    def program() -> None:
        random.RandomString("suffix", length=6, special=False)

    with pytest.raises(KeyError, match="the mock itself is broken"):
        run(program, mocks=FailingRandom(), preview=preview)


def test_only_a_placeholder_for_an_unknown_input_makes_a_mock_compute_nothing_at_preview() -> None:
    assert engine.known("-----BEGIN CERTIFICATE-----", "caCertPem") == "-----BEGIN CERTIFICATE-----"
    with pytest.raises(engine.UnknownInputError, match="caCertPem is unknown during preview"):
        engine.known(f"x{engine.PLACEHOLDER}x", "caCertPem")


def test_a_type_without_an_entry_cannot_be_updated_or_replaced_unmodelled() -> None:
    with pytest.raises(KeyError, match=r"aws:s3/bucket:Bucket: no entry in tests/harness/replacements\.py"):
        engine.replaced_inputs("aws:s3/bucket:Bucket", {}, {"bucket": "x"})


def test_a_certificate_whose_early_renewal_time_has_come_is_replaced_by_any_update() -> None:
    now = datetime.datetime(2030, 1, 1, tzinfo=datetime.UTC)
    cert = engine.Prior("1", {"earlyRenewalHours": 24}, {"validityEndTime": "2030-01-01T12:00:00Z"}, None, "", SELF_SIGNED)
    assert not engine.renewal_due(cert, {"earlyRenewalHours": 11}, now)
    assert engine.renewal_due(cert, {"earlyRenewalHours": 12}, now)
    assert engine.same_as_prior(cert, cert.inputs, None, "")  # not due yet (the clock says now)
    expired = dataclasses.replace(cert, outputs={"validityEndTime": "2020-01-01T00:00:00Z"})
    assert not engine.same_as_prior(expired, expired.inputs, None, "")
    assert engine.operation(expired, expired.inputs, None, "") == "replace"


@pytest.mark.parametrize(
    ("type_", "before", "after", "option", "first"),
    [
        # azure-native deletes first whatever changed, unless it named the resource at random.
        ("azure-native:keyvault:Vault", {"vaultName": "a-1"}, {"vaultName": "a-2"}, None, True),
        ("azure-native:keyvault:Vault", {"vaultName": "a-1"}, {"vaultName": "a-2"}, False, False),
        ("azure-native:authorization:RoleAssignment", {"scope": "a"}, {"scope": "b"}, None, False),
        # pulumi-kubernetes and the bridged providers: only while the name the program set stays.
        ("kubernetes:batch/v1:Job", {"metadata": {"name": "j"}}, {"metadata": {"name": "j"}}, None, True),
        ("kubernetes:batch/v1:Job", {"metadata": {"name": "j"}}, {"metadata": {"name": "k"}}, None, False),
        ("aws:secretsmanager/secret:Secret", {"name": "s"}, {"name": "s", "namePrefix": "x"}, None, True),
        ("tls:index/privateKey:PrivateKey", {"rsaBits": 2048}, {"rsaBits": 4096}, None, False),
    ],
)
def test_which_replacements_delete_first(type_: str, before: Any, after: Any, option: bool | None, first: bool) -> None:
    assert replacements.deletes_first(type_, before, after, option) is first


def test_a_replacement_that_keeps_a_taken_name_fails() -> None:
    rg = "/subscriptions/s/resourceGroups"
    vault = engine.Prior(f"{rg}/g/providers/Microsoft.KeyVault/vaults/v", {"vaultName": "v"}, {}, None, "", "azure-native:keyvault:Vault")
    # A vault's name is global: moved to another group under the same name, it is still taken.
    assert "'v' is still held by the soft-deleted Vault" in engine.replacement_conflict(vault, {"vaultName": "v"}, f"{rg}/h/x", True)
    assert engine.replacement_conflict(vault, {"vaultName": "w"}, f"{rg}/g/providers/Microsoft.KeyVault/vaults/w", False) == ""
    group = engine.Prior(f"{rg}/g", {"resourceGroupName": "g"}, {}, None, "", "azure-native:resources:ResourceGroup")
    assert "already exists" in engine.replacement_conflict(group, group.inputs, group.id, delete_first=False)
    assert engine.replacement_conflict(group, group.inputs, group.id, delete_first=True) == ""


def tls_and_random(bits: int, hours: int, early: int, zone: str, trigger: str = "") -> Any:
    def program() -> None:
        key = tls.PrivateKey("key", algorithm="RSA", rsa_bits=bits, opts=pulumi.ResourceOptions(replacement_trigger=trigger or None))
        tls.SelfSignedCert(
            "cert",
            private_key_pem=key.private_key_pem,
            subject=tls.SelfSignedCertSubjectArgs(common_name="x"),
            allowed_uses=["cert_signing"],
            validity_period_hours=hours,
            early_renewal_hours=early,
        )
        random.RandomString("suffix", length=6, special=False, keepers={"zone": zone})

    return program


def test_an_in_place_update_keeps_what_the_provider_made_and_a_replacement_makes_it_anew() -> None:
    first = run(tls_and_random(2048, 100, 10, "a"))
    kept = run(tls_and_random(2048, 100, 20, "a"), state=first.state())
    assert {r.name: r.operation for r in kept.resources if r.custom} == {"key": "same", "cert": "update", "suffix": "same"}
    assert kept.named("cert").outputs["certPem"] == first.named("cert").outputs["certPem"]
    assert kept.named("cert").outputs["earlyRenewalHours"] == 20
    renewed = run(tls_and_random(2048, 200, 10, "b"), state=first.state())
    assert {r.name: r.operation for r in renewed.resources if r.custom} == {"key": "same", "cert": "replace", "suffix": "replace"}
    assert renewed.named("cert").id != first.named("cert").id  # a new serial number
    assert renewed.named("suffix").outputs["result"] != first.named("suffix").outputs["result"]
    # A key replaced with the same settings (here by a replacement trigger) is a new key too.
    rekeyed = run(tls_and_random(2048, 100, 10, "a", trigger="rotate"), state=first.state())
    assert {r.name: r.operation for r in rekeyed.resources if r.custom} == {"key": "replace", "cert": "replace", "suffix": "same"}
    assert rekeyed.named("key").outputs["publicKeyPem"] != first.named("key").outputs["publicKeyPem"]


def test_the_remote_config_rule_flags_early_config_and_fails_when_its_routes_are_not_registered() -> None:
    """The program puts no Istio config on remotes today; one that waits for nothing is flagged,
    and a renamed route must not make the rule pass by finding nothing to require."""
    run_ = run_stack("eks", {"topology": "primary-remote", "clusters": primary_remote_eks()})
    assert remote_istio_config_before_the_primarys_routes(run_) == []
    remote_provider = run_.named("cluster-2-istio-istio-system").provider
    early = dataclasses.replace(
        run_.named("cluster-1-istio-cross-network-gateway"), name="early", urn="urn:early", provider=remote_provider, dependencies=[]
    )
    with_early = copy.copy(run_)
    with_early.resources = [*run_.resources, early]
    assert [line.split(":")[0] for line in remote_istio_config_before_the_primarys_routes(with_early)] == ["early"]
    renamed = copy.copy(with_early)
    renamed.resources = [r for r in with_early.resources if r.name != "cluster-1-istio-istiod-gateway"]
    with pytest.raises(AssertionError, match="cluster-1-istio-istiod-gateway"):
        remote_istio_config_before_the_primarys_routes(renamed)


def primary_remote_eks() -> list[dict[str, Any]]:
    clusters = stack_config("eks")["clusters"]
    clusters[1].update(role="remote", primary="cluster-1")
    return clusters


def test_an_alias_moves_a_resources_state_to_its_new_urn_without_a_delete_or_a_create() -> None:
    """A resource moved to another parent keeps its cloud object when it names its old parent as an
    alias; without the alias the engine deletes the old and creates a new one."""

    def program(moved: bool, alias: bool) -> Any:
        def build() -> None:
            holder = pulumi.ComponentResource("test:index:New" if moved else "test:index:Old", "holder")
            old_parent = pulumi.ComponentResource("test:index:Old", "holder") if moved else holder
            aliases = [pulumi.Alias(parent=old_parent)] if moved and alias else None
            random.RandomPet("pet", opts=pulumi.ResourceOptions(parent=holder, aliases=aliases))

        return build

    before = run(program(moved=False, alias=False))
    with_alias = run(program(moved=True, alias=True), state=before.state())
    pet = next(r for r in with_alias.resources if r.name == "pet")
    assert (pet.operation, pet.aliases) == ("same", [next(r.urn for r in before.resources if r.name == "pet")])
    assert "pet" not in changes(before, with_alias).touched
    without = run(program(moved=True, alias=False), state=before.state())
    done = changes(before, without)
    assert ("pet" in done.create, "pet" in done.delete) == (True, True)


def test_a_mutable_secret_provider_updates_data_in_place_unless_the_secret_is_immutable() -> None:
    """pulumi-kubernetes forceNewProperties: ``IsSecret(obj) && (!enableSecretMutable || IsImmutable(obj))``."""
    prior = {"metadata": {"name": "s", "namespace": "n"}, "stringData": {"k": "old"}}
    changed = {**prior, "stringData": {"k": "new"}}
    assert engine.replaced_inputs(engine.SECRET, prior, changed) == ["stringData"]
    assert engine.replaced_inputs(engine.SECRET, prior, changed, mutable_secrets=True) == []
    immutable = {**changed, "immutable": True}
    assert engine.replaced_inputs(engine.SECRET, {**prior, "immutable": True}, immutable, mutable_secrets=True) == ["stringData"]
    renamed = {**changed, "metadata": {"name": "t", "namespace": "n"}}
    assert engine.replaced_inputs(engine.SECRET, prior, renamed, mutable_secrets=True) == ["metadata.name"]
