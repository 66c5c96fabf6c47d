"""Sign-in results across protocols, and the local facts: the password's shape, the user name.

The one rule that reasons across protocols is :func:`cross_protocol`: IMAP's
``NO LOGIN failed.`` means almost nothing on its own, while SMTP's reply for the
same credentials says exactly why (behaviour.md §4).
"""

from __future__ import annotations

from collections.abc import Iterable

from conntest.diagnosis.catalogue import DECIDE, NOTES
from conntest.diagnosis.rules.candidate import Candidate
from conntest.diagnosis.rules.observed import (
    ACCOUNT_WIDE,
    AUTH_STEPS,
    CREDENTIAL_ACCEPTED,
    Observed,
    evidence,
)
from conntest.model import Status, Step
from conntest.password import PasswordShape
from conntest.profile import Profile


def cross_protocol(observed: Observed, by_step: dict[int, Candidate]) -> None:
    """Let SMTP's precise verdict decide IMAP's bare refusal (modifies ``by_step`` in place).

    * IMAP refused, SMTP accepted the same password → the password is right and IMAP
      basic authentication is off: ``basic-auth-disabled`` for IMAP.
    * IMAP refused, SMTP says the credentials are incorrect → ``wrong-credentials``.
    * IMAP refused, SMTP names an account or tenant policy → that cause, for both.
    * Otherwise IMAP stays ``login-rejected``, saying what would decide it.
    """
    imap_login = observed.first("imap", "login")
    smtp_auth = observed.first("smtp", "auth")
    imap = by_step.get(id(imap_login)) if imap_login is not None else None
    smtp = by_step.get(id(smtp_auth)) if smtp_auth is not None else None

    if smtp is not None and smtp.code == "login-rejected":
        smtp.values.setdefault("decide", DECIDE["smtp"])
    if imap is None or imap.code != "login-rejected" or imap.variant == "unknown-sentence":
        if imap is not None and imap.code == "login-rejected":
            imap.values.setdefault("decide", "")
        _note_imap_accepted(observed, smtp)
        return

    if observed.passed("smtp", "auth") and smtp_auth is not None:
        imap.code, imap.variant = "basic-auth-disabled", "imap-inferred"
        imap.evidence.append(evidence(smtp_auth))
        return
    if (
        smtp is not None
        and smtp_auth is not None
        and (smtp.code == "wrong-credentials" or smtp.code in ACCOUNT_WIDE)
    ):
        smtp.evidence[:0] = imap.evidence
        smtp.protocol = None
        smtp.values["imap_sentence"] = imap.values.get("sentence", "LOGIN failed.")
        if smtp.code == "wrong-credentials":
            smtp.extra.append(NOTES["imap-explained-by-credentials"])
        else:
            smtp.extra.append(NOTES["imap-same-cause"])
        del by_step[id(imap_login)]
        return

    # A refusal in words conntest does not know keeps saying so; what would decide it
    # is added all the same.
    unknown = imap.variant == "unknown-refusal"
    if not any(s.protocol == "smtp" for s in observed.steps):
        imap.variant = "unknown-refusal" if unknown else "no-smtp"
        imap.values["decide"] = DECIDE["no-smtp"]
    else:
        # smtp_said is a value, never a template: the server's words may hold braces.
        if smtp is not None:
            said = "it answered '" + smtp.values.get("sentence", "") + "'"
        elif smtp_auth is not None and smtp_auth.status is Status.SKIP:
            said = "it did not get as far as signing in"
        else:
            said = "it gave no verdict on the credentials"
        imap.variant = "unknown-refusal" if unknown else "smtp-undecided"
        imap.values["smtp_said"] = said
        imap.values["decide"] = DECIDE["smtp-undecided"]
        if smtp_auth is not None:
            imap.evidence.append(evidence(smtp_auth))


def _note_imap_accepted(observed: Observed, smtp: Candidate | None) -> None:
    if smtp is not None and smtp.code == "wrong-credentials" and observed.passed("imap", "login"):
        smtp.extra.append(NOTES["imap-accepted"])


def credentials_verdict(observed: Observed, candidates: Iterable[Candidate]) -> tuple[bool, bool]:
    """``(refused as a credential failure, accepted somewhere)`` after cross-protocol reasoning."""
    refused = False
    accepted = observed.passed("imap", "login") or observed.passed("smtp", "auth")
    for c in candidates:
        if c.code in CREDENTIAL_ACCEPTED:
            accepted = True
        if c.code == "wrong-credentials" or (
            c.code == "login-rejected" and c.step is not None and c.step.name in AUTH_STEPS
        ):
            refused = True
    return refused, accepted


# --------------------------------------------------------------------------------------
# Local facts: the password's shape and the user name
# --------------------------------------------------------------------------------------


def password_rule(
    shape: PasswordShape | None,
    retry_succeeded: bool | None,
    refused: bool,
    accepted: bool,
    wrong_credentials: bool,
    retry_step: Step | None = None,
) -> list[Candidate]:
    """Whitespace in the password, and a password that does not look like an app password."""
    if shape is None:
        return []
    found: list[Candidate] = []
    summary = f"{shape.length} characters"
    values = {"shape": shape.describe(), "length": str(shape.length)}
    if shape.has_whitespace:
        ev = [f"local password: {summary}, {shape.describe()}"]
        if retry_step is not None:
            ev.append(evidence(retry_step))
        if retry_succeeded is True:
            if retry_step is None:
                ev.append("local retry: accepted with these characters removed")
            found.append(
                Candidate("password-whitespace", "confirmed", values, ev, primary=True, cause=True)
            )
        elif retry_succeeded is False:
            if retry_step is None:
                ev.append("local retry: refused with these characters removed")
            found.append(Candidate("password-whitespace", "retry-failed", values, ev))
        elif refused and not accepted:
            found.append(
                Candidate("password-whitespace", "likely", values, ev, primary=True, cause=True)
            )
        else:
            found.append(Candidate("password-whitespace", None, values, ev))
    if (
        wrong_credentials
        and not accepted
        and not shape.looks_like_app_password
        and retry_succeeded is not True
    ):
        found.append(
            Candidate(
                "password-not-app-password",
                values=values,
                evidence=[f"local password: {summary}, not 16 lowercase letters"],
            )
        )
    return found


def username_rule(user: str, profile: Profile, refused: bool, accepted: bool) -> list[Candidate]:
    """A user name that is not the full sign-in address Microsoft 365 expects."""
    problems: list[str] = []
    if user != user.strip() or " " in user.strip():
        problems.append("the user name contains spaces")
    if "@" not in user:
        problems.append(f"'{user.strip()}' has no @domain part")
    if profile.username_form == "local-part":
        problems.append(f"{profile.name or 'the client'} sends only the part before the @")
    if not problems:
        return []
    return [
        Candidate(
            "username-format",
            "likely" if refused and not accepted else None,
            {"problem": "; ".join(problems)},
            [f"local user name: '{user}'"],
            primary=refused and not accepted,
            cause=refused and not accepted,
        )
    ]
