"""The setup screen refuses an address the shared validator refuses, before anything runs."""

from __future__ import annotations

from textual.widgets import Input, Static

from conntest.tui.setup_screen import SetupScreen
from tests.tui.conftest import Messages, make_app
from tests.tui.fixtures import ScriptedCheck, single_client_report


async def test_an_address_with_two_at_signs_is_refused(messages: Messages) -> None:
    """The person sees what is wrong with the address; no run is requested."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        app.screen.query_one("#user", Input).value = "adele@vance@contoso.com"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        error = app.screen.query_one("#form-error", Static)
        assert error.display
        assert "exactly one '@'" in str(error.render())
        assert not messages.of(SetupScreen.RunRequested)


async def test_a_password_with_a_line_break_is_refused(messages: Messages) -> None:
    """A pasted password with a line break is named as the problem; nothing is sent."""
    check = ScriptedCheck(single_client_report())
    app = make_app(user="adele.vance@contoso.com", selected=("thunderbird",), check=check)
    async with app.run_test(size=(80, 24), message_hook=messages) as pilot:
        await pilot.pause()
        app.screen.query_one("#password", Input).value = "abcd\nefgh"
        await pilot.press("ctrl+r")
        await pilot.pause()
        assert isinstance(app.screen, SetupScreen)
        error = str(app.screen.query_one("#form-error", Static).render())
        assert "found a line break at position 5" in error
        assert "efgh" not in error
        assert not messages.of(SetupScreen.RunRequested)
