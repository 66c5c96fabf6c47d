"""OAuth2 rules: the identity probe, the sign-in's ``error_codes``, and XOAUTH2 refusals.

The sign-in step (protocol ``"oauth"``, name ``"sign-in"``) carries the numeric
``error_codes`` the identity platform returned; they alone decide the code
(Microsoft: the description "should never be used by the client").  A failed
identity step means sign-in never started.  After a valid token, a bare
``NO AUTHENTICATE failed.`` or ``535 5.7.3`` is the token refused, not a
password; the policy texts (SMTP AUTH disabled, IMAP disabled) keep the codes
the text rules give them.  These rules replace what the generic failed-step
rule proposed for the same steps.
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.diagnosis.endpoints import CONSUMER_MX_SUFFIX, M365_MX_SUFFIX
from conntest.diagnosis.rules.candidate import Candidate, display
from conntest.diagnosis.rules.failed import issuer_name
from conntest.diagnosis.rules.observed import Observed, evidence
from conntest.model import FailureKind, Status, Step

_CODES: Mapping[int, tuple[str, str | None]] = {
    65001: ("oauth-consent-required", None),
    90094: ("oauth-consent-required", "admin"),
    90095: ("oauth-consent-required", "admin"),
    53003: ("conditional-access-blocked", "oauth"),
    530035: ("security-defaults", "oauth"),
    50076: ("mfa-required", "oauth"),
    50079: ("mfa-required", "oauth"),
    50072: ("mfa-required", "oauth"),
    50074: ("mfa-required", "oauth"),
    53000: ("oauth-device-required", None),
    53001: ("oauth-device-required", None),
    50097: ("oauth-device-required", None),
    50020: ("oauth-wrong-account-type", None),
    50034: ("oauth-wrong-account-type", None),
    500200: ("oauth-wrong-account-type", None),
    9002332: ("oauth-wrong-account-type", None),
    50194: ("oauth-wrong-account-type", None),
    90072: ("oauth-wrong-account-type", None),
    700082: ("oauth-reauth-required", None),
    70043: ("oauth-reauth-required", None),
    50173: ("oauth-reauth-required", None),
    54005: ("oauth-reauth-required", None),
    50053: ("account-locked", "oauth"),
    50057: ("account-locked", "oauth"),
}
"""oauth.md §3, code by code."""

_APP: Mapping[int, tuple[str, str]] = {
    700016: (
        "the application (client id) was not found in the directory",
        "use the Application (client) ID of a registration in this tenant",
    ),
    7000218: (
        "'Allow public client flows' is off, which device-code sign-in needs",
        "Authentication → Advanced settings → Allow public client flows: Yes",
    ),
    7000112: ("the application is disabled", "enable the application"),
    50011: (
        "the redirect URI is not registered",
        "Authentication → Mobile and desktop applications → add http://localhost",
    ),
    500113: (
        "no redirect URI is registered",
        "Authentication → Mobile and desktop applications → add http://localhost",
    ),
    900971: (
        "no redirect URI is registered",
        "Authentication → Mobile and desktop applications → add http://localhost",
    ),
    700022: ("the scopes mix more than one resource", "request only the Outlook scopes"),
    70011: ("a requested scope is invalid", "request only the Outlook scopes"),
    65005: (
        "a requested permission is not on the app",
        "API permissions → add IMAP.AccessAsUser.All and SMTP.Send (Office 365 Exchange Online)",
    ),
    650056: (
        "a requested permission is not on the app",
        "API permissions → add IMAP.AccessAsUser.All and SMTP.Send (Office 365 Exchange Online)",
    ),
    650057: (
        "a requested permission is not on the app",
        "API permissions → add IMAP.AccessAsUser.All and SMTP.Send (Office 365 Exchange Online)",
    ),
}


def oauth_rule(
    observed: Observed, by_step: dict[int, Candidate], login_command: str, tenant: str
) -> None:
    """Replace the generic candidates of the identity, sign-in and XOAUTH2 steps."""
    steps = observed.steps
    for step in steps:
        if step.protocol == "identity" and step.name != "realm" and step.status is Status.FAIL:
            by_step[id(step)] = _identity(step)
            return
    signin = next((s for s in steps if s.protocol == "oauth" and s.name == "sign-in"), None)
    if signin is None:
        return
    if signin.status is Status.FAIL:
        by_step[id(signin)] = _signin(signin, login_command, tenant)
        return
    for candidate in by_step.values():
        if candidate.code in _AFTER_TOKEN and candidate.variant is None:
            candidate.variant = "oauth"  # no password was sent: the OAuth wording
    for step in steps:
        if step.protocol in ("imap", "smtp") and step.name in ("login", "auth"):
            proposed = by_step.get(id(step))
            if (
                step.status is Status.FAIL
                and step.failure is not None
                and (
                    step.failure.kind is FailureKind.REJECTED
                    and (proposed is None or proposed.code in _GENERIC_REFUSALS)
                )
            ):
                by_step[id(step)] = Candidate(
                    "oauth-token-rejected",
                    values={
                        "sentence": display(str(step.reply or step.failure.message)),
                        "protocol_name": step.protocol.upper(),
                    },
                    evidence=[evidence(step)],
                    protocol=step.protocol,
                    step=step,
                )


_AFTER_TOKEN = frozenset({"imap-disabled"})
"""Codes with an ``oauth`` variant for a refusal after the token was accepted."""
_GENERIC_REFUSALS = frozenset({"wrong-credentials", "login-rejected", "not-authenticated"})


def account_kind_rule(observed: Observed) -> list[Candidate]:
    """The informational ``account-kind`` finding from the identity realm step, if it answered.

    The user realm's documented answers are Managed, Federated and Unknown (oauth.md
    §3): none marks a personal account, so Unknown is "not a work or school account",
    and only a domain whose MX is not Microsoft's too is "not on Microsoft 365".
    """
    step = observed.first("identity", "realm")
    if step is None or step.status is not Status.PASS:
        return []
    kind = str(step.data.get("kind", "unknown"))
    values = {
        "domain": str(step.data.get("domain", "the domain")),
        "tenant_id": str(step.data.get("tenant_id", "unknown")),
        "idp_host": str(step.data.get("idp_host") or "its identity provider"),
        "exchanges": "",
    }
    lines = [evidence(step)]
    variant: str | None = None if kind == "managed" else kind
    if kind not in ("managed", "federated"):
        variant, values["exchanges"], mx_line = _mx_says(observed, values["domain"])
        lines += [mx_line] if mx_line else []
    return [Candidate("account-kind", variant, values, lines, protocol=None, step=step)]


def _mx_says(observed: Observed, domain: str) -> tuple[str, str, str]:
    """(variant, exchanges, evidence) for a realm that knows no work or school domain."""
    mx = observed.first("dns", "mx")
    if mx is not None and mx.failure is not None and mx.failure.kind is FailureKind.DNS_NXDOMAIN:
        return "none", "none (the name does not exist)", evidence(mx)
    if mx is None or mx.status is not Status.PASS:
        return "unknown", "", ""  # no answer (skipped, timed out): nothing to compare
    exchanges = [
        str(x).split()[-1].rstrip(".").lower() for x in mx.data.get("exchanges", ()) or () if x
    ]
    shown = ", ".join(exchanges) or "none"
    line = f"dns mx: {domain} → {shown}"
    microsoft = any(x.endswith((M365_MX_SUFFIX, CONSUMER_MX_SUFFIX)) for x in exchanges)
    return ("not-work" if microsoft else "none"), shown, line


def _identity(step: Step) -> Candidate:
    host = str(step.data.get("host") or "login.microsoftonline.com")
    why = f"{step.name}: {step.failure.message if step.failure else 'failed'}"
    variant = None
    values = {"host": host, "why": why}
    if step.failure is not None and step.failure.kind is FailureKind.TLS_VERIFY and step.tls:
        variant = "intercepted"
        values["issuer_name"] = issuer_name(step.tls.issuer)
        values["verify"] = step.tls.verify_message or "verification failed"
    return Candidate(
        "identity-unreachable", variant, values, [evidence(step)], protocol=None, step=step
    )


def _signin(step: Step, login_command: str, tenant: str) -> Candidate:
    codes = [c for c in step.data.get("error_codes", []) if isinstance(c, int)]
    error = str(step.data.get("error") or "")
    flow = str(step.data.get("flow") or "")
    aadsts = ", ".join(f"AADSTS{c}" for c in codes) or error or "no code"
    values = {
        "aadsts": aadsts,
        "why": step.failure.message if step.failure else error,
        "login_command": login_command,
        "tenant": tenant,
    }
    code, variant = "oauth-signin-failed", None
    if error == "no-token":
        code, variant = "oauth-reauth-required", "no-token"
    for number in codes:
        if number in _CODES:
            code, variant = _CODES[number]
            break
        if number in _APP:
            code = "oauth-app-misconfigured"
            values["why"], values["fix"] = _APP[number]
            break
    if code == "conditional-access-blocked" and flow == "device-code":
        variant = "oauth-device-code"
    if code == "oauth-reauth-required" and variant is None:
        values["why"] = aadsts
    return Candidate(code, variant, values, [evidence(step)], protocol=None, step=step)
