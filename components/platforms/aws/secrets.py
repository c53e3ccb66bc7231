"""MeshSecretsManager: copies of the mesh CA in AWS Secrets Manager.

The root certificate and, per cluster, its intermediate certificate, key and chain; never the root
key. Names are unique per stack (``istio-multicluster/<stack>/...``), everything is tagged, and the
recovery window is configurable (0 deletes at once, so ``pulumi destroy`` leaves nothing behind).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.mesh.ca import ClusterCACerts
from components.platforms.aws import names


@dataclass(frozen=True)
class MeshSecretsManagerArgs:
    """Inputs of ``MeshSecretsManager``.

    Args:
        provider: the AWS provider of the region the secrets live in.
        recovery_window_days: 0 (delete at once) or 7-30 days.
        root_cert: the mesh root certificate (PEM).
        clusters: each EKS cluster's CA material, by name.
    """

    provider: aws.Provider
    recovery_window_days: int
    root_cert: pulumi.Input[str]
    clusters: Mapping[str, ClusterCACerts]


class MeshSecretsManager(pulumi.ComponentResource):
    """See the module docstring. Output: ``arns``, each secret's ARN by name."""

    arns: dict[str, pulumi.Output[str]]

    def __init__(self, name: str, args: MeshSecretsManagerArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__(names.SECRETS.type, name, None, opts)
        values: dict[str, pulumi.Input[str]] = {names.ROOT_ITEM: args.root_cert}
        for cluster, certs in args.clusters.items():
            copies = dict(zip(names.CLUSTER_ITEMS, (certs.ca_cert, certs.ca_key, certs.cert_chain), strict=True))
            values |= {names.cluster_item(cluster, item): value for item, value in copies.items()}
        on_aws = pulumi.ResourceOptions(parent=self, provider=args.provider)
        self.arns = {}
        for key, value in values.items():
            item = names.item_resource(key)
            secret = aws.secretsmanager.Secret(
                names.SECRET.name(secrets=name, item=item),
                name=f"istio-multicluster/{pulumi.get_stack()}/{key}",
                description=f"istio-multicluster mesh CA: {key}",
                recovery_window_in_days=args.recovery_window_days,
                tags={"istio-multicluster/stack": pulumi.get_stack(), "istio-multicluster/item": key},
                opts=on_aws,
            )
            aws.secretsmanager.SecretVersion(
                names.SECRET_VERSION.name(secrets=name, item=item),
                secret_id=secret.id,
                secret_string=pulumi.Output.secret(value),
                opts=on_aws,
            )
            self.arns[key] = secret.arn
        self.register_outputs({"arns": self.arns})
