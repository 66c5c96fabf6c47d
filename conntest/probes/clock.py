"""Run-wide deadline and step timing.

Each step gets its own budget (a failed authentication may legitimately take
20 s to be answered) but never more than what is left of the run's
``--timeout``: :meth:`RunClock.budget` hands out ``min(step budget, remaining)``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

from conntest.model import Failure, FailureKind, Reply, Status, Step, TLSInfo

# Per-step budgets in seconds.  AUTH is long on purpose: Microsoft delays a
# failed AUTH by 5-20 s (behaviour.md §3), which must not read as a timeout.
STEP_BUDGET: dict[str, float] = {
    "resolve": 8.0,
    "mx": 4.0,
    "autodiscover": 4.0,
    "connect": 10.0,
    "control": 4.0,
    "tls": 10.0,
    "greeting": 15.0,
    "capability": 10.0,
    "ehlo": 10.0,
    "starttls": 10.0,
    "ehlo-tls": 10.0,
    "id": 10.0,
    "login": 35.0,
    "auth": 35.0,
    "mailbox": 15.0,
    "logout": 5.0,
    "quit": 5.0,
}


@dataclass
class RunClock:
    """The start and deadline of one check run."""

    timeout: float
    started: float = field(default_factory=time.monotonic)

    def offset_ms(self, when: float | None = None) -> float:
        return round(((when if when is not None else time.monotonic()) - self.started) * 1000, 1)

    def remaining(self) -> float:
        return max(0.0, self.started + self.timeout - time.monotonic())

    def budget(self, step: str) -> float:
        """The hard deadline of ``step``, in seconds from now: never past the run's."""
        return max(0.001, min(STEP_BUDGET.get(step, 10.0), self.remaining()))


def early(budget: float) -> float:
    """The socket timeout of a blocking step whose hard deadline is ``budget`` away.

    A socket timeout counts from each read, so a server that drips bytes dodges
    it and only the hard deadline ends the step; it is set a little sooner (a
    tenth, at most 0.5 s) so that its own, more telling timeout fires first for
    a server that went quiet, while the hard deadline still falls within the
    run (it came 0.5 s after the run's deadline).
    """
    return max(0.001, budget - min(0.5, budget / 10))


T = TypeVar("T")


async def within(awaitable: Awaitable[T], seconds: float) -> T:
    """``await awaitable``, cancelled after ``seconds`` (then :class:`TimeoutError`).

    What ``asyncio.wait_for`` does, in the caller's own task: before Python 3.12
    wait_for wraps the awaitable in a task of its own (with its future, timer and
    callbacks), about eight times per account in a batch (issue 12).  Without that
    task a cancellation the awaitable swallows would be lost: 3.11's wait_for,
    which aiosmtplib uses for each reply, returns the reply when the cancel comes
    in the same turn as it, and the probe would go on to send the credential.  A
    cancel that came while this ran and was not raised is raised here.
    """
    task = asyncio.current_task()
    cancels = task.cancelling() if task is not None else 0
    try:
        async with asyncio.timeout(seconds):
            result = await awaitable
    except Exception:
        if task is not None and task.cancelling() > cancels:
            # The cancel came with a failed reply in the same turn, and the failure was
            # raised in its place: the cancel wins, as it did with wait_for's own task.
            raise asyncio.CancelledError from None
        raise
    if task is not None and task.cancelling() > cancels:
        raise asyncio.CancelledError  # requested, swallowed below: still honoured
    return result


LIBRARY_FIRST_S = 0.05
"""How long after a whole-answer timeout (aiosmtplib's) the hard deadline waits, so
that the library's own error, with what it read, is the one recorded."""


class StepRecorder:
    """A :class:`Step` in the making, closed by ``passed``, ``failed`` or ``skipped``."""

    def __init__(self, clock: RunClock, protocol: str, name: str) -> None:
        self.clock = clock
        self.protocol = protocol
        self.name = name
        self.started = time.monotonic()
        self.transcript: list[str] = []
        self.data: dict[str, Any] = {}
        self.tls: TLSInfo | None = None

    def _finish(
        self, status: Status, reply: Reply | None, failure: Failure | None, elapsed: bool = True
    ) -> Step:
        now = time.monotonic()
        return Step(
            protocol=self.protocol,
            name=self.name,
            status=status,
            start_ms=self.clock.offset_ms(self.started),
            elapsed_ms=round((now - self.started) * 1000, 1) if elapsed else 0.0,
            reply=reply,
            failure=failure,
            tls=self.tls,
            transcript=list(self.transcript),
            data=dict(self.data),
        )

    def passed(self, reply: Reply | None = None) -> Step:
        return self._finish(Status.PASS, reply, None)

    def failed(
        self,
        kind: FailureKind,
        message: str,
        reply: Reply | None = None,
        errno: int | None = None,
    ) -> Step:
        return self._finish(Status.FAIL, reply, Failure(kind, message, errno))

    def skipped(self, message: str, kind: FailureKind | None = None) -> Step:
        failure = Failure(kind, message) if kind is not None else None
        step = self._finish(Status.SKIP, None, failure, elapsed=False)
        step.data.setdefault("reason", message)
        return step


def skipped_step(clock: RunClock, protocol: str, name: str, reason: str) -> Step:
    """A step that was not run because an earlier one failed."""
    return StepRecorder(clock, protocol, name).skipped(reason)


class StepLog:
    """The steps of one protocol's run, each announced to ``on_step`` as it is added."""

    def __init__(
        self,
        clock: RunClock,
        protocol: str,
        order: Sequence[str],
        on_step: Callable[[Step], None] | None = None,
    ) -> None:
        self.clock = clock
        self.protocol = protocol
        self.order = order
        self.on_step = on_step
        self.steps: list[Step] = []

    def add(self, step: Step) -> Step:
        self.steps.append(step)
        if self.on_step is not None:
            self.on_step(step)
        return step

    def skip_rest(self, after: str, reason: str) -> list[Step]:
        """Record every step after ``after`` as skipped, and return all steps."""
        for name in self.order[self.order.index(after) + 1 :]:
            self.add(skipped_step(self.clock, self.protocol, name, reason))
        return self.steps
