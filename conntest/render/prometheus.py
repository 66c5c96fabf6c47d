"""Prometheus text exposition of a batch (``--format prometheus``) and of one ``/probe``.

Built with ``prometheus_client`` from a collector over the results, so the
names, escaping and ``# HELP``/``# TYPE`` lines follow the exposition format
exactly.  Labels: ``account``, ``profile``, ``protocol``, ``step``, ``code``
(and ``severity`` on findings); every series is a gauge of the last run::

    conntest_up{account,profile}                              1 works, 0 does not
    conntest_account_state{account}                           0 ok, 1 warning, 2 critical, 3 unknown
    conntest_check_duration_seconds{account}
    conntest_step_duration_seconds{account,profile,protocol,step}
    conntest_finding{account,profile,protocol,code,severity}  1 per finding
    conntest_certificate_expiry_timestamp_seconds{account,profile,protocol}
    conntest_auth_skipped{account}                            1: the password was held back
    conntest_basic_auth_in_use{account,profile,protocol}      1 a password sign-in succeeded,
                                                              0 it did not (or was not tried)
    conntest_basic_auth_default_off_timestamp_seconds         when Microsoft turns SMTP AUTH
                                                              basic authentication off by default
    conntest_batch_accounts{verdict}                          (batch only, as the two below)
    conntest_batch_duration_seconds, conntest_batch_timestamp_seconds

No metric carries a password or any part of one: label values are
addresses, profile ids, step names and finding codes.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from conntest.diagnosis.retirement import change_timestamp
from conntest.migration import basic_auth_in_use
from conntest.model import Severity
from conntest.results import AccountResult, BatchResult
from conntest.results.measures import certificate_expiry, step_timings

__all__ = ["CONTENT_TYPE", "BatchCollector", "render_collected", "render_prometheus"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class BatchCollector(Collector):
    """Yields the metric families of one batch (or one probe, ``batch_metrics=False``).

    Streamed: :meth:`add` turns each account's result into its samples as it
    finishes and keeps only those (a few dozen per account, not the report),
    :meth:`finish` gives the batch totals; or pass a whole ``batch``.
    """

    def __init__(self, batch: BatchResult | None = None, *, batch_metrics: bool = True) -> None:
        self.batch = batch
        self.batch_metrics = batch_metrics
        self._families = (
            GaugeMetricFamily(
                "conntest_up",
                "Whether the client profile can use the account (1) or not (0), "
                "per the last check.",
                labels=["account", "profile"],
            ),
            GaugeMetricFamily(
                "conntest_account_state",
                "The account's monitoring state: 0 ok, 1 warning, 2 critical, 3 unknown.",
                labels=["account"],
            ),
            GaugeMetricFamily(
                "conntest_check_duration_seconds",
                "How long the account's check took.",
                labels=["account"],
            ),
            GaugeMetricFamily(
                "conntest_step_duration_seconds",
                "How long each step of the check took (dns is the lookup of that protocol's host).",
                labels=["account", "profile", "protocol", "step"],
            ),
            GaugeMetricFamily(
                "conntest_finding",
                "A finding of the diagnosis (1 while it holds); code is the stable finding code.",
                labels=["account", "profile", "protocol", "code", "severity"],
            ),
            GaugeMetricFamily(
                "conntest_certificate_expiry_timestamp_seconds",
                "When the server certificate the check was shown expires (Unix time).",
                labels=["account", "profile", "protocol"],
            ),
            GaugeMetricFamily(
                "conntest_auth_skipped",
                "1 when the lockout rules kept the password back in this check.",
                labels=["account"],
            ),
        )
        self._in_use = GaugeMetricFamily(
            "conntest_basic_auth_in_use",
            "1 when a password sign-in (basic authentication) succeeded in the last check, "
            "0 when it did not (refused, not reached, or no password given).",
            labels=["account", "profile", "protocol"],
        )
        if batch is not None:
            for result in batch.results:
                self.add(result)

    def add(self, result: AccountResult) -> None:
        """One account's samples (call as each result arrives; the report can go after)."""
        self._account(result, *self._families)
        self._dependence_of(result)

    def finish(self, batch: BatchResult) -> None:
        """The batch the added results belong to (its totals, start and duration)."""
        self.batch = batch

    def collect(self) -> Iterator[Metric]:
        yield from self._families
        yield from self._dependence()
        if self.batch_metrics and self.batch is not None:
            yield from self._batch()

    def _account(
        self,
        result: AccountResult,
        up: GaugeMetricFamily,
        state: GaugeMetricFamily,
        duration: GaugeMetricFamily,
        steps: GaugeMetricFamily,
        findings: GaugeMetricFamily,
        expiry: GaugeMetricFamily,
        skipped: GaugeMetricFamily,
    ) -> None:
        account = result.address
        state.add_metric([account], result.state.exit_code)
        duration.add_metric([account], round(result.elapsed_ms / 1000, 6))
        skipped.add_metric([account], 1 if result.authentication == "skipped" else 0)
        if result.report is None:
            for profile_id in result.entry.profile_ids:
                up.add_metric([account, profile_id], 0)
            findings.add_metric([account, "", "", result.code, Severity.UNKNOWN.label], 1)
            return
        seen: set[tuple[str, str, str]] = set()
        for profile in result.report.profiles:
            works = profile.severity < Severity.CRITICAL
            up.add_metric([account, profile.profile], 1 if works else 0)
            for finding in profile.findings:
                key = (profile.profile, finding.protocol or "", finding.code)
                if key in seen:
                    continue
                seen.add(key)
                findings.add_metric([account, *key, finding.severity.label], 1)
        for timing in step_timings(result):
            steps.add_metric(
                [account, timing.profile, timing.protocol, timing.step], timing.seconds
            )
        for cert in certificate_expiry(result):
            expiry.add_metric([account, cert.profile, cert.protocol], cert.timestamp)

    def _dependence_of(self, result: AccountResult) -> None:
        in_use = self._in_use
        if result.report is None:
            for profile_id in result.entry.profile_ids:
                for protocol in ("imap", "smtp"):
                    in_use.add_metric([result.address, profile_id, protocol], 0)
            return
        for profile in result.report.profiles:
            used = basic_auth_in_use(profile.steps)
            for protocol in ("imap", "smtp"):
                value = int(used.get(protocol, False))
                in_use.add_metric([result.address, profile.profile, protocol], value)

    def _dependence(self) -> Iterator[Metric]:
        """Who still signs in with a password, and when Microsoft's default changes."""
        yield self._in_use
        yield GaugeMetricFamily(
            "conntest_basic_auth_default_off_timestamp_seconds",
            "When Microsoft disables SMTP AUTH basic authentication by default for existing "
            "tenants ('end of December 2026', counted as 31 December 2026 00:00 UTC; Unix time).",
            value=change_timestamp(),
        )

    def _batch(self) -> Iterator[Metric]:
        assert self.batch is not None
        accounts = GaugeMetricFamily(
            "conntest_batch_accounts",
            "Accounts per verdict in the last batch.",
            labels=["verdict"],
        )
        for verdict, count in self.batch.counts().items():
            accounts.add_metric([verdict], count)
        yield accounts
        yield GaugeMetricFamily(
            "conntest_batch_duration_seconds",
            "How long the last batch took.",
            value=round(self.batch.elapsed_ms / 1000, 6),
        )
        yield GaugeMetricFamily(
            "conntest_batch_timestamp_seconds",
            "When the last batch finished (Unix time); alert when it grows old.",
            value=self.batch.started + self.batch.elapsed_ms / 1000,
        )


def render_prometheus(batch: BatchResult, *, batch_metrics: bool = True) -> str:
    """The text exposition (version 0.0.4) of ``batch``."""
    return render_collected(BatchCollector(batch, batch_metrics=batch_metrics))


def render_collected(collector: BatchCollector) -> str:
    """The text exposition of a collector the results were streamed into."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(collector)
    return generate_latest(registry).decode("utf-8")
