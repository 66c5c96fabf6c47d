"""argparse ``type=`` converters that import what they need only when a value is given.

Building a parser runs at every start, ``--help`` included, so it must not
import :mod:`pathlib` (with ``urllib.parse`` and ``ipaddress``, about 12 ms
on these machines; issue 12).  A converter here is a plain function that
imports its module when argparse calls it with a value.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["path"]


def path(text: str) -> Path:
    """``type=path``: the same :class:`pathlib.Path` as ``type=Path``, loaded on use."""
    from pathlib import Path

    return Path(text)
