"""A record behaves as the same class made by :mod:`dataclasses`, in what conntest uses.

:mod:`conntest.record` stands in for dataclasses on the ``conntest explain``
path (issue 12: cold start); the type checker takes it for dataclasses, so
every difference these tests allow would be a lie the types tell.
"""

from __future__ import annotations

import copy
import dataclasses
import math
import pickle
from collections.abc import Callable
from typing import Any

import pytest

from conntest.finding import Finding, Severity
from conntest.record import FrozenRecordError, names, record, replace
from conntest.record import field as record_field
from conntest.redact import Redactor

Maker = Callable[..., Any]


def _classes(frozen: bool) -> tuple[type[Any], type[Any]]:
    """The same declaration, once as a data class and once as a record."""
    made = []
    for decorate, field in (
        (dataclasses.dataclass(frozen=frozen), dataclasses.field),
        (record(frozen=frozen), record_field),
    ):

        class Sample:
            """A sample."""

            code: str
            count: int = 0
            tags: list[str] = field(default_factory=list)
            note: str | None = None

            def describe(self) -> str:
                return f"{self.code}/{self.count}"

        made.append(decorate(Sample))
    return made[0], made[1]


@pytest.mark.parametrize("frozen", [False, True])
def test_construction_repr_and_equality_match_a_data_class(frozen: bool) -> None:
    data, rec = _classes(frozen)
    for args, kwargs in (
        (("a",), {}),
        (("a", 2), {}),
        ((), {"code": "b", "note": "x"}),
        (("c", 3, ["t"]), {"note": None}),
    ):
        d, r = data(*args, **kwargs), rec(*args, **kwargs)
        assert repr(d) == repr(r)
        assert d.describe() == r.describe()
        assert r == rec(*args, **kwargs)
        assert r != rec("other")
        assert r != d  # another class: not equal, as between two data classes
    assert rec("a").tags is not rec("a").tags  # a factory makes one per instance
    assert rec.__match_args__ == data.__match_args__ == ("code", "count", "tags", "note")
    nan = float("nan")
    assert rec("a", nan) == rec("a", nan)  # NaN: what a tuple says
    assert math.isnan(rec("a", nan).count)


@pytest.mark.parametrize("frozen", [False, True])
@pytest.mark.parametrize(
    ("args", "kwargs"),
    [((), {}), (("a", 1, [], None, "extra"), {}), (("a",), {"bogus": 1}), (("a",), {"code": "b"})],
)
def test_wrong_arguments_raise_as_a_data_class_does(
    frozen: bool, args: tuple[object, ...], kwargs: dict[str, object]
) -> None:
    data, rec = _classes(frozen)
    with pytest.raises(TypeError):
        data(*args, **kwargs)
    with pytest.raises(TypeError):
        rec(*args, **kwargs)


def test_frozen_is_read_only_and_hashable_mutable_is_neither() -> None:
    _, frozen = _classes(True)
    one = frozen("a", 1, ("t",))
    with pytest.raises(AttributeError) as raised:
        one.count = 2
    assert isinstance(raised.value, FrozenRecordError)
    with pytest.raises(AttributeError):
        del one.code
    assert hash(one) == hash(frozen("a", 1, ("t",)))
    assert len({one, frozen("a", 1, ("t",)), frozen("b", 0, ())}) == 2

    _, mutable = _classes(False)
    two = mutable("a")
    two.count = 5
    assert two.count == 5
    with pytest.raises(TypeError):
        hash(two)


@pytest.mark.parametrize("frozen", [False, True])
def test_replace_copy_pickle_and_match(frozen: bool) -> None:
    _, rec = _classes(frozen)
    one = rec("a", 1, ["t"], "n")
    changed = replace(one, count=7)
    assert (changed.code, changed.count, changed.tags, changed.note) == ("a", 7, ["t"], "n")
    assert one.count == 1
    with pytest.raises(TypeError):
        replace(one, bogus=1)
    assert copy.copy(one) == one
    assert copy.deepcopy(one) == one
    match one:
        case rec(code, count):
            assert (code, count) == ("a", 1)
        case _:
            pytest.fail("positional pattern did not match")


def test_names_lists_the_fields_of_records_and_data_classes_only() -> None:
    data, rec = _classes(True)
    fields = ("code", "count", "tags", "note")
    assert names(rec("a")) == names(data("a")) == fields
    assert names(rec) is None  # a class is not an instance to walk
    assert names(data) is None
    assert names("text") is None
    assert names(("a", 1)) is None


def test_a_record_refuses_what_it_does_not_build() -> None:
    with pytest.raises(TypeError, match="non-default argument 'b' follows default argument"):

        @record
        class Order:
            a: int = 0
            b: int

    with pytest.raises(TypeError, match="__post_init__"):

        @record
        class Later:
            a: int

            def __post_init__(self) -> None: ...

    @record
    class Base:
        a: int

    with pytest.raises(TypeError, match="does not inherit fields"):

        @record
        class Child(Base):
            b: int


def test_the_redactor_walks_a_finding_record() -> None:
    """Findings are records: the redactor must still reach every field (docs/security.md)."""
    secret = "Tr0ub4dor&3-horse"
    finding = Finding(
        code="login-rejected",
        severity=Severity.CRITICAL,
        title="t",
        detail=f"the server echoed {secret}",
        remedy="r",
        evidence=f"imap login: NO {secret}",
        admin_action=None,
        protocol="imap",
    )
    clean = Redactor([secret]).value(finding)
    assert isinstance(clean, Finding)
    assert secret not in repr(clean)
    assert clean.code == "login-rejected" and clean.severity is Severity.CRITICAL
    assert secret in finding.detail  # the original is left as it was (frozen)
    assert pickle.loads(pickle.dumps(finding)) == finding  # batch workers hand findings on
    untouched = replace(finding, detail="d", evidence="e")
    assert Redactor([secret]).value(untouched) is untouched
