"""The lab's scenarios as data: what each one changes about the fake Microsoft 365.

A scenario is one condition a user can meet (a policy refusal, a firewall, an
interceptor, broken DNS).  Auth scenarios differ only in what the servers say
once a user name is known, so they share the main IMAP and SMTP listeners and
the lab picks the behaviour from the account that logs in.  Scenarios that act
before any user name is sent (network faults, certificates, EHLO contents) get
listeners of their own; DNS scenarios get their own DNS "view".

Which ``responses.yaml`` entry each text comes from is recorded in
:mod:`conntest.lab.texts`.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from conntest.lab import texts


class Fault(enum.StrEnum):
    """A network failure injected on loopback instead of a server."""

    FILTERED = "filtered"
    """SYNs are dropped: a listening socket whose accept queue is full."""
    CLOSED = "closed"
    """Connection refused: a bound socket that does not listen."""
    SILENT = "silent"
    """TCP accepted, then nothing: no TLS handshake, no greeting."""
    RESET = "reset"
    """TCP accepted, then RST after the client's first bytes (SMTP: after the greeting)."""


class Certificate(enum.StrEnum):
    """Which certificate the listeners present."""

    GOOD = "good"
    """Issued by the lab's public-looking CA (the one in ``Lab.ca_file``)."""
    INTERCEPTOR = "interceptor"
    """Issued by "Corp Interception Proxy", a CA the client does not trust."""
    EXPIRED = "expired"
    """Issued by the good CA, but expired."""


class DnsView(enum.StrEnum):
    """How a DNS view answers for the Microsoft host names."""

    NORMAL = "normal"
    """127.0.0.1, where the lab listens."""
    NXDOMAIN = "nxdomain"
    """The names do not exist."""
    HIJACK = "hijack"
    """127.0.0.66, where nothing listens (a hosts file or resolver pointing elsewhere)."""


@dataclass(frozen=True)
class ImapBehaviour:
    """How the IMAP server answers LOGIN/AUTHENTICATE and the first mailbox command."""

    password_accepted: bool = True
    """False: the right password is refused like any other."""
    login_refusal: str = texts.IMAP_LOGIN_FAILED
    authenticate_refusal: str = texts.IMAP_AUTHENTICATE_FAILED
    bye_after_refusal: bool = False
    """Send ``* BYE … signing off.`` and close after a refusal (the 2026 consumer behaviour)."""
    mailbox_refusal: str | None = None
    """Tagged reply to the first mailbox command after a successful login, then
    ``* BYE Connection closed. 14`` and close; ``None``: mailbox commands work."""


@dataclass(frozen=True)
class SmtpBehaviour:
    """How the SMTP server answers AUTH after STARTTLS, and what EHLO offers."""

    right_password: str | None = None
    """Reply to the right password; ``None``: ``235`` success."""
    wrong_password: str = texts.SMTP_CREDENTIALS_INCORRECT
    """Reply to any other password."""
    offers_starttls: bool = True
    """False: EHLO omits STARTTLS and the command is unknown (a stripping middlebox)."""
    oauth_refusal: str | None = None
    """Reply to a valid XOAUTH2 token; ``None``: ``235`` success."""


@dataclass(frozen=True)
class OAuthBehaviour:
    """How the identity platform answers a sign-in (AADSTS codes of oauth.md §3)."""

    browser_error: int | None = None
    """Redeeming the authorization code (browser sign-in) fails with this code."""
    device_error: int | None = None
    """Polling for the device code (after one ``authorization_pending``) fails with this code."""
    devicecode_error: int | None = None
    """Asking for a device code at all fails with this code."""
    refresh_error: int | None = None
    """Redeeming a refresh token fails with this code."""
    audience: str = "https://outlook.office.com"
    """The resource the issued access tokens are for."""
    expires_in: int = 3599
    """Lifetime of the issued access tokens (MSAL refreshes one with under 5 minutes left)."""

    @property
    def starts_signed_in(self) -> bool:
        """About a saved sign-in (its refresh token is refused): the lab signs in first."""
        return self.refresh_error is not None


@dataclass(frozen=True)
class Scenario:
    """One condition the lab can present, and what it changes."""

    name: str
    summary: str
    imap: ImapBehaviour = field(default_factory=ImapBehaviour)
    smtp: SmtpBehaviour = field(default_factory=SmtpBehaviour)
    own_listeners: bool = False
    """True: served on listeners of its own (the behaviour starts before any user name)."""
    fault: Fault | None = None
    certificate: Certificate = Certificate.GOOD
    dns: DnsView = DnsView.NORMAL
    client_tls_max: str | None = None
    """The client side of the scenario: the highest TLS version the check should offer."""
    oauth: OAuthBehaviour = field(default_factory=OAuthBehaviour)


_REFUSE_ALL_IMAP = ImapBehaviour(password_accepted=False)


def _policy(text: str) -> SmtpBehaviour:
    """SMTP refuses with ``text`` whatever the password (checked before the password)."""
    return SmtpBehaviour(right_password=text, wrong_password=text)


_TABLE: tuple[Scenario, ...] = (
    Scenario("ok", "Everything works with the lab password."),
    Scenario(
        "wrong-password",
        "Every password is wrong.",
        imap=_REFUSE_ALL_IMAP,
        smtp=SmtpBehaviour(right_password=texts.SMTP_CREDENTIALS_INCORRECT),
    ),
    Scenario(
        "basic-auth-disabled",
        "An authentication policy blocks basic auth (IMAP says only LOGIN failed).",
        imap=_REFUSE_ALL_IMAP,
        smtp=_policy(texts.SMTP_BASIC_AUTH_DISABLED),
    ),
    Scenario(
        "basic-auth-retired",
        "Basic auth is gone for good (2026 IMAP text, announced SMTP 5.7.30).",
        imap=ImapBehaviour(
            password_accepted=False,
            login_refusal=texts.IMAP_BASIC_AUTH_DISABLED,
            authenticate_refusal=texts.IMAP_BASIC_AUTH_DISABLED,
            bye_after_refusal=True,
        ),
        smtp=_policy(texts.SMTP_BASIC_AUTH_RETIRED),
    ),
    Scenario(
        "smtp-auth-disabled-tenant",
        "SMTP AUTH is disabled for the tenant; IMAP works.",
        smtp=_policy(texts.SMTP_AUTH_DISABLED_TENANT),
    ),
    Scenario(
        "smtp-auth-disabled-mailbox",
        "SMTP AUTH is disabled for the mailbox; IMAP works.",
        smtp=_policy(texts.SMTP_AUTH_DISABLED_MAILBOX),
    ),
    Scenario(
        "imap-disabled-mailbox",
        "IMAP login succeeds, then the mailbox is refused (IMAP off for the mailbox).",
        imap=ImapBehaviour(mailbox_refusal=texts.IMAP_NOT_CONNECTED),
    ),
    Scenario(
        "security-defaults",
        "Security defaults block all legacy authentication.",
        imap=_REFUSE_ALL_IMAP,
        smtp=_policy(texts.SMTP_SECURITY_DEFAULTS),
    ),
    Scenario(
        "conditional-access",
        "A Conditional Access policy blocks legacy auth after the password is checked.",
        imap=_REFUSE_ALL_IMAP,
        smtp=SmtpBehaviour(right_password=texts.SMTP_CRITERIA_NOT_MET),
    ),
    Scenario(
        "locked",
        "The account is locked.",
        imap=_REFUSE_ALL_IMAP,
        smtp=_policy(texts.SMTP_ACCOUNT_LOCKED),
    ),
    Scenario(
        "throttled",
        "IMAP login succeeds, then the mailbox command is throttled.",
        imap=ImapBehaviour(mailbox_refusal=texts.IMAP_THROTTLED),
    ),
    Scenario(
        "tls-legacy-rejected",
        "The client offers only TLS 1.0: IMAP handshake fails, SMTP answers 421 4.7.66.",
        own_listeners=True,
        client_tls_max="1.0",
    ),
    Scenario(
        "port-filtered",
        "A firewall drops the connection attempts.",
        own_listeners=True,
        fault=Fault.FILTERED,
    ),
    Scenario(
        "port-closed",
        "The connection attempts are refused.",
        own_listeners=True,
        fault=Fault.CLOSED,
    ),
    Scenario(
        "silent-server",
        "TCP connects, then nothing is said.",
        own_listeners=True,
        fault=Fault.SILENT,
    ),
    Scenario(
        "connection-reset",
        "TCP connects, then the connection is reset.",
        own_listeners=True,
        fault=Fault.RESET,
    ),
    Scenario(
        "tls-intercepted",
        "A proxy re-signs TLS with its own CA.",
        own_listeners=True,
        certificate=Certificate.INTERCEPTOR,
    ),
    Scenario(
        "tls-expired",
        "The server certificate has expired.",
        own_listeners=True,
        certificate=Certificate.EXPIRED,
    ),
    Scenario(
        "starttls-stripped",
        "A middlebox removes STARTTLS from the SMTP EHLO reply.",
        own_listeners=True,
        smtp=SmtpBehaviour(offers_starttls=False),
    ),
    Scenario(
        "dns-nxdomain",
        "DNS says the Microsoft host names do not exist.",
        dns=DnsView.NXDOMAIN,
    ),
    Scenario(
        "dns-hijack",
        "DNS sends the Microsoft host names to 127.0.0.66, where nothing listens.",
        dns=DnsView.HIJACK,
    ),
)

_OAUTH_TABLE: tuple[Scenario, ...] = (
    # Modern authentication: what the identity platform and then Exchange say to XOAUTH2.
    Scenario("oauth-ok", "OAuth sign-in (browser or device code) and XOAUTH2 work."),
    Scenario(
        "oauth-consent-required",
        "Sign-in fails: nobody consented to the app (AADSTS65001).",
        oauth=OAuthBehaviour(browser_error=65001, device_error=65001),
    ),
    Scenario(
        "oauth-admin-approval",
        "Sign-in fails: the app needs admin approval (AADSTS90094).",
        oauth=OAuthBehaviour(browser_error=90094, device_error=90094),
    ),
    Scenario(
        "oauth-device-code-blocked",
        "Conditional Access blocks device-code sign-in (AADSTS53003); the browser works.",
        oauth=OAuthBehaviour(device_error=53003),
    ),
    Scenario(
        "oauth-public-client-off",
        "'Allow public client flows' is off: device code fails (AADSTS7000218).",
        oauth=OAuthBehaviour(device_error=7000218),
    ),
    Scenario(
        "oauth-app-not-found",
        "The client id is not registered in the directory (AADSTS700016).",
        oauth=OAuthBehaviour(browser_error=700016, devicecode_error=700016),
    ),
    Scenario(
        "oauth-mfa-registration",
        "Sign-in needs MFA registration first (AADSTS50079).",
        oauth=OAuthBehaviour(browser_error=50079, device_error=50079),
    ),
    Scenario(
        "oauth-wrong-resource",
        "The token is for Microsoft Graph, not Outlook: IMAP and SMTP refuse it.",
        oauth=OAuthBehaviour(audience="https://graph.microsoft.com"),
    ),
    Scenario(
        "oauth-smtp-auth-disabled",
        "SMTP AUTH is disabled for the tenant, which refuses XOAUTH2 too; IMAP works.",
        smtp=SmtpBehaviour(
            right_password=texts.SMTP_AUTH_DISABLED_TENANT,
            wrong_password=texts.SMTP_AUTH_DISABLED_TENANT,
            oauth_refusal=texts.SMTP_AUTH_DISABLED_TENANT,
        ),
    ),
    Scenario(
        "oauth-imap-disabled",
        "XOAUTH2 is accepted, then the mailbox is refused (IMAP off for the mailbox).",
        imap=ImapBehaviour(mailbox_refusal=texts.IMAP_NOT_CONNECTED),
    ),
    Scenario(
        "oauth-reauth-required",
        "The refresh token has expired (AADSTS700082): the user must sign in again.",
        oauth=OAuthBehaviour(refresh_error=700082, expires_in=60),
    ),
)

OAUTH_SCENARIOS: tuple[str, ...] = tuple(s.name for s in _OAUTH_TABLE)
"""The modern-authentication scenarios, in table order."""

_TABLE = _TABLE + _OAUTH_TABLE

SCENARIOS: Mapping[str, Scenario] = MappingProxyType({s.name: s for s in _TABLE})
"""Every scenario by name, in a stable order (the order of the table above)."""


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; ``ValueError`` naming the valid ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise ValueError(
            f"unknown scenario {name!r}; expected one of: {', '.join(SCENARIOS)}"
        ) from None
