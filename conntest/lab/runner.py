"""The lab as a whole: one object that serves every scenario on loopback.

:class:`Lab` starts, in the caller's event loop,

* the shared IMAP and SMTP servers, which pick each connection's behaviour
  from the user that logs in (``accounts.get(user.lower(), default_scenario)``);
* listeners of their own for the scenarios that act before a user name is
  sent (faults, certificates, STARTTLS stripping, the TLS 1.0 client);
* one DNS view for the main names and one per DNS scenario.

Host names in :class:`LabEndpoints` are the real Microsoft names: a check
resolves them through the lab's DNS, exactly as it would in the field, and
trusts the lab's CA through ``--ca-file``.  Nothing binds or connects outside
127.0.0.0/8.

:func:`run_lab` is the long-running form behind ``conntest lab``.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import shutil
import ssl
import sys
import tempfile
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any, Protocol

from conntest.interrupts import on_stop
from conntest.lab import texts
from conntest.lab.accounts import load_accounts
from conntest.lab.ca import LabCertificates
from conntest.lab.dns_server import DnsServer
from conntest.lab.faults import ClosedPort, FilteredPort, ResetHandler, SilentHandler
from conntest.lab.identity import IdentityConfig, IdentityServer
from conntest.lab.identity_grants import GrantBook
from conntest.lab.identity_tls import IDENTITY_HOST, identity_context
from conntest.lab.imap_server import ImapConfig, ImapServer
from conntest.lab.listener import LOOPBACK, Handler, Listener
from conntest.lab.record import Record
from conntest.lab.scenarios import SCENARIOS, Certificate, DnsView, Fault, Scenario, scenario
from conntest.lab.smtp_server import SmtpConfig, SmtpServer, smtp_greeting
from conntest.lab.tls import imap_context, smtp_context
from conntest.lab.trailers import Trailers
from conntest.printable import host_port

LAB_PASSWORD = "correcthorsebatt"  # noqa: S105 (a documented test password)
"""The one password the lab accepts: 16 lowercase letters, the shape of a Microsoft app password."""

IMAP_HOST = "outlook.office365.com"
SMTP_HOST = "smtp.office365.com"
EXPECTED_NETWORKS = (f"{LOOPBACK}/32",)


@dataclass(frozen=True)
class LabEndpoints:
    """Where a check must go to meet one scenario."""

    imap: tuple[str, int]
    """``("outlook.office365.com", port)``: the real name; the lab's DNS gives 127.0.0.1."""
    smtp: tuple[str, int]
    """``("smtp.office365.com", port)``."""
    nameserver: tuple[str, int]
    """``("127.0.0.1", port)`` of the DNS view for this scenario."""
    client_tls_max: str | None
    """``"1.0"`` for tls-legacy-rejected (a client limited to TLS 1.0), else ``None``."""
    expected_networks: tuple[str, ...]
    """The networks the lab's "Microsoft" names legitimately resolve to."""
    identity: tuple[str, int] | None = None
    """``("login.microsoftonline.com", port)``: the identity platform (OAuth sign-in)."""

    @property
    def authority_host(self) -> str:
        """``https://login.microsoftonline.com:PORT``: ``--authority`` without the tenant."""
        if self.identity is None:
            raise RuntimeError("the lab has no identity platform")
        return f"https://{self.identity[0]}:{self.identity[1]}"

    imap_starttls: tuple[str, int] | None = None
    """IMAP with STARTTLS (what port 143 serves); :meth:`Lab.endpoints` always sets it."""

    def check_args(self, imap_security: str = "tls") -> list[str]:
        """The ``conntest check`` arguments that point a check at these endpoints.

        ``imap_security="starttls"``: ``--imap`` names the port-143 listener, for a
        profile with ``imap.security: starttls`` (``--imap`` replaces every profile's).
        """
        imap = self.imap_starttls if imap_security == "starttls" else self.imap
        if imap is None:
            raise RuntimeError("these endpoints have no IMAP STARTTLS listener")
        return [
            "--imap",
            host_port(*imap),
            "--smtp",
            host_port(*self.smtp),
            "--nameserver",
            host_port(*self.nameserver),
        ]


class _Port(Protocol):
    """Anything the lab starts on a port: a listener, a closed or a filtered port."""

    name: str

    @property
    def port(self) -> int: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class Lab:
    """Local servers on loopback that behave like the Microsoft 365 endpoints, per scenario."""

    def __init__(
        self,
        *,
        default_scenario: str = "ok",
        accounts: Mapping[str, str] | None = None,
        latency_ms: float = 0.0,
        workdir: Path | None = None,
        auth_failure_delay_s: float = 0.0,
        identity_user: str | None = None,
    ) -> None:
        scenario(default_scenario)
        for address, name in (accounts or {}).items():
            if name not in SCENARIOS:
                raise ValueError(
                    f"account {address}: unknown scenario {name!r};"
                    f" expected one of: {', '.join(SCENARIOS)}"
                )
        self.default_scenario = default_scenario
        self.accounts: dict[str, str] = {a.lower(): s for a, s in (accounts or {}).items()}
        self.latency_ms = latency_ms
        self.auth_failure_delay_s = auth_failure_delay_s
        self.record = Record()
        self.startup_s: float | None = None
        """How long :meth:`start` took, in seconds."""
        self._workdir = workdir
        self._owns_workdir = workdir is None
        self._ca_file: Path | None = None
        self._ports: dict[tuple[str, str], _Port] = {}
        """(scenario or "", "imap"/"smtp") → what serves it; "" is the shared pair."""
        self._dns: dict[str, DnsServer] = {}
        """scenario or "" → DNS view; "" is the main view."""
        self._contexts: dict[tuple[str, Certificate], ssl.SSLContext] = {}
        self._trailers = Trailers()
        self._started = False
        self.grants = GrantBook()
        """Tokens the identity platform issued; the IMAP and SMTP servers accept only these."""
        self.identity_user = identity_user
        """Who the lab signs in as for a device code (default: the first account)."""
        self.identity: IdentityServer | None = None

    # --- lifecycle --------------------------------------------------------------------

    async def start(self) -> None:
        """Sign the certificates and start every server.

        About 30–60 ms; the first lab of a process also makes the RSA keys
        (0.1–0.2 s on an idle 2-core machine).  ``startup_s`` holds the figure.
        """
        if self._started:
            raise RuntimeError("Lab.start() called twice")
        began = time.perf_counter()
        certificates = await asyncio.to_thread(LabCertificates.create)
        if self._workdir is None:
            self._workdir = Path(tempfile.mkdtemp(prefix="conntest-lab-"))
        else:
            self._workdir.mkdir(parents=True, exist_ok=True)
        self._ca_file = certificates.write_public_ca(self._workdir / "lab-ca.pem")
        self._started = True
        try:
            self._build(certificates)
            servers: list[_Port | DnsServer] = [*self._ports.values(), *self._dns.values()]
            await asyncio.gather(*(server.start() for server in servers))
        except BaseException:
            await self.stop()
            raise
        self.startup_s = time.perf_counter() - began

    async def stop(self) -> None:
        """Stop every server and drop open connections (returns within about a second)."""
        servers: list[_Port | DnsServer] = [*self._ports.values(), *self._dns.values()]
        self._ports.clear()
        self._dns.clear()
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
        if self._owns_workdir and self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)
            self._workdir = None
        self._started = False

    async def __aenter__(self) -> Lab:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    # --- what a check needs -----------------------------------------------------------

    @property
    def ca_file(self) -> Path:
        """PEM of the lab's public CA: what a check passes as ``--ca-file``."""
        if self._ca_file is None or not self._started:
            raise RuntimeError("the lab is not started")
        return self._ca_file

    def endpoints(self, scenario_name: str) -> LabEndpoints:
        """Where a check meets ``scenario_name``."""
        found = scenario(scenario_name)
        if not self._started:
            raise RuntimeError("the lab is not started")
        key = found.name if found.own_listeners else ""
        view = self._dns.get(found.name) or self._dns[""]
        return LabEndpoints(
            imap=(IMAP_HOST, self._ports[(key, "imap")].port),
            smtp=(SMTP_HOST, self._ports[(key, "smtp")].port),
            nameserver=(LOOPBACK, view.port),
            client_tls_max=found.client_tls_max,
            expected_networks=EXPECTED_NETWORKS,
            identity=(IDENTITY_HOST, self._ports[("", "identity")].port),
            imap_starttls=(IMAP_HOST, self._ports[(key, "imap-starttls")].port),
        )

    def listener_name(self, scenario_name: str, protocol: str) -> str:
        """The name the record uses for the listener serving ``scenario_name`` over ``protocol``."""
        return f"{scenario_name}/{protocol}" if scenario(scenario_name).own_listeners else protocol

    def state(self) -> dict[str, Any]:
        """JSON-able description of the running lab (never the password)."""
        scenarios = {name: self._scenario_state(name) for name in SCENARIOS}
        main = self.endpoints("ok")
        return {
            "pid": os.getpid(),
            "ca_file": str(self.ca_file),
            "default_scenario": self.default_scenario,
            "latency_ms": self.latency_ms,
            "auth_failure_delay_s": self.auth_failure_delay_s,
            "ports": {
                "imap": main.imap[1],
                "imap-starttls": main.imap_starttls[1] if main.imap_starttls else None,
                "smtp": main.smtp[1],
                "dns": main.nameserver[1],
            },
            "identity": {"port": main.identity[1] if main.identity else None},  # docs/lab.md
            "scenarios": scenarios,
            "accounts": [
                {"address": address, **scenarios[name]} for address, name in self.accounts.items()
            ],
        }

    def write_state(self, path: Path) -> None:
        """Write :meth:`state` as JSON, atomically (a reader never sees half a file)."""
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as out:
                json.dump(self.state(), out, indent=2)
                out.write("\n")
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise

    # --- construction -----------------------------------------------------------------

    def _scenario_state(self, name: str) -> dict[str, Any]:
        endpoints = self.endpoints(name)
        starttls = endpoints.imap_starttls
        return {
            "scenario": name,
            "imap": host_port(*endpoints.imap),
            "imap_starttls": host_port(IMAP_HOST, starttls[1]) if starttls else None,
            "smtp": host_port(*endpoints.smtp),
            "nameserver": host_port(*endpoints.nameserver),
            "client_tls_max": endpoints.client_tls_max,
            "check_args": endpoints.check_args(),
            "full_check_args": full_check_args(endpoints),
            "starttls_check_args": full_check_args(endpoints, imap_security="starttls"),
        }

    def _device_user(self) -> str:
        return self.identity_user or next(iter(self.accounts), "user@contoso.com")

    def _scenario_for_user(self, user: str) -> Scenario:
        return SCENARIOS[self.accounts.get(user.lower(), self.default_scenario)]

    def _build(self, certificates: LabCertificates) -> None:
        latency_s = self.latency_ms / 1000
        shared = SCENARIOS["ok"]
        flight = self.record.delayed_flight
        self._ports[("", "imap")] = Listener(
            "imap",
            self._imap(certificates, shared, "imap", fixed=False),
            latency_s=latency_s,
            on_flight=flight,
        )
        self._ports[("", "smtp")] = Listener(
            "smtp",
            self._smtp(certificates, shared, "smtp", fixed=False),
            latency_s=latency_s,
            on_flight=flight,
        )
        starttls = self._imap(certificates, shared, "imap-starttls", fixed=False)
        starttls.config = dataclasses.replace(starttls.config, starttls=True)
        self._ports[("", "imap-starttls")] = Listener(
            "imap-starttls", starttls, latency_s=latency_s
        )
        self._dns[""] = DnsServer("main", DnsView.NORMAL, record=self.record, latency_s=latency_s)
        self.identity = IdentityServer(
            IdentityConfig(
                base_url="",  # set once the port is known (see _identity_started)
                scenario_for=self._scenario_for_user,
                identity_user=self._device_user,
                grants=self.grants,
                tls=identity_context(certificates),
            )
        )
        self._ports[("", "identity")] = _IdentityListener(self.identity, latency_s)
        for item in SCENARIOS.values():
            if item.dns is not DnsView.NORMAL:
                self._dns[item.name] = DnsServer(
                    item.name, item.dns, record=self.record, latency_s=latency_s
                )
            if item.own_listeners:  # its fault or certificate on port 143's way too
                for protocol in ("imap", "smtp", "imap-starttls"):
                    self._ports[(item.name, protocol)] = self._own_port(
                        certificates, item, protocol
                    )

    def _own_port(self, certificates: LabCertificates, item: Scenario, listener: str) -> _Port:
        """``listener``: ``imap``, ``smtp`` or ``imap-starttls`` (IMAP the port-143 way)."""
        name = f"{item.name}/{listener}"
        protocol = "smtp" if listener == "smtp" else "imap"
        latency_s = self.latency_ms / 1000
        handler: Handler
        if item.fault is Fault.CLOSED:
            return ClosedPort(name)
        if item.fault is Fault.FILTERED:
            return FilteredPort(name)
        if item.fault is Fault.SILENT:
            handler = SilentHandler(
                record=self.record, protocol=protocol, listener=name, scenario=item.name
            )
        elif item.fault is Fault.RESET:
            # a protocol whose server speaks first in plain text greets, then resets on the
            # client's first bytes; implicit TLS resets the ClientHello
            greeting: Callable[[], str] | None = None
            if listener == "smtp":
                greeting = lambda: smtp_greeting(self._trailers)  # noqa: E731
            elif listener == "imap-starttls":
                greeting = self._imap_greeting
            handler = ResetHandler(
                record=self.record,
                protocol=protocol,
                listener=name,
                scenario=item.name,
                greeting=greeting,
            )
        elif protocol == "imap":
            imap = self._imap(certificates, item, name, fixed=True)
            if listener == "imap-starttls":
                imap.config = dataclasses.replace(imap.config, starttls=True)
            handler = imap
        else:
            handler = self._smtp(certificates, item, name, fixed=True)
        return Listener(name, handler, latency_s=latency_s, on_flight=self.record.delayed_flight)

    def _imap_greeting(self) -> str:
        token = self._trailers.imap_token(self._trailers.backend())
        return texts.IMAP_GREETING.format(token=token)

    def _imap(
        self, certificates: LabCertificates, item: Scenario, name: str, *, fixed: bool
    ) -> ImapServer:
        return ImapServer(
            ImapConfig(
                listener=name,
                scenario=item.name if fixed else self.default_scenario,
                scenario_for=(lambda _user: item) if fixed else self._scenario_for_user,
                tls=self._context(certificates, "imap", item.certificate),
                record=self.record,
                trailers=self._trailers,
                password=LAB_PASSWORD,
                auth_failure_delay_s=self.auth_failure_delay_s,
                grants=self.grants,
            )
        )

    def _smtp(
        self, certificates: LabCertificates, item: Scenario, name: str, *, fixed: bool
    ) -> SmtpServer:
        return SmtpServer(
            SmtpConfig(
                listener=name,
                scenario=item.name if fixed else self.default_scenario,
                scenario_for=(lambda _user: item) if fixed else self._scenario_for_user,
                tls=self._context(certificates, "smtp", item.certificate),
                record=self.record,
                trailers=self._trailers,
                password=LAB_PASSWORD,
                offers_starttls=item.smtp.offers_starttls,
                auth_failure_delay_s=self.auth_failure_delay_s,
                grants=self.grants,
            )
        )

    def _context(
        self, certificates: LabCertificates, protocol: str, which: Certificate
    ) -> ssl.SSLContext:
        key = (protocol, which)
        if key not in self._contexts:
            make = imap_context if protocol == "imap" else smtp_context
            self._contexts[key] = make(certificates.leaf(which))
        return self._contexts[key]


class _IdentityListener(Listener):
    """The identity platform's listener: its base URL names the port it got."""

    def __init__(self, server: IdentityServer, latency_s: float) -> None:
        super().__init__("identity", server, latency_s=latency_s)
        self._server = server

    async def start(self, port: int = 0) -> None:
        await super().start(port)
        self._server.config = dataclasses.replace(
            self._server.config, base_url=f"https://{IDENTITY_HOST}:{self.port}"
        )


# --- conntest lab -------------------------------------------------------------------------


def run_lab(
    accounts_file: Path | None,
    default_scenario: str,
    state_file: Path | None,
    latency_ms: float,
) -> int:
    """Run the lab until SIGINT/SIGTERM; 0 on a clean stop.

    ``ValueError`` (before anything starts) for a bad accounts file or an
    unknown scenario.  The state file is written once the lab is up – its
    appearance is the readiness signal – and removed on a clean stop.
    """
    accounts = load_accounts(accounts_file) if accounts_file is not None else {}
    scenario(default_scenario)
    if state_file is not None and state_file.exists() and not state_file.is_file():
        raise ValueError(f"--state-file {state_file}: expected a file to write, found a directory")
    return asyncio.run(_serve(accounts, default_scenario, state_file, latency_ms))


async def _serve(
    accounts: Mapping[str, str], default_scenario: str, state_file: Path | None, latency_ms: float
) -> int:
    stopping = asyncio.Event()
    loop = asyncio.get_running_loop()
    on_stop(loop, stopping.set)  # SIGINT/SIGTERM; Ctrl-C/Ctrl-Break on Windows
    async with Lab(
        default_scenario=default_scenario, accounts=accounts, latency_ms=latency_ms
    ) as lab:
        if state_file is not None:
            try:
                lab.write_state(state_file)
            except OSError as exc:  # the lab stops again: one line, exit 3 (cmd_lab)
                raise ValueError(
                    f"--state-file {state_file}: cannot write it: {exc.strerror or exc}"
                ) from None
        print(summary(lab, state_file), flush=True)
        try:
            await stopping.wait()
        finally:
            if state_file is not None:
                state_file.unlink(missing_ok=True)
    print("conntest lab stopped", file=sys.stderr, flush=True)
    return 0


def full_check_args(endpoints: LabEndpoints, imap_security: str = "tls") -> list[str]:
    """``check_args()`` plus what the lab implies beyond the servers.

    ``--expected-network``: the lab's "Microsoft" names resolve to 127.0.0.1,
    which is not a Microsoft network; ``--tls-max``: the scenario's client side.
    """
    args = endpoints.check_args(imap_security)
    for network in endpoints.expected_networks:
        args += ["--expected-network", network]
    if endpoints.client_tls_max is not None:
        args += ["--tls-max", endpoints.client_tls_max]
    return args


def summary(lab: Lab, state_file: Path | None = None) -> str:
    """The short text ``conntest lab`` prints once it is up."""
    main = lab.endpoints("ok")
    starttls = main.imap_starttls or main.imap
    lines = [
        f"conntest lab running (pid {os.getpid()},"
        f" started in {(lab.startup_s or 0) * 1000:.0f} ms); Ctrl-C to stop",
        f"  IMAP {host_port(*main.imap)}   SMTP {host_port(*main.smtp)}"
        f"   DNS {host_port(*main.nameserver)}",
        f"  IMAP with STARTTLS (port 143's way): {host_port(IMAP_HOST, starttls[1])}",
        f"  CA file:  {lab.ca_file}",
        f"  password: {LAB_PASSWORD} (any other password is wrong; any address is accepted)",
        f"  default scenario: {lab.default_scenario}",
    ]
    if state_file is not None:
        lines.append(f"  state:    {state_file} (ports and check arguments of every scenario)")
    lines.append("Check an account with:")
    accounts = lab.accounts or {"user@contoso.com": lab.default_scenario}
    for address, name in accounts.items():
        args = " ".join(full_check_args(lab.endpoints(name)))
        lines.append(f"  [{name}] conntest check --user {address} --ca-file {lab.ca_file} {args}")
    return "\n".join(lines)
