"""docs/migration.md is generated from the profiles, the timeline and the catalogue."""

from __future__ import annotations

from pathlib import Path

from conntest.migration import NO_OAUTH_ALTERNATIVES
from conntest.migration_docs import REGENERATE, render_markdown, shipped_profiles

DOC = Path(__file__).resolve().parents[2] / "docs" / "migration.md"


def test_document_is_up_to_date() -> None:
    assert DOC.is_file(), f"{DOC} is missing; generate it with: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        f"{DOC.name} is stale; regenerate it with: {REGENERATE}"
    )


def test_every_shipped_client_has_its_way_forward() -> None:
    text = render_markdown()
    profiles = shipped_profiles()
    assert {p.id for p in profiles} == {"ios-mail", "outlook-2016", "thunderbird"}
    for profile in profiles:
        assert f"### {profile.name} (`{profile.id}`)" in text
        assert profile.way_forward.summary, profile.id
        for step in profile.way_forward.steps:
            assert " ".join(step.split()) in text
    assert "14 October 2025" in text  # Outlook 2016's end of support
    assert "Exchange ActiveSync" in text  # iOS: what conntest does not probe
    assert "not verified, run with --oauth" in text  # Thunderbird's column until verified


def test_devices_without_oauth_get_every_alternative_with_its_limits() -> None:
    text = render_markdown()
    for name, _, limits in NO_OAUTH_ALTERNATIVES:
        assert f"| {name} |" in text
        assert limits.split(";")[0] in text
