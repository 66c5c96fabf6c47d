"""The validation boundary: every value a person types or a file holds, refused or accepted once.

These are the validators the CLI, batch files, ``serve`` and the TUI share
(:mod:`conntest.inputs.values`) and the password readers
(:mod:`conntest.inputs.passwords`), tested on real files, pipes and FIFOs.
"""

from __future__ import annotations

import io
import os
import threading
import time
from pathlib import Path

import pytest
import trustme

from conntest.errors import PasswordSourceError
from conntest.inputs.passwords import (
    MAX_PASSWORD_BYTES,
    PasswordSource,
    check_password,
    read_password_file,
    read_password_stream,
)
from conntest.inputs.values import (
    InvalidValue,
    parse_address,
    parse_ca_file,
    parse_host_port,
    parse_nameserver,
    parse_pin,
    parse_seconds,
    parse_timeout,
    validate_address,
)
from conntest.printable import host_port

# --------------------------------------------------------------------------
# Addresses


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("alice@contoso.com", "alice@contoso.com"),
        ("  alice@contoso.com\t", "alice@contoso.com"),
        ("o'brien+tag@contoso.onmicrosoft.com", "o'brien+tag@contoso.onmicrosoft.com"),
    ],
)
def test_addresses_people_use_are_accepted(text: str, expected: str) -> None:
    assert parse_address(text) == expected
    assert validate_address(text) == expected


@pytest.mark.parametrize(
    ("text", "found"),
    [
        ("a@contoso.com\r\nX99 DELETE INBOX", "a line break at position 14"),
        ("a@contoso.com\nCONNTEST OK", "a line break"),
        ("a@contoso.com\x00", "a control character (U+0000)"),
        ("a\u200b@contoso.com", "U+200B"),
        ("not-an-address", "'not-an-address'"),
        ("a@b@contoso.com", "'a@b@contoso.com'"),
        ("alice @contoso.com", "'alice @contoso.com'"),
        ("@contoso.com", "'@contoso.com'"),
        ("alice@", "'alice@'"),
        ("", "an empty string"),
        ("x" * 65 + "@contoso.com", "'xxxx"),
        ("a@" + "b" * 260, "bytes"),
    ],
)
def test_addresses_that_could_inject_or_mislead_are_refused(text: str, found: str) -> None:
    with pytest.raises(InvalidValue) as caught:
        parse_address(text)
    assert found in caught.value.found
    assert "\n" not in str(caught.value) and "\r" not in str(caught.value)
    problem = validate_address(text)
    assert isinstance(problem, InvalidValue)


def test_a_non_string_address_from_a_file_is_named() -> None:
    with pytest.raises(InvalidValue, match="found 42"):
        parse_address(42)


# --------------------------------------------------------------------------
# Hosts and ports


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("outlook.office365.com:993", ("outlook.office365.com", 993)),
        ("127.0.0.1:1", ("127.0.0.1", 1)),
        ("[::1]:587", ("::1", 587)),
        ("[2001:db8::1]:65535", ("2001:db8::1", 65535)),
        ("[fe80::1%eth0]:993", ("fe80::1%eth0", 993)),  # a link-local address and its zone
        (" mail.example.test:143 ", ("mail.example.test", 143)),
    ],
)
def test_host_port_accepts(text: str, expected: tuple[str, int]) -> None:
    assert parse_host_port(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "[]:993",
        "[nothost]:993",
        "::1:993",
        "mail example.test:993",
        "mail.example.test:0",
        "mail.example.test:65536",
        "mail.example.test:99999",
        "mail.example.test:",
        "mail.example.test",
        ":993",
        "mail.example.test:９９３",
        "mail/example:993",
        "mail.example.test:993\r\n",
    ],
)
def test_host_port_refuses(text: str) -> None:
    with pytest.raises(InvalidValue, match="HOST:PORT"):
        parse_host_port(text)


def test_an_unbracketed_ipv6_address_is_refused_with_the_form_to_use() -> None:
    with pytest.raises(InvalidValue, match=r"in brackets: \[::1\]:993.*found '2001:db8::1:993'"):
        parse_host_port("2001:db8::1:993")


@pytest.mark.parametrize(
    ("host", "port", "shown"),
    [
        ("::1", 993, "[::1]:993"),
        ("2001:db8::1", 587, "[2001:db8::1]:587"),
        ("fe80::1%eth0", 993, "[fe80::1%eth0]:993"),
        ("127.0.0.1", 993, "127.0.0.1:993"),
        ("outlook.office365.com", 993, "outlook.office365.com:993"),
        ("[::1]", 25, "[::1]:25"),  # already bracketed: not twice
    ],
)
def test_host_port_brackets_ipv6_only(host: str, port: int, shown: str) -> None:
    assert host_port(host, port) == shown
    assert host_port(host, str(port)) == shown  # a template value is text
    if not host.startswith("["):
        assert parse_host_port(shown) == (host, port)  # what conntest shows, it reads back


def test_nameserver_ports_and_brackets() -> None:
    assert parse_nameserver("127.0.0.1") == ("127.0.0.1", 53)
    assert parse_nameserver("127.0.0.1:5353") == ("127.0.0.1", 5353)
    assert parse_nameserver("::1") == ("::1", 53)
    assert parse_nameserver("[::1]:5353") == ("::1", 5353)
    for bad in ("127.0.0.1:99999", "127.0.0.1:0", "dns.example:53", "[::1]", "127.0.0.1:x"):
        with pytest.raises(InvalidValue, match="ADDRESS"):
            parse_nameserver(bad)


def test_resolve_pins() -> None:
    assert parse_pin("outlook.office365.com:127.0.0.1") == ("outlook.office365.com", "127.0.0.1")
    assert parse_pin("outlook.office365.com:::1") == ("outlook.office365.com", "::1")
    assert parse_pin("outlook.office365.com:[::1]") == ("outlook.office365.com", "::1")
    for bad in ("outlook.office365.com", ":127.0.0.1", "a b:127.0.0.1", "host:notanip"):
        with pytest.raises(InvalidValue, match="HOST:ADDRESS"):
            parse_pin(bad)


# --------------------------------------------------------------------------
# Seconds


@pytest.mark.parametrize("bad", ["-5", "nan", "inf", "-inf", "1e9", "0", "soon", "", True, None])
def test_timeouts_are_finite_and_in_range(bad: object) -> None:
    with pytest.raises(InvalidValue, match="seconds from 1 to 600"):
        parse_timeout(bad)


def test_timeouts_in_range_are_accepted() -> None:
    assert parse_timeout("7.5") == 7.5
    assert parse_timeout(600) == 600.0
    assert parse_seconds("0", 0, 10) == 0.0


# --------------------------------------------------------------------------
# CA files


def test_a_ca_file_must_hold_a_certificate(tmp_path: Path) -> None:
    good = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(good))
    assert parse_ca_file(str(good)) == good
    not_pem = tmp_path / "notes.txt"
    not_pem.write_text("just some text\n")
    cases = {
        str(tmp_path / "missing.pem"): "No such file",
        str(tmp_path): "not a regular file",
        str(not_pem): "no PEM certificate",
        "/dev/null": "not a regular file",
    }
    for path, found in cases.items():
        with pytest.raises(InvalidValue) as caught:
            parse_ca_file(path)
        assert found in caught.value.found
        assert path in caught.value.found  # the error names the file


# --------------------------------------------------------------------------
# Passwords


def test_check_password_refuses_what_would_break_a_protocol_line() -> None:
    assert check_password(" spaced pass ", "x") == " spaced pass "
    for bad, fragment in [
        ("", "empty"),
        ("pass\x00word", "NUL"),
        ("pass\rword", "carriage return"),
        ("pass\nword", "line break"),
        ("x" * (MAX_PASSWORD_BYTES + 1), "at most 4096 bytes"),
        ("caf\udce9", "UTF-8"),  # a non-UTF-8 byte as os.environ decodes it
    ]:
        with pytest.raises(PasswordSourceError, match=fragment) as caught:
            check_password(bad, "--password-env P")
        assert "pass" not in str(caught.value).replace("password", "")


def test_a_password_file_gives_its_first_line(tmp_path: Path) -> None:
    path = tmp_path / "pw"
    path.write_bytes(b"s3cret pass\r\nsecond line\n")
    assert read_password_file(path) == "s3cret pass"
    path.write_bytes("pässwörd".encode())
    assert read_password_file(path) == "pässwörd"


@pytest.mark.parametrize(
    ("content", "fragment"),
    [
        (b"", "empty file"),
        (b"\n", "empty one"),
        (b"\xff\xfepassword\n", "non-UTF-8 byte at offset 0"),
        (b"pass\x00word\n", "NUL"),
    ],
)
def test_a_password_file_that_cannot_be_sent_is_refused(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    with pytest.raises(PasswordSourceError, match=fragment) as caught:
        read_password_file(path)
    assert str(path) in str(caught.value)


def test_a_huge_password_file_is_not_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "huge"
    with path.open("wb") as handle:
        handle.truncate(200 * 1024 * 1024)  # sparse: 200 MB of NUL bytes, no line break
    started = time.monotonic()
    with pytest.raises(PasswordSourceError, match="at most 4096 bytes"):
        read_password_file(path)
    assert time.monotonic() - started < 5


def test_devices_and_directories_are_refused(tmp_path: Path) -> None:
    with pytest.raises(PasswordSourceError, match="character device"):
        read_password_file(Path("/dev/null"))
    with pytest.raises(PasswordSourceError, match="directory"):
        read_password_file(tmp_path)
    with pytest.raises(PasswordSourceError, match="No such file"):
        read_password_file(tmp_path / "missing")


def test_a_fifo_nobody_writes_to_ends_at_its_deadline(tmp_path: Path) -> None:
    fifo = tmp_path / "pw.fifo"
    os.mkfifo(fifo)
    started = time.monotonic()
    with pytest.raises(PasswordSourceError, match=r"within 0.5 s"):
        read_password_file(fifo, deadline=0.5)
    assert time.monotonic() - started < 5


def test_a_fifo_with_a_writer_gives_its_line(tmp_path: Path) -> None:
    fifo = tmp_path / "pw.fifo"
    os.mkfifo(fifo)

    def write() -> None:
        with fifo.open("wb") as handle:
            handle.write(b"from a fifo\n")

    writer = threading.Thread(target=write)
    writer.start()
    try:
        assert read_password_file(fifo, deadline=10) == "from a fifo"
    finally:
        writer.join(10)


def test_stdin_closed_empty_or_piped() -> None:
    with pytest.raises(PasswordSourceError, match="closed"):
        read_password_stream(None)
    with pytest.raises(PasswordSourceError, match="empty"):
        read_password_stream(io.StringIO(""))
    assert read_password_stream(io.StringIO("piped pass\nrest")) == "piped pass"
    read_end, write_end = os.pipe()
    os.write(write_end, b"through a pipe\n")
    os.close(write_end)
    with os.fdopen(read_end) as stream:
        assert read_password_stream(stream) == "through a pipe"
    read_end, write_end = os.pipe()
    try:
        with os.fdopen(read_end) as stream, pytest.raises(PasswordSourceError, match="within"):
            read_password_stream(stream, deadline=0.3)
    finally:
        os.close(write_end)


def test_an_environment_password_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONNTEST_TEST_PW", "line one\nline two")
    with pytest.raises(PasswordSourceError, match=r"CONNTEST_TEST_PW.*line break"):
        PasswordSource("env", "CONNTEST_TEST_PW").read()
    monkeypatch.setenv("CONNTEST_TEST_PW", "fine")
    assert PasswordSource("env", "CONNTEST_TEST_PW").read() == "fine"
