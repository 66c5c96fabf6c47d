"""DNS: the server hosts' addresses (decisive) and the user's domain (informational).

The A/AAAA lookups decide where the probes connect.  MX and ``autodiscover.``
only feed informational findings (is this domain on Microsoft 365 at all?) and
are never allowed to hold the verdict up: the engine gives them a short
budget and cancels them when the probes are done.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING

from tenacity import AsyncRetrying, retry_if_exception_type, stop_after_attempt, wait_fixed

from conntest.model import FailureKind, Reply, Step
from conntest.printable import host_port
from conntest.probes.clock import RunClock, StepRecorder

if TYPE_CHECKING:
    import dns.asyncresolver

# dnspython (~0.1 s to import with its async resolver) is loaded by the first
# lookup, not with this module: the front ends import ResolverConfig to parse
# options, and a check whose hosts are pinned or given as addresses asks no DNS
# for them (issue 12: cold start).


@dataclass(frozen=True)
class ResolverConfig:
    """Where to ask: a specific nameserver (``--nameserver``), or the system's."""

    nameserver: tuple[str, int] | None = None
    pinned: tuple[tuple[str, str], ...] = ()
    """``--resolve`` pins: (host, address) pairs used without asking DNS."""

    def pinned_address(self, host: str) -> str | None:
        for name, address in self.pinned:
            if name.lower() == host.lower():
                return address
        return None


def make_resolver(config: ResolverConfig, lifetime: float) -> dns.asyncresolver.Resolver:
    import dns.asyncresolver
    import dns.resolver

    if config.nameserver is not None:
        resolver = dns.asyncresolver.Resolver(configure=False)
        resolver.nameservers = [config.nameserver[0]]
        resolver.port = config.nameserver[1]
    else:
        try:
            resolver = dns.asyncresolver.Resolver()
        except dns.resolver.NoResolverConfiguration:
            raise
        except Exception as exc:  # Windows: the registry or WMI could not be read
            raise dns.resolver.NoResolverConfiguration from exc
    resolver.lifetime = lifetime
    resolver.timeout = min(2.0, lifetime)
    return resolver


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _dns_failure(exc: BaseException) -> tuple[FailureKind, str]:
    import dns.exception
    import dns.resolver

    if isinstance(exc, dns.resolver.NXDOMAIN):
        return FailureKind.DNS_NXDOMAIN, "the name does not exist (NXDOMAIN)"
    if isinstance(exc, dns.resolver.NoAnswer):
        return FailureKind.DNS_NXDOMAIN, "the name has no records of this type"
    if isinstance(exc, ConnectionRefusedError):
        return (
            FailureKind.DNS_ERROR,
            "the DNS server refused the question (nothing answers DNS there)",
        )
    if isinstance(exc, dns.exception.Timeout | TimeoutError):
        # TimeoutError: the step's own deadline (asyncio.wait_for) ended the lookup.
        return FailureKind.DNS_TIMEOUT, "no DNS server answered in time"
    if isinstance(exc, dns.resolver.NoNameservers):
        return FailureKind.DNS_ERROR, "every DNS server failed to answer (SERVFAIL or refused)"
    if isinstance(exc, dns.resolver.NoResolverConfiguration):
        return FailureKind.DNS_ERROR, (
            "no DNS server is configured on this machine, or its configuration cannot be "
            "read; name one with --nameserver ADDRESS (nameserver: in a batch file)"
        )
    if isinstance(exc, dns.exception.DNSException):
        # A malformed or truncated answer: say so in words, not a class name.
        return FailureKind.DNS_ERROR, "the DNS server sent an answer that could not be read"
    return FailureKind.DNS_ERROR, f"DNS lookup failed: {exc.__class__.__name__}"


async def _query(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> list[str]:
    """One lookup; SERVFAIL and timeouts are retried once (tenacity) within the lifetime."""
    import dns.exception
    import dns.resolver

    async for attempt in AsyncRetrying(
        retry=retry_if_exception_type((dns.resolver.NoNameservers, dns.exception.Timeout)),
        stop=stop_after_attempt(2),
        wait=wait_fixed(0.1),
        reraise=True,
    ):
        with attempt:
            answer = await resolver.resolve(name, rdtype, search=False)
            return [r.to_text() for r in answer]
    raise AssertionError("unreachable")  # pragma: no cover


Asked = tuple[socket.socket, "dns.message.Message"]
"""A question sent and the socket its answer comes back on."""


def _ask(resolver: dns.asyncresolver.Resolver, name: str, rdtype: str) -> Asked | None:
    """Send one UDP question to the first nameserver now, without awaiting anything.

    ``None`` when it cannot go this way (the nameserver is not a plain address,
    the socket failed): :func:`_query` asks instead.  A check's host lookups
    are sent this way as their step starts, all of them in the same turn of
    the loop, so their answers come back together (issue 12).
    """
    import dns.inet
    import dns.message

    nameserver = resolver.nameservers[0] if resolver.nameservers else None
    if not isinstance(nameserver, str) or not dns.inet.is_address(nameserver):
        return None
    query = dns.message.make_query(name, rdtype)
    sock = socket.socket(dns.inet.af_for_address(nameserver), socket.SOCK_DGRAM)
    try:
        sock.setblocking(False)
        # A connected UDP socket: the kernel drops datagrams from anyone else.
        sock.connect((nameserver, resolver.port))
        sock.send(query.to_wire())
    except OSError:
        sock.close()
        return None
    return sock, query


async def _lean_answer(
    resolver: dns.asyncresolver.Resolver, asked: Asked
) -> list[str] | Exception | None:
    """The answer to a question :func:`_ask` sent; ``None`` when dnspython's resolver must ask.

    The common answers (records, no records of the type, NXDOMAIN) cost a
    fraction of the CPU of ``Resolver.resolve`` (~1.5 ms a question, measured:
    its datagram endpoint, resolution state and retry machinery), and a check's
    host lookups sit on its critical path: every SMTP flight waits behind them
    (issue 12).  Anything else (no answer within the resolver's per-try timeout,
    SERVFAIL or another rcode, a truncated or unreadable answer) is left to
    :func:`_query`, which asks again with dnspython's full handling, so
    failures read exactly as before.
    """
    import dns.exception
    import dns.flags
    import dns.message
    import dns.rcode
    import dns.resolver

    loop = asyncio.get_running_loop()
    sock, query = asked
    with sock:
        try:
            deadline = loop.time() + resolver.timeout
            while True:
                wire = await asyncio.wait_for(
                    loop.sock_recv(sock, 65535), max(0.0, deadline - loop.time())
                )
                try:
                    response = dns.message.from_wire(wire)
                except dns.exception.DNSException:
                    return None
                if query.is_response(response):
                    break
        except ConnectionRefusedError as exc:
            # ICMP port unreachable on the connected socket: nothing serves DNS there.
            # Decisive only when it is the one nameserver (else the others are asked).
            return exc if len(resolver.nameservers) == 1 else None
        except (OSError, TimeoutError):
            return None
    if response.flags & dns.flags.TC or not isinstance(response, dns.message.QueryMessage):
        return None  # truncated (dnspython retries over TCP), or not an answer to a query
    rcode = response.rcode()
    if rcode == dns.rcode.NXDOMAIN:
        qname = query.question[0].name
        return dns.resolver.NXDOMAIN(qnames=[qname], responses={qname: response})  # type: ignore[no-untyped-call]
    if rcode != dns.rcode.NOERROR:
        return None
    try:
        answer = response.resolve_chaining().answer
    except dns.exception.DNSException:
        return None
    if answer is None:
        return dns.resolver.NoAnswer(response=response)  # type: ignore[no-untyped-call]
    return [r.to_text() for r in answer]


async def _settled(
    resolver: dns.asyncresolver.Resolver, name: str, rdtype: str, asked: Asked | None = None
) -> list[str] | Exception:
    """:func:`_query`'s answer, or its error as a value: the task ``wait_for`` makes of it
    then never ends holding an exception that a cancelled run (Ctrl-C) leaves unread.

    The question goes out the quick way first (``asked``: already sent)."""
    try:
        if asked is None:
            asked = _ask(resolver, name, rdtype)
        lean = await _lean_answer(resolver, asked) if asked is not None else None
        if lean is not None:
            return lean
        return await _query(resolver, name, rdtype)
    except Exception as exc:
        return exc


async def _bounded(
    resolver: dns.asyncresolver.Resolver,
    name: str,
    rdtype: str,
    budget: float,
    asked: Asked | None = None,
) -> list[str] | Exception:
    """:func:`_settled` within ``budget``; the lookup's coroutine is made only once this runs,
    so a run cancelled before it started leaves no coroutine "never awaited" behind."""
    return await asyncio.wait_for(_settled(resolver, name, rdtype, asked), budget)


async def resolve_host(clock: RunClock, host: str, config: ResolverConfig) -> Step:
    """A and AAAA of a server host; ``data["addresses"]`` lists what the probes will use."""
    pinned = config.pinned_address(host)
    if pinned is None and _is_ip(host):
        pinned = host  # an address given as the server: nothing to look up
    if pinned is None:
        # Loaded before the step starts: its time is the lookup's, not the import's.
        import dns.asyncresolver
        import dns.resolver
    rec = StepRecorder(clock, "dns", "resolve")
    rec.data["host"] = host
    if pinned is not None:
        rec.data["addresses"] = [pinned]
        rec.data["source"] = "address" if pinned == host else "--resolve"
        rec.transcript.append(
            f"{host} is an address (DNS not asked)"
            if pinned == host
            else f"{host} pinned to {pinned} by --resolve (DNS not asked)"
        )
        return rec.passed()
    budget = clock.budget("resolve")
    rec.data["source"] = host_port(*config.nameserver) if config.nameserver else "system"
    try:
        resolver = make_resolver(config, budget)
    except dns.resolver.NoResolverConfiguration as exc:
        kind, message = _dns_failure(exc)
        return rec.failed(kind, message)
    asked = {rdtype: _ask(resolver, host, rdtype) for rdtype in ("A", "AAAA")}
    try:
        results = await asyncio.gather(
            _bounded(resolver, host, "A", budget, asked["A"]),
            _bounded(resolver, host, "AAAA", budget, asked["AAAA"]),
            return_exceptions=True,
        )
    finally:
        for sent in asked.values():
            if sent is not None:
                sent[0].close()  # a run cancelled before the answers came
    addresses: list[str] = []
    errors: list[BaseException] = []
    for rdtype, result in zip(("A", "AAAA"), results, strict=True):
        if isinstance(result, BaseException):
            errors.append(result)
            rec.transcript.append(f"{rdtype} {host}: {_dns_failure(result)[1]}")
        else:
            addresses.extend(result)
            rec.transcript.append(f"{rdtype} {host}: {', '.join(result)}")
    rec.data["addresses"] = addresses
    if addresses:
        return rec.passed()
    # Prefer the most telling error: NXDOMAIN over "no answer" over timeouts.
    order = [dns.resolver.NXDOMAIN, dns.resolver.NoAnswer, dns.resolver.NoNameservers]
    errors.sort(key=lambda e: next((i for i, t in enumerate(order) if isinstance(e, t)), 9))
    kind, message = _dns_failure(errors[0])
    return rec.failed(kind, f"{host}: {message}")


async def domain_info(clock: RunClock, domain: str, config: ResolverConfig) -> list[Step]:
    """MX and autodiscover of the user's domain, for the informational findings."""
    import dns.asyncresolver  # before the steps start (see resolve_host)
    import dns.resolver

    budget = min(clock.budget("mx"), 4.0)
    try:
        resolver = make_resolver(config, budget)
    except dns.resolver.NoResolverConfiguration:
        return []

    async def lookup(name: str, rdtype: str, step: str) -> Step:
        rec = StepRecorder(clock, "dns", step)
        rec.data["domain"] = domain
        rec.data["name"] = name
        try:
            records = await asyncio.wait_for(_settled(resolver, name, rdtype), budget)
            if isinstance(records, Exception):
                raise records
        except Exception as exc:  # every failure is a fact, not an error
            kind, message = _dns_failure(exc)
            return rec.failed(kind, f"{rdtype} {name}: {message}")
        if rdtype == "MX":
            exchanges = sorted(records, key=lambda r: int(r.split()[0]))
            rec.data["exchanges"] = [r.split()[1].rstrip(".") for r in exchanges]
        else:
            rec.data["records"] = [r.rstrip(".") for r in records]
        rec.transcript.append(f"{rdtype} {name}: {', '.join(records)}")
        return rec.passed(Reply("NOERROR", ", ".join(records)))

    return list(
        await asyncio.gather(
            lookup(domain, "MX", "mx"),
            lookup(f"autodiscover.{domain}", "CNAME", "autodiscover"),
        )
    )
