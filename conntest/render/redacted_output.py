"""The last line of defence: every format's finished text passes the run's redactor.

The engine has already redacted every step, and the renderers only arrange
what it kept; this is the second look, at the very text that goes to stdout,
``--output`` or a scrape.  Each format is redacted where a secret would be
readable, without breaking its syntax:

* ``json`` / ``jsonl``: parsed, every key and string redacted, written again
  in the same layout; a text with no secret is returned unchanged.  A secret
  inside a JSON string is thereby found whatever its escaping (``\\"``,
  ``\\\\``, ``\\u00e9``), and ``<redacted>`` never splits an escape sequence;
* ``junit``: the XML is parsed (it is conntest's own: no DTD, no entities)
  and every text and attribute redacted, so a secret spelled with ``&quot;``
  or ``&amp;`` is found and ``<redacted>`` is written as ``&lt;redacted&gt;``;
* ``prometheus``: every label value is unescaped, redacted and escaped again;
* ``text``, ``nagios`` and anything else: the text itself.

Every pass is :meth:`Redactor.output`, the safety net: it keeps an occurrence
inside one whole word of conntest's own (a JSON key, a finding code, a step
name, a label value such as ``protocol="smtp"``, a perfdata label, a
catalogue word), so a password that happens to be ``login`` or ``code`` no
longer breaks a parser or a monitoring check.  What came from outside
(replies, transcripts, failure messages) was redacted strictly at the source
by the engine; an address, a path or a library's repr holding the secret is
not a word of conntest's and is still caught here.
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET  # our own output only: no DTD, no entity

from conntest.redact import Redactor

__all__ = ["redact_output"]

_XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
_LABEL_VALUE = re.compile(r'="((?:[^"\\]|\\.)*)"')


def redact_output(fmt: str, text: str, redact: Redactor) -> str:
    """``text`` of format ``fmt`` with every secret form the run knows replaced."""
    if not redact or not text:
        return text
    if fmt == "json":
        return _json(text, redact, compact=False)
    if fmt == "jsonl":
        return "".join(_json(line, redact, compact=True) for line in text.splitlines(keepends=True))
    if fmt == "junit":
        return _junit(text, redact)
    if fmt == "prometheus":
        return "".join(_exposition_line(line, redact) for line in text.splitlines(keepends=True))
    return redact.output(text)


def _json(text: str, redact: Redactor, *, compact: bool) -> str:
    """One JSON document (``--format json``) or one JSON Lines line, rewritten only if unclean."""
    body = text.rstrip("\n")
    try:
        doc = json.loads(body)
    except ValueError:
        return redact.output(text)
    clean = redact.keys_and_values(doc)
    if clean == doc:
        return text
    dumped = json.dumps(clean, separators=(",", ":")) if compact else json.dumps(clean, indent=2)
    return dumped + text[len(body) :]


def _junit(text: str, redact: Redactor) -> str:
    body = text.removeprefix(_XML_DECLARATION)
    try:
        root = ET.fromstring(body)  # noqa: S314 -- conntest's own output, just rendered
    except ET.ParseError:
        return redact.output(text)
    changed = False
    for element in root.iter():
        for name, value in list(element.attrib.items()):
            if (clean := redact.output(value)) != value:
                element.set(name, clean)
                changed = True
        for part in ("text", "tail"):
            value = getattr(element, part)
            if value and (clean := redact.output(value)) != value:
                setattr(element, part, clean)
                changed = True
    if not changed:
        return text
    end = "\n" if text.endswith("\n") else ""
    return _XML_DECLARATION + ET.tostring(root, encoding="unicode") + end


def _unescape_label(value: str) -> str:
    return re.sub(r"\\(.)", lambda m: "\n" if m.group(1) == "n" else m.group(1), value)


def _escape_label(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _exposition_line(line: str, redact: Redactor) -> str:
    if line.startswith("#"):
        return redact.output(line)

    def label(match: re.Match[str]) -> str:
        raw = _unescape_label(match.group(1))
        clean = redact.output(raw)
        return match.group(0) if clean == raw else f'="{_escape_label(clean)}"'

    return _LABEL_VALUE.sub(label, line)
