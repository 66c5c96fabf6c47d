"""The exceptions conntest raises, all in one tree.

Exceptions are for configuration and usage mistakes (and bugs); a server that
refuses a login or a port that does not answer is a *result*, recorded on a
probe step, never raised.  Each class also inherits the builtin a caller would
naturally catch, so ``except ValueError`` keeps working for code that does not
know about conntest::

    Exception
    └── ConntestError
        ├── ProfileError(ConntestError, ValueError)   a profile file is unusable;
        │                                             .problems lists every reason
        └── UsageError(ConntestError, ValueError)     the caller asked for something
            │                                         that does not exist (an unknown
            │                                         profile id, say)
            ├── batch.BatchFileError                  a batch file is unusable; .problems
            │                                         lists every entry's problems
            └── batch.PasswordSourceError             a batch password source is unreadable

The front end owns exit codes: it catches :class:`ConntestError`, prints one
line per problem to stderr and maps the class to an exit status.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # profiles imports this module; the import is for the annotation only
    from conntest.profiles import Problem

__all__ = ["ConntestError", "ProfileError", "UsageError"]


class ConntestError(Exception):
    """Base class of every exception conntest raises on purpose."""


class ProfileError(ConntestError, ValueError):
    """A profile file could not be loaded; ``problems`` says every reason why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        # str() stays one line (stderr gets one line per error); a caller that
        # wants the full list prints ``problems`` one per line.
        if not self.problems:
            message = "profile could not be loaded"
        elif len(self.problems) == 1:
            message = str(self.problems[0])
        else:
            rest = len(self.problems) - 1
            message = f"{self.problems[0]} (and {rest} more problem{'s' if rest > 1 else ''})"
        super().__init__(message)


class UsageError(ConntestError, ValueError):
    """The caller asked for something conntest does not have or cannot do."""
