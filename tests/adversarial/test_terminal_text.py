"""A server's words cannot drive the terminal or rearrange the report.

Escape sequences and C1 controls were already written as ``\\xNN``; the field
test found a greeting's bidirectional override (U+202E: "evil" shows as "live"),
its isolates and the Unicode line separator (U+2028, where editors, browsers and
ticket systems break a line) printed as they came.  Here the installed
``conntest`` reads such a greeting over real TLS and every output keeps the
words but none of those characters.
"""

from __future__ import annotations

import json
import ssl
from pathlib import Path

import pytest

from tests.adversarial.conftest import run_cli
from tests.adversarial.hostile import Conn, HostileServer, dns_server
from tests.adversarial.test_hostile_scripts import closed_port

GREETING = (
    "* OK esc\x1b]0;title\x07 csi\x9b2J rlo\u202eevil\u202c lri\u2066x\u2069 "
    "rlm\u200f ls\u2028forged line ps\u2029end\r\n"
).encode()
SHOWN = ("\\x1b", "\\x9b", "\\u202e", "\\u2028", "\\u2029", "\\u2066", "forged line")
HIDDEN = ("\x1b", "\x9b", "\u202e", "\u202c", "\u2066", "\u2069", "\u200f", "\u2028", "\u2029")


async def controls_in_the_greeting(conn: Conn) -> None:
    await conn.send(GREETING)
    await conn.line()


@pytest.mark.parametrize("fmt", [["--format", "text", "--verbose"], ["--format", "json"]])
def test_controls_in_a_greeting_are_shown_escaped(
    fmt: list[str], server_tls: ssl.SSLContext, hostile_ca_file: Path, tmp_path: Path
) -> None:
    with (
        HostileServer(controls_in_the_greeting, server_tls) as imap,
        closed_port() as smtp,
        dns_server("silent") as dns,
    ):
        args = ["--imap", f"127.0.0.1:{imap.port}", "--smtp", f"127.0.0.1:{smtp}"]
        args += ["--nameserver", f"127.0.0.1:{dns}", "--ca-file", str(hostile_ca_file)]
        run = run_cli([*args, "--profile", "thunderbird", "--timeout", "3", *fmt], "pw", tmp_path)
    assert "Traceback" not in run.output, run.stderr
    # JSON writes any non-ASCII character as \uNNNN itself: what counts is the decoded
    # strings, which a program reading the report (or a ticket pasting it) shows.
    shown = run.stdout if fmt[1] == "text" else "\n".join(_strings(json.loads(run.stdout)))
    found = [hex(ord(c)) for c in HIDDEN if c in shown]
    assert not found, found
    # the words stay, escaped
    assert all(s in shown for s in SHOWN), shown[-2000:]


def _strings(value: object) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []
