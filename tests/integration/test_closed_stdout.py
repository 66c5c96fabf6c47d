"""A reader that goes away, or a stdout closed outright, ends no run with a traceback.

``conntest profiles list | head -1`` and ``| true`` close the pipe's reading
end; ``>&-`` starts conntest with no stdout at all.  Either way the output
nobody can read is dropped quietly, as Unix tools do on a closed pipe, and
the run finishes with its own exit code: the code a monitor or a
``set -o pipefail`` script reads is the verdict, not 1 (a traceback) nor 3
("internal error: BrokenPipeError").

Each case runs ``python -m conntest`` twice: once with stdout read, for the
run's own exit code, and once with stdout a pipe whose reading end was
closed before conntest started (so every write meets ``EPIPE``, whatever the
timing) or closed by the shell (``>&-``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from conntest.lab import LAB_PASSWORD

PW_VAR = "CONNTEST_PIPE_TEST_PW"


def env() -> dict[str, str]:
    return {**os.environ, PW_VAR: "not-the-password", "NO_COLOR": "1"}


def readable(argv: list[str]) -> subprocess.CompletedProcess[str]:
    """The run with stdout read to the end: its own exit code and output."""
    return subprocess.run(
        [sys.executable, "-m", "conntest", *argv],
        capture_output=True,
        text=True,
        env=env(),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )


def into_a_closed_pipe(argv: list[str], *, stderr_too: bool = False) -> tuple[int, str]:
    """The run with stdout (and stderr) a pipe nobody reads any more; exit code and stderr."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # before the child starts: its first write fails, every time
    try:
        done = subprocess.run(
            [sys.executable, "-m", "conntest", *argv],
            stdout=write_end,
            stderr=write_end if stderr_too else subprocess.PIPE,
            env=env(),
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
    finally:
        os.close(write_end)
    return done.returncode, (done.stderr or b"").decode()


def with_stdout_closed(argv: list[str]) -> tuple[int, str]:
    """The run started with no stdout at all (the shell's ``>&-``); exit code and stderr."""
    command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "conntest", *argv])
    done = subprocess.run(
        ["/bin/sh", "-c", f"exec {command} >&-"],
        capture_output=True,
        text=True,
        env=env(),
        stdin=subprocess.DEVNULL,
        timeout=120,
        check=False,
    )
    assert done.stdout == ""
    return done.returncode, done.stderr


def batch_file(tmp_path: Path) -> Path:
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "accounts:\n"
        + "".join(f"  - address: {n}@contoso.com\n    password_env: {PW_VAR}\n" for n in "abc")
    )
    return path


COMMANDS = {
    "profiles list": ["profiles", "list"],
    "explain": [
        "explain",
        "535 5.7.139 Authentication unsuccessful, basic authentication is disabled.",
    ],
    "schema batch": ["schema", "batch"],
    "completion bash": ["completion", "bash"],
    "--help": ["check", "--help"],
}


@pytest.mark.parametrize("name", COMMANDS)
def test_a_closed_pipe_or_stdout_ends_a_command_quietly_with_its_own_code(name: str) -> None:
    argv = COMMANDS[name]
    own = readable(argv)
    assert own.stdout and own.stderr == "", own.stderr  # it does write to stdout
    for code, err in (into_a_closed_pipe(argv), with_stdout_closed(argv)):
        assert err == "", err
        assert code == own.returncode


@pytest.mark.parametrize("fmt", ["jsonl", "nagios", "text"])
def test_a_batch_whose_reader_has_gone_exits_with_the_batch_s_verdict(
    tmp_path: Path, fmt: str
) -> None:
    """Three wrong passwords against the lab: CRITICAL (2), read or not."""
    argv = ["check", "--batch", str(batch_file(tmp_path)), "--lab", "wrong-password"]
    argv += ["--format", fmt, "--min-auth-interval", "0", "--concurrency", "3"]
    own = readable(argv)
    assert own.returncode == 2 and "wrong-credentials" in own.stdout, own.stdout + own.stderr
    piped_code, piped_err = into_a_closed_pipe(argv)
    closed_code, closed_err = with_stdout_closed(argv)
    assert (piped_code, piped_err) == (2, "")
    assert (closed_code, closed_err) == (2, "")


def test_a_single_check_with_stdout_closed_exits_with_its_verdict(tmp_path: Path) -> None:
    argv = ["check", "--lab", "ok", "--user", "a@contoso.com", "--password-env", PW_VAR]
    argv += ["--profile", "thunderbird", "--state-file", str(tmp_path / "s.json")]
    run_env = {PW_VAR: LAB_PASSWORD}  # the lab's password: OK (0), which a crash cannot give
    command = " ".join(f"'{a}'" for a in [sys.executable, "-m", "conntest", *argv])
    for fmt in ("text", "nagios"):
        done = subprocess.run(
            ["/bin/sh", "-c", f"exec {command} --format {fmt} >&-"],
            capture_output=True,
            text=True,
            env={**env(), **run_env},
            stdin=subprocess.DEVNULL,
            timeout=120,
            check=False,
        )
        assert (done.returncode, done.stderr) == (0, ""), (fmt, done.stderr)


def test_bad_input_with_stdout_and_stderr_both_closed_pipes_is_still_exit_3() -> None:
    """No one can read the one line; the exit code still says bad input, with no traceback."""
    code, _ = into_a_closed_pipe(
        ["check", "--user", "a@contoso.com", "--timeout", "nan"], stderr_too=True
    )
    assert code == 3
