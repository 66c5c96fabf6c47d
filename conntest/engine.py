"""Run a check: resolve, probe every profile's IMAP and SMTP concurrently, diagnose.

The engine owns the run's clock, the once-per-protocol authentication gates
and the redaction of everything probes record.  It knows nothing of screens
or output formats: front ends pass a :class:`CheckRequest`, optionally an
``on_step`` callback for live progress, and get a :class:`~conntest.model.Report`.
"""

from __future__ import annotations

import asyncio
import dataclasses
import importlib
import sys
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from conntest.diagnosis import DiagnosisContext, diagnose
from conntest.migration import route_for
from conntest.model import FailureKind, ProfileResult, Reply, Report, Status, Step
from conntest.oauth.result import OAuthPlan
from conntest.password import analyse_password, strip_invisible
from conntest.printable import printable
from conntest.probes.clock import RunClock, StepRecorder, skipped_step
from conntest.probes.dns_probe import ResolverConfig, domain_info, resolve_host
from conntest.probes.identity_probe import probe_identity
from conntest.probes.realm_probe import account_kind
from conntest.probes.session import AuthGate, Credentials, Endpoint
from conntest.profile import Profile
from conntest.redact import Redactor, bearer_forms, secret_forms

T = TypeVar("T")

REALM_HOLD_S = 0.5
"""How long a password or token waits for the account lookup (``identity realm``) to end
first; a slower identity platform does not hold the sign-in up beyond it."""
StepCallback = Callable[[str, Step], None]
ProtocolName = Literal["imap", "smtp"]
PROTOCOLS: tuple[ProtocolName, ...] = ("imap", "smtp")
CRITICAL_FIRST: tuple[ProtocolName, ...] = ("smtp", "imap")
"""The order a check starts its protocols in: SMTP submission waits for more round trips
(greeting, EHLO, STARTTLS, a second EHLO, AUTH LOGIN's three) than IMAP over TLS, so it
ends the check; its host lookup goes out first, and its probe runs first when both
answers are in (measured: ~3 ms of a check at 25 ms of latency, issue 12)."""


class Probe(Protocol):
    """:func:`~conntest.probes.imap_probe.probe_imap` or ``smtp_probe.probe_smtp``."""

    def __call__(
        self,
        clock: RunClock,
        profile: Profile,
        endpoint: Endpoint,
        creds: Credentials,
        gate: AuthGate,
        ca_file: Path | None = None,
        tls_max: str | None = None,
        on_step: Callable[[Step], None] | None = None,
    ) -> Awaitable[list[Step]]: ...


@dataclass(frozen=True)
class CheckRequest:
    """Everything a check needs; built by the CLI or the TUI."""

    user: str
    password: str | None = field(repr=False)
    """``None``: connectivity only, no authentication."""
    profiles: Sequence[Profile]
    imap_server: tuple[str, int] | None = None
    """``--imap HOST:PORT``: replaces every profile's IMAP host and port."""
    imap_starttls_server: tuple[str, int] | None = None
    """Where a profile with ``imap.security: starttls`` goes instead of :attr:`imap_server`
    (``--lab``: the lab's port-143 listener; the user's own ``--imap`` leaves it unset)."""
    smtp_server: tuple[str, int] | None = None
    stand_ins: frozenset[str] = frozenset()
    """Protocols whose server stands in for the profile's own (``--lab``'s, not the user's
    ``--imap``/``--smtp``): findings name the profile's port, not the loopback one the lab
    listens on; a server the user chose is named with the port they tested."""
    resolver: ResolverConfig = field(default_factory=ResolverConfig)
    ca_file: Path | None = None
    timeout: float = 60.0
    tls_max: str | None = None
    """Cap every profile's TLS maximum (e.g. ``"1.0"`` to act as Windows 7 without updates)."""
    expected_networks: tuple[str, ...] = ()
    try_stripped: bool = False
    """The user consented to one more authentication with whitespace removed."""
    oauth: OAuthPlan | None = None
    """Sign in with OAuth2 and probe with XOAUTH2 (``--oauth``); the password is unused."""
    login_command: str = "conntest oauth login"
    """What fixes a missing or expired OAuth sign-in (quoted in the remedy)."""
    account_authority: str | None = None
    """Classify the account (``account-kind``) at this identity platform; ``None``: do not."""
    realm_hold: float = REALM_HOLD_S
    """How long a password or token waits for that classification (a test lengthens it)."""
    protocols: tuple[ProtocolName, ...] = PROTOCOLS
    """``--protocol``: check only these (a device that only sends, monitoring one path)."""
    today: date | None = None
    """Today's date for date-aware advice, set by the front end (``--today``); ``None``: none."""
    retirement_window: int = 60
    """``--retirement-window``: days before Microsoft's December 2026 change that warn."""


def _probe(protocol: str) -> Probe:
    """The probe of ``protocol``, imported on first use: an SMTP-only check never loads
    imapclient, an IMAP-only one never aiosmtplib (start-up time, issue 12)."""
    if protocol == "imap":
        from conntest.probes.imap_probe import probe_imap

        return probe_imap
    from conntest.probes.smtp_probe import probe_smtp

    return probe_smtp


def _load_probes(protocols: Sequence[str]) -> asyncio.Future[None] | None:
    """Import the probes of ``protocols`` in a worker thread; ``None`` if they are loaded.

    They are imported on first use (start-up time), and a first check would
    otherwise import them on the event loop after the host lookups, ~0.1 s in
    series with the check; in a thread they load while the lookups are in flight.
    """
    names = [f"conntest.probes.{p}_probe" for p in protocols]
    if all(name in sys.modules for name in names):
        return None

    def load() -> None:
        for name in names:
            importlib.import_module(name)

    return asyncio.ensure_future(asyncio.to_thread(load))


async def _after(first: Sequence[asyncio.Future[Any]], then: Callable[[], Awaitable[T]]) -> T:
    """``then()`` once every future of ``first`` is done (whatever their outcome)."""
    if first:
        await asyncio.wait(first)
    return await then()


def _server(profile: Profile, request: CheckRequest, protocol: str) -> tuple[str, int]:
    """The host and port ``protocol`` connects to for ``profile`` (``--imap``/``--smtp`` win)."""
    settings = profile.imap if protocol == "imap" else profile.smtp
    override = request.imap_server if protocol == "imap" else request.smtp_server
    if protocol == "imap" and settings.security == "starttls" and request.imap_starttls_server:
        override = request.imap_starttls_server
    return override if override is not None else (settings.host, settings.port)


def _step_names(protocol: str, profile: Profile) -> tuple[str, ...]:
    """The steps ``protocol`` runs for ``profile``: its security mode sets the order."""
    if protocol == "imap":
        from conntest.probes.imap_probe import STEPS as IMAP_STEPS
        from conntest.probes.imap_starttls import STARTTLS_STEPS

        return STARTTLS_STEPS if profile.imap.security == "starttls" else IMAP_STEPS
    from conntest.probes.smtp_probe import IMPLICIT_STEPS
    from conntest.probes.smtp_probe import STEPS as SMTP_STEPS

    return IMPLICIT_STEPS if profile.smtp.security == "tls" else SMTP_STEPS


class DomainLookups:
    """The MX and autodiscover answers of one run of many checks: one lookup per domain.

    A batch of 10,000 accounts in one domain asks DNS twice, not 20,000 times
    (issue 12).  The lookups are informational and run on their own clock, so
    one account's deadline or cancellation never cuts them short for others.
    """

    def __init__(self) -> None:
        self._tasks: dict[tuple[str, ResolverConfig], asyncio.Task[list[Step]]] = {}

    def lookup(
        self,
        domain: str,
        resolver: ResolverConfig,
        timeout: float,
        after: Sequence[asyncio.Future[Any]] = (),
    ) -> asyncio.Task[list[Step]]:
        """The domain's lookups; a new one starts once ``after`` (the host lookups) is done."""
        key = (domain.lower(), resolver)
        task = self._tasks.get(key)
        if task is None:
            task = asyncio.ensure_future(
                _after(after, lambda: domain_info(RunClock(timeout), domain, resolver))
            )
            self._tasks[key] = task
        return task

    def __len__(self) -> int:
        return len(self._tasks)


async def run_check(
    request: CheckRequest,
    on_step: StepCallback | None = None,
    *,
    domains: DomainLookups | None = None,
    redact: Redactor | None = None,
) -> Report:
    """One check; with ``domains``, the domain lookups are shared with the run's other checks.

    ``redact``: the redactor of ``request.password`` (a batch runner's), used for the
    steps too, so the runner's last pass over the report meets texts it has already
    read (issue 12); a token signed in for here gets a redactor with its forms added.
    """
    clock = RunClock(request.timeout)
    oauth_steps: list[Step] = []
    token: str | None = None
    if request.oauth is not None:
        oauth_steps, token = await _sign_in(clock, request.oauth, request)
        # An interactive sign-in must not eat the mail probes' deadline.
        clock = RunClock(request.timeout + clock.offset_ms() / 1000, started=clock.started)
    # One lookup per distinct host, shared by every profile; all of them go out first,
    # they decide where the probes connect.
    hosts: dict[str, asyncio.Task[Step]] = {}

    def resolution(host: str) -> asyncio.Task[Step]:
        if host not in hosts:
            hosts[host] = asyncio.ensure_future(resolve_host(clock, host, request.resolver))
        return hosts[host]

    for profile in request.profiles:
        for protocol in (p for p in CRITICAL_FIRST if p in request.protocols):
            resolution(_server(profile, request, protocol)[0])
    probes_loaded = _load_probes(request.protocols)
    # The lookups' questions leave first (their first turn sends them); the rest of the
    # set-up happens while the answers travel.
    await asyncio.sleep(0)
    if redact is None or token:
        # The forms Credentials.redact would make: the probes record lines with this one.
        redact = Redactor(
            [
                *secret_forms(request.user, request.password, token),
                *bearer_forms(request.user, token or ""),
            ]
        )
    cleaned: dict[int, tuple[Step, Step]] = {}

    def clean(step: Step) -> Step:
        """``step`` redacted (:func:`_redacted`), once per step object."""
        hit = cleaned.get(id(step))
        if hit is not None and hit[0] is step:
            return hit[1]
        done = _redacted(step, redact)
        cleaned[id(step)] = (step, done)
        return done

    loop = asyncio.get_running_loop()

    def emit(profile_id: str) -> Callable[[Step], None]:
        def callback(step: Step) -> None:
            if on_step is not None:
                on_step(profile_id, clean(step))
            else:
                # Redacted once the probe awaits its next answer, not before its next
                # command goes out, and not all at once after the last one (~1 ms, issue 12).
                # Probes add a step when it is finished: it does not change after this.
                loop.call_soon(clean, step)

        return callback

    # The informational lookups wait for those answers: sent beside them, their
    # answers were parsed before the decisive ones (~7 ms of a check, issue 12).
    decisive = list(hosts.values())

    # Except the account lookup: the password waits for it (up to REALM_HOLD_S), so it
    # starts at once, its own host lookup beside the others (measured: the first
    # credential goes ~25 ms later at 40 ms of latency, under one round trip).
    authority = request.account_authority
    realm_task = (
        asyncio.ensure_future(
            account_kind(RunClock(8.0), request.user, authority, request.resolver, request.ca_file)
        )
        if authority is not None and "@" in request.user
        else None
    )
    domain = request.user.rpartition("@")[2]
    domain_task: asyncio.Task[list[Step]] | None = None
    if "@" in request.user and domain:
        domain_task = (
            domains.lookup(domain, request.resolver, request.timeout, after=decisive)
            if domains is not None
            else asyncio.ensure_future(
                _after(decisive, lambda: domain_info(clock, domain, request.resolver))
            )
        )

    announced: set[tuple[str, str]] = set()
    creds = Credentials(request.user, request.password, token=token, redactor=redact)
    if request.oauth is not None and token is None:
        creds = Credentials(request.user, None, without="not signed in: the sign-in gave no token")
    # The account lookup sends no credential; the password or token waits for it, briefly.
    hold = realm_task if request.password is not None or token is not None else None
    gates = {p: AuthGate(p, hold, request.realm_hold) for p in ("imap", "smtp")}

    async def run_protocol(profile: Profile, protocol: str) -> list[Step]:
        host, port = _server(profile, request, protocol)
        dns_step = await resolution(host)
        if (profile.id, host) not in announced:
            announced.add((profile.id, host))
            emit(profile.id)(dns_step)
        if probes_loaded is not None:
            await probes_loaded
        if dns_step.status is not Status.PASS:
            return [
                skipped_step(clock, protocol, n, f"{host} does not resolve")
                for n in _step_names(protocol, profile)
            ]
        endpoint = Endpoint(host, port, dns_step.data["addresses"][0])
        return await _probe(protocol)(
            clock,
            profile,
            endpoint,
            creds,
            gates[protocol],
            ca_file=request.ca_file,
            tls_max=request.tls_max,
            on_step=emit(profile.id),
        )

    async def run_profile(profile: Profile) -> tuple[list[Step], list[Step]]:
        async def chosen(protocol: ProtocolName) -> list[Step]:
            return await run_protocol(profile, protocol) if protocol in request.protocols else []

        # SMTP first (CRITICAL_FIRST): its steps go out before IMAP's when both are ready.
        smtp_steps, imap_steps = await asyncio.gather(chosen("smtp"), chosen("imap"))
        return imap_steps, smtp_steps

    outcomes = await asyncio.gather(*(run_profile(p) for p in request.profiles))

    info_steps: list[Step] = []
    if domain_task is not None:
        # Informational only: never hold the verdict up for it, nor the run past its deadline.
        done, _ = await asyncio.wait({domain_task}, timeout=_info_wait(clock))
        if done:
            info_steps = domain_task.result()
        else:
            if domains is None:  # a shared lookup goes on for the run's other checks
                domain_task.cancel()
            info_steps = [
                skipped_step(clock, "dns", n, "no answer before the check finished")
                for n in ("mx", "autodiscover")
            ]

    if realm_task is not None:
        # Informational, like the MX lookup: never hold the verdict up for it.
        realm_done, _ = await asyncio.wait({realm_task}, timeout=_info_wait(clock))
        if realm_done and realm_task.exception() is None:
            info_steps = [*info_steps, realm_task.result()]
        else:
            realm_task.cancel()
            info_steps = [
                *info_steps,
                skipped_step(clock, "identity", "realm", "no answer before the check finished"),
            ]

    per_profile: list[list[Step]] = []
    # The report lists the lookups in the usual order (IMAP's host, then SMTP's).
    listed = dict.fromkeys(
        _server(profile, request, protocol)[0]
        for profile in request.profiles
        for protocol in PROTOCOLS
        if protocol in request.protocols
    )
    for profile, (imap_steps, smtp_steps) in zip(request.profiles, outcomes, strict=True):
        dns_steps = [
            hosts[host].result()
            for host in listed
            if _uses_host(profile, request, hosts[host].result().data.get("host", ""))
        ]
        steps = [*oauth_steps, *dns_steps, *info_steps, *imap_steps, *smtp_steps]
        per_profile.append([clean(s) for s in steps])
    report = Report(request.user, clock.offset_ms(), _diagnosed(request, per_profile, None))
    if request.try_stripped:
        report = await retry_stripped(request, report, on_step)
    return report


def _diagnosed(
    request: CheckRequest, per_profile: list[list[Step]], retry_ok: bool | None
) -> list[ProfileResult]:
    shape = analyse_password(request.password) if request.password is not None else None
    context = DiagnosisContext(
        user=request.user,
        password=shape,
        expected_networks=request.expected_networks,
        stripped_retry_succeeded=retry_ok,
        oauth=request.oauth is not None,
        login_command=request.login_command,
        tenant=request.oauth.tenant if request.oauth is not None else "organizations",
        today=request.today,
        retirement_window=request.retirement_window,
        stand_ins=request.stand_ins,
    )
    return [
        ProfileResult(
            profile.id, steps, diagnose(steps, profile, context), modern_auth=route_for(profile)
        )
        for profile, steps in zip(request.profiles, per_profile, strict=True)
    ]


async def retry_stripped(
    request: CheckRequest, report: Report, on_step: StepCallback | None = None
) -> Report:
    """The consented second attempt: once, whitespace removed, on one protocol.

    Only when the password has whitespace and an authentication of the first
    profile was refused (not on network trouble).  Returns ``report`` with the
    retry step added to the first profile and every profile diagnosed again;
    ``report`` unchanged when no retry applies.
    """
    if request.password is None or not request.profiles or not report.profiles:
        return report
    shape = analyse_password(request.password)
    if not shape.has_whitespace or strip_invisible(request.password) == request.password:
        return report  # nothing to remove: a retry would resend the refused password
    first = report.profiles[0].steps
    if any(s.name.endswith("-stripped") for s in first):
        return report  # already tried: never twice
    started = time.monotonic()
    retry_ok, retry_steps = await _stripped_retry(
        request,
        ([s for s in first if s.protocol == "imap"], [s for s in first if s.protocol == "smtp"]),
    )
    if not retry_steps:
        return report
    redact = Redactor.for_credentials(request.user, request.password)
    retry_steps = [_redacted(s, redact) for s in retry_steps]
    if on_step is not None:
        for step in retry_steps:
            on_step(request.profiles[0].id, step)
    per_profile = [list(p.steps) for p in report.profiles]
    per_profile[0] += retry_steps
    elapsed = report.elapsed_ms + round((time.monotonic() - started) * 1000, 1)
    return Report(request.user, elapsed, _diagnosed(request, per_profile, retry_ok))


async def _sign_in(
    clock: RunClock, plan: OAuthPlan, request: CheckRequest
) -> tuple[list[Step], str | None]:
    """The identity probe, then one sign-in; the steps and the token (``None`` on failure)."""
    steps, address = await probe_identity(
        clock, plan.authority, plan.tenant, request.resolver, request.ca_file
    )
    rec = StepRecorder(clock, "oauth", "sign-in")
    rec.data["authority"] = f"{plan.authority}/{plan.tenant}"
    if address is None:
        steps.append(rec.skipped("sign-in not tried: the identity platform is unreachable"))
        return steps, None
    try:
        result = await plan.token_source(address)
    except Exception as exc:  # a bug in the sign-in path: a finding, not a traceback
        steps.append(rec.failed(FailureKind.INTERNAL, f"sign-in failed: {type(exc).__name__}"))
        return steps, None
    rec.data.update(result.step_data())
    if result.token is not None:
        steps.append(rec.passed(Reply("OK", f"signed in ({result.flow})")))
        return steps, result.token
    shown = ", ".join(f"AADSTS{c}" for c in result.error_codes) or (result.error or "failed")
    steps.append(rec.failed(FailureKind.REJECTED, result.message or shown, Reply("ERR", shown)))
    return steps, None


def _uses_host(profile: Profile, request: CheckRequest, host: str) -> bool:
    imap = request.imap_server[0] if request.imap_server else profile.imap.host
    smtp = request.smtp_server[0] if request.smtp_server else profile.smtp.host
    used = {imap} if "imap" in request.protocols else set()
    return host in (used | {smtp} if "smtp" in request.protocols else used)


async def _stripped_retry(
    request: CheckRequest,
    outcome: tuple[list[Step], list[Step]],
) -> tuple[bool | None, list[Step]]:
    """One consented authentication with whitespace removed, on one protocol.

    SMTP first: its refusals say why, so a success there confirms the cause.
    Only when authentication was refused (not on network trouble) and only once.
    """
    imap_steps, smtp_steps = outcome
    assert request.password is not None
    stripped = strip_invisible(request.password)
    profile = request.profiles[0]
    for protocol, steps in (("smtp", smtp_steps), ("imap", imap_steps)):
        auth = next((s for s in steps if s.name in {"auth", "login"}), None)
        if auth is None or auth.failure is None or auth.failure.kind is not FailureKind.REJECTED:
            continue
        clock = RunClock(request.timeout)
        retry_request = dataclasses.replace(request, password=stripped, try_stripped=False)
        host, port = _server(profile, request, protocol)
        dns_step = await resolve_host(clock, host, request.resolver)
        if dns_step.status is not Status.PASS:
            return None, []
        endpoint = Endpoint(host, port, dns_step.data["addresses"][0])
        steps_retry = await _probe(protocol)(
            clock,
            profile,
            endpoint,
            Credentials(request.user, retry_request.password),
            AuthGate(protocol),
            ca_file=request.ca_file,
            tls_max=request.tls_max,
        )
        auth_retry = next((s for s in steps_retry if s.name == auth.name), None)
        if auth_retry is None or auth_retry.status is Status.SKIP:
            return None, []
        auth_retry.name = f"{auth.name}-stripped"
        auth_retry.data["retry"] = "whitespace removed, with the user's consent"
        return auth_retry.status is Status.PASS, [auth_retry]
    return None, []


MAX_LINE = 400
"""Characters kept of one transcript line, after redaction."""
MAX_MESSAGE = 200
"""Characters kept of a failure message, after redaction."""
MAX_REPLY = 2000
"""Characters kept of a reply's text, after redaction (a long EHLO answer fits)."""


def _info_wait(clock: RunClock) -> float:
    """How long the verdict may wait for an informational lookup: 0.5 s, never past the
    run's deadline (a silent DNS server must not add to a probe that used all of it)."""
    return min(0.5, clock.remaining())


MAX_TRANSCRIPT = 200
"""Transcript lines kept per step; a flood is summarised, not stored."""


def _clean(value: Any, redact: Redactor) -> Any:
    """Every string in step data made printable and redacted (server words end up there too)."""
    if isinstance(value, str):
        return redact(printable(value, newlines=True))
    if isinstance(value, dict):
        return {k: _clean(v, redact) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_clean(v, redact) for v in value)
    return value


def _redacted(step: Step, redact: Redactor) -> Step:
    """The step made printable, every secret form removed, then cut to size (in that order)."""
    reply = step.reply
    if reply is not None:
        reply = dataclasses.replace(
            reply, text=redact.cut(printable(reply.text, newlines=True), MAX_REPLY)
        )
    failure = step.failure
    if failure is not None:
        failure = dataclasses.replace(
            failure, message=redact.cut(printable(failure.message, newlines=True), MAX_MESSAGE)
        )
    lines = step.transcript
    transcript = [redact.cut(printable(line), MAX_LINE) for line in lines[:MAX_TRANSCRIPT]]
    if len(lines) > MAX_TRANSCRIPT:
        transcript.append(f"… {len(lines) - MAX_TRANSCRIPT} more lines not kept")
    # The whole step is redacted here, so the report's last pass need not read it again
    # (a step's transcript and data are most of a report's strings): its TLS details (a
    # certificate's names, which a server chooses) get what that pass would give them.
    done = dataclasses.replace(
        step,
        reply=reply,
        failure=failure,
        tls=redact.value(step.tls),
        transcript=transcript,
        data=_clean(step.data, redact),
    )
    return redact.vouch(done)
