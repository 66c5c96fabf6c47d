"""Pilot tests: sign in with Microsoft from the setup screen, against the lab, with real MSAL.

The demo's lab plays the user: a device code is approved after one
``authorization_pending`` poll, and the browser flow is finished by the lab's
own in-process user agent (``conntest.oauth.lab_agent``), which follows the
authorize page to the loopback redirect: the system browser (here a recorder
in place of ``webbrowser.open``) is never opened.
"""

from __future__ import annotations

import base64
import contextlib
import json
import re
import webbrowser
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from textual.app import App
from textual.containers import VerticalScroll
from textual.message import Message
from textual.widgets import Collapsible, Input, RadioButton, Static, TabbedContent

from conntest.model import Report
from conntest.redact import bearer_forms
from conntest.tui import app as app_module
from conntest.tui.demo_lab import open_lab
from conntest.tui.runner import CheckRunner
from conntest.tui.settings import CLIENT_ID_REQUIRED, LabFields
from conntest.tui.setup_screen import SetupScreen
from conntest.tui.sign_in_panel import SignInPanel
from tests.tui.conftest import Messages, make_app, screen_text, wait_for_verdict, wait_until
from tests.tui.fixtures import ScriptedCheck, single_client_report

CLIENT_ID = "11111111-2222-4333-8444-555555555555"


class ObservedLab:
    """The demo's own lab opener, noting what it yielded and the tokens MSAL cached."""

    def __init__(self) -> None:
        self.fields: list[LabFields] = []
        self.tokens: list[str] = []

    @contextlib.asynccontextmanager
    async def __call__(self, scenario: str, user: str) -> AsyncIterator[LabFields]:
        async with open_lab(scenario, user) as fields:
            self.fields.append(fields)
            try:
                yield fields
            finally:
                cache = fields.oauth_cache
                if cache is not None and cache.exists():
                    doc = json.loads(cache.read_text())
                    self.tokens += [t["secret"] for t in doc.get("AccessToken", {}).values()]


@pytest.fixture
def system_browser(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The URLs the system browser was asked to open (a browser "can open" here)."""
    opened: list[str] = []

    def record(url: str, *_args: object, **_kwargs: object) -> bool:
        opened.append(url)
        return True

    monkeypatch.setenv("BROWSER", "unused")
    monkeypatch.setattr(webbrowser, "open", record)
    return opened


async def choose(pilot: Any, radio_set: str, button: str) -> None:
    """Pick a radio button by keyboard: focus its set, move to it, press Enter."""
    app = pilot.app
    radios = app.screen.query_one(f"#{radio_set}")
    radios.focus()
    await pilot.pause()
    buttons = list(radios.query(RadioButton))
    target = next(i for i, b in enumerate(buttons) if b.id == button)
    for _ in range(len(buttons)):
        if radios._selected == target:  # type: ignore[attr-defined]
            break
        await pilot.press("right")
    await pilot.press("enter")
    await pilot.pause()
    assert app.screen.query_one(f"#{button}", RadioButton).value


def primary_code(report: Report) -> str:
    return report.profiles[0].findings[0].code


@pytest.mark.parametrize(
    ("scenario", "flow", "primary"),
    [
        ("oauth-ok", "browser", "ok"),
        ("oauth-consent-required", "browser", "oauth-consent-required"),
        ("oauth-device-code-blocked", "device-code", "conditional-access-blocked"),
        ("oauth-device-code-blocked", "browser", "ok"),
    ],
)
async def test_demo_oauth_scenario(
    scenario: str,
    flow: str,
    primary: str,
    messages: Messages,
    system_browser: list[str],
) -> None:
    """Demo → an OAuth scenario → Sign in with Microsoft → Ctrl+R → the verdict names the cause."""
    lab = ObservedLab()
    app = make_app(demo=True, scenario="ok", selected=("thunderbird",), open_lab=lab)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        assert not screen.uses_oauth  # the "ok" scenario is about app passwords
        await choose(pilot, "sign-in", "use-oauth")
        assert screen.query_one("#client-id", Input).display
        assert not screen.query_one("#password", Input).is_on_screen
        if flow == "device-code":
            await choose(pilot, "oauth-flow", "flow-device-code")
        screen.query_one("#scenario").value = scenario  # type: ignore[attr-defined]
        await pilot.pause()
        assert screen.uses_oauth
        await pilot.press("ctrl+r")
        run = await wait_for_verdict(pilot, timeout=90)

        (started,) = messages.of(CheckRunner.Started)
        assert started.settings.oauth is not None
        assert started.settings.password is None
        (finished,) = messages.of(CheckRunner.Finished)
        assert primary_code(finished.report) == primary
        sign_in = next(s for s in finished.report.profiles[0].steps if s.name == "sign-in")
        assert sign_in.data["flow"] == flow
        assert system_browser == []  # the lab's user agent signed in, not a real browser
        (signed,) = messages.of(CheckRunner.SignedIn)
        assert signed.ok == (primary == "ok")
        cards = [c for c in run.query("FindingCard") if getattr(c, "primary", False)]
        if primary == "ok":
            assert run.query_one("#banner-headline", Static).visual is not None
            assert "Works" in screen_text(app)
        else:
            assert cards and cards[0].finding.code == primary  # type: ignore[attr-defined]
            assert cards[0].finding.remedy  # type: ignore[attr-defined]
            assert primary in screen_text(app)


async def test_device_code_is_shown_then_the_run_completes(
    messages: Messages, tmp_path: Path
) -> None:
    """The code and the page stand out on the run screen while MSAL polls; then the verdict."""
    shown: list[dict[str, Any]] = []

    def hook(message: Message) -> None:
        messages(message)
        # Each time the end of the sign-in bubbles up, until the screen has handled
        # it (the panel then has an outcome): what does the panel show?
        if isinstance(message, CheckRunner.SignedIn):
            screen = app.screen
            panel = screen.query_one(SignInPanel)
            if panel.outcome is not None:
                return
            code = screen.query_one("#device-code", Static)
            shown.append(
                {
                    "pane": screen.query_one("#run-switcher").current,  # type: ignore[attr-defined]
                    "panel": panel.display and code.display,
                    "code": str(code.visual),
                    "message": str(screen.query_one("#sign-in-message", Static).visual),
                }
            )

    lab = ObservedLab()
    app = make_app(
        demo=True,
        scenario="oauth-ok",
        selected=("ios-mail",),
        open_lab=lab,
        save_dir=tmp_path,
    )
    async with app.run_test(size=(80, 24), message_hook=hook) as pilot:
        await pilot.pause()
        setup = app.screen
        assert isinstance(setup, SetupScreen)
        assert setup.uses_oauth  # an OAuth scenario starts on Sign in with Microsoft
        await choose(pilot, "oauth-flow", "flow-device-code")
        await pilot.press("ctrl+r")
        run = await wait_for_verdict(pilot, timeout=90)

        (prompted,) = messages.of(CheckRunner.SignInPrompted)
        prompt = prompted.prompt
        assert prompt.flow == "device-code"
        assert re.fullmatch(r"[A-Z2-9]{9}", prompt.user_code or "")
        authority = lab.fields[0].authority
        assert prompt.verification_uri == f"{authority}/devicelogin"
        # The identity platform's own message, word for word, naming the same code and page.
        assert prompt.message == (
            f"To sign in, use a web browser to open the page {prompt.verification_uri}"
            f" and enter the code {prompt.user_code} to authenticate."
        )
        assert shown, "the sign-in never ended"
        at_end = shown[-1]
        assert at_end["pane"] == "progress-pane" and at_end["panel"]
        assert prompt.user_code in at_end["code"] and prompt.verification_uri in at_end["code"]
        assert at_end["message"] == prompt.message

        finished = messages.of(CheckRunner.Finished)[-1]
        # The sign-in worked, but iOS Mail's IMAP account cannot sign in so (issue 14).
        assert primary_code(finished.report) == "client-cannot-use-oauth"
        panel = run.query_one(SignInPanel)
        assert panel.outcome == "signed-in"
        assert not run.query_one("#device-code").display  # the code is gone once used

        # The token: never on screen, in the saved report or on the clipboard.
        await pilot.press("s")
        await wait_until(pilot, lambda: run.saved is not None)
        assert run.saved is not None
        assert lab.tokens, "MSAL cached no access token"
        diagnosis_tab = screen_text(app)
        run.query_one("#verdict-tabs", TabbedContent).active = "tab-transcript"
        await pilot.pause()
        assert "XOAUTH2" in screen_text(app)
        texts = [
            diagnosis_tab,
            screen_text(app),  # the Transcript tab: AUTHENTICATE XOAUTH2 and AUTH XOAUTH2
            run.saved.clipboard_text,
            run.saved.markdown_path.read_text(),
            run.saved.json_path.read_text(),
        ]
        for token in lab.tokens:
            assert run.redact(f"x {token} y") == "x <redacted> y"
            for form in [*bearer_forms(finished.report.user, token), token[:12]]:
                for text in texts:
                    assert form not in text
        prefix = base64.b64encode(f"user={finished.report.user}\x01auth=Bearer ".encode())
        for text in texts:
            assert "lab-at-" not in text
            assert prefix.decode()[:40] not in text


async def test_device_code_panel_renders_the_code_and_page() -> None:
    """The panel as a person sees it, from a real prompt of the lab's identity platform."""
    messages = Messages()
    app = make_app(demo=True, scenario="oauth-ok", selected=("thunderbird",))
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        await choose(pilot, "oauth-flow", "flow-device-code")
        await pilot.press("ctrl+r")
        await wait_for_verdict(pilot, timeout=90)
    prompt = messages.of(CheckRunner.SignInPrompted)[0].prompt

    class PanelApp(App[None]):
        CSS_PATH = str(Path(app_module.__file__).with_name("conntest.tcss"))

        def on_mount(self) -> None:
            panel = SignInPanel(device_code=True)
            self.mount(panel)
            self.call_after_refresh(panel.show_prompt, prompt)

    shown = PanelApp()
    async with shown.run_test(size=(80, 24)) as pilot:
        await wait_until(pilot, lambda: shown.query_one(SignInPanel).prompt is not None)
        text = screen_text(shown)
    assert f"Open   {prompt.verification_uri}" in text
    assert f"Enter  {prompt.user_code}" in text
    assert "valid for 15 minutes" in text
    assert "To sign in, use a web browser to open the page" in text


async def test_missing_client_id_is_refused_beside_the_field(messages: Messages) -> None:
    """Outside the demo, no client id: the CLI's line under the field, and nothing is sent."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        await choose(pilot, "sign-in", "use-oauth")
        await pilot.press("ctrl+r")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, SetupScreen)
        hint = screen.query_one("#client-id-hint", Static)
        assert str(hint.visual) == CLIENT_ID_REQUIRED
        assert hint.has_class("-warning")
        assert app.focused is screen.query_one("#client-id", Input)
        assert not messages.of(SetupScreen.RunRequested)
        assert check.requests == []
        # On screen, the line sits right under the Client ID field.
        rows = screen_text(app).splitlines()
        field_row = next(i for i, r in enumerate(rows) if "Client ID" in r)
        assert "A client ID is required" in rows[field_row + 1]

        # With a client id the form goes through, and the request is check --oauth's.
        await pilot.press(*CLIENT_ID)
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: bool(check.requests))
        (requested,) = messages.of(SetupScreen.RunRequested)
        assert requested.settings.oauth.client_id == CLIENT_ID
        request = check.requests[0]
        assert request.password is None and request.oauth is not None
        assert request.oauth.authority == "https://login.microsoftonline.com"
        assert request.oauth.tenant == "organizations"
        assert request.login_command == (
            f"conntest oauth login --user adele.vance@contoso.com --client-id {CLIENT_ID}"
        )


async def test_the_sign_in_fields_fit_80x24_by_scrolling() -> None:
    """Every sign-in field can be reached at 80×24: the form scrolls to the focused one."""
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await choose(pilot, "sign-in", "use-oauth")
        screen = app.screen
        screen.query_one("#advanced", Collapsible).collapsed = False
        await pilot.pause()
        form = screen.query_one("#setup-form", VerticalScroll)
        for field_id in ("client-id", "tenant", "authority"):
            field = screen.query_one(f"#{field_id}", Input)
            field.focus()
            await pilot.pause()
            await wait_until(pilot, lambda f=field: form.region.contains_region(f.region))  # type: ignore[misc]
        assert form.scroll_y > 0, "the form should have scrolled to reach the authority"
        assert "Authority" in screen_text(app)
        assert screen.query_one("#tenant", Input).value == "organizations"
