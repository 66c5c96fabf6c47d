"""The facts a check observes and the conclusions drawn from them.

Data flows one way: probes produce :class:`Step` records, the diagnosis turns a
profile's steps into :class:`Finding` objects, renderers turn a :class:`Report`
into text or JSON.  Nothing here does I/O; everything is a plain dataclass so
that renderers and tests can compare and serialise it.

Vocabulary shared by the probes and the diagnosis (keep the two in step):

``Step.protocol``
    ``"dns"``, ``"imap"`` or ``"smtp"``.
``Step.name``
    dns: ``"resolve"`` (one per server host; ``data["host"]``,
    ``data["addresses"]``), ``"mx"`` and ``"autodiscover"`` (informational).
    imap: ``"connect"``, ``"tls"``, ``"greeting"``, ``"capability"``,
    ``"id"``, ``"login"``, ``"mailbox"``, ``"logout"`` (with STARTTLS:
    ``"greeting"`` and ``"starttls"`` come before ``"tls"``).
    smtp: ``"connect"``, ``"greeting"``, ``"ehlo"``, ``"starttls"``,
    ``"tls"``, ``"ehlo-tls"``, ``"auth"``, ``"quit"`` (implicit TLS:
    ``"tls"`` first, then ``"greeting"``, ``"ehlo-tls"``, …).
    A ``tls`` step's ``data`` says ``mode`` (``"implicit"``/``"starttls"``)
    and ``trust`` (``"ca-file"``: verified against ``--ca-file`` only;
    ``"system"``: the system's store).
``Failure.kind``
    see :class:`FailureKind`.

:class:`Severity` and :class:`Finding` live in :mod:`conntest.finding` (re-exported
here): ``conntest explain`` concludes without observing, and imports that alone
(issue 12: cold start).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from typing import Any

from conntest.finding import Finding, Severity

__all__ = [
    "Failure",
    "FailureKind",
    "Finding",
    "ModernAuthRoute",
    "ProfileResult",
    "Reply",
    "Report",
    "Severity",
    "Status",
    "Step",
    "TLSInfo",
]


class Status(enum.StrEnum):
    """Outcome of one step."""

    PASS = "pass"  # noqa: S105 (not a password)
    FAIL = "fail"
    SKIP = "skip"


class FailureKind(enum.StrEnum):
    """Why a step failed, as data the diagnosis can reason about."""

    DNS_NXDOMAIN = "dns-nxdomain"
    """The name does not exist (or has no address records)."""
    DNS_TIMEOUT = "dns-timeout"
    """No resolver answered in time."""
    DNS_ERROR = "dns-error"
    """Any other resolver failure (SERVFAIL, refused, malformed answer)."""
    REFUSED = "refused"
    """TCP connection refused (RST to the SYN)."""
    TIMEOUT = "timeout"
    """A deadline passed: no SYN-ACK for ``connect``, no bytes for later steps."""
    UNREACHABLE = "unreachable"
    """No route to the host or network."""
    RESET = "reset"
    """The peer reset the connection (mid-TLS or mid-protocol)."""
    CLOSED = "closed"
    """The peer closed the connection cleanly where a reply was due."""
    TLS_VERIFY = "tls-verify"
    """Certificate verification failed; ``Step.tls`` holds the presented chain."""
    TLS_HANDSHAKE = "tls-handshake"
    """The handshake failed for another reason (no common version or cipher)."""
    PROTOCOL = "protocol"
    """The peer spoke something unexpected (garbage, another protocol, too-long line)."""
    REJECTED = "rejected"
    """The server answered with a refusal; ``Step.reply`` holds its words."""
    NOT_OFFERED = "not-offered"
    """A required capability (STARTTLS, an AUTH mechanism) was not advertised."""
    UNSAFE = "unsafe"
    """Skipped because continuing would expose credentials."""
    INTERNAL = "internal"
    """A bug in conntest; the message says where."""


@dataclass(frozen=True)
class Reply:
    """A server reply: numeric code (SMTP) or status word (IMAP ``OK``/``NO``/``BAD``) and text."""

    code: str
    """SMTP: ``"535"``; IMAP: ``"OK"``, ``"NO"``, ``"BAD"``, ``"BYE"``, ``"*"`` for a greeting."""
    text: str
    """The reply text as the server sent it, without the tag and without credentials."""

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


@dataclass(frozen=True)
class Failure:
    """What went wrong in a step, in terms the diagnosis can match on."""

    kind: FailureKind
    message: str
    """One line, for people; never contains a credential."""
    errno: int | None = None


@dataclass(frozen=True)
class TLSInfo:
    """What the TLS handshake showed (also filled when verification failed)."""

    version: str | None = None
    """``"TLSv1.2"``; ``None`` when no handshake completed."""
    cipher: str | None = None
    subject: str | None = None
    """RFC 4514 string of the leaf certificate's subject."""
    issuer: str | None = None
    """RFC 4514 string of the leaf certificate's issuer."""
    sans: tuple[str, ...] = ()
    not_after: str | None = None
    """ISO 8601 UTC expiry of the leaf certificate."""
    verified: bool = False
    verify_code: int | None = None
    """OpenSSL's X509 verify code (0 ok, 10 expired, 19/20 unknown issuer, 62/64 bad name)."""
    verify_message: str | None = None


@dataclass
class Step:
    """One probe step, as recorded."""

    protocol: str
    name: str
    status: Status
    start_ms: float
    """Offset from the start of the run."""
    elapsed_ms: float
    reply: Reply | None = None
    failure: Failure | None = None
    tls: TLSInfo | None = None
    transcript: list[str] = field(default_factory=list)
    """``C: …`` / ``S: …`` lines, credentials already redacted."""
    data: dict[str, Any] = field(default_factory=dict)
    """Step-specific facts: ``host``, ``port``, ``address``, ``addresses``, ``capabilities``…"""

    @property
    def failed(self) -> bool:
        return self.status is Status.FAIL


@dataclass(frozen=True)
class ModernAuthRoute:
    """A client's way to modern authentication, from its profile (the matrix's column)."""

    kind: str
    """``oauth2`` (the client can sign in with OAuth2), ``switch`` (re-add the mailbox as
    another account type), ``none`` (no way: a relay or High Volume Email)."""
    summary: str
    """One line: ``OAuth2 on both servers (IMAP and SMTP)``."""
    not_probed: str = ""
    """What conntest cannot check about that way, when it is another protocol."""


@dataclass
class ProfileResult:
    """Everything one profile's run observed and concluded."""

    profile: str
    steps: list[Step]
    findings: list[Finding]
    modern_auth: ModernAuthRoute | None = None
    """The client's way to modern authentication; ``None`` when not known (no profile)."""
    oauth_signed_in: dict[str, bool] = field(default_factory=dict)
    """Per protocol (``imap``, ``smtp``), whether an OAuth2 (XOAUTH2) sign-in succeeded.

    Empty when no OAuth probe ran; the matrix then says "not verified"."""

    @property
    def severity(self) -> Severity:
        return max((f.severity for f in self.findings), default=Severity.OK)


@dataclass
class Report:
    """The outcome of one ``conntest check``."""

    user: str
    elapsed_ms: float
    profiles: list[ProfileResult]

    @property
    def severity(self) -> Severity:
        return max((p.severity for p in self.profiles), default=Severity.UNKNOWN)
