"""The catalogue of diagnoses: codes, texts, server-text patterns, remedies, timeline.

This module is data.  Each :class:`CatalogueEntry` says what a code means in plain
words, what evidence decides it, how bad it is, what the user of a given client
must do (templates filled from the :class:`~conntest.profile.Profile`) and, where
the fix is not the user's, what an administrator must do.  The rule functions in
:mod:`conntest.diagnosis.rules` decide *which* entry applies; ``docs/diagnoses.md``
is generated from this module (``python -m conntest.diagnosis.docs``).

Server texts are matched by meaning: :mod:`conntest.diagnosis.normalise` first
strips what varies (hosts, dates, ids, tags, library prefixes), then the
patterns below are tried in :data:`MATCH_ORDER`, most specific first.  Every
pattern is grounded in a reply quoted in ``shared/o365/responses.yaml`` or
``behaviour.md``, or in a documented client or Entra ID message (noted per
pattern).

Template placeholders (``str.format`` syntax) available everywhere:
``{client}``, ``{user}``, ``{imap_settings}``, ``{smtp_settings}``,
``{password_path}``, ``{oauth2_how}``, ``{modern_auth}``, ``{imap_host}``,
``{imap_port}``, ``{smtp_host}``, ``{smtp_port}``, ``{protocol_name}``,
``{settings}`` (the settings path of the protocol at hand), ``{timeline[KEY]}``
(a dated fact from :data:`RETIREMENT_TIMELINE`).  Rule-specific ones are listed
in each entry's ``evidence`` text.

Date-dependent facts live in ONE place, :data:`RETIREMENT_TIMELINE`; texts cite it,
verdicts never depend on today's date.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from functools import cache
from typing import Literal

from conntest.model import Severity

ClientKind = Literal["oauth2", "switch", "none", "unknown"]
"""How a client can reach modern authentication.

``oauth2``: it can sign in with OAuth2 for IMAP/SMTP (Thunderbird).
``switch``: not for IMAP/SMTP accounts, but the mailbox can be re-added as another
account type that uses modern auth (Outlook 2016 → Microsoft 365 account; iOS
Mail "Other" → "Microsoft Exchange").
``none``: no way at all (an old device): sending needs a relay or High Volume Email.
``unknown``: no profile (``conntest explain``).
"""

Layer = Literal["local", "dns", "connect", "tls", "session", "auth", "mailbox", "result"]
"""Where in the chain a cause sits; earlier layers explain later failures."""

LAYER_ORDER: Mapping[Layer, int] = {
    "local": 0,
    "dns": 1,
    "connect": 2,
    "tls": 3,
    "session": 4,
    "auth": 5,
    "mailbox": 6,
    "result": 7,
}

Scope = Literal["both", "explain"]
"""``explain``: texts that appear after the steps conntest runs (MAIL FROM, DATA)."""


@dataclass(frozen=True)
class TimelineEntry:
    """One dated fact of Microsoft's retirement of basic authentication and old TLS."""

    key: str
    when: str
    """ISO date, month or range (``2023-01``, ``2026-07-01/2026-12-31``, ``2027-H2``)."""
    label: str
    """The date as people read it."""
    scope: str
    event: str
    status: Literal["done", "announced", "superseded"]
    source: str
    effective: date | None = None
    """The day date-aware advice counts to (:mod:`conntest.diagnosis.retirement`), where the
    announcement names a month: its last day, so nothing is said to have happened early."""


RETIREMENT_TIMELINE: tuple[TimelineEntry, ...] = (
    TimelineEntry(
        key="tls-legacy-unsupported",
        when="2020-10",
        label="October 2020",
        scope="Exchange Online, all protocols",
        event="TLS 1.0 and 1.1 no longer supported",
        status="done",
        source=(
            "https://github.com/MicrosoftDocs/OfficeDocs-Exchange (opt-in endpoint for legacy TLS)"
        ),
    ),
    TimelineEntry(
        key="smtp-tls-legacy-off",
        when="2022-02",
        label="February 2022",
        scope="SMTP AUTH, smtp.office365.com",
        event=(
            "TLS 1.0/1.1 disabled on the default endpoint (reply 421 4.7.66); tenants that opt in "
            "with AllowLegacyTLSClients may use smtp-legacy.office365.com"
        ),
        status="done",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/new-opt-in-endpoint-available-for-smtp-auth-clients-still-needing-legacy-tls/2659652"
        ),
    ),
    TimelineEntry(
        key="work-basic-auth-off",
        when="2022-10-01",
        label="1 October 2022",
        scope="Work/school tenants: IMAP, POP, EAS, EWS, RPS, MAPI",
        event="basic authentication switched off tenant by tenant",
        status="done",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-email-applications-stopped-signing-in-or-keep/ba-p/3641943"
        ),
    ),
    TimelineEntry(
        key="work-basic-auth-permanent",
        when="2023-01",
        label="January 2023",
        scope="Work/school tenants: IMAP, POP, EAS, EWS, RPS, MAPI",
        event=(
            "basic authentication permanently off; re-enabling is not possible, "
            "not even by Microsoft support"
        ),
        status="done",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-email-applications-stopped-signing-in-or-keep/ba-p/3641943"
        ),
    ),
    TimelineEntry(
        key="popimap-tls-legacy-off",
        when="2023-02/2023-04-30",
        label="February to April 2023",
        scope="POP/IMAP, outlook.office365.com",
        event="TLS 1.0/1.1 refused on the regular endpoint (legacy opt-in endpoints kept)",
        status="done",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/new-opt-in-endpoint-for-pop3imap4-clients-that-need-legacy-tls/3710395"
        ),
    ),
    TimelineEntry(
        key="consumer-basic-auth-off",
        when="2024-09-16",
        label="16 September 2024",
        scope="Personal accounts (Outlook.com, Hotmail, Live, MSN)",
        event=(
            "basic authentication, app passwords included, no longer accepted from "
            "non-Microsoft apps; modern authentication required"
        ),
        status="done",
        source=(
            "Microsoft support article 'Modern authentication methods now needed to continue "
            "syncing Outlook email in non-Microsoft email apps'"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-retire-2025",
        when="2025-09",
        label="September 2025",
        scope="SMTP AUTH basic authentication (Client Submission)",
        event="announced removal (April 2024); replaced by later plans",
        status="superseded",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-retire-2026",
        when="2026-03-01/2026-04-30",
        label="1 March to 30 April 2026",
        scope="SMTP AUTH basic authentication (Client Submission)",
        event="announced gradual rejection (June 2025 update); replaced by the January 2026 plan",
        status="superseded",
        source=(
            "https://techcommunity.microsoft.com/t5/exchange-team-blog/exchange-online-to-retire-basic-auth-for-client-submission-smtp/ba-p/4114750"
        ),
    ),
    TimelineEntry(
        key="popimap-tls-legacy-retired",
        when="2026-07-01/2026-12-31",
        label="1 July to 31 December 2026",
        scope="POP/IMAP, including imap-legacy/pop-legacy.office365.com",
        event="legacy TLS retired entirely (MC1293480)",
        status="announced",
        source="https://mc.merill.net/message/MC1293480",
    ),
    TimelineEntry(
        key="smtp-basic-default-off",
        when="2026-12",
        label="end of December 2026",
        effective=date(2026, 12, 31),
        scope="SMTP AUTH basic authentication",
        event=(
            "disabled by default for existing tenants (administrators can still enable it); "
            "unavailable by default for new tenants"
        ),
        status="announced",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"
        ),
    ),
    TimelineEntry(
        key="smtp-basic-final",
        when="2027-H2",
        label="the second half of 2027",
        scope="SMTP AUTH basic authentication",
        event=(
            "Microsoft to announce the final removal date; the announced reply is "
            "'550 5.7.30 Basic authentication is not supported for Client Submission.'"
        ),
        status="announced",
        source=(
            "https://techcommunity.microsoft.com/blog/exchange/updated-exchange-online-smtp-auth-basic-authentication-deprecation-timeline/4489835"
        ),
    ),
)


def cite(key: str) -> str:
    """The date of one timeline entry as a phrase for running text: ``since January 2023``.

    The sentence around it says what happened; the table (and docs/diagnoses.md) holds
    the scope, the event and the source.
    """
    entry = next(e for e in RETIREMENT_TIMELINE if e.key == key)
    when = {"done": "since", "announced": "planned for", "superseded": "once planned for"}
    return f"{when[entry.status]} {entry.label}"


TIMELINE_CITES: Mapping[str, str] = {e.key: cite(e.key) for e in RETIREMENT_TIMELINE}


@dataclass(frozen=True)
class Pattern:
    """A regular expression over :attr:`NormalisedReply.key` that identifies a cause."""

    regex: str
    variant: str | None = None
    """Which :class:`Variant` of the entry the match selects."""
    enhanced: str | None = None
    """Require this enhanced status code; ``""`` requires that there is none."""
    status: str | None = None
    """Require this status (``"535"``, ``"NO"``)."""
    source: str = ""
    """Where the text was seen (documentation only)."""

    def compiled(self) -> re.Pattern[str]:
        return _compile(self.regex)


@cache
def _compile(regex: str) -> re.Pattern[str]:
    return re.compile(regex)


@dataclass(frozen=True)
class Variant:
    """A sharper wording of an entry for one situation; ``None`` fields fall back to the entry."""

    title: str | None = None
    detail: str | None = None
    remedy: Mapping[str, str] | None = None
    admin_action: str | None = None
    severity: Severity | None = None


@dataclass(frozen=True)
class CatalogueEntry:
    """Everything conntest says about one diagnosis code."""

    code: str
    severity: Severity
    """Default severity; rules may raise or lower it (see ``variants``)."""
    layer: Layer
    title: str
    meaning: str
    """The plain-language detail (a template)."""
    evidence: str
    """What decides this code (for the documentation)."""
    remedy: Mapping[str, str]
    """Templates keyed by :data:`ClientKind`; ``"default"`` is required."""
    admin_action: str | None = None
    patterns: tuple[Pattern, ...] = ()
    variants: Mapping[str, Variant] = field(default_factory=dict)
    decisive: bool = True
    """False when the evidence does not name the cause (ranked after decisive findings)."""
    scope: Scope = "both"


# --------------------------------------------------------------------------------------
# How each kind of client reaches modern authentication.  {modern_auth} in remedies.
# --------------------------------------------------------------------------------------

MODERN_AUTH: Mapping[ClientKind, str] = {
    "oauth2": (
        "{client} can sign in to Microsoft 365 with OAuth2 (modern authentication): "
        "{oauth2_how}. Then sign in once in the Microsoft window that opens."
    ),
    "switch": (
        "{client} cannot use OAuth2 for an IMAP/SMTP account, so a password will not work "
        "any more. Re-add the mailbox as an account type that uses modern authentication: "
        "{oauth2_how}."
    ),
    "none": (
        "{client} cannot sign in to Microsoft 365 with modern authentication. Read mail with a "
        "client that can (for example Thunderbird with OAuth2); for sending from this device, an "
        "administrator can set up an SMTP relay through a connector, or High Volume Email, "
        "which do not need SMTP AUTH."
    ),
    "unknown": (
        "Switch the mail client to OAuth2 (modern authentication) if it offers it (Thunderbird: "
        "Account Settings → Server Settings → Authentication method → OAuth2). Outlook 2016 "
        "with an IMAP account and iOS Mail 'Other' accounts cannot: re-add the mailbox as a "
        "Microsoft 365 / Microsoft Exchange account. Devices that cannot do OAuth2 at all need "
        "an SMTP relay (connector) or High Volume Email for sending."
    ),
}

OAUTH2_HOW_FALLBACK = "choose OAuth2 as the authentication method in the account's server settings"

GENERIC_PLACES: Mapping[str, str] = {
    "client": "your mail client",
    "imap_settings": "the incoming-server (IMAP) settings",
    "smtp_settings": "the outgoing-server (SMTP) settings",
    "password_path": "the place where the client stores the password",
}
"""Wording used when no profile is given or a profile leaves a path empty."""

RELAY_REMEDY = (
    "If {client} cannot use SMTP AUTH at all, an administrator can let it send through "
    "an SMTP relay (an inbound connector for your public IP address) or High Volume Email."
)

DECIDE: Mapping[str, str] = {
    "no-smtp": (
        "An SMTP AUTH result for the same credentials would tell a wrong password from a policy "
        "block: run the check with SMTP included. Microsoft 365 mailboxes no longer accept "
        "passwords over IMAP at all: work and school tenants "
        "{timeline[work-basic-auth-permanent]}, personal accounts "
        "{timeline[consumer-basic-auth-off]}."
    ),
    "smtp-undecided": (
        "SMTP could not confirm the password either ({smtp_said}). Signing in with OAuth2, or "
        "the user's Entra sign-in log, would tell a wrong password from a policy block. "
        "Microsoft 365 mailboxes no longer accept passwords over IMAP at all: work and school "
        "tenants {timeline[work-basic-auth-permanent]}, personal accounts "
        "{timeline[consumer-basic-auth-off]}."
    ),
    "smtp": "The user's Entra sign-in log shows the reason.",
    "explain": (
        "An SMTP AUTH result for the same credentials would tell a wrong password from a policy "
        "block: `conntest check` tries both."
    ),
}
"""What would decide an ambiguous refusal (``{decide}`` in ``login-rejected``), by situation."""

NOTES: Mapping[str, str] = {
    "imap-explained-by-credentials": (
        "IMAP's bare refusal ('{imap_sentence}') is explained by it. Even with the right "
        "password, IMAP will not accept a password from a Microsoft 365 work or school mailbox "
        "(basic authentication off {timeline[work-basic-auth-permanent]})."
    ),
    "imap-same-cause": "IMAP's bare refusal ('{imap_sentence}') has the same cause.",
    "imap-accepted": (
        "IMAP accepted the same user name and password, so check the SMTP user name in "
        "{smtp_settings}."
    ),
    "app-password-shape": (
        "The password has the shape of an app password; it may have been revoked, mistyped, or "
        "created for another account."
    ),
}
"""Sentences the cross-protocol rules append to a finding's detail."""

_LOCKOUT = (
    "Do not retry again and again: after 10 failed sign-ins Entra ID locks the account "
    "for a while, and a client retrying an old password keeps it locked."
)

_SIGNIN_LOG = (
    "Entra admin center → Users → {user} → Sign-in logs: the failed sign-in shows the reason "
    "and, for Conditional Access, the policy."
)


def _r(default: str, **kinds: str) -> Mapping[str, str]:
    """Remedy templates: ``default`` plus per-:data:`ClientKind` overrides."""
    return {"default": default, **kinds}


_ENTRIES: tuple[CatalogueEntry, ...] = (
    CatalogueEntry(
        code="ok",
        severity=Severity.OK,
        layer="result",
        title="{client} can reach and sign in to Microsoft 365",
        meaning="Every step {client} needs worked: {summary}.",
        evidence=(
            "No step failed and no critical finding: for IMAP the LOGIN (and, if run, the first "
            "mailbox command) succeeded, for SMTP the AUTH succeeded. {summary} lists them."
        ),
        remedy=_r("Nothing to fix."),
        variants={
            "connectivity": Variant(
                title="The servers answer {client}'s settings (sign-in not tested)",
                detail=(
                    "Every step up to sign-in worked: {summary}. No password was given, so "
                    "conntest did not try to sign in."
                ),
                remedy=_r(
                    "Nothing to fix in the connection; run the check with a password to test "
                    "the sign-in."
                ),
            ),
            "explain": Variant(
                title="This is a normal server reply, not an error",
                detail=(
                    "'{sentence}' is what Microsoft's server says when this step works. If "
                    "something fails, the error is in a later line: paste that one."
                ),
                remedy=_r("Nothing to fix here."),
            ),
        },
    ),
    CatalogueEntry(
        code="password-whitespace",
        severity=Severity.WARNING,
        layer="local",
        title="The password contains {shape}",
        meaning=(
            "The password as entered contains {shape}. Microsoft's servers never report this: to "
            "them a password with an extra space or an invisible character is simply a different, "
            "wrong password. Copying a password from an email, a PDF or a password manager often "
            "adds such characters."
        ),
        evidence=(
            "Found locally before anything is sent ({shape}). Critical and first when a sign-in "
            "was "
            "then refused as a credential failure, or when a retry without them succeeded "
            "(confirmed); a warning otherwise."
        ),
        remedy=_r(
            "If these characters are not part of your password, re-enter it in {client} without "
            "them (type it rather than paste it): {password_path}."
        ),
        variants={
            "likely": Variant(
                title="Likely cause: the password contains {shape}",
                severity=Severity.CRITICAL,
                detail=(
                    "The password as entered contains {shape}, and the sign-in was refused as a "
                    "credential failure. Microsoft never says 'extra space': a password with one "
                    "is "
                    "a wrong password to it. Copying a password often adds a trailing space or "
                    "line break."
                ),
            ),
            "confirmed": Variant(
                title="Confirmed: the stored password contains {shape}",
                severity=Severity.CRITICAL,
                detail=(
                    "The password as entered contains {shape}. With them removed, the same "
                    "password was accepted, so the password {client} holds is wrong only because "
                    "of these characters."
                ),
                remedy=_r(
                    "Fix the stored password in {client}: {password_path}. Type it rather than "
                    "paste it, without the extra characters."
                ),
            ),
            "retry-failed": Variant(
                detail=(
                    "The password as entered contains {shape}. A retry without them was refused "
                    "too, so they are not the (only) reason the sign-in fails; they may still be "
                    "a mistake."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="password-not-app-password",
        severity=Severity.WARNING,
        layer="local",
        title="The password does not look like a Microsoft app password",
        meaning=(
            "Microsoft refused the credentials, and this password ({length} characters) does not "
            "have the shape of a Microsoft app password (16 lowercase letters, the documented "
            "format for personal accounts). If the account uses multi-factor sign-in, a mail "
            "client that signs in with a password needs an app password, not the account "
            "password. This is a hint, not a verdict: for work accounts Microsoft does not "
            "document the format, administrators must allow app passwords, and they do not work "
            "at all where Security Defaults or Conditional Access demand modern authentication."
        ),
        evidence=(
            "Local shape check (whitespace removed, not ^[a-z]{16}$) together with an SMTP "
            "credential refusal (5.7.139 'credentials were incorrect' or bare 5.7.3)."
        ),
        remedy=_r(
            "If your account uses multi-factor sign-in and your organisation allows app "
            "passwords, create one (work account: My Sign-Ins → Security info → Add sign-in "
            "method → App password; personal account: account.microsoft.com → Security) and enter "
            "it in {client}: {password_path}. The lasting fix is modern authentication: "
            "{modern_auth}"
        ),
        admin_action=(
            "App passwords exist only with per-user MFA and when allowed: Entra admin center → "
            "per-user MFA → service settings → 'Allow users to create app passwords'. They stop "
            "working under Security Defaults or a Conditional Access policy blocking legacy "
            "authentication."
        ),
    ),
    CatalogueEntry(
        code="username-format",
        severity=Severity.WARNING,
        layer="local",
        title="The user name is not a full email address",
        meaning=(
            "Microsoft 365 signs IMAP and SMTP in with the full sign-in address (the UPN, "
            "name@example.com); {problem}. For a shared mailbox over IMAP the form is "
            "you@example.com\\shared@example.com with your own password."
        ),
        evidence=(
            "Local check of the user name ({problem}); critical and first when the sign-in was "
            "then refused as a credential failure."
        ),
        remedy=_r(
            "Set the user name to your full email address in {client}: {imap_settings} "
            "(incoming) and {smtp_settings} (outgoing)."
        ),
        variants={
            "likely": Variant(
                title="Likely cause: the user name is not a full email address",
                severity=Severity.CRITICAL,
            ),
        },
    ),
    CatalogueEntry(
        code="wrong-credentials",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Microsoft says the user name or password is wrong",
        meaning=(
            "The SMTP server checked the user name and password and refused them: "
            "'{sentence}'. Of all of Microsoft's refusals this is the only one that blames the "
            "credentials themselves; blocks by policy use other sentences."
        ),
        evidence=(
            "SMTP AUTH: 535 5.7.139 'the user credentials were incorrect', or the bare "
            "'535 5.7.3 Authentication unsuccessful'; Entra AADSTS50126 in pasted texts. "
            "Decides an ambiguous IMAP 'LOGIN failed.' for the same credentials."
        ),
        remedy=_r(
            "Check the user name ({user}) and re-enter the password in {client}: {password_path}. "
            "If you changed the password recently, the client may still hold the old one; if "
            "your account uses multi-factor sign-in, the password must be an app password. "
            + _LOCKOUT
        ),
        admin_action=_SIGNIN_LOG + " Reset the password if needed.",
        patterns=(
            Pattern(
                r"user credentials were incorrect",
                source="responses.yaml smtp-5-7-139-credentials-incorrect",
            ),
            Pattern(
                r"^(?:5\.7\.3 )?authentication unsuccessful\.?$",
                variant="5.7.3",
                enhanced="5.7.3",
                source="responses.yaml smtp-5-7-3-*",
            ),
            Pattern(
                r"^authentication unsuccessful\.?$",
                variant="5.7.3",
                enhanced="",
                status="535",
                source="535 without an enhanced code (older relays)",
            ),
            Pattern(r"\baadsts50126\b", source="Entra ID error InvalidUserNameOrPassword"),
            Pattern(r"invalid username or password", source="Entra ID sign-in message"),
        ),
        variants={
            "5.7.3": Variant(
                detail=(
                    "The SMTP server refused the sign-in with its generic reply '{sentence}'. "
                    "Since Microsoft gives every policy block its own sentence, this bare form "
                    "today points at the credentials (wrong password or user name, or a token for "
                    "another account); Microsoft's own troubleshooting also lists SMTP AUTH "
                    "switched off, MFA without an app password and Conditional Access as causes."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="login-rejected",
        severity=Severity.CRITICAL,
        layer="auth",
        title="{protocol_name} refused the sign-in without saying why",
        meaning=(
            "The server answered '{sentence}'. Microsoft gives this same answer for a wrong "
            "password, for an account that needs multi-factor sign-in, and for password sign-in "
            "(basic authentication) being switched off, so on its own it does not tell which. "
            "{decide}"
        ),
        evidence=(
            "IMAP 'NO LOGIN failed.' / 'NO AUTHENTICATE failed.', POP '-ERR Logon failure', or any "
            "refusal of a sign-in that conntest does not know, when no other evidence (the SMTP "
            "result for the same credentials) decides it. {decide} names what would."
        ),
        remedy=_r(
            "{modern_auth} If you sign in with a password, check it in {client}: "
            "{password_path}. " + _LOCKOUT
        ),
        admin_action=_SIGNIN_LOG,
        decisive=False,
        patterns=(
            Pattern(r"\blogin failed\b", source="responses.yaml imap-login-failed-*"),
            Pattern(r"\bauthenticate failed\b", source="responses.yaml imap-authenticate-failed-*"),
            Pattern(r"\blogon failure\b", source="responses.yaml pop-logon-failure"),
            Pattern(
                r"\bauthentication failure\b.*unknown user name",
                source="responses.yaml pop-auth-failure",
            ),
            Pattern(
                r"\bauthenticationfailed\b|\bauthentication failed\b",
                source="IMAP [AUTHENTICATIONFAILED]",
            ),
            Pattern(
                r"login to server .* failed",
                variant="client-message",
                source="Thunderbird's login failure dialog",
            ),
            Pattern(
                r"user ?name or password for .* is incorrect",
                variant="client-message",
                source="iOS Mail's sign-in dialog",
            ),
            Pattern(
                r"\b0x800ccc9[02]\b|\b0x800ccc18\b",
                variant="client-message",
                source="Outlook: 'Your e-mail server rejected your login' / logon attempt failed",
            ),
            Pattern(
                r"^authentication unsuccessful\b",
                variant="unknown-sentence",
                source="5.7.139 with a sentence conntest does not know",
            ),
        ),
        variants={
            "no-smtp": Variant(),  # {decide} = DECIDE["no-smtp"]
            "smtp-undecided": Variant(),  # {decide} = DECIDE["smtp-undecided"]
            "unknown-sentence": Variant(
                title="Microsoft refused the sign-in for a reason conntest does not know",
                detail=(
                    "The server answered '{sentence}'. Microsoft gives each policy block its own "
                    "sentence after 'Authentication unsuccessful'; this one is not in conntest's "
                    "catalogue yet. Read it: it usually says who must act."
                ),
            ),
            "client-message": Variant(
                detail=(
                    "This is the client's own wording for any refused sign-in ('{sentence}'): "
                    "clients show it for a wrong password, an account that needs multi-factor "
                    "sign-in, and for password sign-in being switched off alike. {decide}"
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="basic-auth-disabled",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Microsoft refuses password sign-in (basic authentication) for {protocol_name}",
        meaning=(
            "The server said basic authentication is disabled: it refuses a user name and "
            "password before checking them, so neither the account password nor an app password "
            "can work. For IMAP and POP this is Microsoft's rule everywhere: work and school "
            "tenants {timeline[work-basic-auth-permanent]}; personal accounts "
            "{timeline[consumer-basic-auth-off]}. For SMTP an authentication policy of the tenant "
            "(or, for personal accounts, Microsoft) blocks it."
        ),
        evidence=(
            "SMTP 535 5.7.139 'basic authentication is disabled', the announced "
            "'550 5.7.30 Basic authentication is not supported for Client Submission', IMAP "
            "'NO Basic authentication is disabled.', IMAP capability LOGINDISABLED, or IMAP "
            "'LOGIN failed.' while SMTP accepted the same password (the password is right, IMAP "
            "basic authentication is off)."
        ),
        remedy=_r("{modern_auth}", none="{modern_auth}"),
        admin_action=(
            "IMAP/POP basic authentication cannot be re-enabled in Microsoft 365: move the client "
            "to OAuth2. For SMTP AUTH, check the user's authentication policy: "
            "`Get-User -Identity {user} | Format-List AuthenticationPolicy` and "
            "`Get-AuthenticationPolicy | Format-List Name,AllowBasicAuthSmtp`; "
            "`Set-AuthenticationPolicy -Identity <policy> -AllowBasicAuthSmtp:$true` allows it "
            "until Microsoft turns SMTP AUTH basic authentication off by default "
            "({timeline[smtp-basic-default-off]}; administrators can still turn it on then)."
        ),
        patterns=(
            Pattern(
                r"basic authentication is disabled",
                source=(
                    "responses.yaml smtp-basic-auth-disabled-*, "
                    "imap-no-basic-auth-disabled-consumer"
                ),
            ),
            Pattern(
                r"basic authentication is not supported for client submission",
                variant="5.7.30",
                source="responses.yaml smtp-5-7-30-announced",
            ),
            Pattern(
                r"\blogindisabled\b",
                variant="capability",
                source="responses.yaml imap-capability-logindisabled-consumer",
            ),
            Pattern(
                r"no login methods supported",
                variant="no-login-methods",
                source="Jakarta/Angus Mail when the server advertises LOGINDISABLED",
            ),
        ),
        variants={
            "imap-inferred": Variant(
                title="IMAP refuses password sign-in; the password itself is right",
                detail=(
                    "SMTP accepted the same user name and password, so the password is right. "
                    "IMAP still answered '{sentence}': IMAP and POP no longer accept passwords "
                    "(basic authentication) from Microsoft 365 mailboxes — work and school "
                    "tenants {timeline[work-basic-auth-permanent]}; personal accounts "
                    "{timeline[consumer-basic-auth-off]}. Only OAuth2 opens IMAP now."
                ),
                admin_action=(
                    "Nothing to switch back on: IMAP basic authentication cannot be re-enabled "
                    "in Microsoft 365. Move the client to OAuth2."
                ),
            ),
            "capability": Variant(
                detail=(
                    "The IMAP server announces LOGINDISABLED and no password mechanism: it will "
                    "not accept a user name and password at all, only OAuth2. Microsoft does this "
                    "for mailboxes where basic authentication is gone (personal accounts "
                    "{timeline[consumer-basic-auth-off]})."
                ),
            ),
            "5.7.30": Variant(
                detail=(
                    "The server answered '{sentence}': Microsoft's announced final reply once "
                    "basic authentication for SMTP AUTH is removed for good (Microsoft names "
                    "that date {timeline[smtp-basic-final]}). No tenant setting brings it back."
                ),
                admin_action=(
                    "None: basic authentication for Client Submission is retired. Use OAuth2, "
                    "an SMTP relay (connector) or High Volume Email."
                ),
            ),
            "no-login-methods": Variant(
                detail=(
                    "The client found no password sign-in method to use ('{sentence}'). Against "
                    "Microsoft 365 that happens when the server advertises LOGINDISABLED: "
                    "password sign-in (basic authentication) is off for this mailbox."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="smtp-auth-disabled",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Sending is switched off: SMTP AUTH is disabled for this {scope_word}",
        meaning=(
            "The server said SMTP AUTH (authenticated sending through smtp.office365.com) is "
            "disabled for the {scope_word}. That switch blocks sending with any sign-in method, "
            "OAuth2 included, so nothing in {client} can fix it."
        ),
        evidence=(
            "SMTP 535 5.7.139 'SmtpClientAuthentication is disabled for the Tenant' or '… for the "
            "Mailbox' ({scope_word})."
        ),
        remedy=_r(
            "Ask your administrator to allow SMTP AUTH for your mailbox (action below). Until then "
            "{client} cannot send through {smtp_host}.",
            none=(
                "Ask your administrator to allow SMTP AUTH for your mailbox (action below). "
                + RELAY_REMEDY
            ),
        ),
        admin_action=(
            "For this mailbox only (overrides the tenant setting): "
            "`Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false`; for the "
            "whole tenant: `Set-TransportConfig -SmtpClientAuthenticationDisabled $false`. "
            "Portal: Microsoft 365 admin center → Users → Active users → {user} → Mail → Manage "
            "email apps → Authenticated SMTP."
        ),
        patterns=(
            Pattern(
                r"smtpclientauthentication is disabled for the (?P<variant>tenant|mailbox)",
                source="responses.yaml smtp-auth-disabled-*",
            ),
            Pattern(r"aka\.ms/smtp_auth_disabled", source="link in the tenant-level reply"),
        ),
        variants={
            "tenant": Variant(
                detail=(
                    "The server said SMTP AUTH is disabled for the Tenant: authenticated sending "
                    "through smtp.office365.com is switched off for the whole organisation "
                    "(Microsoft turned it off for tenants that did not use it). It blocks OAuth2 "
                    "as well, so nothing in {client} can fix it; an administrator can allow it "
                    "for this mailbox alone."
                ),
            ),
            "mailbox": Variant(
                detail=(
                    "The server said SMTP AUTH is disabled for the Mailbox: this mailbox has "
                    "authenticated sending explicitly switched off, OAuth2 included. Personal "
                    "Outlook.com accounts get the same reply and have no switch to change it."
                ),
                admin_action=(
                    "`Set-CASMailbox -Identity {user} -SmtpClientAuthenticationDisabled $false` "
                    "(or `$null` to follow the tenant setting, shown by "
                    "`Get-TransportConfig | Format-List SmtpClientAuthenticationDisabled`)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="security-defaults",
        severity=Severity.CRITICAL,
        layer="auth",
        title="Security defaults block password sign-in in this organisation",
        meaning=(
            "The server said the user 'is locked by your organization's security defaults "
            "policy'. That is not an account lockout: Entra ID security defaults block every "
            "password (basic authentication) sign-in from mail clients — IMAP, POP and SMTP "
            "alike — whatever the password, and app passwords do not help."
        ),
        evidence=(
            "SMTP 535 5.7.139 'user is locked by your organization's security defaults policy'."
        ),
        remedy=_r("{modern_auth}", none="{modern_auth}"),
        admin_action=(
            "Keep security defaults and move clients to OAuth2, or replace them with Conditional "
            "Access policies (Entra ID P1) that allow what is needed: Entra admin center → "
            "Identity → Overview → Properties → Manage security defaults."
        ),
        patterns=(
            Pattern(r"security defaults", source="responses.yaml smtp-security-defaults-full"),
        ),
    ),
    CatalogueEntry(
        code="mfa-required",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The account must use multi-factor sign-in",
        meaning=(
            "Microsoft's sign-in service said this account has to complete multi-factor "
            "authentication ('{sentence}'), which a mail client signing in with a password "
            "cannot do."
        ),
        evidence=(
            "Entra ID errors in pasted texts or sign-in logs: AADSTS50076 / AADSTS50079 / "
            "AADSTS50074, or 'multi-factor authentication' required."
        ),
        remedy=_r(
            "{modern_auth} Where your organisation still allows password sign-in for mail and "
            "app passwords, an app password entered in {client} ({password_path}) works instead "
            "of your account password."
        ),
        admin_action=(
            "Move the client to OAuth2, or (per-user MFA only) allow app passwords. " + _SIGNIN_LOG
        ),
        patterns=(
            Pattern(r"\baadsts500(?:76|79|74)\b", source="Entra ID MFA-required errors"),
            Pattern(r"multi-?factor authentication", source="Entra ID sign-in message"),
        ),
    ),
    CatalogueEntry(
        code="conditional-access-blocked",
        severity=Severity.CRITICAL,
        layer="auth",
        title="A Conditional Access policy blocks this sign-in",
        meaning=(
            "The server said the request 'did not meet the criteria to be authenticated "
            "successfully'. Microsoft applies Conditional Access after checking the password, so "
            "the password is right; an organisation policy (legacy authentication blocked, an "
            "unexpected location or device) refused the sign-in."
        ),
        evidence=(
            "SMTP 535 5.7.139 'the request did not meet the criteria to be authenticated "
            "successfully'; Entra AADSTS53003 in pasted texts."
        ),
        remedy=_r(
            "{modern_auth} If you are on an unusual network (abroad, a VPN), try from your usual "
            "one; otherwise your administrator must act."
        ),
        admin_action=(
            _SIGNIN_LOG + " Exclude this use from the policy, or move the client to OAuth2."
        ),
        patterns=(
            Pattern(
                r"did not meet the criteria to be authenticated",
                source="responses.yaml smtp-criteria-not-met",
            ),
            Pattern(
                r"\baadsts53003\b|blocked by conditional access",
                source="Entra ID BlockedByConditionalAccess",
            ),
        ),
    ),
    CatalogueEntry(
        code="imap-disabled",
        severity=Severity.CRITICAL,
        layer="mailbox",
        title="Signed in, but the mailbox cannot be opened over IMAP",
        meaning=(
            "The sign-in succeeded (so the password is right), then the first mailbox command got "
            "'{sentence}'. Exchange Online answers this way when IMAP is switched off for the "
            "mailbox (or the Outlook.com setting 'Let devices and apps use IMAP' is off), when a "
            "Client Access Rule does not allow IMAP4, when the account has no Exchange Online "
            "licence, when a shared mailbox is addressed the wrong way, and sometimes during a "
            "backend problem."
        ),
        evidence=(
            "IMAP 'BAD User is authenticated but not connected.' on the first mailbox command "
            "(NAMESPACE, LIST, SELECT, EXAMINE) after 'OK LOGIN completed.'."
        ),
        remedy=_r(
            "Personal Outlook.com account: Outlook.com → Settings → Mail → Forwarding and IMAP → "
            "allow devices and apps to use IMAP. Shared mailbox: the IMAP user name is "
            "you@example.com\\shared@example.com with your own password ({imap_settings}). Work "
            "account: ask your administrator (action below)."
        ),
        admin_action=(
            "`Get-CASMailbox -Identity {user} | Format-List ImapEnabled`; enable with "
            "`Set-CASMailbox -Identity {user} -ImapEnabled $true`. Check `Get-ClientAccessRule` "
            "for "
            "rules that do not allow IMAP4, that the user has an Exchange Online licence, and for "
            "shared mailboxes the user@domain\\shared@domain syntax."
        ),
        patterns=(
            Pattern(
                r"user is authenticated but not connected",
                source="responses.yaml imap-bad-authenticated-not-connected-*",
            ),
        ),
    ),
    CatalogueEntry(
        code="account-locked",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The account is locked",
        meaning=(
            "The server said the account is locked. Entra ID smart lockout locks an account "
            "after 10 failed sign-ins (3 in US Government clouds) for at least a minute, longer "
            "each time; a phone or program that keeps retrying an old password keeps it locked. "
            "Sign-ins from a suspicious IP address can be blocked the same way whatever the "
            "password."
        ),
        evidence=(
            "SMTP 535 5.7.139 'account locked' or 'account has an issue' (also inside "
            "'530 5.7.57 … Error: 535 …'); Entra AADSTS50053 (IdsLocked) or AADSTS50057 "
            "(account disabled) in pasted texts."
        ),
        remedy=_r(
            "Stop every device and program that signs in as {user} with an old password (phones, "
            "other computers, scanners), wait a few minutes, then fix the password in {client}: "
            "{password_path}. 'Forgot my password' also clears the lock. conntest makes one "
            "attempt per protocol and never retries."
        ),
        admin_action=(
            _SIGNIN_LOG + " It shows where the failed attempts come from; unlock the account or "
            "reset the password there."
        ),
        patterns=(
            Pattern(
                r"\baccount locked\b|\baccount is locked\b",
                source="responses.yaml smtp-account-locked-*",
            ),
            Pattern(r"account has an issue", variant="issue", source="behaviour.md §4"),
            Pattern(r"\baadsts50053\b|\bidslocked\b", source="Entra ID IdsLocked"),
            Pattern(
                r"\baadsts50057\b|user account is disabled",
                variant="disabled",
                source="Entra ID UserDisabled",
            ),
        ),
        variants={
            "issue": Variant(
                title="Microsoft reports a problem with the account",
                detail=(
                    "The server said the account 'has an issue': Entra ID will not sign it in "
                    "(locked, disabled, or needing attention such as a password change)."
                ),
            ),
            "disabled": Variant(
                title="The account is disabled",
                detail="Microsoft's sign-in service said the account is disabled ('{sentence}').",
            ),
        },
    ),
    CatalogueEntry(
        code="throttled",
        severity=Severity.CRITICAL,
        layer="session",
        title="Microsoft is limiting this mailbox for now",
        meaning=(
            "The server refused because of a limit, not a setting: '{sentence}'. It passes by "
            "itself."
        ),
        evidence=(
            "IMAP 'Request is throttled. Suggested Backoff Time: …'; SMTP 432 4.3.2 (concurrent "
            "connections), 554 5.2.0 SubmissionQuotaExceeded (10,000 recipients a day), 550 "
            "5.2.251–5.2.255 (continuous-error throttling)."
        ),
        remedy=_r(
            "Nothing is wrong with {client}'s settings. Wait before trying again, and close other "
            "programs and devices that use this mailbox at the same time (SMTP allows at most 3 "
            "simultaneous sending connections per mailbox, IMAP has a per-mailbox budget)."
        ),
        admin_action=(
            "No tenant setting lifts these limits: SMTP AUTH allows 3 concurrent connections, 30 "
            "messages a minute and 10,000 recipients a day per mailbox; continuous-error "
            "throttling cannot be lifted by Microsoft support."
        ),
        patterns=(
            Pattern(
                r"(?:request is throttled.*?)?suggested backoff time: (?P<backoff>\d+)"
                r"|request is throttled",
                variant="imap",
                source="responses.yaml imap-no-request-throttled",
            ),
            Pattern(
                r"sender thread limit exceeded|concurrent connections limit exceeded",
                variant="concurrency",
                source="responses.yaml smtp-432-sender-thread-limit",
            ),
            Pattern(
                r"submissionquotaexceeded",
                variant="quota",
                source="responses.yaml smtp-554-submission-quota",
            ),
            Pattern(
                r"sender throttled due to continuous|^5\.2\.25[1-5]\b",
                variant="continuous",
                source="responses.yaml smtp-550-continuous-send-as-throttle",
            ),
        ),
        variants={
            "imap": Variant(
                detail=(
                    "IMAP refused with '{sentence}': the mailbox used up its IMAP budget, usually "
                    "because several programs sync it at once. Microsoft suggests waiting "
                    "{backoff_text}."
                ),
                remedy=_r(
                    "Wait {backoff_text}, then let {client} try once. Close other programs and "
                    "devices that sync this mailbox over IMAP."
                ),
            ),
            "concurrency": Variant(
                detail=(
                    "SMTP refused with '{sentence}': more than 3 connections were sending for this "
                    "mailbox at the same time."
                ),
            ),
            "quota": Variant(
                detail=(
                    "SMTP refused with '{sentence}': the mailbox reached its daily limit of "
                    "10,000 recipients for SMTP AUTH."
                ),
                remedy=_r(
                    "Wait until the 24-hour window has passed before {client} sends again; send "
                    "bulk mail another way."
                ),
            ),
            "continuous": Variant(
                detail=(
                    "SMTP refused with '{sentence}': after repeated errors (Send As denied, "
                    "mailbox full, invalid recipients or licence) Microsoft blocks SMTP AUTH for "
                    "this mailbox for a while. Fix the errors that led to it; the block ends by "
                    "itself and support cannot lift it."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="auth-mechanism-unsupported",
        severity=Severity.CRITICAL,
        layer="session",
        title="{client} uses a sign-in method the server does not offer",
        meaning=(
            "The server refused the sign-in method ('{sentence}'). Microsoft 365 offers AUTH LOGIN "
            "and XOAUTH2 for SMTP (not PLAIN), and AUTHENTICATE PLAIN, XOAUTH2 or the LOGIN "
            "command for IMAP; AUTH PLAIN, or AUTH before STARTTLS, gets this answer."
        ),
        evidence=(
            "SMTP '504 5.7.4 Unrecognized authentication type'; the post-STARTTLS EHLO or the IMAP "
            "CAPABILITY without the mechanism the profile uses ({offered}, {mechanism}); a login "
            "step failed as not offered."
        ),
        remedy=_r(
            "In {settings}, choose a sign-in method the server offers: 'Normal password' / "
            "'Password' (AUTH LOGIN), or OAuth2 where {client} has it. If the client insists on "
            "PLAIN for SMTP, it cannot send through Microsoft 365 with a password."
        ),
        patterns=(
            Pattern(
                r"unrecognized authentication type",
                source="responses.yaml smtp-504-unrecognized-auth-type",
            ),
        ),
        variants={
            "smtp-offer": Variant(
                detail=(
                    "After STARTTLS the server offered AUTH {offered}; {client} signs in with "
                    "{mechanism}, which is not among them. Microsoft 365 offers AUTH LOGIN and "
                    "XOAUTH2 for SMTP, not PLAIN."
                ),
            ),
            "no-auth": Variant(
                title="The SMTP server offered no sign-in at all after STARTTLS",
                detail=(
                    "After STARTTLS the server's EHLO reply listed no AUTH ({offered}). "
                    "Microsoft's {smtp_host} always lists AUTH LOGIN XOAUTH2 there, even when "
                    "SMTP AUTH is switched off, so this is another server or a device on the way."
                ),
                remedy=_r(
                    "Check the outgoing server name in {smtp_settings} ({smtp_host}) and try from "
                    "another network."
                ),
            ),
            "imap-offer": Variant(
                detail=(
                    "The IMAP server offers {offered}; {client} signs in with {mechanism}, which "
                    "is "
                    "not among them."
                ),
            ),
            "not-offered": Variant(
                detail=(
                    "{client}'s sign-in method was not offered by the server ('{sentence}'). "
                    "Microsoft 365 offers AUTH LOGIN and XOAUTH2 for SMTP (not PLAIN), and "
                    "AUTHENTICATE PLAIN, XOAUTH2 or the LOGIN command for IMAP."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-version-rejected",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The server refuses {client}'s old TLS version",
        meaning=(
            "Microsoft 365 accepts only TLS 1.2 and later, and this connection did not get there "
            "('{sentence}'). Old Windows (Windows 7 without the TLS 1.1/1.2 updates and registry "
            "settings), old Outlook builds and old devices offer only TLS 1.0."
        ),
        evidence=(
            "SMTP '421 4.7.66 TLS 1.0 and 1.1 are not supported' after the STARTTLS handshake; "
            "the POP/IMAP text pointing at aka.ms/popimap_tls; a handshake that failed with a "
            "protocol-version alert, or while the profile's TLS range ends below 1.2."
        ),
        remedy=_r(
            "Update the system so {client} can use TLS 1.2: on Windows 7 install the TLS 1.1/1.2 "
            "updates and set the registry keys that enable them (Microsoft: 'Enabling TLS 1.1 and "
            "1.2 in Outlook on Windows 7'); Windows 8.1 and later have it built in; old iPhones "
            "and devices need a system update or replacement."
        ),
        admin_action=(
            "For SMTP AUTH only, a tenant can opt in to the legacy endpoint "
            "(`Set-TransportConfig -AllowLegacyTLSClients $true`, clients then use "
            "smtp-legacy.office365.com; not in GCC). Legacy TLS for POP/IMAP, legacy endpoints "
            "included, is retired in a rollout {timeline[popimap-tls-legacy-retired]}."
        ),
        patterns=(
            Pattern(
                r"tls 1\.0 and 1\.1 are not supported|aka\.ms/(?:smtp_auth_tls|popimap_tls)",
                variant="server-said",
                source="responses.yaml smtp-421-tls-legacy-doc, popimap-tls-legacy-announced",
            ),
            Pattern(
                r"alert protocol version|unsupported protocol|no protocols available",
                source="OpenSSL handshake errors for a version mismatch",
            ),
        ),
        variants={
            "server-said": Variant(
                detail=(
                    "The server answered '{sentence}'{after_version}. Microsoft 365 accepts only "
                    "TLS 1.2 and later; old Windows (Windows 7 without the TLS 1.1/1.2 updates and "
                    "registry settings), old Outlook builds and old devices offer only TLS 1.0."
                ),
            ),
            "client-max": Variant(
                detail=(
                    "The TLS handshake failed ('{sentence}'), and {client} can use at most TLS "
                    "{tls_max} here. Microsoft 365 accepts only TLS 1.2 and later; on IMAP it "
                    "ends an older handshake without a readable answer."
                ),
            ),
            "other-protocol": Variant(
                detail=(
                    "The TLS handshake failed ('{sentence}'), while {client}'s other connection "
                    "negotiated only {version}. Microsoft 365 accepts only TLS 1.2 and later; on "
                    "IMAP it ends an older handshake without a readable answer."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-legacy-version",
        severity=Severity.WARNING,
        layer="tls",
        title="{protocol_name} works only over old {version}",
        meaning=(
            "The connection used {version}, which Microsoft no longer supports "
            "({timeline[tls-legacy-unsupported]}). It works today only through a legacy opt-in "
            "endpoint or an exception, and will stop: POP/IMAP legacy TLS is retired in a "
            "rollout {timeline[popimap-tls-legacy-retired]}."
        ),
        evidence="The TLS step passed with TLSv1 or TLSv1.1 negotiated ({version}).",
        remedy=_r(
            "Update the system so {client} uses TLS 1.2 (Windows 7: the TLS 1.1/1.2 updates and "
            "registry settings; Windows 8.1 and later have it built in)."
        ),
    ),
    CatalogueEntry(
        code="tls-intercepted",
        severity=Severity.CRITICAL,
        layer="tls",
        title="Something on your network intercepts the encrypted connection ({issuer_name})",
        meaning=(
            "The certificate presented for {host} was issued by {issuer_name} ({issuer}), not by "
            "a public certificate authority that Microsoft uses, and it does not verify "
            "({verify}). A firewall with TLS inspection, an antivirus 'mail shield' or a proxy "
            "is decrypting the connection — and would see your password."
        ),
        evidence=(
            "TLS verification failed with an unknown-issuer code (2, 18, 19, 20, 21) or a name "
            "mismatch, and the issuer is neither Microsoft nor DigiCert; or (warning) the "
            "certificate verified but was issued by such a CA. {issuer_name} is the issuer's O "
            "or CN."
        ),
        remedy=_r(
            "Turn off mail or SSL scanning in your antivirus, or ask your network administrator to "
            "exempt {imap_host} and {smtp_host} from TLS inspection. Do not make {client} accept "
            "the certificate: whoever issued it can read your password."
        ),
        admin_action=(
            "Exempt {imap_host}:{imap_port} and {smtp_host}:{smtp_port} from TLS/SSL inspection on "
            "the device that issues certificates as '{issuer_name}'."
        ),
        variants={
            "trusted": Variant(
                severity=Severity.WARNING,
                title="The encrypted connection is inspected by {issuer_name}",
                detail=(
                    "The certificate presented for {host} was issued by {issuer_name} "
                    "({issuer}), not by a public certificate authority that Microsoft uses. This "
                    "device trusts it, so the connection works, but a device on the way decrypts "
                    "it and can see your password; clients with their own certificate store "
                    "(Thunderbird) may refuse it."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-certificate-invalid",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The server's certificate is not accepted",
        meaning="The certificate presented for {host} failed verification: {verify}.",
        evidence=(
            "TLS verification failed (OpenSSL verify code {verify_code}) with an issuer Microsoft "
            "uses, or for reasons other than an unknown issuer: expired (10), not yet valid (9), "
            "name mismatch (62/64)."
        ),
        remedy=_r(
            "Check that the server name in {settings} is exactly {expected_host}, and that this "
            "device's date, time and root certificates are up to date."
        ),
        patterns=(
            Pattern(r"certificate has expired", variant="expired", source="OpenSSL verify code 10"),
            Pattern(
                r"hostname mismatch|ip address mismatch|doesn't match|does not match",
                variant="name-mismatch",
                source="OpenSSL verify codes 62/64",
            ),
            Pattern(
                r"certificate verify failed|unable to get local issuer|self[- ]signed certificate"
                r"|\b0x800ccc0[12]\b",
                variant="untrusted",
                source="OpenSSL verify codes 19/20/21; Outlook invalid certificate errors",
            ),
        ),
        variants={
            "expired": Variant(
                title="The server's certificate has expired — or this device's clock is wrong",
                detail=(
                    "The certificate presented for {host} is expired (valid until {not_after}). "
                    "Microsoft renews its certificates in time, so check this device's date and "
                    "time first; otherwise something on the way presents an old certificate."
                ),
                remedy=_r(
                    "Set this device's date, time and time zone correctly, then let {client} try "
                    "again."
                ),
            ),
            "not-yet-valid": Variant(
                title=(
                    "The server's certificate is not valid yet — this device's clock is probably "
                    "wrong"
                ),
                detail="The certificate presented for {host} is not valid yet: {verify}.",
                remedy=_r(
                    "Set this device's date, time and time zone correctly, then let {client} try "
                    "again."
                ),
            ),
            "name-mismatch": Variant(
                title="The certificate is for a different server name",
                detail=(
                    "The certificate presented for {host} is for {sans}: {verify}. The server "
                    "name in the settings is probably wrong."
                ),
                remedy=_r("Set the server name in {settings} to {expected_host}."),
            ),
            "untrusted-root": Variant(
                title=(
                    "This device does not trust the authority that issued Microsoft's certificate"
                ),
                detail=(
                    "The certificate for {host} was issued by {issuer_name}, a certificate "
                    "authority Microsoft uses, but this device cannot verify it ({verify}): its "
                    "list of trusted root certificates is probably outdated."
                ),
                remedy=_r(
                    "Install the system updates (root certificate updates) for this device; "
                    "on very old systems that no longer get updates, {client} cannot verify "
                    "Microsoft's servers."
                ),
            ),
            "untrusted": Variant(
                title="The server's certificate is not trusted",
                detail=(
                    "The certificate is not trusted ('{sentence}'): either something on the way "
                    "intercepts the connection (antivirus, firewall), or this device lacks the "
                    "root certificate. `conntest check` names the issuer and tells the two apart."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="tls-handshake-failed",
        severity=Severity.CRITICAL,
        layer="tls",
        title="The encrypted connection to {host} could not be set up",
        meaning=(
            "The TLS handshake failed: {message}. {client} and the server found no common "
            "version or cipher, or a device on the way interfered."
        ),
        evidence="TLS step failed as tls-handshake without a version or protocol explanation.",
        remedy=_r(
            "Check the encryption setting in {settings} ({expected_security} on port "
            "{expected_port}) and that no security software intercepts mail connections."
        ),
        patterns=(
            Pattern(
                r"handshake failure|no shared cipher|no ciphers available",
                source="OpenSSL handshake errors",
            ),
        ),
    ),
    CatalogueEntry(
        code="starttls-missing",
        severity=Severity.CRITICAL,
        layer="session",
        title="The SMTP server did not offer encryption (STARTTLS)",
        meaning=(
            "Microsoft's {smtp_host} always offers STARTTLS on port {smtp_port} before sign-in; "
            "here it did not ({how}). Firewalls with SMTP inspection remove STARTTLS from the "
            "server's answer, or the connection reached another server. {client} would have to "
            "send the password unencrypted, or give up."
        ),
        evidence=(
            "The first EHLO reply without STARTTLS, or the STARTTLS command failing as not "
            "offered or refused. {how} says which."
        ),
        remedy=_r(
            "Try from another network (for example a phone's hotspot) to confirm, and ask the "
            "network administrator to turn off SMTP/ESMTP inspection for {smtp_host}. Never switch "
            "{client} to an unencrypted connection."
        ),
        admin_action=(
            "Disable SMTP/ESMTP inspection (STARTTLS stripping) for {smtp_host}:{smtp_port} on the "
            "firewall."
        ),
    ),
    CatalogueEntry(
        code="starttls-required",
        severity=Severity.CRITICAL,
        layer="session",
        title="The client tried to send without encryption",
        meaning=(
            "The server answered '{sentence}': the client sent mail on port 587 without first "
            "switching on encryption with STARTTLS. This is not a TLS version problem; TLS was not "
            "used at all."
        ),
        evidence=(
            "SMTP '451 5.7.3 STARTTLS is required to send mail' (or 'Must issue a STARTTLS command "
            "first')."
        ),
        remedy=_r(
            "In {smtp_settings}, set the encryption to STARTTLS (Outlook 2016 calls it 'TLS') on "
            "port 587."
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"starttls is required|must issue a starttls command first",
                source="responses.yaml smtp-451-starttls-required",
            ),
        ),
    ),
    CatalogueEntry(
        code="not-authenticated",
        severity=Severity.CRITICAL,
        layer="auth",
        title="The client tried to send without being signed in",
        meaning=(
            "The server answered '{sentence}': the client sent MAIL FROM without a successful "
            "sign-in — it was not set to sign in, or its sign-in failed and it carried on. When "
            "the sign-in failed, Microsoft appends the real reason after 'Error:'; this text has "
            "none."
        ),
        evidence=(
            "SMTP '530 5.7.57 Client not authenticated to send mail' without an embedded "
            "'Error: 535 …' (with one, the embedded reply decides)."
        ),
        remedy=_r(
            "In {smtp_settings}, turn on 'My outgoing server requires authentication' (or the "
            "equivalent) with the same user name and password as for receiving, then look at the "
            "sign-in error the client shows."
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"client not authenticated to send mail|client was not authenticated to send "
                r"anonymous mail",
                source="responses.yaml smtp-530-5-7-57-not-authenticated",
            ),
            Pattern(
                r"requires a secure connection or the client was not authenticated",
                variant="dotnet",
                source="System.Net.Mail's MustIssueStartTlsFirst message",
            ),
        ),
        variants={
            "dotnet": Variant(
                detail=(
                    "This is .NET's wording ('{sentence}'), which it shows for Microsoft's '530 "
                    "5.7.57 Client not authenticated' and labels MustIssueStartTlsFirst. It "
                    "points at TLS, but the cause is the sign-in: look for the server's own "
                    "text after 'The server response was:'."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="send-as-denied",
        severity=Severity.CRITICAL,
        layer="result",
        title="You may not send as this sender",
        meaning=(
            "The server answered '{sentence}': the sign-in worked, but the From address is not "
            "the signed-in mailbox and the user has no 'Send As' right on it. SMTP AUTH cannot "
            "send for arbitrary senders. Repeated attempts get the mailbox throttled."
        ),
        evidence=(
            "At the end of DATA: 550 5.7.60 'Client does not have permissions to send as this "
            "sender', 554 5.2.0 …SendAsDenied…, 554 5.2.252 SendAsDenied."
        ),
        remedy=_r(
            "Send with your own address as From ({user}: the address of the account in {client}), "
            "or ask for Send As permission on the other address."
        ),
        admin_action=(
            "`Add-RecipientPermission -Identity <From address> -Trustee {user} -AccessRights "
            "SendAs`"
        ),
        scope="explain",
        patterns=(
            Pattern(
                r"does not have permissions to send as|sendasdenied|not allowed to send as",
                source="responses.yaml smtp-5-7-60-*, smtp-554-sendasdenied-storedrv",
            ),
        ),
    ),
    CatalogueEntry(
        code="mailbox-full",
        severity=Severity.CRITICAL,
        layer="result",
        title="The mailbox is full",
        meaning=(
            "The server answered '{sentence}': the sending mailbox is over its quota. Mail sent "
            "through SMTP AUTH is stored in Sent Items, so a full mailbox cannot send; repeated "
            "attempts get it throttled."
        ),
        evidence="554 5.2.2 'mailbox full; …QuotaExceededException…' at the end of DATA.",
        remedy=_r(
            "Delete or archive mail (empty Deleted Items and Sent Items), then let {client} send "
            "again."
        ),
        admin_action=(
            "`Get-MailboxStatistics -Identity {user}` shows the size; raise the quota or enable "
            "the archive (`Enable-Mailbox -Identity {user} -Archive`)."
        ),
        scope="explain",
        patterns=(
            Pattern(r"mailbox full|quotaexceeded", source="responses.yaml smtp-554-mailbox-full"),
        ),
    ),
    CatalogueEntry(
        code="wrong-protocol",
        severity=Severity.CRITICAL,
        layer="session",
        title="{client} and the server speak different protocols on port {port}",
        meaning=(
            "The answer on port {port} was not what {protocol_name} sends ('{sentence}'). Port 587 "
            "(SMTP) starts unencrypted and switches with STARTTLS; port 993 (IMAP) is encrypted "
            "from the first byte (SSL/TLS)."
        ),
        evidence=(
            "'500 5.3.3 Unrecognized command' on SMTP, TLS errors such as 'wrong version number' "
            "or "
            "'first record does not look like a TLS handshake', an unexpected greeting, or a "
            "protocol failure."
        ),
        remedy=_r(
            "In {settings}, use {expected_host}, port {expected_port}, encryption "
            "{expected_security}."
        ),
        patterns=(
            Pattern(
                r"wrong version number|first record does not look like a tls handshake"
                r"|http request",
                variant="tls-mismatch",
                source="behaviour.md §1 (OpenSSL, Go)",
            ),
            Pattern(
                r"unrecognized command",
                variant="command",
                source="responses.yaml smtp-500-unrecognized-command-wrong-protocol",
            ),
            Pattern(
                r"\b0x800ccc1a\b",
                variant="tls-mismatch",
                source="Outlook 'unable to connect using SSL'",
            ),
        ),
        variants={
            "tls-mismatch": Variant(
                title="The encryption setting does not match the port",
                detail=(
                    "One side spoke TLS and the other plain text ('{sentence}'). Port 587 "
                    "(SMTP) starts unencrypted and switches with STARTTLS; port 993 (IMAP) is "
                    "encrypted from the first byte (SSL/TLS)."
                ),
            ),
            "command": Variant(
                detail=(
                    "The server did not understand a command ('{sentence}'): something other "
                    "than SMTP was spoken to the SMTP port, e.g. IMAP settings in the outgoing "
                    "server. Port 587 (SMTP) starts unencrypted and switches with STARTTLS; port "
                    "993 (IMAP) is encrypted from the first byte (SSL/TLS)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="wrong-port",
        severity=Severity.WARNING,
        layer="local",
        title=(
            "{client} is set to {protocol_name} port {port} with {security}; Microsoft 365 uses "
            "{expected_port} with {expected_security}"
        ),
        meaning=(
            "{host} serves {protocol_name} on port {expected_port} with {expected_security}. "
            "With port {port} and {security} the connection is refused, times out or fails "
            "in the handshake. (Some clients switch SMTP to 465 when 'SSL' is chosen; Microsoft "
            "365 does not offer 465.)"
        ),
        evidence=(
            "The profile's host is Microsoft's and its port/security differ from IMAP 993 "
            "SSL/TLS or SMTP 587 STARTTLS (25 with STARTTLS is accepted too). Critical when that "
            "protocol then failed before sign-in."
        ),
        remedy=_r("In {settings}, set port {expected_port} and encryption {expected_security}."),
        variants={"failed": Variant(severity=Severity.CRITICAL)},
    ),
    CatalogueEntry(
        code="port-filtered",
        severity=Severity.CRITICAL,
        layer="connect",
        title="No answer from {host} on port {port}",
        meaning=(
            "The connection to {host}:{port} got no answer in time. conntest did not test another "
            "port, so it cannot tell a blocked mail port from no connection at all."
        ),
        evidence=(
            "connect timed out (or no route). The control connection to the same host on 443 "
            "decides: answered → mail ports filtered on the way; no answer → no route at all."
        ),
        remedy=_r(
            "Try {client} from another network (a phone's hotspot). If it works there, its "
            "settings are right: ask the network administrator to allow outbound TCP {port} to "
            "{host}."
        ),
        admin_action=(
            "Allow outbound TCP {imap_port} to {imap_host} and {smtp_port} to {smtp_host} on the "
            "firewall."
        ),
        patterns=(
            Pattern(
                r"\btimed out\b|\betimedout\b|\b0x8004210b\b|\b0x800ccc19\b",
                variant="timeout",
                source="socket/Outlook timeouts",
            ),
            Pattern(
                r"no route to host|network is unreachable|ehostunreach|enetunreach",
                variant="no-route",
                source="socket errors",
            ),
            Pattern(
                r"\b0x800ccc0e\b|cannot connect to server",
                variant="timeout",
                source="Outlook 'Cannot connect to server'",
            ),
        ),
        variants={
            "filtered": Variant(
                title="Port {port} to {host} is blocked on the way",
                detail=(
                    "{host} answered on port 443 (HTTPS) but not on port {port}: a firewall "
                    "between you and Microsoft drops mail connections. Guest, hotel and company "
                    "networks and some internet providers block ports 587 and 993."
                ),
            ),
            "no-route": Variant(
                title="{host} cannot be reached at all from here",
                detail=(
                    "Neither port {port} nor port 443 of {host} answered: there is no route to "
                    "Microsoft from this network (offline, a captive portal waiting for a login, "
                    "a proxy-only network, or DNS pointing elsewhere)."
                ),
                remedy=_r(
                    "Check that this device is online (open a web page; log in to a hotel or "
                    "guest network's portal), then let {client} try again, or from another "
                    "network."
                ),
            ),
            "timeout": Variant(
                detail=(
                    "The connection timed out ('{sentence}'): a firewall may block the port, the "
                    "server name may be wrong, or the network is down."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="port-closed",
        severity=Severity.CRITICAL,
        layer="connect",
        title="{host} refused the connection on port {port}",
        meaning=(
            "The connection to {host}:{port} was refused. Microsoft's servers accept connections "
            "on {expected_port}; a refusal usually comes from a local firewall, antivirus or "
            "proxy, or the server name, port or DNS answer points elsewhere."
        ),
        evidence="connect failed as refused (TCP reset to the connection request).",
        remedy=_r(
            "Check the server name and port in {settings} ({expected_host}, {expected_port}) and "
            "any firewall or antivirus on this device."
        ),
        patterns=(Pattern(r"connection refused|econnrefused|errno 111", source="socket errors"),),
    ),
    CatalogueEntry(
        code="connection-reset",
        severity=Severity.CRITICAL,
        layer="connect",
        title="The connection to {host} was cut",
        meaning=(
            "The connection to {host}:{port} was {cut} during {phase}. Firewalls and security "
            "software that block or inspect mail connections do this; so do unstable networks."
        ),
        evidence=(
            "A step failed as reset or closed (no server reply explained it). {phase} names the "
            "step."
        ),
        remedy=_r(
            "Try {client} from another network; if it works there, ask the network administrator "
            "about a firewall or proxy that blocks mail. Check the antivirus's mail scanning on "
            "this device."
        ),
        patterns=(
            Pattern(
                r"connection reset|econnreset|errno 104|connection aborted|\b0x800ccc0f\b",
                source="socket errors; Outlook 'connection closed'",
            ),
        ),
    ),
    CatalogueEntry(
        code="server-silent",
        severity=Severity.CRITICAL,
        layer="session",
        title="{host} accepted the connection but did not answer",
        meaning=(
            "The connection to {host}:{port} was accepted but nothing came back during {phase} "
            "within the time limit. A proxy or firewall that accepts connections without passing "
            "them on does this."
        ),
        evidence="A step after connect failed as timeout. {phase} names the step.",
        remedy=_r(
            "Try {client} from another network; check for a proxy, VPN or security software on "
            "this device that handles mail connections, and that {settings} name {expected_host}."
        ),
        variants={
            "auth": Variant(
                title="No answer after the password",
                detail=(
                    "{host} did not answer the sign-in within the time limit. Microsoft delays "
                    "the answer to a failed sign-in by several seconds (up to about 20), so a "
                    "short timeout turns a refusal into silence."
                ),
                remedy=_r(
                    "Run the check again with a longer timeout (at least 30 seconds) to see the "
                    "server's verdict; give {client} a long server timeout too. Do not retry many "
                    "times (lockout after 10 failures)."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="dns-failure",
        severity=Severity.CRITICAL,
        layer="dns",
        title="The name {host} could not be looked up",
        meaning="The DNS lookup of {host} failed: {message}.",
        evidence=(
            "The resolve step (or a connect) failed as dns-nxdomain, dns-timeout or dns-error."
        ),
        remedy=_r(
            "Check the spelling of the server name in {settings} ({expected_host}); if it is "
            "right, this network's DNS is not working: try another network."
        ),
        patterns=(
            Pattern(
                r"getaddrinfo|name or service not known|nodename nor servname|nxdomain|no such host"
                r"|enotfound|eai_again|temporary failure in name resolution|\b0x800ccc0d\b",
                source="resolver errors; Outlook 'Cannot locate server'",
            ),
        ),
        variants={
            "nxdomain": Variant(
                detail=(
                    "The name {host} does not exist in DNS ({message}): the server name is "
                    "misspelt, or this network's DNS hides it."
                ),
            ),
            "timeout": Variant(
                detail=(
                    "No DNS server answered for {host} in time ({message}): this network's DNS is "
                    "not working."
                ),
                remedy=_r("Check the network connection or try {client} from another network."),
            ),
        },
    ),
    CatalogueEntry(
        code="dns-unexpected-address",
        severity=Severity.WARNING,
        layer="dns",
        title="{host} resolves to an unexpected address ({addresses})",
        meaning=(
            "{host} resolves to {addresses}, {why}. Microsoft 365's servers have public "
            "addresses. A hosts-file entry, a company DNS override, or a VPN or proxy tool "
            "answering with its own addresses sends the mail connection somewhere else."
        ),
        evidence=(
            "The resolve step's addresses include private, loopback, link-local or reserved "
            "addresses, or (when expected networks are given) addresses outside them. Critical "
            "when a connection to that host then failed."
        ),
        remedy=_r(
            "Nothing in {client} causes this. Look for an entry for {host} in the hosts file "
            "(Windows: C:\\Windows\\System32\\drivers\\etc\\hosts; macOS/Linux: /etc/hosts) and "
            "for VPN or proxy software; otherwise ask the network administrator why DNS answers "
            "this way."
        ),
        variants={"failed": Variant(severity=Severity.CRITICAL)},
    ),
    CatalogueEntry(
        code="domain-not-m365",
        severity=Severity.INFO,
        layer="dns",
        title="Mail for {domain} is not delivered straight to Microsoft 365",
        meaning=(
            "The MX records of {domain} ({exchanges}) do not end in mail.protection.outlook.com. "
            "The mailbox may still be in Microsoft 365 behind a filtering service — or it is "
            "hosted elsewhere, and then {imap_host} and {smtp_host} are the wrong servers."
        ),
        evidence=(
            "The mx step: no exchange ending in mail.protection.outlook.com (or no MX at all)."
        ),
        remedy=_r(
            "If your mailbox is not with Microsoft 365, use your provider's server names in "
            "{client}: {imap_settings} and {smtp_settings}."
        ),
        variants={
            "no-mx": Variant(
                detail=(
                    "{domain} has no MX records ({message}), so no mail is delivered to it; check "
                    "that the address {user} is spelt correctly."
                ),
            ),
        },
    ),
    CatalogueEntry(
        code="credentials-withheld",
        severity=Severity.CRITICAL,
        layer="session",
        title="conntest held the password back",
        meaning=(
            "conntest stopped before signing in rather than send the password where it would be "
            "exposed or mangled: {message}."
        ),
        evidence=(
            "A step skipped or failed as unsafe (no verified TLS, or a password the client's "
            "command cannot carry), with no other finding explaining it."
        ),
        remedy=_r(
            "Fix the connection problem first and never let {client} send the password "
            "unencrypted. If the reason is the password itself (a line break, or characters "
            "outside ASCII that IMAP LOGIN cannot carry), set a password without them or use "
            "{client}'s other sign-in method."
        ),
    ),
    CatalogueEntry(
        code="unrecognised",
        severity=Severity.UNKNOWN,
        layer="result",
        title="conntest does not know this answer",
        meaning=(
            "The text '{sentence}' is not in conntest's catalogue, so conntest cannot say what it "
            "means{where}. It is not a confirmation that anything works."
        ),
        evidence="A reply or pasted text that matches no pattern and no success form.",
        remedy=_r(
            "Keep the full text: your administrator or Microsoft support can look it up, and "
            "reporting it lets conntest learn it."
        ),
        decisive=False,
    ),
    CatalogueEntry(
        code="internal-error",
        severity=Severity.UNKNOWN,
        layer="result",
        title="conntest could not complete the check",
        meaning="{message}",
        evidence="A step failed as internal (a bug in conntest), or no step was recorded.",
        remedy=_r(
            "Run the check again; if it repeats, report it with the output of `conntest check "
            "--json`."
        ),
        decisive=False,
    ),
)

CATALOGUE: Mapping[str, CatalogueEntry] = {entry.code: entry for entry in _ENTRIES}

MATCH_ORDER: tuple[str, ...] = (
    # Most specific first: throttling texts mention Send As and quotas, security defaults
    # say "user is locked", 5.7.57 wrappers are unwrapped before matching.
    "tls-version-rejected",
    "throttled",
    "security-defaults",
    "smtp-auth-disabled",
    "basic-auth-disabled",
    "conditional-access-blocked",
    "account-locked",
    "mfa-required",
    "imap-disabled",
    "auth-mechanism-unsupported",
    "starttls-required",
    "send-as-denied",
    "mailbox-full",
    "not-authenticated",
    "wrong-credentials",
    "tls-certificate-invalid",
    "tls-handshake-failed",
    "wrong-protocol",
    "dns-failure",
    "port-closed",
    "connection-reset",
    "port-filtered",
    "login-rejected",
)
"""The order in which entries' patterns are tried; the first match decides."""

SUCCESS_PATTERNS: tuple[str, ...] = (
    r"^the microsoft exchange (?:imap4|pop3) service is ready",
    r"microsoft esmtp mail service ready",
    r"\b(?:login|authenticate|logout|namespace|select|examine|list|capability) completed\b",
    r"^capability\b",
    r"^namespace\b",
    r"signing off",
    r"smtp server ready",
    r"service closing transmission channel",
    r"authentication successful",
)
"""Normal replies: ``explain`` calls them ``ok`` (they are not errors)."""

KNOWN_ISSUERS: tuple[str, ...] = ("microsoft", "digicert")
"""Organisations whose certificates Microsoft's mail hosts present (Microsoft's TLS issuing
CAs chain to DigiCert roots).  Anything else on a Microsoft host is treated as interception."""

INTERCEPTION_VERIFY_CODES = frozenset({2, 18, 19, 20, 21})
"""OpenSSL verify codes meaning "not issued by a CA this device trusts"."""
NAME_MISMATCH_VERIFY_CODES = frozenset({62, 64})

MICROSOFT_HOST_SUFFIXES: tuple[str, ...] = (".office365.com", ".outlook.com")
M365_MX_SUFFIX = ".mail.protection.outlook.com"
CONSUMER_MX_SUFFIX = ".olc.protection.outlook.com"
"""Outlook.com / Hotmail domains receive through olc.protection.outlook.com."""

EXPECTED_ENDPOINTS: Mapping[str, tuple[tuple[int, str], ...]] = {
    "imap": ((993, "tls"),),
    "smtp": ((587, "starttls"), (25, "starttls")),
}
"""Microsoft 365's documented client endpoints (behaviour.md §1); the first is the advice."""

SECURITY_WORDS: Mapping[str, str] = {"tls": "SSL/TLS", "starttls": "STARTTLS"}

MICROSOFT_HOSTS: Mapping[str, str] = {"imap": "outlook.office365.com", "smtp": "smtp.office365.com"}
"""The documented Microsoft 365 host per protocol, advised when a setting is wrong."""
