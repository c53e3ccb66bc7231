"""MeshLink: the remote secrets that let each istiod discover the other clusters.

What ``istioctl create-remote-secret`` does, as resources: in every cluster X a
service-account-token Secret for ``istio-reader-service-account`` (after ``base``, which creates
the account); in every cluster Y that must discover X, Secret ``istio-remote-secret-<X>`` holding a
bearer-token kubeconfig for X. istiod only watches Secrets labelled ``istio/multiCluster: "true"``
and rejects exec plugins, auth providers and token files, so the kubeconfig carries the token.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from components.cluster.handle import ClusterHandle
from components.config import mesh_names as names
from components.config.model import MeshSpec
from components.istio.facts import ISTIO_NAMESPACE
from components.k8s.kubeconfig import bearer_kubeconfig
from components.mesh.istio import IstioControlPlane

READER_ACCOUNT = "istio-reader-service-account"
READER_TOKEN_SECRET = "istio-reader-service-account-istio-remote-secret-token"  # noqa: S105 - a Secret name
MULTICLUSTER_LABEL = "istio/multiCluster"
CLUSTER_ANNOTATION = "networking.istio.io/cluster"


def digest(*parts: str) -> str:
    """A stable hex digest of ``parts``, to notice when any of them changes."""
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def reader_token_name(generation: int) -> str:
    """The token Secret of ``generation``: the first keeps the name it has always had. A new name
    makes pulumi-kubernetes replace the Secret by creating the new one first (its name is free),
    so the remote secrets move to the new token before the old one is deleted."""
    return READER_TOKEN_SECRET if generation == 0 else f"{READER_TOKEN_SECRET}-{generation}"


def reader_token_resource(link: str, cluster: str, generation: int) -> str:
    """A fleet member's token resource of ``generation``: the first keeps one stack's name."""
    if generation == 0:
        return names.READER_TOKEN.name(link=link, cluster=cluster)
    return names.READER_TOKEN_OF.name(link=link, cluster=cluster, generation=str(generation))


def remote_secret_name(cluster: str) -> str:
    return f"istio-remote-secret-{cluster}"


def remote_kubeconfig(cluster: str, server: str, ca_crt_b64: str, token_b64: str) -> str:
    """The kubeconfig istiod reads from a remote secret: one cluster, one bearer-token user.

    ``ca_crt_b64`` and ``token_b64`` are the token Secret's ``data`` values (base64, as the API
    returns them). Raises ``ValueError`` on an empty token: a kubeconfig without one would make
    istiod fail to reach the cluster silently.
    """
    token = base64.b64decode(token_b64 or "").decode()
    if not token or not ca_crt_b64:
        raise ValueError(
            f"the reader token Secret of cluster {cluster} has no token or ca.crt yet; "
            f"check that ServiceAccount {READER_ACCOUNT} exists in {ISTIO_NAMESPACE} on {cluster}"
        )
    return bearer_kubeconfig(cluster, server, ca_crt_b64, token)


@dataclass(frozen=True)
class MeshLinkArgs:
    """Inputs of ``MeshLink``.

    Args:
        mesh: the mesh (topology and roles decide who discovers whom).
        clusters: the handle of every cluster this stack builds, by name.
        releases: their IstioControlPlanes, by name.
        peers: how to reach clusters other stacks build (fleet mode): the kubeconfig their stacks
            export for the remote secrets, by name (default none: this stack builds every cluster).
        kept: fleet mode: the generations of each cluster's reader token that stay, the mesh's
            current one first, then those a peer's remote secret still carries (default none: one
            token per cluster, at the mesh's generation).
    """

    mesh: MeshSpec
    clusters: Mapping[str, ClusterHandle]
    releases: Mapping[str, IstioControlPlane]
    peers: Mapping[str, pulumi.Output[str]] = field(default_factory=dict)
    kept: Mapping[str, Sequence[int]] | None = None


class MeshLink(pulumi.ComponentResource):
    """Remote secrets for every (holder, source) pair that ``MeshSpec.discovers``, and a reader token
    in each cluster some other discovers (``MeshSpec.discovered``), nowhere else.

    Outputs: ``remote_secrets``, per holding cluster the names of the remote secrets it holds;
    ``fingerprint``, a digest of every remote secret's content (a secret), which changes when a
    token, CA or API URL in any of them does; ``kubeconfigs``, how other clusters reach each of this
    stack's discovered clusters (the remote secrets' content, secrets), by name.
    """

    remote_secrets: dict[str, list[str]]
    fingerprint: pulumi.Output[str]
    kubeconfigs: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: MeshLinkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.LINK.type, name, None, opts)
        tokens = {cluster: self._tokens(name, args, cluster)[0] for cluster in args.clusters if args.mesh.discovered(cluster)}
        self.remote_secrets = {holder: [] for holder in args.clusters}
        self._about: dict[str, list[k8s.core.v1.Secret]] = {source: [] for source in [*args.clusters, *args.peers]}
        # One kubeconfig per source cluster, written once and held by every cluster that discovers
        # it: N texts for N*(N-1) secrets.
        self.kubeconfigs = {
            source: pulumi.Output.secret(self._kubeconfig(args.clusters[source], token)) for source, token in tokens.items()
        }
        by_source = {**self.kubeconfigs, **args.peers}
        kubeconfigs: list[pulumi.Output[str]] = []
        for holder in args.clusters:
            for source in [*args.clusters, *sorted(args.peers)]:
                if args.mesh.discovers(holder, source):
                    secret = self._remote_secret(name, args.clusters[holder], args.releases[holder], source, by_source[source])
                    self.remote_secrets[holder].append(remote_secret_name(source))
                    self._about[source].append(secret)
                    kubeconfigs.append(by_source[source])
        # Sorted: the secrets' content, not the clusters' order in the config, is what the digest tells apart.
        self.fingerprint = pulumi.Output.secret(pulumi.Output.all(*kubeconfigs).apply(lambda texts: digest(*sorted(texts))))
        self.register_outputs({"remoteSecrets": self.remote_secrets})

    def secrets_about(self, source: str) -> list[k8s.core.v1.Secret]:
        """The remote secrets that let other clusters' istiod reach ``source``. On a remote, its
        primary patches the injection webhook's CA bundle through them, so injected pods there
        need them first."""
        return list(self._about[source])

    def _tokens(self, name: str, args: MeshLinkArgs, cluster: str) -> list[k8s.core.v1.Secret]:
        """``cluster``'s reader tokens, the current one first. One stack moves every remote secret
        to a new token in the update that makes it, so one resource per cluster, replaced by a new
        generation (create first: the Secret's name is new), is enough. A fleet member's peers move
        in their own updates, later: each generation is then its own resource, and an older one
        stays while a peer's remote secret carries it (``kept``), deleted by a later update."""
        handle, release = args.clusters[cluster], args.releases[cluster]
        if args.kept is None:
            resource = names.READER_TOKEN.name(link=name, cluster=cluster)
            return [self._reader_token(resource, handle, release, args.mesh.reader_token_generation)]
        return [self._reader_token(reader_token_resource(name, cluster, g), handle, release, g) for g in args.kept[cluster]]

    def _reader_token(self, resource: str, cluster: ClusterHandle, release: IstioControlPlane, generation: int) -> k8s.core.v1.Secret:
        # After base: without the ServiceAccount the token is never issued.
        return k8s.core.v1.Secret(
            resource,
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=reader_token_name(generation),
                namespace=release.namespace,
                annotations={"kubernetes.io/service-account.name": READER_ACCOUNT},
            ),
            type="kubernetes.io/service-account-token",
            opts=pulumi.ResourceOptions(parent=self, provider=cluster.provider, depends_on=[release.base]),
        )

    @staticmethod
    def _kubeconfig(source: ClusterHandle, token: k8s.core.v1.Secret) -> pulumi.Output[str]:
        """How other clusters' istiods reach ``source``: its API server, CA and reader token."""
        return pulumi.Output.all(source.api_server_url, token.data).apply(
            lambda parts: remote_kubeconfig(source.name, parts[0], parts[1].get("ca.crt", ""), parts[1].get("token", ""))
        )

    def _remote_secret(
        self, name: str, holder: ClusterHandle, holder_release: IstioControlPlane, source: str, kubeconfig: pulumi.Output[str]
    ) -> k8s.core.v1.Secret:
        return k8s.core.v1.Secret(
            names.REMOTE_SECRET.name(link=name, source=source, holder=holder.name),
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=remote_secret_name(source),
                namespace=holder_release.namespace,
                labels={MULTICLUSTER_LABEL: "true"},
                annotations={CLUSTER_ANNOTATION: source},
            ),
            string_data={source: pulumi.Output.secret(kubeconfig)},
            opts=pulumi.ResourceOptions(parent=self, provider=holder.provider),
        )
