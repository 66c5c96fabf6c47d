"""The one problem format of every file conntest reads: file, line, field, expected, found.

A :class:`Problem` is data: loaders collect them (every problem of a file, not
the first), and the front end prints one per line.  It lives here, below
:mod:`conntest.errors` and the loaders, so that both can use it without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["Problem"]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with one file, printable as one line.

    ``str()`` gives ``profiles/x.yaml: imap.port: expected an integer 1-65535,
    found 'abc'``; the ``(line N)`` suffix is added when the YAML position of
    the offending key is known, so an editor can jump there.
    """

    file: str
    """The file as the user named it (relative paths stay relative)."""
    field: str
    """Dotted path of the key (``imap.id_fields.name``, ``notes[2]``); empty
    for a problem with the file as a whole (unreadable, not YAML)."""
    expected: str
    """What would have been accepted, phrased to follow the word "expected"."""
    found: str
    """What was there instead, phrased to follow the word "found"."""
    line: int | None = None
    """1-based line in the file, when the YAML parser told us."""

    def __str__(self) -> str:
        where = f"{self.file}: {self.field}: " if self.field else f"{self.file}: "
        at = f" (line {self.line})" if self.line is not None else ""
        return f"{where}expected {self.expected}, found {self.found}{at}"
