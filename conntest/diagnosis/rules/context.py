"""Rules over steps that passed: old TLS, a trusted interceptor, capabilities, DNS answers,
settings Microsoft 365 does not serve."""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Mapping, Sequence

from conntest.diagnosis.catalogue import CONSUMER_MX_SUFFIX, EXPECTED_ENDPOINTS, M365_MX_SUFFIX
from conntest.diagnosis.rules.candidate import Candidate, display, is_microsoft
from conntest.diagnosis.rules.failed import known_issuer, tls_values
from conntest.diagnosis.rules.observed import (
    NETWORK_KINDS,
    Observed,
    as_text,
    evidence,
    host_of,
    said,
)
from conntest.model import FailureKind, Severity, Status, Step
from conntest.printable import host_port
from conntest.profile import Profile


def tls_rule(observed: Observed, profile: Profile) -> list[Candidate]:
    """Old TLS that still works, and certificates of an inspecting proxy the device trusts."""
    found: list[Candidate] = []
    for step in observed.steps:
        if step.name != "tls" or step.status is not Status.PASS or step.tls is None:
            continue
        if step.protocol == "identity":
            found += _identity_tls(step)
            continue
        values = observed.values(step.protocol, profile, step)
        info = step.tls
        refused_after = any(
            s.protocol == step.protocol and s.name == "ehlo-tls" and s.status is Status.FAIL
            for s in observed.steps
        )
        # After a refusal (421 4.7.66) the old version is the failure itself,
        # reported by tls-version-rejected; "works only over" would contradict it.
        if info.version in ("TLSv1", "TLSv1.0", "TLSv1.1") and not refused_after:
            found.append(
                Candidate(
                    "tls-legacy-version",
                    values={**values, "version": info.version},
                    evidence=[f"{step.protocol} tls: negotiated {info.version}"],
                    protocol=step.protocol,
                    step=step,
                )
            )
        host = values.get("host", "")
        if info.issuer and not known_issuer(info.issuer) and is_microsoft(host):
            tls_values_ = {**values, **tls_values(info, "verified")}
            if step.data.get("trust") == "ca-file":
                # The user named this CA: a chain it verifies is what they asked for.
                found.append(
                    Candidate(
                        "tls-ca-file",
                        values=tls_values_,
                        evidence=[
                            f"{step.protocol} tls: certificate for {host} verified against "
                            f"--ca-file, issued by {info.issuer}"
                        ],
                        protocol=step.protocol,
                        step=step,
                    )
                )
            else:
                found.append(
                    Candidate(
                        "tls-intercepted",
                        "trusted",
                        values=tls_values_,
                        evidence=[
                            f"{step.protocol} tls: certificate for {host} issued by {info.issuer}"
                        ],
                        protocol=step.protocol,
                        step=step,
                    )
                )
    return found


IDENTITY_HOSTS = ("login.microsoftonline.com",)
"""The Microsoft sign-in service (oauth.md §3); another ``--authority`` is not judged."""


def _identity_tls(step: Step) -> list[Candidate]:
    """The identity probe's verified TLS, with the interception check of the mail ports.

    A proxy whose CA this device trusts re-signs the sign-in service without a
    verification failure (which ``identity-unreachable`` reports): only the
    issuer tells, as on the mail ports.
    """
    info = step.tls
    host = str(step.data.get("host", "")).lower().rstrip(".")
    if info is None or not info.issuer or known_issuer(info.issuer) or host not in IDENTITY_HOSTS:
        return []
    values = {"host": host, **tls_values(info, "verified")}
    if step.data.get("trust") == "ca-file":  # the CA the user named: what they asked for
        line = f"identity tls: certificate for {host} verified against --ca-file, issued by "
        return [Candidate("tls-ca-file", None, values, [line + info.issuer], step=step)]
    line = f"identity tls: certificate for {host} issued by {info.issuer}"
    return [Candidate("tls-intercepted", "identity-trusted", values, [line], step=step)]


_PASSWORD_MECHANISMS = frozenset({"AUTH=PLAIN", "AUTH=LOGIN"})
"""SASL mechanisms that carry a user name and password."""


def capability_rule(observed: Observed, profile: Profile, signing_in: bool) -> list[Candidate]:
    """What the advertised capabilities say before any password is sent.

    A cause when a step of the same protocol failed (the capability explains it);
    otherwise a prediction (connectivity-only checks), which is context.
    """
    found = _capability_findings(observed, profile, signing_in)
    failed = {s.protocol for s in observed.failed()}
    for candidate in found:
        candidate.cause = candidate.protocol in failed
    return found


def _capability_findings(observed: Observed, profile: Profile, signing_in: bool) -> list[Candidate]:
    found: list[Candidate] = []
    cap = observed.first("imap", "capability")
    login_step = observed.first("imap", "login")
    if login_step is not None and login_step.data.get("preauth") is True:
        cap = None  # signed in by the greeting: no sign-in method is needed, none is offered
    if cap is not None and cap.status is Status.PASS:
        tokens = _imap_capabilities(cap)
        base = observed.values("imap", profile, cap)
        # LOGINDISABLED forbids the LOGIN command (RFC 3501 6.2.3), not AUTHENTICATE: with
        # a password mechanism beside it, password sign-in is on, only not by LOGIN.
        disabled = "LOGINDISABLED" in tokens
        if disabled and not tokens & _PASSWORD_MECHANISMS:
            found.append(
                Candidate(
                    "basic-auth-disabled",
                    "capability",
                    {**base, "sentence": said(cap)},
                    [evidence(cap)],
                    protocol="imap",
                    step=cap,
                )
            )
        elif (
            signing_in
            and tokens
            and (
                (profile.imap.login == "authenticate-plain" and "AUTH=PLAIN" not in tokens)
                or (profile.imap.login == "login" and disabled)
            )
            and not observed.passed("imap", "login")
        ):
            offered = " ".join(t for t in tokens if t.startswith("AUTH=")) or "no AUTH= mechanism"
            login = profile.imap.login
            mechanism = "the LOGIN command" if login == "login" else "AUTHENTICATE PLAIN"
            found.append(
                Candidate(
                    "auth-mechanism-unsupported",
                    "imap-offer",
                    {**base, "offered": offered, "mechanism": mechanism},
                    [evidence(cap)],
                    protocol="imap",
                    step=cap,
                )
            )
    ehlo = observed.first("smtp", "ehlo")
    if (
        ehlo is not None
        and ehlo.status is Status.PASS
        and profile.smtp.security == "starttls"
        and not observed.passed("smtp", "starttls")
    ):
        keywords = _smtp_capabilities(ehlo)
        if keywords and "starttls" not in keywords:
            found.append(
                Candidate(
                    "starttls-missing",
                    values={
                        **observed.values("smtp", profile, ehlo),
                        "how": "the EHLO reply lists " + ", ".join(k.upper() for k in keywords),
                    },
                    evidence=[evidence(ehlo)],
                    protocol="smtp",
                    step=ehlo,
                )
            )
    after = observed.first("smtp", "ehlo-tls")
    if (
        after is not None
        and after.status is Status.PASS
        and signing_in
        and not observed.passed("smtp", "auth")
    ):
        keywords = _smtp_capabilities(after)
        mechanism = profile.smtp.auth.upper()
        base = observed.values("smtp", profile, after)
        # A bare "250 name" lists no extension at all: no AUTH either.
        listed = "capabilities" in after.data or bool(keywords)
        if listed and "auth" not in keywords:
            found.append(
                Candidate(
                    "auth-mechanism-unsupported",
                    "no-auth",
                    {
                        **base,
                        "offered": ", ".join(k.upper() for k in keywords) or "no extensions",
                        "mechanism": f"AUTH {mechanism}",
                    },
                    [evidence(after)],
                    protocol="smtp",
                    step=after,
                )
            )
        elif keywords and mechanism not in keywords["auth"].upper().split():
            found.append(
                Candidate(
                    "auth-mechanism-unsupported",
                    "smtp-offer",
                    {**base, "offered": keywords["auth"].upper(), "mechanism": f"AUTH {mechanism}"},
                    [evidence(after)],
                    protocol="smtp",
                    step=after,
                )
            )
    return found


def _imap_capabilities(step: Step) -> set[str]:
    data = step.data.get("capabilities")
    if isinstance(data, list | tuple | set | frozenset):
        return {as_text(t).upper() for t in data}
    text = str(step.reply) if step.reply is not None else ""
    return {t.upper() for t in re.findall(r"[A-Za-z0-9=+._-]+", text)} - {"*", "CAPABILITY", "OK"}


def _smtp_capabilities(step: Step) -> dict[str, str]:
    data = step.data.get("capabilities")
    if isinstance(data, Mapping):
        return {as_text(k).lower(): as_text(v) for k, v in data.items()}
    lines: Iterable[str]
    if isinstance(data, list | tuple):
        lines = [as_text(x) for x in data]
    elif step.reply is not None:
        lines = re.split(r"\r?\n|(?=\b250[ -])", step.reply.text)
    else:
        return {}
    keywords: dict[str, str] = {}
    for raw in lines:
        line = re.sub(r"^250[ -]", "", raw.strip())
        if not line or " hello " in f" {line.lower()} ":
            continue
        word, _, rest = line.partition(" ")
        keywords[word.lower()] = rest
    return keywords


ADDRESSES_SHOWN = 4
"""Addresses a title or evidence line names; a DNS answer may hold thousands (a 64 KiB
TCP answer), and the title is the Nagios status line and the text report's verdict."""


def listed(addresses: Sequence[str]) -> str:
    """``a, b, c, d and 1996 more``: the first :data:`ADDRESSES_SHOWN`, then a count."""
    shown = ", ".join(addresses[:ADDRESSES_SHOWN])
    more = len(addresses) - ADDRESSES_SHOWN
    return f"{shown} and {more} more" if more > 0 else shown


def dns_rule(
    observed: Observed, profile: Profile, expected_networks: Sequence[str], user: str
) -> list[Candidate]:
    """Addresses that are not Microsoft's, pinned names, and a domain not on Microsoft 365.

    * A name pinned with ``--resolve`` is what the user said: ``dns-pinned`` (info).
    * An unexpected address is the cause only when the connection to it then failed
      before the server could prove its name (connect, or a TLS handshake cut short):
      ``dns-unexpected-address`` variant ``failed``, primary.  When TCP, TLS
      verification for the real name and the server's replies went through, it is
      context (info); when the certificate or the protocol check then failed, that
      failure is the cause and the address a warning beside it.  Without
      ``--expected-network``, 127.0.0.1 or ::1 is never the cause (it may be the
      user's own test server or a local proxy): a warning beside the failure.
      A name that is not Microsoft's is judged only against ``--expected-network``.
    """
    found: list[Candidate] = []
    networks = [ipaddress.ip_network(n, strict=False) for n in expected_networks]
    for step in observed.named("dns", "resolve"):
        if step.status is not Status.PASS:
            continue
        host = str(step.data.get("host", ""))
        addresses = [as_text(x) for x in step.data.get("addresses", ()) or ()]
        answer = [f"dns resolve: {host} → {listed(addresses)}"]
        if step.data.get("source") == "address":
            continue  # the server was given as an address: no DNS answer to judge
        if step.data.get("source") == "--resolve":
            found.append(
                Candidate(
                    "dns-pinned",
                    values={"host": host, "addresses": listed(addresses)},
                    evidence=[f"dns resolve: {host} pinned to {listed(addresses)} by --resolve"],
                    protocol="dns",
                    step=step,
                )
            )
            continue
        if not networks and not is_microsoft(host):
            continue  # only Microsoft's names are known to have public addresses
        flagged = [a for a in addresses if _unexpected(a, networks)]
        if not flagged:
            continue
        why = (
            "outside the expected networks " + ", ".join(expected_networks)
            if networks
            else "a private, loopback, link-local, multicast or reserved address"
        )
        values = {"host": host, "addresses": listed(flagged), "why": why}
        outcome = _after_answer(observed, profile, host)
        # Without --expected-network, this machine's own address may well be the user's
        # test server or a local proxy: it stays context beside the failure it may explain.
        contradicted = bool(networks) or any(not _localhost(a) for a in flagged)
        if outcome == "failed" and contradicted:
            found.append(
                Candidate(
                    "dns-unexpected-address",
                    "failed",
                    values,
                    answer,
                    protocol="dns",
                    step=step,
                    primary=True,
                    cause=True,
                )
            )
        else:
            found.append(
                Candidate(
                    "dns-unexpected-address",
                    None,
                    values,
                    answer,
                    protocol="dns",
                    step=step,
                    severity=Severity.INFO if outcome == "fine" else Severity.WARNING,
                )
            )
    mx = observed.first("dns", "mx")
    # A lookup that timed out or failed says nothing of the domain's MX records;
    # only an answer does (NXDOMAIN and NODATA are answers: there are none).
    unanswered = (
        mx is not None
        and mx.failed
        and (mx.failure is None or mx.failure.kind is not FailureKind.DNS_NXDOMAIN)
    )
    if mx is not None and mx.status is not Status.SKIP and not unanswered:
        domain = str(mx.data.get("domain", user.rpartition("@")[2]))
        exchanges = [_exchange(x) for x in mx.data.get("exchanges", ()) or ()]
        exchanges = [x for x in exchanges if x]
        microsoft = any(
            x.endswith(M365_MX_SUFFIX) or x.endswith(CONSUMER_MX_SUFFIX) for x in exchanges
        )
        if not microsoft:
            message = display(mx.failure.message) if mx.failure is not None else "none published"
            found.append(
                Candidate(
                    "domain-not-m365",
                    None if exchanges else "no-mx",
                    {
                        "domain": domain,
                        "exchanges": ", ".join(exchanges) or "none",
                        "message": message,
                    },
                    [
                        evidence(mx)
                        if mx.failed
                        else f"dns mx: {domain} → {', '.join(exchanges) or 'none'}"
                    ],
                    protocol="dns",
                    step=mx,
                )
            )
    return found


_CONNECTION = frozenset({"connect", "tls", "greeting", "starttls"})
"""Steps before the server has proved its name and spoken its protocol."""


def _after_answer(observed: Observed, profile: Profile, host: str) -> str:
    """What happened on the connections to ``host``: ``failed`` (refused, timed out, cut before
    the server proved its name), ``unverified`` (it answered, but a certificate or protocol
    check then failed: that failure is the cause), or ``fine``."""
    name = host.lower().rstrip(".")
    outcome = "fine"
    for protocol in ("imap", "smtp"):
        connect = observed.first(protocol, "connect")
        if connect is None:
            continue
        target = str(connect.data.get("host") or host_of(protocol, profile))
        if target.lower().rstrip(".") != name:
            continue
        failed = next(
            (s for s in observed.failed() if s.protocol == protocol and s.name in _CONNECTION),
            None,
        )
        if failed is None:
            continue
        kind = failed.failure.kind if failed.failure is not None else None
        if failed.name == "connect" or kind in NETWORK_KINDS:
            return "failed"
        outcome = "unverified"  # it answered, but not as the real server: the cause is that
    return outcome


def _localhost(address: str) -> bool:
    """``127.0.0.1`` or ``::1``: where local test servers and proxies listen."""
    try:
        ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
    except ValueError:
        return False
    return ip in (ipaddress.ip_address("127.0.0.1"), ipaddress.ip_address("::1"))


def _exchange(value: object) -> str:
    """An MX exchange name from a string, ``(preference, name)`` or ``{"exchange": name}``."""
    if isinstance(value, Mapping):
        value = value.get("exchange") or value.get("host") or ""
    elif isinstance(value, list | tuple):
        value = next((v for v in value if isinstance(v, str | bytes) and "." in as_text(v)), "")
    return as_text(value).strip().lower().rstrip(".")


def _unexpected(
    address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
    except ValueError:
        return False
    if networks:
        return not any(ip.version == n.version and ip in n for n in networks)
    # Python 3.11 counts multicast as global; no mail server is at a multicast address.
    return not ip.is_global or ip.is_multicast


def settings_rule(observed: Observed, profile: Profile) -> list[Candidate]:
    """A port or security mode that Microsoft 365 does not serve, on Microsoft's own host."""
    found: list[Candidate] = []
    for protocol in observed.protocols():
        settings = profile.imap if protocol == "imap" else profile.smtp
        if not is_microsoft(settings.host):
            continue
        if (settings.port, settings.security) in EXPECTED_ENDPOINTS[protocol]:
            continue
        values = observed.values(protocol, profile)
        failed = observed.failed_before_auth(protocol)
        variant = "worked"
        if failed:  # Microsoft's device guide speaks of 465 itself: only SMTP on 465 quotes it
            variant = "failed-465" if (protocol, settings.port) == ("smtp", 465) else "failed"
        where = host_port(settings.host, settings.port)
        found.append(
            Candidate(
                "wrong-port",
                variant,
                values,
                [f"{protocol} settings: {where} {values['security']}"],
                protocol=protocol,
                primary=failed,
                cause=failed,
            )
        )
    return found
