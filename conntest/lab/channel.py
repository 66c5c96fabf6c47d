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

Every write waits ``latency_s`` first, so one lab setting slows down greetings
and replies (the DNS server delays its UDP answers the same way).  TLS handshake
records are written by asyncio and are not delayed.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import struct

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

    def __init__(self, sock: socket.socket, peer: tuple[str, int], *, latency_s: float) -> None:
        self.sock = sock
        self.peer = peer
        self._latency_s = latency_s
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def open(self, tls: ssl.SSLContext | None = None) -> None:
        """Start the streams; with ``tls``, do the server handshake first (raises on failure)."""
        loop = asyncio.get_running_loop()
        reader = asyncio.StreamReader(limit=MAX_LINE + 2)
        connected: asyncio.Future[asyncio.StreamWriter] = loop.create_future()

        def on_connected(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
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
        self._writer = await connected
        self._reader = reader

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
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
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

    def _streams(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        if self._reader is None or self._writer is None:
            raise RuntimeError("Channel.open() was not called")
        return self._reader, self._writer
