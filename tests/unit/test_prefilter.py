"""The regex prefilter never rules out a text its pattern matches (issue 12: cold start).

:mod:`conntest.diagnosis.prefilter` reads a pattern's source for literals every
match must contain, and :func:`~conntest.diagnosis.rules.text.all_matches` then
compiles only the patterns a text can match.  The proof here does not trust that
reading: it derives, from Python's own regular-expression parser, the runs of
literal characters each way through a pattern requires, and asserts that for
every way some literal of the prefilter lies inside one of its runs, for every
pattern conntest filters (the catalogue's, the success replies', normalise's).
Then, over the catalogue's example texts, ``responses.yaml`` and variations of
them, the prefiltered matcher names the same entries as compiling every pattern.
"""

from __future__ import annotations

import re
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser  # type: ignore[attr-defined]
from typing import Any

import pytest

from conntest.diagnosis import normalise as normalise_module
from conntest.diagnosis.catalogue import CATALOGUE, MATCH_ORDER, SUCCESS_PATTERNS
from conntest.diagnosis.normalise import NormalisedReply, normalise
from conntest.diagnosis.prefilter import may_match, required_literals
from conntest.diagnosis.rules import text as text_rules
from tests.unit.test_responses_yaml import ENTRIES


def _normalise_patterns() -> list[tuple[str, int]]:
    found = [(p, re.IGNORECASE) for p in normalise_module._PREFIXES]
    for name, value in vars(normalise_module).items():
        if name.isupper() and name != "_PREFIXES" and isinstance(value, tuple):
            regex, flags = value
            found.append((regex, flags))
    return found


FILTERED: list[tuple[str, int]] = [
    *((p.regex, 0) for entry in CATALOGUE.values() for p in entry.patterns),
    *((p, 0) for p in SUCCESS_PATTERNS),
    (text_rules._AUTH_WORDS, 0),
    *_normalise_patterns(),
]
"""Every pattern conntest compiles only when :func:`may_match` lets a text through."""

_CAP = 4096
"""Ways through a pattern followed before a character set ends the run instead."""


def _ways(items: Any, ways: list[tuple[tuple[str, ...], str]]) -> list[tuple[tuple[str, ...], str]]:
    """Each way through ``items``: the runs closed so far and the one still open."""
    for op, av in items:
        if op is sre.LITERAL:
            ways = [(closed, run + chr(av)) for closed, run in ways]
        elif op is sre.IN and all(o is sre.LITERAL for o, _ in av) and len(ways) * len(av) <= _CAP:
            ways = [(closed, run + chr(c)) for closed, run in ways for _, c in av]
        elif op is sre.BRANCH and len(ways) * len(av[1]) <= _CAP:
            ways = [way for branch in av[1] for way in _ways(branch, ways)]
        elif (
            op in (sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT)
            and av[0] >= 1
            and [o for o, _ in av[2]] == [sre.LITERAL]
        ):
            char = chr(av[2][0][1])
            ways = [((*closed, run + char), "") for closed, run in ways]
        else:  # anything else may match nothing or vary: the run ends here
            ways = [((*closed, run), "") for closed, run in ways]
    return ways


def required_runs(regex: str, flags: int = 0) -> list[tuple[str, ...]]:
    """The literal runs of each way through ``regex``, as Python's parser reads it."""
    parsed = _parser.parse(regex, flags)
    return [tuple(r for r in (*closed, run) if r) for closed, run in _ways(parsed, [((), "")])]


def _proven(regex: str, flags: int, literals: tuple[str, ...]) -> bool:
    """Whether every way through ``regex`` holds one of ``literals`` in a required run."""
    return all(
        any(literal in run for literal in literals for run in runs)
        for runs in required_runs(regex, flags)
    )


@pytest.mark.parametrize(("regex", "flags"), FILTERED, ids=lambda v: str(v)[:50])
def test_every_way_through_the_pattern_contains_a_prefilter_literal(regex: str, flags: int) -> None:
    literals = required_literals(regex)
    if literals is None:
        return  # always tried: nothing to prove
    assert not _parser.parse(regex, flags).state.flags & re.VERBOSE
    assert _proven(regex, flags, literals), (literals, required_runs(regex, flags))


def test_the_proof_rejects_a_literal_a_match_can_lack() -> None:
    assert _proven(r"ab?c|d", 0, ("a", "d"))
    assert not _proven(r"ab?c|d", 0, ("abc", "d"))  # "ac" matches
    assert not _proven(r"ab?c|d", 0, ("a",))  # "d" matches
    assert not _proven(r"\x41bc", 0, ("41",))  # the escape is "A"
    assert not _proven(r"(?:ab|cd)e", 0, ("abe",))  # "cde" matches


def test_the_catalogue_patterns_are_all_filtered() -> None:
    """The prefilter reads every catalogue pattern (else it saves nothing there)."""
    assert all(required_literals(p.regex) for e in CATALOGUE.values() for p in e.patterns)
    assert len(_normalise_patterns()) >= 25  # the proof above does see normalise's patterns


def test_what_the_reading_does_not_follow_is_always_tried() -> None:
    for regex in (r"(?i)basic", r"a{,x}b", r"(?#c)x", r"\d+", r"x|\s", "(unbalanced", "a)"):
        assert required_literals(regex) is None, regex
        assert may_match(regex, "")
    # escapes that spell one character (or refer back) are not read: the pattern is tried
    for regex in (r"\x41bc", r"\u00e9t\u00e9", r"(a)\1bc", r"\N{DIGIT ONE}23", r"\101bc"):
        assert required_literals(regex) is None, regex
        assert may_match(regex, "")
    assert required_literals(r"ab?c|de+f") == ("a", "de")


def test_ascii_case_folding_is_what_ignorecase_does_between_ascii_characters() -> None:
    """The rule :func:`may_match` relies on for ``re.IGNORECASE``, checked exhaustively."""
    for p in map(chr, range(128)):
        pattern = re.compile(re.escape(p), re.IGNORECASE)
        for c in map(chr, range(128)):
            assert bool(pattern.fullmatch(c)) == (c.lower() == p.lower()), (p, c)


def test_case_folding_is_trusted_for_ascii_texts_only() -> None:
    # Python's IGNORECASE matches the Kelvin sign with "k": a non-ASCII text is always tried.
    assert re.search("ok", "O\u212a", re.IGNORECASE)
    assert may_match("ok", "O\u212a", ignorecase=True)
    assert may_match("ok", "BYE OK", ignorecase=True)
    assert not may_match("ok", "BYE", ignorecase=True)
    assert not may_match("ok", "OK")  # case-sensitive without the flag, as re is


def _corpus() -> list[str]:
    texts = [example for e in CATALOGUE.values() for p in e.patterns for example in p.examples]
    texts += [str(e["server_text"]) for e in ENTRIES if e.get("server_text")]
    varied = []
    for text in texts:
        varied += [
            text.upper(),
            "Error: " + text,
            "javax.mail.AuthenticationFailedException: " + text,
            f"(535, b'{text}')",
            "  " + text.replace(" ", "\n ") + "\t",
            text[: len(text) // 2],
            text + " \u00fc\u212a",
        ]
    return texts + varied


CORPUS = _corpus()


def _every_pattern_compiled(reply: NormalisedReply) -> list[tuple[str, str | None, bool, int]]:
    """:func:`all_matches` without the prefilter: every pattern compiled and tried."""
    found = []
    for code in MATCH_ORDER:
        for pattern in CATALOGUE[code].patterns:
            if pattern.enhanced is not None and (reply.enhanced or "") != pattern.enhanced:
                continue
            if pattern.status is not None and reply.status != pattern.status:
                continue
            regex = re.compile(pattern.regex)
            match = regex.search(reply.key) or regex.search(reply.text)
            if match is None:
                continue
            captured = {k: v for k, v in match.groupdict().items() if v is not None}
            variant = captured.pop("variant", None) or pattern.variant
            found.append((code, variant, pattern.fallback, match.end() - match.start()))
            break
    return found


def test_the_prefiltered_matcher_names_what_compiling_every_pattern_names() -> None:
    assert len(CORPUS) > 500
    matched = 0
    for text in CORPUS:
        reply = normalise(text)
        contenders = text_rules.all_matches(reply)
        got = [(c.match.code, c.match.variant, c.fallback, c.span) for c in contenders]
        assert got == _every_pattern_compiled(reply), text
        matched += bool(got)
    assert matched > 200  # the corpus does reach the entries


def test_no_filtered_pattern_matches_a_text_the_prefilter_rules_out() -> None:
    texts = CORPUS + [normalise(t).key for t in CORPUS]
    for regex, flags in FILTERED:
        pattern = re.compile(regex, flags)
        ignorecase = bool(flags & re.IGNORECASE)
        for text in texts:
            if pattern.search(text):
                assert may_match(regex, text, ignorecase), (regex, text)
