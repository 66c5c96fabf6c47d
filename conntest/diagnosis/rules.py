"""Small rule functions: observed steps in, candidate findings out.

Each rule looks at one kind of fact — a failed step, the DNS answers, the TLS
certificate, the advertised capabilities, the two sign-in results together, the
password's shape — and proposes :class:`Candidate` findings naming a catalogue
code, a variant, the values for its templates and the evidence.  They are pure
functions of the steps, the profile and the context; the wording lives in
:mod:`conntest.diagnosis.catalogue`, the ordering and rendering in
:mod:`conntest.diagnosis`.

The one rule that reasons across protocols is :func:`cross_protocol`: IMAP's
``NO LOGIN failed.`` means almost nothing on its own, while SMTP's reply for the
same credentials says exactly why (behaviour.md §4).
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from conntest.diagnosis.catalogue import (
    CATALOGUE,
    CONSUMER_MX_SUFFIX,
    DECIDE,
    EXPECTED_ENDPOINTS,
    INTERCEPTION_VERIFY_CODES,
    KNOWN_ISSUERS,
    M365_MX_SUFFIX,
    MATCH_ORDER,
    MICROSOFT_HOST_SUFFIXES,
    MICROSOFT_HOSTS,
    NAME_MISMATCH_VERIFY_CODES,
    NOTES,
    SECURITY_WORDS,
    SUCCESS_PATTERNS,
)
from conntest.diagnosis.normalise import NormalisedReply, normalise, one_line, readable
from conntest.model import FailureKind, Severity, Status, Step, TLSInfo
from conntest.password import PasswordShape
from conntest.profile import Profile

AUTH_STEPS = frozenset({"login", "auth"})
"""Steps that send the credentials (IMAP ``login``, SMTP ``auth``)."""
IGNORED_STEPS = frozenset(
    {("dns", "mx"), ("dns", "autodiscover"), ("imap", "logout"), ("smtp", "quit")}
)
"""Informational or cosmetic steps whose failure never decides a diagnosis."""
RETRY_SUFFIX = "-stripped"
"""The engine names the consented retry ``auth-stripped`` / ``login-stripped``."""
PRE_AUTH_STEPS = frozenset(
    {"connect", "tls", "greeting", "capability", "id", "ehlo", "starttls", "ehlo-tls"}
)

ACCOUNT_WIDE = frozenset(
    {
        "security-defaults",
        "account-locked",
        "conditional-access-blocked",
        "basic-auth-disabled",
        "mfa-required",
    }
)
"""SMTP verdicts that concern the account or tenant, and so also explain IMAP's bare refusal."""
CREDENTIAL_ACCEPTED = frozenset({"imap-disabled", "conditional-access-blocked"})
"""Codes that are only reached with the right password (behaviour.md §4 rules 3 and 4)."""

PHASES: Mapping[str, str] = {
    "connect": "the connection",
    "tls": "the TLS handshake",
    "greeting": "the greeting",
    "capability": "CAPABILITY",
    "id": "the IMAP ID command",
    "login": "the sign-in",
    "auth": "the sign-in",
    "mailbox": "opening the mailbox",
    "logout": "LOGOUT",
    "ehlo": "EHLO",
    "starttls": "STARTTLS",
    "ehlo-tls": "EHLO after STARTTLS",
    "quit": "QUIT",
}

_SUCCESS = tuple(re.compile(p) for p in SUCCESS_PATTERNS)
_NETWORK_KINDS = frozenset(
    {
        FailureKind.REFUSED,
        FailureKind.TIMEOUT,
        FailureKind.UNREACHABLE,
        FailureKind.RESET,
        FailureKind.CLOSED,
        FailureKind.DNS_NXDOMAIN,
        FailureKind.DNS_TIMEOUT,
        FailureKind.DNS_ERROR,
    }
)


@dataclass
class Candidate:
    """A proposed finding: which catalogue entry, with which values and evidence."""

    code: str
    variant: str | None = None
    values: dict[str, str] = field(default_factory=dict)
    evidence: list[str] = field(default_factory=list)
    protocol: str | None = None
    severity: Severity | None = None
    """Overrides the entry's and the variant's severity."""
    extra: list[str] = field(default_factory=list)
    """Sentences (templates) appended to the detail."""
    primary: bool = False
    """Named as the most likely cause, ahead of everything of the same severity."""
    step: Step | None = None

    def merge(self, other: Candidate) -> None:
        """Fold ``other`` (same code) into this one: evidence and sentences add up.

        A variant beats no variant: it was chosen by a rule that knew more (the
        advertised mechanisms explain a bare ``504`` better than the reply does).
        """
        self.evidence.extend(e for e in other.evidence if e not in self.evidence)
        self.extra.extend(x for x in other.extra if x not in self.extra)
        if self.variant is None and other.variant is not None:
            self.variant = other.variant
            self.values.update(other.values)
        for key, value in other.values.items():
            self.values.setdefault(key, value)
        if self.protocol != other.protocol:
            self.protocol = None
        self.primary = self.primary or other.primary


@dataclass(frozen=True)
class TextMatch:
    """Which catalogue pattern a text matched, and what it captured."""

    code: str
    variant: str | None
    captured: dict[str, str]
    reply: NormalisedReply


# --------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------


def match_text(text: str) -> TextMatch | None:
    """The first catalogue pattern (in :data:`MATCH_ORDER`) that ``text`` matches."""
    return match_normalised(normalise(text))


def match_normalised(reply: NormalisedReply) -> TextMatch | None:
    key = reply.key
    for code in MATCH_ORDER:
        for pattern in CATALOGUE[code].patterns:
            if pattern.enhanced is not None and (reply.enhanced or "") != pattern.enhanced:
                continue
            if pattern.status is not None and reply.status != pattern.status:
                continue
            found = pattern.compiled().search(key) or pattern.compiled().search(reply.text)
            if found is None:
                continue
            captured = {k: v for k, v in found.groupdict().items() if v is not None}
            variant = captured.pop("variant", None) or pattern.variant
            return TextMatch(code, variant, captured, reply)
    return None


def is_success(reply: NormalisedReply) -> bool:
    """True for a normal, successful reply (a greeting, ``OK LOGIN completed.``, ``235``…)."""
    if reply.status in ("OK", "+OK", "PREAUTH"):
        return True
    if reply.status and reply.status.isdigit() and reply.status[0] in "23":
        return True
    return any(p.search(reply.text) for p in _SUCCESS)


def looks_like_auth(reply: NormalisedReply) -> bool:
    """Whether an unknown text is about signing in (then ``login-rejected`` is the honest code)."""
    if reply.status in ("NO", "-ERR", "535", "534", "454"):
        return True
    return re.search(r"auth|log ?in|logon|password|credential|sign[- ]?in", reply.text) is not None


def display(text: str) -> str:
    """A reply as people should read it: the decisive part, one line, no host trailer."""
    return readable(text)


def evidence(step: Step) -> str:
    """``"<protocol> <step>: <reply or failure message>"``."""
    if step.reply is not None:
        said = one_line(str(step.reply))
    elif step.failure is not None:
        said = one_line(step.failure.message)
    else:
        said = step.status.value
    if (
        step.tls is not None
        and step.failure is not None
        and step.failure.kind is FailureKind.TLS_VERIFY
    ):
        said += f" (issuer {step.tls.issuer or 'unknown'}"
        said += (
            f", verify code {step.tls.verify_code})" if step.tls.verify_code is not None else ")"
        )
    return f"{step.protocol} {step.name}: {said}"


def _said(step: Step) -> str:
    if step.reply is not None:
        return display(str(step.reply))
    if step.failure is not None:
        return display(step.failure.message)
    return step.status.value


# --------------------------------------------------------------------------------------
# Facts about the run
# --------------------------------------------------------------------------------------


class Observed:
    """The steps of one run, indexed for the rules."""

    def __init__(self, steps: Sequence[Step]) -> None:
        self.steps = list(steps)

    def first(self, protocol: str, name: str) -> Step | None:
        """The first step of that name: the original attempt, not a retry."""
        return next((s for s in self.steps if s.protocol == protocol and s.name == name), None)

    def named(self, protocol: str, name: str) -> list[Step]:
        return [s for s in self.steps if s.protocol == protocol and s.name == name]

    def passed(self, protocol: str, name: str) -> bool:
        step = self.first(protocol, name)
        return step is not None and step.status is Status.PASS

    def protocols(self) -> list[str]:
        return [p for p in ("imap", "smtp") if any(s.protocol == p for s in self.steps)]

    def failed(self) -> list[Step]:
        """Failed steps that can decide a diagnosis (not informational, control or retry ones)."""
        return [
            s
            for s in self.steps
            if s.failed
            and (s.protocol, s.name) not in IGNORED_STEPS
            and s.name != "control"
            and not s.name.endswith(RETRY_SUFFIX)
        ]

    def retry(self) -> Step | None:
        """The consented sign-in with whitespace removed, if the engine made one."""
        return next((s for s in self.steps if s.name.endswith(RETRY_SUFFIX)), None)

    def failed_before_auth(self, protocol: str) -> bool:
        return any(
            s.failed and s.protocol == protocol and s.name in PRE_AUTH_STEPS for s in self.steps
        )


def protocol_values(
    protocol: str | None, profile: Profile, step: Step | None = None
) -> dict[str, str]:
    """Template values that depend on the protocol at hand (host, port, settings path)."""
    if protocol not in ("imap", "smtp"):
        return {}
    settings = profile.imap if protocol == "imap" else profile.smtp
    expected_port, expected_security = EXPECTED_ENDPOINTS[protocol][0]
    host = settings.host
    port = settings.port
    if step is not None:
        host = str(step.data.get("host", host))
        raw_port = str(step.data.get("port", port))
        port = int(raw_port) if raw_port.isdigit() else port
    return {
        "protocol_name": protocol.upper(),
        "host": host,
        "port": str(port),
        "security": SECURITY_WORDS.get(settings.security, settings.security),
        "expected_host": settings.host
        if _is_microsoft(settings.host)
        else MICROSOFT_HOSTS[protocol],
        "expected_port": str(expected_port),
        "expected_security": SECURITY_WORDS[expected_security],
    }


def _is_microsoft(host: str) -> bool:
    host = host.lower().rstrip(".")
    return any(host.endswith(suffix) for suffix in MICROSOFT_HOST_SUFFIXES)


# --------------------------------------------------------------------------------------
# One failed step
# --------------------------------------------------------------------------------------


def classify_failed_step(step: Step, profile: Profile, observed: Observed) -> Candidate:
    """What one failed step says on its own: the server's words first, then the failure kind."""
    values = protocol_values(step.protocol, profile, step)
    values["phase"] = PHASES.get(step.name, step.name)
    values["sentence"] = _said(step)
    if step.failure is not None:
        values["message"] = display(step.failure.message)
    if step.protocol == "dns":
        values["host"] = str(step.data.get("host", "the server"))
        for protocol in ("imap", "smtp"):
            if _host_of(protocol, profile) == values["host"].lower().rstrip("."):
                values.update(protocol_values(protocol, profile), host=values["host"])
                values["settings"] = "{" + protocol + "_settings}"

    def make(code: str, variant: str | None = None, /, **more: str) -> Candidate:
        return Candidate(
            code, variant, {**values, **more}, [evidence(step)], protocol=step.protocol, step=step
        )

    failure = step.failure
    kind = failure.kind if failure is not None else None

    # 1. The server's own words decide, where it said something.
    if step.reply is not None and kind not in _NETWORK_KINDS:
        reply = normalise(str(step.reply))
        found = match_normalised(reply)
        if found is not None:
            if found.code == "tls-version-rejected":
                values["after_version"] = _after_version(observed.first(step.protocol, "tls"))
            return _with_match(make, found)
        if step.name in AUTH_STEPS and not is_success(reply):
            return make("login-rejected")
        if step.name == "starttls":
            return make(
                "starttls-missing", how=f"the server refused STARTTLS: '{values['sentence']}'"
            )
        if step.name == "greeting" and not _greeting_shaped(step.protocol, reply):
            return make("wrong-protocol")
        if not is_success(reply):
            return make(
                "unrecognised",
                where=f" at {step.protocol.upper()} {PHASES.get(step.name, step.name)}",
            )

    # 2. Otherwise the kind of failure.
    if kind in (FailureKind.DNS_NXDOMAIN, FailureKind.DNS_TIMEOUT, FailureKind.DNS_ERROR):
        host = str(step.data.get("host", values.get("host", "the server")))
        variant = {FailureKind.DNS_NXDOMAIN: "nxdomain", FailureKind.DNS_TIMEOUT: "timeout"}.get(
            kind
        )
        return make("dns-failure", variant, host=host)
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
        return make("wrong-protocol")
    if kind is FailureKind.NOT_OFFERED:
        if step.name in ("ehlo", "starttls"):
            return make("starttls-missing", how=f"STARTTLS was not offered: '{values['sentence']}'")
        return make("auth-mechanism-unsupported", "not-offered")
    if step.name in AUTH_STEPS:
        return make("login-rejected")
    if step.name == "starttls":
        return make("starttls-missing", how=f"STARTTLS failed: '{values['sentence']}'")
    return make(
        "unrecognised", where=f" at {step.protocol.upper()} {PHASES.get(step.name, step.name)}"
    )


_Make = Callable[..., Candidate]

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


def backoff_text(milliseconds: str) -> str:
    seconds = int(milliseconds) // 1000
    if seconds >= 90:
        return f"about {round(seconds / 60)} minutes"
    return f"about {max(seconds, 1)} seconds"


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
    values = _tls_values(info, message)
    code = info.verify_code
    known = _known_issuer(info.issuer)
    candidate: Candidate
    if code in INTERCEPTION_VERIFY_CODES or code in NAME_MISMATCH_VERIFY_CODES:
        if not known:
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


def _tls_values(info: TLSInfo, message: str) -> dict[str, str]:
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


def _known_issuer(issuer: str | None) -> bool:
    return issuer is not None and any(name in issuer.lower() for name in KNOWN_ISSUERS)


# --------------------------------------------------------------------------------------
# Rules over passing steps
# --------------------------------------------------------------------------------------


def tls_rule(observed: Observed, profile: Profile) -> list[Candidate]:
    """Old TLS that still works, and certificates of an inspecting proxy the device trusts."""
    found: list[Candidate] = []
    for step in observed.steps:
        if step.name != "tls" or step.status is not Status.PASS or step.tls is None:
            continue
        values = protocol_values(step.protocol, profile, step)
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
        if info.issuer and not _known_issuer(info.issuer) and _is_microsoft(host):
            found.append(
                Candidate(
                    "tls-intercepted",
                    "trusted",
                    values={**values, **_tls_values(info, "verified")},
                    evidence=[
                        f"{step.protocol} tls: certificate for {host} issued by {info.issuer}"
                    ],
                    protocol=step.protocol,
                    step=step,
                )
            )
    return found


def capability_rule(observed: Observed, profile: Profile, signing_in: bool) -> list[Candidate]:
    """What the advertised capabilities say before any password is sent."""
    found: list[Candidate] = []
    cap = observed.first("imap", "capability")
    if cap is not None and cap.status is Status.PASS:
        tokens = _imap_capabilities(cap)
        base = protocol_values("imap", profile, cap)
        if "LOGINDISABLED" in tokens:
            found.append(
                Candidate(
                    "basic-auth-disabled",
                    "capability",
                    {**base, "sentence": _said(cap)},
                    [evidence(cap)],
                    protocol="imap",
                    step=cap,
                )
            )
        elif (
            signing_in
            and tokens
            and profile.imap.login == "authenticate-plain"
            and "AUTH=PLAIN" not in tokens
            and not observed.passed("imap", "login")
        ):
            offered = " ".join(t for t in tokens if t.startswith("AUTH=")) or "no AUTH= mechanism"
            found.append(
                Candidate(
                    "auth-mechanism-unsupported",
                    "imap-offer",
                    {**base, "offered": offered, "mechanism": "AUTHENTICATE PLAIN"},
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
                        **protocol_values("smtp", profile, ehlo),
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
        base = protocol_values("smtp", profile, after)
        if keywords and "auth" not in keywords:
            found.append(
                Candidate(
                    "auth-mechanism-unsupported",
                    "no-auth",
                    {
                        **base,
                        "offered": ", ".join(k.upper() for k in keywords),
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
        return {_text(t).upper() for t in data}
    text = str(step.reply) if step.reply is not None else ""
    return {t.upper() for t in re.findall(r"[A-Za-z0-9=+._-]+", text)} - {"*", "CAPABILITY", "OK"}


def _smtp_capabilities(step: Step) -> dict[str, str]:
    data = step.data.get("capabilities")
    if isinstance(data, Mapping):
        return {_text(k).lower(): _text(v) for k, v in data.items()}
    lines: Iterable[str]
    if isinstance(data, list | tuple):
        lines = [_text(x) for x in data]
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


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def dns_rule(
    observed: Observed, profile: Profile, expected_networks: Sequence[str], user: str
) -> list[Candidate]:
    """Addresses that are not Microsoft's, and a domain whose mail does not go to Microsoft 365."""
    found: list[Candidate] = []
    networks = [ipaddress.ip_network(n, strict=False) for n in expected_networks]
    for step in observed.named("dns", "resolve"):
        if step.status is not Status.PASS:
            continue
        host = str(step.data.get("host", ""))
        addresses = [_text(x) for x in step.data.get("addresses", ()) or ()]
        flagged = [a for a in addresses if _unexpected(a, networks)]
        if not flagged:
            continue
        why = (
            "outside the expected networks " + ", ".join(expected_networks)
            if networks
            else "a private, loopback, link-local or reserved address"
        )
        failed_after = any(
            s.failed
            and s.protocol in ("imap", "smtp")
            and _host_of(s.protocol, profile) == host.lower()
            for s in observed.steps
        )
        found.append(
            Candidate(
                "dns-unexpected-address",
                "failed" if failed_after else None,
                {"host": host, "addresses": ", ".join(flagged), "why": why},
                [f"dns resolve: {host} → {', '.join(_text(x) for x in addresses)}"],
                protocol="dns",
                step=step,
            )
        )
    mx = observed.first("dns", "mx")
    if mx is not None and mx.status is not Status.SKIP:
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


def _host_of(protocol: str, profile: Profile) -> str:
    return (profile.imap.host if protocol == "imap" else profile.smtp.host).lower().rstrip(".")


def _exchange(value: object) -> str:
    """An MX exchange name from a string, ``(preference, name)`` or ``{"exchange": name}``."""
    if isinstance(value, Mapping):
        value = value.get("exchange") or value.get("host") or ""
    elif isinstance(value, list | tuple):
        value = next((v for v in value if isinstance(v, str | bytes) and "." in _text(v)), "")
    return _text(value).strip().lower().rstrip(".")


def _unexpected(
    address: str, networks: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network]
) -> bool:
    try:
        ip = ipaddress.ip_address(address.split("%", maxsplit=1)[0])
    except ValueError:
        return False
    if networks:
        return not any(ip.version == n.version and ip in n for n in networks)
    return not ip.is_global


def settings_rule(observed: Observed, profile: Profile) -> list[Candidate]:
    """A port or security mode that Microsoft 365 does not serve, on Microsoft's own host."""
    found: list[Candidate] = []
    for protocol in observed.protocols():
        settings = profile.imap if protocol == "imap" else profile.smtp
        if not _is_microsoft(settings.host):
            continue
        if (settings.port, settings.security) in EXPECTED_ENDPOINTS[protocol]:
            continue
        values = protocol_values(protocol, profile)
        found.append(
            Candidate(
                "wrong-port",
                "failed" if observed.failed_before_auth(protocol) else None,
                values,
                [f"{protocol} settings: {settings.host}:{settings.port} {values['security']}"],
                protocol=protocol,
            )
        )
    return found


# --------------------------------------------------------------------------------------
# Sign-in results, across protocols
# --------------------------------------------------------------------------------------


def cross_protocol(observed: Observed, by_step: dict[int, Candidate]) -> None:
    """Let SMTP's precise verdict decide IMAP's bare refusal (modifies ``by_step`` in place).

    * IMAP refused, SMTP accepted the same password → the password is right and IMAP
      basic authentication is off: ``basic-auth-disabled`` for IMAP.
    * IMAP refused, SMTP says the credentials are incorrect → ``wrong-credentials``.
    * IMAP refused, SMTP names an account or tenant policy → that cause, for both.
    * Otherwise IMAP stays ``login-rejected``, saying what would decide it.
    """
    imap_login = observed.first("imap", "login")
    smtp_auth = observed.first("smtp", "auth")
    imap = by_step.get(id(imap_login)) if imap_login is not None else None
    smtp = by_step.get(id(smtp_auth)) if smtp_auth is not None else None

    if smtp is not None and smtp.code == "login-rejected":
        smtp.values.setdefault("decide", DECIDE["smtp"])
    if imap is None or imap.code != "login-rejected" or imap.variant == "unknown-sentence":
        if imap is not None and imap.code == "login-rejected":
            imap.values.setdefault("decide", "")
        _note_imap_accepted(observed, smtp)
        return

    if observed.passed("smtp", "auth") and smtp_auth is not None:
        imap.code, imap.variant = "basic-auth-disabled", "imap-inferred"
        imap.evidence.append(evidence(smtp_auth))
        return
    if (
        smtp is not None
        and smtp_auth is not None
        and (smtp.code == "wrong-credentials" or smtp.code in ACCOUNT_WIDE)
    ):
        smtp.evidence[:0] = imap.evidence
        smtp.protocol = None
        smtp.values["imap_sentence"] = imap.values.get("sentence", "LOGIN failed.")
        if smtp.code == "wrong-credentials":
            smtp.extra.append(NOTES["imap-explained-by-credentials"])
        else:
            smtp.extra.append(NOTES["imap-same-cause"])
        del by_step[id(imap_login)]
        return

    if not any(s.protocol == "smtp" for s in observed.steps):
        imap.variant = "no-smtp"
        imap.values["decide"] = DECIDE["no-smtp"]
    else:
        # smtp_said is a value, never a template: the server's words may hold braces.
        if smtp is not None:
            said = "it answered '" + smtp.values.get("sentence", "") + "'"
        elif smtp_auth is not None and smtp_auth.status is Status.SKIP:
            said = "it did not get as far as signing in"
        else:
            said = "it gave no verdict on the credentials"
        imap.variant = "smtp-undecided"
        imap.values["smtp_said"] = said
        imap.values["decide"] = DECIDE["smtp-undecided"]
        if smtp_auth is not None:
            imap.evidence.append(evidence(smtp_auth))


def _note_imap_accepted(observed: Observed, smtp: Candidate | None) -> None:
    if smtp is not None and smtp.code == "wrong-credentials" and observed.passed("imap", "login"):
        smtp.extra.append(NOTES["imap-accepted"])


def credentials_verdict(observed: Observed, candidates: Iterable[Candidate]) -> tuple[bool, bool]:
    """``(refused as a credential failure, accepted somewhere)`` after cross-protocol reasoning."""
    refused = False
    accepted = observed.passed("imap", "login") or observed.passed("smtp", "auth")
    for c in candidates:
        if c.code in CREDENTIAL_ACCEPTED:
            accepted = True
        if c.code == "wrong-credentials" or (
            c.code == "login-rejected" and c.step is not None and c.step.name in AUTH_STEPS
        ):
            refused = True
    return refused, accepted


# --------------------------------------------------------------------------------------
# Local facts: the password's shape and the user name
# --------------------------------------------------------------------------------------


def password_rule(
    shape: PasswordShape | None,
    retry_succeeded: bool | None,
    refused: bool,
    accepted: bool,
    wrong_credentials: bool,
    retry_step: Step | None = None,
) -> list[Candidate]:
    """Whitespace in the password, and a password that does not look like an app password."""
    if shape is None:
        return []
    found: list[Candidate] = []
    summary = f"{shape.length} characters"
    values = {"shape": shape.describe(), "length": str(shape.length)}
    if shape.has_whitespace:
        ev = [f"local password: {summary}, {shape.describe()}"]
        if retry_step is not None:
            ev.append(evidence(retry_step))
        if retry_succeeded is True:
            if retry_step is None:
                ev.append("local retry: accepted with these characters removed")
            found.append(Candidate("password-whitespace", "confirmed", values, ev, primary=True))
        elif retry_succeeded is False:
            if retry_step is None:
                ev.append("local retry: refused with these characters removed")
            found.append(Candidate("password-whitespace", "retry-failed", values, ev))
        elif refused and not accepted:
            found.append(Candidate("password-whitespace", "likely", values, ev, primary=True))
        else:
            found.append(Candidate("password-whitespace", None, values, ev))
    if (
        wrong_credentials
        and not accepted
        and not shape.looks_like_app_password
        and retry_succeeded is not True
    ):
        found.append(
            Candidate(
                "password-not-app-password",
                values=values,
                evidence=[f"local password: {summary}, not 16 lowercase letters"],
            )
        )
    return found


def username_rule(user: str, profile: Profile, refused: bool, accepted: bool) -> list[Candidate]:
    """A user name that is not the full sign-in address Microsoft 365 expects."""
    problems: list[str] = []
    if user != user.strip() or " " in user.strip():
        problems.append("the user name contains spaces")
    if "@" not in user:
        problems.append(f"'{user.strip()}' has no @domain part")
    if profile.username_form == "local-part":
        problems.append(f"{profile.name or 'the client'} sends only the part before the @")
    if not problems:
        return []
    return [
        Candidate(
            "username-format",
            "likely" if refused and not accepted else None,
            {"problem": "; ".join(problems)},
            [f"local user name: '{user}'"],
            primary=refused and not accepted,
        )
    ]
