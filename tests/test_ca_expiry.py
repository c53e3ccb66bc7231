"""The caExpiry output and the warnings of renewals due or near (components/mesh/expiry.py)."""

from __future__ import annotations

import datetime
from typing import Any

import pulumi
import pytest
from pulumi.output import Unknown

from components.mesh import expiry
from components.mesh.expiry import Expiry
from tests.harness.program import run_program, stack_config

NOW = datetime.datetime(2027, 1, 10, 12, 0, tzinfo=datetime.UTC)
NOT_AFTER = datetime.datetime(2027, 3, 1, 0, 0, tzinfo=datetime.UTC)
# Renewal window opens 30 days before expiry: 2027-01-30 00:00.
CERT = Expiry("cluster c1's intermediate CA certificate", NOT_AFTER, 30 * 24)


@pytest.mark.parametrize(
    ("now", "warning"),
    [
        (NOW - datetime.timedelta(days=15), None),  # 34.5 days before the window opens
        (
            NOW + datetime.timedelta(days=1),  # 18.5 days before the window opens
            "cluster c1's intermediate CA certificate enters its renewal window on 2027-01-30 00:00 UTC (in 18 days): run "
            "`pulumi up` after that and before it expires on 2027-03-01 00:00 UTC",
        ),
        (
            datetime.datetime(2026, 12, 31, 0, 0, tzinfo=datetime.UTC),  # exactly 30 days before
            "cluster c1's intermediate CA certificate enters its renewal window on 2027-01-30 00:00 UTC (in 30 days): run "
            "`pulumi up` after that and before it expires on 2027-03-01 00:00 UTC",
        ),
        (
            datetime.datetime(2027, 1, 30, 0, 0, tzinfo=datetime.UTC),
            "cluster c1's intermediate CA certificate is in its renewal window (expires 2027-03-01 00:00 UTC): this `pulumi up` "
            "replaces it",
        ),
        (
            NOT_AFTER,
            "cluster c1's intermediate CA certificate expired on 2027-03-01 00:00 UTC: this `pulumi up` replaces it; until then "
            "clusters cannot verify it",
        ),
    ],
)
def test_the_warning_says_when_an_up_must_run(now: datetime.datetime, warning: str | None) -> None:
    assert CERT.warning(now) == warning


def test_the_report_gives_both_moments_and_whole_days_left() -> None:
    assert CERT.report(NOW) == {"notAfter": "2027-03-01T00:00:00Z", "renewsAfter": "2027-01-30T00:00:00Z", "daysLeft": 49}
    assert CERT.report(NOT_AFTER + datetime.timedelta(hours=1))["daysLeft"] == -1


def kind_with(monkeypatch: pytest.MonkeyPatch, now: datetime.datetime, **overrides: Any) -> tuple[Any, list[str]]:
    warned: list[str] = []
    monkeypatch.setattr(expiry, "utc_now", lambda: now)
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    run = run_program({**stack_config("kind"), **overrides})
    return run, [w for w in warned if "renewal window" in w or "expired" in w]


def ends(run: Any) -> dict[str, datetime.datetime]:
    parse = expiry.parse_rfc3339
    found = {"root": parse(run.named("mesh-ca-root-cert").outputs["validityEndTime"])}
    for cluster in ("kind-1", "kind-2"):
        found[cluster] = parse(run.named(f"mesh-ca-{cluster}-cert").outputs["validityEndTime"])
    return found


def test_the_output_reports_every_certificate_of_the_running_mesh(monkeypatch: pytest.MonkeyPatch) -> None:
    now = datetime.datetime.now(datetime.UTC)
    run, warned = kind_with(monkeypatch, now)
    end = ends(run)
    config = stack_config("kind")

    def expected(not_after: datetime.datetime, early_hours: int) -> dict[str, Any]:
        return Expiry("x", not_after, early_hours).report(now)

    assert run.outputs["caExpiry"] == {
        "roots": {"root": expected(end["root"], config["caRootEarlyRenewalHours"])},
        "intermediates": {c: expected(end[c], config["caIntermediateEarlyRenewalHours"]) for c in ("kind-1", "kind-2")},
    }
    assert run.outputs["caExpiry"]["intermediates"]["kind-1"]["daysLeft"] in (729, 730)
    assert "caExpiry" not in run.secret_outputs
    assert warned == []


def test_every_run_warns_of_a_window_opening_within_thirty_days(monkeypatch: pytest.MonkeyPatch) -> None:
    """Intermediates of 40 days renewed 15 days early: their windows open in 25 days."""
    now = datetime.datetime.now(datetime.UTC)
    run, warned = kind_with(monkeypatch, now, caIntermediateValidityHours=40 * 24, caIntermediateEarlyRenewalHours=15 * 24)
    end = ends(run)
    assert sorted(warned) == [
        f"istio-multicluster: cluster {c}'s intermediate CA certificate enters its renewal window on "
        f"{end[c] - datetime.timedelta(days=15):%Y-%m-%d %H:%M} UTC (in {(end[c] - datetime.timedelta(days=15) - now).days} days): "
        f"run `pulumi up` after that and before it expires on {end[c]:%Y-%m-%d %H:%M} UTC"
        for c in ("kind-1", "kind-2")
    ]


def test_a_first_preview_has_no_ends_to_report_and_warns_of_nothing(monkeypatch: pytest.MonkeyPatch) -> None:
    warned: list[str] = []
    monkeypatch.setattr(pulumi.log, "warn", lambda message, *args, **kwargs: warned.append(message))
    run = run_program(stack_config("kind"), preview=True)
    assert isinstance(run.outputs["caExpiry"], Unknown)
    assert [w for w in warned if "renewal" in w] == []
