"""A reader for one object of stack config that records problems instead of raising.

Validation must report every problem at once, each naming the field path and the cluster, so the
reader never stops at the first bad value: it notes the problem, returns ``None`` and lets the
caller carry on. ``ConfigError`` is raised once, by the caller, after everything was read.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from ipaddress import IPv4Address, IPv4Network
from urllib.parse import urlsplit

import pulumi

DNS_LABEL = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
DNS_LABEL_HINT = "use a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"


class ConfigError(pulumi.RunError):
    """The stack config is invalid. ``problems`` holds one sentence per problem found.

    A ``pulumi.RunError``, so ``pulumi up`` prints the sentences alone, without a traceback.
    """

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems: tuple[str, ...] = tuple(problems)
        count = len(self.problems)
        header = f"istio-multicluster: the stack config has {count} problem{'s' if count != 1 else ''}; nothing was created:"
        super().__init__("\n".join([header, *(f"  - {p}" for p in self.problems)]))


@dataclass
class Problems:
    """The list every reader appends to, shared by a whole parse."""

    items: list[str] = field(default_factory=list)

    def add(self, message: str) -> None:
        self.items.append(message)

    def raise_if_any(self) -> None:
        if self.items:
            raise ConfigError(self.items)


@dataclass
class Fields:
    """Typed access to one config object at ``path``; ``owner`` names the cluster it belongs to.

    Args:
        raw: the object as decoded from the stack config.
        path: its path from the config root, e.g. ``clusters[1]`` (default: the root, ``""``).
        owner: appended to every message, e.g. `` (cluster eastus-aks)`` (default: nothing).
        problems: where problems are recorded.
    """

    raw: Mapping[str, object]
    problems: Problems
    path: str = ""
    owner: str = ""
    _read: set[str] = field(default_factory=set)

    def where(self, key: str) -> str:
        """The full path of ``key`` with the owner, as messages print it."""
        full = f"{self.path}.{key}" if self.path else key
        return f"{full}{self.owner}"

    def fail(self, key: str, message: str) -> None:
        self.problems.add(f"{self.where(key)}: {message}")

    def has(self, key: str) -> bool:
        return self.raw.get(key) is not None

    def _get(self, key: str) -> object:
        self._read.add(key)
        return self.raw.get(key)

    def text(
        self,
        key: str,
        default: str | None = None,
        *,
        required: bool = False,
        pattern: re.Pattern[str] | None = None,
        hint: str = "",
        choices: Iterable[str] | None = None,
    ) -> str | None:
        """A string field; ``None`` (with a problem noted) when it is missing or malformed."""
        value = self._get(key)
        if value is None or value == "":  # Pulumi.yaml declares optional strings with default ""
            if required:
                self.fail(key, f"is required{'; ' + hint if hint else ''}")
            return default
        if not isinstance(value, str):
            self.fail(key, f"must be a non-empty string, got {value!r}")
            return None
        allowed = tuple(choices) if choices is not None else None
        if allowed is not None and value not in allowed:
            self.fail(key, f"{value!r} is not one of {', '.join(allowed)}")
            return None
        if pattern is not None and not pattern.match(value):
            self.fail(key, f"{value!r} is not valid; {hint}")
            return None
        return value

    def integer(self, key: str, default: int, *, minimum: int = 0) -> int | None:
        """A whole number >= ``minimum``; Pulumi hands top-level integers over as strings."""
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, str) and re.fullmatch(r"-?\d+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(key, f"must be a whole number, got {value!r}")
            return None
        if value < minimum:
            self.fail(key, f"must be at least {minimum}, got {value}")
            return None
        return value

    def boolean(self, key: str, default: bool) -> bool | None:
        """``true`` or ``false``; Pulumi hands top-level booleans over as strings."""
        value = self._get(key)
        if value is None:
            return default
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        self.fail(key, f"must be true or false, got {value!r}")
        return None

    def network(self, key: str, *, required: bool = False, hint: str = "") -> IPv4Network | None:
        """An IPv4 CIDR block whose host bits are zero."""
        value = self.text(key, required=required, hint=hint)
        if value is None:
            return None
        try:
            return IPv4Network(value)
        except ValueError:
            pass
        try:
            loose = IPv4Network(value, strict=False)
        except ValueError:
            self.fail(key, f"{value!r} is not an IPv4 CIDR block such as 10.0.0.0/16")
            return None
        self.fail(key, f"{value} has host bits set; did you mean {loose}?")
        return None

    def address(self, key: str) -> IPv4Address | None:
        """An IPv4 address, or ``None`` when unset."""
        value = self.text(key)
        if value is None:
            return None
        try:
            return IPv4Address(value)
        except ValueError:
            self.fail(key, f"{value!r} is not an IPv4 address")
            return None

    def https_url(self, key: str) -> str | None:
        """An https URL that other clusters can dial: never a loopback host."""
        value = self.text(key)
        if value is None:
            return None
        parts = urlsplit(value)
        if parts.scheme != "https" or not parts.hostname:
            self.fail(key, f"{value!r} is not an https:// URL with a host")
            return None
        if _is_loopback(parts.hostname):
            self.fail(
                key,
                f"{value} points at this machine, which other clusters' pods cannot reach; "
                "set it to an address they can dial (for kind: the control-plane container's IP, "
                "e.g. https://172.18.0.3:6443)",
            )
            return None
        return value

    def child(self, key: str, owner: str | None = None) -> Fields | None:
        """The object under ``key``, or ``None`` when unset (or not an object)."""
        value = self._get(key)
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.fail(key, f"must be an object, got {type(value).__name__}")
            return None
        return Fields(_str_keys(value), self.problems, _join(self.path, key), self.owner if owner is None else owner)

    def children(self, key: str, *, required: bool = False, hint: str = "") -> list[Fields]:
        """The objects of the list under ``key``; each element's path carries its index."""
        value = self._get(key)
        if value is None:
            if required:
                self.fail(key, f"is required{'; ' + hint if hint else ''}")
            return []
        if not isinstance(value, list):
            self.fail(key, f"must be a list, got {type(value).__name__}")
            return []
        items: list[Fields] = []
        for index, item in enumerate(value):
            item_path = f"{_join(self.path, key)}[{index}]"
            if isinstance(item, Mapping):
                items.append(Fields(_str_keys(item), self.problems, item_path, self.owner))
            else:
                self.problems.add(f"{item_path}{self.owner}: must be an object, got {type(item).__name__}")
        return items

    def strings(self, key: str, *, required: bool = False) -> tuple[str, ...]:
        """A list of non-empty strings."""
        value = self._get(key)
        if value is None:
            if required:
                self.fail(key, "is required")
            return ()
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.fail(key, f"must be a list of non-empty strings, got {value!r}")
            return ()
        return tuple(str(v) for v in value)

    def reject_unknown(self, allowed: Iterable[str], kind: str) -> None:
        """Note every key that is not in ``allowed``, suggesting the closest known one."""
        known = sorted(set(allowed))
        for key in self.raw:
            if key in known:
                continue
            close = difflib.get_close_matches(key, known, n=1)
            suggestion = f"did you mean {close[0]}?" if close else f"{kind} takes: {', '.join(known)}"
            self.fail(key, f"is not a field of {kind}; {suggestion}")


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _str_keys(value: Mapping[object, object]) -> dict[str, object]:
    return {str(k): v for k, v in value.items()}


def _is_loopback(host: str) -> bool:
    if host.lower() in ("localhost", "localhost.localdomain") or host.lower().endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
