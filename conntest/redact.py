"""Keep credentials out of everything conntest records.

The probes never write a credential into a transcript in the first place;
:class:`Redactor` is the second line of defence, applied by the engine to every
transcript line, reply text and failure message before a step leaves it.  It
knows the password and the encodings a mail protocol could carry it in (AUTH
LOGIN's base64 password, AUTH PLAIN's base64 ``authzid\\0user\\0password``)
and replaces any of them with ``<redacted>``.
"""

from __future__ import annotations

import base64
from collections.abc import Iterable

from conntest.password import strip_invisible

REDACTED = "<redacted>"


def secret_forms(user: str, password: str) -> list[str]:
    """Every form in which ``password`` could travel on the wire, longest first."""
    if not password:
        return []
    # Every password that may be sent (the consented retry strips it) and
    # every user form a profile may use (the full address or its local part).
    passwords = {password, password.strip(), strip_invisible(password)}
    users = {user, user.partition("@")[0]}
    forms = set(passwords)
    raw: list[bytes] = []
    for pw in passwords:
        raw.append(pw.encode())
        for name in users:
            raw += [
                f"\0{name}\0{pw}".encode(),
                f"{name}\0{name}\0{pw}".encode(),
                f"{name}\0{pw}".encode(),
            ]
    for blob in raw:
        encoded = base64.b64encode(blob).decode()
        forms.add(encoded)
        # A base64 form can also appear without its padding.
        forms.add(encoded.rstrip("="))
    return sorted((f for f in forms if len(f) >= 3), key=len, reverse=True)


def bearer_forms(user: str, token: str) -> list[str]:
    """Every form an OAuth access token could appear in, longest first.

    The token, ``Bearer <token>``, the XOAUTH2 string (raw, escaped as repr
    shows it, base64 with and without padding), and a cut-short start of the
    token and of its base64 SASL form (a line shortened for a transcript).
    """
    if not token:
        return []
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    encoded = base64.b64encode(raw.encode()).decode()
    head = len(base64.b64encode(f"user={user}\x01auth=Bearer ".encode()).rstrip(b"="))
    forms = {
        token,
        f"Bearer {token}",
        raw,
        repr(raw)[1:-1],
        encoded,
        encoded.rstrip("="),
        token[:24],
        encoded[: head + 16],
        base64.b64encode(token.encode()).decode(),
    }
    return sorted((f for f in forms if len(f) >= 16), key=len, reverse=True)


class Redactor:
    """Replace known secrets in text."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = [s for s in secrets if s]

    @classmethod
    def for_credentials(cls, user: str, password: str | None) -> Redactor:
        return cls(secret_forms(user, password or ""))

    def __call__(self, text: str) -> str:
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        return text
