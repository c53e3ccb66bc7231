"""Problems in the stack config, collected as records and raised together as one ``ConfigError``.

Validation reports every problem at once, before any resource exists. Each problem names the field
path, the cluster (or VPC) it belongs to, a stable code tests and tools can match on, and a sentence
saying what is wrong and what to do.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

import pulumi


@dataclass(frozen=True)
class Owner:
    """What a field belongs to, as messages name it: ``cluster eastus-aks`` or ``vpc mesh-vpc``."""

    kind: str
    name: str

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Problem:
    """One problem of the stack config.

    Args:
        path: the field path from the config root, e.g. ``clusters[1].vnetCidr`` ("" for the config as a whole).
        code: a stable identifier of the rule that failed, e.g. ``overlap`` or ``loopback-url``.
        message: what is wrong and what to do, one sentence.
        owner: the cluster or VPC the field belongs to, once its name is known (default none).
    """

    path: str
    code: str
    message: str
    owner: Owner | None = None

    def __str__(self) -> str:
        owner = f" ({self.owner})" if self.owner is not None else ""
        return f"{self.path}{owner}: {self.message}"


class ConfigError(pulumi.RunError):
    """The stack config is invalid; ``problems`` holds every problem found.

    A ``pulumi.RunError``, so ``pulumi up`` prints the sentences alone, without a traceback.

    Args:
        problems: what is wrong.
        consequence: what it stopped, for the header (default: nothing was created, as the config
            layer finds problems before any resource).
    """

    def __init__(self, problems: Iterable[Problem], consequence: str = "nothing was created") -> None:
        self.problems: tuple[Problem, ...] = tuple(problems)
        count = len(self.problems)
        header = f"istio-multicluster: the stack config has {count} problem{'s' if count != 1 else ''}; {consequence}:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@dataclass
class Problems:
    """The problems of one whole parse, in the order they were found."""

    items: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)

    def add(self, path: str, code: str, message: str, owner: Owner | None = None) -> None:
        self.items.append(Problem(path, code, message, owner))

    def warn(self, path: str, code: str, message: str, owner: Owner | None = None) -> None:
        """A valid value that an operator should reconsider (an API open to the internet, say)."""
        self.warnings.append(Problem(path, code, message, owner))

    def about(self, path: str) -> bool:
        """Whether a problem of ``path`` is already recorded (a value that failed to parse is not
        also missing)."""
        return any(problem.path == path for problem in self.items)

    def __len__(self) -> int:
        return len(self.items)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)
