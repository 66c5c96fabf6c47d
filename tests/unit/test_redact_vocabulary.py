"""The safety net keeps conntest's own words and nothing else; the source pass keeps nothing.

:meth:`Redactor.output` (the pass over a finished report and its rendered text)
keeps an occurrence of a secret form only inside one whole word of conntest's
vocabulary.  The properties: every library spelling of any password, in a word
that is not conntest's, is still redacted by it; a vocabulary word as password
leaves conntest's structural lines byte for byte; and the strict pass (what the
engine applies to replies and transcripts) still removes that same word.
"""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conntest.redact import REDACTED, Redactor, _vocabularies, is_own_word, vocabulary
from tests.unit.test_redact import ENCODINGS, USER, context, encode, passwords, spelling_in_context

# Words of conntest's structure and catalogue a field tester found blanked, and more.
OWN_WORDS = ["login", "code", "smtp", "imap", "auth", "tls", "dns", "mailbox", "status"]
OWN_WORDS += ["severity", "critical", "fail", "wrong", "rejected", "protocol", "steps", "total"]

STRUCTURAL_LINES = [
    "CONNTEST CRITICAL - you@contoso.com: login-rejected (the server refused the password)"
    " | dns=44.6ms;;;0 imap_connect=2.5ms;;;0 imap_tls=44.2ms;;;0 imap_auth=9.1ms;;;0"
    " smtp_auth=4.6ms;;;0 total=261.6ms;;;0",
    '{"code": "wrong-credentials", "severity": "critical", "status": "fail", "protocol": "imap"'
    ', "steps": []}',
    'conntest_step_duration_seconds{account="you@contoso.com",profile="thunderbird",protocol="smtp",'
    'step="auth",status="fail"} 0',
    '<failure type="wrong-credentials" message="wrong-credentials: Microsoft says the user name'
    ' or password is wrong">',
    "  FAIL imap     login            14.8 ms  the mailbox is ok; tls and dns checked",
    "Run again with --password-file or --password-stdin; see --format and --output.",
]


def test_the_vocabulary_is_conntests_own_text() -> None:
    words = vocabulary()
    for word in [*OWN_WORDS, "login-rejected", "wrong-credentials", "conntest_up"]:
        assert word in words, word
    assert "CRITICAL" in words and "Critical" in words  # as the renderers spell it
    assert is_own_word("imap_auth-stripped")  # put together from own words in an f-string
    # An address, a path, a URL, a random token are not: a secret in them is caught.
    for word in ["you@contoso.com", "/home/u/login.yaml", "Zq9login", "xk3Jq8s2"]:
        assert not is_own_word(word), word
    # The lab speaks as a server: its package is not conntest's vocabulary.
    assert "BINARYMIME" not in words


@pytest.mark.parametrize("pw", OWN_WORDS)
def test_a_vocabulary_password_leaves_conntests_lines_alone_and_strict_still_redacts(
    pw: str,
) -> None:
    redact = Redactor.for_credentials(USER, pw)
    touched = 0
    for line in STRUCTURAL_LINES:
        assert redact.output(line) == line, line
        touched += redact(line) != line
    assert touched, "the strict pass must have found the word in these lines"
    # A server's echo, at the source: gone.
    for echo in [f"S: A1 NO you sent {pw}", f'S: A1 NO LOGIN {USER} "{pw}"', f"535 {pw}!"]:
        assert pw not in redact(echo).replace(REDACTED, ""), echo
    # In a word that is not conntest's (a path, an address, a glued token): caught by the net.
    for text in [f"/home/{pw}/x.yaml", f"{pw}@contoso.com", f"said Zq9{pw}9qZ"]:
        assert REDACTED in redact.output(text), text


def test_a_passphrase_of_common_words_joined_by_dashes_is_not_taken_for_conntests() -> None:
    # Only one-word literals (names: "auth", "-stripped") are joined, never words of prose.
    pw = "correct-horse-battery-staple"
    redact = Redactor.for_credentials(USER, pw)
    for text in [pw, f"error: {pw!r}", f"b'{pw}'", f"said {pw}."]:
        assert pw not in redact.output(text), text


def test_a_form_reaching_past_a_word_of_conntests_is_redacted() -> None:
    # The password holds a code and more: the occurrence is longer than the word.
    redact = Redactor.for_credentials(USER, "login-rejected now")
    assert redact.output("code login-rejected now here") == f"code {REDACTED} here"
    redact = Redactor.for_credentials(USER, "login")
    assert redact.output("loginlogin login") == f"{REDACTED} login"


@settings(max_examples=60, deadline=None)
@given(pw=passwords, before=context, after=context)
def test_every_library_spelling_outside_conntests_words_is_redacted_by_the_net(
    pw: str, before: str, after: str
) -> None:
    # Glued to letters no word of conntest's has, so the occurrence is never inside one.
    redact = Redactor.for_credentials(USER, pw)
    for name, steps in ENCODINGS.items():
        spelling = spelling_in_context(steps, before + "Zq9", pw, "9qZ" + after)
        out = redact.output("S: " + encode(steps, f"{before}Zq9{pw}9qZ{after}"))
        assert spelling not in out, (name, out)


@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_any_vocabulary_word_as_password_leaves_itself_in_a_line_of_own_words(
    data: st.DataObject,
) -> None:
    # Names (one-word literals: "auth", "imap") are what codes, steps and labels join.
    names = _vocabularies()[1]
    words = sorted(w for w in names if len(w) >= 3 and w.isascii() and w.isalnum())
    pw = data.draw(st.sampled_from(words))
    others = data.draw(st.lists(st.sampled_from(words), max_size=6))
    line = " ".join([*others, pw, f"{pw}-rejected", f"imap_{pw}=1ms;;;0", *others])
    redact = Redactor.for_credentials(USER, pw)
    assert redact.output(line) == line
    assert pw not in redact(f"S: NO echo {pw}").replace(REDACTED, "")


def test_the_vocabulary_is_read_once_and_only_when_a_form_is_found() -> None:
    _vocabularies.cache_clear()
    redact = Redactor.for_credentials(USER, "correct horse battery")
    assert redact.output("nothing secret here") == "nothing secret here"
    assert _vocabularies.cache_info().currsize == 0  # a text with no form never reads it
    started = time.perf_counter()
    vocabulary()
    first = time.perf_counter() - started
    started = time.perf_counter()
    vocabulary()
    assert time.perf_counter() - started < first
