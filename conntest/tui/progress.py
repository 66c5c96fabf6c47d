"""Live progress: per client and protocol, a checklist of steps that fills in as events arrive.

:class:`ProgressView` is fed one step at a time (:meth:`ProgressView.record`)
while a run is in progress, and the whole report at the end
(:meth:`ProgressView.show_report`), which adds what the engine does not
report live (the DNS lookups, a consented retry).  The rows' words come from
:func:`conntest.tui.outcome.row_views`; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.widgets import Label

from conntest.model import ProfileResult, Status, Step
from conntest.tui.outcome import (
    CHECKLISTS,
    PROTOCOL_TITLES,
    RowView,
    row_views,
    short_name,
    split_steps,
)
from conntest.tui.runner import PlannedProfile

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"
MARKS = {"pending": "·", "pass": "✔", "fail": "✘", "skip": "–"}


def format_ms(elapsed_ms: float | None) -> str:
    if elapsed_ms is None:
        return ""
    if elapsed_ms >= 10_000:
        return f"{elapsed_ms / 1000:.1f} s"
    return f"{elapsed_ms:.0f} ms"


class StepRow(Horizontal):
    """One checklist line: mark, name, milliseconds, detail."""

    def __init__(self, view: RowView) -> None:
        super().__init__(classes=f"-{view.state}")
        self.view = view
        """What the row shows now."""
        self._frame = 0
        self._ready = False

    def compose(self) -> ComposeResult:
        yield Label(classes="mark")
        yield Label(Content(self.view.label), classes="name")
        yield Label(classes="ms")
        yield Label(classes="detail")

    def on_mount(self) -> None:
        self._ready = True
        self.show(self.view, self._frame)

    def show(self, view: RowView, frame: int) -> None:
        """Show ``view``; before the row is mounted, remember it for ``on_mount``."""
        self.view = view
        self._frame = frame
        for state in ("pending", "running", "pass", "fail", "skip"):
            self.set_class(view.state == state, f"-{state}")
        if not self._ready:
            return
        mark = SPINNER[frame % len(SPINNER)] if view.state == "running" else MARKS[view.state]
        self.query_one(".mark", Label).update(Content(mark))
        self.query_one(".name", Label).update(Content(view.label))
        self.query_one(".ms", Label).update(Content(format_ms(view.elapsed_ms)))
        self.query_one(".detail", Label).update(Content(view.detail))


class StepChecklist(Vertical):
    """The checklist of one protocol of one client."""

    def __init__(self, protocol: str) -> None:
        super().__init__(classes=f"checklist -{protocol}")
        self.protocol = protocol
        """``imap`` or ``smtp``."""

    def compose(self) -> ComposeResult:
        yield Label(Content(PROTOCOL_TITLES[self.protocol]), classes="checklist-title")
        for view in row_views(self.protocol, {}, running=False):
            yield StepRow(view)

    def show(self, views: Sequence[RowView], frame: int) -> None:
        rows = list(self.query(StepRow))
        for row, view in zip(rows, views, strict=False):
            row.show(view, frame)
        if len(views) > len(rows):
            self.mount_all(StepRow(v) for v in views[len(rows) :])


class ProfileProgress(Vertical):
    """One client's two checklists, and the steps seen so far."""

    def __init__(self, planned: PlannedProfile) -> None:
        super().__init__(classes="profile-progress")
        self.planned = planned
        """The client and its server hosts."""
        self.steps: list[Step] = []
        """Every step recorded, in arrival order."""
        self.running = False
        """True while its run is in progress (the next row spins)."""

    def compose(self) -> ComposeResult:
        yield Label(Content(short_name(self.planned.name)), classes="profile-title")
        for protocol in CHECKLISTS:
            yield StepChecklist(protocol)

    def record(self, step: Step) -> None:
        self.steps.append(step)

    def replace_steps(self, steps: Iterable[Step]) -> None:
        self.steps = list(steps)

    def views(self) -> dict[str, list[RowView]]:
        hosts = {"imap": self.planned.imap_host, "smtp": self.planned.smtp_host}
        split = split_steps(self.steps, hosts)
        result: dict[str, list[RowView]] = {}
        for protocol, (found, extra) in split.items():
            seen = dict(found)
            if "resolve" not in seen and self.running:
                inferred = _inferred_dns(protocol, seen)
                if inferred is not None:
                    seen["resolve"] = inferred
            result[protocol] = row_views(protocol, seen, running=self.running, extra=extra)
        return result

    def refresh_rows(self, frame: int) -> None:
        views = self.views()
        for checklist in self.query(StepChecklist):
            checklist.show(views[checklist.protocol], frame)


def _inferred_dns(protocol: str, seen: dict[str, Step]) -> Step | None:
    """The engine reports DNS only in the final report; a probe step means it resolved."""
    if not seen:
        return None
    if all(s.status is Status.SKIP for s in seen.values()):
        return None
    return Step(protocol, "resolve", Status.PASS, 0.0, 0.0, data={"inferred": True})


class ProgressView(Horizontal):
    """Every client's checklists side by side; spins while a run is in progress."""

    def __init__(
        self,
        plan: Sequence[PlannedProfile],
        *,
        spinners: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id, classes="-many" if len(plan) > 1 else "-single")
        self.plan = tuple(plan)
        """The clients, in display order."""
        self._spinning = spinners
        self._frame = 0
        self._running = False

    def compose(self) -> ComposeResult:
        for planned in self.plan:
            yield ProfileProgress(planned)

    def on_mount(self) -> None:
        if self._spinning:
            self.set_interval(0.1, self._tick)

    def _tick(self) -> None:
        if self._running:
            self._frame += 1
            for column in self.query(ProfileProgress):
                for row in column.query(StepRow):
                    if row.view.state == "running":
                        row.show(row.view, self._frame)

    def _column(self, profile_id: str) -> ProfileProgress | None:
        for column in self.query(ProfileProgress):
            if column.planned.profile_id == profile_id:
                return column
        return None

    def start(self) -> None:
        """A run begins: the first step of every checklist spins."""
        self._running = True
        for column in self.query(ProfileProgress):
            column.running = True
            column.refresh_rows(self._frame)

    def record(self, profile_id: str, step: Step) -> None:
        """A step finished: fill in its row and move the spinner on."""
        column = self._column(profile_id)
        if column is None:
            return
        column.record(step)
        column.refresh_rows(self._frame)

    def show_results(self, results: Sequence[ProfileResult]) -> None:
        """The run is over: show the report's steps, DNS lookups and retries included."""
        self._running = False
        by_id = {r.profile: r for r in results}
        for column in self.query(ProfileProgress):
            column.running = False
            result = by_id.get(column.planned.profile_id)
            if result is not None:
                column.replace_steps(result.steps)
            column.refresh_rows(self._frame)

    def stop(self) -> None:
        """The run ended without a report: stop spinning, leave what arrived."""
        self._running = False
        for column in self.query(ProfileProgress):
            column.running = False
            column.refresh_rows(self._frame)
