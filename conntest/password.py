"""The shape of a password, without the password.

Microsoft's servers never say "your password has a trailing space": to them it is
simply a wrong password (``behaviour.md`` §4, rule 6).  So conntest looks at the
password locally, before anything is sent, and records only its *shape*: how long
it is, where invisible or whitespace characters sit, whether it looks like a
Microsoft app password.  :class:`PasswordShape` is what the diagnosis, the report
and the logs see; it never holds the password or any character of it, so it can
be printed, compared and serialised freely.

Pure functions, no I/O.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Literal

IssueKind = Literal[
    "leading-space",
    "trailing-space",
    "inner-space",
    "tab",
    "newline",
    "no-break-space",
    "zero-width",
    "invisible",
]

ZERO_WIDTH = frozenset("\u200b\u200c\u200d\u2060\ufeff")
"""Zero-width space, non-joiner, joiner, word joiner, byte-order mark."""
NO_BREAK_SPACES = frozenset("\u00a0\u2007\u202f")
"""No-break space, figure space, narrow no-break space (word processors insert them)."""
NEWLINES = frozenset("\n\r\u0085\u2028\u2029\u000b\u000c")

_APP_PASSWORD = re.compile(r"[a-z]{16}")
"""Personal-account app passwords: 16 lowercase letters (imapsync FAQ, behaviour.md §5).

Work (Entra ID) app passwords have no documented format, so a match is a hint only.
"""

# Order in which describe() lists the issues: what people most often get wrong first.
_ORDER: tuple[IssueKind, ...] = (
    "leading-space",
    "trailing-space",
    "inner-space",
    "tab",
    "newline",
    "no-break-space",
    "zero-width",
    "invisible",
)

_NAMES: dict[IssueKind, tuple[str, str]] = {
    # kind: (singular, plural) as shown to people
    "tab": ("tab", "tabs"),
    "newline": ("line break", "line breaks"),
    "no-break-space": ("no-break space", "no-break spaces"),
    "zero-width": ("zero-width character", "zero-width characters"),
    "invisible": ("invisible character", "invisible characters"),
}


@dataclass(frozen=True)
class PasswordIssue:
    """One kind of suspicious character and where it occurs (1-based positions)."""

    kind: IssueKind
    positions: tuple[int, ...]

    @property
    def count(self) -> int:
        return len(self.positions)


@dataclass(frozen=True)
class PasswordShape:
    """What conntest knows about a password: never the password or any part of it."""

    length: int
    """Number of characters (code points) as entered."""
    issues: tuple[PasswordIssue, ...] = ()
    """Whitespace and invisible characters, in :data:`_ORDER`."""
    looks_like_app_password: bool = False
    """After removing whitespace, 16 lowercase letters: the shape of a Microsoft
    personal-account app password.  Only a hint for work accounts."""

    @property
    def has_whitespace(self) -> bool:
        """True when the password holds any whitespace or invisible character."""
        return bool(self.issues)

    def describe(self) -> str:
        """The issues in plain words, e.g. ``1 trailing space, 3 spaces inside``."""
        if not self.issues:
            return "no spaces or invisible characters"
        return ", ".join(_describe_issue(issue, self.length) for issue in self.issues)


def analyse_password(pw: str) -> PasswordShape:
    """Record the shape of ``pw``: length, whitespace and invisible characters."""
    found: dict[IssueKind, list[int]] = {}
    lead = len(pw) - len(pw.lstrip(" "))
    trail = len(pw) - len(pw.rstrip(" ")) if lead < len(pw) else 0
    for index, char in enumerate(pw):
        position = index + 1
        kind = _kind(char, index, lead, len(pw) - trail)
        if kind is not None:
            found.setdefault(kind, []).append(position)
    issues = tuple(PasswordIssue(kind, tuple(found[kind])) for kind in _ORDER if kind in found)
    compact = "".join(ch for ch in pw if _kind(ch, 1, 0, len(pw) + 1) is None)
    return PasswordShape(
        length=len(pw),
        issues=issues,
        looks_like_app_password=_APP_PASSWORD.fullmatch(compact) is not None,
    )


def strip_invisible(pw: str) -> str:
    """The password a person most likely meant, for the retry they consented to.

    Removes whitespace at both ends and every invisible (zero-width, control,
    format) character anywhere.  Spaces *inside* are kept, because they can be
    part of a real password, except when removing them leaves the shape of an
    app password: app passwords never contain spaces, but are often copied from a
    grouped display.
    """
    visible = "".join(ch for ch in pw if not _is_invisible(ch))
    trimmed = visible.strip()
    without_spaces = "".join(ch for ch in trimmed if not ch.isspace())
    if _APP_PASSWORD.fullmatch(without_spaces):
        return without_spaces
    return trimmed


def _is_invisible(char: str) -> bool:
    if char in ZERO_WIDTH:
        return True
    category = unicodedata.category(char)
    return category == "Cf" or (category == "Cc" and not char.isspace())


def _kind(char: str, index: int, lead: int, trail_start: int) -> IssueKind | None:
    """Classify one character; ``None`` for an ordinary visible one."""
    if char == " ":
        if index < lead:
            return "leading-space"
        if index >= trail_start:
            return "trailing-space"
        return "inner-space"
    if char == "\t":
        return "tab"
    if char in NEWLINES:
        return "newline"
    if char in NO_BREAK_SPACES:
        return "no-break-space"
    if char in ZERO_WIDTH:
        return "zero-width"
    if unicodedata.category(char) in ("Cc", "Cf", "Zs", "Zl", "Zp"):
        return "invisible"
    return None


def _describe_issue(issue: PasswordIssue, length: int) -> str:
    n = issue.count
    if issue.kind == "leading-space":
        return f"{n} leading space" + ("s" if n > 1 else "")
    if issue.kind == "trailing-space":
        return f"{n} trailing space" + ("s" if n > 1 else "")
    if issue.kind == "inner-space":
        return f"{n} space{'s' if n > 1 else ''} inside"
    singular, plural = _NAMES[issue.kind]
    where = _positions(issue.positions, length)
    if n == 1:
        article = "an" if singular[0] in "aeiou" else "a"
        return f"{article} {singular} at {where}"
    return f"{n} {plural} at {where}"


def _positions(positions: tuple[int, ...], length: int) -> str:
    def one(p: int) -> str:
        if p == length and length > 1:
            return f"{p} (the end)"
        if p == 1 and length > 1:
            return "1 (the start)"
        return str(p)

    if len(positions) == 1:
        return f"position {one(positions[0])}"
    head = ", ".join(one(p) for p in positions[:-1])
    return f"positions {head} and {one(positions[-1])}"
