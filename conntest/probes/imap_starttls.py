"""IMAP STARTTLS on 143 (``imap.security: starttls``): the plain-text part before TLS.

The greeting and the ``STARTTLS`` exchange are read byte by byte from the
plain socket, bounded per line and per answer, so nothing of the TLS
handshake is read ahead; :mod:`conntest.probes.imap_probe` then wraps the
socket and imaplib continues over TLS.  Nothing secret is sent here: the
credential waits for a verified handshake for the real name.
"""

from __future__ import annotations

import imaplib
import socket
from collections.abc import Callable

from conntest.model import FailureKind, Reply, Step
from conntest.probes.clock import RunClock, StepRecorder
from conntest.probes.imap_wire import (
    MAX_TRANSCRIPT_LINE,
    TAGGED,
    UNTAGGED,
    LoopSocket,
    Stream,
    blocking,
)
from conntest.probes.net import classify, unended_message

__all__ = ["STARTTLS_STEPS", "plain_starttls", "starttls_prelude"]

STARTTLS_STEPS = (
    "connect",
    "greeting",
    "starttls",
    "tls",
    "capability",
    "id",
    "login",
    "mailbox",
    "logout",
)
"""The order with ``imap.security: starttls`` (the greeting comes before TLS)."""
_STARTTLS_TAG = "S1"
_MAX_PLAIN_LINE = 8192
"""Bound on a plain-text line before STARTTLS (a greeting or the STARTTLS answer)."""


async def plain_starttls(
    clock: RunClock, conn: LoopSocket, add: Callable[[Step], Step]
) -> bytes | None:
    """The plain-text greeting and ``STARTTLS`` (``imap.security: starttls``), as two steps.

    Returns the greeting line for imaplib once TLS is up, or ``None`` when either
    step failed (the failed step is recorded; nothing secret was sent).
    """
    rec = StepRecorder(clock, "imap", "greeting")
    rec.data["mode"] = "starttls"
    budget = clock.budget("greeting")
    begun = bytearray()
    try:
        line = await blocking(lambda: _read_plain_line(conn, begun), budget, conn)
    except Exception as exc:
        kind, message, errno = classify(exc)
        if kind is FailureKind.TIMEOUT and begun:
            # Part of a line that never ended is an answer begun, not silence.
            rec.data["unended_bytes"] = len(begun)
            message = unended_message(len(begun))
        elif kind is FailureKind.TIMEOUT:
            message = "connected, but the server sent no greeting"
        add(rec.failed(kind, message, errno=errno))
        return None
    text = line.decode("utf-8", "replace").rstrip("\r\n")
    rec.transcript.append(f"S: {text[:MAX_TRANSCRIPT_LINE]}")
    m = UNTAGGED.match(text)
    if m is None or m["status"].upper() not in ("OK", "PREAUTH"):
        reply = Reply("*", f"{m['status'].upper()} {m['text']}") if m else Reply("*", text[:200])
        add(rec.failed(FailureKind.PROTOCOL, f"not an IMAP greeting: {text[:200]}", reply=reply))
        return None
    add(rec.passed(Reply("*", f"{m['status'].upper()} {m['text']}")))

    rec = StepRecorder(clock, "imap", "starttls")
    if m["status"].upper() == "PREAUTH":
        # Signed in before encryption: STARTTLS is not allowed in that state (RFC 3501
        # 6.2.1), and a plain-text PREAUTH is how a device on the way strips STARTTLS
        # (CVE-2020-12398); clients drop such a connection, and so does conntest.
        add(rec.failed(FailureKind.REJECTED, PLAIN_PREAUTH))
        return None
    rec.transcript.append(f"C: {_STARTTLS_TAG} STARTTLS")
    budget = clock.budget("starttls")
    try:
        answer = await blocking(lambda: _starttls_exchange(conn), budget, conn)
    except Exception as exc:
        kind, message, errno = classify(exc)
        add(rec.failed(kind, message, errno=errno))
        return None
    rec.transcript += [f"S: {t[:MAX_TRANSCRIPT_LINE]}" for t in answer]
    tagged = TAGGED.match(answer[-1]) if answer else None
    if tagged is None or tagged["status"].upper() != "OK":
        refusal = Reply(tagged["status"].upper(), tagged["text"]) if tagged else None
        add(
            rec.failed(
                FailureKind.REJECTED if refusal is not None else FailureKind.PROTOCOL,
                f"STARTTLS refused: {answer[-1] if answer else 'no answer'}",
                reply=refusal,
            )
        )
        return None
    add(rec.passed(Reply("OK", tagged["text"])))
    return line


PLAIN_PREAUTH = (
    "the server signed the connection in before encryption (a plain-text PREAUTH "
    "greeting): STARTTLS is not allowed after that, and clients drop such a connection"
)


def _read_plain_line(sock: Stream, data: bytearray | None = None) -> bytes:
    """One CRLF-ended line from a plain socket, byte by byte (nothing of TLS is read ahead).

    ``data``: where the line grows, so a caller whose wait ran out sees what had come.
    """
    data = bytearray() if data is None else data
    while not data.endswith(b"\n"):
        if len(data) >= _MAX_PLAIN_LINE:
            raise imaplib.IMAP4.abort("the server sent an endless line")
        chunk = sock.recv(1)
        if not chunk:
            raise EOFError("the server closed the connection")
        data += chunk
    return bytes(data)


def _starttls_exchange(sock: Stream) -> list[str]:
    """Send ``STARTTLS``; the lines up to the tagged answer (untagged ones included)."""
    sock.sendall(f"{_STARTTLS_TAG} STARTTLS\r\n".encode())
    lines: list[str] = []
    for _ in range(16):
        text = _read_plain_line(sock).decode("utf-8", "replace").rstrip("\r\n")
        lines.append(text)
        if text.upper().startswith(f"{_STARTTLS_TAG} "):
            return lines
    raise imaplib.IMAP4.abort("no tagged answer to STARTTLS")


def starttls_prelude(sock: socket.socket) -> None:
    """Greeting and STARTTLS on the second, credential-free connection that reads the chain."""
    _read_plain_line(sock)
    _starttls_exchange(sock)
