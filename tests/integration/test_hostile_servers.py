"""Broken and hostile servers: every probe ends with a recorded failure, within its deadline.

Each server here is a few lines of asyncio on loopback, with real TLS where
the fault needs it.  The assertions are what a user would see: which step
failed, of which kind, and that the run did not hang.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest
import trustme

from conntest.model import FailureKind, Status, Step
from conntest.probes.clock import RunClock
from conntest.probes.imap_probe import probe_imap
from conntest.probes.session import AuthGate, Credentials, Endpoint
from conntest.probes.smtp_probe import probe_smtp
from tests.conftest import SECRET, make_profile

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
HOST = "outlook.office365.com"


@contextlib.asynccontextmanager
async def serve(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    writers: list[asyncio.StreamWriter] = []

    async def wrapped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writers.append(writer)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await handler(reader, writer)
        writer.close()

    server = await asyncio.start_server(wrapped, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()
        for w in writers:
            w.close()


@pytest.fixture
def server_tls(test_ca: trustme.CA) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert(HOST, "smtp.office365.com").configure_cert(ctx)
    return ctx


async def imap(port: int, ca_file: Path, timeout: float = 5) -> tuple[list[Step], float]:
    start = time.monotonic()
    steps = await probe_imap(
        RunClock(timeout),
        make_profile(),
        Endpoint(HOST, port, "127.0.0.1"),
        Credentials("u@contoso.com", SECRET),
        AuthGate("imap"),
        ca_file=ca_file,
    )
    return steps, time.monotonic() - start


async def smtp(port: int, ca_file: Path, timeout: float = 5) -> tuple[list[Step], float]:
    start = time.monotonic()
    steps = await probe_smtp(
        RunClock(timeout),
        make_profile(),
        Endpoint("smtp.office365.com", port, "127.0.0.1"),
        Credentials("u@contoso.com", SECRET),
        AuthGate("smtp"),
        ca_file=ca_file,
    )
    return steps, time.monotonic() - start


def failed(steps: list[Step]) -> Step:
    bad = [s for s in steps if s.status is Status.FAIL]
    assert bad, "expected a failed step"
    return bad[0]


async def silence(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    await asyncio.sleep(3600)


async def test_imap_silent_after_tls_is_no_greeting(
    server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    async with serve(silence, server_tls) as port:
        steps, took = await imap(port, ca_file, timeout=1.5)
    step = failed(steps)
    assert (step.name, step.failure and step.failure.kind) == ("greeting", FailureKind.TIMEOUT)
    assert "no greeting" in step.failure.message  # type: ignore[union-attr]
    assert took < 4


async def test_imap_garbage_greeting(server_tls: ssl.SSLContext, ca_file: Path) -> None:
    async def garbage(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"HTTP/1.1 400 Bad Request\r\n\r\n")
        await writer.drain()
        await asyncio.sleep(5)

    async with serve(garbage, server_tls) as port:
        steps, _ = await imap(port, ca_file, timeout=3)
    step = failed(steps)
    assert step.name in {"greeting", "capability"}
    assert step.failure is not None and step.failure.kind in {
        FailureKind.PROTOCOL,
        FailureKind.TIMEOUT,
    }
    assert all(s.status is Status.SKIP for s in steps if s.name == "login")


async def test_imap_endless_line(server_tls: ssl.SSLContext, ca_file: Path) -> None:
    async def endless(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ")
        for _ in range(400):
            writer.write(b"x" * 8192)
            await writer.drain()

    async with serve(endless, server_tls) as port:
        steps, took = await imap(port, ca_file, timeout=4)
    step = failed(steps)
    assert step.failure is not None
    assert step.failure.kind in {FailureKind.PROTOCOL, FailureKind.TIMEOUT, FailureKind.CLOSED}
    assert took < 6


async def test_imap_port_speaking_plain_text_is_wrong_protocol(ca_file: Path) -> None:
    async def smtp_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 mail.example Microsoft ESMTP MAIL Service ready\r\n")
        await writer.drain()
        await reader.read(1024)

    async with serve(smtp_banner) as port:
        steps, _ = await imap(port, ca_file)
    step = failed(steps)
    assert (step.name, step.failure and step.failure.kind) == ("tls", FailureKind.PROTOCOL)


async def test_reset_during_tls(ca_file: Path) -> None:
    async def reset(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)
        sock = writer.get_extra_info("socket")
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        writer.transport.abort()

    async with serve(reset) as port:
        steps, _ = await imap(port, ca_file)
    step = failed(steps)
    assert step.name == "tls"
    assert step.failure is not None and step.failure.kind is FailureKind.RESET


async def test_closed_port_is_refused(ca_file: Path) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    steps, took = await smtp(port, ca_file)
    step = failed(steps)
    assert (step.name, step.failure and step.failure.kind) == ("connect", FailureKind.REFUSED)
    assert step.failure.errno == 111  # type: ignore[union-attr]
    assert took < 1


async def test_filtered_port_times_out_and_checks_443(ca_file: Path) -> None:
    # A full accept queue makes the kernel drop SYNs (INFRA.md §6b).
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        f = socket.socket()
        f.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            f.connect(("127.0.0.1", port))
        fillers.append(f)
    try:
        steps, took = await smtp(port, ca_file, timeout=2)
    finally:
        for f in fillers:
            f.close()
        listener.close()
    step = failed(steps)
    assert (step.name, step.failure and step.failure.kind) == ("connect", FailureKind.TIMEOUT)
    control = next(s for s in steps if s.name == "control")
    assert control.data["port"] == 443
    assert took < 4


async def test_smtp_drip_feed_is_cut_by_the_deadline(ca_file: Path) -> None:
    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220-")
        while True:
            writer.write(b"x")
            await writer.drain()
            await asyncio.sleep(0.2)

    async with serve(drip) as port:
        steps, took = await smtp(port, ca_file, timeout=2)
    step = failed(steps)
    assert step.name == "greeting"
    assert took < 4


async def test_smtp_imap_greeting_on_submission_port(ca_file: Path) -> None:
    async def imap_banner(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK The Microsoft Exchange IMAP4 service is ready.\r\n")
        await writer.drain()
        await asyncio.sleep(3)

    async with serve(imap_banner) as port:
        steps, _ = await smtp(port, ca_file, timeout=3)
    step = failed(steps)
    assert step.name == "greeting"
    assert step.failure is not None and step.failure.kind is FailureKind.PROTOCOL


async def test_smtp_without_starttls_sends_no_credentials(ca_file: Path) -> None:
    seen: list[bytes] = []

    async def stripped(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 mx Microsoft ESMTP MAIL Service ready\r\n")
        while line := await reader.readline():
            seen.append(line)
            if line.upper().startswith(b"EHLO"):
                writer.write(b"250-mx Hello\r\n250-SIZE 157286400\r\n250 AUTH LOGIN\r\n")
            elif line.upper().startswith(b"QUIT"):
                writer.write(b"221 2.0.0 Service closing transmission channel\r\n")
            else:
                writer.write(b"500 5.3.3 Unrecognized command\r\n")
            await writer.drain()

    async with serve(stripped) as port:
        steps, _ = await smtp(port, ca_file)
    step = failed(steps)
    assert (step.name, step.failure and step.failure.kind) == ("starttls", FailureKind.NOT_OFFERED)
    assert not any(b"AUTH" in line.upper() for line in seen)
    assert [line.split()[0].upper() for line in seen] == [b"EHLO", b"QUIT"]


@pytest.mark.parametrize(
    "user", ["a@contoso.com\r\nX99 DELETE INBOX", "a@contoso.com\0", "a\x1b@b.c"]
)
async def test_a_user_name_with_control_characters_is_never_sent(
    user: str, server_tls: ssl.SSLContext, ca_file: Path
) -> None:
    """The probes' own guard (the command line validates first): nothing goes on the wire."""
    seen: list[bytes] = []

    async def imap_server(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            seen.append(line)
            tag = line.split(b" ")[0]
            if b"CAPABILITY" in line.upper():
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            else:
                writer.write(tag + b" OK done\r\n")
            await writer.drain()

    async with serve(imap_server, server_tls) as port:
        steps = await probe_imap(
            RunClock(5),
            make_profile(),
            Endpoint(HOST, port, "127.0.0.1"),
            Credentials(user, SECRET),
            AuthGate("imap"),
            ca_file=ca_file,
        )
    login = next(s for s in steps if s.name == "login")
    assert login.failure is not None and login.failure.kind is FailureKind.UNSAFE
    assert "control character" in login.failure.message
    assert not any(b"LOGIN" in line.upper() or b"DELETE" in line.upper() for line in seen)
