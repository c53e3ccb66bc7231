"""Pulumi Deployments and ESC for the istio-multicluster cloud stacks (see deploy/settings.py)."""

import sys
from pathlib import Path

import pulumi

# Pulumi runs this file from deploy/; its code is the project's package ``deploy``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from deploy.settings import build, read_config

for name, value in build(read_config()).items():
    pulumi.export(name, value)
