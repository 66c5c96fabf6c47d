"""Which texts a regular expression cannot match, known without compiling it.

``conntest explain`` classifies one text against the catalogue's patterns and
:mod:`.normalise`'s rewrites; compiling them all cost more than the rest of
the command (issue 12: cold start).  Most texts can be ruled out by a literal:
every match of a pattern comes from one branch of its top-level alternation,
and contains each run of plain characters that branch requires.  A text that
contains, for no branch, that branch's longest run cannot match, so the
pattern is neither compiled nor tried.

The reading of the pattern is conservative: anything it does not follow (an
escape such as ``\\b``, a class, a group, a quantifier) ends a run, and a
pattern with a branch that requires no run, or with inline flags, is always
tried.  ``tests/unit/test_prefilter.py`` derives the required runs
independently from Python's own regular-expression parser and checks, for
every pattern conntest uses this way, that the ones here are contained in them.
"""

from __future__ import annotations

import re
from functools import cache

__all__ = ["compiled", "may_match", "required_literals"]

_ESCAPED_LITERALS = frozenset("\\.^$*+?{}[]|()-/'\"<>=!:,;#&~%@` \t")
"""Characters that stand for themselves after a backslash (ASCII punctuation)."""
_CLASS_ESCAPES = frozenset("bBdDsSwWAZ")
"""Escapes that stand for a class of characters or an anchor, never for a literal."""
_INLINE_FLAGS = frozenset("aiLmsux-#")
"""What may follow ``(?`` to set flags (or start a comment): such a pattern is always tried."""


@cache
def compiled(regex: str, flags: int = 0) -> re.Pattern[str]:
    """``re.compile``, once per pattern, on first use."""
    return re.compile(regex, flags)


def may_match(regex: str, text: str, ignorecase: bool = False) -> bool:
    """False only when ``regex`` cannot match anywhere in ``text``.

    With ``ignorecase`` (the pattern is compiled with ``re.IGNORECASE``) the
    literals are compared case-folded only for an ASCII text, where Python's
    case-insensitive matching of ASCII literals is exactly ASCII case folding
    (the Unicode equivalents, such as the Kelvin sign for ``k``, are not ASCII);
    any other text may match.
    """
    literals = required_literals(regex)
    if literals is None:
        return True
    if ignorecase:
        if not (text.isascii() and all(literal.isascii() for literal in literals)):
            return True
        text = text.lower()
        literals = tuple(literal.lower() for literal in literals)
    return any(literal in text for literal in literals)


@cache
def required_literals(regex: str) -> tuple[str, ...] | None:
    """One literal per top-level branch of ``regex`` that every match of that branch contains.

    ``None`` when some branch requires none, or the pattern is not read here.
    """
    try:
        branches = _runs(regex)
    except _NotRead:
        return None
    literals: list[str] = []
    for runs in branches:
        if not runs:
            return None
        literals.append(max(runs, key=len))
    return tuple(literals)


class _NotRead(Exception):
    """The pattern uses something this reading does not follow."""


def _runs(regex: str) -> list[list[str]]:
    """The required runs of each top-level branch, in order."""
    branches: list[list[str]] = [[]]
    run: list[str] = []

    def end_run() -> None:
        if run:
            branches[-1].append("".join(run))
            run.clear()

    i, n = 0, len(regex)
    while i < n:
        char = regex[i]
        if char == "\\":
            escaped = regex[i + 1 : i + 2]
            i += 2
            if escaped in _ESCAPED_LITERALS:
                run.append(escaped)  # a quantifier after it is read on the next turn
            elif escaped and escaped in _CLASS_ESCAPES:
                end_run()  # a class of characters or an anchor
                i = _after_quantifier(regex, i)
            else:
                raise _NotRead  # \x41, \u…, \N{…}, a reference, an octal or control character
            continue
        elif char == "[":
            end_run()
            i = _after_quantifier(regex, _after_class(regex, i))
            continue
        elif char == "(":
            if regex[i + 1 : i + 2] == "?" and regex[i + 2 : i + 3] in _INLINE_FLAGS:
                raise _NotRead
            end_run()
            i = _after_quantifier(regex, _after_group(regex, i))
            continue
        elif char == "|":
            end_run()
            branches.append([])
            i += 1
            continue
        elif char in "*?{":
            if run:
                run.pop()  # the character before may occur no times (or the brace is literal)
            end_run()
            i = _after_quantifier(regex, i)
            continue
        elif char == "+":
            end_run()  # the character before occurs at least once, then maybe again
            i = _after_quantifier(regex, i)
            continue
        elif char == ")":
            raise _NotRead  # unbalanced: re.compile refuses it
        elif char in ".^$]}":
            end_run()
            i = _after_quantifier(regex, i + 1)
            continue
        else:
            run.append(char)
        i += 1
    end_run()
    return branches


def _after_quantifier(regex: str, i: int) -> int:
    """The index after any quantifier at ``i`` (with its lazy ``?`` or possessive ``+``)."""
    if i < len(regex) and regex[i] in "*+?":
        i += 1
    elif regex.startswith("{", i):
        close = regex.find("}", i)
        if close == -1 or not all(c.isdigit() or c == "," for c in regex[i + 1 : close]):
            raise _NotRead  # a literal brace: not followed here
        i = close + 1
    else:
        return i
    if i < len(regex) and regex[i] in "?+":
        i += 1
    return i


def _after_class(regex: str, i: int) -> int:
    """The index after the character class that starts at ``i``."""
    j = i + 1
    if regex.startswith("^", j):
        j += 1
    if regex.startswith("]", j):
        j += 1
    while j < len(regex):
        if regex[j] == "\\":
            j += 2
        elif regex[j] == "[":
            raise _NotRead  # a nested set (a FutureWarning in Python): not followed here
        elif regex[j] == "]":
            return j + 1
        else:
            j += 1
    raise _NotRead


def _after_group(regex: str, i: int) -> int:
    """The index after the group that starts at ``i`` (nested groups and classes skipped)."""
    depth = 0
    j = i
    while j < len(regex):
        char = regex[j]
        if char == "\\":
            j += 2
            continue
        if char == "[":
            j = _after_class(regex, j)
            continue
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
            if depth == 0:
                return j + 1
        j += 1
    raise _NotRead
