"""Glue between ``conntest demo`` and the embedded lab.

The core must not import the lab; the TUI may.  :func:`open_lab` starts the
lab for one scenario and yields the request fields it implies, exactly as
``conntest check --lab SCENARIO`` does, so a demo run differs from a real one
only in where the servers are.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path

from conntest.probes.dns_probe import ResolverConfig
from conntest.tui.settings import LabFields

LabOpener = Callable[[str, str], AbstractAsyncContextManager[LabFields]]
"""Starts the lab for a scenario and a mailbox address; the runner's seam for tests."""

DEMO_USER = "adele.vance@contoso.com"
"""The address the demo fills in; the lab accepts any address."""


@dataclass(frozen=True)
class ScenarioChoice:
    """One entry of the demo's scenario picker."""

    name: str
    """The scenario's id, as ``conntest check --lab`` takes it."""
    summary: str
    """One sentence: what the scenario simulates."""
    oauth: bool = False
    """A modern-authentication scenario (``oauth-…``): meant for *Sign in with Microsoft*."""


NOT_IN_DEMO = frozenset({"oauth-reauth-required"})
"""Scenarios a demo run cannot show: an expired refresh token needs a sign-in saved by
an earlier run, and every demo run starts a fresh lab."""


def scenario_choices() -> list[ScenarioChoice]:
    """The lab's scenarios, in its own order (``ok`` first, the OAuth ones last)."""
    from conntest.lab import SCENARIOS
    from conntest.lab.scenarios import OAUTH_SCENARIOS

    return [
        ScenarioChoice(name, s.summary, oauth=name in OAUTH_SCENARIOS)
        for name, s in SCENARIOS.items()
        if name not in NOT_IN_DEMO
    ]


def lab_password() -> str:
    """The password the lab accepts (the demo prefills it; it is not a secret)."""
    from conntest.lab import LAB_PASSWORD

    return str(LAB_PASSWORD)


@contextlib.asynccontextmanager
async def open_lab(scenario: str, user: str) -> AsyncIterator[LabFields]:
    """Run the lab for ``scenario`` while the block runs; yield where its servers are.

    The lab's identity platform signs in as ``user`` (a device code names no
    user), as ``check --lab`` does with ``--user``; its tokens go to a cache
    that is deleted with the lab.
    """
    from conntest.lab import Lab

    with tempfile.TemporaryDirectory(prefix="conntest-demo-oauth-") as cache_dir:
        async with Lab(default_scenario=scenario, identity_user=user) as lab:
            ends = lab.endpoints(scenario)
            yield LabFields(
                imap_server=ends.imap,
                smtp_server=ends.smtp,
                resolver=ResolverConfig(nameserver=ends.nameserver),
                ca_file=lab.ca_file,
                tls_max=ends.client_tls_max,
                expected_networks=tuple(ends.expected_networks),
                authority=ends.authority_host,
                oauth_cache=Path(cache_dir) / "cache.json",
            )
