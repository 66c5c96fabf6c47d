"""A ``--state-file`` that is not a regular file is refused; it is never renamed over.

The lockout state and the lab's info file are written by temporary file and
rename: over a device node, a FIFO or a socket that would put a regular file
in its place (as root, ``--state-file /dev/null`` replaced the machine's
``/dev/null``).  Each case runs ``python -m conntest`` against a TCP listener
and a UDP "DNS server" on loopback that record what reaches them: the run
must be refused in one line naming ``--state-file`` and what was expected,
exit 3, before anything is sent, and the node must still be what it was.
These tests never touch ``/dev/null``: the device is made under ``tmp_path``.
"""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

PASSWORD = "Qv7-state-file-pw"


class Recorder:
    """A TCP listener and a UDP socket on loopback that count what reaches them."""

    def __init__(self) -> None:
        self.tcp = socket.create_server(("127.0.0.1", 0))
        self.udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.udp.bind(("127.0.0.1", 0))
        self.tcp.settimeout(0.05)
        self.udp.settimeout(0.05)
        self.seen: list[str] = []
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._watch, daemon=True)
        self.thread.start()

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.tcp.getsockname()[1]}"

    @property
    def nameserver(self) -> str:
        return f"127.0.0.1:{self.udp.getsockname()[1]}"

    def _watch(self) -> None:
        while not self.stopped.is_set():
            try:
                self.tcp.accept()[0].close()
                self.seen.append("tcp")
            except OSError:
                pass
            try:
                self.udp.recvfrom(4096)
                self.seen.append("udp")
            except OSError:
                pass

    def close(self) -> None:
        self.stopped.set()
        self.thread.join(5)
        self.tcp.close()
        self.udp.close()


@pytest.fixture
def recorder() -> Iterator[Recorder]:
    rec = Recorder()
    yield rec
    rec.close()


def make_node(kind: str, where: Path) -> tuple[Path, Callable[[int], bool]]:
    """A node of ``kind`` at ``where`` and the test that it is still that kind."""
    if kind == "character device":
        try:
            os.mknod(where, 0o666 | stat.S_IFCHR, os.makedev(1, 3))  # what /dev/null is
        except PermissionError:
            pytest.skip("mknod is not permitted here")
        return where, stat.S_ISCHR
    if kind == "FIFO":
        os.mkfifo(where)
        return where, stat.S_ISFIFO
    if kind == "socket":
        listener = socket.socket(socket.AF_UNIX)
        listener.bind(str(where))
        listener.close()  # the node stays on disk
        return where, stat.S_ISSOCK
    where.mkdir()
    return where, stat.S_ISDIR


KINDS = ["character device", "FIFO", "socket", "directory"]


def conntest(argv: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "CONNTEST_TEST_PW": PASSWORD, "NO_COLOR": "1"}
    return subprocess.run(
        [sys.executable, "-m", "conntest", *argv],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        stdin=subprocess.DEVNULL,
        timeout=60,
        check=False,
    )


def check_argv(rec: Recorder, tmp_path: Path, command: str) -> list[str]:
    """A run that would authenticate (and so write the lockout state) were it let through."""
    if command == "serve":
        config = tmp_path / "serve.yaml"
        config.write_text(
            f"accounts:\n  - address: a@x.test\n    password_env: CONNTEST_TEST_PW\n"
            f"    imap: {rec.endpoint}\n    smtp: {rec.endpoint}\n"
            f"    nameserver: {rec.nameserver}\n"
        )
        return ["serve", "--config", str(config), "--listen", "127.0.0.1:0"]
    if command == "lab":
        return ["lab"]
    server = ["--imap", rec.endpoint, "--smtp", rec.endpoint, "--nameserver", rec.nameserver]
    if command == "batch":
        batch = tmp_path / "batch.yaml"
        batch.write_text("accounts:\n  - address: a@x.test\n    password_env: CONNTEST_TEST_PW\n")
        return ["check", "--batch", str(batch), *server, "--format", "jsonl", "--timeout", "5"]
    return [
        "check",
        "--user",
        "a@x.test",
        "--password-env",
        "CONNTEST_TEST_PW",
        *server,
        "--format",
        "nagios",
        "--timeout",
        "5",
    ]


def assert_refused(run: subprocess.CompletedProcess[str], rec: Recorder, *fragments: str) -> None:
    lines = run.stderr.strip().splitlines()
    assert run.returncode == 3, (run.returncode, run.stdout, run.stderr)
    assert "Traceback" not in run.stderr
    assert len(lines) == 1, lines
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert "starting afresh" not in run.stderr
    assert rec.seen == [], "something was sent"


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("command", ["check", "batch", "serve", "lab"])
def test_a_state_file_that_is_not_a_regular_file_is_refused_and_left_alone(
    recorder: Recorder, tmp_path: Path, kind: str, command: str
) -> None:
    node, still = make_node(kind, tmp_path / "state.json")
    run = conntest([*check_argv(recorder, tmp_path, command), "--state-file", str(node)], tmp_path)
    assert_refused(run, recorder, "--state-file", "expected a regular file", f"found a {kind}")
    assert still(os.lstat(node).st_mode), f"{node} was replaced"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith("state.json")) == [
        "state.json"
    ], "a lock or temporary file was left beside it"
    if command == "check":
        assert run.stdout.startswith("CONNTEST UNKNOWN - "), run.stdout


@pytest.mark.parametrize("command", ["check", "batch", "serve", "lab"])
def test_an_explicit_state_file_in_a_missing_directory_is_refused_not_created(
    recorder: Recorder, tmp_path: Path, command: str
) -> None:
    missing = tmp_path / "no-such-dir" / "deeper"
    argv = [*check_argv(recorder, tmp_path, command), "--state-file", str(missing / "s.json")]
    run = conntest(argv, tmp_path)
    assert_refused(run, recorder, "--state-file", "existing directory", f"{missing} does not exist")
    assert not (tmp_path / "no-such-dir").exists()


def test_a_default_state_file_that_is_a_fifo_is_refused(recorder: Recorder, tmp_path: Path) -> None:
    """The default path is checked the same way; the message says which file it is."""
    state_dir = tmp_path / "xdg-state" / "conntest"
    state_dir.mkdir(parents=True)
    os.mkfifo(state_dir / "auth-state.json")
    run = conntest(check_argv(recorder, tmp_path, "check"), tmp_path)
    assert_refused(run, recorder, "lockout state file", "found a FIFO")
    assert stat.S_ISFIFO(os.lstat(state_dir / "auth-state.json").st_mode)


def test_the_default_state_directory_is_still_created(recorder: Recorder, tmp_path: Path) -> None:
    """Only an explicit path must lie in an existing directory: the default one is made."""
    assert not (tmp_path / "xdg-state").exists()
    run = conntest(check_argv(recorder, tmp_path, "check"), tmp_path)
    assert "Traceback" not in run.stderr and "state" not in run.stderr, run.stderr
    assert run.stdout.startswith("CONNTEST "), run.stdout
    assert "tcp" in recorder.seen  # let through: the check reached the server
    assert (tmp_path / "xdg-state" / "conntest").is_dir()


def test_a_link_to_a_state_file_stays_a_link(tmp_path: Path) -> None:
    """The rename replaces the file the link points to, not the link (a refused sign-in
    against the lab is recorded, so the state is written)."""
    real = tmp_path / "real.json"
    link = tmp_path / "link.json"
    link.symlink_to(real)
    argv = ["check", "--lab", "wrong-password", "--user", "alice@contoso.com"]
    argv += ["--password-env", "CONNTEST_TEST_PW", "--profile", "thunderbird"]
    run = conntest([*argv, "--format", "nagios", "--state-file", str(link)], tmp_path)
    assert run.returncode == 2 and "wrong-credentials" in run.stdout, (run.stdout, run.stderr)
    assert link.is_symlink() and "wrong-credentials" in real.read_text()
