"""An EKS bearer token as a kubectl exec credential, for the kubernetes provider of an EKS cluster.

    venv/bin/python -m components.platforms.aws.token --cluster cluster-1 --region eu-west-1

A token is ``k8s-aws-v1.`` and the unpadded base64url of a presigned STS GetCallerIdentity URL
whose signature covers the header ``x-k8s-aws-id: <cluster>``; EKS accepts it for 15 minutes
after signing (aws-iam-authenticator's pkg/token). The provider keeps only this command in its
kubeconfig, never a token, and client-go runs it whenever it needs one: ``pulumi destroy`` or
``pulumi refresh`` hours after the last ``up`` still authenticate, with the credentials of the
environment Pulumi runs in (the standard AWS chain: variables, profile, SSO, web identity), and no
AWS CLI. client-go runs it in the provider's process, whose working directory is the project
root, so ``venv/bin/python`` and ``-m`` find this module.
"""

from __future__ import annotations

import argparse
import base64
import datetime
import json
import os
import sys
from typing import Any

import botocore.session

from components.k8s.kubeconfig import PROJECT_PYTHON, exec_credential

TOKEN_PREFIX = "k8s-aws-v1."  # noqa: S105 - the token format's prefix, not a secret
CLUSTER_HEADER = "x-k8s-aws-id"
# EKS honours the signature for 15 minutes whatever X-Amz-Expires says; clients refresh at 14.
TOKEN_MINUTES = 14
PRESIGN_SECONDS = 60


def eks_token(cluster: str, region: str, session: botocore.session.Session | None = None) -> str:
    """A bearer token for ``cluster``, signed for ``region``'s STS endpoint (botocore resolves it per
    partition: amazonaws.com, amazonaws.com.cn) with the environment's credentials."""
    session = session or botocore.session.get_session()
    sts = session.create_client("sts", region_name=region)

    def sign_cluster_header(request: Any, **_: Any) -> None:
        request.headers[CLUSTER_HEADER] = cluster

    sts.meta.events.register("before-sign.sts.GetCallerIdentity", sign_cluster_header)
    url = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=PRESIGN_SECONDS, HttpMethod="GET")
    return TOKEN_PREFIX + base64.urlsafe_b64encode(url.encode()).decode().rstrip("=")


def exec_command(cluster: str, region: str) -> tuple[str, list[str]]:
    """The command and arguments a kubeconfig runs to get a token for ``cluster``."""
    return PROJECT_PYTHON, ["-m", "components.platforms.aws.token", "--cluster", cluster, "--region", region]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Print an EKS exec credential for kubectl and the Pulumi kubernetes provider.")
    parser.add_argument("--cluster", required=True, help="the EKS cluster name")
    parser.add_argument("--region", required=True, help="the cluster's AWS region")
    args = parser.parse_args(argv)
    expires = datetime.datetime.now(datetime.UTC) + datetime.timedelta(minutes=TOKEN_MINUTES)
    credential = exec_credential(eks_token(args.cluster, args.region), expires, os.environ.get("KUBERNETES_EXEC_INFO"))
    json.dump(credential, sys.stdout)


if __name__ == "__main__":
    main()
