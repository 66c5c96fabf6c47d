"""Reduce a server reply, as quoted anywhere, to the words that carry its meaning.

Microsoft's replies vary per connection (backend host names, timestamps,
request ids, base64 greeting tokens) and reach people through libraries that
wrap them (``Invalid login: ``, ``b'…'``, ``AuthenticationFailedException:``,
.NET's ``The server response was:``), through multi-line SMTP continuations
(``535-5.7.139 …``) and inside other replies (``530 5.7.57 … Error: 535 5.7.139 …``,
where the part after ``Error:`` is the real reason).  The catalogue matches
meaning, not one exact string, so everything here strips what varies and keeps
what decides: the status (``535``, ``NO``, ``-ERR``), the enhanced status code
(``5.7.139``) and the sentence, lower-cased with single spaces.

Pure functions, no I/O; never raises on any input.
"""

from __future__ import annotations

import re

from conntest.diagnosis.prefilter import compiled, may_match
from conntest.record import record

TYPE_CHECKING = False  # typing itself stays out of ``conntest explain`` (issue 12)
if TYPE_CHECKING:
    from typing import Any

__all__ = ["NormalisedReply", "normalise", "one_line", "readable"]


@record(frozen=True)
class NormalisedReply:
    """The decisive part of a reply, with everything that varies removed."""

    status: str | None
    """SMTP code (``"535"``), IMAP word (``"NO"``, ``"*"``), POP ``"-ERR"``, or ``None``."""
    enhanced: str | None
    """RFC 3463 enhanced status code such as ``"5.7.139"``, if the reply carried one."""
    text: str
    """The sentence(s): lower case, single spaces, no trailers, tags or prefixes."""
    wrapper: str | None = None
    """The outer reply (normalised text) when the decisive one was quoted after ``Error:``."""

    @property
    def key(self) -> str:
        """Enhanced code and text, the string the catalogue patterns search."""
        return " ".join(part for part in (self.enhanced, self.text) if part)


# Library and log prefixes: removed repeatedly from the start of the text.
_PREFIXES = (
    r"^\s*invalid login:\s*",  # nodemailer
    r"^\s*(?:[a-z_$][\w$]*\.)*[\w$]*(?:exception|error)\s*:\s*",  # Java, Python, .NET
    r"^\s*can ?not authenticate to imap server:\s*",  # PHP c-client
    r"^\s*command failed[.:]?\s*",  # imapflow
    r"^.*?\bthe server response was:\s*",  # System.Net.Mail
    r"^\s*your (?:imap|pop3?|smtp|e-?mail) server wants to alert you to the following:\s*",
    r"^\s*\[?\d{4}-\d{2}-\d{2}[ t]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?z?\]?\s*",  # log timestamp
    r"^\s*(?:s:|<<<|<~\*?|<\*\*|<-|<)\s+",  # transcript markers (server side)
    r"^\s*receive\s+[cs]:\s*",
)
"""Matched case-insensitively."""

# The patterns below are (regex, flags), compiled on first use and only for a text
# :func:`~conntest.diagnosis.prefilter.may_match` lets through (issue 12: cold start).
# A repr'd reply is a few lines at most: the bound keeps a text of many unclosed
# "(535, b'" openings linear (each would otherwise be followed to the end of the text).
_PY_TUPLE = (r"\(\s*(\d{3})\s*,\s*b?(['\"])(.{0,2000}?)\2\s*\)", re.DOTALL)
_PY_BYTES = (r"\[?\bb(['\"])(.*?)\1\]?", re.DOTALL)
_SMTP_LINE = (r"^(\d{3})(?:[ -]|$)(.*)$", 0)
_SMTP_CONTINUATION = (r"^(\d{3})-", 0)
_ENHANCED = (r"^([245]\.\d{1,3}\.\d{1,3})(?:\s+|$)", 0)
_IMAP = (
    r"^(?:(?P<tag>[A-Za-z0-9.*+]+)\s+)?(?P<status>OK|NO|BAD|BYE|PREAUTH)\b[ \t]*(?P<rest>.*)$",
    re.IGNORECASE | re.DOTALL,
)
_IMAP_UNTAGGED = (r"^\*\s+(?P<rest>.*)$", re.DOTALL)
_POP = (r"^(?P<status>[+-](?:OK|ERR))\b[ \t]*(?P<rest>.*)$", re.IGNORECASE | re.DOTALL)
_WRAPPED = (r"\berror:\s*(?=\d{3}[ -])", re.IGNORECASE)
_MAX_WRAPPED = 8
"""Replies quoted in replies (``530 … Error: 535 …``) followed, at most: real ones nest once."""

# Things that vary per connection, removed from the sentence.
_BRACKET = (r"\[([^\[\]]*)\]", 0)
_OPEN_BRACKET_AT_END = (r"\s*\[([^\[\]]*)$", 0)
_DAY_DATE = (
    r"\b(?:mon|tue|wed|thu|fri|sat|sun),?\s+\d{1,2}\s+[a-z]{3}\s+\d{4}\s+\d{1,2}:\d{2}(?::\d{2})?"
    r"(?:\s*[+-]\d{4})?(?:\s*\([a-z]+\))?",
    0,
)
_ISO_TIME = (r"\b\d{4}-\d{2}-\d{2}[t ]\d{2}:\d{2}:\d{2}(?:[.,]\d+)?z?\b", 0)
_BACKEND_HOST = (
    r"\b[a-z]{2,}\d[a-z0-9]*(?:\.[a-z0-9-]+)*\.(?:outlook\.com|office365\.com|exchangelabs\.com)\b",
    0,
)
_REQUEST_ID = (r"\b[0-9a-f]{16}\b", 0)
_BASE64 = (r"(?<![\w/+])(?=[a-z0-9+/]*[0-9+/])[a-z0-9+/]{24,}={0,2}", 0)
_SPACES = (r"\s+", 0)
_TRAILER = (r"\s*\[[^\[\]]*[\d.=][^\[\]]*\]?\s*$", 0)
_KEPT_BRACKET = (r"[\d.=]", 0)

_Pattern = tuple[str, int]


def _may(pattern: _Pattern, text: str) -> bool:
    regex, flags = pattern
    return may_match(regex, text, ignorecase=bool(flags & re.IGNORECASE))


def _match(pattern: _Pattern, text: str) -> re.Match[str] | None:
    return compiled(*pattern).match(text) if _may(pattern, text) else None


def _search(pattern: _Pattern, text: str) -> re.Match[str] | None:
    return compiled(*pattern).search(text) if _may(pattern, text) else None


def _sub(pattern: _Pattern, repl: Any, text: str, count: int = 0) -> str:
    return compiled(*pattern).sub(repl, text, count=count) if _may(pattern, text) else text


def normalise(text: str) -> NormalisedReply:
    """Reduce ``text`` (a reply, a log line, a client's error message) to its meaning."""
    wrapper: str | None = None
    for depth in range(_MAX_WRAPPED + 1):  # the reply quoted after "Error:" is the real one
        raw = _strip_prefixes(_unrepr(text or ""))
        status, enhanced, body = _split_status(raw)
        wrapped = _search(_WRAPPED, body) if depth < _MAX_WRAPPED else None
        if wrapped is None:
            break
        if depth == 0:  # the outermost reply is the one kept as the wrapper
            wrapper = _clean(body[: wrapped.start()]) or None
        text = body[wrapped.end() :]
    if enhanced is None and status is not None and not status[0].isdigit():
        # IMAP/POP texts sometimes quote an SMTP-style enhanced code; keep it.
        match = _match(_ENHANCED, body.strip())
        if match:
            enhanced = match.group(1)
            body = body.strip()[match.end() :]
    return NormalisedReply(status, enhanced, _clean(body), wrapper=wrapper)


def readable(text: str) -> str:
    """The decisive reply in its own words (case kept), for quoting to people.

    Library prefixes and the outer part of an ``… Error: 535 …`` wrapper are dropped,
    SMTP continuation lines are joined under one code, and the per-connection
    host/date/id trailer is cut.
    """
    raw = _strip_prefixes(_unrepr(text or ""))
    wrapped = list(compiled(*_WRAPPED).finditer(raw)) if _may(_WRAPPED, raw) else []
    if wrapped:
        raw = raw[wrapped[-1].end() :]
    lines = [line.strip() for line in raw.splitlines() if line.strip()]
    matches = [_match(_SMTP_LINE, line) for line in lines]
    if len(lines) > 1 and all(matches):
        parts = [_sub(_SMTP_CONTINUATION, r"\1 ", lines[0])]
        for match in matches[1:]:
            assert match is not None  # all() above
            parts.append(_sub(_ENHANCED, "", match.group(2).strip()))
        raw = " ".join(parts)
    else:
        raw = " ".join(lines)
    flat = one_line(raw)
    for _ in range(3):
        cut = _sub(_TRAILER, "", flat).strip()
        if cut == flat:
            break
        flat = cut
    return flat or one_line(text)


def one_line(text: str, limit: int = 300) -> str:
    """``text`` on one line (continuations joined), shortened for evidence strings."""
    flat = _sub(_SPACES, " ", text).strip()
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"


def _unrepr(text: str) -> str:
    """Undo Python ``repr`` wrappers: ``(535, b'5.7.139 …')`` and ``b'LOGIN failed.'``."""

    def tuple_repl(m: re.Match[str]) -> str:
        return f"{m.group(1)} {_unescape(m.group(3))}"

    def bytes_repl(m: re.Match[str]) -> str:
        return _unescape(m.group(2))

    text = _sub(_PY_TUPLE, tuple_repl, text)
    return _sub(_PY_BYTES, bytes_repl, text)


def _unescape(text: str) -> str:
    return (
        text.replace("\\r\\n", "\n")
        .replace("\\n", "\n")
        .replace("\\r", "\n")
        .replace("\\t", " ")
        .replace("\\'", "'")
        .replace('\\"', '"')
    )


def _strip_prefixes(text: str) -> str:
    text = text.strip().strip("\"'").strip()
    for _ in range(8):  # bounded: prefixes can stack ("Error: Invalid login: …")
        before = text
        for prefix in _PREFIXES:
            text = _sub((prefix, re.IGNORECASE), "", text, count=1)
        if text == before:
            break
    return text


def _split_status(text: str) -> tuple[str | None, str | None, str]:
    """Separate status word or code, enhanced code and body; joins continuation lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    if not lines:
        return None, None, ""
    smtp = [_match(_SMTP_LINE, line) for line in lines]
    if all(smtp):
        status = smtp[0].group(1) if smtp[0] else None
        enhanced: str | None = None
        bodies = []
        for match in smtp:
            assert match is not None  # all() above
            body = match.group(2).strip()
            code = _match(_ENHANCED, body)
            if code:
                enhanced = enhanced or code.group(1)
                body = body[code.end() :]
            bodies.append(body)
        return status, enhanced, " ".join(bodies)
    first, rest = lines[0], " ".join(lines[1:])
    pop = _match(_POP, first)
    if pop:
        return pop.group("status").upper(), None, _join(pop.group("rest"), rest)
    imap = _match(_IMAP, first)
    if imap and (imap.group("tag") or imap.group("status").isupper()):
        return imap.group("status").upper(), None, _join(imap.group("rest"), rest)
    untagged = _match(_IMAP_UNTAGGED, first)
    if untagged:
        return "*", None, _join(untagged.group("rest"), rest)
    code = _match(_ENHANCED, first)
    if code:
        return None, code.group(1), _join(first[code.end() :], rest)
    return None, None, " ".join(lines)


def _join(first: str, rest: str) -> str:
    return f"{first} {rest}".strip()


def _clean(text: str) -> str:
    """Lower-case and drop the parts that change per connection."""
    text = text.lower()
    text = _sub(_DAY_DATE, " ", text)
    text = _sub(_ISO_TIME, " ", text)
    text = _sub(_BRACKET, _bracket_repl, text)
    text = _sub(_OPEN_BRACKET_AT_END, _bracket_repl, text)
    text = _sub(_BACKEND_HOST, " ", text)
    text = _sub(_REQUEST_ID, " ", text)
    text = _sub(_BASE64, " ", text)
    text = _sub(_SPACES, " ", text).strip()
    return text.strip("\"'` ").strip()


def _bracket_repl(match: re.Match[str]) -> str:
    """Drop a bracket holding a host, address, id, date or token; keep words like ``[alert]``."""
    content = match.group(1)
    if not content.strip() or _search(_KEPT_BRACKET, content):
        return " "
    return match.group(0)
