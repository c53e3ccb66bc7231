"""The istio-multicluster policy pack: ``pulumi up --policy-pack policy`` (rules in policy/rules.py)."""

import sys
from pathlib import Path

from pulumi_policy import EnforcementLevel, PolicyPack

# The policy host runs this file from policy/; its rules are the project's package ``policy``.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from policy.rules import POLICIES

PolicyPack(name="istio-multicluster", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
