"""What a sign-in produced, as data the engine and the diagnosis can use (no MSAL here).

The bearer token travels only inside :class:`SignInResult`, never in a
:class:`~conntest.model.Step`: the step keeps the flow, the numeric
``error_codes`` (the diagnosis keys on them, never on the description) and
the account, so a report can show everything but the secret.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from conntest.oauth import platform

SCOPES = (
    "https://outlook.office.com/IMAP.AccessAsUser.All",
    "https://outlook.office.com/SMTP.Send",
)
"""Delegated Outlook scopes; MSAL adds ``offline_access``, ``openid`` and ``profile`` itself."""

DEFAULT_AUTHORITY = platform.DEFAULT_AUTHORITY
DEFAULT_TENANT = platform.DEFAULT_TENANT


@dataclass(frozen=True)
class SignInResult:
    """The outcome of one sign-in attempt."""

    flow: str
    """``"cache"`` (silent, refresh token), ``"browser"``, ``"device-code"`` or ``"none"``."""
    token: str | None = field(default=None, repr=False)
    """The access token; ``None`` when the sign-in failed."""
    error: str | None = None
    """The OAuth ``error`` (``invalid_grant``…), or conntest's own word (``no-token``)."""
    error_codes: tuple[int, ...] = ()
    suberror: str | None = None
    account: str | None = None
    """The account the identity platform signed in (``preferred_username``)."""
    message: str = ""
    """One line for people, never the token or the server's description."""

    def step_data(self) -> dict[str, Any]:
        """What a report may keep: everything but the token."""
        data = {k: v for k, v in dataclasses.asdict(self).items() if k != "token"}
        data["error_codes"] = list(self.error_codes)
        return {k: v for k, v in data.items() if v not in (None, "", [])}


TokenSource = Callable[[str], Awaitable[SignInResult]]
"""Given the address the identity probe resolved for the authority, sign in."""


@dataclass(frozen=True)
class OAuthPlan:
    """A check that signs in with OAuth: where, and who obtains the token."""

    authority: str
    """``https://login.microsoftonline.com`` or ``--authority``, without the tenant."""
    tenant: str
    token_source: TokenSource
