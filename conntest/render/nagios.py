"""Nagios/Icinga plugin output (``--format nagios``), per the Monitoring Plugins guidelines.

The shape (guidelines, "Plugin Output for Nagios" and "Performance data")::

    CONNTEST CRITICAL - 2 of 40 accounts failing: alice@contoso.com basic-auth-disabled; … | …
    CRITICAL alice@contoso.com: basic-auth-disabled (…) [thunderbird] 1234.5 ms
    …one line per account, worst first…
    OK zoe@contoso.com: ok (…) [thunderbird] 812.0 ms | 'alice@contoso.com dns'=2.1ms;;;0 …
    'bob@contoso.com dns'=1.9ms;;;0 …

The status line comes first, with the summary perfdata after ``|``; the
long output follows, one line per account; the per-account perfdata
(``label=value[UOM];warn;crit;min;max``, milliseconds) follows a ``|`` on the
last long-output line, one account per line after that.  For a single
account the phases go on the status line, and the long output has one line
per profile.  ``|`` never appears in text (it would start the perfdata), so
it is replaced.  The state is the worst account's; the CLI's exit code is
:attr:`~conntest.results.BatchResult.exit_code` (0/1/2/3).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from conntest.model import Severity
from conntest.results import AccountResult, BatchResult
from conntest.results.measures import phases
from conntest.results.thresholds import NO_THRESHOLDS, Thresholds

__all__ = ["render_nagios", "render_unknown"]

NAME = "CONNTEST"
STATUS_LIST = 5
"""Accounts named on the status line before "and N more"."""

_WORD = re.compile(r"^\w+$")


def state_word(state: Severity) -> str:
    return {0: "OK", 1: "WARNING", 2: "CRITICAL", 3: "UNKNOWN"}[state.exit_code]


def render_nagios(
    batch: BatchResult, thresholds: Thresholds = NO_THRESHOLDS, *, single: bool = False
) -> str:
    """Plugin output for a batch, or for one account when ``single``."""
    if single and len(batch.results) == 1:
        return _single(batch.results[0], thresholds)
    return _batch(batch, thresholds)


def render_unknown(summary: str, details: Sequence[str] = ()) -> str:
    """``CONNTEST UNKNOWN - summary`` and one long-output line per detail (bad input, a bug)."""
    lines = [f"{NAME} UNKNOWN - {_clean(summary)}", *(_clean(d) for d in details)]
    return "\n".join(lines) + "\n"


def _single(result: AccountResult, thresholds: Thresholds) -> str:
    text = _account_text(result, timed=True)
    status = f"{NAME} {state_word(result.state)} - {result.address}: {text}"
    perf = " ".join(_perfdata(result, thresholds, prefix=""))
    lines = [f"{status} | {perf}" if perf else status]
    if result.report is not None:
        for profile in result.report.profiles:
            finding = profile.findings[0] if profile.findings else None
            what = f"{finding.code} ({_clean(finding.title)})" if finding else "ok"
            lines.append(f"{profile.profile}: {state_word(profile.severity)} {what}")
    lines.extend(_notes(result))
    return "\n".join(lines) + "\n"


def _batch(batch: BatchResult, thresholds: Thresholds) -> str:
    results = batch.results
    total = len(results)
    failing = [r for r in results if r.state.exit_code >= 2]
    warning = [r for r in results if r.state.exit_code == 1]
    failing.sort(key=lambda r: -r.state)
    parts: list[str] = []
    if failing:
        parts.append(f"{len(failing)} of {total} accounts failing: {_listing(failing)}")
    if warning:
        lead = (
            f"{len(warning)} with warnings"
            if failing
            else f"{len(warning)} of {total} accounts with warnings"
        )
        parts.append(f"{lead}: {_listing(warning)}")
    if not parts:
        parts.append(f"{total} of {total} accounts ok")
    counts = batch.counts()
    summary_perf = [f"accounts={total};;;0"] + [
        f"{verdict}={count};;;0;{total}" for verdict, count in counts.items()
    ]
    lines = [f"{NAME} {state_word(batch.state)} - {'; '.join(parts)} | {' '.join(summary_perf)}"]
    ordered = sorted(results, key=lambda r: -r.state.exit_code)
    for result in ordered:
        line = (
            f"{state_word(result.state)} {result.address}: {_account_text(result)} "
            f"[{', '.join(result.entry.profile_ids)}] {result.elapsed_ms:.1f} ms"
        )
        notes = _notes(result)
        lines.append(_clean(" ".join([line, *notes])))
    per_account = [" ".join(_perfdata(r, thresholds, prefix=r.address)) for r in results]
    per_account = [p for p in per_account if p]
    if per_account:
        lines[-1] += f" | {per_account[0]}"
        lines.extend(per_account[1:])
    return "\n".join(lines) + "\n"


def _account_text(result: AccountResult, *, timed: bool = False) -> str:
    text = f"{result.code} ({_clean(result.title)})"
    if timed and result.state.exit_code == 0:
        text += f" in {result.elapsed_ms / 1000:.1f} s"
    return text


def _notes(result: AccountResult) -> list[str]:
    notes = []
    if result.skip_reason:
        notes.append(f"(authentication skipped: {_clean(result.skip_reason)})")
    if result.error:
        notes.append(f"(error: {_clean(result.error)})")
    return notes


def _listing(results: Sequence[AccountResult]) -> str:
    shown = [f"{r.address} {r.code}" for r in results[:STATUS_LIST]]
    if len(results) > STATUS_LIST:
        shown.append(f"and {len(results) - STATUS_LIST} more")
    return _clean("; ".join(shown))


def _perfdata(result: AccountResult, thresholds: Thresholds, *, prefix: str) -> list[str]:
    out = []
    for label, value in phases(result).items():
        warn = crit = ""
        if label == "total":
            warn = str(thresholds.warning.scaled(1000)) if thresholds.warning else ""
            crit = str(thresholds.critical.scaled(1000)) if thresholds.critical else ""
        name = f"{prefix} {label}" if prefix else label
        out.append(f"{_label(name)}={_number(value)}ms;{warn};{crit};0")
    return out


def _label(text: str) -> str:
    """Quote a label unless it is a plain word; ``'`` and ``=`` are not allowed in labels."""
    text = text.replace("'", "_").replace("=", "_")
    return text if _WORD.match(text) else f"'{text}'"


def _number(value: float) -> str:
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def _clean(text: str) -> str:
    """One line, without the perfdata separator."""
    return " ".join(text.replace("|", "/").split())
