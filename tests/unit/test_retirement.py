"""The December 2026 rule, case by case: the date, the host, the mechanism, the texts.

Pure: steps built here, the date passed in, no clock and no network.
"""

from __future__ import annotations

from datetime import date

import pytest

from conntest.diagnosis import DiagnosisContext, diagnose, explain
from conntest.diagnosis.retirement import change_date, change_timestamp, countdown
from conntest.migration import basic_auth_in_use
from conntest.model import Failure, FailureKind, Finding, Reply, Severity, Status, Step
from conntest.password import analyse_password
from conntest.profiles import load_profiles

THUNDERBIRD = load_profiles().get("thunderbird")


def step(protocol: str, name: str, status: Status = Status.PASS, **data: str) -> Step:
    return Step(protocol, name, status, 0.0, 1.0, data=dict(data))


def signed_in(smtp_host: str = "smtp.office365.com", mechanism: str = "LOGIN") -> list[Step]:
    auth = step("smtp", "auth", mechanism=mechanism)
    auth.reply = Reply("235", "2.7.0 Authentication successful")
    return [
        step("dns", "resolve", host="outlook.office365.com", addresses="52.97.146.178"),
        step("imap", "connect", host="outlook.office365.com", port="993"),
        step("imap", "login", mechanism="authenticate-plain"),
        step("smtp", "connect", host=smtp_host, port="587"),
        step("smtp", "ehlo-tls"),
        auth,
    ]


def findings(steps: list[Step], today: date | None, window: int = 60) -> list[Finding]:
    context = DiagnosisContext(
        user="adele.vance@contoso.com",
        password=analyse_password("correcthorsebatt"),
        today=today,
        retirement_window=window,
    )
    return diagnose(steps, THUNDERBIRD, context)


def advice(found: list[Finding]) -> Finding | None:
    return next((f for f in found if f.code == "basic-auth-retiring"), None)


def test_the_date_is_the_timeline_s() -> None:
    assert change_date() == date(2026, 12, 31)
    assert change_timestamp() == 1798675200.0  # 2026-12-31T00:00:00Z


@pytest.mark.parametrize(
    ("today", "phase", "days_left"),
    [
        (date(2026, 11, 1), "window", 60),  # the first day of the window
        (date(2026, 10, 31), "before", 61),
        (date(2026, 12, 30), "window", 1),
        (date(2026, 12, 31), "after", 0),  # on the date
        (date(2027, 3, 1), "after", -60),
    ],
)
def test_countdown_phases(today: date, phase: str, days_left: int) -> None:
    where = countdown(today, 60)
    assert (where.phase, where.days_left) == (phase, days_left)


@pytest.mark.parametrize(
    ("today", "severity"),
    [(date(2026, 6, 1), Severity.INFO), (date(2026, 11, 1), Severity.WARNING)],
)
def test_severity_follows_the_date(today: date, severity: Severity) -> None:
    found = advice(findings(signed_in(), today))
    assert found is not None and found.severity is severity
    assert found.protocol == "smtp"
    assert "Account Settings" in found.remedy  # Thunderbird's own steps to OAuth2


def test_no_date_no_advice() -> None:
    """Without a date from the front end, the rule says nothing rather than guess one."""
    assert advice(findings(signed_in(), None)) is None


def test_a_token_sign_in_is_not_basic_authentication() -> None:
    steps = signed_in(mechanism="XOAUTH2")
    assert advice(findings(steps, date(2026, 12, 1))) is None
    assert basic_auth_in_use(steps) == {"imap": True}


@pytest.mark.parametrize("host", ["mail.example.test", "smtp.hve.mx.microsoft"])
def test_other_smtp_hosts_are_not_advised(host: str) -> None:
    """The change is Microsoft 365's client submission; HVE keeps basic auth until 2028."""
    assert advice(findings(signed_in(host), date(2026, 12, 1))) is None


def test_a_refused_password_is_not_advised() -> None:
    steps = signed_in()
    steps[-1].status = Status.FAIL
    steps[-1].reply = Reply(
        "535", "5.7.139 Authentication unsuccessful, the user credentials were incorrect."
    )
    steps[-1].failure = Failure(FailureKind.REJECTED, "535 5.7.139 …")
    assert advice(findings(steps, date(2026, 12, 1))) is None
    assert basic_auth_in_use(steps) == {"imap": True, "smtp": False}


def test_the_final_text_is_matched_on_its_sentence_not_on_5_7_30() -> None:
    announced = explain("550 5.7.30 Basic authentication is not supported for Client Submission.")
    assert announced.code == "basic-auth-disabled"
    assert "removed for good" in announced.detail
    # RFC 8689's meaning of 5.7.30: nothing to do with basic authentication.
    requiretls = explain("550 5.7.30 REQUIRETLS support required")
    assert requiretls.code != "basic-auth-disabled"


def test_the_matrix_says_verified_once_both_servers_took_a_token() -> None:
    from conntest.migration import modern_auth_cell, route_for
    from conntest.model import ProfileResult

    route = route_for(THUNDERBIRD)
    token = signed_in(mechanism="XOAUTH2")
    token[2].data["mechanism"] = "XOAUTH2 (SASL-IR)"
    cell = modern_auth_cell(ProfileResult("thunderbird", token, [], modern_auth=route))
    assert cell is not None and cell.status == "verified"
    token[-1].status = Status.FAIL
    cell = modern_auth_cell(ProfileResult("thunderbird", token, [], modern_auth=route))
    assert cell is not None and (cell.status, cell.note) == (
        "failed",
        "OAuth2 sign-in failed (SMTP)",
    )
    password = modern_auth_cell(ProfileResult("thunderbird", signed_in(), [], modern_auth=route))
    assert password is not None and password.note == "not verified, run with --oauth"
