"""Servers that are not Microsoft's but are within the standards: read for what they are.

A user may point conntest at a server of their own: one that signs the connection
in with its greeting (``* PREAUTH``), one that advertises LOGINDISABLED beside
AUTH=PLAIN (RFC 3501: no LOGIN command, AUTHENTICATE still open), one that wants
a client certificate.  Real sockets and TLS on loopback; the IMAP servers are the
hostile tier's scriptable ones, the client-certificate one Python's own ``ssl``.
"""

from __future__ import annotations

import dataclasses
import socket
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import trustme

from conntest.engine import CheckRequest, run_check
from conntest.model import Report, Status
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles
from conntest.render.text_report import render_text
from tests.adversarial.conftest import USER, credentials_received
from tests.adversarial.hostile import Conn, HostileServer, dns_server, imap_session

PASSWORD = "Summer2024!x"


async def _accept_plain(conn: Conn, line: bytes) -> bool:
    """AUTHENTICATE PLAIN (or LOGIN) accepted, whatever the credential."""
    if b"AUTHENTICATE" in line.upper() and len(line.split()) < 4:
        await conn.send(b"+ \r\n")
        await conn.line()
    await conn.send(line.split()[0] + b" OK signed in\r\n")
    return True


async def _check(port: int, ca_file: Path, profile: str) -> Report:
    with dns_server("silent") as dns:
        request = CheckRequest(
            user=USER,
            password=PASSWORD,
            profiles=(load_profiles().get(profile),),
            imap_server=("127.0.0.1", port),
            smtp_server=("127.0.0.1", 9),
            resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
            ca_file=ca_file,
            timeout=5.0,
            protocols=("imap",),
        )
        return await run_check(request)


def _steps(report: Report) -> dict[str, Status]:
    return {s.name: s.status for s in report.profiles[0].steps if s.protocol == "imap"}


@pytest.mark.parametrize(
    "caps",
    [
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN ID\r\n",
        b"* CAPABILITY IMAP4rev1 ID IDLE\r\n",  # as Dovecot lists them once signed in
        b"* CAPABILITY IMAP4rev1 LOGINDISABLED ID\r\n",
    ],
    ids=["auth-plain", "no-mechanism", "logindisabled"],
)
async def test_a_preauth_greeting_reads_the_mailbox_and_sends_no_password(
    server_tls: ssl.SSLContext, hostile_ca_file: Path, caps: bytes
) -> None:
    """``* PREAUTH``: the session is signed in already.  The check used to crash here
    (imapclient asked for CAPABILITY outside the probe's I/O); now no password goes
    out, the mailbox is read, and the finding says the password was not tested;
    the capabilities of a signed-in session (no sign-in method) blame nothing."""

    async def answer_caps(conn: Conn, tag: bytes) -> None:
        await conn.send(caps + tag + b" OK done\r\n")

    async def preauth(conn: Conn) -> None:
        await imap_session(
            conn,
            _accept_plain,
            greeting=b"* PREAUTH IMAP4rev1 signed in\r\n",
            caps=answer_caps,
        )

    with HostileServer(preauth, server_tls) as imap:
        report = await _check(imap.port, hostile_ca_file, "thunderbird")
        received = imap.received()
    steps = _steps(report)
    assert steps["greeting"] is Status.PASS and steps["mailbox"] is Status.PASS
    assert steps["login"] is Status.SKIP
    assert b"AUTHENTICATE" not in received and b"LOGIN" not in received
    assert credentials_received(PASSWORD, received) == 0
    finding = report.profiles[0].findings[0]
    assert finding.code == "ok" and "PREAUTH" in finding.detail
    assert "No password was given" not in render_text(report)


async def _logindisabled_caps(conn: Conn, tag: bytes) -> None:
    await conn.send(
        b"* CAPABILITY IMAP4rev1 AUTH=PLAIN LOGINDISABLED ID\r\n" + tag + b" OK done\r\n"
    )


@pytest.mark.parametrize(
    ("profile", "code", "sent"),
    [
        ("thunderbird", "ok", 1),  # AUTHENTICATE PLAIN: still open
        ("outlook-2016", "auth-mechanism-unsupported", 0),  # the LOGIN command: disabled
    ],
)
async def test_logindisabled_beside_auth_plain_closes_only_the_login_command(
    server_tls: ssl.SSLContext, hostile_ca_file: Path, profile: str, code: str, sent: int
) -> None:
    async def server(conn: Conn) -> None:
        await imap_session(conn, _accept_plain, caps=_logindisabled_caps)

    with HostileServer(server, server_tls) as imap:
        report = await _check(imap.port, hostile_ca_file, profile)
        received = imap.received()
    findings = report.profiles[0].findings
    assert findings[0].code == code, render_text(report)
    assert "basic-auth-disabled" not in {f.code for f in findings}
    assert credentials_received(PASSWORD, received) == sent


@contextmanager
def _wants_client_certificate(ca: trustme.CA) -> Iterator[int]:
    """An implicit-TLS IMAP port whose TLS 1.3 server requires a client certificate."""
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("127.0.0.1").configure_cert(ctx)
    ca.configure_trust(ctx)
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.minimum_version = ssl.TLSVersion.TLSv1_3
    listener = socket.create_server(("127.0.0.1", 0))
    listener.settimeout(0.2)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                raw, _ = listener.accept()
            except TimeoutError:
                continue
            try:
                with ctx.wrap_socket(raw, server_side=True) as tls:
                    tls.sendall(b"* OK ready\r\n")
                    tls.recv(100)
            except OSError:  # the handshake fails: no client certificate came
                pass
            finally:
                raw.close()

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        yield listener.getsockname()[1]
    finally:
        stop.set()
        thread.join(5)
        listener.close()


async def test_a_server_that_wants_a_client_certificate_says_so(
    hostile_ca: trustme.CA, hostile_ca_file: Path
) -> None:
    """TLS 1.3's certificate_required alert is its own cause, not 'no common version'."""
    with _wants_client_certificate(hostile_ca) as port:
        report = await _check(port, hostile_ca_file, "thunderbird")
    finding = report.profiles[0].findings[0]
    assert finding.code == "tls-handshake-failed", render_text(report)
    assert "client certificate" in finding.title
    assert "no common" not in finding.detail


async def test_a_plain_text_preauth_before_starttls_is_refused(hostile_ca_file: Path) -> None:
    """On the STARTTLS port, a PREAUTH greeting in plain text is how a device on the
    way strips STARTTLS (CVE-2020-12398): no STARTTLS, no credential, not ok."""

    async def plain_preauth(conn: Conn) -> None:
        await conn.send(b"* PREAUTH signed in\r\n")
        while line := await conn.line():
            await conn.send(line.split(b" ", 1)[0] + b" OK begin TLS\r\n")

    base = load_profiles().get("thunderbird")
    starttls = dataclasses.replace(
        base, imap=dataclasses.replace(base.imap, security="starttls", port=143)
    )
    with HostileServer(plain_preauth) as imap, dns_server("silent") as dns:
        request = CheckRequest(
            user=USER,
            password=PASSWORD,
            profiles=(starttls,),
            imap_server=("127.0.0.1", imap.port),
            smtp_server=("127.0.0.1", 9),
            resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
            ca_file=hostile_ca_file,
            timeout=5.0,
            protocols=("imap",),
        )
        report = await run_check(request)
        received = imap.received()
    assert received == b""  # not even STARTTLS
    steps = _steps(report)
    assert steps["greeting"] is Status.PASS and steps["starttls"] is Status.FAIL
    codes = [f.code for f in report.profiles[0].findings]
    assert "ok" not in codes and "starttls-missing" in codes, codes
