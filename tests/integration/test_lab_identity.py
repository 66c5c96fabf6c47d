"""The lab's identity platform over real HTTPS, and XOAUTH2 on its IMAP and SMTP servers.

Tokens come from the lab's own grant book here; tests/integration/test_oauth_lab.py
obtains them through MSAL.
"""

from __future__ import annotations

import asyncio
import base64
import imaplib
import json
import ssl
from pathlib import Path
from typing import Any

import aiosmtplib

from conntest.lab import Lab
from conntest.lab.identity_grants import (
    GRAPH_AUDIENCE,
    IMAP_SCOPE,
    OUTLOOK_AUDIENCE,
    SMTP_SCOPE,
    Grant,
)
from conntest.probes.identity_probe import https_request

USER = "alice@contoso.com"


def _context(ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    return ctx


async def _get(lab: Lab, path: str) -> tuple[int, dict[str, Any]]:
    url = lab.endpoints("ok").authority_host + path
    answer = await asyncio.to_thread(https_request, url, "127.0.0.1", _context(lab.ca_file), 5.0)
    return answer.status, json.loads(answer.body)


def _sasl(user: str, token: str) -> str:
    return base64.b64encode(f"user={user}\x01auth=Bearer {token}\x01\x01".encode()).decode()


def _imap_xoauth2(lab: Lab, user: str, token: str) -> tuple[str, str]:
    """AUTHENTICATE XOAUTH2 with SASL-IR, then EXAMINE INBOX; the two tagged results."""
    port = lab.endpoints("ok").imap[1]
    imap = imaplib.IMAP4_SSL("127.0.0.1", port, ssl_context=_no_name_check(lab.ca_file))
    try:
        try:
            typ, data = imap._simple_command("AUTHENTICATE", "XOAUTH2", _sasl(user, token))
        except imaplib.IMAP4.error as exc:
            return "NO", str(exc)
        imap.state = "AUTH"
        try:
            typ2, data2 = imap._simple_command("EXAMINE", "INBOX")
            second = f"{typ2} {data2[-1].decode() if data2 else ''}"
        except (imaplib.IMAP4.error, imaplib.IMAP4.abort) as exc:
            second = f"BAD {exc}"
        return f"{typ} {data[-1].decode()}", second
    finally:
        imap.shutdown()


def _no_name_check(ca: Path) -> ssl.SSLContext:
    ctx = ssl.create_default_context(cafile=str(ca))
    ctx.check_hostname = False  # the test connects to 127.0.0.1; the CA is still checked
    return ctx


async def _smtp_xoauth2(lab: Lab, user: str, token: str) -> tuple[int, str]:
    port = lab.endpoints("ok").smtp[1]
    smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, timeout=5)
    await smtp.connect()
    await smtp.ehlo()
    await smtp.starttls(tls_context=_no_name_check(lab.ca_file))
    await smtp.ehlo()
    resp = await smtp.execute_command(f"AUTH XOAUTH2 {_sasl(user, token)}".encode())
    smtp.close()
    return resp.code, resp.message


async def test_discovery_document_and_error_shape() -> None:
    async with Lab() as lab:
        status, doc = await _get(lab, "/organizations/v2.0/.well-known/openid-configuration")
        assert status == 200
        base = lab.endpoints("ok").authority_host
        assert doc["token_endpoint"] == f"{base}/organizations/oauth2/v2.0/token"
        assert doc["device_authorization_endpoint"].endswith("/oauth2/v2.0/devicecode")
        assert doc["issuer"].startswith(base + "/")
        status, err = await _get(lab, "/nowhere.example/v2.0/.well-known/openid-configuration")
    assert status == 400
    assert err["error_codes"] == [90002]
    assert err["error_description"].startswith("AADSTS90002: ")
    for part in ("\r\nTrace ID: ", "\r\nCorrelation ID: ", "\r\nTimestamp: "):
        assert part in err["error_description"]
    assert {"timestamp", "trace_id", "correlation_id", "error_uri", "error"} <= set(err)


async def test_user_realm_tells_managed_federated_personal_and_unknown() -> None:
    async with Lab() as lab:
        kinds = {}
        for address in ("a@contoso.com", "a@fabrikam.com", "a@outlook.com", "a@nowhere.example"):
            _, doc = await _get(lab, f"/common/userrealm/{address}?api-version=1.0")
            kinds[address] = doc["account_type"]
    assert kinds == {
        "a@contoso.com": "Managed",
        "a@fabrikam.com": "Federated",
        "a@outlook.com": "Unknown",  # no documented value marks a personal account
        "a@nowhere.example": "Unknown",
    }


async def test_imap_and_smtp_accept_only_outlook_tokens_of_the_same_user() -> None:
    scopes = frozenset({IMAP_SCOPE, SMTP_SCOPE})
    async with Lab() as lab:
        good, _ = lab.grants.issue(Grant(USER, "oauth-ok", OUTLOOK_AUDIENCE, scopes))
        graph, _ = lab.grants.issue(Grant(USER, "oauth-ok", GRAPH_AUDIENCE, scopes))
        login, examine = await asyncio.to_thread(_imap_xoauth2, lab, USER, good)
        assert login.startswith("OK AUTHENTICATE completed.")
        assert examine.startswith("OK")
        assert (await _smtp_xoauth2(lab, USER, good))[0] == 235
        # A Graph token, or the right token for another mailbox: refused as Exchange does.
        for user, token in ((USER, graph), ("bob@contoso.com", good)):
            login, _ = await asyncio.to_thread(_imap_xoauth2, lab, user, token)
            assert "AUTHENTICATE failed." in login
            code, message = await _smtp_xoauth2(lab, user, token)
            assert (code, message.split(" [")[0]) == (535, "5.7.3 Authentication unsuccessful")
        attempts = lab.record.connections(protocol="smtp")
    assert all(a.in_clear is False for c in attempts for a in c.auth)


async def test_xoauth2_meets_the_scenario_switches() -> None:
    scopes = frozenset({IMAP_SCOPE, SMTP_SCOPE})
    async with Lab() as lab:
        smtp_off, _ = lab.grants.issue(
            Grant(USER, "oauth-smtp-auth-disabled", OUTLOOK_AUDIENCE, scopes)
        )
        imap_off, _ = lab.grants.issue(Grant(USER, "oauth-imap-disabled", OUTLOOK_AUDIENCE, scopes))
        code, message = await _smtp_xoauth2(lab, USER, smtp_off)
        assert code == 535 and "SmtpClientAuthentication is disabled for the Tenant" in message
        login, examine = await asyncio.to_thread(_imap_xoauth2, lab, USER, imap_off)
    assert login.startswith("OK AUTHENTICATE completed.")
    assert "User is authenticated but not connected." in examine
