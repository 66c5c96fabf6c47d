"""TCP connect and the translation of socket errors into :class:`FailureKind`.

Refused, timed out, unreachable and reset are told apart here, with the errno,
because they mean different things to a user: a refusal comes from the host
(nothing listens), a timeout from a filter on the way, unreachable from the
routing table, and a reset from a middlebox.
"""

from __future__ import annotations

import asyncio
import errno as errno_mod
import socket
import ssl

from tenacity import AsyncRetrying, retry_if_exception, stop_after_attempt, wait_fixed

from conntest.model import FailureKind, Reply, Step
from conntest.printable import host_port
from conntest.probes.clock import RunClock, StepRecorder
from conntest.probes.session import Endpoint

_UNREACHABLE = {errno_mod.EHOSTUNREACH, errno_mod.ENETUNREACH, errno_mod.EADDRNOTAVAIL}
_RESET = {errno_mod.ECONNRESET, errno_mod.ECONNABORTED, errno_mod.EPIPE}
# Errors worth a second try: the kernel or a middlebox hiccuped, the host did
# not say no.  Refusals and timeouts are answers, not hiccups.
_TRANSIENT = {errno_mod.ECONNRESET, errno_mod.ECONNABORTED, errno_mod.EAGAIN}
RETRY_WAIT_S = 0.2
"""Between connect attempts after a transient error (three attempts in all)."""


def classify(exc: BaseException) -> tuple[FailureKind, str, int | None]:
    """Map an exception from a socket, TLS or protocol library to a failure kind."""
    if isinstance(exc, ssl.SSLCertVerificationError):
        return FailureKind.TLS_VERIFY, exc.verify_message or str(exc), None
    if isinstance(exc, ssl.SSLError):
        reason = exc.reason or exc.__class__.__name__
        if isinstance(exc, ssl.SSLEOFError | ssl.SSLZeroReturnError):
            return FailureKind.RESET, f"connection closed during TLS ({reason})", None
        if reason in {"WRONG_VERSION_NUMBER", "RECORD_LAYER_FAILURE", "PACKET_LENGTH_TOO_LONG"}:
            return FailureKind.PROTOCOL, f"the peer does not speak TLS here ({reason})", None
        return FailureKind.TLS_HANDSHAKE, f"TLS handshake failed: {reason}", None
    if isinstance(exc, TimeoutError | asyncio.TimeoutError | socket.timeout):
        return FailureKind.TIMEOUT, "no answer before the deadline", None
    if isinstance(exc, ConnectionRefusedError):
        return FailureKind.REFUSED, "connection refused", exc.errno
    if isinstance(exc, OSError) and exc.errno in _UNREACHABLE:
        return FailureKind.UNREACHABLE, exc.strerror or "unreachable", exc.errno
    if isinstance(exc, ConnectionResetError | BrokenPipeError | ConnectionAbortedError) or (
        isinstance(exc, OSError) and exc.errno in _RESET
    ):
        return FailureKind.RESET, "connection reset by peer", exc.errno
    if isinstance(exc, EOFError | asyncio.IncompleteReadError):
        return FailureKind.CLOSED, "the server closed the connection", None
    if isinstance(exc, OSError):
        return FailureKind.UNREACHABLE, exc.strerror or str(exc), exc.errno
    if isinstance(exc, UnicodeError | ValueError | TypeError):
        # Their text can quote the data that failed (a password's characters).
        return FailureKind.INTERNAL, f"{exc.__class__.__name__} while sending or reading", None
    return FailureKind.PROTOCOL, str(exc) or exc.__class__.__name__, None


def unended_message(begun: int) -> str:
    """A timeout after the server began to answer: it kept the answer going, it was not silent."""
    return (
        f"the server began to answer ({begun:,} bytes) but had not ended the answer "
        "when the time ran out"
    )


def no_delay(sock: socket.socket) -> socket.socket:
    """Turn Nagle off: a mail dialogue is small writes that each wait for a reply.

    asyncio sets ``TCP_NODELAY`` only on sockets whose ``proto`` is
    ``IPPROTO_TCP``, which ``socket.socket(AF_INET, SOCK_STREAM)`` is not; and
    imaplib writes an AUTHENTICATE response and its CRLF as two TLS records,
    so with Nagle on the second waits for the server's delayed ACK (40 ms on
    Linux).  Every TCP socket conntest opens goes through here.
    """
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return sock


def _is_transient(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in _TRANSIENT


async def tcp_connect(address: str, port: int, timeout: float) -> socket.socket:
    """Connect a TCP socket within ``timeout``; transient resets are retried.

    Returns the socket non-blocking, as the event loop uses it (aiosmtplib's
    transport, the IMAP probe's :class:`~conntest.probes.imap_wire.LoopSocket`),
    with ``TCP_NODELAY`` set (:func:`no_delay`).
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout

    async def attempt() -> socket.socket:
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        sock = no_delay(socket.socket(family, socket.SOCK_STREAM))
        sock.setblocking(False)
        try:
            # Not wait_for: its task would send the SYN a turn of the loop later.
            async with asyncio.timeout_at(max(deadline, loop.time() + 0.001)):
                await loop.sock_connect(sock, (address, port))
        except BaseException:
            sock.close()
            raise
        return sock

    try:
        return await attempt()
    except OSError as exc:
        if not _is_transient(exc):
            raise
    # A hiccup: two more attempts, 0.2 s apart.  The retry state is made only now: it
    # costs more than the connect itself, and nearly every connect succeeds (issue 12).
    await asyncio.sleep(RETRY_WAIT_S)
    async for try_ in AsyncRetrying(
        retry=retry_if_exception(_is_transient),
        stop=stop_after_attempt(2),
        wait=wait_fixed(RETRY_WAIT_S),
        reraise=True,
    ):
        with try_:
            return await attempt()
    raise AssertionError("unreachable")  # pragma: no cover


async def control_connect(clock: RunClock, protocol: str, endpoint: Endpoint) -> Step:
    """TCP to the same host on 443: tells "mail ports filtered" from "no route at all"."""
    rec = StepRecorder(clock, protocol, "control")
    rec.data.update(host=endpoint.host, port=443, address=endpoint.address)
    try:
        sock = await tcp_connect(endpoint.address, 443, clock.budget("control"))
    except ConnectionRefusedError:
        rec.data["answered"] = True
        return rec.passed(Reply("RST", "the host answered on 443 (refused)"))
    except Exception as exc:
        kind, message, errno = classify(exc)
        rec.data["answered"] = False
        return rec.failed(kind, f"{host_port(endpoint.address, 443)}: {message}", errno=errno)
    sock.close()
    rec.data["answered"] = True
    return rec.passed(Reply("SYN-ACK", "the host answered on 443 (connected)"))


CONTROL_AFTER_S = 1.0
"""How long a connect may hang before the 443 control connection starts beside it."""


async def connect_step(
    clock: RunClock, protocol: str, endpoint: Endpoint
) -> tuple[socket.socket | None, list[Step]]:
    """The ``connect`` step, plus a ``control`` step when the connect timed out.

    The control connection starts once the connect has hung for a second, in
    parallel, so that a short ``--timeout`` still leaves it time to answer.
    """
    rec = StepRecorder(clock, protocol, "connect")
    rec.data.update(host=endpoint.host, port=endpoint.port, address=endpoint.address)
    main = asyncio.ensure_future(
        tcp_connect(endpoint.address, endpoint.port, clock.budget("connect"))
    )
    done, _ = await asyncio.wait({main}, timeout=CONTROL_AFTER_S)
    control: asyncio.Task[Step] | None = None
    if not done:
        control = asyncio.ensure_future(control_connect(clock, protocol, endpoint))
    try:
        sock = await main
    except Exception as exc:
        kind, message, errno = classify(exc)
        steps = [
            rec.failed(
                kind, f"{host_port(endpoint.address, endpoint.port)}: {message}", errno=errno
            )
        ]
        if kind is FailureKind.TIMEOUT:
            steps.append(
                await control
                if control is not None
                else await control_connect(clock, protocol, endpoint)
            )
        elif control is not None:
            control.cancel()
        return None, steps
    if control is not None:
        control.cancel()
    return sock, [rec.passed()]
