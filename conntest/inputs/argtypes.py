"""argparse ``type=`` converters that import what they need only when a value is given.

Building a parser runs at every start, ``--help`` included, so it must not
import :mod:`pathlib` (with ``urllib.parse`` and ``ipaddress``, about 12 ms
on these machines; issue 12).  A converter here is a plain function that
imports its module when argparse calls it with a value.
"""

from __future__ import annotations

import argparse

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

__all__ = ["add_lookup_arguments", "path", "validated"]


def validated(name: str) -> Callable[[str], object]:
    """An argparse ``type=`` from the validator ``parse_NAME`` of :mod:`conntest.inputs.values`.

    argparse prefixes the message with the option (``argument --imap:
    expected HOST:PORT, found '[]:993'``), so the line names what to fix.  The
    validators' module is imported when a value comes, not to build the parser.
    """

    def convert(text: str) -> object:
        from conntest.inputs import values

        try:
            return getattr(values, f"parse_{name}")(text)
        except values.InvalidValue as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    convert.__name__ = name  # argparse names it in errors
    return convert


def path(text: str) -> Path:
    """``type=path``: the same :class:`pathlib.Path` as ``type=Path``, loaded on use."""
    from pathlib import Path

    return Path(text)


def add_lookup_arguments(parser: argparse.ArgumentParser) -> None:
    """``--resolve`` and ``--nameserver``: how names are found, the same for every command."""
    parser.add_argument(
        "--resolve",
        type=validated("pin"),
        action="append",
        default=[],
        metavar="HOST:ADDRESS",
        help="connect to ADDRESS for HOST, still verifying HOST's certificate",
    )
    parser.add_argument(
        "--nameserver",
        type=validated("nameserver"),
        metavar="ADDRESS[:PORT]",
        help="ask this DNS server instead of the system's",
    )
