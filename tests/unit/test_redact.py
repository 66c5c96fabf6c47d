"""The second line of defence: known secret forms never survive redaction."""

from __future__ import annotations

import base64

from conntest.redact import REDACTED, Redactor, secret_forms


def test_password_and_its_base64_forms_are_redacted() -> None:
    user, pw = "alice@contoso.com", "abcd efgh ijkl mnop"
    redact = Redactor.for_credentials(user, pw)
    plain = base64.b64encode(f"\0{user}\0{pw}".encode()).decode()
    login = base64.b64encode(pw.encode()).decode()
    text = f"C: AUTH PLAIN {plain}\nC: {login}\nS: echo {pw}\nC: {login.rstrip('=')}"
    out = redact(text)
    for form in (pw, plain, login, login.rstrip("=")):
        assert form not in out
    assert out.count(REDACTED) == 4


def test_no_password_changes_nothing() -> None:
    assert Redactor.for_credentials("a@b.c", None)("S: 235 2.7.0 ok") == "S: 235 2.7.0 ok"


def test_short_fragments_are_not_treated_as_secrets() -> None:
    # A one- or two-character password must not blank out every matching letter.
    assert all(len(f) >= 3 for f in secret_forms("a@b.c", "xy"))


def test_forms_of_the_stripped_retry_and_the_local_part_user_are_known() -> None:
    user, pw = "alice@contoso.com", " abcdefghijklmnop\u200b"
    redact = Redactor.for_credentials(user, pw)
    stripped = "abcdefghijklmnop"
    for blob in (
        stripped,
        base64.b64encode(stripped.encode()).decode(),
        base64.b64encode(f"\0alice\0{stripped}".encode()).decode(),
        base64.b64encode(f"\0alice\0{pw}".encode()).decode(),
    ):
        assert blob not in redact(f"S: echo {blob}")
