"""How the IMAP probe reads and writes through imaplib: a tap, read limits, a deadline.

imapclient (over imaplib) is synchronous; the IMAP probe drives it through
this layer.  :class:`TappedIMAP4` runs imaplib on a socket conntest connected
and wrapped itself, and reads through :data:`LIMITS`: a line, a literal, the
lines of one command and the bytes of one step are capped, and going past one
raises :class:`LimitExceeded` (imaplib re-wraps it; the :class:`Tap` keeps
which limit it was).  The tap records every line with its time, redacted with
the run's :class:`~conntest.redact.Redactor` before it is cut, and keeps at
most ``kept_lines`` per step.  :func:`blocking` runs one imaplib call under a
hard deadline the run does not wait past, on the session's :class:`Worker`
(one daemon thread per session, not one per call).
"""

from __future__ import annotations

import asyncio
import imaplib
import io
import os
import queue
import re
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from imapclient import IMAPClient

from conntest.model import Reply
from conntest.probes.clock import early
from conntest.redact import REDACTED, Redactor

T = TypeVar("T")
TAGGED = re.compile(r"^(?P<tag>[A-Za-z0-9.]+) (?P<status>OK|NO|BAD) ?(?P<text>.*)$", re.I)
UNTAGGED = re.compile(r"^\* (?P<status>OK|NO|BAD|BYE|PREAUTH) ?(?P<text>.*)$", re.I)
MAX_TRANSCRIPT_LINE = 400


@dataclass(frozen=True)
class Limits:
    """How much a server may send before conntest stops reading (none is near a real answer)."""

    line: int = 64 * 1024
    literal: int = 1024 * 1024
    lines_per_command: int = 10_000
    step_bytes: int = 4 * 1024 * 1024
    kept_lines: int = 200
    """Transcript lines kept per step; the rest are counted, not stored."""


LIMITS = Limits()


class LimitExceeded(imaplib.IMAP4.abort):
    """The server went past one of :data:`LIMITS` (imaplib re-wraps it; the tap keeps the name)."""


class Tap:
    """Records what imaplib sends and receives, with times, credentials redacted; counts bytes."""

    def __init__(self, redact: Redactor, limits: Limits = LIMITS) -> None:
        self.lines: list[tuple[float, str, str]] = []
        self.sensitive = False
        self.redact = redact
        self.limits = limits
        self.limit: str | None = None
        """Which limit stopped reading (``line``, ``literal``, ``lines``, ``bytes``), if any."""
        self.limit_message = ""
        self._lock = threading.Lock()
        self._mark = 0
        self._dropped = 0
        self._first_received: float | None = None
        self._step_bytes = 0
        self._command_lines = 0
        self._arrived = 0
        self._arrived_at_send = 0

    def begin_step(self) -> None:
        self.limit = None
        self._step_bytes = 0
        self._command_lines = 0

    def sent(self, data: bytes) -> None:
        self._command_lines = 0
        self._arrived_at_send = self._arrived
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        if not text and data:
            # The line end imaplib sends on its own after a SASL response (or a literal):
            # part of the line before, not a line of its own. Recorded while sensitive it
            # read as a second credential ("C: <redacted>" twice for one).
            return
        if self.sensitive:
            text = redact_command(text)
        self._add("C", text)

    def received(self, data: bytes) -> None:
        if self._first_received is None:
            self._first_received = time.monotonic()
        self._add("S", data.decode("utf-8", "replace").rstrip("\r\n"))

    def arrived(self, size: int) -> None:
        """Account for ``size`` bytes read off the socket (a part of a line counts too)."""
        self._arrived += size

    def received_since_sent(self) -> int:
        """Bytes the server sent after conntest's last command: an answer begun, if not 0.

        A step that times out with this above 0 met a server that began an answer and
        never ended it (a drip, a byte now and then), not a silent one.
        """
        return self._arrived - self._arrived_at_send

    def count(self, size: int, line: bool) -> None:
        """Account for ``size`` bytes about to be kept; raise past a limit."""
        self._step_bytes += size
        if line:
            self._command_lines += 1
        if self._command_lines > self.limits.lines_per_command:
            raise self.exceeded(
                "lines",
                f"the server sent more than {self.limits.lines_per_command:,} lines in answer to "
                "one command; conntest stopped reading",
            )
        if self._step_bytes > self.limits.step_bytes:
            raise self.exceeded(
                "bytes",
                f"the server sent more than {self.limits.step_bytes // 1024 // 1024} MiB in one "
                "step; conntest stopped reading",
            )

    def exceeded(self, limit: str, message: str) -> LimitExceeded:
        self.limit, self.limit_message = limit, message
        return LimitExceeded(message)

    def _add(self, who: str, text: str) -> None:
        with self._lock:
            if len(self.lines) - self._mark >= self.limits.kept_lines:
                self._dropped += 1
                return
            # Redact the whole line before it is cut: a cut must not leave part of a secret.
            self.lines.append((time.monotonic(), who, self.redact.cut(text, MAX_TRANSCRIPT_LINE)))

    def drain(self) -> list[str]:
        with self._lock:
            new = self.lines[self._mark :]
            self._mark = len(self.lines)
            dropped, self._dropped = self._dropped, 0
        lines = [f"{who}: {text}" for _, who, text in new]
        if dropped:
            lines.append(f"… {dropped:,} more lines not kept")
        return lines

    def first_received_at(self) -> float | None:
        return self._first_received

    def last_reply(self) -> Reply | None:
        """The last status line the server sent in the whole session."""
        with self._lock:
            return reply_in([f"{who}: {text}" for _, who, text in self.lines])

    def untagged_bye(self) -> str | None:
        with self._lock:
            received = [text for _, who, text in self.lines if who == "S"]
        for text in reversed(received):
            m = UNTAGGED.match(text)
            if m and m["status"].upper() == "BYE":
                return m["text"]
        return None


def reply_in(transcript: list[str]) -> Reply | None:
    """The last tagged (or, failing that, untagged) status line among ``S:`` lines."""
    received = [line[3:] for line in transcript if line.startswith("S: ")]
    for text in reversed(received):
        m = TAGGED.match(text)
        if m:
            return Reply(m["status"].upper(), m["text"])
    for text in reversed(received):
        m = UNTAGGED.match(text)
        if m:
            return Reply(m["status"].upper(), m["text"])
    return None


def redact_command(text: str) -> str:
    """Keep the tag, command and user name; drop passwords and SASL payloads."""
    parts = text.split(" ")
    if len(parts) >= 2 and parts[1].upper() == "LOGIN":
        return " ".join([*parts[:3], REDACTED]) if len(parts) >= 4 else text
    if len(parts) >= 3 and parts[1].upper() == "AUTHENTICATE":
        return " ".join([*parts[:3], REDACTED]) if len(parts) >= 4 else text
    if text == "*":
        return text  # the SASL cancel conntest answers a second "+" with: no credential
    return REDACTED  # a continuation line during authentication


class TappedIMAP4(imaplib.IMAP4):
    """imaplib on a socket we connected and wrapped ourselves, with a tap and read limits.

    ``greeting``: after STARTTLS no new greeting comes, so the one read in plain
    text is handed to imaplib as its first line (not tapped twice).
    """

    def __init__(
        self, sock: socket.socket, tap: Tap, host: str, port: int, greeting: bytes | None = None
    ) -> None:
        self._presock = sock
        self._tap = tap
        self._replay = greeting
        super().__init__(host, port)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return self._presock

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        """imaplib's own, but the file counts the bytes it reads off the socket (for the tap)."""
        self.host, self.port = host, port
        self.sock = self._create_socket(timeout)
        self.file = io.BufferedReader(_CountingIO(self.sock, self._tap))

    def readline(self) -> bytes:
        if self._replay is not None:
            line, self._replay = self._replay, None
            return line
        limit = self._tap.limits.line
        read = self.file.readline(limit + 1)
        assert isinstance(read, bytes)  # imaplib's file is opened in binary mode
        line = read
        if line:
            self._tap.received(line[:limit])
        if len(line) > limit:
            raise self._tap.exceeded(
                "line",
                f"the server sent a line longer than {limit // 1024} KiB; conntest stopped reading",
            )
        self._tap.count(len(line), line=True)
        return line

    def read(self, size: int) -> bytes:
        if size > self._tap.limits.literal:
            raise self._tap.exceeded(
                "literal",
                f"the server announced {size:,} bytes of data in one answer (a literal); "
                "conntest did not read them",
            )
        self._tap.count(size, line=False)
        data = super().read(size)
        self._tap.received(data)
        return data

    def send(self, data: bytes) -> None:  # type: ignore[override]
        self._tap.sent(data)
        super().send(data)


class _CountingIO(socket.SocketIO):
    """The raw file under imaplib's reads: tells the tap how many bytes each read brought."""

    def __init__(self, sock: socket.socket, tap: Tap) -> None:
        super().__init__(sock, "rb")
        self._tap = tap

    def readinto(self, b: Any) -> int | None:
        n = super().readinto(b)
        if n:
            self._tap.arrived(n)
        return n


class ProbeClient(IMAPClient):  # type: ignore[misc]
    def __init__(
        self, sock: socket.socket, tap: Tap, host: str, port: int, greeting: bytes | None = None
    ) -> None:
        self._presock = sock
        self._tap = tap
        self._greeting = greeting
        super().__init__(host, port=port, ssl=False, timeout=None)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return TappedIMAP4(self._presock, self._tap, self.host, self.port, self._greeting)


class Worker:
    """The daemon thread that runs one IMAP session's blocking calls, one after another.

    A thread per call cost the event loop a thread start (it waits until the
    new thread runs: ~0.2 ms idle, more under load) six times per session;
    one thread fed by a queue costs it a ``put`` (issue 12).  The thread is
    taken from those that finished an earlier session where one is parked
    (in a batch the start was 0.8 ms of the loop's time per account).  Calls
    run in the order given; a call stuck past its deadline delays the next
    one, whose own deadline still holds.  :meth:`close` parks the thread once
    it is idle (or ends it, past :data:`MAX_PARKED`); nothing joins it.
    """

    def __init__(self) -> None:
        self._calls: _Calls | None = None

    def submit(self, work: Callable[[], None]) -> None:
        if self._calls is None:
            try:
                self._calls = _parked.get_nowait()
            except queue.Empty:
                self._calls = queue.SimpleQueue()
                name = "conntest-imap"
                threading.Thread(target=_serve, args=(self._calls,), name=name, daemon=True).start()
        self._calls.put(work)

    def close(self) -> None:
        """Park the thread after the calls already given (at once when it is idle)."""
        if self._calls is not None:
            self._calls.put(_PARK)
            self._calls = None


def _park() -> None:
    """The sentinel a closed :class:`Worker` leaves its thread."""


_Calls = queue.SimpleQueue[Callable[[], None]]
_PARK: Callable[[], None] = _park
MAX_PARKED = 256
"""Idle session threads kept for the next sessions (a batch runs up to its concurrency)."""
_parked: queue.SimpleQueue[_Calls] = queue.SimpleQueue()
"""The call queues of parked threads: each thread waits on its own."""


def _serve(calls: _Calls) -> None:
    while True:
        work = calls.get()
        if work is not _PARK:
            work()
        elif _parked.qsize() < MAX_PARKED:
            _parked.put(calls)
        else:
            return


def _forget_parked() -> None:
    """After a fork the parked threads are gone; their queues must not be handed out."""
    global _parked  # noqa: PLW0603 — the child's pool starts empty
    _parked = queue.SimpleQueue()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_parked)


async def blocking(
    fn: Callable[[], T],
    timeout: float,
    sock: socket.socket | None,
    worker: Worker | None = None,
) -> T:
    """Run ``fn`` on ``worker`` (a thread of its own if none) under a hard deadline.

    The socket timeout normally fires first; if a server drips bytes slowly
    enough to dodge it (or the thread is blocked anywhere else), the deadline
    wins: the socket is shut down here so the thread ends soon, and the step
    ends now.  Nothing joins the thread, so neither the run nor the process
    exit waits for it.
    """
    # The socket timeout is set on the worker's thread: settimeout lets go of the GIL,
    # and taking it back on the event loop's thread waits behind the busy workers
    # (0.15 ms a call in a batch, ~0.9 ms an account).
    wait = early(timeout)
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def settle(result: Any, exc: BaseException | None) -> None:
        if future.done():  # the deadline won; the late outcome is dropped
            return
        if exc is not None:
            future.set_exception(exc)
        else:
            future.set_result(result)

    def work() -> None:
        try:
            if sock is not None:
                sock.settimeout(wait)
            outcome: tuple[Any, BaseException | None] = (fn(), None)
        except BaseException as exc:
            outcome = (None, exc)
        try:
            loop.call_soon_threadsafe(settle, *outcome)
        except RuntimeError:  # the loop is gone: nobody is waiting any more
            pass

    if worker is None:
        threading.Thread(target=work, name="conntest-imap", daemon=True).start()
    else:
        worker.submit(work)
    try:
        return await asyncio.wait_for(future, timeout)
    except TimeoutError:
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise
