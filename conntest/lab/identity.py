"""The lab's identity platform: ``login.microsoftonline.com`` over HTTPS on loopback.

What MSAL and conntest's identity probe call, shaped as ``shared/o365/oauth.md``
describes (MSAL 1.39 reads these shapes):

* ``GET /{tenant}/v2.0/.well-known/openid-configuration``: the discovery
  document (``issuer`` carries the tenant id); a tenant that is a domain under
  ``.example`` answers ``AADSTS90002`` (no such tenant);
* ``GET /{tenant}/oauth2/v2.0/authorize``: the lab plays a user who signs in
  and consents at once: ``response_mode=form_post`` gets the auto-submitting
  form that posts ``code`` and ``state`` to the loopback redirect, otherwise a
  302 to it;
* ``POST /{tenant}/oauth2/v2.0/devicecode`` and ``POST …/token`` (authorization
  code with PKCE S256, device code — ``authorization_pending`` once, then the
  result —, refresh token);
* ``GET /common/userrealm/{address}?api-version=1.0``: the user realm.

Which errors come back is the scenario's :class:`~conntest.lab.scenarios.OAuthBehaviour`,
chosen by the user who signs in: the ``login_hint`` of the browser flow, or the
lab's ``identity_user`` for a device code (a device-code request names no user).
HTTP/1.1 with ``Connection: close``: one request per connection keeps the
server small, and clients cope.
"""

from __future__ import annotations

import base64
import hashlib
import html
import json
import secrets
import ssl
import string
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlsplit

from conntest.lab.channel import Channel, LineTooLong
from conntest.lab.identity_grants import (
    LAB_TENANT_ID,
    Grant,
    GrantBook,
    error_body,
    token_response,
)
from conntest.lab.scenarios import Scenario

_MAX_BODY = 64 * 1024
_MAX_HEADERS = 100
_DEVICE_GRANT = "urn:ietf:params:oauth:grant-type:device_code"
_FEDERATED_DOMAINS = ("fabrikam.com",)
_CONSUMER_DOMAINS = ("outlook.com", "hotmail.com", "live.com")
# oauth.md §3, with the lab's own verification page instead of microsoft.com/devicelogin.
_DEVICE_MESSAGE = (
    "To sign in, use a web browser to open the page {uri} and enter the code {code}"
    " to authenticate."
)


@dataclass(frozen=True)
class IdentityEvent:
    """One request the identity platform answered."""

    endpoint: str
    """``"discovery"``, ``"authorize"``, ``"devicecode"``, ``"token"``, ``"userrealm"``…"""
    grant_type: str | None
    user: str | None
    scenario: str | None
    outcome: str
    """``"issued"``, ``"pending"``, ``"form_post"``, ``"AADSTS65001"``, ``"ok"``…"""
    tls_version: str | None
    at: float = field(default_factory=time.monotonic)


@dataclass(frozen=True)
class IdentityConfig:
    """What every request to the identity platform shares."""

    base_url: str
    """``https://login.microsoftonline.com:PORT`` (the authority without a tenant)."""
    scenario_for: Callable[[str], Scenario]
    identity_user: Callable[[], str]
    """The account the lab signs in as for a device code."""
    grants: GrantBook
    tls: ssl.SSLContext


@dataclass
class _Pending:
    user: str
    scenario: Scenario
    client_id: str
    scopes: frozenset[str]
    redirect_uri: str = ""
    challenge: str = ""
    nonce: str | None = None
    polls: int = 0


class IdentityServer:
    """The connection handler of the identity listener."""

    def __init__(self, config: IdentityConfig) -> None:
        self.config = config
        self.events: list[IdentityEvent] = []
        self._lock = threading.Lock()
        self._codes: dict[str, _Pending] = {}
        self._devices: dict[str, _Pending] = {}

    def log(self) -> list[IdentityEvent]:
        with self._lock:
            return list(self.events)

    def clear(self) -> None:
        with self._lock:
            self.events.clear()

    async def __call__(self, channel: Channel) -> None:
        await channel.open(self.config.tls)
        try:
            method, target, body, host = await _read_request(channel)
        except (LineTooLong, ValueError):
            await _respond(channel, 400, "text/plain", b"bad request")
            return
        status, content_type, payload, headers = self._route(method, target, body, channel, host)
        await _respond(channel, status, content_type, payload, headers)

    # --- routing -------------------------------------------------------------------------

    def _route(
        self, method: str, target: str, body: bytes, channel: Channel, host: str = ""
    ) -> tuple[int, str, bytes, dict[str, str]]:
        url = urlsplit(target)
        parts = [p for p in url.path.split("/") if p]
        query = {k: v[-1] for k, v in parse_qs(url.query).items()}
        form = {k: v[-1] for k, v in parse_qs(body.decode("utf-8", "replace")).items()}
        tls = channel.tls_version
        if len(parts) == 4 and parts[1:] == ["v2.0", ".well-known", "openid-configuration"]:
            # Endpoints under the name the client used (the lab answers to 127.0.0.1 too).
            return self._discovery(parts[0], tls, f"https://{host}" if host else "")
        if len(parts) == 3 and parts[0] == "common" and parts[1] == "userrealm":
            return self._userrealm(unquote(parts[2]), tls)
        if len(parts) == 4 and parts[1:3] == ["oauth2", "v2.0"]:
            tenant, endpoint = parts[0], parts[3]
            if endpoint == "authorize" and method == "GET":
                return self._authorize(query, tls)
            if endpoint == "devicecode" and method == "POST":
                return self._devicecode(tenant, form, tls)
            if endpoint == "token" and method == "POST":
                return self._token(form, tls)
        if len(parts) == 1 and parts[0] == "devicelogin":
            page = b"<html><body>conntest lab: the lab signs in for you.</body></html>"
            return 200, "text/html; charset=utf-8", page, {}
        self._note("unknown", None, None, None, "404", tls)
        return 404, "application/json", b'{"error":"not_found"}', {}

    def _note(
        self,
        endpoint: str,
        grant_type: str | None,
        user: str | None,
        scenario: str | None,
        outcome: str,
        tls: str | None,
    ) -> None:
        with self._lock:
            self.events.append(IdentityEvent(endpoint, grant_type, user, scenario, outcome, tls))

    def _json(self, status: int, doc: dict[str, Any]) -> tuple[int, str, bytes, dict[str, str]]:
        headers = {"Cache-Control": "no-store"}
        return status, "application/json; charset=utf-8", json.dumps(doc).encode(), headers

    def _error(
        self, code: int, endpoint: str, grant: str | None, pending: _Pending | None, tls: str | None
    ) -> tuple[int, str, bytes, dict[str, str]]:
        status, doc = error_body(code, self.config.base_url)
        user = pending.user if pending else None
        scenario = pending.scenario.name if pending else None
        self._note(endpoint, grant, user, scenario, f"AADSTS{code}", tls)
        return self._json(status, doc)

    # --- endpoints -----------------------------------------------------------------------

    def _discovery(
        self, tenant: str, tls: str | None, base: str = ""
    ) -> tuple[int, str, bytes, dict[str, str]]:
        if "." in tenant and tenant.lower().endswith(".example"):
            return self._error(90002, "discovery", None, None, tls)
        base = base or self.config.base_url
        self._note("discovery", None, None, None, "ok", tls)
        return self._json(
            200,
            {
                "issuer": f"{base}/{LAB_TENANT_ID}/v2.0",
                "authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/authorize",
                "token_endpoint": f"{base}/{tenant}/oauth2/v2.0/token",
                "device_authorization_endpoint": f"{base}/{tenant}/oauth2/v2.0/devicecode",
                "jwks_uri": f"{base}/{tenant}/discovery/v2.0/keys",
                "response_modes_supported": ["query", "fragment", "form_post"],
                "response_types_supported": ["code", "id_token", "code id_token"],
                "scopes_supported": ["openid", "profile", "email", "offline_access"],
                "tenant_region_scope": "EU",
            },
        )

    def _userrealm(self, address: str, tls: str | None) -> tuple[int, str, bytes, dict[str, str]]:
        domain = address.rpartition("@")[2].lower()
        # The field names oauth.md §3 records (account_type, federation_protocol, domain_name).
        doc: dict[str, Any] = {"ver": "1.0", "domain_name": domain}
        if domain in _CONSUMER_DOMAINS or domain.endswith(".example"):
            # oauth.md §3 records Managed / Federated / Unknown only: no source shows a
            # value of its own for a personal account, so the lab answers Unknown for one.
            doc["account_type"] = "Unknown"
        elif domain in _FEDERATED_DOMAINS:
            doc.update(
                account_type="Federated",
                federation_protocol="WSTrust",
                federation_metadata_url=f"https://sts.{domain}/adfs/services/trust/mex",
                federation_active_auth_url=f"https://sts.{domain}/adfs/services/trust/2005/usernamemixed",
                cloud_instance_name="microsoftonline.com",
            )
        else:
            doc.update(account_type="Managed", cloud_instance_name="microsoftonline.com")
        self._note("userrealm", None, address, None, str(doc["account_type"]), tls)
        return self._json(200, doc)

    def _authorize(
        self, query: dict[str, str], tls: str | None
    ) -> tuple[int, str, bytes, dict[str, str]]:
        redirect = query.get("redirect_uri", "")
        target = urlsplit(redirect)
        if target.scheme != "http" or target.hostname not in ("localhost", "127.0.0.1"):
            self._note("authorize", None, None, None, "bad-redirect", tls)
            page = b"<html><body>conntest lab: only a loopback redirect is served.</body></html>"
            return 400, "text/html; charset=utf-8", page, {}
        user = query.get("login_hint") or self.config.identity_user()
        pending = _Pending(
            user=user,
            scenario=self.config.scenario_for(user),
            client_id=query.get("client_id", ""),
            scopes=_scopes(query.get("scope", "")),
            redirect_uri=redirect,
            challenge=query.get("code_challenge", ""),
            nonce=query.get("nonce"),
        )
        code = "lab-code-" + secrets.token_urlsafe(24)
        with self._lock:
            self._codes[code] = pending
        answer = {"code": code, "state": query.get("state", "")}
        if query.get("response_mode") == "form_post":
            self._note("authorize", None, user, pending.scenario.name, "form_post", tls)
            fields = "".join(
                f'<input type="hidden" name="{k}" value="{html.escape(v)}"/>'
                for k, v in answer.items()
            )
            # Neutral wording: the shared notes do not record Microsoft's page.
            form_page = (
                "<html><head><title>conntest lab</title></head>"
                '<body onload="document.forms[0].submit()">'
                f'<form method="POST" name="hiddenform" action="{html.escape(redirect)}">'
                f'{fields}<noscript><input type="submit" value="Continue"/></noscript>'
                "</form></body></html>"
            )
            return 200, "text/html; charset=utf-8", form_page.encode(), {}
        self._note("authorize", None, user, pending.scenario.name, "redirect", tls)
        return 302, "text/plain", b"", {"Location": f"{redirect}?{urlencode(answer)}"}

    def _devicecode(
        self, tenant: str, form: dict[str, str], tls: str | None
    ) -> tuple[int, str, bytes, dict[str, str]]:
        user = self.config.identity_user()
        pending = _Pending(
            user=user,
            scenario=self.config.scenario_for(user),
            client_id=form.get("client_id", ""),
            scopes=_scopes(form.get("scope", "")),
        )
        if pending.scenario.oauth.devicecode_error is not None:
            return self._error(
                pending.scenario.oauth.devicecode_error, "devicecode", None, pending, tls
            )
        device_code = "lab-dc-" + secrets.token_urlsafe(32)
        user_code = "".join(secrets.choice(string.ascii_uppercase + "23456789") for _ in range(9))
        with self._lock:
            self._devices[device_code] = pending
        uri = f"{self.config.base_url}/devicelogin"
        self._note("devicecode", None, user, pending.scenario.name, "issued", tls)
        return self._json(
            200,
            {
                "device_code": device_code,
                "user_code": user_code,
                "verification_uri": uri,
                "expires_in": 900,
                "interval": 1,
                "message": _DEVICE_MESSAGE.format(uri=uri, code=user_code),
            },
        )

    def _token(
        self, form: dict[str, str], tls: str | None
    ) -> tuple[int, str, bytes, dict[str, str]]:
        grant_type = form.get("grant_type", "")
        if grant_type == "authorization_code":
            with self._lock:
                pending = self._codes.pop(form.get("code", ""), None)
            if pending is None or not _pkce_ok(pending.challenge, form.get("code_verifier", "")):
                self._note("token", grant_type, None, None, "invalid_grant", tls)
                return self._json(400, {"error": "invalid_grant", "error_codes": [54005]})
            failure = pending.scenario.oauth.browser_error
        elif grant_type == _DEVICE_GRANT:
            with self._lock:
                pending = self._devices.get(form.get("device_code", ""))
                if pending is not None:
                    pending.polls += 1
            if pending is None:
                self._note("token", grant_type, None, None, "bad_verification_code", tls)
                return self._json(400, {"error": "bad_verification_code", "error_codes": [70018]})
            if pending.polls == 1:
                return self._error(70016, "token", grant_type, pending, tls)
            with self._lock:
                self._devices.pop(form.get("device_code", ""), None)
            failure = pending.scenario.oauth.device_error
        elif grant_type == "refresh_token":
            grant = self.config.grants.refreshed(form.get("refresh_token", ""))
            if grant is None:
                self._note("token", grant_type, None, None, "invalid_grant", tls)
                return self._json(400, {"error": "invalid_grant", "error_codes": [50173]})
            scenario = self.config.scenario_for(grant.user)
            pending = _Pending(grant.user, scenario, form.get("client_id", ""), grant.scopes)
            failure = scenario.oauth.refresh_error
        else:
            self._note("token", grant_type, None, None, "unsupported_grant_type", tls)
            return self._json(400, {"error": "unsupported_grant_type"})
        if failure is not None:
            return self._error(failure, "token", grant_type, pending, tls)
        behaviour = pending.scenario.oauth
        grant = Grant(
            user=pending.user,
            scenario=pending.scenario.name,
            audience=behaviour.audience,
            scopes=frozenset(s for s in pending.scopes if s.startswith("https://")),
        )
        doc = token_response(
            self.config.grants,
            grant,
            pending.client_id,
            self.config.base_url,
            pending.nonce,
            behaviour.expires_in,
        )
        self._note("token", grant_type, pending.user, pending.scenario.name, "issued", tls)
        return self._json(200, doc)


def _scopes(text: str) -> frozenset[str]:
    return frozenset(text.split())


def _pkce_ok(challenge: str, verifier: str) -> bool:
    if not challenge or not verifier:
        return False
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode() == challenge


async def _read_request(channel: Channel) -> tuple[str, str, bytes, str]:
    line = (await channel.read_line()).decode("latin-1")
    method, target, _version = line.split(" ", 2)
    length = 0
    host = ""
    for _ in range(_MAX_HEADERS):
        header = (await channel.read_line()).decode("latin-1")
        if not header:
            break
        name, _, value = header.partition(":")
        if name.strip().lower() == "content-length":
            length = int(value.strip())
        elif name.strip().lower() == "host":
            host = value.strip()
    if not 0 <= length <= _MAX_BODY:
        raise ValueError("body too large")
    body = await channel.read_exactly(length) if length else b""
    return method.upper(), target, body, host


_REASONS = {200: "OK", 302: "Found", 400: "Bad Request", 401: "Unauthorized", 404: "Not Found"}


async def _respond(
    channel: Channel,
    status: int,
    content_type: str,
    body: bytes,
    headers: dict[str, str] | None = None,
) -> None:
    head = [
        f"HTTP/1.1 {status} {_REASONS.get(status, 'Error')}",
        f"Content-Type: {content_type}",
        f"Content-Length: {len(body)}",
        "Connection: close",
        *(f"{k}: {v}" for k, v in (headers or {}).items()),
        "",
        "",
    ]
    await channel.write("\r\n".join(head).encode("latin-1") + body)
