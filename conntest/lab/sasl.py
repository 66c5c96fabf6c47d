"""Reading the SASL payloads the lab's servers receive (PLAIN, LOGIN, XOAUTH2).

The servers decode them only to learn the user name (for the record and the
scenario) and to compare the password; neither the payload nor the password is
kept anywhere.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass


@dataclass(frozen=True)
class PlainCredentials:
    """What an ``AUTH PLAIN`` / ``AUTHENTICATE PLAIN`` payload carries."""

    user: str
    password: str


def b64decode(payload: str) -> bytes | None:
    """Strict base64; ``=`` is the empty initial response of SASL-IR; ``None`` if malformed."""
    if payload == "=":
        return b""
    try:
        return base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        return None


def b64text(payload: str) -> str | None:
    """A base64 line of AUTH LOGIN as text (user name or password)."""
    decoded = b64decode(payload)
    return None if decoded is None else decoded.decode("utf-8", "replace")


def plain(payload: str) -> PlainCredentials | None:
    """``authzid NUL authcid NUL password``, base64; ``None`` if malformed."""
    decoded = b64decode(payload)
    if decoded is None or decoded.count(b"\0") != 2:
        return None
    _authzid, user, password = decoded.split(b"\0")
    return PlainCredentials(user.decode("utf-8", "replace"), password.decode("utf-8", "replace"))


def xoauth2_user(payload: str) -> str | None:
    """The ``user=`` field of an XOAUTH2 initial response (the token is ignored)."""
    decoded = b64decode(payload)
    for field in (decoded or b"").split(b"\x01"):
        if field.startswith(b"user="):
            return field[5:].decode("utf-8", "replace")
    return None


@dataclass(frozen=True)
class BearerCredentials:
    """What an XOAUTH2 initial response carries: ``user=…^Aauth=Bearer …^A^A``."""

    user: str
    token: str


def xoauth2(payload: str) -> BearerCredentials | None:
    """The user and bearer token of an XOAUTH2 payload; ``None`` if malformed."""
    decoded = b64decode(payload)
    if decoded is None or not decoded.endswith(b"\x01\x01"):
        return None
    fields: dict[bytes, bytes] = {}
    for part in decoded[:-2].split(b"\x01"):
        key, _, value = part.partition(b"=")
        fields[key] = value
    auth = fields.get(b"auth", b"")
    if b"user" not in fields or not auth.startswith(b"Bearer "):
        return None
    return BearerCredentials(
        fields[b"user"].decode("utf-8", "replace"), auth[7:].decode("ascii", "replace")
    )


def initial_user(mechanism: str, payload: str | None) -> str | None:
    """The user name inside an initial response, if the mechanism puts one there."""
    if payload is None:
        return None
    if mechanism == "LOGIN":
        return b64text(payload)
    if mechanism == "PLAIN":
        credentials = plain(payload)
        return credentials.user if credentials else None
    if mechanism == "XOAUTH2":
        return xoauth2_user(payload)
    return None
