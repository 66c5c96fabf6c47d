"""The embedded lab of ``check --lab SCENARIO``: started around a run, its fields handed back.

The one module outside the front ends that may start :mod:`conntest.lab`, and
only when ``--lab`` asks for it: the import is inside :func:`lab_fields`, so a
run without ``--lab`` never loads the lab (``tests/unit/test_import_hygiene.py``).
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import AsyncIterator

from conntest.errors import UsageError

__all__ = ["lab_fields"]


@contextlib.asynccontextmanager
async def lab_fields(args: argparse.Namespace) -> AsyncIterator[dict[str, object]]:
    """Start the lab for ``args.lab`` and yield the request fields it implies.

    Yields ``{}`` without ``--lab``.  The person's own options (``--imap``,
    ``--ca-file``, …) win over the lab's.
    """
    scenario = getattr(args, "lab", None)
    if not scenario:
        yield {}
        return
    from conntest.lab import SCENARIOS, Lab
    from conntest.probes.dns_probe import ResolverConfig

    if scenario not in SCENARIOS:
        raise UsageError(f"--lab: unknown lab scenario {scenario!r}; known: {', '.join(SCENARIOS)}")
    async with Lab(default_scenario=scenario, identity_user=getattr(args, "user", None)) as lab:
        ends = lab.endpoints(scenario)
        args.lab_authority = ends.authority_host  # the identity platform, for --oauth
        yield {
            "imap_server": args.imap or ends.imap,
            # a profile with imap.security: starttls meets the lab's port-143 listener
            "imap_starttls_server": None if args.imap else ends.imap_starttls,
            "smtp_server": args.smtp or ends.smtp,
            # the lab's listeners play the profile's servers: findings name the profile's ports
            "stand_ins": frozenset(
                protocol for protocol in ("imap", "smtp") if getattr(args, protocol) is None
            ),
            "resolver": ResolverConfig(
                nameserver=args.nameserver or ends.nameserver, pinned=tuple(args.resolve)
            ),
            "ca_file": args.ca_file or lab.ca_file,
            "tls_max": args.tls_max or ends.client_tls_max,
            "expected_networks": tuple(args.expected_network) or tuple(ends.expected_networks),
        }
