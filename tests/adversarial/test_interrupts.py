"""Ctrl-C at any moment of a run: one line on stderr, exit 3, Nagios's UNKNOWN line, no noise.

The installed ``conntest`` runs as a user's own process would, against a
``conntest lab`` of its own (another process, its answers delayed so that a
run is always in the middle of something: DNS answers, TLS handshakes), and
gets a real SIGINT.  Whatever it was doing then (importing, parsing options,
waiting for DNS, probing 30 accounts at once), the user sees
``conntest: interrupted`` and nothing else, exit code 3 (UNKNOWN: nothing
was decided), and under ``--format nagios`` the ``CONNTEST UNKNOWN`` status
line on stdout; never a traceback or asyncio's "Task exception was never
retrieved".
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.adversarial.conftest import CONNTEST

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="sends POSIX signals")

LINE = "conntest: interrupted\n"
NAGIOS = "CONNTEST UNKNOWN - interrupted before the check finished\n"
LAB_PASSWORD = "correcthorsebatt"


@pytest.fixture(scope="module")
def slow_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """``conntest lab --latency-ms 300`` in a process of its own; its state file."""
    tmp = tmp_path_factory.mktemp("lab")
    state = tmp / "lab.json"
    proc = subprocess.Popen(
        [str(CONNTEST), "lab", "--state-file", str(state), "--latency-ms", "300"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        stdin=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 60
        while not state.exists():
            assert proc.poll() is None, "conntest lab exited"
            assert time.monotonic() < deadline, "conntest lab never wrote its state file"
            time.sleep(0.05)
        yield json.loads(state.read_text())
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def lab_args(lab: dict[str, Any], scenario: str) -> list[str]:
    return [*lab["scenarios"][scenario]["check_args"], "--ca-file", lab["ca_file"]]


def interrupted(runs: list[tuple[list[str], float]], tmp: Path) -> list[tuple[int, str, str]]:
    """Run ``conntest ARGS`` for each run at once, each sent SIGINT ``after`` seconds in.

    Side by side rather than one after another: the waits overlap, and the
    lab serves them all as it would serve concurrent clients.  A run's
    seconds count from when conntest's own code is in (``-X importtime``
    reports ``conntest.console``): on a loaded machine Python's own start-up
    can take longer than the first ``after``, and a signal then is Python's
    (its site module's traceback), not a moment of the run this test means.
    Each run's exit code, stdout and stderr (without the import times), in order.
    """
    env = {**os.environ, "XDG_STATE_HOME": str(tmp / "state"), "NO_COLOR": "1"}
    procs = [
        subprocess.Popen(
            [sys.executable, "-X", "importtime", str(CONNTEST), *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            stdin=subprocess.DEVNULL,
            env=env,
            text=True,
        )
        for args, _after in runs
    ]
    errs: list[list[str]] = [[] for _ in procs]

    def watch(proc: subprocess.Popen[str], after: float, err: list[str]) -> None:
        assert proc.stderr is not None
        for line in proc.stderr:
            if not line.startswith("import time:"):
                err.append(line)
            elif line.rpartition("|")[2].strip() == "conntest.console":
                threading.Timer(after, proc.send_signal, (signal.SIGINT,)).start()

    watchers = [
        threading.Thread(target=watch, args=(proc, after, err))
        for proc, (_args, after), err in zip(procs, runs, errs, strict=True)
    ]
    for watcher in watchers:
        watcher.start()
    results = []
    for proc, watcher, err in zip(procs, watchers, errs, strict=True):
        assert proc.stdout is not None
        with proc:  # closes its pipes
            out = proc.stdout.read()
            proc.wait(timeout=60)
            watcher.join(timeout=60)
        results.append((proc.returncode, out, "".join(err)))
    return results


@pytest.fixture
def batch_of_30(tmp_path: Path) -> Path:
    password = tmp_path / "password"
    password.write_text(LAB_PASSWORD + "\n")
    password.chmod(0o600)
    entries = [
        {"address": f"user{i}@contoso.com", "password_file": str(password)} for i in range(30)
    ]
    path = tmp_path / "batch.yaml"
    path.write_text(json.dumps({"accounts": entries}))  # JSON is YAML
    return path


@pytest.mark.parametrize("fmt", ["text", "nagios"])
def test_ctrl_c_in_the_middle_of_a_batch_is_one_line(
    fmt: str, slow_lab: dict[str, Any], batch_of_30: Path, tmp_path: Path
) -> None:
    # Spread over the run: DNS in flight, TLS handshakes, sign-ins of 30 accounts.
    afters = (0.8, 1.1, 1.4, 1.7, 2.0)
    runs = [
        (
            [
                "check",
                "--batch",
                str(batch_of_30),
                *lab_args(slow_lab, "ok"),
                "--state-file",
                str(tmp_path / f"lockout-{after}.json"),
                "--min-auth-interval",
                "0",
                "--format",
                fmt,
            ],
            after,
        )
        for after in afters
    ]
    for after, (code, out, err) in zip(afters, interrupted(runs, tmp_path), strict=True):
        assert (code, err) == (3, LINE), (after, code, err)
        assert out == (NAGIOS if fmt == "nagios" else ""), (after, out)


def test_ctrl_c_while_conntest_starts_is_one_line_too(
    slow_lab: dict[str, Any], tmp_path: Path
) -> None:
    """While Python still imports conntest's modules: no traceback of the imports.

    ``-X importtime`` reports each module as its import ends, so the signal is
    sent once ``conntest.errors`` (one of the command line's first imports) is
    in, while the rest of the command line's modules are still being read.
    """
    env = {**os.environ, "XDG_STATE_HOME": str(tmp_path / "state"), "NO_COLOR": "1"}
    args = ["check", "--user", "alice@contoso.com", "--no-password", "--format", "nagios"]
    with subprocess.Popen(
        [sys.executable, "-X", "importtime", str(CONNTEST), *args, *lab_args(slow_lab, "ok")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        env=env,
        text=True,
    ) as proc:
        assert proc.stderr is not None
        for line in proc.stderr:
            if line.rpartition("|")[2].strip() == "conntest.errors":
                proc.send_signal(signal.SIGINT)
                break
        out, rest = proc.communicate(timeout=60)
    err = "".join(line for line in rest.splitlines(True) if not line.startswith("import time:"))
    assert (proc.returncode, out, err) == (3, NAGIOS, LINE)


def test_ctrl_c_against_a_silent_server_in_every_format(
    slow_lab: dict[str, Any], tmp_path: Path
) -> None:
    formats = ("text", "json", "jsonl", "nagios", "prometheus", "junit")
    runs = [
        (
            [
                "check",
                "--user",
                "alice@contoso.com",
                "--no-password",
                *lab_args(slow_lab, "silent-server"),
                "--format",
                fmt,
                "--timeout",
                "30",
            ],
            2.5,
        )
        for fmt in formats
    ]
    for fmt, (code, out, err) in zip(formats, interrupted(runs, tmp_path), strict=True):
        assert (code, err) == (3, LINE), (fmt, code, err)
        assert out == (NAGIOS if fmt == "nagios" else ""), (fmt, out)


def test_the_early_nagios_line_is_the_one_the_cli_prints() -> None:
    """conntest.console prints it before the CLI (and its renderer) could be imported."""
    from conntest.interrupts import NAGIOS_INTERRUPTED
    from conntest.render.nagios import render_unknown

    assert render_unknown("interrupted before the check finished") == NAGIOS_INTERRUPTED == NAGIOS
