"""SMTP submission with STARTTLS (587) or implicit TLS (465), driven by aiosmtplib.

Order (``smtp.security: starttls``): connect, greeting, ehlo, starttls, tls,
ehlo-tls, auth, quit.  With ``smtp.security: tls`` the handshake comes first and
there is one EHLO, on the encrypted connection: connect, tls, greeting,
ehlo-tls, auth, quit.  No mail is sent.  The profile's AUTH mechanism is sent explicitly with
``execute_command``, never through ``SMTP.login()``, which tries every
advertised mechanism in turn and so can spend two failed attempts of the
user's lockout budget on one check.  Credentials are only ever sent after a
verified TLS handshake, and once: a ``334`` after the password (or after
PLAIN's initial response) is answered with ``*`` (cancel, RFC 4954) and
recorded, never with the credential again.  aiosmtplib bounds what it reads
(8 KiB lines, 32 KiB replies); every step also ends by the run's deadline.
"""

from __future__ import annotations

import asyncio
import base64
import ssl
import time
from collections.abc import Callable
from pathlib import Path

import aiosmtplib
from aiosmtplib import SMTPResponse

from conntest.model import FailureKind, Reply, Status, Step, TLSInfo
from conntest.probes import tls as tlsmod
from conntest.probes.clock import (
    LIBRARY_FIRST_S,
    RunClock,
    StepLog,
    StepRecorder,
    skipped_step,
    within,
)
from conntest.probes.net import classify, connect_step, tcp_connect, unended_message
from conntest.probes.session import AuthGate, Credentials, Endpoint, unsafe_user
from conntest.profile import Profile
from conntest.redact import REDACTED

STEPS = ("connect", "greeting", "ehlo", "starttls", "tls", "ehlo-tls", "auth", "quit")
IMPLICIT_STEPS = ("connect", "tls", "greeting", "ehlo-tls", "auth", "quit")
"""The order with ``smtp.security: tls`` (TLS from the first byte)."""
LOCAL_HOSTNAME = "conntest.invalid"


def _reply(resp: SMTPResponse) -> Reply:
    return Reply(str(resp.code), resp.message)


def _lines(resp: SMTPResponse) -> list[str]:
    lines = resp.message.splitlines() or [""]
    out = [f"S: {resp.code}-{line}" for line in lines[:-1]]
    out.append(f"S: {resp.code} {lines[-1]}")
    return out


def _failure(exc: BaseException) -> tuple[FailureKind, str, Reply | None]:
    """aiosmtplib's exceptions, and the socket or TLS error under them, as data."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLError | ConnectionResetError | BrokenPipeError):
            kind, message, _ = classify(cause)
            return kind, message, None
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, aiosmtplib.SMTPTimeoutError | TimeoutError):
        return FailureKind.TIMEOUT, "no answer before the deadline", None
    if isinstance(exc, aiosmtplib.SMTPServerDisconnected):
        return FailureKind.CLOSED, "the server closed the connection", None
    if isinstance(exc, aiosmtplib.SMTPResponseException):
        if exc.code < 0 or (exc.code == 500 and "too long" in exc.message.lower()):
            return FailureKind.PROTOCOL, exc.message, None
        return FailureKind.REJECTED, f"{exc.code} {exc.message}", Reply(str(exc.code), exc.message)
    if isinstance(exc, aiosmtplib.SMTPException):
        return FailureKind.PROTOCOL, str(exc), None
    kind, message, _ = classify(exc)
    return kind, message, None


def _note_answer(reading: object, rec: StepRecorder, kind: FailureKind, message: str) -> str:
    """Record what was read of a failed step's answer; the failure's message to show.

    ``limit``: aiosmtplib's read limit stopped it ("Response too long": a flood);
    ``unended_bytes``: the step timed out with part of an answer read (a drip, a byte
    now and then), which aiosmtplib keeps in its protocol's buffer until the answer
    ends: a server that never finished, not one that stayed silent.  ``reading`` is the
    connection's ``smtp.protocol`` from before the command (aiosmtplib drops it on a
    timeout).
    """
    if kind is FailureKind.PROTOCOL and "too long" in message.lower():
        rec.data["limit"] = "response"
    if kind is FailureKind.TIMEOUT:
        begun = len(getattr(reading, "_buffer", b"") or b"")
        if begun:
            rec.data["unended_bytes"] = begun
            return unended_message(begun)
    return message


class _SMTP(aiosmtplib.SMTP):
    """aiosmtplib's client, keeping the protocol that :meth:`close` lets go.

    A failed ``connect()`` closes the connection, and the part of a greeting in
    the protocol's buffer went with it: ``closed_protocol`` keeps it to be read.
    """

    closed_protocol: object = None

    def close(self) -> None:
        if self.protocol is not None:
            self.closed_protocol = self.protocol
        super().close()


async def probe_smtp(
    clock: RunClock,
    profile: Profile,
    endpoint: Endpoint,
    creds: Credentials,
    gate: AuthGate,
    ca_file: Path | None = None,
    tls_max: str | None = None,
    on_step: Callable[[Step], None] | None = None,
) -> list[Step]:
    """Run the SMTP steps of ``profile``; never raises for network trouble."""
    implicit = profile.smtp.security == "tls"
    log = StepLog(clock, "smtp", IMPLICIT_STEPS if implicit else STEPS, on_step)
    steps, add, skip_rest = log.steps, log.add, log.skip_rest

    tmin, tmax = tlsmod.effective_range(profile.tls.min, profile.tls.max, tls_max)

    raw, connect_steps = await connect_step(clock, "smtp", endpoint)
    for step in connect_steps:
        add(step)
    if raw is None:
        return skip_rest("connect", "no connection")

    trust = "ca-file" if ca_file is not None else "system"
    ctx = tlsmod.client_context(tmin, tmax, ca_file)
    smtp = _SMTP(
        hostname=endpoint.host,
        sock=raw,
        start_tls=False,
        use_tls=implicit,
        tls_context=ctx if implicit else None,
        local_hostname=LOCAL_HOSTNAME,
        timeout=clock.budget("tls" if implicit else "greeting"),
    )

    async def command(
        name: str, *args: bytes, shown: str | None = None
    ) -> tuple[Step, SMTPResponse | None]:
        """One SMTP command as one step (used for the simple ones)."""
        rec = StepRecorder(clock, "smtp", name)
        if clock.remaining() <= 0:
            if name == "quit":
                return rec.skipped("the run's deadline passed"), None
            return rec.failed(
                FailureKind.TIMEOUT, "the run's deadline passed before this step"
            ), None
        rec.transcript.append("C: " + (shown if shown is not None else b" ".join(args).decode()))
        reading = smtp.protocol  # closed on a timeout: kept to see what it read
        try:
            budget = clock.budget(name)
            resp = await within(
                smtp.execute_command(*args, timeout=budget), budget + LIBRARY_FIRST_S
            )
        except Exception as exc:
            kind, message, reply = _failure(exc)
            message = _note_answer(reading, rec, kind, message)
            return rec.failed(kind, message, reply=reply), None
        rec.transcript.extend(_lines(resp))
        if resp.code >= 400:
            return rec.failed(
                FailureKind.REJECTED, f"{resp.code} {resp.message}", reply=_reply(resp)
            ), resp
        return rec.passed(_reply(resp)), resp

    async def ehlo(name: str) -> Step:
        """EHLO through aiosmtplib, so that it knows the extensions (STARTTLS needs them)."""
        rec = StepRecorder(clock, "smtp", name)
        if clock.remaining() <= 0:
            return rec.failed(FailureKind.TIMEOUT, "the run's deadline passed before this step")
        rec.transcript.append(f"C: EHLO {LOCAL_HOSTNAME}")
        budget = clock.budget(name)
        reading = smtp.protocol  # closed on a timeout: kept to see what it read
        try:
            resp = await within(smtp.ehlo(timeout=budget), budget + LIBRARY_FIRST_S)
        except Exception as exc:
            kind, message, reply = _failure(exc)
            if reply is not None:
                rec.transcript.append(f"S: {reply}")
            message = _note_answer(reading, rec, kind, message)
            return rec.failed(kind, message, reply=reply)
        rec.transcript.extend(_lines(resp))
        rec.data["capabilities"] = _ehlo_keywords(resp)
        return rec.passed(_reply(resp))

    async def finish(after: str, reason: str) -> list[Step]:
        """Skip what is left, then QUIT politely if the connection still stands."""
        order = log.order
        for name in order[order.index(after) + 1 : order.index("quit")]:
            add(skipped_step(clock, "smtp", name, reason))
        if smtp.is_connected:
            step, _ = await command("quit", b"QUIT")
            add(step)
            smtp.close()
        else:
            add(skipped_step(clock, "smtp", "quit", "the connection is closed"))
        return steps

    async def upgrade() -> list[Step] | None:
        """EHLO, STARTTLS and the handshake (``smtp.security: starttls``): the finished
        steps when the run ends there, ``None`` to go on over the encrypted connection."""
        step = await ehlo("ehlo")
        add(step)
        if step.status is not Status.PASS:
            return await finish("ehlo", "EHLO failed")

        # starttls
        rec = StepRecorder(clock, "smtp", "starttls")
        if "STARTTLS" not in step.data["capabilities"]:
            add(
                rec.failed(
                    FailureKind.NOT_OFFERED,
                    "the server did not offer STARTTLS; credentials not sent",
                    reply=step.reply,
                )
            )
            return await finish("starttls", "credentials not sent: no STARTTLS")
        rec.transcript.append("C: STARTTLS")
        tls_rec.started = time.monotonic()
        reading = smtp.protocol  # closed on a timeout: kept to see what it read
        try:
            budget = clock.budget("tls")
            resp = await within(
                smtp.starttls(tls_context=ctx, server_hostname=endpoint.host, timeout=budget),
                budget + LIBRARY_FIRST_S,
            )
        except Exception as exc:
            kind, message, reply = _failure(exc)
            if reply is not None or kind in {FailureKind.TIMEOUT, FailureKind.CLOSED}:
                # STARTTLS itself was refused or unanswered: no handshake happened.
                message = _note_answer(reading, rec, kind, message)
                add(rec.failed(kind, message, reply=reply))
                return await finish("starttls", "no TLS session")
            rec.transcript.append("S: 220 (accepted; the TLS handshake then failed)")
            add(rec.passed(Reply("220", "ready to start TLS")))
            tls_rec.started = rec.started
            verify = _verify_error(exc)
            if verify is not None:
                presented = await _smtp_presented_chain(clock, endpoint, tmin, tmax)
                tls_rec.tls = tlsmod.failed_verification_info(verify, presented)
                add(
                    tls_rec.failed(
                        FailureKind.TLS_VERIFY,
                        f"certificate verification failed: {verify.verify_message}",
                    )
                )
                smtp.close()
                return skip_rest("tls", "credentials not sent: the certificate failed verification")
            add(tls_rec.failed(kind, message))
            smtp.close()
            return skip_rest("tls", "no TLS session")
        rec.transcript.extend(_lines(resp))
        add(rec.passed(_reply(resp)))
        sslobj = smtp.get_transport_info("ssl_object")
        if sslobj is not None:
            tls_rec.tls = tlsmod.tls_info(sslobj)
        add(tls_rec.passed())
        return None

    # greeting (smtp.security: tls — the handshake first, inside connect())
    tls_rec = StepRecorder(clock, "smtp", "tls")
    tls_rec.data.update(
        host=endpoint.host, tls_min=tmin, tls_max=tmax, mode="implicit" if implicit else "starttls"
    )
    tls_rec.data["trust"] = trust
    rec = StepRecorder(clock, "smtp", "greeting")
    budget = (
        clock.budget("tls") + clock.budget("greeting") if implicit else clock.budget("greeting")
    )
    budget = min(budget, max(0.001, clock.remaining()))
    try:
        resp = await within(smtp.connect(), budget + LIBRARY_FIRST_S)
    except Exception as exc:
        if implicit and _in_handshake(exc):
            return await _implicit_tls_failed(clock, exc, tls_rec, endpoint, tmin, tmax, log)
        if implicit:
            add(tls_rec.passed())
        kind, message, reply = _failure(exc)
        if kind is FailureKind.TIMEOUT:
            # Part of a greeting that never ended is an answer begun, not silence.
            message = _note_answer(
                smtp.closed_protocol, rec, kind, "connected, but the server sent no greeting"
            )
        elif kind is FailureKind.REJECTED and reply is not None:
            message = f"the greeting is a refusal: {reply}"
        add(rec.failed(kind, message, reply=reply))
        smtp.close()
        raw.close()
        return skip_rest("greeting", "no greeting")
    if implicit:
        sslobj = smtp.get_transport_info("ssl_object")
        if sslobj is not None:
            tls_rec.tls = tlsmod.tls_info(sslobj)
        add(tls_rec.passed())
    rec.transcript.extend(_lines(resp))
    if resp.code != 220:
        add(rec.failed(FailureKind.REJECTED, f"{resp.code} {resp.message}", reply=_reply(resp)))
        return await finish("greeting", "the server refused the session")
    add(rec.passed(_reply(resp)))
    if not implicit:
        done = await upgrade()
        if done is not None:
            return done

    # ehlo after TLS (Microsoft answers 421 4.7.66 here to TLS 1.0/1.1)
    step = await ehlo("ehlo-tls")
    add(step)
    if step.status is not Status.PASS:
        return await finish("ehlo-tls", "EHLO after STARTTLS failed")

    # auth: once per protocol per run, after the credential-free account lookup
    await gate.cleared()
    rec = StepRecorder(clock, "smtp", "auth")
    mechanism = profile.smtp.auth
    rec.data["mechanism"] = mechanism.upper()
    if creds.token is not None:
        rec.data["mechanism"] = "XOAUTH2"
    if creds.password is None and creds.token is None:
        add(rec.skipped(creds.without))
        return await finish("auth", "")
    offered = step.data["capabilities"].get("AUTH", "").upper().split()
    rec.data["offered"] = offered
    user = creds.user if profile.username_form == "address" else creds.user.split("@")[0]
    unsafe = unsafe_user(user)
    if unsafe is None and creds.password is not None and "\0" in creds.password:
        unsafe = "credentials not sent: the password contains a NUL character"
    if unsafe is not None:
        add(rec.failed(FailureKind.UNSAFE, unsafe))
        return await finish("auth", "")

    if not gate.claim(profile.id):
        shared = await gate.shared_outcome(clock.remaining() + 2.0)
        if shared is None:
            add(rec.skipped("the profile that authenticated for this run gave no answer in time"))
        else:
            for s in shared:
                add(s)
        return await finish("auth", "")

    try:
        if creds.token is not None:
            auth_step = await xoauth2_authenticate(
                clock, smtp, rec, offered, creds.user, creds.token
            )
        else:
            auth_step = await _authenticate(
                clock, smtp, rec, mechanism, offered, user, creds.password or ""
            )
        add(auth_step)
    finally:
        gate.publish([s for s in steps if s.name == "auth"])
    return await finish("auth", "")


async def _authenticate(
    clock: RunClock,
    smtp: aiosmtplib.SMTP,
    rec: StepRecorder,
    mechanism: str,
    offered: list[str],
    user: str,
    password: str,
) -> Step:
    budget = clock.budget("auth")

    async def send(arg: bytes, shown: str) -> SMTPResponse:
        rec.transcript.append(f"C: {shown}")
        resp = await within(smtp.execute_command(arg, timeout=budget), budget + LIBRARY_FIRST_S)
        rec.transcript.extend(_lines(resp))
        return resp

    async def cancel_if_asked_again(resp: SMTPResponse) -> None:
        """The credential is out: a further 334 gets ``*``, never the credential again."""
        if resp.code == 334:
            rec.data["cancelled"] = (
                "the server asked for the credential again; conntest answered '*' (cancel) "
                "instead of sending it twice"
            )
            await send(b"*", "*")

    reading = smtp.protocol  # closed on a timeout: kept to see what it read
    try:
        if mechanism == "plain":
            if "PLAIN" not in offered:
                # Ask without the initial response: a server that does not
                # offer PLAIN refuses before any credential is on the wire.
                resp = await send(b"AUTH PLAIN", "AUTH PLAIN")
                if resp.code == 334:
                    await send(b"*", "*")  # cancel (RFC 4954)
                    rec.data["unadvertised"] = "PLAIN"
                    return rec.failed(
                        FailureKind.PROTOCOL, "the server did not advertise PLAIN but offered it"
                    )
            else:
                blob = base64.b64encode(f"\0{user}\0{password}".encode())
                resp = await send(b"AUTH PLAIN " + blob, f"AUTH PLAIN {REDACTED}")
                await cancel_if_asked_again(resp)
        else:
            resp = await send(b"AUTH LOGIN", "AUTH LOGIN")
            if resp.code == 334 and "LOGIN" not in offered:
                # As for PLAIN: what the server did not advertise gets no credential.
                await send(b"*", "*")  # cancel (RFC 4954)
                rec.data["unadvertised"] = "LOGIN"
                return rec.failed(
                    FailureKind.PROTOCOL, "the server did not advertise LOGIN but offered it"
                )
            if resp.code == 334:
                resp = await send(base64.b64encode(user.encode()), f"{REDACTED} (user name)")
                if resp.code == 334:
                    resp = await send(base64.b64encode(password.encode()), f"{REDACTED} (password)")
                    await cancel_if_asked_again(resp)
    except Exception as exc:
        kind, message, reply = _failure(exc)
        message = _note_answer(reading, rec, kind, message)
        if "cancelled" in rec.data:
            message = f"{rec.data['cancelled']}; then: {message}"
        return rec.failed(kind, message, reply=reply)
    if "cancelled" in rec.data:
        return rec.failed(FailureKind.PROTOCOL, rec.data["cancelled"])
    rec.data["user"] = user
    if resp.code == 235:
        return rec.passed(_reply(resp))
    return rec.failed(FailureKind.REJECTED, f"{resp.code} {resp.message}", reply=_reply(resp))


async def xoauth2_authenticate(
    clock: RunClock,
    smtp: aiosmtplib.SMTP,
    rec: StepRecorder,
    offered: list[str],
    user: str,
    token: str,
) -> Step:
    """``AUTH XOAUTH2 <initial response>`` after verified STARTTLS, sent once.

    A ``334`` challenge in answer (an error report) gets ``*``: the token is
    never sent twice on one connection.  Office 365 then answers ``535``.
    """
    budget = clock.budget("auth")
    rec.data["user"] = user
    if "XOAUTH2" not in offered:
        return rec.failed(
            FailureKind.NOT_OFFERED, "the server does not offer AUTH XOAUTH2 (token not sent)"
        )
    blob = base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode())

    async def send(arg: bytes, shown: str) -> SMTPResponse:
        rec.transcript.append(f"C: {shown}")
        resp = await within(smtp.execute_command(arg, timeout=budget), budget + LIBRARY_FIRST_S)
        rec.transcript.extend(_lines(resp))
        return resp

    reading = smtp.protocol  # closed on a timeout: kept to see what it read
    try:
        resp = await send(b"AUTH XOAUTH2 " + blob, f"AUTH XOAUTH2 {REDACTED}")
        if resp.code == 334:
            rec.data["challenge"] = "answered with * (cancel)"
            resp = await send(b"*", "*")
    except Exception as exc:
        kind, message, reply = _failure(exc)
        message = _note_answer(reading, rec, kind, message)
        return rec.failed(kind, message, reply=reply)
    if resp.code == 235:
        return rec.passed(_reply(resp))
    return rec.failed(FailureKind.REJECTED, f"{resp.code} {resp.message}", reply=_reply(resp))


def _ehlo_keywords(resp: SMTPResponse) -> dict[str, str]:
    """EHLO extension keywords (upper case) and their parameters; the first line is the greeting."""
    keywords: dict[str, str] = {}
    for line in resp.message.splitlines()[1:]:
        keyword, _, params = line.strip().partition(" ")
        if keyword:
            keywords[keyword.upper()] = params
    return keywords


def _verify_error(exc: BaseException) -> ssl.SSLCertVerificationError | None:
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return cause
        cause = cause.__cause__ or cause.__context__
    return None


async def _smtp_presented_chain(
    clock: RunClock, endpoint: Endpoint, tmin: str, tmax: str
) -> TLSInfo | None:
    """Second connection, STARTTLS without verification, to name the issuer; no credentials."""
    budget = clock.budget("tls")
    try:
        raw = await tcp_connect(endpoint.address, endpoint.port, budget)
        smtp = aiosmtplib.SMTP(
            hostname=endpoint.host,
            sock=raw,
            start_tls=False,
            local_hostname=LOCAL_HOSTNAME,
            timeout=budget,
        )
        await within(smtp.connect(), budget)
        await smtp.ehlo()
        ctx = tlsmod.client_context(tmin, tmax, verify=False)
        await smtp.starttls(tls_context=ctx, server_hostname=endpoint.host)
        sslobj = smtp.get_transport_info("ssl_object")
        info = tlsmod.tls_info(sslobj, verified=False) if sslobj is not None else None
        try:
            await smtp.quit()
        except aiosmtplib.SMTPException:
            smtp.close()
        return info
    except Exception:
        return None


def _in_handshake(exc: BaseException) -> bool:
    """Whether an implicit-TLS ``connect()`` failed in the handshake (not at the greeting)."""
    if isinstance(exc, aiosmtplib.SMTPConnectTimeoutError):
        return "waiting for server ready" not in str(exc)
    if isinstance(exc, aiosmtplib.SMTPConnectError):
        return isinstance(exc.__cause__, OSError)
    return isinstance(exc, ssl.SSLError)


async def _implicit_tls_failed(
    clock: RunClock,
    exc: BaseException,
    rec: StepRecorder,
    endpoint: Endpoint,
    tmin: str,
    tmax: str,
    log: StepLog,
) -> list[Step]:
    """Record the failed implicit-TLS handshake (naming the issuer when verification failed)."""
    verify = _verify_error(exc)
    if verify is not None:
        presented = await asyncio.to_thread(
            tlsmod.read_presented_chain,
            endpoint.address,
            endpoint.port,
            endpoint.host,
            tmin,
            tmax,
            clock.budget("tls"),
        )
        rec.tls = tlsmod.failed_verification_info(verify, presented)
        log.add(
            rec.failed(
                FailureKind.TLS_VERIFY, f"certificate verification failed: {verify.verify_message}"
            )
        )
        return log.skip_rest("tls", "credentials not sent: the certificate failed verification")
    kind, message, _ = _failure(exc)
    if kind is FailureKind.TIMEOUT:
        message = "no TLS handshake before the deadline"
    log.add(rec.failed(kind, message))
    return log.skip_rest("tls", "no TLS session")
