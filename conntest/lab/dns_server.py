"""A tiny authoritative DNS server (UDP and TCP on one port) for the lab's host names.

Each :class:`DnsServer` is one *view*: the main view sends the Microsoft host
names to 127.0.0.1, where the lab listens; the ``dns-nxdomain`` and
``dns-hijack`` scenarios get views of their own.  Every view answers alike for
user domains, so the informational MX and autodiscover steps of a check work:

* Microsoft names (``outlook.office365.com``, ``smtp.office365.com``,
  ``autodiscover.outlook.com``, ``*.mail.protection.outlook.com``): A per view,
  AAAA and other types empty (NOERROR);
* other names under office365.com / outlook.com: NXDOMAIN;
* ``autodiscover.D``: CNAME ``autodiscover.outlook.com`` (plus its A record);
* any other domain ``D`` of two labels or more: MX 0
  ``D-with-dots-as-dashes.mail.protection.outlook.com`` – or ``mx.D`` when ``D``
  ends in ``.example``, a domain that is *not* on Microsoft 365 – and no other
  records (NOERROR, empty);
* single labels: NXDOMAIN.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import struct
from typing import cast

import dns.exception
import dns.flags
import dns.message
import dns.name
import dns.opcode
import dns.rcode
import dns.rdatatype
import dns.rrset

from conntest.lab import timer
from conntest.lab.channel import Channel
from conntest.lab.listener import LOOPBACK, Listener
from conntest.lab.record import DnsQuery, Record
from conntest.lab.scenarios import DnsView

MICROSOFT_HOSTS = frozenset(
    {"outlook.office365.com", "smtp.office365.com", "autodiscover.outlook.com"}
    | {"login.microsoftonline.com"}  # the identity platform (conntest.lab.identity)
)
_MICROSOFT_ZONES = ("office365.com", "outlook.com")
_MX_SUFFIX = ".mail.protection.outlook.com"
_AUTODISCOVER_TARGET = "autodiscover.outlook.com"
_TTL = 300
_ADDRESSES = {DnsView.NORMAL: "127.0.0.1", DnsView.HIJACK: "127.0.0.66", DnsView.NXDOMAIN: None}
_BIND_ATTEMPTS = 20
_UDP_BUFFER = 4 << 20  # capped by net.core.rmem_max


class DnsAnswers:
    """The zone data of one view, as a function from query to response."""

    def __init__(self, view: DnsView) -> None:
        self._address = _ADDRESSES[view]

    def answer(self, query: dns.message.Message) -> dns.message.Message:
        response = dns.message.make_response(query)
        response.flags |= dns.flags.AA
        if query.opcode() != dns.opcode.QUERY or len(query.question) != 1:
            response.set_rcode(dns.rcode.NOTIMP if query.question else dns.rcode.FORMERR)
            return response
        question = query.question[0]
        name = question.name.to_text(omit_final_dot=True).lower()
        rdtype = question.rdtype
        if _is_microsoft_host(name):
            self._microsoft(response, question.name, rdtype)
        elif any(name == zone or name.endswith("." + zone) for zone in _MICROSOFT_ZONES):
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif name.startswith("autodiscover.") and name.count(".") >= 2:
            response.answer.append(
                dns.rrset.from_text(question.name, _TTL, "IN", "CNAME", _AUTODISCOVER_TARGET + ".")
            )
            if rdtype != dns.rdatatype.CNAME:
                self._microsoft(response, dns.name.from_text(_AUTODISCOVER_TARGET), rdtype)
        elif name.count(".") >= 1:
            if rdtype in (dns.rdatatype.MX, dns.rdatatype.ANY):
                response.answer.append(
                    dns.rrset.from_text(question.name, _TTL, "IN", "MX", f"0 {_mx_host(name)}.")
                )
        else:
            response.set_rcode(dns.rcode.NXDOMAIN)
        return response

    def _microsoft(self, response: dns.message.Message, name: dns.name.Name, rdtype: int) -> None:
        if self._address is None:
            response.set_rcode(dns.rcode.NXDOMAIN)
        elif rdtype in (dns.rdatatype.A, dns.rdatatype.ANY):
            response.answer.append(dns.rrset.from_text(name, _TTL, "IN", "A", self._address))


def _is_microsoft_host(name: str) -> bool:
    return name in MICROSOFT_HOSTS or name.endswith(_MX_SUFFIX)


def _mx_host(domain: str) -> str:
    if domain.endswith(".example"):
        return f"mx.{domain}"
    return domain.replace(".", "-") + _MX_SUFFIX


class DnsServer:
    """One DNS view: a UDP socket and a TCP listener on the same loopback port."""

    def __init__(self, name: str, view: DnsView, *, record: Record, latency_s: float = 0.0) -> None:
        self.name = name
        """The view's name in the record: ``"main"`` or the scenario's name."""
        self._answers = DnsAnswers(view)
        self._record = record
        self.latency_s = latency_s
        self._udp: asyncio.DatagramTransport | None = None
        self._tcp = Listener(f"dns-{name}", self._serve_tcp, latency_s=latency_s)
        self._port = 0

    @property
    def port(self) -> int:
        return self._port

    async def start(self) -> None:
        """Bind UDP on an ephemeral port, then TCP on the same number (retrying if it is taken)."""
        loop = asyncio.get_running_loop()
        for _ in range(_BIND_ATTEMPTS):
            transport, _protocol = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(LOOPBACK, 0)
            )
            # Checks running in the lab's own loop send their queries in bursts while the
            # loop is busy: the default 208 KiB buffer drops them (RcvbufErrors).
            with contextlib.suppress(OSError):
                transport.get_extra_info("socket").setsockopt(
                    socket.SOL_SOCKET, socket.SO_RCVBUF, _UDP_BUFFER
                )
            port: int = transport.get_extra_info("sockname")[1]
            try:
                await self._tcp.start(port)
            except OSError:
                transport.close()
                continue
            self._udp, self._port = transport, port
            return
        raise OSError(f"no free UDP+TCP port pair for DNS view {self.name}")

    async def stop(self) -> None:
        if self._udp is not None:
            self._udp.close()
        await self._tcp.stop()

    def respond(self, wire: bytes, transport: str) -> bytes | None:
        """The answer to one query in wire format; ``None`` for garbage (dropped)."""
        try:
            query = dns.message.from_wire(wire)
        except (dns.exception.DNSException, ValueError):
            return None
        response = self._answers.answer(query)
        if query.question:
            question = query.question[0]
            self._record.dns_query(
                DnsQuery(
                    view=self.name,
                    transport=transport,
                    name=question.name.to_text(omit_final_dot=True).lower(),
                    rdtype=dns.rdatatype.to_text(question.rdtype),
                    rcode=dns.rcode.to_text(response.rcode()),
                )
            )
        return response.to_wire()

    async def _serve_tcp(self, channel: Channel) -> None:
        await channel.open()
        while True:
            try:
                (size,) = struct.unpack("!H", await channel.read_exactly(2))
            except ConnectionError:
                return  # the client closed between queries: normal for DNS over TCP
            reply = self.respond(await channel.read_exactly(size), "tcp")
            if reply is None:
                return
            await channel.write(struct.pack("!H", len(reply)) + reply)


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, server: DnsServer) -> None:
        self._server = server
        self._transport: asyncio.DatagramTransport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        # The selector loop's datagram transport does not subclass DatagramTransport in 3.11.
        self._transport = cast(asyncio.DatagramTransport, transport)

    def datagram_received(self, data: bytes, addr: tuple[str | int, ...]) -> None:
        reply = self._server.respond(data, "udp")
        if reply is None:
            return
        delay = self._server.latency_s
        if delay > 0:
            loop = asyncio.get_running_loop()
            # Not loop.call_later: asyncio's timers wake 1-2 ms late (lab.timer).
            timer.call_at(loop, loop.time() + delay, lambda: self._send(reply, addr))
        else:
            self._send(reply, addr)

    def _send(self, reply: bytes, addr: tuple[str | int, ...]) -> None:
        if self._transport is not None and not self._transport.is_closing():
            self._transport.sendto(reply, addr)
