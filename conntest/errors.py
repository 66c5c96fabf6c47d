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
            │                                         that does not exist or gave a
            │                                         value conntest cannot use
            ├── FileProblems                          a file is unusable (a batch file,
            │   │                                     the serve config, a lab accounts
            │   │                                     file); .problems lists them all
            │   └── batch.BatchFileError              a batch file is unusable
            └── PasswordSourceError                   a password source is unreadable,
                                                      empty or not one line

The front end owns exit codes: ``conntest.cli.main`` catches
:class:`ConntestError` in one place, prints one line per problem to stderr
and exits 3.
"""

from __future__ import annotations

TYPE_CHECKING = False  # typing.TYPE_CHECKING, without importing typing (issue 12: cold start)
if TYPE_CHECKING:
    from collections.abc import Sequence

    from conntest.schema.problem import Problem

__all__ = ["ConntestError", "FileProblems", "PasswordSourceError", "ProfileError", "UsageError"]


def _summary(problems: Sequence[Problem], empty: str) -> str:
    # str() stays one line (stderr gets one line per error); a caller that
    # wants the full list prints ``problems`` one per line.
    if not problems:
        return empty
    if len(problems) == 1:
        return str(problems[0])
    rest = len(problems) - 1
    return f"{problems[0]} (and {rest} more problem{'s' if rest > 1 else ''})"


class ConntestError(Exception):
    """Base class of every exception conntest raises on purpose."""

    problems: Sequence[Problem] = ()
    """Every problem behind this error, one line each; empty: ``str()`` is the line."""


class ProfileError(ConntestError, ValueError):
    """A profile file could not be loaded; ``problems`` says every reason why."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(_summary(self.problems, "profile could not be loaded"))


class UsageError(ConntestError, ValueError):
    """The caller asked for something conntest does not have or cannot do."""


class FileProblems(UsageError):
    """A file conntest was asked to read cannot be used; ``problems`` says every reason."""

    def __init__(self, problems: Sequence[Problem], empty: str = "the file is unusable") -> None:
        self.problems = list(problems)
        super().__init__(_summary(self.problems, empty))


class PasswordSourceError(UsageError):
    """A password source could not be read, or holds no usable password."""
