"""Every bad input the config layer once let through, refused with its exact problem (code and message).

Each of these used to drop a cluster from the mesh, replace the program's values, end in a
traceback after resources were registered, or be accepted and fail later in the cloud.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.configs import aws_cluster, codes_of, existing_cluster, n_existing, parse, problems_of, two_azure, vpc, with_cluster

DIAL_HINT = "set it to an address they can dial (for kind: the control-plane container's IP or name, e.g. https://172.18.0.3:6443)"


def two_eks(cluster: dict[str, Any] | None = None, vpc_changes: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "secretsRegion": "eu-west-1",
        "vpcs": [vpc(**(vpc_changes or {}))],
        "clusters": [{**aws_cluster("c1", "n1"), **(cluster or {})}, aws_cluster("c2", "n2")],
    }


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        pytest.param(
            with_cluster(n_existing(2), 0, metallb={"addresses": []}),
            (
                "empty",
                "clusters[0].metallb.addresses (cluster c1): is an empty list, but it is required; give at least one CIDR or "
                "first-last range, e.g. 172.18.255.200-172.18.255.250",
            ),
            id="metallb-without-addresses",
        ),
        pytest.param(
            with_cluster(n_existing(2), 0, apiServerUrl=""),
            (
                "empty",
                "clusters[0].apiServerUrl (cluster c1): is empty, but it is required; set the https URL other clusters' pods "
                "dial (for kind: https://<cluster>-control-plane:6443, never 127.0.0.1)",
            ),
            id="empty-api-server-url",
        ),
        pytest.param(
            {key: value for key, value in two_azure().items() if key != "keyVaultLocation"},
            (
                "required",
                "keyVaultLocation: is required with Azure clusters: the Key Vault holding the mesh CA cannot move once created; "
                "set it to a region of your choice, e.g. keyVaultLocation: westeurope",
            ),
            id="vault-region-that-moves-with-the-clusters",
        ),
        pytest.param(
            with_cluster(two_azure(), 0, nodePools=[]),
            ("empty", "clusters[0].nodePools (cluster westeurope-aks): is an empty list, but it is required; add a System pool at least"),
            id="no-node-pools",
        ),
        pytest.param(
            two_eks(vpc_changes={"privateSubnets": []}),
            ("empty", "vpcs[0].privateSubnets (vpc mesh-vpc): is an empty list, but it is required; give it a value"),
            id="no-private-subnets",
        ),
        pytest.param(
            two_eks({"nodeGroups": []}),
            ("empty", "clusters[0].nodeGroups (cluster c1): is an empty list; remove the field to get its default"),
            id="no-node-groups",
        ),
        pytest.param(
            two_eks({"nodeGroups": [{"name": "a", "instanceTypes": []}]}),
            ("empty", "clusters[0].nodeGroups[0].instanceTypes (cluster c1): is an empty list; remove the field to get its default"),
            id="no-instance-types",
        ),
        pytest.param(
            two_eks({"nodeGroups": [{"name": "a"}, {"name": "a"}]}),
            ("duplicate-name", "clusters[0].nodeGroups (cluster c1): group name a is used 2 times; node group names must be unique"),
            id="colliding-node-groups",
        ),
        pytest.param(
            {
                "secretsRegion": "eu-west-1",
                "vpcs": [vpc()],
                "clusters": [aws_cluster("a", "n1", nodeGroups=[{"name": "b-c"}]), aws_cluster("a-b", "n2", nodeGroups=[{"name": "c"}])],
            },
            (
                "name-collision",
                "clusters[1].nodeGroups[0].name (cluster a-b): eks ManagedNodeGroup a-b-c would be registered twice, for node group "
                "b-c of cluster a and for node group c of cluster a-b; Pulumi refuses the second after creating everything before "
                "it: rename one of clusters[0].name, clusters[0].nodeGroups[0].name, clusters[1].name or clusters[1].nodeGroups[0].name",
            ),
            id="node-groups-of-two-clusters-with-one-name",
        ),
        pytest.param(
            {
                "clusters": [
                    existing_cluster("a", "n1"),
                    existing_cluster("b-in-c", "n2"),
                    existing_cluster("a-in-b", "n3"),
                    existing_cluster("c", "n4"),
                ]
            },
            (
                "name-collision",
                "clusters[3].name (cluster c): kubernetes Secret mesh-link-a-in-b-in-c would be registered twice, for the remote "
                "secret of cluster a in cluster b-in-c and for the remote secret of cluster a-in-b in cluster c; Pulumi refuses the "
                "second after creating everything before it: rename one of clusters[0].name, clusters[1].name, clusters[2].name or "
                "clusters[3].name",
            ),
            id="remote-secret-names-of-two-pairs-collide",
        ),
        pytest.param(
            {**n_existing(2), "clusters": [existing_cluster("c1", "n1"), existing_cluster("c2", "n2", context="kind-c1")]},
            (
                "duplicate-context",
                "clusters[1].context (cluster c2): is also the kubeconfig context of clusters[0] (cluster c1); "
                "both would install into one cluster: give each cluster its own",
            ),
            id="one-context-two-clusters",
        ),
        pytest.param(
            {
                "clusters": [
                    existing_cluster("c1", "n1", metallb={"addresses": ["172.18.255.200-172.18.255.224"]}),
                    existing_cluster("c2", "n2", metallb={"addresses": ["172.18.255.220/30"]}),
                ]
            },
            (
                "overlap",
                "clusters[1].metallb.addresses (cluster c2): 172.18.255.220/30 overlaps clusters[0].metallb.addresses (cluster c1) "
                "172.18.255.200-172.18.255.224; give every MetalLB pool a range of its own",
            ),
            id="overlapping-metallb-pools",
        ),
        pytest.param(
            with_cluster(two_azure(), 1, name="a" * 55),
            (
                "name-length",
                f"clusters[1].name (cluster {'a' * 55}): {'a' * 55} is 55 characters; AKS takes it as the DNS prefix, which is at most 54",
            ),
            id="aks-name-too-long",
        ),
        pytest.param(
            {"secretsRegion": "eu-west-1", "vpcs": [vpc()], "clusters": [aws_cluster("e" * 40, "n1"), aws_cluster("c2", "n2")]},
            (
                "name-length",
                f"clusters[0].name (cluster {'e' * 40}): {'e' * 40} is 40 characters; EKS clusters take at most 39, "
                "so that the IAM role names derived from them stay within IAM's 64",
            ),
            id="eks-name-too-long",
        ),
        pytest.param(
            {
                "secretsRegion": "eu-west-1",
                "vpcs": [vpc()],
                "clusters": [aws_cluster("e" * 39, "n1", nodeGroups=[{"name": "g" * 30}]), aws_cluster("c2", "n2")],
            },
            (
                "name-length",
                f"clusters[0].nodeGroups[0].name (cluster {'e' * 39}): the node group's name starts {'e' * 39}-{'g' * 30}- "
                "(71 characters) and takes 26 random ones after it, so that a replacement can be made before the old group "
                "goes; EKS takes at most 63: shorten the group or cluster name",
            ),
            id="eks-node-group-name-too-long",
        ),
        pytest.param(
            {**n_existing(2), "caRootValidityHours": 2562048},
            ("range", "caRootValidityHours: must be at most 2562047, got 2562048"),
            id="ca-lifetime-beyond-go-duration",
        ),
        pytest.param(
            {**n_existing(2), "istioRevisions": {"default": "2.0.0"}},
            (
                "istio-version",
                "istioRevisions: default: 2.0.0 is not a supported Istio release; use one of the minors 1.29, 1.30, 1.31 (default 1.30.3)",
            ),
            id="istio-2",
        ),
        pytest.param(
            {**n_existing(2), "istioRevisions": {"default": "1.30"}},
            (
                "istio-version",
                "istioRevisions: default: '1.30' is not an exact Istio release; use x.y.z, e.g. 1.30.3 "
                "(YAML reads an unquoted 1.30 as the number 1.3: quote versions)",
            ),
            id="istio-minor-only",
        ),
        pytest.param(
            with_cluster(two_azure(), 0, kubernetesVersion=1.3),
            (
                "type",
                "clusters[0].kubernetesVersion (cluster westeurope-aks): must be text, got the number 1.3; YAML reads an unquoted number "
                'as a number and drops trailing zeros (1.30 becomes 1.3): quote it, e.g. "1.30"',
            ),
            id="unquoted-yaml-version",
        ),
        pytest.param(
            {**n_existing(2), "verify": "yes"},
            ("type", "verify: must be true or false, got 'yes'; YAML 1.2, which Pulumi reads, takes yes as text: write true or false"),
            id="yaml-1.1-boolean",
        ),
        pytest.param(
            {**n_existing(2), "verify": "True"},
            ("type", "verify: must be true or false, got the text 'True' (quoted or padded); write true without quotes"),
            id="quoted-boolean",
        ),
    ],
)
def test_refused(config: dict[str, Any], expected: tuple[str, str]) -> None:
    assert codes_of(config) == [expected]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (
            {"global": "oops"},
            "istiodValues.global: is the text 'oops', but the program sets global.externalIstiod, global.meshID, "
            "global.multiCluster.clusterName, global.network, global.platform, global.remotePilotAddress inside it; make it an object",
        ),
        (
            {"global": {"multiCluster": 3}},
            "istiodValues.global.multiCluster: is the number 3, but the program sets global.multiCluster.clusterName inside it; "
            "make it an object",
        ),
        (
            {"global": {"externalIstiod": False}},
            "istiodValues.global.externalIstiod: is set by the program from topology (primaries of a primary-remote mesh); remove it here",
        ),
        (
            {"profile": "remote"},
            "istiodValues.profile: is set by the program from topology, role and dataplane (remotes use the remote profile, "
            "ambient the ambient one); remove it here",
        ),
        (
            {"meshConfig": {"accessLogFile": "/var/log/envoy.log"}},
            "istiodValues.meshConfig.accessLogFile: is set by the program from accessLog; remove it here",
        ),
        (
            # On a primary it would remove istiod; on a remote the program writes it whole.
            {"istiodRemote": {"enabled": True}},
            "istiodValues.istiodRemote: is set by the program from topology and role (a remote's injection webhooks, served "
            "by its primary's istiod); remove it here",
        ),
        (
            # The chart's tag webhooks would take it; the program's own would silently not.
            {"sidecarInjectorWebhook": {"reinvocationPolicy": "IfNeeded"}},
            "istiodValues.sidecarInjectorWebhook.reinvocationPolicy: is set by the program from istioRevisions (each tag's "
            "injection webhook); remove it here",
        ),
    ],
)
def test_program_owned_istiod_values_are_protected_at_every_level(values: dict[str, Any], expected: str) -> None:
    assert codes_of({**n_existing(2), "istiodValues": values}) == [("owned-value", expected)]


def test_istiod_values_beside_the_owned_paths_are_kept_as_given() -> None:
    values = {"global": {"proxy": {"privileged": True}}, "pilot": {"replicaCount": 2}}
    assert parse({**n_existing(2), "istiodValues": values}).istiod_values == values


@pytest.mark.parametrize(
    ("url", "names"),
    [
        ("https://127.0.0.1:6443", "the loopback address 127.0.0.1"),
        ("https://[::1]:6443", "the loopback address ::1"),
        ("https://[::ffff:127.0.0.1]:6443", "the loopback address 127.0.0.1"),
        ("https://LocalHost.:6443", "this machine (localhost.)"),
        ("https://0.0.0.0:6443", "the unspecified address 0.0.0.0"),
        ("https://[::]:6443", "the unspecified address ::"),
    ],
)
def test_api_urls_that_reach_only_the_dialling_pod_are_refused_in_every_spelling(url: str, names: str) -> None:
    assert codes_of(with_cluster(n_existing(2), 0, apiServerUrl=url)) == [
        (
            "loopback-url",
            f"clusters[0].apiServerUrl (cluster c1): {url} names {names}, which other clusters' pods cannot reach; {DIAL_HINT}",
        )
    ]


@pytest.mark.parametrize(
    ("host", "address"),
    [
        ("127.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0", "0.0.0.0"),  # noqa: S104
        ("010.0.0.1", "8.0.0.1"),
    ],
)
def test_legacy_ipv4_forms_are_refused_with_the_dotted_address(host: str, address: str) -> None:
    # C resolvers read these as an address, Go's (kubectl, istiod) as a host name.
    url = f"https://{host}:6443"
    assert codes_of(with_cluster(n_existing(2), 0, apiServerUrl=url)) == [
        (
            "url-host",
            f"clusters[0].apiServerUrl (cluster c1): {url!r} has the host {host!r}, which is neither an IP address nor a DNS name: "
            f"{host!r} is a legacy IPv4 form that some clients read as {address} and others as a host name; write {address}",
        )
    ]


@pytest.mark.parametrize("url", ["https://kind-1:0", "https://kind-1:70000", "https://kind-1:abc", "https://kind-1:"])
def test_api_urls_need_a_valid_port(url: str) -> None:
    assert codes_of(with_cluster(n_existing(2), 0, apiServerUrl=url)) == [
        (
            "url-port",
            f"clusters[0].apiServerUrl (cluster c1): {url!r} has no valid port; use a port from 1 to 65535, e.g. https://172.18.0.3:6443",
        )
    ]


def test_rules_that_compare_clusters_still_run_when_a_cluster_fails_to_parse() -> None:
    config = {"clusters": [existing_cluster("a", "n1"), existing_cluster("a", "n2", apiServerUrl="")]}
    assert codes_of(config) == [
        (
            "empty",
            "clusters[1].apiServerUrl (cluster a): is empty, but it is required; set the https URL other clusters' pods dial "
            "(for kind: https://<cluster>-control-plane:6443, never 127.0.0.1)",
        ),
        (
            "duplicate-name",
            "clusters[1].name (cluster a): a is already the name of clusters[0]; "
            "names become Istio cluster IDs and secret names, so each must be unique",
        ),
    ]


def test_the_largest_lifetime_go_can_hold_is_accepted() -> None:
    assert parse({**n_existing(2), "caRootValidityHours": 2562047}).ca.root_validity_hours == 2562047


def test_a_problem_names_the_entry_where_it_stands_whatever_comes_before_it() -> None:
    """Entries that are not objects do not shift the index of those after them."""
    config = two_azure()
    config["clusters"].insert(0, "not-a-cluster")
    config["clusters"][2]["nodePools"].insert(0, 7)
    config["clusters"][2]["nodePools"][2]["subnetCidr"] = "10.52.0.0/24"
    assert problems_of(config) == [
        "clusters[0]: must be an object, got the text 'not-a-cluster'",
        "clusters[2].nodePools[0] (cluster eastus-aks): must be an object, got the number 7",
        "clusters[2].nodePools[2].subnetCidr (cluster eastus-aks): 10.52.0.0/24 overlaps clusters[2].nodePools[1].subnetCidr "
        "(cluster eastus-aks) 10.52.0.0/24; give every subnet a range of its own",
    ]


def test_a_cluster_after_an_entry_that_is_no_object_keeps_its_index_in_rules_across_clusters() -> None:
    config = with_cluster(two_azure(), 1, name="westeurope-aks")
    config["clusters"].insert(0, ["not", "a", "cluster"])
    assert problems_of(config) == [
        "clusters[0]: must be an object, got a list",
        "clusters[2].name (cluster westeurope-aks): westeurope-aks is already the name of clusters[1]; names become Istio "
        "cluster IDs and secret names, so each must be unique",
    ]
