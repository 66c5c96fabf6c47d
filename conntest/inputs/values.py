"""Validators of single values a person types or a file holds.

Each ``parse_*`` function takes the raw value (text from the command line, a
form field, or a value YAML produced) and returns it in the form the engine
uses, or raises :class:`InvalidValue` with an ``expected``/``found`` pair that
the caller prefixes with the option name or the file, line and field.  The
same function serves the command line, batch files, the ``serve`` config and
the TUI, so a value is accepted or refused the same way everywhere.

The checks exist for safety as much as for clarity: a line break in an
address would reach the IMAP server as a command of its own, and a port of
99999 or a timeout of ``nan`` would end in a traceback far from the option
that caused it.

Pure functions, standard library only (``ssl`` for the CA file check).
"""

from __future__ import annotations

import ipaddress
import math
import os
import re
import stat
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from conntest.errors import UsageError

__all__ = [
    "MAX_ADDRESS_LENGTH",
    "MAX_TIMEOUT",
    "MIN_TIMEOUT",
    "InvalidValue",
    "describe",
    "option_value",
    "parse_address",
    "parse_ca_file",
    "parse_host_port",
    "parse_nameserver",
    "parse_network",
    "parse_pin",
    "parse_seconds",
    "parse_timeout",
    "validate_address",
]

MAX_ADDRESS_LENGTH = 254
"""RFC 5321 §4.5.3.1.3: a path is at most 256 octets, angle brackets included."""
MAX_LOCAL_PART = 64
MAX_HOST_LENGTH = 253
MIN_TIMEOUT, MAX_TIMEOUT = 1.0, 600.0
"""The range of every per-run deadline (``--timeout``, a batch entry's ``timeout``)."""
MAX_CA_FILE_BYTES = 4 * 1024 * 1024

_T = TypeVar("_T")

_HOST = re.compile(r"[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?\.?")
"""Letters, digits, ``-``, ``_`` and dots (IDNs in their ``xn--`` form)."""


class InvalidValue(ValueError):
    """A value conntest cannot use; ``str()`` is ``expected …, found …``."""

    def __init__(self, expected: str, found: str) -> None:
        self.expected = expected
        self.found = found
        super().__init__(f"expected {expected}, found {found}")


def option_value(option: str, parse: Callable[[object], _T], value: object) -> _T:
    """``parse(value)``, or a :class:`~conntest.errors.UsageError` naming ``option``."""
    try:
        return parse(value)
    except InvalidValue as exc:
        raise UsageError(f"{option}: {exc}") from None


def describe(value: object) -> str:
    """Name a value the way a person would recognise it (never more than 60 characters)."""
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        if not value:
            return "an empty string"
        text = repr(value)
        return text if len(text) <= 60 else text[:56] + "...'"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list | tuple):
        return "a list"
    return f"a {type(value).__name__}"


def _text(value: object, expected: str) -> str:
    if not isinstance(value, str):
        raise InvalidValue(expected, describe(value))
    text = value.strip(" \t")
    if not text:
        raise InvalidValue(expected, describe(value))
    return text


def _control(text: str) -> str | None:
    """A description of the first control or invisible character in ``text``, if any."""
    for index, char in enumerate(text):
        if char in "\r\n":
            return f"a line break at position {index + 1}"
        category = unicodedata.category(char)
        if category in ("Cc", "Cf", "Zl", "Zp"):
            return f"a control character (U+{ord(char):04X}) at position {index + 1}"
    return None


# --------------------------------------------------------------------------
# Addresses


_ADDRESS_EXPECTED = "an email address such as alice@contoso.com"


def parse_address(value: object) -> str:
    """A mailbox address (UPN): one line, no control characters, exactly one ``@``.

    Spaces and tabs around it are dropped (a copy-paste slip); anything
    inside it that could end a protocol line is refused.
    """
    text = _text(value, _ADDRESS_EXPECTED)
    control = _control(text)
    if control is not None:
        raise InvalidValue(f"{_ADDRESS_EXPECTED} on one line", control)
    if any(char.isspace() for char in text):
        raise InvalidValue(f"{_ADDRESS_EXPECTED} (no spaces)", describe(text))
    if text.count("@") != 1:
        raise InvalidValue(f"{_ADDRESS_EXPECTED} (exactly one '@')", describe(text))
    local, _, domain = text.partition("@")
    if not local or not domain:
        raise InvalidValue(_ADDRESS_EXPECTED, describe(text))
    if len(text.encode("utf-8", "surrogatepass")) > MAX_ADDRESS_LENGTH:
        raise InvalidValue(
            f"an address of at most {MAX_ADDRESS_LENGTH} bytes", f"{len(text.encode())} bytes"
        )
    if len(local.encode("utf-8", "surrogatepass")) > MAX_LOCAL_PART:
        raise InvalidValue(f"a part before '@' of at most {MAX_LOCAL_PART} bytes", describe(local))
    return text


def validate_address(text: str) -> str | InvalidValue:
    """The address, cleaned, or the problem with it, as data (for form fields)."""
    try:
        return parse_address(text)
    except InvalidValue as problem:
        return problem


# --------------------------------------------------------------------------
# Hosts, ports, addresses


def _port(text: str, expected: str, whole: str) -> int:
    if not text.isascii() or not text.isdigit():
        raise InvalidValue(expected, describe(whole))
    port = int(text)
    if not 1 <= port <= 65535:
        raise InvalidValue(f"{expected} with a port from 1 to 65535", describe(whole))
    return port


def _host(host: str, expected: str, whole: str) -> str:
    if host.startswith("["):
        inner = host[1:-1] if host.endswith("]") else ""
        try:
            return str(ipaddress.IPv6Address(inner))
        except ValueError:
            raise InvalidValue(
                f"{expected} (an IPv6 address inside [ ])", describe(whole)
            ) from None
    if ":" in host:
        raise InvalidValue(f"{expected} (an IPv6 address in brackets: [::1]:993)", describe(whole))
    if len(host) > MAX_HOST_LENGTH or not _HOST.fullmatch(host):
        raise InvalidValue(f"{expected} (a host name or IP address, no spaces)", describe(whole))
    return host


def parse_host_port(value: object) -> tuple[str, int]:
    """``HOST:PORT`` or ``[IPv6]:PORT`` → ``(host, port)``; port 1-65535.

    The inverse of :func:`conntest.printable.host_port`: what conntest shows, it reads back.
    """
    expected = "HOST:PORT"
    text = _text(value, expected)
    control = _control(text)
    if control is not None:
        raise InvalidValue(expected, control)
    host, sep, port = text.rpartition(":")
    if not sep or not host:
        raise InvalidValue(f"{expected} such as outlook.office365.com:993", describe(text))
    return _host(host, expected, text), _port(port, expected, text)


def parse_nameserver(value: object) -> tuple[str, int]:
    """``ADDRESS``, ``ADDRESS:PORT`` or ``[IPv6]:PORT`` with an IP address → ``(address, port)``."""
    expected = "ADDRESS[:PORT] with an IP address"
    text = _text(value, expected)
    try:
        return str(ipaddress.ip_address(text)), 53
    except ValueError:
        pass
    address, sep, port = text.rpartition(":")
    if not sep or not address:
        raise InvalidValue(expected, describe(text))
    number = _port(port, expected, text)
    bare = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        parsed = ipaddress.ip_address(bare)
    except ValueError:
        raise InvalidValue(expected, describe(text)) from None
    if parsed.version == 6 and bare == address:
        raise InvalidValue(f"{expected} (an IPv6 address with a port in brackets)", describe(text))
    return str(parsed), number


def parse_pin(value: object) -> tuple[str, str]:
    """``HOST:ADDRESS`` (``--resolve``) → ``(host, address)``; the address must be an IP."""
    expected = "HOST:ADDRESS with an IP address"
    text = _text(value, expected)
    host, sep, address = text.partition(":")
    if not sep or not host:
        raise InvalidValue(expected, describe(text))
    host = _host(host, expected, text)
    bare = address[1:-1] if address.startswith("[") and address.endswith("]") else address
    try:
        return host, str(ipaddress.ip_address(bare))
    except ValueError:
        raise InvalidValue(expected, describe(text)) from None


def parse_network(value: object) -> str:
    """A CIDR network such as ``40.96.0.0/13`` (host bits are ignored)."""
    expected = "a network like 40.96.0.0/13"
    text = _text(value, expected)
    try:
        return str(ipaddress.ip_network(text, strict=False))
    except ValueError:
        raise InvalidValue(expected, describe(text)) from None


# --------------------------------------------------------------------------
# Durations


def _plain(number: float) -> str:
    """``2592000``, ``0.5``: a bound as a person writes it (``:g`` says ``2.592e+06``)."""
    return str(int(number)) if float(number).is_integer() else f"{number:g}"


def parse_seconds(value: object, low: float, high: float, unit: str = "seconds") -> float:
    """A finite number of ``unit`` (seconds unless said) from ``low`` to ``high``."""
    expected = f"{unit} from {_plain(low)} to {_plain(high)}"
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        raise InvalidValue(expected, describe(value))
    try:
        seconds = float(value)
    except ValueError:
        raise InvalidValue(expected, describe(value)) from None
    if not math.isfinite(seconds) or not low <= seconds <= high:
        raise InvalidValue(expected, describe(value))
    return seconds


def parse_timeout(value: object) -> float:
    """The deadline of one run: :data:`MIN_TIMEOUT` to :data:`MAX_TIMEOUT` seconds."""
    return parse_seconds(value, MIN_TIMEOUT, MAX_TIMEOUT)


# --------------------------------------------------------------------------
# Files


def parse_ca_file(value: object) -> Path:
    """A readable PEM file holding at least one certificate.

    Checked when the run starts, so a typo'd path is named in one line
    instead of surfacing as a TLS failure after connecting.
    """
    import ssl

    expected = "a readable PEM file of CA certificates"
    path = Path(_text(value, expected) if not isinstance(value, Path) else str(value))
    try:
        info = path.expanduser().stat()
    except (OSError, RuntimeError) as exc:
        raise InvalidValue(expected, f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    path = path.expanduser()
    if not stat.S_ISREG(info.st_mode):
        raise InvalidValue(expected, f"{path}: not a regular file")
    if info.st_size > MAX_CA_FILE_BYTES:
        raise InvalidValue(expected, f"{path}: {info.st_size} bytes")
    if not os.access(path, os.R_OK):
        raise InvalidValue(expected, f"{path}: permission denied")
    try:
        ssl.create_default_context(cafile=str(path))
    except ssl.SSLError:
        raise InvalidValue(expected, f"{path}: no PEM certificate in it") from None
    except (OSError, ValueError) as exc:
        raise InvalidValue(expected, f"{path}: {getattr(exc, 'strerror', None) or exc}") from None
    return path
