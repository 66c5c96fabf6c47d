"""Lockout safety across runs: ``--min-auth-interval`` and its state file.

Within a run, the engine sends credentials at most once per protocol
(:class:`~conntest.probes.session.AuthGate`) and a batch names each account
once.  Across runs, a monitor that runs every few minutes with a wrong or
refused password would still count towards Entra smart lockout (10 failures
by default, behaviour.md §6).  :class:`AuthLedger` keeps, per account, when
its last authentication failed and with which finding, and refuses to
authenticate it again within ``min_interval`` seconds; the check then runs
connectivity-only and says why.

The state file is JSON, small, and holds no secret: addresses, timestamps,
finding codes and the token of the run holding a claim.  The rules it keeps:

* **Write-ahead.**  A run *claims* an account (on disk, flushed) before its
  credential is sent, and settles it afterwards.  A claim whose run is gone
  (killed, crashed, stopped by SIGTERM) or that outlived its deadline is an
  attempt that never finished: the next run records it as a failure
  (``auth-interrupted``), so it does not authenticate again at once.
* **One authentication at a time.**  Every read-modify-write happens under
  an exclusive lock on ``auth-state.json.lock`` (:mod:`conntest.file_lock`:
  ``flock`` on POSIX, ``msvcrt.locking`` on Windows; the state file itself
  is replaced atomically, so it cannot carry the lock).  A second run that
  meets a live claim skips that account instead of authenticating twice.
  Whether a claim's run is alive is known without pids: each run holds a
  lock on its own ``auth-state.json.run-TOKEN`` file, which the operating
  system releases when the process ends, however it ends.
* **In bulk.**  :meth:`AuthLedger.claim` and :meth:`AuthLedger.release`
  gather the requests of concurrent checks: those made while one write is
  in flight go together in the next (up to :attr:`AuthLedger.group_size`),
  one locked read-modify-write for the whole group, so a batch costs a
  handful of writes per second instead of two per account.
* **Never fatal.**  An entry that is malformed or holds a non-finite number
  (``Infinity``, ``NaN``) is reported in one line and ignored; a file that is
  not conntest's is reported and started afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import time
import uuid
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from conntest import file_lock
from conntest.errors import UsageError
from conntest.model import Report, Severity, Status
from conntest.output_file import write_atomically
from conntest.paths import private_dir, state_dir

if TYPE_CHECKING:
    from conntest.ledger_group import Group

__all__ = [
    "AuthLedger",
    "AuthOutcome",
    "Refusal",
    "auth_outcome",
    "default_state_file",
    "write_atomically",
]

SCHEMA = 1
CLAIM_MARGIN = 30.0
"""Seconds a claim outlives its account's deadline."""
FORGET_AFTER = 7 * 24 * 3600.0
"""Failure records older than this are dropped from the file."""

MAX_CLAIM = 3600.0
"""The longest claim a run takes, whatever deadline it is given."""
CLOCK_SKEW = 86400.0
"""A time further ahead than this is not a time conntest wrote."""
GROUP_SIZE = 128
"""Accounts whose claims or settlements share one write, at most."""
INTERRUPTED = "auth-interrupted"
"""The code of an attempt that never finished (its run was killed or stopped)."""

AUTH_STEPS = frozenset({"login", "auth"})
_FAILURE_KEYS = ("failed_at", "code", "severity", "protocols")
_CLAIM_KEYS = ("claimed_by", "claimed_at", "claimed_until")


def default_state_file() -> Path:
    """``auth-state.json`` in :func:`conntest.paths.state_dir` (``~/.local/state/conntest``…)."""
    return state_dir() / "auth-state.json"


@dataclass(frozen=True)
class AuthOutcome:
    """What a run's authentication did for one account."""

    attempted: bool
    """Credentials were sent (on at least one protocol)."""
    failed: bool
    """At least one protocol's authentication did not succeed."""
    code: str = ""
    """The finding that explains the failure (``wrong-credentials``)."""
    severity: Severity = Severity.CRITICAL
    protocols: tuple[str, ...] = ()
    """The protocols whose authentication failed."""

    @classmethod
    def interrupted(cls) -> AuthOutcome:
        """The check ended without a report after its credential may have gone out.

        Cancelled, past its deadline, a bug: the server may have counted a
        failure, so the ledger does too.
        """
        return cls(True, True, INTERRUPTED, Severity.WARNING)


@dataclass(frozen=True)
class Refusal:
    """Why an account must not authenticate in this run."""

    reason: Literal["recent-failure", "in-progress", "state-unavailable"]
    since: float
    """Wall-clock time of the failure (or of the other run's claim)."""
    until: float
    """When authentication is allowed again."""
    code: str = ""
    """The finding of the failed attempt (``recent-failure`` only)."""
    severity: Severity = Severity.WARNING
    protocols: tuple[str, ...] = ()

    @classmethod
    def unavailable(cls, path: Path, error: OSError, now: float) -> Refusal:
        """The state file cannot be used: without it, authenticating is not known to be safe."""
        return cls(
            "state-unavailable",
            since=now,
            until=now,
            code=f"{path}: {error.strerror or error}",
            severity=Severity.WARNING,
        )

    def explain(self, now: float) -> str:
        if self.reason == "in-progress":
            return "another conntest run is authenticating this account right now"
        if self.reason == "state-unavailable":
            return f"the lockout state file cannot be used ({self.code})"
        ago = _duration(now - self.since)
        wait = _duration(self.until - now)
        if self.code == INTERRUPTED:
            return (
                f"a conntest run was stopped {ago} ago while authenticating, so the server "
                f"may have counted a failure ({INTERRUPTED}); the next attempt is allowed in {wait}"
            )
        on = f" on {'/'.join(p.upper() for p in self.protocols)}" if self.protocols else ""
        return (
            f"the last authentication{on} failed {ago} ago ({self.code or 'failed'}); "
            f"the next one is allowed in {wait}"
        )


def auth_outcome(report: Report) -> AuthOutcome:
    """Read from a report whether credentials were sent and refused.

    Any authentication step that ran and did not pass counts as a failure,
    also a timeout in the middle of it: the server may well have counted it.
    """
    ran = [
        step
        for result in report.profiles
        for step in result.steps
        if step.protocol in {"imap", "smtp"}
        and step.name in AUTH_STEPS
        and step.status is not Status.SKIP
    ]
    if not ran:
        return AuthOutcome(attempted=False, failed=False)
    failed = sorted({s.protocol for s in ran if s.status is Status.FAIL})
    if not failed:
        return AuthOutcome(attempted=True, failed=False)
    worst = max(report.profiles, key=lambda p: p.severity)
    code = worst.findings[0].code if worst.findings else "auth-failed"
    severity = max(worst.severity, Severity.WARNING)
    return AuthOutcome(True, True, code, severity, tuple(failed))


class AuthLedger:
    """The state file: failed attempts per account and the claims of running checks."""

    group_size = GROUP_SIZE

    def __init__(
        self,
        path: Path,
        min_interval: float,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.path = path
        self.lock_path = path.with_name(path.name + ".lock")
        self.min_interval = min_interval
        self.clock = clock
        self.token = f"{os.getpid()}-{uuid.uuid4().hex[:12]}"
        """Identifies this run's claims in the file."""
        self.warnings: list[str] = []
        """Problems with the state file met so far (for stderr), never fatal."""
        self._run_fd: int | None = None
        self._group: Group | None = None

    # -- the bulk interface for concurrent checks --------------------------

    async def claim(self, account: str, deadline: float) -> Refusal | None:
        """Claim one account before its credential is sent; ``None``: go ahead.

        Returns once the claim is on disk (write-ahead).  Concurrent calls
        share writes.  A state file that cannot be used refuses the account
        (``state-unavailable``) rather than risk an unrecorded attempt.
        """
        return await self._current_group().claim(account, deadline)

    async def release(self, account: str, outcome: AuthOutcome | None) -> None:
        """Settle one claimed account (see :meth:`settle`); never raises ``OSError``.

        Callers shield it from cancellation, so that a check cancelled at
        shutdown still has its outcome recorded.
        """
        await self._current_group().release(account, outcome)

    def unavailable(self, error: OSError) -> Refusal:
        """The refusal every waiting check gets when the state file cannot be used."""
        return Refusal.unavailable(self.path, error, self.clock())

    def _current_group(self) -> Group:
        from conntest.ledger_group import Group

        loop = asyncio.get_running_loop()
        if self._group is None or self._group.loop is not loop:
            self._group = Group(self, loop)
        return self._group

    # -- one locked read-modify-write ---------------------------------------

    def reserve(self, accounts: Sequence[tuple[str, float]]) -> dict[str, Refusal]:
        """Claim ``(account, deadline seconds)`` pairs for authentication in this run.

        Returns the refused accounts with the reason; every other account is
        claimed (until its deadline plus :data:`CLAIM_MARGIN`) and must be
        settled with :meth:`settle`.
        """
        return self.apply(accounts, {}) if accounts else {}

    def settle(self, outcomes: Mapping[str, AuthOutcome | None]) -> None:
        """Record what happened to claimed accounts and release their claims.

        A failure is remembered with its finding; a success forgets the
        account; ``None`` or an outcome without an attempt only releases the
        claim, keeping an earlier failure on record.
        """
        if outcomes:
            self.apply((), outcomes)

    def apply(
        self,
        reservations: Sequence[tuple[str, float]],
        settlements: Mapping[str, AuthOutcome | None],
    ) -> dict[str, Refusal]:
        """Settle, then reserve, in one locked read-modify-write; the refusals."""
        with self._locked() as state:
            now = self.clock()
            records: dict[str, dict[str, Any]] = state["accounts"]
            for account, outcome in settlements.items():
                self._settle_one(records, account, outcome, now)
            if reservations:
                self._recover(records, now)
                if self._run_fd is None:
                    self._hold_run_lock()
            refused: dict[str, Refusal] = {}
            for account, deadline in reservations:
                refusal = self._reserve_one(records, account, deadline, now)
                if refusal is not None:
                    refused[account] = refusal
            return refused

    def _reserve_one(
        self, records: dict[str, dict[str, Any]], account: str, deadline: float, now: float
    ) -> Refusal | None:
        record = records.setdefault(account, {})
        failed_at = record.get("failed_at")
        claimed_until = record.get("claimed_until")
        if failed_at is not None and now - failed_at < self.min_interval:
            return Refusal(
                "recent-failure",
                since=failed_at,
                until=failed_at + self.min_interval,
                code=record.get("code", ""),
                severity=_severity(record.get("severity")),
                protocols=tuple(record.get("protocols", ())),
            )
        if claimed_until is not None and record.get("claimed_by") != self.token:
            return Refusal("in-progress", since=now, until=claimed_until)
        length = min(max(deadline, 0.0), MAX_CLAIM) + CLAIM_MARGIN
        record.update(claimed_by=self.token, claimed_at=now, claimed_until=now + length)
        return None

    def _settle_one(
        self,
        records: dict[str, dict[str, Any]],
        account: str,
        outcome: AuthOutcome | None,
        now: float,
    ) -> None:
        record = records.setdefault(account, {})
        if record.get("claimed_by") == self.token:
            for key in _CLAIM_KEYS:
                record.pop(key, None)
        if outcome is None or not outcome.attempted:
            return
        if outcome.failed:
            record.update(
                failed_at=now,
                code=outcome.code,
                severity=outcome.severity.label,
                protocols=list(outcome.protocols),
            )
        else:
            for key in _FAILURE_KEYS:
                record.pop(key, None)

    def _recover(self, records: dict[str, dict[str, Any]], now: float) -> None:
        """Turn the claims of runs that are gone, or that outlived them, into failures."""
        alive: dict[str, bool] = {}
        for record in records.values():
            owner = record.get("claimed_by")
            if owner is None or owner == self.token:
                continue
            if owner not in alive:
                alive[owner] = self._run_alive(owner)
            if alive[owner] and record["claimed_until"] > now:
                continue
            started = min(record.get("claimed_at", now), now)
            if started >= record.get("failed_at", -math.inf):
                record.update(
                    failed_at=started,
                    code=INTERRUPTED,
                    severity=Severity.WARNING.label,
                    protocols=[],
                )
            for key in _CLAIM_KEYS:
                record.pop(key, None)

    # -- which runs are alive ---------------------------------------------

    def _run_path(self, token: str) -> Path:
        return self.path.with_name(f"{self.path.name}.run-{token}")

    def _hold_run_lock(self) -> None:
        """Lock this run's own file for as long as the run lives (under the state lock)."""
        path = self._run_path(self.token)
        fd = file_lock.open_lock_file(path)
        if not file_lock.acquire(fd, blocking=False):  # pragma: no cover - a token is unique
            os.close(fd)
            raise OSError(f"{path} is locked by another run")
        self._run_fd = fd
        weakref.finalize(self, _drop_run_lock, fd, path)

    def _run_alive(self, token: str) -> bool:
        """Whether the run ``token`` still holds its file; a dead run's file is removed."""
        path = self._run_path(token)
        try:
            fd = file_lock.open_lock_file(path, create=False)
        except FileNotFoundError:
            return False
        try:
            if not file_lock.acquire(fd, blocking=False):
                return True
            file_lock.release(fd)
        finally:
            os.close(fd)
        with contextlib.suppress(OSError):
            path.unlink()
        return False

    def _sweep_dead_runs(self) -> None:
        """Remove the files of runs that ended without tidying up (bounded)."""
        mine = self._run_path(self.token).name
        with contextlib.suppress(OSError):
            for count, path in enumerate(self.path.parent.glob(f"{self.path.name}.run-*")):
                if count >= 100:
                    break
                if path.name != mine:
                    self._run_alive(path.name.rsplit(".run-", 1)[1])

    # -- the file ----------------------------------------------------------

    def check(self) -> None:
        """Make sure the state file can be used (``OSError`` if not), before a run starts."""
        with self._locked():
            self._sweep_dead_runs()

    def failures(self) -> dict[str, dict[str, Any]]:
        """The failure records on file (for tests and ``--verbose`` output)."""
        with self._locked() as state:
            return {
                account: dict(record)
                for account, record in state["accounts"].items()
                if "failed_at" in record
            }

    @contextlib.contextmanager
    def _locked(self) -> Iterator[dict[str, Any]]:
        """Hold the lock, yield the state for changes, then write it back atomically."""
        private_dir(self.path.parent)
        with file_lock.exclusive(self.lock_path):
            state, text = self._read()
            failures_before = _failure_view(state)
            claims_before = _claim_view(state)
            yield state
            self._prune(state)
            after = json.dumps(state, sort_keys=True, separators=(",", ":"), allow_nan=False)
            if after != text and (text or state["accounts"]):
                # A new claim is the write-ahead record and a failure must survive a
                # crash: both are flushed. A released claim is not worth an fsync.
                durable = (
                    _failure_view(state) != failures_before
                    or not _claim_view(state) <= claims_before
                )
                write_atomically(self.path, (after + "\n").encode(), 0o600, durable=durable)

    def _read(self) -> tuple[dict[str, Any], str]:
        """The state and its text as read; malformed entries reported and left out."""
        empty: dict[str, Any] = {"schema": SCHEMA, "accounts": {}}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty, ""
        except (OSError, UnicodeDecodeError) as exc:
            self.warnings.append(f"cannot read the state file {self.path}: {exc}; starting afresh")
            return empty, ""
        try:
            state = json.loads(text)
        except (ValueError, RecursionError):
            state = None
        if not isinstance(state, dict) or not isinstance(state.get("accounts"), dict):
            self.warnings.append(f"the state file {self.path} is not conntest's; starting afresh")
            return empty, ""
        accounts: dict[str, dict[str, Any]] = {}
        problems: list[str] = []
        now = self.clock()
        for account, record in state["accounts"].items():
            problem = _malformed(record, now)
            if problem is None:
                accounts[account] = record
            else:
                problems.append(f"{account!r}: {problem}")
        if problems:
            more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
            self.warnings.append(
                f"the state file {self.path}: ignored a malformed entry {problems[0]}{more}"
            )
        return {"schema": SCHEMA, "accounts": accounts}, text.rstrip("\n") if not problems else ""

    def _prune(self, state: dict[str, Any]) -> None:
        now = self.clock()
        records: dict[str, dict[str, Any]] = state["accounts"]
        for account in list(records):
            record = records[account]
            failed_at = record.get("failed_at")
            if failed_at is not None and now - failed_at > max(FORGET_AFTER, self.min_interval):
                for key in _FAILURE_KEYS:
                    record.pop(key, None)
            if not record:
                del records[account]


def _drop_run_lock(fd: int, path: Path) -> None:
    with contextlib.suppress(OSError):
        os.close(fd)
    with contextlib.suppress(OSError):
        path.unlink()


def open_ledger(state_file: Path | None, interval: float) -> AuthLedger | None:
    """The ledger for ``--min-auth-interval``, checked usable now; ``None`` when the rule is off.

    Fails before anything runs (:class:`UsageError`) rather than halfway through a batch.
    """
    if interval <= 0:
        return None
    ledger = AuthLedger(usable_state_file(state_file), interval)
    try:
        ledger.check()
    except OSError as exc:
        raise UsageError(
            f"cannot use the lockout state file {ledger.path}: {exc.strerror or exc} "
            "(choose another with --state-file)"
        ) from None
    return ledger


def usable_state_file(state_file: Path | None) -> Path:
    """The state file to use, checked before anything is sent (:class:`UsageError` if not).

    Its atomic rename would destroy a device, FIFO or socket, and an
    explicit path in a directory that does not exist is a typo: both are
    refused (:func:`conntest.inputs.state_path.state_file_problem`).  Only the
    default state directory is created when missing.  A symbolic link to a
    regular file is followed, so the rename replaces the file and keeps the link.
    """
    from conntest.inputs.state_path import state_file_problem

    path = state_file if state_file is not None else default_state_file()
    problem = state_file_problem(path, explicit=state_file is not None)
    if problem is not None:
        what = "--state-file" if state_file is not None else "the lockout state file"
        raise UsageError(f"{what} {path}: {problem}")
    return Path(os.path.realpath(path)) if path.is_symlink() else path


def _failure_view(state: dict[str, Any]) -> set[tuple[str, object]]:
    return {(a, r["failed_at"]) for a, r in state["accounts"].items() if "failed_at" in r}


def _claim_view(state: dict[str, Any]) -> set[tuple[str, object]]:
    return {(a, r["claimed_at"]) for a, r in state["accounts"].items() if "claimed_at" in r}


_TYPES: dict[str, tuple[type, ...]] = {
    "failed_at": (int, float),
    "claimed_at": (int, float),
    "claimed_until": (int, float),
    "code": (str,),
    "severity": (str,),
    "claimed_by": (str,),
    "protocols": (list,),
}


def _malformed(record: Any, now: float) -> str | None:
    """Why a state entry cannot be trusted, or ``None`` when it is sound."""
    if not isinstance(record, dict):
        return "expected an object"
    for key, value in record.items():
        kinds = _TYPES.get(key)
        if kinds is None:
            continue  # a field of a later version: kept, not used
        if isinstance(value, bool) or not isinstance(value, kinds):
            return f"{key} is not a {'number' if float in kinds else kinds[0].__name__}"
        if not isinstance(value, int | float):
            continue
        if not math.isfinite(value):
            return f"{key} is not a finite number ({value})"
        if key in {"failed_at", "claimed_at"} and value > now + CLOCK_SKEW:
            return f"{key} lies in the future"
        if key == "claimed_until" and value > now + MAX_CLAIM + CLAIM_MARGIN + CLOCK_SKEW:
            return "claimed_until lies too far in the future"
    if "protocols" in record and not all(isinstance(p, str) for p in record["protocols"]):
        return "protocols is not a list of names"
    claim = [key in record for key in _CLAIM_KEYS]
    if any(claim) and not all(claim):
        return "an incomplete claim"
    return None


def _severity(label: object) -> Severity:
    for severity in Severity:
        if severity.label == label:
            return severity
    return Severity.CRITICAL


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 120:
        return f"{seconds} s"
    if seconds < 7200:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"
