"""How the IMAP probe reads and writes through imaplib: a tap, read limits, a deadline.

imapclient (over imaplib) is synchronous; the IMAP probe drives it through
this layer.  :class:`TappedIMAP4` runs imaplib on a socket conntest connected
and wrapped itself, and reads through :data:`LIMITS`: a line, a literal, the
lines of one command and the bytes of one step are capped, and going past one
raises :class:`LimitExceeded` (imaplib re-wraps it; the :class:`Tap` keeps
which limit it was).  The tap records every line with its time, redacted with
the run's :class:`~conntest.redact.Redactor` before it is cut, and keeps at
most ``kept_lines`` per step.  :func:`blocking` runs one imaplib call on the
event loop's own thread, in a greenlet, under a hard deadline: where imaplib
would block on the socket, the loop waits for it (:class:`LoopSocket`).
"""

from __future__ import annotations

import asyncio
import imaplib
import random
import re
import socket
import ssl
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, cast

import greenlet
from imapclient import IMAPClient

from conntest.model import Reply
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


class Stream(Protocol):
    """What the plain-text readers need of a connection: a socket or a :class:`LoopSocket`."""

    def recv(self, size: int) -> bytes: ...

    def sendall(self, data: bytes) -> None: ...


def await_(awaitable: Awaitable[T]) -> T:
    """Wait for ``awaitable`` from code :func:`blocking` runs: the event loop runs meanwhile.

    The call hands the awaitable to the coroutine that runs this greenlet and
    resumes with its result (or its exception), so synchronous code such as
    imaplib reads and writes on the loop's thread without blocking it.
    """
    parent = greenlet.getcurrent().parent
    if parent is None:
        raise RuntimeError("await_ outside a call that blocking() runs")
    result: T = parent.switch(awaitable)
    return result


async def _run_greenlet(fn: Callable[[], T]) -> T:
    """Run ``fn`` in a greenlet of its own, awaiting each awaitable it hands over."""
    child = greenlet.greenlet(fn)
    request: Any = child.switch()
    while not child.dead:
        try:
            value = await request
        except BaseException as exc:  # a cancel (the deadline) or an error: fn sees it raised
            request = child.throw(exc)
        else:
            request = child.switch(value)
    return cast(T, request)


_CHUNK = 64 * 1024
_BREATH = 0.005
"""Seconds a call may read data that is already there before it lets the loop run.

A read that finds data never waits, so it never gives the loop a turn: a server
that floods would keep every timer from firing, the call's own deadline among
them, until a read limit tripped (a 50 ms deadline held at 91 ms, once per step).
"""


class LoopSocket:
    """A connection (plain, then perhaps TLS) that code :func:`blocking` runs uses as a socket.

    Where a read or write would block, the greenlet waits on the event loop
    (:func:`await_` on ``sock_recv``/``sock_sendall``, which Windows' Proactor
    loop has too) instead of on a thread of its own: a batch of IMAP sessions
    then does not fight the loop for the GIL (issue 12: with a thread per
    session an IMAP account cost 1.9× an SMTP one, ~125 context switches
    each).  TLS runs in memory (:class:`ssl.SSLObject`), so a STARTTLS upgrade
    reads nothing ahead of the handshake, and errors are OpenSSL's, as a
    wrapped socket's would be; an EOF without close_notify reads as the end,
    as ``SSLSocket`` reads it.
    """

    def __init__(self, sock: socket.socket) -> None:
        sock.setblocking(False)
        self.sock = sock
        self.tls: ssl.SSLObject | None = None
        self._loop = asyncio.get_running_loop()
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self._visited = time.monotonic()
        self._readable: asyncio.Future[None] | None = None
        self._watched = False
        """Whether the loop watches the socket for reading (:meth:`_recv_when_readable`)."""
        self._watchable = True
        """False on a loop without ``add_reader`` (Windows' Proactor): ``sock_recv`` then."""
        self._idle_wakes = 0

    def handshake(self, ctx: ssl.SSLContext, host: str) -> ssl.SSLObject:
        """Start TLS for ``host`` and complete the handshake (raises OpenSSL's errors)."""
        tls = ctx.wrap_bio(self._incoming, self._outgoing, server_hostname=host)
        while True:
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush()
                self._pull()
            else:
                self._flush()
                self.tls = tls
                return tls

    def recv(self, size: int) -> bytes:
        if self.tls is None:
            return self._wire_recv(size)
        while True:
            try:
                data = self.tls.read(size)
            except ssl.SSLWantReadError:
                self._flush()  # a TLS 1.3 key update asks for an answer
                self._pull()
            except (ssl.SSLEOFError, ssl.SSLZeroReturnError):
                return b""
            else:
                return data

    def sendall(self, data: bytes) -> None:
        if self.tls is None:
            await_(self._loop.sock_sendall(self.sock, data))
            return
        self.tls.write(data)
        self._flush()

    def _pull(self) -> None:
        chunk = self._wire_recv(_CHUNK)
        if chunk:
            self._incoming.write(chunk)
        else:
            self._incoming.write_eof()

    def _wire_recv(self, size: int) -> bytes:
        """Up to ``size`` bytes off the socket, waiting on the loop if none are there.

        What has come already is taken without a trip through the loop, but not
        for longer than :data:`_BREATH` at a time: then the loop gets a turn, so
        a deadline fires even while a server floods.  This holds for the TLS
        records a read consumes on its own too (session tickets, key updates),
        which no read limit counts: the deadline bounds them.
        """
        try:
            data = self.sock.recv(size)
        except (BlockingIOError, InterruptedError):
            if self._watchable:
                data = self._recv_when_readable(size)
            else:
                data = await_(self._loop.sock_recv(self.sock, size))
            self._visited = time.monotonic()
        else:
            if time.monotonic() - self._visited > _BREATH:
                await_(asyncio.sleep(0))
                self._visited = time.monotonic()
        return data

    def _flush(self) -> None:
        if not self._outgoing.pending:
            return
        data = self._outgoing.read()
        try:  # a command fits the socket's buffer: most writes need no wait
            sent = self.sock.send(data)
        except (BlockingIOError, InterruptedError):
            sent = 0
        if sent < len(data):
            await_(self._loop.sock_sendall(self.sock, data[sent:]))

    def _recv_when_readable(self, size: int) -> bytes:
        """Wait for the socket to be readable, then read.

        The loop watches the socket from the first wait to :meth:`close`, instead
        of ``sock_recv``'s registration and removal (two ``epoll_ctl`` and the
        selector's bookkeeping) around each of a session's ten or so waits.  Data
        that comes while nobody waits ends the watch at its second wake (the first
        is the last read's own), so the loop never spins on unread data.
        """
        while True:
            if not self._watched:
                try:
                    self._loop.add_reader(self.sock.fileno(), self._on_readable)
                except NotImplementedError:  # Proactor: no readiness callbacks
                    self._watchable = False
                    return await_(self._loop.sock_recv(self.sock, size))
                self._watched = True
            self._readable = self._loop.create_future()
            try:
                await_(self._readable)
            finally:
                self._readable = None
            try:
                return self.sock.recv(size)
            except (BlockingIOError, InterruptedError):
                continue  # readable, then not (a spurious wake)

    def _on_readable(self) -> None:
        waiter = self._readable
        if waiter is None or waiter.done():
            # Nobody waits.  Once is the readiness the last read already took (reported
            # by the same poll); twice is data nobody reads: stop until the next wait.
            self._idle_wakes += 1
            if self._idle_wakes > 1:
                self._unwatch()
            return
        self._idle_wakes = 0
        waiter.set_result(None)

    def _unwatch(self) -> None:
        self._idle_wakes = 0
        if self._watched:
            self._watched = False
            try:
                self._loop.remove_reader(self.sock.fileno())
            except (OSError, ValueError):  # already closed
                pass

    def shutdown(self) -> None:
        """Shut the socket down both ways (what is in flight is dropped)."""
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def close(self) -> None:
        self._unwatch()
        self.sock.close()


class _LoopFile:
    """imaplib's file: reads in chunks off a :class:`LoopSocket`, counting them for the tap."""

    CHUNK = 64 * 1024

    def __init__(self, conn: LoopSocket, tap: Tap) -> None:
        self._conn = conn
        self._tap = tap
        self._buffer = bytearray()
        self._eof = False

    def _fill(self) -> None:
        chunk = self._conn.recv(self.CHUNK)
        if chunk:
            self._tap.arrived(len(chunk))
            self._buffer += chunk
        else:
            self._eof = True

    def readline(self, limit: int) -> bytes:
        """Up to and with the next LF, at most ``limit`` bytes (fewer at the end of the stream)."""
        searched = 0
        while True:
            end = self._buffer.find(b"\n", searched, limit)
            if end >= 0:
                return self._take(end + 1)
            if len(self._buffer) >= limit or self._eof:
                return self._take(min(limit, len(self._buffer)))
            searched = len(self._buffer)
            self._fill()

    def read(self, size: int) -> bytes:
        while len(self._buffer) < size and not self._eof:
            self._fill()
        return self._take(min(size, len(self._buffer)))

    def _take(self, size: int) -> bytes:
        data = bytes(self._buffer[:size])
        del self._buffer[:size]
        return data

    def close(self) -> None:
        self._buffer.clear()


_FILE_IS_PROPERTY = isinstance(getattr(imaplib.IMAP4, "file", None), property)
_TAG_PREFIX: bytes = imaplib.Int2AP(random.randint(4096, 65535))  # as imaplib draws it
_ALLOWED_VERSIONS: tuple[str, ...] = imaplib.AllowedVersions  # type: ignore[attr-defined]
_TAG_RE = re.compile(rb"(?P<tag>" + _TAG_PREFIX + rb"\d+) (?P<type>[A-Z]+) (?P<data>.*)", re.ASCII)


class TappedIMAP4(imaplib.IMAP4):
    """imaplib on a socket we connected and wrapped ourselves, with a tap and read limits.

    ``greeting``: after STARTTLS no new greeting comes, so the one read in plain
    text is handed to imaplib as its first line (not tapped twice).  Reads and
    writes go through a :class:`LoopSocket`: run it under :func:`blocking`.
    """

    def __init__(
        self, conn: LoopSocket, tap: Tap, host: str, port: int, greeting: bytes | None = None
    ) -> None:
        self._conn = conn
        self._tap = tap
        self._replay = greeting
        self._unsent = bytearray()
        super().__init__(host, port)

    def _connect(self) -> None:
        """imaplib's, but with the process's tag prefix and its regex, compiled once.

        imaplib draws a prefix per connection and compiles a pattern for it, which
        ``re``'s cache never holds again: 3% of a batch's CPU (issue 12).  A tag
        needs to be unique within a session, which a counter after any prefix is.
        """
        self.tagpre = _TAG_PREFIX  # type: ignore[assignment]  # bytes at run time (typeshed: str)
        self.tagre = _TAG_RE  # type: ignore[assignment]
        self._cmd_log_len, self._cmd_log_idx = 10, 0
        self._cmd_log: dict[int, tuple[str, float]] = {}
        self.welcome = self._get_response()
        if "PREAUTH" in self.untagged_responses:
            self.state = "AUTH"
        elif "OK" in self.untagged_responses:
            self.state = "NONAUTH"
        else:
            raise self.error(self.welcome)
        self._get_capabilities()
        for version in _ALLOWED_VERSIONS:
            if version in self.capabilities:
                self.PROTOCOL_VERSION = version
                return
        raise self.error("server not IMAP4 compliant")

    def open(self, host: str = "", port: int = 143, timeout: float | None = None) -> None:
        """Take over the connection; the file counts the bytes it reads (for the tap)."""
        self.host, self.port = host, port
        self.sock = self._conn  # type: ignore[assignment]  # imaplib's name; only ours use it
        self._file = _LoopFile(self._conn, self._tap)
        if not _FILE_IS_PROPERTY:  # Python 3.14 made it a read-only property over ``_file``
            self.file = self._file  # type: ignore[assignment]  # imaplib's name; only ours read it

    def readline(self) -> bytes:
        self._flush()
        if self._replay is not None:
            line, self._replay = self._replay, None
            return line
        limit = self._tap.limits.line
        line = self._file.readline(limit + 1)
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
        self._flush()
        if size > self._tap.limits.literal:
            raise self._tap.exceeded(
                "literal",
                f"the server announced {size:,} bytes of data in one answer (a literal); "
                "conntest did not read them",
            )
        self._tap.count(size, line=False)
        data = self._file.read(size)
        self._tap.received(data)
        return data

    def send(self, data: bytes) -> None:  # type: ignore[override]
        """Write a line once it is whole: imaplib sends a SASL response (or a literal)
        and its line end apart, which would go out as two TLS records and two writes."""
        self._tap.sent(data)
        self._unsent += data
        if self._unsent.endswith(b"\n"):
            self._flush()

    def _flush(self) -> None:
        if self._unsent:
            data, self._unsent = bytes(self._unsent), bytearray()
            self._conn.sendall(data)  # imaplib turns an OSError into its abort

    def shutdown(self) -> None:
        self._file.close()
        self._conn.close()


class ProbeClient(IMAPClient):  # type: ignore[misc]
    def __init__(
        self, conn: LoopSocket, tap: Tap, host: str, port: int, greeting: bytes | None = None
    ) -> None:
        self._conn = conn
        self._tap = tap
        self._greeting = greeting
        super().__init__(host, port=port, ssl=False, timeout=None)
        # imapclient turns imaplib's debug output on (level 5): every line and every
        # command formatted with %r for a debug logger, the AUTHENTICATE response
        # among them.  The tap is conntest's record; nothing else formats the dialogue.
        self._imap.debug = 0

    @property
    def preauthenticated(self) -> bool:
        """The greeting was ``* PREAUTH``: imaplib is in the authenticated state already."""
        return bool(self._imap.state == "AUTH")

    def greeted_capabilities(self) -> list[str]:
        """What imaplib's first CAPABILITY read, without a command of its own.

        imapclient's ``capabilities()`` asks the server again when the session is
        authenticated (after a ``* PREAUTH`` greeting), which is I/O outside
        :func:`blocking`.
        """
        return [c.decode() if isinstance(c, bytes) else str(c) for c in self._imap.capabilities]

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return TappedIMAP4(self._conn, self._tap, self.host, self.port, self._greeting)

    def _set_read_timeout(self) -> None:
        """The socket stays non-blocking: the step's deadline is kept by :func:`blocking`."""


async def blocking(fn: Callable[[], T], timeout: float, conn: LoopSocket) -> T:
    """Run ``fn`` (imaplib, a plain-text read) on the event loop, under a hard deadline.

    ``fn`` reads and writes through a :class:`LoopSocket`, which waits on the
    loop whenever the socket would block.  At the deadline the wait is
    cancelled inside ``fn`` (it ends at once, nothing left running) and the
    connection is shut down: an answer that comes late must not be read as the
    answer to the next command.
    """
    try:
        async with asyncio.timeout(timeout):
            return await _run_greenlet(fn)
    except TimeoutError:
        conn.shutdown()
        raise
    except asyncio.CancelledError:  # the whole check is abandoned: let go of the socket now
        conn.close()
        raise
