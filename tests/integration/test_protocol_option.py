"""``check --protocol imap|smtp``: a device that only sends, or monitoring one path."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from conntest.cli import main
from conntest.lab import LAB_PASSWORD


@pytest.mark.parametrize(("protocol", "other"), [("smtp", "imap"), ("imap", "smtp")])
def test_one_protocol_checks_only_that_protocol(
    protocol: str, other: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("CONNTEST_TEST_PASSWORD", LAB_PASSWORD)
    code = main(
        [
            "check",
            "--lab",
            "ok",
            "--protocol",
            protocol,
            "--user",
            "alice@contoso.com",
            "--password-env",
            "CONNTEST_TEST_PASSWORD",
            "--profile",
            "thunderbird",
            "--format",
            "json",
        ]
    )
    out, err = capsys.readouterr()
    doc = json.loads(out)
    assert code == 0, (out, err)
    steps = doc["profiles"][0]["steps"]
    protocols = {s["protocol"] for s in steps}
    assert protocol in protocols and other not in protocols
    names = {(s["protocol"], s["name"]) for s in steps if s["status"] == "pass"}
    assert (protocol, "login" if protocol == "imap" else "auth") in names
    # Only the checked protocol's server was looked up.
    resolved = {s["data"]["host"] for s in steps if s["name"] == "resolve"}
    assert len(resolved) == 1


def test_an_smtp_only_check_never_loads_imapclient() -> None:
    code = (
        "import os, sys\n"
        "from conntest.cli import main\n"
        f"os.environ['CONNTEST_TEST_PASSWORD'] = {LAB_PASSWORD!r}\n"
        "rc = main(['check', '--lab', 'ok', '--protocol', 'smtp', '--user', 'a@contoso.com',"
        " '--password-env', 'CONNTEST_TEST_PASSWORD', '--profile', 'thunderbird'])\n"
        "print('exit', rc, 'imapclient' in sys.modules, 'aiosmtplib' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "exit 0 False True", out.stdout
