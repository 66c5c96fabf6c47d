"""The HTTP client conntest hands MSAL: pinned address, the check's CA, no environment.

MSAL accepts any object with ``get``/``post`` returning a requests-like
response (``msal.oauth2cli.http``).  Giving it this one instead of a
``requests.Session`` means sign-in goes exactly where the identity probe
went: the address DNS (``--nameserver``) or ``--resolve`` gave, TLS verified
against the authority's name and ``--ca-file`` (or the system store), and
never a CA bundle or proxy from ``REQUESTS_CA_BUNDLE``/``HTTPS_PROXY``
(oauth.md §5: requests ignores ``Session.verify`` when those are set).
"""

from __future__ import annotations

import ssl
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode, urlsplit

from conntest.probes.identity_probe import https_request


class TransportError(OSError):
    """The identity platform could not be reached (the message names host and cause)."""


class PinnedResponse:
    """The part of a requests response MSAL reads."""

    def __init__(self, status_code: int, text: str, headers: Mapping[str, str]) -> None:
        self.status_code = status_code
        self.text = text
        self.headers = dict(headers)

    def raise_for_status(self) -> None:
        if self.status_code >= 400:
            raise TransportError(f"HTTP {self.status_code}")


class PinnedHttpClient:
    """``get``/``post`` to the hosts in ``addresses`` only, over verified TLS."""

    def __init__(
        self, addresses: Mapping[str, str], context: ssl.SSLContext, timeout: float = 20.0
    ) -> None:
        self._addresses = {k.lower(): v for k, v in addresses.items()}
        self._context = context
        self._timeout = timeout

    def get(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        **_kwargs: Any,
    ) -> PinnedResponse:
        return self._send("GET", _with_query(url, params), None, headers)

    def post(
        self,
        url: str,
        params: Mapping[str, Any] | None = None,
        data: Any = None,
        headers: Mapping[str, str] | None = None,
        **_kwargs: Any,
    ) -> PinnedResponse:
        body = urlencode(data) if isinstance(data, Mapping) else (data or "")
        sent = dict(headers or {})
        sent.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return self._send("POST", _with_query(url, params), body.encode(), sent)

    def close(self) -> None:
        """Nothing stays open: every request has its own connection."""

    def _send(
        self, method: str, url: str, body: bytes | None, headers: Mapping[str, str] | None
    ) -> PinnedResponse:
        host = (urlsplit(url).hostname or "").lower()
        address = self._addresses.get(host)
        if address is None:
            # MSAL asked for a host the identity probe did not check: refuse rather
            # than go somewhere unverified (instance discovery is off).
            raise TransportError(f"sign-in tried to reach {host}, which conntest did not probe")
        try:
            answer = https_request(
                url, address, self._context, self._timeout, method, body, dict(headers or {})
            )
        except (OSError, ValueError) as exc:
            raise TransportError(f"{host}: {exc.__class__.__name__}: {exc}") from None
        except Exception as exc:  # http.client's protocol errors
            raise TransportError(f"{host}: {exc.__class__.__name__}") from None
        return PinnedResponse(answer.status, answer.body.decode("utf-8", "replace"), answer.headers)


def _with_query(url: str, params: Mapping[str, Any] | None) -> str:
    if not params:
        return url
    return f"{url}{'&' if '?' in url else '?'}{urlencode(params)}"
