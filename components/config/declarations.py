"""The mesh-wide project config keys and the fields every cluster has, each declared once.

Platforms declare their own keys and cluster fields beside their code (``components.platforms``).
Pulumi.yaml's config schema and the README's tables are generated from these declarations
(``scripts/config_reference.py``) and tests keep them equal.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from components.config.fields import Field, Object, Objects
from components.config.istio import GATEWAY_API_RELEASES, SUPPORTED_ISTIO_MINORS, RevisionTags, minor_text
from components.config.kinds import (
    DNS_LABEL,
    DNS_LABEL_HINT,
    Boolean,
    Choice,
    Integer,
    ListOf,
    PublicCidr,
    Text,
    ValueTree,
    Version,
)
from components.config.model import (
    DEFAULT_ROTATION_WAIT_HOURS,
    FIRST_ROOT,
    Dataplane,
    DnsRouting,
    DnsService,
    Role,
    RotationStage,
    Topology,
)

# The TLS provider turns hours into a Go time.Duration (int64 nanoseconds): 2^63-1 ns is
# 2,562,047 hours; more overflows into a certificate that expired before it was issued.
MAX_CERT_HOURS = (2**63 - 1) // (3600 * 10**9)

MESH_ID = Field(
    "meshId",
    Text(DNS_LABEL, DNS_LABEL_HINT),
    "Istio mesh ID (global.meshID), one value for every cluster. A DNS-1123 label.",
    default="mesh1",
)
DEFAULT_ISTIO_VERSION = "1.30.3"
ISTIO_REVISIONS = Field[dict[str, str]](
    "istioRevisions",
    RevisionTags(default=DEFAULT_ISTIO_VERSION),
    "Revision tags and the exact Istio release each points at, e.g. {default: 1.30.3} or, during an upgrade, "
    "{default: 1.30.3, canary: 1.31.0}. One istiod per release (revision 1-30-3), the base chart from the newest; "
    "gateways and namespaces labelled istio-injection=enabled follow the default tag, istio.io/rev=<tag> follows a tag. "
    f"Supported minors: {', '.join(minor_text(m) for m in SUPPORTED_ISTIO_MINORS)}.",
    default={"default": DEFAULT_ISTIO_VERSION},
)
# Keys that ``istioRevisions`` replaced, refused with their equivalent.
REPLACED_KEYS = ("istioVersion", "istioRevision")
TOPOLOGY = Field(
    "topology",
    Choice(Topology),
    "Control-plane model: multi-primary (every cluster runs istiod) or primary-remote.",
    default=Topology.MULTI_PRIMARY,
)
DATAPLANE = Field(
    "dataplane",
    Choice(Dataplane),
    "Istio's data plane: `sidecar` (a proxy in every pod) or `ambient` (a ztunnel per node, no sidecars; with the "
    "Gateway API CRDs, the cni and ztunnel charts and an HBONE east-west Gateway per cluster). Ambient runs across "
    "clusters only multi-primary, each cluster on its own network.",
    default=Dataplane.SIDECAR,
)
GATEWAY_API_RELEASE = Field(
    "gatewayApiRelease",
    Version("use a Gateway API release tag, e.g. v1.5.1", prefix="v"),
    "Ambient only: the Gateway API release whose standard-channel CRDs every cluster gets. The CRDs only move "
    "forward: before taking the newest Istio release out of istioRevisions, pin this to the release installed "
    "(the mesh output's gatewayApiRelease), because from v1.5 the CRDs' admission policy refuses older ones, and an "
    "older release lacks types whose CRDs, and every object of them, would be deleted.",
    default_text="the release the newest installed Istio is built against ("
    + ", ".join(f"{minor_text(m)}: {r}" for m, r in GATEWAY_API_RELEASES.items())
    + ")",
)
AMBIENT_SIDECAR_GATEWAY = Field(
    "ambientSidecarGateway",
    Boolean(),
    "Ambient only: also run the sidecar mode's east-west gateway (istio-eastwestgateway, mTLS on 15443, with "
    "cross-network-gateway) on every cluster, so that workloads still on sidecars reach other clusters' sidecar "
    'workloads (their Services labelled istio.io/global: "true"). Set it with dataplane: ambient while switching a '
    "sidecar mesh, until every namespace is relabelled, or to keep sidecar workloads. A sidecar still cannot reach an "
    "ambient workload on another network, nor ambient a sidecar (Istio 1.30). One more load balancer per cluster.",
    default=False,
)
ACCESS_LOG = Field("accessLog", Boolean(), "Send Envoy access logs to stdout (meshConfig.accessLogFile=/dev/stdout).", default=False)
INGRESS_GATEWAY = Field(
    "ingressGateway",
    Boolean(),
    "Install a north-south ingress gateway (release istio-ingressgateway) in namespace istio-ingress on every cluster.",
    default=False,
)
SERVER_HEADER_VALUE = Field(
    "value",
    # An HTTP field value of visible ASCII (RFC 9110 5.5), no surrounding space, at most 128 characters.
    Text(re.compile(r"[!-~]([ -~]{0,126}[!-~])?"), "use at most 128 visible ASCII characters and spaces, not at either end"),
    "What the ingress gateways send as `server` instead of Envoy's `istio-envoy` (they overwrite the application's).",
)
SERVER_HEADER_DISABLED = Field(
    "disabled",
    Boolean(),
    "true: the ingress gateways add no `server` header and pass the application's own through, if it sends one.",
)
INGRESS_SERVER_HEADER = Field(
    "ingressServerHeader",
    Object((SERVER_HEADER_VALUE, SERVER_HEADER_DISABLED), "ingressServerHeader"),
    "The `server` header of the ingress gateways' responses (ingressGateway: true): {value: <text>} replaces Envoy's "
    "`istio-envoy` with your text, {disabled: true} sends Envoy's none. Istio's proxyHeaders.server, set on the gateways' "
    "pods (proxy.istio.io/config), not an EnvoyFilter.",
    default_text="Envoy's: istio-envoy",
)
DNS_SERVICE = Field(
    "service",
    Choice(DnsService),
    "`route53`: records in a Route 53 zone, any cloud; `trafficManager`: an Azure Traffic Manager profile, every cluster on AKS.",
    default=DnsService.ROUTE53,
)
DNS_ZONE_ID = Field(
    "zoneId",
    Text(re.compile(r"Z[A-Z0-9]{1,31}"), "use a Route 53 hosted zone ID such as Z0123456789ABCDEFGHIJ"),
    "route53: the public hosted zone that holds `name` (its ID, `aws route53 list-hosted-zones-by-name`).",
    default_text="required with route53",
)
DNS_NAME = Field(
    "name",
    Text(
        re.compile(r"(?=.{1,253}$)[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?(\.[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?)*"),
        "use lowercase DNS labels such as mesh.example.com, without a trailing dot",
    ),
    "route53: the mesh's name, inside the zone, e.g. `mesh.example.com`; trafficManager: the profile's relative name, "
    "one label, global across Azure (the mesh's name is then `<name>.trafficmanager.net`; point your own name at it "
    "with a CNAME).",
    required=True,
    hint="give the name clients use, e.g. mesh.example.com (route53) or istio-mesh-prod (trafficManager)",
)
DNS_ROUTING = Field(
    "routing",
    Choice(DnsRouting),
    "`latency`: each client gets the healthy cluster nearest to it (route53: every cluster on EKS, by AWS region; "
    "trafficManager: Performance routing, by Azure region); `weighted`: any healthy cluster, evenly.",
    default=DnsRouting.LATENCY,
)
INGRESS_DNS = Field(
    "ingressDns",
    Object((DNS_SERVICE, DNS_ZONE_ID, DNS_NAME, DNS_ROUTING), "ingressDns"),
    "One name for the whole mesh (ingressGateway: true), answered with a healthy cluster's ingress, so a cluster whose "
    "ingress fails drops out of the answers. route53: a record per cluster; an EKS cluster's is an alias of its load "
    "balancer that follows the load balancer's own health checks (an ALB edge's: the gateway's /healthz/ready), any "
    "other's its ingress IP with a Route 53 health check of the gateway's 15021 /healthz/ready; and an EKS cluster's "
    "`ingressEdge` may then leave out certificateArn: the program requests an ACM certificate for `name` in the "
    "cluster's region, validated in the zone. trafficManager: a profile in resource group `istio-mesh-dns-<meshId>-<stack>` "
    "(in keyVaultLocation) with an endpoint per cluster's ingress IP, probed on 15021 /healthz/ready. Cost: Route 53 "
    "per hosted zone, per million queries and $0.50 a month per health check (aliases are free); Traffic Manager "
    "$0.54 per million queries and $0.36 a month per endpoint.",
    default_text="none",
)
FLEET_MESH = Field(
    "fleetMesh",
    Boolean(),
    "Make this the mesh stack of a fleet: it builds the membership's CA (and the clouds' shared networks and CA "
    "copies) and exports, for one member stack per cluster (`fleetMember`), the config and each "
    "member's CA material; the member stacks build the clusters, their Istio and remote secrets, run side by side by "
    "`python -m fleet`. Existing, EKS and AKS clusters (multi-primary or primary-remote); "
    "ingressDns (Route 53: each member its record; Traffic Manager: the mesh stack's profile).",
    default=False,
)
VERIFY = Field(
    "verify",
    Boolean(),
    "Deploy sample workloads and a Job per cluster that must reach every cluster's helloworld version; "
    "pulumi up fails if cross-cluster traffic does not flow.",
    default=False,
)
# The distribution reference grammar (registry/repository, then :tag, @sha256:digest or both), with a
# tag or digest required: without one the image is whatever :latest is when a node pulls it.
IMAGE_NAME = r"[a-z0-9]+([._-][a-z0-9]+)*(:[0-9]+)?(/[a-z0-9]+([._-][a-z0-9]+)*)+"
IMAGE_TAG = r":[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}"
IMAGE_DIGEST = r"@sha256:[a-f0-9]{64}"
IMAGE_REFERENCE = re.compile(f"{IMAGE_NAME}({IMAGE_TAG}({IMAGE_DIGEST})?|{IMAGE_DIGEST})")
IMAGE_HINT = (
    "use registry/repository:tag, registry/repository@sha256:<digest> or both; a tag or digest is required "
    "(without one the image is whatever :latest is when a node pulls it)"
)
VERIFY_IMAGE = Field(
    "verifyImage",
    Text(IMAGE_REFERENCE, IMAGE_HINT),
    "Image of the verification workloads and probes: Istio's helloworld sample, which carries curl. A tag, a digest "
    "or both are required. Pin it by digest (`crane digest <image>`) to run exactly what was reviewed.",
    default="registry.istio.io/release/examples-helloworld-v1:1.0",
)
ISTIOD_VALUES = Field[dict[str, Any]](
    "istiodValues",
    ValueTree(),
    "istiod Helm values merged over the program's on every cluster (a cluster's own istiodValues go on top). "
    "What the program derives from the mesh (meshID, clusterName, network, revision, the topology's settings) is refused.",
    default={},
)
CA_ROOT_VALIDITY_HOURS = Field(
    "caRootValidityHours",
    Integer(1, MAX_CERT_HOURS),
    "Lifetime of the mesh root certificate in hours (Istio's tools/certs profile: 3650 days).",
    default=87600,
)
CA_INTERMEDIATE_VALIDITY_HOURS = Field(
    "caIntermediateValidityHours",
    Integer(1, MAX_CERT_HOURS),
    "Lifetime of each cluster's intermediate CA certificate in hours: 730 days, shorter than the 3650 days of "
    "Istio's tools/certs profile so that a leaked intermediate key stops being trusted sooner.",
    default=17520,
)
CA_ROOT_EARLY_RENEWAL_HOURS = Field(
    "caRootEarlyRenewalHours",
    Integer(0, MAX_CERT_HOURS),
    "Replace the root certificate this many hours before it expires (the root key is kept).",
    default=8760,
)
CA_INTERMEDIATE_EARLY_RENEWAL_HOURS = Field(
    "caIntermediateEarlyRenewalHours",
    Integer(0, MAX_CERT_HOURS),
    "Replace an intermediate this many hours before it expires; the root is not touched.",
    default=720,
)
CA_PROVIDED_ROOTS = Field(
    "caProvidedRoots",
    ValueTree(),
    "Roots you provide instead of generated ones, by name (caRoot, or a rotation's newRoot): {<name>: {certPem, keyPem}}, "
    "a CA certificate and its unencrypted key, set as a secret (`pulumi config set --secret --path "
    "'caProvidedRoots.root.keyPem' \"$(cat root-key.pem)\"`). The program signs the intermediates with it; the key "
    "lives in the encrypted config and state. Checked before anything: CA:TRUE, keyCertSign, the key matches, valid now "
    "and for the intermediates' lifetime.",
    default={},
)
CA_PROVIDED_INTERMEDIATES = Field(
    "caProvidedIntermediates",
    ValueTree(),
    "Every cluster's intermediate CA, signed by your offline root, by cluster: {<cluster>: {certPem, keyPem, chainPem}} "
    "(chainPem: the intermediate, its issuers, the root), set as a secret; or read on every run from a secret store: "
    "{secretsManager: <secret ARN>} or {keyVault: https://<vault>.vault.azure.net/secrets/<name>[/<version>]}, whose "
    "value is that JSON object or a PEM bundle (key, certificate, issuers up to the root). Then no root key is in the "
    "stack: give the roots' certificates alone in caProvidedRoots. Checked before anything: CA:TRUE, keyCertSign, its own "
    "key, signed by the signing root, names the cluster, valid and outside its renewal window "
    "(caIntermediateEarlyRenewalHours).",
    default={},
)
READER_TOKEN_GENERATION = Field(
    "readerTokenGeneration",
    Integer(0, 1_000_000),
    "Which service-account tokens the remote secrets carry (istiod reads other clusters with them). Raise it to rotate "
    "them: one `pulumi up` issues new tokens, switches every remote secret to them in place (istiod swaps its client "
    "once the new one has synced) and then deletes the old tokens, which stops them working.",
    default=0,
)
CA_ROOT = Field(
    "caRoot",
    Text(DNS_LABEL, DNS_LABEL_HINT),
    f"Name of the mesh root that signs the clusters' intermediates. The first is `{FIRST_ROOT}`; when a rotation "
    "(caRotation) has retired it, set this to the rotation's newRoot and remove caRotation: the same root, nothing changes.",
    default=FIRST_ROOT,
)
CA_ROTATION_NEW_ROOT = Field(
    "newRoot",
    Text(DNS_LABEL, DNS_LABEL_HINT),
    "Name of the root the rotation introduces, other than caRoot (a new key and certificate under this name).",
    required=True,
    hint=f"name the new root, e.g. root-2; {DNS_LABEL_HINT}",
)
CA_ROTATION_STAGE = Field(
    "stage",
    Text(choices=tuple(s.value for s in RotationStage)),
    "trust: every cluster's bundle holds both roots; issue: the intermediates are re-issued by the new root; retire: "
    "the old root leaves the bundles and the state. One `pulumi up` each, in this order; wait between them as the "
    'README\'s "Rotating the mesh root" says.',
    required=True,
    hint="set trust, then issue, then retire, one pulumi up each",
)
CA_ROTATION_WAIT_HOURS = Field(
    "waitHours",
    Integer(0, MAX_CERT_HOURS),
    "Hours that issue waits after trust, and retire after issue, reached every cluster: the time workloads take to "
    "renew their certificates, and with them the roots they trust (istio-agent renews at half the certificate's "
    "lifetime, 24 hours by default; set the longest SECRET_TTL you use). 0 once you have restarted every workload.",
    default=DEFAULT_ROTATION_WAIT_HOURS,
)
CA_ROTATION = Field(
    "caRotation",
    Object((CA_ROTATION_NEW_ROOT, CA_ROTATION_STAGE, CA_ROTATION_WAIT_HOURS), "caRotation"),
    "A staged rotation of the mesh root: {newRoot: <name>, stage: trust | issue | retire, waitHours: 24}. trust puts "
    "newRoot in every cluster's bundle, issue has it sign the intermediates, retire drops caRoot; one `pulumi up` each, "
    'waitHours apart (README, "Rotating the mesh root"). The program refuses a stage whose predecessor has not reached '
    "every cluster, or reached it less than waitHours ago.",
    default_text="none",
)
OPERATOR_CIDRS = Field(
    "operatorCidrs",
    ListOf(PublicCidr()),
    "Required when the clusters span platforms (e.g. AKS and EKS): the public ranges of whoever runs `pulumi` and "
    "`kubectl` (people, CI runners). Each cloud API server then admits exactly these and the other clusters' egress "
    "addresses; east-west gateways admit only the other clusters' egress addresses.",
    default_text="none (single-platform meshes)",
)

# The fields of every cluster entry; each platform adds its own (region included).
CLUSTER_NAME = Field(
    "name",
    Text(DNS_LABEL, DNS_LABEL_HINT),
    "Unique DNS-1123 label; becomes the Istio cluster ID and remote-secret names.",
    required=True,
)
NETWORK = Field(
    "network",
    Text(DNS_LABEL, f"name the cluster's Istio network; {DNS_LABEL_HINT}"),
    "Istio network. Clusters sharing one must have routable pod IPs: Azure CNI (not overlay) over peered VNets, or one VPC.",
    required=True,
    hint=f"name the cluster's Istio network; {DNS_LABEL_HINT}",
)
ROLE = Field("role", Choice(Role), "`primary` or `remote` (topology `primary-remote` only).", default=Role.PRIMARY)
PRIMARY = Field("primary", Text(DNS_LABEL, DNS_LABEL_HINT), "For a remote: the primary whose istiod it uses.")
CLUSTER_ISTIOD_VALUES = Field[dict[str, Any]](
    "istiodValues",
    ValueTree(),
    "istiod Helm values for this cluster, merged over the mesh-wide `istiodValues`; what the program derives is refused.",
)


def cloud_field(platforms: Sequence[str]) -> Field[str]:
    """The ``cloud`` field, whose values are the platforms' names."""
    return Field(
        "cloud",
        Text(choices=tuple(platforms)),
        f"The platform the cluster runs on: {', '.join(f'`{p}`' for p in platforms)}.",
        required=True,
        hint=" or ".join(platforms),
    )


def cluster_fields(platforms: Sequence[str]) -> list[Field[Any]]:
    """The fields every cluster entry has, whatever its platform."""
    return [CLUSTER_NAME, cloud_field(platforms), NETWORK, ROLE, PRIMARY, CLUSTER_ISTIOD_VALUES]


def clusters_field(platforms: Sequence[str]) -> Field[tuple[object, ...]]:
    """The ``clusters`` key: every cluster of the mesh."""
    return Field(
        "clusters",
        Objects(cluster_fields(platforms), "a cluster"),
        f"The mesh's clusters (at least 2): name, cloud ({' | '.join(platforms)}), region, network, role, primary, "
        "and the cloud's own fields; see the README's config reference.",
        required=True,
        hint="list at least two clusters",
    )


MESH_FIELDS: tuple[Field[Any], ...] = (
    MESH_ID,
    ISTIO_REVISIONS,
    TOPOLOGY,
    DATAPLANE,
    ACCESS_LOG,
    INGRESS_GATEWAY,
    INGRESS_SERVER_HEADER,
    INGRESS_DNS,
    VERIFY,
    VERIFY_IMAGE,
    ISTIOD_VALUES,
    GATEWAY_API_RELEASE,
    AMBIENT_SIDECAR_GATEWAY,
    CA_ROOT_VALIDITY_HOURS,
    CA_INTERMEDIATE_VALIDITY_HOURS,
    CA_ROOT_EARLY_RENEWAL_HOURS,
    CA_INTERMEDIATE_EARLY_RENEWAL_HOURS,
    CA_ROOT,
    CA_ROTATION,
    CA_PROVIDED_ROOTS,
    CA_PROVIDED_INTERMEDIATES,
    READER_TOKEN_GENERATION,
    OPERATOR_CIDRS,
    FLEET_MESH,
)
