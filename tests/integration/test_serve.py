"""``conntest serve`` over real HTTP (urllib in a thread), probing the lab.

What a Prometheus server would see: ``/probe`` answers with a parseable
exposition for one configured account, the query string cannot carry a
secret, the lockout rules hold between scrapes, and ``/metrics`` describes
the exporter itself.
"""

from __future__ import annotations

import asyncio
import contextlib
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


async def test_scrapes_that_differ_in_headers_share_one_check_then_hit_the_cache(
    running: Running,
) -> None:
    """Two Prometheus servers with other scrape timeouts sign in once, not once each."""
    paths = "/probe?account=alice@contoso.com&profile=thunderbird"
    answers = await asyncio.gather(
        *(
            get(running.base, paths, **{"X-Prometheus-Scrape-Timeout-Seconds": str(t)})
            for t in (10, 14.5, 20, 30, 59)
        )
    )
    assert [a.status for a in answers] == [200] * 5
    assert running.lab.record.auth_attempts(user="alice@contoso.com") == 2  # IMAP + SMTP, once
    for _ in range(3):  # later scrapes within --min-probe-interval: no sign-in at all
        again = await get(running.base, paths, **{"X-Prometheus-Scrape-Timeout-Seconds": "9"})
        assert samples(again.body, "conntest_up")
    assert running.lab.record.auth_attempts(user="alice@contoso.com") == 2
    metrics = await get(running.base, "/metrics")
    assert samples(metrics.body, "conntest_exporter_probes_total") == {(("verdict", "ok"),): 1.0}
    assert samples(metrics.body, "conntest_exporter_probe_cache_hits_total") == {(): 3.0}


async def test_a_failure_is_not_cached(running: Running) -> None:
    """A failed probe is checked again (connectivity only, under the lockout rules)."""
    await get(running.base, "/probe?account=bob@contoso.com")
    await get(running.base, "/probe?account=bob@contoso.com")
    metrics = await get(running.base, "/metrics")
    assert samples(metrics.body, "conntest_exporter_probes_total") == {
        (("verdict", "critical"),): 2.0
    }


async def test_blackbox_exporter_families(running: Running) -> None:
    ok = await get(running.base, "/probe?account=alice@contoso.com&profile=thunderbird")
    assert samples(ok.body, "probe_success") == {(): 1.0}
    (duration,) = samples(ok.body, "probe_duration_seconds").values()
    assert 0 < duration < 20
    failed = await get(running.base, "/probe?account=bob@contoso.com")
    assert samples(failed.body, "probe_success") == {(): 0.0}


class Serve:
    """``conntest serve`` in a subprocess; its stderr collected line by line."""

    def __init__(self, process: asyncio.subprocess.Process) -> None:
        self.process = process
        self.lines: list[str] = []
        self._reader = asyncio.ensure_future(self._read())
        self.base = ""

    async def _read(self) -> None:
        assert self.process.stderr is not None
        async for raw in self.process.stderr:
            self.lines.append(raw.decode(errors="replace").rstrip("\n"))

    async def wait_for(self, pattern: str, count: int = 1, timeout: float = 20) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = [line for line in self.lines if re.search(pattern, line)]
            if len(found) >= count:
                return found[count - 1]
            await asyncio.sleep(0.05)
        raise AssertionError(f"{pattern!r} never logged; stderr: {self.lines}")

    async def stop(self) -> int:
        if self.process.returncode is None:
            self.process.send_signal(signal.SIGTERM)
        code = await asyncio.wait_for(self.process.wait(), 20)
        await asyncio.wait_for(self._reader, 5)
        return code


async def start_serve(config: Path, tmp_path: Path, *extra: str, **popen: object) -> Serve:
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
        *extra,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, PASSWORD_VAR: LAB_PASSWORD},
        **popen,  # type: ignore[arg-type]
    )
    serve = Serve(process)
    line = await serve.wait_for(r"listening on http://")
    match = re.search(r"listening on (http://127\.0\.0\.1:\d+)", line)
    assert match, line
    serve.base = match[1]
    return serve


async def test_sighup_and_post_reload_the_config_and_a_broken_one_is_refused(
    tmp_path: Path,
) -> None:
    both = {"alice@contoso.com": "ok", "carol@contoso.com": "ok"}
    async with Lab(accounts=both) as lab:
        config = tmp_path / "conntest.yaml"
        config.write_text(yaml.safe_dump(batch_yaml(lab, {"alice@contoso.com": "ok"})))
        serve = await start_serve(config, tmp_path)
        try:
            assert (await get(serve.base, "/probe?account=carol@contoso.com")).status == 404
            probe = await get(serve.base, "/probe?account=alice@contoso.com")
            assert samples(probe.body, "probe_success") == {(): 1.0}
            logged = await serve.wait_for(r"probe account=alice@contoso.com")
            assert re.search(r"profile=thunderbird verdict=ok code=ok ms=\d+ checked$", logged), (
                logged
            )

            config.write_text(yaml.safe_dump(batch_yaml(lab, both)))
            serve.process.send_signal(signal.SIGHUP)
            await serve.wait_for(r"reloaded: 2 accounts")
            assert (await get(serve.base, "/probe?account=carol@contoso.com")).status == 200

            config.write_text("accounts:\n  - address: dave@contoso.com\n    password: hunter2\n")
            serve.process.send_signal(signal.SIGHUP)
            await serve.wait_for(r"reload failed, keeping the 2 accounts")
            await serve.wait_for(r"accounts\[0\]\.password")
            assert (await get(serve.base, "/probe?account=carol@contoso.com")).status == 200
            refused = await get(serve.base, "/-/reload", method="POST")
            assert refused.status == 500 and "old config is kept" in refused.body

            config.write_text(yaml.safe_dump(batch_yaml(lab, {"carol@contoso.com": "ok"})))
            reloaded = await get(serve.base, "/-/reload", method="POST")
            assert (reloaded.status, reloaded.body) == (200, "reloaded: 1 accounts\n")
            assert (await get(serve.base, "/probe?account=alice@contoso.com")).status == 404
            assert serve.process.returncode is None, "SIGHUP must not end serve"
        finally:
            code = await serve.stop()
    assert code == 0, serve.lines
    text = "\n".join(serve.lines)
    assert "Traceback" not in text
    assert "hunter2" not in text and LAB_PASSWORD not in text


def _low_fd_limit() -> None:
    import resource

    resource.setrlimit(resource.RLIMIT_NOFILE, (48, 48))


async def test_out_of_descriptors_is_one_line_not_a_traceback_per_accept(tmp_path: Path) -> None:
    """With the descriptor limit reached, serve says so once, keeps running and recovers."""
    async with Lab(accounts={"alice@contoso.com": "ok"}) as lab:
        config = tmp_path / "conntest.yaml"
        config.write_text(yaml.safe_dump(batch_yaml(lab, {"alice@contoso.com": "ok"})))
        serve = await start_serve(config, tmp_path, preexec_fn=_low_fd_limit)
        host, port = serve.base.removeprefix("http://").split(":")
        idle: list[asyncio.StreamWriter] = []
        try:
            for _ in range(80):  # idle clients: each holds one of the server's descriptors
                _, writer = await asyncio.open_connection(host, int(port))
                idle.append(writer)
            await serve.wait_for(r"cannot accept connections: Too many open files \(EMFILE\)")
            await asyncio.sleep(2.5)  # asyncio retries the accept every second
            assert serve.process.returncode is None
        finally:
            for writer in idle:
                writer.close()
        healthy = None
        for _ in range(50):
            with contextlib.suppress(OSError):
                healthy = await get(serve.base, "/-/healthy")
                break
            await asyncio.sleep(0.2)
        assert healthy is not None and healthy.body == "OK\n"
        code = await serve.stop()
    assert code == 0
    assert sum("cannot accept connections" in line for line in serve.lines) == 1, serve.lines
    assert not any("Traceback" in line for line in serve.lines), "\n".join(serve.lines)


async def test_connections_beyond_the_cap_are_closed_with_one_line(tmp_path: Path) -> None:
    async with Lab(accounts={"alice@contoso.com": "ok"}) as lab:
        config = tmp_path / "conntest.yaml"
        config.write_text(yaml.safe_dump(batch_yaml(lab, {"alice@contoso.com": "ok"})))
        serve = await start_serve(config, tmp_path, "--max-connections", "4")
        host, port = serve.base.removeprefix("http://").split(":")
        idle = [(await asyncio.open_connection(host, int(port)))[1] for _ in range(4)]
        try:
            await asyncio.sleep(0.3)
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(b"GET /-/healthy HTTP/1.1\r\n\r\n")
            try:
                reply = await asyncio.wait_for(reader.read(), 10)
            except ConnectionResetError:  # closed with our request unread
                reply = b""
            assert reply == b"", reply  # closed, not served
            writer.close()
            await serve.wait_for(r"4 connections open \(--max-connections 4\)")
        finally:
            for writer in idle:
                writer.close()
        await asyncio.sleep(0.3)
        assert (await get(serve.base, "/-/healthy")).body == "OK\n"
        await serve.stop()
    assert sum("--max-connections" in line for line in serve.lines) == 1
