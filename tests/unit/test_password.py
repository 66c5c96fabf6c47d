"""The password's shape: what is found, how it is described, and that the password never leaks."""

from __future__ import annotations

import dataclasses

import pytest

from conntest.password import PasswordShape, analyse_password, strip_invisible


def kinds(shape: PasswordShape) -> dict[str, tuple[int, ...]]:
    return {issue.kind: issue.positions for issue in shape.issues}


def test_clean_password_has_no_issues() -> None:
    shape = analyse_password("Correct-Horse-9")
    assert shape.length == 15
    assert not shape.has_whitespace
    assert shape.issues == ()
    assert shape.describe() == "no spaces or invisible characters"


def test_trailing_and_inner_spaces_are_counted() -> None:
    shape = analyse_password("a b c d ")
    assert kinds(shape) == {"trailing-space": (8,), "inner-space": (2, 4, 6)}
    assert shape.describe() == "1 trailing space, 3 spaces inside"


def test_leading_spaces() -> None:
    shape = analyse_password("  secret")
    assert kinds(shape) == {"leading-space": (1, 2)}
    assert shape.describe() == "2 leading spaces"


def test_only_spaces_counts_as_leading() -> None:
    assert kinds(analyse_password("   ")) == {"leading-space": (1, 2, 3)}


@pytest.mark.parametrize("char", ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"])
def test_zero_width_characters(char: str) -> None:
    shape = analyse_password(f"password{char}x")
    assert kinds(shape) == {"zero-width": (9,)}
    assert shape.describe() == "a zero-width character at position 9"
    assert shape.has_whitespace


def test_tab_newline_and_no_break_space_with_positions() -> None:
    shape = analyse_password("\tab\u00a0cd\n")
    assert kinds(shape) == {"tab": (1,), "newline": (7,), "no-break-space": (4,)}
    described = shape.describe()
    assert "a tab at position 1 (the start)" in described
    assert "a line break at position 7 (the end)" in described
    assert "a no-break space at position 4" in described


def test_other_invisible_characters() -> None:
    # soft hyphen (Cf), left-to-right mark (Cf), em space (Zs), a control character (Cc)
    shape = analyse_password("a\u00adb\u200ec\u2003d\x07")
    assert kinds(shape) == {"invisible": (2, 4, 6, 8)}
    assert shape.describe() == "4 invisible characters at positions 2, 4, 6 and 8 (the end)"


def test_app_password_shape() -> None:
    assert analyse_password("bybzandyfmvmytbo").looks_like_app_password
    assert analyse_password("bybz andy fmvm ytbo").looks_like_app_password
    assert analyse_password(" bybzandyfmvmytbo\n").looks_like_app_password
    assert not analyse_password("Bybzandyfmvmytbo").looks_like_app_password
    assert not analyse_password("bybzandyfmvmytb").looks_like_app_password
    assert not analyse_password("Summer2024!").looks_like_app_password


def test_shape_never_holds_the_password() -> None:
    secret = "Tr0ub4dor&3 "
    shape = analyse_password(secret)
    dumped = repr(shape) + str(dataclasses.asdict(shape)) + shape.describe()
    for fragment in ("Tr0ub", "4dor", "&3", secret.strip()):
        assert fragment not in dumped
    assert all(not isinstance(v, str) or v == "" for v in vars(shape).values())


def test_shape_is_frozen() -> None:
    shape = analyse_password("x")
    with pytest.raises(dataclasses.FrozenInstanceError):
        shape.length = 3  # type: ignore[misc]


@pytest.mark.parametrize(
    ("raw", "meant"),
    [
        ("secret ", "secret"),
        ("  secret\n", "secret"),
        ("sec\u200bret", "secret"),
        ("\ufeffsecret", "secret"),
        ("correct horse battery", "correct horse battery"),  # inner spaces can be real
        ("bybz andy fmvm ytbo ", "bybzandyfmvmytbo"),  # app passwords never contain spaces
        ("plain", "plain"),
    ],
)
def test_strip_invisible(raw: str, meant: str) -> None:
    assert strip_invisible(raw) == meant
