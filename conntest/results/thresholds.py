"""Threshold ranges in the Monitoring Plugins syntax: ``[@][start:][end]``.

``10`` alerts outside 0..10, ``10:`` below 10, ``~:10`` above 10, ``10:20``
outside 10..20, and ``@10:20`` inside 10..20 (the development guidelines,
"Threshold and ranges").  conntest takes ``--warning``/``--critical`` in
seconds of a check's total time, like ``check_smtp``, and writes them into
the perfdata in milliseconds, the unit of its values.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from conntest.model import Report, Severity
from conntest.results.cert_days import CERT_EXPIRING, CertDays

__all__ = ["CHECK_SLOW", "NO_THRESHOLDS", "Crossed", "Range", "Thresholds", "crossed"]

CHECK_SLOW = "check-slow"


@dataclass(frozen=True)
class Range:
    """A parsed range; :meth:`alerts` says whether a value raises the alert."""

    start: float = 0.0
    end: float = math.inf
    inside: bool = False
    """``@``: alert when the value is *inside* the range."""

    @classmethod
    def parse(cls, spec: str) -> Range:
        """Parse ``spec``; :class:`ValueError` with a reason when it is not a range."""
        text = spec.strip()
        inside = text.startswith("@")
        if inside:
            text = text[1:]
        if ":" in text:
            low, _, high = text.partition(":")
            start = -math.inf if low == "~" else _number(low, spec) if low else 0.0
        else:
            start, high = 0.0, text
        end = _number(high, spec) if high else math.inf
        if not text or start > end:
            raise ValueError(f"expected a range like 10, 10:20, ~:10 or @10:20, found {spec!r}")
        return cls(start, end, inside)

    def alerts(self, value: float) -> bool:
        outside = value < self.start or value > self.end
        return not outside if self.inside else outside

    def scaled(self, factor: float) -> Range:
        """The same range in another unit (seconds to milliseconds: ``factor=1000``)."""
        return Range(self.start * factor, self.end * factor, self.inside)

    def __str__(self) -> str:
        parts = ["@" if self.inside else ""]
        if self.start == -math.inf:
            parts.append("~:")
        elif self.start != 0:
            parts.append(f"{_plain(self.start)}:")
        if self.end != math.inf:
            parts.append(_plain(self.end))
        return "".join(parts)


@dataclass(frozen=True)
class Thresholds:
    """``--warning``/``--critical`` on a check's total time, in seconds."""

    warning: Range | None = None
    critical: Range | None = None
    cert_days: CertDays | None = None
    """``--cert-days WARN,CRIT``: the certificate's remaining days."""


NO_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Crossed:
    """A threshold a report crossed: the state it asks for, and why, in a report's words."""

    severity: Severity
    code: str
    """``check-slow`` or ``certificate-expiring``."""
    title: str
    option: str
    """The option that set it (``--critical``, ``--warning``, ``--cert-days``)."""


def crossed(report: Report, thresholds: Thresholds) -> list[Crossed]:
    """Every threshold ``report`` crosses: the total time's (the worse range only), then the
    certificates' (``--cert-days``).  The state of the check is the worst of these and the
    report's own; the JSON and text reports list them so that they agree with the exit code.
    """
    found: list[Crossed] = []
    seconds = report.elapsed_ms / 1000
    for level, limit, option in (
        (Severity.CRITICAL, thresholds.critical, "--critical"),
        (Severity.WARNING, thresholds.warning, "--warning"),
    ):
        if limit is not None and limit.alerts(seconds):
            title = f"the check took {seconds:.1f} s ({level.label} range {limit})"
            found.append(Crossed(level, CHECK_SLOW, title, option))
            break
    expiring = thresholds.cert_days.judge(report) if thresholds.cert_days else None
    if expiring is not None:
        found.append(Crossed(expiring[0], CERT_EXPIRING, expiring[1], "--cert-days"))
    return found


def _number(text: str, spec: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise ValueError(
            f"expected a range like 10, 10:20, ~:10 or @10:20, found {spec!r}"
        ) from None
    if math.isnan(value) or math.isinf(value):
        raise ValueError(f"expected finite numbers in the range, found {spec!r}")
    return value


def _plain(value: float) -> str:
    """``10`` rather than ``10.0``; no exponent (``1e-05``), which perfdata parsers reject."""
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in {"-0", ""} else "0"
