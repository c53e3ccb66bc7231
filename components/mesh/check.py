"""MeshCheck: proves cross-cluster traffic flows, or makes ``pulumi up`` fail with the reason.

For each revision tag, in every cluster: a namespace injected by that tag (``sample`` for
``default``, ``sample-<tag>`` for the others), Service ``helloworld`` on port 5000 in it and
Deployment ``helloworld-<cluster>``, which answers with its cluster's name as its version (so
adding, removing or reordering clusters leaves the others' workloads alone). Per cluster and tag
a Job calls the tag's ``helloworld`` until every cluster has answered, then exits 0. So while a
canary runs, proxies of both revisions prove they reach every cluster. The helloworld pods name
their tag's revision in an annotation, so they restart onto the new revision when the tag moves.

The ``default`` set's probes then prove the seeds' paths: every cluster holds, per cluster, a
Service ``helloworld-<cluster>`` that selects that cluster's pods alone, so each probe must reach
every other cluster's own Service across the mesh (east-west); and with ``ingressGateway`` a
Gateway and VirtualService route Host ``INGRESS_HOST`` through each ingress gateway to helloworld,
which each probe calls at every cluster's ingress (north-south): the gateway's load-balancer
address, or where the platform puts an edge in front (an ALB on EKS with ``ingressEdge``) the edge
over HTTPS. One request per round, in the same budget; a failure names the paths that never
answered. The paths reach the probe in a ConfigMap it mounts, not in its script: the ingress
addresses are read after the gateways and are unknown in a preview that changes them, and a Job
whose template held them would show as replaced in every such preview.

When it runs: the Job's replacement trigger is a digest of everything it proves (the clusters,
their networks and roles, the release each tag points at, the mesh CA, every remote secret, how
each ingress is reached), so it
runs on the first ``pulumi up`` and again on any update that changes one of those; a Job that
completed is otherwise left alone.

When it fails: the probe gives up after ``CHECK_SECONDS`` and exits 1 with one line, ``mesh check
failed in <cluster> after <n>s: saw <clusters>; never saw <clusters>``, which becomes the
container's termination message; pulumi-kubernetes reports a failed Job's pod
messages. The Job's deadline and Pulumi's wait for it are longer than the probe, so that line is
what the user sees, not a timeout. ``pulumi.com/replaceUnready`` replaces a failed Job on the next
update, so once the mesh is fixed ``pulumi up`` checks again instead of staying blocked on it.

In ambient (``dataplane: ambient``) there are no sidecars and one data plane per cluster (ztunnel,
following the ``default`` tag), so the check runs once per cluster, in ``sample`` labelled
``istio.io/dataplane-mode: ambient``, with helloworld's Service labelled ``istio.io/global: "true"``
(ambient shares a Service across clusters only then), and the probe needs no sidecar handling.
Where the sidecar east-west gateway runs beside the HBONE one (``ambientSidecarGateway``), a
second set proves that workloads still on sidecars reach every cluster too: namespace
``sample-sidecar``, injected by the ``default`` tag, its Service labelled global as well (with
ambient's multi-network switch on, istiod hands sidecars other clusters' endpoints only of global
Services, istio/istio#61713), and probes that say ``mesh check of sidecars``.

The pods are hardened (non-root, read-only root filesystem, no privilege escalation, no
capabilities, the runtime's seccomp profile, requests and limits). Both use Istio's helloworld
sample image, which carries curl.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol, cast

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.mesh_names import ProbeSet, probe_sets
from components.config.model import DEFAULT_TAG, ClusterSpec, MeshSpec, Role, revision_name
from components.istio import ambient
from components.istio.facts import GLOBAL_SERVICE_LABEL, INGRESS_HTTP_PORT, INGRESS_SELECTOR, READY_PATH, REVISION_ANNOTATION, STATUS_PORT
from components.istio.values import injection_labels
from components.mesh.gateways import IstioGateways
from components.mesh.istio import IstioControlPlane, istio_config
from components.mesh.link import MeshLink, digest
from components.mesh.summary import mesh_summary

HELLOWORLD_PORT = 5000
# The Host the check's ingress route answers: a reserved name (RFC 2606 .invalid) that only the
# probe's Host header carries, so the route can never catch anyone's traffic.
INGRESS_HOST = "helloworld.mesh-check.invalid"
# A Service's name is a DNS-1035 label: at most 63 characters.
SERVICE_NAME_MAX = 63
JOB_NAME = "mesh-check"
# The probe's own budgets (its sidecar getting ready, then the check), then the pod's: scheduling
# and image pull fit in POD_START_SECONDS, so the Job's deadline never cuts the probe's message
# short, and Pulumi's wait (10 minutes unless told) outlasts the deadline, so a failure never
# shows as a bare timeout.
SIDECAR_SECONDS = 60
CHECK_SECONDS = 240
PAUSE_SECONDS = 2
REQUEST_SECONDS = 5
POD_START_SECONDS = 90
JOB_DEADLINE_SECONDS = SIDECAR_SECONDS + CHECK_SECONDS + REQUEST_SECONDS + POD_START_SECONDS
JOB_WAIT_SECONDS = JOB_DEADLINE_SECONDS + 60
NOBODY = 65534
# The probe starts beside its sidecar and waits for it itself, so that a sidecar that never gets
# ready (no certificate from istiod, say) still ends in the probe's own line. A native sidecar
# (an init container, Istio's default where Kubernetes has them), like holdApplicationUntilProxyStarts,
# would keep the probe from starting at all, and the Job would end on its deadline with no word of
# which cluster failed; the annotation asks for the classic sidecar, which the probe then ends.
CLASSIC_SIDECAR = {"sidecar.istio.io/nativeSidecar": "false"}
SIDECAR_READY_URL = f"http://localhost:{STATUS_PORT}{READY_PATH}"
# Where the default set's probes read their paths: its ConfigMap, mounted read-only.
PATHS_DIR = "/etc/mesh-check"
PATHS_KEY = "paths"
PATHS_ENV = "PATHS_FILE"
PATHS_VOLUME = "paths"


DEFAULT_PROBES = ProbeSet(DEFAULT_TAG, DEFAULT_TAG, sidecar=True)


def check_title(probes: ProbeSet) -> str:
    """What the probe's lines call the check: ``mesh check``, ``mesh check of tag canary`` or, for
    the sidecar workloads of an ambient mesh, ``mesh check of sidecars``."""
    if probes.key == DEFAULT_TAG:
        return "mesh check"
    return "mesh check of sidecars" if probes.key != probes.tag else f"mesh check of tag {probes.tag}"


@dataclass(frozen=True)
class ProbePath:
    """A way the probe must also get an answer, once every cluster answered through the shared Service.

    Args:
        label: what its failure line calls it, e.g. ``east-west to kind-2 (helloworld-kind-2, pods
            only in kind-2)``.
        url: what it calls.
        host: the Host header it sends (default none: the URL's).
        version: the cluster that must answer (default none: any cluster).
    """

    label: str
    url: str
    host: str = ""
    version: str = ""

    def line(self) -> str:
        """The path as the paths file holds it: fields joined by ``|`` (none holds it or a newline)."""
        assert not any(c in part for c in "|\n" for part in (self.label, self.url, self.host, self.version)), self
        return "|".join((self.label, self.url, self.host, self.version))


def paths_file(paths: Sequence[ProbePath]) -> str:
    """What the probe reads from ``$PATHS_FILE``: a path per line."""
    return "\n".join(path.line() for path in paths)


def probe_script(cluster: str, clusters: Sequence[str], probes: ProbeSet = DEFAULT_PROBES) -> str:
    """The Job's shell script on ``cluster``: call helloworld in the set's sample namespace until
    every cluster in ``clusters`` (in any order) answered (each serves its own name as helloworld's
    version), then each path of the file ``$PATHS_FILE`` (``paths_file``; none where it is unset)
    in turn until each answered, one request per round, for at most ``CHECK_SECONDS`` in all. A
    failure names what never answered: the clusters, else the paths. An HTTPS path is asked without
    verifying the certificate: an edge's names the users' domain, not the edge's own host name, and
    the path proves reach, not the certificate.

    With sidecars (``probes.sidecar``) it first waits up to ``SIDECAR_SECONDS`` for the sidecar to
    be ready (failing with its own line if it never is) and ends by asking it to quit
    (``/quitquitquit``) so the Job's pod can complete; an ambient pod has none.
    """
    # Sorted, like everything the Job's spec and trigger hold: reordering clusters in the config
    # changes nothing the check proves, so it must not replace the Job.
    want = " ".join(sorted(clusters))
    check, sidecar = check_title(probes), probes.sidecar
    quit_sidecar = "curl -fsS -X POST http://localhost:15020/quitquitquit >/dev/null 2>&1 || true" if sidecar else ":"
    wait_for_sidecar = (
        f"""until curl -fsS --max-time 2 {SIDECAR_READY_URL} >/dev/null 2>&1; do
  waited=$(( $(date +%s) - start ))
  if [ "$waited" -ge {SIDECAR_SECONDS} ]; then
    echo "{check} failed in {cluster} after ${{waited}}s: its sidecar never became ready (is istiod on {cluster} running and \
issuing certificates?); never saw $want" >&2
    quit; exit 1
  fi
  sleep {PAUSE_SECONDS}
done
start=$(date +%s)
"""
        if sidecar
        else ""
    )
    return f"""set -u
want="{want}"; seen=""; missing="$want"
url="http://helloworld.{probes.namespace}:{HELLOWORLD_PORT}/hello"
paths=$(cat "${{{PATHS_ENV}:-/dev/null}}"); pending="$paths"; names=""
while IFS= read -r path; do [ -n "$path" ] && names="${{names:+$names, }}${{path%% (*}}"; done <<EOF
$paths
EOF
quit() {{ {quit_sidecar}; }}
ask() {{
  if [ -n "$2" ]; then set -- "$1" -H "Host: $2"; else set -- "$1"; fi
  case "$1" in https:*) set -- "$@" --insecure ;; esac
  curl -sS --max-time {REQUEST_SECONDS} "$@" 2>/dev/null | sed -n 's/.*version: \\([a-z0-9-]*\\),.*/\\1/p'
}}
start=$(date +%s)
{wait_for_sidecar}while :; do
  if [ -n "$missing" ]; then
    version=$(ask "$url" "")
    case " $seen " in *" $version "*) ;; *) [ -n "$version" ] && seen="$seen $version" ;; esac
    missing=""
    for v in $want; do case " $seen " in *" $v "*) ;; *) missing="$missing $v" ;; esac; done
  elif [ -n "$pending" ]; then
    path=$(printf '%s\\n' "$pending" | sed -n 1p); rest=$(printf '%s\\n' "$pending" | sed 1d)
    fields=${{path#*|}}; target=${{fields%%|*}}; fields=${{fields#*|}}; host=${{fields%%|*}}; expected=${{fields#*|}}
    version=$(ask "$target" "$host")
    if [ -n "$version" ] && {{ [ -z "$expected" ] || [ "$version" = "$expected" ]; }}; then pending="$rest"
    elif [ -n "$rest" ]; then pending="$rest
$path"
    fi
  fi
  elapsed=$(( $(date +%s) - start ))
  if [ -z "$missing" ] && [ -z "$pending" ]; then
    echo "{check} passed in {cluster} after ${{elapsed}}s: saw$seen${{names:+ and every path ($names)}}"; quit; exit 0
  fi
  [ "$elapsed" -ge {CHECK_SECONDS} ] && break
  sleep {PAUSE_SECONDS}
done
if [ -n "$missing" ]; then
  echo "{check} failed in {cluster} after ${{elapsed}}s: saw${{seen:- nothing}}; never saw$missing" >&2
else
  never=""
  while IFS= read -r path; do
    case "
$pending
" in *"
$path
"*) never="${{never:+$never; }}${{path%%|*}}" ;; esac
  done <<EOF
$paths
EOF
  echo "{check} failed in {cluster} after ${{elapsed}}s: saw$seen; nothing answered on: $never" >&2
fi
quit
exit 1
"""


def solo_service_name(cluster: str) -> str:
    """The Service that selects only ``cluster``'s helloworld: ``helloworld-<cluster>``, or, where
    that would pass 63 characters, ``helloworld--`` with the cluster's name cut and a digest of it.
    A cluster's name is a DNS label, which starts with a letter or digit, so no cluster's plain name
    takes the double hyphen: another cluster cannot be named into a cut one's Service."""
    name = f"helloworld-{cluster}"
    return name if len(name) <= SERVICE_NAME_MAX else f"helloworld--{cluster[:42].rstrip('-')}-{digest(cluster)[:8]}"


def east_west_path(owner: str, namespace: str) -> ProbePath:
    """``owner``'s own Service, whose pods run nowhere else."""
    service = solo_service_name(owner)
    label = f"east-west to {owner} ({service}, pods only in {owner})"
    return ProbePath(label, f"http://{service}.{namespace}:{HELLOWORLD_PORT}/hello", version=owner)


def ingress_path(owner: str, url: str) -> ProbePath:
    """``owner``'s ingress at ``url`` (its gateway's or its edge's), asked for ``INGRESS_HOST``; any cluster may answer."""
    return ProbePath(f"ingress of {owner} ({url}, Host {INGRESS_HOST})", f"{url}/hello", INGRESS_HOST)


def ingress_gateway_spec() -> dict[str, object]:
    """The check's Gateway: HTTP on the ingress gateway's port 80 for ``INGRESS_HOST`` only."""
    server = {"port": {"number": INGRESS_HTTP_PORT, "name": "http", "protocol": "HTTP"}, "hosts": [INGRESS_HOST]}
    return {"selector": INGRESS_SELECTOR, "servers": [server]}


def ingress_route_spec(namespace: str) -> dict[str, object]:
    """The check's VirtualService: ``INGRESS_HOST`` through its Gateway to helloworld in ``namespace``."""
    destination = {"host": f"helloworld.{namespace}.svc.cluster.local", "port": {"number": HELLOWORLD_PORT}}
    return {"hosts": [INGRESS_HOST], "gateways": [JOB_NAME], "http": [{"route": [{"destination": destination}]}]}


def proven_summary(mesh: MeshSpec) -> dict[str, object]:
    """The ``mesh`` output's summary with its clusters and networks sorted by name: what the check
    proves does not depend on the order the config lists the clusters in."""
    summary = mesh_summary(mesh)
    clusters = cast(list[dict[str, str]], summary["clusters"])
    return {**summary, "networks": sorted(mesh.networks), "clusters": sorted(clusters, key=lambda c: c["name"])}


def hardened() -> k8s.core.v1.SecurityContextArgs:
    """A container that runs as nobody, cannot gain privileges and cannot write its image."""
    return k8s.core.v1.SecurityContextArgs(
        run_as_non_root=True,
        run_as_user=NOBODY,
        run_as_group=NOBODY,
        read_only_root_filesystem=True,
        allow_privilege_escalation=False,
        capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
        seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
    )


def resources(cpu: str, memory: str, cpu_limit: str, memory_limit: str) -> k8s.core.v1.ResourceRequirementsArgs:
    return k8s.core.v1.ResourceRequirementsArgs(requests={"cpu": cpu, "memory": memory}, limits={"cpu": cpu_limit, "memory": memory_limit})


class IssuedCerts(Protocol):
    @property
    def ca_cert(self) -> pulumi.Output[str]: ...


class CheckedCA(Protocol):
    """What the check proves of the mesh CA: ``MeshCA``, or a fleet member's copy of its outputs."""

    @property
    def root_cert_pem(self) -> pulumi.Output[str]: ...

    @property
    def clusters(self) -> Mapping[str, IssuedCerts]: ...


@dataclass(frozen=True)
class MeshCheckArgs:
    """Inputs of ``MeshCheck``.

    Args:
        mesh: the mesh (its clusters answer; its tags decide the namespaces and injection labels).
        clusters: the handle of each cluster this stack checks from, by name: every cluster of the
            mesh, or a fleet member's own.
        releases: each of those clusters' IstioControlPlane (sample pods need istiod's injector first).
        gateways: each of those clusters' IstioGateways (traffic to another network crosses its east-west gateway).
        link: the remote secrets; traffic crosses clusters only once they exist.
        ca: the mesh CA (every cluster's intermediate), part of what the check proves.
        image: the helloworld image (it carries curl, so the probe uses it too).
        targets: for each of ``clusters``, the clusters its probe must reach (default none: every
            cluster of the mesh); a fleet member reaches those whose workloads run and whose
            endpoints its istiod knows by then.
        peer_ingress: the ingress URL of each cluster built by another stack (default none).
    """

    mesh: MeshSpec
    clusters: Mapping[str, ClusterHandle]
    releases: Mapping[str, IstioControlPlane]
    gateways: Mapping[str, IstioGateways]
    link: MeshLink
    ca: CheckedCA
    image: str
    targets: Mapping[str, Sequence[str]] | None = None
    peer_ingress: Mapping[str, str] = field(default_factory=dict)

    @property
    def checked(self) -> list[ClusterSpec]:
        """The clusters this stack checks from, in config order."""
        return [c for c in self.mesh.clusters if c.name in self.clusters]

    def reached(self, cluster: str) -> list[str]:
        """The clusters ``cluster``'s probe must reach, in config order."""
        wanted = self.targets[cluster] if self.targets is not None else None
        return [c.name for c in self.mesh.clusters if wanted is None or c.name in wanted]


class MeshCheck(pulumi.ComponentResource):
    """Sample workloads and one probing Job per cluster; see the module docstring.

    Output ``proves``: the digest of what the check proves (a secret); the Jobs run again when it changes.
    """

    proves: pulumi.Output[str]

    def __init__(self, name: str, args: MeshCheckArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.CHECK.type, name, None, opts)
        self.proves = self._proves(args)
        sets = probe_sets(args.mesh)
        for probes in sets:
            self._check(name, args, probes)
        self.register_outputs({"probes": [probes.key for probes in sets]})

    def _check(self, name: str, args: MeshCheckArgs, probes: ProbeSet) -> None:
        """Sample workloads in the set's namespace on every cluster, then a probe in each: every
        revision (and in ambient, each data plane) the mesh runs proves that its pods reach every cluster."""
        mesh = args.mesh
        labels = injection_labels(probes.tag) if probes.sidecar else ambient.sample_namespace_labels()
        namespaces: dict[str, pulumi.Output[str]] = {}
        # Traffic to another network crosses its east-west gateway: the probes wait for all of them.
        servers: list[pulumi.Resource] = [g for gateways in args.gateways.values() for g in gateways.eastwest]
        for cluster in args.checked:
            prefix = probes.prefix(name, cluster.name)
            on_cluster = pulumi.ResourceOptions(parent=self, provider=args.clusters[cluster.name].provider)
            namespace = k8s.core.v1.Namespace(
                names.CHECK_NAMESPACE.name(check=name, cluster=cluster.name, namespace=probes.namespace),
                metadata=k8s.meta.v1.ObjectMetaArgs(name=probes.namespace, labels=labels),
                opts=on_cluster,
            )
            namespaces[cluster.name] = namespace.metadata.name
            # In ambient every Service is local unless labelled global, sidecars' too (istio/istio#61713).
            resource = names.HELLOWORLD_SERVICE.name(prefix=prefix)
            servers.append(self._service(resource, "helloworld", namespaces[cluster.name], mesh.ambient, on_cluster))
            needs = self._injector(args, cluster.name, probes)
            injected = pulumi.ResourceOptions.merge(on_cluster, pulumi.ResourceOptions(depends_on=needs))
            # A sidecar's revision changes only when its pod restarts; ambient pods have none.
            revision = revision_name(mesh.revisions[probes.tag]) if probes.sidecar else None
            servers.append(self._helloworld(prefix, cluster.name, revision, args.image, namespaces[cluster.name], injected))
        # The default set also proves the seeds' paths: a Service whose pods run in one cluster
        # alone, reached from every other (east-west), and, with ingressGateway, helloworld through
        # every cluster's ingress gateway by its Host (north-south).
        probe_paths: pulumi.Output[dict[str, list[ProbePath]]] | None = None
        if probes.key == DEFAULT_TAG:
            servers += self._solo_services(name, args, probes, namespaces)
            probe_paths = self._paths(args, probes)
            if mesh.ingress_gateway:
                servers += self._ingress_routes(name, args, probes, namespaces)
        # Traffic crosses to every cluster: their network paths (load balancers, peerings) first.
        paths = [resource for handle in args.clusters.values() for resource in (*handle.ready, *handle.crossing)]
        for cluster in args.checked:
            prefix = probes.prefix(name, cluster.name)
            paths_map = None
            if probe_paths is not None:
                on_cluster = pulumi.ResourceOptions(parent=self, provider=args.clusters[cluster.name].provider)
                listed = probe_paths.apply(lambda found, c=cluster.name: paths_file(found[c]))
                paths_map = self._paths_map(prefix, listed, namespaces[cluster.name], on_cluster)
            probe = pulumi.ResourceOptions(
                parent=self,
                provider=args.clusters[cluster.name].provider,
                depends_on=[*servers, args.link, *self._injector(args, cluster.name, probes), *paths, *([paths_map] if paths_map else [])],
                replacement_trigger=self.proves,
                custom_timeouts=pulumi.CustomTimeouts(create=f"{JOB_WAIT_SECONDS}s", update=f"{JOB_WAIT_SECONDS}s"),
            )
            annotations = CLASSIC_SIDECAR if probes.sidecar else None
            script = probe_script(cluster.name, args.reached(cluster.name), probes)
            self._job(prefix, script, args.image, namespaces[cluster.name], annotations, paths_map is not None, probe)

    @staticmethod
    def _paths_map(
        prefix: str, listed: pulumi.Output[str], namespace: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> k8s.core.v1.ConfigMap:
        """The probe's paths (``paths_file``), which its Job mounts at ``PATHS_DIR``."""
        return k8s.core.v1.ConfigMap(
            names.PROBE_PATHS.name(prefix=prefix),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{JOB_NAME}-paths", namespace=namespace),
            data={PATHS_KEY: listed},
            opts=opts,
        )

    def _solo_services(
        self, name: str, args: MeshCheckArgs, probes: ProbeSet, namespaces: Mapping[str, pulumi.Output[str]]
    ) -> list[pulumi.Resource]:
        """On every cluster, a Service per cluster that selects only that cluster's helloworld: its
        endpoints exist in that cluster alone, so any other cluster reaches it only across the mesh."""
        made: list[pulumi.Resource] = []
        for cluster in args.checked:
            on_cluster = pulumi.ResourceOptions(parent=self, provider=args.clusters[cluster.name].provider)
            prefix = probes.prefix(name, cluster.name)
            for owner in args.mesh.clusters:
                resource = names.SOLO_SERVICE.name(prefix=prefix, owner=owner.name)
                service = solo_service_name(owner.name)
                made.append(self._service(resource, service, namespaces[cluster.name], args.mesh.ambient, on_cluster, owner.name))
        return made

    def _ingress_routes(
        self, name: str, args: MeshCheckArgs, probes: ProbeSet, namespaces: Mapping[str, pulumi.Output[str]]
    ) -> list[pulumi.Resource]:
        """On every cluster whose istiod reads its Istio config (every primary: a remote's ingress
        gateway takes its primary's, which its selector matches too), a Gateway on the ingress
        gateways for ``INGRESS_HOST`` and a VirtualService sending that Host to the shared
        helloworld, after istiod, whose webhook validates them."""
        made: list[pulumi.Resource] = []
        for cluster in (c for c in args.checked if not args.mesh.is_remote(c.name)):
            prefix = probes.prefix(name, cluster.name)
            validated = [args.releases[cluster.name].istiod]
            opts = pulumi.ResourceOptions(parent=self, provider=args.clusters[cluster.name].provider, depends_on=validated)
            namespace = namespaces[cluster.name]
            made.append(
                istio_config(names.CHECK_INGRESS_GATEWAY.name(prefix=prefix), "Gateway", JOB_NAME, namespace, ingress_gateway_spec(), opts)
            )
            spec = ingress_route_spec(probes.namespace)
            made.append(istio_config(names.CHECK_INGRESS_ROUTE.name(prefix=prefix), "VirtualService", JOB_NAME, namespace, spec, opts))
        return made

    @staticmethod
    def _paths(args: MeshCheckArgs, probes: ProbeSet) -> pulumi.Output[dict[str, list[ProbePath]]]:
        """Each checked cluster's paths: east-west to every other cluster it reaches, to that
        cluster's Service of its own, and with ``ingressGateway`` the ingress of every cluster it
        reaches (its own too) by ``INGRESS_HOST``."""
        built = {c: g.ingress_url for c, g in args.gateways.items() if g.ingress_url is not None}
        ingress: dict[str, pulumi.Input[str]] = {**args.peer_ingress, **built}
        reached = {c.name: sorted(args.reached(c.name)) for c in args.checked}

        def paths(urls: dict[str, str]) -> dict[str, list[ProbePath]]:
            found: dict[str, list[ProbePath]] = {}
            for cluster, others in reached.items():
                found[cluster] = [east_west_path(other, probes.namespace) for other in others if other != cluster]
                found[cluster] += [ingress_path(owner, urls[owner]) for owner in others if owner in urls]
            return found

        return pulumi.Output.all(**ingress).apply(paths)

    @staticmethod
    def _proves(args: MeshCheckArgs) -> pulumi.Output[str]:
        """A digest of the mesh it checks: clusters, networks, roles, Istio version and revision (the
        summary), which ingresses an edge fronts (known in a preview, unlike their addresses; absent
        without edges, so adding the notion changed no digest), the CA's root and intermediates, and
        every remote secret, each in an order of its own (by name), not the config's."""
        edges = sorted(name for name, gateways in args.gateways.items() if gateways.ingress_edge)
        summary = json.dumps({**proven_summary(args.mesh), **({"ingressEdges": edges} if edges else {})}, sort_keys=True)
        intermediates = [args.ca.clusters[name].ca_cert for name in sorted(c.name for c in args.mesh.clusters)]
        parts = pulumi.Output.all(summary, args.ca.root_cert_pem, args.link.fingerprint, *intermediates)
        return pulumi.Output.secret(parts.apply(lambda texts: digest(*texts)))

    @staticmethod
    def _injector(args: MeshCheckArgs, cluster: str, probes: ProbeSet) -> list[pulumi.Resource]:
        """What the set's pods on ``cluster`` need. Injected pods: the tag's webhook (after its
        istiod), and on a remote the remote secrets through which its primary patches that webhook's
        CA bundle. Ambient pods: istio-cni and ztunnel running (pods istio-cni has not seen start
        outside the mesh until it reconciles them)."""
        if not probes.sidecar:
            return list(args.releases[cluster].dataplane)
        needs: list[pulumi.Resource] = [args.releases[cluster].tags[probes.tag]]
        if args.clusters[cluster].spec.role is Role.REMOTE:
            needs += args.link.secrets_about(cluster)
        return needs

    @staticmethod
    def _service(
        resource: str, service: str, namespace: pulumi.Output[str], shared: bool, opts: pulumi.ResourceOptions, only: str | None = None
    ) -> k8s.core.v1.Service:
        """A Service of helloworld: every cluster's pods, or ``only`` that cluster's (default none);
        ``shared`` labels it ``istio.io/global`` (ambient's cross-cluster Services)."""
        labels = {"app": "helloworld", "service": service}
        if shared:
            labels[GLOBAL_SERVICE_LABEL] = "true"
        selector = {"app": "helloworld"} | ({"version": only} if only is not None else {})
        return k8s.core.v1.Service(
            resource,
            metadata=k8s.meta.v1.ObjectMetaArgs(name=service, namespace=namespace, labels=labels),
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=selector,
                ports=[k8s.core.v1.ServicePortArgs(name="http", port=HELLOWORLD_PORT, target_port=HELLOWORLD_PORT)],
            ),
            opts=opts,
        )

    @staticmethod
    def _helloworld(
        prefix: str, cluster: str, revision: str | None, image: str, namespace: pulumi.Output[str], opts: pulumi.ResourceOptions
    ) -> k8s.apps.v1.Deployment:
        """helloworld answering with its ``cluster``'s name as its version; with sidecars its pods name the
        ``revision`` their tag points at, so they restart (and get that revision's proxy) when the
        tag moves (``None`` in ambient)."""
        labels = {"app": "helloworld", "version": cluster}
        return k8s.apps.v1.Deployment(
            names.HELLOWORLD.name(prefix=prefix, cluster=cluster),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"helloworld-{cluster}", namespace=namespace, labels=labels),
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=1,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=labels),
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels, annotations={REVISION_ANNOTATION: revision} if revision else None),
                    spec=k8s.core.v1.PodSpecArgs(
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="helloworld",
                                image=image,
                                env=[k8s.core.v1.EnvVarArgs(name="SERVICE_VERSION", value=cluster)],
                                ports=[k8s.core.v1.ContainerPortArgs(container_port=HELLOWORLD_PORT)],
                                security_context=hardened(),
                                resources=resources("50m", "64Mi", "500m", "256Mi"),
                                # gunicorn keeps its worker heartbeat files in /tmp.
                                volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp")],  # noqa: S108
                            )
                        ],
                        volumes=[k8s.core.v1.VolumeArgs(name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs())],
                    ),
                ),
            ),
            opts=opts,
        )

    @staticmethod
    def _job(
        prefix: str,
        script: pulumi.Input[str],
        image: str,
        namespace: pulumi.Output[str],
        annotations: Mapping[str, str] | None,
        with_paths: bool,
        opts: pulumi.ResourceOptions,
    ) -> k8s.batch.v1.Job:
        """The probe; ``with_paths`` mounts the set's paths ConfigMap (``_paths_map``) and names its file."""
        mounts = [k8s.core.v1.VolumeMountArgs(name=PATHS_VOLUME, mount_path=PATHS_DIR, read_only=True)] if with_paths else None
        env = [k8s.core.v1.EnvVarArgs(name=PATHS_ENV, value=f"{PATHS_DIR}/{PATHS_KEY}")] if with_paths else None
        volume = k8s.core.v1.VolumeArgs(name=PATHS_VOLUME, config_map=k8s.core.v1.ConfigMapVolumeSourceArgs(name=f"{JOB_NAME}-paths"))
        return k8s.batch.v1.Job(
            names.PROBE.name(prefix=prefix),
            metadata=k8s.meta.v1.ObjectMetaArgs(name=JOB_NAME, namespace=namespace, annotations={"pulumi.com/replaceUnready": "true"}),
            spec=k8s.batch.v1.JobSpecArgs(
                backoff_limit=0,
                active_deadline_seconds=JOB_DEADLINE_SECONDS,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels={"app": JOB_NAME}, annotations=annotations),
                    spec=k8s.core.v1.PodSpecArgs(
                        restart_policy="Never",
                        containers=[
                            k8s.core.v1.ContainerArgs(
                                name="probe",
                                image=image,
                                command=["/bin/sh", "-c", script],
                                env=env,
                                volume_mounts=mounts,
                                security_context=hardened(),
                                resources=resources("10m", "16Mi", "200m", "64Mi"),
                                # A failed probe's last line becomes the message Pulumi reports.
                                termination_message_policy="FallbackToLogsOnError",
                            )
                        ],
                        volumes=[volume] if with_paths else None,
                    ),
                ),
            ),
            opts=opts,
        )
