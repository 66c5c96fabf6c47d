"""Text conntest prints: from outside made safe, an address next to a port unambiguous.

A hostile server's (or a pasted bounce's) escape sequences must not drive the
user's terminal, its line breaks must not forge report lines (nor U+2028/U+2029,
which editors, browsers and ticket systems break lines at), its bidirectional
controls must not reorder what the report shows (U+202E makes "evil" read
"live"), and undecodable bytes (kept by aiosmtplib as surrogates) must not stop a
report from being written.  :func:`host_port` is the one way a host and a port are
joined for a person to read, in the probes' evidence, the diagnosis texts and the
front ends alike.  No imports at all: ``conntest explain`` imports it at start, and
the probes and the diagnosis, which sit above it, both use it.
"""

from __future__ import annotations

__all__ = ["host_port", "printable"]

_BIDI_AND_SEPARATORS = (0x061C, 0x200E, 0x200F, *range(0x2028, 0x202F), *range(0x2066, 0x206A))
"""The Arabic letter mark, LRM, RLM, the line and paragraph separators, the embeddings and
overrides (U+202A-U+202E) and the isolates (U+2066-U+2069): written as Python's repr
writes them (``\\u202e``), the form the redactor also knows."""
_CONTROL = {c: f"\\x{c:02x}" for c in (*range(0x20), 0x7F, *range(0x80, 0xA0)) if c != 0x09}
_CONTROL |= {c: f"\\u{c:04x}" for c in _BIDI_AND_SEPARATORS}
_CONTROL_BUT_NEWLINE = {c: v for c, v in _CONTROL.items() if c != 0x0A}


def printable(text: str, newlines: bool = False) -> str:
    """``text`` with control characters shown as ``\\xNN`` (tabs kept; line feeds kept
    when ``newlines``) and no lone surrogates."""
    if text.isprintable():
        return text
    text = text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")
    return text.translate(_CONTROL_BUT_NEWLINE if newlines else _CONTROL)


def host_port(host: str, port: int | str) -> str:
    """``host:port``, an IPv6 literal in brackets: ``[::1]:993``, ``[fe80::1%eth0]:993``.

    ``::1:993`` would read as the address ``::1:993`` on no port, or as port 1
    of ``::``.  The bracketed form is also the one ``--imap``/``--smtp`` take
    back.  A host name or an IPv4 address never holds a colon, so one in
    ``host`` means an IPv6 address (one already in brackets is left as it is).
    """
    if ":" in host and not host.startswith("["):
        return f"[{host}]:{port}"
    return f"{host}:{port}"
