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
    """Whether an unknown text is about signing in (then ``login-rejected`` is the honest code)."""
    if reply.status in ("NO", "-ERR", "535", "534", "454"):
        return True
    return compiled(_AUTH_WORDS).search(reply.text) is not None


_AUTH_WORDS = r"auth|log ?in|logon|password|credential|sign[- ]?in"
