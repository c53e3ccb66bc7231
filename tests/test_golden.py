"""Each shipped stack deploys exactly what its golden graph says (URNs, providers, dependencies, inputs).

A refactor must leave these files untouched; a deliberate change shows up as their diff.
"""

from __future__ import annotations

import pytest

from tests.harness.golden import check_golden, graph
from tests.harness.program import run_stack

# The multicloud stack ships without operatorCidrs (each operator sets their own); the tests use a
# documentation range.
STACKS = {"aks": {}, "eks": {}, "kind": {}, "kind-ambient": {}, "multicloud": {"operatorCidrs": ["203.0.113.0/24"]}}


@pytest.mark.parametrize("stack", STACKS)
def test_stack_graph_matches_its_golden_file(stack: str) -> None:
    check_golden(stack, graph(run_stack(stack, STACKS[stack] or None)))
