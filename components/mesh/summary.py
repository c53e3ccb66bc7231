"""The ``mesh`` stack output: what the stack's config asked for, in one readable object."""

from __future__ import annotations

from components.config.istio import installed_gateway_api
from components.config.model import MeshSpec


def mesh_summary(spec: MeshSpec) -> dict[str, object]:
    """Mesh id, topology, data plane (in ambient with its Gateway API release, which a rollback of
    Istio must pin), revision tags and the default revision, networks, and each cluster's cloud,
    region, network and role."""
    return {
        "meshId": spec.mesh_id,
        "topology": spec.topology.value,
        "dataplane": spec.dataplane.value,
        **({"gatewayApiRelease": installed_gateway_api(spec)} if spec.ambient else {}),
        "istioRevisions": dict(spec.revisions),
        "defaultRevision": spec.default_revision,
        "networks": list(spec.networks),
        "clusters": [
            {"name": c.name, "cloud": c.cloud, "region": c.region, "network": c.network, "role": c.role.value} for c in spec.clusters
        ],
    }
