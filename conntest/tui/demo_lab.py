"""Glue between ``conntest demo`` and the embedded lab.

The core must not import the lab; the TUI may.  :func:`open_lab` starts the
lab for one scenario and yields the request fields it implies, exactly as
``conntest check --lab SCENARIO`` does, so a demo run differs from a real one
only in where the servers are.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from conntest.probes.dns_probe import ResolverConfig
from conntest.tui.settings import LabFields

LabOpener = Callable[[str], AbstractAsyncContextManager[LabFields]]
"""Starts the lab for a scenario; the runner's seam for tests."""

DEMO_USER = "adele.vance@contoso.com"
"""The address the demo fills in; the lab accepts any address."""


@dataclass(frozen=True)
class ScenarioChoice:
    """One entry of the demo's scenario picker."""

    name: str
    """The scenario's id, as ``conntest check --lab`` takes it."""
    summary: str
    """One sentence: what the scenario simulates."""


def scenario_choices() -> list[ScenarioChoice]:
    """Every lab scenario, in the lab's own order (``ok`` first)."""
    from conntest.lab import SCENARIOS

    return [ScenarioChoice(name, s.summary) for name, s in SCENARIOS.items()]


def lab_password() -> str:
    """The password the lab accepts (the demo prefills it; it is not a secret)."""
    from conntest.lab import LAB_PASSWORD

    return str(LAB_PASSWORD)


@contextlib.asynccontextmanager
async def open_lab(scenario: str) -> AsyncIterator[LabFields]:
    """Run the lab for ``scenario`` while the block runs; yield where its servers are."""
    from conntest.lab import Lab

    async with Lab(default_scenario=scenario) as lab:
        ends = lab.endpoints(scenario)
        yield LabFields(
            imap_server=ends.imap,
            smtp_server=ends.smtp,
            resolver=ResolverConfig(nameserver=ends.nameserver),
            ca_file=lab.ca_file,
            tls_max=ends.client_tls_max,
            expected_networks=tuple(ends.expected_networks),
        )
