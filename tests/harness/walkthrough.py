"""README walkthroughs generated from day-2 runs: what a step's ``pulumi up`` changed, in words, and
the check that the README says exactly that (``UPDATE_README=1`` rewrites the block)."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Sequence
from pathlib import Path

from tests.harness.changes import Changes

README = Path(__file__).resolve().parents[2] / "README.md"


def generic(names: Iterable[str], clusters: Sequence[str]) -> list[str]:
    """Names with each cluster's name replaced by ``<cluster>``, once each."""
    pattern = re.compile("|".join(re.escape(c) for c in sorted(clusters, key=len, reverse=True)))
    return sorted({pattern.sub("<cluster>", name) for name in names})


def change_lines(found: Changes, clusters: Sequence[str], indent: str = "   ") -> list[str]:
    """One line per kind of change: ``- creates `a`, `b```, and so on, in the engine's order."""
    verbs = (("creates", found.create), ("updates", found.update), ("replaces", found.replace), ("deletes", found.delete))
    return [f"{indent}- {verb} " + ", ".join(f"`{n}`" for n in generic(names, clusters)) for verb, names in verbs if names]


def wrap(text: str, indent: str, width: int = 100) -> list[str]:
    lines, line = [], indent
    for word in text.split():
        if len(line) + len(word) + 1 > width and line.strip():
            lines.append(line.rstrip())
            line = indent
        line += word + " "
    return [*lines, line.rstrip()]


def assert_readme_block(start: str, end: str, body: Sequence[str]) -> None:
    """The README holds ``body`` between the markers ``start`` and ``end``."""
    readme = README.read_text()
    expected = "\n".join([start, "", *body, end])
    first, last = readme.index(start), readme.index(end) + len(end)
    if os.environ.get("UPDATE_README"):
        README.write_text(readme[:first] + expected + readme[last:])
        readme = README.read_text()
        first, last = readme.index(start), readme.index(end) + len(end)
    assert readme[first:last] == expected
