"""Each shipped stack deploys exactly what its golden graph says (URNs, providers, dependencies, inputs).

A refactor must leave these files untouched; a deliberate change shows up as their diff.
"""

from __future__ import annotations

import pytest

from tests.harness.golden import check_golden, graph
from tests.harness.program import OPERATOR_SET, SHIPPED_STACKS, run_stack


@pytest.mark.parametrize("stack", SHIPPED_STACKS)
def test_stack_graph_matches_its_golden_file(stack: str) -> None:
    check_golden(stack, graph(run_stack(stack, OPERATOR_SET.get(stack))))
