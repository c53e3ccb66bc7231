"""An AKS (Entra ID) bearer token as a kubectl exec credential, for the kubernetes provider.

    venv/bin/python -m components.k8s.aks_token

With Entra ID and local accounts disabled, the API server accepts Entra tokens for the AKS server
application (6dae42f8-4368-4678-94ff-3960e28e3630, the audience kubelogin asks for too). The
provider keeps only this command in its kubeconfig, never a token (they last about an hour), and
client-go runs it whenever it needs one, so ``pulumi destroy`` and ``refresh`` work hours after the
last ``up``. azure-identity's default chain supplies the credentials of the environment Pulumi runs
in (service principal or workload identity variables, managed identity, the Azure CLI's login),
or the OIDC token a Pulumi ESC or Deployments login puts in ``ARM_OIDC_TOKEN``; no kubelogin is needed.

It lives outside the platform packages, whose ``__init__`` loads the Pulumi SDKs: run with ``-m``
from there, every token cost about two seconds and printed runpy's RuntimeWarning on stderr.
"""

from __future__ import annotations

import datetime
import json
import os
import sys

from azure.core.credentials import AccessToken, TokenCredential

from components.entra import credential
from components.k8s.kubeconfig import PROJECT_PYTHON, exec_credential

AKS_SERVER_APP = "6dae42f8-4368-4678-94ff-3960e28e3630"
SCOPE = f"{AKS_SERVER_APP}/.default"


def aks_token(credential: TokenCredential) -> AccessToken:
    """A token for the AKS server application."""
    return credential.get_token(SCOPE)


def exec_command() -> tuple[str, list[str]]:
    """The command and arguments a kubeconfig runs to get a token for an Entra ID AKS cluster."""
    return PROJECT_PYTHON, ["-m", "components.k8s.aks_token"]


def main() -> None:
    token = aks_token(credential(os.environ))
    expires = datetime.datetime.fromtimestamp(token.expires_on, datetime.UTC)
    json.dump(exec_credential(token.token, expires, os.environ.get("KUBERNETES_EXEC_INFO")), sys.stdout)


if __name__ == "__main__":
    main()
