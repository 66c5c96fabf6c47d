"""The loopback redirect listener of the browser sign-in, bound to 127.0.0.1 only.

Why not MSAL's own (``acquire_token_interactive``): inside a container MSAL
binds its listener to 0.0.0.0 (``msal.oauth2cli.authcode`` detects Docker),
which exposes it to the network; and Python's ``webbrowser`` waits for some
browser processes to exit before MSAL starts listening.  Here the listener is
up before the browser starts, on the loopback address RFC 8252 §8.3 asks for,
and answers both the ``form_post`` the identity platform sends and a plain
redirect with a query string.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from urllib.parse import parse_qs, urlsplit

_PAGE = b"<html><body><p>conntest: sign-in finished. You can close this window.</p></body></html>"
_MAX_BODY = 64 * 1024


class RedirectListener:
    """Receives one authorization response on ``http://localhost:PORT``."""

    def __init__(self) -> None:
        self._done = threading.Event()
        self.response: dict[str, str] | None = None
        listener = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                listener._receive(self, urlsplit(self.path).query)

            def do_POST(self) -> None:
                length = min(int(self.headers.get("Content-Length") or 0), _MAX_BODY)
                listener._receive(self, self.rfile.read(length).decode("utf-8", "replace"))

            def log_message(self, format: str, *args: object) -> None:
                """Silent: the query carries the authorization code."""

        self._server = HTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="conntest-oauth-redirect", daemon=True
        )

    @property
    def redirect_uri(self) -> str:
        return f"http://localhost:{self._server.server_address[1]}"

    def __enter__(self) -> RedirectListener:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def wait(self, timeout: float) -> dict[str, str] | None:
        """The response's fields, or ``None`` if none came within ``timeout``."""
        self._done.wait(timeout)
        return self.response

    def _receive(self, handler: BaseHTTPRequestHandler, encoded: str) -> None:
        fields = {k: v[-1] for k, v in parse_qs(encoded).items()}
        if "code" in fields or "error" in fields:
            if self.response is None:
                self.response = fields
            self._done.set()
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html; charset=utf-8")
        handler.send_header("Content-Length", str(len(_PAGE)))
        handler.end_headers()
        handler.wfile.write(_PAGE)
