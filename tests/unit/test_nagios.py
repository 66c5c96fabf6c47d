"""``--format nagios`` against the Monitoring Plugins development guidelines.

The output must be: a status line ``CONNTEST STATE - text``, optional
perfdata after ``|``; long output lines; more perfdata after a ``|`` on the
last long-output line, one chunk per line after it.  Each perfdata item is
``'label'=value[UOM];[warn];[crit];[min];[max]`` with the thresholds in the
range syntax.  The parser below is written from the guidelines, not from the
renderer, so a drift in either shows.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

import pytest

from conntest.batch.config import AccountEntry, PasswordSource
from conntest.batch.runner import AccountResult, BatchResult, evaluate
from conntest.model import (
    Failure,
    FailureKind,
    Finding,
    ProfileResult,
    Report,
    Severity,
    Status,
    Step,
)
from conntest.render.nagios import render_nagios, render_unknown
from conntest.results.thresholds import Range, Thresholds
from tests.conftest import make_profile

# --------------------------------------------------------------------------
# A parser of plugin output, from the guidelines

STATUS = re.compile(r"^CONNTEST (OK|WARNING|CRITICAL|UNKNOWN) - \S[^|]*$")
UOM = r"(?:us|ms|s|%|B|KB|MB|TB|c)"
NUMBER = r"-?\d+(?:\.\d+)?"
RANGE = rf"@?(?:(?:~|{NUMBER})?:)?(?:{NUMBER})?"
PERF_ITEM = re.compile(
    rf"(?P<label>'[^'=]+'|[^'=\s]+)=(?P<value>{NUMBER}|U)(?P<uom>{UOM})?"
    rf"(?:;(?P<warn>{RANGE}))?(?:;(?P<crit>{RANGE}))?"
    rf"(?:;(?P<min>{NUMBER})?)?(?:;(?P<max>{NUMBER})?)?(?=\s|$)"
)


@dataclass
class Perf:
    label: str
    value: float
    uom: str
    warn: str
    crit: str
    min: str
    max: str


@dataclass
class PluginOutput:
    state: str
    status_text: str
    long_output: list[str]
    perfdata: list[Perf]


def parse_perfdata(text: str) -> list[Perf]:
    items: list[Perf] = []
    position = 0
    text = text.strip()
    while position < len(text):
        if text[position].isspace():
            position += 1
            continue
        match = PERF_ITEM.match(text, position)
        assert match, f"not perfdata per the guidelines: {text[position : position + 60]!r}"
        items.append(
            Perf(
                label=match["label"].strip("'"),
                value=math.nan if match["value"] == "U" else float(match["value"]),
                uom=match["uom"] or "",
                warn=match["warn"] or "",
                crit=match["crit"] or "",
                min=match["min"] or "",
                max=match["max"] or "",
            )
        )
        position = match.end()
    return items


def parse_plugin_output(output: str) -> PluginOutput:
    assert output.endswith("\n")
    lines = output[:-1].split("\n")
    status, bar, first_perf = lines[0].partition("|")
    status = status.rstrip()
    assert STATUS.match(status), status
    perf_chunks = [first_perf] if bar else []
    long_output: list[str] = []
    in_perf = False
    for line in lines[1:]:
        if in_perf:
            assert "|" not in line
            perf_chunks.append(line)
            continue
        text, bar, perf = line.partition("|")
        long_output.append(text.rstrip())
        if bar:
            perf_chunks.append(perf)
            in_perf = True
    perfdata = [item for chunk in perf_chunks for item in parse_perfdata(chunk)]
    labels = [p.label for p in perfdata]
    assert len(labels) == len(set(labels)), "perfdata labels must be unique"
    state = status.split()[1]
    return PluginOutput(state, status.split(" - ", 1)[1], long_output, perfdata)


# --------------------------------------------------------------------------
# Results built in code


def step(protocol: str, name: str, ms: float, status: Status = Status.PASS, **data: str) -> Step:
    failure = Failure(FailureKind.REJECTED, "refused") if status is Status.FAIL else None
    return Step(protocol, name, status, 0.0, ms, failure=failure, data=dict(data))


def full_steps(auth_status: Status = Status.PASS) -> list[Step]:
    return [
        step("dns", "resolve", 3.0, host="outlook.office365.com"),
        step("dns", "resolve", 4.0, host="smtp.office365.com"),
        step("imap", "connect", 10.0),
        step("imap", "tls", 20.0),
        step("imap", "greeting", 5.0),
        step("imap", "login", 40.0, auth_status),
        step("smtp", "connect", 11.0),
        step("smtp", "greeting", 6.0),
        step("smtp", "tls", 21.0),
        step("smtp", "auth", 41.0, auth_status),
    ]


def finding(code: str, severity: Severity, title: str = "") -> Finding:
    return Finding(
        code=code,
        severity=severity,
        title=title or f"title of {code}",
        detail="detail",
        remedy="remedy",
        evidence="smtp auth: 535 5.7.139 …",
    )


def result(
    address: str,
    code: str = "ok",
    severity: Severity = Severity.OK,
    *,
    elapsed_ms: float = 1234.5,
    thresholds: Thresholds = Thresholds(),  # noqa: B008 (frozen)
    title: str = "",
) -> AccountResult:
    profile = make_profile("thunderbird")
    entry = AccountEntry(address, (profile,), PasswordSource("none"))
    steps = full_steps(Status.FAIL if severity >= Severity.CRITICAL else Status.PASS)
    report = Report(
        address,
        elapsed_ms,
        [ProfileResult("thunderbird", steps, [finding(code, severity, title)])],
    )
    return evaluate(entry, report, thresholds)


def batch(*results: AccountResult) -> BatchResult:
    return BatchResult(list(results), 1_700_000_000.0, 2500.0)


# --------------------------------------------------------------------------


def test_single_account_has_one_status_line_and_perfdata_per_phase() -> None:
    thresholds = Thresholds(Range.parse("10"), Range.parse("20"))
    one = result("alice@contoso.com", thresholds=thresholds)
    out = parse_plugin_output(render_nagios(batch(one), thresholds, single=True))
    assert out.state == "OK"
    assert out.status_text.startswith("alice@contoso.com: ok")
    perf = {p.label: p for p in out.perfdata}
    assert list(perf) == [
        "dns",
        "imap_connect",
        "imap_tls",
        "imap_greeting",
        "imap_auth",
        "smtp_connect",
        "smtp_tls",
        "smtp_greeting",
        "smtp_auth",
        "total",
    ]
    assert all(p.uom == "ms" and p.min == "0" for p in perf.values())
    assert perf["dns"].value == 4.0  # the slower of the two lookups
    assert perf["imap_auth"].value == 40.0
    assert perf["total"].value == 1234.5
    assert (perf["total"].warn, perf["total"].crit) == ("10000", "20000")
    assert perf["imap_tls"].warn == perf["imap_tls"].crit == ""
    assert out.long_output == ["thunderbird: OK ok (title of ok)"]


def test_batch_status_line_names_the_failing_accounts_worst_first() -> None:
    results = [
        result("zoe@contoso.com"),
        result("carol@contoso.com", "password-whitespace", Severity.WARNING),
        result("alice@contoso.com", "basic-auth-disabled", Severity.CRITICAL),
        result("bob@contoso.com", "port-closed", Severity.CRITICAL),
    ]
    text = render_nagios(batch(*results))
    out = parse_plugin_output(text)
    assert out.state == "CRITICAL"
    assert out.status_text == (
        "2 of 4 accounts failing: alice@contoso.com basic-auth-disabled; "
        "bob@contoso.com port-closed; 1 with warnings: carol@contoso.com password-whitespace"
    )
    # One long-output line per account, worst first.
    assert len(out.long_output) == 4
    assert [line.split()[0] for line in out.long_output] == [
        "CRITICAL",
        "CRITICAL",
        "WARNING",
        "OK",
    ]
    assert out.long_output[0].startswith("CRITICAL alice@contoso.com: basic-auth-disabled (")
    perf = {p.label: p for p in out.perfdata}
    assert perf["accounts"].value == 4
    assert (perf["ok"].value, perf["warning"].value, perf["critical"].value) == (1, 1, 2)
    assert perf["critical"].max == "4"
    for address in ("zoe", "carol", "alice", "bob"):
        assert perf[f"{address}@contoso.com total"].uom == "ms"
        assert perf[f"{address}@contoso.com imap_connect"].value == 10.0
    # The summary perfdata is on the status line; each account's on a line of its own.
    lines = text.rstrip("\n").split("\n")
    assert "| accounts=4;;;0" in lines[0]
    assert len(lines) == 1 + 4 + 3


@pytest.mark.parametrize(
    ("severities", "state", "text"),
    [
        ([Severity.OK, Severity.INFO], "OK", "2 of 2 accounts ok"),
        ([Severity.OK, Severity.WARNING], "WARNING", "1 of 2 accounts with warnings: b@x.test w"),
        ([Severity.UNKNOWN, Severity.OK], "UNKNOWN", "1 of 2 accounts failing: a@x.test w"),
    ],
)
def test_batch_state_is_the_worst_account(
    severities: list[Severity], state: str, text: str
) -> None:
    results = [
        result(f"{name}@x.test", "w" if s >= Severity.WARNING else "ok", s)
        for name, s in zip("ab", severities, strict=True)
    ]
    out = parse_plugin_output(render_nagios(batch(*results)))
    assert (out.state, out.status_text) == (state, text)
    assert batch(*results).exit_code == {"OK": 0, "WARNING": 1, "CRITICAL": 2, "UNKNOWN": 3}[state]


def test_status_line_lists_five_accounts_then_counts_the_rest() -> None:
    results = [result(f"u{i}@x.test", "port-closed", Severity.CRITICAL) for i in range(8)]
    out = parse_plugin_output(render_nagios(batch(*results)))
    assert out.status_text.endswith("u4@x.test port-closed; and 3 more")
    assert len(out.long_output) == 8


def test_thresholds_on_total_time_raise_the_state() -> None:
    thresholds = Thresholds(Range.parse("1"), Range.parse("2"))
    slow = result("slow@x.test", elapsed_ms=2500, thresholds=thresholds)
    medium = result("medium@x.test", elapsed_ms=1500, thresholds=thresholds)
    fast = result("fast@x.test", elapsed_ms=500, thresholds=thresholds)
    failing = result("fail@x.test", "port-closed", Severity.CRITICAL, thresholds=thresholds)
    assert (slow.state, slow.code) == (Severity.CRITICAL, "check-slow")
    assert (medium.state, medium.code) == (Severity.WARNING, "check-slow")
    assert (fast.state, fast.code) == (Severity.OK, "ok")
    assert failing.code == "port-closed"  # a real cause is not hidden by slowness
    out = parse_plugin_output(render_nagios(batch(slow, medium, fast), thresholds))
    assert out.state == "CRITICAL"
    assert out.status_text.startswith("1 of 3 accounts failing: slow@x.test check-slow")
    total = {p.label: p for p in out.perfdata}["slow@x.test total"]
    assert (total.value, total.warn, total.crit) == (2500.0, "1000", "2000")


def test_text_never_carries_the_perfdata_separator_or_line_breaks() -> None:
    odd = result("a@x.test", "basic-auth-disabled", Severity.CRITICAL, title="A | B\nC")
    out = parse_plugin_output(render_nagios(batch(odd, result("b@x.test"))))
    assert "A / B C" in out.long_output[0]
    single = parse_plugin_output(render_nagios(batch(odd), single=True))
    assert single.status_text.endswith("(A / B C)")


def test_labels_are_quoted_and_stripped_of_quotes_and_equals() -> None:
    odd = result("o'brien=x@contoso.com")
    out = render_nagios(batch(odd, result("b@x.test")))
    parsed = parse_plugin_output(out)
    assert "o_brien_x@contoso.com total" in {p.label for p in parsed.perfdata}
    assert "'o_brien_x@contoso.com total'=" in out


def test_an_account_without_a_report_is_unknown() -> None:
    profile = make_profile("thunderbird")
    entry = AccountEntry("late@x.test", (profile,), PasswordSource("none"))
    late = AccountResult(
        entry=entry,
        report=None,
        state=Severity.UNKNOWN,
        code="check-deadline",
        title="the check did not finish within its deadline of 2 s",
        elapsed_ms=7000.0,
        authentication="none",
        error="cancelled after 7 s",
    )
    out = parse_plugin_output(render_nagios(batch(late), single=True))
    assert out.state == "UNKNOWN"
    assert out.status_text.startswith("late@x.test: check-deadline")
    assert [p.label for p in out.perfdata] == ["total"]
    assert batch(late).exit_code == 3


def test_skipped_authentication_is_said_in_the_long_output() -> None:
    skipped = result("s@x.test", "auth-skipped", Severity.CRITICAL)
    skipped.skip_reason = "the last authentication failed 2 min ago (wrong-credentials)"
    out = parse_plugin_output(render_nagios(batch(skipped, result("b@x.test"))))
    assert (
        "(authentication skipped: the last authentication failed 2 min ago" in (out.long_output[0])
    )


def test_unknown_for_bad_input() -> None:
    text = render_unknown("2 problems in the input; nothing was checked", ["a: b | c", "d"])
    out = parse_plugin_output(text)
    assert out.state == "UNKNOWN"
    assert out.long_output == ["a: b / c", "d"]
    assert out.perfdata == []


@pytest.mark.parametrize(
    ("spec", "alerting", "quiet", "text"),
    [
        ("10", [-1, 10.5], [0, 10], "10"),
        ("10:", [9.9], [10, 1e9], "10:"),
        ("~:10", [10.1], [-1e9, 10], "~:10"),
        ("10:20", [9, 21], [10, 20], "10:20"),
        ("@10:20", [10, 15, 20], [9, 21], "@10:20"),
        ("0.5", [0.6], [0.5], "0.5"),
    ],
)
def test_ranges_follow_the_threshold_syntax(
    spec: str, alerting: list[float], quiet: list[float], text: str
) -> None:
    parsed = Range.parse(spec)
    assert all(parsed.alerts(v) for v in alerting)
    assert not any(parsed.alerts(v) for v in quiet)
    assert str(parsed) == text
    assert re.fullmatch(RANGE, str(parsed.scaled(1000)))


@pytest.mark.parametrize("spec", ["", "abc", "20:10", "1:2:3", "@", "nan"])
def test_bad_ranges_are_refused(spec: str) -> None:
    with pytest.raises(ValueError, match="expected"):
        Range.parse(spec)
