"""Wake-ups at an exact moment for the lab's latency: the WAN it emulates is late by nothing.

asyncio's timers wake late on Linux: the epoll selector rounds a timeout up to
whole milliseconds, and Python 3.11 rounds it up once more when it converts
it, so ``asyncio.sleep(0.025)`` returns 1-2 ms late (measured: median 1.96 ms
on an idle loop).  A lab at 25 ms would then charge every server flight ~26.5
ms, ~15 ms over the ten flights of one SMTP check, to conntest and to any
other client alike.  One daemon thread per process keeps a heap of due times
and waits on a condition (to ~0.1 ms), then hands each callback to its loop
with ``call_soon_threadsafe``, which wakes the selector at once, just before
its time (:data:`HANDOFF_S`).  Never early: a callback runs at or after its
time, as ``loop.time()`` tells.
"""

from __future__ import annotations

import asyncio
import heapq
import itertools
import threading
import time
from collections.abc import Callable

_Entry = tuple[float, int, asyncio.AbstractEventLoop, Callable[[], None]]


class _Timer:
    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._seq = itertools.count()
        self._cond = threading.Condition()
        self._thread: threading.Thread | None = None

    def call_at(
        self, loop: asyncio.AbstractEventLoop, when: float, callback: Callable[[], None]
    ) -> None:
        """Run ``callback`` on ``loop`` once ``time.monotonic()`` (asyncio's clock) is ``when``."""
        with self._cond:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="lab-timer", daemon=True)
                self._thread.start()
            heapq.heappush(self._heap, (when, next(self._seq), loop, callback))
            self._cond.notify()

    def _run(self) -> None:
        while True:
            with self._cond:
                while not self._heap:
                    self._cond.wait()
                when, _, loop, callback = self._heap[0]
                delay = when - time.monotonic()
                if delay > 0:
                    self._cond.wait(delay)
                    continue
                heapq.heappop(self._heap)
            try:
                loop.call_soon_threadsafe(callback)
            except RuntimeError:  # that loop is closed: nobody waits for this any more
                pass


_TIMER = _Timer()


HANDOFF_S = 0.0003
"""How long before ``when`` the thread hands a callback to its loop: the hand-off (the
thread waking, ``call_soon_threadsafe``, the loop waking) takes ~0.2-0.3 ms, so the
loop gets it a little early and yields turns (``call_soon``, other work runs) until
``when``, then runs it: ~0.05 ms late instead of ~0.35 ms."""


def call_at(loop: asyncio.AbstractEventLoop, when: float, callback: Callable[[], None]) -> None:
    """``loop.call_at`` without asyncio's 1-2 ms of lateness (``when`` on ``loop.time()``)."""

    def at_when() -> None:
        if loop.time() >= when:
            callback()
        else:
            loop.call_soon(at_when)

    _TIMER.call_at(loop, when - HANDOFF_S, at_when)


async def sleep_until(when: float) -> None:
    """Sleep until the running loop's ``time()`` reaches ``when``, to ~0.1 ms."""
    loop = asyncio.get_running_loop()
    if when <= loop.time():
        return
    woken: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not woken.done():  # a cancelled sleeper left it done
            woken.set_result(None)

    call_at(loop, when, wake)
    await woken
