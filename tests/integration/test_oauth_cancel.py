"""A front end that gives up stops the sign-in's wait (the TUI's Escape, quit, run again).

Real MSAL against the lab: the person leaves the moment they are told what
to do, and the sign-in returns at once, without a token, instead of waiting
for the code to expire or the browser to come back.
"""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path

import pytest

from conntest.lab import Lab
from conntest.oauth.prompt import SignInPrompt
from conntest.oauth.signin import SignInConfig, sign_in

USER = "alice@contoso.com"
CLIENT_ID = "11111111-2222-4333-8444-555555555555"


async def _abandoned(tmp_path: Path, *, device: bool) -> tuple[str | None, list[SignInPrompt], Lab]:
    cancel = threading.Event()
    prompts: list[SignInPrompt] = []

    def leave(prompt: SignInPrompt) -> None:
        prompts.append(prompt)
        cancel.set()

    async with Lab(default_scenario="oauth-ok", identity_user=USER) as lab:
        config = SignInConfig(
            client_id=CLIENT_ID,
            authority=lab.endpoints("oauth-ok").authority_host,
            tenant="organizations",
            user=USER,
            address="127.0.0.1",
            cache_file=tmp_path / "cache.json",
            ca_file=lab.ca_file,
            interactive=True,
            device_code=device,
            timeout=90.0,  # a wait that ignored the cancel would end as "timeout"
            show=leave,
            open_browser=lambda _url: True,  # a browser window the person never uses
            cancel=cancel,
        )
        result = await asyncio.to_thread(sign_in, config)
        assert result.token is None
        return result.error, prompts, lab


async def test_cancelled_device_code_stops_polling(tmp_path: Path) -> None:
    error, prompts, lab = await _abandoned(tmp_path, device=True)
    assert [p.flow for p in prompts] == ["device-code"]
    assert error == "authorization_pending"  # the last answer before giving up
    assert lab.identity is not None
    polls = [e for e in lab.identity.log() if e.endpoint == "token"]
    assert [e.outcome for e in polls] == ["AADSTS70016"]  # one poll, no token issued


async def test_cancelled_browser_sign_in_stops_waiting(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BROWSER", "unused")  # a browser "can open" (open_browser stands in)
    error, prompts, lab = await _abandoned(tmp_path, device=False)
    assert [p.flow for p in prompts] == ["browser"]
    assert error == "cancelled"
    assert lab.identity is not None
    assert not [e for e in lab.identity.log() if e.endpoint == "token"]
