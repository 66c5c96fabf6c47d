"""A stand-in browser for the authorization-code flow (``BROWSER="python oauth_browser.py %s"``).

It detaches at once (Python's webbrowser waits for the browser process), then
GETs the authorize URL trusting the lab CA (``CONNTEST_TEST_CA``) at the lab's
address (``CONNTEST_TEST_ADDRESS``), and POSTs the auto-submitting form the
identity platform answers with to the loopback redirect: what a person's
browser does after they sign in.
"""

from __future__ import annotations

import html
import os
import re
import sys
import urllib.parse
import urllib.request

from conntest.probes.identity_probe import https_request
from conntest.probes.tls import client_context


def follow(url: str) -> None:
    from pathlib import Path

    context = client_context("1.2", "1.3", Path(os.environ["CONNTEST_TEST_CA"]))
    answer = https_request(url, os.environ["CONNTEST_TEST_ADDRESS"], context, 10.0)
    page = answer.body.decode()
    action = html.unescape(re.search(r'action="([^"]+)"', page).group(1))  # type: ignore[union-attr]
    fields = {
        m.group(1): html.unescape(m.group(2))
        for m in re.finditer(r'name="(\w+)" value="([^"]*)"', page)
    }
    assert urllib.parse.urlsplit(action).hostname in ("localhost", "127.0.0.1")
    urllib.request.urlopen(action, data=urllib.parse.urlencode(fields).encode(), timeout=10)


if __name__ == "__main__":
    if os.fork() == 0:  # the child follows the sign-in; the parent returns at once
        os.setsid()
        try:
            follow(sys.argv[1])
        finally:
            os._exit(0)
    sys.exit(0)
