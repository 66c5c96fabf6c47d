"""``--cert-days WARN,CRIT``: the server certificate's remaining days as a threshold.

Like ``check_smtp -D 30,14``: a certificate that expires within WARN days
makes the account WARNING, within CRIT days CRITICAL, with the code
``certificate-expiring`` and the protocol, host and days in the title.  The
days come from the leaf certificates the handshakes saw (``not_after`` on
the TLS steps), so a check that never reached TLS raises nothing here.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import datetime

from conntest.model import Report, Severity

__all__ = ["CERT_EXPIRING", "CertDays", "soonest_expiry"]

CERT_EXPIRING = "certificate-expiring"


@dataclass(frozen=True)
class CertDays:
    """``WARN,CRIT`` in days; CRIT may be left out (``30``: warning only)."""

    warning: float
    critical: float | None = None

    @classmethod
    def parse(cls, spec: str) -> CertDays:
        parts = [p.strip() for p in spec.split(",")]
        try:
            values = [float(p) for p in parts]
        except ValueError:
            values = []
        if len(parts) not in (1, 2) or len(values) != len(parts):
            raise ValueError(f"expected WARN[,CRIT] in days, like 30,14; found {spec!r}")
        if any(not math.isfinite(v) or not 0 <= v <= 3650 for v in values):
            raise ValueError(f"days must be from 0 to 3650, found {spec!r}")
        if len(values) == 2 and values[1] > values[0]:
            raise ValueError(f"CRIT must not exceed WARN (days left), found {spec!r}")
        return cls(values[0], values[1] if len(values) == 2 else None)

    def judge(self, report: Report, now: float | None = None) -> tuple[Severity, str] | None:
        """The state and title this threshold raises, or ``None``."""
        soonest = soonest_expiry(report, time.time() if now is None else now)
        if soonest is None:
            return None
        days, protocol, host = soonest
        if self.critical is not None and days <= self.critical:
            level, limit = Severity.CRITICAL, self.critical
        elif days <= self.warning:
            level, limit = Severity.WARNING, self.warning
        else:
            return None
        where = f"{protocol.upper()} {host}".strip()
        when = f"expired {-days:.0f} days ago" if days < 0 else f"expires in {days:.1f} days"
        return level, f"the {where} certificate {when} ({level.label} at {limit:g} days)"


def soonest_expiry(report: Report, now: float) -> tuple[float, str, str] | None:
    """``(days left, protocol, host)`` of the certificate that expires first."""
    found: list[tuple[float, str, str]] = []
    for profile in report.profiles:
        for step in profile.steps:
            if step.tls is None or not step.tls.not_after:
                continue
            try:
                when = datetime.fromisoformat(step.tls.not_after).timestamp()
            except ValueError:
                continue
            found.append(((when - now) / 86400, step.protocol, str(step.data.get("host", ""))))
    return min(found) if found else None
