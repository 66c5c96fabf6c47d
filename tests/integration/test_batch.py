"""``conntest check --batch`` against the lab: one result per account, the lockout rules, formats.

The lab serves every scenario at once: auth scenarios share the main servers
and are chosen per account (``Lab(accounts=…)``); network, certificate and
DNS scenarios have endpoints of their own, which an entry reaches through
its server overrides, exactly as a batch file would.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import gc
import json
import multiprocessing
import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from conntest.batch import (
    AccountEntry,
    AccountResult,
    PasswordSource,
    load_batch,
    make_executor,
    run_batch,
)
from conntest.batch import runner as batch_runner
from conntest.batch.progress import Progress, progress_for
from conntest.batch.runner import YOUNG_COLLECTION_PACE
from conntest.cli import main
from conntest.engine import run_check as real_run_check
from conntest.lab import LAB_PASSWORD, SCENARIOS, Lab
from conntest.lockout import AuthLedger, AuthOutcome
from conntest.model import Severity
from conntest.profiles import ProfileSet, load_profiles
from conntest.render.prometheus import render_prometheus
from tests.conftest import EXPECTED_PRIMARY as EXPECTED
from tests.conftest import SECRET, assert_no_secret
from tests.integration.dependence import DEPENDENCE, assert_dependence_metrics
from tests.unit.test_nagios import parse_plugin_output

WAITING_SCENARIOS = {"port-filtered", "silent-server"}
"""Scenarios that can only end by a deadline: they get a short one."""
PROFILE_IDS = ("outlook-2016", "ios-mail", "thunderbird")
PASSWORD_VAR = "CONNTEST_BATCH_TEST_PASSWORD"


@functools.cache
def _profiles() -> ProfileSet:
    return load_profiles()


def lab_entry(
    lab: Lab,
    address: str,
    scenario: str,
    profiles: Sequence[str] = ("thunderbird",),
    *,
    password: PasswordSource | None = None,
    timeout: float | None = None,
    pin: bool = False,
) -> AccountEntry:
    """The entry a batch file would hold for ``address`` meeting ``scenario`` in ``lab``.

    With ``pin``, the server names of scenarios that are not about DNS are
    pinned to the lab's address (``resolve:``), as a batch file may: the lab's
    DNS is one Python UDP socket, and a thousand accounts' lookups in bursts
    overflow its receive buffer, which would test the lab rather than conntest.
    """
    ends = lab.endpoints(scenario)
    loaded = _profiles()
    about_dns = SCENARIOS[scenario].dns.value != "normal"
    return AccountEntry(
        resolve=()
        if about_dns or not pin
        else ((ends.imap[0], "127.0.0.1"), (ends.smtp[0], "127.0.0.1")),
        address=address,
        profiles=tuple(loaded.get(p) for p in profiles),
        password=password or PasswordSource("env", PASSWORD_VAR),
        imap=ends.imap,
        smtp=ends.smtp,
        nameserver=ends.nameserver,
        ca_file=lab.ca_file,
        tls_max=ends.client_tls_max,
        expected_networks=ends.expected_networks,
        timeout=timeout or (2.0 if scenario in WAITING_SCENARIOS else 20.0),
    )


def batch_yaml(lab: Lab, accounts: dict[str, str], **extra: Any) -> dict[str, Any]:
    """A batch file's content for ``{address: scenario}`` (the overrides a user would write)."""
    entries = []
    for address, scenario in accounts.items():
        ends = lab.endpoints(scenario)
        entry: dict[str, Any] = {
            "address": address,
            "profile": "thunderbird",
            "password_env": PASSWORD_VAR,
            "imap": f"{ends.imap[0]}:{ends.imap[1]}",
            "smtp": f"{ends.smtp[0]}:{ends.smtp[1]}",
            "nameserver": f"{ends.nameserver[0]}:{ends.nameserver[1]}",
            "expected_networks": list(ends.expected_networks),
            "timeout": 2 if scenario in WAITING_SCENARIOS else 20,
        }
        if ends.client_tls_max:
            entry["tls_max"] = ends.client_tls_max
        entries.append(entry)
    return {"defaults": {"ca_file": str(lab.ca_file)}, "accounts": entries, **extra}


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


async def settled_fds(limit: int, wait: float = 5.0) -> int:
    """The open descriptor count once the lab's side of closed connections has gone."""
    deadline = time.monotonic() + wait
    count = open_fds()
    while count > limit and time.monotonic() < deadline:
        await asyncio.sleep(0.05)
        count = open_fds()
    return count


@pytest.fixture(autouse=True)
def lab_password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)


# --------------------------------------------------------------------------
# Scale, deadlines, descriptors


@pytest.mark.timeout(300)
async def test_a_thousand_accounts_across_every_scenario() -> None:
    count, concurrency = 1000, 100
    names = list(SCENARIOS)
    assert set(names) == set(EXPECTED), "a new lab scenario needs its expected code here"
    scenario_of = {f"user{i:04d}@contoso.com": names[i % len(names)] for i in range(count)}
    asyncio.get_running_loop().set_default_executor(make_executor(concurrency, 1))
    # A fixed date inside the 60-day window before Microsoft's December 2026 change, as
    # ``--today`` gives it: a working SMTP password is then a warning, the primary finding.
    inside = date(2026, 11, 15)
    async with Lab(accounts=scenario_of) as lab:
        entries = [
            dataclasses.replace(
                lab_entry(lab, address, scenario, (PROFILE_IDS[i % 3],), pin=True), today=inside
            )
            for i, (address, scenario) in enumerate(scenario_of.items())
        ]
        fds_before = open_fds()
        streamed: list[AccountResult] = []
        started = time.monotonic()
        batch = await run_batch(entries, concurrency=concurrency, on_result=streamed.append)
        duration = time.monotonic() - started
        fds_after = await settled_fds(fds_before)
    print(f"\n{count} lab accounts in {duration:.1f} s ({count / duration:.0f} accounts/s)")
    assert len(batch.results) == len(streamed) == count
    assert [r.address for r in batch.results] == list(scenario_of)
    assert {r.address for r in streamed} == set(scenario_of)
    sends_with_password = {s for s, (_, smtp) in DEPENDENCE.items() if smtp}

    def expected(scenario: str) -> str:
        ok = EXPECTED[scenario] == "ok"
        return (
            "basic-auth-retiring" if ok and scenario in sends_with_password else EXPECTED[scenario]
        )

    wrong = Counter(
        (scenario_of[r.address], r.code)
        for r in batch.results
        if r.code != expected(scenario_of[r.address])
    )
    assert not wrong, f"scenario → unexpected code: {dict(wrong)}"
    assert batch.counts()["ok"] == sum(1 for s in scenario_of.values() if expected(s) == "ok")
    assert fds_after <= fds_before, f"{fds_after - fds_before} descriptors left open"
    # Who still signs in with a password, per account and protocol (the December 2026 change):
    # both series for every account and the date, parsed with prometheus_client's parser ...
    exposition = render_prometheus(batch)
    assert_dependence_metrics(exposition, scenario_of)
    # ... and the advisory, a warning inside the window, exactly where SMTP took a password.
    advised = {
        s.labels["account"]
        for family in text_string_to_metric_families(exposition)
        for s in family.samples
        if s.name == "conntest_finding"
        and (s.labels["code"], s.labels["severity"]) == ("basic-auth-retiring", "warning")
    }
    assert advised == {a for a, s in scenario_of.items() if s in sends_with_password}


async def test_streamed_batch_keeps_totals_not_reports_and_asks_dns_once_per_domain() -> None:
    """``retain``: the reports go to ``on_result`` only; MX/autodiscover once per domain."""
    count = 30
    asyncio.get_running_loop().set_default_executor(make_executor(10, 1))
    async with Lab(default_scenario="ok") as lab:
        entries = [
            lab_entry(lab, f"user{i:02d}@{'contoso' if i % 3 else 'fabrikam'}.com", "ok")
            for i in range(count)
        ]
        streamed: list[AccountResult] = []
        none = await run_batch(entries, concurrency=10, retain="none", on_result=streamed.append)
        mx = Counter(q.name for q in lab.record.dns_queries() if q.rdtype == "MX")
        lab.record.clear()
        summary = await run_batch(entries, concurrency=10, retain="summary")
    assert none.results == []
    assert none.accounts == count and none.counts()["ok"] == count and none.exit_code == 0
    assert len(streamed) == count and all(r.report is not None for r in streamed)
    assert all(r.report.profiles[0].steps for r in streamed if r.report is not None)
    # Ten accounts of one domain and twenty of another: two MX questions, not thirty.
    assert mx == {"contoso.com": 1, "fabrikam.com": 1}
    assert [r.address for r in summary.results] == [e.address for e in entries]
    assert all(r.report is None and r.summarised for r in summary.results)
    assert [r.code for r in summary.results] == ["ok"] * count


async def test_single_protocol_batch_talks_only_to_that_protocol() -> None:
    asyncio.get_running_loop().set_default_executor(make_executor(4, 1))
    async with Lab(default_scenario="ok") as lab:
        entries = [lab_entry(lab, f"sender{i}@contoso.com", "ok") for i in range(3)]
        batch = await run_batch(entries, concurrency=3, protocols=("smtp",))
        record = lab.record
        assert record.connections(protocol="imap") == []
        assert len(record.connections(protocol="smtp")) == 3
        assert record.auth_attempts(protocol="smtp") == 3
    assert [r.code for r in batch.results] == ["ok"] * 3
    for result in batch.results:
        assert result.report is not None
        protocols = {s.protocol for s in result.report.profiles[0].steps}
        assert "imap" not in protocols and "smtp" in protocols


async def test_a_batch_paces_the_collector_and_puts_the_pace_back() -> None:
    """While a batch runs, the collector's young generation waits for more allocations
    (fewer collections per account); after it, the process has its own setting again,
    also when two batches overlap and the first ends first."""
    asyncio.get_running_loop().set_default_executor(make_executor(4, 1))
    before = gc.get_threshold()
    seen: list[tuple[bool, tuple[int, int, int]]] = []
    async with Lab(default_scenario="ok") as lab:
        first = [lab_entry(lab, "pace@contoso.com", "ok")]
        second = [lab_entry(lab, f"slow{i:02d}@contoso.com", "ok") for i in range(12)]
        short = asyncio.ensure_future(run_batch(first, concurrency=1))
        long = asyncio.ensure_future(
            run_batch(
                second,
                concurrency=1,
                on_result=lambda _: seen.append((short.done(), gc.get_threshold())),
            )
        )
        await asyncio.gather(short, long)
    assert gc.get_threshold() == before
    assert seen and all(t[0] >= YOUNG_COLLECTION_PACE and t[1:] == before[1:] for _, t in seen)
    # One account against twelve in a row: the short batch ended while the long one ran,
    # and the long one kept its pace after that.
    assert any(short_done for short_done, _ in seen)


async def test_each_account_keeps_its_own_deadline() -> None:
    """Silent servers cost their own account's deadline, not the accounts queued behind."""
    asyncio.get_running_loop().set_default_executor(make_executor(4, 1))
    async with Lab() as lab:
        entries = [
            lab_entry(lab, f"silent{i}@contoso.com", "silent-server", timeout=1.5) for i in range(4)
        ] + [lab_entry(lab, f"ok{i}@contoso.com", "ok", timeout=10) for i in range(4)]
        started = time.monotonic()
        batch = await run_batch(entries, concurrency=2)
        duration = time.monotonic() - started
    codes = [r.code for r in batch.results]
    assert codes == ["server-silent"] * 4 + ["ok"] * 4
    for result in batch.results[:4]:
        assert result.elapsed_ms < 1500 + 1000
    # Two at a time: four silent accounts take two rounds of their deadline.
    assert duration < 2 * (1.5 + 1.0) + 3


async def test_a_hung_check_still_gives_exactly_one_result(monkeypatch: pytest.MonkeyPatch) -> None:
    """A check that never returns (a bug) is cancelled after its deadline and reported UNKNOWN."""

    async def hang_for_bob(request: Any, on_step: Any = None, **shared: Any) -> Any:
        if request.user.startswith("bob"):
            await asyncio.Event().wait()
        return await real_run_check(request, on_step, **shared)

    monkeypatch.setattr(batch_runner, "run_check", hang_for_bob)
    monkeypatch.setattr(batch_runner, "GRACE", 0.5)
    async with Lab() as lab:
        entries = [
            lab_entry(lab, "alice@contoso.com", "ok"),
            lab_entry(lab, "bob@contoso.com", "ok", timeout=1),
            lab_entry(lab, "carol@contoso.com", "ok"),
        ]
        batch = await run_batch(entries, concurrency=3)
    assert [(r.address, r.code) for r in batch.results] == [
        ("alice@contoso.com", "ok"),
        ("bob@contoso.com", "check-deadline"),
        ("carol@contoso.com", "ok"),
    ]
    assert batch.results[1].state is Severity.UNKNOWN
    assert batch.exit_code == 3


async def test_an_unreadable_password_is_that_account_s_unknown(tmp_path: Path) -> None:
    secret_file = tmp_path / "pw"
    secret_file.write_text(LAB_PASSWORD + "\n")
    async with Lab() as lab:
        good = lab_entry(
            lab, "alice@contoso.com", "ok", password=PasswordSource("file", str(secret_file))
        )
        gone = lab_entry(
            lab, "bob@contoso.com", "ok", password=PasswordSource("file", str(tmp_path / "none"))
        )
        batch = await run_batch([good, gone])
        assert lab.record.auth_attempts(user="bob@contoso.com") == 0
    assert [(r.code, r.verdict) for r in batch.results] == [
        ("ok", "ok"),
        ("password-unreadable", "unknown"),
    ]


async def test_connectivity_only_entries_send_no_credentials() -> None:
    async with Lab() as lab:
        entry = lab_entry(lab, "printer@contoso.com", "ok", password=PasswordSource("none"))
        batch = await run_batch([entry])
        assert lab.record.auth_attempts() == 0
    [result] = batch.results
    assert result.authentication == "none"
    assert result.state <= Severity.WARNING


# --------------------------------------------------------------------------
# Lockout rules


async def test_min_auth_interval_holds_the_password_back_on_the_second_run(tmp_path: Path) -> None:
    state = tmp_path / "state" / "auth-state.json"
    accounts = {"bad@contoso.com": "wrong-password", "good@contoso.com": "ok"}
    async with Lab(accounts=accounts) as lab:
        entries = [lab_entry(lab, a, s, PROFILE_IDS) for a, s in accounts.items()]
        record = lab.record

        first = await run_batch(entries, ledger=AuthLedger(state, 600))
        assert [r.code for r in first.results] == ["wrong-credentials", "ok"]
        # One authentication per protocol per account, whatever the number of profiles.
        assert record.auth_attempts("imap", "bad@contoso.com") == 1
        assert record.auth_attempts("smtp", "bad@contoso.com") == 1

        second = await run_batch(entries, ledger=AuthLedger(state, 600))
        bad, good = second.results
        assert record.auth_attempts(user="bad@contoso.com") == 2, "the second run authenticated"
        assert (bad.code, bad.authentication, bad.state) == (
            "auth-skipped",
            "skipped",
            Severity.CRITICAL,
        )
        assert bad.skip_reason is not None and "wrong-credentials" in bad.skip_reason
        assert bad.report is not None
        assert bad.report.profiles[0].findings[0].code == "auth-skipped"
        assert good.code == "ok"
        assert record.auth_attempts(user="good@contoso.com") == 4  # success is not held back

        later = AuthLedger(state, 600, clock=lambda: time.time() + 601)
        third = await run_batch(entries, ledger=later)
        assert third.results[0].code == "wrong-credentials"
        assert record.auth_attempts(user="bad@contoso.com") == 4

    text = state.read_text()
    assert LAB_PASSWORD not in text
    assert set(json.loads(text)["accounts"]) == {"bad@contoso.com"}
    assert oct(state.stat().st_mode & 0o777) == "0o600"
    assert not list(state.parent.glob(".*.tmp")), "a temporary file was left behind"


def test_ledger_claims_keep_overlapping_runs_apart(tmp_path: Path) -> None:
    now = [1000.0]
    state = tmp_path / "s.json"
    first = AuthLedger(state, 60, clock=lambda: now[0])
    second = AuthLedger(state, 60, clock=lambda: now[0])
    assert first.reserve([("a@x.test", 30), ("b@x.test", 30)]) == {}
    refused = second.reserve([("a@x.test", 30)])
    assert refused["a@x.test"].reason == "in-progress"
    first.settle(
        {
            "a@x.test": AuthOutcome(True, True, "wrong-credentials", Severity.CRITICAL, ("smtp",)),
            "b@x.test": None,
        }
    )
    now[0] += 10
    refused = second.reserve([("a@x.test", 30), ("b@x.test", 30)])
    assert list(refused) == ["a@x.test"]
    assert refused["a@x.test"].reason == "recent-failure"
    assert "failed 10 s ago (wrong-credentials)" in refused["a@x.test"].explain(now[0])
    second.settle({"b@x.test": AuthOutcome(True, False)})
    now[0] += 51
    assert second.reserve([("a@x.test", 30)]) == {}
    # A claim of a run that died expires with its deadline.
    now[0] += 31 + 30
    assert first.reserve([("a@x.test", 30)]) == {}


def test_a_foreign_state_file_is_reported_and_replaced(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    state.write_text("not json")
    ledger = AuthLedger(state, 60)
    assert ledger.reserve([("a@x.test", 5)]) == {}
    assert ledger.warnings and "not conntest's" in ledger.warnings[0]
    assert json.loads(state.read_text())["accounts"]["a@x.test"]["claimed_by"] == ledger.token


def _reserve_in_process(args: tuple[str, float]) -> bool:
    path, start = args
    while time.time() < start:
        time.sleep(0.001)
    return not AuthLedger(Path(path), 600).reserve([("shared@x.test", 30)])


def test_concurrent_processes_claim_an_account_once(tmp_path: Path) -> None:
    state = tmp_path / "s.json"
    start = time.time() + 0.5
    with multiprocessing.get_context("fork").Pool(8) as pool:
        claims = pool.map(_reserve_in_process, [(str(state), start)] * 8)
    assert claims.count(True) == 1


# --------------------------------------------------------------------------
# The batch file


def test_a_malformed_batch_file_is_reported_entry_by_entry(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("CONNTEST_UNSET_VARIABLE", raising=False)
    path = tmp_path / "accounts.yaml"
    path.write_text(
        "defaults:\n"
        "  timeout: 30\n"
        "  password_env: X\n"
        "accounts:\n"
        "  - address: alice@contoso.com\n"
        "    password_env: CONNTEST_UNSET_VARIABLE\n"
        "  - address: not-an-address\n"
        "  - address: bob@contoso.com\n"
        "    profile: outlook-2007\n"
        "    imap: outlook.office365.com\n"
        "  - address: carol@contoso.com\n"
        "    password: hunter2\n"
        "    colour: blue\n"
        "  - address: dave@contoso.com\n"
        "    password_file: missing.txt\n"
        "    timeout: 0\n"
        "  - address: Alice@Contoso.com\n"
        "  - address: erin@contoso.com\n"
        "    tls_max: 1.2\n"
        "    resolve: [outlook.office365.com:127.0.0.1]\n"
    )
    batch = load_batch(path, load_profiles())
    lines = [str(p) for p in batch.problems]
    expected_fragments = [
        ("defaults.password_env", "line 3"),
        ("accounts[0].password_env", "CONNTEST_UNSET_VARIABLE, which is not set"),
        ("accounts[1].address", "'not-an-address'"),
        ("accounts[2].imap", "HOST:PORT"),
        ("accounts[2].profile", "'outlook-2007'"),
        ("accounts[3].password", "never read from the batch file"),
        ("accounts[3].colour", "found an unknown key (line 13)"),
        ("accounts[4].password_file", "missing.txt"),
        ("accounts[4].timeout", "seconds from 1 to 600"),
        ("accounts[5].address", "each address once"),
    ]
    for where, fragment in expected_fragments:
        assert any(where in line and fragment in line for line in lines), (where, lines)
    assert "hunter2" not in "\n".join(lines)
    assert [e.address for e in batch.entries] == ["erin@contoso.com"]
    erin = batch.entries[0]
    assert (erin.tls_max, erin.timeout, erin.resolve) == (
        "1.2",
        30.0,
        (("outlook.office365.com", "127.0.0.1"),),
    )


def test_the_cli_runs_nothing_when_the_batch_file_has_problems(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "accounts.yaml"
    path.write_text("accounts:\n  - address: a@x.test\n    profiles: [nope]\n  - {}\n")
    code = main(["check", "--batch", str(path), "--format", "nagios", "--min-auth-interval", "0"])
    out, err = capsys.readouterr()
    assert code == 3
    parsed = parse_plugin_output(out)
    assert parsed.state == "UNKNOWN"
    assert parsed.status_text == "2 problems in the input; nothing was checked"
    assert "accounts[0].profiles" in err and "accounts[1].address" in err
    assert len(err.strip().splitlines()) == 2


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--user", "a@x.test"], "drop --user"),
        (["--no-password"], "leave password_env"),
    ],
)
def test_batch_refuses_command_line_passwords_and_users(
    argv: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "a.yaml"
    path.write_text("accounts: [{address: a@x.test}]\n")
    assert main(["check", "--batch", str(path), *argv]) == 3
    assert message in capsys.readouterr().err


# --------------------------------------------------------------------------
# The CLI end to end (in a thread: the CLI runs its own event loop)


async def run_cli(argv: list[str]) -> tuple[int, str, str]:
    """``conntest ARGV`` in a child process, stderr a pipe; (exit code, stdout, stderr)."""
    args = [sys.executable, "-m", "conntest", *argv]
    process = await asyncio.create_subprocess_exec(
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "CI": ""},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


MIXED = {
    "alice@contoso.com": "ok",
    "bob@contoso.com": "basic-auth-disabled",
    "carol@contoso.com": "port-closed",
    "dave@contoso.com": "wrong-password",
}


@pytest.fixture
def secret_password(monkeypatch: pytest.MonkeyPatch) -> None:
    """The distinctive test secret as everyone's password (the lab refuses it: wrong-password)."""
    monkeypatch.setenv(PASSWORD_VAR, SECRET)


async def test_cli_formats_from_one_batch(tmp_path: Path, secret_password: None) -> None:
    path = tmp_path / "accounts.yaml"
    state = tmp_path / "state.json"
    async with Lab(accounts=MIXED) as lab:
        path.write_text(yaml.safe_dump(batch_yaml(lab, MIXED)))
        common = [
            "check",
            "--batch",
            str(path),
            "--state-file",
            str(state),
            "--min-auth-interval",
            "0",
        ]

        code, out, err = await run_cli([*common, "--format", "nagios"])
        assert (code, err) == (2, "")
        parsed = parse_plugin_output(out)
        assert parsed.state == "CRITICAL"
        assert parsed.status_text.startswith("4 of 4 accounts failing: ")
        assert len(parsed.long_output) == 4

        code, out, _ = await run_cli([*common, "--format", "jsonl", "--concurrency", "2"])
        lines = [json.loads(line) for line in out.splitlines()]
        assert code == 2
        assert sorted(d["account"] for d in lines) == sorted(MIXED)
        assert {d["account"]: d["code"] for d in lines}["carol@contoso.com"] == "port-closed"

        code, out, _ = await run_cli([*common, "--format", "json"])
        doc = json.loads(out)
        assert doc["kind"] == "batch" and doc["counts"]["critical"] == 4
        assert [a["account"] for a in doc["accounts"]] == list(MIXED)

        code, out, _ = await run_cli([*common, "--format", "junit"])
        suite = ET.fromstring(out).find("testsuite")
        assert suite is not None
        assert (suite.get("tests"), suite.get("failures"), suite.get("errors")) == ("4", "4", "0")
        failure = suite.find("testcase[@classname='carol@contoso.com']/failure")
        assert failure is not None and failure.get("type") == "port-closed"

        prom = tmp_path / "textfile" / "conntest.prom"
        prom.parent.mkdir()
        code, out, _ = await run_cli([*common, "--format", "prometheus", "--output", str(prom)])
        assert (code, out) == (2, "")
        names = {f.name for f in text_string_to_metric_families(prom.read_text())}
        assert {"conntest_up", "conntest_finding", "conntest_step_duration_seconds"} <= names
        assert [p.name for p in prom.parent.iterdir()] == ["conntest.prom"]

        code, out, _ = await run_cli([*common])
        assert "4 accounts: 4 critical" in out

        assert_no_secret(out + "\n".join(parsed.long_output) + prom.read_text())
        assert not state.exists()  # --min-auth-interval 0: no state at all


async def test_cli_min_auth_interval_is_proven_by_the_lab_record(tmp_path: Path) -> None:
    accounts = {"bad@contoso.com": "wrong-password"}
    path = tmp_path / "accounts.yaml"
    state = tmp_path / "state.json"
    async with Lab(accounts=accounts) as lab:
        path.write_text(yaml.safe_dump(batch_yaml(lab, accounts)))
        argv = ["check", "--batch", str(path), "--state-file", str(state), "--format", "nagios"]
        code, out, _ = await run_cli([*argv, "--min-auth-interval", "300"])
        assert code == 2 and "wrong-credentials" in out
        assert lab.record.auth_attempts(user="bad@contoso.com") == 2
        code, out, _ = await run_cli([*argv, "--min-auth-interval", "300"])
        assert code == 2
        assert "bad@contoso.com auth-skipped" in out
        assert "authentication skipped: the last authentication on IMAP/SMTP failed" in out
        assert lab.record.auth_attempts(user="bad@contoso.com") == 2
        # The default for --batch is on (900 s) too.
        code, out, _ = await run_cli(argv)
        assert "auth-skipped" in out
        assert lab.record.auth_attempts(user="bad@contoso.com") == 2
        code, out, _ = await run_cli([*argv, "--min-auth-interval", "0"])
        assert lab.record.auth_attempts(user="bad@contoso.com") == 4


def test_single_account_nagios_with_the_built_in_lab(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["check", "--lab", "ok", "--user", "alice@contoso.com", "--password-env", PASSWORD_VAR]
    code = main(
        [*argv, "--format", "nagios", "--state-file", str(tmp_path / "s"), "--warning", "30"]
    )
    out = capsys.readouterr().out
    parsed = parse_plugin_output(out)
    assert code == 0 and parsed.state == "OK"
    assert parsed.status_text.startswith("alice@contoso.com: ok")
    labels = [p.label for p in parsed.perfdata]
    assert labels[0] == "dns" and labels[-1] == "total"
    assert {"imap_connect", "imap_tls", "imap_greeting", "imap_auth", "smtp_auth"} <= set(labels)
    assert parsed.perfdata[-1].warn == "30000"
    assert len(parsed.long_output) == 3  # one line per profile


def test_a_batch_on_the_lab_names_the_profiles_port_and_an_entrys_own(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """``--batch --lab``: an account on the lab's servers reads the profile's ports (the lab
    stands in for Microsoft's); one with its own ``imap:`` reads the port it gave."""
    import socket

    with socket.create_server(("127.0.0.1", 0)) as listener:
        port = listener.getsockname()[1]  # closed again when the check connects
    accounts = tmp_path / "accounts.yaml"
    accounts.write_text(
        "accounts:\n"
        f"  - address: lab@contoso.com\n    password_env: {PASSWORD_VAR}\n"
        f"  - address: own@contoso.com\n    password_env: {PASSWORD_VAR}\n"
        f"    imap: 127.0.0.1:{port}\n"
    )
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    argv = ["check", "--batch", str(accounts), "--lab", "port-closed", "--profile", "thunderbird"]
    main([*argv, "--format", "nagios", "--state-file", str(tmp_path / "s")])
    lines = {line.split(":")[0].split()[-1]: line for line in capsys.readouterr().out.splitlines()}
    assert "outlook.office365.com refused the connection on port 993" in lines["lab@contoso.com"]
    assert f"127.0.0.1 refused the connection on port {port}" in lines["own@contoso.com"]


# --------------------------------------------------------------------------
# Progress and hygiene


class _Terminal:
    def __init__(self) -> None:
        self.text = ""

    def isatty(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self.text += text
        return len(text)

    def flush(self) -> None:
        pass


def test_progress_only_on_a_terminal_and_never_under_ci() -> None:
    terminal = _Terminal()
    assert progress_for(terminal, 10, {"CI": "true"}) is None  # type: ignore[arg-type]
    assert progress_for(_NotTerminal(), 10, {}) is None  # type: ignore[arg-type]
    bar = progress_for(terminal, 2, {})  # type: ignore[arg-type]
    assert isinstance(bar, Progress)
    bar.draw()
    bar.close()
    assert "0/2 accounts" in terminal.text and terminal.text.endswith("\r\x1b[K")


class _NotTerminal(_Terminal):
    def isatty(self) -> bool:
        return False


async def test_no_progress_bar_on_a_pipe(tmp_path: Path) -> None:
    async with Lab(accounts={"a@contoso.com": "ok"}) as lab:
        path = tmp_path / "a.yaml"
        path.write_text(yaml.safe_dump(batch_yaml(lab, {"a@contoso.com": "ok"})))
        code, _, err = await run_cli(["check", "--batch", str(path), "--min-auth-interval", "0"])
    assert code == 0
    assert err == ""


def test_batch_and_monitoring_modules_import_neither_the_lab_nor_textual() -> None:
    code = (
        "import sys\n"
        "import conntest.batch, conntest.batch.command, conntest.lockout, conntest.serve\n"
        "import conntest.render.nagios, conntest.render.prometheus, conntest.render.junit\n"
        "import conntest.render.jsonl\n"
        "bad = sorted(m for m in sys.modules if m in {'textual', 'conntest.tui', 'conntest.lab'}"
        " or m.startswith(('textual.', 'conntest.tui.', 'conntest.lab.')))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
