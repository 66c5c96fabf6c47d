"""Every hostile script ends as a diagnosis: in time, the credential sent at most once, no leak.

The engine runs in-process against :mod:`tests.adversarial.hostile` (real
TLS on loopback), with two profiles (IMAP LOGIN and AUTHENTICATE PLAIN, SMTP
AUTH LOGIN and PLAIN) so that both credential paths meet each script.  Each
report is then rendered the ways a person sees it: text ``--verbose``, JSON,
the TUI's transcript tab and verdict texts, and its saved report (Markdown,
JSON and the clipboard text).  None may hold any form of the password.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import dataclasses
import socket
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from conntest.engine import CheckRequest, run_check
from conntest.model import Report, Severity, Status
from conntest.probes.dns_probe import ResolverConfig
from conntest.render.json_report import render_json
from conntest.render.markdown_report import render_markdown
from conntest.render.text_report import render_text
from conntest.tui import outcome
from conntest.tui.report_export import save_report
from tests.adversarial.conftest import USER, credentials_received, leaked_forms
from tests.adversarial.hostile import (
    IMAP_SCRIPTS,
    SLOW_IMAP_SCRIPTS,
    SLOW_SMTP_SCRIPTS,
    SMTP_SCRIPTS,
    Action,
    Conn,
    HostileServer,
    dns_server,
    generated,
    half_greeting,
    smtp_script,
)
from tests.conftest import make_profile

# Quotes, a backslash, spaces and a brace: every escaping layer has work to do.
PASSWORD = 'Qx "quoted\\ pass{1}" Zy'
TIMEOUT = 3.0
PROFILES = (
    make_profile("login-client"),
    make_profile("plain-client", imap_login="authenticate-plain", smtp_auth="plain"),
)
NAMES = {p.id: p.name for p in PROFILES}

# A flood, an oversized literal or line, or bytes that are not text after a well-formed
# greeting: the server broke the protocol (issue 8), it is not "the wrong protocol".
GARBLED_IMAP = {
    "flood-capability",
    "flood-after-login",
    "huge-literal",
    "endless-line",
    "invalid-utf8-capability",
    "echo-garbage",
    "flood-bad",
}
GARBLED_SMTP = {"flood"}


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    yield port


@dataclass
class Outcome:
    report: Report
    seconds: float
    received: bytes


async def check(
    imap: int,
    smtp: int,
    dns: int,
    ca_file: Path,
    password: str,
    profiles: int = 2,
    timeout: float = TIMEOUT,
) -> Report:
    request = CheckRequest(
        user=USER,
        password=password,
        profiles=PROFILES[-profiles:],
        imap_server=("127.0.0.1", imap),
        smtp_server=("127.0.0.1", smtp),
        resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
        ca_file=ca_file,
        timeout=timeout,
    )
    return await run_check(request)


def everything_shown(report: Report, tmp: Path) -> dict[str, str]:
    """Each text a person can see or save of ``report``, by where it is shown."""
    saved = save_report(
        report,
        redact=_no_redaction(),
        names=NAMES,
        directory=tmp / "saved",
    )
    return {
        "text -v": render_text(report, verbose=True),
        "json": render_json(report),
        "markdown": render_markdown(report, NAMES),
        "tui transcript": "\n".join(outcome.transcript_lines(report, NAMES)),
        "tui verdict": repr(outcome.banner(report, NAMES))
        + repr(outcome.client_outcomes(report, NAMES)),
        "tui saved markdown": saved.markdown_path.read_text(encoding="utf-8"),
        "tui saved json": saved.json_path.read_text(encoding="utf-8"),
        "tui clipboard": saved.clipboard_text,
    }


def _no_redaction() -> object:
    """The TUI redacts its exports once more; here they must be clean without that."""
    from conntest.redact import Redactor

    return Redactor()


def assert_sound(
    report: Report,
    seconds: float,
    received: bytes,
    tmp: Path,
    hung: float = TIMEOUT + 3.0,
    timeout: float = TIMEOUT,
) -> None:
    # a diagnosis, not a crash of conntest's own
    for result in report.profiles:
        assert result.findings, result.profile
        codes = {f.code for f in result.findings}
        assert "internal-error" not in codes, (result.profile, codes)
        assert all(s.failure is None or s.failure.kind != "internal" for s in result.steps)
    # within the deadline (+1 s) on the run's own clock, whatever the server does; the
    # wall time around it only proves nothing hung (a loaded machine adds to it)
    assert report.elapsed_ms < (timeout + 1.0) * 1000, report.elapsed_ms
    assert seconds < hung, seconds
    # the credential at most once per protocol, across both profiles
    assert credentials_received(PASSWORD, received) <= 2, received[-400:]
    # no form of the password anywhere a person can see it
    for where, text in everything_shown(report, tmp).items():
        assert not leaked_forms(PASSWORD, text), (where, leaked_forms(PASSWORD, text))


@pytest.mark.parametrize("name", sorted(IMAP_SCRIPTS))
async def test_imap_script(
    name: str, server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    with (
        HostileServer(IMAP_SCRIPTS[name], server_tls) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        start = time.monotonic()
        report = await check(imap.port, smtp, dns, hostile_ca_file, PASSWORD)
        seconds = time.monotonic() - start
        received = imap.received()
    assert_sound(report, seconds, received, tmp_path)
    assert credentials_received(PASSWORD, received) <= 1
    imap_steps = [s for p in report.profiles for s in p.steps if s.protocol == "imap"]
    assert any(s.status is Status.FAIL for s in imap_steps), name
    if name in GARBLED_IMAP:
        for result in report.profiles:
            codes = [f.code for f in result.findings]
            assert "server-garbled" in codes and "wrong-protocol" not in codes, codes


@pytest.mark.parametrize("name", sorted(SMTP_SCRIPTS))
async def test_smtp_script(
    name: str, server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    with (
        HostileServer(SMTP_SCRIPTS[name](server_tls)) as smtp,
        closed_port() as imap,
        dns_server("silent") as dns,
    ):
        start = time.monotonic()
        report = await check(imap, smtp.port, dns, hostile_ca_file, PASSWORD)
        seconds = time.monotonic() - start
        received = smtp.received()
    assert_sound(report, seconds, received, tmp_path)
    assert credentials_received(PASSWORD, received) <= 1
    smtp_steps = [s for p in report.profiles for s in p.steps if s.protocol == "smtp"]
    assert any(s.status is Status.FAIL for s in smtp_steps), name
    if name in GARBLED_SMTP:
        codes = [f.code for f in report.profiles[0].findings]
        assert "server-garbled" in codes and "wrong-protocol" not in codes, codes


async def test_answers_that_never_end_are_cut_at_the_deadline_and_not_called_silence(
    server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    # A drip of lines, or a byte every 0.3 s, dodges every read limit and the socket
    # timeout: only the run's deadline ends it; so does half a greeting that never ends.
    # Side by side, all six take one --timeout.
    cases = [("imap", name, script) for name, script in sorted(SLOW_IMAP_SCRIPTS.items())] + [
        ("smtp", name, make(server_tls)) for name, make in sorted(SLOW_SMTP_SCRIPTS.items())
    ]
    with contextlib.ExitStack() as stack:
        dns = stack.enter_context(dns_server("silent"))
        # IMAP on implicit TLS; SMTP starts in plain text (its script does STARTTLS)
        servers = [
            stack.enter_context(HostileServer(script, server_tls if protocol == "imap" else None))
            for protocol, _, script in cases
        ]
        closed = stack.enter_context(closed_port())

        async def one(protocol: str, server: HostileServer) -> Outcome:
            imap, smtp = (server.port, closed) if protocol == "imap" else (closed, server.port)
            start = time.monotonic()
            report = await check(imap, smtp, dns, hostile_ca_file, PASSWORD)
            return Outcome(report, time.monotonic() - start, server.received())

        outcomes = await asyncio.gather(
            *(
                one(protocol, server)
                for (protocol, _, _), server in zip(cases, servers, strict=True)
            )
        )
    for (protocol, name, _), got in zip(cases, outcomes, strict=True):
        # the deadline on the run's own clock; four runs side by side on a loaded machine
        # may take longer by the wall clock, which only shows that nothing hung
        path = tmp_path / protocol / name
        assert_sound(got.report, got.seconds, got.received, path, hung=TIMEOUT + 15.0)
        for result in got.report.profiles:
            failed = next(
                s for s in result.steps if s.protocol == protocol and s.status is Status.FAIL
            )
            assert failed.failure is not None and failed.failure.kind == "timeout", (name, failed)
            # The step lasted until the deadline (not the 0.1 ms it once showed; the greeting
            # until its own share of it, leaving time for the steps after) ...
            deadline = TIMEOUT * (0.5 if name == "half-greeting" else 1.0)
            assert failed.start_ms + failed.elapsed_ms >= deadline * 1000, (name, failed)
            # ... and the server was not silent: it began an answer and never ended it.
            assert failed.data["unended_bytes"] > 0, (name, failed.data)
            first = next(f for f in result.findings if f.protocol == protocol)
            assert first.code == "server-garbled", (name, first)
            if name == "half-greeting":  # the greeting itself: no "normal start" before it
                assert failed.name == "greeting", failed
                assert first.title.endswith("began its greeting and never ended it"), first.title
                assert "accepted the connection but did not answer" not in render_text(got.report)
            else:
                assert first.title.endswith("began an answer and never ended it"), first.title


VALID_LINES = [
    b"* OK still here",
    b"* CAPABILITY IMAP4rev1 AUTH=PLAIN ID",
    b"* 0 EXISTS",
    b"* BYE going away",
    b"* NO [ALERT] careful",
    b"* OK {5}",
    b"* BAD {-1}",
    b"* 1 FETCH (BODY[] {999999999999}",
]
actions = st.one_of(
    st.tuples(st.just("line"), st.sampled_from(VALID_LINES)),
    st.tuples(st.just("echo"), st.just(b"")),
    st.tuples(st.just("garbage"), st.binary(min_size=1, max_size=40)),
    st.tuples(st.just("continue"), st.just(b"")),
    st.tuples(st.just("tagged"), st.sampled_from([b"OK", b"NO", b"BAD"])),
    st.tuples(st.just("reset"), st.just(b"")),
)
GENERATED_TIMEOUT = 1.5
"""Short: a script that never sends the tagged reply waits for the deadline."""


@settings(
    max_examples=5,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(turns=st.lists(st.lists(actions, min_size=1, max_size=4), min_size=1, max_size=6))
def test_a_generated_server_script_still_ends_soundly(
    turns: list[list[Action]],
    server_tls: ssl.SSLContext,
    hostile_ca_file: Path,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    # Random sequences of valid lines, echoes of all received at any point (also after
    # the credential, in later replies), garbage bytes, continuations and resets: a
    # diagnosis, no internal error, the deadline, the credential at most once, no leak.
    with (
        HostileServer(generated(turns), server_tls) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        start = time.monotonic()
        report = asyncio.run(
            check(imap.port, smtp, dns, hostile_ca_file, PASSWORD, timeout=GENERATED_TIMEOUT)
        )
        seconds = time.monotonic() - start
        received = imap.received()
    tmp = tmp_path_factory.mktemp("generated")
    assert_sound(report, seconds, received, tmp, hung=GENERATED_TIMEOUT + 15.0, timeout=1.5)
    assert credentials_received(PASSWORD, received) <= 1


async def test_a_second_imap_continuation_is_cancelled_and_recorded(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    with (
        HostileServer(IMAP_SCRIPTS["continuations-forever"], server_tls) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        report = await check(imap.port, smtp, dns, hostile_ca_file, PASSWORD, profiles=1)
        lines = imap.received().splitlines()
    (plain,) = report.profiles
    login = next(s for s in plain.steps if s.name == "login" and s.protocol == "imap")
    assert login.status is Status.FAIL
    assert login.data["cancelled"].startswith("the server asked for the credential again")
    assert login.failure is not None and "sent it once and stopped" in login.failure.message
    assert credentials_received(PASSWORD, b"\n".join(lines)) == 1
    assert lines.count(b"*") == 1  # one cancel, then conntest stopped


async def test_a_second_smtp_334_is_answered_with_a_cancel(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    with (
        HostileServer(SMTP_SCRIPTS["continuations-forever"](server_tls)) as smtp,
        closed_port() as imap,
        dns_server("silent") as dns,
    ):
        report = await check(imap, smtp.port, dns, hostile_ca_file, PASSWORD)
        lines = smtp.received().splitlines()
    auth = next(
        s
        for p in report.profiles
        for s in p.steps
        if s.name == "auth" and "shared_from" not in s.data and s.status is not Status.SKIP
    )
    assert auth.status is Status.FAIL and "cancelled" in auth.data
    assert credentials_received(PASSWORD, b"\n".join(lines)) == 1
    assert b"*" in lines


@pytest.mark.parametrize("kind", ["silent", "garbage"])
async def test_dns_timeout_reads_in_plain_words(kind: str, hostile_ca_file: Path) -> None:
    with dns_server(kind) as dns:
        request = CheckRequest(
            user=USER,
            password=None,
            profiles=PROFILES[:1],
            imap_server=("imap.contoso.test", 993),
            smtp_server=("smtp.contoso.test", 587),
            resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
            ca_file=hostile_ca_file,
            timeout=2.0,
        )
        report = await asyncio.wait_for(run_check(request), 5)
    resolve = next(s for s in report.profiles[0].steps if s.name == "resolve")
    assert resolve.failure is not None
    assert "Error" not in resolve.failure.message and "Exception" not in resolve.failure.message
    assert resolve.failure.message.startswith("imap.contoso.test: ")
    if kind == "silent":
        assert resolve.failure.message.endswith("no DNS server answered in time")
    assert report.profiles[0].findings[0].code == "dns-failure"


@pytest.mark.parametrize(
    "ehlo",
    [
        b"250-hostile\r\n250 STARTTLS\r\n",  # no AUTH at all
        b"250-hostile\r\n250-AUTH LOGIN PLAIN\r\n250 STARTTLS\r\n",  # AUTH only before TLS
    ],
    ids=["no-auth", "auth-before-tls-only"],
)
async def test_a_mechanism_the_server_did_not_advertise_gets_no_credential(
    ehlo: bytes, server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    """A server that offers no AUTH after STARTTLS, yet says 334 to AUTH LOGIN and PLAIN."""

    async def on_auth(conn: Conn, line: bytes) -> bool:
        await conn.send(b"334 \r\n")
        while answer := await conn.line():
            await conn.send(b"235 fine\r\n" if answer.strip() != b"*" else b"501 cancelled\r\n")
            if answer.strip() == b"*":
                break
        return True

    script = smtp_script(server_tls, on_auth, ehlo=ehlo, ehlo_tls=b"250 hostile\r\n")
    with (
        HostileServer(script) as smtp,
        closed_port() as imap,
        dns_server("silent") as dns,
    ):
        report = await check(imap, smtp.port, dns, hostile_ca_file, PASSWORD)
        received = smtp.received()
    assert credentials_received(PASSWORD, received) == 0
    assert base64.b64encode(USER.encode()) not in received  # not even the user name
    for profile in report.profiles:
        auth = next(s for s in profile.steps if s.protocol == "smtp" and s.name == "auth")
        assert auth.status is Status.FAIL, auth
        codes = [f.code for f in profile.findings]
        assert "auth-mechanism-unsupported" in codes, codes
        assert "login-rejected" not in codes and "ok" not in codes, codes


async def test_a_greeting_that_refuses_the_session_is_critical_and_named(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    """``* BYE`` (RFC 9051 §7.1.5) and a 554 greeting (RFC 5321 §3.1): the session is refused."""

    async def imap_bye(conn: Conn) -> None:
        await conn.send(b"* BYE too many connections from this address\r\n")
        await conn.close_notify()

    async def smtp_554(conn: Conn) -> None:
        await conn.send(b"554 no service for this address\r\n")
        await conn.line()

    with (
        HostileServer(imap_bye, server_tls) as imap,
        HostileServer(smtp_554) as smtp,
        dns_server("silent") as dns,
    ):
        report = await check(imap.port, smtp.port, dns, hostile_ca_file, PASSWORD, profiles=1)
        received = imap.received() + smtp.received()
    [profile] = report.profiles
    assert credentials_received(PASSWORD, received) == 0
    greetings = {s.protocol: s for s in profile.steps if s.name == "greeting"}
    assert greetings["imap"].status is Status.FAIL, greetings["imap"]
    assert greetings["smtp"].status is Status.FAIL, greetings["smtp"]
    first = profile.findings[0]
    assert (first.code, first.severity) == ("unrecognised", Severity.CRITICAL), first
    assert "refused the session" in first.title
    text = render_text(report, verbose=True)
    assert "b'" not in text and 'b"' not in text
    assert "too many connections from this address" in text
    assert "no service for this address" in text


@pytest.mark.parametrize(
    "banner",
    [b"220 mail.example.test ESMTP ready\r\n", b"HTTP/1.1 400 Bad Request\r\n\r\n"],
    ids=["smtp-banner", "http"],
)
async def test_another_protocol_on_the_imap_port_is_the_wrong_protocol(
    banner: bytes, server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    async def other(conn: Conn) -> None:
        await conn.send(banner)
        await conn.line()

    with (
        HostileServer(other, server_tls) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        report = await check(imap.port, smtp, dns, hostile_ca_file, PASSWORD, profiles=1)
        received = imap.received()
    [profile] = report.profiles
    assert credentials_received(PASSWORD, received) == 0
    greeting = next(s for s in profile.steps if s.protocol == "imap" and s.name == "greeting")
    assert greeting.status is Status.FAIL, greeting
    assert "wrong-protocol" in [f.code for f in profile.findings], profile.findings


async def test_starttls_listed_then_refused_is_named_as_refused(
    server_tls: ssl.SSLContext, hostile_ca_file: Path
) -> None:
    async def refuse(conn: Conn) -> None:
        await conn.send(b"220 hostile test server ready\r\n")
        while line := await conn.line():
            verb = line.split(b" ", 1)[0].strip().upper()
            if verb == b"EHLO":
                await conn.send(b"250-hostile\r\n250 STARTTLS\r\n")
            elif verb == b"STARTTLS":
                await conn.send(b"454 4.7.0 TLS not available due to temporary reason\r\n")
            else:
                await conn.send(b"221 bye\r\n")
                return

    with (
        HostileServer(refuse) as smtp,
        closed_port() as imap,
        dns_server("silent") as dns,
    ):
        report = await check(imap, smtp.port, dns, hostile_ca_file, PASSWORD, profiles=1)
        received = smtp.received()
    [profile] = report.profiles
    assert credentials_received(PASSWORD, received) == 0 and b"AUTH" not in received
    [missing] = [f for f in profile.findings if f.code == "starttls-missing"]
    assert "refused to start it" in missing.title, missing
    assert "TLS not available" in missing.detail


async def test_half_a_plain_greeting_before_starttls_is_not_silence(hostile_ca_file: Path) -> None:
    """IMAP on 143: the plain greeting is read a byte at a time; what came before the end counts."""
    starttls = make_profile("starttls-client")
    starttls = dataclasses.replace(
        starttls, imap=dataclasses.replace(starttls.imap, port=143, security="starttls")
    )
    with (
        HostileServer(half_greeting(b"* OK IMAP4rev1 Service Rea")) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        request = CheckRequest(
            user=USER,
            password=PASSWORD,
            profiles=(starttls,),
            imap_server=("127.0.0.1", imap.port),
            smtp_server=("127.0.0.1", smtp),
            resolver=ResolverConfig(nameserver=("127.0.0.1", dns)),
            ca_file=hostile_ca_file,
            timeout=2.0,
        )
        report = await run_check(request)
        received = imap.received()
    [profile] = report.profiles
    assert credentials_received(PASSWORD, received) == 0
    greeting = next(s for s in profile.steps if s.protocol == "imap" and s.name == "greeting")
    assert greeting.data.get("unended_bytes") == len(b"* OK IMAP4rev1 Service Rea"), greeting
    codes = {f.code: f for f in profile.findings}
    assert "server-silent" not in codes, codes
    # (wrong-port ranks first: Microsoft's IMAP is 993 with TLS, a 143 profile is told so)
    assert codes["server-garbled"].title == "127.0.0.1 began its greeting and never ended it"
