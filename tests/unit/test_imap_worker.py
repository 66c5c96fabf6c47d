"""The IMAP session threads: one per session, taken again by a later session once idle.

A thread that is still inside a call (a deadline won over a stuck read) must
never be handed to another session: its calls would wait behind the stuck one.
"""

from __future__ import annotations

import threading
import time

import pytest

from conntest.probes import imap_wire
from conntest.probes.imap_wire import Worker


def _run(worker: Worker) -> int:
    """The id of the thread that ran one call on ``worker``."""
    done = threading.Event()
    seen: list[int] = []

    def work() -> None:
        seen.append(threading.get_ident())
        done.set()

    worker.submit(work)
    assert done.wait(5)
    return seen[0]


def _parked_count() -> int:
    return imap_wire._parked.qsize()


def _wait_parked(at_least: int) -> None:
    deadline = time.monotonic() + 5
    while _parked_count() < at_least:
        assert time.monotonic() < deadline, "the idle thread was not parked"
        time.sleep(0.001)


def _session_threads() -> set[int]:
    return {t.ident or 0 for t in threading.enumerate() if t.name == "conntest-imap"}


def test_a_later_session_takes_the_thread_an_earlier_one_left() -> None:
    first = Worker()
    ident = _run(first)
    assert _run(first) == ident  # one thread per session, calls one after another
    first.close()
    _wait_parked(1)
    before = _session_threads()
    assert ident in before
    second = Worker()
    # A parked thread (this one, or one an earlier session left), not a new one.
    assert _run(second) in before
    assert _session_threads() == before
    second.close()


def test_calls_run_in_the_order_given() -> None:
    worker = Worker()
    order: list[int] = []
    done = threading.Event()
    for i in range(50):
        worker.submit(lambda i=i: order.append(i))
    worker.submit(done.set)
    assert done.wait(5)
    assert order == list(range(50))
    worker.close()


def test_a_thread_stuck_in_a_call_is_not_handed_out() -> None:
    release = threading.Event()
    started = threading.Event()
    stuck_on: list[int] = []

    def hang() -> None:
        stuck_on.append(threading.get_ident())
        started.set()
        release.wait(10)

    stuck = Worker()
    stuck.submit(hang)
    assert started.wait(5)
    stuck.close()  # the session is over (its deadline won); its thread is still reading
    try:
        for _ in range(3):
            other = Worker()
            assert _run(other) != stuck_on[0]  # served at once, by another thread
            other.close()
    finally:
        release.set()
    _wait_parked(1)


def test_past_the_limit_an_idle_thread_ends(monkeypatch: pytest.MonkeyPatch) -> None:
    worker = Worker()
    ident = _run(worker)
    monkeypatch.setattr(imap_wire, "MAX_PARKED", _parked_count())  # the pool is full
    thread = next(t for t in threading.enumerate() if t.ident == ident)
    worker.close()
    thread.join(5)
    assert not thread.is_alive()
