"""The run screen: live progress while the check runs, then the verdict and its actions.

It owns the :class:`~conntest.tui.runner.CheckRunner` and reacts to its
messages; everything it shows comes from them.  A sign-in with Microsoft
gets the :class:`~conntest.tui.sign_in_panel.SignInPanel` above the
checklists (the device code, while one waits).  Actions: ``r`` run again,
``s`` save the report, ``w`` retry once with whitespace removed (only when
the diagnosis suspects it), ``Escape`` back to the settings, ``q`` quit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from pathlib import Path
from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.screen import Screen
from textual.widgets import ContentSwitcher, Footer, Header, Static, Tabs

from conntest.model import Report
from conntest.profile import Profile
from conntest.redact import Redactor
from conntest.tui.demo_lab import LabOpener
from conntest.tui.dialogs import StrippedRetryScreen
from conntest.tui.outcome import offers_stripped_retry, short_name
from conntest.tui.progress import ProgressView
from conntest.tui.report_export import SavedReport, save_report
from conntest.tui.runner import CheckFunction, CheckRunner, PlannedProfile
from conntest.tui.settings import RunSettings
from conntest.tui.sign_in_panel import SignInPanel
from conntest.tui.verdict import FailureView, VerdictView


class RunScreen(Screen[None]):
    """Progress, then verdict, for one set of settings."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("r", "run_again", "Run again"),
        Binding("s", "save", "Save"),
        Binding("w", "retry_stripped", "Retry w/o spaces"),
        Binding("escape", "back", "Back"),
        Binding("q", "app.quit", "Quit", show=False),
    ]

    def __init__(
        self,
        settings: RunSettings,
        profiles: Mapping[str, Profile],
        *,
        check: CheckFunction,
        open_lab: LabOpener,
        save_dir: Path | None = None,
        spinners: bool = True,
    ) -> None:
        super().__init__(id="run")
        self.settings = settings
        """What the latest run asked for."""
        self.profiles = profiles
        """Every profile by id."""
        self.report: Report | None = None
        """The latest finished report, ``None`` while running or after a failure."""
        self.saved: SavedReport | None = None
        """The latest saved report."""
        self.plan: tuple[PlannedProfile, ...] = ()
        """The clients of the latest run."""
        self.redact = Redactor.for_credentials(settings.user, settings.password)
        """The latest run's secrets (its OAuth token too, once signed in): for saving."""
        self.runner = CheckRunner(profiles, check, open_lab, id="runner")
        """Runs the engine; its messages drive this screen."""
        self._save_dir = save_dir
        self._spinning = spinners

    @property
    def names(self) -> dict[str, str]:
        return {pid: p.name for pid, p in self.profiles.items()}

    def compose(self) -> ComposeResult:
        yield Header()
        yield Static(id="run-status")
        with ContentSwitcher(initial="progress-pane", id="run-switcher"):
            yield VerticalScroll(id="progress-pane", can_focus=False)
            yield Vertical(id="verdict-pane")
        yield self.runner
        yield Footer()

    def on_mount(self) -> None:
        self.start(self.settings)

    def start(self, settings: RunSettings, previous: Report | None = None) -> None:
        """Run (again): back to the progress view, the runner does the rest.

        With ``previous``, only the consented stripped retry is made on top of it.
        """
        self.settings = settings
        self.report = None
        self.saved = None
        self.redact = Redactor.for_credentials(settings.user, settings.password)
        count = len(settings.profile_ids)
        what = (
            short_name(self.profiles[settings.profile_ids[0]].name)
            if count == 1
            else f"{count} clients"
        )
        where = f" · lab: {settings.scenario}" if settings.scenario else ""
        retry = " · retry without whitespace" if settings.try_stripped else ""
        oauth = " · Sign in with Microsoft" if settings.oauth is not None else ""
        self._status(f"Checking {settings.user} · {what}{oauth}{where}{retry} …")
        pane = self.query_one("#progress-pane", VerticalScroll)
        pane.remove_children()
        starting = "Starting the built-in lab …" if settings.scenario else "Starting …"
        pane.mount(Static(Content(starting), classes="starting"))
        self.query_one("#run-switcher", ContentSwitcher).current = "progress-pane"
        self.refresh_bindings()
        self.runner.start(settings, previous)

    def _status(self, text: str) -> None:
        self.query_one("#run-status", Static).update(Content(text))

    # ---------------------------------------------------------------- runner messages

    @on(CheckRunner.Started)
    async def _started(self, event: CheckRunner.Started) -> None:
        if event.run != self.runner.run_number:
            return
        self.plan = event.plan
        pane = self.query_one("#progress-pane", VerticalScroll)
        await pane.remove_children()
        if event.settings.oauth is not None:
            await pane.mount(SignInPanel(device_code=event.settings.oauth.device_code))
        progress = ProgressView(event.plan, spinners=self._spinning, id="progress")
        await pane.mount(progress)
        progress.start()

    @on(CheckRunner.SignInPrompted)
    def _sign_in_prompted(self, event: CheckRunner.SignInPrompted) -> None:
        if event.run != self.runner.run_number:
            return
        for panel in self.query(SignInPanel):
            panel.show_prompt(event.prompt)
            self.query_one("#progress-pane", VerticalScroll).scroll_home(animate=False)

    @on(CheckRunner.SignedIn)
    def _signed_in(self, event: CheckRunner.SignedIn) -> None:
        if event.run != self.runner.run_number:
            return
        for panel in self.query(SignInPanel):
            panel.show_outcome(event.ok, event.flow, event.account, event.message)

    @on(CheckRunner.StepCompleted)
    def _step(self, event: CheckRunner.StepCompleted) -> None:
        if event.run != self.runner.run_number:
            return
        for progress in self.query("#progress").results(ProgressView):
            progress.record(event.profile_id, event.step)

    @on(CheckRunner.Finished)
    async def _finished(self, event: CheckRunner.Finished) -> None:
        if event.run != self.runner.run_number:
            return
        self.report = event.report
        self.redact = event.redact
        for progress in self.query("#progress").results(ProgressView):
            progress.show_results(event.report.profiles)
        plan = self.plan or tuple(
            PlannedProfile(p.profile, self.names.get(p.profile, p.profile), "", "")
            for p in event.report.profiles
        )
        pane = self.query_one("#verdict-pane", Vertical)
        await pane.remove_children()
        await pane.mount(
            VerdictView(
                event.report,
                self.names,
                plan,
                retry_offered=self.retry_offered,
            )
        )
        where = f" · lab: {self.settings.scenario}" if self.settings.scenario else ""
        self._status(f"Checked {event.report.user}{where}")
        self.query_one("#run-switcher", ContentSwitcher).current = "verdict-pane"
        self.refresh_bindings()
        self.query_one("#verdict-tabs Tabs", Tabs).focus()

    @on(CheckRunner.Failed)
    async def _failed(self, event: CheckRunner.Failed) -> None:
        if event.run != self.runner.run_number:
            return
        for progress in self.query("#progress").results(ProgressView):
            progress.stop()
        pane = self.query_one("#verdict-pane", Vertical)
        await pane.remove_children()
        await pane.mount(FailureView(event.error))
        self._status("The check did not finish.")
        self.query_one("#run-switcher", ContentSwitcher).current = "verdict-pane"
        self.refresh_bindings()

    # ---------------------------------------------------------------- actions

    @property
    def retry_offered(self) -> bool:
        """The diagnosis suspects whitespace, a password was given, and no retry was made."""
        return (
            self.report is not None
            and self.settings.password is not None
            and not self.settings.try_stripped
            and offers_stripped_retry(self.report, self.settings.password)
        )

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action == "retry_stripped":
            return self.retry_offered
        if action == "save":
            return True if self.report is not None else None
        return True

    def action_run_again(self) -> None:
        self.start(dataclasses.replace(self.settings, try_stripped=False))

    def action_back(self) -> None:
        self.runner.cancel()
        self.dismiss()

    def action_save(self) -> None:
        if self.report is None:
            self.notify("Nothing to save yet: the check is still running.", severity="warning")
            return
        directory = self._save_dir or Path.cwd()
        try:
            saved = save_report(
                self.report,
                redact=self.redact,
                names=self.names,
                directory=directory,
                scenario=self.settings.scenario,
            )
        except OSError as exc:
            self.notify(f"Could not save in {directory}: {exc.strerror}", severity="error")
            return
        self.saved = saved
        self.app.copy_to_clipboard(saved.clipboard_text)
        self.notify(
            f"Saved {saved.markdown_path.name} and {saved.json_path.name} in "
            f"{saved.markdown_path.parent}. Copied to the clipboard where the terminal allows.",
            title="Report saved",
            timeout=8,
        )

    def action_retry_stripped(self) -> None:
        if not self.retry_offered:
            return

        def answered(confirmed: bool | None) -> None:
            if confirmed:
                self.start(dataclasses.replace(self.settings, try_stripped=True), self.report)

        self.app.push_screen(StrippedRetryScreen(), answered)
