"""Kubeconfigs the program writes: bearer-token ones (remote secrets) and exec-credential ones (EKS).

istiod accepts only a bearer token in a remote secret (no exec plugin, auth provider or file
reference). A kubernetes provider that must keep working for hours (``pulumi destroy`` and
``refresh`` use the provider config in state) runs a credential command instead of holding a
token that expires.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import yaml

EXEC_API = "client.authentication.k8s.io/v1beta1"


def kubeconfig(cluster: str, server: str, ca_data: str, user: dict[str, Any]) -> str:
    """One cluster, one user, one context, all named ``cluster``; ``ca_data`` is base64 PEM."""
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": cluster, "user": user}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
        "preferences": {},
    }
    return yaml.safe_dump(config, sort_keys=False)


def bearer_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """A kubeconfig whose user is a bearer ``token``.

    Raises ``ValueError`` on an empty token: such a kubeconfig fails later and far from here.
    """
    if not token:
        raise ValueError(f"no bearer token for cluster {cluster}; refusing to write a kubeconfig without one")
    return kubeconfig(cluster, server, ca_data, {"token": token})


def exec_kubeconfig(cluster: str, server: str, ca_data: str, command: str, args: Sequence[str]) -> str:
    """A kubeconfig whose user runs ``command args`` for a credential whenever it needs one."""
    user = {"exec": {"apiVersion": EXEC_API, "command": command, "args": list(args), "interactiveMode": "Never"}}
    return kubeconfig(cluster, server, ca_data, user)
