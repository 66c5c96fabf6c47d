"""``--format prometheus``: the exposition parses with prometheus_client's own parser.

Every family is a gauge with the documented labels, every series is unique,
and nothing carries a secret.
"""

from __future__ import annotations

import datetime

from prometheus_client.parser import text_string_to_metric_families

from conntest.batch.config import AccountEntry, PasswordSource
from conntest.batch.runner import AccountResult, BatchResult, evaluate
from conntest.model import (
    Failure,
    FailureKind,
    Finding,
    ProfileResult,
    Report,
    Severity,
    Status,
    Step,
    TLSInfo,
)
from conntest.render.prometheus import render_prometheus
from tests.conftest import SECRET, assert_no_secret, make_profile

NOT_AFTER = "2027-03-01T12:00:00+00:00"


def steps(auth: Status) -> list[Step]:
    tls = TLSInfo(version="TLSv1.3", not_after=NOT_AFTER, verified=True)
    failure = Failure(FailureKind.REJECTED, "535 refused") if auth is Status.FAIL else None
    return [
        Step("dns", "resolve", Status.PASS, 0, 3.0, data={"host": "outlook.office365.com"}),
        Step("dns", "resolve", Status.PASS, 0, 4.0, data={"host": "smtp.office365.com"}),
        Step("dns", "mx", Status.PASS, 0, 8.0),
        Step("imap", "connect", Status.PASS, 0, 10.0),
        Step("imap", "tls", Status.PASS, 0, 20.0, tls=tls),
        Step("imap", "login", auth, 0, 40.0, failure=failure),
        Step("smtp", "connect", Status.PASS, 0, 11.0),
        Step("smtp", "tls", Status.PASS, 0, 21.0, tls=tls),
        Step("smtp", "auth", auth, 0, 41.0, failure=failure),
        Step("smtp", "quit", Status.SKIP, 0, 0.0),
    ]


def finding(code: str, severity: Severity, protocol: str | None = None) -> Finding:
    return Finding(code, severity, f"title {code}", "detail", "remedy", "evidence", None, protocol)


def account(
    address: str, profiles: tuple[str, ...], code: str, severity: Severity
) -> AccountResult:
    entry = AccountEntry(
        address, tuple(make_profile(p) for p in profiles), PasswordSource.given(SECRET)
    )
    auth = Status.FAIL if severity >= Severity.CRITICAL else Status.PASS
    results = [
        ProfileResult(
            p, steps(auth), [finding(code, severity, "smtp"), finding("x", Severity.INFO)]
        )
        for p in profiles
    ]
    return evaluate(entry, Report(address, 1500.0, results))


def families(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    out: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        assert family.type == "gauge", family.name
        samples = [(dict(s.labels), s.value) for s in family.samples]
        keys = [tuple(sorted(labels.items())) for labels, _ in samples]
        assert len(keys) == len(set(keys)), f"duplicate series in {family.name}"
        out[family.name] = samples
    return out


def test_exposition_parses_and_has_the_documented_families() -> None:
    batch = BatchResult(
        [
            account("alice@contoso.com", ("thunderbird", "ios-mail"), "ok", Severity.OK),
            account("bob@contoso.com", ("thunderbird",), "basic-auth-disabled", Severity.CRITICAL),
        ],
        1_700_000_000.0,
        2000.0,
    )
    text = render_prometheus(batch)
    assert_no_secret(text)
    parsed = families(text)
    assert set(parsed) == {
        "conntest_up",
        "conntest_account_state",
        "conntest_check_duration_seconds",
        "conntest_step_duration_seconds",
        "conntest_finding",
        "conntest_certificate_expiry_timestamp_seconds",
        "conntest_auth_skipped",
        "conntest_basic_auth_in_use",
        "conntest_basic_auth_default_off_timestamp_seconds",
        "conntest_batch_accounts",
        "conntest_batch_duration_seconds",
        "conntest_batch_timestamp_seconds",
    }
    up = {(lb["account"], lb["profile"]): v for lb, v in parsed["conntest_up"]}
    assert up == {
        ("alice@contoso.com", "thunderbird"): 1.0,
        ("alice@contoso.com", "ios-mail"): 1.0,
        ("bob@contoso.com", "thunderbird"): 0.0,
    }
    state = {lb["account"]: v for lb, v in parsed["conntest_account_state"]}
    assert state == {"alice@contoso.com": 0.0, "bob@contoso.com": 2.0}

    durations = {
        (lb["account"], lb["profile"], lb["protocol"], lb["step"]): v
        for lb, v in parsed["conntest_step_duration_seconds"]
    }
    assert durations[("bob@contoso.com", "thunderbird", "imap", "dns")] == 0.003
    assert durations[("bob@contoso.com", "thunderbird", "smtp", "dns")] == 0.004
    assert durations[("bob@contoso.com", "thunderbird", "dns", "mx")] == 0.008
    assert durations[("bob@contoso.com", "thunderbird", "smtp", "auth")] == 0.041
    assert ("bob@contoso.com", "thunderbird", "smtp", "quit") not in durations  # skipped

    findings = {
        (lb["account"], lb["profile"], lb["protocol"], lb["code"], lb["severity"])
        for lb, _ in parsed["conntest_finding"]
    }
    assert ("bob@contoso.com", "thunderbird", "smtp", "basic-auth-disabled", "critical") in findings
    assert ("alice@contoso.com", "ios-mail", "", "x", "info") in findings

    expiry = datetime.datetime.fromisoformat(NOT_AFTER).timestamp()
    certs = {
        (lb["account"], lb["profile"], lb["protocol"]): v
        for lb, v in parsed["conntest_certificate_expiry_timestamp_seconds"]
    }
    assert certs[("alice@contoso.com", "ios-mail", "imap")] == expiry
    assert certs[("bob@contoso.com", "thunderbird", "smtp")] == expiry

    accounts = {lb["verdict"]: v for lb, v in parsed["conntest_batch_accounts"]}
    assert accounts == {"ok": 1.0, "warning": 0.0, "critical": 1.0, "unknown": 0.0}
    [(_, finished)] = parsed["conntest_batch_timestamp_seconds"]
    assert finished == 1_700_000_002.0


def test_probe_exposition_leaves_out_the_batch_families() -> None:
    batch = BatchResult([account("a@x.test", ("thunderbird",), "ok", Severity.OK)], 0.0, 10.0)
    parsed = families(render_prometheus(batch, batch_metrics=False))
    assert not any(name.startswith("conntest_batch_") for name in parsed)
    assert parsed["conntest_check_duration_seconds"] == [({"account": "a@x.test"}, 1.5)]


def test_an_account_without_a_report_is_down_with_its_code() -> None:
    entry = AccountEntry(
        'odd"name\\@x.test', (make_profile("thunderbird"),), PasswordSource("none")
    )
    late = AccountResult(
        entry, None, Severity.UNKNOWN, "check-deadline", "late", 7000.0, "skipped", "why", "err"
    )
    parsed = families(render_prometheus(BatchResult([late], 0.0, 7000.0)))
    assert parsed["conntest_up"] == [
        ({"account": 'odd"name\\@x.test', "profile": "thunderbird"}, 0)
    ]
    assert parsed["conntest_account_state"][0][1] == 3.0
    assert parsed["conntest_auth_skipped"][0][1] == 1.0
    [(labels, _)] = parsed["conntest_finding"]
    assert labels["code"] == "check-deadline"
    assert labels["severity"] == "unknown"
