"""The adversarial tier's memory figure is the command's own, whatever pytest holds."""

from __future__ import annotations

import socket
from pathlib import Path

from tests.adversarial.conftest import CliRun, run_cli


def test_peak_memory_is_the_childs_not_pytests(tmp_path: Path) -> None:
    """A bound of 150 MiB on ``conntest`` must not fail because pytest itself grew.

    Spawned straight from pytest, a child's ``ru_maxrss`` starts at pytest's own
    peak (Linux records the spawning process's memory at ``exec``), so after a
    few hundred tests in one process (or an xdist worker) a lean ``conntest``
    measured 152 MiB.  Here pytest holds 300 MiB while a check of a closed port,
    which needs a few tens, runs.
    """
    ballast = bytearray(300 * 1024 * 1024)
    for page in range(0, len(ballast), 4096):
        ballast[page] = 1
    with socket.socket() as closed:  # bound, never listening: connections are refused
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        address = f"127.0.0.1:{port}"
        args = ["--imap", address, "--smtp", address, "--nameserver", address]
        run: CliRun = run_cli([*args, "--timeout", "3", "--format", "json"], "unused", tmp_path)
    del ballast
    assert "port-closed" in run.stdout, run.output
    assert 1 < run.peak_mib < 100, run.peak_mib
