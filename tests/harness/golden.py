"""Golden resource graphs: what a stack deploys, as a readable, reviewable file.

A graph holds every resource's URN, provider, parent, dependencies, inputs, which inputs are secret
and which the engine ignores changes to (``ignoreChanges``), plus the stack outputs' names and which
are secret. Values the mocks mint afresh each test session (keys and certificates, and base64 of
them inside kubeconfigs, the digests of the root bundle and signing chain on istiod's and gateways'
pods) are replaced by placeholders, so the same program and config always give the same graph.

``UPDATE_GOLDEN=1 pytest tests/test_golden.py`` rewrites the files; review their diff like code:
it is exactly what ``pulumi preview`` would show as changed.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from components.istio.values import CA_BUNDLE_ANNOTATION, CA_CHAIN_ANNOTATION
from tests.harness.program import StackRun

GOLDEN_DIR = Path(__file__).resolve().parents[1] / "golden"
PEM = re.compile(r"-----BEGIN ([A-Z ]+)-----[^-]+-----END \1-----\n?")
# base64 of "-----BEGIN": certificate-authority-data and token Secret ca.crt values.
PEM_B64 = re.compile(r"LS0tLS1CRUdJT[A-Za-z0-9+/=]+")


def normalize(value: Any) -> Any:
    """``value`` with every PEM block and base64 PEM replaced by a placeholder naming its kind."""
    if isinstance(value, str):
        return PEM_B64.sub("<base64 pem>", PEM.sub(lambda m: f"<{m.group(1).lower()}>", value))
    if isinstance(value, dict):
        # Digests of the session's certificates: as fresh as they are.
        digests = {CA_BUNDLE_ANNOTATION: "<digest of the root bundle>", CA_CHAIN_ANNOTATION: "<digest of the signing chain>"}
        return {k: digests[k] if k in digests else normalize(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalize(v) for v in value]
    return value


def graph(run: StackRun) -> dict[str, Any]:
    """The run's resources by URN (sorted), and its stack outputs' names and secrecy."""
    resources = {
        r.urn: {
            "provider": r.provider_urn,
            "parent": r.parent,
            "dependencies": sorted(set(r.dependencies)),
            "inputs": normalize(r.inputs),
            "secretInputs": sorted(r.secret_inputs),
            "customTimeouts": r.custom_timeouts,
            # Inputs the engine sends from state instead of the program (an autoscaled pool's count, say).
            "ignoreChanges": sorted(r.ignore_changes),
            # The trigger is a digest of certificates the mocks mint afresh; whether there is one is stable.
            "replacementTrigger": r.replacement_trigger is not None,
        }
        for r in sorted(run.resources, key=lambda r: r.urn)
    }
    return {"resources": resources, "outputs": sorted(run.outputs), "secretOutputs": sorted(run.secret_outputs)}


def check_golden(name: str, actual: dict[str, Any]) -> None:
    """Assert ``actual`` equals ``tests/golden/<name>.json``; with ``UPDATE_GOLDEN=1`` write it instead."""
    path = GOLDEN_DIR / f"{name}.json"
    text = json.dumps(actual, indent=1, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to create it"
    expected = json.loads(path.read_text())
    assert actual == expected, f"{name} differs from {path}; if the change is intended, rerun with UPDATE_GOLDEN=1 and review the diff"
