"""Istio's facts the program relies on: names, ports, labels and revisions, each stated once.

Everything here is what Istio (its charts and istiod) decides, not a setting of this program:
changing a value here does not change Istio. The mesh layer builds from these; the platforms read
them for their firewall rules; the config layer for its checks.
"""

from __future__ import annotations

from components.config.model import revision_name

ISTIO_CHARTS = "https://istio-release.storage.googleapis.com/charts"
ISTIO_NAMESPACE = "istio-system"
INGRESS_NAMESPACE = "istio-ingress"

# --- ports ---------------------------------------------------------------------------------------
# istiod's xDS and webhook ports: the API server calls the webhooks, a primary's east-west gateway
# passes both through to remotes.
XDS_PORT = 15012
WEBHOOK_PORT = 15017
WEBHOOK_PORTS = (XDS_PORT, WEBHOOK_PORT)
# The gateway's health port, where READY_PATH answers 200 while Envoy is ready to serve.
STATUS_PORT = 15021
READY_PATH = "/healthz/ready"
# The ingress gateway's plain HTTP port: the gateway chart's default Service port ``http2``, 80 to
# target port 80 (manifests/charts/gateway/values.yaml); the chart lets the pod bind it unprivileged.
INGRESS_HTTP_PORT = 80
# The sidecar mode's east-west port: the gateway chart's Service port ``tls`` when the release sets
# ``networkGateway`` (manifests/charts/gateway/values.yaml and templates/service.yaml), and the
# port istiod sends cross-network mTLS to unless the Service is labelled
# ``networking.istio.io/gatewayPort`` (pilot/pkg/serviceregistry/kube/controller/network.go,
# DefaultNetworkGatewayPort). The chart decides it; this names it.
CROSS_NETWORK_PORT = 15443
# The ports of the east-west gateway's Service, by the chart's names for them (``networkGateway``).
EASTWEST_SERVICE_PORTS = {"status-port": STATUS_PORT, "tls": CROSS_NETWORK_PORT, "tls-istiod": XDS_PORT, "tls-webhook": WEBHOOK_PORT}
# HBONE (mTLS tunnels of ambient mode): ztunnel's and the ambient east-west Gateway's only data port
# (DefaultNetworkGatewayHBONEPort).
HBONE_PORT = 15008

# --- names ---------------------------------------------------------------------------------------
EASTWEST_GATEWAY = "istio-eastwestgateway"
CROSS_NETWORK_GATEWAY = "cross-network-gateway"
ISTIOD_GATEWAY = "istiod-gateway"
INGRESS_GATEWAY = "istio-ingressgateway"
# The gateway chart labels its pods istio: <its name without "istio-"> (the selector Gateways use).
INGRESS_SELECTOR = {"istio": INGRESS_GATEWAY.removeprefix("istio-")}
# A CA delivered as files: the SecretProviderClass, istiod's volume for it and where it is mounted.
CA_FILES_CLASS = "istio-cacerts"
CSI_DRIVER = "secrets-store.csi.k8s.io"
CA_FILES_VOLUME = "cacerts-files"
CA_FILES_DIR = "/etc/cacerts-files"
# The four keys of the ``cacerts`` Secret (and files of a CA delivered as files); istiod refuses to
# start on a partial set (Istio >= 1.27).
CA_CERT = "ca-cert.pem"
CA_KEY = "ca-key.pem"
ROOT_CERT = "root-cert.pem"
CERT_CHAIN = "cert-chain.pem"
CA_FILES = (CA_CERT, CA_KEY, ROOT_CERT, CERT_CHAIN)

# --- labels and annotations ------------------------------------------------------------------------
NETWORK_LABEL = "topology.istio.io/network"
CONTROL_PLANE_ANNOTATION = "topology.istio.io/controlPlaneClusters"
TAG_LABEL = "istio.io/tag"
REV_LABEL = "istio.io/rev"
INJECTION_LABEL = "istio-injection"
INJECT_LABEL = "sidecar.istio.io/inject"
DATAPLANE_MODE_LABEL = "istio.io/dataplane-mode"
GLOBAL_SERVICE_LABEL = "istio.io/global"
# The program's own pod annotation naming the revision a tag points at (pods restart when it moves).
REVISION_ANNOTATION = "istio-multicluster/revision"
# A pod's own proxy config (ProxyConfig as YAML or JSON), merged over meshConfig.defaultConfig at injection.
PROXY_CONFIG_ANNOTATION = "proxy.istio.io/config"


def istiod_service(version: str) -> str:
    """istiod's Service (and service account) of one release's revision."""
    return f"istiod-{revision_name(version)}"
