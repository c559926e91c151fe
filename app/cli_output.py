"""What the installer commands print: the scan table, import report lines and one-line errors."""

from __future__ import annotations

import gettext
import unicodedata
from collections.abc import Mapping, Sequence
from enum import StrEnum

from app.flow.messages import failure_text, security_choice
from app.flow.networks import unique_networks
from app.flow.state import CheckResult, Service, blocked_services
from app.nm.models import FailureKind, WifiNetwork
from app.rules import inert_text
from app.wifi import SecurityKind

PROG = "wifi-connect"

# The CLI speaks English; the portal's wording is reused through an identity catalog.
_ENGLISH = gettext.NullTranslations()

_SCAN_HEADER = ("SSID", "SIGNAL", "BAND", "FREQUENCY", "SECURITY")
# Columns whose values are numbers read best aligned on the right.
_RIGHT_ALIGNED = frozenset({1})
_COLUMN_GAP = "  "

# Channel centre frequencies in MHz of each band NetworkManager reports.
_BANDS = (
    (2400, 2500, "2.4 GHz"),
    (4900, 5900, "5 GHz"),
    (5925, 7125, "6 GHz"),
    (57000, 71000, "60 GHz"),
)

_BLOCKED_WORDS = {
    Service.HTTPS: "HTTPS (TCP 443)",
    Service.NTP: "time servers (UDP 123)",
    Service.DNS: "name lookups (UDP 53)",
}


class ImportStatus(StrEnum):
    """What happened to one file of an imported directory."""

    IMPORTED = "imported"
    UPDATED = "updated"
    SKIPPED = "skipped"
    ERROR = "error"


def security_words(security: SecurityKind) -> str:
    """A security kind as installers know it from phones' "add network" screens."""
    return security_choice(_ENGLISH, security)


def band(frequency: int) -> str:
    """The WiFi band of a frequency in MHz, or an empty string for one outside every band."""
    for low, high, name in _BANDS:
        if low <= frequency <= high:
            return name
    return ""


def text_width(text: str) -> int:
    """Terminal columns a string takes: wide East Asian characters two, combining marks none."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def _pad(text: str, width: int, *, right: bool) -> str:
    """Pad to `width` terminal columns."""
    padding = " " * max(0, width - text_width(text))
    return padding + text if right else text + padding


def table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """Left-aligned columns (numbers right-aligned) sized to their widest cell."""
    widths = [
        max(text_width(row[column]) for row in (header, *rows)) for column in range(len(header))
    ]
    lines = []
    for row in (header, *rows):
        cells = [
            _pad(cell, widths[column], right=column in _RIGHT_ALIGNED)
            for column, cell in enumerate(row)
        ]
        lines.append(_COLUMN_GAP.join(cells).rstrip())
    return "\n".join(lines)


def scan_table(networks: Sequence[WifiNetwork]) -> str:
    """The networks in range, one row per name the portal lists, as `wifi-connect scan` prints."""
    if not networks:
        return "No networks in range."
    rows = [
        (
            network.display_ssid,
            f"{network.strength}%",
            band(network.frequency),
            f"{network.frequency} MHz" if network.frequency else "",
            security_words(network.security),
        )
        for network in unique_networks(networks)
    ]
    return table(_SCAN_HEADER, rows)


def import_line(status: ImportStatus, filename: str, detail: str) -> str:
    """One file's line of the import report; a file's name and its keys' text shown inert."""
    return f"{status.value:<8}  {inert_text(filename)}: {inert_text(detail)}"


def country_line(filename: str, detail: str) -> str:
    """The import report's line for the country a boot config.json gave."""
    return f"{'country':<8}  {inert_text(filename)}: {inert_text(detail)}"


def as_line(sentence: str) -> str:
    """A sentence of the portal as the tail of a `wifi-connect: ...` line: no capital, no period."""
    words = sentence.split(" ", 1)
    # Only an ordinary word is lowered: an SSID or an acronym keeps its spelling.
    if words[0][:1].isupper() and words[0][1:].islower():
        sentence = words[0].lower() + sentence[len(words[0]) :]
    return sentence.removesuffix(".")


def failure_line(failure: FailureKind, ssid: str) -> str:
    """Why joining `ssid` failed, worded as the portal words it."""
    return as_line(failure_text(_ENGLISH, failure, ssid))


def blocked_line(services: Sequence[Service], ssid: str) -> str:
    """Why a network the device joined was given up: the services it blocks."""
    words = [_BLOCKED_WORDS[service] for service in services]
    listed = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
    return f"connected to '{ssid}', but it blocks {listed}; the new profile was removed"


def import_summary(counts: Mapping[ImportStatus, int]) -> str:
    """The last line of the import report: how many files ended each way."""
    words = {ImportStatus.ERROR: "with errors"}
    parts = (f"{counts.get(status, 0)} {words.get(status, status)}" for status in ImportStatus)
    return ", ".join(parts) + "."


def check_report(results: Sequence[CheckResult]) -> str:
    """The report of `check` and `add`: one line per check, then a verdict."""
    width = max((len(result.target) for result in results), default=0)
    lines = []
    for result in results:
        latency = "" if result.latency_ms is None else f"{result.latency_ms:.0f} ms"
        verdict = "ok" if result.ok else "FAILED"
        line = f"{result.service!s:<5}  {result.target:<{width}}  {verdict:<6}  {latency:>8}"
        if result.reason:
            line += f"  {result.reason}"
        lines.append(line.rstrip())
    blocked = blocked_services(results)
    if blocked:
        lines.append("Blocked on this network: " + ", ".join(str(s).upper() for s in blocked))
    else:
        lines.append("Every check passed.")
    return "\n".join(lines)
