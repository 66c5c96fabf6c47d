"""OAuth for monitoring: sign in once, then batch and ``serve`` run headless on the token cache.

Real MSAL against the lab's identity platform, real conntest processes as a
user runs them: ``conntest oauth login`` (device code, the client id and the
authority from ``config.yaml``), then ``check --batch FILE --oauth`` and a
``serve`` ``/probe`` that sign in silently from the saved refresh token, and
an account nobody signed in for that is UNKNOWN with the exact
``conntest oauth login …`` command, in the Nagios status line, JSON and
Prometheus.  Nothing prompts: the lab's log shows no device code and no
authorize request after the login.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import sys
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from conntest.lab import Lab

ALICE = "alice@contoso.com"
BOB = "bob@contoso.com"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"


@dataclass
class Setup:
    lab: Lab
    env: dict[str, str]
    authority: str
    batch: Path
    config: Path


async def run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conntest", *args, env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


@pytest.fixture
async def setup(tmp_path: Path) -> AsyncIterator[Setup]:
    async with lab_setup(tmp_path, "oauth-ok") as found:
        yield found


@contextlib.asynccontextmanager
async def lab_setup(tmp_path: Path, scenario: str) -> AsyncIterator[Setup]:
    env = {k: v for k, v in os.environ.items() if k not in {"BROWSER", "CONNTEST_CONFIG"}}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    env["XDG_CONFIG_HOME"] = str(tmp_path / "config")
    async with Lab(default_scenario=scenario, identity_user=ALICE) as lab:
        ends = lab.endpoints(scenario)
        assert ends.identity is not None
        # An IP authority: the lab's certificate names 127.0.0.1, and no DNS is asked.
        authority = f"https://127.0.0.1:{ends.identity[1]}"
        config = tmp_path / "config" / "conntest" / "config.yaml"
        config.parent.mkdir(parents=True)
        config.write_text(
            yaml.safe_dump({"oauth": {"client_id": CLIENT_ID, "authority": authority}})
        )
        batch = tmp_path / "batch.yaml"
        batch.write_text(
            yaml.safe_dump(
                {
                    "defaults": {
                        "profile": "thunderbird",
                        "imap": f"{ends.imap[0]}:{ends.imap[1]}",
                        "smtp": f"{ends.smtp[0]}:{ends.smtp[1]}",
                        "nameserver": f"{ends.nameserver[0]}:{ends.nameserver[1]}",
                        "ca_file": str(lab.ca_file),
                        "expected_networks": ["127.0.0.1/32"],
                        "timeout": 30,
                    },
                    "accounts": [{"address": ALICE}, {"address": BOB}],
                }
            )
        )
        yield Setup(lab, env, authority, batch, config)


async def login(s: Setup) -> Path:
    """``conntest oauth login`` once, the client id and authority from config.yaml."""
    code, out, err = await run(
        "oauth", "login", "--user", ALICE, "--device-code", "--ca-file", str(s.lab.ca_file),
        env=s.env,
    )  # fmt: skip
    assert code == 0, err
    assert f"signed in as {ALICE}" in out
    [cache] = list(Path(s.env["XDG_STATE_HOME"], "conntest").glob("oauth-*.json"))
    assert cache.stat().st_mode & 0o777 == 0o600
    assert s.lab.identity is not None
    s.lab.identity.clear()
    s.lab.record.clear()
    return cache


def bob_login(s: Setup) -> str:
    return f"conntest oauth login --user {BOB} --client-id {CLIENT_ID} --authority {s.authority}"


def no_prompt(s: Setup) -> None:
    assert s.lab.identity is not None
    endpoints = {e.endpoint for e in s.lab.identity.log()}
    assert "devicecode" not in endpoints and "authorize" not in endpoints, endpoints


async def test_a_batch_runs_headless_on_the_saved_sign_in(setup: Setup) -> None:
    s = setup
    await login(s)
    code, out, err = await run(
        "check", "--batch", str(s.batch), "--oauth", "--format", "nagios", env=s.env
    )
    lines = out.splitlines()
    assert lines[0].startswith("CONNTEST UNKNOWN - 1 of 2 accounts failing"), out
    assert code == 3, err
    [alice] = [line for line in lines if f" {ALICE}:" in line]
    [bob] = [line for line in lines if f" {BOB}:" in line]
    assert alice.startswith(f"OK {ALICE}: ok"), alice
    assert bob.startswith(f"UNKNOWN {BOB}: oauth-reauth-required"), bob
    assert f"run: {bob_login(s)}" in bob
    no_prompt(s)
    # One XOAUTH2 per protocol (alice only), each inside verified TLS.
    for protocol in ("imap", "smtp"):
        assert s.lab.record.auth_attempts(protocol) == 1
    assert s.lab.record.credentials_received(in_clear=True) == 0
    tokens = list(s.lab.grants._access)
    assert tokens
    for token in tokens:
        assert token not in out and token not in err

    code, out, err = await run(
        "check", "--batch", str(s.batch), "--oauth", "--format", "json",
        "--min-auth-interval", "0", env=s.env,
    )  # fmt: skip
    doc = json.loads(out)
    by_account = {a["account"]: a for a in doc["accounts"]}
    assert by_account[ALICE]["code"] == "ok" and by_account[ALICE]["authentication"] == "sent"
    bob_doc = by_account[BOB]
    assert bob_doc["verdict"] == "unknown" and bob_doc["code"] == "oauth-reauth-required"
    [primary] = bob_doc["report"]["profiles"][0]["findings"][:1]
    assert bob_login(s) in primary["remedy"]

    code, out, err = await run(
        "check", "--batch", str(s.batch), "--oauth", "--format", "prometheus",
        "--min-auth-interval", "0", env=s.env,
    )  # fmt: skip
    assert f'account="{BOB}"' in out and "oauth-reauth-required" in out, out
    no_prompt(s)


async def test_an_account_says_auth_oauth_without_the_option(setup: Setup, tmp_path: Path) -> None:
    """``auth: oauth`` in the file itself; the other account keeps connectivity only."""
    s = setup
    await login(s)
    doc = yaml.safe_load(s.batch.read_text())
    doc["accounts"] = [{"address": ALICE, "auth": "oauth"}, {"address": BOB}]
    s.batch.write_text(yaml.safe_dump(doc))
    code, out, err = await run("check", "--batch", str(s.batch), "--format", "jsonl", env=s.env)
    lines = {d["account"]: d for d in map(json.loads, out.splitlines())}
    assert lines[ALICE]["code"] == "ok" and lines[ALICE]["authentication"] == "sent", err
    assert lines[BOB]["authentication"] == "none"
    assert code == 0, out
    no_prompt(s)


def _fetch(url: str) -> str:
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(url, timeout=60) as response:
        return str(response.read().decode())


async def test_serve_probes_headless_on_the_saved_sign_in(setup: Setup) -> None:
    s = setup
    await login(s)
    doc = yaml.safe_load(s.batch.read_text())
    doc["defaults"]["auth"] = "oauth"
    s.batch.write_text(yaml.safe_dump(doc))
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "conntest", "serve", "--config", str(s.batch),
        "--listen", "127.0.0.1:0", env=s.env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    assert proc.stderr is not None
    log: list[str] = []
    try:
        while True:
            line = (await asyncio.wait_for(proc.stderr.readline(), 60)).decode()
            assert line, log
            log.append(line)
            if "listening on" in line:
                break
        base = line.split("listening on ", 1)[1].split()[0]
        alice = await asyncio.to_thread(_fetch, f"{base}/probe?account={ALICE}")
        bob = await asyncio.to_thread(_fetch, f"{base}/probe?account={BOB}")
        for _ in range(2):
            log.append((await asyncio.wait_for(proc.stderr.readline(), 60)).decode())
    finally:
        proc.terminate()
        await proc.wait()
    assert "probe_success 1" in alice, alice
    assert "probe_success 0" in bob and "oauth-reauth-required" in bob
    assert f"# conntest: {BOB}: run: {bob_login(s)}" in bob
    [bob_line] = [line for line in log if f"account={BOB}" in line]
    assert "code=oauth-reauth-required" in bob_line and bob_login(s) in bob_line
    no_prompt(s)
    for token in s.lab.grants._access:
        assert token not in alice and token not in "".join(log)


async def test_a_rejected_token_is_not_sent_again_within_the_interval(tmp_path: Path) -> None:
    """A token is a credential: once refused, the next run holds it back (no retry)."""
    async with lab_setup(tmp_path, "oauth-wrong-resource") as s:
        await login(s)
        doc = yaml.safe_load(s.batch.read_text())
        doc["accounts"] = [{"address": ALICE}]
        s.batch.write_text(yaml.safe_dump(doc))
        args = ("check", "--batch", str(s.batch), "--oauth", "--format", "json")
        code, out, err = await run(*args, env=s.env)
        [first] = json.loads(out)["accounts"]
        assert first["code"] == "oauth-token-rejected", err
        assert code == 2
        assert first["authentication"] == "sent"
        for protocol in ("imap", "smtp"):
            assert s.lab.record.auth_attempts(protocol) <= 1
        assert s.lab.record.auth_attempts("imap") + s.lab.record.auth_attempts("smtp") >= 1
        assert s.lab.identity is not None
        s.lab.record.clear()
        s.lab.identity.clear()
        _code, out, err = await run(*args, env=s.env)
        [second] = json.loads(out)["accounts"]
        assert second["authentication"] == "skipped", second
        assert second["code"] == "auth-skipped" and "failed" in second["skip_reason"], second
        for protocol in ("imap", "smtp"):
            assert s.lab.record.auth_attempts(protocol) == 0
        # Not even a silent sign-in: nothing was asked of the identity platform.
        assert [e.endpoint for e in s.lab.identity.log() if e.endpoint == "token"] == []


async def test_a_single_monitoring_check_is_headless_too(setup: Setup) -> None:
    """``check --oauth --user X --format nagios``: the saved sign-in, or UNKNOWN + the command."""
    s = setup
    await login(s)
    doc = yaml.safe_load(s.batch.read_text())["defaults"]
    common = ["--oauth", "--profile", "thunderbird", "--format", "nagios", "--imap", doc["imap"]]
    common += ["--smtp", doc["smtp"], "--nameserver", doc["nameserver"]]
    common += ["--ca-file", doc["ca_file"], "--expected-network", "127.0.0.1/32"]
    code, out, err = await run("check", "--user", ALICE, *common, env=s.env)
    assert out.startswith(f"CONNTEST OK - {ALICE}: ok"), out + err
    assert code == 0
    code, out, err = await run("check", "--user", BOB, *common, env=s.env)
    status = out.splitlines()[0]
    assert status.startswith(f"CONNTEST UNKNOWN - {BOB}: oauth-reauth-required"), out + err
    assert f"run: {bob_login(s)}" in status
    assert code == 3
    no_prompt(s)


def test_a_password_batch_never_imports_msal(tmp_path: Path) -> None:
    """Without OAuth accounts, a batch (the monitoring path) leaves MSAL unloaded."""
    batch = tmp_path / "b.yaml"
    batch.write_text("accounts:\n  - address: a@contoso.com\n")
    code = (
        "import sys; from conntest.cli import main; "
        f"rc = main(['check', '--lab', 'ok', '--batch', {str(batch)!r}, '--timeout', '5', "
        "'--format', 'nagios', '--state-file', " + repr(str(tmp_path / "s.json")) + "]); "
        "print('MSAL', 'msal' in sys.modules, 'conntest.oauth.signin' in sys.modules)"
    )
    import subprocess

    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False
    )
    assert "MSAL False False" in out.stdout, out.stdout + out.stderr
