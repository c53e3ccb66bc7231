"""MeshCheck: proves cross-cluster traffic flows, or makes ``pulumi up`` fail.

In every cluster: namespace ``sample`` (injection on), Service ``helloworld`` on port 5000; in the
k-th cluster only, Deployment ``helloworld-v<k>``. Per cluster a Job calls
``helloworld.sample:5000/hello`` until it has seen every cluster's version, within bounded attempts,
then exits 0; otherwise it fails listing what it saw. Pulumi waits for Jobs to complete, so a mesh
whose clusters cannot reach each other fails the deployment instead of looking healthy.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from components.config.model import MeshSpec
from components.mesh.handle import ClusterHandle
from components.mesh.istio import IstioRelease, injection_labels

SAMPLE_NAMESPACE = "sample"
HELLOWORLD_PORT = 5000
# Istio's helloworld sample: one image, the version it reports comes from SERVICE_VERSION.
HELLOWORLD_IMAGE = "docker.io/istio/examples-helloworld-v1:1.0"
CURL_IMAGE = "docker.io/curlimages/curl:8.11.1"
ATTEMPTS = 90
PAUSE_SECONDS = 2


def version_of(index: int) -> str:
    """The helloworld version the ``index``-th cluster (0-based) serves: v1, v2, ..."""
    return f"v{index + 1}"


def probe_script(versions: Sequence[str]) -> str:
    """The Job's shell script: call helloworld until every version answered, at most ATTEMPTS times.

    It ends by asking the sidecar to quit (``/quitquitquit``) so the Job's pod can complete.
    """
    want = " ".join(versions)
    return f"""set -u
want="{want}"; seen=""; attempt=0
url="http://helloworld.{SAMPLE_NAMESPACE}:{HELLOWORLD_PORT}/hello"
quit() {{ curl -fsS -X POST http://localhost:15020/quitquitquit >/dev/null 2>&1 || true; }}
while [ "$attempt" -lt {ATTEMPTS} ]; do
  attempt=$((attempt + 1))
  version=$(curl -sS --max-time 5 "$url" | sed -n 's/.*version: \\(v[0-9]*\\).*/\\1/p')
  case " $seen " in *" $version "*) ;; *) [ -n "$version" ] && seen="$seen $version" ;; esac
  missing=""
  for v in $want; do case " $seen " in *" $v "*) ;; *) missing="$missing $v" ;; esac; done
  if [ -z "$missing" ]; then echo "mesh check passed: saw$seen"; quit; exit 0; fi
  sleep {PAUSE_SECONDS}
done
echo "mesh check failed after {ATTEMPTS} attempts: saw${{seen:- nothing}}; never saw$missing" >&2
quit
exit 1
"""


@dataclass(frozen=True)
class MeshCheckArgs:
    """Inputs of ``MeshCheck``.

    Args:
        mesh: the mesh (cluster order decides the versions; the revision decides injection labels).
        clusters: every cluster's handle, by name.
        releases: every cluster's IstioRelease (sample pods need istiod's injector first).
        linked: what must exist before traffic can cross clusters (the MeshLink).
    """

    mesh: MeshSpec
    clusters: Mapping[str, ClusterHandle]
    releases: Mapping[str, IstioRelease]
    linked: pulumi.Resource


class MeshCheck(pulumi.ComponentResource):
    """Sample workloads and one probing Job per cluster; see the module docstring."""

    def __init__(self, name: str, args: MeshCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("istio-multicluster:mesh:MeshCheck", name, None, opts)
        versions = [version_of(i) for i in range(len(args.mesh.clusters))]
        namespaces: dict[str, k8s.core.v1.Namespace] = {}
        servers: list[pulumi.Resource] = []
        for index, cluster in enumerate(args.mesh.clusters):
            handle = args.clusters[cluster.name]
            on_cluster = pulumi.ResourceOptions(parent=self, provider=handle.provider)
            namespaces[cluster.name] = k8s.core.v1.Namespace(
                f"{name}-{cluster.name}-sample",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=SAMPLE_NAMESPACE, labels=injection_labels(args.mesh)),
                opts=on_cluster,
            )
            namespace = namespaces[cluster.name].metadata.name
            servers.append(self._service(name, cluster.name, namespace, on_cluster))
            after_istiod = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=[args.releases[cluster.name].istiod]))
            servers.append(self._helloworld(name, cluster.name, versions[index], namespace, after_istiod))
        for cluster in args.mesh.clusters:
            handle = args.clusters[cluster.name]
            opts_job = pulumi.ResourceOptions(parent=self, provider=handle.provider, depends_on=[*servers, args.linked])
            self._job(name, cluster.name, namespaces[cluster.name].metadata.name, versions, opts_job)
        self.register_outputs({"versions": versions})

    @staticmethod
    def _service(name: str, cluster: str, namespace: pulumi.Output[str], opts: pulumi.ResourceOptions) -> k8s.core.v1.Service:
        return k8s.core.v1.Service(
            f"{name}-{cluster}-helloworld",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name="helloworld", namespace=namespace, labels={"app": "helloworld", "service": "helloworld"}
            ),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector={"app": "helloworld"},
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=HELLOWORLD_PORT, target_port=HELLOWORLD_PORT)],
            ),
            opts=opts,
        )

    @staticmethod
    def _helloworld(
        name: str, cluster: str, version: str, namespace: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> k8s.apps.v1.Deployment:
        labels = {"app": "helloworld", "version": version}
        return k8s.apps.v1.Deployment(
            f"{name}-{cluster}-helloworld-{version}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"helloworld-{version}", namespace=namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="helloworld",
                                image=HELLOWORLD_IMAGE,
                                env=[k8s.core.v1.EnvVarArgs(name="SERVICE_VERSION", value=version)],
                                ports=[k8s.core.v1.ContainerPortArgs(container_port=HELLOWORLD_PORT)],
                            )
                        ]
                    ),
                ),
            ),
            opts=opts,
        )

    @staticmethod
    def _job(
        name: str, cluster: str, namespace: pulumi.Output[str], versions: Sequence[str], opts: pulumi.ResourceOptions
    ) -> k8s.batch.v1.Job:
        return k8s.batch.v1.Job(
            f"{name}-{cluster}-probe",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="mesh-check", namespace=namespace),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=0,
                active_deadline_seconds=ATTEMPTS * (PAUSE_SECONDS + 5) + 60,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": "mesh-check"}),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        containers=[
                            k8s.core.v1.ContainerArgs(name="probe", image=CURL_IMAGE, command=["/bin/sh", "-c", probe_script(versions)])
                        ],
                    ),
                ),
            ),
            opts=opts,
        )
