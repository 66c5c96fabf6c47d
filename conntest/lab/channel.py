"""One accepted connection as the lab's servers use it: lines in, delayed bytes out.

Why not ``asyncio.start_server``: with implicit TLS the lab must record
connections whose handshake fails (a TLS 1.0 client), and starting TLS by hand
after accepting races with a ClientHello that arrives before the handler runs.
``loop.connect_accepted_socket(ssl=…)`` does the handshake on the raw socket
instead.  The protocol is given a ``client_connected_cb`` because
``StreamWriter.start_tls`` (SMTP STARTTLS) takes that as the sign that it is
the server side.

A failing implicit-TLS handshake is answered with OpenSSL's alert (see
:func:`conntest.lab.tls.doomed_handshake_alert`), not a bare close.

With a latency, every server *flight* waits ``latency_s`` before it leaves:
the greeting, each reply, and each flight of the TLS handshake (asyncio writes
those, so the delay sits below TLS: :func:`delay_flights` relays the accepted
socket through a socket pair and holds back the first bytes the server sends
after the client last spoke).  So a lab at 25 ms costs a client the round
trips a WAN at 25 ms would, handshakes included; the DNS server delays its UDP
answers the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct
from collections.abc import Callable

from conntest.lab.timer import sleep_until
from conntest.lab.tls import doomed_handshake_alert

MAX_LINE = 8192
"""Longest command line accepted (8 KiB); longer ones end the connection."""

HANDSHAKE_TIMEOUT_S = 10.0
_CLOSE_TIMEOUT_S = 0.25


class PeerClosed(ConnectionError):
    """The client closed the connection where the server expected more."""


class HandshakeRefused(ssl.SSLError):
    """The client's ClientHello could not succeed; the server sent OpenSSL's alert."""


class LineTooLong(Exception):
    """The client sent a line longer than MAX_LINE."""


class Channel:
    """An accepted TCP connection, plain or TLS, with line reads and delayed writes."""

    def __init__(
        self,
        sock: socket.socket,
        peer: tuple[str, int],
        *,
        latency_s: float,
        tcp: socket.socket | None = None,
    ) -> None:
        self.sock = sock
        self.peer = peer
        self._latency_s = latency_s
        self._tcp = tcp if tcp is not None else sock
        """The client's TCP connection (``sock`` itself unless flights are relayed)."""
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self, tls: ssl.SSLContext | None = None) -> None:
        """Start the streams; with ``tls``, do the server handshake first (raises on failure)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE + 2)
        waiter: asyncio.Future[asyncio.StreamWriter] = loop.create_future()
        connected: asyncio.Future[asyncio.StreamWriter] | None = waiter

        def on_connected(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if connected is not None:
                connected.set_result(writer)

        protocol = asyncio.StreamReaderProtocol(reader, on_connected)
        if tls is not None:
            alert = await doomed_handshake_alert(self.sock, tls, HANDSHAKE_TIMEOUT_S)
            if alert is not None:
                self.sock.send(alert)
                # Consume the ClientHello: closing with unread data would send an RST
                # that can overtake the alert.
                with contextlib.suppress(OSError):
                    while self.sock.recv(65536):
                        pass
                raise HandshakeRefused("TLS handshake refused (alert sent)")
        await loop.connect_accepted_socket(
            lambda: protocol,
            self.sock,
            ssl=tls,
            ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S if tls is not None else None,
        )
        self._writer = await waiter
        self._reader = reader
        # The protocol keeps this callback, whose closure kept the future, which
        # kept the writer, which keeps the protocol: a cycle holding asyncio's
        # 128 KiB TLS buffer until a full garbage collection, so a busy lab grew
        # by hundreds of MiB.  Emptying the cell breaks it.
        connected = None
        del waiter

    async def start_tls(self, tls: ssl.SSLContext) -> None:
        """Upgrade to TLS as the server (SMTP STARTTLS); raises on a failed handshake."""
        await self._streams()[1].start_tls(tls, ssl_handshake_timeout=HANDSHAKE_TIMEOUT_S)

    @property
    def tls_version(self) -> str | None:
        if self._writer is None:
            return None
        ssl_object = self._writer.get_extra_info("ssl_object")
        return ssl_object.version() if isinstance(ssl_object, ssl.SSLObject) else None

    async def send(self, *lines: str) -> None:
        """Send lines (CRLF added) in one write."""
        await self.write("".join(f"{line}\r\n" for line in lines).encode("utf-8"))

    async def write(self, data: bytes) -> None:
        writer = self._streams()[1]
        if self._latency_s > 0:
            await asyncio.sleep(self._latency_s)
        writer.write(data)
        await writer.drain()

    async def read_line(self) -> bytes:
        """The next line without its line ending."""
        reader = self._streams()[0]
        try:
            line = await reader.readuntil(b"\n")
        except asyncio.IncompleteReadError:
            raise PeerClosed("connection closed by the client") from None
        except asyncio.LimitOverrunError:
            raise LineTooLong(f"line longer than {MAX_LINE} bytes") from None
        line = line[:-1]
        return line[:-1] if line.endswith(b"\r") else line

    async def read_exactly(self, size: int) -> bytes:
        try:
            return await self._streams()[0].readexactly(size)
        except asyncio.IncompleteReadError:
            raise PeerClosed("connection closed by the client") from None

    async def read_some(self) -> bytes:
        """Whatever bytes arrive next (at least one)."""
        data = await self._streams()[0].read(65536)
        if not data:
            raise PeerClosed("connection closed by the client")
        return data

    async def read_until_closed(self) -> None:
        """Discard input until the client goes away."""
        reader = self._streams()[0]
        while await reader.read(65536):
            pass

    def reset(self) -> None:
        """Abort with an RST instead of a FIN (SO_LINGER 0)."""
        self._tcp.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        if self._tcp is not self.sock:
            self._tcp.close()
        self.abort()

    def abort(self) -> None:
        """Drop the connection now, unsent data included."""
        if self._writer is not None:
            self._writer.transport.abort()
        else:
            self.sock.close()

    async def close(self) -> None:
        """Close politely (TLS close_notify), but never wait long for the client's side."""
        if self._writer is None:
            self.sock.close()
            return
        writer = self._writer
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), _CLOSE_TIMEOUT_S)
        except (TimeoutError, OSError):
            writer.transport.abort()

    def release(self) -> None:
        """Let go of the streams once the connection is over.

        A client that closes with data unread (a close_notify, a session ticket)
        resets the connection; the reader keeps the ConnectionResetError, whose
        traceback holds the frames that hold the transport: a cycle keeping the
        128 KiB TLS buffer until a full collection (as in :meth:`open`).
        """
        if self._reader is not None and (exc := self._reader.exception()) is not None:
            exc.__traceback__ = None
        self._reader = self._writer = None

    def _streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            raise RuntimeError("Channel.open() was not called")
        return self._reader, self._writer


RELAY_CHUNK = 65536


async def delay_flights(
    tcp: socket.socket,
    inner: socket.socket,
    latency_s: float,
    on_flight: Callable[[], None],
) -> None:
    """Relay ``tcp`` (the client) to ``inner`` (the server's end), as a WAN of RTT ``latency_s``.

    Every byte the server sends reaches the client ``latency_s`` after the
    server wrote it (a propagation delay, as netem's: bytes written together
    or back to back arrive together, none waits for another).  ``on_flight``
    counts the round trips the client waited for: a *flight* starts when the
    server answers data the client sent after the previous flight reached it,
    and counts once the client speaks after it arrived.  So a client that
    sends without waiting (TLS 1.3 Finished and the next command while a
    session ticket is on the way) pays no flight, as on a real WAN; nor does a
    last flight before a hang-up (a close_notify nobody waits for; also the
    reply to a LOGOUT, so the count errs low: a floor from it is strict).
    Returns once both directions are closed.
    """
    loop = asyncio.get_running_loop()
    # due: the client spoke after the last flight arrived (the connection opening counts);
    # pending: the arrival time of a flight not yet known to have been waited for.
    state = {"due": True, "arrived": -1.0, "pending": 0.0}
    queue: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    def client_acted() -> None:
        now = loop.time()
        if state["pending"] and now >= state["pending"]:
            state["pending"] = 0.0
            on_flight()
        if now >= state["arrived"]:
            state["due"] = True  # set before the server sees the data, so before it answers

    async def upstream() -> None:
        try:
            while data := await loop.sock_recv(tcp, RELAY_CHUNK):
                client_acted()
                await loop.sock_sendall(inner, data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                inner.shutdown(socket.SHUT_WR)

    async def downstream() -> None:
        try:
            while data := await loop.sock_recv(inner, RELAY_CHUNK):
                deliver = loop.time() + latency_s
                if state["due"]:
                    state["due"] = False
                    state["arrived"] = state["pending"] = deliver
                queue.put_nowait((deliver, data))
        except OSError:
            pass
        finally:
            queue.put_nowait((loop.time() + latency_s, b""))

    async def deliver() -> None:
        try:
            while True:
                when, data = await queue.get()
                await sleep_until(when)  # asyncio.sleep would be 1-2 ms late (lab.timer)
                if not data:
                    break
                await loop.sock_sendall(tcp, data)
        except OSError:
            pass
        finally:
            with contextlib.suppress(OSError):
                tcp.shutdown(socket.SHUT_WR)

    up = asyncio.ensure_future(upstream())
    down = asyncio.ensure_future(downstream())
    try:
        await deliver()
        # The server is done; give the client a moment to close its side.
        await asyncio.wait({up}, timeout=_CLOSE_TIMEOUT_S + latency_s)
    finally:
        up.cancel()
        down.cancel()
