"""The two shapes every "must be unique" rule of the config takes, written once.

Either each later entry is refused naming the first one with its value (``later_repeats``: cluster
names, VPC names, admins, an existing cluster's context or API server), or each repeated value is
refused once with how often it appears (``counted_repeats``: zones, node group and pool names).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Hashable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)


def later_repeats(items: Iterable[T], key: Callable[[T], K]) -> Iterator[tuple[T, T]]:
    """Each item whose ``key`` an earlier item already had, with that first item, in order."""
    first: dict[K, T] = {}
    for item in items:
        earlier = first.setdefault(key(item), item)
        if earlier is not item:
            yield item, earlier


def counted_repeats(values: Iterable[K]) -> list[tuple[K, int]]:
    """Every value that appears more than once, sorted, with how many times it does."""
    counts = Counter(values)
    return sorted(((value, count) for value, count in counts.items() if count > 1), key=lambda pair: str(pair[0]))
