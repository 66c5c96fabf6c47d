"""``conntest serve``: a Prometheus exporter in the manner of blackbox_exporter.

``GET /probe?account=alice@contoso.com&profile=thunderbird`` runs one check
of a configured account and answers with its metrics (the families of
:mod:`conntest.render.prometheus`, plus blackbox_exporter's ``probe_success``
and ``probe_duration_seconds``); ``GET /metrics`` answers with the
exporter's own (probes run, their durations, the process).  ``/`` is a short
page, ``/-/healthy`` says ``OK``, ``POST /-/reload`` (or SIGHUP) reads the
config file again.

The contract:

* accounts and their password sources come from the config file (the batch
  file format); the query string names an account and optionally profiles,
  nothing else: any other parameter, ``password`` included, is a ``400``;
* the listen address defaults to loopback; the exporter has no
  authentication, and anyone who can reach it can make it send credentials;
* lockout safety as in a batch: each probe is one run (one authentication per
  protocol at most), ``--min-auth-interval`` (default 900 s) holds the
  password back after a failure, probes of one account never overlap;
  probes of the same account and profiles share one check in flight
  whatever their headers, and a successful result is answered again for
  ``--min-probe-interval`` seconds (default 60), so scrapes from several
  Prometheus servers never become a stream of sign-ins;
* a probe's deadline is the account's timeout, shortened to fit the scrape
  timeout Prometheus sends (``X-Prometheus-Scrape-Timeout-Seconds``);
* a reload that finds the new config broken keeps the old one and says why;
* one line on stderr per probe (account, profiles, verdict, code, ms, and
  whether it was checked, shared or cached) and per resource condition
  (``EMFILE`` and the like), never a secret and never a traceback per accept;
  at most ``--max-connections`` connections are served at once.

HTTP/1.1 in :mod:`conntest.serve_http`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import errno
import html
import ipaddress
import time
import urllib.parse
from collections.abc import Callable
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
from conntest.batch.runner import (
    GRACE,
    REAUTH,
    AccountResult,
    BatchResult,
    make_executor,
    run_account,
)
from conntest.errors import ConntestError, UsageError
from conntest.interrupts import on_reload, on_stop
from conntest.lockout import AuthLedger, open_ledger
from conntest.oauth.defaults import oauth_defaults
from conntest.printable import host_port
from conntest.profiles import load_profiles
from conntest.render.prometheus import CONTENT_TYPE, render_prometheus
from conntest.serve_http import Response, handle_connection, text_response

__all__ = ["Exporter", "Response", "cmd_serve", "start_server"]

EXIT_UNKNOWN = 3
DEFAULT_MIN_PROBE_INTERVAL = 60.0
DEFAULT_MAX_CONNECTIONS = 256
ProbeKey = tuple[str, tuple[str, ...]]
"""An account and the profiles a probe checks: what probes share, whatever their headers."""
SCRAPE_MARGIN = 0.5
"""Seconds kept back from Prometheus' scrape timeout for the answer to travel."""
PROBE_PARAMETERS = frozenset({"account", "profile"})


class Exporter:
    """Answers the exporter's HTTP paths; owns its metrics and the probes in flight."""

    def __init__(
        self,
        config: BatchFile,
        *,
        ledger: AuthLedger | None = None,
        concurrency: int = 10,
        default_timeout: float | None = None,
        min_probe_interval: float = DEFAULT_MIN_PROBE_INTERVAL,
        log: TextIO | None = None,
    ) -> None:
        self.config = config
        self.ledger = ledger
        self.default_timeout = default_timeout
        self.min_probe_interval = min_probe_interval
        """Seconds a successful result is answered again instead of checking anew."""
        self.log = log
        """Where the one line per probe goes (stderr for ``conntest serve``)."""
        self.reload_config: Callable[[], BatchFile] | None = None
        """Reads the config file again; :class:`~conntest.errors.ConntestError` if unusable."""
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
        self.cache_hits = Counter(
            "conntest_exporter_probe_cache_hits",
            "Probes answered with a recent successful result (--min-probe-interval).",
            registry=self.registry,
        )
        self.reloads = Counter(
            "conntest_exporter_config_reloads",
            "Config reloads (SIGHUP, POST /-/reload), by result.",
            ["result"],
            registry=self.registry,
        )
        self.accounts = Gauge(
            "conntest_exporter_config_accounts",
            "Accounts in the config file.",
            registry=self.registry,
        )
        self.accounts.set(len(config.entries))
        ProcessCollector(registry=self.registry)
        PlatformCollector(registry=self.registry)
        self._slots = asyncio.Semaphore(concurrency)
        self._account_locks: dict[str, asyncio.Lock] = {}
        self._shared: dict[ProbeKey, asyncio.Task[AccountResult]] = {}
        self._cache: dict[ProbeKey, tuple[float, AccountResult]] = {}
        self.today: Callable[[], date | None] = lambda: None
        """Today's date for each probe's date-aware advice (set by :func:`cmd_serve`)."""
        self.retirement_window = 60
        """``--retirement-window``."""

    async def respond(self, method: str, target: str, headers: dict[str, str]) -> Response:
        split = urllib.parse.urlsplit(target)
        path = split.path
        if path == "/-/reload":
            if method == "POST":
                response = self.reload()
            else:
                response = text_response(405, "POST /-/reload reads the config file again")
                response = dataclasses.replace(response, headers=(("Allow", "POST"),))
        elif method not in {"GET", "HEAD"}:
            response = text_response(405, "only GET and HEAD are supported")
            response = dataclasses.replace(response, headers=(("Allow", "GET, HEAD"),))
        elif path == "/probe":
            response = await self._probe(split.query, headers)
        elif path == "/metrics":
            response = Response(200, generate_latest(self.registry), CONTENT_TYPE)
        elif path == "/-/healthy":
            response = text_response(200, "OK")
        elif path == "/":
            response = self._index()
        else:
            response = text_response(404, f"no such page: {path}")
        known = path if path in {"/", "/probe", "/metrics", "/-/healthy", "/-/reload"} else "other"
        self.requests.labels(known, str(response.status)).inc()
        return response

    async def _probe(self, query: str, headers: dict[str, str]) -> Response:
        try:
            params = urllib.parse.parse_qs(query, keep_blank_values=True, max_num_fields=20)
        except ValueError:
            return text_response(400, "too many query parameters")
        unknown = sorted(set(params) - PROBE_PARAMETERS)
        if unknown:
            return text_response(
                400,
                f"unknown parameter {', '.join(unknown)}: /probe takes account and profile; "
                "accounts and their secrets come from the config file, never from the query",
            )
        accounts = params.get("account", [])
        if len(accounts) != 1 or not accounts[0]:
            return text_response(400, "give exactly one account: /probe?account=alice@contoso.com")
        entry = self.config.entry(accounts[0])
        if entry is None:
            return text_response(404, f"account {accounts[0]} is not in the config file")
        wanted = [p for value in params.get("profile", []) for p in value.split(",") if p]
        by_id = {p.id: p for p in entry.profiles}
        strangers = [p for p in wanted if p not in by_id]
        if strangers:
            return text_response(
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
        # Not the timeout: scrapes that differ only in their scrape-timeout header
        # are the same probe (the first one's deadline holds for all).
        key: ProbeKey = (entry.key, chosen.profile_ids)
        started = time.time()
        result = self._recent(key)
        source = "cached"
        if result is None:
            task = self._shared.get(key)
            source = "shared" if task is not None else "checked"
            if task is None:
                task = asyncio.ensure_future(self._run(chosen, key))
                self._shared[key] = task
                task.add_done_callback(lambda _: self._shared.pop(key, None))
            result = await asyncio.shield(task)
        else:
            self.cache_hits.inc()
        self._log_probe(result, source)
        batch = BatchResult([result], started, result.elapsed_ms)
        body = render_prometheus(batch, batch_metrics=False) + blackbox_metrics(result)
        if _login_hint(result):
            # For the person who opens /probe: the sign-in a headless probe cannot do.
            body += f"# conntest: {result.address}: {_login_hint(result)}\n"
        return Response(200, body.encode(), CONTENT_TYPE)

    def _recent(self, key: ProbeKey) -> AccountResult | None:
        """A successful result of this probe younger than ``--min-probe-interval``."""
        found = self._cache.get(key)
        if found is None:
            return None
        if time.monotonic() - found[0] >= self.min_probe_interval:
            del self._cache[key]
            return None
        return found[1]

    def _log_probe(self, result: AccountResult, source: str) -> None:
        if self.log is None:
            return
        # Addresses come from the validated config (one line, no control
        # characters); codes from the catalogue: nothing here can hold a secret.
        print(
            f"conntest serve: probe account={result.address} "
            f"profile={','.join(result.entry.profile_ids)} verdict={result.verdict} "
            f"code={result.code} ms={result.elapsed_ms:.0f} {source}"
            + (f" ({_login_hint(result)})" if _login_hint(result) else ""),
            file=self.log,
            flush=True,
        )

    def reload(self) -> Response:
        """Read the config file again; a broken one is refused and the old one kept."""
        if self.reload_config is None:
            return text_response(404, "this exporter has no config file to reload")
        try:
            config = self.reload_config()
        except ConntestError as exc:
            problems = [str(p) for p in exc.problems] or [str(exc)]
            self.reloads.labels("failed").inc()
            self._say(
                f"reload failed, keeping the {len(self.config.entries)} accounts loaded before",
                *problems,
            )
            return text_response(
                500, "reload failed; the old config is kept:\n" + "\n".join(problems)
            )
        old = {e.key: e for e in self.config.entries}
        self.config = config
        self.accounts.set(len(config.entries))
        # Keep a cached result only for an account whose entry did not change.
        self._cache = {k: v for k, v in self._cache.items() if old.get(k[0]) == config.entry(k[0])}
        self.reloads.labels("ok").inc()
        self._say(f"reloaded: {len(config.entries)} accounts")
        return text_response(200, f"reloaded: {len(config.entries)} accounts")

    def reload_now(self) -> None:
        """:meth:`reload` for a signal handler (the outcome is logged)."""
        self.reload()

    def _say(self, line: str, *details: str) -> None:
        if self.log is not None:
            print(f"conntest serve: {line}", file=self.log, flush=True)
            for detail in details:
                print(f"conntest serve:   {detail}", file=self.log, flush=True)

    def _timeout(self, configured: float, headers: dict[str, str]) -> float:
        timeout = (
            configured if self.default_timeout is None else min(configured, self.default_timeout)
        )
        scrape = headers.get("x-prometheus-scrape-timeout-seconds")
        with contextlib.suppress(ValueError):
            if scrape is not None:
                timeout = min(timeout, float(scrape) - SCRAPE_MARGIN - GRACE)
        return max(1.0, timeout)

    async def _run(self, entry: AccountEntry, key: ProbeKey) -> AccountResult:
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
        if result.exit_code <= 1 and self.min_probe_interval > 0:
            self._cache[key] = (time.monotonic(), result)
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


def _login_hint(result: AccountResult) -> str:
    """``run: conntest oauth login …`` for an account with no usable saved sign-in."""
    entry = result.entry
    if result.code != REAUTH or not isinstance(entry, AccountEntry) or entry.oauth is None:
        return ""
    return f"run: {entry.login_command}"


def blackbox_metrics(result: AccountResult) -> str:
    """blackbox_exporter's two families, so its dashboards and alerts apply as they are.

    ``probe_success`` is 1 when the account's clients can connect (ok or
    warning), 0 otherwise (critical, unknown).
    """
    success = 1 if result.exit_code <= 1 else 0
    return (
        "# HELP probe_success Whether the probe succeeded (the account's clients can connect).\n"
        "# TYPE probe_success gauge\n"
        f"probe_success {success}\n"
        "# HELP probe_duration_seconds How long the probe took, in seconds.\n"
        "# TYPE probe_duration_seconds gauge\n"
        f"probe_duration_seconds {result.elapsed_ms / 1000:.6f}\n"
    )


class ConnectionCap:
    """At most ``limit`` connections served at once; the rest are closed at once."""

    def __init__(self, limit: int, log: TextIO | None) -> None:
        self.limit = limit
        self.open = 0
        self._log = log
        self._refusing = False

    def admit(self) -> bool:
        if self.open >= self.limit:
            if not self._refusing and self._log is not None:
                print(
                    f"conntest serve: {self.open} connections open (--max-connections "
                    f"{self.limit}); closing new ones until some finish",
                    file=self._log,
                    flush=True,
                )
            self._refusing = True
            return False
        self._refusing = False
        self.open += 1
        return True

    def release(self) -> None:
        self.open -= 1


async def start_server(
    exporter: Exporter, host: str, port: int, *, max_connections: int = DEFAULT_MAX_CONNECTIONS
) -> asyncio.Server:
    """Listen on ``host:port`` (``port=0``: any free port) and serve ``exporter``."""
    cap = ConnectionCap(max_connections, exporter.log)
    resources = ResourceConditions(exporter.log)
    asyncio.get_running_loop().set_exception_handler(resources.handle)

    async def on_connection(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if not cap.admit():
            writer.close()
            return
        try:
            await handle_connection(exporter.respond, reader, writer)
        finally:
            cap.release()

    return await asyncio.start_server(on_connection, host, port, limit=16 * 1024)


class ResourceConditions:
    """One line per resource condition (``EMFILE`` …) instead of asyncio's traceback per accept.

    asyncio reports a failed ``accept()`` through the loop's exception handler
    and retries a second later; while the condition lasts that is a traceback
    a second per listening socket.  This handler says it once, and again at
    most every ``REPEAT`` seconds while it goes on.
    """

    REPEAT = 300.0

    def __init__(self, log: TextIO | None) -> None:
        self._log = log
        self._said: dict[str, float] = {}

    def handle(self, loop: asyncio.AbstractEventLoop, context: dict[str, object]) -> None:
        exc = context.get("exception")
        if isinstance(exc, OSError) and "accept" in str(context.get("message", "")):
            name = errno.errorcode.get(exc.errno or 0, "error")
            now = time.monotonic()
            if now - self._said.get(name, -self.REPEAT) >= self.REPEAT:
                self._said[name] = now
                if self._log is not None:
                    print(
                        f"conntest serve: cannot accept connections: {exc.strerror} ({name}); "
                        "retrying every second",
                        file=self._log,
                        flush=True,
                    )
            return
        if isinstance(exc, ValueError) and "_start_serving" in str(context.get("message", "")):
            # asyncio's accept retry, still pending when the server closed (it is not
            # cancelled with the server): a socket that is gone, nothing to report.
            return
        loop.default_exception_handler(context)


def cmd_serve(args: argparse.Namespace, stdout: TextIO, stderr: TextIO) -> int:
    """``conntest serve``: load the config, then serve until SIGINT or SIGTERM."""
    del stdout  # the exporter's output is HTTP; messages go to stderr

    def load_config(*, quiet: bool = False) -> BatchFile:
        profiles = load_profiles(args.profile_file)
        if not quiet:
            for problem in profiles.problems:
                print(f"conntest: profile problem: {problem}", file=stderr)
        # auth: oauth accounts take what they leave out from config.yaml ($CONNTEST_CONFIG).
        defaults = EntryDefaults(timeout=args.timeout or 60.0, settings=oauth_defaults)
        config = load_batch(args.config, profiles, defaults)
        config.raise_for_problems()
        return config

    try:
        config = load_config()
    except ConntestError as exc:
        for line in [str(p) for p in exc.problems] or [str(exc)]:
            print(f"conntest: {line}", file=stderr)
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
    for warning in ledger.warnings if ledger is not None else ():
        print(f"conntest: {warning}", file=stderr)  # a broken state entry, say: never fatal
    advice_date(args)  # a malformed $CONNTEST_TODAY is bad input: say so before serving

    async def main() -> None:
        loop = asyncio.get_running_loop()
        widest = max((len(e.profiles) for e in config.entries), default=1)
        loop.set_default_executor(make_executor(args.concurrency, widest))
        exporter = Exporter(
            config,
            ledger=ledger,
            concurrency=args.concurrency,
            default_timeout=args.timeout,
            min_probe_interval=args.min_probe_interval,
            log=stderr,
        )
        exporter.reload_config = lambda: load_config(quiet=True)
        # Read when each probe starts: a server that runs past midnight counts the new day.
        exporter.today = lambda: advice_date(args)
        exporter.retirement_window = args.retirement_window
        try:
            server = await start_server(exporter, host, port, max_connections=args.max_connections)
        except OSError as exc:
            raise UsageError(f"--listen {host_port(host, port)}: {exc.strerror or exc}") from None
        stop = asyncio.Event()
        on_stop(loop, stop.set)  # SIGINT/SIGTERM; Ctrl-C/Ctrl-Break on Windows
        by_signal = on_reload(loop, exporter.reload_now)  # SIGHUP, where the system has it
        bound = server.sockets[0].getsockname()
        print(
            f"conntest serve: listening on http://{host_port(bound[0], bound[1])} "
            f"({len(config.entries)} accounts from {args.config})",
            file=stderr,
            flush=True,
        )
        if not by_signal:  # Windows
            print("conntest serve: no SIGHUP here: reload with POST /-/reload", file=stderr)
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
