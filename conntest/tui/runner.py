"""The one worker that runs a check, and the messages it turns the engine's events into.

:class:`CheckRunner` is an invisible widget on the result screen.  ``start()``
launches an exclusive worker (a new start cancels the run in progress) that
starts the lab when the run is a demo, calls the engine and posts
:class:`CheckRunner.Started`, one :class:`CheckRunner.StepCompleted` per step as
the probes report it, then :class:`CheckRunner.Finished` or
:class:`CheckRunner.Failed`.  Nothing else in the TUI touches the network.

A sign-in with Microsoft runs in a thread (the engine's): what the person must
do arrives as :class:`CheckRunner.SignInPrompted` (posting a message is
thread-safe, the event loop never waits), its end as
:class:`CheckRunner.SignedIn`.  The token itself never leaves the engine; the
runner only adds its forms to the run's :class:`~conntest.redact.Redactor`.

Every message carries the run's number, so a screen can drop the last few
messages of a run it has already replaced.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, field

from textual import work
from textual.message import Message
from textual.widget import Widget
from textual.worker import Worker

from conntest.engine import CheckRequest, StepCallback, retry_stripped
from conntest.model import Report, Step
from conntest.oauth.prompt import SignInPrompt
from conntest.oauth.result import SignInResult
from conntest.profile import Profile
from conntest.redact import Redactor
from conntest.tui.demo_lab import LabOpener
from conntest.tui.settings import LabFields, RunSettings, SignInHooks, build_request

CheckFunction = Callable[[CheckRequest, StepCallback | None], Awaitable[Report]]
"""``conntest.engine.run_check`` or a stand-in with the same signature (tests)."""


@dataclass(frozen=True)
class PlannedProfile:
    """A client as the run will test it."""

    profile_id: str
    name: str
    """What people call the client (``Outlook 2016 (IMAP account)``)."""
    imap_host: str
    """The IMAP server host after overrides (to place its DNS lookup)."""
    smtp_host: str
    """The SMTP server host after overrides."""


@contextlib.asynccontextmanager
async def _no_lab() -> AsyncIterator[None]:
    yield None


class CheckRunner(Widget):
    """Runs the engine in a worker and reports its progress as messages."""

    @dataclass
    class Started(Message):
        """The run has begun (the lab, if any, is up); progress can be laid out."""

        run: int
        """The run's number, counting from 1 for this runner."""
        settings: RunSettings
        """What was asked for."""
        plan: tuple[PlannedProfile, ...]
        """The clients under test, in display order, with their server hosts."""

    @dataclass
    class StepCompleted(Message):
        """One probe step finished (already redacted by the engine)."""

        run: int
        """The run it belongs to."""
        profile_id: str
        """Which client's probe took the step."""
        step: Step
        """The step, with its status and timing."""

    @dataclass
    class SignInPrompted(Message):
        """The sign-in waits for the person: a browser window, or a device code to enter."""

        run: int
        """The run it belongs to."""
        prompt: SignInPrompt
        """What to show (the identity platform's message, the code, the page)."""

    @dataclass
    class SignedIn(Message):
        """The sign-in with Microsoft returned (never with the token)."""

        run: int
        """The run it belongs to."""
        ok: bool
        """A token was obtained."""
        flow: str
        """``browser``, ``device-code``, ``cache`` or ``none``."""
        account: str | None
        """Who the identity platform signed in."""
        message: str
        """One line: ``signed in`` or the error and its AADSTS codes."""

    @dataclass
    class Finished(Message):
        """The engine returned its report."""

        run: int
        """The run it belongs to."""
        settings: RunSettings
        """What was asked for (the screen offers the same run again)."""
        report: Report
        """Everything observed and concluded."""
        redact: Redactor = field(default_factory=Redactor)
        """The run's secrets in every form (the password, the OAuth token): for saving."""

    @dataclass
    class Failed(Message):
        """The run could not finish (a bug, or the lab could not start)."""

        run: int
        """The run it belongs to."""
        error: str
        """One line for people, redacted."""

    def __init__(
        self,
        profiles: Mapping[str, Profile],
        check: CheckFunction,
        open_lab: LabOpener,
        *,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self._profiles = profiles
        self._check = check
        self._open_lab = open_lab
        self.run_number = 0
        """The number of the latest run started."""

    def start(self, settings: RunSettings, previous: Report | None = None) -> Worker[None]:
        """Start a run, cancelling the one in progress.

        With ``previous`` and ``settings.try_stripped``, the run is only the
        consented stripped retry on top of ``previous`` (no new sign-ins).
        """
        self.run_number += 1
        return self._run(self.run_number, settings, previous)

    def cancel(self) -> None:
        """Stop the run in progress, if any (its later messages are dropped)."""
        self.run_number += 1
        self.workers.cancel_group(self, "check")

    @work(exclusive=True, group="check", exit_on_error=False)
    async def _run(self, run: int, settings: RunSettings, previous: Report | None) -> None:
        redact = Redactor.for_credentials(settings.user, settings.password)

        def on_step(profile_id: str, step: Step) -> None:
            self.post_message(self.StepCompleted(run, profile_id, step))

        def on_prompt(prompt: SignInPrompt) -> None:  # the sign-in's thread
            self.post_message(self.SignInPrompted(run, prompt))

        def on_signed_in(result: SignInResult) -> None:
            nonlocal redact
            if result.token is not None:
                redact = Redactor.for_secrets(settings.user, settings.password, result.token)
            ok = result.token is not None
            self.post_message(self.SignedIn(run, ok, result.flow, result.account, result.message))

        hooks = SignInHooks(show=on_prompt, done=on_signed_in)

        try:
            lab_context = (
                self._open_lab(settings.scenario, settings.user)
                if settings.scenario is not None
                else _no_lab()
            )
            async with lab_context as lab:
                request = build_request(
                    settings, self._profiles, lab if isinstance(lab, LabFields) else None, hooks
                )
                self.post_message(self.Started(run, settings, self._plan(request)))
                if previous is not None and settings.try_stripped:
                    report = await retry_stripped(request, previous, on_step)
                else:
                    report = await self._check(request, on_step)
        except Exception as exc:  # shown to the person, never with a secret in it
            message = f"{exc.__class__.__name__}: {exc}"
            self.post_message(self.Failed(run, redact(message)))
            return
        finally:  # cancelled (Escape, quit, run again) or done: no sign-in waits on
            hooks.cancel.set()
        self.post_message(self.Finished(run, settings, report, redact))

    @staticmethod
    def _plan(request: CheckRequest) -> tuple[PlannedProfile, ...]:
        return tuple(
            PlannedProfile(
                p.id,
                p.name,
                request.imap_server[0] if request.imap_server else p.imap.host,
                request.smtp_server[0] if request.smtp_server else p.smtp.host,
            )
            for p in request.profiles
        )
