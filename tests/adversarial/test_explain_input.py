"""``conntest explain`` is given text from anywhere: a bounce, a log line, a hostile sender's words.

Whatever it is given, the terminal sees no control character (an OSC 52 sequence
would write to the helpdesk's clipboard, a CSI one could clear or forge screen
lines), in every format, and the answer is still one finding.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HOSTILE = [
    "x\x1b]52;c;SGVsbG8=\x07y",  # OSC 52: set the clipboard
    "535 5.7.139 Authentication unsuccessful\x1b[2J\x1b[H",  # clear the screen
    "NO LOGIN failed.\rCONNTEST OK - forged",  # a carriage return rewriting the line
    "\x9b31mC1 control\x85next",  # C1 CSI and NEL
]


@pytest.mark.parametrize("text", HOSTILE)
@pytest.mark.parametrize("fmt", ["text", "json"])
def test_explain_prints_no_control_character(text: str, fmt: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", "--format", fmt, text],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 1, 2, 3), done.stderr
    assert b"Traceback" not in done.stderr
    out = done.stdout.decode("utf-8")
    controls = [c for c in out if (ord(c) < 0x20 and c not in "\n") or 0x7F <= ord(c) < 0xA0]
    assert controls == [], repr(out)
    if fmt == "json":
        assert json.loads(out)["code"]


def test_explain_from_stdin_with_crlf_lines_reads_as_the_text() -> None:
    text = "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.\r\n"
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", "--format", "json", "-"],
        input=text.encode(),
        capture_output=True,
        check=False,
        timeout=60,
    )
    doc = json.loads(done.stdout)
    assert doc["code"] == "basic-auth-disabled", doc
    assert "\\x0d" not in doc["evidence"]
