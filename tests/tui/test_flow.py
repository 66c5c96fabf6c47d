"""Pilot tests: the whole flow, keyboard only, against the embedded lab.

Each test drives the app as a person would (keys only, 80×24) and checks
both what the runner reported (its messages) and what the widgets hold.
"""

from __future__ import annotations

import argparse
import json

import pytest
from textual.widgets import Checkbox, Collapsible, DataTable, Input, RadioSet, Select, TabbedContent

from conntest.errors import UsageError
from conntest.model import Severity
from conntest.tui.app import run_tui
from conntest.tui.dialogs import HelpScreen, StrippedRetryScreen
from conntest.tui.progress import ProgressView, StepChecklist
from conntest.tui.result_screen import RunScreen
from conntest.tui.runner import CheckRunner
from conntest.tui.setup_screen import SetupScreen
from conntest.tui.terminal_theme import DARK, LIGHT
from conntest.tui.verdict import ClientMatrix, FailureView, FindingCard, VerdictBanner
from tests.conftest import SECRET, assert_no_secret
from tests.tui.conftest import ALL, Messages, make_app, screen_text, wait_for_verdict, wait_until
from tests.tui.fixtures import ScriptedCheck, live_steps, single_client_report


def banner_of(screen: RunScreen) -> VerdictBanner:
    return screen.query_one(VerdictBanner)


@pytest.mark.parametrize(
    ("scenario", "clients", "kind", "primary"),
    [
        ("ok", ALL, "works", None),
        ("basic-auth-retired", ALL, "fails", "basic-auth-disabled"),
        ("port-closed", ("ios-mail",), "fails", "port-closed"),
        ("tls-intercepted", ("outlook-2016",), "fails", "tls-intercepted"),
    ],
)
async def test_demo_scenario_end_to_end(
    scenario: str, clients: tuple[str, ...], kind: str, primary: str | None, messages: Messages
) -> None:
    """Demo → pick a scenario → Ctrl+R → checklists fill in → verdict names the cause."""
    app = make_app(demo=True, scenario=scenario, selected=clients)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        assert app.screen.query_one("#scenario", Select).value == scenario
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)

        started = messages.of(CheckRunner.Started)
        assert len(started) == 1
        assert started[0].settings.scenario == scenario
        assert started[0].settings.profile_ids == clients
        assert [p.profile_id for p in started[0].plan] == list(clients)
        steps = messages.of(CheckRunner.StepCompleted)
        assert steps, "the checklist must fill in from live step messages"
        assert {m.profile_id for m in steps} <= set(clients)
        (finished,) = messages.of(CheckRunner.Finished)
        report = finished.report
        assert screen.report is report

        assert banner_of(screen).verdict.kind == kind
        cards = list(screen.query(FindingCard))
        if primary is None:
            assert report.severity <= Severity.INFO
            assert not any(c.primary for c in cards)
        else:
            leading = [c for c in cards if c.primary]
            assert leading and leading[0].finding.code == primary
            assert leading[0].finding.remedy
        # The checklists of the Steps tab hold the report's outcome, DNS included.
        final = screen.query_one("#final-steps", ProgressView)
        views = [v for c in final.query(StepChecklist) for v in c.views]
        assert {v.state for v in views if v.label == "DNS"} <= {"pass", "fail"}
        assert "running" not in {v.state for v in views}
        if len(clients) > 1:
            matrix = screen.query_one(ClientMatrix)
            assert matrix.row_count == len(clients)


async def test_client_picker_and_matrix_keyboard_only(messages: Messages) -> None:
    """Pick "All three" with the arrow keys, run, open a client's diagnosis from the matrix."""
    app = make_app(demo=True, scenario="smtp-auth-disabled-tenant", selected=("ios-mail",))
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        radios = app.screen.query_one("#clients", RadioSet)
        assert radios.pressed_index == 1  # iOS Mail, from --profile
        await pilot.press("shift+tab")  # scenario → client picker
        assert app.focused is radios
        await pilot.press("right", "right", "enter")  # iOS Mail → "All three"
        assert radios.pressed_button is not None
        assert str(radios.pressed_button.label) == "All three"
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        (started,) = messages.of(CheckRunner.Started)
        assert started.settings.profile_ids == ALL

        banner = banner_of(screen).verdict
        assert banner.kind == "partly"
        assert "3 of 3 clients can receive, 0 of 3 can send" in banner.headline
        matrix = screen.query_one(ClientMatrix)
        text = screen_text(app)
        assert "Receive (IMAP)" in text and "Send (SMTP)" in text
        assert [o.receive for o in matrix.outcomes] == [True, True, True]
        assert [o.send for o in matrix.outcomes] == [False, False, False]

        tabs = screen.query_one("#verdict-tabs", TabbedContent)
        assert tabs.active == "tab-clients"
        await pilot.press("tab")  # tabs → matrix
        assert app.focused is matrix
        await pilot.press("down", "enter")  # iOS Mail
        await pilot.pause()
        assert tabs.active == "tab-diagnosis"
        assert "Sending is switched off" in screen_text(app)


async def test_live_progress_fills_in_from_messages(messages: Messages) -> None:
    """While the engine runs, each row shows pass, spinner or pending as steps arrive."""
    check = ScriptedCheck(single_client_report(), live_steps(), hold=True)
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        await wait_until(pilot, lambda: len(messages.of(CheckRunner.StepCompleted)) == 7)
        screen = app.screen
        assert isinstance(screen, RunScreen)
        rows = {
            (c.protocol, v.key): v
            for c in screen.query_one("#progress", ProgressView).query(StepChecklist)
            for v in c.views
        }
        assert rows["imap", "resolve"].state == "pass"  # inferred: the connect went ahead
        assert rows["imap", "capability"].state == "pass"
        assert rows["imap", "capability"].elapsed_ms == 33
        assert rows["imap", "login"].state == "running"
        assert rows["imap", "mailbox"].state == "pending"
        assert rows["smtp", "ehlo"].state == "pass"
        assert rows["smtp", "starttls"].state == "running"
        assert screen.report is None
        check.release.set()
        await wait_for_verdict(pilot)
        final = {
            (c.protocol, v.key): v
            for c in screen.query_one("#final-steps", ProgressView).query(StepChecklist)
            for v in c.views
        }
        assert final["smtp", "auth"].state == "fail"
        assert final["imap", "mailbox"].state == "pass"
        assert not screen.query(DataTable)  # one client: no matrix
        assert screen.query_one(VerdictBanner).verdict.headline == (
            "Partly works: Thunderbird can receive mail but not send"
        )


async def test_whitespace_hint_retry_with_consent(messages: Messages) -> None:
    """A trailing space is described while masked; the stripped retry asks first, then confirms."""
    app = make_app(demo=True, scenario="ok", selected=("outlook-2016",))
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        password = app.screen.query_one("#password", Input)
        password.focus()
        await pilot.press("end", "space")
        assert password.password is True
        hint = app.screen.query_one("#password-hint")
        assert "17 characters: 1 trailing space" in screen_text(app)
        assert hint.has_class("-warning")

        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        assert banner_of(screen).verdict.kind == "fails"
        assert screen.retry_offered
        assert "Press w to try once more" in " ".join(screen_text(app).split())

        await pilot.press("w")
        await pilot.pause()
        assert isinstance(app.screen, StrippedRetryScreen)
        assert "locks an account" in screen_text(app)
        await pilot.press("n")  # cancel: nothing is sent
        await pilot.pause()
        assert app.screen is screen
        assert len(messages.of(CheckRunner.Started)) == 1

        await pilot.press("w")
        await pilot.pause()
        await pilot.press("y")
        await wait_until(pilot, lambda: len(messages.of(CheckRunner.Finished)) == 2)
        await wait_for_verdict(pilot)
        retry = messages.of(CheckRunner.Started)[1]
        assert retry.settings.try_stripped is True
        report = messages.of(CheckRunner.Finished)[1].report
        names = [s.name for s in report.profiles[0].steps]
        assert any(n.endswith("-stripped") for n in names)
        primary = next(c for c in screen.query(FindingCard) if c.primary)
        assert primary.finding.code == "password-whitespace"
        assert primary.finding.title.startswith("Confirmed")
        assert not screen.retry_offered  # once only
        await pilot.press("w")
        await pilot.pause()
        assert not isinstance(app.screen, StrippedRetryScreen)


async def test_password_never_leaves_the_field(tmp_path, messages: Messages) -> None:
    """A distinctive password is never on screen (unless revealed), in files or the clipboard."""
    app = make_app(demo=True, scenario="wrong-password", selected=("ios-mail",), save_dir=tmp_path)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        password = app.screen.query_one("#password", Input)
        password.value = ""
        password.focus()
        await pilot.press(*SECRET)
        assert password.value == SECRET
        assert_no_secret(screen_text(app))
        assert_no_secret(app.export_screenshot())
        assert "2 spaces inside" in screen_text(app)

        # Revealing on purpose shows it; hiding again hides it.
        reveal = app.screen.query_one("#reveal", Checkbox)
        reveal.focus()
        await pilot.press("space")
        assert SECRET in screen_text(app)
        await pilot.press("space")
        assert_no_secret(screen_text(app))

        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        assert_no_secret(app.export_screenshot())
        for tab in ("tab-diagnosis", "tab-steps", "tab-transcript"):
            screen.query_one("#verdict-tabs", TabbedContent).active = tab
            await pilot.pause()
            assert_no_secret(screen_text(app))
        assert "<redacted>" in "\n".join(
            line for r in screen.report.profiles for s in r.steps for line in s.transcript
        )

        await pilot.press("s")
        await pilot.pause()
        saved = screen.saved
        assert saved is not None
        assert saved.markdown_path.parent == tmp_path
        assert saved.markdown_path.name.startswith("conntest-report-")
        markdown = saved.markdown_path.read_text(encoding="utf-8")
        document = saved.json_path.read_text(encoding="utf-8")
        assert_no_secret(markdown)
        assert_no_secret(document)
        assert_no_secret(app.clipboard)
        assert app.clipboard == saved.clipboard_text
        assert "# conntest: CRITICAL" in markdown
        assert "What to do" in markdown
        assert json.loads(document)["verdict"] == "critical"
        assert {m.profile_id for m in messages.of(CheckRunner.StepCompleted)} == {"ios-mail"}
        for message in messages.of(CheckRunner.StepCompleted):
            assert_no_secret(repr(message.step))


async def test_back_to_settings_and_run_again(messages: Messages) -> None:
    """Escape returns to the filled-in settings; r runs the same check again."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert app.focused is app.screen.query_one("#password", Input)
        await pilot.press(*"abcdefghijklmnop", "enter")  # Enter in a field runs too
        screen = await wait_for_verdict(pilot)
        assert check.requests[0].password == "abcdefghijklmnop"
        await pilot.press("r")
        await wait_until(pilot, lambda: len(messages.of(CheckRunner.Finished)) == 2)
        assert len(check.requests) == 2
        assert messages.of(CheckRunner.Finished)[1].run == 2
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert app.screen.query_one("#user", Input).value == "adele.vance@contoso.com"
        assert app.screen.query_one("#password", Input).value == "abcdefghijklmnop"
        assert screen.runner.run_number == 3  # cancelled on the way out
        await pilot.press("ctrl+r")
        await wait_for_verdict(pilot)
        assert len(check.requests) == 3


async def test_engine_error_is_shown_redacted(messages: Messages) -> None:
    """A crash in the engine becomes a plain message without the password, and r retries."""

    async def broken(request, on_step):  # type: ignore[no-untyped-def]
        raise RuntimeError(f"exploded while holding {request.password}")

    app = make_app(user="adele.vance@contoso.com", selected=("ios-mail",), check=broken)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        app.screen.query_one("#password", Input).value = SECRET
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        (failed,) = messages.of(CheckRunner.Failed)
        assert "exploded while holding <redacted>" in failed.error
        assert screen.query(FailureView)
        assert banner_of(screen).verdict.kind == "unknown"
        assert_no_secret(screen_text(app))
        assert screen.check_action("save", ()) is None  # nothing to save


async def test_advanced_fields_are_checked_before_running(messages: Messages) -> None:
    """A malformed server override opens the advanced section and says what is wrong."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        app.screen.query_one("#imap-server", Input).value = "outlook.office365.com"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        assert not app.screen.query_one("#advanced", Collapsible).collapsed
        assert "expected HOST:PORT" in screen_text(app)
        assert not messages.of(SetupScreen.RunRequested)

        app.screen.query_one("#imap-server", Input).value = "imap.example.net:993"
        app.screen.query_one("#timeout", Input).value = "12"
        await pilot.press("ctrl+r")
        await wait_for_verdict(pilot)
        (request,) = check.requests
        assert request.imap_server == ("imap.example.net", 993)
        assert request.timeout == 12
        assert request.smtp_server is None


async def test_help_opens_and_closes() -> None:
    """F1 shows the keys; Escape goes back."""
    app = make_app(user="a@b.example")
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("f1")
        await pilot.pause()
        assert isinstance(app.screen, HelpScreen)
        assert "run the same check again" in screen_text(app)
        await pilot.press("escape")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)


async def test_prefill_subset_of_clients() -> None:
    """--profile given twice adds that pair to the picker, selected."""
    app = make_app(user="a@b.example", selected=("outlook-2016", "thunderbird"))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        radios = app.screen.query_one("#clients", RadioSet)
        assert radios.pressed_button is not None
        assert str(radios.pressed_button.label) == "Outlook 2016 + Thunderbird"
        assert isinstance(app.screen, SetupScreen)
        assert app.screen.collect().profile_ids == ("outlook-2016", "thunderbird")


def test_unknown_profile_is_a_usage_error() -> None:
    """`conntest tui --profile nope` fails before any screen opens, naming the known ids."""
    args = argparse.Namespace(user=None, profile=["outlok-2016"], demo=False)
    with pytest.raises(UsageError, match="did you mean 'outlook-2016'"):
        run_tui(args)


def test_theme_follows_the_terminal() -> None:
    """The theme run_tui detected is used; a theme Textual does not know falls back to dark."""
    assert make_app(theme=LIGHT).theme == LIGHT
    assert make_app(theme="no-such-theme").theme == DARK
    assert make_app().theme == DARK
