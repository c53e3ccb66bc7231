"""The ambient data plane on one cluster: Gateway API CRDs, istio-cni, ztunnel and the HBONE east-west Gateway.

In ambient mode no pod has a sidecar: istio-cni redirects the traffic of pods in ambient
namespaces to the ztunnel on their node, which carries it as HBONE (mTLS on port 15008). Across
networks (istio.io, "Install ambient multi-primary on different networks"): istiod runs the
``ambient`` profile with ``AMBIENT_ENABLE_MULTI_NETWORK``, which also turns on the
``istio-east-west`` GatewayClass (pilot/pkg/config/kube/gatewaycommon/classinfo.go); ztunnel knows
its cluster and network; the east-west gateway is a Gateway API ``Gateway`` of that class with one
HBONE listener (Istio's samples/multicluster/gen-eastwest-gateway.sh --ambient), for which istiod
deploys the gateway and its LoadBalancer Service. Istio's charts do not ship the Gateway API CRDs:
their standard channel goes first, of the release the newest installed Istio is built against unless
``gatewayApiRelease`` pins one (the CRDs only move forward).

The value trees are pure functions so tests pin them exactly (Helm ignores unknown keys).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import yaml

from components.config.model import MeshSpec
from components.istio.facts import DATAPLANE_MODE_LABEL, HBONE_PORT

GATEWAY_API_URL = "https://github.com/kubernetes-sigs/gateway-api/releases/download/{release}/standard-install.yaml"
EASTWEST_CLASS = "istio-east-west"
# Not istio-eastwestgateway, the sidecar-mode release's Service and Deployment: istiod names what it
# deploys for this class after the Gateway itself (DisableNameSuffix), and when a mesh switches to
# ambient Pulumi deletes the old release last, whose uninstall would delete a Service of that name.
AMBIENT_EASTWEST = "istio-eastwest"
EASTWEST_OPTIONS = "istio-eastwest-options"
# pulumi-kubernetes waits for this condition (provider/pkg/metadata/overrides.go); istiod sets a
# Gateway Programmed once its Service has a load-balancer address.
WAIT_FOR = {"pulumi.com/waitFor": "condition=Programmed"}


def gateway_api_crds_url(release: str) -> str:
    """The standard-channel CRDs of a Gateway API release (the mesh's: ``installed_gateway_api``)."""
    return GATEWAY_API_URL.format(release=release)


# istiod's ambient switches (pilot/pkg/features/ambient.go), each off by default. Multi-network is
# the mesh across networks itself; ingress lets an ingress gateway send to other networks' endpoints
# (as it does in sidecar mode; ambient keeps it local otherwise); baggage lets waypoints carry their
# peers' metadata so cross-network requests keep their source labels in metrics (Istio's multi-network
# ambient install sets it).
AMBIENT_MULTI_NETWORK_ENV = {
    "AMBIENT_ENABLE_MULTI_NETWORK": "true",
    "AMBIENT_ENABLE_MULTI_NETWORK_INGRESS": "true",
    "AMBIENT_ENABLE_BAGGAGE": "true",
}


def ambient_istiod_values() -> dict[str, Any]:
    """What the ambient data plane adds to every istiod's values."""
    return {"profile": "ambient", "env": dict(AMBIENT_MULTI_NETWORK_ENV)}


def cni_values() -> dict[str, Any]:
    """Values of the ``cni`` chart: the node agent that redirects ambient pods' traffic to ztunnel."""
    return {"profile": "ambient"}


def ztunnel_values(mesh: MeshSpec, cluster: str, network: str) -> dict[str, Any]:
    """Values of the ``ztunnel`` chart. ``clusterName`` and ``network`` must equal istiod's (ztunnel
    tells its peers where it runs by them); ``revision`` makes it take certificates and config from
    the ``default`` tag's istiod (``istiod-<revision>``: no revision has a plain ``istiod`` Service)."""
    return {"multiCluster": {"clusterName": cluster}, "network": network, "revision": mesh.default_revision}


# The Gateway API's limit on spec.infrastructure.annotations (apis/v1/gateway_types.go).
MAX_INFRASTRUCTURE_ANNOTATIONS = 8


def eastwest_gateway_spec(annotations: Mapping[str, pulumi.Input[str]], with_options: bool) -> dict[str, Any]:
    """The east-west Gateway: class ``istio-east-west``, listener ``mesh`` (HBONE on 15008,
    terminated with Istio mTLS). ``annotations`` go on what istiod deploys for it, the Service
    (they pick the cloud load balancer) and the pod template (istiod's kube-gateway.yaml template)
    included; the Gateway API takes at most 8 (``GatewayInfrastructure.annotations``,
    MaxProperties=8). ``with_options`` points it at the ConfigMap with the Service's source ranges
    (``eastwest_options``)."""
    assert len(annotations) <= MAX_INFRASTRUCTURE_ANNOTATIONS, sorted(annotations)
    spec: dict[str, Any] = {
        "gatewayClassName": EASTWEST_CLASS,
        "listeners": [
            {
                "name": "mesh",
                "port": HBONE_PORT,
                "protocol": "HBONE",
                "tls": {"mode": "Terminate", "options": {"gateway.istio.io/tls-terminate-mode": "ISTIO_MUTUAL"}},
            }
        ],
    }
    infrastructure: dict[str, Any] = {}
    if annotations:
        infrastructure["annotations"] = dict(annotations)
    if with_options:
        infrastructure["parametersRef"] = {"group": "", "kind": "ConfigMap", "name": EASTWEST_OPTIONS}
    if infrastructure:
        spec["infrastructure"] = infrastructure
    return spec


def eastwest_options(source_ranges: pulumi.Input[Sequence[str]]) -> pulumi.Output[dict[str, str]]:
    """The ConfigMap data istiod overlays on the Service it deploys for the Gateway (its ``service``
    key; pilot/pkg/config/kube/gatewaycommon/deploymentcontroller.go): the load balancer admits
    only ``source_ranges``."""
    return pulumi.Output.from_input(source_ranges).apply(
        lambda ranges: {"service": yaml.safe_dump({"spec": {"loadBalancerSourceRanges": list(ranges)}}, sort_keys=True)}
    )


def sample_namespace_labels() -> dict[str, str]:
    """An ambient namespace: its pods join the mesh through ztunnel."""
    return {DATAPLANE_MODE_LABEL: "ambient"}
