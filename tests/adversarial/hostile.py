"""A scriptable hostile IMAP/SMTP/DNS server on loopback, with real TLS.

Each server runs its own event loop in a daemon thread, so that the same
server serves a probe in the test's own loop and a ``conntest`` subprocess.
A *script* is a coroutine that gets a :class:`Conn` (read a line, write
bytes, STARTTLS, reset, close with close_notify) and plays the server's part
however it likes; :data:`IMAP_SCRIPTS` and :data:`SMTP_SCRIPTS` hold the
misbehaviours the adversarial tier plays, :data:`SLOW_IMAP_SCRIPTS` and
:data:`SLOW_SMTP_SCRIPTS` those only the deadline ends (drips, a byte now and
then; played side by side), and :func:`generated` plays turns hypothesis
draws.  Every byte received is kept per connection, so a test can count how
often a credential arrived.

The texts are plain test-server words: none pretends to be Microsoft's.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import re
import socket
import ssl
import struct
import threading
import urllib.parse
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field

MAX_READ = 1 << 16


@dataclass
class Conn:
    """One client connection as a script sees it."""

    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    received: bytearray = field(default_factory=bytearray)

    async def line(self) -> bytes:
        """The next line from the client (b"" at its end)."""
        try:
            data = await self.reader.readline()
        except (ValueError, ConnectionError, ssl.SSLError):
            return b""
        self.received += data
        return data

    async def send(self, data: bytes) -> None:
        self.writer.write(data)
        await self.writer.drain()
        # drain() does not yield while the buffer has room: a flood must not starve the loop.
        await asyncio.sleep(0)

    async def starttls(self, ctx: ssl.SSLContext) -> None:
        await self.writer.start_tls(ctx)

    def reset(self) -> None:
        """Abort with a TCP RST (SO_LINGER 0)."""
        sock = self.writer.get_extra_info("socket")
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.writer.transport.abort()

    async def close_notify(self) -> None:
        """End TLS cleanly (close_notify), then the connection."""
        self.writer.close()
        with contextlib.suppress(Exception):
            await self.writer.wait_closed()


Script = Callable[[Conn], Awaitable[None]]


class HostileServer:
    """Serves ``script`` to every connection on 127.0.0.1, from a thread of its own."""

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.connections: list[Conn] = []
        self.port = 0
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="hostile-server")
        self._server: asyncio.Server | None = None

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._start())
        self._ready.set()
        self._loop.run_forever()

    async def _start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, "127.0.0.1", 0, ssl=self.tls, limit=MAX_READ
        )
        self.port = self._server.sockets[0].getsockname()[1]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = Conn(reader, writer)
        self.connections.append(conn)
        with contextlib.suppress(Exception, asyncio.CancelledError):
            await self.script(conn)
        with contextlib.suppress(Exception):
            writer.close()

    def __enter__(self) -> HostileServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        async def stop() -> None:
            if self._server is not None:
                self._server.close()
            for conn in self.connections:
                conn.writer.transport.abort()
            tasks = [t for t in asyncio.all_tasks() if t is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

        with contextlib.suppress(Exception):
            asyncio.run_coroutine_threadsafe(stop(), self._loop).result(5)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(5)
        if not self._loop.is_running():
            self._loop.close()

    def received(self) -> bytes:
        return b"".join(bytes(c.received) for c in self.connections)


# --------------------------------------------------------------------------------------
# IMAP
# --------------------------------------------------------------------------------------

GREETING = b"* OK hostile test server ready\r\n"
CAPS = b"* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\r\n"


def _tag(line: bytes) -> bytes:
    return line.split(b" ", 1)[0] if b" " in line else b"*"


def _verb(line: bytes) -> bytes:
    parts = line.split()
    return parts[1].upper() if len(parts) > 1 else b""


async def imap_session(
    conn: Conn,
    on_auth: Callable[[Conn, bytes], Awaitable[bool]] | None = None,
    greeting: bytes = GREETING,
    caps: Callable[[Conn, bytes], Awaitable[None]] | None = None,
) -> None:
    """A minimal IMAP server; ``on_auth`` plays LOGIN/AUTHENTICATE (False ends the session)."""
    await conn.send(greeting)
    while line := await conn.line():
        tag, verb = _tag(line), _verb(line)
        if verb == b"CAPABILITY":
            if caps is not None:
                await caps(conn, tag)
                continue
            await conn.send(CAPS + tag + b" OK CAPABILITY completed\r\n")
        elif verb in (b"LOGIN", b"AUTHENTICATE"):
            if on_auth is None:
                await conn.send(tag + b" NO LOGIN failed.\r\n")
            elif not await on_auth(conn, line):
                return
        elif verb == b"ID":
            await conn.send(b'* ID ("name" "hostile")\r\n' + tag + b" OK ID completed\r\n")
        elif verb in (b"EXAMINE", b"SELECT"):
            await conn.send(b"* 0 EXISTS\r\n" + tag + b" OK [READ-ONLY] done\r\n")
        elif verb == b"LOGOUT":
            await conn.send(b"* BYE bye\r\n" + tag + b" OK LOGOUT completed\r\n")
            return
        else:
            await conn.send(tag + b" BAD unknown command\r\n")


async def _read_plain_blob(conn: Conn, line: bytes) -> bytes:
    """The client's credential line: AUTHENTICATE's response, or the LOGIN line itself."""
    if _verb(line) == b"AUTHENTICATE" and len(line.split()) < 4:
        await conn.send(b"+ \r\n")
        return await conn.line()
    return line


def _login_arguments(line: bytes) -> list[bytes]:
    """LOGIN's user and password as sent, quotes and escapes removed (b"" for others)."""
    if _verb(line) != b"LOGIN":
        return []
    args = re.findall(rb'"((?:[^"\\]|\\.)*)"', line)
    return [re.sub(rb"\\(.)", rb"\1", a) for a in args]


def echo(where: str) -> Script:
    """Echo every byte received, in the reply of kind ``where``.

    ``no``: a tagged NO; ``bye``: an untagged BYE then EOF (imaplib aborts);
    ``garbage``: an untagged line imaplib cannot parse (it aborts quoting
    the line as a bytes repr); ``literal``: the echo inside a literal;
    ``url``: a tagged NO with the decoded credential URL-quoted (``%20``,
    ``+``), as a web front end's error page or a proxy's log line quotes it.
    """

    async def on_auth(conn: Conn, line: bytes) -> bool:
        tag = _tag(line)
        got = await _read_plain_blob(conn, line)
        decoded = b""
        with contextlib.suppress(Exception):
            decoded = base64.b64decode(got.strip())
        said = (line + got + decoded).replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\0", b" ")
        if where == "url":
            quoted = [urllib.parse.quote(p, safe=b"") for p in (decoded, *decoded.split(b"\0"))]
            quoted += [urllib.parse.quote_plus(p) for p in decoded.split(b"\0")]
            quoted += [urllib.parse.quote(p) for p in _login_arguments(line)]
            await conn.send(tag + b" NO echo: " + " ".join(quoted).encode() + b"\r\n")
            return True
        if where == "no":
            await conn.send(tag + b" NO echo: " + said + b"\r\n")
            return True
        if where == "bye":
            await conn.send(b"* BYE echo: " + said + b"\r\n")
            return False
        if where == "garbage":
            await conn.send(b"echo: " + said + b"\r\n")
            return True
        await conn.send(b"* OK {%d}\r\n" % len(said) + said + b"\r\n" + tag + b" NO echoed\r\n")
        return True

    async def script(conn: Conn) -> None:
        await imap_session(conn, on_auth)

    return script


async def flood_capability(conn: Conn) -> None:
    """CAPABILITY is answered with untagged lines forever."""

    async def caps(conn: Conn, tag: bytes) -> None:
        chunk = b"* OK flood flood flood flood flood flood flood flood flood\r\n" * 512
        while True:
            await conn.send(chunk)

    await imap_session(conn, caps=caps)


async def flood_after_login(conn: Conn) -> None:
    """LOGIN is answered with untagged lines forever (after the credential arrived)."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _read_plain_blob(conn, line)
        chunk = b"* 1 EXISTS\r\n" * 4096
        while True:
            await conn.send(chunk)

    await imap_session(conn, on_auth)


async def huge_literal(conn: Conn) -> None:
    """CAPABILITY announces a 100 MB literal and streams it."""

    async def caps(conn: Conn, tag: bytes) -> None:
        await conn.send(b"* CAPABILITY {104857600}\r\n")
        chunk = b"x" * 65536
        for _ in range(1600):
            await conn.send(chunk)

    await imap_session(conn, caps=caps)


async def endless_line(conn: Conn) -> None:
    """A greeting line that never ends."""
    await conn.send(b"* OK ")
    chunk = b"y" * 65536
    while True:
        await conn.send(chunk)


async def continuations_forever(conn: Conn) -> None:
    """Every line during authentication is answered with another ``+``."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        await conn.send(b"+ \r\n")
        for _ in range(500):
            if not await conn.line():
                return False
            await conn.send(b"+ \r\n")
        return False

    await imap_session(conn, on_auth)


async def flood_bad(conn: Conn) -> None:
    """CAPABILITY is answered with ``* BAD`` lines forever: words, but a flood all the same."""

    async def caps(conn: Conn, tag: bytes) -> None:
        chunk = b"* BAD flood\r\n" * 512
        while True:
            await conn.send(chunk)

    await imap_session(conn, caps=caps)


async def drip_untagged(conn: Conn) -> None:
    """CAPABILITY is answered with an untagged line every 10 ms, never the tagged reply.

    Too slow to reach a read limit, too steady for the socket timeout to fire: only the
    deadline ends it.
    """

    async def caps(conn: Conn, tag: bytes) -> None:
        while True:
            await conn.send(b"* OK drip\r\n")
            await asyncio.sleep(0.01)

    await imap_session(conn, caps=caps)


async def slow_byte(conn: Conn) -> None:
    """CAPABILITY is answered one byte every 0.3 s: a line that never ends, just in time."""

    async def caps(conn: Conn, tag: bytes) -> None:
        while True:
            await conn.send(b"x")
            await asyncio.sleep(0.3)

    await imap_session(conn, caps=caps)


def half_greeting(start: bytes) -> Script:
    """The greeting begins (``start``, no line end) and never ends: not a silent server."""

    async def script(conn: Conn) -> None:
        await conn.send(start)
        await asyncio.sleep(3600)

    return script


def imap_reset(at: str) -> Script:
    """Reset the connection at ``greeting``, ``capability``, ``login`` or ``mailbox``."""

    async def script(conn: Conn) -> None:
        if at == "greeting":
            conn.reset()
            return
        await conn.send(GREETING)
        while line := await conn.line():
            verb = _verb(line)
            if (at, verb) in {
                ("capability", b"CAPABILITY"),
                ("login", b"LOGIN"),
                ("login", b"AUTHENTICATE"),
                ("mailbox", b"EXAMINE"),
            }:
                conn.reset()
                return
            tag = _tag(line)
            if verb == b"CAPABILITY":
                await conn.send(CAPS + tag + b" OK done\r\n")
            elif verb == b"AUTHENTICATE":
                await conn.send(b"+ \r\n")
                await conn.line()
                await conn.send(tag + b" OK logged in\r\n")
            elif verb == b"EXAMINE":
                await conn.send(tag + b" OK [READ-ONLY] done\r\n")
            else:
                await conn.send(tag + b" OK done\r\n")

    return script


async def invalid_utf8_greeting(conn: Conn) -> None:
    """A greeting with bytes that are not UTF-8, in its CAPABILITY code and its text."""
    await imap_session(
        conn, greeting=b"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN X-\xff\xfe] caf\xe9 \xc3( ready\r\n"
    )


async def invalid_utf8_capability(conn: Conn) -> None:
    async def caps(conn: Conn, tag: bytes) -> None:
        await conn.send(b"* CAPABILITY IMAP4rev1 X-\xff\xfe\r\n" + tag + b" OK done\r\n")

    await imap_session(conn, caps=caps)


async def close_notify_mid_command(conn: Conn) -> None:
    """Half a tagged reply to the credential, then TLS close_notify."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _read_plain_blob(conn, line)
        await conn.send(_tag(line) + b" NO LOG")
        await conn.close_notify()
        return False

    await imap_session(conn, on_auth)


IMAP_SCRIPTS: dict[str, Script] = {
    "echo-no": echo("no"),
    "echo-bye": echo("bye"),
    "echo-garbage": echo("garbage"),
    "echo-literal": echo("literal"),
    "echo-url": echo("url"),
    "flood-capability": flood_capability,
    "flood-after-login": flood_after_login,
    "huge-literal": huge_literal,
    "endless-line": endless_line,
    "continuations-forever": continuations_forever,
    "reset-greeting": imap_reset("greeting"),
    "reset-capability": imap_reset("capability"),
    "reset-login": imap_reset("login"),
    "reset-mailbox": imap_reset("mailbox"),
    "invalid-utf8-greeting": invalid_utf8_greeting,
    "invalid-utf8-capability": invalid_utf8_capability,
    "close-notify-mid-command": close_notify_mid_command,
    "flood-bad": flood_bad,
}


def said(conn: Conn) -> bytes:
    """Everything the client sent so far, raw and base64-decoded, on one line (for echoes)."""
    received = bytes(conn.received)
    decoded = b" ".join(_b64_or_nothing(part) for part in received.split())
    return (received + b" " + decoded).translate(None, b"\r\n\0")


Action = tuple[str, bytes]
"""One move of a generated script: ``("line", b"...")`` sends it; ``("echo", b"")`` an
untagged ``[ALERT]`` repeating all received; ``("garbage", b"...")`` raw bytes;
``("continue", b"")`` a ``+``; ``("tagged", b"OK"|b"NO"|b"BAD")`` the tagged reply
(echoing all received); ``("reset", b"")`` a TCP RST."""


def generated(turns: list[list[Action]]) -> Script:
    """An IMAP server playing ``turns[i]`` after the client's i-th line (hypothesis draws them).

    After the last turn every line is answered ``OK`` with an echo of all received, so the
    credential comes back in every later reply (CAPABILITY, EXAMINE, LOGOUT) too.
    """

    async def script(conn: Conn) -> None:
        await conn.send(GREETING)
        turn = 0
        while line := await conn.line():
            tag = _tag(line)
            actions = turns[turn] if turn < len(turns) else [("tagged", b"OK")]
            turn += 1
            for kind, data in actions:
                if kind == "line":
                    await conn.send(data + b"\r\n")
                elif kind == "echo":
                    await conn.send(b"* OK [ALERT] echo: " + said(conn) + b"\r\n")
                elif kind == "garbage":
                    await conn.send(data)
                elif kind == "continue":
                    await conn.send(b"+ \r\n")
                elif kind == "tagged":
                    await conn.send(tag + b" " + data + b" echo: " + said(conn) + b"\r\n")
                elif kind == "reset":
                    conn.reset()
                    return

    return script


# Scripts only the deadline ends (each takes the whole --timeout): the tier plays them
# side by side, not one after another.
SLOW_IMAP_SCRIPTS: dict[str, Script] = {
    "drip-untagged": drip_untagged,
    "slow-byte": slow_byte,
    "half-greeting": half_greeting(b"* OK IMAP4rev1 Service Rea"),
}


# --------------------------------------------------------------------------------------
# SMTP (587 with STARTTLS)
# --------------------------------------------------------------------------------------


def smtp_script(
    tls: ssl.SSLContext,
    on_auth: Callable[[Conn, bytes], Awaitable[bool]],
    greeting: bytes = b"220 hostile test server ready\r\n",
    ehlo_tls: bytes = b"250-hostile\r\n250 AUTH LOGIN PLAIN\r\n",
    ehlo: bytes = b"250-hostile\r\n250 STARTTLS\r\n",
) -> Script:
    async def script(conn: Conn) -> None:
        await conn.send(greeting)
        secure = False
        while line := await conn.line():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                await conn.send(ehlo_tls if secure else ehlo)
            elif verb == b"STARTTLS" and not secure:
                await conn.send(b"220 go ahead\r\n")
                await conn.starttls(tls)
                secure = True
            elif verb == b"AUTH":
                if not await on_auth(conn, line):
                    return
            elif verb == b"QUIT":
                await conn.send(b"221 bye\r\n")
                return
            else:
                await conn.send(b"502 unknown\r\n")

    return script


async def _smtp_credential(conn: Conn, line: bytes) -> bytes:
    """Everything the client sent for AUTH (LOGIN's two answers or PLAIN's one)."""
    got = line
    if line.upper().startswith(b"AUTH LOGIN"):
        await conn.send(b"334 VXNlcm5hbWU6\r\n")
        got += await conn.line()
        await conn.send(b"334 UGFzc3dvcmQ6\r\n")
        got += await conn.line()
    return got


def _b64_or_nothing(part: bytes) -> bytes:
    """``part`` base64-decoded, or b"" (``AUTH``, ``LOGIN``: an echo must not end the session)."""
    try:
        return base64.b64decode(part + b"=" * (-len(part) % 4), validate=True)
    except ValueError:
        return b""


def smtp_echo(tls: ssl.SSLContext) -> Script:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        got = await _smtp_credential(conn, line)
        decoded = b" ".join(_b64_or_nothing(part) for part in got.split())
        said = (got + decoded).replace(b"\r", b" ").replace(b"\n", b" ").replace(b"\0", b" ")
        await conn.send(b"535-echo: " + said + b"\r\n535 5.7.8 echo: " + said + b"\r\n")
        return True

    return smtp_script(tls, on_auth)


def smtp_continuations_forever(tls: ssl.SSLContext) -> Script:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        for _ in range(500):
            await conn.send(b"334 \r\n")
            if not await conn.line():
                return False
        return False

    return smtp_script(tls, on_auth)


def smtp_flood(tls: ssl.SSLContext) -> Script:
    """EHLO after STARTTLS is answered with continuation lines forever."""

    async def flood(conn: Conn) -> None:
        await conn.send(b"220 hostile ready\r\n")
        while line := await conn.line():
            if line.upper().startswith(b"EHLO"):
                while True:
                    await conn.send(b"250-flood flood flood flood flood flood\r\n" * 512)
            await conn.send(b"502 unknown\r\n")

    return flood


def smtp_slow_ehlo(tls: ssl.SSLContext, piece: bytes, pause: float) -> Script:
    """EHLO after STARTTLS is answered ``piece`` every ``pause`` s, never the last line."""

    async def ehlo(conn: Conn) -> None:
        while True:
            await conn.send(piece)
            await asyncio.sleep(pause)

    async def script(conn: Conn) -> None:
        await conn.send(b"220 hostile test server ready\r\n")
        secure = False
        while line := await conn.line():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO" and secure:
                await ehlo(conn)
            elif verb == b"EHLO":
                await conn.send(b"250-hostile\r\n250 STARTTLS\r\n")
            elif verb == b"STARTTLS" and not secure:
                await conn.send(b"220 go ahead\r\n")
                await conn.starttls(tls)
                secure = True
            else:
                await conn.send(b"502 unknown\r\n")

    return script


def smtp_reset(tls: ssl.SSLContext, at: str) -> Script:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _smtp_credential(conn, line)
        conn.reset()
        return False

    inner = smtp_script(tls, on_auth)

    async def script(conn: Conn) -> None:
        if at == "greeting":
            conn.reset()
            return
        await inner(conn)

    return script


def smtp_invalid_utf8(tls: ssl.SSLContext) -> Script:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _smtp_credential(conn, line)
        await conn.send(b"535 5.7.8 \xff\xfe caf\xe9 \x1b[31mred\r\n")
        return True

    return smtp_script(tls, on_auth, greeting=b"220 \xff\xfe hostile \xc3(\r\n")


def smtp_close_notify(tls: ssl.SSLContext) -> Script:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _smtp_credential(conn, line)
        await conn.send(b"53")
        await conn.close_notify()
        return False

    return smtp_script(tls, on_auth)


SMTP_SCRIPTS: dict[str, Callable[[ssl.SSLContext], Script]] = {
    "echo": smtp_echo,
    "continuations-forever": smtp_continuations_forever,
    "flood": smtp_flood,
    "reset-greeting": lambda tls: smtp_reset(tls, "greeting"),
    "reset-auth": lambda tls: smtp_reset(tls, "auth"),
    "invalid-utf8": smtp_invalid_utf8,
    "close-notify-mid-command": smtp_close_notify,
}

SLOW_SMTP_SCRIPTS: dict[str, Callable[[ssl.SSLContext], Script]] = {
    "drip": lambda tls: smtp_slow_ehlo(tls, b"250-drip\r\n", 0.01),
    "slow-byte": lambda tls: smtp_slow_ehlo(tls, b"2", 0.3),
    "half-greeting": lambda tls: half_greeting(b"220 hostile test server rea"),
}


# --------------------------------------------------------------------------------------
# DNS (UDP): silence, or garbage
# --------------------------------------------------------------------------------------


@contextlib.contextmanager
def dns_server(kind: str) -> Iterator[int]:
    """A UDP "DNS server" that never answers (``silent``) or answers garbage (``garbage``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except OSError:
                continue
            if kind == "garbage":
                # The query's id, then bytes that are no DNS message.
                sock.sendto(data[:2] + b"\x81\x80\xff\xff\xff\xff garbage", peer)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield sock.getsockname()[1]
    finally:
        stop.set()
        thread.join(2)
        sock.close()
