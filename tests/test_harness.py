"""The mocks answer like the real providers; later components rely on each of these answers."""

from __future__ import annotations

import base64
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_azure_native as azure_native
import pulumi_eks as eks
import pulumi_kubernetes as k8s
import pulumi_tls as tls
import pytest
import yaml
from cryptography import x509

from tests.configs import n_existing
from tests.harness import tls_mock
from tests.harness.ec2_rules import SecurityGroupRules
from tests.harness.program import StackRun, run_program


def run(program: Any) -> StackRun:
    return run_program(n_existing(2), program=program)


def test_aks_cluster_and_credentials_invoke_answer_like_azure() -> None:
    def program() -> None:
        aks = azure_native.containerservice.ManagedCluster(
            "aks",
            resource_group_name="istio-aks-westeurope",
            resource_name_="westeurope-aks",
            location="westeurope",
            dns_prefix="westeurope-aks",
        )
        credentials = azure_native.containerservice.list_managed_cluster_admin_credentials_output(
            resource_group_name="istio-aks-westeurope", resource_name=aks.name
        )
        pulumi.export("fqdn", aks.fqdn)
        pulumi.export("kubeconfig", credentials.kubeconfigs[0].value)

    result = run(program)
    fqdn = result.outputs["fqdn"]
    assert fqdn.startswith("westeurope-aks-") and fqdn.endswith(".hcp.westeurope.azmk8s.io")
    assert result.named("aks").id == (
        "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/istio-aks-westeurope"
        "/providers/Microsoft.ContainerService/managedClusters/westeurope-aks"
    )
    kubeconfig = yaml.safe_load(base64.b64decode(result.outputs["kubeconfig"]))
    cluster = kubeconfig["clusters"][0]["cluster"]
    assert cluster["server"] == f"https://{fqdn}:443"
    x509.load_pem_x509_certificate(base64.b64decode(cluster["certificate-authority-data"]))
    assert "exec" not in kubeconfig["users"][0]["user"]


def test_eks_component_returns_resource_references_to_a_registered_child() -> None:
    def program() -> None:
        provider = aws.Provider("aws-eu-west-1", region="eu-west-1")
        cluster = eks.Cluster("cluster-1", opts=pulumi.ResourceOptions(provider=provider))
        pulumi.export("endpoint", cluster.eks_cluster.apply(lambda c: c.endpoint))
        pulumi.export("coreArn", cluster.core.apply(lambda core: core.cluster.arn))
        pulumi.export("isResource", cluster.eks_cluster.apply(lambda c: isinstance(c, aws.eks.Cluster)))

    result = run(program)
    assert [r.type for r in result.resources if r.type.startswith("eks:")] == ["eks:index:Cluster"]
    assert result.outputs["isResource"] is True
    assert result.outputs["endpoint"].startswith("https://") and result.outputs["endpoint"].endswith(".gr7.eu-west-1.eks.amazonaws.com")
    assert result.outputs["coreArn"].startswith("arn:aws:eks:eu-west-1:123456789012:cluster/cluster-1-eksCluster-")


def test_service_account_token_secret_comes_back_filled_and_secret() -> None:
    ca_pem = tls_ca_pem()

    def program() -> None:
        kubeconfig = yaml.safe_dump(
            {
                "apiVersion": "v1",
                "clusters": [
                    {
                        "name": "c1",
                        "cluster": {
                            "server": "https://c1.example:443",
                            "certificate-authority-data": base64.b64encode(ca_pem.encode()).decode(),
                        },
                    }
                ],
                "contexts": [{"name": "c1", "context": {"cluster": "c1", "user": "u"}}],
                "current-context": "c1",
                "users": [{"name": "u", "user": {"token": "t"}}],
            }
        )
        provider = k8s.Provider("c1", kubeconfig=kubeconfig)
        token = k8s.core.v1.Secret(
            "reader-token",
            metadata={"name": "istio-reader-service-account-istio-remote-secret-token", "namespace": "istio-system",
                      "annotations": {"kubernetes.io/service-account.name": "istio-reader-service-account"}},
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions(provider=provider),
        )  # fmt: skip
        pulumi.export("data", token.data)

    result = run(program)
    assert result.secret_outputs == {"data"}
    data = result.outputs["data"]
    assert base64.b64decode(data["ca.crt"]).decode() == ca_pem
    jwt = base64.b64decode(data["token"]).decode()
    claims = base64.urlsafe_b64decode(jwt.split(".")[1] + "==")
    assert b'"sub":"system:serviceaccount:istio-system:istio-reader-service-account"' in claims
    secret = result.named("reader-token")
    assert secret.provider_urn == result.named("c1").urn


def tls_ca_pem() -> str:
    key = tls_mock.private_key("harness-test-ca", {"rsaBits": 2048})["privateKeyPem"]
    inputs = {"privateKeyPem": key, "subject": {"commonName": "kubernetes"}, "isCaCertificate": True, "validityPeriodHours": 10}
    return str(tls_mock.self_signed_cert(inputs)["certPem"])


def test_tls_mock_encodes_path_length_like_the_go_provider() -> None:
    def program() -> None:
        key = tls.PrivateKey("k", algorithm="RSA", rsa_bits=2048)
        for length in (0, 1):
            cert = tls.SelfSignedCert(
                f"ca-{length}", private_key_pem=key.private_key_pem, subject=tls.SelfSignedCertSubjectArgs(common_name="x"),
                is_ca_certificate=True, max_path_length=length, validity_period_hours=1, allowed_uses=["cert_signing"],
            )  # fmt: skip
            pulumi.export(f"ca{length}", cert.cert_pem)

    result = run(program)
    lengths = [
        x509.load_pem_x509_certificate(result.outputs[f"ca{n}"].encode())
        .extensions.get_extension_for_class(x509.BasicConstraints)
        .value.path_length
        for n in (0, 1)
    ]
    assert lengths == [None, 1]
    assert result.named("k").outputs["privateKeyPem"].startswith("-----BEGIN RSA PRIVATE KEY-----")
    assert result.named("ca-1").id == str(x509.load_pem_x509_certificate(result.outputs["ca1"].encode()).serial_number)


def test_recorder_sees_parents_providers_and_dependencies() -> None:
    def program() -> None:
        parent = pulumi.ComponentResource("test:index:Parent", "p")
        provider = k8s.Provider("cluster-a", kubeconfig="{}", opts=pulumi.ResourceOptions(parent=parent))
        ns = k8s.core.v1.Namespace("ns", metadata={"name": "istio-system"}, opts=pulumi.ResourceOptions(parent=parent, provider=provider))
        k8s.core.v1.ConfigMap("cm", metadata={"namespace": ns.metadata.name}, opts=pulumi.ResourceOptions(parent=parent, provider=provider))
        parent.register_outputs({})

    result = run(program)
    cm, ns = result.named("cm"), result.named("ns")
    assert cm.parent == result.named("p").urn
    assert cm.provider_urn == result.named("cluster-a").urn
    assert ns.urn in cm.dependencies
    assert cm.property_dependencies["metadata"] == [ns.urn]


def test_a_second_registration_of_one_urn_fails_like_the_engine() -> None:
    def program() -> None:
        k8s.core.v1.Namespace("twice", metadata={"name": "a"})
        k8s.core.v1.Namespace("twice", metadata={"name": "b"})

    with pytest.raises(Exception, match="Duplicate resource URN"):
        run(program)


def test_every_duplicate_urn_is_caught_however_the_registrations_interleave() -> None:
    """The engine refuses a URN's second registration; the SDK registers on threads, so the
    harness's check and claim of a URN must be one step, or two racing registrations both pass."""

    def program() -> None:
        for index in range(6):
            for _ in range(2):
                tls.PrivateKey(f"key-{index}", algorithm="RSA", rsa_bits=2048)
                k8s.core.v1.Namespace(f"namespace-{index}", metadata={"name": f"n{index}"})

    for _ in range(3):
        with pytest.raises(AssertionError, match="Duplicate resource URN") as raised:
            run(program)
        assert str(raised.value).count("::key-") == 6 and str(raised.value).count("::namespace-") == 6


def test_ec2_refuses_a_groups_second_alike_rule_as_aws_does() -> None:
    """InvalidPermission.Duplicate: a region's group's rules are told apart by protocol, ports and source."""
    ireland, virginia = "urn:provider:eu-west-1", "urn:provider:us-east-1"
    rule = (ireland, {"securityGroupId": "sg-1", "ipProtocol": "tcp", "fromPort": 15443, "toPort": 15443, "cidrIpv4": "10.1.0.0/16"})
    other = (ireland, {**rule[1], "cidrIpv4": "10.2.0.0/16"})
    moved = (ireland, {**rule[1], "cidrIpv4": "10.3.0.0/16"})
    groups = SecurityGroupRules([rule])
    assert groups.write("same", rule, rule) == ""
    assert groups.write("create", None, rule).startswith("InvalidPermission.Duplicate: the specified rule {'securityGroupId': 'sg-1'")
    assert groups.write("create", None, other) == ""
    # An update moves the rule; back to its old content is no second rule.
    assert groups.write("update", other, moved) == ""
    assert groups.write("update", moved, other) == ""
    # A replacement is made beside the old rule, which goes at the end, unless it deletes first.
    assert groups.write("replace", rule, rule).startswith("InvalidPermission.Duplicate")
    assert groups.write("replace", rule, rule, delete_first=True) == ""
    # Another region's rules are its own.
    assert groups.write("create", None, (virginia, rule[1])) == ""
    # All traffic has no ports.
    everything = (ireland, {"securityGroupId": "sg-2", "ipProtocol": "-1", "cidrIpv4": "10.0.0.0/16"})
    assert SecurityGroupRules([everything]).write("create", None, (ireland, {**everything[1], "fromPort": 0, "toPort": 65535})) != ""
