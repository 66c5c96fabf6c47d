"""docs/diagnoses.md is generated from the catalogue and must not go stale."""

from __future__ import annotations

from pathlib import Path

from conntest.diagnosis import CATALOGUE, RETIREMENT_TIMELINE
from conntest.diagnosis.docs import REGENERATE, render_markdown

DOC = Path(__file__).resolve().parents[2] / "docs" / "diagnoses.md"


def test_document_is_up_to_date() -> None:
    assert DOC.is_file(), f"{DOC} is missing; generate it with: {REGENERATE}"
    assert DOC.read_text(encoding="utf-8") == render_markdown(), (
        f"{DOC.name} is stale; regenerate it with: {REGENERATE}"
    )


def test_document_covers_every_code_and_the_timeline() -> None:
    text = render_markdown()
    for code in CATALOGUE:
        assert f"## {code}\n" in text
    for item in RETIREMENT_TIMELINE:
        assert f"`{item.key}`" in text
