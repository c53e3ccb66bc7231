"""When the mesh CA's certificates expire, and when an ``up`` must renew them.

pulumi-tls renews a certificate on the first ``up`` from ``validityEndTime - earlyRenewalHours``
on (terraform-provider-tls ``modifyPlanIfCertificateReadyForRenewal``): the program's root and
intermediates never expire as long as an ``up`` runs inside that window. The ``caExpiry`` output
says when each window opens and when the certificate expires; every run warns when a window opens
within ``RENEWAL_NOTICE_DAYS``, so that the ``up`` is not forgotten. Inside the window the
provider plans the replacement, so a run sees the old dates only where its state was read without
that plan (the warnings for an open window and an expired certificate say what the ``up`` does).
Nothing here refuses a run: the ``up`` that a certificate near or past expiry needs is the one that
replaces it.
"""

from __future__ import annotations

import datetime
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import pulumi

# Warn this long before a renewal window opens: enough for a change to be planned and reviewed.
RENEWAL_NOTICE_DAYS = 30
DAY = datetime.timedelta(days=1)


def utc_now() -> datetime.datetime:
    return datetime.datetime.now(datetime.UTC)


@dataclass(frozen=True)
class Expiry:
    """One certificate's expiry.

    Args:
        what: how a warning names it, e.g. ``cluster kind-1's intermediate CA``.
        not_after: the end of its validity (pulumi-tls ``validityEndTime``).
        early_renewal_hours: how long before ``not_after`` an ``up`` replaces it.
        provided: given in the config, so no ``up`` renews it: a rotation replaces it (default no).
    """

    what: str
    not_after: datetime.datetime
    early_renewal_hours: int
    provided: bool = False

    @property
    def renews_after(self) -> datetime.datetime:
        return self.not_after - datetime.timedelta(hours=self.early_renewal_hours)

    def report(self, now: datetime.datetime) -> dict[str, Any]:
        """``notAfter`` and ``renewsAfter`` (RFC 3339, UTC) and whole ``daysLeft`` until expiry."""
        return {
            "notAfter": rfc3339(self.not_after),
            "renewsAfter": rfc3339(self.renews_after),
            "daysLeft": (self.not_after - now) // DAY,
        }

    def warning(self, now: datetime.datetime) -> str | None:
        """What an operator must do, when a renewal is due or near; ``None`` otherwise."""
        expires = f"{self.not_after:%Y-%m-%d %H:%M} UTC"
        if self.provided:
            if self.not_after - now <= datetime.timedelta(days=RENEWAL_NOTICE_DAYS):
                days = (self.not_after - now) // DAY
                return (
                    f"{self.what} expires on {expires} (in {days} days) and no `pulumi up` renews it: rotate to another "
                    "root (caRotation) before then"
                )
            return None
        if now >= self.not_after:
            return f"{self.what} expired on {expires}: this `pulumi up` replaces it; until then clusters cannot verify it"
        if now >= self.renews_after:
            return f"{self.what} is in its renewal window (expires {expires}): this `pulumi up` replaces it"
        if self.renews_after - now <= datetime.timedelta(days=RENEWAL_NOTICE_DAYS):
            days = (self.renews_after - now) // DAY
            return (
                f"{self.what} enters its renewal window on {self.renews_after:%Y-%m-%d %H:%M} UTC (in {days} days): run "
                f"`pulumi up` after that and before it expires on {expires}"
            )
        return None


def rfc3339(moment: datetime.datetime) -> str:
    return moment.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_rfc3339(text: str) -> datetime.datetime:
    return datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.UTC)


@dataclass(frozen=True)
class CertificateEnd:
    """A certificate of the mesh CA as the expiry report reads it.

    Args:
        what: how a warning names it.
        validity_end_time: pulumi-tls's ``validityEndTime`` output (RFC 3339).
        early_renewal_hours: the certificate's ``earlyRenewalHours``.
        provided: a root the config provides (default no).
    """

    what: str
    validity_end_time: pulumi.Output[str]
    early_renewal_hours: int
    provided: bool = False


def expiry_output(
    roots: Mapping[str, CertificateEnd],
    intermediates: Mapping[str, CertificateEnd],
    clock: Callable[[], datetime.datetime] | None = None,
    warn: Callable[[str], None] | None = None,
) -> pulumi.Output[dict[str, Any]]:
    """The ``caExpiry`` output (``roots`` by name and ``intermediates`` by cluster, each ``Expiry.report``),
    warning through ``warn`` of each certificate ``Expiry.warning`` names. Computed when the
    certificates' ends are known: an ``up``, or a preview of certificates that are not replaced.
    ``clock`` defaults to the time the program runs, ``warn`` to ``pulumi.log.warn``."""
    ordered = [*roots.values(), *intermediates.values()]
    ends = pulumi.Output.all(*(cert.validity_end_time for cert in ordered))

    def report(texts: list[str]) -> dict[str, Any]:
        now = (clock or utc_now)()
        expiries = [
            Expiry(cert.what, parse_rfc3339(text), cert.early_renewal_hours, cert.provided)
            for cert, text in zip(ordered, texts, strict=True)
        ]
        for expiry in expiries:
            message = expiry.warning(now)
            if message:
                (warn or pulumi.log.warn)(f"istio-multicluster: {message}")
        reports = [expiry.report(now) for expiry in expiries]
        count = len(roots)
        return {
            "roots": dict(zip(roots, reports[:count], strict=True)),
            "intermediates": dict(zip(intermediates, reports[count:], strict=True)),
        }

    return ends.apply(report)
