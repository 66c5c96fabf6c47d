"""JSON Schema keywords carried on a field through ``Annotated``: inert data until read.

Its own module so that :mod:`conntest.profile` (which every command that quotes
a client loads) does not build the file models of :mod:`.models` to get it
(issue 12: cold start).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Keywords"]


@dataclass(frozen=True, eq=False)
class Keywords:
    """JSON Schema keywords for one field (``pattern``, ``minimum``, ``examples``, ...).

    Compared and hashed by identity (``Annotated`` metadata must be hashable).
    """

    keywords: Mapping[str, Any]

    def __get_pydantic_json_schema__(
        self, core_schema: Any, handler: Callable[[Any], dict[str, Any]]
    ) -> dict[str, Any]:
        """The hook pydantic's JSON Schema generator calls on ``Annotated`` metadata."""
        schema = handler(core_schema)
        schema.update(self.keywords)
        return schema
