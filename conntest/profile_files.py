"""``conntest profiles show`` and ``profiles path``: profile files, wherever conntest is installed.

Copying a builtin profile to edit it must not depend on knowing where pip
put the package (a venv, pipx, a system site-packages), so the CLI prints
the file itself and the folders it reads.
"""

from __future__ import annotations

from conntest.errors import UsageError
from conntest.profiles import ProfileSet, builtin_dir, user_dir

__all__ = ["profile_paths", "profile_text"]


def profile_paths(*, user_only: bool = False) -> str:
    """The user folder (which need not exist yet) and, unless ``user_only``, the builtin one."""
    if user_only:
        return f"{user_dir()}\n"
    return f"builtin  {builtin_dir()}\nuser     {user_dir()}\n"


def profile_text(loaded: ProfileSet, profile_id: str, builtin: bool) -> str:
    """The text of the file ``profile_id`` was loaded from, comments and all.

    ``builtin`` asks for the shipped file even when a user file overrides it.
    """
    entry = loaded.entry(profile_id)  # UsageError naming the known ids
    if builtin:
        chain = (entry, *entry.overridden)
        found = next((e for e in chain if e.kind == "builtin"), None)
        if found is None:
            raise UsageError(f"profile {profile_id!r} is not a builtin profile")
        entry = found
        for child in builtin_dir().iterdir():
            if str(child) == entry.path:
                return child.read_text(encoding="utf-8")
    try:
        with open(entry.path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        raise UsageError(f"cannot read {entry.path}: {exc.strerror or exc}") from None
