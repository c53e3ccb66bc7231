"""Node counts shared by the platforms' node pools and groups: desired within [minimum, maximum]."""

from __future__ import annotations

from components.config.fields import Field, Reader


def node_counts(reader: Reader, desired_field: Field[int], min_field: Field[int], max_field: Field[int]) -> tuple[int, int, int] | None:
    """Desired, minimum and maximum node counts; the bounds default to the desired count unless
    their field declares a default; the desired count must lie between them."""
    desired = reader.value(desired_field)
    low = reader.value(min_field)
    high = reader.value(max_field)
    if desired is None or (low is None and reader.has(min_field)) or (high is None and reader.has(max_field)):
        return None
    low = desired if low is None else low
    high = desired if high is None else high
    if not low <= desired <= high:
        reader.fail(desired_field.key, "node-count", f"{desired} must lie between {min_field.key} ({low}) and {max_field.key} ({high})")
        return None
    return desired, low, high
