"""Account classification without any credential: user realm and OpenID configuration.

What MSAL itself asks (oauth.md §3; ``msal/authority.py``, ``user_realm_discovery``):
``GET {authority}/common/userrealm/{address}?api-version=1.0`` answers
``account_type`` ``Managed``, ``Federated`` (with ``federation_protocol``;
``federation_active_auth_url``/``federation_metadata_url`` name the identity
provider) or ``Unknown``; ``GET {authority}/{domain}/v2.0/.well-known/openid-configuration``
gives the tenant id in ``issuer`` (an unknown domain answers ``AADSTS90002``).
No documented answer tells a personal Microsoft account apart: anything but
Managed or Federated is ``unknown`` here, and the diagnosis pairs it with the MX
answer.  Both requests go out together (one round trip, not two: the engine holds
the password back for this step, briefly).  Informational only: one step
``identity realm`` whose failure never decides a verdict.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any
from urllib.parse import quote, urlsplit

from conntest.model import FailureKind, Reply, Status, Step
from conntest.probes import tls as tlsmod
from conntest.probes.clock import RunClock, StepRecorder
from conntest.probes.dns_probe import ResolverConfig, resolve_host
from conntest.probes.identity_probe import HttpsAnswer, authority_endpoint, fetch
from conntest.probes.net import classify

KINDS = {"managed": "managed", "federated": "federated"}
"""``account_type`` (lower case) → the kind conntest reports; any other value: ``unknown``."""


def _json(body: bytes) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError:
        return {}
    return doc if isinstance(doc, dict) else {}


async def account_kind(
    clock: RunClock,
    user: str,
    authority: str,
    resolver: ResolverConfig,
    ca_file: Path | None = None,
) -> Step:
    """The ``identity realm`` step: ``data["kind"]`` managed, federated or unknown."""
    rec = StepRecorder(clock, "identity", "realm")
    domain = user.rpartition("@")[2].lower()
    rec.data["domain"] = domain
    host, _port, _ = authority_endpoint(authority, "common")
    dns_step = await resolve_host(clock, host, resolver)
    if dns_step.status is not Status.PASS:
        failure = dns_step.failure
        return rec.failed(
            failure.kind if failure else FailureKind.DNS_ERROR,
            failure.message if failure else f"{host} does not resolve",
        )
    address = dns_step.data["addresses"][0]
    context = tlsmod.client_context("1.2", "1.3", ca_file)
    base = authority.rstrip("/")
    budget = clock.budget("realm")
    realm_url = f"{base}/common/userrealm/{quote(user, safe='@')}?api-version=1.0"
    conf_url = f"{base}/{quote(domain)}/v2.0/.well-known/openid-configuration"
    rec.transcript.append(f"C: GET {realm_url}")
    rec.transcript.append(f"C: GET {conf_url}")

    async def get(url: str) -> HttpsAnswer:
        return await fetch(url, address, context, budget)

    try:
        answer, conf = await asyncio.gather(get(realm_url), get(conf_url))
        realm = _json(answer.body)
        rec.transcript.append(f"S: HTTP {answer.status} account_type={realm.get('account_type')}")
        rec.transcript.append(f"S: HTTP {conf.status}")
        account_type = str(realm.get("account_type", "")).lower()
        kind = KINDS.get(account_type, "unknown")
        rec.data["account_type"] = realm.get("account_type")
        rec.data["kind"] = kind
        if kind == "federated":
            idp = realm.get("federation_active_auth_url") or realm.get("federation_metadata_url")
            rec.data["idp_host"] = urlsplit(str(idp or "")).hostname or ""
            rec.data["federation_protocol"] = realm.get("federation_protocol")
        doc = _json(conf.body)
        issuer = doc.get("issuer")
        if kind in ("managed", "federated") and isinstance(issuer, str):
            rec.data["tenant_id"] = urlsplit(issuer).path.strip("/").split("/")[0]
        elif doc.get("error_codes"):
            rec.data["error_codes"] = list(doc["error_codes"])
    except Exception as exc:
        kind_, message, errno = classify(exc)
        return rec.failed(kind_, f"{host}: {message}", errno=errno)
    shown = rec.data["kind"] + (
        f", tenant {rec.data['tenant_id']}" if "tenant_id" in rec.data else ""
    )
    return rec.passed(Reply("OK", shown))
