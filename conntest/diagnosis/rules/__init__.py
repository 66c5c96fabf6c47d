"""Small rule functions: observed steps in, candidate findings out.

Each rule looks at one kind of fact — a failed step (:mod:`.failed`), the DNS
answers, the TLS certificate, the advertised capabilities and the settings
(:mod:`.context`), the two sign-in results together and the password's shape
(:mod:`.signin`) — and proposes :class:`Candidate` findings naming a catalogue
code, a variant, the values for its templates and the evidence.  They are pure
functions of the steps, the profile and the context; the wording lives in
:mod:`conntest.diagnosis.catalogue`, the ordering and rendering in
:mod:`conntest.diagnosis`.
"""

from __future__ import annotations

from conntest.diagnosis.rules.context import capability_rule, dns_rule, settings_rule, tls_rule
from conntest.diagnosis.rules.failed import backoff_text, classify_failed_step, issuer_name
from conntest.diagnosis.rules.observed import (
    AUTH_STEPS,
    Candidate,
    Observed,
    display,
    evidence,
    protocol_values,
)
from conntest.diagnosis.rules.signin import (
    credentials_verdict,
    cross_protocol,
    password_rule,
    username_rule,
)
from conntest.diagnosis.rules.text import (
    TextMatch,
    is_success,
    looks_like_auth,
    match_normalised,
    match_text,
)

__all__ = [
    "AUTH_STEPS",
    "Candidate",
    "Observed",
    "TextMatch",
    "backoff_text",
    "capability_rule",
    "classify_failed_step",
    "credentials_verdict",
    "cross_protocol",
    "display",
    "dns_rule",
    "evidence",
    "is_success",
    "issuer_name",
    "looks_like_auth",
    "match_normalised",
    "match_text",
    "password_rule",
    "protocol_values",
    "settings_rule",
    "tls_rule",
    "username_rule",
]
