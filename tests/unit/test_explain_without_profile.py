"""``conntest explain`` without ``--profile`` words its advice for any client.

It builds no :class:`~conntest.profile.Profile` for that (issue 12: cold start,
the profile model is not imported): the generic words and Microsoft's documented
endpoints stand in.  Every entry and variant of the catalogue, for either
protocol or none, must read exactly as for a profile that says nothing more
than those generic words.
"""

from __future__ import annotations

import pytest

from conntest.diagnosis.catalogue import CATALOGUE, GENERIC_PLACES
from conntest.diagnosis.rules.candidate import Candidate, protocol_values
from conntest.diagnosis.templates import render_candidate
from conntest.profile import ImapSettings, OAuth2Support, Profile, SmtpSettings

GENERIC = Profile(
    id="generic",
    name=GENERIC_PLACES["client"],
    imap=ImapSettings(settings_path=GENERIC_PLACES["imap_settings"]),
    smtp=SmtpSettings(settings_path=GENERIC_PLACES["smtp_settings"]),
    oauth2=OAuth2Support(supported=False, how=""),
    password_path=GENERIC_PLACES["password_path"],
)
"""A client that says nothing beyond the generic words (Microsoft's endpoints, by default)."""

CASES = [
    (code, variant) for code, entry in CATALOGUE.items() for variant in (None, *entry.variants)
]


@pytest.mark.parametrize("protocol", [None, "imap", "smtp"])
@pytest.mark.parametrize(("code", "variant"), CASES, ids=str)
def test_no_profile_reads_as_a_client_with_microsofts_settings(
    code: str, variant: str | None, protocol: str | None
) -> None:
    def finding(profile: Profile | None) -> object:
        candidate = Candidate(code, variant, dict(protocol_values(protocol, profile)))
        candidate.protocol = protocol
        candidate.evidence = ["text (pasted): x"]
        return render_candidate(candidate, profile, "<user>", kind="unknown")

    assert finding(None) == finding(GENERIC)


def test_the_generic_client_is_told_microsofts_endpoints() -> None:
    values = protocol_values("smtp", None)
    assert (values["host"], values["port"], values["security"]) == (
        "smtp.office365.com",
        "587",
        "STARTTLS",
    )
    assert protocol_values("imap", None)["port"] == "993"
