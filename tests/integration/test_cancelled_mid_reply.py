"""A check cancelled (Ctrl-C, a batch past its deadline) as a server reply arrives stops.

Python 3.11's ``asyncio.wait_for``, which aiosmtplib awaits each reply with, returns
the reply when a cancellation comes in the same turn of the loop; a probe that
went on from there would send the credential after the user pressed Ctrl-C.  The
lab on loopback, real TLS; the cancel is issued from aiosmtplib's own
``data_received`` as the reply to the EHLO after STARTTLS (the one before AUTH)
lands, which is the turn the race needs.
"""

from __future__ import annotations

import asyncio
import dataclasses

import aiosmtplib.protocol
import pytest

from conntest.engine import run_check
from conntest.lab import LAB_PASSWORD, Lab
from tests.integration.test_batch import lab_entry


async def test_a_check_cancelled_as_a_reply_lands_sends_no_credential(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    received = aiosmtplib.protocol.SMTPProtocol.data_received
    task: asyncio.Task[object] | None = None
    cancelled = False

    def data_received(self: aiosmtplib.protocol.SMTPProtocol, data: bytes) -> None:
        nonlocal cancelled
        received(self, data)
        if b"AUTH" in data and not cancelled and task is not None:
            cancelled = True
            task.cancel()

    monkeypatch.setattr(aiosmtplib.protocol.SMTPProtocol, "data_received", data_received)
    async with Lab(default_scenario="ok") as lab:
        request = lab_entry(lab, "ada@contoso.com", "ok").request(LAB_PASSWORD)
        task = asyncio.ensure_future(run_check(dataclasses.replace(request, protocols=("smtp",))))
        with pytest.raises(asyncio.CancelledError):
            await task
        assert cancelled
        assert lab.record.auth_attempts() == 0
        assert lab.record.credentials_received() == 0
