"""Bearer-token kubeconfigs: what istiod accepts in a remote secret and what needs no CLI to use."""

from __future__ import annotations

import yaml


def bearer_kubeconfig(cluster: str, server: str, ca_data: str, token: str) -> str:
    """One cluster, one user with a bearer ``token``, one context, all named ``cluster``.

    ``ca_data`` is base64 PEM, as ``certificate-authority-data`` wants it. No exec plugin, auth
    provider or file reference: istiod rejects those, and they need tools where Pulumi runs.
    Raises ``ValueError`` on an empty token: such a kubeconfig fails later and far from here.
    """
    if not token:
        raise ValueError(f"no bearer token for cluster {cluster}; refusing to write a kubeconfig without one")
    kubeconfig = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster, "cluster": {"server": server, "certificate-authority-data": ca_data}}],
        "users": [{"name": cluster, "user": {"token": token}}],
        "contexts": [{"name": cluster, "context": {"cluster": cluster, "user": cluster}}],
        "current-context": cluster,
        "preferences": {},
    }
    return yaml.safe_dump(kubeconfig, sort_keys=False)
