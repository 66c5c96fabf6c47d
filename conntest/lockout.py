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
finding codes and the pid of the run holding a claim.  Safe under concurrent
runs: every read-modify-write happens under ``fcntl.flock`` on a separate
lock file (the state file itself is replaced atomically, so it cannot carry
the lock), and a run *claims* the accounts it is about to authenticate, so a
second run starting meanwhile skips them instead of authenticating twice.  A
claim expires at the account's deadline plus a margin, so a killed run does
not block an account for ever.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from conntest.errors import UsageError
from conntest.model import Report, Severity, Status
from conntest.paths import state_dir

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

AUTH_STEPS = frozenset({"login", "auth"})


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

    def reserve(self, accounts: Sequence[tuple[str, float]]) -> dict[str, Refusal]:
        """Claim ``(account, deadline seconds)`` pairs for authentication in this run.

        Returns the refused accounts with the reason; every other account is
        claimed (until its deadline plus :data:`CLAIM_MARGIN`) and must be
        settled with :meth:`settle`.
        """
        refused: dict[str, Refusal] = {}
        if not accounts:
            return refused
        with self._locked() as state:
            now = self.clock()
            records: dict[str, dict[str, Any]] = state["accounts"]
            for account, deadline in accounts:
                record = records.setdefault(account, {})
                failed_at = _number(record.get("failed_at"))
                claimed_until = _number(record.get("claimed_until"))
                if failed_at is not None and now - failed_at < self.min_interval:
                    refused[account] = Refusal(
                        "recent-failure",
                        since=failed_at,
                        until=failed_at + self.min_interval,
                        code=str(record.get("code", "")),
                        severity=_severity(record.get("severity")),
                        protocols=tuple(str(p) for p in record.get("protocols", ())),
                    )
                elif (
                    claimed_until is not None
                    and claimed_until > now
                    and record.get("claimed_by") != self.token
                ):
                    refused[account] = Refusal(
                        "in-progress", since=now, until=claimed_until, severity=Severity.WARNING
                    )
                else:
                    record["claimed_by"] = self.token
                    record["claimed_until"] = now + deadline + CLAIM_MARGIN
        return refused

    def settle(self, outcomes: Mapping[str, AuthOutcome | None]) -> None:
        """Record what happened to claimed accounts and release their claims.

        A failure is remembered with its finding; a success forgets the
        account; ``None`` or an outcome without an attempt only releases the
        claim, keeping an earlier failure on record.
        """
        if not outcomes:
            return
        with self._locked() as state:
            now = self.clock()
            records: dict[str, dict[str, Any]] = state["accounts"]
            for account, outcome in outcomes.items():
                record = records.get(account)
                if record is None:
                    record = records[account] = {}
                if record.get("claimed_by") == self.token:
                    record.pop("claimed_by", None)
                    record.pop("claimed_until", None)
                if outcome is not None and outcome.attempted:
                    if outcome.failed:
                        record.update(
                            failed_at=now,
                            code=outcome.code,
                            severity=outcome.severity.label,
                            protocols=list(outcome.protocols),
                        )
                    else:
                        for key in ("failed_at", "code", "severity", "protocols"):
                            record.pop(key, None)

    def check(self) -> None:
        """Make sure the state file can be used (``OSError`` if not), before a run starts."""
        with self._locked():
            pass

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
        self.path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)
            state = self._read()
            before = json.dumps(state, sort_keys=True, separators=(",", ":"))
            yield state
            self._prune(state)
            after = json.dumps(state, sort_keys=True, separators=(",", ":"))
            if after != before:
                # Claims are short-lived: only failure records are worth an fsync.
                durable = _failures(after) != _failures(before)
                write_atomically(self.path, (after + "\n").encode(), 0o600, durable=durable)
        finally:
            os.close(fd)  # closing the descriptor releases the flock

    def _read(self) -> dict[str, Any]:
        empty: dict[str, Any] = {"schema": SCHEMA, "accounts": {}}
        try:
            text = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return empty
        except (OSError, UnicodeDecodeError) as exc:
            self.warnings.append(f"cannot read the state file {self.path}: {exc}; starting afresh")
            return empty
        try:
            state = json.loads(text)
        except ValueError:
            state = None
        if not isinstance(state, dict) or not isinstance(state.get("accounts"), dict):
            self.warnings.append(f"the state file {self.path} is not conntest's; starting afresh")
            return empty
        state["accounts"] = {str(k): v for k, v in state["accounts"].items() if isinstance(v, dict)}
        return state

    def _prune(self, state: dict[str, Any]) -> None:
        now = self.clock()
        records: dict[str, dict[str, Any]] = state["accounts"]
        for account in list(records):
            record = records[account]
            failed_at = _number(record.get("failed_at"))
            claimed_until = _number(record.get("claimed_until"))
            if failed_at is not None and now - failed_at > max(FORGET_AFTER, self.min_interval):
                for key in ("failed_at", "code", "severity", "protocols"):
                    record.pop(key, None)
            if claimed_until is not None and claimed_until <= now:
                record.pop("claimed_by", None)
                record.pop("claimed_until", None)
            if not record:
                del records[account]


def open_ledger(state_file: Path | None, interval: float) -> AuthLedger | None:
    """The ledger for ``--min-auth-interval``, checked usable now; ``None`` when the rule is off.

    Fails before anything runs (:class:`UsageError`) rather than halfway through a batch.
    """
    if interval <= 0:
        return None
    ledger = AuthLedger(state_file or default_state_file(), interval)
    try:
        ledger.check()
    except OSError as exc:
        raise UsageError(
            f"cannot use the lockout state file {ledger.path}: {exc.strerror or exc} "
            "(choose another with --state-file)"
        ) from None
    return ledger


def write_atomically(path: Path, data: bytes, mode: int = 0o644, *, durable: bool = True) -> None:
    """Write ``data`` to ``path`` so that readers see the old file or the new one, never half.

    A temporary file in the same directory, flushed to disk (``durable``),
    then renamed over ``path`` (``os.replace`` is atomic within a file system).
    """
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _failures(encoded: str) -> list[tuple[str, object]]:
    state = json.loads(encoded)
    return [
        (account, record.get("failed_at"))
        for account, record in state["accounts"].items()
        if "failed_at" in record
    ]


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)


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
