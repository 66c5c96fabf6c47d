"""The causal ranking contract, as a property over every lab scenario × profile.

For each scenario the three shipped profiles, and Thunderbird set to IMAP 143 with
STARTTLS (probed on the lab's port-143 listener), are checked against the lab (real
sockets, real TLS), then the context is perturbed and each profile's primary code
and exit code must not move:

* the names pinned with ``--resolve`` to the lab's loopback address (a real run,
  no DNS asked) — not for the DNS scenarios, whose point is what DNS answers;
* the names pinned to a private address, the chain issued by a private CA the
  user gave with ``--ca-file``, no ``--expected-network`` — on the recorded steps,
  re-diagnosed (the diagnosis is a pure function of the steps and the context,
  and these perturbations change nothing a probe sees except those facts);
* all of them at once.

An ``ok`` run stays exit 0 under every perturbation (the 143 profile: exit 1, the
documented-port warning and then ``ok``).
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from conntest.diagnosis import DiagnosisContext, diagnose
from conntest.engine import CheckRequest, run_check
from conntest.lab import Lab
from conntest.model import ProfileResult, Report, Status, Step, TLSInfo
from conntest.password import analyse_password
from conntest.probes.dns_probe import ResolverConfig
from conntest.profile import Profile
from conntest.profiles import builtin_dir, load_profiles
from tests.conftest import EXPECTED_PRIMARY

LAB_PASSWORD = "correcthorsebatt"
PROFILES = ("outlook-2016", "ios-mail", "thunderbird")
USER = "henry@contoso.com"
DNS_SCENARIOS = {"dns-nxdomain", "dns-hijack"}
PRIVATE_CA = "CN=Acme Test Root,O=Acme Test CA"
PRIVATE_ADDRESS = "10.20.30.40"
STARTTLS_143 = "tb-143"
"""Thunderbird with ``imap: {port: 143, security: starttls}``."""


@pytest.fixture(scope="module")
def profiles(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Profile]:
    """The shipped profiles, and the 143/STARTTLS one (a profile file, as a user writes it)."""
    text = builtin_dir().joinpath("thunderbird.yaml").read_text(encoding="utf-8")
    text = text.replace("id: thunderbird", f"id: {STARTTLS_143}")
    text = text.replace("  port: 993\n  security: tls", "  port: 143\n  security: starttls")
    path = tmp_path_factory.mktemp("profiles") / f"{STARTTLS_143}.yaml"
    path.write_text(text, encoding="utf-8")
    shipped = load_profiles()
    return {
        **{p: shipped.get(p) for p in PROFILES},
        STARTTLS_143: load_profiles([path]).get(STARTTLS_143),
    }


def _check(scenario: str, profiles: dict[str, Profile], *, pinned: bool) -> Report:
    async def go() -> Report:
        async with Lab(default_scenario=scenario) as lab:
            ends = lab.endpoints(scenario)
            pins = ((ends.imap[0], "127.0.0.1"), (ends.smtp[0], "127.0.0.1")) if pinned else ()
            return await run_check(
                CheckRequest(
                    user=USER,
                    password=LAB_PASSWORD,
                    profiles=list(profiles.values()),
                    imap_server=ends.imap,
                    imap_starttls_server=ends.imap_starttls,
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


def _rediagnosed(
    report: Report, profiles: dict[str, Profile], rewrite: Callable[[Step], Step], networks: bool
) -> list[Any]:
    context = DiagnosisContext(
        user=USER,
        password=analyse_password(LAB_PASSWORD),
        expected_networks=("127.0.0.1/32",) if networks else (),
    )
    results = []
    for result in report.profiles:
        steps = [rewrite(s) for s in result.steps]
        findings = diagnose(steps, profiles[result.profile], context)
        results.append((findings[0].code, max(f.severity for f in findings).exit_code, findings))
    return results


BEFORE_SIGN_IN = {"connect", "greeting", "starttls", "tls", "capability"}


def _expected(scenario: str, result: ProfileResult) -> str:
    """The primary code of ``result``: the scenario's, but for the 143 profile the
    documented port leads when IMAP worked (a warning) or failed before sign-in (the
    setting that made the connection fail)."""
    expected = EXPECTED_PRIMARY[scenario]
    if result.profile != STARTTLS_143:
        return expected
    failed = any(
        s.protocol == "imap" and s.status is Status.FAIL and s.name in BEFORE_SIGN_IN
        for s in result.steps
    )
    return "wrong-port" if expected == "ok" or failed else expected


WAITING = ("port-filtered", "silent-server")
"""Scenarios that can only end by the deadline (4 s), each in its own thread."""


@pytest.fixture(scope="module")
def baseline(profiles: dict[str, Profile]) -> dict[str, Report]:
    """Every scenario's report.  The two that wait out their deadline do so side by
    side with the others (each ``_check`` has its own event loop and lab), not one
    after another (8 s of the fixture's 12 were those two waits), with the same
    deadline and the same checks."""
    rest = [s for s in EXPECTED_PRIMARY if s not in WAITING]
    with ThreadPoolExecutor(len(WAITING) + 1) as pool:
        waiting = {s: pool.submit(_check, s, profiles, pinned=False) for s in WAITING}
        others = pool.submit(lambda: {s: _check(s, profiles, pinned=False) for s in rest})
        reports = {**others.result(), **{s: f.result() for s, f in waiting.items()}}
    return {scenario: reports[scenario] for scenario in EXPECTED_PRIMARY}


@pytest.mark.parametrize("scenario", list(EXPECTED_PRIMARY))
def test_primary_code_survives_every_perturbation(
    scenario: str, baseline: dict[str, Report], profiles: dict[str, Profile]
) -> None:
    report = baseline[scenario]
    for result in report.profiles:
        codes = [f.code for f in result.findings]
        assert codes[0] == _expected(scenario, result), (result.profile, codes)
        assert EXPECTED_PRIMARY[scenario] in codes, (result.profile, codes)
        # the first finding's severity is the verdict's
        assert result.severity.verdict == result.findings[0].severity.verdict
        if scenario == "ok":
            assert result.severity.exit_code == (1 if result.profile == STARTTLS_143 else 0)
    # probed as written: the plain-text greeting, then STARTTLS on the port-143 listener
    tb143 = next(r for r in report.profiles if r.profile == STARTTLS_143)
    imap = {s.name: s.status for s in tb143.steps if s.protocol == "imap"}
    order = [n for n in imap if n in ("connect", "greeting", "starttls", "tls")]
    assert order == ["connect", "greeting", "starttls", "tls"], (scenario, imap)
    if imap["greeting"] is Status.PASS and scenario != "connection-reset":
        assert imap["starttls"] is Status.PASS, (scenario, imap)  # the lab answers STARTTLS

    for name, (rewrite, networks) in PERTURBATIONS.items():
        if scenario in DNS_SCENARIOS and ("pinned" in name or name == "all at once"):
            continue  # pinning replaces the DNS answer these scenarios are about
        rediagnosed = _rediagnosed(report, profiles, rewrite, networks)
        for result, (code, code_exit, findings) in zip(report.profiles, rediagnosed, strict=True):
            why = (name, result.profile, [f.code for f in findings])
            assert code == result.findings[0].code, why
            assert code_exit == result.severity.exit_code, why


@pytest.mark.parametrize(
    "scenario", [s for s in EXPECTED_PRIMARY if s not in DNS_SCENARIOS], ids=str
)
def test_primary_code_is_the_same_with_names_pinned_to_loopback(
    scenario: str, baseline: dict[str, Report], profiles: dict[str, Profile]
) -> None:
    """A real run: --resolve to 127.0.0.1, no DNS, no --expected-network."""
    pinned = _check(scenario, profiles, pinned=True)
    assert pinned.severity.exit_code == baseline[scenario].severity.exit_code
    for result in pinned.profiles:
        codes = [f.code for f in result.findings]
        assert codes[0] == _expected(scenario, result), (result.profile, codes)
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
