"""The lockout state file under faults: broken entries, vanished runs, bulk writes, the lock."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

import pytest

from conntest import file_lock
from conntest.lockout import INTERRUPTED, AuthLedger, AuthOutcome, Refusal
from conntest.model import Severity

FAILED = AuthOutcome(True, True, "wrong-credentials", Severity.CRITICAL, ("imap",))


def write_state(path: Path, accounts: Mapping[str, object]) -> None:
    path.write_text(json.dumps({"schema": 1, "accounts": accounts}))


@pytest.mark.parametrize(
    ("raw", "problem"),
    [
        ('{"failed_at": Infinity, "code": "wrong-credentials"}', "not a finite number"),
        ('{"failed_at": NaN}', "not a finite number"),
        ('{"claimed_by": "1-x", "claimed_at": 1e999, "claimed_until": 5}', "not a finite"),
        ('{"failed_at": "yesterday"}', "failed_at is not a number"),
        ('{"failed_at": true}', "failed_at is not a number"),
        ('{"code": 7, "failed_at": 100}', "code is not a str"),
        ('{"protocols": [1], "failed_at": 100}', "protocols is not a list of names"),
        ('{"failed_at": 99999999999}', "lies in the future"),
        ('{"claimed_by": "1-x", "claimed_at": 100, "claimed_until": 1e12}', "too far"),
        ('{"claimed_by": "1-x"}', "incomplete claim"),
        ('"just a string"', "expected an object"),
    ],
)
def test_a_malformed_entry_is_reported_in_one_line_and_ignored(
    tmp_path: Path, raw: str, problem: str
) -> None:
    state = tmp_path / "s.json"
    sound = {
        "failed_at": time.time() - 10,
        "code": "wrong-credentials",
        "severity": "critical",
        "protocols": ["smtp"],
    }
    state.write_text(
        '{"schema": 1, "accounts": {"bad@x.test": '
        + raw
        + ', "ok@x.test": '
        + json.dumps(sound)
        + "}}"
    )
    ledger = AuthLedger(state, 600)
    refused = ledger.reserve([("bad@x.test", 30), ("ok@x.test", 30)])
    # The broken entry is ignored (so its account may be claimed), the sound one kept.
    assert list(refused) == ["ok@x.test"]
    assert refused["ok@x.test"].reason == "recent-failure"
    [warning] = ledger.warnings
    assert "\n" not in warning
    assert str(state) in warning and "'bad@x.test'" in warning and problem in warning
    # The file written back is valid strict JSON again.
    written = json.loads(state.read_text(), parse_constant=pytest.fail)
    assert written["accounts"]["bad@x.test"]["claimed_by"] == ledger.token


def test_infinity_does_not_stop_a_batch(tmp_path: Path) -> None:
    """issue 8 item 7: a state file holding Infinity aborted the whole batch."""
    state = tmp_path / "s.json"
    state.write_text('{"schema": 1, "accounts": {"a@x.test": {"failed_at": Infinity}}}')
    ledger = AuthLedger(state, 600)

    async def run() -> list[Refusal | None]:
        return list(await asyncio.gather(*(ledger.claim(f"{c}@x.test", 30) for c in "abc")))

    assert asyncio.run(run()) == [None, None, None]
    assert len(ledger.warnings) == 1


def test_a_claim_whose_run_is_gone_counts_as_a_failure(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    now = time.time()
    claim = {"claimed_by": "4242-0123456789ab", "claimed_at": now - 5, "claimed_until": now + 60}
    write_state(state, {"a@x.test": claim})
    ledger = AuthLedger(state, 600)
    refusal = ledger.reserve([("a@x.test", 30)])["a@x.test"]
    assert (refusal.reason, refusal.code, refusal.severity) == (
        "recent-failure",
        INTERRUPTED,
        Severity.WARNING,
    )
    assert refusal.since == pytest.approx(now - 5)
    assert refusal.until == pytest.approx(now - 5 + 600)
    why = refusal.explain(now)
    assert "stopped 5 s ago while authenticating" in why and "allowed in 10 min" in why
    assert ledger.failures()["a@x.test"]["code"] == INTERRUPTED


def test_a_live_run_s_claim_is_in_progress_until_it_ends(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    first, second = AuthLedger(state, 600), AuthLedger(state, 600)
    assert first.reserve([("a@x.test", 30)]) == {}
    assert second.reserve([("a@x.test", 30)])["a@x.test"].reason == "in-progress"
    run_file = state.with_name(f"{state.name}.run-{first.token}")
    assert run_file.exists()
    del first  # the run ends without settling: its lock on the run file goes with it
    assert not run_file.exists()
    refusal = second.reserve([("a@x.test", 30)])["a@x.test"]
    assert (refusal.reason, refusal.code) == ("recent-failure", INTERRUPTED)


def _claim_and_die(state: str) -> None:
    """In a child process: claim an account, then exit without settling (os._exit)."""
    ledger = AuthLedger(Path(state), 600)
    assert ledger.reserve([("a@x.test", 30)]) == {}
    sys.stdout.write("claimed\n")
    sys.stdout.flush()
    os._exit(0)


def test_a_process_that_dies_holding_a_claim_leaves_a_failure(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    code = (
        f"from tests.unit.test_lockout_state import _claim_and_die; _claim_and_die({str(state)!r})"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False
    )
    assert done.stdout == "claimed\n", done.stderr
    ledger = AuthLedger(state, 600)
    refusal = ledger.reserve([("a@x.test", 30)])["a@x.test"]
    assert refusal.code == INTERRUPTED
    # The dead run's file is cleared; only this run's own is left.
    assert [p.name for p in tmp_path.glob("s.json.run-*")] == [f"s.json.run-{ledger.token}"]


def test_an_expired_claim_of_a_live_run_counts_as_a_failure_too(tmp_path: Path) -> None:
    now = [1000.0]
    state = tmp_path / "s.json"
    first = AuthLedger(state, 600, clock=lambda: now[0])
    second = AuthLedger(state, 600, clock=lambda: now[0])
    assert first.reserve([("a@x.test", 10)]) == {}
    now[0] += 10 + 30 + 1  # past the deadline and the margin
    refusal = second.reserve([("a@x.test", 10)])["a@x.test"]
    assert (refusal.code, refusal.since) == (INTERRUPTED, 1000.0)


def test_an_unfinished_check_settles_as_interrupted_and_a_success_forgets(tmp_path: Path) -> None:
    now = [1000.0]
    state = tmp_path / "s.json"
    ledger = AuthLedger(state, 60, clock=lambda: now[0])
    ledger.reserve([("a@x.test", 10), ("b@x.test", 10)])
    ledger.settle({"a@x.test": AuthOutcome.interrupted(), "b@x.test": FAILED})
    assert {a: r["code"] for a, r in ledger.failures().items()} == {
        "a@x.test": INTERRUPTED,
        "b@x.test": "wrong-credentials",
    }
    now[0] += 61
    assert ledger.reserve([("a@x.test", 10)]) == {}
    ledger.settle({"a@x.test": AuthOutcome(True, False)})
    assert set(ledger.failures()) == {"b@x.test"}


class CountingLedger(AuthLedger):
    """Counts the locked read-modify-writes and checks the write-ahead rule on each."""

    writes = 0
    largest = 0

    def apply(
        self,
        reservations: Sequence[tuple[str, float]],
        settlements: Mapping[str, AuthOutcome | None],
    ) -> dict[str, Refusal]:
        self.writes += 1
        self.largest = max(self.largest, len(reservations) + len(settlements))
        return super().apply(reservations, settlements)


def test_concurrent_claims_share_writes_and_are_on_disk_when_granted(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    ledger = CountingLedger(state, 600)
    ledger.group_size = 50
    on_disk: list[bool] = []

    async def one(i: int) -> None:
        account = f"user{i}@x.test"
        assert await ledger.claim(account, 30) is None
        # Write-ahead: when claim() returns, the claim is in the file on disk.
        claims = json.loads(state.read_text())["accounts"]
        on_disk.append(claims[account]["claimed_by"] == ledger.token)
        await asyncio.sleep(0.001 * (i % 7))
        await ledger.release(account, FAILED if i % 2 else AuthOutcome(True, False))

    async def run() -> None:
        await asyncio.gather(*(one(i) for i in range(200)))

    asyncio.run(run())
    assert on_disk == [True] * 200
    # 200 claims and 200 settlements, 50 at most per write: far fewer than 400 writes.
    assert ledger.largest <= 50
    assert ledger.writes <= 40, ledger.writes
    failures = ledger.failures()
    assert len(failures) == 100 and all(r["code"] == "wrong-credentials" for r in failures.values())
    accounts = json.loads(state.read_text())["accounts"]
    assert not any("claimed_by" in r for r in accounts.values()), "every claim released"


def test_a_claim_cancelled_while_it_is_written_is_given_back(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    ledger = AuthLedger(state, 600)

    async def run() -> None:
        waiting = asyncio.ensure_future(ledger.claim("a@x.test", 30))
        await asyncio.sleep(0)
        waiting.cancel()
        await asyncio.sleep(0.5)  # the write and the give-back finish on their own
        assert await ledger.claim("b@x.test", 30) is None

    asyncio.run(run())
    accounts = json.loads(state.read_text())["accounts"]
    assert "a@x.test" not in accounts  # released, nothing else to remember
    assert accounts["b@x.test"]["claimed_by"] == ledger.token


def test_an_unusable_state_file_refuses_rather_than_risks(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("")
    ledger = AuthLedger(blocker / "s.json", 600)  # its directory is a file
    refusal = asyncio.run(ledger.claim("a@x.test", 30))
    assert refusal is not None and refusal.reason == "state-unavailable"
    assert str(blocker) in refusal.explain(time.time())


# --------------------------------------------------------------------------
# The lock seam


def test_a_lock_excludes_a_second_descriptor_and_dies_with_its_own(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = file_lock.open_lock_file(path)
    second = file_lock.open_lock_file(path)
    try:
        assert file_lock.acquire(first, blocking=False)
        assert not file_lock.acquire(second, blocking=False)
        with pytest.raises(file_lock.LockTimeout, match="still locked"):
            file_lock.acquire(second, timeout=0.05)
        os.close(first)  # closing is enough: a killed holder releases it too
        assert file_lock.acquire(second, blocking=False)
        file_lock.release(second)
    finally:
        os.close(second)
    assert oct(path.stat().st_mode & 0o777) == "0o600"


def test_a_lock_held_by_another_process_is_waited_for(tmp_path: Path) -> None:
    path, marker = tmp_path / "x.lock", tmp_path / "holder-done"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import time; from pathlib import Path; from conntest import file_lock\n"
            f"with file_lock.exclusive(Path({str(path)!r})):\n"
            "    print('held', flush=True); time.sleep(0.3)\n"
            f"    Path({str(marker)!r}).write_text('done')\n",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline() == "held\n"
        with file_lock.exclusive(path, timeout=30):
            # Only once the holder had finished its locked block did we get in.
            assert marker.read_text() == "done"
    finally:
        holder.communicate(timeout=30)
