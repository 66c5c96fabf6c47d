"""Server texts against the catalogue: which entry a normalised reply matches, if any."""

from __future__ import annotations

from conntest.diagnosis.catalogue import CATALOGUE, MATCH_ORDER, OUTRANKS, SUCCESS_PATTERNS
from conntest.diagnosis.normalise import NormalisedReply, normalise
from conntest.diagnosis.prefilter import compiled, may_match
from conntest.record import record


@record(frozen=True)
class TextMatch:
    """Which catalogue pattern a text matched, and what it captured."""

    code: str
    variant: str | None
    captured: dict[str, str]
    reply: NormalisedReply


def match_text(text: str) -> TextMatch | None:
    """The catalogue entry ``text`` means (see :func:`match_normalised`)."""
    return match_normalised(normalise(text))


def match_normalised(reply: NormalisedReply) -> TextMatch | None:
    """The one entry a reply means, decided by specificity, not by the order of entries.

    Every entry whose patterns match is a contender; then, in turn:

    1. a fallback pattern (``Pattern.fallback``: "some 5.7.139 sentence") gives way to
       any entry that names the sentence;
    2. an entry gives way to one that outranks it (:data:`OUTRANKS`: the more specific
       of two entries that must share words);
    3. of what is left, the longest matched text wins (it says more).

    The overlap test asserts that every example text in the catalogue and in
    ``responses.yaml`` leaves exactly one contender after rules 1 and 2; rule 3 only
    settles texts nobody has seen yet.
    """
    contenders = all_matches(reply)
    if not contenders:
        return None
    return decide(contenders)


@record(frozen=True)
class Contender:
    """One entry whose pattern matched a reply."""

    match: TextMatch
    fallback: bool
    span: int
    """How many characters the pattern matched."""


def all_matches(reply: NormalisedReply) -> list[Contender]:
    """Every entry one of whose patterns matches ``reply`` (its first matching pattern).

    A pattern is compiled and tried only when the reply carries its required
    status and enhanced code and :func:`~conntest.diagnosis.prefilter.may_match`
    its text (``reply.text`` is the tail of ``key``, so the key decides both).
    """
    key = reply.key
    found_all: list[Contender] = []
    for code in MATCH_ORDER:
        for pattern in CATALOGUE[code].patterns:
            if pattern.enhanced is not None and (reply.enhanced or "") != pattern.enhanced:
                continue
            if pattern.status is not None and reply.status != pattern.status:
                continue
            if not may_match(pattern.regex, key):
                continue
            found = pattern.compiled().search(key) or pattern.compiled().search(reply.text)
            if found is None:
                continue
            captured = {k: v for k, v in found.groupdict().items() if v is not None}
            variant = captured.pop("variant", None) or pattern.variant
            found_all.append(
                Contender(
                    TextMatch(code, variant, captured, reply),
                    pattern.fallback,
                    found.end() - found.start(),
                )
            )
            break
    return found_all


def specific(contenders: list[Contender]) -> list[Contender]:
    """Rules 1 and 2 of :func:`match_normalised`: what specificity alone leaves standing."""
    named = [c for c in contenders if not c.fallback] or contenders
    codes = {c.match.code for c in named}
    return [
        c
        for c in named
        if not any(c.match.code in OUTRANKS.get(other, ()) for other in codes - {c.match.code})
    ]


def decide(contenders: list[Contender]) -> TextMatch:
    """The contender that wins (rule 3 breaks ties left by rules 1 and 2)."""
    left = specific(contenders) or contenders
    return max(left, key=lambda c: c.span).match


def backoff_text(milliseconds: str) -> str:
    """Words for the backoff a throttling reply suggests (``Suggested Backoff Time: N ms``)."""
    seconds = int(milliseconds) // 1000
    if seconds >= 90:
        return f"about {round(seconds / 60)} minutes"
    return f"about {max(seconds, 1)} seconds"


def is_success(reply: NormalisedReply) -> bool:
    """True for a normal, successful reply (a greeting, ``OK LOGIN completed.``, ``235``…)."""
    if reply.status in ("OK", "+OK", "PREAUTH"):
        return True
    if reply.status and reply.status.isdigit() and reply.status[0] in "23":
        return True
    return any(
        may_match(p, reply.text) and compiled(p).search(reply.text) for p in SUCCESS_PATTERNS
    )


def looks_like_auth(reply: NormalisedReply) -> bool:
    """Whether an unknown text is about signing in (then ``login-rejected`` is the honest code).

    Asked only after :func:`standard_meaning`: a reply whose standard code says it is
    no verdict on the credentials (``NO [UNAVAILABLE]``, an SMTP 4xx) never gets here.
    """
    if reply.status in ("NO", "-ERR", "535", "534"):
        return True
    return compiled(_AUTH_WORDS).search(reply.text) is not None


_AUTH_WORDS = r"auth|log ?in|logon|password|credential|sign[- ]?in"


def standard_meaning(reply: NormalisedReply) -> str | None:
    """What a reply's standard code means, for a code the catalogue has no entry for.

    The IMAP response codes of RFC 5530, the POP3 ones of RFC 2449 and RFC 3206,
    and SMTP's transient replies (RFC 5321 4xx; RFC 4954's ``454 4.7.0`` and
    ``432 4.7.12``) each say what went wrong, and none of them says the password is
    wrong: a server that answers ``NO [UNAVAILABLE]`` to LOGIN is not to be read as a
    refused sign-in.  Codes that do name a catalogue entry (``[AUTHENTICATIONFAILED]``,
    ``[PRIVACYREQUIRED]``, ``[OVERQUOTA]``, ``5.7.8``…) are that entry's patterns;
    ``None`` when the reply carries no such code.
    """
    if reply.text.startswith("["):
        end = reply.text.find("]")
        if end > 1 and (meaning := RESPONSE_CODES.get(reply.text[1:end])) is not None:
            return meaning
    status, enhanced = reply.status or "", reply.enhanced or ""
    if (status, enhanced) in SMTP_CODES:
        return SMTP_CODES[status, enhanced]
    if (status.isdigit() and status[0] == "4") or (not status and enhanced.startswith("4.")):
        return TRANSIENT
    return None


RESPONSE_CODES: dict[str, str] = {
    # RFC 5530 (IMAP)
    "unavailable": (
        "[UNAVAILABLE] is IMAP's standard code (RFC 5530) for a temporary failure because a "
        "part of the server is down; it is not a verdict on the password. Try again later."
    ),
    "authorizationfailed": (
        "[AUTHORIZATIONFAILED] is IMAP's standard code (RFC 5530) for a sign-in whose "
        "credentials were accepted, but which may not act as the user or mailbox it asked "
        "for (such as a shared mailbox without permission on it)."
    ),
    "expired": (
        "[EXPIRED] is IMAP's standard code (RFC 5530) for a password that no longer gives "
        "access: a new one is needed."
    ),
    "contactadmin": (
        "[CONTACTADMIN] is IMAP's standard code (RFC 5530) for a problem the user should "
        "take to the administrator or support desk."
    ),
    "noperm": (
        "[NOPERM] is IMAP's standard code (RFC 5530) for an operation the mailbox's access "
        "rights do not allow this user."
    ),
    "inuse": (
        "[INUSE] is IMAP's standard code (RFC 5530) for an operation refused because "
        "something else holds what it needs (typically a mailbox in use); it may succeed later."
    ),
    "limit": (
        "[LIMIT] is IMAP's standard code (RFC 5530) for an operation that ran into a limit "
        "of the server (such as the number of flags in a mailbox)."
    ),
    "serverbug": (
        "[SERVERBUG] is IMAP's standard code (RFC 5530) for a failure the server puts down "
        "to a bug of its own."
    ),
    "clientbug": (
        "[CLIENTBUG] is IMAP's standard code (RFC 5530) for a mistake the server found in "
        "what the client sent."
    ),
    "cannot": (
        "[CANNOT] is IMAP's standard code (RFC 5530) for an operation this server can never "
        "carry out."
    ),
    "corruption": (
        "[CORRUPTION] is IMAP's standard code (RFC 5530) for data on the server (such as the "
        "mailbox) that it found corrupt."
    ),
    # RFC 2449 and RFC 3206 (POP3)
    "sys/temp": (
        "[SYS/TEMP] is POP3's standard code (RFC 3206) for a temporary failure of the "
        "server; it is not a verdict on the password. Try again later."
    ),
    "sys/perm": (
        "[SYS/PERM] is POP3's standard code (RFC 3206) for a lasting failure of the server "
        "that the administrator must look at; it is not a verdict on the password."
    ),
    "in-use": (
        "[IN-USE] is POP3's standard code (RFC 2449) for a sign-in that worked on a mailbox "
        "another POP3 session holds: close the other program or device that reads it."
    ),
    "login-delay": (
        "[LOGIN-DELAY] is POP3's standard code (RFC 2449) for signing in again sooner than "
        "the server allows: wait before the next attempt."
    ),
}
"""RFC 5530 and POP3 response codes (lower case, as :mod:`.normalise` leaves them) that no
catalogue entry claims, and what each one means."""

SMTP_CODES: dict[tuple[str, str], str] = {
    ("454", "4.7.0"): (
        "454 4.7.0 is SMTP's standard reply (RFC 4954) for a sign-in that failed because of "
        "a temporary problem on the server; it is not a verdict on the password. Try again "
        "later."
    ),
    ("432", "4.7.12"): (
        "432 4.7.12 is SMTP's standard reply (RFC 4954) for 'a password transition is "
        "needed': the server wants one sign-in with the PLAIN method before it accepts the "
        "method the client chose."
    ),
}
"""SMTP replies whose meaning RFC 4954 defines, by status and enhanced code."""

TRANSIENT = (
    "A reply beginning with 4 is SMTP's standard form for a temporary failure (RFC 5321): "
    "the server did not refuse for good, and it is not a verdict on the password. Try again "
    "later."
)
