"""The istiod values the program owns: what it writes from the mesh, which ``istiodValues`` may not set.

The values the program derives from the mesh (mesh ID, cluster name, network, revision, the
topology's settings) hold the mesh together: a cluster whose ``clusterName`` differs from the key
of its remote secrets elsewhere is never discovered, and Helm ignores a misplaced key silently.
The builders in ``components.istio.values`` write them; ``tests/test_owned_values.py`` proves the
list below and the builders name the same paths.
"""

from __future__ import annotations

from components.istio.facts import CA_FILES_DIR, CA_FILES_VOLUME

# Every istiod value path the program sets, and the config that decides it.
PROGRAM_OWNED_ISTIOD_VALUES: dict[tuple[str, ...], str] = {
    ("global", "meshID"): "meshId",
    ("global", "multiCluster", "clusterName"): "the cluster's name",
    ("global", "network"): "the cluster's network",
    ("revision",): "istioRevisions",
    ("revisionTags",): "istioRevisions",
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
    # The chart would shape its tag webhooks with these; the tags are the program's own objects.
    ("sidecarInjectorWebhook", "reinvocationPolicy"): "istioRevisions (each tag's injection webhook)",
    ("sidecarInjectorWebhook", "enableNamespacesByDefault"): "istioRevisions (each tag's injection webhook)",
    ("sidecarInjectorWebhookAnnotations",): "istioRevisions (each tag's injection webhook)",
}
# istiod values a remote has no use for: it runs no istiod (the chart's remote profile,
# manifests/helm-profiles/remote.yaml, sets configMap: false), and its proxies take these from their
# primary's istiod. The program drops them from a remote's values (``remote_istiod_values``), so a
# remote's own istiodValues may not set them; the value names what they are.
REMOTE_UNUSED_ISTIOD_VALUES: dict[str, str] = {"meshConfig": "mesh config"}
# Lists the program appends its own entries to (``components.istio.values.with_ca_files``), with the
# fields of an entry whose value is the program's: a CA delivered as files (``caDelivery``) is a
# volume of this name, mounted at this path.
_CA_FILES_VOLUME_NAME = (CA_FILES_VOLUME, "the name of the program's volume of CA files (caDelivery)")
MERGED_ISTIOD_LISTS: dict[str, dict[str, tuple[str, str]]] = {
    "volumes": {"name": _CA_FILES_VOLUME_NAME},
    "volumeMounts": {"name": _CA_FILES_VOLUME_NAME, "mountPath": (CA_FILES_DIR, "where the program mounts the CA files (caDelivery)")},
}
# Objects of text the program adds entries to (a platform's identity for istiod, e.g. Azure workload
# identity's pod label and service-account annotation); the platform owns those keys.
MERGED_ISTIOD_MAPS = ("podLabels", "serviceAccountAnnotations")
