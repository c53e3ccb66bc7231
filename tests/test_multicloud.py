"""Pulumi.multicloud.yaml: an AKS and an EKS cluster in one mesh, open only to each other and the operators.

Nothing is peered between clouds, so each API server and east-west gateway faces the internet.
The mocks give every Elastic IP and public IP a stable address derived from its name; the
literals below are those addresses, tied to their resources by the first test.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
import yaml
from cryptography import x509
from pulumi.runtime import rpc

from tests.configs import AKS, EKS, OPERATORS, existing_cluster, multicloud_config, parse, problems_of
from tests.expected import AKS_EGRESS, EKS_EGRESS, NLB_INTERNET_FACING
from tests.harness.changes import Changes, changes
from tests.harness.policy import OPEN, policy_args, violations
from tests.harness.program import StackRun, project_defaults, run_stack, stack_config
from tests.harness.webhooks import refused_at_first_up

AKS_OUTBOUND_IP = (
    "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/istio-multicloud-westeurope"
    f"/providers/Microsoft.Network/publicIPAddresses/{AKS}-outbound"
)
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


@pytest.fixture(scope="module")
def multicloud() -> StackRun:
    return run_stack("multicloud", {"operatorCidrs": OPERATORS})


def test_the_shipped_file_asks_for_the_operators_ranges_before_anything_is_created() -> None:
    assert problems_of(stack_config("multicloud")) == [
        "operatorCidrs: is required when the clusters span platforms (aws, azure): their API servers face the internet and admit "
        "only these ranges and the other clusters' egress addresses; set the public ranges pulumi runs from, e.g. "
        "pulumi config set --path 'operatorCidrs[0]' \"$(curl -s https://checkip.amazonaws.com)/32\""
    ]
    spec = parse(multicloud_config())
    assert [(c.name, c.cloud, c.region, c.network) for c in spec.clusters] == [
        (AKS, "azure", "westeurope", "network1"),
        (EKS, "aws", "eu-west-1", "network2"),
    ]
    assert (spec.topology.value, spec.verify, spec.spans_platforms) == ("multi-primary", True, True)
    # No kubernetesVersion: pulumi-eks would move the node agents to their newest builds on any run.
    assert spec.warnings == (
        f"clusters[1].kubernetesVersion (cluster {EKS}): is unset, so pulumi-eks moves kube-proxy and vpc-cni to their "
        "newest builds for the version the cluster runs on any `up`; set kubernetesVersion to the version the cluster runs "
        "(or will run) to keep them at EKS's default for it, or pin them in addonVersions",
    )
    clusters = copy.deepcopy(stack_config("multicloud")["clusters"])
    clusters[1]["kubernetesVersion"] = "1.33"
    assert parse(multicloud_config(clusters=clusters)).warnings == ()


def test_egress_addresses_are_made_before_either_cluster(multicloud: StackRun) -> None:
    eip = multicloud.named("aws-mesh-vpc-nat-eip-0")
    ip = multicloud.named(f"azure-{AKS}-outbound-ip")
    assert (f"{eip.outputs['publicIp']}/32", f"{ip.outputs['ipAddress']}/32") == (EKS_EGRESS, AKS_EGRESS)
    assert ip.inputs == {
        "publicIpAddressName": f"{AKS}-outbound",
        "resourceGroupName": "istio-multicloud-westeurope",
        "location": "westeurope",
        "sku": {"name": "Standard", "tier": "Regional"},
        "publicIPAllocationMethod": "Static",
        "publicIPAddressVersion": "IPv4",
        "zones": ["1", "2", "3"],
    }
    # Each API server admits the other cluster's address (and AKS its own).
    assert multicloud.needs(f"{AKS}-aks", eip.name) and multicloud.needs(f"{AKS}-aks", ip.name)
    assert multicloud.needs(f"{EKS}-eks", ip.name) and not multicloud.needs(f"{EKS}-eks", eip.name)
    # Neither address waits for a cluster: each cloud's clusters name the other's before it exists.
    for address in (eip.name, ip.name):
        assert not any(multicloud.needs(address, c) for c in (f"{AKS}-aks", f"{EKS}-eks")), address


def test_the_aks_load_balancer_sends_from_the_programs_ip_which_its_identity_may_join(multicloud: StackRun) -> None:
    profile = multicloud.named(f"{AKS}-aks").inputs["networkProfile"]
    assert profile["loadBalancerProfile"] == {"outboundIPs": {"publicIPs": [{"id": AKS_OUTBOUND_IP}]}}
    assert profile["outboundType"] == "loadBalancer"
    grant = multicloud.named(f"{AKS}-outbound-ip-0-network-contributor").inputs
    principal = multicloud.named(f"{AKS}-aks").outputs["identity"]["principalId"]
    assert (grant["scope"], grant["principalId"], grant["principalType"]) == (AKS_OUTBOUND_IP, principal, "ServicePrincipal")
    assert grant["roleDefinitionId"].endswith(f"/roleDefinitions/{NETWORK_CONTRIBUTOR}")
    # Without the grant a LoadBalancer Service fails with LinkedAuthorizationFailed (Azure/AKS#1945).
    assert multicloud.needs(f"{AKS}-istio-eastwest", f"{AKS}-outbound-ip-0-network-contributor")


def test_each_api_server_admits_the_operators_and_the_other_cluster_only(multicloud: StackRun) -> None:
    aks = multicloud.named(f"{AKS}-aks").inputs["apiServerAccessProfile"]
    # AKS also lists its own outbound IP, through which its nodes reach the public endpoint.
    assert aks == {"authorizedIPRanges": [AKS_EGRESS, EKS_EGRESS, "203.0.113.0/24"]}
    eks = multicloud.named(f"{EKS}-eks").inputs
    assert eks["publicAccessCidrs"] == [AKS_EGRESS, "203.0.113.0/24"]
    assert (eks["endpointPublicAccess"], eks["endpointPrivateAccess"]) == (True, True)


def test_each_east_west_gateway_faces_the_internet_admitting_only_the_other_cluster(multicloud: StackRun) -> None:
    aks = multicloud.named(f"{AKS}-istio-eastwest").inputs["values"]
    # No internal-LB annotation; the security group also refuses the VNet and its peers.
    assert aks["service"] == {
        "annotations": {"service.beta.kubernetes.io/azure-deny-all-except-load-balancer-source-ranges": "true"},
        "loadBalancerSourceRanges": [EKS_EGRESS],
    }
    eks = multicloud.named(f"{EKS}-istio-eastwest").inputs["values"]
    assert eks["service"] == {"annotations": NLB_INTERNET_FACING, "loadBalancerSourceRanges": [AKS_EGRESS]}
    assert (aks["networkGateway"], eks["networkGateway"]) == ("network1", "network2")


@pytest.mark.parametrize("policy", [OPEN, "kubernetes-explicit-provider", "private-keys-only-in-secret-properties"])
def test_the_policy_pack_passes_it_nothing_open_to_the_internet_included(multicloud: StackRun, policy: str) -> None:
    found = {r.name: v for r in multicloud.resources if r.custom and (v := violations(policy, policy_args(r, multicloud)))}
    assert found == {}


def test_no_webhook_refuses_an_object_at_the_first_up(multicloud: StackRun) -> None:
    assert refused_at_first_up(multicloud) == []


def test_ca_copies_sit_in_both_clouds_and_chain_to_the_one_root(multicloud: StackRun) -> None:
    vault = {r.inputs["secretName"]: r.inputs["properties"]["value"] for r in multicloud.of_type("azure-native:keyvault:Secret")}
    manager = {
        r.name.removeprefix("mesh-secrets-"): r.inputs["secretString"]
        for r in multicloud.of_type("aws:secretsmanager/secretVersion:SecretVersion")
    }
    assert sorted(vault) == ["mesh-root-cert", f"{AKS}-ca-cert", f"{AKS}-ca-key", f"{AKS}-cert-chain"]
    assert sorted(manager) == [f"{EKS}-ca-cert", f"{EKS}-ca-key", f"{EKS}-cert-chain", "root-cert"]
    root = x509.load_pem_x509_certificate(multicloud.outputs["rootCertPem"].encode())
    assert vault["mesh-root-cert"] == manager["root-cert"] == multicloud.outputs["rootCertPem"]
    for cluster, copies in ((AKS, vault), (EKS, manager)):
        intermediate = x509.load_pem_x509_certificate(copies[f"{cluster}-ca-cert"].encode())
        intermediate.verify_directly_issued_by(root)
        chain = x509.load_pem_x509_certificates(copies[f"{cluster}-cert-chain"].encode())
        assert chain == [intermediate, root], cluster


def test_each_cluster_holds_a_remote_secret_for_the_api_server_in_the_other_cloud(multicloud: StackRun) -> None:
    servers = {}
    for source, holder in ((AKS, EKS), (EKS, AKS)):
        secret = multicloud.named(f"mesh-link-{source}-in-{holder}")
        assert secret.provider_urn == multicloud.named(f"{holder}-provider").urn
        servers[source] = yaml.safe_load(secret.inputs["stringData"][source])["clusters"][0]["cluster"]["server"]
    assert (
        servers[AKS].endswith(".hcp.westeurope.azmk8s.io:443")
        and servers[AKS] == f"https://{multicloud.named(f'{AKS}-aks').outputs['fqdn']}:443"
    )
    assert servers[EKS].endswith(".gr7.eu-west-1.eks.amazonaws.com")
    assert multicloud.outputs["remoteSecrets"] == {AKS: [f"istio-remote-secret-{EKS}"], EKS: [f"istio-remote-secret-{AKS}"]}


def test_mesh_check_in_each_cloud_must_hear_both(multicloud: StackRun) -> None:
    for cluster in (AKS, EKS):
        probe = multicloud.named(f"mesh-check-{cluster}-probe")
        assert probe.provider_urn == multicloud.named(f"{cluster}-provider").urn
        script = probe.inputs["spec"]["template"]["spec"]["containers"][0]["command"][2]
        assert f'want="{EKS} {AKS}"' in script  # by name, whatever the config's order


def test_outputs_give_an_ip_for_the_azure_gateway_and_a_host_name_for_the_aws_one(multicloud: StackRun) -> None:
    gateways = multicloud.outputs["eastWestGateways"]
    assert sorted(gateways) == [EKS, AKS]
    assert gateways[AKS].count(".") == 3 and gateways[AKS].replace(".", "").isdigit()
    assert gateways[EKS].endswith(".elb.eu-west-1.amazonaws.com")
    assert sorted(multicloud.outputs) == [
        "aks", "caExpiry", "caRoots", "caSecretArns", "eastWestGateways", "egressAddresses", "eks", "keyVault", "mesh",
        "remoteSecrets", "rootCertPem", "vpcIds",
    ]  # fmt: skip
    # What firewalls in front of other services must admit from the mesh.
    assert multicloud.outputs["egressAddresses"] == {AKS: [AKS_EGRESS], EKS: [EKS_EGRESS]}


def test_a_first_preview_evaluates_with_the_addresses_unknown() -> None:
    preview = run_stack("multicloud", {"operatorCidrs": OPERATORS}, preview=True)
    for gateway in (f"{AKS}-istio-eastwest", f"{EKS}-istio-eastwest"):
        assert preview.named(gateway).inputs["values"]["service"]["loadBalancerSourceRanges"] == rpc.UNKNOWN
    assert preview.named(f"{EKS}-eks").inputs["publicAccessCidrs"] == rpc.UNKNOWN
    assert preview.named(f"{AKS}-aks").inputs["apiServerAccessProfile"] == {"authorizedIPRanges": rpc.UNKNOWN}
    # Both gateways' addresses are read back by an id unknown until their releases exist: not at all here.
    reads = {r.name: r.id for r in preview.resources if r.operation == "read"}
    assert reads == {f"{AKS}-istio-eastwest-service": "", f"{EKS}-istio-eastwest-service": ""}


def test_destroy_deletes_the_gateways_before_the_addresses_and_nat_they_depend_on(multicloud: StackRun) -> None:
    waves = multicloud.destroy_waves()
    wave_of = {name: index for index, wave in enumerate(waves) for name in wave}
    eip, nat, ip = "aws-mesh-vpc-nat-eip-0", "aws-mesh-vpc-nat-0", f"azure-{AKS}-outbound-ip"
    # The EKS gateway's NLB is deleted by the controller, which reaches AWS through the NAT; each
    # gateway admits the other cloud's address; the AKS gateway sits on the cluster using its IP.
    needed = {f"{EKS}-istio-eastwest": (eip, nat, ip), f"{AKS}-istio-eastwest": (eip, ip)}
    for gateway, egress in needed.items():
        for address in egress:
            assert multicloud.needs(gateway, address), (gateway, address)
    # The AKS gateway goes while its cluster identity may still manage the load balancer (the grant
    # on the outbound IP), and the cluster, which holds the address, before the address.
    grant = f"{AKS}-outbound-ip-0-network-contributor"
    assert wave_of[f"{AKS}-istio-eastwest"] < wave_of[grant] < wave_of[ip]
    assert wave_of[f"{AKS}-aks"] < wave_of[ip]


def test_a_second_up_changes_nothing(multicloud: StackRun) -> None:
    again = run_stack("multicloud", {"operatorCidrs": OPERATORS}, state=multicloud.state())
    assert changes(multicloud, again) == Changes()


def test_new_operator_ranges_update_only_the_two_api_servers_and_the_vault(multicloud: StackRun) -> None:
    after = run_stack("multicloud", {"operatorCidrs": [*OPERATORS, "198.51.100.0/24"]}, state=multicloud.state())
    # The vault's firewall admits the operators too (they delete its secrets through it).
    assert changes(multicloud, after) == Changes(update=frozenset({f"{AKS}-aks", f"{EKS}-eks", "mesh-vault-vault"}))
    assert after.named(f"{EKS}-eks").inputs["publicAccessCidrs"] == [AKS_EGRESS, "198.51.100.0/24", "203.0.113.0/24"]


def test_an_existing_cluster_in_a_mixed_mesh_is_admitted_by_its_declared_egress() -> None:
    config = stack_config("eks")
    config["clusters"].append(existing_cluster("kind-1", "network3", egressCidrs=["198.51.100.7/32"]))
    run = run_stack("eks", {"clusters": config["clusters"], "operatorCidrs": OPERATORS})
    nat = EKS_EGRESS  # the same resource name as in the multicloud stack, so the same mock address
    assert f"{run.named('aws-mesh-vpc-nat-eip-0').outputs['publicIp']}/32" == nat
    for cluster in ("cluster-1", "cluster-2"):
        # Both EKS clusters leave through the VPC's one NAT: their peers' list holds it once.
        assert run.named(f"{cluster}-istio-eastwest").inputs["values"]["service"] == {
            "annotations": NLB_INTERNET_FACING,
            "loadBalancerSourceRanges": [nat, "198.51.100.7/32"],
        }
        assert run.named(f"{cluster}-eks").inputs["publicAccessCidrs"] == [nat, "198.51.100.7/32", "203.0.113.0/24"]
    assert run.named("kind-1-istio-eastwest").inputs["values"]["service"] == {"loadBalancerSourceRanges": [nat]}


def clusters_with(index: int, **fields: Any) -> list[dict[str, Any]]:
    clusters = copy.deepcopy(stack_config("multicloud")["clusters"])
    clusters[index].update(fields)
    return clusters


REFUSED = {
    "half the internet as operators": (
        {"operatorCidrs": ["0.0.0.0/1"]},
        "operatorCidrs: 0.0.0.0/1 spans more than a /8, which would open the endpoint to much of the internet; list the public "
        "ranges you trust",
    ),
    "multicast operator range": (
        {"operatorCidrs": ["224.0.0.0/8"]},
        "operatorCidrs: 224.0.0.0/8 is not public (it lies in multicast 224.0.0.0/4); a public endpoint sees the public address a NAT or "
        "firewall sends from: list that (e.g. $(curl -s https://checkip.amazonaws.com)/32)",
    ),
    "open operator range": (
        {"operatorCidrs": ["0.0.0.0/0"]},
        "operatorCidrs: 0.0.0.0/0 spans more than a /8, which would open the endpoint to much of the internet; list the public "
        "ranges you trust",
    ),
    "private operator range": (
        {"operatorCidrs": ["10.1.0.0/16"]},
        "operatorCidrs: 10.1.0.0/16 is not public (it lies in 10.0.0.0/8); a public endpoint sees the public address a NAT or "
        "firewall sends from: list that (e.g. $(curl -s https://checkip.amazonaws.com)/32)",
    ),
    "EKS endpoint ranges by hand": (
        {"clusters": clusters_with(1, endpointPublicAccessCidrs=["198.51.100.0/24"])},
        f"clusters[1].endpointPublicAccessCidrs (cluster {EKS}): is set by the program when the clusters span platforms: "
        "operatorCidrs and the other clusters' egress addresses; move your operators' ranges to operatorCidrs and remove it",
    ),
    "AKS authorized ranges by hand": (
        {"clusters": clusters_with(0, authorizedIpRanges=["198.51.100.0/24"])},
        f"clusters[0].authorizedIpRanges (cluster {AKS}): is set by the program when the clusters span platforms: operatorCidrs, "
        "the cluster's own outbound addresses and the other clusters' egress addresses; move your operators' ranges to "
        "operatorCidrs and remove it",
    ),
    "gateway ranges by hand": (
        {"clusters": clusters_with(1, eastWestSourceRanges=["198.51.100.0/24"])},
        f"clusters[1].eastWestSourceRanges (cluster {EKS}): is no longer read: an east-west gateway faces the internet only "
        "when the clusters span platforms, and then admits exactly the other clusters' egress addresses; remove it",
    ),
    "one network across clouds": (
        {"clusters": clusters_with(1, network="network1")},
        f"clusters[1].network (cluster {EKS}): shares network network1 with clusters[0] (cluster {AKS}), but pod IPs of azure "
        "and aws clusters are not known to be routable to each other; give each its own network so traffic crosses the "
        "east-west gateways",
    ),
    "existing cluster without egress": (
        {"clusters": [*stack_config("multicloud")["clusters"], existing_cluster("kind-1", "network3")]},
        "clusters[2].egressCidrs (cluster kind-1): is required when the clusters span platforms: the other clusters' API "
        "servers and east-west gateways admit only known egress addresses; list the public addresses this cluster's traffic "
        "leaves from",
    ),
}


@pytest.mark.parametrize("case", REFUSED)
def test_what_a_mesh_across_clouds_refuses(case: str) -> None:
    overrides, problem = REFUSED[case]
    assert problems_of(multicloud_config(**overrides)) == [problem]


@pytest.mark.parametrize(
    ("stack", "overrides", "problem"),
    [
        (
            "eks",
            {"operatorCidrs": OPERATORS},
            "operatorCidrs: is only used when the clusters span platforms, and all are aws; remove it, and restrict each "
            "cluster's API with its own field (authorizedIpRanges on azure, endpointPublicAccessCidrs on aws)",
        ),
        (
            "kind",
            {
                "clusters": [
                    {**c, "egressCidrs": ["198.51.100.7/32"]} if i == 0 else c for i, c in enumerate(stack_config("kind")["clusters"])
                ]
            },
            "clusters[0].egressCidrs (cluster kind-1): is only used when the clusters span platforms, and every cluster here "
            "is an existing one; remove it",
        ),
    ],
)
def test_ranges_for_meshes_across_clouds_are_refused_on_one_cloud(stack: str, overrides: dict[str, Any], problem: str) -> None:
    assert problems_of({**stack_config(stack), **overrides}) == [problem]


def operator_ranges(count: int) -> list[str]:
    return [f"198.51.{i}.0/24" for i in range(count)]


def test_api_range_limits_of_each_cloud_are_checked_before_anything_is_created() -> None:
    # EKS lists operators + the AKS outbound IP (at most 40); AKS operators + both addresses (at most 200).
    assert len(parse(multicloud_config(operatorCidrs=operator_ranges(39))).operator_cidrs) == 39
    assert problems_of(multicloud_config(operatorCidrs=operator_ranges(40))) == [
        f"clusters[1].name (cluster {EKS}): its API endpoint would admit 41 ranges (40 operatorCidrs and 1 egress address of "
        "the clusters), more than aws's limit of 40; list fewer, wider operatorCidrs"
    ]
    per_az = [{**stack_config("multicloud")["vpcs"][0], "nat": "per-az"}]
    assert problems_of(multicloud_config(operatorCidrs=operator_ranges(198), vpcs=per_az)) == [
        f"clusters[0].name (cluster {AKS}): its API endpoint would admit 202 ranges (198 operatorCidrs and 4 egress addresses of "
        "the clusters), more than azure's limit of 200; list fewer, wider operatorCidrs, or set nat: single on vpc mesh-vpc",
        f"clusters[1].name (cluster {EKS}): its API endpoint would admit 199 ranges (198 operatorCidrs and 1 egress address of "
        "the clusters), more than aws's limit of 40; list fewer, wider operatorCidrs",
    ]


def test_the_nlb_security_group_limit_bounds_the_peers_an_eks_gateway_admits() -> None:
    """4 ports x 15 ranges fill the 60 inbound rules of the NLB's security group."""
    fifteen = existing_cluster("kind-1", "network3", egressCidrs=[f"198.51.{i}.7/32" for i in range(14)])
    parse(multicloud_config(clusters=[*stack_config("multicloud")["clusters"], fifteen]))
    sixteen = existing_cluster("kind-1", "network3", egressCidrs=[f"198.51.{i}.7/32" for i in range(15)])
    assert problems_of(multicloud_config(clusters=[*stack_config("multicloud")["clusters"], sixteen])) == [
        f"clusters[1].name (cluster {EKS}): its east-west gateway would admit 16 egress addresses of the other clusters, more "
        "than the 15 its aws load balancer takes; list fewer, wider egressCidrs on cluster kind-1"
    ]


def test_the_counted_ranges_are_the_deployed_ones() -> None:
    """With a per-zone NAT (3 addresses) and an existing cluster of 2 ranges, the counts the limits
    are checked against are the lengths of the lists the clouds get."""
    vpcs = [{**stack_config("multicloud")["vpcs"][0], "nat": "per-az"}]
    kind = existing_cluster("kind-1", "network3", egressCidrs=["198.51.100.0/28", "198.51.100.64/28"])
    run = run_stack("multicloud", {"operatorCidrs": OPERATORS, "vpcs": vpcs, "clusters": [*stack_config("multicloud")["clusters"], kind]})
    aks = run.named(f"{AKS}-aks").inputs["apiServerAccessProfile"]["authorizedIPRanges"]
    eks = run.named(f"{EKS}-eks").inputs["publicAccessCidrs"]
    assert (len(aks), len(eks)) == (1 + 1 + 3 + 2, 1 + 1 + 2)  # operators, AKS, 3 NATs, kind; EKS: operators, AKS, kind
    assert len(run.named(f"{EKS}-istio-eastwest").inputs["values"]["service"]["loadBalancerSourceRanges"]) == 1 + 2


def test_adding_an_aks_cluster_to_the_eks_stack_opens_its_gateways_and_apis_to_exactly_it() -> None:
    """On the running clusters only the API ranges and the gateways change (the controller replaces
    an NLB whose scheme changes, load_balancer_synthesizer.go isSDKLoadBalancerRequiresReplacement,
    and the program reads the new host name), and the checks run again."""
    before = run_stack("eks")
    aks = {**stack_config("multicloud")["clusters"][0], "network": "network3"}
    overrides = {"clusters": [*stack_config("eks")["clusters"], aks], "operatorCidrs": OPERATORS, "keyVaultLocation": "westeurope"}
    after = run_stack("eks", overrides, state=before.state())
    done = changes(before, after)
    existing = {r.name for r in before.resources}
    assert (done.update, done.replace, done.delete, done.create & existing) == (
        {"cluster-1-eks", "cluster-2-eks", "cluster-1-istio-eastwest", "cluster-2-istio-eastwest"},
        {"mesh-check-cluster-1-probe", "mesh-check-cluster-2-probe", "mesh-check-cluster-1-paths", "mesh-check-cluster-2-paths"},
        frozenset(),
        frozenset(),
    )
    for cluster in ("cluster-1", "cluster-2"):
        service = after.named(f"{cluster}-istio-eastwest").inputs["values"]["service"]
        assert service == {"annotations": NLB_INTERNET_FACING, "loadBalancerSourceRanges": [AKS_EGRESS, EKS_EGRESS]}
        assert after.named(f"{cluster}-eks").inputs["publicAccessCidrs"] == [AKS_EGRESS, EKS_EGRESS, "203.0.113.0/24"]


def test_adding_an_eks_cluster_to_the_aks_stack_updates_the_aks_clusters_in_place() -> None:
    """Their load balancers move to the program's outbound IPs and their API servers get ranges:
    both update in place (only some networkProfile leaves replace a cluster, pulumi-azure-native#4771)."""
    before = run_stack("aks")
    eks = {**stack_config("multicloud")["clusters"][1], "network": "network2"}
    vpcs = stack_config("multicloud")["vpcs"]
    after = run_stack(
        "aks",
        {"clusters": [*stack_config("aks")["clusters"], eks], "operatorCidrs": OPERATORS, "vpcs": vpcs, "secretsRegion": "eu-west-1"},
        state=before.state(),
    )
    done = changes(before, after)
    assert {"westeurope-aks-aks", "eastus-aks-aks"} <= done.update
    assert done.replace & {r.name for r in before.resources if r.type.startswith("azure-native:")} == frozenset()
    profile = after.named("eastus-aks-aks").inputs["networkProfile"]["loadBalancerProfile"]
    assert list(profile) == ["outboundIPs"]


def test_leaving_a_mesh_across_clouds_returns_the_aks_cluster_to_its_own_address_before_deleting_the_programs() -> None:
    """An omitted load-balancer profile keeps the current outbound IPs, and Azure refuses to delete an
    address in use: the update states AKS's managed IP and no API ranges, and the address and its
    grant are deleted (after the update, as Pulumi deletes last)."""
    before = run_stack("multicloud", {"operatorCidrs": OPERATORS})
    aks_only = [stack_config("multicloud")["clusters"][0], {**stack_config("aks")["clusters"][1], "network": "network2"}]
    # The AWS keys go with the last EKS cluster (they would do nothing): back to Pulumi.yaml's defaults.
    aws_defaults = {key: project_defaults()[key] for key in ("vpcs", "secretsRegion", "secretsRecoveryWindowDays")}
    after = run_stack("multicloud", {"clusters": aks_only, **aws_defaults}, state=before.state())
    done = changes(before, after)
    assert f"{AKS}-aks" in done.update
    assert {f"azure-{AKS}-outbound-ip", f"{AKS}-outbound-ip-0-network-contributor"} <= done.delete
    cluster = after.named(f"{AKS}-aks").inputs
    assert cluster["networkProfile"]["loadBalancerProfile"] == {"managedOutboundIPs": {"count": 1}}
    assert cluster["apiServerAccessProfile"] == {"authorizedIPRanges": []}
