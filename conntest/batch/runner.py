"""Run many checks: bounded concurrency, one result per account, each with its own deadline.

The shape is nagiosplugin's: probe (one :func:`~conntest.engine.run_check`
per account) → evaluate (:func:`evaluate`: the account's state and primary
code, thresholds on the total time) → summarise (the renderers) → exit code
(the worst account's).  The contract:

* every entry gets exactly one :class:`AccountResult`, in the batch file's
  order, whatever happens to its servers: a check that outlives its deadline
  (plus :data:`GRACE`) is cancelled and reported ``UNKNOWN``, and so is a bug;
* at most ``concurrency`` checks run at once, and an account's deadline
  starts when its own check starts, not when the batch does;
* at most one authentication per protocol per account per run (the engine's
  gate, and the batch file names each account once), and none at all for an
  account the :class:`~conntest.lockout.AuthLedger` refuses: that check runs
  connectivity-only and its result says why (an ``auth-skipped`` finding);
  an account is claimed in the ledger just before its check and settled just
  after, so a failure is on record even if the batch is killed later.

Nothing here prints; ``on_result`` hands each result to the front end as it
finishes (progress bars, JSON Lines, the streaming renderers).  Memory is
bounded by the concurrency, not the account count, when the front end
streams: ``retain="summary"`` keeps each account's result without its report
(a table of accounts needs no more), ``retain="none"`` keeps only the totals.
The MX and autodiscover lookups of a domain run once per batch
(:class:`~conntest.engine.DomainLookups`).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import contextlib
import dataclasses
import gc
import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Literal

from conntest.batch.config import AccountEntry, PasswordSourceError
from conntest.engine import PROTOCOLS, DomainLookups, ProtocolName, run_check
from conntest.lockout import AuthLedger, AuthOutcome, Refusal, auth_outcome
from conntest.model import Finding, Report, Severity
from conntest.probes.clock import within
from conntest.redact import Redactor
from conntest.results import AccountResult, Authentication, BatchResult, Totals
from conntest.results.thresholds import CHECK_SLOW, NO_THRESHOLDS, Thresholds, crossed

__all__ = [
    "AUTH_SKIPPED",
    "GRACE",
    "AccountResult",
    "BatchResult",
    "evaluate",
    "make_executor",
    "run_account",
    "run_batch",
]

GRACE = 5.0
"""Seconds past an account's own deadline before its check is cancelled."""
MIN_ACCOUNT_TIMEOUT = 0.5
"""Under ``--deadline``, an account with less time than this left is not started."""


def _budget(left: float) -> tuple[float, float]:
    """``(timeout, grace)`` of an account with ``left`` seconds of the batch deadline to go.

    The grace shrinks with the time left (a fifth of it, at most :data:`GRACE`),
    so timeout plus grace, when the check is cancelled at the latest, is
    ``left``: a ``--deadline`` of 1 to 6 seconds still checks the first
    account, and no account outlives the batch's deadline.
    """
    grace = min(GRACE, max(left, 0.0) / 5)
    return math.floor((left - grace) * 10) / 10, grace  # a tenth of a second, never over


AUTH_SKIPPED = "auth-skipped"
SLOW = CHECK_SLOW
REAUTH = "oauth-reauth-required"
"""No usable saved sign-in: headless runs never prompt, they say which command fixes it."""

Retain = Literal["all", "summary", "none"]


def make_executor(concurrency: int, profiles_per_account: int = 3) -> concurrent.futures.Executor:
    """A default executor big enough for what a batch runs in threads.

    The identity platform's HTTPS requests and the lockout ledger's file
    work run in threads (the IMAP probes no longer do: they run on the loop);
    the loop's default pool (cpu + 4 threads) would queue them behind each
    other, so a slow server would eat the deadlines of accounts waiting
    behind it.  Set it with ``loop.set_default_executor`` before a batch.
    """
    workers = max(32, min(1024, concurrency * max(1, profiles_per_account) * 2 + 4))
    return concurrent.futures.ThreadPoolExecutor(max_workers=workers, thread_name_prefix="conntest")


async def run_batch(
    entries: Sequence[AccountEntry],
    *,
    concurrency: int = 10,
    thresholds: Thresholds = NO_THRESHOLDS,
    ledger: AuthLedger | None = None,
    on_result: Callable[[AccountResult], None] | None = None,
    protocols: tuple[ProtocolName, ...] = PROTOCOLS,
    retain: Retain = "all",
    deadline: float | None = None,
) -> BatchResult:
    """Check every entry; exactly one result each, ``on_result`` as each finishes.

    ``retain``: what the returned batch keeps of each result, in the batch
    file's order: ``all``, ``summary`` (no reports) or ``none`` (only the
    totals; the results went to ``on_result``).  ``deadline`` (seconds,
    ``--deadline``) bounds the whole batch: an account's own timeout is cut
    to the time left, and one that cannot start in time is UNKNOWN
    (``batch-deadline``) without a connection.
    """
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")
    started_wall, started = time.time(), time.monotonic()
    results: list[AccountResult | None] = [None] * (len(entries) if retain != "none" else 0)
    totals = Totals()
    domains = DomainLookups()
    queue = iter(enumerate(entries))

    async def worker() -> None:
        for index, entry in queue:
            grace = GRACE
            if deadline is not None:
                timeout, grace = _budget(deadline - (time.monotonic() - started))
                if timeout < entry.timeout:
                    entry = dataclasses.replace(entry, timeout=timeout)  # noqa: PLW2901
            if entry.timeout < MIN_ACCOUNT_TIMEOUT:
                result = _past_deadline(entry, deadline or 0)
            else:
                result = await run_account(
                    entry,
                    thresholds=thresholds,
                    ledger=ledger,
                    protocols=protocols,
                    domains=domains,
                    grace=grace,
                )
            totals.add(result)
            if on_result is not None:
                on_result(result)
            if retain == "all":
                results[index] = result
            elif retain == "summary":
                results[index] = result.summary()

    with _collector_paced():
        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(entries)))))
    done = [r for r in results if r is not None]
    assert sum(totals.counts.values()) == len(entries), "every account gets exactly one result"
    assert len(done) == len(results)
    return BatchResult(
        done,
        started_wall,
        round((time.monotonic() - started) * 1000, 1),
        list(dict.fromkeys(ledger.warnings)) if ledger is not None else [],
        totals,
    )


YOUNG_COLLECTION_PACE = 20_000
"""Allocations between the collector's young collections while a batch runs (CPython: 700)."""


class _CollectorPace:
    """The cyclic garbage collector at a batch's pace while one runs (process-wide).

    Most of what a check allocates is freed by reference counts, yet at
    CPython's default pace (700) the collector ran 0.6 young, 0.06 middle and
    0.005 full collections per account, the full ones over every object the
    process holds: 0.31-0.34 ms per account; at this pace 0.02, 0.002 and 0.001,
    and 0.08-0.12 ms (issue 12; ``gc.get_stats`` and ``gc.callbacks`` over
    3,000 accounts).  Cyclic garbage waits longer for its collection while a
    batch runs; overlapping batches share one setting, and the last to end puts
    the old one back.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._users = 0
        self._saved = gc.get_threshold()

    @contextlib.contextmanager
    def __call__(self) -> Iterator[None]:
        with self._lock:
            if self._users == 0:
                self._saved = gc.get_threshold()
                if self._saved[0] != 0:  # 0: the process turned automatic collection off
                    gc.set_threshold(max(YOUNG_COLLECTION_PACE, self._saved[0]), *self._saved[1:])
            self._users += 1
        try:
            yield
        finally:
            with self._lock:
                self._users -= 1
                if self._users == 0:
                    gc.set_threshold(*self._saved)


_collector_paced = _CollectorPace()


BATCH_DEADLINE = "batch-deadline"


def _past_deadline(entry: AccountEntry, deadline: float) -> AccountResult:
    return AccountResult(
        entry=entry,
        report=None,
        state=Severity.UNKNOWN,
        code=BATCH_DEADLINE,
        title=f"not checked: the batch deadline (--deadline {deadline:g} s) came first",
        elapsed_ms=0.0,
        authentication="none",
    )


async def run_account(
    entry: AccountEntry,
    *,
    thresholds: Thresholds = NO_THRESHOLDS,
    ledger: AuthLedger | None = None,
    protocols: tuple[ProtocolName, ...] = PROTOCOLS,
    domains: DomainLookups | None = None,
    grace: float = GRACE,
) -> AccountResult:
    """One account's check under the lockout rules, never raising.

    With a ledger, the account is claimed just before its check (or refused,
    and checked connectivity-only) and settled just after, so a failure is on
    record even if the batch is killed later.  The check is cancelled
    ``grace`` seconds after its own deadline (less than :data:`GRACE` when a
    batch deadline is near).
    """
    check = _Check(protocols, domains, grace)
    if ledger is None or not entry.authenticates:
        return await _checked(entry, thresholds, None, time.time, check)
    # On disk before any credential is sent; concurrent checks share the write.
    refusal = await ledger.claim(entry.key, entry.timeout + grace)
    if refusal is not None:
        return await _checked(entry, thresholds, refusal, ledger.clock, check)
    result: AccountResult | None = None
    try:
        result = await _checked(entry, thresholds, None, ledger.clock, check)
        return result
    finally:
        # Also when cancelled: no report after the credential may have gone out
        # is recorded as an interrupted attempt (a failure), never forgotten.
        if result is not None and result.report is not None:
            outcome: AuthOutcome | None = auth_outcome(result.report)
        elif result is not None and result.authentication == "none":
            outcome = None  # the password could not be read: nothing was sent
        else:
            outcome = AuthOutcome.interrupted()
        await asyncio.shield(ledger.release(entry.key, outcome))


@dataclasses.dataclass(frozen=True)
class _Check:
    """How the run checks each account: which protocols, with which shared lookups."""

    protocols: tuple[ProtocolName, ...]
    domains: DomainLookups | None
    grace: float = GRACE


async def _checked(
    entry: AccountEntry,
    thresholds: Thresholds,
    refusal: Refusal | None,
    clock: Callable[[], float],
    check: _Check,
) -> AccountResult:
    """The check itself: problems become an ``UNKNOWN`` result, never an exception."""
    started = time.monotonic()

    def failed(code: str, title: str, error: str, authentication: Authentication) -> AccountResult:
        return AccountResult(
            entry=entry,
            report=None,
            state=Severity.UNKNOWN,
            code=code,
            title=title,
            elapsed_ms=round((time.monotonic() - started) * 1000, 1),
            authentication=authentication,
            error=error,
        )

    try:
        password = entry.password.read()
    except PasswordSourceError as exc:
        return failed("password-unreadable", "the password could not be read", str(exc), "none")
    sends = password is not None or entry.oauth is not None
    authentication: Authentication = "sent" if sends else "none"
    if refusal is not None and sends:
        # A token is a credential too: after a refusal it is not sent again (nor signed
        # in for) until the interval has passed.
        password, authentication = None, "skipped"
    redact = Redactor.for_credentials(entry.address, password)
    request = entry.request(password, signin=authentication != "skipped")
    if check.protocols != request.protocols:
        request = dataclasses.replace(request, protocols=check.protocols)
    try:
        report = await within(
            run_check(request, domains=check.domains, redact=redact), entry.timeout + check.grace
        )
    except TimeoutError:
        return failed(
            "check-deadline",
            f"the check did not finish within its deadline of {entry.timeout:g} s",
            f"cancelled after {entry.timeout + check.grace:g} s",
            authentication,
        )
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug in conntest: one result, never a secret
        message = redact(f"{exc.__class__.__name__}: {exc}")
        return failed("internal-error", "conntest failed (a bug)", message, authentication)
    report = redact.value(report)  # the renderers' last line of defence starts here
    skip_reason = None
    if refusal is not None and authentication == "skipped":
        skip_reason = refusal.explain(clock())
        _add_skip_finding(report, entry, refusal, skip_reason)
    return evaluate(entry, report, thresholds, authentication, skip_reason)


def evaluate(
    entry: AccountEntry,
    report: Report,
    thresholds: Thresholds = NO_THRESHOLDS,
    authentication: Authentication = "sent",
    skip_reason: str | None = None,
) -> AccountResult:
    """An account's state and primary code from its report, then the total-time thresholds."""
    state = report.severity
    code, title = "ok", "every step passed"
    if report.profiles:
        worst = max(report.profiles, key=lambda p: p.severity)
        if worst.findings:
            code, title = worst.findings[0].code, worst.findings[0].title
    else:
        code, title = "no-profiles", "no profile was checked"
    for threshold in crossed(report, thresholds):  # the total time's first, then certificates'
        if state < threshold.severity:
            state, code, title = threshold.severity, threshold.code, threshold.title
    if code == REAUTH and entry.oauth is not None:
        # Monitoring shows the title alone (a Nagios status line): it names the fix.
        title = f"{title}; run: {entry.login_command}"
    return AccountResult(
        entry=entry,
        report=report,
        state=state,
        code=code,
        title=title,
        elapsed_ms=report.elapsed_ms,
        authentication=authentication,
        skip_reason=skip_reason,
    )


def _add_skip_finding(report: Report, entry: AccountEntry, refusal: Refusal, why: str) -> None:
    """Put the lockout rule's decision into the report, where every renderer shows it.

    Placed after any finding at least as severe, so a port that is closed now
    still reads as the primary cause.
    """
    if refusal.reason == "recent-failure":
        remedy = (
            f"Fix what the failed attempt reported ({refusal.code or 'see the earlier run'}); "
            "conntest will authenticate again once the interval has passed. To try sooner, "
            "run once with --min-auth-interval 0."
        )
    elif refusal.reason == "in-progress":
        remedy = "Nothing to do if two runs overlapped; avoid starting runs this close together."
    else:
        remedy = "Make the state file writable for the user conntest runs as (see --state-file)."
    finding = Finding(
        code=AUTH_SKIPPED,
        severity=refusal.severity,
        title="Authentication skipped to protect the account from lockout",
        detail=(
            f"Credentials for {entry.address} were not sent in this run: {why}. "
            "Everything up to authentication was checked."
        ),
        remedy=remedy,
        evidence=f"lockout rules: {why}",
    )
    for result in report.profiles:
        position = next(
            (i for i, f in enumerate(result.findings) if f.severity < finding.severity),
            len(result.findings),
        )
        result.findings.insert(position, finding)
