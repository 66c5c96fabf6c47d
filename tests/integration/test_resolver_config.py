"""When the system's resolver configuration cannot be read, the failure names ``--nameserver``.

On Windows dnspython reads the registry; on Linux ``/etc/resolv.conf``.  Here
a private mount namespace (``unshare -m``, root) lays an empty file over
``/etc/resolv.conf`` for one real ``conntest check``: dnspython then finds no
server, as it does on a Windows machine whose configuration it cannot read.
The check runs only if the mount succeeded, so nothing asks a real resolver.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _can_unshare() -> bool:
    if sys.platform != "linux" or shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-m", "true"], capture_output=True, check=False)
    return probe.returncode == 0


@pytest.mark.skipif(not _can_unshare(), reason="needs unshare -m (root on Linux)")
def test_an_unreadable_resolver_configuration_names_the_way_out(tmp_path: Path) -> None:
    empty = tmp_path / "resolv.conf"
    empty.write_text("")
    check = [
        sys.executable, "-m", "conntest", "check", "--user", "a@contoso.com", "--no-password",
        "--profile", "thunderbird", "--format", "json",
    ]  # fmt: skip
    script = 'mount --bind "$0" /etc/resolv.conf && exec "$@"'
    done = subprocess.run(
        ["unshare", "-m", "sh", "-c", script, str(empty), *check],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr
    report = json.loads(done.stdout)
    [finding] = [f for f in report["profiles"][0]["findings"] if f["code"] == "dns-failure"]
    assert "--nameserver" in finding["evidence"]
    assert "cannot be read" in finding["evidence"]


def test_a_nameserver_where_nothing_answers_dns_is_named_at_once(tmp_path: Path) -> None:
    """``--nameserver`` on a UDP port nobody listens on: the ICMP refusal is the answer."""
    import socket

    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: nothing listens there now
    argv = [
        sys.executable, "-m", "conntest", "check", "--user", "a@example.test",
        "--no-password", "--profile", "thunderbird", "--format", "json",
        "--imap", "mail.example.test:993", "--smtp", "mail.example.test:587",
        "--nameserver", f"127.0.0.1:{port}", "--timeout", "20",
        "--state-file", str(tmp_path / "state.json"),
    ]  # fmt: skip
    done = subprocess.run(
        argv,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert done.returncode == 2, done.stderr
    first = json.loads(done.stdout)["profiles"][0]["findings"][0]
    assert first["code"] == "dns-failure", first
    assert "refused the question" in first["detail"], first["detail"]
    assert f"--nameserver (127.0.0.1:{port})" in first["detail"]
