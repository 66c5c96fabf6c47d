"""``conntest explain`` is given text from anywhere: a bounce, a log line, a hostile sender's words.

Whatever it is given, the terminal sees no control character (an OSC 52 sequence
would write to the helpdesk's clipboard, a CSI one could clear or forge screen
lines), in every format, and the answer is still one finding.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time

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


@pytest.mark.parametrize("text", ["", "   ", "\n\t \r\n"])
def test_an_empty_text_is_a_usage_error(text: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", text],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "conntest: explain: TEXT is empty (give the error text, or - to read standard input)"
    ]


@pytest.mark.parametrize("fmt", ["text", "json"])
def test_an_empty_standard_input_is_a_usage_error(fmt: str) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", "--format", fmt, "-"],
        input=b" \r\n\n",
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode == 3
    assert done.stdout == b""
    assert done.stderr.decode().splitlines() == [
        "conntest: explain -: standard input held no text to explain"
    ]


# Each once long enough to find a regular expression that is quadratic in its input:
# unclosed Python reprs, replies quoted in replies, binary bytes, control characters.
LONG = {
    "unclosed-reprs": b"(535, b'" * 8000,
    "quoted-replies": b"Error: 535 " * 5000,
    "binary": bytes(range(256)) * 250,
    "controls": b"\x1b[2J\x07\x00\x9b" * 12000,
    "one-word": b"a" * 64 * 1024,
}


@pytest.mark.parametrize("name", sorted(LONG))
def test_a_long_or_binary_text_is_answered_in_bounded_time(name: str) -> None:
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", "--format", "json", "-"],
        input=LONG[name],
        capture_output=True,
        check=False,
        timeout=60,
    )
    seconds = time.monotonic() - started
    assert done.returncode in (0, 1, 2, 3), done.stderr
    assert b"Traceback" not in done.stderr
    doc = json.loads(done.stdout)
    assert doc["code"] and "could not read this text" not in doc["detail"], doc
    assert seconds < 10, seconds


def test_the_longest_argument_is_answered_in_bounded_time() -> None:
    text = "(535, b'" * 15000  # 120,000 characters: near Linux's limit for one argument
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "conntest", "explain", "--format", "json", text],
        capture_output=True,
        check=False,
        timeout=60,
    )
    assert done.returncode in (0, 1, 2, 3) and b"Traceback" not in done.stderr
    assert json.loads(done.stdout)["code"] == "unrecognised"
    assert time.monotonic() - started < 10
