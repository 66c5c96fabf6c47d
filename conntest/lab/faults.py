"""Network faults on loopback, without root: refused, filtered, silent and reset ports.

* :class:`ClosedPort` keeps its port bound but never listens, so the kernel
  answers SYNs with RST (refused) and no other program can take the port.
* :class:`FilteredPort` listens with a backlog of 0 and fills its accept queue
  with connections it never accepts; the kernel then drops further SYNs, so a
  client's connect times out as behind a DROP firewall rule.
* :class:`SilentHandler` accepts and says nothing (IMAP: not even the TLS
  handshake); :class:`ResetHandler` resets the connection (SO_LINGER 0) once the
  client has sent its first bytes – the ClientHello on IMAP, the EHLO on SMTP
  after the normal greeting (an SMTP client sends nothing before the greeting).
"""

from __future__ import annotations

import socket
from collections.abc import Callable

from conntest.lab.channel import Channel
from conntest.lab.listener import LOOPBACK
from conntest.lab.record import Record

_FILLERS = 3


class ClosedPort:
    """A port that refuses connections."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._sock: socket.socket | None = None

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError(f"{self.name} is not started")
        port: int = self._sock.getsockname()[1]
        return port

    async def start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))

    async def stop(self) -> None:
        if self._sock is not None:
            self._sock.close()


class FilteredPort:
    """A port whose SYNs go unanswered (full accept queue)."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._sock: socket.socket | None = None
        self._fillers: list[socket.socket] = []

    @property
    def port(self) -> int:
        if self._sock is None:
            raise RuntimeError(f"{self.name} is not started")
        port: int = self._sock.getsockname()[1]
        return port

    async def start(self) -> None:
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.bind((LOOPBACK, 0))
        self._sock.listen(0)
        for _ in range(_FILLERS):
            filler = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            filler.setblocking(False)
            filler.connect_ex((LOOPBACK, self.port))  # EINPROGRESS: never completes for most
            self._fillers.append(filler)

    async def stop(self) -> None:
        for filler in self._fillers:
            filler.close()
        self._fillers.clear()
        if self._sock is not None:
            self._sock.close()


class SilentHandler:
    """Accepts TCP and never says a word."""

    def __init__(self, *, record: Record, protocol: str, listener: str, scenario: str) -> None:
        self._record = record
        self._protocol = protocol
        self._listener = listener
        self._scenario = scenario

    async def __call__(self, channel: Channel) -> None:
        log = self._record.open(
            protocol=self._protocol,
            listener=self._listener,
            scenario=self._scenario,
            peer=channel.peer,
        )
        try:
            await channel.open()
            await channel.read_until_closed()
        finally:
            log.close()


class ResetHandler:
    """Accepts TCP, optionally greets, then resets on the client's first bytes."""

    def __init__(
        self,
        *,
        record: Record,
        protocol: str,
        listener: str,
        scenario: str,
        greeting: Callable[[], str] | None = None,
    ) -> None:
        self._record = record
        self._protocol = protocol
        self._listener = listener
        self._scenario = scenario
        self._greeting = greeting

    async def __call__(self, channel: Channel) -> None:
        log = self._record.open(
            protocol=self._protocol,
            listener=self._listener,
            scenario=self._scenario,
            peer=channel.peer,
        )
        try:
            await channel.open()
            if self._greeting is not None:
                await channel.send(self._greeting())
            await channel.read_some()
            channel.reset()
        finally:
            log.close()
