"""What the dependence metrics must say for each lab scenario (the December 2026 change)."""

from __future__ import annotations

from datetime import UTC, datetime

from prometheus_client.parser import text_string_to_metric_families

CHANGE = datetime(2026, 12, 31, tzinfo=UTC).timestamp()
"""Microsoft's "end of December 2026", as conntest counts it (00:00 UTC)."""

DEPENDENCE: dict[str, tuple[float, float]] = {
    # scenario: (IMAP, SMTP) password sign-in succeeded; 0 also where it was never reached.
    "ok": (1, 1),
    "wrong-password": (0, 0),
    "basic-auth-disabled": (0, 0),
    "basic-auth-retired": (0, 0),
    "smtp-auth-disabled-tenant": (1, 0),
    "smtp-auth-disabled-mailbox": (1, 0),
    "imap-disabled-mailbox": (1, 1),  # LOGIN succeeds; the mailbox is refused afterwards
    "security-defaults": (0, 0),
    "conditional-access": (0, 0),
    "locked": (0, 0),
    "throttled": (1, 1),  # LOGIN succeeds; the mailbox command is throttled
    "tls-legacy-rejected": (0, 0),
    "port-filtered": (0, 0),
    "port-closed": (0, 0),
    "silent-server": (0, 0),
    "connection-reset": (0, 0),
    "tls-intercepted": (0, 0),
    "tls-expired": (0, 0),
    "starttls-stripped": (1, 0),  # IMAP is untouched; SMTP never gets to AUTH
    "dns-nxdomain": (0, 0),
    "dns-hijack": (0, 0),
    # The modern-authentication scenarios checked with a password: the lab's password
    # sign-in works as in "ok", except where the mailbox switch also blocks it.
    "oauth-ok": (1, 1),
    "oauth-consent-required": (1, 1),
    "oauth-admin-approval": (1, 1),
    "oauth-device-code-blocked": (1, 1),
    "oauth-public-client-off": (1, 1),
    "oauth-app-not-found": (1, 1),
    "oauth-mfa-registration": (1, 1),
    "oauth-wrong-resource": (1, 1),
    "oauth-smtp-auth-disabled": (1, 0),  # SMTP AUTH off for the mailbox blocks every AUTH
    "oauth-imap-disabled": (1, 1),  # LOGIN succeeds; the mailbox is refused afterwards
    "oauth-reauth-required": (1, 1),
}


def assert_dependence_metrics(exposition: str, scenario_of: dict[str, str]) -> None:
    """Every account has its IMAP and SMTP dependence series, as its scenario implies, and
    the exposition carries the change's date once (parsed with prometheus_client's parser).

    Called by the 1,000-account batch in tests/integration/test_batch.py, so the suite
    runs one large batch, not two.
    """
    in_use: dict[tuple[str, str], float] = {}
    change: list[float] = []
    for family in text_string_to_metric_families(exposition):
        for sample in family.samples:
            if sample.name == "conntest_basic_auth_in_use":
                key = (sample.labels["account"], sample.labels["protocol"])
                in_use[key] = max(in_use.get(key, 0.0), sample.value)
            elif sample.name == "conntest_basic_auth_default_off_timestamp_seconds":
                change.append(sample.value)
    assert change == [CHANGE]
    assert set(DEPENDENCE) >= set(scenario_of.values()), "a new scenario needs its row here"
    wrong = {
        address: (scenario, (in_use.get((address, "imap")), in_use.get((address, "smtp"))))
        for address, scenario in scenario_of.items()
        if (in_use.get((address, "imap")), in_use.get((address, "smtp"))) != DEPENDENCE[scenario]
    }
    assert not wrong, f"account → (scenario, (imap, smtp)): {dict(list(wrong.items())[:5])}"
