"""The identity platform before any sign-in: DNS, TCP 443, verified TLS, OpenID configuration.

A proxy or TLS inspection that breaks sign-in must be a finding, not a stack
trace from deep inside MSAL, so this probe walks the same path MSAL will take
first and records each step like the mail probes do (protocol ``"identity"``:
``resolve``, ``connect``, ``tls``, ``discovery``).  TLS uses the same client
context and presented-chain read as IMAP, so the interception check of the
diagnosis applies unchanged.

:func:`https_request` is the one HTTPS exchange both this probe and conntest's
MSAL transport (:mod:`conntest.oauth.transport`) use: to the address DNS or
``--resolve`` gave, verifying the authority's name, never through a proxy
from the environment (requests would silently prefer ``REQUESTS_CA_BUNDLE``
over the CA a check was given, oauth.md §5).
"""

from __future__ import annotations

import asyncio
import http.client
import json
import socket
import ssl
import threading
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conntest.model import FailureKind, Reply, Status, Step
from conntest.probes import tls as tlsmod
from conntest.probes.clock import RunClock, StepLog, StepRecorder, early
from conntest.probes.dns_probe import ResolverConfig, resolve_host
from conntest.probes.net import classify, connect_step
from conntest.probes.session import Endpoint

STEPS = ("resolve", "connect", "tls", "discovery")
MAX_BODY = 256 * 1024
DISCOVERY_KEYS = ("issuer", "authorization_endpoint", "token_endpoint")


@dataclass(frozen=True)
class HttpsAnswer:
    status: int
    headers: dict[str, str]
    body: bytes


class _PinnedHTTPS(http.client.HTTPSConnection):
    """HTTPS to a given address while TLS verifies ``host`` (like ``--resolve``).

    :meth:`abort` (from another thread) ends a blocked handshake or read at once:
    a socket timeout counts from each read, so a server that drips its headers
    or body a byte at a time would otherwise hold the worker thread for hours,
    and with it the process, whose exit waits for its threads.
    """

    def __init__(
        self, host: str, port: int, address: str, context: ssl.SSLContext, timeout: float
    ) -> None:
        super().__init__(host, port, timeout=timeout, context=context)
        self._address = address
        self._tls = context
        self._lock = threading.Lock()
        self._fd: int | None = None
        self.aborted = False
        self.response: http.client.HTTPResponse | None = None
        """The answer being read: it holds the descriptor after a ``Connection: close``."""

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        with self._lock:
            if self.aborted:
                raw.close()
                raise TimeoutError("aborted")
            self._fd = raw.fileno()  # the TLS socket takes over this very descriptor
        try:
            self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
        except BaseException:
            with self._lock:
                self._fd = None
            raw.close()
            raise

    def abort(self) -> None:
        """Shut the connection down under a blocked read (the descriptor stays open)."""
        with self._lock:
            self.aborted = True
            if self._fd is None:
                return
            view = socket.socket(fileno=self._fd)
            try:
                view.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            finally:
                view.detach()

    def release(self) -> None:
        """End the exchange: :meth:`abort` lets go of the descriptor before it is closed.

        In that order, because a closed descriptor's number is soon another socket's.
        Not ``close()``: http.client closes the connection itself when the answer says
        ``Connection: close``, and the answer it hands over still reads from the
        descriptor, which :meth:`abort` must still be able to shut down.
        """
        with self._lock:
            self._fd = None
        if self.response is not None:
            self.response.close()
        self.close()


def https_request(
    url: str,
    address: str,
    context: ssl.SSLContext,
    timeout: float,
    method: str = "GET",
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    stop: threading.Event | None = None,
) -> HttpsAnswer:
    """One blocking HTTPS request (run it in a worker thread); raises on network trouble.

    ``timeout`` bounds the whole exchange, not only each read: past it, or as
    soon as ``stop`` is set (the awaiting step was cancelled), the connection is
    shut down and :class:`TimeoutError` is raised, so the worker thread is free
    by then whatever the server does.
    """
    parts = urlsplit(url)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError("only https:// URLs are fetched")
    conn = _PinnedHTTPS(parts.hostname, parts.port or 443, address, context, timeout)
    done = stop if stop is not None else threading.Event()

    def watch() -> None:
        done.wait(timeout)
        conn.abort()  # after a finished exchange: a no-op on a closed connection

    threading.Thread(target=watch, name="https-deadline", daemon=True).start()
    late = f"no complete answer within {timeout:.3g} s"
    try:
        answer = _exchange(conn, parts.path, parts.query, method, body, headers)
    except (OSError, http.client.HTTPException):
        if conn.aborted:
            raise TimeoutError(late) from None
        raise
    finally:
        conn.release()
        done.set()
    if conn.aborted:  # the shutdown ended the read: what came is short of the answer
        raise TimeoutError(late)
    return answer


async def fetch(url: str, address: str, context: ssl.SSLContext, budget: float) -> HttpsAnswer:
    """:func:`https_request` in a worker thread, within ``budget`` seconds; cancelling the
    caller (the check ended first) shuts its connection down, so no thread outlives it."""
    stop = threading.Event()
    try:
        return await asyncio.wait_for(
            asyncio.to_thread(https_request, url, address, context, early(budget), stop=stop),
            budget,
        )
    finally:
        stop.set()


def _exchange(
    conn: _PinnedHTTPS,
    path: str,
    query: str,
    method: str,
    body: bytes | None,
    headers: dict[str, str] | None,
) -> HttpsAnswer:
    """Send the request and read the whole, bounded answer."""
    target = (path or "/") + (f"?{query}" if query else "")
    conn.request(method, target, body=body, headers=headers or {})
    resp = conn.response = conn.getresponse()
    data = resp.read(MAX_BODY + 1)
    if len(data) > MAX_BODY:
        raise http.client.HTTPException("the answer is longer than 256 KiB")
    return HttpsAnswer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, data)


def authority_endpoint(authority: str, tenant: str) -> tuple[str, int, str]:
    """Host, port and the tenant URL (``https://host[:port]/tenant``) of an authority URL."""
    parts = urlsplit(authority)
    if parts.scheme != "https" or not parts.hostname:
        raise ValueError(f"the authority must be an https:// URL, found {authority!r}")
    base = f"https://{parts.netloc}"
    return parts.hostname, parts.port or 443, f"{base}/{tenant}"


async def probe_identity(
    clock: RunClock,
    authority: str,
    tenant: str,
    resolver: ResolverConfig,
    ca_file: Path | None = None,
) -> tuple[list[Step], str | None]:
    """The identity steps, and the address to use for sign-in (``None`` if unusable)."""
    log = StepLog(clock, "identity", STEPS)
    host, port, tenant_url = authority_endpoint(authority, tenant)
    dns_step = await resolve_host(clock, host, resolver)
    dns_step.protocol = "identity"
    log.add(dns_step)
    if dns_step.status is not Status.PASS:
        log.skip_rest("resolve", f"{host} does not resolve")
        return log.steps, None
    address = dns_step.data["addresses"][0]
    endpoint = Endpoint(host, port, address)
    raw, connect_steps = await connect_step(clock, "identity", endpoint)
    for step in connect_steps:
        log.add(step)
    if raw is None:
        log.skip_rest("connect", "no connection")
        return log.steps, None

    rec = StepRecorder(clock, "identity", "tls")
    rec.data.update(host=host, port=port, trust="ca-file" if ca_file is not None else "system")
    ctx = tlsmod.client_context("1.2", "1.3", ca_file)
    budget = clock.budget("tls")
    try:
        sock = await asyncio.wait_for(
            asyncio.to_thread(tlsmod.handshake, raw, ctx, host, early(budget)), budget
        )
    except ssl.SSLCertVerificationError as exc:
        raw.close()
        presented = await asyncio.to_thread(
            tlsmod.read_presented_chain, address, port, host, "1.2", "1.3", clock.budget("tls")
        )
        rec.tls = tlsmod.failed_verification_info(exc, presented)
        log.add(
            rec.failed(
                FailureKind.TLS_VERIFY, f"certificate verification failed: {exc.verify_message}"
            )
        )
        log.skip_rest("tls", "sign-in not tried: the certificate failed verification")
        return log.steps, None
    except Exception as exc:
        raw.close()
        kind, message, errno = classify(exc)
        log.add(rec.failed(kind, message, errno=errno))
        log.skip_rest("tls", "no TLS session")
        return log.steps, None
    rec.tls = tlsmod.tls_info(sock)
    sock.close()
    log.add(rec.passed())

    rec = StepRecorder(clock, "identity", "discovery")
    url = f"{tenant_url}/v2.0/.well-known/openid-configuration"
    rec.data["url"] = url
    rec.transcript.append(f"C: GET {url}")
    budget = clock.budget("discovery")
    try:
        answer = await fetch(url, address, ctx, budget)
    except Exception as exc:
        kind, message, errno = classify(exc)
        log.add(rec.failed(kind, message, errno=errno))
        return log.steps, None
    rec.transcript.append(f"S: HTTP {answer.status} ({len(answer.body)} bytes)")
    step = _discovery_step(rec, answer)
    log.add(step)
    return log.steps, address if step.status is Status.PASS else None


def _discovery_step(rec: StepRecorder, answer: HttpsAnswer) -> Step:
    try:
        doc = json.loads(answer.body)
    except ValueError:
        doc = None
    if not isinstance(doc, dict):
        return rec.failed(
            FailureKind.PROTOCOL,
            f"HTTP {answer.status}: the answer is not the OpenID configuration (not JSON)",
            reply=Reply(str(answer.status), "not JSON"),
        )
    codes = doc.get("error_codes")
    if answer.status != 200 or "error" in doc:
        rec.data["error"] = str(doc.get("error", ""))
        rec.data["error_codes"] = [c for c in codes if isinstance(c, int)] if codes else []
        shown = ", ".join(f"AADSTS{c}" for c in rec.data["error_codes"]) or rec.data["error"]
        return rec.failed(
            FailureKind.REJECTED,
            f"HTTP {answer.status}: {shown}",
            reply=Reply(str(answer.status), shown),
        )
    missing = [k for k in DISCOVERY_KEYS if not isinstance(doc.get(k), str)]
    if missing:
        return rec.failed(
            FailureKind.PROTOCOL,
            f"the OpenID configuration lacks {', '.join(missing)}",
            reply=Reply(str(answer.status), "incomplete"),
        )
    issuer = str(doc["issuer"])
    rec.data["issuer"] = issuer
    tenant_id = urlsplit(issuer).path.strip("/").split("/")[0]
    rec.data["tenant_id"] = tenant_id
    return rec.passed(Reply(str(answer.status), f"OpenID configuration (issuer {issuer})"))
