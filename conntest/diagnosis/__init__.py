"""Why a legacy mail client fails against Microsoft 365, and what its user must do.

:func:`diagnose` turns the steps one profile's probes recorded into findings;
:func:`explain` classifies a single pasted error text.  Both are pure: no I/O,
no clock, no network.  The texts live in :mod:`.catalogue` (data), the decisions
in :mod:`.rules` (small functions), server replies are matched by meaning after
:mod:`.normalise` strips what varies.

Ordering contract of :func:`diagnose` (the engine, renderers and CLI rely on it;
written out in :mod:`.ranking`):

* never empty;
* the first finding is the cause of the first decisive failure; a finding that
  made no step fail (context) never outranks one that did;
* exactly one ``ok`` finding (severity OK) when no step failed and nothing
  critical was found: after any warnings, before info findings;
* the first finding's severity is the verdict's: no later finding is more severe.

Evidence strings have the form ``"<protocol> <step>: <reply or failure message>"``;
a finding decided by several steps carries one such line per step, joined by
newlines.
"""

from __future__ import annotations

import ipaddress
import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from conntest.diagnosis import ranking
from conntest.diagnosis.catalogue import (
    CATALOGUE,
    DECIDE,
    GENERIC_PLACES,
    MODERN_AUTH,
    NOTES,
    OAUTH2_HOW_FALLBACK,
    RETIREMENT_TIMELINE,
    TIMELINE_CITES,
    CatalogueEntry,
    ClientKind,
    TimelineEntry,
)
from conntest.diagnosis.codes.retirement import DEFAULT_VALUES as RETIREMENT_DEFAULTS
from conntest.diagnosis.normalise import normalise, one_line
from conntest.diagnosis.rules import (
    AUTH_STEPS,
    Candidate,
    Observed,
    backoff_text,
    capability_rule,
    classify_failed_step,
    credentials_verdict,
    cross_protocol,
    display,
    dns_rule,
    evidence,
    is_success,
    looks_like_auth,
    match_normalised,
    password_rule,
    protocol_values,
    settings_rule,
    tls_rule,
    username_rule,
)
from conntest.diagnosis.rules.oauth import account_kind_rule, oauth_rule
from conntest.diagnosis.rules.retirement import after_change_note, retiring_rule
from conntest.model import Finding, Severity, Status, Step
from conntest.password import PasswordShape
from conntest.profile import ImapSettings, OAuth2Support, Profile, SmtpSettings

__all__ = [
    "CATALOGUE",
    "RETIREMENT_TIMELINE",
    "CatalogueEntry",
    "DiagnosisContext",
    "TimelineEntry",
    "client_kind",
    "diagnose",
    "explain",
]


@dataclass(frozen=True)
class DiagnosisContext:
    """What the diagnosis needs besides the steps and the profile."""

    user: str
    """The user name as entered (not secret; quoted in remedies and admin actions)."""
    password: PasswordShape | None
    """The password's shape; ``None`` for a connectivity-only check without credentials."""
    expected_networks: tuple[str, ...] = ()
    """CIDRs the server addresses must lie in; empty: flag private/loopback/reserved only."""
    stripped_retry_succeeded: bool | None = None
    """Outcome of the consented retry with :func:`conntest.password.strip_invisible`.

    ``None``: no retry was made."""
    oauth: bool = False
    """The check signed in with OAuth2 (``--oauth``) instead of a password."""
    login_command: str = "conntest oauth login"
    """The command that signs in again, for OAuth remedies."""
    tenant: str = "organizations"
    today: date | None = None
    """Today's date, set by the front end, for date-aware advice (Microsoft's December 2026
    change); ``None``: no date-aware advice.  Rules never read the clock."""
    retirement_window: int = 60
    """Days before the December 2026 change in which its advisory is a warning."""

    def __post_init__(self) -> None:
        # A malformed CIDR is a configuration error: say so before any probe runs.
        for network in self.expected_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"expected network {network!r} is not a CIDR: {exc}") from exc


GENERIC_PROFILE = Profile(
    id="generic",
    name=GENERIC_PLACES["client"],
    imap=ImapSettings(settings_path=GENERIC_PLACES["imap_settings"]),
    smtp=SmtpSettings(settings_path=GENERIC_PLACES["smtp_settings"]),
    oauth2=OAuth2Support(supported=False, how=""),
    password_path=GENERIC_PLACES["password_path"],
)
"""Stands in for the client when :func:`explain` is called without a profile."""


def client_kind(profile: Profile | None) -> ClientKind:
    """How this client reaches modern authentication (selects remedy templates)."""
    if profile is None:
        return "unknown"
    if profile.oauth2.supported:
        return "oauth2"
    return "switch" if profile.oauth2.how.strip() else "none"


def diagnose(steps: Sequence[Step], profile: Profile, context: DiagnosisContext) -> list[Finding]:
    """The findings for one profile's run, most likely cause first (see the module docstring)."""
    observed = Observed(steps)
    by_step: dict[int, Candidate] = {}
    for step in observed.failed():
        by_step[id(step)] = classify_failed_step(step, profile, observed)
    cross_protocol(observed, by_step)
    if context.oauth:
        oauth_rule(observed, by_step, context.login_command, context.tenant)
    informational = account_kind_rule(observed)

    candidates = [*by_step.values(), *informational]
    signing_in = context.password is not None
    candidates += capability_rule(observed, profile, signing_in)
    candidates += tls_rule(observed, profile)
    candidates += dns_rule(observed, profile, context.expected_networks, context.user)
    candidates += settings_rule(observed, profile)

    refused, accepted = credentials_verdict(observed, candidates)
    wrong = any(c.code == "wrong-credentials" for c in candidates)
    if wrong and context.password is not None and context.password.looks_like_app_password:
        for c in candidates:
            if c.code == "wrong-credentials":
                c.extra.append(NOTES["app-password-shape"])
    candidates += password_rule(
        context.password,
        context.stripped_retry_succeeded,
        refused,
        accepted,
        wrong,
        observed.retry(),
    )
    candidates += retiring_rule(observed, profile, context.today, context.retirement_window)
    candidates += username_rule(context.user, profile, refused, accepted)
    after_change_note(candidates, context.today)

    candidates = ranking.drop_redundant(ranking.merge(candidates))
    rendered = [_render(c, profile, context.user, order) for order, c in enumerate(candidates)]

    worst = max((finding.severity for finding, _ in rendered), default=Severity.OK)
    if worst < Severity.CRITICAL and not observed.failed():
        ok = _ok(observed, profile, context)
        if ok is not None:
            rendered.append(ok)
    if not rendered:
        nothing = Candidate(
            "internal-error",
            values={"message": "No step was recorded, so there is nothing to diagnose."},
        )
        rendered.append(_render(nothing, profile, context.user, 0))
    return ranking.order(rendered)


def explain(text: str, profile: Profile | None = None) -> Finding:
    """Classify a pasted error text (client dialog, bounce, log line).

    Never raises, never guesses ``ok``.
    ``ok`` is returned only for a recognised normal reply (a greeting, ``OK LOGIN
    completed.``); unknown texts about signing in get ``login-rejected`` with what
    would decide it, anything else ``unrecognised``.
    """
    used = profile or GENERIC_PROFILE
    try:
        reply = normalise(text)
        protocol = _guess_protocol(reply.status, reply.enhanced)
        values = {"sentence": display(text) or "(empty)", **protocol_values(protocol, used)}
        values["decide"] = DECIDE["explain"]
        found = match_normalised(reply)
        candidate: Candidate
        if found is not None:
            extra = dict(found.captured)
            if "backoff" in extra:
                extra["backoff_text"] = backoff_text(extra["backoff"])
            if found.code == "smtp-auth-disabled":
                extra["scope_word"] = "organisation" if found.variant != "mailbox" else "mailbox"
            candidate = Candidate(found.code, found.variant, {**values, **extra})
        elif reply.text and is_success(reply):
            candidate = Candidate("ok", "explain", values)
        elif looks_like_auth(reply):
            candidate = Candidate("login-rejected", None, values)
        else:
            candidate = Candidate("unrecognised", None, values)
        candidate.protocol = protocol
        candidate.evidence = [f"{protocol or 'text'} (pasted): {one_line(text) or '(empty)'}"]
        finding, _ = _render(candidate, used, "<user>", 0, kind=client_kind(profile))
        return finding
    except Exception as exc:  # explain() must answer whatever it is given
        return Finding(
            code="unrecognised",
            severity=Severity.UNKNOWN,
            title="conntest does not know this answer",
            detail=f"conntest could not read this text ({type(exc).__name__}).",
            remedy="Keep the full text; your administrator or Microsoft support can look it up.",
            evidence=f"text (pasted): {one_line(str(text))}",
        )


# --------------------------------------------------------------------------------------
# Rendering and ordering
# --------------------------------------------------------------------------------------

DEFAULT_VALUES: Mapping[str, str] = {
    "summary": "the checks passed",
    "shape": "spaces or invisible characters",
    "length": "?",
    "problem": "it is not a full address",
    "sentence": "(no text)",
    "decide": "",
    "scope_word": "organisation or mailbox",
    "backoff_text": "a few minutes",
    "after_version": "",
    "tls_max": "1.3",
    "version": "an old TLS version",
    "issuer": "unknown",
    "issuer_name": "an unknown certificate authority",
    "host": "the server",
    "port": "?",
    "verify": "verification failed",
    "verify_code": "unknown",
    "not_after": "unknown",
    "sans": "another name",
    "message": "no details",
    "security": "this encryption",
    "how": "it was missing",
    "cut": "cut",
    "phase": "the exchange",
    "addresses": "?",
    "why": "not a public address",
    "domain": "the domain",
    "exchanges": "none",
    "where": "",
    "offered": "nothing",
    "mechanism": "its method",
    "protocol_name": "the server",
    "imap_sentence": "LOGIN failed.",
    "expected_host": "outlook.office365.com (IMAP) or smtp.office365.com (SMTP)",
    "expected_port": "993 (IMAP) or 587 (SMTP)",
    "expected_security": "SSL/TLS (IMAP) or STARTTLS (SMTP)",
    "smtp_said": "it gave no verdict",
    "aadsts": "no code",
    "tenant_id": "unknown",
    "idp_host": "its identity provider",
    "login_command": "conntest oauth login",
    "tenant": "organizations",
    "fix": "check the settings below",
    **RETIREMENT_DEFAULTS,
}
"""Neutral words for rule-specific placeholders a rule did not fill."""

_TEMPLATE_VALUES = ("decide", "settings")
"""Values that are themselves templates (they may cite the timeline or the profile)."""


class _Values(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "?"


def _fill(template: str, values: Mapping[str, Any]) -> str:
    try:
        return string.Formatter().vformat(template, (), _Values(values))
    except (
        KeyError,
        IndexError,
        ValueError,
        AttributeError,
    ):  # a broken template must not crash a report
        return template


def _place(path: str, generic: str) -> str:
    return path.strip().rstrip(".") or GENERIC_PLACES[generic]


def base_values(profile: Profile, user: str, kind: ClientKind) -> dict[str, Any]:
    """Values every template may use, from the profile."""
    values: dict[str, Any] = {
        "client": profile.name or GENERIC_PLACES["client"],
        "user": user,
        # Templates add their own full stop after a place.
        "imap_settings": _place(profile.imap.settings_path, "imap_settings"),
        "smtp_settings": _place(profile.smtp.settings_path, "smtp_settings"),
        "password_path": _place(profile.password_path, "password_path"),
        "oauth2_how": profile.oauth2.how.strip().rstrip(".") or OAUTH2_HOW_FALLBACK,
        "imap_host": profile.imap.host,
        "imap_port": str(profile.imap.port),
        "smtp_host": profile.smtp.host,
        "smtp_port": str(profile.smtp.port),
        "tls_max": profile.tls.max,
        "timeline": TIMELINE_CITES,
        "settings": "the server settings",
    }
    values["modern_auth"] = _fill(MODERN_AUTH[kind], values)
    return values


def _render(
    candidate: Candidate,
    profile: Profile,
    user: str,
    order: int,
    kind: ClientKind | None = None,
) -> tuple[Finding, ranking.SortKey]:
    entry = CATALOGUE[candidate.code]
    variant = entry.variants.get(candidate.variant) if candidate.variant else None
    kind = kind or client_kind(profile)
    values: dict[str, Any] = {**DEFAULT_VALUES, **base_values(profile, user, kind)}
    if candidate.protocol in ("imap", "smtp"):
        values["settings"] = values[f"{candidate.protocol}_settings"]
    values.update(candidate.values)
    for name in _TEMPLATE_VALUES:
        values[name] = _fill(str(values[name]), values)

    severity = candidate.severity
    if severity is None:
        severity = (
            variant.severity
            if variant is not None and variant.severity is not None
            else entry.severity
        )
    title = _fill((variant.title if variant and variant.title else None) or entry.title, values)
    title = _capitalised(title)
    detail = _fill(
        (variant.detail if variant and variant.detail else None) or entry.meaning, values
    )
    extra = " ".join(_fill(sentence, values) for sentence in candidate.extra)
    remedies = (variant.remedy if variant and variant.remedy else None) or entry.remedy
    remedy = _fill(remedies.get(kind) or remedies["default"], values)
    admin = (
        variant.admin_action if variant and variant.admin_action else None
    ) or entry.admin_action
    finding = Finding(
        code=entry.code,
        severity=severity,
        title=title,
        detail=" ".join(part for part in (detail, extra) if part).strip(),
        remedy=remedy,
        evidence="\n".join(candidate.evidence) or "(no step)",
        admin_action=_fill(admin, values) if admin else None,
        protocol=candidate.protocol,
    )
    return finding, ranking.sort_key(candidate, severity, order)


_DONE: Mapping[str, str] = {
    "connect": "connected",
    "greeting": "greeted",
    "capability": "capabilities read",
    "id": "ID sent",
    "login": "signed in",
    "mailbox": "mailbox opened",
    "ehlo": "EHLO",
    "starttls": "STARTTLS",
    "ehlo-tls": "EHLO after TLS",
    "auth": "signed in",
}


def _ok(
    observed: Observed, profile: Profile, context: DiagnosisContext
) -> tuple[Finding, ranking.SortKey] | None:
    protocols = observed.protocols()
    if not any(s.status is Status.PASS for s in observed.steps if s.protocol in protocols):
        return None
    parts: list[str] = []
    lines: list[str] = []
    for protocol in protocols:
        steps = [s for s in observed.steps if s.protocol == protocol and s.status is Status.PASS]
        words = []
        for s in steps:
            if s.name == "tls":
                words.append(s.tls.version if s.tls is not None and s.tls.version else "TLS")
            elif s.name in _DONE:
                words.append(_DONE[s.name])
        values = protocol_values(protocol, profile)
        done = ", ".join(words) or "reached"
        parts.append(f"{protocol.upper()} {values['host']}:{values['port']} ({done})")
        decisive = [s for s in steps if s.name not in ("logout", "quit")]
        last = decisive[-1] if decisive else None
        if last is not None:
            lines.append(evidence(last))
    signed_in = any(observed.passed(p, n) for p in protocols for n in AUTH_STEPS)
    variant = (
        None if (context.password is not None or context.oauth) and signed_in else "connectivity"
    )
    candidate = Candidate("ok", variant, {"summary": "; ".join(parts)}, lines)
    finding, _ = _render(candidate, profile, context.user, 0)
    return finding, ranking.OK_KEY


def _capitalised(title: str) -> str:
    """Capitalise a title's first letter, unless it starts with a host name or an address
    (``outlook.office365.com refused…`` keeps the name as it is written)."""
    first = title.split(" ", 1)[0]
    if "." in first.rstrip(".") or ":" in first or any(c.isupper() for c in first[1:]):
        return title  # a host name, an address, or a name such as iOS written its own way
    return title[:1].upper() + title[1:]


def _guess_protocol(status: str | None, enhanced: str | None) -> str | None:
    if status is None:
        return "smtp" if enhanced else None
    if status.isdigit():
        return "smtp"
    if status in ("+OK", "-ERR"):
        return "pop"
    return "imap"
