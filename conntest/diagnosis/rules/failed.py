"""What one failed step says on its own: the server's words first, then the kind of failure."""

from __future__ import annotations

import re
from collections.abc import Callable

from conntest.diagnosis.catalogue import (
    INTERCEPTION_VERIFY_CODES,
    KNOWN_ISSUERS,
    NAME_MISMATCH_VERIFY_CODES,
)
from conntest.diagnosis.normalise import NormalisedReply, normalise
from conntest.diagnosis.rules.candidate import Candidate, display, is_microsoft, protocol_values
from conntest.diagnosis.rules.observed import (
    AUTH_STEPS,
    NETWORK_KINDS,
    PHASES,
    Observed,
    evidence,
    host_of,
    said,
)
from conntest.diagnosis.rules.text import (
    TextMatch,
    backoff_text,
    is_success,
    match_normalised,
    match_text,
    standard_meaning,
)
from conntest.model import FailureKind, Status, Step, TLSInfo
from conntest.profile import Profile


def classify_failed_step(step: Step, profile: Profile, observed: Observed) -> Candidate:
    """What one failed step says on its own: the server's words first, then the failure kind."""
    values = observed.values(step.protocol, profile, step)
    values["phase"] = PHASES.get(step.name, step.name)
    values["sentence"] = said(step)
    if step.failure is not None:
        values["message"] = display(step.failure.message)
    if step.protocol == "dns":
        values["host"] = str(step.data.get("host", "the server"))
        for protocol in ("imap", "smtp"):
            if host_of(protocol, profile) == values["host"].lower().rstrip("."):
                values.update(protocol_values(protocol, profile), host=values["host"])
                values["settings"] = "{" + protocol + "_settings}"

    def make(code: str, variant: str | None = None, /, **more: str) -> Candidate:
        return Candidate(
            code,
            variant,
            {**values, **more},
            [evidence(step)],
            protocol=step.protocol,
            step=step,
            cause=True,
        )

    failure = step.failure
    kind = failure.kind if failure is not None else None

    # 0. After a well-formed greeting, a read limit that stopped the step (a flood, even of
    #    "* BAD" lines that read as words) or an answer begun and never ended (a drip) is a
    #    server that broke the protocol, whatever its lines say.
    if step.name not in _BEFORE_GREETING:
        if kind is FailureKind.PROTOCOL and step.data.get("limit"):
            return make("server-garbled")
        if kind is FailureKind.TIMEOUT and step.data.get("unended_bytes"):
            return make("server-garbled", "unended")

    if step.name == "greeting" and kind is FailureKind.TIMEOUT and step.data.get("unended_bytes"):
        return make("server-garbled", "greeting-unended")  # a greeting begun, never ended

    # A mechanism the server did not advertise was asked for without a credential
    #    (and cancelled when the server asked for one anyway): what it offers decides.
    if step.protocol == "smtp" and step.data.get("unadvertised"):
        return _unadvertised(step, make, observed)

    # 1. The server's own words decide, where it said something.
    if step.reply is not None and kind not in NETWORK_KINDS:
        reply = normalise(str(step.reply))
        found = match_normalised(reply)
        if found is not None:
            if found.code == "tls-version-rejected":
                values["after_version"] = _after_version(observed.first(step.protocol, "tls"))
            return _with_match(make, found)
        # A standard code no entry claims (NO [UNAVAILABLE], 454 4.7.0) says what went
        # wrong, and that it was no verdict on the credentials: the refusal stays unknown.
        standard = standard_meaning(reply)
        if step.name in AUTH_STEPS and not is_success(reply):
            if standard is None:  # words no entry knows: not Microsoft's known refusal
                return make("login-rejected", "unknown-refusal")
            return _refused_unknown(step, make, standard)
        if step.name == "starttls":
            how = (
                f"its EHLO reply does not list STARTTLS: '{values['sentence']}'"
                if kind is FailureKind.NOT_OFFERED
                else f"the server refused STARTTLS: '{values['sentence']}'"
            )
            variant = "imap" if step.protocol == "imap" else None
            if variant is None and kind is not FailureKind.NOT_OFFERED:
                variant = "refused"
            return make("starttls-missing", variant, how=how)
        if step.name == "greeting" and not _greeting_shaped(step.protocol, reply):
            return make("wrong-protocol")
        if step.name == "greeting" and kind is FailureKind.REJECTED:
            return _refused_unknown(step, make, standard, variant="refused")
        if not is_success(reply):  # the step failed on it: the client cannot go on
            return _refused_unknown(step, make, standard)

    # 2. Otherwise the kind of failure.
    if kind in (FailureKind.DNS_NXDOMAIN, FailureKind.DNS_TIMEOUT, FailureKind.DNS_ERROR):
        host = str(step.data.get("host", values.get("host", "the server")))
        variant = {FailureKind.DNS_NXDOMAIN: "nxdomain", FailureKind.DNS_TIMEOUT: "timeout"}.get(
            kind
        )
        candidate = make("dns-failure", variant, host=host)
        source = str(step.data.get("source", "system"))
        if source not in ("system", "--resolve", "address"):
            # The user named the DNS server: it, not "this network's DNS", did not answer.
            candidate.extra.append(
                f"The DNS server asked was the one given with --nameserver ({source}): check "
                "that it runs and answers for this name."
            )
        return candidate
    if kind is FailureKind.REFUSED:
        return make("port-closed")
    if kind is FailureKind.UNREACHABLE:
        return make("port-filtered", "no-route")
    if kind is FailureKind.TIMEOUT:
        if step.name == "connect":
            return _timeout_at_connect(step, make, observed)
        if step.name in AUTH_STEPS:
            return make("server-silent", "auth")
        return make("server-silent")
    if step.name == "tls" and kind in (
        FailureKind.RESET,
        FailureKind.CLOSED,
        FailureKind.TLS_HANDSHAKE,
    ):
        legacy = _legacy_tls(step, profile, observed)
        if legacy is not None:
            variant, value = legacy
            key = "tls_max" if variant == "client-max" else "version"
            return make("tls-version-rejected", variant, **{key: value})
    if kind in (FailureKind.RESET, FailureKind.CLOSED):
        return make("connection-reset", cut="reset" if kind is FailureKind.RESET else "closed")
    if kind is FailureKind.TLS_VERIFY:
        return _tls_verify(step, make)
    if kind is FailureKind.UNSAFE:
        return make("credentials-withheld")
    if kind is FailureKind.INTERNAL:
        return make("internal-error")

    found = match_text(failure.message) if failure is not None else None
    if found is not None:
        return _with_match(make, found)
    if kind is FailureKind.TLS_HANDSHAKE:
        return make("tls-handshake-failed")
    if kind is FailureKind.PROTOCOL:
        # Garbage before a greeting is another protocol on the port; after a well-formed
        # greeting it is a server (or something in its place) that broke the protocol.
        if step.name in _BEFORE_GREETING:
            return make("wrong-protocol")
        return make("server-garbled")
    if kind is FailureKind.NOT_OFFERED:
        if step.name in ("ehlo", "starttls"):
            return make("starttls-missing", how=f"STARTTLS was not offered: '{values['sentence']}'")
        return make("auth-mechanism-unsupported", "not-offered")
    if step.name in AUTH_STEPS:
        return make("login-rejected")
    if step.name == "starttls":
        variant = "imap" if step.protocol == "imap" else None
        return make("starttls-missing", variant, how=f"STARTTLS failed: '{values['sentence']}'")
    return make(
        "unrecognised", where=f" at {step.protocol.upper()} {PHASES.get(step.name, step.name)}"
    )


_Make = Callable[..., Candidate]


def _refused_unknown(
    step: Step, make: _Make, standard: str | None, variant: str = "step-refused"
) -> Candidate:
    """A refusal in words conntest does not know, with its standard code's meaning if any."""
    if variant == "refused":  # the greeting refused the session
        candidate = make("unrecognised", variant)
    else:
        where = f" at {step.protocol.upper()} {PHASES.get(step.name, step.name)}"
        candidate = make("unrecognised", variant, where=where)
    if standard is not None:
        candidate.extra.append(standard)
    return candidate


_BEFORE_GREETING = frozenset({"connect", "tls", "greeting"})

_LEGACY_TLS = ("TLSv1", "TLSv1.0", "TLSv1.1")


def _legacy_tls(step: Step, profile: Profile, observed: Observed) -> tuple[str, str] | None:
    """Why a failed handshake is the TLS version: ``(variant, value)`` or ``None``.

    The client could offer at most TLS 1.0/1.1 here (the probe records its effective cap
    in ``data["tls_max"]``, else the profile says so), or the client's other connection
    negotiated such a version.  Microsoft's IMAP ends such handshakes without an answer
    (behaviour.md §2), so a cut or failed handshake has this cause, not the network.
    A handshake error that names another cause (``wrong version number``) does not count.
    """
    found = match_text(step.failure.message) if step.failure is not None else None
    if found is not None and found.code in ("wrong-protocol", "tls-certificate-invalid"):
        return None
    cap = str(step.data.get("tls_max") or profile.tls.max)
    if cap in ("1.0", "1.1"):
        return "client-max", cap
    for other in observed.named("smtp" if step.protocol == "imap" else "imap", "tls"):
        if other.tls is not None and other.tls.version in _LEGACY_TLS:
            return "other-protocol", other.tls.version
    return None


def _after_version(tls: Step | None) -> str:
    if tls is not None and tls.tls is not None and tls.tls.version:
        return f" after a {tls.tls.version} handshake"
    return ""


def _greeting_shaped(protocol: str, reply: NormalisedReply) -> bool:
    """Whether a greeting at least looks like the protocol (else the port speaks another one)."""
    if protocol == "smtp":
        return bool(reply.status and reply.status.isdigit())
    return reply.status in ("OK", "NO", "BAD", "BYE", "PREAUTH", "*")


def _with_match(make: _Make, found: TextMatch) -> Candidate:
    values = dict(found.captured)
    if "backoff" in values:
        values["backoff_text"] = backoff_text(values["backoff"])
    if found.code == "smtp-auth-disabled":
        values["scope_word"] = (
            "organisation" if found.variant == "tenant" else (found.variant or "organisation")
        )
    return make(found.code, found.variant, **values)


def _unadvertised(step: Step, make: _Make, observed: Observed) -> Candidate:
    mechanism = f"AUTH {step.data['unadvertised']}"
    offered = " ".join(str(m) for m in step.data.get("offered", ()) or ())
    if offered:
        return make(
            "auth-mechanism-unsupported", "smtp-offer", offered=offered, mechanism=mechanism
        )
    ehlo = observed.first("smtp", "ehlo-tls")
    listed = ehlo.data.get("capabilities") if ehlo is not None else None
    names = ", ".join(str(k).upper() for k in listed) if isinstance(listed, dict) else ""
    return make(
        "auth-mechanism-unsupported",
        "no-auth",
        offered=names or "no extensions",
        mechanism=mechanism,
    )


def _timeout_at_connect(step: Step, make: _Make, observed: Observed) -> Candidate:
    control = next((s for s in observed.named(step.protocol, "control")), None)
    if control is None:
        return make("port-filtered")
    candidate = make("port-filtered", "filtered" if control.status is Status.PASS else "no-route")
    candidate.evidence.append(evidence(control))
    return candidate


def _tls_verify(step: Step, make: _Make) -> Candidate:
    info = step.tls
    message = (
        step.failure.message if step.failure is not None else "certificate verification failed"
    )
    if info is None:
        found = match_text(message)
        if found is not None and found.code == "tls-certificate-invalid":
            return make(found.code, found.variant)
        return make("tls-certificate-invalid", "untrusted")
    values = tls_values(info, message)
    code = info.verify_code
    known = known_issuer(info.issuer)
    candidate: Candidate
    # A name mismatch is reported once the chain reached a trusted root; with
    # --ca-file that root is the one the user named, so the certificate is their
    # server's, not an interceptor's.
    own_root = code in NAME_MISMATCH_VERIFY_CODES and step.data.get("trust") == "ca-file"
    # Interception is inferred from who issues Microsoft's certificates; for a server
    # of another name an unknown issuer only says this device does not trust it.
    host = step.data.get("host")
    microsoft = host is None or is_microsoft(str(host))
    if code in INTERCEPTION_VERIFY_CODES or code in NAME_MISMATCH_VERIFY_CODES:
        if not known and not microsoft and code in INTERCEPTION_VERIFY_CODES:
            candidate = make("tls-certificate-invalid", **values)
        elif not known and not own_root and microsoft:
            candidate = make("tls-intercepted", **values)
        elif code in INTERCEPTION_VERIFY_CODES:
            candidate = make("tls-certificate-invalid", "untrusted-root", **values)
        else:
            candidate = make("tls-certificate-invalid", "name-mismatch", **values)
    elif code == 10:
        candidate = make("tls-certificate-invalid", "expired", **values)
    elif code == 9:
        candidate = make("tls-certificate-invalid", "not-yet-valid", **values)
    else:
        candidate = make("tls-certificate-invalid", **values)
    return candidate


def tls_values(info: TLSInfo, message: str) -> dict[str, str]:
    verify = info.verify_message or message
    if info.verify_code is not None:
        verify = f"{verify} (code {info.verify_code})"
    return {
        "issuer": info.issuer or "unknown",
        "issuer_name": issuer_name(info.issuer),
        "verify": verify,
        "verify_code": str(info.verify_code) if info.verify_code is not None else "unknown",
        "not_after": info.not_after or "unknown",
        "sans": ", ".join(info.sans) if info.sans else (info.subject or "another name"),
        "version": info.version or "unknown",
    }


def issuer_name(issuer: str | None) -> str:
    """The organisation (O), else the common name (CN), of an RFC 4514 issuer string."""
    if not issuer:
        return "an unknown certificate authority"
    parts: dict[str, str] = {}
    for match in re.finditer(r"(?:^|,)\s*([A-Za-z]+)\s*=\s*((?:\\.|[^,])*)", issuer):
        parts.setdefault(match.group(1).upper(), match.group(2).replace("\\", "").strip())
    return parts.get("O") or parts.get("CN") or issuer


def known_issuer(issuer: str | None) -> bool:
    return issuer is not None and any(name in issuer.lower() for name in KNOWN_ISSUERS)
