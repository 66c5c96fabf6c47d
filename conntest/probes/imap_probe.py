"""IMAP over implicit TLS, driven by imapclient in worker threads.

imapclient is synchronous; this is the only module that touches it.  TCP and
TLS are done here (not by imapclient) so that connect, TLS, greeting and
CAPABILITY are separate steps with separate deadlines, and the connection goes
to the address DNS or ``--resolve`` gave while TLS still verifies the real
name.  A :class:`_Tap` sits under imaplib and records every line with its
time; credentials are replaced before a line is stored.

Order: connect, tls, greeting, capability, [id], login, [id], mailbox
(``EXAMINE INBOX``: mailbox-level refusals only show there), logout.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import socket
import ssl
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from conntest.model import FailureKind, Reply, Status, Step
from conntest.probes import tls as tlsmod
from conntest.probes.clock import RunClock, StepLog, StepRecorder, skipped_step
from conntest.probes.net import classify, connect_step
from conntest.probes.session import AuthGate, Credentials, Endpoint
from conntest.profile import Profile
from conntest.redact import REDACTED

T = TypeVar("T")
STEPS = ("connect", "tls", "greeting", "capability", "id", "login", "mailbox", "logout")
_TAGGED = re.compile(r"^(?P<tag>[A-Za-z0-9.]+) (?P<status>OK|NO|BAD) ?(?P<text>.*)$", re.I)
_UNTAGGED = re.compile(r"^\* (?P<status>OK|NO|BAD|BYE|PREAUTH) ?(?P<text>.*)$", re.I)
_MAX_TRANSCRIPT_LINE = 400


class _Tap:
    """Records what imaplib sends and receives, with times, credentials redacted."""

    def __init__(self) -> None:
        self.lines: list[tuple[float, str, str]] = []
        self.sensitive = False
        self._lock = threading.Lock()
        self._mark = 0

    def sent(self, data: bytes) -> None:
        text = data.decode("utf-8", "replace").rstrip("\r\n")
        if self.sensitive:
            text = _redact_command(text)
        self._add("C", text)

    def received(self, data: bytes) -> None:
        self._add("S", data.decode("utf-8", "replace").rstrip("\r\n"))

    def _add(self, who: str, text: str) -> None:
        if len(text) > _MAX_TRANSCRIPT_LINE:
            text = text[:_MAX_TRANSCRIPT_LINE] + f"… ({len(text)} characters)"
        with self._lock:
            self.lines.append((time.monotonic(), who, text))

    def drain(self) -> list[str]:
        with self._lock:
            new = self.lines[self._mark :]
            self._mark = len(self.lines)
        return [f"{who}: {text}" for _, who, text in new]

    def first_received_at(self) -> float | None:
        with self._lock:
            return next((t for t, who, _ in self.lines if who == "S"), None)

    def last_reply(self) -> Reply | None:
        """The last status line the server sent in the whole session."""
        with self._lock:
            return _reply_in([f"{who}: {text}" for _, who, text in self.lines])

    def untagged_bye(self) -> str | None:
        with self._lock:
            received = [text for _, who, text in self.lines if who == "S"]
        for text in reversed(received):
            m = _UNTAGGED.match(text)
            if m and m["status"].upper() == "BYE":
                return m["text"]
        return None


def _reply_in(transcript: list[str]) -> Reply | None:
    """The last tagged (or, failing that, untagged) status line among ``S:`` lines."""
    received = [line[3:] for line in transcript if line.startswith("S: ")]
    for text in reversed(received):
        m = _TAGGED.match(text)
        if m:
            return Reply(m["status"].upper(), m["text"])
    for text in reversed(received):
        m = _UNTAGGED.match(text)
        if m:
            return Reply(m["status"].upper(), m["text"])
    return None


def _redact_command(text: str) -> str:
    """Keep the tag, command and user name; drop passwords and SASL payloads."""
    parts = text.split(" ")
    if len(parts) >= 2 and parts[1].upper() == "LOGIN":
        return " ".join([*parts[:3], REDACTED]) if len(parts) >= 4 else text
    if len(parts) >= 3 and parts[1].upper() == "AUTHENTICATE":
        return " ".join([*parts[:3], REDACTED]) if len(parts) >= 4 else text
    return REDACTED  # a continuation line during authentication


class _TappedIMAP4(imaplib.IMAP4):
    """imaplib on a socket we connected and wrapped ourselves, with a tap."""

    def __init__(self, sock: socket.socket, tap: _Tap, host: str, port: int) -> None:
        self._presock = sock
        self._tap = tap
        super().__init__(host, port)

    def _create_socket(self, timeout: float | None = None) -> socket.socket:
        return self._presock

    def readline(self) -> bytes:
        line = super().readline()
        self._tap.received(line)
        return line

    def read(self, size: int) -> bytes:
        data = super().read(size)
        self._tap.received(data)
        return data

    def send(self, data: bytes) -> None:  # type: ignore[override]
        self._tap.sent(data)
        super().send(data)


class _ProbeClient(IMAPClient):  # type: ignore[misc]
    def __init__(self, sock: socket.socket, tap: _Tap, host: str, port: int) -> None:
        self._presock = sock
        self._tap = tap
        super().__init__(host, port=port, ssl=False, timeout=None)

    def _create_IMAP4(self) -> imaplib.IMAP4:
        return _TappedIMAP4(self._presock, self._tap, self.host, self.port)


async def _blocking(fn: Callable[[], T], timeout: float, sock: socket.socket | None) -> T:
    """Run ``fn`` in a worker thread under a hard deadline.

    The socket timeout normally fires first; if a server drips bytes slowly
    enough to dodge it, the socket is shut down here so the thread ends too.
    """
    if sock is not None:
        sock.settimeout(timeout)
    task = asyncio.ensure_future(asyncio.to_thread(fn))
    # If the deadline wins, the thread's own error arrives later: read it so
    # asyncio does not print "Task exception was never retrieved".
    task.add_done_callback(lambda t: t.cancelled() or t.exception())
    try:
        return await asyncio.wait_for(asyncio.shield(task), timeout + 0.5)
    except TimeoutError:
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        raise


def _imap_failure(exc: BaseException, tap: _Tap) -> tuple[FailureKind, str]:
    if isinstance(exc, imaplib.IMAP4.abort | imaplib.IMAP4.error | IMAPClientError):
        message = str(exc)
        if "EOF" in message or "closed" in message.lower():
            bye = tap.untagged_bye()
            return (
                FailureKind.CLOSED,
                f"the server closed the connection{f': {bye}' if bye else ''}",
            )
        if "got more than" in message:
            return FailureKind.PROTOCOL, "the server sent an endless line"
        return FailureKind.PROTOCOL, message[:200]
    kind, message, _ = classify(exc)
    return kind, message


async def probe_imap(
    clock: RunClock,
    profile: Profile,
    endpoint: Endpoint,
    creds: Credentials,
    gate: AuthGate,
    ca_file: Any = None,
    tls_max: str | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> list[Step]:
    """Run the IMAP steps of ``profile``; never raises for network trouble."""
    log = StepLog(clock, "imap", STEPS, on_step)
    steps, add, skip_rest = log.steps, log.add, log.skip_rest

    settings = profile.imap
    tmin, tmax = tlsmod.effective_range(profile.tls.min, profile.tls.max, tls_max)

    # connect
    raw, connect_steps = await connect_step(clock, "imap", endpoint)
    for step in connect_steps:
        add(step)
    if raw is None:
        return skip_rest("connect", "no connection")

    # tls
    rec = StepRecorder(clock, "imap", "tls")
    rec.data.update(tls_min=tmin, tls_max=tmax)
    ctx = tlsmod.client_context(tmin, tmax, ca_file)
    budget = clock.budget("tls")
    try:
        sock: ssl.SSLSocket = await _blocking(
            lambda: tlsmod.handshake(raw, ctx, endpoint.host, budget), budget, raw
        )
    except ssl.SSLCertVerificationError as exc:
        raw.close()
        presented = await asyncio.to_thread(
            tlsmod.read_presented_chain,
            endpoint.address,
            endpoint.port,
            endpoint.host,
            tmin,
            tmax,
            clock.budget("tls"),
        )
        rec.tls = tlsmod.failed_verification_info(exc, presented)
        add(
            rec.failed(
                FailureKind.TLS_VERIFY, f"certificate verification failed: {exc.verify_message}"
            )
        )
        return skip_rest("tls", "credentials not sent: the certificate failed verification")
    except Exception as exc:
        raw.close()
        kind, message, errno = classify(exc)
        add(rec.failed(kind, message, errno=errno))
        return skip_rest("tls", "no TLS session")
    rec.tls = tlsmod.tls_info(sock)
    add(rec.passed())

    # greeting + capability: imaplib reads both inside its constructor
    tap = _Tap()
    rec = StepRecorder(clock, "imap", "greeting")
    budget = clock.budget("greeting")
    try:
        client = await _blocking(
            lambda: _ProbeClient(sock, tap, endpoint.host, endpoint.port), budget, sock
        )
    except Exception as exc:
        got_greeting = tap.first_received_at()
        transcript = tap.drain()
        if got_greeting is None:
            rec.transcript = transcript
            kind, message = _imap_failure(exc, tap)
            if kind is FailureKind.TIMEOUT:
                message = "connected, but the server sent no greeting"
            add(rec.failed(kind, message))
            sock.close()
            return skip_rest("greeting", "no greeting")
        add(_greeting_step(clock, rec, got_greeting, transcript[:1], tap))
        rec = StepRecorder(clock, "imap", "capability")
        rec.transcript = transcript[1:]
        kind, message = _imap_failure(exc, tap)
        add(rec.failed(kind, message, reply=tap.last_reply()))
        sock.close()
        return skip_rest("capability", "no usable IMAP session")
    transcript = tap.drain()
    first = tap.first_received_at() or time.monotonic()
    add(_greeting_step(clock, rec, first, transcript[:1], tap))
    rec = StepRecorder(clock, "imap", "capability")
    rec.started = first
    rec.transcript = transcript[1:]
    caps = [c.decode() if isinstance(c, bytes) else str(c) for c in client.capabilities()]
    rec.data["capabilities"] = caps
    add(rec.passed(Reply("OK", "CAPABILITY " + " ".join(caps))))

    async def run(name: str, fn: Callable[[], Any], sensitive: bool = False) -> Step:
        rec = StepRecorder(clock, "imap", name)
        budget = clock.budget(name)
        tap.sensitive = sensitive
        try:
            await _blocking(fn, budget, sock)
        except Exception as exc:
            tap.sensitive = False
            rec.transcript = tap.drain()
            reply = _reply_in(rec.transcript)
            if (
                reply is not None
                and reply.code in {"NO", "BAD"}
                and not isinstance(exc, TimeoutError)
            ):
                bye = tap.untagged_bye()
                if bye:
                    rec.data["bye"] = bye
                return rec.failed(FailureKind.REJECTED, str(reply), reply=reply)
            kind, message = _imap_failure(exc, tap)
            return rec.failed(kind, message, reply=reply)
        tap.sensitive = False
        rec.transcript = tap.drain()
        return rec.passed(_reply_in(rec.transcript))

    def hangup() -> None:
        """Close imaplib's file and the socket (closing only the socket leaks the file)."""
        try:
            client.shutdown()
        except Exception:  # already closed or reset: nothing left to release
            pass
        sock.close()

    async def close() -> None:
        add(await run("logout", client.logout))
        hangup()

    id_fields = dict(settings.id_fields)
    if settings.send_id == "before-login":
        add(await _id_step(clock, run, client, caps, id_fields))

    # login: once per protocol per run
    rec = StepRecorder(clock, "imap", "login")
    if creds.password is None and creds.token is None:
        add(rec.skipped("connectivity-only check: no password given"))
        for name in ("id", "mailbox"):
            add(skipped_step(clock, "imap", name, "not authenticated"))
        await close()
        return steps
    user = creds.user if profile.username_form == "address" else creds.user.split("@")[0]
    password = creds.password or ""
    login_mech = settings.login if creds.token is None else "xoauth2"
    if creds.token is not None:
        user = creds.user  # XOAUTH2's user= is the mailbox the token is for
    unsendable = _unsendable(login_mech, password) if creds.token is None else None
    if unsendable is not None:
        rec.data["mechanism"] = settings.login
        add(rec.failed(FailureKind.UNSAFE, unsendable))
        add(skipped_step(clock, "imap", "mailbox", "not authenticated"))
        await close()
        return steps
    refusal = _mechanism_refusal(login_mech, caps)
    if refusal is not None:
        rec.data["mechanism"] = login_mech
        add(
            rec.failed(
                FailureKind.NOT_OFFERED, refusal, reply=Reply("OK", "CAPABILITY " + " ".join(caps))
            )
        )
        add(skipped_step(clock, "imap", "mailbox", "not authenticated"))
        await close()
        return steps

    if not gate.claim(profile.id):
        shared = await gate.shared_outcome(clock.remaining() + 2.0)
        if shared is None:
            add(rec.skipped("the profile that authenticated for this run gave no answer in time"))
        else:
            for step in shared:
                add(step)
        have = {s.name for s in steps}
        for name in ("mailbox",):
            if name not in have:
                add(skipped_step(clock, "imap", name, "not authenticated"))
        await close()
        return steps

    published: list[Step] = []
    try:
        login_call = (
            _login_call(client, settings.login, settings.sasl_ir, user, password)
            if creds.token is None
            else xoauth2_call(client, user, creds.token)
        )
        login_step = await run("login", login_call, sensitive=True)
        login_step.data["mechanism"] = (
            settings.login + (" (SASL-IR)" if settings.sasl_ir else "")
            if creds.token is None
            else "XOAUTH2 (SASL-IR)"
        )
        login_step.data["user"] = user
        published.append(add(login_step))
        if login_step.status is not Status.PASS:
            mailbox = skipped_step(clock, "imap", "mailbox", "not authenticated")
            published.append(add(mailbox))
            hangup()
            return steps
        if settings.send_id == "after-login":
            add(await _id_step(clock, run, client, caps, id_fields))
        mailbox = await run("mailbox", lambda: client.select_folder("INBOX", readonly=True))
        mailbox.data["command"] = "EXAMINE INBOX"
        published.append(add(mailbox))
    finally:
        gate.publish(published)
    if mailbox.status is Status.PASS:
        await close()
    else:
        hangup()
    return steps


def _greeting_step(
    clock: RunClock, rec: StepRecorder, at: float, lines: list[str], tap: _Tap
) -> Step:
    rec.transcript = lines
    step = rec.passed()
    step.elapsed_ms = round((at - rec.started) * 1000, 1)
    if lines:
        m = _UNTAGGED.match(lines[0][3:])
        if m:
            step.reply = Reply("*", f"{m['status'].upper()} {m['text']}")
    return step


def _unsendable(login: str, password: str) -> str | None:
    """Why this password cannot go out as the client would send it, if it cannot.

    LOGIN's quoted string has no way to carry a line break, and imaplib sends
    it as ASCII; a NUL would end the PLAIN credential early.  Sending anyway
    would split the command or fail half-way, so conntest says so instead.
    """
    if "\0" in password:
        return "credentials not sent: the password contains a NUL character"
    if login == "login" and ("\r" in password or "\n" in password):
        return "credentials not sent: the password contains a line break, which LOGIN cannot carry"
    if login == "login" and not password.isascii():
        return (
            "credentials not sent: the password has non-ASCII characters, which IMAP LOGIN "
            "(as imaplib sends it) cannot carry"
        )
    return None


def _mechanism_refusal(login: str, caps: list[str]) -> str | None:
    upper = {c.upper() for c in caps}
    if login == "login" and "LOGINDISABLED" in upper:
        return "the server advertises LOGINDISABLED: it takes no LOGIN (credentials not sent)"
    if login == "authenticate-plain" and "AUTH=PLAIN" not in upper:
        return "the server does not offer AUTH=PLAIN (credentials not sent)"
    if login == "xoauth2" and "AUTH=XOAUTH2" not in upper:
        return "the server does not offer AUTH=XOAUTH2 (token not sent)"
    return None


def xoauth2_payload(user: str, token: str) -> str:
    """The XOAUTH2 initial response: base64 of ``user=U^Aauth=Bearer T^A^A`` (oauth.md §2)."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def xoauth2_call(client: IMAPClient, user: str, token: str) -> Callable[[], Any]:
    """``AUTHENTICATE XOAUTH2 <initial response>`` (SASL-IR), sent once.

    A server that answers with a continuation instead (an error challenge) gets
    ``*``, never the token again: imaplib calls the literal callback for each
    ``+`` and ``_Authenticator`` turns ``None`` into the cancel line.
    """

    def authenticate() -> Any:
        imap = client._imap
        imap.literal = imaplib._Authenticator(lambda _challenge: None).process
        typ, data = imap._simple_command("AUTHENTICATE", "XOAUTH2", xoauth2_payload(user, token))
        if typ != "OK":
            raise imaplib.IMAP4.error(
                data[-1].decode("utf-8", "replace") if data else "AUTHENTICATE failed"
            )
        imap.state = "AUTH"
        return data

    return authenticate


def _login_call(
    client: IMAPClient, login: str, sasl_ir: bool, user: str, password: str
) -> Callable[[], Any]:
    if login == "login":
        return lambda: client.login(user, password)
    if not sasl_ir:
        return lambda: client.plain_login(user, password)

    def plain_with_initial_response() -> Any:
        blob = base64.b64encode(f"\0{user}\0{password}".encode()).decode()
        imap = client._imap
        typ, data = imap._simple_command("AUTHENTICATE", "PLAIN", blob)
        if typ != "OK":
            raise imaplib.IMAP4.error(
                data[-1].decode("utf-8", "replace") if data else "AUTHENTICATE failed"
            )
        imap.state = "AUTH"
        return data

    return plain_with_initial_response


async def _id_step(
    clock: RunClock,
    run: Callable[..., Any],
    client: IMAPClient,
    caps: list[str],
    fields: dict[str, str],
) -> Step:
    if "ID" not in {c.upper() for c in caps}:
        return skipped_step(clock, "imap", "id", "the server does not advertise ID")
    step: Step = await run("id", lambda: client.id_(fields or None))
    step.data["fields"] = fields
    return step
