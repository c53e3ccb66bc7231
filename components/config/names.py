"""Resource names: how the program makes each one from the config, and the rule that no two
resources of one type get the same name.

Pulumi identifies a resource by its URN: the stack, the type tokens of its parents and its own, and
its name; the names of its parents are not part of it. The program names resources by joining
names from the config (clusters, revision tags, node pools, VPCs, ...) with fixed words and "-",
which those names may contain too, so two different configs values can join to one name: a cluster
``root`` makes ``mesh-ca-root-key``, the name of the mesh root's key; clusters ``prod`` and
``prod-canary`` with a ``canary`` tag both make ``mesh-check-prod-canary-probe``. The engine refuses
the second registration of a URN ("Duplicate resource URN") after creating everything registered
before it.

So every resource name is made by a ``NameTemplate``, which the component that registers the
resource calls; the same templates list, for a parsed config, every name the program will register
(``NamePlan``), and a collision is refused before any resource exists, naming the config fields
whose values make both names. Templates live beside what they name: the mesh's in
``components.config.mesh_names``, each platform's in its own ``names`` module.

Children of remote components (pulumi-eks' ``Cluster`` and ``ManagedNodeGroup``, the kubernetes
provider's yaml/v2 ``ConfigFile``) are named by their providers as the component's name, "-" and a
fixed word of theirs; a unique component name keeps them unique, so the plan stops at the component.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from components.config.model import MeshSpec
from components.config.problems import Owner, Problems


@dataclass(frozen=True)
class NameSource:
    """A config value that a resource name is made of.

    Args:
        path: the field, e.g. ``clusters[2].name`` or ``istioRevisions.canary``.
        owner: the cluster or VPC it belongs to (default none).
    """

    path: str
    owner: Owner | None = None

    def __str__(self) -> str:
        return f"{self.path} ({self.owner})" if self.owner is not None else self.path


def cluster_source(mesh: MeshSpec, cluster: str, key: str = "name") -> NameSource:
    """The field ``key`` of a cluster's entry (default its name) as a name's source."""
    return NameSource(f"clusters[{mesh.index(cluster)}].{key}", Owner("cluster", cluster))


@dataclass(frozen=True)
class NameTemplate:
    """How one kind of resource is named.

    Args:
        type: the resource's type token, e.g. ``tls:index/privateKey:PrivateKey``.
        pattern: its name as a ``str.format`` pattern over named parts, e.g. ``{ca}-{cluster}-key``.
        what: what the resource is, a pattern over the same parts, for messages.
        parent: the type token of the component it is registered under (default none: the stack).
    """

    type: str
    pattern: str
    what: str
    parent: str = ""

    def name(self, **parts: str) -> str:
        """The resource's name, from its parts (every ``{part}`` of the pattern)."""
        return self.pattern.format(**parts)

    def child(self, type_: str, pattern: str, what: str) -> NameTemplate:
        """A template for a resource registered under the component this template names."""
        return NameTemplate(type_, pattern, what, self.urn_type)

    @property
    def urn_type(self) -> str:
        """The type part of the URN: the parents' type tokens and its own, joined by ``$``."""
        return f"{self.parent}${self.type}" if self.parent else self.type


@dataclass(frozen=True)
class PlannedName:
    """A name the program will register, and where it comes from.

    Args:
        template: the template that made it.
        name: the name.
        what: what the resource is, for messages.
        sources: the config values the name is made of.
    """

    template: NameTemplate
    name: str
    what: str
    sources: tuple[NameSource, ...]

    @property
    def urn_type(self) -> str:
        return self.template.urn_type

    @property
    def kind(self) -> str:
        """How a message names its type: the package and the type's last word (``tls PrivateKey``)."""
        package, *_, last = self.urn_type.rsplit("$", 1)[-1].split(":")
        return f"{package} {last}"


class NamePlan:
    """Every resource name a parsed config makes, in the order the program registers them."""

    def __init__(self) -> None:
        self.names: list[PlannedName] = []
        self._seen: set[tuple[str, str, str]] = set()

    def add(self, template: NameTemplate, sources: Sequence[NameSource] = (), **parts: str) -> str:
        """Plan ``template``'s name from ``parts``, made of the config values ``sources``; returns it.
        The same resource planned twice (a resource group two clusters share) counts once."""
        name = template.name(**parts)
        what = template.what.format(**parts)
        key = (template.urn_type, name, what)
        if key not in self._seen:
            self._seen.add(key)
            self.names.append(PlannedName(template, name, what, tuple(sources)))
        return name

    def check(self, problems: Problems) -> None:
        """One problem per name that two resources of one type would get, at the later one's field."""
        first: dict[tuple[str, str], PlannedName] = {}
        for planned in self.names:
            earlier = first.setdefault((planned.urn_type, planned.name), planned)
            if earlier is not planned:
                problems.add(*_collision(earlier, planned))


def _natural(path: str) -> tuple[object, ...]:
    """``path`` in reading order: clusters[2] before clusters[10]."""
    return tuple(int(part) if part.isdigit() else part for part in re.split(r"([0-9]+)", path))


def _collision(earlier: PlannedName, later: PlannedName) -> tuple[str, str, str, Owner | None]:
    """The problem of two resources named alike: at the later one's last source, naming both."""
    paths = sorted({s.path for s in (*earlier.sources, *later.sources)}, key=_natural)
    at = (later.sources or earlier.sources or (NameSource(""),))[-1]
    fields = paths[0] if len(paths) == 1 else f"one of {', '.join(paths[:-1])} or {paths[-1]}"
    return (
        at.path,
        "name-collision",
        f"{later.kind} {later.name} would be registered twice, for {earlier.what} and for {later.what}; Pulumi refuses the "
        f"second after creating everything before it: rename {fields}",
        at.owner,
    )
