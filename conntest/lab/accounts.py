"""The accounts file of ``conntest lab``: which address meets which scenario.

Format (YAML)::

    accounts:
      - address: alice@contoso.com
        scenario: ok
      - address: bob@contoso.com
        scenario: smtp-auth-disabled-tenant

Every problem is a ``ValueError`` that names the file, the entry and what was
expected, because a person edits this file by hand.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from conntest.lab.scenarios import SCENARIOS

_EXAMPLE = "{accounts: [{address: alice@contoso.com, scenario: ok}]}"


def load_accounts(path: Path) -> dict[str, str]:
    """Lower-cased address → scenario name, from the YAML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ValueError(f"{path}: expected a readable YAML file, found {_why(exc)}") from None
    try:
        data: Any = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    if not isinstance(data, dict) or not isinstance(data.get("accounts"), list):
        raise ValueError(f"{path}: expected a mapping with an 'accounts' list, like {_EXAMPLE}")
    if set(data) != {"accounts"}:
        extra = ", ".join(sorted(str(k) for k in set(data) - {"accounts"}))
        raise ValueError(f"{path}: unexpected top-level key(s) {extra}; expected only 'accounts'")
    accounts: dict[str, str] = {}
    for index, entry in enumerate(data["accounts"]):
        where = f"{path}: accounts[{index}]"
        address, scenario = _entry(where, entry)
        if address in accounts:
            raise ValueError(f"{where}: address {address!r} is listed twice")
        accounts[address] = scenario
    return accounts


def _entry(where: str, entry: object) -> tuple[str, str]:
    if not isinstance(entry, dict):
        raise ValueError(
            f"{where}: expected a mapping with 'address' and 'scenario', got {entry!r}"
        )
    if set(entry) != {"address", "scenario"}:
        keys = ", ".join(sorted(str(k) for k in entry))
        raise ValueError(f"{where}: expected exactly the keys 'address' and 'scenario', got {keys}")
    address, scenario = entry["address"], entry["scenario"]
    if not isinstance(address, str) or not _looks_like_address(address):
        raise ValueError(
            f"{where}: 'address' must be an e-mail address like alice@contoso.com, got {address!r}"
        )
    if not isinstance(scenario, str) or scenario not in SCENARIOS:
        raise ValueError(
            f"{where} ({address}): unknown scenario {scenario!r};"
            f" expected one of: {', '.join(SCENARIOS)}"
        )
    return address.lower(), scenario


def _looks_like_address(address: str) -> bool:
    local, at, domain = address.partition("@")
    return bool(local and at and "." in domain and "@" not in domain) and not any(
        c.isspace() for c in address
    )


def _why(exc: Exception) -> str:
    if isinstance(exc, UnicodeDecodeError):
        return "text that is not UTF-8"
    return getattr(exc, "strerror", None) or exc.__class__.__name__
