"""The istio-multicluster policy pack: ``pulumi up --policy-pack policy`` (rules in policy/rules.py).

Self-contained, so that ``pulumi policy publish`` can ship this directory alone: the policy host
runs it with this directory first on ``sys.path`` (runpy), where ``rules.py`` sits; its imports are
the packages ``requirements.txt`` pins.
"""

from pulumi_policy import EnforcementLevel, PolicyPack
from rules import POLICIES

PolicyPack(name="istio-multicluster", enforcement_level=EnforcementLevel.MANDATORY, policies=POLICIES)
