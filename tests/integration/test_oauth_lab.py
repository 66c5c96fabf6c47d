"""Both sign-in flows through real MSAL against the lab, for every OAuth scenario.

Each test runs the engine in-process with a lab, so that it can read what the
lab's servers received: the token only after verified TLS, at most one
authentication per protocol.  The browser flow uses the stand-in browser of
``oauth_browser.py`` through webbrowser and the ``BROWSER`` variable.
"""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import webbrowser
from collections.abc import Awaitable, Callable
from pathlib import Path

import pytest

from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.lab.runner import LabEndpoints
from conntest.lab.scenarios import OAUTH_SCENARIOS
from conntest.model import Report, Severity, Status
from conntest.oauth.result import OAuthPlan, SignInResult
from conntest.oauth.signin import SignInConfig, sign_in
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles
from conntest.render.json_report import render_json

USER = "alice@contoso.com"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"
BROWSER_SCRIPT = Path(__file__).with_name("oauth_browser.py")

SKIP = Status.SKIP

# scenario → (primary code with the browser, primary code with a device code)
EXPECTED: dict[str, tuple[str, str]] = {
    "oauth-ok": ("ok", "ok"),
    "oauth-consent-required": ("oauth-consent-required", "oauth-consent-required"),
    "oauth-admin-approval": ("oauth-consent-required", "oauth-consent-required"),
    "oauth-device-code-blocked": ("ok", "conditional-access-blocked"),
    "oauth-public-client-off": ("ok", "oauth-app-misconfigured"),
    "oauth-app-not-found": ("oauth-app-misconfigured", "oauth-app-misconfigured"),
    "oauth-mfa-registration": ("mfa-required", "mfa-required"),
    "oauth-wrong-resource": ("oauth-token-rejected", "oauth-token-rejected"),
    "oauth-smtp-auth-disabled": ("smtp-auth-disabled", "smtp-auth-disabled"),
    "oauth-imap-disabled": ("imap-disabled", "imap-disabled"),
    "oauth-reauth-required": ("oauth-reauth-required", "oauth-reauth-required"),
}


# scenario → (a phrase of the remedy or the administrator's action: browser, device code)
REMEDY: dict[str, tuple[str, str]] = {
    "oauth-ok": ("Nothing to fix", "Nothing to fix"),
    "oauth-consent-required": ("accept the consent prompt",) * 2,
    "oauth-admin-approval": ("Ask an administrator to grant consent",) * 2,
    "oauth-device-code-blocked": ("Nothing to fix", "Use browser sign-in"),
    "oauth-public-client-off": ("Nothing to fix", "Allow public client flows: Yes"),
    "oauth-app-not-found": ("use the Application (client) ID of a registration",) * 2,
    "oauth-mfa-registration": ("register security info first",) * 2,
    "oauth-wrong-resource": ("Request the Outlook scopes",) * 2,
    "oauth-smtp-auth-disabled": ("allow SMTP AUTH for your mailbox",) * 2,
    "oauth-imap-disabled": ("wait about 30 minutes",) * 2,
    "oauth-reauth-required": (f"conntest oauth login --user {USER}",) * 2,
}
SIGN_IN_FAILS = frozenset(
    {"oauth-consent-required", "oauth-admin-approval", "oauth-app-not-found"}
    | {"oauth-mfa-registration", "oauth-reauth-required"}
)
"""Scenarios whose sign-in fails with either flow (no token reaches IMAP or SMTP)."""


def test_every_oauth_scenario_has_expectations() -> None:
    assert set(EXPECTED) == set(OAUTH_SCENARIOS) == set(REMEDY)


def _open_with_browser_variable(url: str) -> bool:
    return webbrowser.get(os.environ["BROWSER"]).open(url)


def lab_token_source(
    lab: Lab,
    ends: LabEndpoints,
    user: str,
    cache: Path,
    *,
    device: bool,
    interactive: bool = True,
    open_browser: Callable[[str], bool] | None = _open_with_browser_variable,
) -> Callable[[str], Awaitable[SignInResult]]:
    """What the engine calls for a token: real MSAL against the lab's identity platform."""

    async def token_source(address: str) -> SignInResult:
        config = SignInConfig(
            client_id=CLIENT_ID,
            authority=ends.authority_host,
            tenant="organizations",
            user=user,
            address=address,
            cache_file=cache,
            ca_file=lab.ca_file,
            interactive=interactive,
            device_code=device,
            timeout=20.0,
            show=lambda _text: None,
            open_browser=open_browser,
        )
        return await asyncio.to_thread(sign_in, config)

    return token_source


async def _check(
    lab: Lab, scenario: str, cache: Path, *, device: bool, interactive: bool = True
) -> Report:
    ends = lab.endpoints(scenario)
    token_source = lab_token_source(lab, ends, USER, cache, device=device, interactive=interactive)
    request = CheckRequest(
        user=USER,
        password=None,
        profiles=[load_profiles().get("thunderbird")],
        imap_server=ends.imap,
        smtp_server=ends.smtp,
        resolver=ResolverConfig(nameserver=ends.nameserver),
        ca_file=lab.ca_file,
        expected_networks=ends.expected_networks,
        timeout=30.0,
        oauth=OAuthPlan(ends.authority_host, "organizations", token_source),
        login_command=f"conntest oauth login --user {USER} --client-id {CLIENT_ID}",
    )
    return await run_check(request)


@pytest.fixture
def browser(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("BROWSER", f"{sys.executable} {BROWSER_SCRIPT} %s")
    monkeypatch.setenv("CONNTEST_TEST_ADDRESS", "127.0.0.1")
    monkeypatch.setenv("PYTHONPATH", str(Path(__file__).parents[2]))


@pytest.mark.parametrize("flow", ["browser", "device-code"])
@pytest.mark.parametrize("scenario", list(EXPECTED))
async def test_oauth_scenario(
    scenario: str, flow: str, tmp_path: Path, browser: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    device = flow == "device-code"
    cache = tmp_path / "cache.json"
    async with Lab(default_scenario=scenario, identity_user=USER) as lab:
        monkeypatch.setenv("CONNTEST_TEST_CA", str(lab.ca_file))
        if scenario == "oauth-reauth-required":
            first = await _check(lab, scenario, cache, device=device)
            assert first.profiles[0].findings[0].code == "ok"
            lab.record.clear()
            report = await _check(lab, scenario, cache, device=device, interactive=False)
        else:
            report = await _check(lab, scenario, cache, device=device)
        record = lab.record
        tokens = list(lab.grants._access)
    [result] = report.profiles
    primary = result.findings[0]
    assert primary.code == EXPECTED[scenario][1 if device else 0], result.findings
    assert primary.evidence
    advice = f"{primary.remedy} {primary.admin_action or ''}"
    assert REMEDY[scenario][1 if device else 0] in advice, advice
    if primary.code != "ok":
        assert primary.severity >= Severity.CRITICAL
    signin = next(s for s in result.steps if s.protocol == "oauth")
    assert signin.data["flow"] == ("cache" if scenario == "oauth-reauth-required" else flow)
    # The lab's record: one XOAUTH2 token per server when the sign-in succeeded, else none.
    signed_in = scenario not in SIGN_IN_FAILS and EXPECTED[scenario][1 if device else 0] not in (
        "conditional-access-blocked",
        "oauth-app-misconfigured",
    )
    if not signed_in:  # the skipped sign-in steps say why: the sign-in, not a missing password
        skipped = [s for s in result.steps if s.name in ("login", "auth") and s.status is SKIP]
        assert skipped, result.steps
        for step in skipped:
            assert "sign-in gave no token" in step.data["reason"], step
            assert "password" not in step.data["reason"], step
    for protocol in ("imap", "smtp"):
        assert record.auth_attempts(protocol) == int(signed_in), protocol
        assert record.credentials_received(protocol=protocol) == int(signed_in), protocol
        mechanisms = {a.mechanism for c in record.connections(protocol=protocol) for a in c.auth}
        assert mechanisms == ({"XOAUTH2"} if signed_in else set()), protocol
    # The token went out only inside TLS, and appears nowhere in the report.
    assert record.credentials_received(in_clear=True) == 0
    for conn in record.connections():
        if conn.auth:
            assert conn.tls_version is not None
    rendered = render_json(report)
    for token in tokens:
        assert token not in rendered and token[:24] not in rendered
    if cache.exists():
        assert cache.stat().st_mode & 0o777 == 0o600


async def test_headless_without_saved_sign_in_never_prompts(tmp_path: Path) -> None:
    async with Lab(default_scenario="oauth-ok", identity_user=USER) as lab:
        report = await _check(lab, "oauth-ok", tmp_path / "c.json", device=True, interactive=False)
        assert lab.identity is not None
        endpoints = {e.endpoint for e in lab.identity.log()}
    primary = report.profiles[0].findings[0]
    assert primary.code == "oauth-reauth-required"
    assert primary.severity is Severity.UNKNOWN
    assert f"conntest oauth login --user {USER} --client-id {CLIENT_ID}" in primary.remedy
    assert endpoints == {"discovery"}  # no device code, no browser: nothing asked of the user


def test_cli_lab_device_code_and_exit_code(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "BROWSER"}
    env["XDG_STATE_HOME"] = str(tmp_path)
    args = ["check", "--lab", "oauth-device-code-blocked", "--oauth", "--device-code"]
    args += ["--user", USER, "--profile", "thunderbird", "--format", "json", "--timeout", "20"]
    out = subprocess.run(
        [sys.executable, "-m", "conntest", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    doc = json.loads(out.stdout)
    primary = doc["profiles"][0]["findings"][0]
    assert primary["code"] == "conditional-access-blocked"
    assert "device-code" in primary["remedy"]
    assert out.returncode == 2
    assert "enter the code" in out.stderr


def test_oauth_without_client_id_says_how_to_register() -> None:
    out = subprocess.run(
        [sys.executable, "-m", "conntest", "check", "--oauth", "--user", USER],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert out.returncode == 3
    lines = out.stderr.strip().splitlines()
    assert len(lines) == 1 and "register" in lines[0] and "--client-id" in lines[0]


def test_a_password_check_never_imports_msal() -> None:
    code = (
        "import sys; from conntest.cli import main; "
        "rc = main(['check', '--lab', 'ok', '--user', 'a@contoso.com', '--no-password', "
        "'--timeout', '5', '--format', 'json']); "
        "print('MSAL', 'msal' in sys.modules, 'conntest.oauth.signin' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "MSAL False False" in out.stdout, out.stderr


async def _run(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conntest",
        *args,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    return proc.returncode or 0, out.decode(), err.decode()


async def test_login_once_then_headless_checks_on_the_saved_sign_in(tmp_path: Path) -> None:
    """`conntest oauth login` (device code), `status`, then `check --oauth` with no terminal."""
    env = {k: v for k, v in os.environ.items() if k != "BROWSER"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    async with Lab(default_scenario="oauth-ok", identity_user=USER) as lab:
        ends = lab.endpoints("oauth-ok")
        # An IP authority: the lab's certificate names 127.0.0.1, and no DNS is asked.
        authority = f"https://127.0.0.1:{ends.identity[1] if ends.identity else 0}"
        common = ["--client-id", CLIENT_ID, "--authority", authority]
        code, out, err = await _run(
            "oauth", "login", "--user", USER, "--device-code", "--ca-file", str(lab.ca_file),
            *common, env=env,
        )  # fmt: skip
        assert code == 0, err
        assert "enter the code" in err and f"signed in as {USER}" in out
        [cache] = list((tmp_path / "state" / "conntest").glob("oauth-*.json"))
        assert cache.stat().st_mode & 0o777 == 0o600
        code, out, _ = await _run("oauth", "status", *common, env=env)
        assert f"signed in: {USER}" in out
        assert lab.identity is not None
        lab.identity.clear()
        code, out, err = await _run(
            "check", "--oauth", "--user", USER, "--profile", "thunderbird", "--format", "json",
            "--imap", f"{ends.imap[0]}:{ends.imap[1]}", "--smtp", f"{ends.smtp[0]}:{ends.smtp[1]}",
            "--nameserver", f"{ends.nameserver[0]}:{ends.nameserver[1]}",
            "--ca-file", str(lab.ca_file), "--expected-network", "127.0.0.1/32", *common, env=env,
        )  # fmt: skip
        grants = list(lab.grants._access)
        endpoints = [e.endpoint for e in lab.identity.log()]
    doc = json.loads(out)
    assert doc["profiles"][0]["findings"][0]["code"] == "ok", err
    assert "devicecode" not in endpoints and "authorize" not in endpoints  # no prompt
    assert code == 0
    for token in grants:  # MSAL's own cache holds it by design; nothing conntest prints does
        assert token not in out and token not in err
    code, out, _ = await _run("oauth", "logout", *common, env=env)
    assert code == 0 and "removed" in out and not cache.exists()


@pytest.mark.parametrize("how", ["nameserver", "resolve"])
async def test_login_finds_the_identity_platform_by_name_as_check_does(
    how: str, tmp_path: Path
) -> None:
    """`oauth login` asks --nameserver for the authority's name, or takes a --resolve pin."""
    env = {k: v for k, v in os.environ.items() if k != "BROWSER"}
    env["XDG_STATE_HOME"] = str(tmp_path / "state")
    async with Lab(default_scenario="oauth-ok", identity_user=USER) as lab:
        ends = lab.endpoints("oauth-ok")
        port = ends.identity[1] if ends.identity else 0
        where = (
            ["--nameserver", f"{ends.nameserver[0]}:{ends.nameserver[1]}"]
            if how == "nameserver"  # the lab's DNS answers for login.microsoftonline.com
            else ["--resolve", "login.microsoftonline.com:127.0.0.1", "--nameserver", "127.0.0.1:9"]
        )
        code, out, err = await _run(
            "oauth", "login", "--user", USER, "--device-code", "--ca-file", str(lab.ca_file),
            "--client-id", CLIENT_ID, "--authority", f"https://login.microsoftonline.com:{port}",
            *where, env=env,
        )  # fmt: skip
    assert code == 0, err
    assert f"signed in as {USER}" in out


async def test_login_refuses_a_bad_ca_file_before_anything_is_sent(tmp_path: Path) -> None:
    code, out, err = await _run(
        "oauth", "login", "--user", USER, "--client-id", CLIENT_ID, "--ca-file",
        str(tmp_path / "missing.pem"), "--authority", "https://127.0.0.1:9",
        env={**os.environ, "XDG_STATE_HOME": str(tmp_path)},
    )  # fmt: skip
    assert code == 3, err
    assert out == ""
    assert err.count("\n") == 1 and "--ca-file" in err and "Traceback" not in err
    assert "cannot be reached" not in err
