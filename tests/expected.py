"""What upstream renders, written down once for the tests that compare the program's objects to it."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

from components.istio.values import CA_BUNDLE_ANNOTATION, CA_CHAIN_ANNOTATION
from tests.harness.program import StackRun

# A canary upgrade in progress: two adjacent minors, the default tag on the older.
CANARY = {"default": "1.30.3", "canary": "1.31.0"}


def selectors(*expressions: tuple[str, str, list[str] | None]) -> dict[str, Any]:
    return {"matchExpressions": [{"key": k, "operator": o, **({"values": v} if v else {})} for k, o, v in expressions]}


def injector(name: str, client: dict[str, Any], namespaces: dict[str, Any], objects: dict[str, Any]) -> dict[str, Any]:
    return {
        "name": f"{name}sidecar-injector.istio.io",
        "clientConfig": client,
        "sideEffects": "None",
        "rules": [{"operations": ["CREATE"], "apiGroups": [""], "apiVersions": ["v1"], "resources": ["pods"]}],
        "failurePolicy": "Fail",
        "reinvocationPolicy": "Never",
        "admissionReviewVersions": ["v1"],
        "namespaceSelector": namespaces,
        "objectSelector": objects,
    }


def tag_webhooks(tag: str, client: dict[str, Any]) -> list[dict[str, Any]]:
    """What the istiod chart's revision-tags-mwc.yaml renders for ``tag``."""
    opted_in = ("sidecar.istio.io/inject", "NotIn", ["false"])
    webhooks = [
        injector(
            "rev.namespace.",
            client,
            selectors(("istio.io/rev", "In", [tag]), ("istio-injection", "DoesNotExist", None)),
            selectors(opted_in),
        ),
        injector(
            "rev.object.",
            client,
            selectors(("istio.io/rev", "DoesNotExist", None), ("istio-injection", "DoesNotExist", None)),
            selectors(opted_in, ("istio.io/rev", "In", [tag])),
        ),
    ]
    if tag == "default":
        webhooks += [
            injector("namespace.", client, selectors(("istio-injection", "In", ["enabled"])), selectors(opted_in)),
            injector(
                "object.",
                client,
                selectors(("istio-injection", "DoesNotExist", None), ("istio.io/rev", "DoesNotExist", None)),
                selectors(("sidecar.istio.io/inject", "In", ["true"]), ("istio.io/rev", "DoesNotExist", None)),
            ),
        ]
    return webhooks


def service_client(revision: str, path: str = "/inject") -> dict[str, Any]:
    return {"service": {"name": f"istiod-{revision}", "namespace": "istio-system", "path": path, "port": 443}}


def istiod_identity(cluster: str, network: str, *, revision: str = "1-30-3", mesh_id: str = "mesh1", **more_global: Any) -> dict[str, Any]:
    """What every istiod's values hold: the mesh, the cluster, its network (and ``more_global``
    under ``global``) and the revision. Tests add the rest of the tree they expect."""
    return {
        "global": {"meshID": mesh_id, "multiCluster": {"clusterName": cluster}, "network": network, **more_global},
        "revision": revision,
    }


AKS_EGRESS = "20.123.159.75/32"  # the AKS cluster's outbound public IP


EKS_EGRESS = "52.43.46.119/32"  # the EKS VPC's NAT Elastic IP


NLB_INTERNET_FACING = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "external",
    "service.beta.kubernetes.io/aws-load-balancer-nlb-target-type": "ip",
    "service.beta.kubernetes.io/aws-load-balancer-scheme": "internet-facing",
}


def istiod_values_from_vault(run: StackRun, cluster: str, network: str = "network1") -> dict[str, Any]:
    """The exact istiod values of a cluster whose CA the CSI driver mounts from Key Vault."""
    client = run.named(f"{cluster}-istiod-vault-identity").outputs["clientId"]
    return {
        **istiod_identity(cluster, network),
        **ca_bundle_annotation(run),
        "meshConfig": {"accessLogFile": "/dev/stdout"},
        "volumes": [
            {
                "name": "cacerts-files",
                "csi": {
                    "driver": "secrets-store.csi.k8s.io",
                    "readOnly": True,
                    "volumeAttributes": {"secretProviderClass": "istio-cacerts"},
                },
            }
        ],
        "volumeMounts": [{"name": "cacerts-files", "mountPath": "/etc/cacerts-files", "readOnly": True}],
        "env": {"ROOT_CA_DIR": "/etc/cacerts-files"},
        "podLabels": {"azure.workload.identity/use": "true"},
        "serviceAccountAnnotations": {"azure.workload.identity/client-id": client},
    }


def ca_bundle_annotation(run: StackRun, roots: tuple[str, ...] = ("root",)) -> dict[str, Any]:
    """The istiod values that carry the digest of the run's bundle of mesh roots (``roots``, in
    bundle order), which restart istiod when the bundle changes."""
    certs = [run.named("mesh-ca-root-cert" if root == "root" else f"mesh-ca-root-{root}-cert").outputs["certPem"] for root in roots]
    digest = hashlib.sha256("".join(certs).encode()).hexdigest()
    return {"podAnnotations": {CA_BUNDLE_ANNOTATION: digest}}


def root_pem(run: StackRun, root: str = "root") -> str:
    return str(run.named("mesh-ca-root-cert" if root == "root" else f"mesh-ca-root-{root}-cert").outputs["certPem"])


def gateway_ca_annotations(run: StackRun, issuer: str, roots: tuple[str, ...] = ("root",), signer: str = "root") -> dict[str, str]:
    """The pod annotations of a gateway whose certificates ``issuer``'s istiod signs: the digests of
    the bundle of ``roots`` and of the chain, issuer's intermediate then ``signer``'s certificate."""
    bundle = "".join(root_pem(run, root) for root in roots)
    chain = str(run.named(f"mesh-ca-{issuer}-cert").outputs["certPem"]) + root_pem(run, signer)
    return {
        CA_BUNDLE_ANNOTATION: hashlib.sha256(bundle.encode()).hexdigest(),
        CA_CHAIN_ANNOTATION: hashlib.sha256(chain.encode()).hexdigest(),
    }


def cluster_of(name: str, clusters: Sequence[str]) -> str:
    """The cluster a Kubernetes object of the program is on, from its resource name: a remote
    secret's holder (after ``-in-``), else the cluster its name starts with, before a check
    Service's ``-helloworld-only-<owner>`` (longest names first: kind-1 is in kind-10)."""
    if "-in-" in name:
        return name.rsplit("-in-", 1)[1]
    head = name.split("-helloworld-only-", maxsplit=1)[0]
    return next(c for c in sorted(clusters, key=len, reverse=True) if c in head)


def cacerts(run: StackRun, cluster: str) -> dict[str, str]:
    """The four files of a cluster's ``cacerts`` Secret, as the program wrote them."""
    return dict(run.named(f"{cluster}-istio-cacerts").inputs["stringData"])
