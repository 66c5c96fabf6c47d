"""imaplib on the event loop's thread: no thread per session, a deadline that ends the call.

Real loopback sockets and real TLS (trustme); the server side is plain asyncio.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import sys
import threading
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
import trustme

from conntest.probes.imap_wire import LoopSocket, ProbeClient, Tap, await_, blocking
from conntest.probes.net import tcp_connect
from conntest.redact import Redactor

Handler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]


@asynccontextmanager
async def serving(handler: Handler, tls: ssl.SSLContext | None = None) -> AsyncIterator[int]:
    server = await asyncio.start_server(handler, "127.0.0.1", 0, ssl=tls)
    try:
        yield server.sockets[0].getsockname()[1]
    finally:
        server.close()


@pytest.fixture(scope="module")
def ca() -> trustme.CA:
    return trustme.CA()


def _contexts(ca: trustme.CA) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("imap.example.test").configure_cert(server)
    client = ssl.create_default_context()
    ca.configure_trust(client)
    return server, client


async def test_a_session_runs_on_the_loops_thread(ca: trustme.CA) -> None:
    server_ctx, client_ctx = _contexts(ca)

    async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK ready\r\n")
        while line := await reader.readline():
            tag = line.split(b" ", 1)[0]
            if b"CAPABILITY" in line:
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
            elif b"LOGOUT" in line:
                writer.write(b"* BYE bye\r\n" + tag + b" OK done\r\n")
            await writer.drain()
        writer.close()

    threads: set[int] = set()

    async with serving(imap, server_ctx) as port:
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        tap = Tap(Redactor())

        def session() -> list[str]:
            threads.add(threading.get_ident())
            conn.handshake(client_ctx, "imap.example.test")
            client = ProbeClient(conn, tap, "imap.example.test", port)
            caps = [c.decode() for c in client.capabilities()]
            client.logout()
            threads.add(threading.get_ident())
            return caps

        caps = await blocking(session, 5, conn)
    assert threads == {threading.get_ident()}  # no thread of its own: the loop's
    assert "AUTH=PLAIN" in caps
    assert any(line.startswith("S: * BYE") for line in tap.drain())


async def test_the_deadline_ends_a_read_that_never_ends_and_hangs_up() -> None:
    """A server that answers a byte at a time forever: the call ends at its deadline,
    and the server sees the connection shut (a late answer cannot be read as the next)."""
    hung_up = asyncio.Event()

    async def drip(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                writer.write(b"*")
                await writer.drain()
                await asyncio.sleep(0.02)
                if reader.at_eof():
                    break
        except OSError:
            pass
        writer.close()
        hung_up.set()

    async with serving(drip) as port:
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        got = bytearray()

        def read_a_line() -> None:
            while not got.endswith(b"\n"):
                got.extend(conn.recv(1))

        started = asyncio.get_running_loop().time()
        with pytest.raises(TimeoutError):
            await blocking(read_a_line, 0.3, conn)
        took = asyncio.get_running_loop().time() - started
        await asyncio.wait_for(hung_up.wait(), 5)
        conn.close()
    assert got and set(got) == {ord("*")}
    assert took < 3  # generous: the point is that it ended, not how fast


async def test_a_refused_certificate_is_openssls_error(ca: trustme.CA) -> None:
    server_ctx, _ = _contexts(ca)
    stranger = ssl.create_default_context()
    trustme.CA().configure_trust(stranger)  # trusts another CA

    async def imap(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await reader.read()
        finally:
            writer.close()

    async with serving(imap, server_ctx) as port:
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        with pytest.raises(ssl.SSLCertVerificationError):
            await blocking(lambda: conn.handshake(stranger, "imap.example.test"), 5, conn)
        conn.close()


async def test_a_peer_that_closes_mid_handshake_reads_as_a_closed_tls_session() -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read(10)  # the ClientHello, then nothing
        writer.close()

    async with serving(hang_up) as port:
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        with pytest.raises((ssl.SSLEOFError, ConnectionResetError)):
            await blocking(
                lambda: conn.handshake(ssl.create_default_context(), "imap.example.test"), 5, conn
            )
        conn.close()


def test_await_outside_a_bridged_call_says_so() -> None:
    pending = asyncio.sleep(0)
    try:
        with pytest.raises(RuntimeError, match="outside"):
            await_(pending)
    finally:
        pending.close()


async def test_a_plain_socket_reads_and_writes_through_the_loop() -> None:
    a, b = socket.socketpair()
    try:
        conn = LoopSocket(a)
        b.setblocking(False)

        def exchange() -> bytes:
            conn.sendall(b"ping\r\n")
            return conn.recv(100)

        async def answer() -> None:
            loop = asyncio.get_running_loop()
            assert await loop.sock_recv(b, 100) == b"ping\r\n"
            await loop.sock_sendall(b, b"pong\r\n")

        got, _ = await asyncio.gather(blocking(exchange, 5, conn), answer())
        assert got == b"pong\r\n"
    finally:
        a.close()
        b.close()


async def test_an_abandoned_check_lets_go_of_the_socket() -> None:
    """The batch cancels a check past its deadline: the connection closes then, not at GC."""
    closed = asyncio.Event()

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # returns when the client's side closes
        writer.close()
        closed.set()

    async with serving(silent) as port:
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        call = asyncio.ensure_future(blocking(lambda: conn.recv(100), 30, conn))
        await asyncio.sleep(0.05)
        call.cancel()
        with pytest.raises(asyncio.CancelledError):
            await call
        await asyncio.wait_for(closed.wait(), 5)
    assert conn.sock.fileno() == -1


_FLOOD = """
import socket, ssl, sys
listener = socket.create_server(("127.0.0.1", 0))
print(listener.getsockname()[1], flush=True)
conn, _ = listener.accept()
if len(sys.argv) > 2:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ctx.load_cert_chain(sys.argv[1], sys.argv[2])
    conn = ctx.wrap_socket(conn, server_side=True)
chunk = b"* OK " + b"x" * 60000 + b"\\r\\n"
try:
    while True:
        conn.sendall(chunk)
except OSError:
    pass
"""


@pytest.mark.timeout(30)  # without the loop's turns, the call never ended
@pytest.mark.parametrize("use_tls", [False, True], ids=["plain", "tls"])
async def test_a_flooding_server_cannot_hold_the_loop_past_the_deadline(
    ca: trustme.CA, use_tls: bool, tmp_path: Path
) -> None:
    """A server that sends as fast as it can: a read always finds data, yet the loop
    keeps running (another check's timer fires) and the call ends at its deadline."""
    args = [sys.executable, "-c", _FLOOD]
    client_ctx = ssl.create_default_context()
    if use_tls:
        leaf = ca.issue_cert("imap.example.test")
        cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
        leaf.cert_chain_pems[0].write_to_path(str(cert))
        leaf.private_key_pem.write_to_path(str(key))
        ca.configure_trust(client_ctx)
        args += [str(cert), str(key)]
    server = await asyncio.create_subprocess_exec(*args, stdout=asyncio.subprocess.PIPE)
    try:
        assert server.stdout is not None
        port = int(await server.stdout.readline())
        conn = LoopSocket(await tcp_connect("127.0.0.1", port, 5))
        if use_tls:
            await blocking(lambda: conn.handshake(client_ctx, "imap.example.test"), 5, conn)
        loop = asyncio.get_running_loop()
        ticked: list[float] = []
        loop.call_later(0.01, lambda: ticked.append(loop.time()))
        read = 0

        def read_forever() -> None:
            nonlocal read
            while True:
                read += len(conn.recv(16))  # slower than the server: data is always there

        with pytest.raises(TimeoutError):
            await blocking(read_forever, 0.1, conn)
        ended = loop.time()
        conn.close()
    finally:
        server.kill()
        await server.wait()
    assert read > 100_000  # it was a flood, read while the deadline ran
    assert ticked and ticked[0] < ended  # the loop ran other work meanwhile


async def test_data_that_comes_while_nobody_reads_waits_without_spinning_the_loop() -> None:
    """The loop watches the socket across a session's waits (one registration, not one
    per wait); an answer that comes between two reads ends the watch, so the loop does
    not call back on every turn for data nobody reads, and it is read next."""
    a, b = socket.socketpair()
    try:
        conn = LoopSocket(a)
        selector = asyncio.get_running_loop()._selector  # type: ignore[attr-defined]
        first = asyncio.ensure_future(blocking(lambda: conn.recv(100), 5, conn))
        await asyncio.sleep(0.01)
        b.send(b"one\r\n")
        assert await first == b"one\r\n"
        assert a.fileno() in selector.get_map()  # still watched: the next wait needs no call
        b.send(b"two\r\n")  # nobody reads now
        await asyncio.sleep(0.02)
        assert a.fileno() not in selector.get_map()
        assert await blocking(lambda: conn.recv(100), 5, conn) == b"two\r\n"
        fd = a.fileno()
        conn.close()
        assert fd not in selector.get_map()
    finally:
        a.close()
        b.close()
