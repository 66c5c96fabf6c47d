"""Where today stands against Microsoft's December 2026 change to SMTP AUTH basic authentication.

The date itself is a row of :data:`~conntest.diagnosis.timeline.RETIREMENT_TIMELINE`
(``smtp-basic-default-off``, Microsoft: "End of December 2026: disabled by default
for existing tenants. Administrators will still be able to enable it if needed";
counted as 31 December 2026).  Nothing here reads the clock: today's date comes in
from the front end through the diagnosis context, so a rule gives the same answer
for the same date, and tests pin the date.

Phases, for a window of *N* days (``--retirement-window``, default 60):

* ``before``: more than *N* days before the date;
* ``window``: *N* days or fewer before it;
* ``after``: on or after it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date
from typing import Literal

from conntest.diagnosis.timeline import RETIREMENT_TIMELINE, TimelineEntry

__all__ = [
    "DEFAULT_OFF",
    "DEFAULT_WINDOW_DAYS",
    "FINAL",
    "Countdown",
    "Phase",
    "change_date",
    "change_timestamp",
    "countdown",
]

DEFAULT_WINDOW_DAYS = 60
"""Days before the change in which the advisory is a warning."""
DEFAULT_OFF = "smtp-basic-default-off"
"""The timeline key of Microsoft's default flip."""
FINAL = "smtp-basic-final"
"""The timeline key of the final removal (its date is still to be announced)."""

Phase = Literal["before", "window", "after"]


def _entry(key: str) -> TimelineEntry:
    return next(e for e in RETIREMENT_TIMELINE if e.key == key)


def change_date() -> date:
    """The day SMTP AUTH basic authentication is off by default (from the timeline)."""
    effective = _entry(DEFAULT_OFF).effective
    assert effective is not None, f"the timeline entry {DEFAULT_OFF} needs an effective date"
    return date.fromisoformat(effective)


def change_timestamp() -> float:
    """:func:`change_date` at 00:00 UTC, as Unix time (the Prometheus timestamp metric)."""
    return float(calendar.timegm(change_date().timetuple()))


@dataclass(frozen=True)
class Countdown:
    """Today against the change."""

    phase: Phase
    days_left: int
    """Days from today to the change; 0 on the day, negative after it."""
    window_days: int


def countdown(today: date, window_days: int = DEFAULT_WINDOW_DAYS) -> Countdown:
    """Where ``today`` stands; ``window_days`` must not be negative."""
    if window_days < 0:
        raise ValueError("the retirement window cannot be negative")
    days_left = (change_date() - today).days
    phase: Phase
    if days_left <= 0:
        phase = "after"
    elif days_left <= window_days:
        phase = "window"
    else:
        phase = "before"
    return Countdown(phase, days_left, window_days)
