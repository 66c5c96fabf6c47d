"""The lab's stand-in for the person's browser: it finishes the browser sign-in in-process.

With ``--lab`` (and in ``conntest demo``) the identity platform is the lab's:
``login.microsoftonline.com`` is pinned to loopback inside conntest only, and
its certificate comes from the lab's throwaway CA.  A real browser would look
the name up itself (Microsoft's, not the lab) and not trust that CA, so it
could never finish.  The lab plays the user anyway (it approves device codes
by itself), so here conntest fetches the authorize page as it fetches the
authority (the pinned address, the lab's CA) and hands the page's
``form_post`` to the loopback redirect listener, as a browser does once the
person has signed in.  The system browser is never opened.  No MSAL here.
"""

from __future__ import annotations

import html.parser
import http.client
import ssl
import urllib.parse
import urllib.request
from collections.abc import Callable

from conntest.probes.identity_probe import https_request

__all__ = ["lab_user_agent"]

_LOOPBACK = ("localhost", "127.0.0.1")


class _FormPage(html.parser.HTMLParser):
    """The action and fields of the first form of the authorize answer."""

    def __init__(self) -> None:
        super().__init__()
        self.action: str | None = None
        self.fields: dict[str, str] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "form" and self.action is None:
            self.action = values.get("action", "")
        elif tag == "input" and self.action is not None and values.get("name"):
            self.fields[values["name"]] = values.get("value", "")


def _to_loopback(url: str, data: bytes | None, timeout: float) -> bool:
    """Deliver the answer to the redirect listener; never anywhere but loopback."""
    if urllib.parse.urlsplit(url).hostname not in _LOOPBACK:
        return False
    with urllib.request.urlopen(url, data=data, timeout=timeout):  # noqa: S310 (http loopback)
        return True


def lab_user_agent(
    address: str, context: ssl.SSLContext, timeout: float = 10.0
) -> Callable[[str], bool]:
    """An ``open_browser`` that follows the lab's authorize page to the loopback redirect.

    ``False`` (then the sign-in falls back to a device code) when the answer is
    neither the auto-submitting form nor a redirect to loopback.
    """

    def follow(url: str) -> bool:
        try:
            answer = https_request(url, address, context, timeout)
            if answer.status in (301, 302, 303) and "location" in answer.headers:
                return _to_loopback(answer.headers["location"], None, timeout)
            page = _FormPage()
            page.feed(answer.body.decode("utf-8", "replace"))
            if answer.status != 200 or not page.action:
                return False
            body = urllib.parse.urlencode(page.fields).encode()
            return _to_loopback(page.action, body, timeout)
        except (OSError, ValueError, http.client.HTTPException):
            return False

    return follow
