"""``conntest serve``: a Prometheus exporter in the manner of blackbox_exporter.

``GET /probe?account=alice@contoso.com&profile=thunderbird`` runs one check
of a configured account and answers with its metrics (the families of
:mod:`conntest.render.prometheus`); ``GET /metrics`` answers with the
exporter's own (probes run, their durations, the process).  ``/`` is a short
page, ``/-/healthy`` says ``OK``.

The contract:

* accounts and their password sources come from the config file (the batch
  file format); the query string names an account and optionally profiles,
  nothing else: any other parameter, ``password`` included, is a ``400``;
* the listen address defaults to loopback; the exporter has no
  authentication, and anyone who can reach it can make it send credentials;
* lockout safety as in a batch: each probe is one run (one authentication per
  protocol at most), ``--min-auth-interval`` (default 900 s) holds the
  password back after a failure, probes of one account never overlap, and
  identical probes arriving together share one check;
* a probe's deadline is the account's timeout, shortened to fit the scrape
  timeout Prometheus sends (``X-Prometheus-Scrape-Timeout-Seconds``).

HTTP/1.1 on asyncio streams (standard library only), one request per
connection, ``GET`` and ``HEAD`` only.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import html
import ipaddress
import time
import urllib.parse
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date
from typing import TextIO

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)

from conntest.batch.config import AccountEntry, BatchFile, EntryDefaults, load_batch
from conntest.batch.options import advice_date, min_auth_interval
from conntest.batch.runner import GRACE, AccountResult, BatchResult, make_executor, run_account
from conntest.errors import UsageError
from conntest.interrupts import on_stop
from conntest.lockout import AuthLedger, open_ledger
from conntest.profiles import load_profiles
from conntest.render.prometheus import CONTENT_TYPE, render_prometheus

__all__ = ["Exporter", "Response", "cmd_serve", "start_server"]

EXIT_UNKNOWN = 3
REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send its request line and headers."""
MAX_HEADERS = 100
SCRAPE_MARGIN = 0.5
"""Seconds kept back from Prometheus' scrape timeout for the answer to travel."""
PROBE_PARAMETERS = frozenset({"account", "profile"})


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def _text(status: int, message: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"))


class Exporter:
    """Answers the exporter's HTTP paths; owns its metrics and the probes in flight."""

    def __init__(
        self,
        config: BatchFile,
        *,
        ledger: AuthLedger | None = None,
        concurrency: int = 10,
        default_timeout: float | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.default_timeout = default_timeout
        self.registry = CollectorRegistry(auto_describe=True)
        self.probes = Counter(
            "conntest_exporter_probes",
            "Probes run, by outcome (ok, warning, critical, unknown).",
            ["verdict"],
            registry=self.registry,
        )
        self.probe_seconds = Histogram(
            "conntest_exporter_probe_duration_seconds",
            "How long probes took.",
            buckets=(0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 120),
            registry=self.registry,
        )
        self.in_flight = Gauge(
            "conntest_exporter_probes_in_flight", "Probes running now.", registry=self.registry
        )
        self.requests = Counter(
            "conntest_exporter_http_requests",
            "HTTP requests answered, by path and status code.",
            ["path", "code"],
            registry=self.registry,
        )
        self.auth_skipped = Counter(
            "conntest_exporter_auth_skipped",
            "Probes whose password the lockout rules held back.",
            registry=self.registry,
        )
        accounts = Gauge(
            "conntest_exporter_config_accounts",
            "Accounts in the config file.",
            registry=self.registry,
        )
        accounts.set(len(config.entries))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._slots = asyncio.Semaphore(concurrency)
        self._account_locks: dict[str, asyncio.Lock] = {}
        self._shared: dict[tuple[str, tuple[str, ...], float], asyncio.Task[AccountResult]] = {}
        self.today: Callable[[], date | None] = lambda: None
        """Today's date for each probe's date-aware advice (set by :func:`cmd_serve`)."""
        self.retirement_window = 60
        """``--retirement-window``."""

    async def respond(self, method: str, target: str, headers: dict[str, str]) -> Response:
        split = urllib.parse.urlsplit(target)
        path = split.path
        if method not in {"GET", "HEAD"}:
            response = _text(405, "only GET and HEAD are supported")
            response = dataclasses.replace(response, headers=(("Allow", "GET, HEAD"),))
        elif path == "/probe":
            response = await self._probe(split.query, headers)
        elif path == "/metrics":
            response = Response(200, generate_latest(self.registry), CONTENT_TYPE)
        elif path == "/-/healthy":
            response = _text(200, "OK")
        elif path == "/":
            response = self._index()
        else:
            response = _text(404, f"no such page: {path}")
        known = path if path in {"/", "/probe", "/metrics", "/-/healthy"} else "other"
        self.requests.labels(known, str(response.status)).inc()
        return response

    async def _probe(self, query: str, headers: dict[str, str]) -> Response:
        try:
            params = urllib.parse.parse_qs(query, keep_blank_values=True, max_num_fields=20)
        except ValueError:
            return _text(400, "too many query parameters")
        unknown = sorted(set(params) - PROBE_PARAMETERS)
        if unknown:
            return _text(
                400,
                f"unknown parameter {', '.join(unknown)}: /probe takes account and profile; "
                "accounts and their secrets come from the config file, never from the query",
            )
        accounts = params.get("account", [])
        if len(accounts) != 1 or not accounts[0]:
            return _text(400, "give exactly one account: /probe?account=alice@contoso.com")
        entry = self.config.entry(accounts[0])
        if entry is None:
            return _text(404, f"account {accounts[0]} is not in the config file")
        wanted = [p for value in params.get("profile", []) for p in value.split(",") if p]
        by_id = {p.id: p for p in entry.profiles}
        strangers = [p for p in wanted if p not in by_id]
        if strangers:
            return _text(
                400,
                f"profile {', '.join(strangers)} is not configured for {entry.address}; "
                f"configured: {', '.join(by_id)}",
            )
        profiles = tuple(by_id[p] for p in dict.fromkeys(wanted)) if wanted else entry.profiles
        timeout = self._timeout(entry.timeout, headers)
        chosen = dataclasses.replace(
            entry,
            profiles=profiles,
            timeout=timeout,
            today=self.today(),
            retirement_window=self.retirement_window,
        )
        key = (entry.key, chosen.profile_ids, timeout)
        task = self._shared.get(key)
        if task is None:
            task = asyncio.ensure_future(self._run(chosen))
            self._shared[key] = task
            task.add_done_callback(lambda _: self._shared.pop(key, None))
        started = time.time()
        result = await asyncio.shield(task)
        batch = BatchResult([result], started, result.elapsed_ms)
        return Response(200, render_prometheus(batch, batch_metrics=False).encode(), CONTENT_TYPE)

    def _timeout(self, configured: float, headers: dict[str, str]) -> float:
        timeout = (
            configured if self.default_timeout is None else min(configured, self.default_timeout)
        )
        scrape = headers.get("x-prometheus-scrape-timeout-seconds")
        with contextlib.suppress(ValueError):
            if scrape is not None:
                timeout = min(timeout, float(scrape) - SCRAPE_MARGIN - GRACE)
        return max(1.0, timeout)

    async def _run(self, entry: AccountEntry) -> AccountResult:
        lock = self._account_locks.setdefault(entry.key, asyncio.Lock())
        async with lock, self._slots:
            self.in_flight.inc()
            try:
                result = await run_account(entry, ledger=self.ledger)
            finally:
                self.in_flight.dec()
        self.probes.labels(result.verdict).inc()
        self.probe_seconds.observe(result.elapsed_ms / 1000)
        if result.authentication == "skipped":
            self.auth_skipped.inc()
        return result

    def _index(self) -> Response:
        rows = "".join(
            f'<li><a href="/probe?account={urllib.parse.quote(e.address)}">'
            f"{html.escape(e.address)}</a> ({html.escape(', '.join(e.profile_ids))})</li>"
            for e in self.config.entries
        )
        page = (
            "<!doctype html><html><head><title>conntest exporter</title></head><body>"
            "<h1>conntest exporter</h1>"
            '<p><a href="/metrics">/metrics</a>: the exporter\'s own metrics. '
            "/probe?account=ADDRESS[&amp;profile=ID]: check one configured account.</p>"
            f"<ul>{rows}</ul></body></html>\n"
        )
        return Response(200, page.encode(), "text/html; charset=utf-8")


async def handle_connection(
    respond: Callable[[str, str, dict[str, str]], Awaitable[Response]],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Read one request, answer it, close; never raises."""
    head = False
    try:
        try:
            method, target, headers = await asyncio.wait_for(_read_request(reader), REQUEST_TIMEOUT)
        except TimeoutError:
            response = _text(408, "request not received in time")
        except _BadRequest as exc:
            response = _text(exc.status, str(exc))
        else:
            head = method == "HEAD"
            try:
                response = await respond(method, target, headers)
            except Exception as exc:  # a bug: answer 500 rather than drop the scrape
                response = _text(500, f"internal error: {exc.__class__.__name__}")
        _write_response(writer, response, head=head)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await writer.wait_closed()


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    try:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
    except ValueError:  # longer than the stream's limit
        raise _BadRequest(400, "request line too long") from None
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed request line")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        try:
            raw = (await reader.readline()).decode("latin-1")
        except ValueError:
            raise _BadRequest(431, "header line too long") from None
        if raw in {"\r\n", "\n", ""}:
            return method, target, headers
        name, sep, value = raw.partition(":")
        if not sep:
            raise _BadRequest(400, "malformed header")
        headers[name.strip().lower()] = value.strip()
    raise _BadRequest(431, "too many headers")


def _write_response(writer: asyncio.StreamWriter, response: Response, *, head: bool) -> None:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head:
        writer.write(response.body)


async def start_server(exporter: Exporter, host: str, port: int) -> asyncio.Server:
    """Listen on ``host:port`` (``port=0``: any free port) and serve ``exporter``."""

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await handle_connection(exporter.respond, reader, writer)

    return await asyncio.start_server(on_connection, host, port, limit=16 * 1024)


def cmd_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``conntest serve``: load the config, then serve until SIGINT or SIGTERM."""
    del stdout  # the exporter's output is HTTP; messages go to stderr
    profiles = load_profiles(args.profile_file)
    for problem in profiles.problems:
        print(f"conntest: profile problem: {problem}", file=stderr)
    defaults = EntryDefaults(timeout=args.timeout or 60.0)
    config = load_batch(args.config, profiles, defaults)
    if config.problems:
        for problem in config.problems:
            print(f"conntest: {problem}", file=stderr)
        return EXIT_UNKNOWN
    host, port = args.listen
    if not _is_loopback(host):
        print(
            f"conntest: warning: listening on {host}, beyond this machine; the exporter has no "
            "authentication and anyone who reaches it can make it send credentials",
            file=stderr,
        )
    interval = min_auth_interval(args)
    ledger = open_ledger(args.state_file, interval)
    advice_date(args)  # a malformed $CONNTEST_TODAY is bad input: say so before serving

    async def main() -> None:
        loop = asyncio.get_running_loop()
        widest = max((len(e.profiles) for e in config.entries), default=1)
        loop.set_default_executor(make_executor(args.concurrency, widest))
        exporter = Exporter(
            config, ledger=ledger, concurrency=args.concurrency, default_timeout=args.timeout
        )
        # Read when each probe starts: a server that runs past midnight counts the new day.
        exporter.today = lambda: advice_date(args)
        exporter.retirement_window = args.retirement_window
        try:
            server = await start_server(exporter, host, port)
        except OSError as exc:
            raise UsageError(f"--listen {host}:{port}: {exc.strerror or exc}") from None
        stop = asyncio.Event()
        on_stop(loop, stop.set)  # SIGINT/SIGTERM; Ctrl-C/Ctrl-Break on Windows
        bound = server.sockets[0].getsockname()
        print(
            f"conntest serve: listening on http://{_url_host(bound[0])}:{bound[1]} "
            f"({len(config.entries)} accounts from {args.config})",
            file=stderr,
            flush=True,
        )
        async with server:
            await stop.wait()
        print("conntest serve: stopped", file=stderr)

    asyncio.run(main())
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host
