"""The setup screen: address, app password with its live hint, client, (demo) scenario, Run.

The password field stays masked unless the person ticks *Show*; the hint
beneath it describes whitespace and invisible characters from
:func:`conntest.password.analyse_password`, which never holds a character of
the password, so the hint is safe to show while the field is masked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import ClassVar, TypeVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.screen import Screen
from textual.widgets import (
    Button,
    Checkbox,
    Collapsible,
    Footer,
    Header,
    Input,
    Label,
    RadioButton,
    RadioSet,
    Select,
    Static,
)

from conntest.errors import PasswordSourceError
from conntest.inputs.passwords import check_password
from conntest.inputs.values import validate_address
from conntest.password import analyse_password
from conntest.profile import Profile
from conntest.tui.demo_lab import ScenarioChoice
from conntest.tui.outcome import short_name
from conntest.tui.settings import (
    RunSettings,
    parse_ca_file,
    parse_host_port,
    parse_timeout,
)

T = TypeVar("T")


class FormError(ValueError):
    """A field of the setup form holds something conntest cannot use."""

    def __init__(self, field_id: str, message: str) -> None:
        super().__init__(message)
        self.field_id = field_id


def password_hints(password: str) -> tuple[str, str, bool]:
    """The two hint lines under the password field, and whether the first is a warning."""
    if not password:
        return (
            "No password: conntest will test the connection only, without signing in.",
            "",
            False,
        )
    shape = analyse_password(password)
    plural = "s" if shape.length != 1 else ""
    first = f"{shape.length} character{plural}: {shape.describe()}"
    if shape.looks_like_app_password:
        second = "Shaped like a Microsoft app password (16 lowercase letters)."
    else:
        second = (
            "Not shaped like a Microsoft app password (16 lowercase letters); "
            "for a work account that can be fine."
        )
    return first, second, shape.has_whitespace


class PasswordField(Vertical):
    """A masked password input, a Show toggle and the live shape hint."""

    def __init__(self, value: str = "") -> None:
        super().__init__(id="password-field")
        self._initial = value

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field"):
            yield Label("App password", classes="field-label")
            yield Input(
                value=self._initial,
                password=True,
                placeholder="the app password the client stores",
                id="password",
                compact=True,
            )
            yield Checkbox("Show", id="reveal", compact=True)
        yield Static(id="password-hint", classes="hint")
        yield Static(id="password-shape", classes="hint")

    def on_mount(self) -> None:
        self._update_hint(self._initial)

    @property
    def value(self) -> str:
        return self.query_one("#password", Input).value

    @on(Input.Changed, "#password")
    def _changed(self, event: Input.Changed) -> None:
        self._update_hint(event.value)

    @on(Checkbox.Changed, "#reveal")
    def _reveal(self, event: Checkbox.Changed) -> None:
        self.query_one("#password", Input).password = not event.value

    def _update_hint(self, password: str) -> None:
        first, second, warn = password_hints(password)
        hint = self.query_one("#password-hint", Static)
        hint.update(Content(first))
        hint.set_class(warn, "-warning")
        shape = self.query_one("#password-shape", Static)
        shape.update(Content(second))
        shape.display = bool(second)


class SetupScreen(Screen[None]):
    """Collects one run's settings and asks for it to be run."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+r", "run", "Run check", priority=True),
        # The first screen: Escape (back) and q leave, as on the result screen;
        # a text field keeps q as a letter, and an open list takes Escape first.
        Binding("escape,q", "app.quit", "Quit", show=False),
    ]

    @dataclass
    class RunRequested(Message):
        """The person pressed Run and the settings are valid."""

        settings: RunSettings
        """What to run."""

    def __init__(
        self,
        profiles: Sequence[Profile],
        *,
        user: str = "",
        password: str = "",
        selected: Sequence[str] = (),
        scenarios: Sequence[ScenarioChoice] = (),
        scenario: str | None = None,
    ) -> None:
        super().__init__(id="setup")
        self.profiles = tuple(profiles)
        """Every client that can be tested, in display order."""
        self.scenarios = tuple(scenarios)
        """Demo: the lab's scenarios; empty for a real check."""
        self._user = user
        self._password = password
        self._choices = self._client_choices(selected)
        self._scenario = scenario

    def _client_choices(self, selected: Sequence[str]) -> list[tuple[str, tuple[str, ...], bool]]:
        """Radio buttons: (label, profile ids, initially on)."""
        ids = tuple(p.id for p in self.profiles)
        chosen = tuple(dict.fromkeys(selected))
        choices: list[tuple[str, tuple[str, ...], bool]] = [
            (short_name(p.name), (p.id,), chosen == (p.id,)) for p in self.profiles
        ]
        everyone = "All three" if len(ids) == 3 else f"All {len(ids)}"
        if len(chosen) > 1 and set(chosen) != set(ids):
            names = {p.id: short_name(p.name) for p in self.profiles}
            label = " + ".join(names[i] for i in chosen)
            choices.append((label, chosen, True))
        choices.append((everyone, ids, not chosen or set(chosen) == set(ids)))
        return choices

    def compose(self) -> ComposeResult:
        yield Header()
        with VerticalScroll(id="setup-form"):
            if self.scenarios:
                intro = (
                    "Demo: every check runs against conntest's built-in copy of "
                    "Microsoft 365 on this computer. Pick a scenario and press Ctrl+R."
                )
            else:
                intro = (
                    "Check whether a mail client can reach Microsoft 365 and sign in "
                    "with IMAP and SMTP, and find out why not."
                )
            yield Static(Content(intro), id="intro")
            with Horizontal(classes="field"):
                yield Label("Address", classes="field-label")
                yield Input(
                    value=self._user,
                    placeholder="you@example.com",
                    id="user",
                    compact=True,
                )
            yield PasswordField(self._password)
            with Horizontal(classes="field", id="clients-field"):
                yield Label("Client", classes="field-label")
                with RadioSet(id="clients", compact=True):
                    for label, _ids, on_ in self._choices:
                        yield RadioButton(label, value=on_, compact=True)
            if self.scenarios:
                with Horizontal(classes="field", id="scenario-field"):
                    yield Label("Lab scenario", classes="field-label")
                    yield Select(
                        [(s.name, s.name) for s in self.scenarios],
                        value=self._scenario or self.scenarios[0].name,
                        allow_blank=False,
                        id="scenario",
                        compact=True,
                    )
                yield Static(id="scenario-summary", classes="hint")
            with Collapsible(title="Advanced: servers, timeout, CA file", id="advanced"):
                for field_id, label, placeholder in (
                    ("imap-server", "IMAP server", "HOST:PORT (default: the client's)"),
                    ("smtp-server", "SMTP server", "HOST:PORT (default: the client's)"),
                    ("timeout", "Timeout (s)", "60"),
                    ("ca-file", "CA file", "PEM file (default: the system's)"),
                ):
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        yield Input(placeholder=placeholder, id=field_id, compact=True)
            with Horizontal(id="run-row"):
                yield Button("Run check", id="run", variant="primary", compact=True)
        yield Static(id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self._show_scenario()
        # Start the picker's keyboard highlight on the chosen client, not the first.
        radios = self.query_one("#clients", RadioSet)
        for _ in range(max(radios.pressed_index, 0)):
            radios.action_next_button()
        if self.scenarios:
            self.query_one("#scenario", Select).focus()
        elif self._user:
            self.query_one("#password", Input).focus()
        else:
            self.query_one("#user", Input).focus()

    @on(Select.Changed, "#scenario")
    def _scenario_changed(self) -> None:
        self._show_scenario()

    def _show_scenario(self) -> None:
        if not self.scenarios:
            return
        value = self.query_one("#scenario", Select).value
        summary = next((s.summary for s in self.scenarios if s.name == value), "")
        self.query_one("#scenario-summary", Static).update(Content(summary))

    @on(Button.Pressed, "#run")
    @on(Input.Submitted)
    def _submit(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        """Check the form; post :class:`RunRequested` or show what is wrong."""
        error = self.query_one("#form-error", Static)
        try:
            settings = self.collect()
        except FormError as exc:
            error.update(Content(str(exc)))
            error.display = True
            self.query_one(f"#{exc.field_id}").focus()
            return
        error.update("")
        error.display = False
        self.post_message(self.RunRequested(settings))

    def collect(self) -> RunSettings:
        """The form as :class:`RunSettings`; ``ValueError`` naming the first bad field."""
        user = self.query_one("#user", Input).value.strip()
        if not user:
            raise FormError("user", "Enter the mailbox address.")
        checked = validate_address(user)
        if not isinstance(checked, str):
            raise FormError("user", f"Mailbox address: {checked}.")
        user = checked
        password = self.query_one(PasswordField).value
        if password:
            try:  # the same boundary as --password-*: nothing unsendable reaches a server
                check_password(password, "App password")
            except PasswordSourceError as exc:
                raise FormError("password", f"{exc}.") from None
        index = self.query_one("#clients", RadioSet).pressed_index
        profile_ids = self._choices[index][1] if index >= 0 else self._choices[-1][1]
        scenario: str | None = None
        if self.scenarios:
            value = self.query_one("#scenario", Select).value
            scenario = value if isinstance(value, str) else self.scenarios[0].name
        imap = self._advanced("imap-server", parse_host_port)
        smtp = self._advanced("smtp-server", parse_host_port)
        timeout = self._advanced("timeout", parse_timeout)
        ca_file = self._advanced("ca-file", parse_ca_file)
        return RunSettings(
            user=user,
            password=password or None,
            profile_ids=profile_ids,
            scenario=scenario,
            imap_server=imap,
            smtp_server=smtp,
            timeout=timeout,
            ca_file=ca_file,
        )

    def _advanced(self, field_id: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(self.query_one(f"#{field_id}", Input).value)
        except ValueError as exc:
            self.query_one("#advanced", Collapsible).collapsed = False
            raise FormError(field_id, f"Advanced: {exc}") from None
