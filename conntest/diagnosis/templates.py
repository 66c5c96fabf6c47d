"""Catalogue templates filled into findings: the wording shared by ``diagnose`` and ``explain``.

A rule proposes a :class:`~conntest.diagnosis.rules.candidate.Candidate` (a code,
a variant, values); :func:`render_candidate` picks the entry's or the variant's
texts, fills them from the profile and the candidate's values and returns the
:class:`~conntest.finding.Finding`.  A placeholder no rule filled gets a neutral
word (:data:`DEFAULT_VALUES`), an unknown one ``?``: a broken template never
crashes a report.  A few phrases are derived from the values at hand
(:data:`DERIVED`), so that a template reads whole without a port or a profile
(``conntest explain`` has neither for a pasted ``Connection refused``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from conntest.diagnosis.catalogue import (
    CATALOGUE,
    EXPECTED_ENDPOINTS,
    GENERIC_PLACES,
    MICROSOFT_HOSTS,
    MODERN_AUTH,
    OAUTH2_HOW_FALLBACK,
    TIMELINE_CITES,
)
from conntest.diagnosis.codes.retirement import DEFAULT_VALUES as RETIREMENT_DEFAULTS
from conntest.diagnosis.prefilter import compiled
from conntest.finding import Finding
from conntest.printable import host_port

TYPE_CHECKING = False  # typing itself stays out of ``conntest explain`` (issue 12)
if TYPE_CHECKING:
    from typing import Any

    from conntest.diagnosis.rules.candidate import Candidate
    from conntest.diagnosis.vocabulary import ClientKind
    from conntest.profile import Profile

__all__ = [
    "DEFAULT_VALUES",
    "base_values",
    "capitalised",
    "client_kind",
    "fill",
    "render_candidate",
]


def client_kind(profile: Profile | None) -> ClientKind:
    """How this client reaches modern authentication (selects remedy templates)."""
    if profile is None:
        return "unknown"
    if profile.oauth2.supported:
        return "oauth2"
    return "switch" if profile.oauth2.how.strip() else "none"


DEFAULT_VALUES: Mapping[str, str] = {
    "summary": "the checks passed",
    "shape": "spaces or invisible characters",
    "length": "?",
    "problem": "it is not a full address",
    "sentence": "(no text)",
    "decide": "",
    "scope_word": "organisation or mailbox",
    "backoff_text": "a few minutes",
    "after_version": "",
    "tls_max": "1.3",
    "version": "an old TLS version",
    "issuer": "unknown",
    "issuer_name": "an unknown certificate authority",
    "host": "the server",
    "port": "?",  # templates that may lack a port say {on_port}, {at_port} or {tcp_port}
    "verify": "verification failed",
    "verify_code": "unknown",
    "not_after": "unknown",
    "sans": "another name",
    "message": "no details",
    "security": "this encryption",
    "how": "it was missing",
    "cut": "cut",
    "phase": "the exchange",
    "addresses": "?",
    "why": "not a public address",
    "domain": "the domain",
    "exchanges": "none",
    "where": "",
    "offered": "nothing",
    "mechanism": "its method",
    "protocol_name": "the server",
    "imap_sentence": "LOGIN failed.",
    "expected_host": "outlook.office365.com (IMAP) or smtp.office365.com (SMTP)",
    "expected_port": "993 (IMAP) or 587 (SMTP)",
    "expected_security": "SSL/TLS (IMAP) or STARTTLS (SMTP)",
    "smtp_said": "it gave no verdict",
    "aadsts": "no code",
    "tenant_id": "unknown",
    "idp_host": "its identity provider",
    "login_command": "conntest oauth login",
    "tenant": "organizations",
    "fix": "check the settings below",
    "standard": "",
    **RETIREMENT_DEFAULTS,
}
"""Neutral words for rule-specific placeholders a rule did not fill."""

_TEMPLATE_VALUES = ("decide", "settings")
"""Values that are themselves templates (they may cite the timeline or the profile)."""


def _known_port(values: Mapping[str, object]) -> str:
    port = str(values.get("port") or "")
    return "" if port == DEFAULT_VALUES["port"] else port


def _tcp_port(values: Mapping[str, object]) -> str:
    if port := _known_port(values):
        return f"TCP {port}"
    if "imap_port" in values and "smtp_port" in values:
        return f"TCP {values['imap_port']} (IMAP) and {values['smtp_port']} (SMTP)"
    return "the mail ports"


def _sentence_client(values: Mapping[str, object]) -> str:
    client = str(values.get("client") or GENERIC_PLACES["client"])
    return client[:1].upper() + client[1:] if client == GENERIC_PLACES["client"] else client


DERIVED: Mapping[str, Callable[[Mapping[str, object]], str]] = {
    "on_port": lambda v: f" on port {p}" if (p := _known_port(v)) else "",
    "at_port": lambda v: f":{p}" if (p := _known_port(v)) else "",
    "endpoint": lambda v: (
        host_port(str(v.get("host", "")), p) if (p := _known_port(v)) else str(v.get("host", ""))
    ),
    "tcp_port": _tcp_port,
    "valid_until": lambda v: (
        f" (valid until {v['not_after']})"
        if v.get("not_after") not in (None, "", DEFAULT_VALUES["not_after"])
        else ""
    ),
    "Client": _sentence_client,
}
"""Phrases derived from other values where a template needs them: ``{host}{on_port}``
reads "outlook.office365.com on port 993", or "the server" when no port is known;
``{endpoint}`` is host and port joined (``[::1]:993``), the host alone without a port;
``{Client}`` starts a sentence ("Your mail client …"; a client's own name stays as
it is written).  :func:`fill` writes ``{Client}`` for a ``{client}`` that starts a
sentence, so templates need not."""


class _Values(dict[str, object]):
    def __missing__(self, key: str) -> str:
        derive = DERIVED.get(key)
        return derive(self) if derive is not None else "?"


def fill(template: str, values: Mapping[str, Any]) -> str:
    if "{client}" in template:
        template = compiled(_CLIENT_STARTS_SENTENCE).sub(r"\1{Client}", template)
    try:
        return template.format_map(_Values(values))
    except (
        KeyError,
        IndexError,
        ValueError,
        AttributeError,
    ):  # a broken template must not crash a report
        return template


def _place(path: str, generic: str) -> str:
    return path.strip().rstrip(".") or GENERIC_PLACES[generic]


def base_values(profile: Profile | None, user: str, kind: ClientKind) -> dict[str, Any]:
    """Values every template may use, from the profile.

    Without one (``conntest explain`` names no client): the generic words of
    :data:`GENERIC_PLACES` and Microsoft's documented endpoints, as for a profile
    that says nothing more.
    """
    if profile is None:
        client, how, tls_max = GENERIC_PLACES["client"], "", DEFAULT_VALUES["tls_max"]
        imap_path, smtp_path = GENERIC_PLACES["imap_settings"], GENERIC_PLACES["smtp_settings"]
        password_path = GENERIC_PLACES["password_path"]
        imap_host, imap_port = MICROSOFT_HOSTS["imap"], EXPECTED_ENDPOINTS["imap"][0][0]
        smtp_host, smtp_port = MICROSOFT_HOSTS["smtp"], EXPECTED_ENDPOINTS["smtp"][0][0]
    else:
        client, how, tls_max = profile.name, profile.oauth2.how, profile.tls.max
        imap_path, smtp_path = profile.imap.settings_path, profile.smtp.settings_path
        password_path = profile.password_path
        imap_host, imap_port = profile.imap.host, profile.imap.port
        smtp_host, smtp_port = profile.smtp.host, profile.smtp.port
    values: dict[str, Any] = {
        "client": client or GENERIC_PLACES["client"],
        "user": user,
        # Templates add their own full stop after a place.
        "imap_settings": _place(imap_path, "imap_settings"),
        "smtp_settings": _place(smtp_path, "smtp_settings"),
        "password_path": _place(password_path, "password_path"),
        "oauth2_how": how.strip().rstrip(".") or OAUTH2_HOW_FALLBACK,
        "imap_host": imap_host,
        "imap_port": str(imap_port),
        "smtp_host": smtp_host,
        "smtp_port": str(smtp_port),
        "imap_endpoint": host_port(imap_host, imap_port),
        "smtp_endpoint": host_port(smtp_host, smtp_port),
        "tls_max": tls_max,
        "timeline": TIMELINE_CITES,
        "settings": "the server settings",
    }
    values["modern_auth"] = fill(MODERN_AUTH[kind], values)
    return values


def render_candidate(
    candidate: Candidate, profile: Profile | None, user: str, kind: ClientKind | None = None
) -> Finding:
    """The finding ``candidate`` proposes, worded for ``profile``'s client (or any client)."""
    entry = CATALOGUE[candidate.code]
    variant = entry.variants.get(candidate.variant) if candidate.variant else None
    kind = kind or client_kind(profile)
    values: dict[str, Any] = {**DEFAULT_VALUES, **base_values(profile, user, kind)}
    if candidate.protocol in ("imap", "smtp"):
        values["settings"] = values[f"{candidate.protocol}_settings"]
    values.update(candidate.values)
    for name in _TEMPLATE_VALUES:
        values[name] = fill(str(values[name]), values)

    severity = candidate.severity
    if severity is None:
        severity = (
            variant.severity
            if variant is not None and variant.severity is not None
            else entry.severity
        )
    template = (variant.title if variant and variant.title else None) or entry.title
    title = capitalised(fill(template, values), template, values)
    detail = fill((variant.detail if variant and variant.detail else None) or entry.meaning, values)
    extra = " ".join(fill(sentence, values) for sentence in candidate.extra)
    remedies = (variant.remedy if variant and variant.remedy else None) or entry.remedy
    remedy = fill(remedies.get(kind) or remedies["default"], values)
    admin = (
        variant.admin_action if variant and variant.admin_action else None
    ) or entry.admin_action
    return Finding(
        code=entry.code,
        severity=severity,
        title=title,
        detail=" ".join(part for part in (detail, extra) if part).strip(),
        remedy=remedy,
        evidence="\n".join(candidate.evidence) or "(no step)",
        admin_action=fill(admin, values) if admin else None,
        protocol=candidate.protocol,
    )


def capitalised(title: str, template: str, values: Mapping[str, Any]) -> str:
    """``title`` (``template`` filled from ``values``) with its first letter capitalised,
    unless the template starts with a placeholder whose value is a name written its own
    way: a host (``localhost``, ``mail``, ``outlook.office365.com``), a user, an address,
    a domain or a client (``iOS Mail``); nor conntest's own name.  A neutral word filled
    in for a missing value (``the server``) is capitalised like any sentence."""
    lead = compiled(_LEADING_PLACEHOLDER).match(template)
    if lead is not None and values.get(lead.group(1)) != DEFAULT_VALUES.get(lead.group(1)):
        return title
    if template.startswith("conntest "):  # its own name, written in lower case everywhere
        return title
    return title[:1].upper() + title[1:]


_LEADING_PLACEHOLDER = r"\{(\w+)\}"
_CLIENT_STARTS_SENTENCE = r"(^|[.!?]\s+)\{client\}"
