"""Where conntest keeps MSAL's token cache, and how it is written (mode 0600).

One serialised ``msal.SerializableTokenCache`` per client id and authority,
under the state directory (:func:`conntest.paths.state_dir`:
``$XDG_STATE_HOME/conntest/`` on Linux), so that monitoring can sign in
silently with a refresh token after one interactive sign-in.  State, not
cache: a refresh token cannot be fetched again without a person.  The file is MSAL's own
format; conntest writes it atomically and never anywhere else.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from conntest.paths import private_dir, restrict_to_owner, state_dir


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
    private_dir(path.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        restrict_to_owner(tmp)  # mkstemp makes 0600 already; say so on every system
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
