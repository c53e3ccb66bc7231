"""One way to install a Helm chart: a named ``helm.v3.Release`` from a pinned chart and repository."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

# Helm's wait (pulumi-kubernetes' default 300 s) covers the whole install, including a
# LoadBalancer Service getting its address; a cloud load balancer can take longer, and an install
# that times out is recorded as a failed release. customTimeouts do not apply to Releases.
RELEASE_TIMEOUT_SECONDS = 600


def helm_release(
    resource_name: str,
    *,
    release: str,
    chart: str,
    version: str,
    repo: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    values: pulumi.Input[Mapping[str, Any]] | None = None,
) -> k8s.helm.v3.Release:
    """A Helm release named ``release`` (without it Helm adds a random suffix), chart pinned to
    ``version``, waiting up to ``RELEASE_TIMEOUT_SECONDS`` for what it installs to be ready."""
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            name=release,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
            namespace=namespace,
            values=dict(values) if isinstance(values, Mapping) else values,
            timeout=RELEASE_TIMEOUT_SECONDS,
        ),
        opts=opts,
    )
