"""The setup screen: address, sign-in, client, (demo) scenario, Run.

Sign-in is an app password (the field, with its live hint) or *Sign in with
Microsoft (OAuth2)*: the browser or a device code, and the Client ID of the
person's own app registration (tenant and authority under Advanced), whose
defaults come from :func:`conntest.tui.settings.oauth_field_defaults`.
Without a client id (outside the demo) the form refuses beside the field,
with the CLI's line.

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
    CLIENT_ID_REQUIRED,
    OAuthChoice,
    OAuthFieldDefaults,
    RunSettings,
    oauth_field_defaults,
    parse_authority,
    parse_ca_file,
    parse_client_id,
    parse_host_port,
    parse_tenant,
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


CLIENT_ID_HINT = "The Application (client) ID of your app registration (docs/oauth.md)."
DEMO_CLIENT_ID_HINT = "Not needed in the demo: the built-in lab has a client id of its own."


class OAuthFields(Vertical):
    """Sign in with Microsoft: browser or device code, and the Client ID."""

    def __init__(self, client_id: str, *, demo: bool) -> None:
        super().__init__(id="oauth-fields")
        self._client_id = client_id
        self._demo = demo

    def compose(self) -> ComposeResult:
        with Horizontal(classes="field", id="oauth-flow-field"):
            yield Label("Sign in via", classes="field-label")
            with RadioSet(id="oauth-flow", compact=True):
                yield RadioButton("Browser", value=True, id="flow-browser", compact=True)
                yield RadioButton("Device code", id="flow-device-code", compact=True)
        with Horizontal(classes="field", id="client-id-field"):
            yield Label("Client ID", classes="field-label")
            yield Input(
                value=self._client_id,
                placeholder="the lab's own"
                if self._demo
                else "00000000-0000-0000-0000-000000000000",
                id="client-id",
                compact=True,
            )
        yield Static(
            Content(DEMO_CLIENT_ID_HINT if self._demo else CLIENT_ID_HINT),
            id="client-id-hint",
            classes="hint",
        )

    @property
    def device_code(self) -> bool:
        return self.query_one("#flow-device-code", RadioButton).value

    def refuse_client_id(self, message: str | None) -> None:
        """Show ``message`` beside the Client ID (``None``: the usual hint)."""
        hint = self.query_one("#client-id-hint", Static)
        usual = DEMO_CLIENT_ID_HINT if self._demo else CLIENT_ID_HINT
        hint.update(Content(message or usual))
        hint.set_class(message is not None, "-warning")


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
        oauth_defaults: OAuthFieldDefaults | None = None,
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
        self._oauth = oauth_defaults or oauth_field_defaults()

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
            with Horizontal(classes="field", id="sign-in-field"):
                yield Label("Sign in", classes="field-label")
                with RadioSet(id="sign-in", compact=True):
                    yield RadioButton("App password", value=True, id="use-password", compact=True)
                    yield RadioButton(
                        "Sign in with Microsoft (OAuth2)", id="use-oauth", compact=True
                    )
            yield PasswordField(self._password)
            yield OAuthFields(self._oauth.client_id or "", demo=bool(self.scenarios))
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
            with Collapsible(title="Advanced: servers, timeout, CA file, tenant", id="advanced"):
                for field_id, label, placeholder, value in (
                    ("imap-server", "IMAP server", "HOST:PORT (default: the client's)", ""),
                    ("smtp-server", "SMTP server", "HOST:PORT (default: the client's)", ""),
                    ("timeout", "Timeout (s)", "60", ""),
                    ("ca-file", "CA file", "PEM file (default: the system's)", ""),
                    (
                        "tenant",
                        "Tenant",
                        "organizations, consumers, common, a tenant id or domain",
                        self._oauth.tenant,
                    ),
                    (
                        "authority",
                        "Authority",
                        "https://login.microsoftonline.com (default)",
                        self._oauth.authority or "",
                    ),
                ):
                    with Horizontal(classes="field"):
                        yield Label(label, classes="field-label")
                        yield Input(value=value, placeholder=placeholder, id=field_id, compact=True)
            with Horizontal(id="run-row"):
                yield Button("Run check", id="run", variant="primary", compact=True)
        yield Static(id="form-error")
        yield Footer()

    def on_mount(self) -> None:
        self._show_scenario(switch_sign_in=True)
        self._show_sign_in()
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
        self._show_scenario(switch_sign_in=True)

    def _show_scenario(self, *, switch_sign_in: bool = False) -> None:
        if not self.scenarios:
            return
        value = self.query_one("#scenario", Select).value
        chosen = next((s for s in self.scenarios if s.name == value), None)
        summary = chosen.summary if chosen is not None else ""
        self.query_one("#scenario-summary", Static).update(Content(summary))
        if switch_sign_in and chosen is not None:
            # The demo's OAuth scenarios are about signing in with Microsoft, the others
            # about app passwords; the person can still change it.
            button = "#use-oauth" if chosen.oauth else "#use-password"
            self.query_one(button, RadioButton).value = True

    @property
    def uses_oauth(self) -> bool:
        """*Sign in with Microsoft (OAuth2)* is chosen."""
        return self.query_one("#use-oauth", RadioButton).value

    @on(RadioSet.Changed, "#sign-in")
    def _sign_in_changed(self) -> None:
        self._show_sign_in()

    def _show_sign_in(self) -> None:
        oauth = self.uses_oauth
        self.query_one(PasswordField).display = not oauth
        self.query_one(OAuthFields).display = oauth

    @on(Button.Pressed, "#run")
    @on(Input.Submitted)
    def _submit(self) -> None:
        self.action_run()

    def action_run(self) -> None:
        """Check the form; post :class:`RunRequested` or show what is wrong."""
        error = self.query_one("#form-error", Static)
        fields = self.query_one(OAuthFields)
        try:
            settings = self.collect()
        except FormError as exc:
            if exc.field_id == "client-id":  # the long line goes beside its field only
                fields.refuse_client_id(str(exc))
                error.display = False
            else:
                error.update(Content(str(exc)))
                error.display = True
            self.query_one(f"#{exc.field_id}").focus()
            return
        fields.refuse_client_id(None)
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
        oauth = self._oauth_choice()
        password = "" if oauth is not None else self.query_one(PasswordField).value
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
            oauth=oauth,
        )

    def _oauth_choice(self) -> OAuthChoice | None:
        """Sign in with Microsoft as chosen, ``None`` for an app password; refuses no client id."""
        if not self.uses_oauth:
            return None
        try:
            client_id = parse_client_id(self.query_one("#client-id", Input).value)
        except ValueError as exc:
            raise FormError("client-id", f"{exc}.") from None
        if client_id is None and not self.scenarios:
            raise FormError("client-id", CLIENT_ID_REQUIRED)
        return OAuthChoice(
            client_id=client_id,
            tenant=self._advanced("tenant", parse_tenant) or self._oauth.tenant,
            authority=self._advanced("authority", parse_authority),
            device_code=self.query_one(OAuthFields).device_code,
        )

    def _advanced(self, field_id: str, parse: Callable[[str], T]) -> T:
        try:
            return parse(self.query_one(f"#{field_id}", Input).value)
        except ValueError as exc:
            self.query_one("#advanced", Collapsible).collapsed = False
            raise FormError(field_id, f"Advanced: {exc}") from None
