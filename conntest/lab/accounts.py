"""The accounts file of ``conntest lab``: which address meets which scenario.

Format (YAML)::

    accounts:
      - address: alice@contoso.com
        scenario: ok
      - address: bob@contoso.com
        scenario: smtp-auth-disabled-tenant

Read with the one safe loader (:mod:`conntest.schema.safe_yaml`) and checked
against :class:`conntest.schema.models.LabAccountsFile`.  A person edits this
file by hand, so *every* bad entry is reported at once, as
:class:`~conntest.schema.problem.Problem` lines naming the file, the line and
the field, in a :class:`~conntest.errors.FileProblems` (a ``ValueError``).
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any

from conntest.errors import FileProblems
from conntest.inputs.values import InvalidValue, describe, parse_address
from conntest.lab.scenarios import SCENARIOS
from conntest.schema.models import LabAccount, field_names
from conntest.schema.problem import Problem
from conntest.schema.safe_yaml import YamlList, YamlMap, line_of, load_yaml

_EXAMPLE = "{accounts: [{address: alice@contoso.com, scenario: ok}]}"
_ENTRY_KEYS = field_names(LabAccount)
"""``address`` and ``scenario``, from the typed model (and its JSON Schema)."""


def load_accounts(path: Path) -> dict[str, str]:
    """Lower-cased address → scenario name; :class:`FileProblems` listing every problem."""
    data, problems = load_yaml(path, str(path), "a readable YAML file")
    accounts: dict[str, str] = {}
    if not problems:
        accounts, problems = _read(data, str(path))
    if problems:
        raise FileProblems(problems, f"{path}: the accounts file is unusable")
    return accounts


def _read(data: Any, file: str) -> tuple[dict[str, str], list[Problem]]:
    problems: list[Problem] = []
    items = data.get("accounts") if isinstance(data, YamlMap) else None
    if not isinstance(items, YamlList):
        found = "an empty file" if data is None else describe(data)
        expected = f"a mapping with an 'accounts' list, like {_EXAMPLE}"
        return {}, [Problem(file, "", expected, found, line_of(data))]
    for key in data:
        if key != "accounts":
            line = data.key_lines.get(key)
            problems.append(
                Problem(file, str(key), "only the key 'accounts'", "an unknown key", line)
            )
    accounts: dict[str, str] = {}
    first: dict[str, str] = {}
    for index, entry in enumerate(items):
        where = f"accounts[{index}]"
        line = line_of(entry, items.item_lines[index])
        pair = _entry(file, where, entry, line, problems)
        if pair is None:
            continue
        address, scenario = pair
        if address in first:
            problems.append(
                Problem(
                    file,
                    f"{where}.address",
                    "each address once",
                    f"{address} again (first in {first[address]})",
                    line,
                )
            )
            continue
        first[address] = where
        accounts[address] = scenario
    return accounts, problems


def _entry(
    file: str, where: str, entry: object, line: int | None, problems: list[Problem]
) -> tuple[str, str] | None:
    if not isinstance(entry, YamlMap):
        expected = "a mapping with 'address' and 'scenario'"
        problems.append(Problem(file, where, expected, describe(entry), line))
        return None
    before = len(problems)
    for key in entry:
        if key not in _ENTRY_KEYS:
            problems.append(
                Problem(
                    file,
                    f"{where}.{key}",
                    "only the keys 'address' and 'scenario'",
                    "an unknown key",
                    entry.key_lines.get(key, line),
                )
            )
    for key in _ENTRY_KEYS:
        if key not in entry:
            expected = "a value (the key is required)"
            problems.append(Problem(file, f"{where}.{key}", expected, "no such key", line))
    address = scenario = ""
    if "address" in entry:
        try:
            address = parse_address(entry["address"]).lower()
        except InvalidValue as exc:
            at = entry.key_lines.get("address", line)
            problems.append(Problem(file, f"{where}.address", exc.expected, exc.found, at))
    if "scenario" in entry:
        scenario = entry["scenario"]
        if not isinstance(scenario, str) or scenario not in SCENARIOS:
            expected = f"a scenario among {', '.join(SCENARIOS)}"
            close = difflib.get_close_matches(str(scenario), list(SCENARIOS), n=1)
            if close:
                expected += f" (did you mean {close[0]!r}?)"
            at = entry.key_lines.get("scenario", line)
            problems.append(Problem(file, f"{where}.scenario", expected, describe(scenario), at))
    if len(problems) > before:
        return None
    return address, scenario
