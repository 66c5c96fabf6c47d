"""Follow the terminal's light or dark background.

Textual does not detect it, so :func:`pick_theme` does, before the app starts:
``CONNTEST_THEME`` (``light``, ``dark`` or any Textual theme name) wins, then
``COLORFGBG`` (set by rxvt, Konsole, iTerm2 and others), then an OSC 11
"what is your background colour?" query to the terminal with a short deadline.
Anything else falls back to dark, Textual's own default.
"""

from __future__ import annotations

import contextlib
import os
import re
import select
import sys
from collections.abc import Callable, Mapping

DARK = "textual-dark"
LIGHT = "textual-light"

_OSC11_REPLY = re.compile(
    r"\x1b\]11;rgba?:(?P<r>[0-9a-fA-F]{1,4})/(?P<g>[0-9a-fA-F]{1,4})/(?P<b>[0-9a-fA-F]{1,4})"
)


def light_from_colorfgbg(value: str) -> bool | None:
    """``"0;15"`` → light, ``"15;0"`` → dark; ``None`` when it does not say.

    The last field is the background's ANSI number: 0–6 and 8 are dark colours,
    7 and 9–15 light ones (the rule vim uses).
    """
    last = value.rsplit(";", 1)[-1].strip()
    if not last.isdigit():
        return None
    number = int(last)
    if number > 15:
        return None
    return number not in {0, 1, 2, 3, 4, 5, 6, 8}


def light_from_osc11(reply: str) -> bool | None:
    """Parse ``ESC ] 11 ; rgb:RRRR/GGGG/BBBB``; light when its luminance is above half."""
    match = _OSC11_REPLY.search(reply)
    if match is None:
        return None
    channels = []
    for name in ("r", "g", "b"):
        digits = match.group(name)
        channels.append(int(digits, 16) / (16 ** len(digits) - 1))
    red, green, blue = channels
    luminance: float = 0.2126 * red + 0.7152 * green + 0.0722 * blue
    return luminance > 0.5


def query_osc11(timeout: float = 0.15) -> str | None:
    """Ask the controlling terminal for its background colour; ``None`` if it stays silent."""
    if sys.platform == "win32" or not sys.stdin.isatty() or not sys.stdout.isatty():
        return None
    import termios
    import tty

    fd = sys.stdin.fileno()
    try:
        saved = termios.tcgetattr(fd)
    except termios.error:
        return None
    reply = ""
    try:
        tty.setraw(fd)
        # OSC 11 query, then a primary device attributes request (DA1) that every
        # terminal answers: when DA1's answer comes first, no OSC 11 answer follows.
        os.write(sys.stdout.fileno(), b"\x1b]11;?\x1b\\\x1b[c")
        while True:
            ready, _, _ = select.select([fd], [], [], timeout)
            if not ready:
                break
            chunk = os.read(fd, 256).decode("latin-1")
            if not chunk:
                break
            reply += chunk
            if re.search(r"\x1b\[\?[0-9;]*c", reply):
                break
    except OSError:
        return None
    finally:
        with contextlib.suppress(termios.error):
            termios.tcsetattr(fd, termios.TCSAFLUSH, saved)
    return reply or None


def pick_theme(
    env: Mapping[str, str] | None = None,
    query: Callable[[], str | None] = query_osc11,
) -> str:
    """The Textual theme name matching the terminal."""
    env = os.environ if env is None else env
    forced = env.get("CONNTEST_THEME", "").strip().lower()
    if forced in {"light", "dark"}:
        return LIGHT if forced == "light" else DARK
    if forced:
        return forced
    light = light_from_colorfgbg(env["COLORFGBG"]) if "COLORFGBG" in env else None
    if light is None:
        reply = query()
        light = light_from_osc11(reply) if reply else None
    return LIGHT if light else DARK
