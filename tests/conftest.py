"""Shared test helpers: profiles built in code, a distinctive password, certificates."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path

import pytest
import trustme

from conntest.profile import ImapSettings, Profile, SmtpSettings, TLSRange

# The date-aware advice on Microsoft's December 2026 change (basic-auth-retiring) must not
# make the suite's verdicts change with the calendar: every check a test runs through the
# CLI, batch or serve counts from this date (before the warning window, so a working
# account is still "ok"), unless the test passes its own with --today or this variable.
SUITE_TODAY = "2026-06-01"
os.environ["CONNTEST_TODAY"] = SUITE_TODAY


@pytest.fixture(autouse=True)
def private_state_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test's checks keep their lockout state and token cache to themselves.

    Without it, ``--format nagios`` and batches share the user's own state file, so a
    failure one test records makes a later test's check skip authentication.
    """
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg-state"))
    # ... and read no settings file (config.yaml) of the person running the suite.
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg-config"))
    monkeypatch.delenv("CONNTEST_CONFIG", raising=False)


# Distinctive, so that a leak is easy to find in any output.
SECRET = "zq Xylophone-Secret 42"
SECRET_FORMS = (
    SECRET,
    base64.b64encode(SECRET.encode()).decode(),
    "Xylophone-Secret",
)


# The primary finding each lab scenario must produce, for every shipped profile
# (docs/lab.md shows the same table).
EXPECTED_PRIMARY: dict[str, str] = {
    "ok": "ok",
    "wrong-password": "wrong-credentials",
    "basic-auth-disabled": "basic-auth-disabled",
    "basic-auth-retired": "basic-auth-disabled",
    "smtp-auth-disabled-tenant": "smtp-auth-disabled",
    "smtp-auth-disabled-mailbox": "smtp-auth-disabled",
    "imap-disabled-mailbox": "imap-disabled",
    "security-defaults": "security-defaults",
    "conditional-access": "conditional-access-blocked",
    "locked": "account-locked",
    "throttled": "throttled",
    "tls-legacy-rejected": "tls-version-rejected",
    "port-filtered": "port-filtered",
    "port-closed": "port-closed",
    "silent-server": "server-silent",
    "tls-intercepted": "tls-intercepted",
    "tls-expired": "tls-certificate-invalid",
    "starttls-stripped": "starttls-missing",
    "connection-reset": "connection-reset",
    "dns-nxdomain": "dns-failure",
    "dns-hijack": "dns-unexpected-address",
    # A password check of the modern-authentication scenarios (the OAuth codes come
    # with --oauth: tests/integration/test_oauth_lab.py).
    "oauth-ok": "ok",
    "oauth-consent-required": "ok",
    "oauth-admin-approval": "ok",
    "oauth-device-code-blocked": "ok",
    "oauth-public-client-off": "ok",
    "oauth-app-not-found": "ok",
    "oauth-mfa-registration": "ok",
    "oauth-wrong-resource": "ok",
    "oauth-smtp-auth-disabled": "smtp-auth-disabled",
    "oauth-imap-disabled": "imap-disabled",
    "oauth-reauth-required": "ok",
}


def make_profile(
    pid: str = "test-client",
    *,
    imap_login: str = "login",
    smtp_auth: str = "login",
    tls_min: str = "1.2",
    tls_max: str = "1.3",
    sasl_ir: bool = False,
    send_id: str = "never",
) -> Profile:
    return Profile(
        id=pid,
        name=f"Test {pid}",
        imap=ImapSettings(
            login=imap_login,
            sasl_ir=sasl_ir,
            send_id=send_id,  # type: ignore[arg-type]
            id_fields={"name": "conntest-test"} if send_id != "never" else {},
            settings_path="Settings → Incoming",
        ),
        smtp=SmtpSettings(auth=smtp_auth, settings_path="Settings → Outgoing"),  # type: ignore[arg-type]
        tls=TLSRange(min=tls_min, max=tls_max),  # type: ignore[arg-type]
        password_path="Settings → Password",
    )


def assert_no_secret(text: str) -> None:
    for form in SECRET_FORMS:
        assert form not in text, f"secret form {form!r} leaked"
    # base64 of PLAIN blobs, whatever the user name
    assert base64.b64encode(SECRET.encode()).decode()[:12] not in text


@pytest.fixture(scope="session")
def test_ca() -> trustme.CA:
    return trustme.CA()


@pytest.fixture
def ca_file(test_ca: trustme.CA, tmp_path: Path) -> Iterator[Path]:
    path = tmp_path / "ca.pem"
    test_ca.cert_pem.write_to_path(str(path))
    yield path
