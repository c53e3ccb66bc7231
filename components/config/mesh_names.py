"""The names of the mesh's resources (the CA, Istio on each cluster, the links, MeshCheck), and the
plan of every one a spec makes; see ``components.config.names``."""

from __future__ import annotations

from dataclasses import dataclass

from components.config.model import DEFAULT_TAG, FIRST_ROOT, DnsService, MeshSpec, revision_name
from components.config.names import NamePlan, NameSource, NameTemplate, cluster_source

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
SECRET = "kubernetes:core/v1:Secret"  # noqa: S105 - a type token
ISTIO_GATEWAY = "kubernetes:networking.istio.io/v1:Gateway"
VIRTUAL_SERVICE = "kubernetes:networking.istio.io/v1:VirtualService"
PRIVATE_KEY = "tls:index/privateKey:PrivateKey"

CA = NameTemplate("istio-multicluster:mesh:MeshCA", "mesh-ca", "the mesh CA")
CA_ROOT_KEY = CA.child(PRIVATE_KEY, "{ca}-root-key", "the mesh root CA's key")
CA_ROOT_CERT = CA.child("tls:index/selfSignedCert:SelfSignedCert", "{ca}-root-cert", "the mesh root certificate")
# A root other than the first (``caRoot`` or a rotation's ``newRoot``) is named for its name.
CA_NAMED_ROOT_KEY = CA.child(PRIVATE_KEY, "{ca}-root-{root}-key", "mesh root {root}'s key")
CA_NAMED_ROOT_CERT = CA.child("tls:index/selfSignedCert:SelfSignedCert", "{ca}-root-{root}-cert", "mesh root {root}'s certificate")
CA_KEY = CA.child(PRIVATE_KEY, "{ca}-{cluster}-key", "cluster {cluster}'s intermediate CA key")
CA_CSR = CA.child("tls:index/certRequest:CertRequest", "{ca}-{cluster}-csr", "cluster {cluster}'s intermediate CA request")
CA_CERT = CA.child(
    "tls:index/locallySignedCert:LocallySignedCert", "{ca}-{cluster}-cert", "cluster {cluster}'s intermediate CA certificate"
)

ISTIO = NameTemplate("istio-multicluster:mesh:IstioControlPlane", "{cluster}-istio", "Istio's control plane on cluster {cluster}")
# The control plane's type until it was named for what it is; it and its gateways alias it, so stacks
# made then keep every resource.
LEGACY_ISTIO_TYPE = "istio-multicluster:mesh:IstioRelease"
ISTIO_SYSTEM = ISTIO.child(NAMESPACE, "{release}-istio-system", "istio-system on cluster {cluster}")
CACERTS = ISTIO.child(SECRET, "{release}-cacerts", "the cacerts Secret on cluster {cluster}")
CA_FILES = ISTIO.child(
    "kubernetes:secrets-store.csi.x-k8s.io/v1:SecretProviderClass",
    "{release}-ca-files",
    "the CA files' SecretProviderClass on cluster {cluster}",
)
GATEWAY_API_CRDS = ISTIO.child("kubernetes:yaml/v2:ConfigFile", "{release}-gateway-api-crds", "the Gateway API CRDs on cluster {cluster}")
BASE = ISTIO.child(HELM_RELEASE, "{release}-base", "Istio's base chart on cluster {cluster}")
ISTIOD = ISTIO.child(HELM_RELEASE, "{release}-istiod-{revision}", "istiod {revision} on cluster {cluster}")
CNI = ISTIO.child(HELM_RELEASE, "{release}-cni", "istio-cni on cluster {cluster}")
ZTUNNEL = ISTIO.child(HELM_RELEASE, "{release}-ztunnel", "ztunnel on cluster {cluster}")
TAG = ISTIO.child(
    "kubernetes:admissionregistration.k8s.io/v1:MutatingWebhookConfiguration",
    "{release}-tag-{tag}",
    "tag {tag}'s webhook on cluster {cluster}",
)
# Istio's gateways on a cluster: a component of their own, made after the control plane (and on a
# remote after the link); their names keep the control plane's prefix ({release}), which they were
# registered under before (their components alias it).
GATEWAYS = NameTemplate("istio-multicluster:mesh:IstioGateways", "{release}-gateways", "Istio's gateways on cluster {cluster}")
EASTWEST = GATEWAYS.child(HELM_RELEASE, "{release}-eastwest", "the east-west gateway on cluster {cluster}")
AMBIENT_EASTWEST = GATEWAYS.child(
    "kubernetes:gateway.networking.k8s.io/v1:Gateway", "{release}-eastwest", "the east-west Gateway on cluster {cluster}"
)
EASTWEST_OPTIONS = GATEWAYS.child(
    "kubernetes:core/v1:ConfigMap", "{release}-eastwest-options", "the east-west Gateway's options on cluster {cluster}"
)
EASTWEST_SERVICE = GATEWAYS.child(
    "kubernetes:core/v1:Service", "{release}-eastwest-service", "the east-west Service read on cluster {cluster}"
)
CROSS_NETWORK_GATEWAY = GATEWAYS.child(ISTIO_GATEWAY, "{release}-cross-network-gateway", "cross-network-gateway on cluster {cluster}")
ISTIOD_GATEWAY = GATEWAYS.child(ISTIO_GATEWAY, "{release}-istiod-gateway", "istiod-gateway on cluster {cluster}")
ISTIOD_ROUTE = GATEWAYS.child(VIRTUAL_SERVICE, "{release}-istiod-vs-{revision}", "the route to istiod {revision} on cluster {cluster}")
ISTIOD_WEBHOOK_ROUTE = GATEWAYS.child(VIRTUAL_SERVICE, "{release}-istiod-webhook-vs", "the webhook route to istiod on cluster {cluster}")
INGRESS_NAMESPACE = GATEWAYS.child(NAMESPACE, "{release}-istio-ingress", "istio-ingress on cluster {cluster}")
INGRESS = GATEWAYS.child(HELM_RELEASE, "{release}-ingress", "the ingress gateway on cluster {cluster}")
# Only where the platform puts an edge in front of the ingress gateway (an ALB on EKS); planned everywhere.
INGRESS_EDGE = GATEWAYS.child(
    "kubernetes:networking.k8s.io/v1:Ingress", "{release}-ingress-edge", "the edge in front of the ingress gateway on cluster {cluster}"
)
INGRESS_SERVICE = GATEWAYS.child(
    "kubernetes:core/v1:Service", "{release}-ingress-service", "the ingress gateway's Service read on cluster {cluster}"
)

LINK = NameTemplate("istio-multicluster:mesh:MeshLink", "mesh-link", "the remote secrets")
READER_TOKEN = LINK.child(SECRET, "{link}-{cluster}-reader-token", "cluster {cluster}'s reader token")
# A fleet member's token of generation 1 and later: each generation its own resource (see MeshLink).
READER_TOKEN_OF = LINK.child(SECRET, "{link}-{cluster}-reader-token-{generation}", "cluster {cluster}'s reader token {generation}")
REMOTE_SECRET = LINK.child(SECRET, "{link}-{source}-in-{holder}", "the remote secret of cluster {source} in cluster {holder}")

CHECK = NameTemplate("istio-multicluster:mesh:MeshCheck", "mesh-check", "the mesh check")
CHECK_NAMESPACE = CHECK.child(NAMESPACE, "{check}-{cluster}-{namespace}", "the check's namespace {namespace} on cluster {cluster}")
HELLOWORLD_SERVICE = CHECK.child(
    "kubernetes:core/v1:Service", "{prefix}-helloworld", "the check's Service of tag {tag} on cluster {cluster}"
)
HELLOWORLD = CHECK.child(
    "kubernetes:apps/v1:Deployment", "{prefix}-helloworld-{cluster}", "the check's helloworld of tag {tag} on cluster {cluster}"
)
PROBE = CHECK.child("kubernetes:batch/v1:Job", "{prefix}-probe", "the check's probe of tag {tag} on cluster {cluster}")
PROBE_PATHS = CHECK.child("kubernetes:core/v1:ConfigMap", "{prefix}-paths", "the paths the check's probe on cluster {cluster} takes")
SOLO_SERVICE = CHECK.child(
    "kubernetes:core/v1:Service",
    "{prefix}-helloworld-only-{owner}",
    "the check's Service of cluster {owner}'s helloworld on cluster {cluster}",
)
CHECK_INGRESS_GATEWAY = CHECK.child(ISTIO_GATEWAY, "{prefix}-ingress-gateway", "the check's ingress Gateway on cluster {cluster}")
CHECK_INGRESS_ROUTE = CHECK.child(VIRTUAL_SERVICE, "{prefix}-ingress-route", "the check's ingress route on cluster {cluster}")


# One name for the mesh (ingressDns): Route 53 records through a provider of their own, or a
# Traffic Manager profile in a group of its own.
DNS = NameTemplate("istio-multicluster:dns:MeshDns", "ingress-dns", "the mesh's one DNS name")
# Reads the zone while the config is checked, before any resource (components/dns/zones.py).
DNS_ZONE_PROVIDER = NameTemplate("pulumi:providers:aws", "ingress-dns-zones", "the AWS provider that reads the mesh's Route 53 zone")
DNS_GROUP = DNS.child("azure-native:resources:ResourceGroup", "{dns}-group", "the Traffic Manager profile's resource group")
DNS_PROFILE = DNS.child("azure-native:trafficmanager:Profile", "{dns}-profile", "the mesh's Traffic Manager profile")
DNS_PROVIDER = DNS.child("pulumi:providers:aws", "{dns}-route53", "the AWS provider of the mesh's Route 53 records")
DNS_RECORD = DNS.child("aws:route53/record:Record", "{dns}-{cluster}", "cluster {cluster}'s record of the mesh's name")
DNS_HEALTH_CHECK = DNS.child(
    "aws:route53/healthCheck:HealthCheck", "{dns}-{cluster}-health", "the Route 53 health check of cluster {cluster}'s ingress"
)


def check_prefix(check: str, cluster: str, tag: str) -> str:
    """What the names of MeshCheck's workloads of ``tag`` on ``cluster`` start with."""
    return f"{check}-{cluster}" if tag == DEFAULT_TAG else f"{check}-{cluster}-{tag}"


def sample_namespace(tag: str) -> str:
    """The namespace whose workloads the revision ``tag`` injects: ``sample``, ``sample-canary``, ..."""
    return "sample" if tag == DEFAULT_TAG else f"sample-{tag}"


# What an ambient mesh's sidecar workloads are called in MeshCheck's names (``sample-sidecar``).
# No tag-named set runs beside it: in ambient the check proves the ``default`` tag only.
SIDECAR_PROBES = "sidecar"


@dataclass(frozen=True)
class ProbeSet:
    """One set of MeshCheck's workloads and probes on every cluster.

    Args:
        tag: the revision tag whose istiod injects its sidecars (in ambient, ``default``, which
            ztunnel follows).
        key: what its resource names and namespace carry: the tag, or ``sidecar`` for the sidecar
            workloads of an ambient mesh.
        sidecar: whether its pods run sidecars (else they are ambient pods).
    """

    tag: str
    key: str
    sidecar: bool

    @property
    def namespace(self) -> str:
        return sample_namespace(self.key)

    def prefix(self, check: str, cluster: str) -> str:
        return check_prefix(check, cluster, self.key)


def probe_sets(mesh: MeshSpec) -> tuple[ProbeSet, ...]:
    """What MeshCheck proves, ``default`` first: with sidecars each tag's proxies; in ambient the
    one data plane per cluster (ztunnel, following ``default``), and, where the sidecar east-west
    gateway runs beside it (``ambientSidecarGateway``), sidecar workloads too."""
    if not mesh.ambient:
        tags = sorted(mesh.revisions, key=lambda t: (t != DEFAULT_TAG, t))
        return tuple(ProbeSet(tag, tag, sidecar=True) for tag in tags)
    ambient = ProbeSet(DEFAULT_TAG, DEFAULT_TAG, sidecar=False)
    if mesh.ambient_sidecar_gateway:
        return (ambient, ProbeSet(DEFAULT_TAG, SIDECAR_PROBES, sidecar=True))
    return (ambient,)


def tag_source(tag: str) -> NameSource:
    return NameSource(f"istioRevisions.{tag}")


def revision_source(mesh: MeshSpec, version: str) -> NameSource:
    """The first tag that points at ``version``, whose value names the revision."""
    return tag_source(next(t for t, v in sorted(mesh.revisions.items()) if v == version))


def plan_mesh_names(mesh: MeshSpec, plan: NamePlan) -> None:
    """Every name the mesh layer registers for ``mesh``, in the order it registers them."""
    _plan_ca(mesh, plan)
    for cluster in [c.name for c in mesh.clusters if not mesh.is_remote(c.name)] + [
        c.name for c in mesh.clusters if mesh.is_remote(c.name)
    ]:
        _plan_istio(mesh, cluster, plan)
    _plan_link(mesh, plan)
    if mesh.verify:
        _plan_check(mesh, plan)
    if mesh.ingress_dns is not None:
        _plan_dns(mesh, plan)


def _plan_dns(mesh: MeshSpec, plan: NamePlan) -> None:
    dns = plan.add(DNS)
    assert mesh.ingress_dns is not None
    if mesh.ingress_dns.service is DnsService.TRAFFIC_MANAGER:
        for template in (DNS_GROUP, DNS_PROFILE):
            plan.add(template, dns=dns)
        return
    plan.add(DNS_ZONE_PROVIDER)
    plan.add(DNS_PROVIDER, dns=dns)
    for cluster in mesh.clusters:
        # A health check only where the ingress has an IP address (no alias); planned everywhere.
        for template in (DNS_RECORD, DNS_HEALTH_CHECK):
            plan.add(template, [cluster_source(mesh, cluster.name)], dns=dns, cluster=cluster.name)


def root_templates(root: str) -> tuple[NameTemplate, NameTemplate]:
    """The key's and the certificate's templates of the root named ``root``: the first root keeps the
    names it has had from the start."""
    return (CA_ROOT_KEY, CA_ROOT_CERT) if root == FIRST_ROOT else (CA_NAMED_ROOT_KEY, CA_NAMED_ROOT_CERT)


def root_sources(mesh: MeshSpec, root: str) -> list[NameSource]:
    """The field whose value names ``root``'s resources: caRoot, or the rotation's newRoot; none for
    the first root, whose names hold no config value (renaming caRoot would make another root)."""
    if root == FIRST_ROOT:
        return []
    rotation = mesh.ca.rotation
    return [NameSource("caRotation.newRoot" if rotation is not None and rotation.new_root == root else "caRoot")]


def _plan_ca(mesh: MeshSpec, plan: NamePlan) -> None:
    ca = plan.add(CA)
    # A provided root is config, not a resource.
    for root in (r for r in mesh.ca.roots if r not in mesh.ca.provided):
        for template in root_templates(root):
            plan.add(template, root_sources(mesh, root), ca=ca, root=root)
    # Provided intermediates are config, not resources.
    for cluster in (c for c in mesh.clusters if not mesh.ca.intermediates):
        for template in (CA_KEY, CA_CSR, CA_CERT):
            plan.add(template, [cluster_source(mesh, cluster.name)], ca=ca, cluster=cluster.name)


def _plan_istio(mesh: MeshSpec, cluster: str, plan: NamePlan) -> None:
    named = [cluster_source(mesh, cluster)]
    release = plan.add(ISTIO, named, cluster=cluster)
    parts = {"release": release, "cluster": cluster}
    plain = [ISTIO_SYSTEM, BASE]
    if not mesh.is_remote(cluster):
        # The platform decides between a Secret and CSI files (Azure with caDelivery: keyVault);
        # neither name can meet another resource of its type.
        plain += [CACERTS, CA_FILES]
    if mesh.ambient:
        plain += [GATEWAY_API_CRDS, CNI, ZTUNNEL, AMBIENT_EASTWEST, EASTWEST_SERVICE]
        if mesh.spans_platforms:
            plain.append(EASTWEST_OPTIONS)
    if mesh.needs_sidecar_eastwest(cluster):
        # In ambient the HBONE Gateway's Service is the one read.
        plain += [EASTWEST] if mesh.ambient else [EASTWEST, EASTWEST_SERVICE]
        if mesh.exposes_services(cluster):
            plain.append(CROSS_NETWORK_GATEWAY)
        if mesh.exposes_istiod(cluster):
            # Only where remotes dial istiod by a load balancer's host name (AWS); planned everywhere.
            plain += [ISTIOD_GATEWAY, ISTIOD_WEBHOOK_ROUTE]
    if mesh.ingress_gateway:
        plain += [INGRESS_NAMESPACE, INGRESS, INGRESS_SERVICE, INGRESS_EDGE]
    plan.add(GATEWAYS, named, **parts)
    for template in plain:
        plan.add(template, named, **parts)
    for version in mesh.versions:
        revision = [*named, revision_source(mesh, version)]
        plan.add(ISTIOD, revision, revision=revision_name(version), **parts)
        if not mesh.ambient and mesh.exposes_istiod(cluster):
            plan.add(ISTIOD_ROUTE, revision, revision=revision_name(version), **parts)
    for tag in sorted(mesh.revisions):
        plan.add(TAG, [*named, tag_source(tag)], tag=tag, **parts)


def _plan_link(mesh: MeshSpec, plan: NamePlan) -> None:
    link = plan.add(LINK)
    for cluster in (c for c in mesh.clusters if mesh.discovered(c.name)):
        sources = [cluster_source(mesh, cluster.name)]
        plan.add(READER_TOKEN, sources, link=link, cluster=cluster.name)
        # A fleet member makes each generation its own resource (the first keeps one stack's name)
        # and keeps an older one while a peer's remote secret still carries it: any generation the
        # mesh stack applied may stand.
        for generation in token_generations(mesh) if mesh.fleet_mesh else ():
            plan.add(READER_TOKEN_OF, sources, link=link, cluster=cluster.name, generation=str(generation))
    for holder in mesh.clusters:
        for source in mesh.clusters:
            if mesh.discovers(holder.name, source.name):
                sources = [cluster_source(mesh, source.name), cluster_source(mesh, holder.name)]
                plan.add(REMOTE_SECRET, sources, link=link, source=source.name, holder=holder.name)


def token_generations(mesh: MeshSpec) -> list[int]:
    """The reader token generations after the first whose resources a fleet member may hold: the
    current one and those the mesh stack's earlier updates applied."""
    return sorted({mesh.reader_token_generation, *mesh.reader_token_history} - {0})


def _plan_check(mesh: MeshSpec, plan: NamePlan) -> None:
    check = plan.add(CHECK)
    for probes in probe_sets(mesh):
        for cluster in mesh.clusters:
            named_by_tag = probes.key == probes.tag != DEFAULT_TAG
            sources = [cluster_source(mesh, cluster.name)] + ([tag_source(probes.tag)] if named_by_tag else [])
            prefix = probes.prefix(check, cluster.name)
            parts = {"check": check, "cluster": cluster.name, "tag": probes.key, "prefix": prefix}
            plan.add(CHECK_NAMESPACE, sources, namespace=probes.namespace, **parts)
            for template in (HELLOWORLD_SERVICE, HELLOWORLD, PROBE):
                plan.add(template, sources, **parts)
            if probes.key != DEFAULT_TAG:
                continue
            plan.add(PROBE_PATHS, sources, **parts)
            for owner in mesh.clusters:
                plan.add(SOLO_SERVICE, [*sources, cluster_source(mesh, owner.name)], owner=owner.name, **parts)
            if mesh.ingress_gateway and not mesh.is_remote(cluster.name):
                for template in (CHECK_INGRESS_GATEWAY, CHECK_INGRESS_ROUTE):
                    plan.add(template, sources, **parts)
