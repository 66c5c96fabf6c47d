"""Real batches on a shared or damaged state file: no account authenticated twice, nothing fatal.

Both are real ``conntest check --batch`` processes (so the lock between them
is the operating system's, through :mod:`conntest.file_lock`: ``flock``, or
its ``msvcrt.locking`` branch in the Windows stand-in, ``.ci/standin``)
against one lab whose accounts all refuse the password: whichever run gets to an account
first authenticates it once, and the other finds either its live claim or
its recorded failure.  A state file holding non-finite numbers costs one
line on stderr, not the run.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from conntest.lab import Lab
from tests.conftest import SECRET

PASSWORD_VAR = "CONNTEST_CONCURRENT_TEST_PASSWORD"
ACCOUNTS = [f"user{i:02d}@contoso.com" for i in range(60)]
STANDIN = Path(__file__).parents[2] / ".ci" / "standin"


class _NoAliases(yaml.SafeDumper):
    """Write shared values out: conntest's loader refuses YAML aliases."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def _dump(data: dict[str, Any]) -> str:
    return yaml.dump(data, Dumper=_NoAliases)


def batch_yaml(lab: Lab, accounts: list[str]) -> dict[str, Any]:
    ends = lab.endpoints("wrong-password")
    pins = [f"{ends.imap[0]}:127.0.0.1", f"{ends.smtp[0]}:127.0.0.1"]
    entries = [
        {
            "address": address,
            "profile": "thunderbird",
            "password_env": PASSWORD_VAR,
            "imap": f"{ends.imap[0]}:{ends.imap[1]}",
            "smtp": f"{ends.smtp[0]}:{ends.smtp[1]}",
            "resolve": list(pins),
            "nameserver": f"{ends.nameserver[0]}:{ends.nameserver[1]}",
            "expected_networks": list(ends.expected_networks),  # a list each: no YAML aliases
            "timeout": 20,
        }
        for address in accounts
    ]
    return {"defaults": {"ca_file": str(lab.ca_file)}, "accounts": entries}


async def run_batch(batch: Path, state: Path, env: dict[str, str] | None = None) -> dict[str, Any]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conntest",
        "check",
        "--batch",
        str(batch),
        "--state-file",
        str(state),
        "--concurrency",
        "20",
        "--format",
        "json",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, PASSWORD_VAR: SECRET, "CI": "1", **(env or {})},
    )
    out, err = await asyncio.wait_for(process.communicate(), 110)
    assert process.returncode == 2, err.decode()
    assert not err.strip(), err.decode()
    result: dict[str, Any] = json.loads(out)
    return result


@pytest.mark.parametrize(
    "system",
    [
        "native",  # flock here; msvcrt.locking on Windows itself
        pytest.param(
            "windows-standin",
            marks=pytest.mark.skipif(sys.platform == "win32", reason="a stand-in on Linux"),
        ),
    ],
)
async def test_two_concurrent_batches_never_authenticate_an_account_twice(
    tmp_path: Path, system: str
) -> None:
    state = tmp_path / "auth-state.json"
    env: dict[str, str] = {}
    accounts = ACCOUNTS
    if system == "windows-standin":
        # sys.platform is win32 there: the state file is locked with msvcrt.locking.
        env = {
            "PYTHONPATH": str(STANDIN),
            "APPDATA": str(tmp_path / "Roaming"),
            "LOCALAPPDATA": str(tmp_path / "Local"),
        }
        accounts = ACCOUNTS[:30]  # still two batches of 20 at once meeting in the middle
    async with Lab(accounts=dict.fromkeys(accounts, "wrong-password")) as lab:
        forward, backward = tmp_path / "forward.yaml", tmp_path / "backward.yaml"
        forward.write_text(_dump(batch_yaml(lab, accounts)))
        # The second batch walks the accounts the other way, so the two meet in the middle.
        backward.write_text(_dump(batch_yaml(lab, accounts[::-1])))
        first, second = await asyncio.gather(
            run_batch(forward, state, env), run_batch(backward, state, env)
        )
        for account in accounts:
            for protocol in ("imap", "smtp"):
                assert lab.record.auth_attempts(protocol, account) == 1, (account, protocol)
    sent: dict[str, int] = dict.fromkeys(accounts, 0)
    for batch in (first, second):
        for result in batch["accounts"]:
            assert result["authentication"] in {"sent", "skipped"}
            sent[result["account"]] += result["authentication"] == "sent"
            if result["authentication"] == "skipped":
                assert result["code"] == "auth-skipped"
    assert set(sent.values()) == {1}, "each account authenticated by exactly one of the runs"
    failures = json.loads(state.read_text())["accounts"]
    assert set(failures) == set(accounts)
    # Every refusal remembered, every claim released.
    assert all("failed_at" in r and "claimed_by" not in r for r in failures.values())


async def test_a_state_file_holding_infinity_is_one_line_on_stderr_not_an_error(
    tmp_path: Path,
) -> None:
    """issue 8 item 7: ``Infinity`` in the state file aborted the batch with an internal error."""
    state = tmp_path / "auth-state.json"
    state.write_text(
        '{"schema": 1, "accounts": {"user00@contoso.com": {"failed_at": Infinity}, '
        '"user01@contoso.com": {"failed_at": NaN, "code": "wrong-credentials"}}}'
    )
    async with Lab(accounts=dict.fromkeys(ACCOUNTS[:2], "wrong-password")) as lab:
        batch = tmp_path / "b.yaml"
        batch.write_text(yaml.safe_dump(batch_yaml(lab, ACCOUNTS[:2])))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "conntest",
            "check",
            "--batch",
            str(batch),
            "--state-file",
            str(state),
            "--format",
            "json",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, PASSWORD_VAR: SECRET, "CI": "1"},
        )
        out, err = await asyncio.wait_for(process.communicate(), 110)
        for account in ACCOUNTS[:2]:
            assert lab.record.auth_attempts("imap", account) == 1
    assert process.returncode == 2
    [line] = err.decode().splitlines()
    assert str(state) in line and "not a finite number" in line and "(and 1 more)" in line
    assert all(r["authentication"] == "sent" for r in json.loads(out)["accounts"])
