"""The sign-in fields as data: defaults, checks, and the plan ``check --oauth`` would build."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import pytest

from conntest.oauth.command import build_plan
from conntest.oauth.platform import REGISTER_LINE
from conntest.probes.dns_probe import ResolverConfig
from conntest.tui.demo_lab import NOT_IN_DEMO, scenario_choices
from conntest.tui.settings import (
    CLIENT_ID_REQUIRED,
    LabFields,
    OAuthChoice,
    RunSettings,
    build_request,
    oauth_field_defaults,
    parse_authority,
    parse_client_id,
    parse_tenant,
)
from conntest.tui.sign_in_panel import minutes
from tests.tui.conftest import builtin_profiles

USER = "adele.vance@contoso.com"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"


def test_defaults_come_from_one_function() -> None:
    defaults = oauth_field_defaults()
    assert defaults.client_id is None
    assert defaults.tenant == "organizations"
    assert defaults.authority is None


def test_the_refusal_is_the_cli_line_without_its_option_names() -> None:
    assert "--" not in CLIENT_ID_REQUIRED
    assert CLIENT_ID_REQUIRED.endswith(REGISTER_LINE.partition(": ")[2])
    assert "docs/oauth.md" in CLIENT_ID_REQUIRED


def test_tenant_and_authority_fields() -> None:
    assert parse_client_id(" ") is None
    assert parse_client_id(f" {CLIENT_ID} ") == CLIENT_ID
    with pytest.raises(ValueError, match=r"Client ID: expected .*GUID"):
        parse_client_id("my-app-secret")  # a pasted secret is refused, as by --client-id
    assert parse_tenant("") is None
    assert parse_tenant(" contoso.onmicrosoft.com ") == "contoso.onmicrosoft.com"
    for bad in ("a/b", "two words", "x?y"):
        with pytest.raises(ValueError, match="Tenant"):
            parse_tenant(bad)
    assert parse_authority("") is None
    assert parse_authority("https://login.example:8443") == "https://login.example:8443"
    with pytest.raises(ValueError, match="https://"):
        parse_authority("http://login.microsoftonline.com")


def test_the_plan_is_the_clis() -> None:
    """Same client id, tenant and authority: the same plan and login command as check --oauth."""
    profiles = {p.id: p for p in builtin_profiles()}
    choice = OAuthChoice(CLIENT_ID, tenant="contoso.com", device_code=True)
    settings = RunSettings(USER, "ignored-password", ("thunderbird",), oauth=choice)
    request = build_request(settings, profiles)
    args = argparse.Namespace(
        client_id=CLIENT_ID, tenant="contoso.com", authority=None, device_code=True, user=USER
    )
    cli_plan, cli_command = build_plan(args, ca_file=None, interactive=True)
    assert request.oauth is not None
    assert (request.oauth.authority, request.oauth.tenant) == (cli_plan.authority, cli_plan.tenant)
    assert request.login_command == cli_command
    assert f"--client-id {CLIENT_ID}" in request.login_command
    assert request.password is None  # nothing but the token is ever sent


def test_the_lab_supplies_authority_client_id_and_a_cache(tmp_path: Path) -> None:
    profiles = {p.id: p for p in builtin_profiles()}
    lab = LabFields(
        imap_server=("outlook.office365.com", 1143),
        smtp_server=("smtp.office365.com", 1587),
        resolver=ResolverConfig(nameserver=("127.0.0.1", 5353)),
        ca_file=tmp_path / "lab.pem",
        tls_max=None,
        expected_networks=("127.0.0.1/32",),
        authority="https://login.microsoftonline.com:4443",
        oauth_cache=tmp_path / "cache.json",
    )
    settings = RunSettings(USER, None, ("ios-mail",), scenario="oauth-ok", oauth=OAuthChoice(None))
    request = build_request(settings, profiles, lab)
    assert request.oauth is not None
    assert request.oauth.authority == "https://login.microsoftonline.com:4443"
    assert "--authority https://login.microsoftonline.com:4443" in request.login_command


def test_demo_lists_the_oauth_scenarios() -> None:
    choices = {c.name: c for c in scenario_choices()}
    assert choices["oauth-ok"].oauth and choices["oauth-device-code-blocked"].oauth
    assert not choices["ok"].oauth
    assert not NOT_IN_DEMO & set(choices)


def test_code_lifetime_in_words() -> None:
    assert minutes(900) == "15 minutes"
    assert minutes(60) == "1 minute"


def test_the_tui_imports_msal_only_when_signing_in() -> None:
    """Opening the TUI and building an OAuth request loads neither MSAL nor the sign-in."""
    code = (
        "import sys\n"
        "from conntest.tui.app import ConntestApp\n"
        "from conntest.tui.settings import OAuthChoice, RunSettings, build_request\n"
        "from conntest.profiles import load_profiles\n"
        "profiles = {p.id: p for p in load_profiles()}\n"
        f"s = RunSettings('{USER}', None, ('thunderbird',), oauth=OAuthChoice('{CLIENT_ID}'))\n"
        "assert build_request(s, profiles).oauth is not None\n"
        "print('MSAL', 'msal' in sys.modules, 'conntest.oauth.signin' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert "MSAL False False" in out.stdout, out.stderr


def test_the_fields_start_from_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """config.yaml's oauth section prefills the sign-in fields, as it fills check --oauth's."""
    config = tmp_path / "config.yaml"
    config.write_text(f"oauth:\n  client_id: {CLIENT_ID}\n  tenant: contoso.com\n")
    monkeypatch.setenv("CONNTEST_CONFIG", str(config))
    defaults = oauth_field_defaults()
    assert (defaults.client_id, defaults.tenant, defaults.authority) == (
        CLIENT_ID,
        "contoso.com",
        None,
    )


async def test_the_setup_screen_shows_the_settings_files_client_id(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"oauth:\n  client_id: {CLIENT_ID}\n")
    monkeypatch.setenv("CONNTEST_CONFIG", str(config))
    from textual.widgets import Input

    from conntest.tui.app import ConntestApp

    app = ConntestApp(builtin_profiles(), oauth_defaults=oauth_field_defaults())
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#client-id", Input).value == CLIENT_ID
        assert app.screen.query_one("#tenant", Input).value == "organizations"


def test_a_broken_settings_file_stops_the_tui_before_its_screen(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One line naming the file, line and field (the CLI's funnel), not a screen that dies."""
    from conntest.errors import FileProblems
    from conntest.tui.app import run_tui

    config = tmp_path / "config.yaml"
    config.write_text("oauth:\n  client_id: my-app-secret\n")
    monkeypatch.setenv("CONNTEST_CONFIG", str(config))
    with pytest.raises(FileProblems) as raised:
        run_tui(argparse.Namespace(command="tui", demo=False, user=None, profile=[]))
    text = str(raised.value)
    assert str(config) in text and "oauth.client_id" in text and "line 2" in text
