"""Stop and reload on every system: SIGINT/SIGTERM/SIGHUP; Ctrl-C/Ctrl-Break on Windows.

asyncio's ``loop.add_signal_handler`` exists only on POSIX event loops (on
Windows it raises ``NotImplementedError``), and Windows has no ``SIGHUP``
but a ``SIGBREAK`` for Ctrl-Break, whose default is to end the process on
the spot.  The front ends (``serve``, ``lab``, ``check``) ask here instead of
naming signals themselves, so a run ends the same clean way everywhere: the
check in flight is cancelled, its lockout claim settled, the listener closed.

:func:`quiet_when_cancelled` keeps what a cancelled run leaves behind (tasks
that ended with an error nobody will read) from reaching stderr as asyncio
tracebacks; :mod:`conntest.console` catches a Ctrl-C that comes before or
after the run.
"""

from __future__ import annotations

import signal

# Not even `typing` at import time: conntest.console imports this module
# first, and a Ctrl-C is only caught once both have been imported.
TYPE_CHECKING = False
if TYPE_CHECKING:  # only annotations
    import asyncio
    from collections.abc import Awaitable, Callable, Coroutine
    from typing import Any, TypeVar

    T = TypeVar("T")

__all__ = [
    "EXIT_INTERRUPTED",
    "INTERRUPTED_LINE",
    "NAGIOS_INTERRUPTED",
    "RELOAD_SIGNAL",
    "break_as_interrupt",
    "on_reload",
    "on_stop",
    "quiet_when_cancelled",
    "run_quietly",
]

EXIT_INTERRUPTED = 3
"""An interrupted run is UNKNOWN (the Monitoring Plugins' 3): nothing was decided."""

INTERRUPTED_LINE = "conntest: interrupted"
NAGIOS_INTERRUPTED = "CONNTEST UNKNOWN - interrupted before the check finished\n"

RELOAD_SIGNAL: signal.Signals | None = getattr(signal, "SIGHUP", None)
"""The signal that asks ``serve`` to reload its config; ``None`` on Windows
(where ``POST /-/reload`` is the only way)."""


def stop_signals() -> list[signal.Signals]:
    """The signals that mean "stop": SIGINT, SIGTERM, and SIGBREAK where it exists."""
    found = [signal.SIGINT, signal.SIGTERM]
    brk = getattr(signal, "SIGBREAK", None)
    if brk is not None:
        found.append(brk)
    return found


def _handle(loop: asyncio.AbstractEventLoop, signum: int, callback: Callable[[], None]) -> None:
    try:
        loop.add_signal_handler(signum, callback)
    except NotImplementedError:
        # Windows: a plain handler, run between bytecodes in the main thread,
        # hands the callback to the loop (which the signal wakes up).
        signal.signal(signum, lambda _signum, _frame: loop.call_soon_threadsafe(callback))


def on_stop(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
    """Call ``callback`` in ``loop`` on Ctrl-C, Ctrl-Break or SIGTERM."""
    for signum in stop_signals():
        _handle(loop, signum, callback)


def on_reload(loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> bool:
    """Call ``callback`` on SIGHUP; ``False`` where the system has none (Windows)."""
    if RELOAD_SIGNAL is None:
        return False
    _handle(loop, RELOAD_SIGNAL, callback)
    return True


def break_as_interrupt() -> None:
    """Make Ctrl-Break do what Ctrl-C does at that moment, instead of killing the process.

    For the commands without an event loop of their own to stop (``check``,
    batches).  The handler hands the signal to whatever handles SIGINT when
    it arrives: inside ``asyncio.run``, asyncio's own (which cancels the run,
    so lockout claims are settled and the CLI ends with one line); outside,
    Python's ``KeyboardInterrupt``.  Raising ``KeyboardInterrupt`` straight
    away would land in the middle of the event loop and leave its tasks
    pending, each printed as a traceback.
    """
    import threading

    brk = getattr(signal, "SIGBREAK", None)
    if brk is not None and threading.current_thread() is threading.main_thread():
        signal.signal(brk, _as_ctrl_c)


def _as_ctrl_c(signum: int, frame: Any) -> None:
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    elif handler != signal.SIG_IGN:
        raise KeyboardInterrupt


_LEFTOVERS = frozenset(
    {"Task exception was never retrieved", "unhandled exception during asyncio.run() shutdown"}
)


async def quiet_when_cancelled(awaitable: Awaitable[T]) -> T:
    """Await ``awaitable``; once the run is cancelled (Ctrl-C), its leftovers stay quiet.

    A cancelled run leaves tasks that had just failed (a DNS answer of "no
    such record" that arrived with the Ctrl-C) with an error nobody reads, and
    coroutines that never got to run; asyncio would print each as a traceback
    or a RuntimeWarning while it shuts the loop down.  Only after a
    cancellation, and only those kinds of message, are dropped: any other
    report of the loop still reaches its handler.
    """
    try:
        return await awaitable
    except BaseException as exc:
        import asyncio

        if isinstance(exc, asyncio.CancelledError | KeyboardInterrupt):
            loop = asyncio.get_running_loop()
            previous = loop.get_exception_handler()

            def handler(loop: asyncio.AbstractEventLoop, context: dict[str, Any]) -> None:
                if context.get("message") in _LEFTOVERS:
                    return
                if previous is not None:
                    previous(loop, context)
                else:
                    loop.default_exception_handler(context)

            loop.set_exception_handler(handler)
            import warnings

            # A coroutine made for a task that the cancellation ended before it ran.
            warnings.filterwarnings(
                "ignore", message=r"coroutine .* was never awaited", category=RuntimeWarning
            )
        raise


def run_quietly(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run`` of ``coro`` under :func:`quiet_when_cancelled`.

    A Ctrl-C while ``asyncio.run`` still makes its loop lands before either
    coroutine started; closing them then keeps Python from warning that they
    were "never awaited" beside the one interrupted line.
    """
    import asyncio

    wrapper = quiet_when_cancelled(coro)
    try:
        return asyncio.run(wrapper)
    finally:
        wrapper.close()
        coro.close()
