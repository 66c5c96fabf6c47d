"""The Textual app and ``run_tui``, the entry point ``conntest.cli`` calls.

``conntest`` / ``conntest tui`` opens the setup screen for a real check;
``conntest demo`` opens the same screen against the embedded lab, with a
scenario picker.  The app wires the screens together and holds the seams
tests use: ``check`` (the engine), ``open_lab`` (the lab) and ``save_dir``.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import App
from textual.binding import Binding, BindingType

from conntest.engine import run_check
from conntest.profile import Profile
from conntest.tui.demo_lab import (
    DEMO_USER,
    LabOpener,
    ScenarioChoice,
    lab_password,
    open_lab,
    scenario_choices,
)
from conntest.tui.dialogs import HelpScreen
from conntest.tui.result_screen import RunScreen
from conntest.tui.runner import CheckFunction
from conntest.tui.settings import OAuthFieldDefaults, oauth_field_defaults
from conntest.tui.setup_screen import SetupScreen
from conntest.tui.terminal_theme import DARK


class ConntestApp(App[None]):
    """Setup → progress → verdict, keyboard only."""

    CSS_PATH = "conntest.tcss"

    def _fatal_error(self) -> None:
        """Textual's crash report, without local variables: a frame may hold the password."""
        from rich.segment import Segments
        from rich.traceback import Traceback

        self.bell()
        traceback = Traceback(show_locals=False, width=None)
        self._exit_renderables.append(
            Segments(self.console.render(traceback, self.console.options))
        )
        self._close_messages_no_wait()

    TITLE = "conntest"
    BINDINGS: ClassVar[list[BindingType]] = [
        # On every screen's footer, beside the command palette (ctrl+p): how to
        # quit and the one help key (F1 works while typing in a field; ? would not).
        Binding("ctrl+q", "quit", "Quit", priority=True),
        Binding("f1", "help", "Help"),
    ]

    def __init__(
        self,
        profiles: Sequence[Profile],
        *,
        user: str | None = None,
        selected: Sequence[str] = (),
        demo: bool = False,
        scenario: str | None = None,
        check: CheckFunction = run_check,
        open_lab: LabOpener = open_lab,
        save_dir: Path | None = None,
        spinners: bool = True,
        theme: str = DARK,
        notices: Sequence[str] = (),
        oauth_defaults: OAuthFieldDefaults | None = None,
    ) -> None:
        super().__init__()
        self.profiles = {p.id: p for p in profiles}
        """Every client that can be tested, by id, in display order."""
        self.demo = demo
        """True for ``conntest demo``: runs go to the embedded lab."""
        self.scenarios: tuple[ScenarioChoice, ...] = tuple(scenario_choices()) if demo else ()
        """Demo: the lab's scenarios."""
        self.sub_title = "demo: built-in lab" if demo else "Microsoft 365 IMAP/SMTP check"
        self._user = user or (DEMO_USER if demo else "")
        self._password = lab_password() if demo else ""
        self._selected = tuple(selected)
        self._scenario = scenario
        self._check = check
        self._open_lab = open_lab
        self._save_dir = save_dir
        self._spinning = spinners
        self._notices = tuple(notices)
        # The demo signs in to the lab, never with the settings file's app (as --lab).
        self._oauth_defaults = oauth_defaults or (OAuthFieldDefaults() if demo else None)
        self.theme = theme if theme in self.available_themes else DARK

    def on_mount(self) -> None:
        self.push_screen(
            SetupScreen(
                list(self.profiles.values()),
                user=self._user,
                password=self._password,
                selected=self._selected,
                scenarios=self.scenarios,
                scenario=self._scenario,
                oauth_defaults=self._oauth_defaults,
            )
        )
        for notice in self._notices:
            self.notify(notice, severity="warning", timeout=10)

    @on(SetupScreen.RunRequested)
    def _run_requested(self, event: SetupScreen.RunRequested) -> None:
        self.push_screen(
            RunScreen(
                event.settings,
                self.profiles,
                check=self._check,
                open_lab=self._open_lab,
                save_dir=self._save_dir,
                spinners=self._spinning,
            )
        )

    def action_help(self) -> None:
        if not isinstance(self.screen, HelpScreen):
            self.push_screen(HelpScreen())


PREFERRED_ORDER = ("outlook-2016", "ios-mail", "thunderbird")
"""The order the issue names the clients in; other profiles follow by id."""


def _display_order(profile: Profile) -> tuple[int, str]:
    if profile.id in PREFERRED_ORDER:
        return PREFERRED_ORDER.index(profile.id), ""
    return len(PREFERRED_ORDER), profile.id


def run_tui(args: argparse.Namespace) -> int:
    """Open the TUI for ``conntest [tui|demo] [--user U] [--profile ID ...]``.

    Unknown profile ids raise :class:`~conntest.errors.UsageError` before the
    screen opens, so the CLI reports them like any other usage error.
    """
    from conntest.profiles import load_profiles
    from conntest.tui.terminal_theme import pick_theme

    loaded = load_profiles()
    ordered = sorted(loaded, key=_display_order)
    selected = [loaded.get(pid).id for pid in getattr(args, "profile", []) or []]
    notices = [f"profile problem: {problem}" for problem in loaded.problems]
    demo = bool(getattr(args, "demo", False))
    # Read before the screen opens: a broken settings file is one line from the CLI.
    oauth = None if demo else oauth_field_defaults()
    app = ConntestApp(
        ordered,
        user=getattr(args, "user", None),
        selected=selected,
        demo=demo,
        theme=pick_theme(),
        notices=notices,
        oauth_defaults=oauth,
    )
    app.run()
    # Textual sets return_code 1 when the app dies (a StylesheetError, a bug)
    # and prints its own report; the CLI reports that as UNKNOWN, never as 0.
    return 0 if not app.return_code else TUI_CRASHED


TUI_CRASHED = 3
"""Exit code of a screen that died: UNKNOWN, like any internal error."""
