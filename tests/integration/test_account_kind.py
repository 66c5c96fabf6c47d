"""Account classification on every check: the lab's identity platform tells the kinds apart.

Informational only: it never holds the verdict up (a silent identity platform
costs the check half a second at most) and never changes the primary finding.
The user realm's documented answers are Managed, Federated and Unknown
(oauth.md §3), so an Unknown realm is told apart by the MX answer only: mail to
Microsoft is "not a work or school account" (a personal account cannot be told),
mail elsewhere "not on Microsoft 365".  With a password, the lookup ends before
the password goes out.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import pytest

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.lab.record import Command, ConnectionLog
from conntest.lab.runner import LAB_PASSWORD
from conntest.model import Report, Severity, Status
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles


async def _check(
    lab: Lab,
    user: str,
    authority: str,
    resolver: ResolverConfig,
    password: str | None = None,
    realm_hold: float = 0.5,
) -> Report:
    ends = lab.endpoints("ok")
    return await run_check(
        CheckRequest(
            user=user,
            password=password,
            realm_hold=realm_hold,
            profiles=[load_profiles().get("thunderbird")],
            imap_server=ends.imap,
            smtp_server=ends.smtp,
            resolver=resolver,
            ca_file=lab.ca_file,
            expected_networks=ends.expected_networks,
            timeout=20.0,
            account_authority=authority,
        )
    )


@pytest.mark.parametrize(
    ("user", "title"),
    [
        ("alice@contoso.com", "work or school account (tenant 72f988bf-"),
        ("bob@fabrikam.com", "signed in by sts.fabrikam.com (federated)"),
        # Unknown realm, mail to Microsoft: which kind is not documented, so not claimed.
        ("carol@hotmail.com", "not a work or school account, though hotmail.com's mail goes"),
        # Unknown realm, mail elsewhere: both say so.
        ("dan@nowhere.example", "nowhere.example is not on Microsoft 365"),
    ],
)
async def test_account_kind_is_reported_without_deciding_the_verdict(user: str, title: str) -> None:
    async with Lab() as lab:
        ends = lab.endpoints("ok")
        report = await _check(
            lab, user, ends.authority_host, ResolverConfig(nameserver=ends.nameserver)
        )
        assert lab.record.credentials_received() == 0
    findings = report.profiles[0].findings
    assert findings[0].code == "ok"
    [kind] = [f for f in findings if f.code == "account-kind"]
    assert kind.severity is Severity.INFO and title in kind.title
    realm = next(s for s in report.profiles[0].steps if s.name == "realm")
    assert realm.status is Status.PASS


async def _slow_relay(port: int, delay: float) -> asyncio.Server:
    """A relay to the lab's identity platform that answers each connection ``delay`` late."""

    async def pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, asyncio.CancelledError):
            pass
        finally:
            writer.close()

    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await asyncio.sleep(delay)
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", port)
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

    return await asyncio.start_server(handler, "127.0.0.1", 0)


async def test_the_password_waits_for_the_account_lookup() -> None:
    sent: list[float] = []

    def watch(conn: ConnectionLog, command: Command) -> None:
        if command.verb in ("LOGIN", "AUTHENTICATE", "AUTH"):
            sent.append(time.monotonic())

    async with Lab() as lab:
        lab.record.watchers.append(watch)
        ends = lab.endpoints("ok")
        assert lab.identity is not None and ends.identity is not None
        # The identity platform answers 0.3 s late, slower than the mail servers' way to
        # the sign-in; the hold is generous so that a loaded machine cannot let the
        # password overtake the lookup (the half-second default bounds it: see below).
        relay = await _slow_relay(ends.identity[1], 0.3)
        port = relay.sockets[0].getsockname()[1]
        resolver = ResolverConfig(
            nameserver=ends.nameserver, pinned=(("login.microsoftonline.com", "127.0.0.1"),)
        )
        try:
            report = await _check(
                lab,
                "alice@contoso.com",
                f"https://login.microsoftonline.com:{port}",
                resolver,
                password=LAB_PASSWORD,
                realm_hold=30.0,
            )
        finally:
            relay.close()
        asked = [e for e in lab.identity.log() if e.endpoint in ("userrealm", "discovery")]
        assert lab.record.credentials_received() == 2  # one IMAP LOGIN, one SMTP AUTH
    assert {e.endpoint for e in asked} == {"userrealm", "discovery"}
    assert len(sent) == 2
    # Both answers of the lookup went out before the first credential arrived.
    assert max(e.at for e in asked) < min(sent)
    findings = report.profiles[0].findings
    assert findings[0].code == "ok"
    [kind] = [f for f in findings if f.code == "account-kind"]
    assert "tenant 72f988bf-" in kind.title


@pytest.fixture
async def silent_port() -> AsyncIterator[int]:
    async def handler(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            await asyncio.sleep(60)
        except asyncio.CancelledError:
            writer.close()

    server = await asyncio.start_server(handler, "127.0.0.1", 0)
    yield server.sockets[0].getsockname()[1]
    server.close()


async def test_a_silent_identity_platform_never_holds_the_verdict_up(silent_port: int) -> None:
    async with Lab() as lab:
        ends = lab.endpoints("ok")
        resolver = ResolverConfig(
            nameserver=ends.nameserver, pinned=(("login.microsoftonline.com", "127.0.0.1"),)
        )
        report = await _check(
            lab,
            "alice@contoso.com",
            f"https://login.microsoftonline.com:{silent_port}",
            resolver,
            password=LAB_PASSWORD,
        )
        # The password went out anyway, once per protocol, after the bounded hold.
        assert lab.record.credentials_received() == 2
    findings = report.profiles[0].findings
    assert findings[0].code == "ok"
    assert not [f for f in findings if f.code == "account-kind"]
    realm = next(s for s in report.profiles[0].steps if s.name == "realm")
    # Skipped, not timed out: the check finished without waiting for its 8 s budget.
    assert realm.status is Status.SKIP
