"""The all-clients matrix shows each client's way to modern authentication.

On a wide screen the column sits before "Why not"; at 80 columns it moves after it,
so the cause is never cut to a few letters.  Built from the demo lab (real engine)
so the routes come from the shipped profiles, as they do for a person.
"""

from __future__ import annotations

import pytest

from conntest.model import Severity
from conntest.tui.verdict import ClientMatrix, FindingCard
from tests.tui.conftest import ALL, Messages, make_app, wait_for_verdict


@pytest.mark.parametrize(("width", "modern_index"), [(140, 3), (80, 4)])
async def test_matrix_has_the_modern_authentication_column(
    width: int, modern_index: int, messages: Messages
) -> None:
    app = make_app(demo=True, scenario="ok", selected=ALL)
    async with app.run_test(size=(width, 30), message_hook=messages) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        matrix = screen.query_one(ClientMatrix)
        labels = [str(column.label) for column in matrix.columns.values()]
        assert labels[modern_index] == "Modern auth"
        cells = {
            str(matrix.get_row_at(i)[0]): str(matrix.get_row_at(i)[modern_index])
            for i in range(matrix.row_count)
        }
    assert cells == {
        "Outlook 2016": "Exchange · not probed",
        "iOS Mail": "Exchange · not probed",
        "Thunderbird": "OAuth2 · not verified",
    }


async def test_the_verdict_gives_the_december_advice_inside_the_window(
    messages: Messages, monkeypatch: pytest.MonkeyPatch
) -> None:
    """46 days before the change, a working Outlook 2016 still sends with a password: the
    screen warns and the finding tells its way forward (re-add as an Exchange account)."""
    monkeypatch.setenv("CONNTEST_TODAY", "2026-11-15")
    app = make_app(demo=True, scenario="ok", selected=("outlook-2016",))
    async with app.run_test(size=(100, 30), message_hook=messages) as pilot:
        await pilot.pause()
        await pilot.press("ctrl+r")
        screen = await wait_for_verdict(pilot)
        cards = {c.finding.code: c.finding for c in screen.query(FindingCard)}
    advice = cards["basic-auth-retiring"]
    assert advice.severity is Severity.WARNING
    assert "Microsoft 365 / Exchange account" in advice.remedy
    assert "in 46 days" in advice.detail
