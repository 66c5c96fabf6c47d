"""TLS contexts within a profile's version range, and what a certificate says.

An old profile must really negotiate old versions: for a minimum below TLS 1.2
the context lowers OpenSSL's security level (``@SECLEVEL=0``) for that
context only.  When verification fails, :func:`read_presented_chain` is used
on a *second* connection that never carries credentials, to name who issued
the certificate the client was shown.
"""

from __future__ import annotations

import datetime as dt
import functools
import socket
import ssl
import threading
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from conntest.model import TLSInfo

if TYPE_CHECKING:
    from cryptography import x509

# cryptography's x509 (~0.1 s to import) is loaded by the first handshake that
# shows a certificate, not with the engine: a usage error, --help and a check
# that fails before TLS do not pay for it (issue 12: cold start).

TLS_ORDER = ("1.0", "1.1", "1.2", "1.3")

_VERSIONS = {
    "1.0": ssl.TLSVersion.TLSv1,
    "1.1": ssl.TLSVersion.TLSv1_1,
    "1.2": ssl.TLSVersion.TLSv1_2,
    "1.3": ssl.TLSVersion.TLSv1_3,
}


def effective_range(tls_min: str, tls_max: str, cap: str | None) -> tuple[str, str]:
    """The profile's range, its maximum lowered to ``cap`` (``--tls-max``) if given."""
    if cap is not None and TLS_ORDER.index(cap) < TLS_ORDER.index(tls_max):
        tls_max = cap
    if TLS_ORDER.index(tls_max) < TLS_ORDER.index(tls_min):
        tls_min = tls_max
    return tls_min, tls_max


def client_context(
    tls_min: str, tls_max: str, ca_file: Path | None = None, verify: bool = True
) -> ssl.SSLContext:
    """A client context limited to ``tls_min``..``tls_max`` (cached; see :func:`_context`)."""
    # The CA file's identity is part of the key, so a rewritten file is reread.
    stamp = None
    if ca_file is not None:
        st = ca_file.stat()
        stamp = (st.st_ino, st.st_mtime_ns, st.st_size)
    return _context(tls_min, tls_max, ca_file, stamp, verify)


@functools.lru_cache(maxsize=32)
def _context(
    tls_min: str,
    tls_max: str,
    ca_file: Path | None,
    stamp: tuple[int, int, int] | None,
    verify: bool,
) -> ssl.SSLContext:
    """A client context limited to ``tls_min``..``tls_max``, trusting ``ca_file`` or the system.

    Cached: loading the system's CA store costs ~40 ms, twice per check, and
    the SMTP one would block the event loop.  No caller changes a context
    after it is made.
    """
    if ca_file is not None:
        # --ca-file replaces the system store: trust exactly what was given.
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cafile=str(ca_file))
    else:
        ctx = ssl.create_default_context(ssl.Purpose.SERVER_AUTH)
    if _VERSIONS[tls_min] < ssl.TLSVersion.TLSv1_2:
        # OpenSSL 3 refuses TLS 1.0/1.1 at the default security level; a
        # profile that says the client speaks them must be able to.
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
    with warnings.catch_warnings():
        # Python deprecates TLS 1.0/1.1; testing whether a client that only has
        # them can connect is the point here.
        warnings.simplefilter("ignore", DeprecationWarning)
        ctx.minimum_version = _VERSIONS[tls_min]
        ctx.maximum_version = _VERSIONS[tls_max]
    if not verify:
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
    return ctx


def _name(n: x509.Name) -> str:
    return n.rfc4514_string()


def certificate_info(der: bytes | None) -> dict[str, object]:
    """Subject, issuer, SANs and expiry of a DER certificate."""
    if not der:
        return {}
    subject, issuer, sans, not_after = _read_certificate(der)
    return {"subject": subject, "issuer": issuer, "sans": sans, "not_after": not_after}


@functools.lru_cache(maxsize=64)
def _read_certificate(der: bytes) -> tuple[str, str, tuple[str, ...], str]:
    """The certificate read once: a batch meets the same few certificates for every account
    (parsing one was 6% of a batch's event loop; issue 12)."""
    from cryptography import x509
    from cryptography.x509.oid import ExtensionOID

    cert = x509.load_der_x509_certificate(der)
    sans: list[str] = []
    try:
        ext = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME)
        san = ext.value
        assert isinstance(san, x509.SubjectAlternativeName)
        sans = [str(v) for v in san.get_values_for_type(x509.DNSName)]
        sans += [str(v) for v in san.get_values_for_type(x509.IPAddress)]
    except x509.ExtensionNotFound:
        pass
    not_after: dt.datetime = cert.not_valid_after_utc
    return (
        _name(cert.subject),
        _name(cert.issuer),
        tuple(sans),
        not_after.isoformat().replace("+00:00", "Z"),
    )


def tls_info(sslobj: ssl.SSLSocket | ssl.SSLObject, verified: bool = True) -> TLSInfo:
    """What a completed handshake shows."""
    cipher = sslobj.cipher()
    info = certificate_info(sslobj.getpeercert(binary_form=True))
    return TLSInfo(
        version=sslobj.version(),
        cipher=cipher[0] if cipher else None,
        subject=info.get("subject"),  # type: ignore[arg-type]
        issuer=info.get("issuer"),  # type: ignore[arg-type]
        sans=info.get("sans", ()),  # type: ignore[arg-type]
        not_after=info.get("not_after"),  # type: ignore[arg-type]
        verified=verified,
        verify_code=0 if verified else None,
    )


def failed_verification_info(
    exc: ssl.SSLCertVerificationError, presented: TLSInfo | None
) -> TLSInfo:
    """Merge OpenSSL's verdict with the chain read on a second, unverified connection."""
    base = presented or TLSInfo()
    return TLSInfo(
        version=base.version,
        cipher=base.cipher,
        subject=base.subject,
        issuer=base.issuer,
        sans=base.sans,
        not_after=base.not_after,
        verified=False,
        verify_code=exc.verify_code,
        verify_message=exc.verify_message,
    )


def handshake(sock: socket.socket, ctx: ssl.SSLContext, host: str, timeout: float) -> ssl.SSLSocket:
    """Blocking TLS handshake on a connected socket (run it in a worker thread)."""
    sock.settimeout(timeout)
    tls = ctx.wrap_socket(sock, server_hostname=host, do_handshake_on_connect=False)
    try:
        tls.do_handshake()
    except BaseException:
        tls.close()
        raise
    return tls


def read_presented_chain(
    address: str,
    port: int,
    host: str,
    tls_min: str,
    tls_max: str,
    timeout: float,
    prelude: Callable[[socket.socket], None] | None = None,
) -> TLSInfo | None:
    """Connect again without verification and describe the leaf certificate.

    Implicit TLS, or ``prelude`` first (the plain-text exchange that leads to a
    STARTTLS handshake); no credential is ever sent on this connection.
    """
    ctx = client_context(tls_min, tls_max, verify=False)
    try:
        with socket.create_connection((address, port), timeout=timeout) as raw:
            raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # as net.no_delay
            # Socket timeouts bound each read; a server dripping the handshake
            # byte by byte would dodge them, so a watchdog ends it at the deadline.
            watchdog = threading.Timer(timeout, _shutdown, args=(raw,))
            watchdog.start()
            try:
                if prelude is not None:
                    prelude(raw)
                tls = handshake(raw, ctx, host, timeout)
                with tls:
                    return tls_info(tls, verified=False)
            finally:
                watchdog.cancel()
    except Exception:  # whatever the server did, there is simply no chain to show
        return None


def _shutdown(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
