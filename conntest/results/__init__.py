"""The results of batches: one :class:`AccountResult` per account, one :class:`BatchResult` per run.

This is the model layer of batches, below the renderers: the batch runner
(:mod:`conntest.batch.runner`) and ``serve`` produce these records, and the
monitoring renderers (:mod:`conntest.render.nagios`, ``.prometheus``,
``.junit``, ``.jsonl``) read them, with :mod:`conntest.results.measures`
(timings, certificate dates) and :mod:`conntest.results.thresholds`
(``--warning``/``--critical`` ranges).  Nothing here imports ``batch``,
``engine`` or a front end; the account a result speaks of is seen through the
small :class:`Account` protocol, which the batch file's entries satisfy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal, Protocol

from conntest.model import Report, Severity
from conntest.profile import Profile

__all__ = ["VERDICTS", "Account", "AccountResult", "Authentication", "BatchResult", "Totals"]

Authentication = Literal["sent", "skipped", "none"]
VERDICTS = ("ok", "warning", "critical", "unknown")


class Account(Protocol):
    """What the renderers need to know of the account a result is about."""

    @property
    def address(self) -> str: ...

    @property
    def profiles(self) -> tuple[Profile, ...]: ...

    @property
    def profile_ids(self) -> tuple[str, ...]: ...

    def hosts(self, profile: Profile) -> dict[str, str]:
        """The host each protocol of ``profile`` connects to, after overrides."""
        ...


@dataclass
class AccountResult:
    """The one result of one account in a batch."""

    entry: Account
    report: Report | None
    """``None`` when no report could be produced (deadline, unreadable password, bug)."""
    state: Severity
    """After thresholds; ``INFO`` counts as OK."""
    code: str
    """The primary finding's code (``ok``, ``basic-auth-disabled``, ``auth-skipped``…)."""
    title: str
    """One line for people."""
    elapsed_ms: float
    authentication: Authentication
    """``sent``: credentials went out; ``skipped``: refused by the lockout rules;
    ``none``: a connectivity-only entry."""
    skip_reason: str | None = None
    error: str | None = None
    summarised: bool = False
    """The report was dropped after it was streamed (see :meth:`summary`)."""

    @property
    def address(self) -> str:
        return self.entry.address

    @property
    def verdict(self) -> str:
        """``ok``, ``warning``, ``critical`` or ``unknown``."""
        return self.state.verdict

    @property
    def exit_code(self) -> int:
        return self.state.exit_code

    def summary(self) -> AccountResult:
        """The same result without its report: what a table of accounts needs.

        A batch that streams its reports to a renderer keeps only this, so its
        memory grows by a few hundred bytes per account, not by a report.
        """
        return dataclasses.replace(self, report=None, summarised=True)


@dataclass
class Totals:
    """Counts and the worst state, kept as results stream past (a batch that keeps none)."""

    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(VERDICTS, 0))
    worst: Severity | None = None

    def add(self, result: AccountResult) -> None:
        self.counts[result.verdict] += 1
        self.worst = result.state if self.worst is None else max(self.worst, result.state)


@dataclass
class BatchResult:
    """Every account's result, in the batch file's order (or, streamed, only the totals)."""

    results: list[AccountResult]
    """Every account's result; summaries without reports, or empty, when the
    runner streamed them (``retain``); :attr:`totals` then still counts them all."""
    started: float
    """Wall-clock start (seconds since the epoch)."""
    elapsed_ms: float
    warnings: list[str] = field(default_factory=list)
    """Problems met on the way that did not stop the run (a state file that was reset)."""
    totals: Totals | None = None
    """Set by the runner; ``None`` (a hand-made batch): computed from :attr:`results`."""

    @property
    def state(self) -> Severity:
        if self.totals is not None and self.totals.worst is not None:
            return self.totals.worst
        return max((r.state for r in self.results), default=Severity.UNKNOWN)

    @property
    def exit_code(self) -> int:
        return self.state.exit_code

    @property
    def accounts(self) -> int:
        """How many accounts were checked."""
        return sum(self.totals.counts.values()) if self.totals is not None else len(self.results)

    def counts(self) -> dict[str, int]:
        """Accounts per verdict, every verdict present (zeros included)."""
        if self.totals is not None:
            return dict(self.totals.counts)
        return count_verdicts(self.results)


def count_verdicts(results: Iterable[AccountResult]) -> dict[str, int]:
    """Accounts per verdict, every verdict present (zeros included)."""
    counts = dict.fromkeys(VERDICTS, 0)
    for result in results:
        counts[result.verdict] += 1
    return counts
