"""An IPv6 address next to a port is shown in brackets: ``[::1]:993``, never ``::1:993``.

``::1:993`` reads as the address ``::1:993`` (no port), or port 1 of ``::``;
only the bracketed form says which is the port, and it is also the form
conntest's own options take back.  ``conntest serve`` on the IPv6 loopback
shows its address both ways a user meets it: the line that says where it
listens, and the one that says the address is taken.  ``conntest check``
against a server of the user's own on ``::1`` (``--imap [::1]:PORT``, a private
CA) names it so in the text, JSON and Nagios reports: the summary of a run
that worked, and the findings and evidence of one that met closed ports.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import subprocess
import sys
from pathlib import Path

import pytest
import trustme

from conntest.cli import main
from conntest.inputs.values import parse_host_port
from conntest.printable import host_port
from tests.integration.test_own_server import PASSWORD, USER, OwnServer


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
    assert (host, host_port(host, port)) == ("::1", shown)


def _check(capsys: pytest.CaptureFixture[str], *args: str) -> dict[str, tuple[int, str]]:
    """``conntest check ARGS`` in each report format: ``{format: (exit code, stdout)}``."""
    shown = {}
    for fmt in ("text", "json", "nagios"):
        code = main(["check", "--user", USER, "--profile", "thunderbird", "--format", fmt, *args])
        out, err = capsys.readouterr()
        assert out and "Traceback" not in err, err
        shown[fmt] = (code, out)
    return shown


def _bracketed_only(text: str, port: int) -> bool:
    """``[::1]:PORT`` is in ``text``, and ``::1:PORT`` nowhere outside the brackets."""
    return f"[::1]:{port}" in text and f"::1:{port}" not in text.replace(f"[::1]:{port}", "")


def test_a_server_of_ones_own_on_ipv6_is_named_in_brackets(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    ca = trustme.CA(organization_name="Acme Test CA")
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("::1").configure_cert(server_tls)  # the address is the name TLS verifies
    ca_file = tmp_path / "acme-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    monkeypatch.setenv("CONNTEST_V6_PW", PASSWORD)
    with OwnServer(server_tls, accept=True, bind="::1") as own:
        imap, smtp = own.ports["imaps"], own.ports["submission"]
        shown = _check(
            capsys,
            "--password-env", "CONNTEST_V6_PW",
            "--imap", f"[::1]:{imap}", "--smtp", f"[::1]:{smtp}",
            "--ca-file", str(ca_file), "--nameserver", f"[::1]:{own.ports['dns']}",
        )  # fmt: skip
    # three runs (one per format), each signing in to IMAP and SMTP, always over TLS
    assert own.seen.credentials_over_tls == 6 and own.seen.credentials_in_clear == 0
    assert {code for code, _ in shown.values()} == {0}
    [ok] = [f for f in json.loads(shown["json"][1])["profiles"][0]["findings"] if f["code"] == "ok"]
    assert f"IMAP [::1]:{imap} (connected, TLSv1" in ok["detail"], ok["detail"]
    assert f"SMTP [::1]:{smtp} (connected" in ok["detail"], ok["detail"]
    text = " ".join(shown["text"][1].split())  # the text report wraps lines
    assert f"IMAP [::1]:{imap} (" in text and _bracketed_only(text, smtp), text
    assert shown["nagios"][1].startswith(f"CONNTEST OK - {USER}: ok ("), shown["nagios"][1]


def _closed_port() -> int:
    with socket.create_server(("::1", 0), family=socket.AF_INET6) as listener:
        return int(listener.getsockname()[1])  # closed again when the test connects


def test_closed_ports_on_ipv6_are_named_in_brackets_in_every_report(
    capsys: pytest.CaptureFixture[str],
) -> None:
    imap, smtp = _closed_port(), _closed_port()
    shown = _check(
        capsys,
        "--no-password",
        "--imap", f"[::1]:{imap}", "--smtp", f"[::1]:{smtp}",
        "--nameserver", f"[::1]:{_closed_port()}", "--timeout", "5",
    )  # fmt: skip
    assert {code for code, _ in shown.values()} == {2}
    findings = json.loads(shown["json"][1])["profiles"][0]["findings"]
    closed = {f["protocol"]: f for f in findings if f["code"] == "port-closed"}
    for protocol, port in (("imap", imap), ("smtp", smtp)):
        finding = closed[protocol]
        assert finding["title"] == f"::1 refused the connection on port {port}", finding
        assert finding["detail"].startswith(f"The connection to [::1]:{port} was refused.")
        assert finding["evidence"] == f"{protocol} connect: [::1]:{port}: connection refused"
    text = " ".join(shown["text"][1].split())
    assert _bracketed_only(text, imap) and _bracketed_only(text, smtp), text
    assert f"Evidence: imap connect: [::1]:{imap}: connection refused" in text
    # Nagios names a finding by its title: the port is said in words, never joined bare
    status = shown["nagios"][1].splitlines()[0]
    assert f"port-closed (::1 refused the connection on port {imap})" in status, status
    assert f"::1:{imap}" not in shown["nagios"][1] and f"::1:{smtp}" not in shown["nagios"][1]
