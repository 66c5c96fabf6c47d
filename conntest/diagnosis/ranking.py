"""The causal ranking contract: which finding comes first, and what the verdict is.

A helpdesk reads the first finding and acts on it; Nagios prints it as the status
line; the TUI banner and the text report lead with it.  So the order is a contract
(tests hold :func:`conntest.diagnosis.diagnose` to it for every lab scenario ×
profile, with the context perturbed):

1. **The first finding is the cause of the first decisive failure**: the step that
   failed and what the server said there, or a fact that explains that failure
   (a password with whitespace refused as a credential failure, a port Microsoft
   does not serve that then failed, an unexpected DNS answer whose connection then
   failed before the server proved its name).  Such findings are *causes*
   (:attr:`~conntest.diagnosis.rules.candidate.Candidate.cause`).
2. **Context never outranks a cause.**  A finding that made no step fail — an
   unexpected DNS answer after which TCP, TLS verification for the real name and
   the server's replies all went through, old TLS that still works, a trusted
   inspecting proxy, the domain's MX — comes after every cause, and is at most a
   warning when something else failed.
3. **What the user said is not a finding against them**: an address pinned with
   ``--resolve`` is ``dns-pinned`` (info), a chain verified against the CA given
   with ``--ca-file`` is ``tls-ca-file`` (info).
4. **One cause, one finding**: the same cause seen on IMAP and SMTP (the same
   interceptor, the same DNS answer, the same certificate) is one finding whose
   evidence has one line per protocol (:data:`SHARED_CAUSES`).
5. **The first finding's severity is the verdict's severity**: causes rank by
   severity, then primary, then layer (local → DNS → connection → TLS → session →
   sign-in → mailbox), then decisive texts before ambiguous ones, then the order
   the steps happened in; without a cause, findings rank by severity, with the one
   ``ok`` finding after warnings and before info.  No later finding is more severe
   than the first (:func:`order` caps it), so ``max()`` over the findings — what
   the model's ``severity`` properties compute — is the first one's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from conntest.diagnosis.catalogue import CATALOGUE, LAYER_ORDER
from conntest.diagnosis.rules.candidate import Candidate
from conntest.finding import Finding, Severity
from conntest.record import replace

SortKey = tuple[int, int, int, int, int, int]

SHARED_CAUSES: Mapping[str, tuple[str, ...]] = {
    "tls-intercepted": ("issuer",),
    "tls-ca-file": ("issuer",),
    "tls-certificate-invalid": ("issuer", "verify_code"),
    "tls-legacy-version": ("version",),
    "dns-unexpected-address": ("addresses",),
    "dns-pinned": ("addresses",),
}
"""Codes whose cause is one fact whatever the protocol, and the values that name the fact.

Two candidates with the same code, variant and these values are one finding."""

OK_RANK = -3
"""Where ``ok`` sorts among findings without a cause: after warnings (-4), before info (-2)."""


def merge(candidates: Sequence[Candidate]) -> list[Candidate]:
    """One finding per cause: the same cause seen on two steps or two protocols is one."""
    merged: dict[tuple[object, ...], Candidate] = {}
    for candidate in candidates:
        key: tuple[object, ...]
        if candidate.code in SHARED_CAUSES:
            names = SHARED_CAUSES[candidate.code]
            key = (
                candidate.code,
                candidate.variant,
                candidate.severity,
                *(candidate.values.get(n) for n in names),
            )
        else:
            key = (candidate.code, candidate.protocol)
        if key in merged:
            if candidate.code in SHARED_CAUSES:
                _join_hosts(merged[key], candidate)
            merged[key].merge(candidate)
        else:
            merged[key] = candidate
    return list(merged.values())


def _join_hosts(into: Candidate, other: Candidate) -> None:
    """One cause on two hosts names both (the shared-cause texts are written for it)."""
    host, other_host = into.values.get("host"), other.values.get("host")
    if host and other_host and other_host not in host.split(" and "):
        into.values["host"] = f"{host} and {other_host}"


def drop_redundant(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Drop "password withheld" where the unsafe connection is already explained."""
    explained = {
        c.protocol
        for c in candidates
        if c.code != "credentials-withheld" and CATALOGUE[c.code].severity >= Severity.CRITICAL
    }
    return [
        c for c in candidates if not (c.code == "credentials-withheld" and c.protocol in explained)
    ]


def sort_key(candidate: Candidate, severity: Severity, order: int) -> SortKey:
    """Causes first; then severity, primary, layer, decisive, the order of the steps."""
    entry = CATALOGUE[candidate.code]
    return (
        0 if candidate.cause else 1,
        -2 * int(severity),
        0 if candidate.primary else 1,
        LAYER_ORDER[entry.layer],
        0 if entry.decisive else 1,
        order,
    )


OK_KEY: SortKey = (1, OK_RANK, 0, 0, 0, 0)
"""The ``ok`` finding's key (only ever made when no step failed)."""


def order(ranked: Sequence[tuple[Finding, SortKey]]) -> list[Finding]:
    """The findings in contract order; none after the first is more severe than it."""
    findings = [finding for finding, _ in sorted(ranked, key=lambda pair: pair[1])]
    if not findings:
        return findings
    ceiling = max(findings[0].severity, Severity.INFO)  # info never changes a verdict
    return [findings[0]] + [
        f if f.severity <= ceiling else replace(f, severity=ceiling) for f in findings[1:]
    ]


def verdict(findings: Sequence[Finding]) -> Severity:
    """The verdict of one profile's findings: the first one's severity."""
    return findings[0].severity if findings else Severity.OK
