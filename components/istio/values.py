"""The value trees and config specs the program gives Istio, as pure functions of the mesh.

Helm ignores unknown keys silently, so a typo in a value tree would go unnoticed: the trees are
built here, without Pulumi resources, so tests pin them exactly. ``components.mesh`` installs them.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import ipaddress
import json
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi

from components.cluster.handle import CaFiles
from components.config.model import DEFAULT_TAG, MeshSpec, revision_name
from components.istio import ambient
from components.istio.facts import (
    CA_FILES_CLASS,
    CA_FILES_DIR,
    CA_FILES_VOLUME,
    CROSS_NETWORK_PORT,
    CSI_DRIVER,
    EASTWEST_GATEWAY,
    INGRESS_GATEWAY,
    INJECTION_LABEL,
    ISTIO_NAMESPACE,
    ISTIOD_GATEWAY,
    PROXY_CONFIG_ANNOTATION,
    REV_LABEL,
    REVISION_ANNOTATION,
    WEBHOOK_PORT,
    XDS_PORT,
    istiod_service,
)


def injection_labels(tag: str = DEFAULT_TAG) -> dict[str, str]:
    """Namespace labels that have the revision ``tag`` points at inject sidecars (and gateways):
    ``istio-injection=enabled`` follows the ``default`` tag, ``istio.io/rev=<tag>`` any tag."""
    return {INJECTION_LABEL: "enabled"} if tag == DEFAULT_TAG else {REV_LABEL: tag}


def deep_merge(*trees: Mapping[str, Any]) -> dict[str, Any]:
    """Merge value trees left to right; nested mappings merge, anything else is replaced."""
    merged: dict[str, Any] = {}
    for tree in trees:
        for key, value in tree.items():
            if isinstance(value, Mapping) and isinstance(merged.get(key), dict):
                merged[key] = deep_merge(merged[key], value)
            else:
                merged[key] = copy.deepcopy(dict(value) if isinstance(value, Mapping) else value)
    return merged


# istiod values a remote has no use for: it runs no istiod (the chart's remote profile,
# manifests/helm-profiles/remote.yaml, sets configMap: false), and its proxies take these from their
# primary's istiod. The program drops them from a remote's values (``remote_istiod_values``), so a
# remote's own istiodValues may not set them; the value names what they are.
REMOTE_UNUSED_ISTIOD_VALUES: dict[str, str] = {"meshConfig": "mesh config"}
# The istiod and gateway pod annotation that carries the digest of the mesh roots' bundle (``with_bundle_digest``).
CA_BUNDLE_ANNOTATION = "istio-multicluster.io/ca-bundle"
# The gateway pod annotation that carries the digest of the chain that signs their certificates
# (``gateway_ca_annotations``).
CA_CHAIN_ANNOTATION = "istio-multicluster.io/ca-chain"
# Every istiod value path the program writes (``components.istio.values.owned_istiod_values``,
# ``remote_istiod_values``, ``with_ca_files``), and the config that decides it.
WRITTEN_ISTIOD_VALUES: dict[tuple[str, ...], str] = {
    ("global", "meshID"): "meshId",
    ("global", "multiCluster", "clusterName"): "the cluster's name",
    ("global", "network"): "the cluster's network",
    ("revision",): "istioRevisions",
    ("global", "externalIstiod"): "topology (primaries of a primary-remote mesh)",
    ("profile",): "topology, role and dataplane (remotes use the remote profile, ambient the ambient one)",
    ("env", "AMBIENT_ENABLE_MULTI_NETWORK"): "dataplane (ambient across networks)",
    ("env", "AMBIENT_ENABLE_MULTI_NETWORK_INGRESS"): "dataplane (ambient across networks)",
    ("env", "AMBIENT_ENABLE_BAGGAGE"): "dataplane (ambient across networks)",
    ("global", "remotePilotAddress"): "the primary's east-west gateway address",
    # The chart's istiodRemote (enabled, injectionURL, injectionPath, injectionCABundle) turns istiod
    # into a remote's injection webhooks: the program writes it whole for remotes, and on a primary
    # istiodRemote.enabled would remove istiod.
    ("istiodRemote",): "topology and role (a remote's injection webhooks, served by its primary's istiod)",
    ("meshConfig", "accessLogFile"): "accessLog",
    ("env", "ROOT_CA_DIR"): "caDelivery (where istiod reads its CA files)",
    ("env", "ISTIOD_CUSTOM_HOST"): "topology (the names remotes dial istiod by)",
    ("podAnnotations", CA_BUNDLE_ANNOTATION): "the mesh roots (istiod restarts when their bundle changes)",
}


def base_values(mesh: MeshSpec) -> dict[str, Any]:
    """Values of the ``base`` chart (installed once, from the newest release): the default
    validating webhook follows the ``default`` tag's revision."""
    return {"defaultRevision": mesh.default_revision}


def remote_base_values(mesh: MeshSpec, primary_address: str, root_cert: str) -> dict[str, Any]:
    """Values of the ``base`` chart on a remote: the remote profile; validation served by the primary,
    at a URL when its address is a host name (see ``remote_istiod_values``).

    The default validation webhook gets the mesh root as its CA bundle: istiod patches the bundle
    (and failurePolicy) only into its own cluster's validating webhooks, and the chart writes
    ``failurePolicy: Ignore`` only on install, so after the first upgrade of ``base`` a remote's
    webhook would fail closed with no CA to trust istiod by. istiod's serving certificate chains
    to the mesh root, so with the bundle the chart's ``Fail`` is right from the start, once the
    primary's routes to istiod exist (the remote's Istio config waits for them).
    """
    values: dict[str, Any] = {"profile": "remote", **base_values(mesh)}
    values["base"] = {"validationCABundle": base64.b64encode(root_cert.encode()).decode()}
    if not is_ip_address(primary_address):
        values["base"]["validationURL"] = f"https://{primary_address}:{WEBHOOK_PORT}/validate"
    return values


def istiod_values(mesh: MeshSpec, cluster: str, network: str, version: str, dns_names: Sequence[str] = ()) -> dict[str, Any]:
    """Values of the ``istiod`` chart for a multicluster mesh: the config's overrides (mesh-wide,
    then the cluster's), then the program's own values over them (``owned_istiod_values``).
    """
    overrides = deep_merge(mesh.istiod_values, mesh.cluster(cluster).istiod_values)
    return deep_merge(overrides, owned_istiod_values(mesh, cluster, network, version, dns_names))


def owned_istiod_values(mesh: MeshSpec, cluster: str, network: str, version: str, dns_names: Sequence[str] = ()) -> dict[str, Any]:
    """The istiod values the program writes from the mesh (each path is in ``WRITTEN_ISTIOD_VALUES``,
    which the config refuses in ``istiodValues``).

    ``global.meshID`` is one value for the whole mesh; ``clusterName`` becomes CLUSTER_ID and must
    equal the key of this cluster's remote secret elsewhere (unset it would be ``Kubernetes``). Each
    release runs as its own revision (``1-30-3``); the tags that point at it are the program's own
    objects, not the chart's ``revisionTags`` (see ``components.mesh.tags``).
    A primary serving remotes whose webhooks dial it by host name (``dns_names``) puts those names
    in its serving certificate (``ISTIOD_CUSTOM_HOST``): the API server verifies a webhook URL's
    host against the certificate.
    """
    values: dict[str, Any] = {
        "global": {
            "meshID": mesh.mesh_id,
            "multiCluster": {"clusterName": cluster},
            "network": network,
        },
    }
    values["revision"] = revision_name(version)
    if mesh.ambient:
        values = deep_merge(values, ambient.ambient_istiod_values())
    if mesh.access_log:
        values["meshConfig"] = {"accessLogFile": "/dev/stdout"}
    if mesh.exposes_istiod(cluster):
        values["global"]["externalIstiod"] = True
        if dns_names:
            values.setdefault("env", {})["ISTIOD_CUSTOM_HOST"] = ",".join(dns_names)
    return values


def with_ca_files(values: Mapping[str, Any], files: CaFiles) -> dict[str, Any]:
    """istiod ``values`` that read the CA from the CSI volume of SecretProviderClass ``istio-cacerts``.

    The chart always mounts the optional Secret ``cacerts`` at /etc/cacerts, so the CSI volume goes
    elsewhere, and ROOT_CA_DIR (istiod's plug-in CA directory, default ./etc/cacerts) points at it.
    istiod takes the files only when all four are there (an incomplete set stops it).
    """
    merged = deep_merge(values)
    merged["volumes"] = [
        *merged.get("volumes", []),
        {
            "name": CA_FILES_VOLUME,
            "csi": {"driver": CSI_DRIVER, "readOnly": True, "volumeAttributes": {"secretProviderClass": CA_FILES_CLASS}},
        },
    ]
    merged["volumeMounts"] = [*merged.get("volumeMounts", []), {"name": CA_FILES_VOLUME, "mountPath": CA_FILES_DIR, "readOnly": True}]
    merged.setdefault("env", {})["ROOT_CA_DIR"] = CA_FILES_DIR
    if files.pod_labels:
        merged["podLabels"] = {**merged.get("podLabels", {}), **files.pod_labels}
    if files.service_account_annotations:
        merged["serviceAccountAnnotations"] = {**merged.get("serviceAccountAnnotations", {}), **files.service_account_annotations}
    return merged


def with_bundle_digest(values: Mapping[str, Any], digest: pulumi.Input[str]) -> dict[str, Any]:
    """istiod ``values`` whose pods carry ``digest``, the bundle of mesh roots', so that istiod
    restarts when the bundle changes (a rotation's trust and retire stages, a root's early renewal).

    istiod 1.30 re-reads a changed ``root-cert.pem`` only with ISTIO_MULTIROOT_MESH and only when one
    bundle holds the other; otherwise it logs "updating new ROOT-CA not supported" and keeps signing
    with the roots it started with (pilot/pkg/bootstrap/istio_ca.go ``handleEvent``). A changed
    intermediate alone it re-reads in place, so the digest leaves it out. ``values`` may hold
    outputs (which cannot be copied), so only the annotations are new.
    """
    return {**values, "podAnnotations": {**values.get("podAnnotations", {}), CA_BUNDLE_ANNOTATION: digest}}


def gateway_ca_annotations(bundle_pem: pulumi.Input[str], chain_pem: pulumi.Input[str]) -> dict[str, pulumi.Output[str]]:
    """Pod annotations that roll a gateway that opens mesh mTLS when the mesh roots' bundle or the chain
    that signs its certificate (the issuing istiod's intermediate and root) change: a rotation's
    three stages and an intermediate's renewal.

    A gateway's istio-agent takes the bundle and a certificate from istiod when it starts and again
    only at half the certificate's lifetime (security/pkg/nodeagent/cache/secretcache.go): restarted,
    it trusts the new root at ``trust`` at once instead of up to 12 hours later. At ``issue`` the
    restart can precede istiod's re-reading of the intermediate (the kubelet syncs the cacerts
    Secret within about a minute); such a pod keeps an old-chain certificate, which both roots
    verify, until it renews. Both are public certificates: their digests are plain.
    """
    return {
        CA_BUNDLE_ANNOTATION: pulumi.Output.unsecret(pulumi.Output.from_input(bundle_pem)).apply(bundle_digest),
        CA_CHAIN_ANNOTATION: pulumi.Output.unsecret(pulumi.Output.from_input(chain_pem)).apply(bundle_digest),
    }


def bundle_digest(bundle_pem: str) -> str:
    """The digest of a bundle of roots that istiod's pods carry (SHA-256, hex)."""
    return hashlib.sha256(bundle_pem.encode()).hexdigest()


def remote_istiod_values(mesh: MeshSpec, cluster: str, network: str, version: str, primary_address: str) -> dict[str, Any]:
    """Values of the ``istiod`` chart on a remote: no istiod of its own, the primary's through its
    east-west gateway, injection served by the primary for this cluster.

    With a bare IP the chart points the remote's ``istiod`` Service at it (an EndpointSlice) and the
    webhook at that Service (``injectionPath``). With a host name (every AWS NLB) the chart makes
    the Service ``ExternalName``, which the API server refuses to call webhooks through
    (istio/istio#45014), so the webhook dials the primary's port 15017 by URL (``injectionURL``).
    """
    values = istiod_values(mesh, cluster, network, version)
    for key in REMOTE_UNUSED_ISTIOD_VALUES:  # they come from the primary's istiod
        values.pop(key, None)
    values["profile"] = "remote"
    values["global"]["remotePilotAddress"] = primary_address
    path, url = remote_injection(cluster, network, primary_address)
    values["istiodRemote"] = {"injectionURL": url} if url else {"injectionPath": path}
    return values


def remote_injection(cluster: str, network: str, primary_address: str) -> tuple[str, str | None]:
    """The path at which the primary injects a remote's pods, and the URL the remote's webhooks
    dial when the primary is reached by host name (``None`` with an IP: they go through the
    remote's ``istiod-<revision>`` Service)."""
    path = f"/inject/cluster/{cluster}/net/{network}"
    return path, None if is_ip_address(primary_address) else f"https://{primary_address}:{WEBHOOK_PORT}{path}"


def is_ip_address(address: str) -> bool:
    try:
        ipaddress.ip_address(address)
    except ValueError:
        return False
    return True


def istiod_gateway_spec() -> dict[str, Any]:
    """The Gateway that passes remotes' xDS (15012) and webhook (15017) traffic to istiod untouched."""
    return {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {"port": {"name": "tls-istiod", "number": XDS_PORT, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
            {"port": {"name": "tls-webhook", "number": WEBHOOK_PORT, "protocol": "tls"}, "tls": {"mode": "PASSTHROUGH"}, "hosts": ["*"]},
        ],
    }


def istiod_virtual_service_spec(version: str) -> dict[str, Any]:
    """Routes the istiod-gateway's traffic for one revision to its istiod: 15012 to 15012, 15017 to
    the webhook's 443. Remotes' proxies and webhooks dial ``istiod-<revision>.istio-system.svc``
    (their Service of that name leads here), which is the TLS SNI that picks the revision."""
    service = istiod_service(version)
    sni = [f"{service}.{ISTIO_NAMESPACE}.svc", f"{service}.{ISTIO_NAMESPACE}.svc.cluster.local"]
    return {
        "hosts": ["*"],
        "gateways": [ISTIOD_GATEWAY],
        "tls": [
            {"match": [{"port": XDS_PORT, "sniHosts": sni}], "route": [_istiod_route(version, XDS_PORT)]},
            {"match": [{"port": WEBHOOK_PORT, "sniHosts": sni}], "route": [_istiod_route(version, 443)]},
        ],
    }


def istiod_webhook_virtual_service_spec(version: str, hosts: Sequence[str]) -> dict[str, Any]:
    """Routes webhook calls that dial the primary by URL to the ``default`` tag's revision.

    They carry the load balancer's host name as SNI, which cannot pick a revision, so one route,
    in a VirtualService of its own that stays when the tag moves (updated in place): istiod takes
    VirtualServices oldest first and drops a later route for an SNI host one already claims, so a
    route in the new revision's VirtualService would be ignored until the old one is deleted.
    """
    return {
        "hosts": ["*"],
        "gateways": [ISTIOD_GATEWAY],
        "tls": [{"match": [{"port": WEBHOOK_PORT, "sniHosts": list(hosts)}], "route": [_istiod_route(version, 443)]}],
    }


def _istiod_route(version: str, port: int) -> dict[str, Any]:
    return {"destination": {"host": f"{istiod_service(version)}.{ISTIO_NAMESPACE}.svc.cluster.local", "port": {"number": port}}}


def gateway_values(
    mesh: MeshSpec, name: str, annotations: Mapping[str, str], ca_annotations: Mapping[str, pulumi.Input[str]] | None = None
) -> dict[str, Any]:
    """Values of the ``gateway`` chart shared by both gateways: name, Service annotations, and pod
    annotations naming the ``default`` tag's revision and the CA (``gateway_ca_annotations``; default
    none). The gateways are injected by whatever revision the ``default`` tag points at, but pods only
    change revision when they restart: the annotation makes the Deployment roll when the tag moves."""
    pod_annotations = {REVISION_ANNOTATION: mesh.default_revision, **(ca_annotations or {})}
    values: dict[str, Any] = {"name": name, "podAnnotations": pod_annotations}
    if annotations:
        values["service"] = {"annotations": dict(annotations)}
    return values


def ingress_values(
    mesh: MeshSpec, annotations: Mapping[str, str], ca_annotations: Mapping[str, pulumi.Input[str]], *, trusted_proxies: int = 0
) -> dict[str, Any]:
    """Values of the ``gateway`` chart for the ingress gateway: ``gateway_values``, and its pods'
    proxy config (the ``proxy.istio.io/config`` annotation; istiod builds a gateway's HTTP connection
    manager from it):

    - with ``ingressServerHeader``, ``proxyHeaders.server``: ``{value}`` makes the server name that
      value (overwriting the application's), ``{disabled: true}`` sets none and passes the
      application's through (pilot/pkg/networking/util/proxy_headers.go ``GetProxyHeadersFromProxyConfig``);
    - behind an edge (``trusted_proxies`` > 0, default 0: none), ``gatewayTopology.numTrustedProxies``,
      so that the gateway takes the client's address from X-Forwarded-For rather than the edge's,
      and a ClusterIP Service: only the edge sends to it, so it needs no load balancer of its own.
    """
    values = gateway_values(mesh, INGRESS_GATEWAY, annotations if not trusted_proxies else {}, ca_annotations)
    proxy_config: dict[str, Any] = {}
    header = mesh.ingress_server_header
    if header is not None:
        proxy_config["proxyHeaders"] = {"server": {"disabled": True} if header.disabled else {"value": header.value}}
    if trusted_proxies:
        proxy_config["gatewayTopology"] = {"numTrustedProxies": trusted_proxies}
        values["service"] = {"type": "ClusterIP"}
    if proxy_config:
        values["podAnnotations"][PROXY_CONFIG_ANNOTATION] = json.dumps(proxy_config, sort_keys=True)
    return values


def eastwest_values(
    mesh: MeshSpec, network: str, annotations: Mapping[str, str], source_ranges: pulumi.Input[Sequence[str]] | None = None
) -> dict[str, Any]:
    """Values of the ``gateway`` chart for the east-west gateway.

    ``networkGateway`` alone adds the network label, the requested-network-view env and ports
    15021/15443/15012/15017; the chart labels the pods ``istio: eastwestgateway``. With
    ``source_ranges`` its Service's load balancer admits only those CIDRs.
    """
    values = gateway_values(mesh, EASTWEST_GATEWAY, annotations)
    if source_ranges is not None:
        values.setdefault("service", {})["loadBalancerSourceRanges"] = source_ranges
    return {"name": values.pop("name"), "networkGateway": network, **values}


def cross_network_gateway_spec() -> dict[str, Any]:
    """The Istio Gateway that passes mTLS traffic for ``*.local`` through port 15443 untouched."""
    return {
        "selector": {"istio": "eastwestgateway"},
        "servers": [
            {
                "port": {"number": CROSS_NETWORK_PORT, "name": "tls", "protocol": "TLS"},
                "tls": {"mode": "AUTO_PASSTHROUGH"},
                "hosts": ["*.local"],
            }
        ],
    }
