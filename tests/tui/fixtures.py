"""Fixed reports and a scripted engine, so snapshots never show a real port or timing.

The texts are those the lab and the diagnosis produced for the same
situations (trailers and ports fixed), so the screens look like real runs.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from conntest.engine import CheckRequest, StepCallback
from conntest.migration import route_for
from conntest.model import (
    Failure,
    FailureKind,
    Finding,
    ModernAuthRoute,
    ProfileResult,
    Reply,
    Report,
    Severity,
    Status,
    Step,
    TLSInfo,
)
from conntest.profiles import load_profiles

USER = "adele.vance@contoso.com"


def route(profile_id: str) -> ModernAuthRoute:
    """The shipped profile's way to modern authentication, as the engine records it."""
    return route_for(load_profiles(user=Path("/nonexistent")).get(profile_id))


TRAILER = "[YQXPR0101CA6748.CANPRD01.PROD.OUTLOOK.COM 2026-11-22T04:43:38.673Z 08D9BE8BA03EA6B9]"
SMTP_AUTH_DISABLED = (
    "5.7.139 Authentication unsuccessful, SmtpClientAuthentication is disabled for the "
    f"Tenant. Visit https://aka.ms/smtp_auth_disabled for more information. {TRAILER}"
)
TLS12 = TLSInfo(
    version="TLSv1.2",
    cipher="ECDHE-RSA-AES256-GCM-SHA384",
    subject="CN=outlook.com",
    issuer="CN=DigiCert Cloud Services CA-1",
    verified=True,
    verify_code=0,
)


def step(
    protocol: str,
    name: str,
    ms: float,
    status: Status = Status.PASS,
    *,
    reply: tuple[str, str] | None = None,
    failure: tuple[FailureKind, str] | None = None,
    tls: TLSInfo | None = None,
    transcript: Sequence[str] = (),
    **data: Any,
) -> Step:
    return Step(
        protocol=protocol,
        name=name,
        status=status,
        start_ms=0.0,
        elapsed_ms=ms,
        reply=Reply(*reply) if reply else None,
        failure=Failure(*failure) if failure else None,
        tls=tls,
        transcript=list(transcript),
        data=dict(data),
    )


def dns_steps() -> list[Step]:
    return [
        step("dns", "resolve", 21, host="outlook.office365.com", addresses=["52.97.146.178"]),
        step("dns", "resolve", 19, host="smtp.office365.com", addresses=["52.98.207.18"]),
    ]


def imap_ok(login_ms: float = 88) -> list[Step]:
    return [
        step("imap", "connect", 31, host="outlook.office365.com", port=993),
        step("imap", "tls", 64, tls=TLS12),
        step(
            "imap",
            "greeting",
            35,
            reply=("*", "OK The Microsoft Exchange IMAP4 service is ready."),
            transcript=["S: * OK The Microsoft Exchange IMAP4 service is ready."],
        ),
        step("imap", "capability", 33, reply=("OK", "CAPABILITY completed.")),
        step(
            "imap",
            "login",
            login_ms,
            reply=("OK", "AUTHENTICATE completed."),
            transcript=["C: A1 AUTHENTICATE PLAIN", "S: +", "C: <redacted>", "S: A1 OK"],
        ),
        step("imap", "mailbox", 41, reply=("OK", "[READ-ONLY] EXAMINE completed.")),
        step("imap", "logout", 12),
    ]


def smtp_refused(text: str = SMTP_AUTH_DISABLED) -> list[Step]:
    return [
        step("smtp", "connect", 30, host="smtp.office365.com", port=587),
        step("smtp", "greeting", 44, reply=("220", "Microsoft ESMTP MAIL Service ready")),
        step("smtp", "ehlo", 36, reply=("250", "STARTTLS")),
        step("smtp", "starttls", 33, reply=("220", "2.0.0 SMTP server ready")),
        step("smtp", "tls", 58, tls=TLS12),
        step("smtp", "ehlo-tls", 35, reply=("250", "AUTH LOGIN XOAUTH2")),
        step(
            "smtp",
            "auth",
            412,
            Status.FAIL,
            reply=("535", text),
            failure=(FailureKind.REJECTED, f"535 {text}"),
            transcript=["C: AUTH LOGIN", "S: 334 VXNlcm5hbWU6", "C: <redacted>", f"S: 535 {text}"],
        ),
        step("smtp", "quit", 15),
    ]


def smtp_auth_disabled_finding(client: str) -> Finding:
    return Finding(
        code="smtp-auth-disabled",
        severity=Severity.CRITICAL,
        title="Sending is switched off: SMTP AUTH is disabled for this organisation",
        detail=(
            "The server said SMTP AUTH is disabled for the Tenant: authenticated sending "
            "through smtp.office365.com is switched off for the whole organisation. It "
            f"blocks OAuth2 as well, so nothing in {client} can fix it; an administrator "
            "can allow it for this mailbox alone."
        ),
        remedy=(
            "Ask your administrator to allow SMTP AUTH for your mailbox (action below). "
            f"Until then {client} cannot send through smtp.office365.com."
        ),
        evidence=f"smtp auth: 535 {SMTP_AUTH_DISABLED}",
        admin_action=(
            f"For this mailbox only: `Set-CASMailbox -Identity {USER} "
            "-SmtpClientAuthenticationDisabled $false`; for the whole tenant: "
            "`Set-TransportConfig -SmtpClientAuthenticationDisabled $false`."
        ),
        protocol="smtp",
    )


def single_client_report() -> Report:
    """Thunderbird: receiving works, sending is switched off for the tenant."""
    steps = [*dns_steps(), *imap_ok(), *smtp_refused()]
    return Report(
        USER,
        1204.0,
        [
            ProfileResult(
                "thunderbird",
                steps,
                [smtp_auth_disabled_finding("Thunderbird")],
                modern_auth=route("thunderbird"),
            )
        ],
    )


def tls_rejected_finding() -> Finding:
    return Finding(
        code="tls-version-rejected",
        severity=Severity.CRITICAL,
        title="The server refuses Outlook 2016's old TLS version",
        detail=(
            "The TLS handshake failed, and Outlook 2016 can use at most TLS 1.0 here. "
            "Microsoft 365 accepts only TLS 1.2 and later."
        ),
        remedy=(
            "Update the system so Outlook 2016 can use TLS 1.2: on Windows 7 install the "
            "TLS 1.1/1.2 updates and set the registry keys that enable them."
        ),
        evidence="imap tls: TLS handshake failed: TLSV1_ALERT_PROTOCOL_VERSION",
        admin_action=None,
        protocol="imap",
    )


def tls_rejected_steps() -> list[Step]:
    failed = [
        step("imap", "connect", 30, host="outlook.office365.com", port=993),
        step(
            "imap",
            "tls",
            48,
            Status.FAIL,
            failure=(
                FailureKind.TLS_HANDSHAKE,
                "TLS handshake failed: TLSV1_ALERT_PROTOCOL_VERSION",
            ),
        ),
    ]
    for name in ("greeting", "capability", "login", "mailbox", "logout"):
        failed.append(step("imap", name, 0, Status.SKIP, reason="no TLS session"))
    smtp = [
        step("smtp", "connect", 29, host="smtp.office365.com", port=587),
        step("smtp", "greeting", 41, reply=("220", "Microsoft ESMTP MAIL Service ready")),
        step("smtp", "ehlo", 35, reply=("250", "STARTTLS")),
        step("smtp", "starttls", 31, reply=("220", "2.0.0 SMTP server ready")),
        step(
            "smtp",
            "tls",
            47,
            Status.FAIL,
            failure=(FailureKind.TLS_HANDSHAKE, "421 4.7.66 TLS 1.0 and 1.1 are not supported."),
        ),
        step("smtp", "ehlo-tls", 0, Status.SKIP, reason="no TLS session"),
        step("smtp", "auth", 0, Status.SKIP, reason="no TLS session"),
    ]
    return [*dns_steps(), *failed, *smtp]


def all_clients_report() -> Report:
    """Outlook 2016 on an old PC cannot connect at all; the others receive but cannot send."""
    return Report(
        USER,
        1630.0,
        [
            ProfileResult(
                "outlook-2016",
                tls_rejected_steps(),
                [tls_rejected_finding()],
                modern_auth=route("outlook-2016"),
            ),
            ProfileResult(
                "ios-mail",
                [*dns_steps(), *imap_ok(), *smtp_refused()],
                [smtp_auth_disabled_finding("iOS Mail")],
                modern_auth=route("ios-mail"),
            ),
            ProfileResult(
                "thunderbird",
                [*dns_steps(), *imap_ok(), *smtp_refused()],
                [smtp_auth_disabled_finding("Thunderbird")],
                modern_auth=route("thunderbird"),
            ),
        ],
    )


class ScriptedCheck:
    """A stand-in for ``run_check``: reports fixed steps, then a fixed report.

    With ``hold=True`` it stops after the steps and waits until released, so
    a test can look at live progress.
    """

    def __init__(
        self,
        report: Report,
        steps: Sequence[tuple[str, Step]] = (),
        *,
        hold: bool = False,
    ) -> None:
        self.report = report
        self.steps = list(steps)
        self.hold = hold
        self.release = asyncio.Event()
        self.requests: list[CheckRequest] = []

    async def __call__(self, request: CheckRequest, on_step: StepCallback | None) -> Report:
        self.requests.append(request)
        for profile_id, one in self.steps:
            if on_step is not None:
                on_step(profile_id, one)
        if self.hold:
            await self.release.wait()
        return self.report


def live_steps() -> list[tuple[str, Step]]:
    """The first steps of Thunderbird's run: IMAP up to login, SMTP up to STARTTLS."""
    imap = imap_ok()[:4]
    smtp = smtp_refused()[:3]
    ordered = [imap[0], smtp[0], imap[1], smtp[1], imap[2], smtp[2], imap[3]]
    return [("thunderbird", s) for s in ordered]


def whitespace_report() -> Report:
    """iOS Mail: the stored password has a trailing space; Microsoft says only "wrong"."""
    text = f"5.7.139 Authentication unsuccessful, the user credentials were incorrect. {TRAILER}"
    imap = imap_ok()
    imap[4] = step(
        "imap",
        "login",
        402,
        Status.FAIL,
        reply=("NO", "LOGIN failed."),
        failure=(FailureKind.REJECTED, "NO LOGIN failed."),
    )
    imap[5] = step("imap", "mailbox", 0, Status.SKIP, reason="not signed in")
    finding = Finding(
        code="password-whitespace",
        severity=Severity.CRITICAL,
        title="Likely cause: the password contains 1 trailing space",
        detail=(
            "The password as entered contains 1 trailing space, and the sign-in was refused "
            "as a credential failure. Microsoft never says 'extra space': a password with one "
            "is a wrong password to it."
        ),
        remedy=(
            "If these characters are not part of your password, re-enter it in iOS Mail "
            "without them (type it rather than paste it): Settings → Mail → Accounts → "
            "(account) → Account → Password."
        ),
        evidence="local password: 17 characters, 1 trailing space",
    )
    return Report(
        USER,
        1100.0,
        [ProfileResult("ios-mail", [*dns_steps(), *imap, *smtp_refused(text)], [finding])],
    )
