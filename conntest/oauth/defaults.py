"""The OAuth sign-in settings of ``config.yaml``: what ``--client-id``, ``--tenant`` and
``--authority`` default to.

The one contract, for every front end (``check --oauth``, ``conntest oauth``, batch and
``serve`` accounts with ``auth: oauth``, the TUI's sign-in): an option given on the
command line (or in a batch entry) wins over the file, the file wins over the built-in
defaults (tenant ``organizations``, authority ``https://login.microsoftonline.com``).
:func:`oauth_defaults` reads the file through the one schema layer
(:mod:`conntest.schema`: the safe loader, the typed :class:`~conntest.schema.models.UserConfig`,
one :class:`~conntest.schema.problem.Problem` per mistake).  The default file missing is
fine; a file the user named (``--config``, ``$CONNTEST_CONFIG``) missing, or any file
broken, is a :class:`~conntest.errors.FileProblems` (one line each, exit 3).

No network, no MSAL: the value checks here are plain text rules shared with the
command line and the batch file.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from conntest.errors import FileProblems
from conntest.inputs.values import InvalidValue, describe
from conntest.oauth.platform import REGISTER_LINE
from conntest.oauth.result import DEFAULT_TENANT
from conntest.paths import config_dir
from conntest.schema.models import UserConfig
from conntest.schema.reader import INVALID, ModelReader, ValueRule
from conntest.schema.safe_yaml import load_yaml

__all__ = [
    "CONFIG_ENV",
    "CONFIG_NAME",
    "OAuthDefaults",
    "config_path",
    "oauth_defaults",
    "parse_authority",
    "parse_client_id",
    "parse_tenant",
    "register_line",
]

CONFIG_ENV = "CONNTEST_CONFIG"
"""The environment variable naming the settings file (``--config`` wins over it)."""
CONFIG_NAME = "config.yaml"

_GUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_TENANT = re.compile(
    r"[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?)*"
)

CLIENT_ID_EXPECTED = "the Application (client) ID of your app registration, a GUID"
TENANT_EXPECTED = "organizations, consumers, common, a tenant id or a domain"
AUTHORITY_EXPECTED = "an https:// URL of the identity platform (https://HOST[/TENANT])"


@dataclass(frozen=True)
class OAuthDefaults:
    """What the sign-in options default to, after the settings file."""

    client_id: str | None = None
    """``None``: no client id anywhere; conntest has none of its own."""
    tenant: str = DEFAULT_TENANT
    authority: str | None = None
    """``https://HOST`` without the tenant (a path in the file became :attr:`tenant`);
    ``None``: the built-in ``https://login.microsoftonline.com``."""
    file: Path | None = None
    """The settings file that was read, ``None`` when there was none."""


def parse_client_id(value: object) -> str:
    """A GUID (``InvalidValue`` otherwise): a pasted secret or object name is refused."""
    text = value.strip() if isinstance(value, str) else None
    if text is None or not _GUID.fullmatch(text):
        raise InvalidValue(CLIENT_ID_EXPECTED, describe(value))
    return text


def parse_tenant(value: object) -> str:
    text = value.strip() if isinstance(value, str) else None
    if text is None or len(text) > 253 or not _TENANT.fullmatch(text):
        raise InvalidValue(TENANT_EXPECTED, describe(value))
    return text


def parse_authority(value: object) -> tuple[str, str | None]:
    """``https://HOST[:PORT]`` and the tenant its path names (``None``: no path)."""
    text = value.strip() if isinstance(value, str) else ""
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        raise InvalidValue(AUTHORITY_EXPECTED, describe(value)) from None
    bad = parts.scheme != "https" or not parts.hostname or parts.username or parts.query
    if bad or parts.fragment or any(c.isspace() for c in text):
        raise InvalidValue(AUTHORITY_EXPECTED, describe(value))
    tenant = parts.path.strip("/").split("/")[0] or None
    if tenant is not None:
        parse_tenant(tenant)
    return f"https://{parts.netloc}", tenant


def config_path(path: Path | None = None) -> tuple[Path, bool]:
    """The settings file, and whether the user named it (``path``, else ``$CONNTEST_CONFIG``)."""
    if path is not None:
        return path, True
    named = os.environ.get(CONFIG_ENV, "").strip()
    if named:
        return Path(named).expanduser(), True
    return config_dir() / CONFIG_NAME, False


def _rule(expected: str, parse: Callable[[object], object]) -> ValueRule:
    def accepts(value: object) -> bool:
        try:
            parse(value)
        except InvalidValue:
            return False
        return True

    return ValueRule(expected, accepts)


_RULES = {
    "oauth.client_id": _rule(CLIENT_ID_EXPECTED, parse_client_id),
    "oauth.tenant": _rule(TENANT_EXPECTED, parse_tenant),
    "oauth.authority": _rule(AUTHORITY_EXPECTED, parse_authority),
}


def load_user_config(path: Path | None = None) -> tuple[UserConfig, Path | None]:
    """The settings file as its model, and the file read (``None``: the default one is absent)."""
    file, named = config_path(path)
    if not named and not file.exists():
        return UserConfig(), None
    raw, problems = load_yaml(file, str(file), "a readable settings file (config.yaml)")
    if problems:
        raise FileProblems(problems, f"{file}: the settings file is unusable")
    if raw is None:
        return UserConfig(), file  # an empty file: nothing set
    reader = ModelReader(str(file), _RULES)
    if not isinstance(raw, dict):
        reader.add("", "a mapping with an 'oauth' section", describe(raw), None)
        raise FileProblems(reader.problems)
    built = reader.section(raw, UserConfig, "", None)
    if built is INVALID or reader.problems or not isinstance(built, UserConfig):
        raise FileProblems(reader.problems, f"{file}: the settings file is unusable")
    return built, file


def oauth_defaults(path: Path | None = None) -> OAuthDefaults:
    """The sign-in defaults from the settings file (``path``, else ``$CONNTEST_CONFIG``, else
    ``config.yaml`` in the config directory); built-in ones where it says nothing.

    Raises :class:`~conntest.errors.FileProblems` for a broken file, or a named one that is
    missing.  Callers apply their own options over the result.
    """
    config, file = load_user_config(path)
    settings = config.oauth
    tenant = parse_tenant(settings.tenant) if settings.tenant else None
    authority = None
    if settings.authority:
        authority, from_path = parse_authority(settings.authority)
        tenant = from_path or tenant
    return OAuthDefaults(
        client_id=parse_client_id(settings.client_id) if settings.client_id else None,
        tenant=tenant or DEFAULT_TENANT,
        authority=authority,
        file=file,
    )


def register_line(config_file: Path | None, *, check: bool = True) -> str:
    """:data:`REGISTER_LINE`, naming the settings file conntest looked in."""
    file = config_file or config_path(None)[0]
    line = REGISTER_LINE.replace("config.yaml", str(file))
    return line if check else line.replace(" with --oauth", "")
