"""What the diagnosis concludes: a :class:`Finding` and its :class:`Severity`.

Apart from :mod:`conntest.model` (which re-exports both) because ``conntest
explain`` concludes from one pasted text without any observed step, and so
imports this small module alone (issue 12: cold start).
"""

from __future__ import annotations

import enum

from conntest.record import record

__all__ = ["Finding", "Severity"]


class Severity(enum.IntEnum):
    """Ordered so that ``max()`` gives the worst; ``UNKNOWN`` is worst of all."""

    OK = 0
    INFO = 1
    WARNING = 2
    CRITICAL = 3
    UNKNOWN = 4

    @property
    def label(self) -> str:
        return self.name.lower()

    @property
    def verdict(self) -> str:
        """The report verdict for this severity (``info`` counts as ``ok``)."""
        return "ok" if self is Severity.INFO else self.label

    @property
    def exit_code(self) -> int:
        """Nagios plugin exit code."""
        return {0: 0, 1: 0, 2: 1, 3: 2, 4: 3}[int(self)]


@record(frozen=True)
class Finding:
    """A conclusion of the diagnosis with its evidence and remedy."""

    code: str
    severity: Severity
    title: str
    detail: str
    remedy: str
    evidence: str
    """The step and server text that decided it, e.g. ``smtp auth: 535 5.7.139 …``."""
    admin_action: str | None = None
    """What an administrator must do, where the fix is not the user's."""
    protocol: str | None = None
