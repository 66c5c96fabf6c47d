"""What a person must do to finish an interactive sign-in, for whichever front end shows it.

:func:`conntest.oauth.signin.sign_in` runs in a worker thread and calls its
``show`` callback with a :class:`SignInPrompt`: the CLI prints the message on
stderr (:func:`print_prompt`), the TUI shows the device code and the page in
a panel.  No MSAL here, so a front end can import it at any time.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal, TextIO


@dataclass(frozen=True)
class SignInPrompt:
    """One step a person takes; nothing in it is a credential."""

    flow: Literal["browser", "device-code"]
    message: str
    """The identity platform's own ``message`` for a device code (never reworded);
    conntest's line for the browser."""
    user_code: str | None = None
    """Device code: what the person types on the verification page."""
    verification_uri: str | None = None
    """Device code: the page to open (``https://microsoft.com/devicelogin``)."""
    expires_in: int | None = None
    """Device code: seconds the code stays valid, as the identity platform said."""


PromptCallback = Callable[[SignInPrompt], None]
"""Called from the sign-in's thread: a front end must hand the prompt to its own loop."""


def print_prompt(prompt: SignInPrompt, stream: TextIO | None = None) -> None:
    """The CLI's way: the message on stderr, as MSAL's examples print it."""
    print(prompt.message, file=stream or sys.stderr)
