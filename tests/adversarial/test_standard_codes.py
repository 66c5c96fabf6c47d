"""A real server's standard code is read by its standard meaning in a check, as in ``explain``.

A scripted IMAP server on loopback (real TLS) answers LOGIN with RFC 5530's
``NO [UNAVAILABLE]`` while SMTP accepts the same password: that is a server
with a part down, not IMAP basic authentication switched off, and never a
wrong password.  An SMTP server answering AUTH with RFC 4954's ``454 4.7.0
Temporary authentication failure`` gave no verdict on the credentials either.
"""

from __future__ import annotations

import ssl
from pathlib import Path

from conntest.engine import CheckRequest, run_check
from conntest.model import Report, Severity, Status
from conntest.probes.dns_probe import ResolverConfig
from tests.adversarial.conftest import USER
from tests.adversarial.hostile import (
    Conn,
    HostileServer,
    _smtp_credential,
    _tag,
    dns_server,
    imap_session,
    smtp_script,
)
from tests.conftest import make_profile

PASSWORD = "Tr0ub4dor&3-staple"
PROFILE = make_profile("login-client")
CREDENTIAL_VERDICTS = {"login-rejected", "wrong-credentials", "basic-auth-disabled"}


async def _check(imap: int, smtp: int, dns: int, ca_file: Path) -> Report:
    request = CheckRequest(
        user=USER,
        password=PASSWORD,
        profiles=(PROFILE,),
        imap_server=("127.0.0.1", imap),
        smtp_server=("127.0.0.1", smtp),
        resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
        ca_file=ca_file,
        timeout=5.0,
    )
    return await run_check(request)


def _smtp_answering(tls: ssl.SSLContext, answer: bytes) -> object:
    async def on_auth(conn: Conn, line: bytes) -> bool:
        await _smtp_credential(conn, line)
        await conn.send(answer)
        return True

    return smtp_script(tls, on_auth)


async def test_imap_unavailable_at_login_is_not_a_credential_verdict(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    async def unavailable(conn: Conn, line: bytes) -> bool:
        await conn.send(_tag(line) + b" NO [UNAVAILABLE] User's backend down for maintenance\r\n")
        return True

    async def imap(conn: Conn) -> None:
        await imap_session(conn, unavailable)

    accepted = _smtp_answering(server_tls, b"235 2.7.0 Authentication successful\r\n")
    with (
        HostileServer(imap, server_tls) as imap_server,
        HostileServer(accepted) as smtp_server,  # type: ignore[arg-type]
        dns_server("silent") as dns,
    ):
        report = await _check(imap_server.port, smtp_server.port, dns, hostile_ca_file)
    (profile,) = report.profiles
    login = next(s for s in profile.steps if s.protocol == "imap" and s.name == "login")
    auth = next(s for s in profile.steps if s.protocol == "smtp" and s.name == "auth")
    assert (login.status, auth.status) == (Status.FAIL, Status.PASS)
    codes = [f.code for f in profile.findings]
    assert not CREDENTIAL_VERDICTS & set(codes), codes
    imap_finding = next(f for f in profile.findings if f.protocol == "imap")
    assert imap_finding.code == "unrecognised"
    assert imap_finding.severity is Severity.CRITICAL  # the check failed at LOGIN all the same
    assert "[UNAVAILABLE] is IMAP's standard code (RFC 5530)" in imap_finding.detail
    assert "not a verdict on the password" in imap_finding.detail


async def test_smtp_temporary_authentication_failure_is_not_a_credential_verdict(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    async def imap(conn: Conn) -> None:
        await imap_session(conn)  # NO LOGIN failed.

    temporary = _smtp_answering(server_tls, b"454 4.7.0 Temporary authentication failure\r\n")
    with (
        HostileServer(imap, server_tls) as imap_server,
        HostileServer(temporary) as smtp_server,  # type: ignore[arg-type]
        dns_server("silent") as dns,
    ):
        report = await _check(imap_server.port, smtp_server.port, dns, hostile_ca_file)
    (profile,) = report.profiles
    by_protocol = {f.protocol: f for f in profile.findings if f.protocol in ("imap", "smtp")}
    smtp = by_protocol["smtp"]
    assert smtp.code == "unrecognised", [f.code for f in profile.findings]
    assert "454 4.7.0 is SMTP's standard reply (RFC 4954)" in smtp.detail
    # IMAP's bare refusal stays undecided: SMTP gave no verdict on the credentials.
    imap = by_protocol["imap"]
    assert imap.code == "login-rejected"
    assert "wrong-credentials" not in [f.code for f in profile.findings]
