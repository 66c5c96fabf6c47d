"""Which client profiles a run tests: ``--profile`` and ``--profile-file``, for every front end.

Problems of files conntest found by itself (the user's profile directory) are
printed as warnings and the run goes on with the others; a file the person
named with ``--profile-file`` that cannot be loaded stops the run, because
they asked for that file.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Literal, TextIO

from conntest.errors import ProfileError, UsageError
from conntest.profile import Profile
from conntest.profiles import ProfileSet, load_profiles

__all__ = ["load_profile_set", "protocols_of", "select_profiles"]


def load_profile_set(
    profile_files: Sequence[Path],
    profile_ids: Sequence[str],
    stderr: TextIO | None,
) -> ProfileSet:
    """Every loaded profile; :class:`ProfileError` if a named file is bad.

    Also checks that every id in ``profile_ids`` exists (:class:`UsageError`
    naming the known ids).  ``stderr=None`` keeps the warnings quiet (a second
    load of the same files).
    """
    loaded = load_profiles(profile_files)
    named = {str(path) for path in profile_files}
    bad = [p for p in loaded.problems if p.file in named]
    if stderr is not None:
        for problem in loaded.problems:
            if problem not in bad:  # those stop the run, and the CLI prints them once
                print(f"conntest: profile problem: {problem}", file=stderr)
    if bad:
        raise ProfileError(bad)
    for pid in profile_ids:
        loaded.get(pid)
    return loaded


def select_profiles(
    profile_files: Sequence[Path], profile_ids: Sequence[str], stderr: TextIO | None
) -> list[Profile]:
    """The profiles to test: those named (in order, once each), else every loaded one."""
    loaded = load_profile_set(profile_files, profile_ids, stderr)
    if profile_ids:
        return [loaded.get(pid) for pid in dict.fromkeys(profile_ids)]
    profiles = list(loaded)
    if not profiles:
        raise UsageError("no profiles are available")
    return profiles


def protocols_of(protocol: str | None) -> tuple[Literal["imap", "smtp"], ...]:
    """``--protocol``: the protocols a check runs (both unless one is named)."""
    if protocol == "imap":
        return ("imap",)
    return ("smtp",) if protocol == "smtp" else ("imap", "smtp")
