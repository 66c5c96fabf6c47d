"""What a mail client does on the wire, as a typed record.

A :class:`Profile` is loaded from YAML by :mod:`conntest.profiles`; the probes
follow it (which login command, which TLS versions, whether to send IMAP ID)
and the diagnosis quotes it in remedies (where the setting lives, whether the
client can switch to OAuth2).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Literal

from conntest.schema.keywords import Keywords

Security = Literal["tls", "starttls"]
ImapLogin = Literal["login", "authenticate-plain"]
SmtpAuth = Literal["login", "plain"]
IdWhen = Literal["never", "before-login", "after-login"]
UsernameForm = Literal["address", "local-part"]
TLSVersion = Annotated[
    Literal["1.0", "1.1", "1.2", "1.3"],
    # YAML reads an unquoted 1.2 as a number; the loader accepts it, so does the schema.
    Keywords(
        {"type": ["string", "number"], "enum": ["1.0", "1.1", "1.2", "1.3", 1.0, 1.1, 1.2, 1.3]}
    ),
]
Port = Annotated[int, Keywords({"minimum": 1, "maximum": 65535})]
Host = Annotated[str, Keywords({"pattern": r"^\S+$"})]
ProfileId = Annotated[str, Keywords({"pattern": "^[a-z0-9][a-z0-9-]*$"})]

TLS_VERSIONS: tuple[str, ...] = ("1.0", "1.1", "1.2", "1.3")


@dataclass(frozen=True)
class TLSRange:
    """The TLS versions the client's stack can negotiate."""

    min: TLSVersion = "1.2"
    """The oldest version the client offers."""
    max: TLSVersion = "1.3"
    """The newest version the client offers."""


@dataclass(frozen=True)
class ImapSettings:
    """How the client reaches and signs in to the incoming (IMAP) server."""

    host: Host = "outlook.office365.com"
    """The IMAP server's host name."""
    port: Port = 993
    """The IMAP port (993: TLS from the first byte)."""
    security: Security = "tls"
    """``tls`` (implicit TLS) or ``starttls`` (plain, then STARTTLS)."""
    login: ImapLogin = "login"
    """``login`` = the LOGIN command; ``authenticate-plain`` = AUTHENTICATE PLAIN."""
    sasl_ir: bool = False
    """Send the PLAIN response with the command (RFC 4959) instead of after a ``+``."""
    send_id: IdWhen = "never"
    """Whether and when the client sends the IMAP ID command (RFC 2971)."""
    id_fields: dict[str, str] = field(default_factory=dict)
    """The ID fields the client sends (at most 30; names up to 30 bytes, values up to 1024)."""
    settings_path: str = ""
    """Where the incoming-server settings live in the client's UI."""


@dataclass(frozen=True)
class SmtpSettings:
    """How the client reaches and signs in to the outgoing (SMTP submission) server."""

    host: Host = "smtp.office365.com"
    """The SMTP server's host name."""
    port: Port = 587
    """The submission port (587: STARTTLS)."""
    security: Security = "starttls"
    """``starttls`` (plain, then STARTTLS) or ``tls`` (implicit TLS)."""
    auth: SmtpAuth = "login"
    """The SASL mechanism: ``login`` (AUTH LOGIN) or ``plain`` (AUTH PLAIN)."""
    settings_path: str = ""
    """Where the outgoing-server settings live in the client's UI."""


@dataclass(frozen=True)
class OAuth2Support:
    """Whether the client can move to modern authentication (the remedy for basic-auth refusals)."""

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
    """What one mail client does on the wire, and where its settings live."""

    id: ProfileId
    """Lowercase letters, digits and ``-``; defaults to the file name without ``.yaml``."""
    name: str
    """The client as people know it (``Outlook 2016 (IMAP account)``)."""
    imap: ImapSettings
    """The incoming-server side."""
    smtp: SmtpSettings
    """The outgoing-server side."""
    tls: TLSRange = TLSRange()
    """The TLS versions the client's stack can negotiate."""
    username_form: UsernameForm = "address"
    """What the client sends as the user name: the full ``address`` or its ``local-part``."""
    oauth2: OAuth2Support = OAuth2Support()
    """Whether and how the client can use modern authentication."""
    way_forward: WayForward = WayForward()
    """The way to modern authentication (empty in a profile that does not say)."""
    password_path: str = ""
    """Where the user re-enters the stored password."""
    notes: tuple[str, ...] = ()
    """Caveats quoted in the report."""
    source: str = ""
    """The file this profile was loaded from (for ``profiles list``)."""
