"""Every validation rule of the config layer and the platforms, each with the exact message an operator reads."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv4Network
from typing import Any

import pulumi
import pytest

from components.config.load import decode_config
from components.config.model import Role, Topology, platform_settings
from components.config.problems import ConfigError
from components.platforms import platform_configs
from components.platforms.aws.config import AwsCluster, AwsSettings
from components.platforms.azure.config import AzureCluster, AzureCni
from components.platforms.existing.config import ExistingCluster
from tests.configs import (
    aws_cluster,
    azure_cluster,
    codes_of,
    existing_cluster,
    n_existing,
    parse,
    problems_of,
    two_azure,
    vpc,
    with_cluster,
)

DNS_HINT = "use a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"


def test_valid_azure_config_parses_into_typed_frozen_objects() -> None:
    spec = parse(two_azure())
    west = spec.clusters[0]
    assert isinstance(west.platform_spec, AzureCluster)
    assert west.platform_spec.vnet_cidr == IPv4Network("10.53.0.0/16")
    assert west.platform_spec.dns_service_ip == IPv4Address("10.153.0.10")
    assert west.platform_spec.cni is AzureCni.AZURE
    assert west.platform_spec.resource_group == "istio-aks-westeurope"
    assert [(p.name, p.mode, p.vm_size, p.count, p.min_count, p.max_count) for p in west.platform_spec.node_pools] == [
        ("system", "System", "Standard_D4s_v5", 2, 2, 2),
        ("user1", "User", "Standard_D4s_v5", 2, 2, 2),
    ]
    assert (spec.mesh_id, spec.revisions, spec.default_revision, spec.topology, spec.access_log) == (
        "mesh1",
        {"default": "1.30.3"},
        "1-30-3",
        Topology.MULTI_PRIMARY,
        False,
    )
    assert spec.networks == ("network1",) and not spec.multi_network
    with pytest.raises(AttributeError):
        west.name = "renamed"  # type: ignore[misc]


def test_defaults_fill_the_aws_and_existing_parts() -> None:
    local_cluster = existing_cluster("k", "n2", egressCidrs=["198.51.100.7/32"])
    spec = parse(
        {
            "secretsRegion": "eu-west-1",
            "vpcs": [vpc()],
            "operatorCidrs": ["203.0.113.0/24"],
            "clusters": [aws_cluster("a", "n1"), local_cluster],
        }
    )
    aws, local = spec.clusters[0].platform_spec, spec.clusters[1].platform_spec
    assert isinstance(aws, AwsCluster) and isinstance(local, ExistingCluster)
    assert aws.service_cidr == IPv4Network("172.20.0.0/16")
    assert [(g.name, g.instance_types, g.desired, g.min, g.max) for g in aws.node_groups] == [("default", ("m5.large",), 2, 1, 5)]
    assert (local.context, local.kubeconfig, local.api_server_url, local.metallb) == ("kind-k", None, "https://k.example:6443", None)
    assert spec.clusters[1].region == "local"
    vpcs = platform_settings(spec, "aws", AwsSettings).vpcs
    assert vpcs[0].value.zones == ("eu-west-1a", "eu-west-1b") and vpcs[0].value.nat == "single"


def test_config_error_lists_every_problem_and_is_a_clean_pulumi_error() -> None:
    config = with_cluster(two_azure(), 1, name="westeurope-aks", vnetCidr="10.52.0.0/15")
    config["meshId"] = "Mesh_1"
    with pytest.raises(ConfigError) as raised:
        parse(config)
    error = raised.value
    assert isinstance(error, pulumi.RunError)  # printed without a traceback by the Pulumi runtime
    assert str(error).splitlines() == [
        "istio-multicluster: the stack config has 3 problems; nothing was created:",
        f"  - meshId: 'Mesh_1' is not valid; {DNS_HINT}",
        "  - clusters[1].name (cluster westeurope-aks): westeurope-aks is already the name of clusters[0]; "
        "names become Istio cluster IDs and secret names, so each must be unique",
        "  - clusters[1].vnetCidr (cluster westeurope-aks): 10.52.0.0/15 overlaps clusters[0].vnetCidr (cluster westeurope-aks) "
        "10.53.0.0/16; give every VNet and VPC a range of its own",
    ]


def test_fewer_than_two_clusters() -> None:
    assert problems_of({"keyVaultLocation": "westeurope", "clusters": [azure_cluster("solo", "westeurope", 53)]}) == [
        "clusters: lists 1 cluster; a multicluster mesh needs at least 2"
    ]
    assert problems_of({}) == [
        "clusters: is required; list at least two clusters",
        "clusters: lists 0 clusters; a multicluster mesh needs at least 2",
    ]


@pytest.mark.parametrize("name", ["West-Europe", "-aks", "aks_1", "a" * 64])
def test_cluster_name_must_be_a_dns_label(name: str) -> None:
    assert problems_of(with_cluster(two_azure(), 0, name=name)) == [f"clusters[0].name: {name!r} is not valid; {DNS_HINT}"]


def test_unknown_cloud() -> None:
    assert problems_of(with_cluster(two_azure(), 1, cloud="gcp")) == [
        "clusters[1].cloud (cluster eastus-aks): 'gcp' is not one of azure, aws, existing"
    ]


def test_overlapping_vnets_name_both_clusters() -> None:
    config = with_cluster(
        two_azure(), 0, vnetCidr="10.52.0.0/15", nodePools=[{"name": "system", "mode": "System", "subnetCidr": "10.53.0.0/24"}]
    )
    assert problems_of(config) == [
        "clusters[1].vnetCidr (cluster eastus-aks): 10.52.0.0/16 overlaps clusters[0].vnetCidr (cluster westeurope-aks) 10.52.0.0/15; "
        "give every VNet and VPC a range of its own"
    ]


def test_pool_subnet_outside_its_vnet_and_overlapping_pools() -> None:
    pools = [
        {"name": "system", "mode": "System", "subnetCidr": "10.53.0.0/24"},
        {"name": "user1", "subnetCidr": "10.53.0.128/25"},
        {"name": "user2", "subnetCidr": "10.99.0.0/24"},
    ]
    assert problems_of(with_cluster(two_azure(), 0, nodePools=pools)) == [
        "clusters[0].nodePools[2].subnetCidr (cluster westeurope-aks): 10.99.0.0/24 is outside vnetCidr 10.53.0.0/16; "
        "pick a subnet inside the VNet",
        "clusters[0].nodePools[1].subnetCidr (cluster westeurope-aks): 10.53.0.128/25 overlaps "
        "clusters[0].nodePools[0].subnetCidr (cluster westeurope-aks) 10.53.0.0/24; give every subnet a range of its own",
    ]


def test_pools_need_a_system_pool_and_unique_names() -> None:
    users = [{"name": "user1", "subnetCidr": "10.53.0.0/24"}, {"name": "user1", "subnetCidr": "10.53.1.0/24"}]
    assert codes_of(with_cluster(two_azure(), 0, nodePools=users)) == [
        ("duplicate-name", "clusters[0].nodePools (cluster westeurope-aks): pool name user1 is used 2 times; pool names must be unique"),
        (
            "no-system-pool",
            "clusters[0].nodePools (cluster westeurope-aks): has no System pool; AKS needs one (set mode: System on a pool)",
        ),
    ]
    dupes = [{"name": "system", "mode": "System", "subnetCidr": "10.53.0.0/24"}, {"name": "system", "subnetCidr": "10.53.1.0/24"}]
    assert problems_of(with_cluster(two_azure(), 0, nodePools=dupes)) == [
        "clusters[0].nodePools (cluster westeurope-aks): pool name system is used 2 times; pool names must be unique"
    ]


def test_pool_name_and_counts() -> None:
    pools = [{"name": "System1", "mode": "System", "subnetCidr": "10.53.0.0/24", "count": 6, "minCount": 1, "maxCount": 5}]
    assert problems_of(with_cluster(two_azure(), 0, nodePools=pools)) == [
        "clusters[0].nodePools[0].name (cluster westeurope-aks): 'System1' is not valid; "
        "use at most 12 lowercase letters and digits, starting with a letter",
        "clusters[0].nodePools[0].count (cluster westeurope-aks): 6 must lie between minCount (1) and maxCount (5)",
    ]


def test_dns_service_ip_must_sit_inside_the_service_range() -> None:
    assert problems_of(with_cluster(two_azure(), 1, dnsServiceIp="10.52.0.10")) == [
        "clusters[1].dnsServiceIp (cluster eastus-aks): 10.52.0.10 is outside serviceCidr 10.152.0.0/16; pick an address inside it"
    ]
    assert problems_of(with_cluster(two_azure(), 1, dnsServiceIp="10.152.0.1")) == [
        "clusters[1].dnsServiceIp (cluster eastus-aks): 10.152.0.1 is reserved in 10.152.0.0/16 "
        "(network, API server or broadcast address); use e.g. 10.152.0.10"
    ]


def test_service_range_must_not_overlap_a_routed_network() -> None:
    config = with_cluster(two_azure(), 1, serviceCidr="10.53.128.0/17", dnsServiceIp="10.53.128.10")
    assert problems_of(config) == [
        "clusters[1].serviceCidr (cluster eastus-aks): 10.53.128.0/17 overlaps clusters[0].vnetCidr (cluster westeurope-aks) 10.53.0.0/16; "
        "service ranges must not overlap any routed network"
    ]


def test_flat_network_needs_disjoint_service_ranges() -> None:
    config = with_cluster(two_azure(), 1, serviceCidr="10.153.0.0/16", dnsServiceIp="10.153.0.10")
    assert problems_of(config) == [
        "clusters[1].serviceCidr (cluster eastus-aks): 10.153.0.0/16 overlaps "
        "clusters[0].serviceCidr (cluster westeurope-aks) 10.153.0.0/16; "
        "clusters on one flat network need service ranges of their own"
    ]


def test_flat_network_refused_with_overlay_cni() -> None:
    assert problems_of(with_cluster(two_azure(), 1, networkPlugin="overlay")) == [
        "clusters[1].network (cluster eastus-aks): shares network network1 with clusters[0] (cluster westeurope-aks), but eastus-aks uses "
        "overlay networking, whose pod IPs are not routable over VNet peering (set networkPlugin: azure for a flat network); "
        "give each its own network so traffic crosses the east-west gateways"
    ]


def test_overlay_on_separate_networks_is_fine_and_pod_cidr_only_with_overlay() -> None:
    config = with_cluster(two_azure(), 1, networkPlugin="overlay", network="network2")
    platform = parse(config).clusters[1].platform_spec
    assert isinstance(platform, AzureCluster) and platform.pod_cidr == IPv4Network("10.244.0.0/16")
    assert problems_of(with_cluster(two_azure(), 0, podCidr="10.244.0.0/16")) == [
        "clusters[0].podCidr (cluster westeurope-aks): only applies with networkPlugin: overlay; with Azure CNI pods take VNet subnet IPs"
    ]


def test_flat_network_refused_across_clouds_and_vpcs() -> None:
    mixed = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc()],
        "keyVaultLocation": "westeurope",
        "operatorCidrs": ["203.0.113.0/24"],
        "clusters": [azure_cluster("aks", "westeurope", 53), aws_cluster("eks", "network1")],
    }
    assert problems_of(mixed) == [
        "clusters[1].network (cluster eks): shares network network1 with clusters[0] (cluster aks), but pod IPs of azure and aws clusters "
        "are not known to be routable to each other; give each its own network so traffic crosses the east-west gateways"
    ]
    two_vpcs = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc("a"), vpc("b", 1)],
        "clusters": [aws_cluster("c1", "net", "a"), aws_cluster("c2", "net", "b")],
    }
    assert problems_of(two_vpcs) == [
        "clusters[1].network (cluster c2): shares network net with clusters[0] (cluster c1), but they are in different VPCs (a, b) "
        "(put both in one VPC for a flat network); give each its own network so traffic crosses the east-west gateways"
    ]


def test_flat_network_in_one_vpc_is_allowed() -> None:
    spec = parse(
        {
            "secretsRegion": "eu-west-1",
            "vpcs": [vpc()],
            "clusters": [aws_cluster("c1", "net"), aws_cluster("c2", "net", serviceCidr="172.21.0.0/16")],
        }
    )
    assert spec.networks == ("net",)


def test_existing_clusters_cannot_share_a_network() -> None:
    config = {"clusters": [existing_cluster("k1", "n"), existing_cluster("k2", "n")]}
    assert problems_of(config) == [
        "clusters[1].network (cluster k2): shares network n with clusters[0] (cluster k1), but the program cannot know whether "
        "two existing clusters' pod IPs are routable to each other; give each its own network so traffic crosses the east-west "
        "gateways"
    ]


def test_vpc_rules() -> None:
    bad = vpc(privateSubnets=["10.0.0.0/20", "10.1.0.0/20"], publicSubnets=["10.0.48.0/24"])
    config = {
        "secretsRegion": "eu-west-1",
        "vpcs": [bad],
        "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2", vpc="other", region="eu-west-2")],
    }
    assert problems_of(config) == [
        "vpcs[0].privateSubnets (vpc mesh-vpc): 10.1.0.0/20 is outside the VPC 10.0.0.0/16; pick a range inside it",
        "vpcs[0].publicSubnets (vpc mesh-vpc): lists 1 subnets for 2 availability zones; give one per zone",
        "clusters[1].vpc (cluster c2): other is not declared in vpcs; add it there or name one of: mesh-vpc",
    ]


def test_vpc_needs_two_named_zones_of_its_region_and_clusters_in_that_region() -> None:
    def problems_with(zones: Any, **vpc_changes: Any) -> list[tuple[str, str]]:
        return codes_of(
            {
                "secretsRegion": "eu-west-1",
                "vpcs": [vpc(zones=zones, **vpc_changes)],
                "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2")],
            }
        )

    one = problems_with(["eu-west-1a"], privateSubnets=["10.0.0.0/20"], publicSubnets=["10.0.48.0/24"])
    assert one == [("empty-list", "vpcs[0].zones (vpc mesh-vpc): lists 1 value; give at least 2")]
    assert problems_with(["eu-west-1a", "eu-west-2b"]) == [
        (
            "zone-region",
            "vpcs[0].zones (vpc mesh-vpc): eu-west-2b is not a zone of eu-west-1; name zones as the region and a letter, e.g. eu-west-1a",
        )
    ]
    assert problems_with(["eu-west-1a", "eu-west-1a"]) == [
        ("duplicate-zone", "vpcs[0].zones (vpc mesh-vpc): eu-west-1a is listed 2 times; spread the subnets over distinct zones")
    ]
    replaced = vpc(availabilityZones=2)
    del replaced["zones"]
    assert codes_of({"secretsRegion": "eu-west-1", "vpcs": [replaced], "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2")]}) == [
        (
            "replaced",
            "vpcs[0].availabilityZones (vpc mesh-vpc): is replaced by zones; "
            "list the 2 zones by name, e.g. zones: [eu-west-1a, eu-west-1b]",
        ),
        ("required", "vpcs[0].zones (vpc mesh-vpc): is required; list the zones by name, one per subnet, e.g. [eu-west-1a, eu-west-1b]"),
    ]
    assert problems_of(
        {"secretsRegion": "eu-west-1", "vpcs": [vpc()], "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2", region="us-east-1")]}
    ) == ["clusters[1].region (cluster c2): us-east-1 differs from its vpc mesh-vpc in eu-west-1; a cluster lives in its VPC's region"]


def test_aws_instance_type_and_service_range() -> None:
    groups = [{"name": "default", "instanceTypes": ["m5large"]}]
    config = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc()],
        "clusters": [aws_cluster("c1", "n1", nodeGroups=groups), aws_cluster("c2", "n2", serviceCidr="8.8.0.0/16")],
    }
    assert problems_of(config) == [
        "clusters[0].nodeGroups[0].instanceTypes (cluster c1): 'm5large' is not valid; use an EC2 instance type such as m5.large",
        "clusters[1].serviceCidr (cluster c2): 8.8.0.0/16 must lie inside 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 "
        "and be from /12 to /24, as EKS requires",
    ]


def test_roles_in_multi_primary_and_primary_remote() -> None:
    remote_in_multi = with_cluster(n_existing(2), 1, role="remote", primary="c1")
    assert problems_of(remote_in_multi) == [
        "clusters[1].role (cluster c2): remote clusters need topology: primary-remote; set it, or make this cluster a primary"
    ]
    config = {"topology": "primary-remote", **n_existing(4)}
    config["clusters"][1].update(role="remote")
    config["clusters"][2].update(role="remote", primary="c2")
    config["clusters"][3].update(role="remote", primary="nope")
    config["clusters"][0].update(primary="c1")
    assert problems_of(config) == [
        "clusters[0].primary (cluster c1): only a remote names a primary; remove it or set role: remote",
        "clusters[1].primary (cluster c2): is required for a remote; name the primary cluster whose istiod it uses",
        "clusters[2].primary (cluster c3): c2 is a remote; name one of the primaries: c1",
        "clusters[3].primary (cluster c4): nope is not a cluster of this mesh; name one of the primaries: c1",
    ]


def test_primary_remote_parses() -> None:
    config = {"topology": "primary-remote", **n_existing(2)}
    config["clusters"][1].update(role="remote", primary="c1")
    spec = parse(config)
    assert [(c.role, c.primary) for c in spec.clusters] == [(Role.PRIMARY, None), (Role.REMOTE, "c1")]


@pytest.mark.parametrize(
    ("revisions", "code", "message"),
    [
        (
            {"default": "1.30"},
            "istio-version",
            "istioRevisions: default: '1.30' is not an exact Istio release; use x.y.z, e.g. 1.30.3 "
            "(YAML reads an unquoted 1.30 as the number 1.3: quote versions)",
        ),
        (
            {"default": "v1.30.0"},
            "istio-version",
            "istioRevisions: default: 'v1.30.0' is not an exact Istio release; use x.y.z, e.g. 1.30.3",
        ),
        (
            {"default": "2.0.0"},
            "istio-version",
            "istioRevisions: default: 2.0.0 is not a supported Istio release; use one of the minors 1.29, 1.30, 1.31 (default 1.30.3)",
        ),
        ({"default": "1.14.1"}, "istio-version", "istioRevisions: default: 1.14.1 is end-of-life; use 1.29 or newer (default 1.30.3)"),
        (
            {"canary": "1.31.0"},
            "default-tag",
            'istioRevisions: has no default tag; gateways and workloads follow it: add default: "1.30.3"',
        ),
        (
            {"default": "1.29.0", "canary": "1.31.0"},
            "minors",
            "istioRevisions: runs 1.29, 1.31 side by side; an upgrade runs at most two adjacent minors at once (e.g. 1.30 and 1.31)",
        ),
        ({"default": "1.30.3", "Canary": "1.31.0"}, "tag", f"istioRevisions: tag 'Canary' is not valid; {DNS_HINT}"),
        (
            {"default": "1.30.3", "c" * 57: "1.31.0"},
            "tag",
            f"istioRevisions: tag '{'c' * 57}' is 57 characters; at most 56 (the check names a namespace sample-<tag>)",
        ),
        (
            {"default": "1.30.3", "1-30-3": "1.30.3"},
            "tag",
            "istioRevisions: tag '1-30-3' is the revision name of 1.30.3; name the tag apart from every revision",
        ),
        (
            "1.30.3",
            "type",
            "istioRevisions: must be an object of revision tags and Istio releases, e.g. {default: \"1.30.3\"}; got the text '1.30.3'",
        ),
    ],
)
def test_istio_revisions(revisions: Any, code: str, message: str) -> None:
    assert codes_of({**n_existing(2), "istioRevisions": revisions}) == [(code, message)]


def test_revisions_name_themselves_after_their_release_and_the_old_keys_show_their_replacement() -> None:
    spec = parse({**n_existing(2), "istioRevisions": {"default": "1.30.3", "canary": "1.31.0", "previous": "1.30.3"}})
    assert (spec.versions, spec.newest_version, spec.default_revision) == (("1.30.3", "1.31.0"), "1.31.0", "1-30-3")
    assert spec.revisions == {"default": "1.30.3", "canary": "1.31.0", "previous": "1.30.3"}
    replaced = 'is replaced by istioRevisions, which names each revision after its release; set istioRevisions: {default: "1.30.0"} '
    assert codes_of({**n_existing(2), "istioVersion": "1.30.0", "istioRevision": "1-30-0"}) == [
        ("replaced", f"istioVersion: {replaced}and remove istioVersion and istioRevision"),
        ("replaced", f"istioRevision: {replaced}and remove istioVersion and istioRevision"),
    ]
    # Even empty: nothing declares these keys any more, so a value is the stack file's and is refused, not dropped.
    assert codes_of({**n_existing(2), "istioRevision": ""}) == [
        (
            "replaced",
            "istioRevision: is replaced by istioRevisions, which names each revision after its release; set istioRevisions: "
            '{default: "<x.y.z>"} and remove istioVersion and istioRevision',
        )
    ]


def test_topology_and_access_log() -> None:
    config = {**n_existing(2), "topology": "star", "accessLog": "yes"}
    assert problems_of(config) == [
        "topology: 'star' is not one of multi-primary, primary-remote",
        "accessLog: must be true or false, got 'yes'; YAML 1.2, which Pulumi reads, takes yes as text: write true or false",
    ]


def test_ca_lifetimes() -> None:
    config = {**n_existing(2), "caRootValidityHours": "100", "caIntermediateValidityHours": 200, "caRootEarlyRenewalHours": 100}
    config["caIntermediateEarlyRenewalHours"] = "lots"
    assert problems_of(config) == ["caIntermediateEarlyRenewalHours: must be a whole number, got the text 'lots'"]
    config["caIntermediateEarlyRenewalHours"] = 300
    assert problems_of(config) == [
        "caIntermediateValidityHours: 200 outlives the root (100); an intermediate cannot be valid longer than its root",
        "caRootEarlyRenewalHours: 100 must be less than caRootValidityHours (100)",
        "caIntermediateEarlyRenewalHours: 300 must be less than caIntermediateValidityHours (200)",
    ]


def test_unknown_fields_get_a_suggestion() -> None:
    config = with_cluster(two_azure(), 0, vnetCird="10.53.0.0/16", vnetCidr=None)
    config["meshID"] = "mesh1"
    assert problems_of(config) == [
        "clusters[0].vnetCidr (cluster westeurope-aks): is required; give the cluster's VNet range, e.g. 10.53.0.0/16",
        "clusters[0].vnetCird (cluster westeurope-aks): is not a field of an azure cluster; did you mean vnetCidr?",
        "meshID: is not a field of the istio-multicluster config; did you mean meshId?",
    ]


def test_fields_of_another_cloud_are_refused() -> None:
    assert problems_of(with_cluster(two_azure(), 0, vpc="mesh-vpc")) == [
        "clusters[0].vpc (cluster westeurope-aks): is not a field of an azure cluster; "
        "an azure cluster takes: authorizedIpRanges, cloud, dnsServiceIp, entraId, istiodValues, kubernetesVersion, name, network, "
        "networkPlugin, networkPolicy, nodePools, podCidr, primary, privateApiServer, region, resourceGroup, role, serviceCidr, "
        "skuTier, vnetCidr"
    ]


def test_cidr_with_host_bits_suggests_the_network() -> None:
    assert problems_of(with_cluster(two_azure(), 0, vnetCidr="10.53.0.1/16")) == [
        "clusters[0].vnetCidr (cluster westeurope-aks): 10.53.0.1/16 has host bits set; did you mean 10.53.0.0/16?"
    ]
    assert problems_of(with_cluster(two_azure(), 0, vnetCidr="10.53.0.0/33")) == [
        "clusters[0].vnetCidr (cluster westeurope-aks): '10.53.0.0/33' is not an IPv4 CIDR block such as 10.0.0.0/16"
    ]


def test_api_server_url_must_be_https() -> None:
    assert problems_of(with_cluster(n_existing(2), 1, apiServerUrl="172.18.0.3:6443")) == [
        "clusters[1].apiServerUrl (cluster c2): '172.18.0.3:6443' is not an https:// URL with a host"
    ]


def test_wrong_shapes_are_reported_not_raised() -> None:
    bad = {"name": "b", "cloud": "existing", "network": "n", "context": 5, "apiServerUrl": "https://b:6443"}
    config = {"clusters": ["westeurope-aks", bad], "vpcs": {"name": "x"}}
    assert problems_of(config) == [
        "vpcs: must be a list of objects, got an object",
        "clusters[0]: must be an object, got the text 'westeurope-aks'",
        'clusters[1].context (cluster b): must be text, got the number 5; quote it, e.g. "5"',
    ]


def test_decode_config_reports_invalid_json_by_key() -> None:
    with pytest.raises(ConfigError) as raised:
        decode_config({"clusters": "[{name: x}]", "meshId": "mesh1", "istioRevisions": None}, platform_configs())
    assert [(p.code, str(p)) for p in raised.value.problems] == [
        ("json", "clusters: is not valid JSON (Expecting property name enclosed in double quotes at character 2)")
    ]
    decoded = decode_config({"clusters": '[{"name": "x"}]', "accessLog": "true"}, platform_configs())
    assert decoded == {"clusters": [{"name": "x"}], "accessLog": "true"}


def test_existing_cluster_needs_an_api_server_url() -> None:
    assert problems_of(with_cluster(n_existing(2), 1, apiServerUrl=None)) == [
        "clusters[1].apiServerUrl (cluster c2): is required; set the https URL other clusters' pods dial "
        "(for kind: https://<cluster>-control-plane:6443, never 127.0.0.1)"
    ]


def test_metallb_address_ranges() -> None:
    good = {"addresses": ["172.18.255.200-172.18.255.250", "172.19.0.0/28"]}
    platform = parse(with_cluster(n_existing(2), 0, metallb=good)).clusters[0].platform_spec
    assert isinstance(platform, ExistingCluster) and platform.metallb is not None
    assert [str(a) for a in platform.metallb.addresses] == ["172.18.255.200-172.18.255.250", "172.19.0.0/28"]
    assert platform.metallb.chart_version == "0.14.9"
    bad = {"addresses": ["172.18.255.250-172.18.255.200", "172.18.0.300/24", "lots"], "chartVersion": "latest"}
    assert problems_of(with_cluster(n_existing(2), 0, metallb=bad)) == [
        f"clusters[0].metallb.addresses (cluster c1): {a!r} is not an IPv4 CIDR or a first-last range such as 172.18.255.200-172.18.255.250"
        for a in bad["addresses"]
    ] + ["clusters[0].metallb.chartVersion (cluster c1): 'latest' is not valid; use an exact chart version such as 0.14.9"]


def test_istiod_values_overrides_cannot_touch_what_the_mesh_owns() -> None:
    config = with_cluster(n_existing(2), 1, istiodValues={"global": {"network": "other", "proxy": {"privileged": True}}})
    config["istiodValues"] = {"global": {"meshID": "x"}, "pilot": {"replicaCount": 2}}
    assert problems_of(config) == [
        "istiodValues.global.meshID: is set by the program from meshId; remove it here",
        "clusters[1].istiodValues.global.network (cluster c2): is set by the program from the cluster's network; remove it here",
    ]
    config["istiodValues"] = '{"pilot": {"replicaCount": 2}}'
    assert problems_of(config)[0] == 'istiodValues: must be an object, got the text \'{"pilot": {"replicaCount": 2}}\''


def test_private_aks_api_server_is_refused_with_what_to_do() -> None:
    assert problems_of(with_cluster(two_azure(), 1, privateApiServer=True)) == [
        "clusters[1].privateApiServer (cluster eastus-aks): private AKS API servers are not supported: every other cluster's istiod "
        "must reach this API; keep it public and restrict it with authorizedIpRanges"
    ]


def test_key_vault_prefix_and_aks_tier() -> None:
    config = {**two_azure(), "keyVaultNamePrefix": "1mesh"}
    config["clusters"][0]["skuTier"] = "Gold"
    config["clusters"][1]["authorizedIpRanges"] = ["203.0.113.7/24"]
    assert problems_of(config) == [
        "keyVaultNamePrefix: '1mesh' is not valid; start with a letter, then letters or digits, 2-17 characters "
        "(a '-' and 6 random characters follow)",
        "clusters[0].skuTier (cluster westeurope-aks): 'Gold' is not one of Free, Standard, Premium",
        "clusters[1].authorizedIpRanges (cluster eastus-aks): 203.0.113.7/24 has host bits set; did you mean 203.0.113.0/24?",
    ]


def test_vpcs_must_not_overlap_and_recovery_window_is_0_or_7_to_30() -> None:
    config: dict[str, Any] = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc(), vpc("other", 0)],
        "clusters": [aws_cluster("c1", "n1"), aws_cluster("c2", "n2", vpc="other")],
    }
    config["secretsRecoveryWindowDays"] = 3
    assert problems_of(config) == [
        "secretsRecoveryWindowDays: 3 is not 0 (delete at once) or 7 to 30 days, as Secrets Manager requires",
        "vpcs[1].cidr (vpc other): 10.0.0.0/16 overlaps vpcs[0].cidr (vpc mesh-vpc) 10.0.0.0/16; "
        "give every VNet and VPC a range of its own",
    ]


def test_endpoint_public_access_cidrs_are_cidr_blocks() -> None:
    config = {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc()],
        "clusters": [aws_cluster("c1", "n1", endpointPublicAccessCidrs=["0.0.0.0/0"]), aws_cluster("c2", "n2")],
    }
    platform = parse(config).clusters[0].platform_spec
    assert isinstance(platform, AwsCluster) and platform.public_access_cidrs == (IPv4Network("0.0.0.0/0"),)
    config["clusters"][1]["endpointPublicAccessCidrs"] = ["my office"]
    assert problems_of(config) == [
        "clusters[1].endpointPublicAccessCidrs (cluster c2): 'my office' is not an IPv4 CIDR block such as 10.0.0.0/16"
    ]
