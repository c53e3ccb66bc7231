"""What the config layer knows of Istio: the releases it supports and the istiod values it owns.

Istio supports its newest three minors; in late 2026 those are 1.29, 1.30 and 1.31 (istio.io's
support page). The charts' value trees this program writes are pinned for them, so a version
outside them is refused rather than installed with values a chart may ignore.

The istiod values the program derives from the mesh (mesh ID, cluster name, network, revision, the
topology's settings) hold the mesh together: a cluster whose ``clusterName`` differs from the key
of its remote secrets elsewhere is never discovered, and Helm ignores a misplaced key silently.
``istiodValues`` may therefore set none of them, nor replace an object that contains one with
something else (``global: "oops"`` would drop them all).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.config.fields import Reader, path_key
from components.config.kinds import DNS_LABEL, DNS_LABEL_HINT, Fail, Kind, canonical_version, text_of, type_name
from components.config.model import DEFAULT_TAG, MeshSpec, revision_name
from components.istio.owned import MERGED_ISTIOD_LISTS, MERGED_ISTIOD_MAPS

SUPPORTED_ISTIO_MINORS = ((1, 29), (1, 30), (1, 31))
EXACT_VERSION = re.compile(r"([0-9]+)\.([0-9]+)\.([0-9]+)")

# The Gateway API release each Istio minor is built against (its go.mod: sigs.k8s.io/gateway-api);
# ambient meshes install its standard-channel CRDs, which Istio's charts do not ship.
GATEWAY_API_RELEASES = {(1, 29): "v1.4.1", (1, 30): "v1.5.1", (1, 31): "v1.6.0"}
GATEWAY_API_TAG = re.compile(r"v([0-9]+)\.([0-9]+)\.([0-9]+)")
# A tag names the check's namespace ``sample-<tag>``, which must fit a DNS label.
MAX_TAG_LENGTH = 63 - len("sample-")


def minor_text(minor: tuple[int, int]) -> str:
    return f"{minor[0]}.{minor[1]}"


@dataclass(frozen=True)
class IstioVersion(Kind[str]):
    """An exact Istio release (x.y.z) of a supported minor."""

    default: str

    @property
    def readme(self) -> str:
        return "Istio release x.y.z"

    def convert(self, value: object, fail: Fail) -> str | None:
        text = text_of(value, fail)
        if text is None:
            return None
        match = EXACT_VERSION.fullmatch(text)
        if match is None:
            yaml_hint = " (YAML reads an unquoted 1.30 as the number 1.3: quote versions)" if re.fullmatch(r"[0-9]+\.[0-9]+", text) else ""
            fail("istio-version", f"{text!r} is not an exact Istio release; use x.y.z, e.g. {self.default}{yaml_hint}")
            return None
        canonical = canonical_version(match.groups())
        if canonical != text:
            # Revisions are named after the text (1-030-3): one release would get two istiods.
            fail("istio-version", f"{text} has a leading zero, which no Istio release is named with; write {canonical}")
            return None
        minor = (int(match[1]), int(match[2]))
        supported = ", ".join(minor_text(m) for m in SUPPORTED_ISTIO_MINORS)
        if minor < SUPPORTED_ISTIO_MINORS[0] and minor[0] == 1:
            fail("istio-version", f"{text} is end-of-life; use {minor_text(SUPPORTED_ISTIO_MINORS[0])} or newer (default {self.default})")
            return None
        if minor not in SUPPORTED_ISTIO_MINORS:
            fail("istio-version", f"{text} is not a supported Istio release; use one of the minors {supported} (default {self.default})")
            return None
        return text


def minor_of(version: str) -> tuple[int, int]:
    major, minor, _ = (int(part) for part in version.split("."))
    return major, minor


@dataclass(frozen=True)
class RevisionTags(Kind[dict[str, str]]):
    """Revision tags -> exact Istio versions: the ``default`` tag required, every tag a DNS label,
    at most two minors side by side, and those adjacent (Istio's canary upgrades go one minor at a time)."""

    default: str
    schema = "object"

    @property
    def readme(self) -> str:
        return "object: tag -> Istio release"

    def convert(self, value: object, fail: Fail) -> dict[str, str] | None:
        if not isinstance(value, Mapping):
            example = f'{{default: "{self.default}"}}'
            fail("type", f"must be an object of revision tags and Istio releases, e.g. {example}; got {type_name(value)}")
            return None
        tags = self._tags(value, fail)
        if tags is None or not self._tags_apart_from_revisions(tags, fail):
            return None
        if DEFAULT_TAG not in tags:
            fail("default-tag", f'has no default tag; gateways and workloads follow it: add default: "{self.default}"')
            return None
        minors = sorted({minor_of(v) for v in tags.values()})
        if len(minors) > 2 or (len(minors) == 2 and minors[1][1] - minors[0][1] != 1):
            shown = ", ".join(minor_text(m) for m in minors)
            fail("minors", f"runs {shown} side by side; an upgrade runs at most two adjacent minors at once (e.g. 1.30 and 1.31)")
            return None
        return tags

    def _tags(self, value: Mapping[object, object], fail: Fail) -> dict[str, str] | None:
        """Every tag with its release, or ``None`` when any tag or release is not valid."""
        tags: dict[str, str] = {}
        versions = IstioVersion(self.default)
        for tag, raw in value.items():
            if not isinstance(tag, str) or not DNS_LABEL.fullmatch(tag):
                fail("tag", f"tag {tag!r} is not valid; {DNS_LABEL_HINT}")
                continue
            if len(tag) > MAX_TAG_LENGTH:
                fail("tag", f"tag {tag!r} is {len(tag)} characters; at most {MAX_TAG_LENGTH} (the check names a namespace sample-<tag>)")
                continue
            version = versions.convert(raw, lambda code, message, t=tag: fail(code, f"{t}: {message}"))
            if version is not None:
                tags[tag] = version
        return tags if len(tags) == len(value) else None

    @staticmethod
    def _tags_apart_from_revisions(tags: Mapping[str, str], fail: Fail) -> bool:
        """istiod matches ``istio.io/rev`` against its revision and its tags alike (istioctl refuses
        a tag named after a revision), so a tag named ``1-30-3`` would be ambiguous."""
        revisions = {revision_name(v): v for v in tags.values()}
        clashing = sorted(t for t in tags if t in revisions)
        for tag in clashing:
            fail("tag", f"tag {tag!r} is the revision name of {revisions[tag]}; name the tag apart from every revision")
        return not clashing


def gateway_api_release(version: str) -> str:
    """The Gateway API release whose CRDs an Istio release (x.y.z) is built against."""
    return GATEWAY_API_RELEASES[minor_of(version)]


def installed_gateway_api(mesh: MeshSpec) -> str:
    """The Gateway API release whose CRDs an ambient mesh installs: the pinned one, else the one
    the newest installed Istio is built against."""
    return mesh.gateway_api_release or gateway_api_release(mesh.newest_version)


def gateway_api_order(release: str) -> tuple[int, ...]:
    """A Gateway API release tag (vX.Y.Z) as numbers, to compare releases."""
    found = GATEWAY_API_TAG.fullmatch(release)
    assert found is not None, release
    return tuple(int(part) for part in found.groups())


def check_istiod_values(reader: Reader, key: str, values: Mapping[str, Any], owned: Mapping[tuple[str, ...], str]) -> bool:
    """Record a problem for each program-owned path (``owned``: ``PROGRAM_OWNED_ISTIOD_VALUES`` and the
    platforms' own) that ``values`` (the field ``key``) sets or replaces with a non-object, and for
    each value the program merges its own into that has the wrong shape or takes the program's
    entries; returns whether there was none."""
    checks = (_owned_paths(reader, key, values, owned), _merged_lists(reader, key, values), _merged_maps(reader, key, values))
    return all(checks)


def _owned_paths(reader: Reader, key: str, values: Mapping[str, Any], owned: Mapping[tuple[str, ...], str]) -> bool:
    clean = True
    reported: set[tuple[str, ...]] = set()
    for path, decided_by in owned.items():
        node: object = values
        for depth, step in enumerate(path):
            if not isinstance(node, Mapping) or step not in node:
                break
            node = node[step]
            here = path[: depth + 1]
            if depth == len(path) - 1:
                reader.fail(f"{key}.{value_path(here)}", "owned-value", f"is set by the program from {decided_by}; remove it here")
                clean = False
            elif not isinstance(node, Mapping):
                # A merged map's shape is _merged_maps's to report.
                if here not in reported and here not in {(m,) for m in MERGED_ISTIOD_MAPS}:
                    reported.add(here)
                    inside = sorted(value_path(p) for p in owned if p[: len(here)] == here)
                    reader.fail(
                        f"{key}.{value_path(here)}",
                        "owned-value",
                        f"is {type_name(node)}, but the program sets {', '.join(inside)} inside it; make it an object",
                    )
                    clean = False
                break
    return clean


def value_path(path: tuple[str, ...]) -> str:
    """A Helm value path as messages write it: dotted, a key that is no plain name quoted in
    brackets (``podLabels["azure.workload.identity/use"]``), as problem paths quote keys."""
    text = ""
    for step in path:
        quoted = path_key(step)
        text += quoted if quoted.startswith("[") else f"{'.' if text else ''}{quoted}"
    return text


def _merged_lists(reader: Reader, key: str, values: Mapping[str, Any]) -> bool:
    """``volumes`` and ``volumeMounts`` are lists of objects the program appends its own to, whose
    names (and mount path) it owns (``MERGED_ISTIOD_LISTS``)."""
    clean = True
    for name, owned_fields in MERGED_ISTIOD_LISTS.items():
        if name not in values:
            continue
        items = values[name]
        if not isinstance(items, list):
            reader.fail(
                f"{key}.{name}",
                "istiod-value-type",
                f"is {type_name(items)}, but it is a list of objects, to which the program adds its own; "
                "write it as a list, e.g. [{name: extra, emptyDir: {}}]",
            )
            clean = False
            continue
        for index, item in enumerate(items):
            at = f"{key}.{name}[{index}]"
            if not isinstance(item, Mapping):
                reader.fail(at, "istiod-value-type", f"is {type_name(item)}, but each entry of {name} is an object")
                clean = False
                continue
            for field_name, (owned_value, why) in owned_fields.items():
                if isinstance(item.get(field_name), str) and item[field_name].rstrip("/") == owned_value:
                    reader.fail(f"{at}.{field_name}", "owned-value", f"{owned_value} is {why}; choose another")
                    clean = False
    return clean


def _merged_maps(reader: Reader, key: str, values: Mapping[str, Any]) -> bool:
    """``podLabels`` and ``serviceAccountAnnotations`` are objects of text the program adds its own
    entries to; Kubernetes takes labels and annotations only as text."""
    clean = True
    for name in MERGED_ISTIOD_MAPS:
        if name not in values:
            continue
        entries = values[name]
        if not isinstance(entries, Mapping):
            reader.fail(
                f"{key}.{name}",
                "istiod-value-type",
                f"is {type_name(entries)}, but it is an object of text, to which the program adds its own entries; "
                "write it as an object, e.g. {team: mesh}",
            )
            clean = False
            continue
        for entry_key, entry_value in entries.items():
            if not isinstance(entry_value, str):
                reader.fail(
                    f"{key}.{value_path((name, str(entry_key)))}",
                    "istiod-value-type",
                    f"is {type_name(entry_value)}, but Kubernetes takes labels and annotations as text; quote it",
                )
                clean = False
    return clean
