"""``explain()``: what one pasted error text (a client dialog, a bounce, a log line) means.

It needs the catalogue, :mod:`.normalise` and the text matcher
(:mod:`.rules.text`), not the rules that read a whole run: ``conntest explain``
imports this module alone, so it starts fast (issue 12; a test checks what it
imports).
"""

from __future__ import annotations

from conntest.diagnosis.catalogue import DECIDE
from conntest.diagnosis.normalise import normalise, one_line
from conntest.diagnosis.rules.candidate import Candidate, display, protocol_values
from conntest.diagnosis.rules.text import (
    backoff_text,
    is_success,
    looks_like_auth,
    match_normalised,
    standard_meaning,
)
from conntest.diagnosis.templates import client_kind, render_candidate
from conntest.finding import Finding, Severity

TYPE_CHECKING = False
if TYPE_CHECKING:
    from conntest.profile import Profile

__all__ = ["explain", "pasted_values"]


def explain(text: str, profile: Profile | None = None) -> Finding:
    """Classify a pasted error text (client dialog, bounce, log line).

    Never raises, never guesses ``ok``.
    ``ok`` is returned only for a recognised normal reply (a greeting, ``OK LOGIN
    completed.``); a reply with a standard code no entry claims (``NO [UNAVAILABLE]``)
    gets ``unrecognised`` with that code's meaning; other unknown texts about signing
    in get ``login-rejected`` with what would decide it, anything else ``unrecognised``.
    A pasted text names no port and, without a profile, no client: the templates
    read whole without them (:data:`~conntest.diagnosis.templates.DERIVED`).
    """
    try:
        reply = normalise(text)
        protocol = _guess_protocol(reply.status, reply.enhanced)
        values = pasted_values(text, protocol, profile)
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
        elif (standard := standard_meaning(reply)) is not None:
            candidate = Candidate("unrecognised", "standard-code", {**values, "standard": standard})
        elif looks_like_auth(reply):
            candidate = Candidate("login-rejected", "unknown-refusal", values)
        else:
            candidate = Candidate("unrecognised", None, values)
        candidate.protocol = protocol
        candidate.evidence = [f"{protocol or 'text'} (pasted): {one_line(text) or '(empty)'}"]
        return render_candidate(candidate, profile, "<user>", kind=client_kind(profile))
    except Exception as exc:  # explain() must answer whatever it is given
        return Finding(
            code="unrecognised",
            severity=Severity.UNKNOWN,
            title="conntest does not know this answer",
            detail=f"conntest could not read this text ({type(exc).__name__}).",
            remedy="Keep the full text; your administrator or Microsoft support can look it up.",
            evidence=f"text (pasted): {one_line(str(text))}",
        )


def pasted_values(text: str, protocol: str | None, profile: Profile | None) -> dict[str, str]:
    """What a pasted text fills in: itself, and the protocol's host and port if it tells one.

    The text is the sentence and the error message (a resolver's, a TLS library's) alike;
    a port, a host or a client it does not name stay unfilled, for the templates to
    read whole without them.
    """
    sentence = display(text) or "(empty)"
    values = {"sentence": sentence, "message": sentence, "verify": sentence}
    values.update(protocol_values(protocol, profile))
    values["decide"] = DECIDE["explain"]
    return values


def _guess_protocol(status: str | None, enhanced: str | None) -> str | None:
    if status is None:
        return "smtp" if enhanced else None
    if status.isdigit():
        return "smtp"
    if status in ("+OK", "-ERR"):
        return "pop"
    return "imap"
