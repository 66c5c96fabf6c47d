"""The lab against the real client libraries, on loopback.

imapclient (in a thread), aiosmtplib and dnspython talk to the lab as a check
would, and the tests assert the verbatim Microsoft 365 texts per scenario, what
the lab recorded, the TLS 1.0 path, the fault ports, latency and shutdown.

Clients connect to 127.0.0.1 and check the certificate chain; where the host
name matters the TLS layer is given the real Microsoft name (never resolved by
the system: nothing may leave 127.0.0.0/8).
"""

from __future__ import annotations

import asyncio
import base64
import gc
import json
import logging
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import time
import warnings
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import aiosmtplib
import dns.asyncquery
import dns.asyncresolver
import dns.message
import dns.rcode
import dns.resolver
import pytest
import pytest_asyncio
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import rsa
from imapclient import IMAPClient, SocketTimeout
from imapclient.exceptions import IMAPClientError, LoginError

from conntest.lab import LAB_PASSWORD, SCENARIOS, Lab
from conntest.lab.accounts import load_accounts

# The async tests share one event loop with the module's lab (started once, about 0.2 s).
shared_loop = pytest.mark.asyncio(loop_scope="module")

IMAP_NAME = "outlook.office365.com"
SMTP_NAME = "smtp.office365.com"
WRONG = "wrongpasswordabc"
AUTH_SCENARIOS = [
    "ok",
    "wrong-password",
    "basic-auth-disabled",
    "basic-auth-retired",
    "smtp-auth-disabled-tenant",
    "smtp-auth-disabled-mailbox",
    "imap-disabled-mailbox",
    "security-defaults",
    "conditional-access",
    "locked",
    "throttled",
]
ACCOUNTS = {f"{name}@contoso.com": name for name in AUTH_SCENARIOS}
# [BACKEND 2026-08-28T19:45:50.437Z 08DF04C6D9A404E7]
TRAILER = (
    r"\[[A-Z0-9]+CA\d{4}\.[A-Za-z0-9.]+ \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z 08D[0-9A-F]{13}\]"
)


def verbatim(text: str) -> str:
    """A reply as a regular expression matching it exactly; ``[…]`` is the varying trailer."""
    return re.escape(text).replace(re.escape("[…]"), TRAILER)


def both(text: str) -> tuple[str, str]:
    """The same reply to the right and to a wrong password (a policy, not a password check)."""
    return verbatim(text), verbatim(text)


INCORRECT = verbatim(
    "535 5.7.139 Authentication unsuccessful, the user credentials were incorrect. […]"
)


# --- fixtures and helpers ------------------------------------------------------------


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def lab() -> AsyncIterator[Lab]:
    async with Lab(accounts=ACCOUNTS) as running:
        yield running


@pytest.fixture(autouse=True)
def no_tracebacks(caplog: pytest.LogCaptureFixture) -> Any:
    """No server may log an error or a traceback, whatever the client does."""
    caplog.set_level(logging.WARNING)
    yield
    gc.collect()  # "Task exception was never retrieved" is logged when the task is collected
    records = caplog.get_records("call") + caplog.get_records("teardown")
    bad = [r for r in records if r.levelno >= logging.WARNING or r.exc_info]
    assert not bad, [r.getMessage() for r in bad]


def client_context(
    lab: Lab, *, check_name: bool = True, tls_max: str | None = None
) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=str(lab.ca_file))
    context.check_hostname = check_name
    if tls_max in ("1.0", "1.1"):
        version = ssl.TLSVersion.TLSv1 if tls_max == "1.0" else ssl.TLSVersion.TLSv1_1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            context.minimum_version = context.maximum_version = version
        # OpenSSL 3 refuses to offer TLS 1.0/1.1 at the default security level.
        context.set_ciphers("DEFAULT:@SECLEVEL=0")
    return context


def imap(lab: Lab, scenario: str = "ok", *, timeout: float = 5.0, **kw: Any) -> IMAPClient:
    """imapclient to 127.0.0.1 (chain verified; the name is checked in test_certificate_names)."""
    return IMAPClient(
        "127.0.0.1",
        port=lab.endpoints(scenario).imap[1],
        ssl=True,
        ssl_context=kw.pop("ssl_context", None) or client_context(lab, check_name=False),
        timeout=SocketTimeout(connect=timeout, read=timeout),
        **kw,
    )


async def in_thread(func: Callable[[], Any]) -> Any:
    return await asyncio.to_thread(func)


async def smtp(lab: Lab, scenario: str = "ok", *, timeout: float = 5.0) -> aiosmtplib.SMTP:
    client = aiosmtplib.SMTP(
        hostname="127.0.0.1",
        port=lab.endpoints(scenario).smtp[1],
        start_tls=False,
        local_hostname="probe.local",
        timeout=timeout,
    )
    await client.connect()
    return client


async def smtp_tls(lab: Lab, scenario: str = "ok") -> aiosmtplib.SMTP:
    client = await smtp(lab, scenario)
    await client.ehlo()
    await client.starttls(tls_context=client_context(lab), server_hostname=SMTP_NAME)
    await client.ehlo()
    return client


class RawImap:
    """Line-level IMAP over TLS, for the exact bytes imapclient hides (tags, BYE order)."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader, self.writer = reader, writer
        self.greeting = ""

    @classmethod
    async def open(cls, lab: Lab, scenario: str = "ok") -> RawImap:
        reader, writer = await asyncio.open_connection(
            "127.0.0.1",
            lab.endpoints(scenario).imap[1],
            ssl=client_context(lab),
            server_hostname=IMAP_NAME,
        )
        raw = cls(reader, writer)
        raw.greeting = await raw.line()
        return raw

    async def line(self) -> str:
        data = await asyncio.wait_for(self.reader.readline(), 5)
        return data.decode().rstrip("\r\n")

    async def send(self, text: str) -> None:
        self.writer.write(text.encode() + b"\r\n")
        await self.writer.drain()

    async def command(self, tag: str, text: str) -> list[str]:
        """Send ``tag text``; every line up to and including the tagged one."""
        await self.send(f"{tag} {text}")
        lines = [await self.line()]
        while not lines[-1].startswith(f"{tag} ") and lines[-1]:
            lines.append(await self.line())
        return lines

    async def close(self) -> None:
        self.writer.close()
        try:
            await self.writer.wait_closed()
        except (ConnectionError, ssl.SSLError):
            pass


def plain(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


# --- start-up, state, scenario table -------------------------------------------------


@shared_loop
async def test_start_is_fast_and_stop_cleans_up(tmp_path: Path) -> None:
    began = time.perf_counter()
    fresh = Lab(workdir=tmp_path / "work")
    await fresh.start()
    assert fresh.startup_s is not None and fresh.startup_s < 1.0  # target < 0.5 s, CI slack
    print(f"lab start-up: {fresh.startup_s * 1000:.0f} ms")
    assert fresh.ca_file.read_text().startswith("-----BEGIN CERTIFICATE-----")
    await fresh.stop()
    assert time.perf_counter() - began < 2
    assert tmp_path.joinpath("work").exists()  # a given workdir is the caller's to remove
    owned = Lab()
    await owned.start()
    workdir = owned.ca_file.parent
    await owned.stop()
    assert not workdir.exists()


def test_scenario_table_names() -> None:
    expected = {
        *AUTH_SCENARIOS,
        "tls-legacy-rejected",
        "port-filtered",
        "port-closed",
        "silent-server",
        "connection-reset",
        "tls-intercepted",
        "tls-expired",
        "starttls-stripped",
        "dns-nxdomain",
        "dns-hijack",
    }
    assert expected <= set(SCENARIOS)
    assert all(s.summary for s in SCENARIOS.values())


@shared_loop
async def test_endpoints_and_state(lab: Lab, tmp_path: Path) -> None:
    ok = lab.endpoints("ok")
    assert ok.imap[0] == IMAP_NAME and ok.smtp[0] == SMTP_NAME
    assert ok.nameserver[0] == "127.0.0.1"
    assert ok.expected_networks == ("127.0.0.1/32",)
    assert ok.client_tls_max is None
    assert lab.endpoints("tls-legacy-rejected").client_tls_max == "1.0"
    assert lab.endpoints("wrong-password").imap == ok.imap  # auth scenarios share servers
    assert lab.endpoints("tls-intercepted").imap != ok.imap  # network ones do not
    assert lab.endpoints("dns-hijack").nameserver != ok.nameserver
    assert ok.check_args() == [
        "--imap",
        f"{IMAP_NAME}:{ok.imap[1]}",
        "--smtp",
        f"{SMTP_NAME}:{ok.smtp[1]}",
        "--nameserver",
        f"127.0.0.1:{ok.nameserver[1]}",
    ]
    with pytest.raises(ValueError, match="unknown scenario"):
        lab.endpoints("nope")

    path = tmp_path / "state" / "lab.json"
    lab.write_state(path)
    text = path.read_text()
    assert LAB_PASSWORD not in text
    state = json.loads(text)
    assert state == json.loads(json.dumps(lab.state()))
    assert state["ca_file"] == str(lab.ca_file)
    assert state["ports"]["imap"] == ok.imap[1]
    assert ok.imap_starttls is not None and ok.imap_starttls != ok.imap
    assert state["ports"]["imap-starttls"] == ok.imap_starttls[1]
    closed = lab.endpoints("port-closed")  # a scenario with listeners of its own has one too
    assert closed.imap_starttls is not None and closed.imap_starttls != ok.imap_starttls
    assert state["scenarios"]["port-closed"]["starttls_check_args"][:2] == [
        "--imap",
        f"{IMAP_NAME}:{closed.imap_starttls[1]}",
    ]
    assert ok.identity is not None and state["identity"]["port"] == ok.identity[1]
    assert set(state["scenarios"]) == set(SCENARIOS)
    locked = next(a for a in state["accounts"] if a["address"] == "locked@contoso.com")
    assert locked["scenario"] == "locked"
    assert locked["check_args"] == lab.endpoints("locked").check_args()
    assert list(path.parent.iterdir()) == [path]  # no temporary file left behind


def test_unknown_scenarios_are_rejected() -> None:
    with pytest.raises(ValueError, match="unknown scenario 'nope'"):
        Lab(default_scenario="nope")
    with pytest.raises(ValueError, match=r"a@b\.com"):
        Lab(accounts={"a@b.com": "nope"})


# --- DNS --------------------------------------------------------------------------------


def resolver(lab: Lab, scenario: str = "ok") -> dns.asyncresolver.Resolver:
    res = dns.asyncresolver.Resolver(configure=False)
    res.nameservers = ["127.0.0.1"]
    res.port = lab.endpoints(scenario).nameserver[1]
    res.lifetime = 2
    return res


@shared_loop
async def test_dns_main_view_over_udp(lab: Lab) -> None:
    res = resolver(lab)
    for name in (IMAP_NAME, SMTP_NAME):
        answer = await res.resolve(name, "A")
        assert [r.to_text() for r in answer] == ["127.0.0.1"]
    with pytest.raises(dns.resolver.NoAnswer):
        await res.resolve(IMAP_NAME, "AAAA")
    mx = await res.resolve("contoso.com", "MX")
    assert [r.to_text() for r in mx] == ["0 contoso-com.mail.protection.outlook.com."]
    mx = await res.resolve("notm365.example", "MX")
    assert [r.to_text() for r in mx] == ["0 mx.notm365.example."]
    cname = await res.resolve("autodiscover.contoso.com", "CNAME")
    assert [r.to_text() for r in cname] == ["autodiscover.outlook.com."]
    followed = await res.resolve("autodiscover.contoso.com", "A")
    assert [r.to_text() for r in followed] == ["127.0.0.1"]
    for missing in ("nothing.office365.com", "localhost"):
        with pytest.raises(dns.resolver.NXDOMAIN):
            await res.resolve(missing, "A")
    queries = lab.record.dns_queries(view="main", name=IMAP_NAME)
    assert {(q.transport, q.rdtype, q.rcode) for q in queries} >= {
        ("udp", "A", "NOERROR"),
        ("udp", "AAAA", "NOERROR"),
    }


@shared_loop
async def test_dns_over_tcp(lab: Lab) -> None:
    port = lab.endpoints("ok").nameserver[1]
    query = dns.message.make_query(SMTP_NAME, "A")
    response = await dns.asyncquery.tcp(query, "127.0.0.1", port=port, timeout=2)
    assert response.rcode() == dns.rcode.NOERROR
    assert [r.to_text() for r in response.answer[0]] == ["127.0.0.1"]
    assert any(q.transport == "tcp" for q in lab.record.dns_queries(name=SMTP_NAME))


@shared_loop
async def test_dns_views_nxdomain_and_hijack(lab: Lab) -> None:
    with pytest.raises(dns.resolver.NXDOMAIN):
        await resolver(lab, "dns-nxdomain").resolve(IMAP_NAME, "A")
    mx = await resolver(lab, "dns-nxdomain").resolve("contoso.com", "MX")  # user domains still work
    assert len(mx) == 1
    hijacked = await resolver(lab, "dns-hijack").resolve(SMTP_NAME, "A")
    assert [r.to_text() for r in hijacked] == ["127.0.0.66"]
    with pytest.raises(ConnectionRefusedError):  # nothing listens there
        await asyncio.open_connection("127.0.0.66", lab.endpoints("dns-hijack").smtp[1])


@shared_loop
async def test_dns_ignores_garbage(lab: Lab) -> None:
    port = lab.endpoints("ok").nameserver[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(b"\x00garbage", ("127.0.0.1", port))
    assert [r.to_text() for r in await resolver(lab).resolve(IMAP_NAME, "A")] == ["127.0.0.1"]


# --- IMAP ----------------------------------------------------------------------------


@shared_loop
async def test_imap_ok_session_with_imapclient(lab: Lab) -> None:
    user = "alice@contoso.com"

    def session() -> dict[str, Any]:
        client = imap(lab)
        seen = {"welcome": client.welcome, "pre": client.capabilities()}
        seen["login"] = client.login(user, LAB_PASSWORD)
        seen["post"] = client.capabilities()
        seen["id"] = client.id_({"name": "Thunderbird", "version": "115"})
        seen["namespace"] = client.namespace()
        seen["folders"] = client.list_folders()
        seen["examine"] = client.select_folder("INBOX", readonly=True)
        client.noop()
        seen["logout"] = client.logout()
        return seen

    seen = await in_thread(session)
    welcome = seen["welcome"].decode()
    prefix = "* OK The Microsoft Exchange IMAP4 service is ready. ["
    assert welcome.startswith(prefix) and welcome.endswith("]")
    backend = base64.b64decode(welcome[len(prefix) : -1]).decode("utf-16-le")
    assert re.fullmatch(r"[A-Z0-9]+CA\d{4}\.[A-Za-z0-9.]+", backend)
    assert b"AUTH=PLAIN" in seen["pre"] and b"CLIENTACCESSRULES" not in seen["pre"]
    assert b"BACKENDAUTHENTICATE" in seen["post"] and b"MOVE" in seen["post"]
    assert seen["login"] == b"LOGIN completed."
    assert seen["namespace"][0] == (("", "/"),)
    assert seen["examine"][b"EXISTS"] == 0
    assert seen["logout"] == b"Microsoft Exchange Server IMAP4 server signing off."
    (conn,) = lab.record.connections(protocol="imap", user=user)
    assert conn.listener == "imap" and conn.scenario == "ok"
    assert conn.tls_version == "TLSv1.2"
    assert [c.verb for c in conn.commands] == [
        "CAPABILITY",
        "LOGIN",
        "CAPABILITY",
        "ID",
        "NAMESPACE",
        "LIST",
        "EXAMINE",
        "NOOP",
        "LOGOUT",
    ]
    assert conn.commands[1].args == f"{user} <redacted>"
    assert conn.closed is not None


@shared_loop
async def test_imap_verbatim_lines_and_sasl(lab: Lab) -> None:
    raw = await RawImap.open(lab)
    assert raw.greeting.startswith("* OK The Microsoft Exchange IMAP4 service is ready. [")
    assert await raw.command("a1", "CAPABILITY") == [
        "* CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR UIDPLUS ID UNSELECT"
        " CHILDREN IDLE NAMESPACE LITERAL+",
        "a1 OK CAPABILITY completed.",
    ]
    # AUTHENTICATE PLAIN without SASL-IR: '+ ' continuation, then the payload.
    await raw.send("a2 AUTHENTICATE PLAIN")
    assert await raw.line() == "+ "
    await raw.send(plain("sasl@contoso.com", WRONG))
    assert await raw.line() == "a2 NO AUTHENTICATE failed."
    # With SASL-IR and the right password.
    assert await raw.command(
        "a3", f"AUTHENTICATE PLAIN {plain('sasl@contoso.com', LAB_PASSWORD)}"
    ) == ["a3 OK AUTHENTICATE completed."]
    assert await raw.command("a4", "NAMESPACE") == [
        '* NAMESPACE (("" "/")) NIL NIL',
        "a4 OK NAMESPACE completed.",
    ]
    assert await raw.command("a5", "LOGOUT") == [
        "* BYE Microsoft Exchange Server IMAP4 server signing off.",
        "a5 OK LOGOUT completed.",
    ]
    await raw.close()
    (conn,) = lab.record.connections(user="sasl@contoso.com")
    assert [a.accepted for a in conn.auth] == [False, True]
    assert ("AUTHENTICATE", "PLAIN") in conn.commands
    assert ("AUTHENTICATE", "PLAIN <redacted>") in conn.commands


@shared_loop
async def test_imap_login_with_literals(lab: Lab) -> None:
    raw = await RawImap.open(lab)
    await raw.send("b1 LOGIN {19}")  # a synchronizing literal: the server must say go on
    assert await raw.line() == "+ Ready for additional command text."
    await raw.send("literal@contoso.com {16+}")  # then a LITERAL+ one for the password
    await raw.send(WRONG)
    assert await raw.line() == "b1 NO LOGIN failed."
    await raw.send("b2 LOGIN {19+}")
    await raw.send("literal@contoso.com {16+}")
    await raw.send(LAB_PASSWORD)
    assert await raw.line() == "b2 OK LOGIN completed."
    await raw.close()
    conn = lab.record.connections(user="literal@contoso.com")[-1]
    assert conn.commands[0] == ("LOGIN", "literal@contoso.com <redacted>")


# (scenario, LOGIN reply to the right password, then the first mailbox command's lines)
IMAP_EXPECTED = {
    "ok": ("OK LOGIN completed.", None),
    "wrong-password": ("NO LOGIN failed.", None),
    "basic-auth-disabled": ("NO LOGIN failed.", None),
    "smtp-auth-disabled-tenant": ("OK LOGIN completed.", None),
    "smtp-auth-disabled-mailbox": ("OK LOGIN completed.", None),
    "imap-disabled-mailbox": (
        "OK LOGIN completed.",
        "BAD User is authenticated but not connected.",
    ),
    "security-defaults": ("NO LOGIN failed.", None),
    "conditional-access": ("NO LOGIN failed.", None),
    "locked": ("NO LOGIN failed.", None),
    "throttled": (
        "OK LOGIN completed.",
        r"NO Request is throttled\. Suggested Backoff Time: \d{6} milliseconds",
    ),
}


@shared_loop
@pytest.mark.parametrize("scenario", list(IMAP_EXPECTED))
async def test_imap_scenarios_verbatim(lab: Lab, scenario: str) -> None:
    login, mailbox = IMAP_EXPECTED[scenario]
    raw = await RawImap.open(lab)
    assert await raw.command("c1", f'LOGIN {scenario}@contoso.com "{LAB_PASSWORD}"') == [
        f"c1 {login}"
    ]
    if login.startswith("OK"):
        lines = await raw.command("c2", 'EXAMINE "INBOX"')
        if mailbox is None:
            assert lines[-1] == "c2 OK [READ-ONLY] EXAMINE completed."
        else:
            assert re.fullmatch(f"c2 {mailbox}", lines[-1])
            assert await raw.line() == "* BYE Connection closed. 14"
            assert await raw.reader.read() == b""  # and the server closes
    conn = lab.record.connections(user=f"{scenario}@contoso.com", protocol="imap")[-1]
    assert conn.scenario == scenario
    await raw.close()


@shared_loop
async def test_imap_basic_auth_retired_says_bye(lab: Lab) -> None:
    raw = await RawImap.open(lab)
    await raw.send(f'd1 LOGIN basic-auth-retired@contoso.com "{LAB_PASSWORD}"')
    assert await raw.line() == "d1 NO Basic authentication is disabled."
    assert await raw.line() == "* BYE Microsoft Exchange Server IMAP4 server signing off."
    assert await raw.reader.read() == b""
    await raw.close()


@shared_loop
async def test_imap_wrong_password_with_imapclient(lab: Lab) -> None:
    def attempt() -> tuple[str, str]:
        client = imap(lab)
        with pytest.raises(LoginError) as by_login:
            client.login("ok@contoso.com", WRONG)
        with pytest.raises(LoginError) as by_plain:
            client.plain_login("ok@contoso.com", WRONG)
        client.logout()
        return str(by_login.value), str(by_plain.value)

    by_login, by_plain = await in_thread(attempt)
    assert by_login == "b'LOGIN failed.'"
    assert by_plain == "AUTHENTICATE failed."


@shared_loop
async def test_imap_disabled_mailbox_with_imapclient(lab: Lab) -> None:
    def attempt() -> str:
        client = imap(lab)
        try:
            client.login("imap-disabled-mailbox@contoso.com", LAB_PASSWORD)
            with pytest.raises(IMAPClientError) as refused:
                client.select_folder("INBOX")
            return str(refused.value)
        finally:
            client.shutdown()

    assert "User is authenticated but not connected." in await in_thread(attempt)


# --- SMTP ----------------------------------------------------------------------------


@shared_loop
async def test_smtp_ok_session(lab: Lab) -> None:
    client = await smtp(lab)
    pre = await client.ehlo()
    lines = pre.message.splitlines()
    assert re.fullmatch(
        r"[A-Z0-9]+CA\d{4}\.outlook\.office365\.com Hello \[127\.0\.0\.1\]", lines[0]
    )
    assert lines[1:] == [
        "SIZE 157286400",
        "PIPELINING",
        "DSN",
        "ENHANCEDSTATUSCODES",
        "STARTTLS",
        "8BITMIME",
        "BINARYMIME",
        "CHUNKING",
        "SMTPUTF8",
    ]
    starttls = await client.starttls(tls_context=client_context(lab), server_hostname=SMTP_NAME)
    assert (starttls.code, starttls.message) == (220, "2.0.0 SMTP server ready")
    assert client.get_transport_info("ssl_object").version() == "TLSv1.2"
    post = await client.ehlo()
    assert post.message.splitlines()[1:] == [
        "SIZE 157286400",
        "PIPELINING",
        "DSN",
        "ENHANCEDSTATUSCODES",
        "AUTH LOGIN XOAUTH2",
        "8BITMIME",
        "BINARYMIME",
        "CHUNKING",
        "SMTPUTF8",
    ]
    ok = await client.auth_login("bob@contoso.com", LAB_PASSWORD)
    assert (ok.code, ok.message) == (235, "2.7.0 Authentication successful")
    bye = await client.quit()
    assert (bye.code, bye.message) == (221, "2.0.0 Service closing transmission channel")
    (conn,) = lab.record.connections(protocol="smtp", user="bob@contoso.com")
    assert conn.tls_version == "TLSv1.2"
    assert conn.commands[-2:] == (("AUTH", "LOGIN <redacted>"), ("QUIT", ""))


@shared_loop
async def test_smtp_greeting_verbatim(lab: Lab) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.endpoints("ok").smtp[1])
    banner = (await reader.readline()).decode().rstrip("\r\n")
    assert re.fullmatch(
        r"220 [A-Z0-9]+CA\d{4}\.outlook\.office365\.com Microsoft ESMTP MAIL Service ready at"
        r" (Mon|Tue|Wed|Thu|Fri|Sat|Sun), [1-3]?\d (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov"
        r"|Dec) \d{4} \d\d:\d\d:\d\d \+0000 \[08D[0-9A-F]{13}\]",
        banner,
    ), banner
    # AUTH LOGIN with the classic two challenges, on a raw TLS session.
    writer.write(b"EHLO probe.local\r\nSTARTTLS\r\n")
    await writer.drain()
    while not (await reader.readline()).startswith(b"250 "):
        pass
    assert await reader.readline() == b"220 2.0.0 SMTP server ready\r\n"
    await writer.start_tls(client_context(lab), server_hostname=SMTP_NAME)
    writer.write(b"AUTH LOGIN\r\n")
    assert await reader.readline() == b"334 VXNlcm5hbWU6\r\n"
    writer.write(base64.b64encode(b"raw@contoso.com") + b"\r\n")
    assert await reader.readline() == b"334 UGFzc3dvcmQ6\r\n"
    writer.write(base64.b64encode(WRONG.encode()) + b"\r\n")
    line = (await reader.readline()).decode().rstrip("\r\n")
    assert re.fullmatch(INCORRECT, line), line
    writer.close()


@shared_loop
async def test_smtp_auth_before_starttls_and_plain_are_refused(lab: Lab) -> None:
    client = await smtp(lab)
    await client.ehlo()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as early:
        await client.auth_login("early@contoso.com", LAB_PASSWORD)
    assert early.value.code == 504
    assert re.fullmatch("5.7.4 Unrecognized authentication type " + TRAILER, early.value.message)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as no_tls:
        await client.sendmail("early@contoso.com", ["x@contoso.com"], "hi")
    assert no_tls.value.code == 451
    assert re.fullmatch("5.7.3 STARTTLS is required to send mail " + TRAILER, no_tls.value.message)
    await client.starttls(tls_context=client_context(lab), server_hostname=SMTP_NAME)
    await client.ehlo()
    with pytest.raises(aiosmtplib.SMTPAuthenticationError) as by_plain:
        await client.auth_plain("early@contoso.com", LAB_PASSWORD)
    assert by_plain.value.code == 504
    await client.quit()
    (conn,) = lab.record.connections(protocol="smtp", listener="smtp", user="early@contoso.com")
    assert [(a.mechanism, a.in_clear, a.credential_received) for a in conn.auth] == [
        ("LOGIN", True, False),  # refused before the password was asked for
        ("PLAIN", False, True),  # PLAIN's initial response carries the password
    ]


# (reply to the right password, reply to a wrong one); None: 235 success
SMTP_EXPECTED: dict[str, tuple[str | None, str]] = {
    "ok": (None, INCORRECT),
    "wrong-password": (INCORRECT, INCORRECT),
    "basic-auth-disabled": both(
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled. […]"
    ),
    "basic-auth-retired": both(
        "550 5.7.30 Basic authentication is not supported for Client Submission."
    ),
    "smtp-auth-disabled-tenant": both(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the"
        " Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. […]"
    ),
    "smtp-auth-disabled-mailbox": both(
        "535 5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the"
        " Mailbox."
    ),
    "imap-disabled-mailbox": (None, INCORRECT),
    "security-defaults": both(
        "535 5.7.139 Authentication unsuccessful, user is locked by your organization's"
        " security defaults policy. Contact your administrator."
    ),
    "conditional-access": (
        verbatim(
            "535 5.7.139 Authentication unsuccessful, the request did not meet the criteria to"
            " be authenticated successfully. Contact your administrator."
        ),
        INCORRECT,
    ),
    "locked": both(
        "535 5.7.139 Authentication unsuccessful, account locked. Contact your administrator. […]"
    ),
    "throttled": (None, INCORRECT),
}


@shared_loop
@pytest.mark.parametrize("scenario", list(SMTP_EXPECTED))
async def test_smtp_scenarios_verbatim(lab: Lab, scenario: str) -> None:
    right, wrong = SMTP_EXPECTED[scenario]
    user = f"{scenario}@contoso.com"
    client = await smtp_tls(lab)
    for password, expected in ((WRONG, wrong), (LAB_PASSWORD, right)):
        if expected is None:
            assert (await client.auth_login(user, password)).code == 235
            continue
        with pytest.raises(aiosmtplib.SMTPAuthenticationError) as refused:
            await client.auth_login(user, password)
        reply = f"{refused.value.code} {refused.value.message}"
        assert re.fullmatch(expected, reply), reply
    await client.quit()
    conn = lab.record.connections(protocol="smtp", user=user)[-1]
    assert conn.scenario == scenario
    assert len(conn.auth) == 2


@shared_loop
async def test_smtp_mail_after_failed_auth_quotes_the_error(lab: Lab) -> None:
    client = await smtp_tls(lab)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_login("locked@contoso.com", LAB_PASSWORD)
    with pytest.raises(aiosmtplib.SMTPSenderRefused) as refused:
        await client.sendmail("locked@contoso.com", ["x@contoso.com"], "hi")
    assert refused.value.code == 530
    assert re.fullmatch(
        re.escape(
            "5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication"
            " unsuccessful, account locked. Contact your administrator. "
        )
        + TRAILER,
        refused.value.message,
    )
    await client.quit()


@shared_loop
async def test_smtp_send_after_auth(lab: Lab) -> None:
    client = await smtp_tls(lab)
    await client.auth_login("sender@contoso.com", LAB_PASSWORD)
    errors, reply = await client.sendmail(
        "sender@contoso.com", ["x@contoso.com"], "Subject: t\r\n\r\nhi"
    )
    assert errors == {} and reply.startswith("2.6.0")
    await client.quit()


# --- TLS -------------------------------------------------------------------------------


@shared_loop
async def test_certificate_names_and_issuer(lab: Lab) -> None:
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", lab.endpoints("ok").imap[1], ssl=client_context(lab), server_hostname=IMAP_NAME
    )
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    cert = x509.load_der_x509_certificate(der)
    sans = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert set(sans.get_values_for_type(x509.DNSName)) == {
        "outlook.office365.com",
        "smtp.office365.com",
        "*.office365.com",
    }
    assert "CN=outlook.office365.com" in cert.subject.rfc4514_string()
    assert "O=DigiCert Inc" in cert.issuer.rfc4514_string()
    assert isinstance(cert.public_key(), rsa.RSAPublicKey)
    # The SMTP name is on the same certificate and is checked by STARTTLS in other tests.


@shared_loop
@pytest.mark.parametrize(("tls_max", "negotiated"), [("1.0", "TLSv1"), ("1.1", "TLSv1.1")])
async def test_tls_legacy_rejected_smtp_421_after_old_handshake(
    lab: Lab, tls_max: str, negotiated: str
) -> None:
    """A client capped at TLS 1.0/1.1 completes STARTTLS, then gets 421 4.7.66 (OpenSSL 3.0)."""
    lab.record.clear()
    assert lab.endpoints("tls-legacy-rejected").client_tls_max == "1.0"
    client = await smtp(lab, "tls-legacy-rejected")
    await client.ehlo()
    context = client_context(lab, tls_max=tls_max)
    await client.starttls(tls_context=context, server_hostname=SMTP_NAME)
    assert client.get_transport_info("ssl_object").version() == negotiated
    with pytest.raises(aiosmtplib.SMTPHeloError) as refused:
        await client.ehlo()
    assert refused.value.code == 421
    assert refused.value.message == (
        "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support"
        " TLS 1.2. Visit https://aka.ms/smtp_auth_tls"
    )
    (conn,) = lab.record.connections(listener="tls-legacy-rejected/smtp")
    assert conn.tls_version == negotiated
    assert conn.scenario == "tls-legacy-rejected"
    assert [c.verb for c in conn.commands] == ["EHLO", "STARTTLS", "EHLO"]


@shared_loop
async def test_tls_legacy_rejected_imap_handshake_fails(lab: Lab) -> None:
    """IMAP accepts TLS 1.2 only; an older client gets the protocol_version alert, not an EOF."""
    lab.record.clear()
    context = client_context(lab, check_name=False, tls_max="1.0")
    with pytest.raises(ssl.SSLError, match="TLSV1_ALERT_PROTOCOL_VERSION"):
        await in_thread(lambda: imap(lab, "tls-legacy-rejected", ssl_context=context))
    # The shared IMAP server refuses TLS 1.0 and 1.1 too, and no server offers TLS 1.3.
    context = client_context(lab, check_name=False, tls_max="1.1")
    with pytest.raises(ssl.SSLError, match="TLSV1_ALERT_PROTOCOL_VERSION"):
        await in_thread(lambda: imap(lab, "ok", ssl_context=context))
    modern = client_context(lab)
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", lab.endpoints("ok").imap[1], ssl=modern, server_hostname=IMAP_NAME
    )
    assert writer.get_extra_info("ssl_object").version() == "TLSv1.2"
    writer.close()
    (conn,) = lab.record.connections(listener="tls-legacy-rejected/imap")
    assert conn.tls_version is None and conn.commands == ()


@shared_loop
async def test_tls10_client_needs_seclevel_0_on_openssl3(lab: Lab) -> None:
    """Documents the quirk: capped at TLS 1.0 with default ciphers, OpenSSL 3 offers nothing."""
    context = client_context(lab)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        context.minimum_version = context.maximum_version = ssl.TLSVersion.TLSv1
    client = await smtp(lab, "tls-legacy-rejected")
    await client.ehlo()
    with pytest.raises(ssl.SSLError, match="NO_CIPHERS_AVAILABLE"):
        await client.starttls(tls_context=context, server_hostname=SMTP_NAME)
    client.close()


@shared_loop
async def test_tls_intercepted(lab: Lab) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="unable to get local issuer"):
        await in_thread(lambda: imap(lab, "tls-intercepted"))
    client = await smtp(lab, "tls-intercepted")
    assert "STARTTLS" in (await client.ehlo()).message  # the plaintext part is normal
    with pytest.raises(ssl.SSLCertVerificationError):
        await client.starttls(tls_context=client_context(lab), server_hostname=SMTP_NAME)
    client.close()
    # Who intercepted: look without verifying.
    blind = ssl.create_default_context()
    blind.check_hostname = False
    blind.verify_mode = ssl.CERT_NONE
    _reader, writer = await asyncio.open_connection(
        "127.0.0.1", lab.endpoints("tls-intercepted").imap[1], ssl=blind
    )
    der = writer.get_extra_info("ssl_object").getpeercert(binary_form=True)
    writer.close()
    issuer = x509.load_der_x509_certificate(der).issuer.rfc4514_string()
    assert "O=Corp Interception Proxy" in issuer
    assert lab.record.credentials_received(listener="tls-intercepted/imap") == 0
    assert lab.record.credentials_received(listener="tls-intercepted/smtp") == 0
    assert len(lab.record.connections(listener="tls-intercepted/smtp")) >= 1


@shared_loop
async def test_tls_expired(lab: Lab) -> None:
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        await in_thread(lambda: imap(lab, "tls-expired"))
    client = await smtp(lab, "tls-expired")
    await client.ehlo()
    with pytest.raises(ssl.SSLCertVerificationError, match="certificate has expired"):
        await client.starttls(tls_context=client_context(lab), server_hostname=SMTP_NAME)
    client.close()


@shared_loop
async def test_starttls_stripped(lab: Lab) -> None:
    client = await smtp(lab, "starttls-stripped")
    ehlo = await client.ehlo()
    assert "STARTTLS" not in ehlo.message and "AUTH" not in ehlo.message
    reply = await client.execute_command(b"STARTTLS")
    assert reply.code == 500
    assert re.fullmatch("5.3.3 Unrecognized command 'STARTTLS' " + TRAILER, reply.message)
    await client.quit()

    def greeting() -> bytes:
        client = imap(lab, "starttls-stripped")
        client.logout()
        return bytes(client.welcome)

    welcome = await in_thread(greeting)
    assert welcome.startswith(b"* OK The Microsoft Exchange IMAP4 service is ready.")


# --- faults ------------------------------------------------------------------------------


@shared_loop
async def test_port_closed_is_refused(lab: Lab) -> None:
    ends = lab.endpoints("port-closed")
    for port in (ends.imap[1], ends.smtp[1]):
        began = time.perf_counter()
        with pytest.raises(ConnectionRefusedError):
            await asyncio.open_connection("127.0.0.1", port)
        assert time.perf_counter() - began < 0.5
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await smtp(lab, "port-closed")


@shared_loop
async def test_port_filtered_times_out(lab: Lab) -> None:
    ends = lab.endpoints("port-filtered")

    def connect_imap() -> float:
        began = time.perf_counter()
        with pytest.raises(TimeoutError):
            imap(lab, "port-filtered", timeout=0.5)
        return time.perf_counter() - began

    async def connect_smtp() -> float:
        began = time.perf_counter()
        with pytest.raises(aiosmtplib.SMTPConnectTimeoutError):
            await smtp(lab, "port-filtered", timeout=0.5)
        return time.perf_counter() - began

    imap_s, smtp_s = await asyncio.gather(in_thread(connect_imap), connect_smtp())
    assert 0.45 < imap_s < 1.0 and 0.45 < smtp_s < 1.0
    assert ends.imap[1] != ends.smtp[1]


@shared_loop
async def test_silent_server(lab: Lab) -> None:
    def connect_imap() -> None:
        with pytest.raises(TimeoutError, match="handshake"):
            imap(lab, "silent-server", timeout=0.4)

    async def connect_smtp() -> None:
        with pytest.raises(aiosmtplib.SMTPConnectTimeoutError, match="server ready"):
            await smtp(lab, "silent-server", timeout=0.4)

    await asyncio.gather(in_thread(connect_imap), connect_smtp())
    assert {c.protocol for c in lab.record.connections(scenario="silent-server")} == {
        "imap",
        "smtp",
    }


@shared_loop
async def test_connection_reset(lab: Lab) -> None:
    with pytest.raises(ConnectionResetError):
        await in_thread(lambda: imap(lab, "connection-reset"))
    client = await smtp(lab, "connection-reset")  # the greeting arrives …
    with pytest.raises(aiosmtplib.SMTPServerDisconnected):
        await client.ehlo()  # … and the EHLO is answered with an RST


# --- record ------------------------------------------------------------------------------


@shared_loop
async def test_record_never_stores_credentials(lab: Lab) -> None:
    secret = "sekretpasswordzz"
    client = await smtp_tls(lab)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_login("rec@contoso.com", secret)
    with pytest.raises(aiosmtplib.SMTPAuthenticationError):
        await client.auth_plain("rec@contoso.com", secret)
    await client.quit()

    def imap_attempts() -> None:
        c = imap(lab)
        with pytest.raises(LoginError):
            c.login("rec@contoso.com", secret)
        with pytest.raises(LoginError):
            c.plain_login("rec@contoso.com", secret)
        c.logout()

    await in_thread(imap_attempts)
    # A client out of step: AUTH LOGIN refused (no TLS) but user and password sent anyway.
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.endpoints("ok").smtp[1])
    await reader.readline()
    user64, secret64 = (base64.b64encode(v.encode()) for v in ("rec@contoso.com", secret))
    writer.write(b"EHLO probe.local\r\nAUTH LOGIN " + user64 + b"\r\n" + secret64 + b"\r\nQUIT\r\n")
    await reader.read()
    writer.close()
    (stray,) = [c for c in lab.record.connections(user="rec@contoso.com") if not c.tls_version]
    assert stray.commands[-2:] == (("<unknown>", ""), ("QUIT", ""))
    dump = repr(lab.record.connections(user="rec@contoso.com"))
    forms = [
        secret,
        base64.b64encode(secret.encode()).decode(),
        plain("rec@contoso.com", secret),
    ]
    assert not [form for form in forms if form in dump]
    assert lab.record.auth_attempts(user="rec@contoso.com") == 5
    assert lab.record.auth_attempts(protocol="imap", user="rec@contoso.com") == 2
    assert lab.record.credentials_received(protocol="smtp", in_clear=False) >= 2


@shared_loop
async def test_record_clear(lab: Lab) -> None:
    record = Lab().record
    assert record.connections() == [] and record.auth_attempts() == 0
    await in_thread(lambda: imap(lab).logout())
    assert lab.record.connections()
    lab.record.clear()
    assert lab.record.connections() == [] and lab.record.dns_queries() == []


# --- robustness, latency, stop -----------------------------------------------------------


@shared_loop
async def test_garbage_long_lines_and_disconnects_do_not_hurt(lab: Lab) -> None:
    raw = await RawImap.open(lab)
    assert await raw.command("g1", "FROBNICATE") == ["g1 BAD Unknown command."]
    await raw.send("")
    assert await raw.line() == "* BAD Unknown command."
    await raw.send("x" * 9000)
    assert await raw.line() == "* BAD Line too long."
    assert await raw.reader.read() == b""
    await raw.close()
    # Disconnect in the middle of AUTHENTICATE and of AUTH LOGIN.
    raw = await RawImap.open(lab)
    await raw.send("g2 AUTHENTICATE PLAIN")
    assert await raw.line() == "+ "
    await raw.close()
    client = await smtp_tls(lab)
    await client.execute_command(b"AUTH", b"LOGIN")
    client.close()
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.endpoints("ok").smtp[1])
    await reader.readline()
    writer.write(b"\xff\xfe garbage \x00\r\n" + b"A" * 9000 + b"\r\n")
    lines = (await reader.read()).decode("utf-8", "replace").splitlines()
    assert lines[0].startswith("500 5.3.3 Unrecognized command")
    assert lines[-1] == "500 5.5.2 Line too long"
    writer.close()
    # TLS garbage on the IMAP port.
    reader, writer = await asyncio.open_connection("127.0.0.1", lab.endpoints("ok").imap[1])
    writer.write(b"GET / HTTP/1.0\r\n\r\n")
    assert await reader.read() == b""
    writer.close()
    await asyncio.sleep(0.05)
    # Still serving.
    assert (await in_thread(lambda: imap(lab).logout())).startswith(b"Microsoft Exchange")


@shared_loop
async def test_latency_delays_every_write() -> None:
    async with Lab(latency_ms=150) as slow:
        began = time.perf_counter()
        client = await smtp(slow)
        greeted = time.perf_counter() - began
        await client.ehlo()
        replied = time.perf_counter() - began - greeted
        client.close()
        res = resolver(slow)
        began = time.perf_counter()
        await res.resolve(IMAP_NAME, "A")
        answered = time.perf_counter() - began
        response = await dns.asyncquery.tcp(
            dns.message.make_query(IMAP_NAME, "A"),
            "127.0.0.1",
            port=slow.endpoints("ok").nameserver[1],
            timeout=2,
        )
        assert response.answer
    assert greeted >= 0.15 and replied >= 0.15 and answered >= 0.15


@shared_loop
async def test_auth_failure_delay_is_opt_in() -> None:
    async with Lab(auth_failure_delay_s=0.3) as tarpit:
        client = await smtp_tls(tarpit)
        began = time.perf_counter()
        with pytest.raises(aiosmtplib.SMTPAuthenticationError):
            await client.auth_login("slow@contoso.com", WRONG)
        assert time.perf_counter() - began >= 0.3
        began = time.perf_counter()
        await client.auth_login("slow@contoso.com", LAB_PASSWORD)
        assert time.perf_counter() - began < 0.3
        client.close()


@shared_loop
async def test_stop_closes_open_connections_quickly() -> None:
    busy = Lab()
    await busy.start()
    silent_reader, silent_writer = await asyncio.open_connection(
        "127.0.0.1", busy.endpoints("silent-server").imap[1]
    )
    # A client that connected to IMAP but has not sent its ClientHello yet.
    mute_reader, mute_writer = await asyncio.open_connection(
        "127.0.0.1", busy.endpoints("ok").imap[1]
    )
    raw = await RawImap.open(busy)
    client = await smtp_tls(busy)
    await client.execute_command(b"AUTH", b"LOGIN")  # left waiting for the user name
    await asyncio.sleep(0.05)
    began = time.perf_counter()
    await busy.stop()
    assert time.perf_counter() - began < 1.0
    assert await asyncio.wait_for(silent_reader.read(), 1) == b""
    assert await asyncio.wait_for(raw.reader.read(), 1) == b""
    assert await asyncio.wait_for(mute_reader.read(), 1) == b""
    silent_writer.close()
    mute_writer.close()
    await raw.close()
    client.close()


# --- accounts file and the long-running form ---------------------------------------------


def test_accounts_file(tmp_path: Path) -> None:
    good = tmp_path / "accounts.yaml"
    good.write_text(
        "accounts:\n"
        "  - {address: Alice@Contoso.com, scenario: ok}\n"
        "  - {address: bob@contoso.com, scenario: locked}\n"
    )
    assert load_accounts(good) == {"alice@contoso.com": "ok", "bob@contoso.com": "locked"}
    cases = [
        (
            "accounts: [{address: a@contoso.com, scenario: nope}]",
            r"accounts\[0\]\.scenario: expected a scenario among ok,.*found 'nope' \(line 1\)",
        ),
        (
            "accounts: [{address: not-an-address, scenario: ok}]",
            r"accounts\[0\]\.address: expected",
        ),
        ("accounts: [{address: a@contoso.com}]", r"accounts\[0\]\.scenario: expected a value"),
        ("accounts: [a@contoso.com]", r"accounts\[0\]: expected a mapping"),
        ("users: []", "expected a mapping with an 'accounts' list"),
        (
            "accounts: [{address: a@x.com, scenario: ok}, {address: A@x.com, scenario: ok}]",
            r"accounts\[1\]\.address: expected each address once",
        ),
        ("accounts: [", "expected valid YAML"),
        ("accounts: [{<<: {address: a@x.com}, scenario: ok}]", "no merge keys"),
        ("accounts: !!python/object:os.system [{address: a@x.com}]", "found the tag"),
    ]
    for text, message in cases:
        bad = tmp_path / "bad.yaml"
        bad.write_text(text)
        with pytest.raises(ValueError, match=message):
            load_accounts(bad)


def test_run_lab_until_sigterm(tmp_path: Path) -> None:
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text("accounts:\n  - {address: carol@contoso.com, scenario: locked}\n")
    state = tmp_path / "lab.json"
    code = (
        "import sys; from pathlib import Path; from conntest.lab import run_lab;"
        f" sys.exit(run_lab(Path({str(accounts)!r}), 'ok', Path({str(state)!r}), 0.0))"
    )
    process = subprocess.Popen(
        [sys.executable, "-c", code],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        deadline = time.monotonic() + 10
        while not state.exists():
            assert process.poll() is None, process.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        data = json.loads(state.read_text())
        assert data["accounts"][0]["address"] == "carol@contoso.com"
        assert data["accounts"][0]["scenario"] == "locked"
        assert Path(data["ca_file"]).exists()
    finally:
        os.kill(process.pid, signal.SIGTERM)
        out, err = process.communicate(timeout=5)
    assert process.returncode == 0, err
    assert LAB_PASSWORD in out  # the summary tells the user the password …
    assert "conntest check --user carol@contoso.com --ca-file" in out
    assert "Traceback" not in err
    assert not state.exists()  # … and the state file goes away with the lab


def test_accounts_file_reports_every_bad_entry(tmp_path: Path) -> None:
    """A hand-edited file gets every problem at once, each with its line."""
    bad = tmp_path / "accounts.yaml"
    bad.write_text(
        "accounts:\n"
        "  - {address: a@contoso.com, scenario: nope}\n"
        "  - {address: b@contoso.com, scenario: ok}\n"
        "  - {address: 'c\\r\\nX DELETE', scenario: ok}\n"
        "  - {address: d@contoso.com, scenario: okk, colour: blue}\n"
    )
    with pytest.raises(ValueError) as caught:
        load_accounts(bad)
    lines = [str(p) for p in caught.value.problems]  # type: ignore[attr-defined]
    assert [line.split(": ")[1] for line in lines] == [
        "accounts[0].scenario",
        "accounts[2].address",
        "accounts[3].colour",
        "accounts[3].scenario",
    ]
    assert all(line.startswith(f"{bad}: ") for line in lines)
    assert "(line 2)" in lines[0] and "(line 5)" in lines[3]
    assert "did you mean 'ok'?" in lines[3]
