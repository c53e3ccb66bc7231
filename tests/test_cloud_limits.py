"""Values the cloud would refuse only once resources exist, refused by the config layer first.

Each class is generated, not sampled: every special-purpose IPv4 block in every allow-list field,
every prefix length of an EKS service range, every spelling of one API server, leading zeros in
every version field, node counts on both sides of a pool subnet's capacity. The expected values are
computed here from the clouds' published rules, not from the program's constants.
"""

from __future__ import annotations

import copy
import itertools
from ipaddress import IPv4Network
from typing import Any

import pytest

from components.config.problems import ConfigError
from tests.configs import (
    aws_cluster,
    codes_of,
    existing_cluster,
    n_existing,
    parse,
    two_azure,
    vpc,
    with_cluster,
)
from tests.harness.changes import changes
from tests.harness.mocks import MeshMocks
from tests.harness.program import run_program, run_stack, stack_config

# IANA's IPv4 special-purpose blocks (RFC 6890 and its updates) that no client on the internet sends
# from, with how the refusal names each. RFC 5737's documentation blocks stay usable for examples.
NON_PUBLIC = {
    "0.0.0.0/8": "0.0.0.0/8",
    "10.0.0.0/8": "10.0.0.0/8",
    "100.64.0.0/10": "100.64.0.0/10",  # carrier-grade NAT (RFC 6598)
    "127.0.0.0/8": "127.0.0.0/8",
    "169.254.0.0/16": "169.254.0.0/16",
    "172.16.0.0/12": "172.16.0.0/12",
    "192.0.0.0/24": "192.0.0.0/24",
    "192.168.0.0/16": "192.168.0.0/16",
    "198.18.0.0/15": "198.18.0.0/15",
    "224.0.0.0/4": "multicast 224.0.0.0/4",
    "240.0.0.0/4": "the reserved 240.0.0.0/4",
}
PUBLIC_HINT = (
    "a public endpoint sees the public address a NAT or firewall sends from: list that (e.g. $(curl -s https://checkip.amazonaws.com)/32)"
)


def inside(block: str) -> list[str]:
    """Ranges of ``block`` a config might give: the block itself (when no wider than a /8), its last
    /24 and a single address near its end."""
    network = IPv4Network(block)
    ranges = [str(network)] if network.prefixlen >= 8 else []
    last_24 = IPv4Network(f"{network.broadcast_address}/24", strict=False)
    return [*ranges, str(last_24), f"{network.broadcast_address - 1}/32"]


def eks_pair(first: dict[str, Any] | None = None, vpcs: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "secretsRegion": "eu-west-1",
        "vpcs": vpcs or [vpc()],
        "clusters": [aws_cluster("c1", "n1", **(first or {})), aws_cluster("c2", "n2")],
    }


ALLOW_LISTS = {
    "endpointPublicAccessCidrs": (lambda ranges: eks_pair({"endpointPublicAccessCidrs": ranges}), "clusters[0]", "cluster c1"),
    "authorizedIpRanges": (lambda ranges: with_cluster(two_azure(), 0, authorizedIpRanges=ranges), "clusters[0]", "cluster westeurope-aks"),
    "egressCidrs": (
        lambda ranges: {
            **stack_config("multicloud"),
            "operatorCidrs": ["203.0.113.0/24"],
            "clusters": [*stack_config("multicloud")["clusters"], existing_cluster("kind-1", "network3", egressCidrs=ranges)],
        },
        "clusters[2]",
        "cluster kind-1",
    ),
}


@pytest.mark.parametrize(
    ("field", "cidr", "block"),
    [(f, cidr, block) for f in ALLOW_LISTS for block in NON_PUBLIC for cidr in inside(block)],
)
def test_allow_lists_refuse_every_range_no_public_client_sends_from(field: str, cidr: str, block: str) -> None:
    build, path, owner = ALLOW_LISTS[field]
    assert codes_of(build(["198.51.100.7/32", cidr])) == [
        ("private-range", f"{path}.{field} ({owner}): {cidr} is not public (it lies in {NON_PUBLIC[block]}); {PUBLIC_HINT}")
    ]


@pytest.mark.parametrize("field", ALLOW_LISTS)
def test_allow_lists_take_public_and_documentation_ranges(field: str) -> None:
    ranges = ["100.63.255.0/24", "100.128.0.0/10", "198.20.0.0/14", "203.0.113.0/24", "8.0.0.0/8"]
    spec = parse(ALLOW_LISTS[field][0](ranges))
    assert spec.clusters


def test_eks_takes_0_0_0_0_slash_0_alone_as_open_with_the_warning_and_nothing_beside_it() -> None:
    spec = parse(eks_pair({"endpointPublicAccessCidrs": ["0.0.0.0/0"]}))
    assert [w for w in spec.warnings if "endpointPublicAccessCidrs" in w][:1] == [
        "clusters[0].endpointPublicAccessCidrs (cluster c1): the EKS API endpoint accepts connections from anywhere; "
        "list the operators' ranges here (the program adds the other VPCs' NAT addresses)"
    ]
    assert codes_of(eks_pair({"endpointPublicAccessCidrs": ["0.0.0.0/0", "203.0.113.0/24"]})) == [
        (
            "open-beside-ranges",
            "clusters[0].endpointPublicAccessCidrs (cluster c1): lists 0.0.0.0/0, which admits anyone, beside 1 other range; "
            "list 0.0.0.0/0 alone to leave the endpoint open, or only the public ranges you trust",
        )
    ]
    wide = "spans more than a /8, which would open the endpoint to much of the internet; list the public ranges you trust"
    assert codes_of(eks_pair({"endpointPublicAccessCidrs": ["0.0.0.0/1"]})) == [
        ("open-to-all", f"clusters[0].endpointPublicAccessCidrs (cluster c1): 0.0.0.0/1 {wide}")
    ]
    assert codes_of(with_cluster(two_azure(), 0, authorizedIpRanges=["0.0.0.0/0"])) == [
        ("open-to-all", f"clusters[0].authorizedIpRanges (cluster westeurope-aks): 0.0.0.0/0 {wide}")
    ]


# --- allow-list limits within one platform ---------------------------------------------------------


def public_ranges(count: int) -> list[str]:
    return [f"198.{51 + i // 256}.{i % 256}.0/24" for i in range(count)]


def eks_two_vpcs(listed: int) -> dict[str, Any]:
    """c1 in mesh-vpc lists ``listed`` ranges; c2 sits in other-vpc, whose per-zone NAT has 2 addresses."""
    return {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc(), vpc("other-vpc", 1, nat="per-az")],
        "clusters": [aws_cluster("c1", "n1", endpointPublicAccessCidrs=public_ranges(listed)), aws_cluster("c2", "n2", vpc="other-vpc")],
    }


def test_an_eks_endpoint_counts_the_other_vpcs_nat_addresses_against_its_40() -> None:
    assert parse(eks_two_vpcs(38)).clusters
    assert codes_of(eks_two_vpcs(39)) == [
        (
            "too-many-api-ranges",
            "clusters[0].endpointPublicAccessCidrs (cluster c1): its API endpoint would admit 41 ranges (39 listed here and 2 "
            "egress addresses of the mesh's clusters, which the program adds), more than aws's limit of 40; list fewer, wider "
            "ranges here, or set nat: single on vpc other-vpc",
        )
    ]
    # In one VPC the peers come through the private endpoint: only the listed ranges count.
    assert parse(eks_pair({"endpointPublicAccessCidrs": public_ranges(40)})).clusters
    assert codes_of(eks_pair({"endpointPublicAccessCidrs": public_ranges(41)}))[0][0] == "too-many-api-ranges"


def test_an_aks_api_server_counts_every_aks_clusters_outbound_ip_against_its_200() -> None:
    assert parse(with_cluster(two_azure(), 0, authorizedIpRanges=public_ranges(198))).clusters
    assert codes_of(with_cluster(two_azure(), 0, authorizedIpRanges=public_ranges(199))) == [
        (
            "too-many-api-ranges",
            "clusters[0].authorizedIpRanges (cluster westeurope-aks): its API endpoint would admit 201 ranges (199 listed here "
            "and 2 egress addresses of the mesh's clusters, which the program adds), more than azure's limit of 200; list "
            "fewer, wider ranges here",
        )
    ]


def test_the_counted_single_platform_lists_are_the_deployed_ones() -> None:
    eks = eks_two_vpcs(38)
    run = run_stack("eks", {"vpcs": eks["vpcs"], "clusters": eks["clusters"]})
    assert len(run.named("c1-eks").inputs["publicAccessCidrs"]) == 40
    aks = copy.deepcopy(stack_config("aks")["clusters"])
    aks[0]["authorizedIpRanges"] = public_ranges(198)
    run = run_stack("aks", {"clusters": aks})
    assert len(run.named("westeurope-aks-aks").inputs["apiServerAccessProfile"]["authorizedIPRanges"]) == 200


# --- service ranges, DNS addresses, overlay ranges ---------------------------------------------------


@pytest.mark.parametrize("prefix", range(8, 29))
def test_eks_service_ranges_are_from_slash_12_to_slash_24(prefix: int) -> None:
    service = str(IPv4Network(f"172.16.0.0/{prefix}", strict=False))  # 172.0.0.0/8 ... 172.16.0.0/28
    config = eks_pair({"serviceCidr": service})
    if 12 <= prefix <= 24:
        assert parse(config).clusters
    else:
        assert codes_of(config) == [("service-cidr", eks_service_problem(service))]


@pytest.mark.parametrize("service", ["198.18.0.0/16", "100.64.0.0/16", "192.0.0.0/24", "169.254.0.0/16", "8.8.0.0/16"])
def test_eks_service_ranges_lie_in_an_rfc_1918_block(service: str) -> None:
    assert codes_of(eks_pair({"serviceCidr": service})) == [("service-cidr", eks_service_problem(service))]


def eks_service_problem(service: str) -> str:
    return (
        f"clusters[0].serviceCidr (cluster c1): {service} must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 and "
        "be from /12 to /24, as EKS requires"
    )


@pytest.mark.parametrize("service", ["10.152.0.0/16", "10.152.0.0/24", "10.152.0.0/29"])
def test_aks_dns_service_ip_is_never_the_network_api_server_or_broadcast_address(service: str) -> None:
    network = IPv4Network(service)
    for address in (network.network_address, network.network_address + 1, network.broadcast_address):
        assert codes_of(with_cluster(two_azure(), 1, serviceCidr=service, dnsServiceIp=str(address))) == [
            (
                "dns-service-ip",
                f"clusters[1].dnsServiceIp (cluster eastus-aks): {address} is reserved in {service} (network, API server or "
                f"broadcast address); use e.g. {network.network_address + 10}",
            )
        ]
    assert parse(with_cluster(two_azure(), 1, serviceCidr=service, dnsServiceIp=str(network.network_address + 2))).clusters


@pytest.mark.parametrize(
    ("key", "value"), [("vnetCidr", "172.30.0.0/16"), ("serviceCidr", "172.31.0.0/16"), ("serviceCidr", "192.0.2.0/24")]
)
def test_aks_refuses_the_ranges_it_reserves(key: str, value: str) -> None:
    config = with_cluster(two_azure(), 1, **{key: value})
    if key == "vnetCidr":
        config["clusters"][1]["nodePools"] = [{"name": "system", "mode": "System", "subnetCidr": "172.30.0.0/24"}]
    else:
        config["clusters"][1]["dnsServiceIp"] = str(IPv4Network(value).network_address + 10)
    reserved = {"172.30.0.0/16": "172.30.0.0/16", "172.31.0.0/16": "172.31.0.0/16", "192.0.2.0/24": "192.0.2.0/24"}[value]
    assert codes_of(config) == [
        (
            "aks-reserved-range",
            f"clusters[1].{key} (cluster eastus-aks): {value} overlaps {reserved}, which AKS reserves; pick a range outside it",
        )
    ]


def test_an_overlay_pod_range_may_be_reused_but_never_overlap_a_vnet_or_vpc() -> None:
    overlay = {"networkPlugin": "overlay", "network": "network2"}
    reused = with_cluster(with_cluster(two_azure(), 0, networkPlugin="overlay"), 1, **overlay)  # both on 10.244.0.0/16
    assert len(parse(reused).clusters) == 2
    assert codes_of(with_cluster(two_azure(), 1, **overlay, podCidr="10.53.0.0/16")) == [
        (
            "overlap",
            "clusters[1].podCidr (cluster eastus-aks): 10.53.0.0/16 overlaps clusters[0].vnetCidr (cluster westeurope-aks) "
            "10.53.0.0/16; overlay pod ranges must not overlap any VNet or VPC",
        )
    ]
    clusters = copy.deepcopy(stack_config("multicloud")["clusters"])
    clusters[0].update(networkPlugin="overlay", podCidr="10.0.128.0/17")
    mixed = {**stack_config("multicloud"), "operatorCidrs": ["203.0.113.0/24"], "clusters": clusters}
    assert codes_of(mixed) == [
        (
            "overlap",
            "clusters[0].podCidr (cluster westeurope-aks): 10.0.128.0/17 overlaps vpcs[0].cidr (vpc mesh-vpc) 10.0.0.0/16; "
            "overlay pod ranges must not overlap any VNet or VPC",
        )
    ]


# --- API server URLs ----------------------------------------------------------------------------------

SAME_ENDPOINT = [
    "https://kind-1.example:6443",
    "https://KIND-1.Example:6443",
    "https://kind-1.example.:6443",
    "https://kind-1.example:6443/",
    "https://kind-1.example:6443//",
]
SAME_DEFAULT_PORT = ["https://api.example", "https://api.example:443", "https://API.example.:443/"]
# Legacy IPv4 forms (0xac120003, 172.18.3) are refused on their own (test_config_refusals).
SAME_ADDRESS = ["https://172.18.0.3:6443", "https://[::ffff:172.18.0.3]:6443"]


@pytest.mark.parametrize(
    ("first", "second"),
    [pair for group in (SAME_ENDPOINT, SAME_DEFAULT_PORT, SAME_ADDRESS) for pair in itertools.permutations(group, 2)],
)
def test_two_spellings_of_one_api_server_are_refused(first: str, second: str) -> None:
    config = {"clusters": [existing_cluster("c1", "n1", apiServerUrl=first), existing_cluster("c2", "n2", apiServerUrl=second)]}
    assert codes_of(config) == [
        (
            "duplicate-apiserverurl",
            "clusters[1].apiServerUrl (cluster c2): is also the API server URL of clusters[0] (cluster c1); both would install "
            "into one cluster: give each cluster its own",
        )
    ]


@pytest.mark.parametrize(
    "second",
    ["https://kind-1.example:6444", "https://kind-2.example:6443", "https://kind-1.example:6443/k8s/c2", "https://172.18.0.4:6443"],
)
def test_different_api_servers_are_kept(second: str) -> None:
    config = {
        "clusters": [
            existing_cluster("c1", "n1", apiServerUrl="https://kind-1.example:6443/k8s/c1"),
            existing_cluster("c2", "n2", apiServerUrl=second),
        ]
    }
    assert len(parse(config).clusters) == 2


LABEL_HINT = "is not 1-63 letters, digits, '-' or '_' starting and ending with a letter, digit or '_'; fix the host's spelling"


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("https://kind 1:6443", f"the label 'kind 1' {LABEL_HINT}"),
        ("https://kind..example:6443", f"the label '' {LABEL_HINT}"),
        ("https://-kind:6443", f"the label '-kind' {LABEL_HINT}"),
        ("https://kind-:6443", f"the label 'kind-' {LABEL_HINT}"),
        ("https://kind\u00e9:6443", f"the label 'kind\u00e9' {LABEL_HINT}"),
        (f"https://{'a' * 64}:6443", f"the label '{'a' * 64}' {LABEL_HINT}"),
        (
            f"https://{'.'.join(['a' * 63] * 4)}:6443",
            "it is 255 characters, and DNS names have at most 253; use a shorter name or the IP address",
        ),
        (
            "https://999.1.1.1:6443",
            "it is no IPv4 address (four numbers from 0 to 255), and a DNS name never ends in a number (RFC 3696 §2)",
        ),
        ("https://kind.1:6443", "it is no IPv4 address (four numbers from 0 to 255), and a DNS name never ends in a number (RFC 3696 §2)"),
    ],
)
def test_api_urls_need_a_host_that_is_an_address_or_a_dns_name(url: str, why: str) -> None:
    host = url.removeprefix("https://").rsplit(":", 1)[0].lower()
    assert codes_of(with_cluster(n_existing(2), 0, apiServerUrl=url)) == [
        (
            "url-host",
            f"clusters[0].apiServerUrl (cluster c1): {url!r} has the host {host!r}, which is neither an IP address nor a DNS name: {why}",
        )
    ]


@pytest.mark.parametrize("url", ["https://[zz]:6443", "https://[::1:6443", "https://[kind-1]:6443"])
def test_a_bracketed_host_that_is_no_ipv6_address_is_refused_not_raised(url: str) -> None:
    assert codes_of(with_cluster(n_existing(2), 0, apiServerUrl=url)) == [
        (
            "url-host",
            f"clusters[0].apiServerUrl (cluster c1): {url!r} has a host in brackets that is not an IPv6 address; "
            "e.g. https://172.18.0.3:6443",
        )
    ]


@pytest.mark.parametrize("url", ["https://kind_1:6443", "https://kind-1-control-plane.:6443", "https://[fd00::3]:6443", "https://10.1.2.3"])
def test_hosts_resolvers_take_are_accepted(url: str) -> None:
    assert len(parse(with_cluster(n_existing(2), 0, apiServerUrl=url)).clusters) == 2


# --- versions -------------------------------------------------------------------------------------------


def zero_padded(version: str, prefix: str = "") -> list[str]:
    """Every spelling of ``version`` with a leading zero on one of its numbers."""
    numbers = version.removeprefix(prefix).split(".")
    return [prefix + ".".join(f"0{n}" if i == j else n for j, n in enumerate(numbers)) for i in range(len(numbers))]


VERSION_FIELDS = {
    "kubernetesVersion (aks)": (
        "1.33.2",
        "",
        lambda v: with_cluster(two_azure(), 0, kubernetesVersion=v),
        "clusters[0].kubernetesVersion (cluster westeurope-aks)",
    ),
    "kubernetesVersion (eks)": ("1.33", "", lambda v: eks_pair({"kubernetesVersion": v}), "clusters[0].kubernetesVersion (cluster c1)"),
    "gatewayApiRelease": ("v1.5.1", "v", lambda v: {**n_existing(2), "dataplane": "ambient", "gatewayApiRelease": v}, "gatewayApiRelease"),
    "metallb.chartVersion": (
        "0.14.9",
        "",
        lambda v: with_cluster(n_existing(2), 0, metallb={"addresses": ["172.18.255.200-172.18.255.250"], "chartVersion": v}),
        "clusters[0].metallb.chartVersion (cluster c1)",
    ),
}


@pytest.mark.parametrize(("field", "spelling"), [(f, s) for f, (v, p, *_) in VERSION_FIELDS.items() for s in zero_padded(v, p)])
def test_version_fields_refuse_leading_zeros(field: str, spelling: str) -> None:
    version, _, build, label = VERSION_FIELDS[field]
    assert codes_of(build(spelling)) == [
        ("version-zeros", f"{label}: {spelling} has a leading zero, which no release is named with; write {version}")
    ]
    assert parse(build(version)).clusters


@pytest.mark.parametrize("spelling", zero_padded("1.30.3"))
def test_an_istio_release_with_a_leading_zero_is_refused_as_a_second_istiod(spelling: str) -> None:
    assert codes_of({**n_existing(2), "istioRevisions": {"default": "1.30.3", "canary": spelling}}) == [
        (
            "istio-version",
            f"istioRevisions: canary: {spelling} has a leading zero, which no Istio release is named with; write 1.30.3",
        )
    ]


# --- AKS names, pools and subnets ----------------------------------------------------------------------


@pytest.mark.parametrize("total", [75, 76, 77])
def test_peering_names_fit_azures_80_characters(total: int) -> None:
    first, second = "a" * (total // 2), "b" * (total - total // 2)
    config = with_cluster(with_cluster(two_azure(), 0, name=first), 1, name=second)
    if total <= 76:
        assert parse(config).clusters
        return
    assert codes_of(config) == [
        (
            "peering-name-length",
            f"clusters[1].name (cluster {second}): the VNet peerings with clusters[0].name (cluster {first}) are named "
            f"{second}-to-{first} and back (81 characters), more than the 80 Azure takes; shorten the two cluster names to "
            "76 characters together",
        )
    ]


def pools(count: int, **extra: Any) -> list[dict[str, Any]]:
    return [
        {"name": f"p{i}", "mode": "System" if i == 0 else "User", "subnetCidr": f"10.53.{i}.0/24", "count": 1, **extra}
        for i in range(count)
    ]


def test_an_aks_cluster_takes_100_pools_and_5000_nodes() -> None:
    assert parse(with_cluster(two_azure(), 0, nodePools=pools(100))).clusters
    assert codes_of(with_cluster(two_azure(), 0, nodePools=pools(101))) == [
        (
            "too-many-pools",
            "clusters[0].nodePools (cluster westeurope-aks): lists 101 pools; AKS takes at most 100 per cluster: merge pools "
            "of one VM size, or split the cluster",
        )
    ]
    large = [
        {"name": f"p{i}", "mode": "System" if i == 0 else "User", "subnetCidr": f"10.53.{16 * i}.0/20", "count": 1, "maxCount": 1000}
        for i in range(6)
    ]
    config = with_cluster(two_azure(), 0, networkPlugin="overlay", network="network2", nodePools=large)
    assert codes_of(config) == [
        (
            "too-many-nodes",
            "clusters[0].nodePools (cluster westeurope-aks): can grow to 6000 nodes (the pools' maxCount, or count); AKS takes "
            "at most 5000 per cluster: lower maxCount, or split the cluster",
        )
    ]


def fits(prefix: int, nodes: int, per_node: int) -> bool:
    """Microsoft's sizing: (nodes + 1 surge node) * (maxPods + 1) addresses, or one per node with
    overlay, out of the subnet's addresses less the 5 Azure keeps."""
    return (nodes + 1) * per_node <= 2 ** (32 - prefix) - 5


@pytest.mark.parametrize(("cni", "per_node"), [("azure", 31), ("overlay", 1)])
@pytest.mark.parametrize("prefix", [23, 24, 26, 28, 29])
def test_a_pool_subnet_holds_its_nodes_and_their_pods(cni: str, per_node: int, prefix: int) -> None:
    capacity = (2 ** (32 - prefix) - 5) // per_node - 1
    for nodes in {max(capacity, 1), max(capacity + 1, 1)}:
        pool = {"name": "system", "mode": "System", "subnetCidr": f"10.53.0.0/{prefix}", "count": 1, "minCount": 1, "maxCount": nodes}
        config = with_cluster(two_azure(), 0, networkPlugin=cni, network="network2", nodePools=[pool])
        if fits(prefix, nodes, per_node):
            assert parse(config).clusters, (prefix, nodes)
            continue
        [(code, message)] = codes_of(config)
        assert code == "subnet-too-small"
        assert message.startswith(f"clusters[0].nodePools[0].subnetCidr (cluster westeurope-aks): 10.53.0.0/{prefix} has ")


def test_the_subnet_message_gives_the_numbers_and_the_prefix_that_fits() -> None:
    pool = {"name": "user1", "subnetCidr": "10.53.1.0/24", "count": 2, "minCount": 1, "maxCount": 8}
    config = with_cluster(two_azure(), 0, nodePools=[two_azure()["clusters"][0]["nodePools"][0], pool])
    assert codes_of(config) == [
        (
            "subnet-too-small",
            "clusters[0].nodePools[1].subnetCidr (cluster westeurope-aks): 10.53.1.0/24 has 251 usable addresses (Azure keeps 5 "
            "of its 256), but pool user1 needs 279: with Azure CNI each node takes 31 (itself and AKS's default of 30 pods), "
            "for its 8 nodes (maxCount) and 1 more while AKS upgrades; give it a /23 or larger, or fewer nodes",
        )
    ]
    overlay = {"name": "system", "mode": "System", "subnetCidr": "10.53.0.0/29", "count": 3}
    config = with_cluster(two_azure(), 0, networkPlugin="overlay", network="network2", nodePools=[overlay])
    assert codes_of(config) == [
        (
            "subnet-too-small",
            "clusters[0].nodePools[0].subnetCidr (cluster westeurope-aks): 10.53.0.0/29 has 3 usable addresses (Azure keeps 5 of "
            "its 8), but pool system needs 4: each node takes 1 (its pods take podCidr addresses), for its 3 nodes (count) and "
            "1 more while AKS upgrades; give it a /28 or larger, or fewer nodes",
        )
    ]


# --- AWS zones the account does not have ----------------------------------------------------------------

ONLY_A_AND_B = {"eu-west-1": {"eu-west-1a": "euw1-az1", "eu-west-1b": "euw1-az2"}}


@pytest.mark.parametrize("preview", [True, False])
@pytest.mark.parametrize("stack", ["eks", "multicloud"])
def test_a_zone_the_account_lacks_stops_the_update_before_anything_is_created(preview: bool, stack: str) -> None:
    mocks = MeshMocks(zones=ONLY_A_AND_B)
    with pytest.raises(ConfigError) as raised:
        config = {**stack_config(stack), **({"operatorCidrs": ["198.51.100.0/24"]} if stack == "multicloud" else {})}
        run_program(config, stack=stack, preview=preview, mocks=mocks)
    assert [str(p) for p in raised.value.problems] == [
        "vpcs[0].zones (vpc mesh-vpc): eu-west-1c is not an available zone of eu-west-1 for this account; its zones are "
        "eu-west-1a, eu-west-1b: list zones from those"
    ]
    assert str(raised.value).splitlines()[0] == (
        "istio-multicluster: the stack config has 1 problem; the live zone lists of eu-west-1 show it, and no VPC was created:"
    )
    assert mocks.monitor is not None
    # Only what the zone lookup needs: the AWS network component and its providers; nothing of the
    # CA, of another platform or of a VPC.
    assert {r.type for r in mocks.monitor.registered} == {"istio-multicluster:aws:Network", "pulumi:providers:aws"}


def test_every_zone_eks_cannot_use_is_named_with_the_ones_it_can() -> None:
    config = copy.deepcopy(stack_config("eks"))
    config["vpcs"][0].update(region="us-east-1", zones=["us-east-1a", "us-east-1b", "us-east-1c"])
    for cluster in config["clusters"]:
        cluster["region"] = "us-east-1"
    config["secretsRegion"] = "us-east-1"
    with pytest.raises(ConfigError) as raised:
        run_program(config, stack="eks", preview=True)
    assert [str(p) for p in raised.value.problems] == [
        "vpcs[0].zones (vpc mesh-vpc): us-east-1b is zone ID use1-az3 in this account, where EKS cannot run; pick zones "
        "from us-east-1a, us-east-1c"
    ]


# --- resource groups ---------------------------------------------------------------------------------------


def test_clusters_in_two_regions_cannot_share_a_resource_group() -> None:
    config = with_cluster(with_cluster(two_azure(), 0, resourceGroup="mesh-rg"), 1, resourceGroup="mesh-rg")
    assert codes_of(config) == [
        (
            "resource-group-regions",
            "clusters[1].resourceGroup (cluster eastus-aks): mesh-rg is also the group of clusters[0].resourceGroup (cluster "
            "westeurope-aks) in westeurope, but this cluster is in eastus; a group sits in one region and Azure cannot move "
            "it, so give the clusters of each region a group of their own (e.g. istio-aks-eastus)",
        )
    ]


def test_one_resource_group_is_spelt_one_way_and_apart_from_the_vaults() -> None:
    config = with_cluster(with_cluster(two_azure(), 0, resourceGroup="Mesh-RG"), 1, resourceGroup="mesh-rg", region="westeurope")
    assert codes_of(config) == [
        (
            "resource-group-spelling",
            "clusters[1].resourceGroup (cluster eastus-aks): mesh-rg names the resource group Mesh-RG of "
            "clusters[0].resourceGroup (cluster westeurope-aks): Azure ignores case in group names; spell it Mesh-RG",
        )
    ]
    assert codes_of({**two_azure(), "keyVaultResourceGroup": "ISTIO-AKS-EASTUS"}) == [
        (
            "resource-group-shared",
            "keyVaultResourceGroup: ISTIO-AKS-EASTUS is also the group of clusters[1].resourceGroup (cluster eastus-aks); the "
            "program creates the vault's group apart from the clusters' (each is deleted with its contents): name another group",
        )
    ]


def shared_group_clusters() -> list[dict[str, Any]]:
    """Three AKS clusters in westeurope sharing the group mesh-rg."""
    clusters = copy.deepcopy(stack_config("aks")["clusters"])
    third = copy.deepcopy(clusters[1])
    third.update(name="third-aks", vnetCidr="10.54.0.0/16", serviceCidr="10.154.0.0/16", dnsServiceIp="10.154.0.10")
    for index, pool in enumerate(third["nodePools"]):
        pool["subnetCidr"] = f"10.54.{index}.0/24"
    for cluster in (*clusters, third):
        cluster.update(region="westeurope", resourceGroup="mesh-rg")
    return [*clusters, third]


def test_a_shared_group_stays_where_it_is_when_its_clusters_are_reordered_or_one_is_removed() -> None:
    clusters = shared_group_clusters()
    before = run_stack("aks", {"clusters": clusters})
    group = before.named("azure-mesh-rg")
    assert group.inputs["location"] == "westeurope"
    azure = {r.name for r in before.resources if r.type.startswith("azure-native:")}
    reordered = run_stack("aks", {"clusters": clusters[::-1]}, state=before.state())
    assert changes(before, reordered).touched & azure == frozenset()
    removed = run_stack("aks", {"clusters": clusters[1:]}, state=before.state())
    done = changes(before, removed)
    assert "azure-mesh-rg" not in done.touched
    assert removed.named("azure-mesh-rg").inputs == group.inputs
    assert {n for n in done.touched & azure if "westeurope-aks" not in n} == frozenset()
