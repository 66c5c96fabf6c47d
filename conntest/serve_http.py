"""The exporter's HTTP/1.1, on asyncio streams (standard library only).

One request per connection; the request line and headers are bounded in
length, count and time; a handler's bug becomes a ``500``, never a dropped
connection or a traceback; the connection is always closed.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

__all__ = ["REQUEST_TIMEOUT", "Response", "handle_connection", "text_response"]

REQUEST_TIMEOUT = 10.0
"""Seconds a client has to send its request line and headers."""
MAX_HEADERS = 100


@dataclass(frozen=True)
class Response:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"
    headers: tuple[tuple[str, str], ...] = ()


_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    408: "Request Timeout",
    431: "Request Header Fields Too Large",
    500: "Internal Server Error",
}


def text_response(status: int, message: str) -> Response:
    return Response(status, (message.rstrip("\n") + "\n").encode("utf-8"))


async def handle_connection(
    respond: Callable[[str, str, dict[str, str]], Awaitable[Response]],
    reader: asyncio.StreamReader,
    writer: asyncio.StreamWriter,
) -> None:
    """Read one request, answer it, close; never raises."""
    head = False
    try:
        try:
            method, target, headers = await asyncio.wait_for(_read_request(reader), REQUEST_TIMEOUT)
        except TimeoutError:
            response = text_response(408, "request not received in time")
        except _BadRequest as exc:
            response = text_response(exc.status, str(exc))
        else:
            head = method == "HEAD"
            try:
                response = await respond(method, target, headers)
            except Exception as exc:  # a bug: answer 500 rather than drop the scrape
                response = text_response(500, f"internal error: {exc.__class__.__name__}")
        _write_response(writer, response, head=head)
        await writer.drain()
    except (ConnectionError, asyncio.IncompleteReadError):
        pass
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await writer.wait_closed()


class _BadRequest(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _read_request(reader: asyncio.StreamReader) -> tuple[str, str, dict[str, str]]:
    try:
        line = (await reader.readline()).decode("latin-1").rstrip("\r\n")
    except ValueError:  # longer than the stream's limit
        raise _BadRequest(400, "request line too long") from None
    parts = line.split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/1."):
        raise _BadRequest(400, "malformed request line")
    method, target, _ = parts
    headers: dict[str, str] = {}
    for _ in range(MAX_HEADERS + 1):
        try:
            raw = (await reader.readline()).decode("latin-1")
        except ValueError:
            raise _BadRequest(431, "header line too long") from None
        if raw in {"\r\n", "\n", ""}:
            return method, target, headers
        name, sep, value = raw.partition(":")
        if not sep:
            raise _BadRequest(400, "malformed header")
        headers[name.strip().lower()] = value.strip()
    raise _BadRequest(431, "too many headers")


def _write_response(writer: asyncio.StreamWriter, response: Response, *, head: bool) -> None:
    reason = _REASONS.get(response.status, "Unknown")
    lines = [
        f"HTTP/1.1 {response.status} {reason}",
        f"Content-Type: {response.content_type}",
        f"Content-Length: {len(response.body)}",
        "Connection: close",
        *(f"{name}: {value}" for name, value in response.headers),
    ]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode("latin-1"))
    if not head:
        writer.write(response.body)
