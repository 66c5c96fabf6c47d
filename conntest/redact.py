"""Keep credentials out of everything conntest records.

The probes never write a credential into a transcript in the first place;
:class:`Redactor` is the second line of defence, applied where a line is
recorded and again by the engine to every step before it leaves it.  It is a
property, not a list of places: for each secret (the password, an OAuth token)
it knows every form a library or a renderer can give it inside a longer text,

* as sent: raw, an IMAP quoted string (``"`` and ``\\`` escaped), base64 of
  AUTH LOGIN's password, of AUTH PLAIN's ``authzid\\0user\\0password`` with
  and without the authzid, of XOAUTH2's ``user=…\\x01auth=Bearer …\\x01\\x01``,
  padded and unpadded;
* as reported: Python's ``repr`` of a ``str`` or of ``bytes`` (an imaplib
  abort quotes the server's line that way), with either quote escaped, and a
  repr of a repr;
* as rendered: JSON-escaped, with and without ``ensure_ascii`` (and a
  ``repr`` of that: an exception quoting a JSON body), and URL-quoted
  (``%20`` or ``+`` for a space, ``/`` kept or not: a form body, a web
  page's or a proxy's error that quotes it);

and replaces any of them with ``<redacted>``.  A base64 run that decodes to a
text holding a secret form is replaced too: a server's XOAUTH2 error challenge
(``334 <base64 JSON>``) can wrap an echo of the token.  Text is redacted *before* it
is cut, and :meth:`Redactor.cut` re-checks the cut end so that no prefix of a
secret form (:data:`PARTIAL_MIN` characters or more) is left there; the ends
of every redacted text get the same check, which also catches a server that
echoes a credential cut short at its own line limit.

A secret shorter than three characters is not redacted: blanking every such
fragment would destroy the server's words (and such a password is diagnosed
by its shape anyway).

Two strengths, for two kinds of text.  :meth:`Redactor.__call__` (and
:meth:`Redactor.cut`, :meth:`Redactor.data`) is *strict*: every occurrence goes.
It is applied at the source, to what came from outside conntest's code (a
server's reply, a transcript line, an exception's message, step data).
:meth:`Redactor.output` (and :meth:`Redactor.value`,
:meth:`Redactor.keys_and_values`: the finished report and the rendered text) is
the *safety net*: it redacts the same forms but keeps an occurrence that lies
inside one whole word of conntest's own vocabulary (:func:`vocabulary`: every
word of conntest's installed code and data, the same for every user).  A
password ``login`` thus leaves the finding code ``login-rejected``, the step
``imap_auth``, the JSON key ``code`` and the label ``protocol="smtp"`` as
they are (a coincidence there tells nobody anything, and blanking them breaks
parsers and monitoring), while the server's echo of it was already removed at
the source, and an address, a path or a library's repr holding it is still
caught here: those are not vocabulary words.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import copy
import enum
import json
import re
import string
import urllib.parse
from collections.abc import Callable, Iterable
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable
from typing import Any, TypeVar

from conntest.model import FailureKind, Severity, Status
from conntest.password import strip_invisible
from conntest.record import names

REDACTED = "<redacted>"

T = TypeVar("T")

PARTIAL_MIN = 6
"""A cut end that keeps this many characters of a secret form (or more) is scrubbed."""

_MIN_FORM = 3
_UNCHANGED_KEPT = 4096
"""Texts a redactor remembers as holding no secret form (one check holds a few hundred)."""
_SCALARS = frozenset({int, float, bool, type(None), bytes})
_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")

_WORD = re.compile(r"[\w@/+~%-]+(?:[.:][\w@/+~%-]+)*")
"""One word as conntest's own text spells it: ``login-rejected``, ``imap_auth``,
``conntest_up``, ``--password-file``, ``smtp.office365.com``; a dot or colon
only inside (a sentence's full stop, a headline's ``profile:`` are not part of it).
An address or a path is one word, so a secret inside one is never taken for
conntest's own."""
_JOINS = re.compile(r"[-_]+")
_SOURCES = (".py", ".yaml", ".yml", ".toml", ".json")
_NOT_OURS = {"__pycache__", "lab"}
"""The lab's package speaks as a server would: its words reach a report only in a
server's reply, redacted at the source; they are not conntest's vocabulary."""
_DOCSTRING = re.compile(r'"""(?:.|\n)*?"""|\'\'\'(?:.|\n)*?\'\'\'')
_LITERAL = re.compile(r'"((?:[^"\\\n]|\\.)*)"|\'((?:[^\'\\\n]|\\.)*)\'')


def _literals(node: Traversable, into: list[str]) -> None:
    """The one-line string literals of conntest's code (docstrings left out: they are
    not shown to anyone) and the whole of its data files (built-in profiles)."""
    for child in node.iterdir():
        if child.is_dir():
            if child.name not in _NOT_OURS:
                _literals(child, into)
        elif child.name.endswith(".py"):
            code = _DOCSTRING.sub("", child.read_bytes().decode("utf-8", "replace"))
            into += [a or b for a, b in _LITERAL.findall(code)]
        elif child.name.endswith(_SOURCES):
            into.append(child.read_bytes().decode("utf-8", "replace"))


def _spellings(word: str) -> tuple[str, ...]:
    return (word, word.lower(), word.upper(), word[:1].upper() + word[1:])


@cache
def _vocabularies() -> tuple[frozenset[str], frozenset[str]]:
    """(every word of conntest's texts, the literals that are one word: names)."""
    literals: list[str] = []
    _literals(resources.files("conntest"), literals)
    # The enumerations' names are shown too (``Severity.CRITICAL`` as "critical").
    literals += [m.name for e in (Status, Severity, FailureKind) for m in e]
    names = {t for text in literals if _WORD.fullmatch(t := text.strip().strip("-_"))}
    # A name is a word too ("_buffer" joins others as "buffer").
    words = {w for text in literals for w in _WORD.findall(text)} | names
    return (
        frozenset(form for w in words for form in _spellings(w)),
        frozenset(form for n in names for form in _spellings(n)),
    )


def vocabulary() -> frozenset[str]:
    """Every word of conntest's installed code and data, as written, lower, upper, capitalised.

    The fixed text a report is made of, read from the package itself so it is never
    out of date: finding codes, catalogue titles and remedies, step and protocol
    names, status and severity words, JSON keys, metric, label and perfdata names,
    option names, built-in profiles (the string literals of the code, docstrings
    and comments left out, and the data files).  Read once per process, and only
    when a secret form is found in a finished text (~0.2 s measured on this
    machine's loaded cores; a run with no match never reads it).
    """
    return _vocabularies()[0]


def is_own_word(word: str) -> bool:
    """``word`` is conntest's: a vocabulary word, or names joined by ``-``/``_``.

    A name is a literal that is one word (``"auth"``, ``"-stripped"``, ``"imap"``):
    ``imap_auth-stripped`` is put together from them in f-strings.  Words of prose
    are not joined, so a passphrase ``correct-horse-battery-staple`` of English
    words is not taken for conntest's own.
    """
    words, names = _vocabularies()
    if word in words:
        return True
    parts = [p for p in _JOINS.split(word) if p]
    return len(parts) > 1 and all(p in names for p in parts)


def _own_spans(text: str) -> tuple[list[int], list[int]]:
    """Starts and ends of the words of ``text`` that are conntest's own."""
    starts: list[int] = []
    ends: list[int] = []
    for match in _WORD.finditer(text):
        if is_own_word(match.group(0)):
            starts.append(match.start())
            ends.append(match.end())
    return starts, ends


def _inside(spans: tuple[list[int], list[int]], start: int, end: int) -> bool:
    """``text[start:end]`` lies inside one of the words ``spans`` holds."""
    i = bisect.bisect_right(spans[0], start) - 1
    return i >= 0 and spans[1][i] >= end


def imap_quoted(text: str) -> str:
    """The inside of an IMAP quoted string as imaplib writes it (``\\`` and ``"`` escaped)."""
    return text.replace("\\", "\\\\").replace('"', '\\"')


_SHORT_ESCAPES = {"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _repr_str(text: str, escape_single: bool) -> str:
    """The inside of ``repr(text)`` as CPython writes it, for either choice of quote."""
    out = []
    for ch in text:
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch == "'" and escape_single:
            out.append("\\'")
        elif ch.isprintable():
            out.append(ch)
        elif ord(ch) < 0x100:
            out.append(f"\\x{ord(ch):02x}")
        elif ord(ch) < 0x10000:
            out.append(f"\\u{ord(ch):04x}")
        else:
            out.append(f"\\U{ord(ch):08x}")
    return "".join(out)


def _repr_bytes(data: bytes, escape_single: bool) -> str:
    """The inside of ``repr(data)`` for ``bytes``, for either choice of quote."""
    out = []
    for byte in data:
        ch = chr(byte)
        if ch in _SHORT_ESCAPES:
            out.append(_SHORT_ESCAPES[ch])
        elif ch == "'" and escape_single:
            out.append("\\'")
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append(f"\\x{byte:02x}")
    return "".join(out)


def _plain(text: str) -> bool:
    """Printable ASCII without a backslash: what repr and JSON write as it is (but a quote)."""
    return text.isascii() and text.isprintable() and "\\" not in text


def _reprs(text: str) -> set[str]:
    if _plain(text):  # most passwords: skip the character-by-character spelling
        return {text, text.replace("'", "\\'")}
    forms = {text}
    for single in (True, False):
        forms.add(_repr_str(text, single))
        forms.add(_repr_bytes(text.encode("utf-8", "surrogatepass"), single))
    return forms


_BASE64_CHARS = frozenset(string.ascii_letters + string.digits + "+/=")


def url_quoted(text: str) -> set[str]:
    """``text`` percent-encoded the ways urllib (and so most web code) writes it."""
    if _BASE64_CHARS.issuperset(text):
        # Base64 (most forms): urllib's four spellings are these two, and urllib's
        # quoting is most of a redactor's making (a batch makes one per account).
        kept_slash = text.replace("+", "%2B").replace("=", "%3D")
        return {kept_slash.replace("/", "%2F"), kept_slash}
    quote, quote_plus = urllib.parse.quote, urllib.parse.quote_plus
    return {f(text, safe=safe) for f in (quote, quote_plus) for safe in ("", "/")}


def text_forms(secret: str) -> set[str]:
    """Every spelling of ``secret`` that a library or renderer can put inside a longer text."""
    layer = {secret, imap_quoted(secret), *url_quoted(secret)}
    for _ in range(2):  # a repr of a repr: an exception text that quotes a bytes repr
        layer = {form for text in layer for form in _reprs(text)}
    forms = set(layer)
    for form in layer:
        if _plain(form) and '"' not in form:
            continue  # JSON writes it as it is: its reprs are in the layer already
        for escaped in (json.dumps(form)[1:-1], json.dumps(form, ensure_ascii=False)[1:-1]):
            # ...and a repr of that: an exception that quotes a JSON body it was sent.
            forms |= _reprs(escaped)
    return forms


def _b64(text: str) -> set[str]:
    encoded = base64.b64encode(text.encode("utf-8", "surrogatepass")).decode()
    forms = {encoded, encoded.rstrip("=")}
    return forms | {quoted for form in forms for quoted in url_quoted(form)}


def secret_forms(user: str, password: str | None = None, token: str | None = None) -> list[str]:
    """Every form in which a password or token could travel or be reported, longest first."""
    users = {user, user.partition("@")[0]}
    raw: set[str] = set()
    wire: set[str] = set()
    if password:
        # Every password that may be sent (the consented retry strips it).
        passwords = {password, password.strip(), strip_invisible(password)} - {""}
        raw |= passwords
        for pw in passwords:
            wire |= _b64(pw)
            for name in users:
                for blob in (f"\0{name}\0{pw}", f"{name}\0{name}\0{pw}", f"{name}\0{pw}"):
                    wire |= _b64(blob)
    if token:
        raw.add(token)
        wire |= _b64(token)
        for name in users:
            wire |= _b64(f"user={name}\x01auth=Bearer {token}\x01\x01")
    forms: set[str] = set(wire)
    for secret in raw:
        forms |= text_forms(secret)
    return sorted((f for f in forms if len(f) >= _MIN_FORM), key=len, reverse=True)


def bearer_forms(user: str, token: str) -> list[str]:
    """Every form an OAuth access token could appear in, longest first.

    The token, ``Bearer <token>``, the XOAUTH2 string (raw, escaped as repr
    shows it, base64 with and without padding), and a cut-short start of the
    token and of its base64 SASL form (a line shortened for a transcript).
    """
    if not token:
        return []
    raw = f"user={user}\x01auth=Bearer {token}\x01\x01"
    encoded = base64.b64encode(raw.encode()).decode()
    head = len(base64.b64encode(f"user={user}\x01auth=Bearer ".encode()).rstrip(b"="))
    forms = {
        token,
        f"Bearer {token}",
        raw,
        repr(raw)[1:-1],
        encoded,
        encoded.rstrip("="),
        token[:24],
        encoded[: head + 16],
        base64.b64encode(token.encode()).decode(),
    }
    return sorted((f for f in forms if len(f) >= 16), key=len, reverse=True)


class Redactor:
    """Replace known secrets, in every known form, in text and in data."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets = sorted({s for s in secrets if s}, key=len, reverse=True)
        self._partial = [s for s in self._secrets if len(s) > PARTIAL_MIN]
        self._grams = {
            s[i : i + PARTIAL_MIN] for s in self._partial for i in range(len(s) - PARTIAL_MIN + 1)
        }
        """Every PARTIAL_MIN-character piece of a partial form: a prefix kept at the end of a
        text ends with one, a suffix kept at its start begins with one."""
        self._respelled = [
            s
            for s in self._secrets
            if s not in REDACTED and (s[0] in REDACTED or s[-1] in REDACTED)
        ]
        """Forms a marker can help spell again: one that begins or ends with one of its
        characters ('>x').  A form inside the marker itself ('acted') would only nest."""
        self._fits = min(16, *(len(s) for s in self._secrets)) if self._secrets else 0
        """Texts shorter than this hold no whole form and no base64 run to decode."""
        self._unchanged: set[str] = set()
        """Texts this redactor read and left as they were: a report's last pass (the safety
        net over what the steps' redaction made) meets most of them again (issue 12)."""
        self._vouched: dict[int, object] = {}
        """Containers this redactor made, every string in them redacted (:meth:`vouch`), by
        id; holding them keeps an id from being reused for another object."""

    @classmethod
    def for_secrets(
        cls, user: str, password: str | None = None, token: str | None = None
    ) -> Redactor:
        """The redactor of one run: its password and/or OAuth bearer token."""
        return cls(secret_forms(user, password, token))

    @classmethod
    def for_credentials(cls, user: str, password: str | None) -> Redactor:
        return cls.for_secrets(user, password=password)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __call__(self, text: str) -> str:
        """``text`` with every secret form replaced, and no partial form at either end.

        Strict: for text from outside conntest (a reply, a transcript, a message).
        """
        if not self._secrets or text in self._unchanged:
            return text
        clean = self._strict(text)
        if clean == text:
            if len(text) >= self._fits and len(self._unchanged) < _UNCHANGED_KEPT:
                self._unchanged.add(text)
            return text
        # A marker beside what is left of a form can spell a form again ("<redacted>" and
        # "x" make ">x"): pass again while one is there, so that a second reading (the
        # report's last pass, which skips what this pass vouched for) finds none.
        for _ in range(3):
            if not any(secret in clean for secret in self._respelled):
                break
            clean = self._strict(clean)
        return clean

    def _strict(self, text: str) -> str:
        """One pass of :meth:`__call__`: whole forms, base64 runs, then the cut ends."""
        if len(text) < self._fits:  # most of a report's strings: only a cut end to look at
            return self._scrub_ends(text)
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, REDACTED)
        if self._partial:
            text = _BASE64_RUN.sub(self._wrapped, text)
        return self._scrub_ends(text)

    def output(self, text: str) -> str:
        """As ``self(text)``, but an occurrence inside a word of conntest's own is kept.

        The safety net over a finished report or a rendered text, where conntest's
        vocabulary (codes, step names, keys, labels) stands beside the values.
        """
        strict = self(text)
        if strict == text:
            return text  # the common case: no secret form, the vocabulary is not read
        spans = _own_spans(text)
        cuts: list[tuple[int, int]] = []
        for secret in self._secrets:
            at = text.find(secret)
            while at != -1:
                if not _inside(spans, at, at + len(secret)):
                    cuts.append((at, at + len(secret)))
                at = text.find(secret, at + 1)
        text = _cut_out(text, cuts)
        if self._partial:
            spans = _own_spans(text)

            def wrapped(match: re.Match[str]) -> str:
                if _inside(spans, match.start(), match.end()):
                    return match.group(0)
                return self._wrapped(match)

            text = _BASE64_RUN.sub(wrapped, text)
        spans = _own_spans(text)
        return self._scrub_ends(text, keep=lambda a, b: _inside(spans, a, b))

    def _wrapped(self, match: re.Match[str]) -> str:
        """A base64 run, or ``<redacted>`` if it decodes to text holding a secret form."""
        run = match.group(0)
        body = run.rstrip("=")
        body = body[: len(body) - (len(body) % 4 == 1)]
        try:
            decoded = base64.b64decode(body + "=" * (-len(body) % 4)).decode("utf-8", "replace")
        except (binascii.Error, ValueError):
            return run
        return REDACTED if any(s in decoded for s in self._partial) else run

    def cut(self, text: str, limit: int) -> str:
        """Redact, then cut to ``limit`` characters on a boundary that keeps no partial secret."""
        text = self(text)
        if len(text) <= limit:
            return text
        return self._scrub_ends(text[:limit]) + f"… ({len(text)} characters)"

    def data(self, value: Any) -> Any:
        """Redact every string inside ``value`` (dicts, lists and tuples, recursively)."""
        if isinstance(value, str):
            return self(value)
        if isinstance(value, dict):
            return {k: self.data(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.data(v) for v in value]
        if isinstance(value, tuple):
            return tuple(self.data(v) for v in value)
        return value

    def keys_and_values(self, value: Any) -> Any:
        """Every key and string of a parsed document through :meth:`output` (the safety net:
        a key or an enumerated value of conntest's own stays as it is)."""
        if isinstance(value, dict):
            return {self.output(str(k)): self.keys_and_values(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.keys_and_values(v) for v in value]
        return self.output(value) if isinstance(value, str) else value

    def vouch(self, obj: T) -> T:
        """Mark ``obj`` (a list, dict or record this redactor's strict pass made) as clean.

        The report's last pass (:meth:`value`) then takes it as it is instead of
        reading it again: a step's transcript and data are most of a report's
        strings (issue 12).  Strictly redacted text is what :meth:`output` leaves
        unchanged (the strict pass replaces until no form is left), so the result
        is the same; ``obj`` must not change afterwards.
        """
        self._vouched[id(obj)] = obj
        return obj

    def value(self, obj: T) -> T:
        """A copy of ``obj`` (a report, a result: dataclasses all the way down) with every
        string redacted; the same object when nothing in it held a secret.

        Applied before a renderer wraps, cuts, escapes or collapses the text,
        so that a secret form is still whole where it is looked for.  The safety
        net (:meth:`output`): a code, a step name, a catalogue word stays whole.
        """
        if not self._secrets:
            return obj
        return self._value(obj)  # type: ignore[no-any-return]

    def _value(self, obj: Any) -> Any:
        kind = type(obj)
        if kind is str:
            clean = self.output(obj)
            return obj if clean == obj else clean
        if kind in _SCALARS:  # a report is mostly these and strings: decided at once
            return obj
        if isinstance(obj, enum.Enum) or self._vouched.get(id(obj)) is obj:
            return obj
        if isinstance(obj, str):
            clean = self.output(obj)
            return obj if clean == obj else clean  # unchanged: the very same object
        if isinstance(obj, dict):
            items = {k: self._value(v) for k, v in obj.items()}
            same = all(items[k] is v for k, v in obj.items())
            return obj if same else items
        if isinstance(obj, list | tuple):
            parts = [self._value(v) for v in obj]
            if all(a is b for a, b in zip(parts, obj, strict=True)):
                return obj
            if isinstance(obj, list):
                return parts
            return type(obj)(*parts) if hasattr(obj, "_fields") else tuple(parts)
        fields = names(obj)  # a data class or a record (conntest.record): Finding is one
        if fields is not None:
            changed = {}
            for name in fields:
                old = getattr(obj, name)
                new = self._value(old)
                if new is not old:
                    changed[name] = new
            if not changed:
                return obj
            clone = copy.copy(obj)
            for name, new in changed.items():
                object.__setattr__(clone, name, new)  # frozen ones too
            return clone
        return obj

    def _scrub_ends(self, text: str, keep: Callable[[int, int], bool] | None = None) -> str:
        """Replace a secret form's prefix at the end of ``text`` or its suffix at the start
        (unless ``keep(start, end)`` says that piece is a word of conntest's own)."""
        if text[-PARTIAL_MIN:] not in self._grams and text[:PARTIAL_MIN] not in self._grams:
            return text  # the common case, decided without searching the text (issue 12)
        for secret in self._partial:
            # The same test for this form alone (the text is longer than the form).
            if text[-PARTIAL_MIN:] not in secret and text[:PARTIAL_MIN] not in secret:
                continue
            # The earliest match is the longest prefix left at the end.
            head = secret[:PARTIAL_MIN]
            start = text.find(head, max(0, len(text) - len(secret) + 1))
            while start != -1:
                if secret.startswith(text[start:]):
                    if keep is None or not keep(start, len(text)):
                        text = text[:start] + REDACTED
                    break
                start = text.find(head, start + 1)
            # The latest match is the longest suffix left at the start.
            tail = secret[-PARTIAL_MIN:]
            end, found = text.find(tail, 0, len(secret) - 1), -1
            while end != -1:
                if secret.endswith(text[: end + PARTIAL_MIN]):
                    found = end + PARTIAL_MIN
                end = text.find(tail, end + 1, len(secret) - 1)
            if found != -1 and (keep is None or not keep(0, found)):
                text = REDACTED + text[found:]
        return text


def _cut_out(text: str, cuts: list[tuple[int, int]]) -> str:
    """``text`` with every span in ``cuts`` (overlapping ones merged) replaced by ``<redacted>``."""
    merged: list[list[int]] = []
    for start, stop in sorted(cuts):
        if merged and start <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], stop)
        else:
            merged.append([start, stop])
    out: list[str] = []
    done = 0
    for start, stop in merged:
        out += [text[done:start], REDACTED]
        done = stop
    out.append(text[done:])
    return "".join(out)
