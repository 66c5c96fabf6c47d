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

from conntest.results.cert_days import CertDays

__all__ = ["NO_THRESHOLDS", "Range", "Thresholds"]


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
