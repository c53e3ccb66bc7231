"""Value kinds of config fields: how a raw value from the stack config becomes a typed one.

Each kind converts one value or reports why it cannot, through ``fail(code, message)``; it never
raises and never substitutes a default. Where YAML misleads (an unquoted ``1.30`` arrives as the
number 1.3, ``yes`` is text in the YAML 1.2 that Pulumi reads) the message says so and what to write.
Top-level Pulumi config arrives as strings, so integers and booleans are also taken from their text.
"""

from __future__ import annotations

import ipaddress
import re
import socket
import unicodedata
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from ipaddress import IPv4Address, IPv4Network
from typing import Any, Generic, TypeVar
from urllib.parse import SplitResult, urlsplit

T = TypeVar("T")
E = TypeVar("E", bound=StrEnum)
Fail = Callable[[str, str], None]
"""Records one problem of the value being converted: ``fail(code, message)``."""

DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
DNS_LABEL_HINT = "use a DNS-1123 label: at most 63 lowercase letters, digits and '-', starting and ending with a letter or digit"
# YAML 1.1 booleans that YAML 1.2 (which Pulumi reads) takes as text.
YAML_11_BOOLEAN_WORDS = {"yes", "no", "on", "off", "y", "n"}


def type_name(value: object) -> str:
    """How messages name the type of a decoded JSON/YAML value."""
    match value:
        case bool():
            return f"the boolean {str(value).lower()}"
        case int() | float():
            return f"the number {value}"
        case str():
            return f"the text {value!r}"
        case Mapping():
            return "an object"
        case list() | tuple():
            return "a list"
        case _:
            return "null" if value is None else type(value).__name__


class Kind(ABC, Generic[T]):
    """A field's value type. ``schema`` is its Pulumi.yaml type; ``readme`` how the README names it."""

    schema: str = "string"

    @property
    def readme(self) -> str:
        return self.schema

    @abstractmethod
    def convert(self, value: object, fail: Fail) -> T | None:
        """``value`` (never ``None``) as a ``T``, or ``None`` after ``fail`` was called."""

    def to_schema(self, value: T) -> object:
        """``value`` as Pulumi.yaml and the README write a default."""
        return value


@dataclass(frozen=True)
class Text(Kind[str]):
    """A non-empty string, optionally matching ``pattern`` (the whole string) or one of ``choices``.

    Args:
        pattern: the form the whole text must have (default: any).
        hint: what to do when it does not match (default none).
        choices: the only values allowed (default: any).
        max_length: the longest value allowed (default: no limit).
    """

    pattern: re.Pattern[str] | None = None
    hint: str = ""
    choices: tuple[str, ...] | None = None
    max_length: int | None = None

    @property
    def readme(self) -> str:
        return " | ".join(f"`{c}`" for c in self.choices) if self.choices else "string"

    def convert(self, value: object, fail: Fail) -> str | None:
        text = text_of(value, fail)
        if text is None:
            return None
        if self.choices is not None and text not in self.choices:
            fail("choice", f"{text!r} is not one of {', '.join(self.choices)}")
            return None
        if self.pattern is not None and not self.pattern.fullmatch(text):
            fail("pattern", f"{text!r} is not valid; {self.hint}")
            return None
        if self.max_length is not None and len(text) > self.max_length:
            fail("length", f"{text!r} is {len(text)} characters; at most {self.max_length} fit{'; ' + self.hint if self.hint else ''}")
            return None
        return text


@dataclass(frozen=True)
class Version(Kind[str]):
    """A release number: ``prefix``, then whole numbers joined by dots, each as releases are named,
    without leading zeros (``1.030`` names no release, and as text it differs from ``1.30``).

    Args:
        hint: what to write when it does not have that form, e.g. ``use a version such as 1.33``.
        parts: how many numbers it has, fewest and most (default exactly 3).
        prefix: the text before the first number, e.g. ``v`` (default none).
    """

    hint: str
    parts: tuple[int, int] = (3, 3)
    prefix: str = ""

    def convert(self, value: object, fail: Fail) -> str | None:
        text = text_of(value, fail)
        if text is None:
            return None
        numbers = text.removeprefix(self.prefix).split(".") if text.startswith(self.prefix) else []
        fewest, most = self.parts
        if not fewest <= len(numbers) <= most or not all(re.fullmatch(r"[0-9]+", n) for n in numbers):
            fail("pattern", f"{text!r} is not valid; {self.hint}")
            return None
        canonical = canonical_version(numbers, self.prefix)
        if canonical != text:
            fail("version-zeros", f"{text} has a leading zero, which no release is named with; write {canonical}")
            return None
        return text


def canonical_version(numbers: Sequence[str], prefix: str = "") -> str:
    """A release number as releases are named: each number without leading zeros (1.030.3 -> 1.30.3)."""
    return prefix + ".".join(str(int(n)) for n in numbers)


def text_of(value: object, fail: Fail) -> str | None:
    """``value`` if it is non-empty text with no whitespace at its ends and no control character
    inside; otherwise says why not, with YAML's usual surprises."""
    if isinstance(value, bool):
        fail("type", f"must be text, got {type_name(value)}; YAML reads an unquoted true or false as a boolean: quote it")
        return None
    if isinstance(value, float):
        fail(
            "type",
            f"must be text, got the number {value}; YAML reads an unquoted number as a number and drops trailing zeros "
            '(1.30 becomes 1.3): quote it, e.g. "1.30"',
        )
        return None
    if isinstance(value, int):
        fail("type", f'must be text, got the number {value}; quote it, e.g. "{value}"')
        return None
    if not isinstance(value, str):
        fail("type", f"must be text, got {type_name(value)}")
        return None
    return _clean_text(value, fail)


def _clean_text(value: str, fail: Fail) -> str | None:
    """``value`` unless it is blank, padded or holds a control character."""
    if not value.strip():
        fail("empty", "is empty; give a value or remove the field")
        return None
    if value != value.strip():
        # A YAML block scalar (| or >) keeps its final newline, and a pasted value its padding;
        # either would reach names, URLs and files as part of the value.
        fail("whitespace", f"{value!r} begins or ends with whitespace; remove it")
        return None
    control = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if control is not None:
        fail("control-character", f"{value!r} contains the control character {control!r}; remove it")
        return None
    return value


@dataclass(frozen=True)
class Integer(Kind[int]):
    """A whole number in [minimum, maximum] (defaults: no bound)."""

    minimum: int | None = None
    maximum: int | None = None
    schema = "integer"

    def convert(self, value: object, fail: Fail) -> int | None:
        number: object = value
        if isinstance(value, str) and re.fullmatch(r"[ \t\n\r]*-?[0-9]+[ \t\n\r]*", value):
            number = int(value)
        if isinstance(number, bool) or not isinstance(number, int):
            fail("type", f"must be a whole number, got {type_name(value)}")
            return None
        if self.minimum is not None and number < self.minimum:
            fail("range", f"must be at least {self.minimum}, got {number}")
            return None
        if self.maximum is not None and number > self.maximum:
            fail("range", f"must be at most {self.maximum}, got {number}")
            return None
        return number


@dataclass(frozen=True)
class Boolean(Kind[bool]):
    """``true`` or ``false``."""

    schema = "boolean"

    def convert(self, value: object, fail: Fail) -> bool | None:
        if isinstance(value, bool):
            return value
        if value in ("true", "false"):
            return value == "true"
        word = value.strip().lower() if isinstance(value, str) else None
        if word in YAML_11_BOOLEAN_WORDS:
            fail("type", f"must be true or false, got {value!r}; YAML 1.2, which Pulumi reads, takes {value} as text: write true or false")
            return None
        if word in ("true", "false"):
            fail("type", f"must be true or false, got the text {value!r} (quoted or padded); write {word} without quotes")
            return None
        fail("type", f"must be true or false, got {type_name(value)}")
        return None


@dataclass(frozen=True)
class Choice(Kind[E]):
    """One of the values of the enumeration ``enum``, in its declaration order."""

    enum: type[E]

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(member.value for member in self.enum)

    @property
    def readme(self) -> str:
        return " | ".join(f"`{v}`" for v in self.values)

    def convert(self, value: object, fail: Fail) -> E | None:
        text = Text(choices=self.values).convert(value, fail)
        return self.enum(text) if text is not None else None

    def to_schema(self, value: E) -> object:
        return str(value)


@dataclass(frozen=True)
class Cidr(Kind[IPv4Network]):
    """An IPv4 CIDR block whose host bits are zero."""

    @property
    def readme(self) -> str:
        return "CIDR"

    def convert(self, value: object, fail: Fail) -> IPv4Network | None:
        text = text_of(value, fail)
        if text is None:
            return None
        try:
            return IPv4Network(text)
        except ValueError:
            pass
        try:
            loose = IPv4Network(text, strict=False)
        except ValueError:
            fail("not-cidr", f"{text!r} is not an IPv4 CIDR block such as 10.0.0.0/16")
            return None
        fail("cidr-host-bits", f"{text} has host bits set; did you mean {loose}?")
        return None

    def to_schema(self, value: IPv4Network) -> object:
        return str(value)


# Ranges that never appear as the source of a connection to a public endpoint (IANA's IPv4
# special-purpose registry, RFC 6890): "this network", RFC 1918, shared address space (RFC 6598,
# carrier-grade NAT), loopback, link-local, IETF protocol assignments, benchmarking (RFC 2544),
# and multicast and the reserved 240/4, which ``IPv4Network`` knows. The documentation ranges of
# RFC 5737 (192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24) are accepted: they stand for public
# addresses in examples and tests.
NON_PUBLIC_RANGES = tuple(
    IPv4Network(n)
    for n in (
        "0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.0.0.0/24",
        "192.168.0.0/16", "198.18.0.0/15",
    )
)  # fmt: skip
# No operator or egress range is wider than a /8; one that is would admit much of the internet.
MIN_PUBLIC_PREFIX = 8
OPEN_TO_ALL = IPv4Network("0.0.0.0/0")


@dataclass(frozen=True)
class PublicCidr(Cidr):
    """A CIDR of public addresses, as a public endpoint sees its clients (EKS refuses reserved ranges
    in publicAccessCidrs; AKS's authorized ranges must be public).

    Args:
        open_to_all: also accept 0.0.0.0/0, which the cloud reads as "anyone" (default false).
    """

    open_to_all: bool = False

    @property
    def readme(self) -> str:
        return "public CIDR (or `0.0.0.0/0`)" if self.open_to_all else "public CIDR"

    def convert(self, value: object, fail: Fail) -> IPv4Network | None:
        network = super().convert(value, fail)
        if network is None or (self.open_to_all and network == OPEN_TO_ALL):
            return network
        if network.prefixlen < MIN_PUBLIC_PREFIX:
            fail(
                "open-to-all",
                f"{network} spans more than a /{MIN_PUBLIC_PREFIX}, which would open the endpoint to much of the internet; "
                "list the public ranges you trust",
            )
            return None
        reserved = non_public_range(network)
        if reserved is not None:
            fail(
                "private-range",
                f"{network} is not public (it lies in {reserved}); a public endpoint sees the public address a NAT or "
                "firewall sends from: list that (e.g. $(curl -s https://checkip.amazonaws.com)/32)",
            )
            return None
        return network


def non_public_range(network: IPv4Network) -> str | None:
    """The special-purpose range ``network`` overlaps (``10.0.0.0/8``, ``multicast``...), or ``None``
    when all its addresses are public."""
    if network.is_multicast:
        return "multicast 224.0.0.0/4"
    if network.is_reserved:
        return "the reserved 240.0.0.0/4"
    return next((str(n) for n in NON_PUBLIC_RANGES if network.overlaps(n)), None)


@dataclass(frozen=True)
class Address(Kind[IPv4Address]):
    """An IPv4 address."""

    @property
    def readme(self) -> str:
        return "IPv4 address"

    def convert(self, value: object, fail: Fail) -> IPv4Address | None:
        text = text_of(value, fail)
        if text is None:
            return None
        try:
            return IPv4Address(text)
        except ValueError:
            fail("not-address", f"{text!r} is not an IPv4 address")
            return None


@dataclass(frozen=True)
class DialableUrl(Kind[str]):
    """An ``https://host[:port][/path]`` URL that pods of other clusters can dial.

    The host is an IP address or a DNS name (labels of letters, digits, '-' and '_'; Go's URL
    parser, which client-go uses, refuses a space, and no resolver finds one). Loopback and
    unspecified hosts are refused in every spelling a client resolves them from (``localhost``,
    ``127.1``, ``0x7f.1``, ``2130706433``, ``0``, ``[::1]``, ``[::ffff:127.0.0.1]``): such a URL
    reaches the pod that dials it, never the cluster.
    """

    example: str = "https://172.18.0.3:6443"

    @property
    def readme(self) -> str:
        return "https URL"

    def convert(self, value: object, fail: Fail) -> str | None:
        text = text_of(value, fail)
        if text is None:
            return None
        try:
            parts = urlsplit(text)
        except ValueError:  # a bracketed host that is no IPv6 address, or an unclosed bracket
            fail("url-host", f"{text!r} has a host in brackets that is not an IPv6 address; e.g. {self.example}")
            return None
        problem = self._form_problem(text, parts) or self._host_problem(text, parts.hostname or "")
        if problem is not None:
            fail(*problem)
            return None
        return text

    def _form_problem(self, text: str, parts: SplitResult) -> tuple[str, str] | None:
        """The code and message of what is wrong with the URL's scheme, parts or port, if anything."""
        if parts.scheme != "https" or not parts.hostname:
            return "url", f"{text!r} is not an https:// URL with a host"
        if parts.username or parts.password or parts.query or parts.fragment:
            return "url", f"{text!r} carries credentials, a query or a fragment; give only https://host:port"
        try:
            port = parts.port
        except ValueError:
            port = 0
        if port == 0 or (parts.netloc.endswith(":") and port is None):
            return "url-port", f"{text!r} has no valid port; use a port from 1 to 65535, e.g. {self.example}"
        return None

    def _host_problem(self, text: str, host: str) -> tuple[str, str] | None:
        """The code and message of what keeps other clusters' pods from dialling ``host``, if anything."""
        malformed = host_name_problem(host)
        if malformed:
            return "url-host", f"{text!r} has the host {host!r}, which is neither an IP address nor a DNS name: {malformed}"
        unreachable = unreachable_host(host)
        if unreachable:
            return (
                "loopback-url",
                f"{text} names {unreachable}, which other clusters' pods cannot reach; set it to an address they can "
                f"dial (for kind: the control-plane container's IP or name, e.g. {self.example})",
            )
        return None


# A DNS label as resolvers take it: letters, digits, '-' and '_' (Docker's and SRV-style names),
# 1-63 characters, not starting or ending with '-' (RFC 1123 §2.1, RFC 2181 §11).
HOST_LABEL = re.compile(r"[a-z0-9_]([-a-z0-9_]{0,61}[a-z0-9_])?")
MAX_HOST_NAME = 253


def host_name_problem(host: str) -> str | None:
    """What keeps ``host`` (lowercase, IPv6 without brackets, as ``urlsplit`` gives it) from being
    an IP address or a DNS name, or ``None``. One trailing dot (the DNS root) is allowed."""
    if ":" in host:
        return None  # an IPv6 address; urlsplit has checked it
    name = host.removesuffix(".")
    address = numeric_address(name)
    if address is not None:
        return legacy_ipv4_problem(name, address)
    labels = name.split(".")
    bad = next((label for label in labels if not HOST_LABEL.fullmatch(label)), None)
    if bad is not None:
        return (
            f"the label {bad!r} is not 1-63 letters, digits, '-' or '_' starting and ending with a letter, digit or '_'; "
            "fix the host's spelling"
        )
    if len(name) > MAX_HOST_NAME:
        return f"it is {len(name)} characters, and DNS names have at most {MAX_HOST_NAME}; use a shorter name or the IP address"
    if re.fullmatch(r"[0-9]+", labels[-1]):
        return "it is no IPv4 address (four numbers from 0 to 255), and a DNS name never ends in a number (RFC 3696 §2)"
    return None


def legacy_ipv4_problem(name: str, address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> str | None:
    """Why ``name``, which a resolver reads as ``address``, must be written otherwise, or ``None``.
    ``inet_aton``'s legacy forms (``127.1``, ``0x7f.1``, ``010.0.0.1``: octal, hex, fewer parts) are
    read as an address by C resolvers but as a host name by Go's (``net.ParseIP`` takes only dotted
    decimal, and refuses leading zeros since Go 1.17), and kubectl, the Kubernetes provider and istiod
    are Go programs: the same URL would reach different machines."""
    try:
        ipaddress.ip_address(name)
    except ValueError:
        return f"{name!r} is a legacy IPv4 form that some clients read as {address} and others as a host name; write {address}"
    return None


def unreachable_host(host: str) -> str | None:
    """Why ``host`` cannot be dialled from another machine ("the loopback address 127.0.0.1",
    "the unspecified address 0.0.0.0"), or ``None`` when it can be."""
    name = host.lower().rstrip(".")
    if name in ("localhost", "localhost.localdomain") or name.endswith(".localhost"):
        return f"this machine ({host})"
    address = numeric_address(name)
    if address is None:
        return None
    if address.is_loopback:
        return f"the loopback address {address}"
    if address.is_unspecified:
        return f"the unspecified address {address}"
    return None


def numeric_address(name: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """``name`` as the IP address a resolver makes of it, including the legacy IPv4 forms that
    ``inet_aton`` accepts (``127.1``, ``0x7f000001``, ``017700000001``) and IPv4-mapped IPv6
    addresses (``::ffff:127.0.0.1`` is 127.0.0.1); ``None`` for host names."""
    try:
        address = ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        mapped = address.ipv4_mapped if isinstance(address, ipaddress.IPv6Address) else None
        return mapped or address
    if not re.fullmatch(r"[0-9a-fx.]+", name) or not name[0].isdigit():
        return None
    try:
        return IPv4Address(socket.inet_aton(name))
    except OSError:
        return None


HTTPS_PORT = 443


def dialled_endpoint(url: str) -> tuple[str, int, str]:
    """What a client dials for ``url`` (one ``DialableUrl`` accepted), so that two spellings of one
    endpoint compare equal: the host as its IP address or as a lowercase name without the trailing
    dot, the port (https's 443 when none is given) and the path without trailing '/'."""
    parts = urlsplit(url)
    host = (parts.hostname or "").removesuffix(".")
    address = numeric_address(host)
    return (str(address) if address is not None else host, parts.port or HTTPS_PORT, parts.path.rstrip("/"))


@dataclass(frozen=True)
class ListOf(Kind[tuple[T, ...]]):
    """A list of ``item`` values, at least ``min_items`` of them (default 0)."""

    item: Kind[T]
    min_items: int = 0
    schema = "array"

    @property
    def readme(self) -> str:
        return f"list of {self.item.readme}"

    def convert(self, value: object, fail: Fail) -> tuple[T, ...] | None:
        if not isinstance(value, list):
            extra = f"; write it as a list: [{value}]" if isinstance(value, str | int | float) and not isinstance(value, bool) else ""
            fail("type", f"must be a list, got {type_name(value)}{extra}")
            return None
        if len(value) < self.min_items:
            fail("empty-list", f"lists {len(value)} value{'s' if len(value) != 1 else ''}; give at least {self.min_items}")
            return None
        items = [self.item.convert(v, fail) for v in value]
        if any(i is None for i in items):
            return None
        return tuple(i for i in items if i is not None)

    def to_schema(self, value: tuple[T, ...]) -> object:
        return [self.item.to_schema(v) for v in value]


@dataclass(frozen=True)
class ValueTree(Kind[dict[str, Any]]):
    """An object of free-form values (Helm values); its rules are the reader's."""

    schema = "object"

    def convert(self, value: object, fail: Fail) -> dict[str, Any] | None:
        if not isinstance(value, Mapping):
            fail("type", f"must be an object, got {type_name(value)}")
            return None
        return {str(k): v for k, v in value.items()}
