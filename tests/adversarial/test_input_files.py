"""Files as editors on Windows write them, and files that are wrong, through the installed conntest.

A password file saved by Notepad as "UTF-8 with BOM" (and CRLF) holds the
password the user typed: the byte order mark is the file's, and sending it
would be a wrong password (one more failed sign-in toward lockout).  A UTF-16
file (Windows PowerShell 5's ``"pw" > file``) is refused in one line that
says how to fix it.  A profile file that cannot be loaded is reported once,
in one line.  The lab's state file must be writable.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.adversarial.conftest import CONNTEST

LAB_PASSWORD = "correcthorsebatt"


def conntest(args: list[str], tmp: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"), "NO_COLOR": "1"}
    return subprocess.run(
        [str(CONNTEST), *args],
        capture_output=True,
        check=False,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=120,
    )


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("utf-8 with BOM", b"\xef\xbb\xbf" + LAB_PASSWORD.encode() + b"\r\n"),
        ("utf-8 with BOM, no line break", b"\xef\xbb\xbf" + LAB_PASSWORD.encode()),
    ],
)
def test_a_password_file_with_a_byte_order_mark_signs_in(
    name: str, content: bytes, tmp_path: Path
) -> None:
    path = tmp_path / "password.txt"
    path.write_bytes(content)
    path.chmod(0o600)
    run = conntest(
        [
            "check",
            "--lab",
            "ok",
            "--user",
            "alice@contoso.com",
            "--password-file",
            str(path),
            "--profile",
            "thunderbird",
            "--format",
            "json",
        ],
        tmp_path,
    )
    # 0, or 1 inside the warning window before Microsoft's December 2026 change.
    assert run.returncode in {0, 1}, (name, run.stdout[-2000:], run.stderr)
    assert "password-whitespace" not in run.stdout, name
    assert '"basic_auth_in_use": {\n        "imap": true' in run.stdout, name


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be-bom"])
def test_a_utf16_password_file_is_one_line_saying_so(encoding: str, tmp_path: Path) -> None:
    path = tmp_path / "password.txt"
    text = LAB_PASSWORD + "\r\n"
    path.write_bytes(
        text.encode("utf-16") if encoding == "utf-16" else b"\xfe\xff" + text.encode("utf-16-be")
    )
    run = conntest(
        ["check", "--lab", "ok", "--user", "a@contoso.com", "--password-file", str(path)], tmp_path
    )
    assert run.returncode == 3
    assert run.stderr.count("\n") == 1 and str(path) in run.stderr, run.stderr
    assert "UTF-16" in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


@pytest.mark.parametrize("kind", ["directory", "malformed"])
def test_a_bad_profile_file_is_reported_once(kind: str, tmp_path: Path) -> None:
    path = tmp_path / "profile.yaml"
    if kind == "directory":
        path.mkdir()
    else:
        path.write_text("id: [unclosed\n")
    run = conntest(
        [
            "check",
            "--lab",
            "ok",
            "--user",
            "a@contoso.com",
            "--no-password",
            "--profile-file",
            str(path),
        ],
        tmp_path,
    )
    assert run.returncode == 3
    assert run.stderr.count("\n") == 1, run.stderr
    assert str(path) in run.stderr and "Traceback" not in run.stderr
    assert run.stdout == ""


def unusable_state_path(kind: str, tmp_path: Path) -> Path:
    """A directory where the state file should be, or a path under a regular file."""
    if kind == "directory":
        (tmp_path / "state").mkdir()
        return tmp_path / "state"
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    return blocker / "state.json"  # a file where a directory should be


@pytest.mark.parametrize("kind", ["directory", "unwritable"])
def test_lab_with_a_state_file_it_cannot_write_is_one_line(kind: str, tmp_path: Path) -> None:
    target = unusable_state_path(kind, tmp_path)
    run = conntest(["lab", "--state-file", str(target)], tmp_path)
    assert run.returncode == 3, run.stderr
    assert run.stderr.count("\n") == 1 and "--state-file" in run.stderr, run.stderr
    assert "Traceback" not in run.stderr


@pytest.mark.parametrize("kind", ["directory", "under a file"])
@pytest.mark.parametrize("fmt", ["nagios", "json"])
def test_a_monitoring_state_file_that_cannot_be_one_is_refused(
    kind: str, fmt: str, tmp_path: Path
) -> None:
    """The lockout state file is an option mistake (exit 3, naming it), not a skipped sign-in."""
    target = unusable_state_path(kind, tmp_path)
    run = conntest(["check", "--lab", "ok", "--format", fmt, "--state-file", str(target)], tmp_path)
    assert run.returncode == 3, run.stderr
    assert "--state-file" in run.stderr and "Traceback" not in run.stderr
    if fmt == "nagios":
        assert run.stdout.startswith("CONNTEST UNKNOWN - "), run.stdout
    assert not (target.is_dir() and any(target.iterdir()))  # nothing written there
