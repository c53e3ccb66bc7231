"""Kubeconfigs the program writes: bearer-token ones (remote secrets) and exec-credential ones (EKS).

istiod accepts only a bearer token in a remote secret (no exec plugin, auth provider or file
reference). A kubernetes provider that must keep working for hours (``pulumi destroy`` and
``refresh`` use the provider config in state) runs a credential command instead of holding a
token that expires.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Sequence
from typing import Any

import yaml

EXEC_API = "client.authentication.k8s.io/v1beta1"
# libyaml's emitter when PyYAML has it (its wheels do): it writes the same text as the pure-Python
# one, about 15 times faster on the long base64 values of a kubeconfig; a mesh of N clusters
# writes N*(N-1) of them.
DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
# The interpreter the project's credential commands run with: the virtualenv the README sets up,
# relative to the project root, where Pulumi runs the program and the provider runs its commands.
PROJECT_PYTHON = "venv/bin/python"


def exec_credential(token: str, expires: datetime.datetime, exec_info: str | None = None) -> dict[str, Any]:
    """The ExecCredential a credential command prints for client-go, in the API version it asked
    for (``KUBERNETES_EXEC_INFO``); client-go runs the command again once ``expires`` has passed."""
    api_version = (json.loads(exec_info).get("apiVersion") if exec_info else None) or EXEC_API
    stamp = expires.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {"kind": "ExecCredential", "apiVersion": api_version, "spec": {}, "status": {"expirationTimestamp": stamp, "token": token}}


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
    return yaml.dump(config, Dumper=DUMPER, sort_keys=False)


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
