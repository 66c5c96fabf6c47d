"""The all-clients matrix shows each client's way to modern authentication.

On a wide screen the column sits before "Why not"; at 80 columns it moves after it,
so the cause is never cut to a few letters.  Built from the demo lab (real engine)
so the routes come from the shipped profiles, as they do for a person.
"""

from __future__ import annotations

import pytest

from conntest.tui.verdict import ClientMatrix
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
