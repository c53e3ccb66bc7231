"""The AWS CLI, which pulumi-eks requires on the machine that runs Pulumi.

pulumi-eks checks for it in every run, preview included (``assertCompatibleAWSCLIExists`` in
nodejs/eks/dependencies.ts, called by ``createCore``): at least v1.24.0 or v2.7.0, the releases whose
``aws eks get-token`` prints the ``client.authentication.k8s.io/v1beta1`` credential. Its error
comes from inside the component, after the VPCs exist; this check gives the same answer before any
resource. The kubernetes providers' kubeconfigs run ``aws eks get-token`` too.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections.abc import Callable

INSTALL = "https://docs.aws.amazon.com/cli/latest/userguide/getting-started-install.html"
MINIMUM = {1: (1, 24, 0), 2: (2, 7, 0)}
VERSION = re.compile(r"aws-cli/([0-9]+)\.([0-9]+)\.([0-9]+)")


def installed_version(executable: str) -> str:
    """What ``aws --version`` prints (``aws-cli/2.15.0 Python/3.11.6 ...``)."""
    done = subprocess.run([executable, "--version"], capture_output=True, text=True, timeout=60, check=False)  # noqa: S603
    return done.stdout or done.stderr


def aws_cli_problem(which: Callable[[str], str | None] = shutil.which, version_of: Callable[[str], str] = installed_version) -> str | None:
    """Why the AWS CLI on PATH cannot serve pulumi-eks (None when it can)."""
    executable = which("aws")
    if executable is None:
        return f"need the AWS CLI (v2.7 or later) on PATH, which pulumi-eks runs for every EKS cluster; install it ({INSTALL})"
    text = version_of(executable)
    words = text.split()
    found = VERSION.fullmatch(words[0]) if words else None
    if found is None:
        return f"need the AWS CLI (v2.7 or later), but `{executable} --version` printed {text.strip()!r}; reinstall it ({INSTALL})"
    version = tuple(int(part) for part in found.groups())
    minimum = MINIMUM.get(version[0])
    if minimum is None or version < minimum:
        shown = ".".join(map(str, version))
        return f"need the AWS CLI v2.7 or later (or v1.24+), which pulumi-eks requires, but {executable} is {shown}; upgrade it ({INSTALL})"
    return None
