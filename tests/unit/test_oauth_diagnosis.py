"""The OAuth2 sign-in errors the lab's scenarios do not produce, from MSAL-shaped error dicts.

Each case is a token-endpoint error as oauth.md §3 describes it (``error``,
``error_description``, ``error_codes``, trace and correlation ids), turned into
the sign-in step by conntest's own MSAL-result reader, then diagnosed.  The
description names another code on purpose: the diagnosis keys on
``error_codes`` only.  Microsoft's ``error`` and description texts for these
codes are not recorded in oauth.md, so neither is imitated here.
"""

from __future__ import annotations

from typing import Any

import pytest

from conntest.diagnosis import CATALOGUE, DiagnosisContext, diagnose
from conntest.model import Failure, FailureKind, Finding, Reply, Status, Step
from conntest.oauth.signin import _outcome
from tests.unit.test_diagnosis_rules import THUNDERBIRD, USER, check, run, step

LOGIN = f"conntest oauth login --user {USER} --client-id 11111111-2222-4333-8444-555555555555"
APP_FIX = "API permissions → add IMAP.AccessAsUser.All and SMTP.Send"
REDIRECT_FIX = "add http://localhost"


def msal_error(code: int | None, **extra: Any) -> dict[str, Any]:
    """A token-endpoint error with the fields of oauth.md §3 (the texts are not Microsoft's)."""
    return {
        "error": "conntest-test-error",
        "error_description": "AADSTS65001: (misleading, not Microsoft's wording)\r\n"
        "Trace ID: 0000\r\nCorrelation ID: 0000\r\nTimestamp: 2026-12-02 00:00:00Z",
        "error_codes": [] if code is None else [code],
        "timestamp": "2026-12-02 00:00:00Z",
        "trace_id": "00000000-0000-0000-0000-000000000000",
        "correlation_id": "00000000-0000-0000-0000-000000000000",
        "error_uri": "https://login.microsoftonline.com/error?code=0",
        **extra,
    }


def signin_step(result: dict[str, Any], flow: str) -> Step:
    """The engine's sign-in step (engine._sign_in) for what MSAL returned."""
    outcome = _outcome(flow, result)
    shown = ", ".join(f"AADSTS{c}" for c in outcome.error_codes) or (outcome.error or "failed")
    return Step(
        "oauth",
        "sign-in",
        Status.FAIL,
        0.0,
        1.0,
        Reply("ERR", shown),
        Failure(FailureKind.REJECTED, outcome.message or shown),
        None,
        [],
        {"authority": "https://login.microsoftonline.com/organizations", **outcome.step_data()},
    )


def diagnosed(result: dict[str, Any], flow: str = "browser") -> Finding:
    steps = [
        step("identity", "discovery"),
        signin_step(result, flow),
        *run("imap", stop_before="login"),
        *run("smtp", stop_before="auth"),
    ]
    context = DiagnosisContext(user=USER, password=None, oauth=True, login_command=LOGIN)
    return check(diagnose(steps, THUNDERBIRD, context))[0]


def worded_as(finding: Finding, code: str, variant: str | None) -> bool:
    """The finding is ``code`` in the wording of ``variant`` (its title, up to the first value)."""
    entry = CATALOGUE[code]
    title = entry.title if variant is None else entry.variants[variant].title or entry.title
    return finding.code == code and finding.title.startswith(title.split("{")[0])


# code → (primary code, variant, a phrase of the remedy or the administrator's action)
CASES: dict[int | None, tuple[str, str | None, str]] = {
    530035: ("security-defaults", "oauth", "complete the MFA prompt"),
    53000: ("oauth-device-required", None, "a device the organisation manages"),
    53001: ("oauth-device-required", None, "a device the organisation manages"),
    50097: ("oauth-device-required", None, "a device the organisation manages"),
    50020: ("oauth-wrong-account-type", None, "--tenant organizations"),
    50034: ("oauth-wrong-account-type", None, "--tenant organizations"),
    500200: ("oauth-wrong-account-type", None, "--tenant organizations"),
    9002332: ("oauth-wrong-account-type", None, "--tenant organizations"),
    50194: ("oauth-wrong-account-type", None, "--tenant organizations"),
    90072: ("oauth-wrong-account-type", None, "--tenant organizations"),
    50053: ("account-locked", "oauth", ""),
    50057: ("account-locked", "oauth", ""),
    7000112: ("oauth-app-misconfigured", None, "enable the application"),
    50011: ("oauth-app-misconfigured", None, REDIRECT_FIX),
    500113: ("oauth-app-misconfigured", None, REDIRECT_FIX),
    900971: ("oauth-app-misconfigured", None, REDIRECT_FIX),
    700022: ("oauth-app-misconfigured", None, "request only the Outlook scopes"),
    70011: ("oauth-app-misconfigured", None, "request only the Outlook scopes"),
    65005: ("oauth-app-misconfigured", None, APP_FIX),
    650056: ("oauth-app-misconfigured", None, APP_FIX),
    650057: ("oauth-app-misconfigured", None, APP_FIX),
    70043: ("oauth-reauth-required", None, LOGIN),
    50173: ("oauth-reauth-required", None, LOGIN),
    54005: ("oauth-reauth-required", None, LOGIN),
    70020: ("oauth-signin-failed", None, "sign-in log"),  # declined: no code of its own
    None: ("oauth-signin-failed", None, "sign-in log"),  # no error_codes at all
}


@pytest.mark.parametrize("number", list(CASES), ids=str)
def test_each_signin_error_code_has_its_diagnosis(number: int | None) -> None:
    code, variant, phrase = CASES[number]
    finding = diagnosed(msal_error(number))
    assert worded_as(finding, code, variant), finding
    assert phrase in f"{finding.remedy} {finding.admin_action or ''}"
    aadsts = f"AADSTS{number}" if number is not None else "conntest-test-error"
    assert aadsts in f"{finding.title} {finding.detail} {' '.join(finding.evidence)}"
    assert "AADSTS65001" not in finding.title  # the description is never read


def test_conditional_access_after_a_device_code_says_use_the_browser() -> None:
    blocked = msal_error(53003, suberror="message_only")
    device = diagnosed(blocked, "device-code")
    browser = diagnosed(blocked, "browser")
    assert worded_as(device, "conditional-access-blocked", "oauth-device-code")
    assert "Use browser sign-in" in device.remedy
    assert worded_as(browser, "conditional-access-blocked", "oauth")
    assert "browser sign-in" not in browser.remedy.lower()


def test_imap_disabled_after_a_token_has_no_password_advice_and_says_wait() -> None:
    """oauth.md §2: OK AUTHENTICATE completed., then BAD … not connected: enable, wait ~30 min."""
    mailbox = step(
        "imap",
        "mailbox",
        Status.FAIL,
        Reply("BAD", "User is authenticated but not connected."),
        Failure(FailureKind.REJECTED, "BAD User is authenticated but not connected."),
    )
    login = step("imap", "login", reply=Reply("OK", "AUTHENTICATE completed."), mechanism="XOAUTH2")
    imap = run("imap", replace={"login": login, "mailbox": mailbox}, fail_at="mailbox")
    signed_in = step("oauth", "sign-in", reply=Reply("OK", "signed in (browser)"), flow="browser")
    steps = [step("identity", "discovery"), signed_in, *imap, *run("smtp")]
    oauth = DiagnosisContext(user=USER, password=None, oauth=True, login_command=LOGIN)
    finding = check(diagnose(steps, THUNDERBIRD, oauth))[0]
    assert worded_as(finding, "imap-disabled", "oauth"), finding
    text = f"{finding.title} {finding.detail} {finding.remedy}"
    assert "password" not in text.lower()
    assert "about 30 minutes" in finding.remedy and "about 30 minutes" in str(finding.admin_action)
    assert "Set-CASMailbox -Identity anna@contoso.com -ImapEnabled $true" in str(
        finding.admin_action
    )
