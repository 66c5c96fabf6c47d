"""Timings and certificate dates read off an account's steps, for the monitoring renderers.

Names shared by the Nagios perfdata and the Prometheus labels:

* a **step timing** keeps the engine's step names (``connect``, ``tls``,
  ``login``…) per profile and protocol; the DNS lookup of a protocol's host
  is reported as that protocol's ``dns`` step (the engine resolves each host
  once, so IMAP and SMTP on one host show the same lookup);
* a **phase** is one of :data:`PHASES`, the coarse grid Nagios graphs:
  ``auth`` is IMAP's ``login`` and SMTP's ``auth``; for several profiles the
  slowest wins, since that is the one a threshold should catch.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from conntest.model import Status
from conntest.results import AccountResult

__all__ = [
    "PHASES",
    "CertificateExpiry",
    "StepTiming",
    "certificate_expiry",
    "phases",
    "step_timings",
]

PHASES = ("dns", "connect", "tls", "greeting", "auth")
_PHASE_OF = {
    "connect": "connect",
    "tls": "tls",
    "greeting": "greeting",
    "login": "auth",
    "auth": "auth",
}


@dataclass(frozen=True)
class StepTiming:
    profile: str
    protocol: str
    step: str
    seconds: float
    passed: bool


@dataclass(frozen=True)
class CertificateExpiry:
    profile: str
    protocol: str
    host: str
    timestamp: float
    """``not_after`` of the leaf certificate, seconds since the epoch."""


def step_timings(result: AccountResult) -> list[StepTiming]:
    """One timing per (profile, protocol, step) that ran; skipped steps are left out."""
    if result.report is None:
        return []
    by_id = {p.id: p for p in result.entry.profiles}
    seen: set[tuple[str, str, str]] = set()
    out: list[StepTiming] = []
    for profile_result in result.report.profiles:
        profile = by_id.get(profile_result.profile)
        hosts = result.entry.hosts(profile) if profile is not None else {}
        for step in profile_result.steps:
            if step.status is Status.SKIP:
                continue
            if step.protocol == "dns" and step.name == "resolve":
                host = str(step.data.get("host", ""))
                keys = [(proto, "dns") for proto, h in hosts.items() if h.lower() == host.lower()]
            else:
                keys = [(step.protocol, step.name)]
            for protocol, name in keys:
                key = (profile_result.profile, protocol, name)
                if key in seen:
                    continue
                seen.add(key)
                out.append(
                    StepTiming(
                        profile_result.profile,
                        protocol,
                        name,
                        round(step.elapsed_ms / 1000, 6),
                        step.status is Status.PASS,
                    )
                )
    return out


def phases(result: AccountResult) -> dict[str, float]:
    """Milliseconds per phase: ``dns``, then ``imap_connect`` … ``smtp_auth``, then ``total``.

    Phases that did not run are absent; ``total`` is always there.
    """
    worst: dict[str, float] = {}
    for timing in step_timings(result):
        if timing.protocol not in {"imap", "smtp"}:
            continue
        if timing.step == "dns":
            label = "dns"
        elif timing.step in _PHASE_OF:
            label = f"{timing.protocol}_{_PHASE_OF[timing.step]}"
        else:
            continue
        worst[label] = max(worst.get(label, 0.0), timing.seconds * 1000)
    order = ["dns"] + [f"{p}_{phase}" for p in ("imap", "smtp") for phase in PHASES[1:]]
    out = {label: round(worst[label], 1) for label in order if label in worst}
    out["total"] = round(result.elapsed_ms, 1)
    return out


def certificate_expiry(result: AccountResult) -> list[CertificateExpiry]:
    """The leaf certificate's expiry per profile and protocol, where a handshake showed one."""
    if result.report is None:
        return []
    out: list[CertificateExpiry] = []
    seen: set[tuple[str, str]] = set()
    for profile_result in result.report.profiles:
        for step in profile_result.steps:
            if step.tls is None or not step.tls.not_after:
                continue
            key = (profile_result.profile, step.protocol)
            if key in seen:
                continue
            when = _timestamp(step.tls.not_after)
            if when is None:
                continue
            seen.add(key)
            out.append(
                CertificateExpiry(
                    profile_result.profile, step.protocol, str(step.data.get("host", "")), when
                )
            )
    return out


def _timestamp(iso: str) -> float | None:
    try:
        moment = datetime.datetime.fromisoformat(iso.replace("Z", "+00:00"))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.UTC)
    return moment.timestamp()
