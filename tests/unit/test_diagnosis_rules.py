"""diagnose(): one hand-built run per diagnosis code, and the cross-protocol reasoning.

Steps are plain data, so each test writes down what the probes would have
recorded and checks the finding that must come first, its wording for the
client at hand, and the invariants every report keeps (never empty, one ``ok``
at most, no unfilled template).
"""

from __future__ import annotations

import dataclasses
import re
import string
from collections.abc import Sequence
from typing import Any

import pytest

from conntest.diagnosis import (
    CATALOGUE,
    RETIREMENT_TIMELINE,
    DiagnosisContext,
    client_kind,
    diagnose,
    explain,
)
from conntest.diagnosis.catalogue import DECIDE, MATCH_ORDER, MODERN_AUTH, NOTES, TIMELINE_CITES
from conntest.model import (
    Failure,
    FailureKind,
    Finding,
    Reply,
    Severity,
    Status,
    Step,
    TLSInfo,
)
from conntest.password import analyse_password
from conntest.profile import ImapSettings, OAuth2Support, Profile, SmtpSettings, TLSRange

USER = "anna@contoso.com"

THUNDERBIRD = Profile(
    id="thunderbird",
    name="Thunderbird",
    imap=ImapSettings(
        login="authenticate-plain",
        settings_path="Account Settings → Server Settings",
    ),
    smtp=SmtpSettings(settings_path="Account Settings → Outgoing Server (SMTP) → Edit"),
    oauth2=OAuth2Support(
        supported=True,
        how="Account Settings → Server Settings → Authentication method → OAuth2",
    ),
    password_path="Settings → Privacy & Security → Saved Passwords",
)
OUTLOOK_2016 = Profile(
    id="outlook2016",
    name="Outlook 2016",
    imap=ImapSettings(settings_path="File → Account Settings → Change… → More Settings → Advanced"),
    smtp=SmtpSettings(
        settings_path="File → Account Settings → Change… → More Settings → Outgoing Server"
    ),
    tls=TLSRange(min="1.0", max="1.2"),
    oauth2=OAuth2Support(
        supported=False,
        how="remove the IMAP account and add the mailbox again as a Microsoft 365 account",
    ),
    password_path="File → Account Settings → Change… → Password",
)
OLD_DEVICE = Profile(
    id="scanner",
    name="the scanner",
    imap=ImapSettings(),
    smtp=SmtpSettings(),
    tls=TLSRange(min="1.0", max="1.0"),
)

IMAP_ORDER = ("connect", "tls", "greeting", "capability", "login", "mailbox", "logout")
SMTP_ORDER = ("connect", "greeting", "ehlo", "starttls", "tls", "ehlo-tls", "auth", "quit")

IMAP_OK: dict[str, Reply | None] = {
    "connect": None,
    "tls": None,
    "greeting": Reply("*", "OK The Microsoft Exchange IMAP4 service is ready."),
    "capability": Reply("*", "CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2 SASL-IR"),
    "login": Reply("OK", "LOGIN completed."),
    "mailbox": Reply("OK", "[READ-ONLY] EXAMINE completed."),
    "logout": Reply("BYE", "Microsoft Exchange Server IMAP4 server signing off."),
}
SMTP_OK: dict[str, Reply | None] = {
    "connect": None,
    "greeting": Reply("220", "BY1PR10CA0041.outlook.office365.com Microsoft ESMTP MAIL Service"),
    "ehlo": Reply("250", "HK0PR01CA0063.outlook.office365.com Hello [192.0.2.1]"),
    "starttls": Reply("220", "2.0.0 SMTP server ready"),
    "tls": None,
    "ehlo-tls": Reply("250", "HK0PR01CA0063.outlook.office365.com Hello [192.0.2.1]"),
    "auth": Reply("235", "2.7.0 Authentication successful"),
    "quit": Reply("221", "2.0.0 Service closing transmission channel"),
}
GOOD_TLS = TLSInfo(
    version="TLSv1.2",
    cipher="ECDHE-RSA-AES256-GCM-SHA384",
    subject="CN=outlook.com,O=Microsoft Corporation,L=Redmond,ST=Washington,C=US",
    issuer="CN=DigiCert Cloud Services CA-1,O=DigiCert Inc,C=US",
    verified=True,
    verify_code=0,
)


def step(
    protocol: str,
    name: str,
    status: Status = Status.PASS,
    reply: Reply | None = None,
    failure: Failure | None = None,
    tls: TLSInfo | None = None,
    **data: Any,
) -> Step:
    return Step(protocol, name, status, 0.0, 1.0, reply, failure, tls, [], dict(data))


def fail(kind: FailureKind, message: str = "failed") -> Failure:
    return Failure(kind, message)


def run(
    protocol: str,
    fail_at: str | None = None,
    *,
    reply: Reply | None = None,
    failure: Failure | None = None,
    tls: TLSInfo | None = None,
    replace: dict[str, Step] | None = None,
    stop_before: str | None = None,
) -> list[Step]:
    """One protocol's steps: all passing up to ``fail_at``, which fails; later ones skipped."""
    order = IMAP_ORDER if protocol == "imap" else SMTP_ORDER
    normal = IMAP_OK if protocol == "imap" else SMTP_OK
    replace = replace or {}
    steps: list[Step] = []
    failed = False
    for name in order:
        if name == stop_before:
            break
        if name in replace:
            steps.append(replace[name])
            continue
        if failed:
            steps.append(step(protocol, name, Status.SKIP))
            continue
        if name == fail_at:
            steps.append(
                step(
                    protocol,
                    name,
                    Status.FAIL,
                    reply,
                    failure or fail(FailureKind.REJECTED, str(reply) if reply else "failed"),
                    tls,
                )
            )
            failed = True
            continue
        data: dict[str, Any] = {}
        if name == "capability":
            data["capabilities"] = ["IMAP4", "IMAP4rev1", "AUTH=PLAIN", "AUTH=XOAUTH2", "SASL-IR"]
        if name == "ehlo":
            data["capabilities"] = {"size": "157286400", "starttls": "", "8bitmime": ""}
        if name == "ehlo-tls":
            data["capabilities"] = {"size": "157286400", "auth": "LOGIN XOAUTH2"}
        steps.append(
            step(
                protocol, name, reply=normal[name], tls=GOOD_TLS if name == "tls" else None, **data
            )
        )
    return steps


def ctx(password: str | None = "Summer2024!", **kw: Any) -> DiagnosisContext:
    return DiagnosisContext(
        user=kw.pop("user", USER),
        password=analyse_password(password) if password is not None else None,
        **kw,
    )


def check(findings: Sequence[Finding]) -> list[Finding]:
    """The invariants of every report."""
    assert findings, "diagnose() must never return an empty list"
    oks = [f for f in findings if f.code == "ok"]
    assert len(oks) <= 1
    if oks:
        assert oks[0].severity is Severity.OK
        assert all(f.severity < Severity.CRITICAL for f in findings)
        # ok comes after the warnings and before the info findings
        position = findings.index(oks[0])
        assert all(f.severity is Severity.WARNING for f in findings[:position])
        assert all(f.severity <= Severity.INFO for f in findings[position:])
    # the first finding's severity is the verdict's
    assert max(f.severity for f in findings) <= max(findings[0].severity, Severity.INFO)
    for f in findings:
        assert f.code in CATALOGUE
        for text in (f.title, f.detail, f.remedy, f.admin_action or ""):
            assert "{" not in text and "}" not in text, text
            assert not re.search(r"(?<![\w`])\?(?![\w`])", text), f"unfilled placeholder: {text}"
        assert f.evidence
        # a sentence starts with a capital; a host name at the start keeps its case
        assert not re.match(r"(Outlook|Smtp|Login)\.|Localhost\b", f.title), f.title
        assert not re.match(r"[A-Z][a-z0-9-]*\.[a-z]", f.title), f.title
    return list(findings)


def codes(findings: Sequence[Finding]) -> list[str]:
    return [f.code for f in findings]


def by_code(findings: Sequence[Finding], code: str) -> Finding:
    return next(f for f in findings if f.code == code)


# --------------------------------------------------------------------------------------
# ok
# --------------------------------------------------------------------------------------


def test_everything_works_gives_exactly_one_ok() -> None:
    findings = check(diagnose(run("imap") + run("smtp"), THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok"]
    assert findings[0].severity is Severity.OK
    assert "IMAP outlook.office365.com:993" in findings[0].detail
    assert "signed in" in findings[0].detail


def test_connectivity_only_says_sign_in_not_tested() -> None:
    steps = run("imap", stop_before="login") + run("smtp", stop_before="auth")
    findings = check(diagnose(steps, THUNDERBIRD, ctx(None)))
    assert codes(findings) == ["ok"]
    assert "sign-in not tested" in findings[0].title


def test_info_findings_may_accompany_ok() -> None:
    mx = step("dns", "mx", domain="contoso.com", exchanges=["contoso-com.mail.eo.mimecast.com."])
    findings = check(diagnose([mx, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok", "domain-not-m365"]
    assert findings[1].severity is Severity.INFO
    assert "mimecast" in findings[1].detail


def test_microsoft_mx_is_not_flagged() -> None:
    mx = step(
        "dns",
        "mx",
        domain="contoso.com",
        exchanges=[(0, "contoso-com.mail.protection.outlook.com.")],
    )
    assert codes(diagnose([mx, *run("imap"), *run("smtp")], THUNDERBIRD, ctx())) == ["ok"]


def test_no_steps_is_never_empty() -> None:
    findings = check(diagnose([], THUNDERBIRD, ctx()))
    assert codes(findings) == ["internal-error"]
    assert findings[0].severity is Severity.UNKNOWN


# --------------------------------------------------------------------------------------
# Cross-protocol: SMTP decides what IMAP's "LOGIN failed." cannot
# --------------------------------------------------------------------------------------

LOGIN_FAILED = Reply("NO", "LOGIN failed.")


def test_imap_refused_smtp_accepted_means_imap_basic_auth_is_off() -> None:
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp")
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    first = findings[0]
    assert first.code == "basic-auth-disabled"
    assert first.protocol == "imap"
    assert first.severity is Severity.CRITICAL
    assert "password itself is right" in first.title
    assert "SMTP accepted" in first.detail
    assert "January 2023" in first.detail  # cited from the one timeline
    assert "imap login: NO LOGIN failed." in first.evidence
    assert "smtp auth: 235" in first.evidence
    assert "OAuth2" in first.remedy and "Authentication method" in first.remedy
    assert "ok" not in codes(findings)


def test_imap_refused_smtp_credentials_incorrect_means_wrong_credentials() -> None:
    smtp_reply = Reply(
        "535",
        "5.7.139 Authentication unsuccessful, the user credentials were incorrect. "
        "[PH0PR07CA0004.namprd07.prod.outlook.com]",
    )
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp", "auth", reply=smtp_reply)
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert findings[0].code == "wrong-credentials"
    assert findings[0].protocol is None  # one cause for both protocols
    assert "imap login: NO LOGIN failed." in findings[0].evidence
    assert "smtp auth: 535 5.7.139" in findings[0].evidence
    assert "login-rejected" not in codes(findings)
    assert "IMAP's bare refusal ('NO LOGIN failed.') is explained" in findings[0].detail
    assert "Saved Passwords" in findings[0].remedy


@pytest.mark.parametrize(
    ("sentence", "code"),
    [
        (
            "user is locked by your organization's security defaults policy. Contact your "
            "administrator.",
            "security-defaults",
        ),
        ("basic authentication is disabled.", "basic-auth-disabled"),
        ("account locked. Contact your administrator.", "account-locked"),
        (
            "the request did not meet the criteria to be authenticated successfully. Contact your "
            "administrator.",
            "conditional-access-blocked",
        ),
    ],
)
def test_imap_refused_smtp_policy_sentence_names_that_cause(sentence: str, code: str) -> None:
    smtp_reply = Reply("535", f"5.7.139 Authentication unsuccessful, {sentence}")
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp", "auth", reply=smtp_reply)
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert findings[0].code == code
    assert findings[0].protocol is None
    assert "same cause" in findings[0].detail
    assert "login-rejected" not in codes(findings)


def test_imap_refused_without_smtp_is_login_rejected_and_says_what_would_decide() -> None:
    findings = check(diagnose(run("imap", "login", reply=LOGIN_FAILED), THUNDERBIRD, ctx()))
    first = findings[0]
    assert first.code == "login-rejected"
    assert first.severity is Severity.CRITICAL
    assert first.title == "IMAP refused the sign-in without saying why"
    assert "SMTP AUTH result for the same credentials would tell" in first.detail
    assert "January 2023" in first.detail


def test_imap_refused_smtp_auth_disabled_keeps_both_findings() -> None:
    smtp_reply = Reply(
        "535",
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the Tenant. "
        "Visit https://aka.ms/smtp_auth_disabled for more information.",
    )
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp", "auth", reply=smtp_reply)
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings)[:2] == ["smtp-auth-disabled", "login-rejected"]
    assert "SMTP could not confirm the password either" in findings[1].detail


def test_imap_refused_smtp_not_reached() -> None:
    steps = run("imap", "login", reply=LOGIN_FAILED) + run(
        "smtp", "connect", failure=fail(FailureKind.REFUSED, "[Errno 111] Connection refused")
    )
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert set(codes(findings)) >= {"port-closed", "login-rejected"}
    assert "did not get as far as signing in" in by_code(findings, "login-rejected").detail


def test_smtp_wrong_credentials_while_imap_accepted() -> None:
    smtp_reply = Reply("535", "5.7.3 Authentication unsuccessful")
    findings = check(
        diagnose(run("imap") + run("smtp", "auth", reply=smtp_reply), THUNDERBIRD, ctx())
    )
    assert findings[0].code == "wrong-credentials"
    assert findings[0].protocol == "smtp"
    assert "IMAP accepted the same user name and password" in findings[0].detail


# --------------------------------------------------------------------------------------
# Remedies follow the client
# --------------------------------------------------------------------------------------


def test_remedy_for_client_without_oauth2_that_can_switch() -> None:
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp")
    finding = diagnose(steps, OUTLOOK_2016, ctx())[0]
    assert finding.code == "basic-auth-disabled"
    assert "Outlook 2016 cannot use OAuth2" in finding.remedy
    assert "add the mailbox again as a Microsoft 365 account" in finding.remedy


def test_remedy_for_device_without_any_oauth2() -> None:
    smtp_reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, basic authentication is disabled."
    )
    finding = diagnose(run("smtp", "auth", reply=smtp_reply), OLD_DEVICE, ctx())[0]
    assert finding.code == "basic-auth-disabled"
    assert "SMTP relay" in finding.remedy and "High Volume Email" in finding.remedy


def test_client_kinds() -> None:
    assert client_kind(THUNDERBIRD) == "oauth2"
    assert client_kind(OUTLOOK_2016) == "switch"
    assert client_kind(OLD_DEVICE) == "none"
    assert client_kind(None) == "unknown"


# --------------------------------------------------------------------------------------
# The password's shape and the user name
# --------------------------------------------------------------------------------------


def test_whitespace_is_the_likely_cause_when_sign_in_then_failed() -> None:
    findings = check(
        diagnose(run("imap", "login", reply=LOGIN_FAILED), THUNDERBIRD, ctx("secret "))
    )
    assert codes(findings)[:2] == ["password-whitespace", "login-rejected"]
    assert findings[0].severity is Severity.CRITICAL
    assert findings[0].title == "Likely cause: the password contains 1 trailing space"
    assert "local password" in findings[0].evidence


def test_whitespace_is_a_warning_when_sign_in_worked() -> None:
    findings = check(diagnose(run("imap") + run("smtp"), THUNDERBIRD, ctx("secret ")))
    # nothing failed: the warning leads (the verdict is its severity), ok follows
    assert codes(findings) == ["password-whitespace", "ok"]
    assert findings[0].severity is Severity.WARNING


def test_whitespace_is_a_warning_when_not_tried() -> None:
    steps = run("imap", "connect", failure=fail(FailureKind.REFUSED, "refused"))
    findings = check(diagnose(steps, THUNDERBIRD, ctx("sec\u200bret")))
    assert by_code(findings, "password-whitespace").severity is Severity.WARNING
    assert "zero-width character at position 4" in by_code(findings, "password-whitespace").title


def test_whitespace_confirmed_by_stripped_retry() -> None:
    smtp_reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, the user credentials were incorrect."
    )
    steps = run("smtp", "auth", reply=smtp_reply)
    findings = check(diagnose(steps, OUTLOOK_2016, ctx("secret\n", stripped_retry_succeeded=True)))
    first = findings[0]
    assert first.code == "password-whitespace"
    assert first.title.startswith("Confirmed")
    assert "File → Account Settings → Change… → Password" in first.remedy
    assert "accepted with these characters removed" in first.evidence


def test_whitespace_not_the_cause_when_stripped_retry_failed() -> None:
    smtp_reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, the user credentials were incorrect."
    )
    findings = check(
        diagnose(
            run("smtp", "auth", reply=smtp_reply),
            THUNDERBIRD,
            ctx("x ", stripped_retry_succeeded=False),
        )
    )
    assert findings[0].code == "wrong-credentials"
    assert by_code(findings, "password-whitespace").severity is Severity.WARNING


def test_whitespace_is_not_blamed_for_a_policy_block() -> None:
    smtp_reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, basic authentication is disabled."
    )
    findings = check(diagnose(run("smtp", "auth", reply=smtp_reply), THUNDERBIRD, ctx("secret ")))
    assert findings[0].code == "basic-auth-disabled"
    assert by_code(findings, "password-whitespace").severity is Severity.WARNING


def test_password_not_app_password_hint() -> None:
    smtp_reply = Reply("535", "5.7.3 Authentication unsuccessful")
    findings = check(
        diagnose(run("smtp", "auth", reply=smtp_reply), THUNDERBIRD, ctx("Summer2024!"))
    )
    hint = by_code(findings, "password-not-app-password")
    assert hint.severity is Severity.WARNING
    assert "not a verdict" in hint.detail
    shaped = diagnose(run("smtp", "auth", reply=smtp_reply), THUNDERBIRD, ctx("bybzandyfmvmytbo"))
    assert "password-not-app-password" not in codes(shaped)
    assert "shape of an app password" in by_code(shaped, "wrong-credentials").detail


def test_a_standard_credential_refusal_gets_no_app_password_hint() -> None:
    """RFC 4954's 5.7.8 (any server) says the credentials are wrong; Microsoft's app
    passwords are its own business (5.7.139 or 5.7.3 decide those hints)."""
    smtp_reply = Reply("535", "5.7.8 Authentication credentials invalid")
    findings = check(
        diagnose(run("smtp", "auth", reply=smtp_reply), THUNDERBIRD, ctx("Summer2024!"))
    )
    assert findings[0].code == "wrong-credentials"
    assert findings[0].title == "The server says the user name or password is wrong"
    assert "password-not-app-password" not in codes(findings)


@pytest.mark.parametrize(
    ("protocol", "reply", "said"),
    [
        ("imap", Reply("NO", "[UNAVAILABLE] User's backend down for maintenance"),
         "[UNAVAILABLE] is IMAP's standard code (RFC 5530)"),
        ("imap", Reply("NO", "[AUTHORIZATIONFAILED] No such authorization-ID"),
         "credentials were accepted"),
        ("smtp", Reply("454", "4.7.0 Temporary authentication failure"),
         "it is not a verdict on the password"),
    ],
)  # fmt: skip
def test_a_standard_code_at_sign_in_is_no_credential_verdict(
    protocol: str, reply: Reply, said: str
) -> None:
    step = "login" if protocol == "imap" else "auth"
    findings = check(diagnose(run(protocol, step, reply=reply), THUNDERBIRD, ctx("secret ")))
    assert (findings[0].code, findings[0].severity) == ("unrecognised", Severity.CRITICAL)
    assert said in findings[0].detail
    # Not a refused password, so the stray space is not named as its likely cause.
    assert by_code(findings, "password-whitespace").severity is Severity.WARNING


def test_username_without_domain_is_the_likely_cause() -> None:
    findings = check(
        diagnose(run("imap", "login", reply=LOGIN_FAILED), THUNDERBIRD, ctx(user="anna"))
    )
    assert findings[0].code == "username-format"
    assert findings[0].severity is Severity.CRITICAL
    assert "'anna' has no @domain part" in findings[0].detail


def test_username_problem_is_a_warning_when_sign_in_worked() -> None:
    findings = check(
        diagnose(run("imap") + run("smtp"), THUNDERBIRD, ctx(user=" anna@contoso.com"))
    )
    assert codes(findings) == ["username-format", "ok"]


# --------------------------------------------------------------------------------------
# Server verdicts, one per code
# --------------------------------------------------------------------------------------


def test_imap_says_basic_auth_disabled() -> None:
    findings = check(
        diagnose(
            run("imap", "login", reply=Reply("NO", "Basic authentication is disabled.")),
            THUNDERBIRD,
            ctx(),
        )
    )
    assert findings[0].code == "basic-auth-disabled"
    assert findings[0].protocol == "imap"


def test_logindisabled_capability() -> None:
    capability = step(
        "imap",
        "capability",
        reply=Reply("*", "CAPABILITY IMAP4rev1 AUTH=XOAUTH2 LOGINDISABLED"),
        capabilities=["IMAP4rev1", "AUTH=XOAUTH2", "LOGINDISABLED"],
    )
    steps = run(
        "imap", replace={"capability": capability, "login": step("imap", "login", Status.SKIP)}
    )
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert findings[0].code == "basic-auth-disabled"
    assert "LOGINDISABLED" in findings[0].detail


def test_logindisabled_beside_auth_plain_still_takes_a_password() -> None:
    """LOGINDISABLED forbids the LOGIN command, not AUTHENTICATE PLAIN (RFC 3501 6.2.3):
    a sign-in by AUTHENTICATE PLAIN that worked is ok, not 'basic authentication is off'."""
    caps = ["IMAP4rev1", "AUTH=PLAIN", "LOGINDISABLED"]
    capability = step(
        "imap", "capability", reply=Reply("*", "CAPABILITY " + " ".join(caps)), capabilities=caps
    )
    findings = check(diagnose(run("imap", replace={"capability": capability}), THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok"]


def test_logindisabled_beside_auth_plain_refuses_a_login_command_client() -> None:
    """A client that signs in with LOGIN meets LOGINDISABLED: its method is not offered,
    another one (AUTHENTICATE PLAIN) is; password sign-in itself is not off."""
    caps = ["IMAP4rev1", "AUTH=PLAIN", "LOGINDISABLED"]
    capability = step(
        "imap", "capability", reply=Reply("*", "CAPABILITY " + " ".join(caps)), capabilities=caps
    )
    login = step("imap", "login", Status.SKIP)
    steps = run("imap", replace={"capability": capability, "login": login})
    findings = check(diagnose(steps, OUTLOOK_2016, ctx()))
    assert findings[0].code == "auth-mechanism-unsupported"
    assert "AUTH=PLAIN" in findings[0].detail and "LOGIN command" in findings[0].detail
    assert "basic-auth-disabled" not in codes(findings)


@pytest.mark.parametrize(
    ("scope", "title_word", "cmdlet"),
    [
        ("Tenant", "organisation", "Set-TransportConfig -SmtpClientAuthenticationDisabled $false"),
        (
            "Mailbox",
            "mailbox",
            "Set-CASMailbox -Identity anna@contoso.com -SmtpClientAuthenticationDisabled $false",
        ),
    ],
)
def test_smtp_auth_disabled(scope: str, title_word: str, cmdlet: str) -> None:
    reply = Reply(
        "535",
        "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
        f"{scope}.",
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "smtp-auth-disabled"
    assert title_word in finding.title
    assert finding.admin_action is not None and cmdlet in finding.admin_action
    assert (
        "Set-CASMailbox -Identity anna@contoso.com -SmtpClientAuthenticationDisabled $false"
        in finding.admin_action
    )


def test_security_defaults() -> None:
    reply = Reply(
        "535",
        "5.7.139 Authentication unsuccessful, user is locked by your organization's security "
        "defaults "
        "policy. Contact your administrator.",
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), OUTLOOK_2016, ctx()))[0]
    assert finding.code == "security-defaults"
    assert "not an account lockout" in finding.detail
    assert finding.admin_action is not None and "security defaults" in finding.admin_action


def test_conditional_access() -> None:
    reply = Reply(
        "535",
        "5.7.139 Authentication unsuccessful, the request did not meet the criteria to be "
        "authenticated successfully. Contact your administrator.",
    )
    findings = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx("secret ")))
    assert findings[0].code == "conditional-access-blocked"
    assert "the password is right" in findings[0].detail
    # Conditional Access is only reached with the right password: whitespace is not the cause.
    assert by_code(findings, "password-whitespace").severity is Severity.WARNING


def test_account_locked() -> None:
    reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, account locked. Contact your administrator."
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "account-locked"
    assert "10 failed sign-ins" in finding.detail


def test_mfa_required_from_entra_text() -> None:
    reply = Reply(
        "535",
        "AADSTS50076: Due to a configuration change made by your administrator, or because you "
        "moved "
        "to a new location, you must use multi-factor authentication to access the resource.",
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "mfa-required"


def test_imap_disabled_after_successful_login() -> None:
    steps = run("imap", "mailbox", reply=Reply("BAD", "User is authenticated but not connected."))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "imap-disabled"
    assert finding.admin_action is not None
    assert "Set-CASMailbox -Identity anna@contoso.com -ImapEnabled $true" in finding.admin_action
    assert "Get-ClientAccessRule" in finding.admin_action
    assert "licence" in finding.admin_action and "shared" in finding.admin_action


def test_throttled_with_backoff() -> None:
    reply = Reply("NO", "Request is throttled. Suggested Backoff Time: 299609 milliseconds")
    finding = check(diagnose(run("imap", "mailbox", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "throttled"
    assert "about 5 minutes" in finding.remedy


def test_unknown_login_text_is_login_rejected() -> None:
    reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, something Microsoft has never said before."
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "login-rejected"
    assert finding.severity is Severity.CRITICAL
    assert "reason conntest does not know" in finding.title


def test_unknown_text_elsewhere_is_unrecognised_and_the_check_failed() -> None:
    """The words are unknown, the outcome is not: the client cannot open the mailbox."""
    reply = Reply("BAD", "Something entirely new happened.")
    finding = check(diagnose(run("imap", "mailbox", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "unrecognised"
    assert finding.severity is Severity.CRITICAL
    assert "Something entirely new happened." in finding.detail
    # a pasted text of the same words stays unknown: nothing failed
    assert explain("BAD Something entirely new happened.").severity is Severity.UNKNOWN


def test_auth_mechanism_504() -> None:
    reply = Reply(
        "504", "5.7.4 Unrecognized authentication type [YQXPR0101CA0010.CANPRD01.PROD.OUTLOOK.COM]"
    )
    finding = check(diagnose(run("smtp", "auth", reply=reply), THUNDERBIRD, ctx()))[0]
    assert finding.code == "auth-mechanism-unsupported"


def test_auth_mechanism_from_ehlo_offer() -> None:
    plain = Profile(
        id="p", name="Plain client", imap=ImapSettings(), smtp=SmtpSettings(auth="plain")
    )
    steps = run("smtp", "auth", reply=Reply("504", "5.7.4 Unrecognized authentication type"))
    finding = check(diagnose(steps, plain, ctx()))[0]
    assert finding.code == "auth-mechanism-unsupported"
    assert "AUTH LOGIN XOAUTH2" in finding.detail and "AUTH PLAIN" in finding.detail
    assert "smtp ehlo-tls" in finding.evidence and "smtp auth: 504" in finding.evidence


def test_tls_version_rejected_by_421_after_old_handshake() -> None:
    old = step("smtp", "tls", tls=TLSInfo(version="TLSv1", verified=True, issuer=GOOD_TLS.issuer))
    reply = Reply(
        "421",
        "4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to support "
        "TLS "
        "1.2. Visit https://aka.ms/smtp_auth_tls",
    )
    steps = run("smtp", "ehlo-tls", reply=reply, replace={"tls": old})
    findings = check(diagnose(steps, OUTLOOK_2016, ctx()))
    assert findings[0].code == "tls-version-rejected"
    assert "TLSv1 handshake" in findings[0].detail
    assert (
        findings[0].admin_action is not None and "AllowLegacyTLSClients" in findings[0].admin_action
    )


def test_tls_version_rejected_when_client_cannot_do_tls12() -> None:
    failure = fail(
        FailureKind.TLS_HANDSHAKE,
        "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure",
    )
    steps = run("imap", "tls", failure=failure)
    finding = check(diagnose(steps, OLD_DEVICE, ctx()))[0]
    assert finding.code == "tls-version-rejected"
    assert "at most TLS 1.0" in finding.detail


def test_cut_handshake_is_the_version_when_the_probe_capped_tls() -> None:
    """The engine can cap TLS (``--tls-max 1.0``); the probe records the cap on the step."""
    tls = step(
        "imap",
        "tls",
        Status.FAIL,
        failure=fail(FailureKind.CLOSED, "connection closed during TLS (UNEXPECTED_EOF)"),
        tls_min="1.0",
        tls_max="1.0",
    )
    finding = check(diagnose(run("imap", replace={"tls": tls}), THUNDERBIRD, ctx()))[0]
    assert finding.code == "tls-version-rejected"
    assert "at most TLS 1.0 here" in finding.detail


def test_cut_imap_handshake_is_the_version_when_smtp_negotiated_tls10() -> None:
    imap_tls = step(
        "imap", "tls", Status.FAIL, failure=fail(FailureKind.RESET, "connection reset by peer")
    )
    smtp_tls = step("smtp", "tls", tls=TLSInfo(version="TLSv1", issuer=GOOD_TLS.issuer))
    reply = Reply("421", "4.7.66 TLS 1.0 and 1.1 are not supported.")
    steps = run("imap", replace={"tls": imap_tls}) + run(
        "smtp", "ehlo-tls", reply=reply, replace={"tls": smtp_tls}
    )
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings)[:2] == ["tls-version-rejected", "tls-version-rejected"]
    assert {f.protocol for f in findings[:2]} == {"imap", "smtp"}
    assert (
        "other connection negotiated only TLSv1" in by_code(findings, "tls-version-rejected").detail
    )
    assert "connection-reset" not in codes(findings)


def test_tls_handshake_failed_otherwise() -> None:
    failure = fail(FailureKind.TLS_HANDSHAKE, "EOF occurred in violation of protocol")
    finding = check(diagnose(run("imap", "tls", failure=failure), THUNDERBIRD, ctx()))[0]
    assert finding.code == "tls-handshake-failed"


def test_legacy_tls_that_still_works_is_a_warning() -> None:
    old = step("imap", "tls", tls=TLSInfo(version="TLSv1.1", verified=True, issuer=GOOD_TLS.issuer))
    findings = check(diagnose(run("imap", replace={"tls": old}) + run("smtp"), OUTLOOK_2016, ctx()))
    assert codes(findings) == ["tls-legacy-version", "ok"]
    assert "1 July to 31 December 2026" in findings[0].detail


def test_tls_intercepted_names_the_issuer() -> None:
    info = TLSInfo(
        subject="CN=outlook.office365.com",
        issuer="CN=Contoso Inspection CA,OU=Security,O=Contoso Firewall Ltd",
        verified=False,
        verify_code=20,
        verify_message="unable to get local issuer certificate",
    )
    steps = run(
        "imap", "tls", failure=fail(FailureKind.TLS_VERIFY, "certificate verify failed"), tls=info
    )
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "tls-intercepted"
    assert "Contoso Firewall Ltd" in finding.title
    assert "unable to get local issuer certificate (code 20)" in finding.detail
    assert "issuer CN=Contoso Inspection CA" in finding.evidence
    assert finding.admin_action is not None and "outlook.office365.com:993" in finding.admin_action


def test_tls_intercepted_but_trusted_is_a_warning() -> None:
    info = TLSInfo(
        version="TLSv1.2", issuer="CN=Avast Web/Mail Shield Root", verified=True, verify_code=0
    )
    steps = run("imap", replace={"tls": step("imap", "tls", tls=info)}) + run("smtp")
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings) == ["tls-intercepted", "ok"]
    assert findings[0].severity is Severity.WARNING
    assert "Avast Web/Mail Shield Root" in findings[0].title


@pytest.mark.parametrize(
    ("code", "issuer", "variant_text"),
    [
        (10, GOOD_TLS.issuer, "expired"),
        (9, GOOD_TLS.issuer, "not valid yet"),
        (62, GOOD_TLS.issuer, "different server name"),
        (20, GOOD_TLS.issuer, "does not trust the authority"),
        (26, GOOD_TLS.issuer, "not accepted"),
    ],
)
def test_tls_certificate_invalid(code: int, issuer: str, variant_text: str) -> None:
    info = TLSInfo(
        issuer=issuer,
        sans=("*.outlook.com",),
        not_after="2020-01-01T00:00:00Z",
        verified=False,
        verify_code=code,
        verify_message="verification failed",
    )
    steps = run(
        "smtp", "tls", failure=fail(FailureKind.TLS_VERIFY, "certificate verify failed"), tls=info
    )
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "tls-certificate-invalid"
    assert variant_text in finding.title


def test_starttls_missing_from_ehlo() -> None:
    ehlo = step(
        "smtp", "ehlo", reply=Reply("250", "mx Hello"), capabilities={"size": "1", "8bitmime": ""}
    )
    starttls = step(
        "smtp",
        "starttls",
        Status.FAIL,
        failure=fail(FailureKind.NOT_OFFERED, "STARTTLS not offered"),
    )
    steps = run("smtp", replace={"ehlo": ehlo, "starttls": starttls}, stop_before="tls")
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "starttls-missing"
    assert "Never switch Thunderbird to an unencrypted connection" in finding.remedy


def test_port_filtered_on_the_way() -> None:
    control = step("imap", "control", port=443)
    steps = [*run("imap", "connect", failure=fail(FailureKind.TIMEOUT, "timed out")), control]
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "port-filtered"
    assert finding.title == "Port 993 to outlook.office365.com is blocked on the way"
    assert "imap control" in finding.evidence


def test_port_filtered_no_route_at_all() -> None:
    control = step(
        "smtp", "control", Status.FAIL, failure=fail(FailureKind.TIMEOUT, "timed out"), port=443
    )
    steps = [*run("smtp", "connect", failure=fail(FailureKind.TIMEOUT, "timed out")), control]
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "port-filtered"
    assert "cannot be reached at all" in finding.title


def test_port_filtered_without_control_step() -> None:
    steps = run("smtp", "connect", failure=fail(FailureKind.TIMEOUT, "timed out"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "port-filtered"
    assert "cannot tell" in finding.detail


def test_port_closed() -> None:
    steps = run(
        "smtp", "connect", failure=fail(FailureKind.REFUSED, "[Errno 111] Connection refused")
    )
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "port-closed"
    assert "587" in finding.title


@pytest.mark.parametrize(
    ("kind", "word"), [(FailureKind.RESET, "reset"), (FailureKind.CLOSED, "closed")]
)
def test_connection_reset(kind: FailureKind, word: str) -> None:
    steps = run("imap", "tls", failure=fail(kind, "connection reset by peer"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "connection-reset"
    assert f"was {word} during the TLS handshake" in finding.detail


def test_server_silent() -> None:
    steps = run("smtp", "greeting", failure=fail(FailureKind.TIMEOUT, "no greeting"))
    assert check(diagnose(steps, THUNDERBIRD, ctx()))[0].code == "server-silent"


def test_silence_after_the_password_mentions_delayed_verdicts() -> None:
    steps = run("smtp", "auth", failure=fail(FailureKind.TIMEOUT, "no reply after 10 s"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "server-silent"
    assert "delays" in finding.detail and "30 seconds" in finding.remedy


def test_wrong_protocol_and_wrong_port_setting() -> None:
    implicit = Profile(
        id="x", name="Mailer", imap=ImapSettings(), smtp=SmtpSettings(security="tls")
    )
    failure = fail(
        FailureKind.TLS_HANDSHAKE, "[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)"
    )
    smtp = [
        step("smtp", "connect"),
        step("smtp", "tls", Status.FAIL, failure=failure),
        step("smtp", "greeting", Status.SKIP),
    ]
    findings = check(diagnose(smtp, implicit, ctx()))
    assert codes(findings)[:2] == ["wrong-port", "wrong-protocol"]
    assert findings[0].severity is Severity.CRITICAL
    assert "587 with STARTTLS" in findings[0].title
    assert "encryption setting does not match" in findings[1].title


def test_wrong_protocol_from_500_on_smtp() -> None:
    steps = run("smtp", "ehlo", reply=Reply("500", "5.3.3 Unrecognized command 'Length: 2'"))
    assert check(diagnose(steps, THUNDERBIRD, ctx()))[0].code == "wrong-protocol"


def test_a_broken_answer_after_the_greeting_is_garbled_not_another_protocol() -> None:
    limit = "the server sent more than 10,000 lines in answer to one command; conntest stopped"
    after = run("imap", "capability", failure=fail(FailureKind.PROTOCOL, limit))
    found = check(diagnose(after, THUNDERBIRD, ctx()))[0]
    assert found.code == "server-garbled"
    assert "10,000 lines" in found.detail and "CAPABILITY" in found.detail
    before = run("imap", "greeting", failure=fail(FailureKind.PROTOCOL, "not an IMAP greeting"))
    assert check(diagnose(before, THUNDERBIRD, ctx()))[0].code == "wrong-protocol"


def test_a_flood_of_bad_lines_is_garbled_whatever_its_lines_say() -> None:
    # "* BAD flood" x 10,000: the last line reads as the server's words, but the read limit
    # decided the step, and that wins over them.
    limit = (
        "the server sent more than 10,000 lines in answer to one command; conntest stopped reading"
    )
    steps = run(
        "imap", "capability", reply=Reply("BAD", "flood"), failure=fail(FailureKind.PROTOCOL, limit)
    )
    without_limit = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert without_limit.code == "unrecognised"  # the words alone: what it read as before
    next(s for s in steps if s.status is Status.FAIL).data["limit"] = "lines"
    found = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert found.code == "server-garbled", found
    # the limit's message says conntest stopped reading; the entry does not say it again
    assert found.detail.count("stopped reading") == 1, found.detail
    assert "sent nothing more" not in found.detail


@pytest.mark.parametrize(("protocol", "name"), [("imap", "capability"), ("smtp", "ehlo-tls")])
def test_a_timeout_after_the_server_began_to_answer_is_an_answer_that_never_ended(
    protocol: str, name: str
) -> None:
    message = "the server began to answer (3,333 bytes) but had not ended the answer when"
    steps = run(protocol, name, failure=fail(FailureKind.TIMEOUT, message))
    assert check(diagnose(steps, THUNDERBIRD, ctx()))[0].code == "server-silent"
    next(s for s in steps if s.status is Status.FAIL).data["unended_bytes"] = 3333
    found = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert found.code == "server-garbled"
    assert found.title.endswith("began an answer and never ended it"), found.title
    assert "did not answer" not in found.title and "3,333 bytes" in found.detail


def test_a_silent_sign_in_stays_silence_not_an_unended_answer() -> None:
    # Microsoft delays a failed sign-in's answer; nothing came after the credential.
    steps = run("imap", "login", failure=fail(FailureKind.TIMEOUT, "timed out"))
    assert check(diagnose(steps, THUNDERBIRD, ctx()))[0].code == "server-silent"


def test_thunderbird_port_465_is_a_wrong_port() -> None:
    ssl465 = Profile(
        id="t", name="Thunderbird", imap=ImapSettings(), smtp=SmtpSettings(port=465, security="tls")
    )
    steps = run("imap") + run("smtp", "connect", failure=fail(FailureKind.TIMEOUT, "timed out"))
    findings = check(diagnose(steps, ssl465, ctx()))
    assert codes(findings)[:2] == ["wrong-port", "port-filtered"]


def _wrong_port(found: list[Finding]) -> Finding:
    return next(f for f in found if f.code == "wrong-port")


def test_wrong_port_on_smtp_465_quotes_microsofts_device_guide() -> None:
    ssl465 = Profile(
        id="t", name="Thunderbird", imap=ImapSettings(), smtp=SmtpSettings(port=465, security="tls")
    )
    steps = run("imap") + run("smtp", "connect", failure=fail(FailureKind.TIMEOUT, "timed out"))
    finding = _wrong_port(check(diagnose(steps, ssl465, ctx())))
    assert finding.severity is Severity.CRITICAL
    assert "If your device recommends or defaults to port 465" in finding.detail
    assert "does not offer" not in finding.detail  # the guide says no more than it says


def test_wrong_port_on_imap_never_speaks_of_smtp_or_465() -> None:
    """Working and failing, IMAP on 143: the detail is about IMAP, and says what happened."""
    profile = dataclasses.replace(
        THUNDERBIRD, imap=dataclasses.replace(THUNDERBIRD.imap, port=143, security="starttls")
    )
    names = ("connect", "greeting", "starttls", "tls", "capability", "login", "mailbox")
    worked = [step("imap", n) for n in names]
    refused = [
        step("imap", "connect", Status.FAIL, failure=fail(FailureKind.REFUSED, "refused")),
        *[step("imap", n, Status.SKIP) for n in names[1:]],
    ]
    for steps, severity in ((worked, Severity.WARNING), (refused, Severity.CRITICAL)):
        finding = _wrong_port(check(diagnose(steps, profile, ctx())))
        assert finding.severity is severity
        text = f"{finding.title} {finding.detail} {finding.remedy}"
        assert "SMTP" not in text and "465" not in text, text
        assert "port 143" in finding.detail and "993" in finding.detail
    working = _wrong_port(check(diagnose(worked, profile, ctx())))
    assert "refused" not in working.detail and "fail" not in working.detail
    assert "went through" in working.detail
    failing = _wrong_port(check(diagnose(refused, profile, ctx())))
    assert "failed before sign-in" in failing.detail


def test_dns_failure() -> None:
    resolve = step(
        "dns",
        "resolve",
        Status.FAIL,
        failure=fail(FailureKind.DNS_NXDOMAIN, "NXDOMAIN"),
        host="outlok.office365.com",
    )
    skipped = step("imap", "connect", Status.SKIP)
    findings = check(diagnose([resolve, skipped], THUNDERBIRD, ctx()))
    assert findings[0].code == "dns-failure"
    assert "outlok.office365.com" in findings[0].title


def test_dns_unexpected_private_address() -> None:
    resolve = step("dns", "resolve", host="outlook.office365.com", addresses=["10.20.30.40"])
    findings = check(diagnose([resolve, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    # TCP, TLS verification for the real name and the replies went through: context
    assert codes(findings) == ["ok", "dns-unexpected-address"]
    assert findings[1].severity is Severity.INFO
    assert "10.20.30.40" in findings[1].title


def test_a_private_address_for_a_name_that_is_not_microsofts_is_not_flagged() -> None:
    """An on-premises or test server may well live at a private address."""
    resolve = step("dns", "resolve", host="mail.example.test", addresses=["10.20.30.40"])
    findings = check(diagnose([resolve, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok"]
    # unless the user said where the servers must be
    narrow = ctx(expected_networks=("52.96.0.0/14",))
    findings = check(diagnose([resolve, *run("imap"), *run("smtp")], THUNDERBIRD, narrow))
    assert "dns-unexpected-address" in codes(findings)


@pytest.mark.parametrize("address", ["10.20.30.40", "224.0.0.1", "ff02::1"])
def test_dns_unexpected_address_is_critical_when_connection_then_fails(address: str) -> None:
    """Multicast too: Python counts it as global, but no server is there (field test)."""
    resolve = step("dns", "resolve", host="outlook.office365.com", addresses=[address])
    for kind in (FailureKind.REFUSED, FailureKind.TIMEOUT):
        steps = [resolve, *run("imap", "connect", failure=fail(kind, "no connection"))]
        findings = check(diagnose(steps, THUNDERBIRD, ctx()))
        assert codes(findings)[0] == "dns-unexpected-address", (kind, codes(findings))
        assert findings[0].severity is Severity.CRITICAL


def test_loopback_answer_without_expected_networks_is_context_beside_the_failure() -> None:
    """127.0.0.1 may be the user's own test server: the refusal is the cause."""
    resolve = step("dns", "resolve", host="outlook.office365.com", addresses=["127.0.0.1"])
    steps = [resolve, *run("imap", "connect", failure=fail(FailureKind.REFUSED, "refused"))]
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings)[:2] == ["port-closed", "dns-unexpected-address"]
    assert findings[1].severity is Severity.WARNING
    # with --expected-network the answer contradicts what the user said: the cause
    findings = check(diagnose(steps, THUNDERBIRD, ctx(expected_networks=("52.96.0.0/14",))))
    assert codes(findings)[:2] == ["dns-unexpected-address", "port-closed"]


def test_unexpected_answer_before_a_wrong_password_is_context() -> None:
    """The issue's case: the password is the cause, not the address the name resolved to."""
    resolve = step("dns", "resolve", host="outlook.office365.com", addresses=["10.20.30.40"])
    steps = [resolve, *run("imap", "login", reply=LOGIN_FAILED)]
    incorrect = "5.7.139 Authentication unsuccessful, the user credentials were incorrect."
    steps += run("smtp", "auth", reply=Reply("535", incorrect))
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings)[0] == "wrong-credentials"
    assert by_code(findings, "dns-unexpected-address").severity is Severity.INFO


def test_pinned_address_is_info_never_a_hijack() -> None:
    pinned = [
        step("dns", "resolve", host=h, addresses=["10.9.8.7"], source="--resolve")
        for h in ("outlook.office365.com", "smtp.office365.com")
    ]
    findings = check(diagnose([*pinned, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok", "dns-pinned"]
    pin = findings[1]
    assert pin.severity is Severity.INFO
    hosts = "outlook.office365.com and smtp.office365.com"
    assert pin.title == f"{hosts} pinned to 10.9.8.7 by --resolve"
    assert pin.evidence.count("pinned to 10.9.8.7 by --resolve") == 2
    refused = [*pinned, *run("imap", "connect", failure=fail(FailureKind.REFUSED, "refused"))]
    assert codes(check(diagnose(refused, THUNDERBIRD, ctx())))[0] == "port-closed"


def test_certificate_from_the_ca_file_is_info_not_interception() -> None:
    info = TLSInfo(version="TLSv1.3", issuer="CN=Test Root,O=Acme Test CA", verified=True)
    ca_file = {"trust": "ca-file"}
    steps = run("imap", replace={"tls": step("imap", "tls", tls=info, **ca_file)})
    steps += run("smtp", replace={"tls": step("smtp", "tls", tls=info, **ca_file)})
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok", "tls-ca-file"]
    assert "verified against the CA in --ca-file" in findings[1].title
    assert "Acme Test CA" in findings[1].title
    assert len(findings[1].evidence.splitlines()) == 2  # one cause, one line per protocol
    # without --ca-file the same chain is the interception warning it always was
    system = run("imap", replace={"tls": step("imap", "tls", tls=info, trust="system")})
    assert codes(check(diagnose(system + run("smtp"), THUNDERBIRD, ctx())))[0] == "tls-intercepted"


def test_same_interceptor_on_both_protocols_is_one_finding() -> None:
    info = TLSInfo(
        issuer="OU=Testing CA,O=Corp Interception Proxy",
        verified=False,
        verify_code=20,
        verify_message="unable to get local issuer certificate",
    )
    failure = fail(FailureKind.TLS_VERIFY, "certificate verify failed")
    steps = run("imap", "tls", failure=failure, tls=info)
    steps += run("smtp", "tls", failure=failure, tls=info)
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings).count("tls-intercepted") == 1
    lines = findings[0].evidence.splitlines()
    assert [line.split(" ", 1)[0] for line in lines] == ["imap", "smtp"]
    assert findings[0].protocol is None


def test_titles_keep_the_case_of_host_names() -> None:
    steps = run("imap", "connect", failure=fail(FailureKind.REFUSED, "refused"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.title.startswith("outlook.office365.com refused the connection on port 993")


def test_expected_networks() -> None:
    public = step(
        "dns", "resolve", host="outlook.office365.com", addresses=["52.97.1.1", "203.0.113.9"]
    )
    findings = diagnose(
        [public, *run("imap"), *run("smtp")], THUNDERBIRD, ctx(expected_networks=("52.96.0.0/14",))
    )
    assert "203.0.113.9" in by_code(findings, "dns-unexpected-address").title
    lab = step("dns", "resolve", host="localhost", addresses=["127.0.0.1", "::1"])
    findings = diagnose(
        [lab, *run("imap"), *run("smtp")],
        THUNDERBIRD,
        ctx(expected_networks=("127.0.0.0/8", "::1/128")),
    )
    assert codes(findings) == ["ok"]


def test_invalid_expected_network_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="not a CIDR"):
        DiagnosisContext(user=USER, password=None, expected_networks=("10.0.0.0/33",))


def test_domain_without_mx() -> None:
    mx = step(
        "dns",
        "mx",
        Status.FAIL,
        failure=fail(FailureKind.DNS_NXDOMAIN, "NXDOMAIN"),
        domain="contoso.example",
    )
    findings = check(diagnose([mx, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok", "domain-not-m365"]
    assert "no MX records" in findings[1].detail


@pytest.mark.parametrize(
    ("kind", "message"),
    [
        (FailureKind.DNS_TIMEOUT, "MX contoso.com: no DNS server answered in time"),
        (FailureKind.DNS_ERROR, "MX contoso.com: every DNS server failed to answer"),
    ],
)
def test_an_unanswered_mx_lookup_says_nothing_of_the_domain(
    kind: FailureKind, message: str
) -> None:
    mx = step("dns", "mx", Status.FAIL, failure=fail(kind, message), domain="contoso.com")
    findings = check(diagnose([mx, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok"]


def test_unsafe_step_is_explained_by_its_cause() -> None:
    ehlo = step("smtp", "ehlo", reply=Reply("250", "mx Hello"), capabilities={"size": "1"})
    starttls = step(
        "smtp", "starttls", Status.FAIL, failure=fail(FailureKind.NOT_OFFERED, "no STARTTLS")
    )
    auth = step(
        "smtp",
        "auth",
        Status.SKIP,
        failure=fail(FailureKind.UNSAFE, "would send the password in clear"),
    )
    steps = run(
        "smtp", replace={"ehlo": ehlo, "starttls": starttls, "auth": auth}, stop_before="tls"
    )
    steps.append(auth)
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert "starttls-missing" in codes(findings)
    assert "credentials-withheld" not in codes(findings)


def test_internal_error_is_unknown() -> None:
    steps = run("imap", "login", failure=fail(FailureKind.INTERNAL, "KeyError in imap probe"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "internal-error"
    assert finding.severity is Severity.UNKNOWN


def test_most_likely_cause_first_across_layers() -> None:
    resolve = step(
        "dns",
        "resolve",
        Status.FAIL,
        failure=fail(FailureKind.DNS_TIMEOUT, "timeout"),
        host="smtp.office365.com",
    )
    steps = [*run("imap", "login", reply=LOGIN_FAILED), resolve]
    findings = check(diagnose(steps, THUNDERBIRD, ctx()))
    assert codes(findings)[:2] == ["dns-failure", "login-rejected"]


def test_diagnose_is_pure() -> None:
    steps = run("imap", "login", reply=LOGIN_FAILED) + run("smtp")
    before = [vars(s).copy() for s in steps]
    assert diagnose(steps, THUNDERBIRD, ctx()) == diagnose(steps, THUNDERBIRD, ctx())
    assert [vars(s) for s in steps] == before


# --------------------------------------------------------------------------------------
# explain()
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    ["", " ", "\x00", "]" * 5000, "b'", "Error: Error: Error:", "{client} {0} {", "535", "NO"],
)
def test_explain_never_raises_and_never_says_ok_for_unknown(text: str) -> None:
    finding = explain(text)
    assert finding.code != "ok"
    assert finding.evidence


def test_explain_uses_the_profile() -> None:
    finding = explain("NO LOGIN failed.", OUTLOOK_2016)
    assert finding.code == "login-rejected"
    assert "Outlook 2016 cannot use OAuth2" in finding.remedy
    generic = explain("NO LOGIN failed.")
    assert "Thunderbird" in generic.remedy and "Outlook 2016" in generic.remedy


def test_explain_client_messages() -> None:
    assert explain(
        "Login to server outlook.office365.com with username anna@contoso.com failed."
    ).code == ("login-rejected")
    assert explain("The user name or password for “outlook.office365.com” is incorrect.").code == (
        "login-rejected"
    )
    assert explain("Outlook error 0x800CCC0E: Cannot connect to server").code == "port-filtered"
    assert explain("certificate verify failed: certificate has expired (_ssl.c:1006)").code == (
        "tls-certificate-invalid"
    )


def test_explain_normal_reply_is_ok() -> None:
    finding = explain("* OK The Microsoft Exchange IMAP4 service is ready. [TABPADQAUAAx==]")
    assert finding.code == "ok"
    assert "not an error" in finding.title


# --------------------------------------------------------------------------------------
# The catalogue itself
# --------------------------------------------------------------------------------------

REQUIRED_CODES = {
    "ok", "password-whitespace", "password-not-app-password", "username-format",
    "wrong-credentials", "login-rejected", "basic-auth-disabled", "smtp-auth-disabled",
    "security-defaults", "mfa-required",
    "conditional-access-blocked", "imap-disabled", "account-locked", "throttled",
    "auth-mechanism-unsupported", "tls-version-rejected", "tls-intercepted",
    "tls-certificate-invalid",
    "starttls-missing", "port-filtered", "port-closed", "connection-reset", "server-silent",
    "wrong-protocol", "dns-failure", "dns-unexpected-address", "domain-not-m365",
    "not-authenticated",
    "starttls-required", "send-as-denied", "mailbox-full", "server-garbled",
}  # fmt: skip


def test_catalogue_has_every_required_code() -> None:
    assert set(CATALOGUE) >= REQUIRED_CODES


def test_catalogue_patterns_are_reachable_and_variants_exist() -> None:
    assert len(set(MATCH_ORDER)) == len(MATCH_ORDER)
    for code, entry in CATALOGUE.items():
        assert entry.code == code
        assert "default" in entry.remedy
        if entry.patterns:
            assert code in MATCH_ORDER, code
        for pattern in entry.patterns:
            pattern.compiled()
            if pattern.variant:
                assert pattern.variant in entry.variants, (code, pattern.variant)


def _templates() -> list[str]:
    texts = [*MODERN_AUTH.values(), *DECIDE.values(), *NOTES.values()]
    for entry in CATALOGUE.values():
        texts += [entry.title, entry.meaning, *entry.remedy.values(), entry.admin_action or ""]
        for variant in entry.variants.values():
            texts += [variant.title or "", variant.detail or "", variant.admin_action or ""]
            texts += list((variant.remedy or {}).values())
    return texts


def test_every_template_field_is_known() -> None:
    from conntest.diagnosis.templates import DEFAULT_VALUES, DERIVED, base_values

    known = set(DEFAULT_VALUES) | set(DERIVED) | set(base_values(THUNDERBIRD, USER, "oauth2")) | {
        "expected_host", "expected_port", "expected_security", "client_port",  # protocol_values
    }  # fmt: skip
    for template in _templates():
        for _, name, _, _ in string.Formatter().parse(template):
            if name is not None:
                assert name.split("[")[0] in known, (name, template)
                if name.startswith("timeline["):
                    assert name[len("timeline[") : -1] in TIMELINE_CITES, name


def test_every_remedy_speaks_of_the_client() -> None:
    """A remedy is written for the selected client: its name, its settings or its way to OAuth2."""
    own = ("{client}", "{imap_settings}", "{smtp_settings}", "{password_path}", "{oauth2_how}")
    own += ("{modern_auth}", "{settings}")
    exempt = {"ok", "unrecognised", "internal-error"}
    for code, entry in CATALOGUE.items():
        if code in exempt:
            continue
        remedies = [entry.remedy] + [v.remedy for v in entry.variants.values() if v.remedy]
        for remedy in remedies:
            for kind, text in remedy.items():
                assert any(token in text for token in own), (code, kind, text)


def test_one_dated_table() -> None:
    keys = [e.key for e in RETIREMENT_TIMELINE]
    assert len(set(keys)) == len(keys)
    assert {
        "work-basic-auth-permanent",
        "consumer-basic-auth-off",
        "smtp-basic-default-off",
    } <= set(keys)


def test_imap_starttls_refused_speaks_of_imap() -> None:
    profile = dataclasses.replace(
        THUNDERBIRD, imap=dataclasses.replace(THUNDERBIRD.imap, port=143, security="starttls")
    )
    steps = [
        step("imap", "connect"),
        step(
            "imap",
            "greeting",
            reply=Reply("*", "OK The Microsoft Exchange IMAP4 service is ready."),
        ),
        step(
            "imap",
            "starttls",
            Status.FAIL,
            reply=Reply("BAD", "Command received in invalid state."),
            failure=fail(FailureKind.REJECTED, "STARTTLS refused"),
        ),
        *[step("imap", n, Status.SKIP) for n in ("tls", "capability", "login", "mailbox")],
    ]
    findings = check(diagnose(steps, profile, ctx()))
    assert codes(findings)[:2] == ["wrong-port", "starttls-missing"]
    missing = by_code(findings, "starttls-missing")
    assert missing.title.startswith("The IMAP server did not switch to encryption")
    assert "port 143" in missing.detail and "993" in missing.remedy


def test_a_server_given_as_an_address_is_not_judged_as_a_dns_answer() -> None:
    given = step("dns", "resolve", host="127.0.0.1", addresses=["127.0.0.1"], source="address")
    findings = check(diagnose([given, *run("imap"), *run("smtp")], THUNDERBIRD, ctx()))
    assert codes(findings) == ["ok"]


def test_titles_keep_names_written_their_own_way() -> None:
    """A title that starts with a host, a user or a client name keeps it as written."""
    from conntest.diagnosis.templates import DEFAULT_VALUES, capitalised

    template = "{host} refused the connection on port {port}"
    for host in ("outlook.office365.com", "localhost", "mail", "imap.contoso.test"):
        title = f"{host} refused the connection on port 993"
        assert capitalised(title, template, {"host": host}) == title
    neutral = {"host": DEFAULT_VALUES["host"]}  # no host known: a plain sentence
    assert capitalised("the server refused", template, neutral) == "The server refused"
    client = "{client} cannot sign in"
    assert capitalised("iOS Mail cannot sign in", client, {"client": "iOS Mail"}) == (
        "iOS Mail cannot sign in"
    )
    assert capitalised("the password was refused", "the password was refused", {}) == (
        "The password was refused"
    )


@pytest.mark.parametrize("host", ["localhost", "mail", "outlook.office365.com"])
def test_a_host_at_the_start_of_a_title_is_written_as_given(host: str) -> None:
    """``--imap mail:993`` refused: "mail refused the connection", not "Mail refused"."""
    steps = [
        step("dns", "resolve", host=host, addresses=["127.0.0.1"], source="--resolve"),
        step(
            "imap",
            "connect",
            Status.FAIL,
            failure=fail(FailureKind.REFUSED, "[Errno 111] Connection refused"),
            host=host,
            port=993,
            address="127.0.0.1",
        ),
        *[step("imap", n, Status.SKIP) for n in ("tls", "greeting", "capability", "login")],
    ]
    closed = by_code(check(diagnose(steps, THUNDERBIRD, ctx())), "port-closed")
    assert closed.title == f"{host} refused the connection on port 993", closed.title


def _refused_at(host: str, port: int) -> list[Step]:
    """IMAP refused at ``host:port`` (``--imap HOST:PORT``, or the lab's listener)."""
    return [
        step("dns", "resolve", host=host, addresses=["127.0.0.1"], source="--resolve"),
        step(
            "imap",
            "connect",
            Status.FAIL,
            failure=fail(FailureKind.REFUSED, f"127.0.0.1:{port}: connection refused"),
            host=host,
            port=port,
            address="127.0.0.1",
        ),
        *[step("imap", n, Status.SKIP) for n in ("tls", "greeting", "capability", "login")],
    ]


def test_a_finding_names_the_port_tested_and_advises_microsofts() -> None:
    """``--imap 127.0.0.1:1993``: the user reads the port they tested; what the client
    should use stays Microsoft's 993."""
    closed = by_code(
        check(diagnose(_refused_at("127.0.0.1", 1993), THUNDERBIRD, ctx())), "port-closed"
    )
    assert closed.title == "127.0.0.1 refused the connection on port 1993", closed.title
    assert closed.detail.startswith("The connection to 127.0.0.1:1993 was refused."), closed.detail
    assert "(outlook.office365.com, 993)" in closed.remedy, closed.remedy
    assert "1993" not in closed.remedy


def test_the_labs_listener_stands_in_for_the_profiles_port() -> None:
    """``--lab``: its loopback port plays outlook.office365.com:993, and findings say 993."""
    steps = _refused_at("outlook.office365.com", 40123)
    closed = by_code(
        check(diagnose(steps, THUNDERBIRD, ctx(stand_ins=frozenset({"imap"})))), "port-closed"
    )
    assert closed.title == "outlook.office365.com refused the connection on port 993"
    assert "40123" not in f"{closed.title} {closed.detail} {closed.remedy}"
    assert closed.evidence == "imap connect: 127.0.0.1:40123: connection refused"  # as it was


def test_wrong_port_names_the_clients_port_and_the_one_tested() -> None:
    """A profile on 143 checked at ``--imap outlook.office365.com:1143``: the client is set to
    143 (the profile's), and the connection went through on 1143 (the one tested)."""
    profile = dataclasses.replace(
        THUNDERBIRD, imap=dataclasses.replace(THUNDERBIRD.imap, port=143, security="starttls")
    )
    names = ("greeting", "starttls", "tls", "capability", "login", "mailbox")
    connect = step("imap", "connect", host="outlook.office365.com", port=1143, address="::1")
    steps = [connect, *[step("imap", n) for n in names]]
    finding = _wrong_port(check(diagnose(steps, profile, ctx())))
    assert finding.title.startswith("Thunderbird is set to IMAP port 143 with STARTTLS;")
    assert "answered IMAP on port 1143 with STARTTLS here" in finding.detail, finding.detail
    assert "set port 993" in finding.remedy


def test_a_refusal_in_unknown_words_does_not_claim_to_be_microsofts() -> None:
    """Any server may refuse a sign-in in its own words: conntest says it does not know
    them, not that 'Microsoft gives this same answer' for a wrong password."""
    steps = run("imap", "login", reply=Reply("NO", "Go away, the moon is full"))
    finding = check(diagnose(steps, THUNDERBIRD, ctx()))[0]
    assert finding.code == "login-rejected"
    assert "Go away, the moon is full" in finding.detail
    assert "Microsoft gives this same answer" not in finding.detail
    assert "does not know" in finding.title
    known = check(
        diagnose(run("imap", "login", reply=Reply("NO", "LOGIN failed.")), THUNDERBIRD, ctx())
    )
    assert "Microsoft gives this same answer" in known[0].detail


def test_an_unknown_imap_refusal_beside_an_smtp_sign_in_still_reads_as_imap_off() -> None:
    """The words are unknown, the inference is not: SMTP took the same password."""
    imap = run("imap", "login", reply=Reply("NO", "Go away, the moon is full"))
    findings = check(diagnose(imap + run("smtp"), THUNDERBIRD, ctx()))
    assert findings[0].code == "basic-auth-disabled"


def test_explain_says_it_does_not_know_an_unknown_refusal() -> None:
    finding = explain("A1 NO Go away, the moon is full")
    assert finding.code == "login-rejected"
    assert "Microsoft gives this same answer" not in finding.detail
