"""The catalogue does not overlap: every known text is claimed by its own entry and no other.

The corpus is every example text the catalogue's patterns hold and every server
text in ``shared/o365/responses.yaml`` with an expected code.  Where two entries
must share words, a rule decides (a fallback pattern, :data:`OUTRANKS`), never
the order the entries are listed in: the test runs the classification with the
entries in reverse order too.
"""

from __future__ import annotations

from typing import Any

import pytest

from conntest.diagnosis import explain
from conntest.diagnosis.catalogue import CATALOGUE, OUTRANKS
from conntest.diagnosis.normalise import normalise
from conntest.diagnosis.rules import text as text_rules
from tests.unit.test_responses_yaml import ENTRIES, needs_file


def _catalogue_examples() -> list[tuple[str, str]]:
    return [
        (code, example)
        for code, entry in CATALOGUE.items()
        for pattern in entry.patterns
        for example in pattern.examples
    ]


CATALOGUE_EXAMPLES = _catalogue_examples()


def _yaml_examples() -> list[dict[str, Any]]:
    return [e for e in ENTRIES if e.get("expected_code") not in (None, "ok")]


def _claimants(text: str) -> set[str]:
    """The entries specificity leaves standing for ``text`` (before the longest-match rule)."""
    return {c.match.code for c in text_rules.specific(text_rules.all_matches(normalise(text)))}


def test_the_catalogue_holds_examples() -> None:
    assert len(CATALOGUE_EXAMPLES) >= 10
    # the rule the issue named: a Send As refusal sharing its code with throttling
    assert any("SendAsDenied" in text for _, text in CATALOGUE_EXAMPLES)


@pytest.mark.parametrize(("code", "text"), CATALOGUE_EXAMPLES)
def test_catalogue_example_is_claimed_by_its_own_entry_only(code: str, text: str) -> None:
    assert _claimants(text) == {code}
    assert explain(text).code == code


@needs_file
@pytest.mark.parametrize("entry", _yaml_examples(), ids=lambda e: str(e["id"]))
def test_responses_yaml_text_is_claimed_by_its_own_entry_only(entry: dict[str, Any]) -> None:
    assert _claimants(entry["server_text"]) == {entry["expected_code"]}


@needs_file
def test_normal_replies_match_no_entry() -> None:
    normal = [e for e in ENTRIES if e.get("expected_code") == "ok"]
    assert normal
    for entry in normal:
        assert text_rules.all_matches(normalise(entry["server_text"])) == [], entry["id"]


def test_shared_words_are_decided_by_rule_not_by_order(monkeypatch: pytest.MonkeyPatch) -> None:
    """Reverse the listing order: every example still goes to the same entry."""
    texts = [text for _, text in CATALOGUE_EXAMPLES]
    texts += [e["server_text"] for e in _yaml_examples()]
    before = [text_rules.match_text(t) for t in texts]
    monkeypatch.setattr(text_rules, "MATCH_ORDER", tuple(reversed(text_rules.MATCH_ORDER)))
    after = [text_rules.match_text(t) for t in texts]
    assert [m.code if m else None for m in after] == [m.code if m else None for m in before]


def test_every_rule_is_needed() -> None:
    """Each OUTRANKS pair settles at least one example that both entries claim."""
    texts = [text for _, text in CATALOGUE_EXAMPLES]
    texts += [e["server_text"] for e in _yaml_examples()]
    for winner, losers in OUTRANKS.items():
        for loser in losers:
            both = [
                t
                for t in texts
                if {winner, loser} <= {c.match.code for c in text_rules.all_matches(normalise(t))}
            ]
            assert both, (winner, loser)
