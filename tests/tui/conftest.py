"""Helpers for the TUI tests: the app with test seams, screen text, waiting for a verdict."""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import pytest
from rich.console import Console
from textual.message import Message
from textual.pilot import Pilot
from textual.widgets import Input

from conntest.profile import Profile
from conntest.profiles import load_profiles
from conntest.tui.app import ConntestApp, _display_order
from conntest.tui.result_screen import RunScreen

ALL = ("outlook-2016", "ios-mail", "thunderbird")


def builtin_profiles() -> list[Profile]:
    return sorted(load_profiles(), key=_display_order)


def make_app(**kwargs: Any) -> ConntestApp:
    """The app as ``run_tui`` builds it, with spinners frozen (tests pass other seams)."""
    kwargs.setdefault("spinners", False)
    return ConntestApp(builtin_profiles(), **kwargs)


def screen_text(app: ConntestApp) -> str:
    """What a person sees, as plain text (the SVG export, without the markup)."""
    width, height = app.size
    console = Console(
        width=width,
        height=height,
        file=io.StringIO(),
        force_terminal=True,
        color_system="truecolor",
        record=True,
        legacy_windows=False,
        safe_box=False,
    )
    # The same compositor output App.export_screenshot() renders to SVG.
    console.print(
        app.screen._compositor.render_update(full=True, screen_stack=app._background_screens)
    )
    return console.export_text()


async def wait_until(pilot: Pilot[Any], condition: Callable[[], bool], timeout: float = 30) -> None:
    """Let the app run until ``condition()`` holds; fail after ``timeout`` seconds."""
    waited = 0.0
    while not condition():
        if waited >= timeout:
            raise AssertionError(f"gave up after {timeout} s waiting")
        await pilot.pause(0.05)
        waited += 0.05
    await pilot.pause()


async def wait_for_verdict(pilot: Pilot[Any], timeout: float = 30) -> RunScreen:
    """Wait until the run screen shows a verdict (or a failure) and return it."""
    app = pilot.app

    def done() -> bool:
        screen = app.screen
        return (
            isinstance(screen, RunScreen)
            and bool(screen.query("#verdict-view"))
            and screen.query_one("#run-switcher").current == "verdict-pane"  # type: ignore[attr-defined]
        )

    await wait_until(pilot, done, timeout)
    assert isinstance(app.screen, RunScreen)
    return app.screen


def steady_cursor(app: ConntestApp) -> None:
    """Stop input cursors from blinking, so a snapshot does not depend on timing."""
    for field in app.screen.query(Input):
        field.cursor_blink = False


class Messages:
    """Every message the app processed, each once (bubbling delivers some several times)."""

    def __init__(self) -> None:
        self.seen: list[Message] = []
        self._ids: set[int] = set()

    def __call__(self, message: Message) -> None:
        if id(message) not in self._ids:
            self._ids.add(id(message))
            self.seen.append(message)

    def of(self, kind: type[Any]) -> list[Any]:
        return [m for m in self.seen if isinstance(m, kind)]


@pytest.fixture
def messages() -> Messages:
    return Messages()
