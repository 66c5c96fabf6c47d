"""A TCP listening socket on loopback with its own accept loop.

It owns every connection it accepted, because Python 3.11's
``Server.close()`` leaves open connections running: :meth:`Listener.stop`
aborts them and cancels their handlers, so a lab stops within a second even
with clients still attached.

Handlers may fail in any way a client can make them fail (disconnects, garbage,
TLS errors); those end the connection quietly.  Anything else is a lab bug and
is logged with its traceback on the ``conntest.lab`` logger.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Awaitable, Callable

from conntest.lab.channel import Channel, LineTooLong, delay_flights

Handler = Callable[[Channel], Awaitable[None]]

LOOPBACK = "127.0.0.1"
_STOP_TIMEOUT_S = 0.8
_log = logging.getLogger("conntest.lab")

# What a misbehaving client can raise inside a handler (ssl.SSLError, TimeoutError,
# ConnectionError and PeerClosed are all OSError).
_CLIENT_FAULTS = (OSError, EOFError, LineTooLong, asyncio.LimitOverrunError)


class Listener:
    """Accepts connections on ``127.0.0.1`` and runs ``handler`` for each."""

    def __init__(
        self,
        name: str,
        handler: Handler,
        *,
        latency_s: float = 0.0,
        on_flight: Callable[[str], None] | None = None,
    ) -> None:
        self.name = name
        self._handler = handler
        self._latency_s = latency_s
        self._on_flight = on_flight
        """Told (with the listener's name) of each server flight the latency delayed."""
        self._sock: socket.socket | None = None
        self._accept_task: asyncio.Task[None] | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: set[Channel] = set()

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError(f"listener {self.name} is not started")
        port: int = self._sock.getsockname()[1]
        return port

    async def start(self, port: int = 0) -> None:
        """Bind (an ephemeral port unless ``port`` is given) and start accepting."""
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind((LOOPBACK, port))
            # A deep accept queue: a batch opens a hundred connections at once, and
            # a SYN dropped on a full queue is retried only after a second.
            sock.listen(1024)
            sock.setblocking(False)
        except OSError:
            sock.close()
            raise
        self._sock = sock
        self._accept_task = asyncio.create_task(self._accept_loop(sock), name=f"lab-{self.name}")

    async def stop(self) -> None:
        """Stop accepting, drop every open connection, and wait (briefly) for the handlers."""
        tasks: set[asyncio.Task[None]] = set(self._tasks)
        if self._accept_task is not None:
            self._accept_task.cancel()
            tasks.add(self._accept_task)
        if self._sock is not None:
            self._sock.close()
        for channel in list(self._channels):
            channel.abort()
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=_STOP_TIMEOUT_S)

    async def _accept_loop(self, sock: socket.socket) -> None:
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, address = await loop.sock_accept(sock)
            except OSError as exc:  # EMFILE and the like: wait, do not spin
                _log.warning("lab %s: accept failed: %s", self.name, exc)
                await asyncio.sleep(0.1)
                continue
            conn.setblocking(False)
            # Nagle off, as on the client side: a lab reply must not wait for
            # the client's delayed ACK (asyncio leaves accepted sockets alone).
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            task = asyncio.create_task(self._serve(conn, (address[0], address[1])))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _serve(self, conn: socket.socket, peer: tuple[str, int]) -> None:
        relay: asyncio.Future[None] | None = None
        if self._latency_s > 0:
            # Relay through a socket pair so that the TLS handshake's flights
            # are delayed too (asyncio writes them, below any Channel.write).
            inner, outer = socket.socketpair()
            inner.setblocking(False)
            outer.setblocking(False)
            on_flight = self._on_flight
            name = self.name
            relay = asyncio.ensure_future(
                delay_flights(
                    conn,
                    outer,
                    self._latency_s,
                    (lambda: on_flight(name)) if on_flight is not None else (lambda: None),
                )
            )
            channel = Channel(inner, peer, latency_s=0.0, tcp=conn)
        else:
            channel = Channel(conn, peer, latency_s=0.0)
        self._channels.add(channel)
        try:
            await self._handler(channel)
        except asyncio.CancelledError:
            channel.abort()
        except _CLIENT_FAULTS as exc:
            _log.debug("lab %s: %s: %r", self.name, peer, exc)
        except Exception:
            _log.exception("lab %s: error serving %s", self.name, peer)
        finally:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await channel.close()
            channel.release()
            if relay is not None:
                with contextlib.suppress(Exception, asyncio.CancelledError):
                    await asyncio.wait_for(relay, _STOP_TIMEOUT_S + self._latency_s)
                relay.cancel()
                outer.close()
                conn.close()
            self._channels.discard(channel)
