"""The istiod values the program owns: what it writes from the mesh, which ``istiodValues`` may not set.

The values the program derives from the mesh (mesh ID, cluster name, network, revision, the
topology's settings) hold the mesh together: a cluster whose ``clusterName`` differs from the key
of its remote secrets elsewhere is never discovered, and Helm ignores a misplaced key silently.
The builders in ``components.istio.values`` write them and list them beside themselves
(``WRITTEN_ISTIOD_VALUES``); ``tests/test_owned_values.py`` proves that list and what they write
name the same paths.
"""

from __future__ import annotations

from components.istio.facts import CA_FILES_DIR, CA_FILES_VOLUME
from components.istio.values import REMOTE_UNUSED_ISTIOD_VALUES, WRITTEN_ISTIOD_VALUES

__all__ = [
    "MERGED_ISTIOD_LISTS",
    "MERGED_ISTIOD_MAPS",
    "PROGRAM_OWNED_ISTIOD_VALUES",
    "REMOTE_UNUSED_ISTIOD_VALUES",
    "REPLACED_ISTIOD_VALUES",
    "WRITTEN_ISTIOD_VALUES",
]

# Chart features the program replaces with objects of its own, so a value would shape nothing the
# program keeps: the tags' injection webhooks are the program's (``components.mesh.tags``).
REPLACED_ISTIOD_VALUES: dict[tuple[str, ...], str] = {
    ("revisionTags",): "istioRevisions",
    ("sidecarInjectorWebhook", "reinvocationPolicy"): "istioRevisions (each tag's injection webhook)",
    ("sidecarInjectorWebhook", "enableNamespacesByDefault"): "istioRevisions (each tag's injection webhook)",
    ("sidecarInjectorWebhookAnnotations",): "istioRevisions (each tag's injection webhook)",
}
# What ``istiodValues`` may not set, and the config that decides it instead.
PROGRAM_OWNED_ISTIOD_VALUES: dict[tuple[str, ...], str] = {**WRITTEN_ISTIOD_VALUES, **REPLACED_ISTIOD_VALUES}
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
