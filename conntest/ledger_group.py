"""Group commit for the lockout ledger: one locked write for many concurrent checks.

:meth:`AuthLedger.claim <conntest.lockout.AuthLedger.claim>` and
:meth:`~conntest.lockout.AuthLedger.release` queue here.  The first request
starts a writer task; requests made while a write is running (in a worker
thread, off the event loop) wait for the next one, which takes up to
``group_size`` claims and settlements at once.  No timer: an idle batch gets
its write at once, a busy one gets fewer, larger writes.

The write-ahead rule holds per account: a claim's future resolves only after
the write that holds it has returned, so no credential leaves before its
claim is on disk.
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from conntest.lockout import AuthLedger, AuthOutcome, Refusal

__all__ = ["Group"]


class Group:
    """Group commit on one event loop: the requests made while a write runs share the next."""

    def __init__(self, ledger: AuthLedger, loop: asyncio.AbstractEventLoop) -> None:
        self.ledger = ledger
        self.loop = loop
        self.claims: list[tuple[str, float, asyncio.Future[Refusal | None]]] = []
        self.releases: list[tuple[str, AuthOutcome | None, asyncio.Future[None]]] = []
        self.task: asyncio.Task[None] | None = None

    async def claim(self, account: str, deadline: float) -> Refusal | None:
        future: asyncio.Future[Refusal | None] = self.loop.create_future()
        self.claims.append((account, deadline, future))
        self._kick()
        return await future

    async def release(self, account: str, outcome: AuthOutcome | None) -> None:
        future: asyncio.Future[None] = self.loop.create_future()
        self.releases.append((account, outcome, future))
        self._kick()
        await future

    def _kick(self) -> None:
        if self.task is None:
            self.task = self.loop.create_task(self._drain())

    async def _drain(self) -> None:
        try:
            while self.claims or self.releases:
                await asyncio.sleep(0)  # let the checks started in this turn join
                size = max(1, self.ledger.group_size)
                releases, self.releases = self.releases[:size], self.releases[size:]
                room = size - len(releases)
                claims, self.claims = self.claims[:room], self.claims[room:]
                await self._write(claims, releases)
        except asyncio.CancelledError:
            # Shutting down: outcomes still waiting are recorded before the loop ends.
            self._write_now()
            raise
        finally:
            self.task = None

    async def _write(
        self,
        claims: list[tuple[str, float, asyncio.Future[Refusal | None]]],
        releases: list[tuple[str, AuthOutcome | None, asyncio.Future[None]]],
    ) -> None:
        ledger = self.ledger
        wanted = [(account, deadline) for account, deadline, _ in claims]
        settled = {account: outcome for account, outcome, _ in releases}
        try:
            refused = await asyncio.to_thread(ledger.apply, wanted, settled)
        except Exception as exc:  # every waiting check gets an answer, whatever went wrong
            error = exc if isinstance(exc, OSError) else OSError(f"{type(exc).__name__}: {exc}")
            if releases:
                ledger.warnings.append(f"cannot update the state file {ledger.path}: {error}")
            for _account, _, future in claims:
                if not future.done():
                    future.set_result(ledger.unavailable(error))
            refused = None
        for _, _, done in releases:
            if not done.done():
                done.set_result(None)
        if refused is None:
            return
        for account, _, future in claims:
            if future.done():  # its check was cancelled meanwhile: give the claim back
                if account not in refused:
                    self.releases.append((account, None, self.loop.create_future()))
            else:
                future.set_result(refused.get(account))

    def _write_now(self) -> None:
        releases, self.releases = self.releases, []
        for _, _, waiting in self.claims:
            waiting.cancel()
        self.claims = []
        if releases:
            with contextlib.suppress(OSError):
                self.ledger.settle({account: outcome for account, outcome, _ in releases})
            for _, _, done in releases:
                if not done.done():
                    done.set_result(None)
