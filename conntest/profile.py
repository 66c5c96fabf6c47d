"""What a mail client does on the wire, as a typed record.

A :class:`Profile` is loaded from YAML by :mod:`conntest.profiles`; the probes
follow it (which login command, which TLS versions, whether to send IMAP ID)
and the diagnosis quotes it in remedies (where the setting lives, whether the
client can switch to OAuth2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Security = Literal["tls", "starttls"]
ImapLogin = Literal["login", "authenticate-plain"]
SmtpAuth = Literal["login", "plain"]
IdWhen = Literal["never", "before-login", "after-login"]
UsernameForm = Literal["address", "local-part"]
TLSVersion = Literal["1.0", "1.1", "1.2", "1.3"]

TLS_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3")


@dataclass(frozen=True)
class TLSRange:
    """The TLS versions the client's stack can negotiate."""

    min: TLSVersion = "1.2"
    max: TLSVersion = "1.3"


@dataclass(frozen=True)
class ImapSettings:
    host: str = "outlook.office365.com"
    port: int = 993
    security: Security = "tls"
    login: ImapLogin = "login"
    """``login`` = the LOGIN command; ``authenticate-plain`` = AUTHENTICATE PLAIN."""
    sasl_ir: bool = False
    """Send the PLAIN response with the command (RFC 4959) instead of after a ``+``."""
    send_id: IdWhen = "never"
    id_fields: dict[str, str] = field(default_factory=dict)
    settings_path: str = ""
    """Where the incoming-server settings live in the client's UI."""


@dataclass(frozen=True)
class SmtpSettings:
    host: str = "smtp.office365.com"
    port: int = 587
    security: Security = "starttls"
    auth: SmtpAuth = "login"
    settings_path: str = ""
    """Where the outgoing-server settings live in the client's UI."""


@dataclass(frozen=True)
class OAuth2Support:
    supported: bool = False
    """Whether this client can use modern authentication with Microsoft 365 for IMAP/SMTP."""
    how: str = ""
    """How a user moves this client to modern authentication."""


@dataclass(frozen=True)
class WayForward:
    """How this client gets off basic authentication before Microsoft switches it off.

    Shown in the verdict, in the all-clients matrix and in ``docs/migration.md``
    (generated from the profiles); every text is the user's or the administrator's
    next step, taken from a source the profile file names.
    """

    summary: str = ""
    """One line for the matrix's modern-authentication column."""
    steps: tuple[str, ...] = ()
    """What to do, in order."""
    check: str = ""
    """How to tell that the move worked."""
    not_probed: str = ""
    """What conntest cannot check about the new way (another protocol), said plainly."""
    support: str = ""
    """The client's support status, where it matters for the move."""
    sources: tuple[str, ...] = ()
    """Where these facts come from."""


@dataclass(frozen=True)
class Profile:
    id: str
    name: str
    imap: ImapSettings
    smtp: SmtpSettings
    tls: TLSRange = TLSRange()
    username_form: UsernameForm = "address"
    oauth2: OAuth2Support = OAuth2Support()
    way_forward: WayForward = WayForward()
    """The way to modern authentication (empty in a profile that does not say)."""
    password_path: str = ""
    """Where the user re-enters the stored password."""
    notes: tuple[str, ...] = ()
    source: str = ""
    """The file this profile was loaded from (for ``profiles list``)."""
