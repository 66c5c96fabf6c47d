"""The verdict: banner, findings with remedies, the all-clients matrix, steps, transcript.

Built once per finished run from the :class:`~conntest.model.Report`; all
the words come from :mod:`conntest.tui.outcome` and the diagnosis, and every
server text is shown as plain text (never parsed as markup).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from textual import on
from textual.app import ComposeResult
from textual.containers import Vertical, VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widgets import DataTable, Label, Log, Static, TabbedContent, TabPane

from conntest.model import Finding, ProfileResult, Report
from conntest.tui.outcome import (
    Banner,
    ClientOutcome,
    banner,
    client_outcomes,
    ellipsize,
    matrix_cells,
    transcript_lines,
)
from conntest.tui.progress import ProgressView
from conntest.tui.runner import PlannedProfile

BANNER_MARKS = {"works": "✔", "partly": "◐", "fails": "✘", "unknown": "?"}


class VerdictBanner(Vertical):
    """Works / partly / does not work, in one glance."""

    def __init__(self, verdict: Banner) -> None:
        super().__init__(classes=f"-{verdict.kind}", id="banner")
        self.verdict = verdict
        """The words shown."""

    def compose(self) -> ComposeResult:
        mark = BANNER_MARKS[self.verdict.kind]
        yield Label(Content(f"{mark} {self.verdict.headline}"), id="banner-headline")
        if self.verdict.detail:
            yield Label(Content(self.verdict.detail), id="banner-detail")


class FindingCard(Vertical):
    """One finding: what, why, what to do, what the administrator must do, evidence."""

    def __init__(self, finding: Finding, *, primary: bool) -> None:
        classes = f"finding -{finding.severity.label}" + (" -primary" if primary else "")
        super().__init__(classes=classes)
        self.finding = finding
        """The diagnosis' finding."""
        self.primary = primary
        """True for the most likely cause."""

    def compose(self) -> ComposeResult:
        f = self.finding
        yield Static(Content(f.title), classes="finding-title")
        meta = f"{f.severity.label} · {f.code}" + (f" · {f.protocol.upper()}" if f.protocol else "")
        if self.primary:
            meta = f"most likely cause · {meta}"
        yield Static(Content(meta), classes="finding-meta")
        if f.detail:
            yield Static(Content(f.detail), classes="finding-detail")
        if f.remedy:
            yield Static(Content("What to do"), classes="finding-label")
            yield Static(Content(f.remedy), classes="finding-remedy")
        if f.admin_action:
            yield Static(Content("For your administrator"), classes="finding-label")
            yield Static(Content(f.admin_action), classes="finding-admin")
        if f.evidence:
            yield Static(Content(f"Evidence: {f.evidence}"), classes="finding-evidence")


class ClientFindings(Vertical):
    """A client's findings, the most likely cause first."""

    def __init__(self, result: ProfileResult, outcome: ClientOutcome, heading: bool) -> None:
        super().__init__(classes="client-findings", id=f"findings-{outcome_index(outcome)}")
        self.result = result
        """The client's part of the report."""
        self.outcome = outcome
        """Its row of the matrix."""
        self.heading = heading
        """Show the client's name above its findings (several clients)."""

    def compose(self) -> ComposeResult:
        if self.heading:
            _, receive, send, _ = matrix_cells(self.outcome)
            yield Static(
                Content(f"{self.outcome.name} — receive {receive} · send {send}"),
                classes="client-heading",
            )
        primary = self.outcome.primary
        for finding in self.result.findings:
            yield FindingCard(finding, primary=finding is primary)


def outcome_index(outcome: ClientOutcome) -> str:
    """A DOM-safe id part for a profile id."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "_" for ch in outcome.profile_id)


MODERN_AUTH_WIDTH = 22
"""The matrix's modern-authentication column (``OAuth2 · not verified``)."""


class ClientMatrix(DataTable[str]):
    """Which client would connect, and why not; Enter opens a client's diagnosis."""

    @dataclass
    class ClientChosen(Message):
        """The person picked a client in the matrix to read its diagnosis."""

        profile_id: str
        """The client's profile id."""

    def __init__(self, outcomes: Sequence[ClientOutcome]) -> None:
        super().__init__(id="matrix", cursor_type="row", zebra_stripes=True)
        self.outcomes = tuple(outcomes)
        """The rows."""

    def on_mount(self) -> None:
        fixed = {"Client": 13, "Receive (IMAP)": 14, "Send (SMTP)": 12}
        for label, width in fixed.items():
            self.add_column(label, width=width)
        # "Why not" takes what is left of the screen; the rest is one Enter away. The way to
        # modern authentication goes before it when the screen is wide enough, else after it
        # (one scroll to the right), so "Why not" is never cut to a few letters.
        spare = self.app.size.width - sum(fixed.values()) - 2 * (len(fixed) + 1) - 4
        wide = spare - MODERN_AUTH_WIDTH - 2 >= 30
        why_width = spare - MODERN_AUTH_WIDTH - 2 if wide else max(spare, 20)
        if wide:
            self.add_column("Modern auth", width=MODERN_AUTH_WIDTH)
            self.add_column("Why not", width=why_width)
        else:
            self.add_column("Why not", width=why_width)
            self.add_column("Modern auth", width=MODERN_AUTH_WIDTH)
        for outcome in self.outcomes:
            client, receive, send, why = matrix_cells(outcome)
            # Cut with an ellipsis, so nobody takes a cut reason for the whole of it.
            why = ellipsize(why, why_width)
            modern = ellipsize(outcome.modern_auth or "–", MODERN_AUTH_WIDTH)
            last = (modern, why) if wide else (why, modern)
            self.add_row(client, receive, send, *last, key=outcome.profile_id)

    @on(DataTable.RowSelected)
    def _chosen(self, event: DataTable.RowSelected) -> None:
        event.stop()
        if event.row_key.value is not None:
            self.post_message(self.ClientChosen(event.row_key.value))


class VerdictView(Vertical):
    """Everything about a finished run."""

    def __init__(
        self,
        report: Report,
        names: Mapping[str, str],
        plan: Sequence[PlannedProfile],
        *,
        retry_offered: bool,
    ) -> None:
        super().__init__(id="verdict-view")
        self.report = report
        """The finished run."""
        self.names = names
        """Profile id → client name."""
        self.plan = tuple(plan)
        """The clients and their hosts (for the Steps tab)."""
        self.retry_offered = retry_offered
        """The diagnosis suspects whitespace and a stripped retry may be offered."""

    def compose(self) -> ComposeResult:
        outcomes = client_outcomes(self.report, self.names)
        yield VerdictBanner(banner(self.report, self.names))
        many = len(self.report.profiles) > 1
        with TabbedContent(id="verdict-tabs"):
            if many:
                with TabPane("Clients", id="tab-clients"):
                    yield ClientMatrix(outcomes)
                    yield Static(
                        Content("Enter on a client shows its diagnosis and what to do."),
                        classes="hint",
                    )
            with TabPane("Diagnosis", id="tab-diagnosis"), VerticalScroll(id="diagnosis"):
                if self.retry_offered:
                    yield Static(
                        Content(
                            "The password holds spaces or invisible characters. Press w to "
                            "try once more without them (one more sign-in attempt)."
                        ),
                        id="retry-callout",
                    )
                for result, outcome in zip(self.report.profiles, outcomes, strict=True):
                    yield ClientFindings(result, outcome, heading=many)
            with TabPane("Steps", id="tab-steps"), VerticalScroll():
                yield ProgressView(self.plan, spinners=False, stacked=True, id="final-steps")
            with TabPane("Transcript", id="tab-transcript"):
                yield Log(id="transcript", highlight=False, auto_scroll=False)

    def on_mount(self) -> None:
        self.query_one("#final-steps", ProgressView).show_results(self.report.profiles)
        lines = transcript_lines(self.report, self.names)
        self.query_one("#transcript", Log).write_lines(lines or ["(no transcript)"])

    @on(ClientMatrix.ClientChosen)
    def _show_client(self, event: ClientMatrix.ClientChosen) -> None:
        tabs = self.query_one("#verdict-tabs", TabbedContent)
        tabs.active = "tab-diagnosis"
        for section in self.query(ClientFindings):
            if section.outcome.profile_id == event.profile_id:
                self.query_one("#diagnosis", VerticalScroll).scroll_to_widget(
                    section, top=True, animate=False
                )
                break


class FailureView(Vertical):
    """The run could not finish: say so plainly, offer to run again."""

    def __init__(self, error: str) -> None:
        super().__init__(id="verdict-view")
        self.error = error
        """One line, redacted."""

    def compose(self) -> ComposeResult:
        yield VerdictBanner(Banner("unknown", "conntest could not finish the check", self.error))
        yield Static(
            Content("Press r to run again, or Escape to change the settings."), classes="hint"
        )


__all__ = [
    "ClientMatrix",
    "FailureView",
    "FindingCard",
    "VerdictBanner",
    "VerdictView",
]
