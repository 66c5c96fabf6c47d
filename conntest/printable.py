"""Text from outside conntest made safe to print on a terminal.

A hostile server's (or a pasted bounce's) escape sequences must not drive the
user's terminal, its line breaks must not forge report lines, and undecodable
bytes (kept by aiosmtplib as surrogates) must not stop a report from being
written.  Standard library only: ``conntest explain`` imports it at start.
"""

from __future__ import annotations

__all__ = ["printable"]

_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c != 0x09}
_CONTROL_BUT_NEWLINE = {c: v for c, v in _CONTROL.items() if c != 0x0A}


def printable(text: str, newlines: bool = False) -> str:
    """``text`` with control characters shown as ``\\xNN`` (tabs kept; line feeds kept
    when ``newlines``) and no lone surrogates."""
    if text.isprintable():
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.translate(_CONTROL_BUT_NEWLINE if newlines else _CONTROL)
