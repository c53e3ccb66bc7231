"""One way to install a Helm chart: a named ``helm.v3.Release`` from a pinned chart and repository."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def helm_release(
    resource_name: str,
    *,
    release: str,
    chart: str,
    version: str,
    repo: str,
    namespace: pulumi.Input[str],
    opts: pulumi.ResourceOptions,
    values: Mapping[str, Any] | None = None,
) -> k8s.helm.v3.Release:
    """A Helm release named ``release`` (without it Helm adds a random suffix), chart pinned to ``version``."""
    return k8s.helm.v3.Release(
        resource_name,
        k8s.helm.v3.ReleaseArgs(
            name=release,
            chart=chart,
            version=version,
            repository_opts=k8s.helm.v3.RepositoryOptsArgs(repo=repo),
            namespace=namespace,
            values=dict(values) if values is not None else None,
        ),
        opts=opts,
    )
