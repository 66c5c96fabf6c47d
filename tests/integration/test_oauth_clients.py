"""``--oauth`` for each client: conntest's own XOAUTH2 sign-in is not the client's.

Real ``conntest check --lab oauth-ok --oauth`` processes, one per profile, side by
side (the lab signs the device code in itself).  Thunderbird can use OAuth2 for IMAP
and SMTP: OK.  Outlook 2016 and iOS Mail ("Other → IMAP") cannot (oauth.md §4): the
mailbox accepts modern authentication, but the verdict is a WARNING naming the
client's way forward, not an OK the client could never earn.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.oauth.result import OAuthPlan
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles
from conntest.tui.outcome import client_outcomes
from tests.integration.test_oauth_lab import lab_token_source

ALICE = "alice@contoso.com"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"


async def _check(profile: str, fmt: str, base: Path) -> tuple[int, str]:
    # A state directory per run: side by side, one account's runs would otherwise (rightly)
    # skip the sign-in while another is signing in (the lockout ledger).
    env = {k: v for k, v in os.environ.items() if k not in {"BROWSER", "CONNTEST_CONFIG"}}
    env["XDG_STATE_HOME"] = str(base / f"{profile}-{fmt}" / "state")
    env["XDG_CONFIG_HOME"] = str(base / "config")
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conntest", "check", "--lab", "oauth-ok", "--oauth",
        "--profile", profile, "--user", ALICE, "--format", fmt, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    out, _ = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode()


async def test_each_client_gets_its_own_verdict_from_an_oauth_run(tmp_path: Path) -> None:
    runs = [("thunderbird", "nagios"), ("outlook-2016", "nagios"), ("ios-mail", "json")]
    results = await asyncio.gather(*(_check(p, f, tmp_path) for p, f in runs))
    (tb_code, tb), (ol_code, ol), (ios_code, ios_json) = results

    assert tb_code == 0, tb
    assert tb.startswith(f"CONNTEST OK - {ALICE}: ok (Thunderbird can reach and sign in"), tb

    assert ol_code == 1, ol
    assert ol.startswith(
        f"CONNTEST WARNING - {ALICE}: client-cannot-use-oauth (The mailbox accepts OAuth2, "
        "but Outlook 2016 (IMAP account) cannot use it)"
    ), ol
    assert "can reach and sign in" not in ol

    report = json.loads(ios_json)
    [profile] = report["profiles"]
    assert ios_code == 1, ios_json
    assert report["verdict"] == profile["verdict"] == "warning"
    first = profile["findings"][0]
    assert first["code"] == "client-cannot-use-oauth"
    assert not [f for f in profile["findings"] if f["code"] == "ok"]
    # The mailbox took conntest's token on both servers ...
    assert "cannot use it" in first["title"] and "iOS Mail" in first["title"]
    assert "signed in to IMAP and SMTP" in first["detail"]
    # ... and the way forward is the client's: Exchange with Sign In, which is not probed.
    remedy = first["remedy"]
    assert "Microsoft Exchange" in remedy and "Sign In" in remedy
    assert "conntest does not probe Exchange ActiveSync" in remedy
    # Receiving and sending were conntest's sign-ins, not iOS Mail's.
    [row] = report["matrix"]
    assert (row["receive"], row["send"]) == ("not tested", "not tested")
    assert row["modern_auth"]["status"] == "not-probed"


async def test_the_tui_matrix_says_verified_only_for_the_client_that_can_sign_in_so(
    tmp_path: Path,
) -> None:
    """One in-process OAuth run for all three clients (real MSAL, device code, the lab): the
    TUI's Clients tab shows Thunderbird's way as verified, the others' as not probed."""
    profiles = load_profiles()
    async with Lab(default_scenario="oauth-ok", identity_user=ALICE) as lab:
        ends = lab.endpoints("oauth-ok")

        token_source = lab_token_source(
            lab, ends, ALICE, tmp_path / "cache.json", device=True, open_browser=None
        )

        report = await run_check(
            CheckRequest(
                user=ALICE,
                password=None,
                profiles=[profiles.get(p) for p in ("outlook-2016", "ios-mail", "thunderbird")],
                imap_server=ends.imap,
                smtp_server=ends.smtp,
                resolver=ResolverConfig(nameserver=ends.nameserver),
                ca_file=lab.ca_file,
                expected_networks=ends.expected_networks,
                timeout=30.0,
                oauth=OAuthPlan(ends.authority_host, "organizations", token_source),
            )
        )
    names = {p.id: p.name for p in profiles}
    cells = {o.name: o.modern_auth for o in client_outcomes(report, names)}
    assert cells == {
        "Outlook 2016": "Exchange · not probed",
        "iOS Mail": "Exchange · not probed",
        "Thunderbird": "OAuth2 · verified",
    }
    primaries = {r.profile: r.findings[0].code for r in report.profiles}
    assert primaries == {
        "outlook-2016": "client-cannot-use-oauth",
        "ios-mail": "client-cannot-use-oauth",
        "thunderbird": "ok",
    }
    # receive/send: conntest's own XOAUTH2 sign-in is nothing the other two clients did
    works = {o.name: (o.receive, o.send) for o in client_outcomes(report, names)}
    assert works == {
        "Outlook 2016": (None, None),
        "iOS Mail": (None, None),
        "Thunderbird": (True, True),
    }
