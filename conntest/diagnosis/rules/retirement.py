"""The December 2026 rule: a password that still works on SMTP, and a refusal after the date.

Two things, both pure functions of the steps, the profile and the date the front
end passed in (never the clock):

* :func:`retiring_rule`: a password sign-in to a Microsoft 365 SMTP host that
  succeeded gets ``basic-auth-retiring``, its variant (and so its severity) from
  :func:`conntest.diagnosis.retirement.countdown`;
* :func:`after_change_note`: on or after the date, an SMTP ``basic authentication is
  disabled`` refusal says it is *probably* Microsoft's default, as an inference.  The
  verdict stays what the server said; the date only adds a sentence.  The announced
  final text (``basic authentication is not supported for Client Submission``, its own
  variant, matched on the sentence and never on the bare 5.7.30) gets no such note.

And each client's way forward in an ``--oauth`` run: :func:`oauth_client_rule` says
``client-cannot-use-oauth`` for a client without OAuth2 for IMAP and SMTP, whose
XOAUTH2 sign-in was conntest's, not the client's.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from conntest.diagnosis.codes.retirement import NOTES
from conntest.diagnosis.endpoints import MICROSOFT_HOST_SUFFIXES
from conntest.diagnosis.retirement import DEFAULT_OFF, FINAL, countdown
from conntest.diagnosis.rules.candidate import Candidate
from conntest.diagnosis.rules.observed import Observed, evidence
from conntest.diagnosis.timeline import RETIREMENT_TIMELINE
from conntest.diagnosis.wording import OAUTH2_HOW_FALLBACK
from conntest.migration import TOKEN_MECHANISMS, oauth_sign_in
from conntest.model import Status
from conntest.profile import Profile

__all__ = ["after_change_note", "oauth_client_rule", "retiring_rule"]

_PASSWORD_STEPS = ("auth", "auth-stripped")
_DISABLED = "basic authentication is disabled"
"""The SMTP refusal's sentence (responses.yaml smtp-basic-auth-disabled-*)."""


def _timeline_values() -> dict[str, str]:
    change = next(e for e in RETIREMENT_TIMELINE if e.key == DEFAULT_OFF)
    final = next(e for e in RETIREMENT_TIMELINE if e.key == FINAL)
    return {
        "change_label": change.label,
        "change_quote": change.quote,
        "final_label": final.label,
        "final_quote": final.quote,
    }


def _microsoft_smtp(observed: Observed) -> bool:
    """The SMTP host is Microsoft 365's: the change says nothing about other servers."""
    for step in observed.steps:
        if step.protocol == "smtp" and step.name == "connect":
            host = str(step.data.get("host", "")).lower().rstrip(".")
            return host.endswith(MICROSOFT_HOST_SUFFIXES)
    return False


def _numbered(steps: Sequence[str]) -> str:
    return " ".join(f"({i}) {' '.join(s.split())}" for i, s in enumerate(steps, 1))


def _way_values(profile: Profile) -> dict[str, str]:
    way = profile.way_forward
    extra = " ".join(" ".join(t.split()) for t in (way.not_probed, way.support) if t.strip())
    return {
        "way_summary": " ".join(way.summary.split()) or "Move to modern authentication",
        "way_steps": _numbered(way.steps)
        or (" ".join(profile.oauth2.how.split()) or OAUTH2_HOW_FALLBACK) + ".",
        "way_check": " ".join(way.check.split()),
        "way_extra": extra,
    }


def retiring_rule(
    observed: Observed, profile: Profile, today: date | None, window_days: int
) -> list[Candidate]:
    """``basic-auth-retiring`` for a password sign-in to SMTP that succeeded (needs a date)."""
    if today is None or not _microsoft_smtp(observed):
        return []
    signed_in = [
        s
        for s in observed.steps
        if s.protocol == "smtp"
        and s.name in _PASSWORD_STEPS
        and s.status is Status.PASS
        and not any(t in str(s.data.get("mechanism", "")).upper() for t in TOKEN_MECHANISMS)
    ]
    if not signed_in:
        return []
    where = countdown(today, window_days)
    values = {
        **_timeline_values(),
        **_way_values(profile),
        "today": today.isoformat(),
        "days_left": str(max(where.days_left, 0)),
        "days_since": str(max(-where.days_left, 0)),
        "window": str(window_days),
    }
    return [
        Candidate(
            "basic-auth-retiring",
            where.phase,
            values,
            [evidence(signed_in[0])],
            protocol="smtp",
        )
    ]


def after_change_note(candidates: Sequence[Candidate], today: date | None) -> None:
    """On or after the date, add the "probably Microsoft's default" sentence to SMTP refusals."""
    if today is None or countdown(today).phase != "after":
        return
    for candidate in candidates:
        said_on_smtp = any(
            line.startswith("smtp ") and _DISABLED in line.lower() for line in candidate.evidence
        )
        if (
            candidate.code == "basic-auth-disabled"
            and candidate.variant != "5.7.30"
            and said_on_smtp
        ):
            candidate.values.update(_timeline_values())
            candidate.values["today"] = today.isoformat()
            note = NOTES["basic-auth-disabled-after-change"]
            if note not in candidate.extra:
                candidate.extra.append(note)


def oauth_client_rule(observed: Observed, profile: Profile, oauth: bool) -> list[Candidate]:
    """``client-cannot-use-oauth``: an ``--oauth`` run for a client that cannot sign in so."""
    if not oauth or profile.oauth2.supported:
        return []
    signed = oauth_sign_in(observed.steps)
    tried = [
        s
        for s in observed.steps
        if s.protocol in ("imap", "smtp")
        and s.name in ("login", "auth")
        and s.status is not Status.SKIP
        and "XOAUTH2" in str(s.data.get("mechanism", "")).upper()
    ]
    if not tried:
        return []  # conntest's sign-in never reached the mail servers: other findings say why
    passed = [s for s in tried if s.status is Status.PASS]
    done = sorted(p.upper() for p, ok in signed.items() if ok)
    values = {
        **_timeline_values(),
        **_way_values(profile),
        "signed_in": " and ".join(done) or "neither server",
    }
    rest = [values["way_check"], values["way_extra"]]
    values["way_then"] = "".join(f" {t}" for t in rest if t)
    return [
        Candidate(
            "client-cannot-use-oauth",
            None if passed else "unproven",
            values,
            [evidence((passed or tried)[0])],
            protocol=None,
        )
    ]
