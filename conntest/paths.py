"""Where conntest keeps its files on each system, and how it keeps secrets private.

One place decides, through platformdirs, so that every module that writes a
file (the lockout state, the user's profiles, ``serve``'s config, the OAuth
token cache) lands where the system's conventions say:

=========  ==========================================  ==========================================
kind       Linux and other Unix (XDG)                  Windows / macOS
=========  ==========================================  ==========================================
config     ``$XDG_CONFIG_HOME/conntest``               ``%APPDATA%\\conntest`` /
           (``~/.config/conntest``)                    ``~/Library/Application Support/conntest``
state      ``$XDG_STATE_HOME/conntest``                ``%LOCALAPPDATA%\\conntest`` /
           (``~/.local/state/conntest``)               ``~/Library/Application Support/conntest``
=========  ==========================================  ==========================================

No cache directory: conntest keeps nothing it could fetch again (the OAuth
token cache holds tokens a sign-in made, so it lives in the state directory).
An XDG variable holding a relative path is ignored, as the XDG spec says;
on macOS platformdirs also honours the XDG variables when they are set.
Nothing here creates a directory: callers do, with :func:`private_dir`.

Owner-only access: on POSIX, directories are made 0700 and secret files
0600.  On Windows, file modes do not express that (``os.chmod`` can only set
the read-only flag); the per-user profile folders under ``%APPDATA%`` and
``%LOCALAPPDATA%`` are already readable only by the user, SYSTEM and the
Administrators, and files created there inherit that access list, so
conntest keeps its secrets there and changes nothing.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # platformdirs is imported only when a directory is asked for
    from platformdirs.api import PlatformDirsABC

__all__ = [
    "APP_NAME",
    "config_dir",
    "private_dir",
    "restrict_to_owner",
    "state_dir",
]

APP_NAME = "conntest"


def _dirs() -> PlatformDirsABC:
    """platformdirs' answer for this system, chosen on each call (tests change the environment)."""
    if sys.platform == "win32":
        from platformdirs.windows import Windows

        return Windows(APP_NAME, appauthor=False, roaming=False)
    if sys.platform == "darwin":
        from platformdirs.macos import MacOS

        return MacOS(APP_NAME, appauthor=False)
    from platformdirs.unix import Unix

    return Unix(APP_NAME, appauthor=False)


def config_dir() -> Path:
    """Settings a person writes: profiles, ``serve``'s config (roams with a Windows profile)."""
    if sys.platform == "win32":
        from platformdirs.windows import Windows

        # Roaming: %APPDATA%, the place for settings a user carries between machines.
        return Path(Windows(APP_NAME, appauthor=False, roaming=True).user_config_dir)
    return Path(_dirs().user_config_dir)


def state_dir() -> Path:
    """What conntest remembers between runs on this machine (the lockout state file)."""
    return Path(_dirs().user_state_dir)


def private_dir(path: Path) -> Path:
    """Create ``path`` and its parents if missing (0700 on POSIX); return it."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    return path


def restrict_to_owner(path: Path | str) -> None:
    """Make a file readable and writable by its owner only (0600) on POSIX.

    On Windows nothing is changed: a file created under the per-user profile
    folders inherits an access list that already admits only the user, SYSTEM
    and the Administrators (see the module docstring).
    """
    if sys.platform == "win32":
        return
    os.chmod(path, 0o600)
