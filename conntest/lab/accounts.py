"""The accounts file of ``conntest lab``: which address meets which scenario.

Format (YAML)::

    accounts:
      - address: alice@contoso.com
        scenario: ok
      - address: bob@contoso.com
        scenario: smtp-auth-disabled-tenant

Read with the one safe loader (:mod:`conntest.schema.safe_yaml`) into
:class:`conntest.schema.models.LabAccountsFile` by the one model-driven
reader (:class:`conntest.schema.reader.ModelReader`), so an unknown key, a
missing one or a wrong type reads as in every other conntest file.  A person
edits this file by hand, so *every* bad entry is reported at once, as
:class:`~conntest.schema.problem.Problem` lines naming the file, the line and
the field, in a :class:`~conntest.errors.FileProblems` (a ``ValueError``).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from conntest.errors import FileProblems
from conntest.inputs.values import InvalidValue, describe, parse_address
from conntest.lab.scenarios import SCENARIOS
from conntest.schema.models import LabAccountsFile
from conntest.schema.problem import Problem
from conntest.schema.reader import Invalid, ModelReader
from conntest.schema.safe_yaml import YamlList, YamlMap, line_of, load_yaml

__all__ = ["load_accounts"]

_EXAMPLE = "{accounts: [{address: alice@contoso.com, scenario: ok}]}"
_ITEM = re.compile(r"accounts\[\d+\]")


def load_accounts(path: Path) -> dict[str, str]:
    """Lower-cased address → scenario name; :class:`FileProblems` listing every problem."""
    data, problems = load_yaml(path, str(path), "a readable YAML file")
    accounts: dict[str, str] = {}
    if not problems:
        accounts, problems = _read(data, str(path))
    if problems:
        raise FileProblems(problems, f"{path}: the accounts file is unusable")
    return accounts


class _AccountsReader(ModelReader):
    """The model's walk, plus what a type cannot say: a real address, a known scenario."""

    def check_section(self, where: str, known: Mapping[str, Any], lines: Mapping[Any, int]) -> None:
        if not _ITEM.fullmatch(where):
            return
        address, scenario = known.get("address"), known.get("scenario")
        if isinstance(address, str):
            try:
                parse_address(address)
            except InvalidValue as exc:
                self.add(f"{where}.address", exc.expected, exc.found, lines.get("address"))
        if isinstance(scenario, str) and scenario not in SCENARIOS:
            expected = f"a scenario among {', '.join(SCENARIOS)}"
            close = difflib.get_close_matches(scenario, list(SCENARIOS), n=1)
            if close:
                expected += f" (did you mean {close[0]!r}?)"
            self.add(f"{where}.scenario", expected, describe(scenario), lines.get("scenario"))


def _read(data: Any, file: str) -> tuple[dict[str, str], list[Problem]]:
    if not isinstance(data, YamlMap) or not isinstance(data.get("accounts"), YamlList):
        found = "an empty file" if data is None else describe(data)
        expected = f"a mapping with an 'accounts' list, like {_EXAMPLE}"
        return {}, [Problem(file, "", expected, found, line_of(data))]
    reader = _AccountsReader(file)
    read = reader.section(data, LabAccountsFile, "", line_of(data))
    items: YamlList = data["accounts"]
    first: dict[str, str] = {}
    for index, entry in enumerate(items):  # checked on what was written: every problem at once
        address = entry.get("address") if isinstance(entry, YamlMap) else None
        if not isinstance(address, str):
            continue
        where, key = f"accounts[{index}]", address.lower()
        if key in first:
            found = f"{key} again (first in {first[key]})"
            line = entry.key_lines.get("address", items.item_lines[index])
            reader.add(f"{where}.address", "each address once", found, line)
        first.setdefault(key, where)
    if reader.problems or isinstance(read, Invalid):
        return {}, reader.problems
    return {entry.address.lower(): entry.scenario for entry in read.accounts}, []
