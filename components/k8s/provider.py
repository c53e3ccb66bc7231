"""The kubernetes provider of every cluster, configured once.

``enable_secret_mutable``: pulumi-kubernetes otherwise replaces a Secret whose data changes (a
delete and a create of the same name: provider/pkg/provider ``forceNewProperties``), so for a
moment the Secret does not exist. For a remote secret that moment is a cluster istiod forgets:
it deletes the remote cluster's services and endpoints on the delete and reads them again on
the create; an update in place it takes without a gap (istio 1.30
pkg/kube/multicluster/secretcontroller.go ``addRemoteConfig``: the previous cluster "will be
stopped after the new cluster syncs"). The same holds for ``cacerts``, whose files istiod watches.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s


def cluster_provider(name: str, *, opts: pulumi.ResourceOptions, **config: Any) -> k8s.Provider:
    """A kubernetes provider with ``config`` (kubeconfig, context, cluster_identifier, ...) that
    updates Secrets in place."""
    return k8s.Provider(name, enable_secret_mutable=True, **config, opts=opts)
