"""``diagnose()``: one profile's recorded steps turned into findings, most likely cause first.

The ordering contract is in the package docstring (:mod:`conntest.diagnosis`)
and written out in :mod:`.ranking`; the rules in :mod:`.rules` propose
candidates, :mod:`.templates` words them.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from conntest.diagnosis import ranking
from conntest.diagnosis.catalogue import NOTES
from conntest.diagnosis.rules.candidate import Candidate
from conntest.diagnosis.rules.context import capability_rule, dns_rule, settings_rule, tls_rule
from conntest.diagnosis.rules.failed import classify_failed_step
from conntest.diagnosis.rules.oauth import account_kind_rule, oauth_rule
from conntest.diagnosis.rules.observed import AUTH_STEPS, Observed, evidence
from conntest.diagnosis.rules.retirement import (
    after_change_note,
    oauth_client_rule,
    retiring_rule,
)
from conntest.diagnosis.rules.signin import (
    credentials_verdict,
    cross_protocol,
    password_rule,
    username_rule,
)
from conntest.diagnosis.templates import render_candidate
from conntest.model import Finding, Severity, Status, Step
from conntest.password import PasswordShape
from conntest.printable import host_port
from conntest.profile import Profile

__all__ = ["DiagnosisContext", "diagnose"]


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
    stand_ins: frozenset[str] = frozenset()
    """Protocols whose tested server stands in for the profile's (the lab): the findings
    name the profile's port, as the client would use it, not the lab's."""

    def __post_init__(self) -> None:
        # A malformed CIDR is a configuration error: say so before any probe runs.
        for network in self.expected_networks:
            try:
                ipaddress.ip_network(network, strict=False)
            except ValueError as exc:
                raise ValueError(f"expected network {network!r} is not a CIDR: {exc}") from exc


def diagnose(steps: Sequence[Step], profile: Profile, context: DiagnosisContext) -> list[Finding]:
    """The findings for one profile's run, most likely cause first (see the module docstring)."""
    observed = Observed(steps, context.stand_ins)
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
    # Microsoft's own credential refusals; the app-password hints are about its accounts
    # (a standard 5.7.8 from another server is variant rfc).
    wrong = any(c.code == "wrong-credentials" and c.variant != "rfc" for c in candidates)
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
    candidates += oauth_client_rule(observed, profile, context.oauth)
    candidates += username_rule(context.user, profile, refused, accepted)
    after_change_note(candidates, context.today)

    candidates = ranking.drop_redundant(ranking.merge(candidates))
    rendered = [_ranked(c, profile, context.user, order) for order, c in enumerate(candidates)]

    worst = max((finding.severity for finding, _ in rendered), default=Severity.OK)
    # conntest's own OAuth2 sign-in is not the client's: no "can sign in" for such a client.
    borrowed = any(c.code == "client-cannot-use-oauth" for c in candidates)
    if worst < Severity.CRITICAL and not observed.failed() and not borrowed:
        ok = _ok(observed, profile, context)
        if ok is not None:
            rendered.append(ok)
    if not rendered:
        nothing = Candidate(
            "internal-error",
            values={"message": "No step was recorded, so there is nothing to diagnose."},
        )
        rendered.append(_ranked(nothing, profile, context.user, 0))
    return ranking.order(rendered)


def _ranked(
    candidate: Candidate, profile: Profile, user: str, order: int
) -> tuple[Finding, ranking.SortKey]:
    finding = render_candidate(candidate, profile, user)
    return finding, ranking.sort_key(candidate, finding.severity, order)


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


def _preauthenticated(observed: Observed) -> bool:
    """The IMAP login was skipped because the greeting was ``* PREAUTH``."""
    return any(
        s.protocol == "imap" and s.name == "login" and s.data.get("preauth") is True
        for s in observed.steps
    )


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
        values = observed.values(protocol, profile)
        done = ", ".join(words) or "reached"
        parts.append(f"{protocol.upper()} {host_port(values['host'], values['port'])} ({done})")
        decisive = [s for s in steps if s.name not in ("logout", "quit")]
        last = decisive[-1] if decisive else None
        if last is not None:
            lines.append(evidence(last))
    signed_in = any(observed.passed(p, n) for p in protocols for n in AUTH_STEPS)
    variant = (
        None if (context.password is not None or context.oauth) and signed_in else "connectivity"
    )
    if (
        variant == "connectivity"
        and (context.password is not None or context.oauth)
        and _preauthenticated(observed)
    ):
        variant = "preauth"  # a credential was given; the server never asked for it
    candidate = Candidate("ok", variant, {"summary": "; ".join(parts)}, lines)
    finding = render_candidate(candidate, profile, context.user)
    return finding, ranking.OK_KEY
