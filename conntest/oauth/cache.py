"""Where conntest keeps MSAL's token cache, and how it is written (mode 0600).

One serialised ``msal.SerializableTokenCache`` per client id and authority,
under the state directory (``$XDG_STATE_HOME/conntest/``, else
``~/.local/state/conntest/``), so that monitoring can sign in silently with
a refresh token after one interactive sign-in.  The file is MSAL's own
format; conntest writes it atomically and never anywhere else.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path


def state_dir() -> Path:
    """conntest's state directory (swapped for ``conntest.paths`` once that lands)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "conntest"


def cache_path(client_id: str, authority_url: str) -> Path:
    """The cache file for one app registration and authority."""
    key = hashlib.sha256(f"{client_id}\n{authority_url.lower()}".encode()).hexdigest()[:16]
    return state_dir() / f"oauth-{key}.json"


def read_cache(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def write_cache(path: Path, text: str) -> None:
    """Atomically replace ``path`` with ``text``, readable by the owner only."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        os.fchmod(fd, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_cache(path: Path) -> bool:
    """Delete the cache file; True if there was one."""
    try:
        path.unlink()
    except FileNotFoundError:
        return False
    return True
