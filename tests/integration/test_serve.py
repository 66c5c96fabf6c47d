"""``conntest serve`` over real HTTP (urllib in a thread), probing the lab.

What a Prometheus server would see: ``/probe`` answers with a parseable
exposition for one configured account, the query string cannot carry a
secret, the lockout rules hold between scrapes, and ``/metrics`` describes
the exporter itself.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import sys
import time
import urllib.error
import urllib.request
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
import yaml
from prometheus_client.parser import text_string_to_metric_families

from conntest.batch import load_batch
from conntest.lab import LAB_PASSWORD, Lab
from conntest.lockout import AuthLedger
from conntest.profiles import load_profiles
from conntest.serve import Exporter, start_server
from tests.conftest import SECRET
from tests.integration.test_batch import PASSWORD_VAR, batch_yaml

ACCOUNTS = {
    "alice@contoso.com": "ok",
    "bob@contoso.com": "wrong-password",
    "quiet@contoso.com": "silent-server",
}


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: str


def _fetch(url: str, method: str, headers: dict[str, str]) -> Answer:
    request = urllib.request.Request(url, method=method, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return Answer(response.status, dict(response.headers), response.read().decode())
    except urllib.error.HTTPError as error:
        return Answer(error.code, dict(error.headers), error.read().decode())


async def get(base: str, path: str, method: str = "GET", **headers: str) -> Answer:
    return await asyncio.to_thread(_fetch, base + path, method, headers)


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    return {
        tuple(sorted(s.labels.items())): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
        if s.name == name
    }


@dataclass
class Running:
    base: str
    lab: Lab
    exporter: Exporter
    config: Path


@pytest.fixture
async def running(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Running]:
    monkeypatch.setenv(PASSWORD_VAR, LAB_PASSWORD)
    async with Lab(accounts=ACCOUNTS) as lab:
        content = batch_yaml(lab, ACCOUNTS)
        content["accounts"][0]["profiles"] = ["thunderbird", "ios-mail"]
        del content["accounts"][0]["profile"]
        config = tmp_path / "conntest.yaml"
        config.write_text(yaml.safe_dump(content))
        batch = load_batch(config, load_profiles())
        assert not batch.problems
        exporter = Exporter(batch, ledger=AuthLedger(tmp_path / "state.json", 600), concurrency=4)
        server = await start_server(exporter, "127.0.0.1", 0)
        port = server.sockets[0].getsockname()[1]
        async with server:
            yield Running(f"http://127.0.0.1:{port}", lab, exporter, config)


async def test_probe_answers_with_the_account_s_metrics(running: Running) -> None:
    answer = await get(running.base, "/probe?account=alice@contoso.com&profile=thunderbird")
    assert answer.status == 200
    assert answer.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    up = samples(answer.body, "conntest_up")
    assert up == {(("account", "alice@contoso.com"), ("profile", "thunderbird")): 1.0}
    steps = samples(answer.body, "conntest_step_duration_seconds")
    assert (
        ("account", "alice@contoso.com"),
        ("profile", "thunderbird"),
        ("protocol", "imap"),
        ("step", "login"),
    ) in steps
    assert samples(answer.body, "conntest_certificate_expiry_timestamp_seconds")
    assert not samples(answer.body, "conntest_batch_accounts")

    both = await get(running.base, "/probe?account=ALICE@contoso.com")
    assert set(samples(both.body, "conntest_up")) == {
        (("account", "alice@contoso.com"), ("profile", "thunderbird")),
        (("account", "alice@contoso.com"), ("profile", "ios-mail")),
    }


async def test_lockout_rules_hold_between_scrapes(running: Running) -> None:
    record = running.lab.record
    first = await get(running.base, "/probe?account=bob@contoso.com")
    findings = samples(first.body, "conntest_finding")
    assert any(("code", "wrong-credentials") in labels for labels in findings)
    assert record.auth_attempts(user="bob@contoso.com") == 2
    second = await get(running.base, "/probe?account=bob@contoso.com")
    assert record.auth_attempts(user="bob@contoso.com") == 2, "a scrape authenticated again"
    assert any(
        ("code", "auth-skipped") in labels for labels in samples(second.body, "conntest_finding")
    )
    assert samples(second.body, "conntest_auth_skipped") == {(("account", "bob@contoso.com"),): 1.0}
    assert samples(second.body, "conntest_account_state") == {
        (("account", "bob@contoso.com"),): 2.0
    }
    metrics = await get(running.base, "/metrics")
    assert samples(metrics.body, "conntest_exporter_auth_skipped_total") == {(): 1.0}


async def test_simultaneous_scrapes_of_one_account_share_one_check(running: Running) -> None:
    answers = await asyncio.gather(
        *(get(running.base, "/probe?account=alice@contoso.com") for _ in range(5))
    )
    assert [a.status for a in answers] == [200] * 5
    assert running.lab.record.auth_attempts(user="alice@contoso.com") == 2


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("account=alice@contoso.com&password=" + quote(SECRET), 400, "never from the query"),
        ("account=alice@contoso.com&target=smtp.example.com", 400, "unknown parameter target"),
        ("", 400, "exactly one account"),
        ("account=a@contoso.com&account=b@contoso.com", 400, "exactly one account"),
        ("account=mallory@contoso.com", 404, "not in the config file"),
        (
            "account=alice@contoso.com&profile=outlook-2016",
            400,
            "configured: thunderbird, ios-mail",
        ),
    ],
)
async def test_bad_probe_requests_run_nothing(
    running: Running, query: str, status: int, message: str
) -> None:
    answer = await get(running.base, f"/probe?{query}")
    assert (answer.status, message in answer.body) == (status, True), answer.body
    assert SECRET not in answer.body
    assert running.lab.record.connections() == []


async def test_exporter_paths(running: Running) -> None:
    await get(running.base, "/probe?account=alice@contoso.com")
    metrics = await get(running.base, "/metrics")
    assert metrics.status == 200
    assert samples(metrics.body, "conntest_exporter_probes_total") == {(("verdict", "ok"),): 1.0}
    assert samples(metrics.body, "conntest_exporter_config_accounts") == {(): 3.0}
    assert samples(metrics.body, "process_open_fds")
    requests = samples(metrics.body, "conntest_exporter_http_requests_total")
    assert requests[(("code", "200"), ("path", "/probe"))] == 1.0

    assert (await get(running.base, "/-/healthy")).body == "OK\n"
    index = await get(running.base, "/")
    assert "alice@contoso.com" in index.body and index.headers["Content-Type"].startswith(
        "text/html"
    )
    assert (await get(running.base, "/nope")).status == 404
    post = await get(running.base, "/metrics", method="POST")
    assert (post.status, post.headers["Allow"]) == (405, "GET, HEAD")
    head = await get(running.base, "/metrics", method="HEAD")
    assert head.status == 200 and head.body == ""


async def test_probe_fits_the_scrape_timeout(running: Running) -> None:
    started = time.monotonic()
    answer = await get(
        running.base,
        "/probe?account=quiet@contoso.com",
        **{"X-Prometheus-Scrape-Timeout-Seconds": "4"},
    )
    elapsed = time.monotonic() - started
    assert answer.status == 200
    assert elapsed < 4
    state = samples(answer.body, "conntest_account_state")
    assert state == {(("account", "quiet@contoso.com"),): 2.0}


async def test_malformed_requests_get_an_answer(running: Running) -> None:
    host, port = running.base.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write(b"NONSENSE\r\n\r\n")
    reply = await reader.read()
    writer.close()
    assert reply.startswith(b"HTTP/1.1 400 Bad Request\r\n")


async def test_cmd_serve_listens_on_loopback_and_stops_on_sigterm(tmp_path: Path) -> None:
    async with Lab(accounts={"alice@contoso.com": "ok"}) as lab:
        config = tmp_path / "conntest.yaml"
        config.write_text(yaml.safe_dump(batch_yaml(lab, {"alice@contoso.com": "ok"})))
        process = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "conntest",
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--config",
            str(config),
            "--state-file",
            str(tmp_path / "state.json"),
            stderr=asyncio.subprocess.PIPE,
            env={**os.environ, PASSWORD_VAR: LAB_PASSWORD},
        )
        assert process.stderr is not None
        try:
            line = (await asyncio.wait_for(process.stderr.readline(), 20)).decode()
            match = re.search(r"listening on (http://127\.0\.0\.1:\d+) \(1 accounts", line)
            assert match, line
            answer = await get(match[1], "/probe?account=alice@contoso.com")
            assert samples(answer.body, "conntest_up")
            assert lab.record.auth_attempts(user="alice@contoso.com") == 2
        finally:
            process.send_signal(signal.SIGTERM)
            rest = await asyncio.wait_for(process.stderr.read(), 20)
            code = await process.wait()
    assert code == 0, rest
    state = json.loads((tmp_path / "state.json").read_text())
    assert state["accounts"] == {}, "the claim was released"


async def test_cmd_serve_refuses_a_bad_config(tmp_path: Path) -> None:
    config = tmp_path / "conntest.yaml"
    config.write_text("accounts:\n  - address: alice@contoso.com\n    password: hunter2\n")
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "conntest",
        "serve",
        "--config",
        str(config),
        stderr=asyncio.subprocess.PIPE,
    )
    _, err = await process.communicate()
    assert process.returncode == 3
    assert b"accounts[0].password" in err and b"hunter2" not in err
