"""The names of an existing cluster's resources: its provider and, where configured, MetalLB; see
``components.config.names``."""

from __future__ import annotations

from components.config.names import NameTemplate

CLUSTER = NameTemplate("istio-multicluster:existing:Cluster", "{cluster}", "existing cluster {cluster}")
PROVIDER = CLUSTER.child("pulumi:providers:kubernetes", "{cluster}-provider", "cluster {cluster}'s kubernetes provider")
METALLB_NAMESPACE = CLUSTER.child("kubernetes:core/v1:Namespace", "{cluster}-metallb-system", "metallb-system on cluster {cluster}")
METALLB = CLUSTER.child("kubernetes:helm.sh/v3:Release", "{cluster}-metallb", "MetalLB on cluster {cluster}")
METALLB_POOL = CLUSTER.child("kubernetes:metallb.io/v1beta1:IPAddressPool", "{cluster}-metallb-pool", "MetalLB's pool on cluster {cluster}")
METALLB_L2 = CLUSTER.child(
    "kubernetes:metallb.io/v1beta1:L2Advertisement", "{cluster}-metallb-l2", "MetalLB's advertisement on cluster {cluster}"
)
