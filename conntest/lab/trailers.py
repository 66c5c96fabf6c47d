"""The parts of Microsoft 365 replies that change on every connection.

Real replies carry the name of the frontend that answered (``BE1P281CA0440``),
timestamps and request ids, and the IMAP greeting ends with the backend name as
base64 of UTF-16LE.  The lab varies them the same way, so that a diagnosis that
matches on one exact string fails against the lab as it would against the
service.  The shapes follow the examples in ``responses.yaml``.
"""

from __future__ import annotations

import base64
import datetime
import random
from dataclasses import dataclass

# (site prefix, backend domain) pairs seen in responses.yaml trailers and greetings.
_SITES: tuple[tuple[str, str], ...] = (
    ("LO4P123", "GBRP123.PROD.OUTLOOK.COM"),
    ("MR1P264", "FRAP264.PROD.OUTLOOK.COM"),
    ("BE1P281", "DEUP281.PROD.OUTLOOK.COM"),
    ("SI2PR01", "apcprd01.prod.exchangelabs.com"),
    ("CH2PR19", "namprd19.prod.outlook.com"),
    ("PH0PR07", "namprd07.prod.outlook.com"),
    ("MN2PR05", "namprd05.prod.outlook.com"),
    ("YQXPR0101", "CANPRD01.PROD.OUTLOOK.COM"),
    ("ME2PR01", "ausprd01.prod.outlook.com"),
)

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True)
class Backend:
    """The Exchange Online machine that answers one connection."""

    name: str
    """``BE1P281CA0440``: appears as ``<name>.outlook.office365.com`` in SMTP banners."""
    domain: str
    """``DEUP281.PROD.OUTLOOK.COM``: completes the name in reply trailers."""

    @property
    def fqdn(self) -> str:
        return f"{self.name}.{self.domain}"


class Trailers:
    """Makes the per-connection parts of replies; one per lab (not thread-safe, asyncio only)."""

    def __init__(self, rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()

    def backend(self) -> Backend:
        site, domain = self._rng.choice(_SITES)
        return Backend(name=f"{site}CA{self._rng.randrange(10000):04d}", domain=domain)

    def request_id(self) -> str:
        """16 hex digits like ``08DDD30471EE4ED5`` (the real ones start with 08D)."""
        return f"08D{self._rng.getrandbits(52):013X}"

    def imap_token(self, backend: Backend) -> str:
        """The bracketed greeting token: base64 of the UTF-16LE backend name."""
        return base64.b64encode(backend.fqdn.encode("utf-16-le")).decode("ascii")

    def smtp_trailer(self, backend: Backend) -> str:
        """``[<backend fqdn> 2026-08-28T19:45:50.437Z 08DF04C6D9A404E7]``."""
        now = datetime.datetime.now(datetime.UTC)
        stamp = now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z"
        return f"[{backend.fqdn} {stamp} {self.request_id()}]"

    @staticmethod
    def smtp_date() -> str:
        """RFC 2822 date as in the banner: ``Mon, 4 Aug 2025 11:15:30 +0000`` (day not padded)."""
        now = datetime.datetime.now(datetime.UTC)
        return (
            f"{_DAYS[now.weekday()]}, {now.day} {_MONTHS[now.month - 1]} {now.year}"
            f" {now:%H:%M:%S} +0000"
        )

    def backoff_ms(self) -> int:
        """A throttling back-off like the observed 299609 and 299910 ms."""
        return self._rng.randrange(290000, 300000)
