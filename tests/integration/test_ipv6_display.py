"""An IPv6 address next to a port is shown in brackets: ``[::1]:993``, never ``::1:993``.

``::1:993`` reads as the address ``::1:993`` (no port), or port 1 of ``::``;
only the bracketed form says which is the port, and it is also the form
conntest's own options take back.  ``conntest serve`` on the IPv6 loopback
shows its address both ways a user meets it: the line that says where it
listens, and the one that says the address is taken.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from conntest.inputs.values import format_host_port, parse_host_port


def _ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


pytestmark = pytest.mark.skipif(not _ipv6_loopback(), reason="no IPv6 loopback here")


def serve_config(tmp_path: Path) -> Path:
    config = tmp_path / "serve.yaml"
    config.write_text(
        "accounts:\n  - address: a@x.test\n    password_env: CONNTEST_V6_PW\n"
        "    imap: '[::1]:1'\n    smtp: '[::1]:1'\n    nameserver: 127.0.0.1:1\n"
    )
    return config


def serve(tmp_path: Path, listen: str) -> subprocess.Popen[str]:
    argv = ["serve", "--config", str(serve_config(tmp_path)), "--listen", listen]
    return subprocess.Popen(
        [sys.executable, "-m", "conntest", *argv, "--state-file", str(tmp_path / "state.json")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        stdin=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "CONNTEST_V6_PW": "unused"},
    )


def test_a_taken_ipv6_listen_address_is_named_in_brackets(tmp_path: Path) -> None:
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as taken:
        port = taken.getsockname()[1]
        proc = serve(tmp_path, f"[::1]:{port}")
        out, err = proc.communicate(timeout=60)
    assert proc.returncode == 3, err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in err, lines
    assert lines[0].startswith(f"conntest: --listen [::1]:{port}: "), lines[0]
    assert out == ""


def test_the_listening_line_brackets_the_ipv6_address(tmp_path: Path) -> None:
    proc = serve(tmp_path, "[::1]:0")
    try:
        assert proc.stderr is not None
        line = proc.stderr.readline()
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.communicate(timeout=60)
    assert line.startswith("conntest serve: listening on http://[::1]:"), line
    shown = line.split("http://", 1)[1].split()[0]
    host, port = parse_host_port(shown)  # the shown form reads back as the option takes it
    assert (host, format_host_port(host, port)) == ("::1", shown)
