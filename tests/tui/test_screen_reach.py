"""Everything on the verdict can be reached and read at 80×24, and the keys say so.

A person scrolls the Diagnosis tab with the keyboard (Tab into it, then
PageDown) and reads every line; the administrator's part of every finding,
for every client, is among what they read.  These run the real engine
against the embedded lab, for one client and for all three.
"""

from __future__ import annotations

import re

import pytest
from textual.command import CommandPalette
from textual.containers import VerticalScroll
from textual.pilot import Pilot
from textual.widgets import Input, Select, TabbedContent

from conntest.tui.app import ConntestApp
from conntest.tui.dialogs import HelpScreen
from conntest.tui.progress import StepChecklist
from conntest.tui.result_screen import RunScreen
from conntest.tui.verdict import ClientFindings, ClientMatrix
from tests.tui.conftest import ALL, make_app, screen_text, wait_for_verdict

BORDERS = re.compile(r"[▌▐▎▍▊▋█│┃]")


def words(text: str) -> str:
    """Text as a person reads it: no box-drawing, one space between words."""
    return " ".join(BORDERS.sub(" ", text).split())


async def read_by_scrolling(pilot: Pilot[object], scroll: VerticalScroll) -> list[str]:
    """Every line of ``scroll``'s content, read off the screen page by page with PageDown."""
    app = pilot.app
    assert isinstance(app, ConntestApp)
    seen: dict[int, str] = {}
    for _ in range(200):
        region = scroll.scrollable_content_region
        rows = screen_text(app).splitlines()
        top = round(scroll.scroll_y)
        for offset in range(region.height):
            row = rows[region.y + offset] if region.y + offset < len(rows) else ""
            seen[top + offset] = row[region.x : region.x + region.width]
        if scroll.scroll_y >= scroll.max_scroll_y:
            break
        await pilot.press("pagedown")
        await pilot.pause()
    else:
        raise AssertionError("PageDown never reached the end")
    assert len(seen) >= scroll.virtual_size.height, "some lines were never on screen"
    return [seen[y] for y in sorted(seen)]


async def focus_diagnosis(pilot: Pilot[object], screen: RunScreen) -> VerticalScroll:
    tabs = screen.query_one("#verdict-tabs", TabbedContent)
    if tabs.active != "tab-diagnosis":
        await pilot.press("right")  # Clients → Diagnosis
        await pilot.pause()
    assert tabs.active == "tab-diagnosis"
    scroll = screen.query_one("#diagnosis", VerticalScroll)
    await pilot.press("tab")  # from the tab bar into the tab
    await pilot.pause()
    assert pilot.app.focused is scroll
    return scroll


@pytest.mark.parametrize(
    ("scenario", "clients"),
    [
        ("basic-auth-retired", ("thunderbird",)),
        ("smtp-auth-disabled-tenant", ("outlook-2016",)),
        ("security-defaults", ("ios-mail",)),
        ("basic-auth-retired", ALL),
        ("tls-legacy-rejected", ALL),
    ],
)
async def test_diagnosis_scrolls_to_every_line(scenario: str, clients: tuple[str, ...]) -> None:
    app = make_app(demo=True, scenario=scenario, selected=clients)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        scroll = await focus_diagnosis(pilot, screen)
        assert scroll.virtual_size.height > scroll.content_region.height, (
            "this scenario should not fit on one screen, or the test proves nothing"
        )
        read = words("\n".join(await read_by_scrolling(pilot, scroll)))

        sections = list(screen.query(ClientFindings))
        assert [s.outcome.profile_id for s in sections] == list(clients)
        admin_parts = 0
        for section in sections:
            if len(clients) > 1:
                assert words(section.outcome.name) in read
            for finding in section.result.findings:
                assert words(finding.title) in read, finding.code
                if finding.admin_action:
                    admin_parts += 1
                    assert words(finding.admin_action) in read, (section.outcome.name, finding)
                if finding.evidence:
                    assert words(finding.evidence) in read
        assert admin_parts >= len(clients)
        # Each section ends where the next begins: the last card's bottom is in the document.
        last = sections[-1]
        assert last.region.height == last.virtual_region.height


async def test_why_not_and_steps_end_with_an_ellipsis_when_cut() -> None:
    """At 80 columns a cut reason says so ("…"), and the three-client Steps tab has reasons."""
    app = make_app(demo=True, scenario="tls-legacy-rejected", selected=ALL)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        matrix = screen.query_one(ClientMatrix)
        text = screen_text(app)
        cuts = 0
        for outcome in matrix.outcomes:
            assert outcome.primary is not None
            title = outcome.primary.title
            row = next(line for line in text.splitlines() if line.strip().startswith(outcome.name))
            cells = re.split(r"\s{2,}", row.strip())
            why = cells[3]  # Client, Receive, Send, Why not (then Modern auth, scrolled)
            if why == title:
                continue
            assert why.endswith("…"), row
            assert title.startswith(why.removesuffix("…")), row
            cuts += 1
        assert cuts, "no reason was cut at 80 columns, so the ellipsis was not tested"

        screen.query_one("#verdict-tabs", TabbedContent).active = "tab-steps"
        await pilot.pause()
        checklists = list(screen.query_one("#final-steps").query(StepChecklist))
        assert len(checklists) == 2 * len(ALL)
        assert all(c.with_detail for c in checklists), "the reasons must be shown"
        failed = [v for c in checklists for v in c.views if v.state == "fail"]
        assert failed and all(v.detail for v in failed)
        steps = screen.query_one("#tab-steps VerticalScroll", VerticalScroll)
        await pilot.press("tab")
        await pilot.pause()
        assert app.focused is steps
        lines = await read_by_scrolling(pilot, steps)  # type: ignore[arg-type]
        fail_lines = [line for line in lines if "✘" in line]
        assert len(fail_lines) >= len(failed)
        for line in fail_lines:
            body = line.rstrip()
            detail = next(v.detail for v in failed if v.label in line)
            assert detail in body or body.endswith("…"), line


def footer_line(app: ConntestApp) -> str:
    return screen_text(app).rstrip("\n").splitlines()[-1]


FOOTER_KEYS = ("^q Quit", "f1 Help", "^p palette")


async def drawn_footer(pilot: Pilot[None], app: ConntestApp, seconds: float = 10.0) -> str:
    """The footer line once it shows its keys (a loaded machine can leave it blank a frame)."""
    for _ in range(int(seconds / 0.05)):
        footer = footer_line(app)
        if all(key in footer for key in FOOTER_KEYS):
            return footer
        await pilot.pause(0.05)
    return footer_line(app)


async def test_every_footer_shows_quit_help_and_the_palette() -> None:
    """Setup and result footers name ^q Quit, f1 Help, ^p palette; F1 works on both."""
    app = make_app(demo=True, scenario="ok", selected=("thunderbird",))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        for _ in range(2):
            footer = await drawn_footer(pilot, app)
            for key in FOOTER_KEYS:
                assert key in footer, footer
            assert "?" not in footer
            screen = app.screen
            await pilot.press("f1")
            await pilot.pause()
            assert isinstance(app.screen, HelpScreen)
            await pilot.press("f1")  # the same key closes it
            await pilot.pause()
            assert app.screen is screen
            await pilot.press("ctrl+r")
            await wait_for_verdict(pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        assert isinstance(app.screen, CommandPalette)


@pytest.mark.parametrize("key", ["q", "escape"])
async def test_q_and_escape_leave_the_setup_screen(key: str) -> None:
    app = make_app(demo=True, scenario="ok")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert isinstance(app.focused, Select)  # the scenario list, closed
        await pilot.press(key)
        await pilot.pause()
        assert app.return_code == 0
        assert not app.is_running


async def test_q_is_a_letter_in_a_text_field() -> None:
    app = make_app(user="")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        field = app.screen.query_one("#user", Input)
        assert app.focused is field
        await pilot.press("q")
        await pilot.pause()
        assert field.value == "q"
        assert app.is_running
