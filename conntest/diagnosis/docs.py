"""Render the diagnosis catalogue as Markdown (``docs/diagnoses.md``).

The document is generated so that it cannot drift from the code: a unit test
compares ``docs/diagnoses.md`` with :func:`render_markdown`.  Regenerate with::

    python -m conntest.diagnosis.docs > docs/diagnoses.md
"""

from __future__ import annotations

import sys

from conntest.diagnosis.catalogue import (
    CATALOGUE,
    DECIDE,
    MATCH_ORDER,
    MODERN_AUTH,
    NOTES,
    OUTRANKS,
    RETIREMENT_TIMELINE,
    CatalogueEntry,
)
from conntest.diagnosis.rules.text import RESPONSE_CODES, SMTP_CODES, TRANSIENT

REGENERATE = "python -m conntest.diagnosis.docs > docs/diagnoses.md"

_KIND_NAMES = {
    "default": "any client",
    "oauth2": "client with OAuth2 (Thunderbird)",
    "switch": (
        "client without OAuth2 for IMAP/SMTP that can re-add the account (Outlook 2016, iOS Mail)"
    ),
    "none": "device without OAuth2",
    "unknown": "no profile (`conntest explain`)",
}


def render_markdown() -> str:
    """The whole document, ending in one newline."""
    out: list[str] = [
        "# Diagnoses",
        "",
        "<!-- Generated from conntest/diagnosis/catalogue.py; do not edit by hand. -->",
        f"<!-- Regenerate: {REGENERATE} -->",
        "",
        "conntest turns the steps its probes record into findings: a stable `code`, a severity, "
        "a plain-language title and detail, the evidence (`<protocol> <step>: <server text>`), a "
        "remedy written for the selected client and, where the fix is not the user's, an "
        "administrator action. `conntest explain` classifies one pasted text the same way.",
        "",
        "How a verdict is reached:",
        "",
        "1. Server texts are normalised first: host and timestamp trailers, request ids, tags, "
        "base64 tokens and library prefixes (`Invalid login: `, `b'…'`, "
        "`AuthenticationFailedException:`, .NET's `The server response was:`) are removed, "
        "multi-line SMTP replies are joined, and inside `530 5.7.57 … Error: 535 …` the part "
        "after `Error:` decides.",
        "2. Every entry whose patterns match is a contender, and specificity decides, not the "
        "order of entries: a fallback pattern (a 5.7.139 with a sentence conntest does not "
        "know) gives way to an entry that names the sentence; where two entries must share "
        "words, the more specific wins by a rule listed at the end of this page; what is left "
        "goes to the longest matched text. A test asserts that every example text here and in "
        "`responses.yaml` is claimed by its own entry and no other.",
        "3. SMTP decides what IMAP cannot: IMAP's `NO LOGIN failed.` is the same for a wrong "
        "password and for a policy block. If SMTP accepted the same password, IMAP basic "
        "authentication is off (`basic-auth-disabled`); if SMTP says the credentials are "
        "incorrect, `wrong-credentials`; if SMTP names a policy, that policy; otherwise "
        "`login-rejected`, saying what would decide it.",
        "4. The password's shape and the user name are checked locally; whitespace is named as "
        "the likely cause when the sign-in was then refused as a credential failure.",
        "5. Findings are ranked by cause (`conntest/diagnosis/ranking.py`): the first finding is "
        "the cause of the first decisive failure — the step that failed and what the server "
        "said there, or a fact that explains it (whitespace in a refused password, a port "
        "Microsoft does not serve, a DNS answer whose connection then failed). A finding that "
        "made no step fail is context and never outranks one that did: an unexpected DNS answer "
        "after which TCP, TLS verification for the real name and the replies went through is "
        "info. Causes rank by severity, then a named primary cause, then layer (local → DNS → "
        "connection → TLS → session → sign-in → mailbox), then decisive texts before ambiguous "
        "ones. When nothing failed, warnings lead, then the one `ok` finding, then info. The "
        "first finding's severity is the verdict's (the Nagios status line, the TUI banner and "
        "the text report lead with it).",
        "6. What the user said is not held against them: a name pinned with `--resolve` is "
        "`dns-pinned`, a chain verified against the CA given with `--ca-file` is `tls-ca-file` "
        "(both info). The same cause seen on IMAP and SMTP (the same interceptor, the same DNS "
        "answer) is one finding with one evidence line per protocol.",
        "7. A standard code decides by its standard meaning: IMAP's RFC 5530 codes, POP3's "
        "RFC 2449/3206 codes and SMTP's enhanced codes of RFC 3463/4954 that name a cause "
        "(`[PRIVACYREQUIRED]`, `5.7.8`, `530 … Authentication required`) are patterns of "
        "that cause's entry; a code no entry claims (`NO [UNAVAILABLE]`, an SMTP 4xx) is "
        "`unrecognised` with the code's meaning (listed at the end of this page), never a "
        "refused password, in `conntest explain` and in a check alike.",
        "",
        "In the texts below, `{host}` and `{port}` are the server and the port the run connected "
        "to: `--imap`/`--smtp HOST:PORT` may name another server or port than the profile's, "
        "and the findings then name those. `{endpoint}` is the two joined, an IPv6 address in "
        "brackets (`[::1]:993`). `{client_port}` is the port the client's settings hold (the "
        "profile's), `{expected_port}` the one Microsoft documents: advice on what to set in "
        "the client names these.",
        "",
        "Dates never decide a verdict; they are cited from the one timeline below.",
        "",
        "Templates are filled from the profile and the step; `{on_port}` (' on port 993'), "
        "`{at_port}` (':993'), `{tcp_port}` ('TCP 993') and `{valid_until}` are derived and "
        "read as nothing (or, for `{tcp_port}`, both mail ports) where no port or date is "
        "known, as for a pasted `Connection refused`.",
        "",
        "## Codes",
        "",
        "| code | severity | layer | title |",
        "|---|---|---|---|",
    ]
    for entry in CATALOGUE.values():
        scope = " (explain only)" if entry.scope == "explain" else ""
        out.append(
            f"| [`{entry.code}`](#{entry.code}) | {entry.severity.label} | {entry.layer} | "
            f"{_cell(entry.title)}{scope} |"
        )
    out += [
        "",
        "## Retirement timeline",
        "",
        "Microsoft's retirement of basic authentication and old TLS, as cited in the texts "
        "(`{timeline[KEY]}`).",
        "",
        "| key | when | scope | event | status | source |",
        "|---|---|---|---|---|---|",
    ]
    for item in RETIREMENT_TIMELINE:
        out.append(
            f"| `{item.key}` | {item.label} (`{item.when}`) | {_cell(item.scope)} | "
            f"{_cell(item.event)} | {item.status} | {_cell(item.source)} |"
        )
    out += [
        "",
        "## Modern authentication, per kind of client",
        "",
        "Remedies say `{modern_auth}`; it becomes:",
        "",
    ]
    for kind, text in MODERN_AUTH.items():
        out.append(f"- **{_KIND_NAMES[kind]}**: {text}")
    out += [
        "",
        "## What would decide an ambiguous refusal",
        "",
        "`login-rejected` says `{decide}`; it becomes, by situation:",
        "",
    ]
    out += [f"- `{name}`: {text}" for name, text in DECIDE.items()]
    out += [
        "",
        "## Sentences added across protocols",
        "",
        "The cross-protocol rules append these to the deciding finding:",
        "",
    ]
    out += [f"- `{name}`: {text}" for name, text in NOTES.items()]
    out.append("")
    for entry in CATALOGUE.values():
        out += _entry(entry)
    out += [
        "## Specificity rules",
        "",
        "Where two entries must share words, the first named wins over the others:",
        "",
    ]
    out += [
        f"- `{winner}` over {', '.join(f'`{c}`' for c in sorted(losers))}"
        for winner, losers in OUTRANKS.items()
    ]
    out += [
        "",
        "Entries with patterns, in the order they are listed: "
        + ", ".join(f"`{code}`" for code in MATCH_ORDER)
        + ".",
        "",
        "## Standard codes without an entry",
        "",
        "A reply that matches no pattern but carries one of these codes is `unrecognised` "
        "(variant `standard-code` in `conntest explain`; in a check, the refused step's "
        "finding) with this sentence:",
        "",
    ]
    out += [f"- {text}" for text in (*RESPONSE_CODES.values(), *SMTP_CODES.values())]
    out += [f"- Any other SMTP 4xx: {TRANSIENT}", ""]
    return "\n".join(out)


def _entry(entry: CatalogueEntry) -> list[str]:
    out = [
        f"## {entry.code}",
        "",
        f"**{entry.title}** — severity `{entry.severity.label}`, layer `{entry.layer}`"
        + (", decisive" if entry.decisive else ", not decisive on its own")
        + (", only from `conntest explain`" if entry.scope == "explain" else "")
        + ".",
        "",
        entry.meaning,
        "",
        f"*Decided by:* {entry.evidence}",
        "",
    ]
    if entry.patterns:
        out += ["*Server texts matched* (normalised, lower case):", ""]
        for pattern in entry.patterns:
            conditions = []
            if pattern.enhanced:
                conditions.append(f"enhanced code {pattern.enhanced}")
            elif pattern.enhanced == "":
                conditions.append("no enhanced code")
            if pattern.status:
                conditions.append(f"status {pattern.status}")
            if pattern.variant:
                conditions.append(f"variant `{pattern.variant}`")
            if pattern.fallback:
                conditions.append("fallback")
            suffix = f" ({', '.join(conditions)})" if conditions else ""
            source = f" — {pattern.source}" if pattern.source else ""
            out.append(f"- `{pattern.regex}`{suffix}{source}")
        out.append("")
    if entry.variants:
        out += ["*Variants:*", ""]
        for name, variant in entry.variants.items():
            parts = []
            if variant.severity is not None:
                parts.append(f"severity `{variant.severity.label}`")
            if variant.title:
                parts.append(f"title “{variant.title}”")
            if variant.detail:
                parts.append(variant.detail)
            out.append(
                f"- `{name}`: "
                + ("; ".join(parts) if parts else "same wording, rule-specific values")
            )
        out.append("")
    out += ["*Remedy:*", ""]
    for kind, text in entry.remedy.items():
        out.append(f"- {_KIND_NAMES[kind]}: {text}")
    out.append("")
    if entry.admin_action:
        out += [f"*Administrator:* {entry.admin_action}", ""]
    return out


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def main() -> None:
    sys.stdout.write(render_markdown())


if __name__ == "__main__":
    main()
