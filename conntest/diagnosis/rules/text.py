"""Server texts against the catalogue: which entry a normalised reply matches, if any."""

from __future__ import annotations

import re
from dataclasses import dataclass

from conntest.diagnosis.catalogue import CATALOGUE, MATCH_ORDER, SUCCESS_PATTERNS
from conntest.diagnosis.normalise import NormalisedReply, normalise

_SUCCESS = tuple(re.compile(p) for p in SUCCESS_PATTERNS)


@dataclass(frozen=True)
class TextMatch:
    """Which catalogue pattern a text matched, and what it captured."""

    code: str
    variant: str | None
    captured: dict[str, str]
    reply: NormalisedReply


def match_text(text: str) -> TextMatch | None:
    """The first catalogue pattern (in :data:`MATCH_ORDER`) that ``text`` matches."""
    return match_normalised(normalise(text))


def match_normalised(reply: NormalisedReply) -> TextMatch | None:
    key = reply.key
    for code in MATCH_ORDER:
        for pattern in CATALOGUE[code].patterns:
            if pattern.enhanced is not None and (reply.enhanced or "") != pattern.enhanced:
                continue
            if pattern.status is not None and reply.status != pattern.status:
                continue
            found = pattern.compiled().search(key) or pattern.compiled().search(reply.text)
            if found is None:
                continue
            captured = {k: v for k, v in found.groupdict().items() if v is not None}
            variant = captured.pop("variant", None) or pattern.variant
            return TextMatch(code, variant, captured, reply)
    return None


def is_success(reply: NormalisedReply) -> bool:
    """True for a normal, successful reply (a greeting, ``OK LOGIN completed.``, ``235``…)."""
    if reply.status in ("OK", "+OK", "PREAUTH"):
        return True
    if reply.status and reply.status.isdigit() and reply.status[0] in "23":
        return True
    return any(p.search(reply.text) for p in _SUCCESS)


def looks_like_auth(reply: NormalisedReply) -> bool:
    """Whether an unknown text is about signing in (then ``login-rejected`` is the honest code)."""
    if reply.status in ("NO", "-ERR", "535", "534", "454"):
        return True
    return re.search(r"auth|log ?in|logon|password|credential|sign[- ]?in", reply.text) is not None
