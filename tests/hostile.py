"""Access-point names an attacker in radio range may broadcast, kept in one place for every test.

Each must stay inert everywhere a name shows: the page, the JSON, /status, the logs, the CLI's
table and the journal. The name shows as rules.display_ssid gives it, byte for byte, and no
control byte, ANSI escape or bidi override reaches a browser or a terminal raw.
"""

from __future__ import annotations

import re

# (what it tries, the SSID's raw bytes): each is 1 to 32 bytes, as the air allows.
HOSTILE_SSIDS: tuple[tuple[str, bytes], ...] = (
    ("script tag", b"<script>alert(1)</script>"),
    ("attribute breaker", b'"><img src=x onerror=alert(2)>'),
    ("single-quote breaker", b"' onmouseover='alert(3)' x='"),
    ("bidi override", "\u202eexe.txt".encode()),
    ("bidi isolate", "a\u2067b\u2069c".encode()),
    ("zero-width joiner", "Home\u200dWiFi".encode()),
    ("zero-width space", "Home\u200bWiFi".encode()),
    ("printf format", b"%s%n%x%d%p"),
    ("str.format", b"{0}{ssid!r}{.__class__}"),
    ("%-style mapping", b"%(passphrase)s"),
    ("ANSI clear screen", b"\x1b[2J\x1b[H"),
    ("ANSI colour and title", b"\x1b[31mred\x1b]0;pwned\x07"),
    ("control bytes", b"a\x00b\x07c\x08d\x7fe"),
    ("line breaks", b"one\ntwo\rthree"),
    ("C1 control", "x\x9by".encode()),
    ("backslash escape look-alike", b"\\u{202E}"),
    ("32 bytes of emoji", ("\U0001f600" * 8).encode()),
    ("emoji with joiners", "\U0001f468\u200d\U0001f469\u200d\U0001f467".encode()),
    ("not UTF-8", b"\xff\xfe\x1b[2J"),
)
# Every test's parameters, named by what the SSID tries.
HOSTILE_IDS = [name for name, _ in HOSTILE_SSIDS]
HOSTILE_BYTES = [raw for _, raw in HOSTILE_SSIDS]

# What may never reach a page, a terminal or the journal raw: C0 and C1 controls (ESC among
# them), bidi embeddings, overrides and isolates, and zero-width characters outside emoji.
RAW_FORBIDDEN = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200b\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029]"
)


def raw_forbidden(text: str) -> list[str]:
    """The characters of `text` that must never show raw (empty when it is inert)."""
    return RAW_FORBIDDEN.findall(text)
