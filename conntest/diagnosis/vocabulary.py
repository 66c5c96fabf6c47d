"""The words every diagnosis code is written in: client kinds, layers, patterns, entries.

Small on purpose: the code modules in :mod:`conntest.diagnosis.codes` and the rules
in :mod:`conntest.diagnosis.rules` share this vocabulary and nothing else; severity
itself is :class:`conntest.model.Severity` (the renderers read it too).
"""

from __future__ import annotations

from collections.abc import Mapping

from conntest.diagnosis.prefilter import compiled
from conntest.finding import Severity
from conntest.record import field, record

TYPE_CHECKING = False  # typing itself stays out of ``conntest explain`` (issue 12)
if TYPE_CHECKING:
    import re
    from typing import Literal

__all__ = [
    "LAYER_ORDER",
    "CatalogueEntry",
    "Pattern",
    "Severity",
    "Variant",
    "remedies",
]

if TYPE_CHECKING:  # annotations only: these need typing, which explain leaves out
    ClientKind = Literal["oauth2", "switch", "none", "unknown"]
    """How a client can reach modern authentication.

    ``oauth2``: it can sign in with OAuth2 for IMAP/SMTP (Thunderbird).
    ``switch``: not for IMAP/SMTP accounts, but the mailbox can be re-added as another
    account type that uses modern auth (Outlook 2016 → Microsoft 365 account; iOS
    Mail "Other" → "Microsoft Exchange").
    ``none``: no way at all (an old device): sending needs a relay or High Volume Email.
    ``unknown``: no profile (``conntest explain``).
    """

    Layer = Literal["local", "dns", "connect", "tls", "session", "auth", "mailbox", "result"]
    """Where in the chain a cause sits; earlier layers explain later failures."""

    Scope = Literal["both", "explain"]
    """``explain``: texts that appear after the steps conntest runs (MAIL FROM, DATA)."""


LAYER_ORDER: Mapping[Layer, int] = {
    "local": 0,
    "dns": 1,
    "connect": 2,
    "tls": 3,
    "session": 4,
    "auth": 5,
    "mailbox": 6,
    "result": 7,
}


@record(frozen=True)
class Pattern:
    """A regular expression over :attr:`NormalisedReply.key` that identifies a cause."""

    regex: str
    variant: str | None = None
    """Which :class:`Variant` of the entry the match selects."""
    enhanced: str | None = None
    """Require this enhanced status code; ``""`` requires that there is none."""
    status: str | None = None
    """Require this status (``"535"``, ``"NO"``)."""
    source: str = ""
    """Where the text was seen (documentation only)."""
    fallback: bool = False
    """Matches a family of replies (a 5.7.139 with an unknown sentence): any entry that
    names the sentence wins over it."""
    examples: tuple[str, ...] = ()
    """Texts the pattern is grounded in, verbatim from ``behaviour.md``, a library or a
    client (``responses.yaml`` texts are tested from that file).  The overlap test
    asserts each classifies as this entry and no other."""

    def compiled(self) -> re.Pattern[str]:
        """The regex, compiled on first use (:mod:`.prefilter` rules most texts out first)."""
        return compiled(self.regex)


@record(frozen=True)
class Variant:
    """A sharper wording of an entry for one situation; ``None`` fields fall back to the entry."""

    title: str | None = None
    detail: str | None = None
    remedy: Mapping[str, str] | None = None
    admin_action: str | None = None
    severity: Severity | None = None


@record(frozen=True)
class CatalogueEntry:
    """Everything conntest says about one diagnosis code."""

    code: str
    severity: Severity
    """Default severity; rules may raise or lower it (see ``variants``)."""
    layer: Layer
    title: str
    meaning: str
    """The plain-language detail (a template)."""
    evidence: str
    """What decides this code (for the documentation)."""
    remedy: Mapping[str, str]
    """Templates keyed by :data:`ClientKind`; ``"default"`` is required."""
    admin_action: str | None = None
    patterns: tuple[Pattern, ...] = ()
    variants: Mapping[str, Variant] = field(default_factory=dict)
    decisive: bool = True
    """False when the evidence does not name the cause (ranked after decisive findings)."""
    scope: Scope = "both"


def remedies(default: str, **kinds: str) -> Mapping[str, str]:
    """Remedy templates: ``default`` plus per-:data:`ClientKind` overrides."""
    return {"default": default, **kinds}
