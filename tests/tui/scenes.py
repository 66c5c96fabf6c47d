"""Named screens built from fixed data: shared by the snapshot tests and the docs screenshots.

Each scene is an app (with a scripted engine) plus the keys that bring it to
the state worth looking at.  Nothing here depends on time, ports or the
network, so the same scene always draws the same picture.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, RadioButton, TabbedContent

from conntest.oauth.prompt import SignInPrompt
from conntest.tui.app import ConntestApp
from conntest.tui.progress import StepChecklist
from conntest.tui.runner import CheckRunner
from conntest.tui.sign_in_panel import SignInPanel
from conntest.tui.terminal_theme import LIGHT
from tests.tui.conftest import ALL, make_app, steady_cursor, wait_for_verdict, wait_until
from tests.tui.fixtures import (
    USER,
    ScriptedCheck,
    all_clients_report,
    live_steps,
    single_client_report,
    whitespace_report,
)

RunBefore = Callable[[Pilot[Any]], Awaitable[None]]


@dataclass
class Scene:
    """An app and how to bring it to the state shown."""

    app: ConntestApp
    run_before: RunBefore


async def _run_to_verdict(pilot: Pilot[Any]) -> None:
    await pilot.press("ctrl+r")
    await wait_for_verdict(pilot)
    steady_cursor(pilot.app)  # type: ignore[arg-type]


def setup_whitespace_hint() -> Scene:
    app = make_app(user=USER, selected=("thunderbird",))

    async def run_before(pilot: Pilot[Any]) -> None:
        pilot.app.screen.query_one("#password", Input).value = "abcd efgh ijkl mnop "
        steady_cursor(app)
        await pilot.pause()

    return Scene(app, run_before)


def setup_demo() -> Scene:
    app = make_app(demo=True, scenario="smtp-auth-disabled-tenant")

    async def run_before(pilot: Pilot[Any]) -> None:
        steady_cursor(app)
        await pilot.pause()

    return Scene(app, run_before)


DEVICE_PROMPT = SignInPrompt(
    "device-code",
    # Microsoft's message as shared/o365/oauth.md records it (§3, device code).
    "To sign in, use a web browser to open the page https://microsoft.com/devicelogin"
    " and enter the code DAZ9UTXEE to authenticate.",
    user_code="DAZ9UTXEE",
    verification_uri="https://microsoft.com/devicelogin",
    expires_in=900,
)


def device_code() -> Scene:
    """Sign in with Microsoft by device code: the code waits on the run screen."""
    check = ScriptedCheck(single_client_report(), hold=True)
    app = make_app(user=USER, selected=("thunderbird",), check=check)

    async def run_before(pilot: Pilot[Any]) -> None:
        screen = pilot.app.screen
        screen.query_one("#use-oauth", RadioButton).value = True
        screen.query_one("#flow-device-code", RadioButton).value = True
        screen.query_one("#client-id", Input).value = "11111111-2222-4333-8444-555555555555"
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: bool(pilot.app.screen.query(SignInPanel)))
        runner = pilot.app.screen.query_one(CheckRunner)
        runner.post_message(CheckRunner.SignInPrompted(runner.run_number, DEVICE_PROMPT))
        await wait_until(pilot, lambda: pilot.app.screen.query_one(SignInPanel).prompt is not None)

    return Scene(app, run_before)


def live_progress() -> Scene:
    check = ScriptedCheck(single_client_report(), live_steps(), hold=True)
    app = make_app(user=USER, selected=("thunderbird",), check=check)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.screen.query_one("#password", Input).value = "abcdefghijklmnop"
        await pilot.press("ctrl+r")

        def smtp_tls_running() -> bool:
            found = pilot.app.screen.query("#progress .-smtp")
            return bool(found) and (
                found.first(StepChecklist).state_of("starttls").state == "running"
            )

        await wait_until(pilot, smtp_tls_running)

    return Scene(app, run_before)


def verdict_with_remedy(theme: str | None = None) -> Scene:
    check = ScriptedCheck(single_client_report())
    extra = {"theme": theme} if theme else {}
    app = make_app(user=USER, selected=("thunderbird",), check=check, **extra)
    return Scene(app, _run_to_verdict)


def verdict_light() -> Scene:
    return verdict_with_remedy(LIGHT)


def all_clients_matrix() -> Scene:
    check = ScriptedCheck(all_clients_report())
    app = make_app(user=USER, selected=ALL, check=check)
    return Scene(app, _run_to_verdict)


def _tab(tab: str) -> Callable[[], Scene]:
    def scene() -> Scene:
        check = ScriptedCheck(single_client_report())
        app = make_app(user=USER, selected=("thunderbird",), check=check)

        async def run_before(pilot: Pilot[Any]) -> None:
            await _run_to_verdict(pilot)
            pilot.app.screen.query_one("#verdict-tabs", TabbedContent).active = tab
            await pilot.pause()
            await pilot.wait_for_scheduled_animations()  # the tab underline slides

        return Scene(app, run_before)

    return scene


steps_tab = _tab("tab-steps")
transcript_tab = _tab("tab-transcript")


def all_clients_steps() -> Scene:
    """Three clients' Steps tab: one below the other, every reason shown."""
    check = ScriptedCheck(all_clients_report())
    app = make_app(user=USER, selected=ALL, check=check)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _run_to_verdict(pilot)
        pilot.app.screen.query_one("#verdict-tabs", TabbedContent).active = "tab-steps"
        await pilot.pause()
        await pilot.wait_for_scheduled_animations()

    return Scene(app, run_before)


def verdict_admin() -> Scene:
    """Thunderbird's diagnosis after PageDown: the administrator's part."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user=USER, selected=("thunderbird",), check=check)

    async def run_before(pilot: Pilot[Any]) -> None:
        await _run_to_verdict(pilot)
        await pilot.press("tab", "pagedown", "pagedown")
        await pilot.pause()

    return Scene(app, run_before)


def retry_warning() -> Scene:
    check = ScriptedCheck(whitespace_report())
    app = make_app(user=USER, selected=("ios-mail",), check=check)

    async def run_before(pilot: Pilot[Any]) -> None:
        app.screen.query_one("#password", Input).value = "abcdefghijklmnop "
        await _run_to_verdict(pilot)
        await pilot.press("w")
        await pilot.pause()

    return Scene(app, run_before)


def help_screen() -> Scene:
    app = make_app(user=USER)

    async def run_before(pilot: Pilot[Any]) -> None:
        await pilot.press("f1")
        await pilot.pause()

    return Scene(app, run_before)


SCENES: dict[str, Callable[[], Scene]] = {
    "setup-demo": setup_demo,
    "setup-whitespace-hint": setup_whitespace_hint,
    "live-progress": live_progress,
    "device-code": device_code,
    "verdict-remedy": verdict_with_remedy,
    "verdict-light": verdict_light,
    "all-clients-matrix": all_clients_matrix,
    "all-clients-steps": all_clients_steps,
    "verdict-admin": verdict_admin,
    "steps-tab": steps_tab,
    "transcript-tab": transcript_tab,
    "retry-warning": retry_warning,
    "help": help_screen,
}
"""Every scene by the file name ``docs/img/<name>.svg`` it is saved under."""
