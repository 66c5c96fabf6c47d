"""Modal dialogs: help, and the consent to retry with whitespace removed."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import Button, Static

HELP_TEXT = """\
conntest does what Outlook 2016, iOS Mail or Thunderbird does when
it connects to Microsoft 365, step by step, and explains what fails.

Everywhere
  F1       this help          Ctrl+P   command palette (theme…)
  Ctrl+Q   quit

Setup
  Tab, Shift+Tab   move between fields
  Space, Enter     tick Show, pick a sign-in or a client, open a list
  Ctrl+R, Enter    run the check
  Escape, q        quit (q when not typing in a field)
  The hint under the password counts spaces and invisible
  characters without ever showing the password.
  Sign in with Microsoft (OAuth2) needs your app's Client ID; a
  device code then appears on the result screen (Escape stops).

Result
  r        run the same check again
  s        save the report (Markdown and JSON) in the current
           folder, and copy it to the clipboard if the terminal can
  w        retry once without whitespace (only when offered)
  ← →      switch tabs: Clients, Diagnosis, Steps, Transcript
  Tab      into a tab, then ↑ ↓ PageUp PageDown to scroll;
           Enter on a client opens its diagnosis
  Escape   back to the settings
  q        quit

The password is sent once per protocol per run. It is never shown,
saved or copied: reports hold only its shape ("1 trailing space").
A Microsoft sign-in's token is never shown, saved or copied either.
"""


class HelpScreen(ModalScreen[None]):
    """The keys and what conntest does with the password."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,f1", "dismiss", "Close"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="help-dialog", classes="dialog"):
            yield Static(Content("Help"), classes="dialog-title")
            with VerticalScroll():
                yield Static(Content(HELP_TEXT), id="help-text")
            yield Static(Content("Escape closes this."), classes="hint")


RETRY_WARNING = (
    "conntest will sign in once more with the spaces and invisible characters removed "
    "from the password you typed. If that password is wrong too, it is one more failed "
    "sign-in: Microsoft locks an account after about 10 of them (3 in US Government "
    "clouds), and a mail client retrying in the background adds to the count. "
    "conntest makes this retry once, on one protocol, and does not show or save "
    "the password it tried."
)


class StrippedRetryScreen(ModalScreen[bool]):
    """Ask before spending one more sign-in attempt on the whitespace theory."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,n", "cancel", "Cancel"),
        Binding("y", "confirm", "Retry"),
    ]

    def compose(self) -> ComposeResult:
        with Vertical(id="retry-dialog", classes="dialog"):
            yield Static(Content("Retry without whitespace?"), classes="dialog-title")
            yield Static(Content(RETRY_WARNING), id="retry-warning")
            with Horizontal(classes="dialog-buttons"):
                yield Button("Cancel (n)", id="cancel", compact=True)
                yield Button("Retry once (y)", id="confirm", variant="warning", compact=True)

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Button.Pressed, "#confirm")
    def action_confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
