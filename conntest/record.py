"""Data classes for what ``conntest explain`` loads, made without :mod:`dataclasses`.

``import dataclasses`` brings :mod:`inspect` with it (ast, dis, tokenize): 9 ms
of the 37 ms ``conntest explain`` took, for one call (``inspect.signature``,
to write a docstring a class lacks).  The nine classes the catalogue and the
text matcher need are declared with :func:`record` instead (issue 12: cold
start).

To the type checker :func:`record` *is* :func:`dataclasses.dataclass` (and
:func:`field`, :func:`replace` its namesakes), so a record is typed and
checked exactly as a data class.  At run time it builds what those classes use
of one: ``__init__`` (with defaults and ``default_factory``), ``__repr__``,
``__eq__``, ``__hash__`` and read-only attributes when ``frozen``, and
``__match_args__``.  Nothing else: no ``order``, ``slots``, ``kw_only``,
``InitVar``, ``ClassVar`` or ``__post_init__`` (the decorator refuses a class
that asks for them).  ``tests/unit/test_record.py`` holds each behaviour
against the same class made by :mod:`dataclasses`.

:func:`names` lists the fields of a record or of a data class, for code that
walks both (the redactor).
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing itself stays out of ``conntest explain``
if TYPE_CHECKING:
    from dataclasses import dataclass as record
    from dataclasses import field, replace

__all__ = ["FrozenRecordError", "field", "names", "record", "replace"]

_FIELDS = "__record_fields__"


class FrozenRecordError(AttributeError):
    """An attribute of a frozen record was assigned or deleted."""


class _Factory:
    """A field's ``default_factory``."""

    __slots__ = ("make",)

    def __init__(self, make: object) -> None:
        self.make = make


if not TYPE_CHECKING:

    def field(*, default_factory):
        """A field whose default is made per instance (only ``default_factory`` is known)."""
        return _Factory(default_factory)

    def record(cls=None, /, *, frozen=False):
        """Make ``cls`` a record (see the module docstring)."""

        def wrap(cls):
            return _make(cls, frozen)

        return wrap if cls is None else wrap(cls)

    def replace(obj, /, **changes):
        """A copy of the record ``obj`` with ``changes``, made through its ``__init__``."""
        values = {name: getattr(obj, name) for name in names(obj)}
        values.update(changes)
        return type(obj)(**values)


def names(obj: object) -> tuple[str, ...] | None:
    """The field names of a record or data class instance; ``None`` for anything else."""
    kind = type(obj)
    try:
        return _names[kind]
    except KeyError:
        pass
    found: tuple[str, ...] | None = getattr(kind, _FIELDS, None)
    if found is None and hasattr(kind, "__dataclass_fields__") and not isinstance(obj, type):
        import dataclasses  # already loaded wherever a data class exists

        found = tuple(f.name for f in dataclasses.fields(obj))  # type: ignore[arg-type]
    _names[kind] = found
    return found


_names: dict[type, tuple[str, ...] | None] = {}
"""By class: the redactor asks for every object of a report (issue 12)."""


_REFUSED = ("__post_init__", "__slots__")


def _make(cls: type, frozen: bool) -> type:
    for base in cls.__mro__[1:]:
        if hasattr(base, _FIELDS) or hasattr(base, "__dataclass_fields__"):
            raise TypeError(f"{cls.__qualname__}: a record does not inherit fields")
    for name in _REFUSED:
        if name in cls.__dict__:
            raise TypeError(f"{cls.__qualname__}: a record has no {name}")
    # The class's own annotations (strings: ``from __future__ import annotations``);
    # inspect.get_annotations would bring back the module this one keeps out.
    annotations: dict[str, object] = cls.__dict__.get("__annotations__", {})  # noqa: RUF063
    fields = tuple(annotations)
    for name, hint in annotations.items():
        if str(hint).split("[")[0].rsplit(".")[-1] in ("ClassVar", "InitVar", "KW_ONLY"):
            raise TypeError(f"{cls.__qualname__}.{name}: a record has no {hint}")

    scope: dict[str, object] = {"__setter": object.__setattr__}
    params = []
    body = []
    seen_default = False
    for name in fields:
        if name in cls.__dict__:
            default = cls.__dict__[name]
            seen_default = True
            if isinstance(default, _Factory):
                scope[f"__make_{name}"] = default.make
                delattr(cls, name)
                params.append(f"{name}=__none")
                value = f"__make_{name}() if {name} is __none else {name}"
                scope["__none"] = _NONE
            else:
                scope[f"__default_{name}"] = default
                params.append(f"{name}=__default_{name}")
                value = name
        else:
            if seen_default:
                raise TypeError(f"non-default argument {name!r} follows default argument")
            params.append(name)
            value = name
        body.append(
            f"  __setter(self, {name!r}, {value})" if frozen else f"  self.{name} = {value}"
        )
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass")
    exec(source, scope)  # noqa: S102 — what dataclasses does, from names the class declares
    init = scope["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"  # type: ignore[attr-defined]

    def __repr__(self: object) -> str:
        inner = ", ".join(f"{name}={getattr(self, name)!r}" for name in fields)
        return f"{type(self).__qualname__}({inner})"

    def __eq__(self: object, other: object) -> object:
        if other.__class__ is not self.__class__:
            return NotImplemented
        # Tuples, as a data class compares: the very same object is equal (a NaN too).
        return tuple(getattr(self, n) for n in fields) == tuple(getattr(other, n) for n in fields)

    def __hash__(self: object) -> int:
        return hash(tuple(getattr(self, n) for n in fields))

    def __setattr__(self: object, name: str, value: object) -> None:
        raise FrozenRecordError(f"cannot assign to field {name!r}")

    def __delattr__(self: object, name: str) -> None:
        raise FrozenRecordError(f"cannot delete field {name!r}")

    own = cls.__dict__
    for name, method in (("__init__", init), ("__repr__", __repr__), ("__eq__", __eq__)):
        if name not in own:  # the class's own method wins, as in a data class
            _put(cls, name, method)
    # dataclasses' rule: a class body with __eq__ and no __hash__ has __hash__ = None
    # from Python itself, which is not a hash the class chose.
    explicit_hash = "__hash__" in own and not (own["__hash__"] is None and "__eq__" in own)
    if frozen:
        for name, method in (("__setattr__", __setattr__), ("__delattr__", __delattr__)):
            if name in own:
                raise TypeError(f"{cls.__qualname__}: a frozen record has its own {name}")
            _put(cls, name, method)
    if not explicit_hash:
        # eq without frozen: unhashable, as a data class
        _put(cls, "__hash__", __hash__ if frozen else None)
    _put(cls, "__match_args__", fields)
    setattr(cls, _FIELDS, fields)
    return cls


def _put(cls: type, name: str, method: object) -> None:
    if callable(method):
        method.__qualname__ = f"{cls.__qualname__}.{name}"  # type: ignore[attr-defined]
    setattr(cls, name, method)


_NONE = object()
"""The default of a ``default_factory`` parameter: "make one"."""
