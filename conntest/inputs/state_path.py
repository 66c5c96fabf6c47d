"""Whether a path may hold a state file that conntest replaces by temporary file and rename.

The lockout state (``check``/``serve --state-file``) and the lab's info file
(``lab --state-file``) are written atomically: a temporary file beside the
target, then ``os.replace``.  Renaming over a device, a FIFO or a socket
destroys it (run as root, ``--state-file /dev/null`` would replace the
device with a regular file), and a directory cannot be renamed over at all,
so such a path is refused up front, as bad input, before anything is sent.
An explicit path must also lie in a directory that exists: a typo in it
must not create a tree of directories.  Only conntest's own default state
directory is created when missing.
"""

from __future__ import annotations

import os
import stat

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing
if TYPE_CHECKING:
    from pathlib import Path

__all__ = ["state_file_problem"]

_KINDS = (
    (stat.S_ISDIR, "a directory"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISFIFO, "a FIFO (named pipe)"),
    (stat.S_ISSOCK, "a socket"),
)


def state_file_problem(path: Path, *, explicit: bool = True) -> str | None:
    """Why ``path`` cannot be a state file (``expected …, found …``), or ``None``.

    A symbolic link counts as what it points to.  ``explicit`` (a path the
    user gave): its directory must already exist.
    """
    try:
        mode: int | None = os.stat(path).st_mode
    except FileNotFoundError:
        mode = None
    except NotADirectoryError:
        mode = None  # a path under a regular file: said of its directory below
        explicit = True
    except OSError as exc:  # no permission on the way, a loop of links
        return f"expected a file conntest can write, found it cannot be reached ({_reason(exc)})"
    if mode is not None:
        if stat.S_ISREG(mode):
            return None
        found = next((name for test, name in _KINDS if test(mode)), "not a regular file")
        return f"expected a regular file (or a new file's path), found {found}"
    if not explicit:
        return None
    parent = os.path.dirname(os.path.realpath(path))  # a dangling link's target is written
    try:
        parent_mode = os.stat(parent).st_mode
    except FileNotFoundError:
        return f"expected a file in an existing directory; {parent} does not exist"
    except OSError as exc:
        return f"expected a file in an existing directory; {parent}: {_reason(exc)}"
    if not stat.S_ISDIR(parent_mode):
        return f"expected a file in a directory; {parent} is not a directory"
    return None


def _reason(exc: OSError) -> str:
    return (exc.strerror or str(exc)).lower()
