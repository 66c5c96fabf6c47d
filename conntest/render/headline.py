"""The first line of the text and Markdown reports: the verdict, led by its cause.

The first finding of the worst profile is the cause of the verdict (the ranking
contract of :mod:`conntest.diagnosis.ranking`: its severity is the verdict's), so
the headline names it, as Nagios's status line does: a wrong password on a
working connection reads "CRITICAL: Microsoft says … wrong", never "cannot
connect".  An ``ok`` verdict keeps its plain words (every client works).
"""

from __future__ import annotations

from conntest.model import Finding, Report

__all__ = ["headline", "lead_finding"]

_VERDICT_WORDS = {
    "ok": "OK: the client can connect",
    "warning": "WARNING: works, with problems to fix",
    "critical": "CRITICAL: the client does not work as set up",
    "unknown": "UNKNOWN: conntest could not tell",
}
"""What a verdict says when no finding names its cause (no profile, no finding)."""


def lead_finding(report: Report) -> Finding | None:
    """The first finding of the worst profile (the first of equally bad ones)."""
    worst = max(report.profiles, key=lambda p: p.severity, default=None)
    if worst is None or not worst.findings:
        return None
    return worst.findings[0]


def headline(report: Report, about: str = "") -> str:
    """``CRITICAL: <the cause's title> (<code>; <about>)``; ``OK: the client can connect``."""
    verdict = report.severity.verdict
    finding = lead_finding(report)
    notes = [about] if about else []
    if verdict == "ok" or finding is None:
        words = _VERDICT_WORDS[verdict]
    else:
        words = f"{verdict.upper()}: {finding.title}"
        notes.insert(0, finding.code)
    return f"{words} ({'; '.join(notes)})" if notes else words
