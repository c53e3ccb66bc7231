"""Whole-stack runs of the shipped Pulumi.<stack>.yaml files through __main__.py."""

from __future__ import annotations

import itertools
from collections import Counter

import pytest

from components.config.problems import ConfigError
from tests.harness.mocks import MeshMocks
from tests.harness.program import StackRun, run_program, run_stack, stack_config
from tests.harness.webhooks import refused_at_first_up

CA_TYPES = {
    "istio-multicluster:mesh:MeshCA": 1,
    "tls:index/privateKey:PrivateKey": 3,
    "tls:index/selfSignedCert:SelfSignedCert": 1,
    "tls:index/certRequest:CertRequest": 2,
    "tls:index/locallySignedCert:LocallySignedCert": 2,
}


def ca_counts(run: StackRun) -> dict[str, int]:
    counts = Counter(r.type for r in run.resources)
    return {t: counts[t] for t in CA_TYPES}


def test_aks_stack_registers_the_mesh_ca_for_both_clusters(aks_run: StackRun) -> None:
    assert ca_counts(aks_run) == CA_TYPES
    assert {r.name for r in aks_run.of_type("tls:index/locallySignedCert:LocallySignedCert")} == {
        "mesh-ca-westeurope-aks-cert",
        "mesh-ca-eastus-aks-cert",
    }
    assert aks_run.outputs["mesh"] == {
        "meshId": "mesh1",
        "topology": "multi-primary",
        "dataplane": "sidecar",
        "istioRevisions": {"default": "1.30.3"},
        "defaultRevision": "1-30-3",
        "networks": ["network1"],
        "clusters": [
            {"name": "westeurope-aks", "cloud": "azure", "region": "westeurope", "network": "network1", "role": "primary"},
            {"name": "eastus-aks", "cloud": "azure", "region": "eastus", "network": "network1", "role": "primary"},
        ],
    }


def test_eks_stack_registers_the_mesh_ca_on_two_networks(eks_run: StackRun) -> None:
    assert ca_counts(eks_run) == CA_TYPES
    assert eks_run.outputs["mesh"]["networks"] == ["network1", "network2"]
    assert [c["cloud"] for c in eks_run.outputs["mesh"]["clusters"]] == ["aws", "aws"]


@pytest.mark.parametrize(("run_name", "secret"), [("aks_run", set()), ("eks_run", {"eks"})])
def test_root_cert_is_exported_in_the_clear_and_no_private_key_is(run_name: str, secret: set[str], request: pytest.FixtureRequest) -> None:
    run: StackRun = request.getfixturevalue(run_name)
    assert run.outputs["rootCertPem"] == run.named("mesh-ca-root-cert").outputs["certPem"]
    # Exactly the output holding the clusters' kubeconfigs is secret: the whole of it, as Pulumi
    # makes a structure secret when any value in it is. The aks stack exports no kubeconfig (its
    # admin one is a client certificate), the eks stack's run `aws eks get-token`.
    assert run.secret_outputs == secret
    assert "PRIVATE KEY" not in str(run.outputs)


def test_bad_config_fails_before_any_resource_is_registered() -> None:
    mocks = MeshMocks()
    config = stack_config("aks")
    config["clusters"][1]["vnetCidr"] = "10.53.0.0/16"
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="aks", mocks=mocks)
    assert mocks.monitor is not None and mocks.monitor.registered == []
    assert str(raised.value.problems[0]) == (
        "clusters[1].nodePools[0].subnetCidr (cluster eastus-aks): 10.52.0.0/24 is outside vnetCidr 10.53.0.0/16; "
        "pick a subnet inside the VNet"
    )


def test_stack_config_overrides_reach_the_program() -> None:
    run = run_stack("eks", {"meshId": "prod-mesh", "caIntermediateValidityHours": 4000})
    assert run.outputs["mesh"]["meshId"] == "prod-mesh"
    assert {r.inputs["validityPeriodHours"] for r in run.of_type("tls:index/locallySignedCert:LocallySignedCert")} == {4000}


def test_preview_evaluates_with_unknown_certificates() -> None:
    run = run_stack("aks", preview=True)
    assert ca_counts(run) == CA_TYPES


def test_a_misspelt_stack_config_key_is_reported_not_ignored() -> None:
    with pytest.raises(ConfigError) as raised:
        run_stack("aks", {"meshID": "mesh2", "istioRevisons": {"default": "1.30.1"}})
    assert [(p.code, str(p)) for p in raised.value.problems] == [
        ("unknown-field", "istioRevisons: is not a field of the istio-multicluster config; did you mean istioRevisions?"),
        ("unknown-field", "meshID: is not a field of the istio-multicluster config; did you mean meshId?"),
    ]


@pytest.mark.parametrize("stack", ["aks", "eks", "kind"])
def test_no_object_reaches_an_admission_webhook_before_it_serves(stack: str) -> None:
    assert refused_at_first_up(run_stack(stack)) == []


def load_balanced(run: StackRun) -> list[str]:
    """The releases whose chart creates a LoadBalancer Service: the Istio gateways."""
    return [r.name for r in run.of_type("kubernetes:helm.sh/v3:Release") if r.inputs.get("chart") == "gateway"]


# What must still run while a cluster's load balancers are deleted, per stack and cluster.
PROVISIONERS = {
    "kind": lambda c: [f"{c}-metallb", f"{c}-metallb-pool", f"{c}-metallb-l2", f"{c}-provider"],
    "aks": lambda c: [f"{c}-aks", f"azure-{c}-vnet", *(f"azure-{c}-{p}-subnet" for p in ("system", "user1", "user2"))],
    "eks": lambda c: [f"{c}-aws-load-balancer-controller", f"{c}-eks", f"{c}-provider"],
}


@pytest.mark.parametrize("stack", ["aks", "eks", "kind"])
def test_destroy_deletes_every_load_balancer_before_what_provisions_it(stack: str) -> None:
    run = run_stack(stack)
    gateways = load_balanced(run)
    assert gateways, "every shipped stack has gateways"
    for gateway in gateways:
        cluster = gateway.split("-istio-")[0]
        for provisioner in PROVISIONERS[stack](cluster):
            assert run.needs(gateway, provisioner), f"{gateway} may outlive {provisioner} on destroy"


def names_taken_in_the_account(run: StackRun) -> set[str]:
    """What a stack names in its Azure subscription and AWS account: every resource group (unique
    per subscription, ignoring case; everything else the program makes on Azure lives in one, or
    has a random suffix like the vault) and every explicit AWS name (the rest are auto-named)."""
    groups = {f"azure group {r.inputs['resourceGroupName'].lower()}" for r in run.of_type("azure-native:resources:ResourceGroup")}
    aws = {f"{r.type} {r.inputs['name']}" for r in run.resources if r.custom and r.type.startswith("aws:") and "name" in r.inputs}
    return groups | aws


def test_the_shipped_cloud_stacks_can_share_one_subscription_and_one_account() -> None:
    """azure-native and pulumi-aws refuse to create what exists: two shipped stacks deployed side by
    side (aks and multicloud both have a westeurope-aks cluster) must name nothing alike."""
    runs = {
        "aks": run_stack("aks"),
        "eks": run_stack("eks"),
        "multicloud": run_stack("multicloud", {"operatorCidrs": ["203.0.113.0/24"]}),
    }
    taken = {stack: names_taken_in_the_account(run) for stack, run in runs.items()}
    assert "azure group istio-aks-westeurope" in taken["aks"]
    assert "azure group istio-multicloud-westeurope" in taken["multicloud"]
    # The CA copies in Secrets Manager: 3 per EKS cluster and the root.
    assert (len(taken["eks"]), len({n for n in taken["multicloud"] if n.startswith("aws:")})) == (7, 4)
    for (a, names_a), (b, names_b) in itertools.combinations(taken.items(), 2):
        assert not names_a & names_b, f"{a} and {b} both name {sorted(names_a & names_b)}"
