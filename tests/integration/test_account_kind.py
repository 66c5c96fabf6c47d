"""Account classification on every check: the lab's identity platform tells the kinds apart.

Informational only: it never holds the verdict up (a silent identity platform
costs the check half a second at most) and never changes the primary finding.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.model import Report, Severity, Status
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles


async def _check(lab: Lab, user: str, authority: str, resolver: ResolverConfig) -> Report:
    ends = lab.endpoints("ok")
    return await run_check(
        CheckRequest(
            user=user,
            password=None,
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
        ("carol@outlook.com", "personal Microsoft account"),
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
        )
    findings = report.profiles[0].findings
    assert findings[0].code == "ok"
    assert not [f for f in findings if f.code == "account-kind"]
    realm = next(s for s in report.profiles[0].steps if s.name == "realm")
    # Skipped, not timed out: the check finished without waiting for its 8 s budget.
    assert realm.status is Status.SKIP
