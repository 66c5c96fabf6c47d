"""The probes against servers nobody here wrote: Dovecot (IMAP) and aiosmtpd (SMTP).

If the lab and the probes shared a misunderstanding of the protocols, these
tests would catch it.
"""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import ssl
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiosmtpd.smtp import SMTP as SMTPServer
from aiosmtpd.smtp import AuthResult, LoginPassword

from conntest.model import FailureKind, Status, Step
from conntest.probes.clock import RunClock
from conntest.probes.imap_probe import probe_imap
from conntest.probes.session import AuthGate, Credentials, Endpoint
from conntest.probes.smtp_probe import probe_smtp
from tests.conftest import SECRET, assert_no_secret, make_profile
from tests.integration.real_servers import (
    DOVECOT_USER,
    Dovecot,
    SmtpRecord,
    dovecot_available,
    free_port,
)

FAIL_TEXT = "5.7.139 Authentication unsuccessful, the user credentials were incorrect."


def by_name(steps: list[Step]) -> dict[str, Step]:
    return {s.name: s for s in steps}


def all_text(steps: list[Step]) -> str:
    parts: list[str] = []
    for s in steps:
        parts += s.transcript
        parts.append(str(s.reply or ""))
        parts.append(s.failure.message if s.failure else "")
        parts.append(repr(s.data))
    return "\n".join(parts)


# --- Dovecot -----------------------------------------------------------------

needs_dovecot = pytest.mark.skipif(
    not dovecot_available() and not os.environ.get("CONNTEST_REQUIRE_DOVECOT"),
    reason="Debian's dovecot-imapd is not installed (as root); .ci/run installs it",
)


@pytest.fixture(scope="module")
def dovecot() -> Iterator[tuple[Dovecot, Path]]:
    # Not under pytest's tmp_path: its 0700 parent keeps Dovecot's unprivileged
    # auth worker from reading the users file.
    base = Path(tempfile.mkdtemp(prefix="conntest-dovecot-"))
    base.chmod(0o755)
    ca = trustme.CA()
    ca_file = base / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = Dovecot(base, free_port())
    server.start(ca, SECRET)
    try:
        yield server, ca_file
    finally:
        server.stop()
        shutil.rmtree(base, ignore_errors=True)


async def run_imap(server: Dovecot, ca_file: Path, password: str, **profile: Any) -> list[Step]:
    return await probe_imap(
        RunClock(30),
        make_profile(**profile),
        Endpoint(server.host, server.port, "127.0.0.1"),
        Credentials(DOVECOT_USER, password),
        AuthGate("imap"),
        ca_file=ca_file,
    )


@pytest.mark.dovecot
@needs_dovecot
@pytest.mark.parametrize(
    "profile",
    [
        {"imap_login": "login"},
        {"imap_login": "authenticate-plain"},
        {"imap_login": "authenticate-plain", "sasl_ir": True, "send_id": "after-login"},
        {"send_id": "before-login"},
    ],
    ids=["LOGIN", "AUTHENTICATE-PLAIN", "PLAIN-SASL-IR+ID", "ID-before+LOGIN"],
)
async def test_dovecot_successful_login_and_mailbox(
    dovecot: tuple[Dovecot, Path], profile: dict[str, Any]
) -> None:
    server, ca_file = dovecot
    steps = await run_imap(server, ca_file, SECRET, **profile)
    got = by_name(steps)
    assert [(s.name, s.failure) for s in steps if s.status is Status.FAIL] == []
    assert got["tls"].tls is not None and got["tls"].tls.verified
    assert got["tls"].tls.version in {"TLSv1.2", "TLSv1.3"}
    assert "Microsoft Exchange IMAP4 service is ready" in str(got["greeting"].reply)
    assert "IMAP4REV1" in {c.upper() for c in got["capability"].data["capabilities"]}
    assert got["login"].status is Status.PASS
    assert got["mailbox"].status is Status.PASS
    assert got["logout"].status is Status.PASS
    if profile.get("send_id", "never") != "never":
        assert got["id"].status is Status.PASS
    assert_no_secret(all_text(steps))


@pytest.mark.dovecot
@needs_dovecot
async def test_dovecot_failed_login_is_recorded_once(dovecot: tuple[Dovecot, Path]) -> None:
    server, ca_file = dovecot
    wrong = "wrong " + SECRET
    steps = await run_imap(server, ca_file, wrong)
    login = by_name(steps)["login"]
    assert login.status is Status.FAIL
    assert login.failure is not None and login.failure.kind is FailureKind.REJECTED
    assert login.reply is not None and login.reply.code == "NO"
    assert "Authentication failed" in login.reply.text
    assert by_name(steps)["mailbox"].status is Status.SKIP
    # One LOGIN on the wire, its password redacted.
    sent = [line for s in steps for line in s.transcript if line.startswith("C:")]
    assert sum(" LOGIN " in line for line in sent) == 1
    assert_no_secret(all_text(steps))
    log = (server.base / "dovecot.log").read_text()
    assert log.count("auth failed, 1 attempts") <= 1


# --- aiosmtpd ----------------------------------------------------------------


class _Handler:
    pass


@pytest.fixture
async def smtp_server(test_ca: trustme.CA) -> AsyncIterator[tuple[int, SmtpRecord]]:
    logging.getLogger("mail.log").setLevel(logging.CRITICAL)
    record = SmtpRecord()
    sctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    test_ca.issue_cert("smtp.aiosmtpd.test").configure_cert(sctx)

    def authenticator(
        server: Any, session: Any, envelope: Any, mechanism: str, data: Any
    ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        record.auth_attempts.append((mechanism, data.login.decode()))
        if data.password == SECRET.encode():
            return AuthResult(success=True)
        return AuthResult(success=False, handled=False, message=f"535 {FAIL_TEXT}")

    loop = asyncio.get_running_loop()
    srv = await loop.create_server(
        lambda: SMTPServer(
            _Handler(),
            hostname="smtp.aiosmtpd.test",
            ident="Microsoft ESMTP MAIL Service ready",
            tls_context=sctx,
            require_starttls=True,
            auth_require_tls=True,
            authenticator=authenticator,
        ),
        "127.0.0.1",
        0,
    )
    yield srv.sockets[0].getsockname()[1], record
    srv.close()


async def run_smtp(port: int, ca_file: Path, password: str, **profile: Any) -> list[Step]:
    return await probe_smtp(
        RunClock(30),
        make_profile(**profile),
        Endpoint("smtp.aiosmtpd.test", port, "127.0.0.1"),
        Credentials("user@example.com", password),
        AuthGate("smtp"),
        ca_file=ca_file,
    )


@pytest.mark.parametrize("mechanism", ["login", "plain"])
async def test_aiosmtpd_starttls_and_auth_success(
    smtp_server: tuple[int, SmtpRecord], ca_file: Path, mechanism: str
) -> None:
    port, record = smtp_server
    steps = await run_smtp(port, ca_file, SECRET, smtp_auth=mechanism)
    got = by_name(steps)
    assert [s.name for s in steps if s.status is not Status.PASS] == []
    assert "STARTTLS" in got["ehlo"].data["capabilities"]
    assert "AUTH" not in got["ehlo"].data["capabilities"], "aiosmtpd hides AUTH before TLS"
    assert got["tls"].tls is not None and got["tls"].tls.verified
    assert got["auth"].reply is not None and got["auth"].reply.code == "235"
    assert record.auth_attempts == [(mechanism.upper(), "user@example.com")]
    assert_no_secret(all_text(steps))


async def test_aiosmtpd_failed_auth_is_one_attempt(
    smtp_server: tuple[int, SmtpRecord], ca_file: Path
) -> None:
    port, record = smtp_server
    steps = await run_smtp(port, ca_file, "not the " + SECRET)
    auth = by_name(steps)["auth"]
    assert auth.status is Status.FAIL
    assert auth.reply is not None and auth.reply.code == "535"
    assert auth.reply.text == FAIL_TEXT
    assert len(record.auth_attempts) == 1, "one probe must spend exactly one attempt"
    assert by_name(steps)["quit"].status is Status.PASS
    assert_no_secret(all_text(steps))


async def test_aiosmtpd_untrusted_certificate_sends_no_credentials(
    smtp_server: tuple[int, SmtpRecord], tmp_path: Path
) -> None:
    port, record = smtp_server
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    steps = await run_smtp(port, other, SECRET)
    tls = by_name(steps)["tls"]
    assert tls.status is Status.FAIL
    assert tls.failure is not None and tls.failure.kind is FailureKind.TLS_VERIFY
    assert tls.tls is not None and tls.tls.verify_code in {19, 20}
    assert tls.tls.issuer is not None and "Testing CA" in tls.tls.issuer
    assert by_name(steps)["auth"].status is Status.SKIP
    assert record.auth_attempts == []
