"""The EKS add-ons every cluster runs (kube-proxy, the VPC CNI, CoreDNS), each at a known version.

EKS installs all three, self-managed, on a new cluster. pulumi-eks turns kube-proxy and the VPC CNI
into EKS add-ons, and unless told a version it asks for the newest build for the cluster's
Kubernetes version on every run (``getAddonVersion`` with ``mostRecent: true``,
nodejs/eks/cluster/cluster.ts and addons/cni-addon.ts), so any ``up`` may roll them; CoreDNS it
leaves self-managed where the cluster has no default node group, so nobody upgrades it. Here each
add-on runs the version ``addonVersions`` pins, else EKS's default for the cluster's Kubernetes
version (``mostRecent: false``): it moves when ``kubernetesVersion`` does, deliberately.

CoreDNS is made an EKS add-on here, after the node groups: an add-on is ``ACTIVE`` only once its
pods run, and CoreDNS's run on nodes (kube-proxy and the CNI are DaemonSets, healthy with no node).
``OVERWRITE`` on create takes over the Deployment EKS installed; ``preserve`` leaves it running if
the add-on is ever deleted, so removing it from management never takes DNS away.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pulumi
import pulumi_aws as aws
import pulumi_eks as eks

from components.platforms.aws import names

COREDNS = "coredns"


def addon_version(
    addon: str, pins: Mapping[str, str], kubernetes_version: pulumi.Input[str] | None, opts: pulumi.InvokeOptions
) -> pulumi.Input[str] | None:
    """The version ``addon`` runs: its pin, else EKS's default for ``kubernetes_version``; ``None``
    (pulumi-eks's newest build) without either."""
    if addon in pins:
        return pins[addon]
    if kubernetes_version is None:
        return None
    return aws.eks.get_addon_version_output(addon_name=addon, kubernetes_version=kubernetes_version, most_recent=False, opts=opts).version


def node_agent_options(
    pins: Mapping[str, str], kubernetes_version: str | None, opts: pulumi.InvokeOptions
) -> tuple[eks.KubeProxyAddonOptionsArgs | None, eks.VpcCniOptionsArgs | None]:
    """pulumi-eks's options for kube-proxy and the VPC CNI: their versions, where one is known."""
    proxy = addon_version("kube-proxy", pins, kubernetes_version, opts)
    cni = addon_version("vpc-cni", pins, kubernetes_version, opts)
    return (
        eks.KubeProxyAddonOptionsArgs(version=proxy) if proxy is not None else None,
        eks.VpcCniOptionsArgs(addon_version=cni) if cni is not None else None,
    )


def coredns_addon(
    eks_name: str,
    cluster: pulumi.Output[aws.eks.Cluster],
    pins: Mapping[str, str],
    nodes: Sequence[pulumi.Resource],
    opts: pulumi.ResourceOptions,
) -> aws.eks.Addon:
    """CoreDNS as an EKS add-on at its pinned version, else EKS's default for the version the
    cluster runs, after ``nodes`` (its pods need them to become ``ACTIVE``). ``cluster`` is
    pulumi-eks's ``eks_cluster`` output."""
    invoke = pulumi.InvokeOptions(parent=opts.parent, provider=opts.provider)
    version = addon_version(COREDNS, pins, cluster.version, invoke)
    return aws.eks.Addon(
        names.COREDNS.name(eks=eks_name),
        cluster_name=cluster.name,
        addon_name=COREDNS,
        addon_version=version,
        resolve_conflicts_on_create="OVERWRITE",
        resolve_conflicts_on_update="OVERWRITE",
        preserve=True,
        opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=list(nodes))),
    )
