"""Every verbatim server text in shared/o365/responses.yaml gets its expected code.

Twice: from ``explain()`` (the text pasted alone) and from ``diagnose()`` with the
text placed on the step where the probes would record it.  Then hand-made wild
variants — other trailers, multi-line dash form, ``b'…'`` reprs, lower case,
library and .NET wrappers — must give the same codes: the diagnosis matches on
meaning, not on one exact string.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from conntest.diagnosis import DiagnosisContext, diagnose, explain
from conntest.model import Failure, FailureKind, Finding, Reply, Status, Step, TLSInfo
from conntest.password import analyse_password
from conntest.profile import ImapSettings, OAuth2Support, Profile, SmtpSettings


def _find_responses() -> Path:
    """``shared/o365/responses.yaml`` beside the checkout (or beside a parent of a worktree)."""
    here = Path(__file__).resolve()
    for parent in here.parents[2:]:
        candidate = parent / "shared" / "o365" / "responses.yaml"
        if candidate.is_file():
            return candidate
    return here.parents[3] / "shared" / "o365" / "responses.yaml"


RESPONSES = _find_responses()

PROFILE = Profile(
    id="thunderbird",
    name="Thunderbird",
    imap=ImapSettings(settings_path="Account Settings → Server Settings"),
    smtp=SmtpSettings(settings_path="Account Settings → Outgoing Server (SMTP)"),
    oauth2=OAuth2Support(supported=True, how="Authentication method → OAuth2"),
    password_path="Saved Passwords",
)
CONTEXT = DiagnosisContext(user="anna@contoso.com", password=analyse_password("Summer2024!"))


def _load() -> list[dict[str, Any]]:
    if not RESPONSES.is_file():
        return []
    import yaml

    entries = yaml.safe_load(RESPONSES.read_text(encoding="utf-8"))
    return [e for e in entries if e.get("expected_code")]


ENTRIES = _load()
needs_file = pytest.mark.skipif(
    not ENTRIES, reason=f"{RESPONSES} not found (shared/ sits beside the repository checkout)"
)


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [str(e["id"]) for e in entries]


# --------------------------------------------------------------------------------------
# Where the probes record each reply
# --------------------------------------------------------------------------------------

STEP_OF: dict[tuple[str, str], str] = {
    ("imap", "greeting"): "greeting",
    ("imap", "capability"): "capability",
    ("imap", "login"): "login",
    ("imap", "auth"): "login",  # AUTHENTICATE PLAIN is the login step for that profile
    ("imap", "after-login"): "mailbox",
    ("imap", "select"): "mailbox",
    ("imap", "tls-handshake"): "greeting",  # a text can only arrive once TLS is up
    ("smtp", "greeting"): "greeting",
    ("smtp", "ehlo"): "ehlo",
    ("smtp", "starttls"): "starttls",
    ("smtp", "auth"): "auth",
    ("smtp", "tls-handshake"): "ehlo-tls",  # 421 4.7.66 answers the EHLO after an old handshake
}
"""(protocol, step in the YAML) → step name in the probe contract (conntest.model)."""

NOT_PROBED = {
    "pop": "conntest does not probe POP",
    "mail-from": "the probes stop after AUTH; MAIL FROM texts are for `conntest explain`",
    "data": "the probes stop after AUTH; DATA texts are for `conntest explain`",
}

IMAP_ORDER = ("connect", "tls", "greeting", "capability", "login", "mailbox", "logout")
SMTP_ORDER = ("connect", "greeting", "ehlo", "starttls", "tls", "ehlo-tls", "auth", "quit")
NORMAL: dict[str, dict[str, Reply | None]] = {
    "imap": {
        "greeting": Reply("*", "OK The Microsoft Exchange IMAP4 service is ready."),
        "capability": Reply("*", "CAPABILITY IMAP4 IMAP4rev1 AUTH=PLAIN AUTH=XOAUTH2"),
        "login": Reply("OK", "LOGIN completed."),
        "mailbox": Reply("OK", "EXAMINE completed."),
        "logout": Reply("BYE", "Microsoft Exchange Server IMAP4 server signing off."),
    },
    "smtp": {
        "greeting": Reply("220", "X Microsoft ESMTP MAIL Service ready"),
        "ehlo": Reply("250", "X Hello [192.0.2.1]"),
        "starttls": Reply("220", "2.0.0 SMTP server ready"),
        "ehlo-tls": Reply("250", "X Hello [192.0.2.1]"),
        "auth": Reply("235", "2.7.0 Authentication successful"),
        "quit": Reply("221", "2.0.0 Service closing transmission channel"),
    },
}


def as_reply(protocol: str, text: str) -> Reply:
    """The reply as a probe records it: status word or code apart, tag dropped."""
    text = text.strip()
    if protocol == "smtp":
        match = re.match(r"^(\d{3})[ -](.*)$", text, re.DOTALL)
        if match:
            return Reply(match.group(1), match.group(2))
        return Reply("535", text)
    if text.startswith("* "):
        return Reply("*", text[2:])
    match = re.match(r"^(?:\S+\s+)?(OK|NO|BAD|BYE)\s+(.*)$", text, re.DOTALL | re.IGNORECASE)
    if match:
        return Reply(match.group(1).upper(), match.group(2))
    return Reply("NO", text)


def capabilities(protocol: str, text: str) -> Any:
    if protocol == "imap":
        return [t for t in re.findall(r"[A-Za-z0-9=+._-]+", text) if t not in ("CAPABILITY", "OK")]
    keywords = {}
    for raw in re.split(r"\n|(?=250[ -])", text):
        line = re.sub(r"^250[ -]", "", raw.strip())
        if line and "Hello" not in line:
            word, _, rest = line.partition(" ")
            keywords[word.lower()] = rest
    return keywords


def scenario(protocol: str, name: str, reply: Reply, passes: bool) -> list[Step]:
    """A run of one protocol where ``name`` carries ``reply``.

    A passing reply sits in an otherwise complete, healthy run; a refusal ends the run
    there.  A refusal on the EHLO after TLS comes after an old TLS 1.0 handshake.
    """
    order = IMAP_ORDER if protocol == "imap" else SMTP_ORDER
    steps: list[Step] = []
    stopped = False
    for step_name in order:
        if stopped:
            steps.append(Step(protocol, step_name, Status.SKIP, 0, 0))
            continue
        data: dict[str, Any] = {}
        tls = None
        if step_name == "tls":
            version = "TLSv1" if name == "ehlo-tls" and not passes else "TLSv1.2"
            tls = TLSInfo(
                version=version,
                issuer="CN=DigiCert Cloud Services CA-1,O=DigiCert Inc",
                verified=True,
            )
        if step_name == "capability":
            data["capabilities"] = ["IMAP4rev1", "AUTH=PLAIN", "AUTH=XOAUTH2"]
        if step_name == "ehlo":
            data["capabilities"] = {"starttls": ""}
        if step_name == "ehlo-tls":
            data["capabilities"] = {"auth": "LOGIN XOAUTH2"}
        if step_name != name:
            steps.append(
                Step(
                    protocol,
                    step_name,
                    Status.PASS,
                    0,
                    0,
                    NORMAL[protocol].get(step_name),
                    tls=tls,
                    data=data,
                )
            )
            continue
        if step_name in ("capability", "ehlo", "ehlo-tls"):
            data["capabilities"] = capabilities(protocol, reply.text)
        if passes or (step_name == "capability" and "LOGINDISABLED" in reply.text.upper()):
            steps.append(Step(protocol, step_name, Status.PASS, 0, 0, reply, tls=tls, data=data))
            if step_name == "capability" and not passes:
                # A server announcing LOGINDISABLED gets no LOGIN from the probe.
                stopped = True
            continue
        failure = Failure(FailureKind.REJECTED, str(reply))
        steps.append(Step(protocol, step_name, Status.FAIL, 0, 0, reply, failure, tls, [], data))
        stopped = True
    return steps


def first(findings: list[Finding]) -> Finding:
    assert findings
    return findings[0]


# --------------------------------------------------------------------------------------
# The file
# --------------------------------------------------------------------------------------


@needs_file
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_explain_gives_expected_code(entry: dict[str, Any]) -> None:
    finding = explain(entry["server_text"], PROFILE)
    assert finding.code == entry["expected_code"], finding


@needs_file
@pytest.mark.parametrize("entry", ENTRIES, ids=_ids(ENTRIES))
def test_rules_give_expected_code_on_the_right_step(entry: dict[str, Any]) -> None:
    protocol, where = entry["protocol"], entry["step"]
    if protocol in NOT_PROBED:
        pytest.skip(NOT_PROBED[protocol])
    expected = entry["expected_code"]
    if (protocol, where) == ("smtp", "data") and expected == "ok":
        name = "quit"  # 221 closing the session
    elif where in NOT_PROBED:
        pytest.skip(NOT_PROBED[where])
    else:
        name = STEP_OF[(protocol, where)]
    text = entry["server_text"]
    if protocol == "smtp" and name == "ehlo" and "AUTH" in text:
        name = "ehlo-tls"  # the EHLO after STARTTLS lists AUTH
    reply = as_reply(protocol, text)
    steps = scenario(protocol, name, reply, passes=expected == "ok")
    findings = diagnose(steps, PROFILE, CONTEXT)
    assert first(findings).code == expected, findings


# --------------------------------------------------------------------------------------
# Variants seen in the wild, not in the file
# --------------------------------------------------------------------------------------

WILD: list[tuple[str, str, str, str]] = [
    # (text, expected code, protocol, step)
    (
        "Invalid login: 535-5.7.139 Authentication unsuccessful, the user credentials were "
        "incorrect.\n"
        "535 5.7.139 [DB8PR04CA0012.eurprd04.prod.outlook.com 2026-03-02T10:11:12.345Z "
        "08DE5A1B2C3D4E5F]",
        "wrong-credentials",
        "smtp",
        "auth",
    ),
    (
        "Error: Invalid login: 535 5.7.3 Authentication unsuccessful "
        "[BN6PR1101CA0001.namprd11.prod.outlook.com 2026-04-04T04:04:04.444Z 08DE9999FFFF0000]",
        "wrong-credentials",
        "smtp",
        "auth",
    ),
    (
        "(535, b'5.7.139 Authentication unsuccessful, basic authentication is disabled. "
        "[LO2P265CA0001.GBRP265.PROD.OUTLOOK.COM 2026-01-05T08:00:00.000Z 08DE1234ABCD5678]')",
        "basic-auth-disabled",
        "smtp",
        "auth",
    ),
    (
        "535 5.7.139 authentication unsuccessful, the request did not meet the criteria to be "
        "authenticated successfully. contact your administrator.",
        "conditional-access-blocked",
        "smtp",
        "auth",
    ),
    (
        "535 5.7.139 AUTHENTICATION UNSUCCESSFUL, SMTPCLIENTAUTHENTICATION IS DISABLED FOR THE "
        "MAILBOX.",
        "smtp-auth-disabled",
        "smtp",
        "auth",
    ),
    (
        "System.Net.Mail.SmtpException: The SMTP server requires a secure connection or the client "
        "was "
        "not authenticated. The server response was: 5.7.57 Client not authenticated to send mail. "
        "Error: 535 5.7.139 Authentication unsuccessful, user is locked by your organization's "
        "security "
        "defaults policy. Contact your administrator. "
        "[SJ0PR03CA0001.namprd03.prod.outlook.com 2026-02-02T02:02:02.222Z 08DE0000AAAA1111]",
        "security-defaults",
        "smtp",
        "auth",
    ),
    (
        "javax.mail.AuthenticationFailedException: 535 5.7.139 Authentication unsuccessful, "
        "account "
        "locked. Contact your administrator. [AM6PR0502CA0001.eurprd05.prod.outlook.com]",
        "account-locked",
        "smtp",
        "auth",
    ),
    (
        "5.7.57 Client not authenticated to send mail. Error: 535 5.7.139 Authentication "
        "unsuccessful, "
        "SmtpClientAuthentication is disabled for the Tenant. Visit "
        "https://aka.ms/smtp_auth_disabled "
        "for more information.",
        "smtp-auth-disabled",
        "smtp",
        "auth",
    ),
    (
        "550 5.7.30 basic authentication is not supported for client submission.",
        "basic-auth-disabled",
        "smtp",
        "auth",
    ),
    (
        "421 4.7.66 TLS 1.0 and 1.1 are not supported. Please upgrade/update your client to "
        "support "
        "TLS 1.2. Visit",
        "tls-version-rejected",
        "smtp",
        "ehlo-tls",
    ),
    (
        "504 5.7.4 Unrecognized authentication type [ME2PR01CA0084.ausprd01.prod.outlook.com "
        "2025-10-09T08:34:00.456Z 08DE05E7CF894786]",
        "auth-mechanism-unsupported",
        "smtp",
        "auth",
    ),
    ("[b'LOGIN failed.']", "login-rejected", "imap", "login"),
    ("imaplib.IMAP4.error: b'LOGIN failed.'", "login-rejected", "imap", "login"),
    ("A7 NO AUTHENTICATE failed.", "login-rejected", "imap", "login"),
    (
        "Can not authenticate to IMAP server: AUTHENTICATE failed.",
        "login-rejected",
        "imap",
        "login",
    ),
    ("AuthenticationFailedException: AUTHENTICATE failed.", "login-rejected", "imap", "login"),
    ("x1 no basic authentication is disabled.", "basic-auth-disabled", "imap", "login"),
    (
        "Command failed: A3 BAD User is authenticated but not connected.",
        "imap-disabled",
        "imap",
        "mailbox",
    ),
    (
        "b'[UNAVAILABLE] User is authenticated but not connected.'",
        "imap-disabled",
        "imap",
        "mailbox",
    ),
    (
        "a5 BAD Request is throttled. Suggested Backoff Time: 300123 milliseconds",
        "throttled",
        "imap",
        "mailbox",
    ),
    ("-ERR Logon failure: unknown user name or bad password.", "login-rejected", "pop", "login"),
]


def _wild_id(case: tuple[str, str, str, str]) -> str:
    return f"{case[1]}:{case[0][:40]}"


@pytest.mark.parametrize("case", WILD, ids=[_wild_id(c) for c in WILD])
def test_wild_variants_via_explain(case: tuple[str, str, str, str]) -> None:
    text, expected, _, _ = case
    assert explain(text).code == expected


@pytest.mark.parametrize(
    "case", [c for c in WILD if c[2] != "pop"], ids=[_wild_id(c) for c in WILD if c[2] != "pop"]
)
def test_wild_variants_via_rules_as_failure_message(case: tuple[str, str, str, str]) -> None:
    """Library-wrapped texts reach the rules as a failure message without a parsed reply."""
    text, expected, protocol, name = case
    steps = scenario(protocol, name, as_reply(protocol, "placeholder"), passes=False)
    for index, step in enumerate(steps):
        if step.name == name:
            steps[index] = Step(
                protocol,
                name,
                Status.FAIL,
                0,
                0,
                None,
                Failure(FailureKind.REJECTED, text),
                step.tls,
            )
    assert first(diagnose(steps, PROFILE, CONTEXT)).code == expected
