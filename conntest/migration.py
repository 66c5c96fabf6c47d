"""Each client's way off basic authentication, and who still depends on it.

Microsoft disables SMTP AUTH basic authentication by default at the end of
December 2026 (the dated facts are in the diagnosis's ``RETIREMENT_TIMELINE``).
This module holds what the matrix, the monitoring formats and
``docs/migration.md`` need to say about it, as pure functions of a profile and
of the steps a check recorded:

* :func:`route_for`: the client's way to modern authentication (from its
  profile's ``way_forward`` and ``oauth2`` fields);
* :func:`modern_auth_cell`: the matrix's modern-authentication column, which
  says "verified" only when an OAuth2 sign-in succeeded in this run
  (:attr:`~conntest.model.ProfileResult.oauth_signed_in`);
* :func:`basic_auth_in_use`: per protocol, whether a password sign-in succeeded.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Literal

from conntest.model import ModernAuthRoute, ProfileResult, Status, Step
from conntest.profile import Profile

__all__ = [
    "NO_OAUTH_ALTERNATIVES",
    "ModernAuthCell",
    "basic_auth_in_use",
    "modern_auth_cell",
    "oauth_sign_in",
    "route_for",
]

PASSWORD_STEPS: Mapping[str, tuple[str, ...]] = {
    "imap": ("login", "login-stripped"),
    "smtp": ("auth", "auth-stripped"),
}
"""The steps that send a user name and password, per protocol (a consented retry included)."""

TOKEN_MECHANISMS = ("XOAUTH2", "OAUTHBEARER")
"""Mechanisms that carry a token, not a password: not basic authentication."""

NO_OAUTH_SUMMARY = (
    "No modern authentication: send through High Volume Email, Direct Send or a relay connector"
)

NO_OAUTH_ALTERNATIVES: tuple[tuple[str, str, str], ...] = (
    (
        "High Volume Email (HVE)",
        "smtp.hve.mx.microsoft:587 with STARTTLS (the old name smtp-hve.office365.com is "
        "deprecated), with a dedicated HVE account",
        "basic authentication accepted until September 2028; internal recipients only; "
        "pay-as-you-go billing; Security Defaults also block its basic authentication",
    ),
    (
        "Direct Send",
        "the tenant's MX host (contoso-com.mail.protection.outlook.com), port 25",
        "recipients in your own tenant only; blocked when the organisation sets "
        "RejectDirectSend ('550 5.7.68 TenantInboundAttribution; Direct Send not allowed for "
        "this organization from unauthorized sources')",
    ),
    (
        "SMTP relay connector",
        "the tenant's MX host, port 25, STARTTLS; the connector matches the device by a static "
        "public IP address or a certificate",
        "an administrator sets up the connector; needs a static IP address",
    ),
    (
        "A local OAuth proxy or relay",
        "Postfix with sasl-xoauth2, email-oauth2-proxy or DavMail, next to the device",
        "another service to run",
    ),
)
"""For a device that cannot do OAuth at all: (option, endpoint, limits), from oauth.md §1."""

CellStatus = Literal["verified", "not-verified", "failed", "not-probed", "none"]


@dataclass(frozen=True)
class ModernAuthCell:
    """The matrix's modern-authentication column for one client."""

    status: CellStatus
    """``verified``: OAuth2 signed in on both servers in this run; ``not-verified``: the
    client can use OAuth2 but no OAuth probe ran; ``failed``: the OAuth probe ran and a
    sign-in failed; ``not-probed``: the way is another protocol conntest does not probe;
    ``none``: the client has no way to modern authentication."""
    route: str
    """The way, in one line (the profile's summary)."""
    note: str
    """What the status means for this client, in a few words."""

    @property
    def short(self) -> str:
        """A few words for a narrow column (the TUI's matrix): the kind of way and the status."""
        way = {
            "verified": "OAuth2",
            "not-verified": "OAuth2",
            "failed": "OAuth2",
            "not-probed": "Exchange",
            "none": "Relay/HVE",
        }[self.status]
        word = {
            "verified": "verified",
            "not-verified": "not verified",
            "failed": "failed",
            "not-probed": "not probed",
            "none": "no OAuth",
        }[self.status]
        return f"{way} · {word}"

    @property
    def text(self) -> str:
        """The cell as one line: the way, then the status note."""
        return f"{self.route} — {self.note}" if self.note else self.route


def _kind(profile: Profile) -> str:
    if profile.oauth2.supported:
        return "oauth2"
    return "switch" if profile.oauth2.how.strip() else "none"


def route_for(profile: Profile) -> ModernAuthRoute:
    """The client's way to modern authentication, from its profile."""
    kind = _kind(profile)
    summary = " ".join(profile.way_forward.summary.split())
    if not summary:
        summary = {
            "oauth2": "OAuth2 on both servers (IMAP and SMTP)",
            "switch": "Re-add the mailbox as an account type that uses modern authentication",
            "none": NO_OAUTH_SUMMARY,
        }[kind]
    return ModernAuthRoute(kind, summary, " ".join(profile.way_forward.not_probed.split()))


def modern_auth_cell(result: ProfileResult) -> ModernAuthCell | None:
    """The modern-authentication column for ``result``; ``None`` when the route is unknown."""
    route = result.modern_auth
    if route is None:
        return None
    if route.kind == "oauth2":
        signed = result.oauth_signed_in or oauth_sign_in(result.steps)
        refused = sorted(p.upper() for p, ok in signed.items() if not ok)
        if refused:
            return ModernAuthCell(
                "failed", route.summary, f"OAuth2 sign-in failed ({', '.join(refused)})"
            )
        if signed.get("imap") and signed.get("smtp"):
            return ModernAuthCell("verified", route.summary, "verified: OAuth2 signed in")
        if signed:
            done = ", ".join(sorted(p.upper() for p in signed))
            return ModernAuthCell("not-verified", route.summary, f"verified for {done} only")
        return ModernAuthCell("not-verified", route.summary, "not verified, run with --oauth")
    if route.kind == "switch":
        return ModernAuthCell("not-probed", route.summary, "conntest does not probe that way")
    return ModernAuthCell("none", route.summary, "")


def _sign_ins(steps: Iterable[Step], *, token: bool) -> dict[str, bool]:
    outcome: dict[str, bool] = {}
    for step in steps:
        names = PASSWORD_STEPS.get(step.protocol, ())
        if step.name not in names or step.status is Status.SKIP:
            continue
        mechanism = str(step.data.get("mechanism", "")).upper()
        if any(t in mechanism for t in TOKEN_MECHANISMS) is not token:
            continue
        outcome[step.protocol] = outcome.get(step.protocol, False) or step.status is Status.PASS
    return outcome


def basic_auth_in_use(steps: Iterable[Step]) -> dict[str, bool]:
    """Per protocol, whether a password sign-in succeeded (``False``: tried and refused).

    A protocol whose password step never ran (no password given, or the
    connection failed before it) is absent: nothing was learnt about it.
    """
    return _sign_ins(steps, token=False)


def oauth_sign_in(steps: Iterable[Step]) -> dict[str, bool]:
    """Per protocol, whether a sign-in with a token (XOAUTH2) succeeded; absent: not tried.

    What :func:`modern_auth_cell` reads when the result's ``oauth_signed_in`` is empty,
    so the column says "verified" as soon as the probes sign in with a token.
    """
    return _sign_ins(steps, token=True)
