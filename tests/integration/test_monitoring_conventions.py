"""Monitoring Plugins conventions against the lab: certificate days, a batch-wide deadline."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from conntest.results.cert_days import CertDays


def check(*args: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "conntest",
            "check",
            "--state-file",
            str(tmp_path / "s.json"),
            *list(args),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def test_cert_days_like_check_smtp_d(tmp_path: Path) -> None:
    """The lab's certificates last about a year: 30,14 is OK, 3650,400 critical, 3650 a warning."""
    base = ("--lab", "ok", "--user", "a@contoso.com", "--no-password", "--format", "nagios")
    base += ("--profile", "thunderbird")
    fine = check(*base, "--cert-days", "30,14", tmp_path=tmp_path)
    assert fine.returncode == 0, fine.stdout + fine.stderr
    assert "certificate-expiring" not in fine.stdout
    critical = check(*base, "--cert-days", "3650,400", tmp_path=tmp_path)
    assert critical.returncode == 2, critical.stdout + critical.stderr
    assert critical.stdout.startswith("CONNTEST CRITICAL - a@contoso.com: certificate-expiring")
    assert "certificate expires in" in critical.stdout and "critical at 400 days" in critical.stdout
    warning = check(*base, "--cert-days", "3650", tmp_path=tmp_path)
    assert warning.returncode == 1
    assert "warning at 3650 days" in warning.stdout


def test_a_single_check_s_json_and_text_agree_with_its_threshold_exit_code(
    tmp_path: Path,
) -> None:
    """--cert-days and -w make the exit code worse than the report: the verdicts say so, and why.

    The lab's certificate has about a year left, so 3650,3000 is critical; ``-w @0:``
    (inside 0 to infinity) is crossed by any check, whatever it took.
    """
    import json

    base = ("--lab", "ok", "--user", "a@contoso.com", "--no-password", "--profile", "thunderbird")
    done = check(
        *base, "--cert-days", "3650,3000", "-w", "@0:", "--format", "json", tmp_path=tmp_path
    )
    assert done.returncode == 2, done.stdout + done.stderr
    doc = json.loads(done.stdout)
    assert (doc["verdict"], doc["exit_code"]) == ("critical", 2)
    assert doc["profiles"][0]["verdict"] == "ok"  # the report alone: the connection works
    by_option = {t["option"]: t for t in doc["thresholds"]}
    assert by_option["--cert-days"]["code"] == "certificate-expiring"
    assert by_option["--cert-days"]["severity"] == "critical"
    assert "critical at 3000 days" in by_option["--cert-days"]["title"]
    assert (by_option["--warning"]["code"], by_option["--warning"]["severity"]) == (
        "check-slow",
        "warning",
    )

    text = check(*base, "--cert-days", "3650,3000", tmp_path=tmp_path)
    assert text.returncode == 2
    first = text.stdout.splitlines()[0]
    # The IMAP server's name, as the TLS step verified it (d04c607 named it).
    assert first.startswith(
        "CRITICAL (--cert-days): the IMAP outlook.office365.com certificate expires in"
    ), first


@pytest.mark.parametrize("spec", ["10,20", "x", "30,14,7", "-1", "nan", ""])
def test_cert_days_bad_values(spec: str) -> None:
    with pytest.raises(ValueError, match=r"expected WARN|days must|CRIT must"):
        CertDays.parse(spec)


def test_cert_days_bad_value_is_a_usage_error(tmp_path: Path) -> None:
    done = check("--user", "a@contoso.com", "--cert-days", "10,20", tmp_path=tmp_path)
    assert done.returncode == 3
    assert "--cert-days" in done.stderr and "Traceback" not in done.stderr


async def test_deadline_bounds_the_whole_batch(tmp_path: Path) -> None:
    """Three silent servers of 20 s each, one at a time, and --deadline 3 (under the 5 s grace).

    The first account is checked, not skipped (a deadline of 1 to 6 s once
    checked nothing), the last one is UNKNOWN (batch-deadline), and the batch
    ends by its deadline on its own clock (plus a second, as the engine's tests).
    """
    import asyncio
    import json
    import os

    import yaml

    from conntest.lab import LAB_PASSWORD, Lab
    from tests.integration.test_batch import PASSWORD_VAR, batch_yaml

    deadline = 3.0
    accounts = {f"user{i}@contoso.com": "silent-server" for i in range(3)}
    async with Lab(accounts=accounts) as lab:
        content = batch_yaml(lab, accounts)
        for entry in content["accounts"]:
            entry["timeout"] = 20
        batch = tmp_path / "batch.yaml"
        batch.write_text(yaml.safe_dump(content))
        process = await asyncio.create_subprocess_exec(
            *(sys.executable, "-m", "conntest", "check", "--batch", str(batch)),
            *("--format", "json", "--concurrency", "1", "--deadline", f"{deadline:g}"),
            *("--state-file", str(tmp_path / "s.json")),
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, PASSWORD_VAR: LAB_PASSWORD},
        )
        out, err = await process.communicate()
    assert process.returncode == 3, out.decode() + err.decode()
    doc = json.loads(out)
    codes = {a["account"]: a["code"] for a in doc["accounts"]}
    assert codes["user0@contoso.com"] == "server-silent", codes  # checked, within the deadline
    assert codes["user2@contoso.com"] == "batch-deadline", codes
    assert "(--deadline 3 s)" in doc["accounts"][2]["title"]
    assert doc["elapsed_ms"] < (deadline + 1) * 1000, doc["elapsed_ms"]


def test_a_short_deadline_leaves_each_account_time_and_a_grace_that_fit() -> None:
    """timeout + grace (when a check is cancelled at the latest) never passes the time left."""
    from conntest.batch.runner import GRACE, MIN_ACCOUNT_TIMEOUT, _budget

    for left in (1.0, 2.5, 6.0, 7.0, 12.0, 25.0, 86400.0):
        timeout, grace = _budget(left)
        assert timeout + grace <= left, left
        assert timeout >= MIN_ACCOUNT_TIMEOUT, left  # any --deadline starts the first account
    assert _budget(60.0) == (55.0, GRACE)  # a long deadline keeps the full grace
    assert _budget(0.4)[0] < MIN_ACCOUNT_TIMEOUT  # almost none left: not started
