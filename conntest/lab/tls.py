"""Server TLS settings of the lab, shaped like Microsoft 365's.

No source shows TLS 1.3 on the mail endpoints, so every context stops at 1.2
and offers ECDHE-RSA AES-GCM suites.  They differ below 1.2:

* IMAP accepts only TLS 1.2: an old client fails in the handshake, which is
  what it sees on outlook.office365.com:993 now that legacy TLS is retired;
* SMTP also completes a TLS 1.0/1.1 handshake after STARTTLS, because the
  real service does and then answers ``421 4.7.66`` to the next command.  On
  OpenSSL 3 that needs ``@SECLEVEL=0`` (TLS 1.0/1.1 sign the handshake with
  SHA-1) and CBC suites, on this context only.
"""

from __future__ import annotations

import asyncio
import socket
import ssl
import warnings

from conntest.lab.ca import ServerCertificate

_GCM_SUITES = "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256"
_LEGACY_SUITES = "ECDHE-RSA-AES256-SHA:ECDHE-RSA-AES128-SHA:AES256-SHA:AES128-SHA"

_HANDSHAKE_RECORD = 0x16
_MAX_RECORD = 5 + 16384 + 2048

LEGACY_VERSIONS = frozenset({"TLSv1", "TLSv1.1"})
"""``SSLObject.version()`` values the SMTP server answers with 421 4.7.66."""


def imap_context(leaf: ServerCertificate) -> ssl.SSLContext:
    """TLS 1.2 only."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(_GCM_SUITES)
    leaf.configure(context)
    return context


def smtp_context(leaf: ServerCertificate) -> ssl.SSLContext:
    """TLS 1.0 to 1.2, so that a legacy client gets as far as the 421 4.7.66."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    with warnings.catch_warnings():
        # Python deprecates naming TLS 1.0; accepting it is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = ssl.TLSVersion.TLSv1
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    context.set_ciphers(f"{_GCM_SUITES}:{_LEGACY_SUITES}:@SECLEVEL=0")
    leaf.configure(context)
    return context


async def doomed_handshake_alert(
    sock: socket.socket, context: ssl.SSLContext, timeout: float
) -> bytes | None:
    """The alert OpenSSL sends if the ClientHello waiting on ``sock`` cannot succeed, else None.

    asyncio drops the alert of a failed server handshake and just closes, so a
    TLS 1.0 client would see a bare EOF instead of the ``protocol_version``
    alert every real TLS 1.2 server sends.  So before asyncio takes the socket,
    the ClientHello is *peeked* (left in place) and run through a throwaway
    ``SSLObject`` with the same context; if that fails, its alert is what the
    caller sends.  A good ClientHello costs one extra ServerHello computation.
    """
    hello = await _peek_client_hello(sock, timeout)
    if hello is None:
        return None  # not TLS, or not all there: the real handshake decides
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    trial = context.wrap_bio(incoming, outgoing, server_side=True)
    incoming.write(hello)
    try:
        trial.do_handshake()
    except ssl.SSLWantReadError:
        return None  # ServerHello made, waiting for the client: the handshake can go on
    except ssl.SSLError:
        return outgoing.read() or None
    return None


async def _peek_client_hello(sock: socket.socket, timeout: float) -> bytes | None:
    """The first TLS record on ``sock`` without consuming it (None: not a handshake record)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        await asyncio.wait_for(_readable(sock), timeout)
    except TimeoutError:
        return None
    while True:
        try:
            data: bytes | None = sock.recv(_MAX_RECORD, socket.MSG_PEEK)
        except BlockingIOError:
            data = None  # a spurious wake-up
        if data is not None:
            if not data or data[0] != _HANDSHAKE_RECORD:
                return None  # closed, or not TLS
            size = 5 + int.from_bytes(data[3:5], "big") if len(data) >= 5 else _MAX_RECORD + 1
            if len(data) >= size:
                return data[:size]
        if loop.time() > deadline:
            return None
        # Half a record: readiness stays true while peeked bytes wait, so poll briefly.
        await asyncio.sleep(0.002)


async def _readable(sock: socket.socket) -> None:
    """Until ``sock`` has bytes to read (or is closed).

    A selector loop (Linux, macOS) is told to watch the socket.  Windows'
    default Proactor loop cannot watch a socket it does not own
    (``add_reader`` raises ``NotImplementedError``), so there the socket is
    asked, without blocking, at growing intervals of at most
    :data:`_POLL_MAX_S` (a ClientHello is rarely that late).
    """
    loop = asyncio.get_running_loop()
    ready: asyncio.Future[None] = loop.create_future()

    def on_readable() -> None:
        if not ready.done():
            ready.set_result(None)

    fd = sock.fileno()  # kept: a lab stopping closes the socket under this wait
    try:
        loop.add_reader(fd, on_readable)
    except NotImplementedError:
        await _poll_readable(sock)
        return
    try:
        await ready
    finally:
        loop.remove_reader(fd)


_POLL_MAX_S = 0.02


async def _poll_readable(sock: socket.socket) -> None:
    interval = 0.001
    while True:
        try:
            sock.recv(1, socket.MSG_PEEK)
        except BlockingIOError:
            pass
        except OSError:
            return  # closed under the wait: the caller's next read says so
        else:
            return  # a byte is waiting, or the peer closed (b"")
        await asyncio.sleep(interval)
        interval = min(interval * 2, _POLL_MAX_S)
