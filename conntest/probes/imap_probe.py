"""IMAP over implicit TLS (993) or STARTTLS (143), driven by imapclient on the event loop.

imapclient is synchronous; this module and :mod:`conntest.probes.imap_wire`
(the tap, the read limits and the deadline under imaplib) are the only ones
that touch it.  TCP and
TLS are done here (not by imapclient) so that connect, TLS, greeting and
CAPABILITY are separate steps with separate deadlines, and the connection goes
to the address DNS or ``--resolve`` gave while TLS still verifies the real
name.  A :class:`Tap` sits under imaplib and records every line with its
time; credentials are replaced before a line is stored.

A hostile server is read within bounds (:data:`~conntest.probes.imap_wire.LIMITS`):
a line, a literal, the lines of one command and the bytes of one step are
capped, and a step that goes past one ends as a protocol failure naming the
limit.  imaplib's calls run on the event loop's thread, in a greenlet
(:func:`~conntest.probes.imap_wire.blocking`): where it would block on the
socket the loop waits instead, and at a step's deadline the wait is cancelled
inside imaplib, the socket is shut down and the step ends.
SASL continuations get exactly one answer: a second ``+`` is answered with
``*`` (cancel) and a third ends the step, so a credential is sent once.

Order (``imap.security: tls``): connect, tls, greeting, capability, [id], login,
[id], mailbox (``EXAMINE INBOX``: mailbox-level refusals only show there), logout.
With ``imap.security: starttls`` the greeting is read in plain text, then
``STARTTLS`` and the handshake: connect, greeting, starttls, tls, capability, ….
Either way no credential is sent before a verified handshake for the real name.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import re
import ssl
import time
from collections.abc import Callable
from typing import Any, TypeVar

from imapclient import IMAPClient
from imapclient.exceptions import IMAPClientError

from conntest.model import Failure, FailureKind, Reply, Status, Step
from conntest.probes import tls as tlsmod
from conntest.probes.clock import RunClock, StepLog, StepRecorder, skipped_step
from conntest.probes.imap_starttls import STARTTLS_STEPS, plain_starttls, starttls_prelude
from conntest.probes.imap_wire import (
    UNTAGGED,
    LoopSocket,
    ProbeClient,
    Tap,
    blocking,
    reply_in,
)
from conntest.probes.net import classify, connect_step, unended_message
from conntest.probes.session import AuthGate, Credentials, Endpoint, unsafe_user
from conntest.profile import Profile

T = TypeVar("T")
STEPS = ("connect", "tls", "greeting", "capability", "id", "login", "mailbox", "logout")


def _imap_failure(exc: BaseException, tap: Tap) -> tuple[FailureKind, str]:
    if tap.limit is not None:
        return FailureKind.PROTOCOL, tap.limit_message
    if isinstance(exc, _SecondChallenge):
        return FailureKind.PROTOCOL, str(exc)
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
        # Not cut here: the engine redacts the whole message first, then cuts it.
        return FailureKind.PROTOCOL, _unrepr(message)
    if isinstance(exc, UnicodeDecodeError):
        return FailureKind.PROTOCOL, "the server sent bytes that are not text (not valid UTF-8)"
    if isinstance(exc, ValueError) and not isinstance(exc, UnicodeError):
        # imaplib parsing what the server sent (a literal size, a base64 challenge).
        return FailureKind.PROTOCOL, f"the server sent a malformed answer ({type(exc).__name__})"
    kind, message, _ = classify(exc)
    return kind, message


def _unrepr(message: str) -> str:
    """imaplib's messages quote what the server sent as a bytes repr (``b'* BYE …'``)."""
    return re.sub(r"""\bb(['"])(.*?)\1""", r"'\2'", message)


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
    settings = profile.imap
    starttls = settings.security == "starttls"
    log = StepLog(clock, "imap", STARTTLS_STEPS if starttls else STEPS, on_step)
    steps, add, skip_rest = log.steps, log.add, log.skip_rest

    tmin, tmax = tlsmod.effective_range(profile.tls.min, profile.tls.max, tls_max)

    # connect
    raw, connect_steps = await connect_step(clock, "imap", endpoint)
    for step in connect_steps:
        add(step)
    if raw is None:
        return skip_rest("connect", "no connection")
    conn = LoopSocket(raw)

    # greeting and STARTTLS in plain text (imap.security: starttls)
    plain_greeting: bytes | None = None
    if starttls:
        plain_greeting = await plain_starttls(clock, conn, add)
        if plain_greeting is None:
            conn.close()
            return skip_rest(steps[-1].name, "credentials not sent: no TLS session")

    # tls
    rec = StepRecorder(clock, "imap", "tls")
    rec.data.update(
        host=endpoint.host,  # the name verified: advice names it, not the profile's
        tls_min=tmin,
        tls_max=tmax,
        mode="starttls" if starttls else "implicit",
        trust="ca-file" if ca_file is not None else "system",
    )
    ctx = tlsmod.client_context(tmin, tmax, ca_file)
    budget = clock.budget("tls")
    try:
        tls = await blocking(lambda: conn.handshake(ctx, endpoint.host), budget, conn)
    except ssl.SSLCertVerificationError as exc:
        conn.close()
        presented = await asyncio.to_thread(
            tlsmod.read_presented_chain,
            endpoint.address,
            endpoint.port,
            endpoint.host,
            tmin,
            tmax,
            clock.budget("tls"),
            starttls_prelude if starttls else None,
        )
        rec.tls = tlsmod.failed_verification_info(exc, presented)
        add(
            rec.failed(
                FailureKind.TLS_VERIFY, f"certificate verification failed: {exc.verify_message}"
            )
        )
        return skip_rest("tls", "credentials not sent: the certificate failed verification")
    except Exception as exc:
        conn.close()
        kind, message, errno = classify(exc)
        add(rec.failed(kind, message, errno=errno))
        return skip_rest("tls", "no TLS session")
    rec.tls = tlsmod.tls_info(tls)
    add(rec.passed())

    # greeting + capability: imaplib reads both inside its constructor
    tap = Tap(creds.redact)
    rec = StepRecorder(clock, "imap", "capability" if starttls else "greeting")
    budget = clock.budget("greeting")
    try:
        client = await blocking(
            lambda: ProbeClient(conn, tap, endpoint.host, endpoint.port, plain_greeting),
            budget,
            conn,
        )
    except Exception as exc:
        got_greeting = tap.first_received_at()
        transcript = tap.drain()
        if starttls:
            # The greeting came before TLS: whatever failed here is CAPABILITY.
            rec.transcript = transcript
            kind, message = _imap_failure(exc, tap)
            message = _note_answer(rec, tap, kind, message)
            add(rec.failed(kind, message, reply=tap.last_reply()))
            conn.close()
            return skip_rest("capability", "no usable IMAP session")
        if got_greeting is None:
            rec.transcript = transcript
            kind, message = _imap_failure(exc, tap)
            if kind is FailureKind.TIMEOUT:
                # Part of a line that never ended is an answer begun, not silence.
                message = _note_answer(rec, tap, kind, "connected, but the server sent no greeting")
            add(rec.failed(kind, message))
            conn.close()
            return skip_rest("greeting", "no greeting")
        greeting = _greeting_step(clock, rec, got_greeting, transcript[:1], tap)
        if greeting.reply is None and transcript:
            # Not "* OK …": another protocol answers on this port (an SMTP banner, HTTP).
            greeting.status = Status.FAIL
            said = transcript[0][3:] if transcript[0].startswith("S: ") else transcript[0]
            greeting.failure = Failure(FailureKind.PROTOCOL, f"not an IMAP greeting: {said}")
            add(greeting)
            conn.close()
            return skip_rest("greeting", "no IMAP greeting")
        if greeting.reply is not None and greeting.reply.text.upper().startswith("BYE"):
            # "* BYE" instead of "* OK": the server refuses the session (RFC 9051 §7.1.5).
            greeting.status, greeting.reply = Status.FAIL, Reply("BYE", greeting.reply.text[4:])
            greeting.failure = Failure(
                FailureKind.REJECTED, f"the greeting is a refusal: {greeting.reply}"
            )
            add(greeting)
            conn.close()
            return skip_rest("greeting", "the server refused the session")
        add(greeting)
        rec = StepRecorder(clock, "imap", "capability")
        rec.started = got_greeting  # CAPABILITY went out then: its time counts from there
        rec.transcript = transcript[1:]
        kind, message = _imap_failure(exc, tap)
        message = _note_answer(rec, tap, kind, message)
        add(rec.failed(kind, message, reply=tap.last_reply()))
        conn.close()
        return skip_rest("capability", "no usable IMAP session")
    transcript = tap.drain()
    if starttls:
        rec.transcript = transcript
    else:
        first = tap.first_received_at() or time.monotonic()
        add(_greeting_step(clock, rec, first, transcript[:1], tap))
        rec = StepRecorder(clock, "imap", "capability")
        rec.started = first
        rec.transcript = transcript[1:]
    caps = client.greeted_capabilities()
    rec.data["capabilities"] = caps
    add(rec.passed(Reply("OK", "CAPABILITY " + " ".join(caps))))

    async def run(name: str, fn: Callable[[], Any], sensitive: bool = False) -> Step:
        rec = StepRecorder(clock, "imap", name)
        if clock.remaining() <= 0:
            if name == "logout":
                return rec.skipped("the run's deadline passed")
            return rec.failed(FailureKind.TIMEOUT, "the run's deadline passed before this step")
        budget = clock.budget(name)
        tap.sensitive = sensitive
        tap.begin_step()
        try:
            await blocking(fn, budget, conn)
        except Exception as exc:
            tap.sensitive = False
            rec.transcript = tap.drain()
            reply = reply_in(rec.transcript)
            kind, message = _imap_failure(exc, tap)
            message = _note_answer(rec, tap, kind, message)
            if (
                tap.limit is None
                and not isinstance(exc, _SecondChallenge)
                and reply is not None
                and reply.code in {"NO", "BAD"}
                and not isinstance(exc, TimeoutError)
            ):
                bye = tap.untagged_bye()
                if bye:
                    rec.data["bye"] = bye
                return rec.failed(FailureKind.REJECTED, str(reply), reply=reply)
            return rec.failed(kind, message, reply=reply)
        tap.sensitive = False
        rec.transcript = tap.drain()
        return rec.passed(reply_in(rec.transcript))

    def hangup() -> None:
        """Close imaplib's file and the socket (closing only the socket leaks the file)."""
        try:
            client.shutdown()
        except Exception:  # already closed or reset: nothing left to release
            pass
        conn.close()

    async def close() -> None:
        add(await run("logout", client.logout))
        hangup()

    id_fields = dict(settings.id_fields)
    if settings.send_id == "before-login":
        add(await _id_step(clock, run, client, caps, id_fields))

    # login: once per protocol per run, after the credential-free account lookup
    await gate.cleared()
    rec = StepRecorder(clock, "imap", "login")
    if client.preauthenticated:
        # "* PREAUTH": the server took the connection as signed in already (RFC 9051
        # 7.1.4). It asks for no credential, so none goes out; the mailbox is still read.
        rec.data["preauth"] = True
        add(rec.skipped(PREAUTH_SKIP))
        if settings.send_id == "after-login":
            add(await _id_step(clock, run, client, caps, id_fields))
        mailbox = await run("mailbox", lambda: client.select_folder("INBOX", readonly=True))
        mailbox.data["command"] = "EXAMINE INBOX"
        add(mailbox)
        if mailbox.status is Status.PASS:
            await close()
        else:
            hangup()
        return steps
    if creds.password is None and creds.token is None:
        add(rec.skipped(creds.without))
        for name in ("id", "mailbox"):
            add(skipped_step(clock, "imap", name, "not authenticated"))
        await close()
        return steps
    user = creds.user if profile.username_form == "address" else creds.user.split("@")[0]
    password = creds.password or ""
    login_mech = settings.login if creds.token is None else "xoauth2"
    if creds.token is not None:
        user = creds.user  # XOAUTH2's user= is the mailbox the token is for
    unsendable = unsafe_user(user) or (
        _unsendable(settings.login, user, password) if creds.token is None else None
    )
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
        notes: dict[str, Any] = {}
        login_call = (
            _login_call(client, settings.login, settings.sasl_ir, user, password, notes)
            if creds.token is None
            else xoauth2_call(client, user, creds.token, notes)
        )
        login_step = await run("login", login_call, sensitive=True)
        login_step.data.update(notes)
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


def _note_answer(rec: StepRecorder, tap: Tap, kind: FailureKind, message: str) -> str:
    """Record what the tap saw of a failed step's answer; the failure's message to show.

    ``limit``: the read limit that stopped it (a flood, however its lines read);
    ``unended_bytes``: a step that timed out after the server began to answer (a drip,
    a byte now and then): a server that never finished, not one that stayed silent.
    """
    if tap.limit is not None:
        rec.data["limit"] = tap.limit
    if kind is FailureKind.TIMEOUT and (begun := tap.received_since_sent()) > 0:
        rec.data["unended_bytes"] = begun
        return unended_message(begun)
    return message


def _greeting_step(
    clock: RunClock, rec: StepRecorder, at: float, lines: list[str], tap: Tap
) -> Step:
    rec.transcript = lines
    step = rec.passed()
    step.elapsed_ms = round((at - rec.started) * 1000, 1)
    if lines:
        m = UNTAGGED.match(lines[0][3:])
        if m:
            step.reply = Reply("*", f"{m['status'].upper()} {m['text']}")
    return step


def _unsendable(login: str, user: str, password: str) -> str | None:
    """Why these credentials cannot go out as the client would send them, if they cannot.

    LOGIN's quoted string has no way to carry a line break, and imaplib sends
    it as ASCII; a NUL would end the PLAIN credential early.  imaplib sends
    LOGIN's user name as a bare atom, so a space or a quote in it would change
    the command's arguments.  Sending anyway would split the command or fail
    half-way, so conntest says so instead.
    """
    if login == "login" and (not user.isascii() or any(c in _ATOM_SPECIALS for c in user)):
        return (
            "credentials not sent: the user name has characters that IMAP LOGIN (as imaplib "
            "sends it, unquoted) cannot carry"
        )
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


PREAUTH_SKIP = (
    "the server signed this connection in with its greeting (PREAUTH): it asked for no "
    "password, and none was sent"
)
_ATOM_SPECIALS = frozenset(' "()\\{%*]')


def _mechanism_refusal(login: str, caps: list[str]) -> str | None:
    upper = {c.upper() for c in caps}
    if login == "login" and "LOGINDISABLED" in upper:
        offered = sorted(c for c in upper if c in ("AUTH=PLAIN", "AUTH=LOGIN"))
        if offered:  # RFC 3501: no LOGIN command, but password sign-in by AUTHENTICATE is open
            return (
                "the server takes no LOGIN command (LOGIN disabled), only AUTHENTICATE "
                f"({' '.join(offered)}); credentials not sent"
            )
        return "the server advertises LOGINDISABLED: it takes no LOGIN (credentials not sent)"
    if login == "authenticate-plain" and "AUTH=PLAIN" not in upper:
        return "the server does not offer AUTH=PLAIN (credentials not sent)"
    if login == "xoauth2" and "AUTH=XOAUTH2" not in upper:
        return "the server does not offer AUTH=XOAUTH2 (token not sent)"
    return None


class _SecondChallenge(Exception):
    """The server asked for the credential again after it was sent (and after a cancel)."""


class _OneAnswer:
    """Answers a SASL exchange once: the credential, then ``*`` (cancel), then gives up.

    imaplib calls :meth:`process` (a bound method, as it requires) for every
    ``+`` continuation and would send whatever it returns; a server that
    answers every line with ``+`` would otherwise get the credential again and
    again.  ``answered`` is true from the start when the credential went out
    as a SASL initial response.
    """

    def __init__(self, response: bytes | None, data: dict[str, Any]) -> None:
        self._response = response
        self._data = data
        self.challenges = 0

    def process(self, challenge: bytes) -> bytes:
        self.challenges += 1
        if self._response is not None:
            response, self._response = self._response, None
            return base64.b64encode(response)
        if self.challenges <= 2:
            self._data["cancelled"] = (
                "the server asked for the credential again; conntest answered '*' (cancel) "
                "instead of sending it twice"
            )
            return b"*"
        raise _SecondChallenge(
            "the server kept asking for the credential after it was sent and the exchange "
            "cancelled; conntest sent it once and stopped"
        )


def xoauth2_payload(user: str, token: str) -> str:
    """The XOAUTH2 initial response: base64 of ``user=U^Aauth=Bearer T^A^A`` (oauth.md §2)."""
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def xoauth2_call(
    client: IMAPClient, user: str, token: str, data: dict[str, Any]
) -> Callable[[], Any]:
    """``AUTHENTICATE XOAUTH2 <initial response>`` (SASL-IR), sent once.

    A server that answers with a continuation instead (an error challenge) gets
    ``*``, never the token again (:class:`_OneAnswer`, as for PLAIN with SASL-IR).
    """

    def authenticate() -> Any:
        imap = client._imap
        answer = _OneAnswer(None, data)  # sent already: every "+" gets a cancel
        answer.challenges = 1
        imap.literal = answer.process
        typ, response = imap._simple_command(
            "AUTHENTICATE", "XOAUTH2", xoauth2_payload(user, token)
        )
        if typ != "OK":
            raise imaplib.IMAP4.error(
                response[-1].decode("utf-8", "replace") if response else "AUTHENTICATE failed"
            )
        imap.state = "AUTH"
        return response

    return authenticate


def _login_call(
    client: IMAPClient, login: str, sasl_ir: bool, user: str, password: str, data: dict[str, Any]
) -> Callable[[], Any]:
    if login == "login":
        return lambda: client.login(user, password)
    blob = f"\0{user}\0{password}".encode()

    def authenticate_plain() -> Any:
        imap = client._imap
        args: tuple[str, ...] = ("PLAIN",)
        if sasl_ir:
            args += (base64.b64encode(blob).decode(),)
            answer = _OneAnswer(None, data)  # sent already: every "+" gets a cancel
            answer.challenges = 1
        else:
            answer = _OneAnswer(blob, data)
        imap.literal = answer.process
        typ, response = imap._simple_command("AUTHENTICATE", *args)
        if typ != "OK":
            raise imaplib.IMAP4.error(
                response[-1].decode("utf-8", "replace") if response else "AUTHENTICATE failed"
            )
        imap.state = "AUTH"
        return response

    return authenticate_plain


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
