"""Bad input on the command line: one line on stderr, exit 3, no traceback, nothing sent.

Each case runs ``python -m conntest`` in a child process pointed at a TCP
listener and a UDP "DNS server" on loopback that record every connection and
datagram; the check must refuse the input before any of them sees a byte.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import trustme

SECRET = "Zq8-not-a-real-pw"


@dataclass
class Recorder:
    """A TCP listener and a UDP socket on loopback that count what reaches them."""

    tcp: socket.socket
    udp: socket.socket
    seen: list[str] = field(default_factory=list)

    @property
    def tcp_port(self) -> int:
        return int(self.tcp.getsockname()[1])

    @property
    def udp_port(self) -> int:
        return int(self.udp.getsockname()[1])

    def watch(self) -> None:
        self.tcp.settimeout(0.1)
        self.udp.settimeout(0.1)
        while self.tcp.fileno() >= 0:
            try:
                conn, _ = self.tcp.accept()
                conn.close()
                self.seen.append("tcp")
            except (TimeoutError, OSError):
                pass
            try:
                self.udp.recvfrom(4096)
                self.seen.append("udp")
            except (TimeoutError, OSError):
                pass


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    tcp = socket.create_server(("127.0.0.1", 0))
    udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    udp.bind(("127.0.0.1", 0))
    rec = Recorder(tcp, udp)
    thread = threading.Thread(target=rec.watch, daemon=True)
    thread.start()
    yield rec
    tcp.close()
    udp.close()
    thread.join(5)


def run(
    argv: list[str], *, stdin: int | None = subprocess.DEVNULL, shell_suffix: str = ""
) -> tuple[int, str, str]:
    env = {**os.environ, "CONNTEST_TEST_PW": SECRET, "CI": ""}
    if shell_suffix:
        command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "conntest", *argv])
        done = subprocess.run(
            ["/bin/sh", "-c", f"exec {command} {shell_suffix}"],
            capture_output=True,
            text=True,
            env=env,
            timeout=60,
            check=False,
        )
    else:
        done = subprocess.run(
            [sys.executable, "-m", "conntest", *argv],
            capture_output=True,
            text=True,
            env=env,
            stdin=stdin,
            timeout=60,
            check=False,
        )
    return done.returncode, done.stdout, done.stderr


def check_args(rec: Recorder, *extra: str) -> list[str]:
    endpoint = f"127.0.0.1:{rec.tcp_port}"
    return [
        "check",
        "--imap",
        endpoint,
        "--smtp",
        endpoint,
        "--nameserver",
        f"127.0.0.1:{rec.udp_port}",
        "--timeout",
        "5",
        *extra,
    ]


def assert_refused(code: int, out: str, err: str, rec: Recorder, *fragments: str) -> None:
    lines = err.strip().splitlines()
    assert code == 3, (code, out, err)
    assert "Traceback" not in err, err
    assert len(lines) == 1, lines
    assert lines[0].startswith("conntest: "), lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert SECRET not in out + err
    assert rec.seen == [], "something was sent"


def test_a_line_break_in_the_user_is_refused_before_connecting(recorder: Recorder) -> None:
    user = "a@contoso.com\r\nX99 DELETE INBOX"
    result = run(check_args(recorder, "--user", user, "--password-env", "CONNTEST_TEST_PW"))
    assert_refused(*result, recorder, "--user", "line break")


def test_a_line_break_in_the_user_cannot_forge_a_nagios_line(recorder: Recorder) -> None:
    user = "a@contoso.com\nCONNTEST OK - all fine"
    code, out, err = run(
        check_args(recorder, "--user", user, "--no-password", "--format", "nagios")
    )
    assert_refused(code, out, err, recorder, "--user")
    assert out.splitlines()[0].startswith("CONNTEST UNKNOWN - ")
    assert not any(line.startswith("CONNTEST OK") for line in out.splitlines())


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"", "empty file"), (b"\n", "empty one"), (b"\xff\xfe\n", "UTF-8"), (b"a\x00b\n", "NUL")],
)
def test_a_password_file_that_cannot_be_sent_is_refused(
    recorder: Recorder, tmp_path: Path, content: bytes, fragment: str
) -> None:
    path = tmp_path / "pw"
    path.write_bytes(content)
    result = run(check_args(recorder, "--user", "a@x.test", "--password-file", str(path)))
    assert_refused(*result, recorder, "--password-file", str(path), fragment)


def test_dev_null_as_a_password_file_is_refused(recorder: Recorder) -> None:
    result = run(check_args(recorder, "--user", "a@x.test", "--password-file", "/dev/null"))
    assert_refused(*result, recorder, "/dev/null", "character device")


def test_an_empty_or_closed_stdin_is_refused(recorder: Recorder) -> None:
    args = check_args(recorder, "--user", "a@x.test", "--password-stdin")
    assert_refused(*run(args), recorder, "--password-stdin", "nothing")
    assert_refused(*run(args, shell_suffix="<&-"), recorder, "--password-stdin", "closed")


@pytest.mark.parametrize(
    ("option", "value", "fragment"),
    [
        ("--imap", "[]:993", "HOST:PORT"),
        ("--imap", "mail host.test:993", "HOST:PORT"),
        ("--smtp", "mail.test:99999", "1 to 65535"),
        ("--nameserver", "127.0.0.1:99999", "1 to 65535"),
        ("--resolve", "outlook.office365.com:nope", "HOST:ADDRESS"),
        ("--timeout", "nan", "seconds from 1 to 600"),
        ("--timeout", "1e9", "seconds from 1 to 600"),
        ("--expected-network", "10.0.0.0/99", "network"),
    ],
)
def test_bad_option_values_name_the_option(
    recorder: Recorder, option: str, value: str, fragment: str
) -> None:
    args = check_args(recorder, "--user", "a@x.test", "--no-password", option, value)
    assert_refused(*run(args), recorder, f"argument {option}", fragment)


def test_a_ca_file_is_checked_before_connecting(recorder: Recorder, tmp_path: Path) -> None:
    not_pem = tmp_path / "ca.txt"
    not_pem.write_text("not a certificate\n")
    for path, fragment in [(tmp_path / "missing.pem", "No such file"), (not_pem, "no PEM")]:
        args = check_args(recorder, "--user", "a@x.test", "--no-password", "--ca-file", str(path))
        assert_refused(*run(args), recorder, "--ca-file", str(path), fragment)
    good = tmp_path / "ca.pem"
    trustme.CA().cert_pem.write_to_path(str(good))
    _, _, err = run(
        check_args(recorder, "--user", "a@x.test", "--no-password", "--ca-file", str(good))
    )
    assert "--ca-file" not in err  # accepted: the check ran (and found nothing listening)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (
            ["lab", "--latency-ms", "-1"],
            "argument --latency-ms: expected milliseconds from 0 to 10000, found '-1'",
        ),
        (
            ["check", "--user", "a@x.test", "--no-password", "--min-auth-interval", "inf"],
            "argument --min-auth-interval: expected seconds from 0 to 2592000, found 'inf'",
        ),
    ],
)
def test_a_range_is_said_in_the_option_s_unit_and_in_plain_digits(
    args: list[str], expected: str
) -> None:
    """Not "seconds" for --latency-ms, not "2.592e+06" for 30 days (field test)."""
    code, out, err = run(args)
    assert code == 3 and not out
    assert err.strip() == f"conntest: {expected}", err


@pytest.mark.parametrize("value", ["-5", "nan", "1e9", "0"])
def test_serve_timeouts_are_finite_and_in_range(tmp_path: Path, value: str) -> None:
    config = tmp_path / "serve.yaml"
    config.write_text("accounts:\n  - address: a@x.test\n")
    code, _, err = run(
        ["serve", "--listen", "127.0.0.1:0", "--config", str(config), "--timeout", value]
    )
    assert code == 3
    assert "argument --timeout" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_lab_accounts_that_do_not_exist_are_one_line(tmp_path: Path) -> None:
    code, _, err = run(["lab", "--accounts", str(tmp_path / "missing.yaml")])
    assert code == 3
    assert "Traceback" not in err
    assert str(tmp_path / "missing.yaml") in err
    assert len(err.strip().splitlines()) == 1


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("[" * 20000 + "]" * 20000, "levels of nesting"),
        ("defaults: {timeout: 30}\naccounts:\n  - {<<: {address: a@x.test}}\n", "merge key"),
        ("accounts:\n  - address: !!python/object/apply:os.system ['true']\n", "the tag"),
        ("accounts:\n  - ? [a, b]\n    : c\n", "used as a key"),
        ('accounts:\n  - address: "a@x.test\\r\\nX DELETE INBOX"\n', "line break"),
    ],
)
def test_a_hostile_batch_file_is_one_line(
    recorder: Recorder, tmp_path: Path, text: str, fragment: str
) -> None:
    path = tmp_path / "batch.yaml"
    path.write_text(text)
    args = ["check", "--batch", str(path), "--nameserver", f"127.0.0.1:{recorder.udp_port}"]
    assert_refused(*run(args), recorder, str(path), fragment)
    code, out, err = run([*args, "--format", "nagios"])
    assert code == 3 and out.startswith("CONNTEST UNKNOWN - ") and "Traceback" not in err
