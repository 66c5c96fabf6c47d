"""XOAUTH2 probes against small scripted servers, and the identity probe against a proxy.

A server that answers the token with an error challenge (Google's base64 JSON,
RFC 7628 §3.2.3) must get ``*`` — never the token a second time — and the
probe must still end with the server's refusal.  The identity probe meets a
"proxy" that re-signs TLS with a CA the check does not trust (a private CA
given with ``--ca-file``, a name pinned with ``--resolve``): a finding, not a
traceback.
"""

from __future__ import annotations

import asyncio
import base64
import json
import ssl
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import trustme

from conntest.diagnosis import DiagnosisContext, diagnose
from conntest.lab import Lab
from conntest.model import FailureKind, Severity, Status
from conntest.probes import tls as tlsmod
from conntest.probes.clock import RunClock
from conntest.probes.dns_probe import ResolverConfig
from conntest.probes.identity_probe import probe_identity
from conntest.probes.imap_probe import probe_imap
from conntest.probes.session import AuthGate, Credentials, Endpoint
from conntest.probes.smtp_probe import probe_smtp
from conntest.redact import Redactor, bearer_forms
from tests.conftest import make_profile
from tests.integration.test_hostile_servers import serve

TOKEN = "eyJ0eXAiOiJKV1QiLCJub25jZSI6InRlc3QtdG9rZW4tdGhhdC1tdXN0LW5ldmVyLWxlYWsifQ.payload.sig"
USER = "u@contoso.com"
CHALLENGE = base64.b64encode(b'{"status":"401","schemes":"bearer","scope":"x"}').decode()


def _tls(ca: trustme.CA, *names: str) -> ssl.SSLContext:
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert(*names).configure_cert(ctx)
    return ctx


async def test_imap_error_challenge_is_answered_with_a_cancel(
    test_ca: trustme.CA, ca_file: Path
) -> None:
    received: list[bytes] = []

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"* OK The Microsoft Exchange IMAP4 service is ready.\r\n")
        while line := await reader.readline():
            received.append(line)
            tag, _, rest = line.decode().partition(" ")
            if rest.upper().startswith("CAPABILITY"):
                writer.write(b"* CAPABILITY IMAP4rev1 AUTH=XOAUTH2 SASL-IR\r\n")
                writer.write(f"{tag} OK CAPABILITY completed.\r\n".encode())
            elif rest.upper().startswith("AUTHENTICATE"):
                writer.write(f"+ {CHALLENGE}\r\n".encode())
                await writer.drain()
                received.append(await reader.readline())
                writer.write(f"{tag} NO AUTHENTICATE failed.\r\n".encode())
            elif rest.upper().startswith("LOGOUT"):
                writer.write(f"* BYE bye\r\n{tag} OK LOGOUT completed.\r\n".encode())
                await writer.drain()
                return
            await writer.drain()

    async with serve(handler, _tls(test_ca, "outlook.office365.com")) as port:
        steps = await probe_imap(
            RunClock(10),
            make_profile(),
            Endpoint("outlook.office365.com", port, "127.0.0.1"),
            Credentials(USER, None, token=TOKEN),
            AuthGate("imap"),
            ca_file=ca_file,
        )
    login = next(s for s in steps if s.name == "login")
    assert login.status is Status.FAIL and login.failure is not None
    assert login.failure.kind is FailureKind.REJECTED
    assert login.data["mechanism"] == "XOAUTH2 (SASL-IR)"
    authenticate = [line for line in received if b"AUTHENTICATE" in line]
    assert len(authenticate) == 1 and authenticate[0].split()[2] == b"XOAUTH2"
    assert received[received.index(authenticate[0]) + 1] == b"*\r\n"
    assert sum(
        TOKEN.encode() in base64.b64decode(line.split()[-1] + b"==") for line in authenticate
    )
    assert not any(TOKEN in line for line in "\n".join(login.transcript).splitlines())


async def test_smtp_error_challenge_is_answered_with_a_cancel(
    test_ca: trustme.CA, ca_file: Path
) -> None:
    received: list[bytes] = []
    tls = _tls(test_ca, "smtp.office365.com")

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        writer.write(b"220 test Microsoft ESMTP MAIL Service ready\r\n")
        secure = False
        while line := await reader.readline():
            received.append(line)
            verb = line.split(b" ")[0].strip().upper()
            if verb == b"EHLO":
                extra = b"250 AUTH LOGIN XOAUTH2\r\n" if secure else b"250 STARTTLS\r\n"
                writer.write(b"250-test Hello\r\n" + extra)
            elif verb == b"STARTTLS":
                writer.write(b"220 2.0.0 SMTP server ready\r\n")
                await writer.drain()
                await writer.start_tls(tls)
                secure = True
                continue
            elif verb == b"AUTH":
                writer.write(f"334 {CHALLENGE}\r\n".encode())
                await writer.drain()
                received.append(await reader.readline())
                writer.write(b"535 5.7.3 Authentication unsuccessful\r\n")
            elif verb == b"QUIT":
                writer.write(b"221 2.0.0 Service closing transmission channel\r\n")
                await writer.drain()
                return
            await writer.drain()

    async with serve(handler) as port:
        steps = await probe_smtp(
            RunClock(10),
            make_profile(),
            Endpoint("smtp.office365.com", port, "127.0.0.1"),
            Credentials(USER, None, token=TOKEN),
            AuthGate("smtp"),
            ca_file=ca_file,
        )
    auth = next(s for s in steps if s.name == "auth")
    assert auth.status is Status.FAIL and auth.reply is not None and auth.reply.code == "535"
    assert auth.data["challenge"] == "answered with * (cancel)"
    sent_auth = [line for line in received if line.upper().startswith(b"AUTH")]
    assert len(sent_auth) == 1
    assert received[received.index(sent_auth[0]) + 1] == b"*\r\n"
    assert not any(TOKEN in line for line in auth.transcript)


def test_every_bearer_form_is_redacted() -> None:
    raw = f"user={USER}\x01auth=Bearer {TOKEN}\x01\x01"
    encoded = base64.b64encode(raw.encode()).decode()
    head = len(base64.b64encode(f"user={USER}\x01auth=Bearer ".encode()).rstrip(b"="))
    redact = Redactor(bearer_forms(USER, TOKEN))
    for text in (TOKEN, raw, repr(raw), encoded, encoded.rstrip("="), encoded[:90], TOKEN[:30]):
        shown = redact(f"x {text} y")
        assert TOKEN[:16] not in shown, text
        assert encoded[head : head + 16] not in shown, text


async def test_identity_probe_reports_interception_with_the_issuer(
    tmp_path: Path, ca_file: Path
) -> None:
    """The lab's identity platform seen through --ca-file of another CA: a re-signing proxy."""
    async with Lab() as lab:
        ends = lab.endpoints("ok")
        steps, address = await probe_identity(
            RunClock(10),
            ends.authority_host,
            "organizations",
            ResolverConfig(pinned=(("login.microsoftonline.com", "127.0.0.1"),)),
            ca_file,
        )
    assert address is None
    tls = next(s for s in steps if s.name == "tls")
    assert tls.failure is not None and tls.failure.kind is FailureKind.TLS_VERIFY
    assert tls.tls is not None and tls.tls.issuer and "DigiCert" in tls.tls.issuer
    assert next(s for s in steps if s.name == "discovery").status is Status.SKIP
    findings = diagnose(
        steps, make_profile(), DiagnosisContext(user=USER, password=None, oauth=True)
    )
    assert findings[0].code == "identity-unreachable"
    assert "does not trust" in findings[0].detail


async def test_identity_probe_of_a_closed_port_is_a_finding() -> None:
    steps, address = await probe_identity(
        RunClock(5),
        "https://login.microsoftonline.com:9",
        "organizations",
        ResolverConfig(pinned=(("login.microsoftonline.com", "127.0.0.1"),)),
    )
    assert address is None
    connect = next(s for s in steps if s.name == "connect")
    assert connect.failure is not None and connect.failure.kind is FailureKind.REFUSED
    findings = diagnose(
        steps, make_profile(), DiagnosisContext(user=USER, password=None, oauth=True)
    )
    assert findings[0].code == "identity-unreachable"


def _discovery_server(ca: trustme.CA) -> tuple[ThreadingHTTPServer, int]:
    """An HTTPS server for login.microsoftonline.com with a certificate of ``ca``."""
    tenant = "00000000-0000-4000-8000-000000000001"
    body = json.dumps(
        {
            "issuer": f"https://login.microsoftonline.com/{tenant}/v2.0",
            "authorization_endpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/authorize",
            "token_endpoint": f"https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token",
        }
    ).encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("login.microsoftonline.com").configure_cert(context)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, server.server_address[1]


async def test_identity_probe_names_a_trusted_intercepting_proxy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A proxy whose CA this device trusts: TLS verifies, and only the issuer tells (issue 13)."""
    proxy = trustme.CA(organization_name="Corp Inspection Proxy")
    pem = tmp_path / "proxy-ca.pem"
    proxy.cert_pem.write_to_path(str(pem))
    server, port = _discovery_server(proxy)
    pinned = ResolverConfig(pinned=(("login.microsoftonline.com", "127.0.0.1"),))
    authority = f"https://login.microsoftonline.com:{port}"
    context = DiagnosisContext(user=USER, password=None, oauth=True)
    try:
        # Installed in the system's store (here: SSL_CERT_FILE), as an inspecting proxy's CA is.
        monkeypatch.setenv("SSL_CERT_FILE", str(pem))
        monkeypatch.setenv("SSL_CERT_DIR", str(tmp_path))
        tlsmod._context.cache_clear()
        system, address = await probe_identity(RunClock(10), authority, "organizations", pinned)
        named, _ = await probe_identity(RunClock(10), authority, "organizations", pinned, pem)
    finally:
        tlsmod._context.cache_clear()
        server.shutdown()
        server.server_close()
    assert address == "127.0.0.1"  # sign-in could go on: nothing failed
    assert all(s.status is Status.PASS for s in system if s.name != "realm")
    [finding] = [f for f in diagnose(system, make_profile(), context) if f.code != "ok"]
    assert finding.code == "tls-intercepted" and finding.severity is Severity.WARNING
    assert finding.title == "The Microsoft sign-in service is inspected by Corp Inspection Proxy"
    assert "exempt login.microsoftonline.com from TLS inspection" in finding.remedy
    assert "imap" not in finding.remedy.lower()
    # The same certificate through --ca-file is the CA the user asked for, not interception.
    codes = [f.code for f in diagnose(named, make_profile(), context)]
    assert "tls-intercepted" not in codes and "tls-ca-file" in codes
