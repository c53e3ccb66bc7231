"""Config field declarations and the reader that parses an object by them.

A ``Field`` is the one declaration of a config key: its name, value kind, default, description and
limits. The parser reads values through it, the unknown-key check lists the declared fields,
Pulumi.yaml's schema and the README tables are generated from the same objects, so a field is
declared, parsed, documented and validated by following one name.

``Reader`` reads one object of the stack config. It never stops at the first bad value: it records
a ``Problem`` (path, owner, code, message), returns ``None`` for the value and marks itself and the
objects that contain it as failed, so a caller can only build a spec from objects that read cleanly.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from components.config.kinds import Fail, Kind, ValueTree, type_name
from components.config.problems import Owner, Problems

T = TypeVar("T")
# What Pulumi.yaml declares as the default of an optional key without one: the CLI wants a value
# for every declared key, and passes it to the program like any other value.
EMPTY_DEFAULTS: dict[str, object] = {"string": "", "array": [], "object": {}}


@dataclass(frozen=True)
class Field(Generic[T]):
    """One config key.

    Args:
        key: the key as written in the stack config.
        kind: its value type and limits.
        description: what it does, for Pulumi.yaml and the README.
        default: the value when unset (default: none, the field is optional or ``required``).
        required: a missing value is a problem (default false).
        hint: what to do when a required value is missing (default none).
        default_text: the README's default when it is computed, e.g. ``istio-aks-<region>`` (default:
            from ``default``).
    """

    key: str
    kind: Kind[T]
    description: str
    default: T | None = None
    required: bool = False
    hint: str = ""
    default_text: str = ""

    @property
    def declared_default(self) -> object:
        """The default Pulumi.yaml declares for this key (``None`` for a required one), which the CLI
        passes to the program when the stack does not set the key."""
        if self.required:
            return None
        return self.kind.to_schema(self.default) if self.default is not None else EMPTY_DEFAULTS.get(self.kind.schema)

    @property
    def readme_default(self) -> str:
        if self.required or self.default_text:
            return "required" if self.required else self.default_text
        shown = self.kind.to_schema(self.default) if self.default is not None else None
        if shown in (None, {}, [], ""):
            return "none"
        items = shown if isinstance(shown, list) else [str(shown).lower() if isinstance(shown, bool) else shown]
        return ", ".join(f"`{item}`" for item in items)


PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")


def path_key(key: str) -> str:
    """``key`` as a step of a problem's path: as it is when it is a plain name, else quoted
    (``["0."]``), so that a key holding dots or brackets cannot read as a path of its own."""
    return key if PLAIN_KEY.fullmatch(key) else f"[{json.dumps(key)}]"


EMPTY_VALUES_RULE = (
    "Inside a cluster, node pool, node group, VPC or `metallb` object, a field that is there must hold a value: "
    'null, "", [] or {} is refused; remove the field to get its default. At the top level a key left out of the stack '
    "takes the default Pulumi.yaml declares, and an empty value that Pulumi.yaml declares for a key without a default "
    '("", [] or {}) means the key is unset.'
)
"""The one rule for empty values, as the README states it (``scripts/config_reference.py`` writes it there)."""


def empty_value(raw: object) -> str | None:
    """How a message names ``raw`` when it is empty (``null``, ``empty``, ``an empty list``, ...), else ``None``."""
    if raw is None:
        return "null"
    if isinstance(raw, str) and not raw.strip():
        return "empty" if not raw else "blank"
    if isinstance(raw, list | tuple) and not raw:
        return "an empty list"
    if isinstance(raw, Mapping) and not raw:
        return "an empty object"
    return None


@dataclass(frozen=True)
class Objects(Kind[tuple[object, ...]]):
    """A list of objects whose fields are ``fields``; the reader checks and parses each element.

    Args:
        fields: the fields each object may have.
        what: how messages name one object, e.g. ``a node pool``.
        min_items: the fewest objects allowed (default 0).
    """

    fields: Sequence[Field[Any]]
    what: str
    min_items: int = 0
    schema = "array"

    @property
    def readme(self) -> str:
        return "list of objects"

    def convert(self, value: object, fail: Fail) -> tuple[object, ...] | None:
        if not isinstance(value, list):
            fail("type", f"must be a list of objects, got {type_name(value)}")
            return None
        if len(value) < self.min_items:
            fail("empty-list", f"lists {len(value)} entr{'ies' if len(value) != 1 else 'y'}; give at least {self.min_items}")
            return None
        return tuple(value)

    def to_schema(self, value: tuple[object, ...]) -> object:
        return list(value)


@dataclass(frozen=True)
class Object(Kind[Mapping[str, object]]):
    """One object whose fields are ``fields``; ``what`` names it in messages."""

    fields: Sequence[Field[Any]]
    what: str
    schema = "object"

    def convert(self, value: object, fail: Fail) -> Mapping[str, object] | None:
        return ValueTree().convert(value, fail)


class Reader:
    """Typed access to one object of the stack config; see the module docstring.

    Args:
        raw: the object as decoded from the stack config.
        fields: the fields it may have.
        what: how messages name it, e.g. ``an azure cluster``.
        problems: where problems are recorded.
        path: its path from the config root, e.g. ``clusters[1]`` (default: the root, "").
        owner: the cluster or VPC it belongs to (default none; set it once the name is read).
        parent: the reader of the object containing it; a failure here fails the parent too (default none).
        top_level: the root of Pulumi config, where the empty value Pulumi.yaml declares for an
            optional key without a default means "unset" (the CLI passes it) (default false).
        index: its position in the config list it is an entry of (default 0: not a list entry).
    """

    def __init__(
        self,
        raw: Mapping[str, object],
        fields: Sequence[Field[Any]],
        what: str,
        problems: Problems,
        path: str = "",
        owner: Owner | None = None,
        parent: Reader | None = None,
        *,
        top_level: bool = False,
        index: int = 0,
    ) -> None:
        self.raw = raw
        self.fields = list(fields)
        self.what = what
        self.problems = problems
        self.path = path
        self.owner = owner
        self.parent = parent
        self.top_level = top_level
        self.index = index
        self.failed = False

    def at(self, key: str) -> str:
        """The full path of ``key`` (which may carry a sub-path such as ``nodePools[2].subnetCidr``,
        or be a quoted key, ``["a.b"]``)."""
        if not self.path:
            return key
        return f"{self.path}{key}" if key.startswith("[") else f"{self.path}.{key}"

    def fail(self, key: str, code: str, message: str) -> None:
        """Record a problem of ``key`` and mark this object (and those containing it) failed."""
        self.problems.add(self.at(key), code, message, self.owner)
        reader: Reader | None = self
        while reader is not None:
            reader.failed = True
            reader = reader.parent

    def refuse_replaced(self, key: str, message: str) -> None:
        """Refuse ``key``, which the config no longer reads (``message`` says what does its work
        now), and drop it so that it is not reported as unknown too."""
        self.fail(key, "replaced", message)
        self.raw = {k: v for k, v in self.raw.items() if k != key}

    def has(self, field: Field[Any]) -> bool:
        """Whether the config sets ``field`` (see ``EMPTY_VALUES_RULE``): inside an object, whether the
        key is there at all; at the top level, whether it holds anything but nothing or the empty
        default Pulumi.yaml declares for a key without a default."""
        if not self.top_level:
            return field.key in self.raw
        raw = self.raw.get(field.key)
        return raw is not None and not (field.default is None and raw == field.declared_default)

    def given(self, field: Field[Any]) -> bool:
        """Whether the config sets ``field`` to something other than its default: Pulumi passes
        Pulumi.yaml's declared default for every key a stack leaves out, so a value equal to it is
        unset. A value that does not parse counts as given (it is a problem of its own)."""
        if not self.has(field):
            return False
        value = field.kind.convert(self.raw[field.key], lambda _code, _message: None)
        return value is None or value != field.default

    def value(self, field: Field[T]) -> T | None:
        """The field's value: its default when unset (a problem if required), ``None`` when it failed.
        Inside an object, a key that is there with an empty value (null, "", [] or {}) is a problem
        (``EMPTY_VALUES_RULE``)."""
        if not self.has(field):
            if field.required:
                self.fail(field.key, "required", f"is required{'; ' + field.hint if field.hint else ''}")
            return field.default
        raw = self.raw[field.key]
        emptiness = None if self.top_level else empty_value(raw)
        if emptiness is not None:
            if field.required:
                self.fail(field.key, "empty", f"is {emptiness}, but it is required; {field.hint or 'give it a value'}")
            else:
                self.fail(field.key, "empty", f"is {emptiness}; remove the field to get its default")
            return None
        return field.kind.convert(raw, lambda code, message: self.fail(field.key, code, message))

    def objects(self, field: Field[tuple[object, ...]]) -> list[Reader]:
        """A reader for each object of the list ``field`` (an ``Objects`` kind), or none when it failed;
        each knows its ``index`` in the list, which entries that are no object do not shift."""
        kind = field.kind
        assert isinstance(kind, Objects), f"{field.key} is not a list of objects"
        items = self.value(field)
        readers: list[Reader] = []
        for index, item in enumerate(items or ()):
            path = f"{self.at(field.key)}[{index}]"
            if isinstance(item, Mapping):
                raw = {str(k): v for k, v in item.items()}
                readers.append(Reader(raw, kind.fields, kind.what, self.problems, path, self.owner, self, index=index))
            else:
                self.fail(f"{field.key}[{index}]", "type", f"must be an object, got {type_name(item)}")
        return readers

    def object(self, field: Field[Any]) -> Reader | None:
        """A reader for the object ``field`` (an ``Object`` kind), or ``None`` when unset or failed."""
        kind = field.kind
        assert isinstance(kind, Object), f"{field.key} is not an object"
        raw = self.value(field)
        if raw is None:
            return None
        return Reader(raw, kind.fields, kind.what, self.problems, self.at(field.key), self.owner, self)

    def reject_unknown(self) -> None:
        """Record every key that is not a declared field, suggesting the closest declared one."""
        known = sorted(f.key for f in self.fields)
        for key in self.raw:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            suggestion = f"did you mean {close[0]}?" if close else f"{self.what} takes: {', '.join(known)}"
            self.fail(path_key(key), "unknown-field", f"is not a field of {self.what}; {suggestion}")
