"""CPU of the lockout ledger alone, per account, as a batch drives it.

A benchmark, not a test: it prints figures and asserts nothing.  ``N``
accounts go through claim → (the check, here 1 ms) → settle, ``--concurrency``
at a time, half of them failing (so the file grows as a real one does), in
one of two ways:

* ``bulk``: :meth:`AuthLedger.claim` / :meth:`AuthLedger.release`, the
  group commit the batch runner uses;
* ``per-account``: one locked read-modify-write per claim and per
  settlement, each in a worker thread (how the runner drove it before).

    .venv/bin/python benchmarks/ledger_benchmark.py [--accounts 1000] [--concurrency 100]
        [--mode bulk|per-account|both]
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from conntest.lockout import AuthLedger, AuthOutcome
from conntest.model import Severity

FAILED = AuthOutcome(True, True, "wrong-credentials", Severity.CRITICAL, ("imap", "smtp"))
PASSED = AuthOutcome(True, False)


async def run(mode: str, accounts: int, concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        ledger = AuthLedger(Path(tmp) / "auth-state.json", 900)
        writes = 0
        apply = ledger.apply

        def counted(*args: object) -> object:
            nonlocal writes
            writes += 1
            return apply(*args)  # type: ignore[arg-type]

        ledger.apply = counted  # type: ignore[method-assign]
        queue = iter(range(accounts))

        async def worker() -> None:
            for i in queue:
                key = f"user{i:05d}@contoso.com"
                outcome = FAILED if i % 2 else PASSED
                if mode == "bulk":
                    assert await ledger.claim(key, 25) is None
                    await asyncio.sleep(0.001)
                    await asyncio.shield(ledger.release(key, outcome))
                else:
                    assert not await asyncio.to_thread(ledger.reserve, [(key, 25)])
                    await asyncio.sleep(0.001)
                    await asyncio.shield(asyncio.to_thread(ledger.settle, {key: outcome}))

        cpu, wall = time.process_time(), time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    print(
        f"{mode:<12} {accounts} accounts, concurrency {concurrency}: "
        f"{cpu / accounts * 1000:.2f} ms CPU per account, {writes} writes, wall {wall:.2f} s"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=100)
    parser.add_argument("--mode", choices=["bulk", "per-account", "both"], default="both")
    args = parser.parse_args()
    modes = ["per-account", "bulk"] if args.mode == "both" else [args.mode]
    for mode in modes:
        asyncio.run(run(mode, args.accounts, args.concurrency))


if __name__ == "__main__":
    main()
