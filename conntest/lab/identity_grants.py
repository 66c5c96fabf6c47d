"""What the lab's identity platform issued, and how its errors are shaped.

The identity server (:mod:`conntest.lab.identity`) records every access token
it issues in a :class:`GrantBook`; the lab's IMAP and SMTP servers look a
XOAUTH2 token up there and accept it only for the audience, scope and user it
was issued for, as Exchange Online does.  Tokens are random strings: the lab
needs no signatures because it is the only party that reads them.

Error bodies follow ``shared/o365/oauth.md`` §3 ("Errors"): ``error``,
``error_description`` (``"AADSTSnnnn: …\\r\\nTrace ID: …\\r\\nCorrelation ID:
…\\r\\nTimestamp: …"``), ``error_codes``, ``timestamp``, ``trace_id``,
``correlation_id``, ``error_uri``, optional ``suberror`` and ``claims``.  The
shared notes record no Microsoft wording for the descriptions, so the lab says
so in their place rather than inventing one; clients must key on
``error_codes`` anyway.
"""

from __future__ import annotations

import datetime
import json
import secrets
import threading
import uuid
from dataclasses import dataclass
from typing import Any

OUTLOOK_AUDIENCE = "https://outlook.office.com"
GRAPH_AUDIENCE = "https://graph.microsoft.com"
IMAP_SCOPE = f"{OUTLOOK_AUDIENCE}/IMAP.AccessAsUser.All"
SMTP_SCOPE = f"{OUTLOOK_AUDIENCE}/SMTP.Send"
LAB_TENANT_ID = "72f988bf-0000-4000-8000-00000000c0de"
"""The tenant id the lab's directory answers with (a fixed, obviously fake GUID)."""

NO_WORDING = "[conntest lab: Microsoft's wording for this code is not recorded]"


@dataclass(frozen=True)
class AadError:
    """One identity-platform error: the OAuth ``error``, its AADSTS code, optional extras."""

    code: int
    error: str
    suberror: str | None = None
    status: int = 400
    claims: str | None = None


# oauth.md §3: the codes a scenario can answer with, and their OAuth ``error`` values.
ERRORS: dict[int, AadError] = {
    65001: AadError(65001, "invalid_grant", suberror="consent_required"),
    90094: AadError(90094, "invalid_grant"),
    53003: AadError(
        53003,
        "invalid_grant",
        suberror="message_only",
        claims='{"access_token":{"capolids":{"essential":true,"values":["lab-policy"]}}}',
    ),
    7000218: AadError(7000218, "invalid_client", status=401),
    700016: AadError(700016, "unauthorized_client"),
    50079: AadError(50079, "interaction_required"),
    700082: AadError(700082, "invalid_grant"),
    70016: AadError(70016, "authorization_pending"),
    90002: AadError(90002, "invalid_tenant"),
}


def error_body(code: int, base_url: str) -> tuple[int, dict[str, Any]]:
    """HTTP status and JSON body of an identity-platform error, shaped as oauth.md says."""
    spec = ERRORS[code]
    now = datetime.datetime.now(datetime.UTC)
    trace, correlation = str(uuid.uuid4()), str(uuid.uuid4())
    stamp = now.strftime("%Y-%m-%d %H:%M:%SZ")
    body: dict[str, Any] = {
        "error": spec.error,
        "error_description": (
            f"AADSTS{code}: {NO_WORDING}\r\nTrace ID: {trace}\r\n"
            f"Correlation ID: {correlation}\r\nTimestamp: {stamp}"
        ),
        "error_codes": [code],
        "timestamp": stamp,
        "trace_id": trace,
        "correlation_id": correlation,
        "error_uri": f"{base_url}/error?code={code}",
    }
    if spec.suberror is not None:
        body["suberror"] = spec.suberror
    if spec.claims is not None:
        body["claims"] = spec.claims
    return spec.status, body


@dataclass(frozen=True)
class Grant:
    """What one access token stands for."""

    user: str
    scenario: str
    audience: str
    scopes: frozenset[str]


class GrantBook:
    """Access and refresh tokens the identity platform issued (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._access: dict[str, Grant] = {}
        self._refresh: dict[str, Grant] = {}

    def issue(self, grant: Grant) -> tuple[str, str]:
        """A new access token and refresh token for ``grant``."""
        access = "lab-at-" + secrets.token_urlsafe(48)
        refresh = "lab-rt-" + secrets.token_urlsafe(48)
        with self._lock:
            self._access[access] = grant
            self._refresh[refresh] = grant
        return access, refresh

    def refreshed(self, refresh_token: str) -> Grant | None:
        with self._lock:
            return self._refresh.get(refresh_token)

    def accepts(self, token: str, user: str, scope: str) -> Grant | None:
        """The grant if ``token`` is for Outlook, carries ``scope`` and belongs to ``user``."""
        with self._lock:
            grant = self._access.get(token)
        if grant is None or grant.audience != OUTLOOK_AUDIENCE:
            return None
        if scope not in grant.scopes or grant.user.lower() != user.lower():
            return None
        return grant

    def issued(self) -> int:
        with self._lock:
            return len(self._access)


def token_response(
    book: GrantBook, grant: Grant, client_id: str, base_url: str, nonce: str | None, expires_in: int
) -> dict[str, Any]:
    """The JSON MSAL expects from the token endpoint: tokens, an id_token and client_info."""
    access, refresh = book.issue(grant)
    now = int(datetime.datetime.now(datetime.UTC).timestamp())
    oid = str(uuid.uuid5(uuid.NAMESPACE_URL, grant.user.lower()))
    claims: dict[str, Any] = {
        "iss": f"{base_url}/{LAB_TENANT_ID}/v2.0",
        "aud": client_id,
        "sub": oid,
        "oid": oid,
        "tid": LAB_TENANT_ID,
        "preferred_username": grant.user,
        "name": grant.user.partition("@")[0],
        "iat": now,
        "nbf": now,
        "exp": now + 3600,
        "ver": "2.0",
    }
    if nonce:
        claims["nonce"] = nonce
    client_info = {"uid": oid, "utid": LAB_TENANT_ID}
    scope_words = (
        sorted(grant.scopes)
        if grant.audience == OUTLOOK_AUDIENCE
        else [f"{grant.audience}/{s.rpartition('/')[2]}" for s in sorted(grant.scopes)]
    )
    return {
        "token_type": "Bearer",
        "scope": " ".join(scope_words),
        "expires_in": expires_in,
        "ext_expires_in": expires_in,
        "access_token": access,
        "refresh_token": refresh,
        "id_token": _unsigned_jwt(claims),
        "client_info": _b64url(json.dumps(client_info).encode()),
    }


def _b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unsigned_jwt(claims: dict[str, Any]) -> str:
    header = _b64url(json.dumps({"alg": "none", "typ": "JWT"}).encode())
    return f"{header}.{_b64url(json.dumps(claims).encode())}."
