"""The causal ranking contract, as a property over every lab scenario × profile.

For each scenario the three shipped profiles are checked against the lab (real
sockets, real TLS), then the context is perturbed and the primary code and exit
code must not move:

* the names pinned with ``--resolve`` to the lab's loopback address (a real run,
  no DNS asked) — not for the DNS scenarios, whose point is what DNS answers;
* the names pinned to a private address, the chain issued by a private CA the
  user gave with ``--ca-file``, no ``--expected-network`` — on the recorded steps,
  re-diagnosed (the diagnosis is a pure function of the steps and the context,
  and these perturbations change nothing a probe sees except those facts);
* all of them at once.

An ``ok`` run stays exit 0 under every perturbation.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from typing import Any

import pytest

from conntest.diagnosis import DiagnosisContext, diagnose
from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.model import Report, Step, TLSInfo
from conntest.password import analyse_password
from conntest.probes.dns_probe import ResolverConfig
from conntest.profiles import load_profiles
from tests.conftest import EXPECTED_PRIMARY

LAB_PASSWORD = "correcthorsebatt"
PROFILES = ("outlook-2016", "ios-mail", "thunderbird")
USER = "henry@contoso.com"
DNS_SCENARIOS = {"dns-nxdomain", "dns-hijack"}
PRIVATE_CA = "CN=Acme Test Root,O=Acme Test CA"
PRIVATE_ADDRESS = "10.20.30.40"


def _check(scenario: str, *, pinned: bool) -> Report:
    async def go() -> Report:
        async with Lab(default_scenario=scenario) as lab:
            ends = lab.endpoints(scenario)
            loaded = load_profiles()
            pins = ((ends.imap[0], "127.0.0.1"), (ends.smtp[0], "127.0.0.1")) if pinned else ()
            return await run_check(
                CheckRequest(
                    user=USER,
                    password=LAB_PASSWORD,
                    profiles=[loaded.get(p) for p in PROFILES],
                    imap_server=ends.imap,
                    smtp_server=ends.smtp,
                    resolver=ResolverConfig(nameserver=ends.nameserver, pinned=pins),
                    ca_file=lab.ca_file,
                    expected_networks=() if pinned else ends.expected_networks,
                    tls_max=ends.client_tls_max,
                    timeout=4,
                )
            )

    return asyncio.run(go())


def _pin_private(step: Step) -> Step:
    if step.protocol == "dns" and step.name == "resolve":
        data = {**step.data, "addresses": [PRIVATE_ADDRESS], "source": "--resolve"}
        return dataclasses.replace(step, data=data)
    if step.name in ("connect", "control") and "address" in step.data:
        return dataclasses.replace(step, data={**step.data, "address": PRIVATE_ADDRESS})
    return step


def _private_ca(step: Step) -> Step:
    """The chain the lab's public-looking CA signed, as if a private CA had (``--ca-file``)."""
    if step.tls is None or "DigiCert" not in (step.tls.issuer or ""):
        return step
    tls: TLSInfo = dataclasses.replace(step.tls, issuer=PRIVATE_CA)
    return dataclasses.replace(step, tls=tls, data={**step.data, "trust": "ca-file"})


Perturbation = tuple[Callable[[Step], Step], bool]
"""A rewrite of the recorded steps, and whether ``--expected-network`` is kept."""

PERTURBATIONS: dict[str, Perturbation] = {
    "no --expected-network": (lambda s: s, False),
    "pinned to a private address": (_pin_private, True),
    "private CA in --ca-file": (_private_ca, True),
    "all at once": (lambda s: _private_ca(_pin_private(s)), False),
}


def _rediagnosed(report: Report, rewrite: Callable[[Step], Step], networks: bool) -> list[Any]:
    loaded = load_profiles()
    context = DiagnosisContext(
        user=USER,
        password=analyse_password(LAB_PASSWORD),
        expected_networks=("127.0.0.1/32",) if networks else (),
    )
    results = []
    for result in report.profiles:
        steps = [rewrite(s) for s in result.steps]
        findings = diagnose(steps, loaded.get(result.profile), context)
        results.append((findings[0].code, max(f.severity for f in findings).exit_code, findings))
    return results


@pytest.fixture(scope="module")
def baseline() -> dict[str, Report]:
    return {scenario: _check(scenario, pinned=False) for scenario in EXPECTED_PRIMARY}


@pytest.mark.parametrize("scenario", list(EXPECTED_PRIMARY))
def test_primary_code_survives_every_perturbation(
    scenario: str, baseline: dict[str, Report]
) -> None:
    report = baseline[scenario]
    expected = EXPECTED_PRIMARY[scenario]
    exit_code = report.severity.exit_code
    for result in report.profiles:
        assert result.findings[0].code == expected, (result.profile, result.findings)
        # the first finding's severity is the verdict's
        assert result.severity.verdict == result.findings[0].severity.verdict
    if scenario == "ok":
        assert exit_code == 0

    for name, (rewrite, networks) in PERTURBATIONS.items():
        if scenario in DNS_SCENARIOS and ("pinned" in name or name == "all at once"):
            continue  # pinning replaces the DNS answer these scenarios are about
        for profile, (code, code_exit, findings) in zip(
            PROFILES, _rediagnosed(report, rewrite, networks), strict=True
        ):
            assert code == expected, (name, profile, [f.code for f in findings])
            assert code_exit == exit_code, (name, profile, [f.code for f in findings])


@pytest.mark.parametrize(
    "scenario", [s for s in EXPECTED_PRIMARY if s not in DNS_SCENARIOS], ids=str
)
def test_primary_code_is_the_same_with_names_pinned_to_loopback(
    scenario: str, baseline: dict[str, Report]
) -> None:
    """A real run: --resolve to 127.0.0.1, no DNS, no --expected-network."""
    pinned = _check(scenario, pinned=True)
    assert pinned.severity.exit_code == baseline[scenario].severity.exit_code
    for result in pinned.profiles:
        codes = [f.code for f in result.findings]
        assert codes[0] == EXPECTED_PRIMARY[scenario], (result.profile, codes)
        assert "dns-unexpected-address" not in codes
        assert "dns-pinned" in codes


def test_one_cause_one_finding_on_both_protocols(baseline: dict[str, Report]) -> None:
    """The interceptor seen on IMAP and SMTP is one finding, one evidence line per protocol."""
    for result in baseline["tls-intercepted"].profiles:
        intercepted = [f for f in result.findings if f.code == "tls-intercepted"]
        assert len(intercepted) == 1
        lines = intercepted[0].evidence.splitlines()
        assert [line.split(" ", 1)[0] for line in lines] == ["imap", "smtp"]
    for result in baseline["dns-hijack"].profiles:
        [hijack] = [f for f in result.findings if f.code == "dns-unexpected-address"]
        assert "outlook.office365.com and smtp.office365.com" in hijack.title
        assert len(hijack.evidence.splitlines()) == 2
