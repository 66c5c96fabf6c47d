"""Live progress: per client and protocol, a checklist of steps that fills in as events arrive.

:class:`ProgressView` is fed one step at a time (:meth:`ProgressView.record`)
while a run is in progress, and the whole report at the end
(:meth:`ProgressView.show_report`), which adds what the engine does not
report live (the DNS lookups, a consented retry).  The rows' words come from
:func:`conntest.tui.outcome.row_views`; this module only lays them out.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import ClassVar

from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.content import Content
from textual.style import Style
from textual.timer import Timer
from textual.widget import Widget
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
NAME_WIDTH = 15
MS_WIDTH = 8
STATES = ("pending", "running", "pass", "fail", "skip")
MARKS = {"pending": "·", "pass": "✔", "fail": "✘", "skip": "–"}


def format_ms(elapsed_ms: float | None) -> str:
    if elapsed_ms is None:
        return ""
    if elapsed_ms >= 10_000:
        return f"{elapsed_ms / 1000:.1f} s"
    return f"{elapsed_ms:.0f} ms"


def _component_classes() -> set[str]:
    parts = ("mark", "name", "ms", "detail")
    return {
        "step-checklist--title",
        *(f"step-checklist--{part}" for part in parts),
        *(f"step-checklist--{part}-{state}" for part in parts for state in STATES),
    }


class StepChecklist(Widget):
    """The checklist of one protocol of one client: a title and one line per row.

    One widget draws every line, styled through component classes
    (``step-checklist--name-fail`` and so on): a run updates dozens of rows
    while the lab may share the event loop, and widgets per line would
    make each update restyle far more of the screen.
    """

    COMPONENT_CLASSES: ClassVar[set[str]] = _component_classes()

    def __init__(self, protocol: str, *, detail: bool = True) -> None:
        super().__init__(classes=f"-{protocol}")
        self.protocol = protocol
        """``imap`` or ``smtp``."""
        self.with_detail = detail
        """Whether rows show their detail column (off when clients share the width)."""
        self.views: list[RowView] = row_views(protocol, {}, running=False)
        """The rows as shown now."""
        self.frame = 0
        """The spinner frame of the running row."""

    def show(self, views: Sequence[RowView], frame: int) -> None:
        """Show ``views``; repaint only when something visible changed."""
        views = list(views)
        spinning = any(v.state == "running" for v in views)
        if views == self.views and (frame == self.frame or not spinning):
            return
        grew = len(views) != len(self.views)
        self.views = views
        self.frame = frame
        self.refresh(layout=grew)

    def state_of(self, key: str) -> RowView:
        """The row ``key`` (an engine step name such as ``login``)."""
        return next(v for v in self.views if v.key == key)

    def _style(self, part: str, state: str) -> Style:
        return self.get_visual_style(
            f"step-checklist--{part}", f"step-checklist--{part}-{state}", partial=True
        )

    def _line(self, view: RowView) -> Content:
        state = view.state
        mark = SPINNER[self.frame % len(SPINNER)] if state == "running" else MARKS[state]
        name = view.label
        if len(name) > NAME_WIDTH - 1:
            name = name[: NAME_WIDTH - 2] + "…"
        parts: list[tuple[str, str | Style]] = [
            (f"{mark} ", self._style("mark", state)),
            (f"{name:<{NAME_WIDTH}}", self._style("name", state)),
            (f"{format_ms(view.elapsed_ms):>{MS_WIDTH}}", self._style("ms", state)),
        ]
        if self.with_detail and view.detail:
            parts.append((f" {view.detail}", self._style("detail", state)))
        return Content.assemble(*parts)

    def render(self) -> Content:
        title = Content.styled(
            PROTOCOL_TITLES[self.protocol],
            self.get_visual_style("step-checklist--title", partial=True),
        )
        return Content("\n").join([title, *(self._line(v) for v in self.views)])


class ProfileProgress(Vertical):
    """One client's two checklists, and the steps seen so far."""

    def __init__(self, planned: PlannedProfile, *, detail: bool = True) -> None:
        super().__init__(classes="profile-progress")
        self.planned = planned
        """The client and its server hosts."""
        self.with_detail = detail
        """Whether rows show their detail column."""
        self.steps: list[Step] = []
        """Every step recorded, in arrival order."""
        self.running = False
        """True while its run is in progress (the next row spins)."""

    def compose(self) -> ComposeResult:
        yield Label(Content(short_name(self.planned.name)), classes="profile-title")
        for protocol in CHECKLISTS:
            yield StepChecklist(protocol, detail=self.with_detail)

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
    """Every client's checklists side by side; spins while a run is in progress.

    ``stacked`` puts the clients one below the other with every reason shown
    (the verdict's Steps tab, which scrolls); side by side, several clients
    share the width and the reasons are left out.
    """

    def __init__(
        self,
        plan: Sequence[PlannedProfile],
        *,
        spinners: bool = True,
        stacked: bool = False,
        id: str | None = None,
    ) -> None:
        classes = "-many" if len(plan) > 1 else "-single"
        super().__init__(id=id, classes=f"{classes} -stacked" if stacked else classes)
        self.plan = tuple(plan)
        """The clients, in display order."""
        self.stacked = stacked
        """One client below the other, with the reasons."""
        self._spinning = spinners
        self._frame = 0
        self._running = False
        self._timer: Timer | None = None

    def compose(self) -> ComposeResult:
        for planned in self.plan:
            yield ProfileProgress(planned, detail=self.stacked or len(self.plan) == 1)

    def on_mount(self) -> None:
        if self._spinning:
            self._timer = self.set_interval(0.1, self._tick, pause=not self._running)

    def _tick(self) -> None:
        if self._running:
            self._frame += 1
            for checklist in self.query(StepChecklist):
                checklist.show(checklist.views, self._frame)

    def _column(self, profile_id: str) -> ProfileProgress | None:
        for column in self.query(ProfileProgress):
            if column.planned.profile_id == profile_id:
                return column
        return None

    def start(self) -> None:
        """A run begins: the first step of every checklist spins."""
        self._running = True
        if self._timer is not None:
            self._timer.resume()
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
        self._halt()
        by_id = {r.profile: r for r in results}
        for column in self.query(ProfileProgress):
            column.running = False
            result = by_id.get(column.planned.profile_id)
            if result is not None:
                column.replace_steps(result.steps)
            column.refresh_rows(self._frame)

    def stop(self) -> None:
        """The run ended without a report: stop spinning, leave what arrived."""
        self._halt()
        for column in self.query(ProfileProgress):
            column.running = False
            column.refresh_rows(self._frame)

    def _halt(self) -> None:
        self._running = False
        if self._timer is not None:
            self._timer.pause()
