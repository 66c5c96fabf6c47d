"""What a report means for the person at the screen: banner, matrix rows, checklist rows.

Pure functions of a :class:`~conntest.model.Report` (or of the steps seen so
far), no Textual, so the words on screen are unit-tested without an app.

A protocol *works* when its sign-in (IMAP LOGIN, SMTP AUTH) succeeded and no
step up to the first mailbox command failed; it is *untested* (``None``) when
no password was given and everything before sign-in worked.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from conntest.migration import modern_auth_cell
from conntest.model import Finding, ProfileResult, Report, Severity, Status, Step
from conntest.password import strip_invisible

Kind = Literal["works", "partly", "fails", "unknown"]

AUTH_STEP = {"imap": "login", "smtp": "auth"}
_AFTER_THE_FACT = frozenset({"logout", "quit"})
"""Steps after the verdict: a failed goodbye does not stop a client from working."""
STRIPPED_SUFFIX = "-stripped"


@dataclass(frozen=True)
class ChecklistRow:
    """One line of a progress checklist, made of one or more consecutive engine steps."""

    key: str
    """Stable id of the row (the first step name)."""
    label: str
    """What the row is called on screen."""
    steps: tuple[str, ...]
    """The engine step names it covers, in the order the probe runs them."""
    optional: tuple[str, ...] = ()
    """Steps that may never come (IMAP ID is sent only by some clients)."""


CHECKLISTS: Mapping[str, tuple[ChecklistRow, ...]] = {
    "imap": (
        ChecklistRow("resolve", "DNS", ("resolve",)),
        ChecklistRow("connect", "connect", ("connect",)),
        ChecklistRow("tls", "TLS", ("tls",)),
        ChecklistRow("greeting", "greeting", ("greeting",)),
        ChecklistRow("capability", "capabilities", ("capability", "id"), optional=("id",)),
        ChecklistRow("login", "login", ("login",)),
        ChecklistRow("mailbox", "mailbox", ("mailbox",)),
    ),
    "smtp": (
        ChecklistRow("resolve", "DNS", ("resolve",)),
        ChecklistRow("connect", "connect", ("connect",)),
        ChecklistRow("greeting", "greeting", ("greeting",)),
        ChecklistRow("ehlo", "capabilities", ("ehlo",)),
        ChecklistRow("starttls", "TLS", ("starttls", "tls")),
        ChecklistRow("ehlo-tls", "caps after TLS", ("ehlo-tls",)),
        ChecklistRow("auth", "login", ("auth",)),
    ),
}
"""The rows of the live checklist per protocol.  ``logout``/``quit`` are left out on
purpose; they stay in the Steps and Transcript tabs of the verdict."""

EXTRA_LABELS = {"control": "port 443 check"}
"""Steps outside the fixed rows that have a better name for people."""

PROTOCOL_TITLES = {"imap": "IMAP (receive)", "smtp": "SMTP (send)"}


RowState = Literal["pending", "running", "pass", "fail", "skip"]


@dataclass(frozen=True)
class RowView:
    """How one checklist row looks right now."""

    key: str
    label: str
    state: RowState
    elapsed_ms: float | None
    """Sum of the covered steps' times; ``None`` while nothing was timed."""
    detail: str
    """The failure, the skip reason, or a short fact (TLS version, addresses)."""


def row_views(
    protocol: str,
    seen: Mapping[str, Step],
    *,
    running: bool,
    extra: Sequence[Step] = (),
) -> list[RowView]:
    """The checklist of ``protocol`` given the steps seen so far, keyed by step name.

    While ``running``, the first unfinished row is the one in progress.  Steps
    the fixed rows do not cover (``login-stripped``) come last, one row each.
    """
    views: list[RowView] = []
    spinner_placed = False
    for row in CHECKLISTS[protocol]:
        got = [seen[name] for name in row.steps if name in seen]
        mandatory = [n for n in row.steps if n not in row.optional]
        complete = all(n in seen for n in mandatory)
        if not got or not complete:
            state: RowState = "pending"
            if running and not spinner_placed:
                state = "running"
                spinner_placed = True
            views.append(RowView(row.key, row.label, state, _elapsed(got), ""))
            continue
        views.append(RowView(row.key, row.label, _state(got), _elapsed(got), _detail(got)))
    for step in extra:
        label = EXTRA_LABELS.get(step.name, step.name)
        if step.name.endswith(STRIPPED_SUFFIX):
            label = f"{step.name.removesuffix(STRIPPED_SUFFIX)} (spaces removed)"
        views.append(RowView(step.name, label, _state([step]), step.elapsed_ms, _detail([step])))
    return views


def _state(steps: Sequence[Step]) -> RowState:
    if any(s.status is Status.FAIL for s in steps):
        return "fail"
    if all(s.status is Status.SKIP for s in steps):
        return "skip"
    return "pass"


def _elapsed(steps: Sequence[Step]) -> float | None:
    timed = [
        s.elapsed_ms for s in steps if s.status is not Status.SKIP and not s.data.get("inferred")
    ]
    return sum(timed) if timed else None


def step_detail(step: Step) -> str:
    """One line about a step for people: why it failed or was skipped, or a short fact."""
    if step.failure is not None:
        return step.failure.message
    if step.status is Status.SKIP:
        return str(step.data.get("reason", "not run"))
    if step.data.get("inferred"):
        return "resolved"
    if step.name == "resolve" and step.data.get("addresses"):
        return ", ".join(str(a) for a in step.data["addresses"])
    if step.tls is not None and step.tls.version:
        return step.tls.version
    if "shared_from" in step.data:
        return f"result shared with {step.data['shared_from']}"
    return ""


def _detail(steps: Sequence[Step]) -> str:
    failed = [s for s in steps if s.status is Status.FAIL]
    if failed:
        return step_detail(failed[0])
    for step in reversed(steps):
        text = step_detail(step)
        if text:
            return text
    return ""


def split_steps(
    steps: Iterable[Step], hosts: Mapping[str, str]
) -> dict[str, tuple[dict[str, Step], list[Step]]]:
    """A profile's steps per protocol: ``(by name, extra rows)``.

    ``hosts`` maps ``imap``/``smtp`` to the server host, to place the shared DNS
    lookups (protocol ``dns``) on the right checklist.
    """
    known = {p: {n for row in rows for n in row.steps} for p, rows in CHECKLISTS.items()}
    out: dict[str, tuple[dict[str, Step], list[Step]]] = {p: ({}, []) for p in CHECKLISTS}
    for step in steps:
        if step.protocol == "dns":
            if step.name != "resolve":
                continue
            for protocol, host in hosts.items():
                if step.data.get("host") == host:
                    out[protocol][0]["resolve"] = step
            continue
        if step.protocol not in out:
            continue
        by_name, extra = out[step.protocol]
        if step.name in known[step.protocol]:
            by_name[step.name] = step
        elif step.name not in _AFTER_THE_FACT:
            extra.append(step)
    return out


# --------------------------------------------------------------------------- verdict


def protocol_works(result: ProfileResult, protocol: str) -> bool | None:
    """True: signed in (and, IMAP, opened the mailbox); None: sign-in not tried."""
    steps = [
        s
        for s in result.steps
        if s.protocol == protocol
        and not s.name.endswith(STRIPPED_SUFFIX)
        and s.name not in _AFTER_THE_FACT
    ]
    if not steps or any(s.status is Status.FAIL for s in steps):
        return False
    if all(s.status is Status.SKIP for s in steps):
        return False
    auth = next((s for s in steps if s.name == AUTH_STEP[protocol]), None)
    if auth is not None and auth.status is Status.PASS:
        return True
    return None


def primary_finding(result: ProfileResult) -> Finding | None:
    """The most likely cause (the diagnosis ranks it first), if anything is wrong."""
    return next((f for f in result.findings if f.severity >= Severity.WARNING), None)


@dataclass(frozen=True)
class ClientOutcome:
    """One row of the all-clients matrix."""

    profile_id: str
    name: str
    """The client's short name (``Outlook 2016``)."""
    receive: bool | None
    """IMAP works (``None``: sign-in not tested)."""
    send: bool | None
    """SMTP works (``None``: sign-in not tested)."""
    kind: Kind
    severity: Severity
    primary: Finding | None
    """Why not (or the warning), ``None`` when nothing is wrong."""
    modern_auth: str = ""
    """The way to modern authentication and whether this run verified it, in a few words."""


def short_name(name: str) -> str:
    """``Outlook 2016 (IMAP account)`` → ``Outlook 2016``."""
    return name.split(" (", 1)[0].strip() or name


def client_outcome(result: ProfileResult, name: str) -> ClientOutcome:
    receive = protocol_works(result, "imap")
    send = protocol_works(result, "smtp")
    severity = result.severity
    worked = [w for w in (receive, send) if w is not False]
    kind: Kind
    if len(worked) == 2:
        kind = "works"
    elif worked:
        kind = "partly"
    elif severity is Severity.UNKNOWN:
        kind = "unknown"
    else:
        kind = "fails"
    cell = modern_auth_cell(result)
    return ClientOutcome(
        result.profile,
        short_name(name),
        receive,
        send,
        kind,
        severity,
        primary_finding(result),
        cell.short if cell is not None else "",
    )


def client_outcomes(report: Report, names: Mapping[str, str]) -> list[ClientOutcome]:
    return [client_outcome(r, names.get(r.profile, r.profile)) for r in report.profiles]


@dataclass(frozen=True)
class Banner:
    """The verdict line at the top of the result."""

    kind: Kind
    headline: str
    detail: str
    """The primary finding's title, or what the banner's words leave out."""


def _works_word(value: bool | None) -> str:
    return {True: "works", False: "fails", None: "not tested"}[value]


def banner(report: Report, names: Mapping[str, str]) -> Banner:
    outcomes = client_outcomes(report, names)
    if not outcomes:
        return Banner("unknown", "Could not tell", "No client was checked.")
    if len(outcomes) == 1:
        return _single_banner(outcomes[0])
    total = len(outcomes)
    kinds = {o.kind for o in outcomes}
    if kinds == {"works"}:
        if any(o.receive is None or o.send is None for o in outcomes):
            return Banner(
                "works",
                f"Reachable: the servers answer all {total} clients",
                "No password was given, so signing in was not tested.",
            )
        return Banner("works", f"Works: all {total} clients can connect", _warnings(outcomes))
    if "works" not in kinds and "partly" not in kinds:
        kind: Kind = "unknown" if kinds == {"unknown"} else "fails"
        first = next((o.primary for o in outcomes if o.primary is not None), None)
        return Banner(
            kind,
            f"Does not work: none of the {total} clients can receive or send mail",
            first.title if first else "",
        )
    receive = sum(o.receive is True for o in outcomes)
    send = sum(o.send is True for o in outcomes)
    first = next((o.primary for o in outcomes if o.kind != "works" and o.primary), None)
    return Banner(
        "partly",
        f"Partly works: {receive} of {total} clients can receive, {send} of {total} can send",
        first.title if first else "The Clients tab shows which client fails and why.",
    )


def _warnings(outcomes: Sequence[ClientOutcome]) -> str:
    warned = [o for o in outcomes if o.primary is not None]
    if not warned:
        return "Receiving (IMAP) and sending (SMTP) work for every client."
    return f"With a warning: {warned[0].primary.title if warned[0].primary else ''}"


def _single_banner(o: ClientOutcome) -> Banner:
    why = o.primary.title if o.primary is not None else ""
    if o.kind == "works":
        if o.receive is None or o.send is None:
            return Banner(
                "works",
                f"Reachable: {o.name}'s servers answer",
                why or "No password was given, so signing in was not tested.",
            )
        return Banner(
            "works",
            f"Works: {o.name} can receive and send mail",
            f"With a warning: {why}" if why else "Receiving (IMAP) and sending (SMTP) both work.",
        )
    if o.kind == "partly":
        good, bad = ("receive", "send") if o.receive is not False else ("send", "receive")
        return Banner("partly", f"Partly works: {o.name} can {good} mail but not {bad}", why)
    if o.kind == "unknown":
        return Banner("unknown", f"Could not tell whether {o.name} can connect", why)
    return Banner("fails", f"Does not work: {o.name} cannot receive or send mail", why)


def matrix_cells(o: ClientOutcome) -> tuple[str, str, str, str]:
    """Client, receive, send, why not: the cells of one matrix row."""
    mark = {True: "✔ works", False: "✘ fails", None: "– not tested"}
    why = o.primary.title if o.primary is not None else "nothing to fix"
    return o.name, mark[o.receive], mark[o.send], why


def ellipsize(text: str, width: int) -> str:
    """``text`` cut to ``width`` cells, ending in "…" if anything was cut (at a word if it can)."""
    if len(text) <= width:
        return text
    if width <= 1:
        return "…"[:width]
    cut = text[: width - 1]
    space = cut.rfind(" ")
    if space >= width // 2:
        cut = cut[:space]
    return cut.rstrip(" ,;:·-") + "…"


def offers_stripped_retry(report: Report, password: str | None = None) -> bool:
    """The diagnosis suspects whitespace in the password and no retry has been made yet.

    That is a ``password-whitespace`` finding raised to critical (a sign-in was
    refused as a credential failure), and no ``*-stripped`` step in the report.
    """
    retried = any(s.name.endswith(STRIPPED_SUFFIX) for r in report.profiles for s in r.steps)
    if retried or (password is not None and strip_invisible(password) == password):
        return False  # retried already, or the retry would send the refused password again
    return any(
        f.code == "password-whitespace" and f.severity >= Severity.CRITICAL
        for r in report.profiles
        for f in r.findings
    )


def transcript_lines(report: Report, names: Mapping[str, str]) -> list[str]:
    """The redacted conversation, step by step, for the Transcript tab and the report."""
    lines: list[str] = []
    for result in report.profiles:
        lines.append(f"== {short_name(names.get(result.profile, result.profile))}")
        for step in result.steps:
            for line in step.transcript:
                lines.append(f"[{step.protocol} {step.name}] {line}")
        lines.append("")
    return lines


__all__ = [
    "CHECKLISTS",
    "PROTOCOL_TITLES",
    "Banner",
    "ChecklistRow",
    "ClientOutcome",
    "RowView",
    "banner",
    "client_outcome",
    "client_outcomes",
    "ellipsize",
    "matrix_cells",
    "offers_stripped_retry",
    "primary_finding",
    "protocol_works",
    "row_views",
    "short_name",
    "split_steps",
    "step_detail",
    "transcript_lines",
]
