"""The pure formatting of the installer commands: table columns, bands and one-line reasons."""

from __future__ import annotations

import pytest

from app.cli_output import (
    ImportStatus,
    as_line,
    band,
    blocked_line,
    failure_line,
    import_summary,
    scan_table,
    text_width,
)
from app.flow.state import Service
from app.nm.models import FailureKind, WifiNetwork
from app.wifi import SecurityKind


@pytest.mark.parametrize(
    ("frequency", "expected"),
    [(2412, "2.4 GHz"), (2484, "2.4 GHz"), (5180, "5 GHz"), (5885, "5 GHz"), (5955, "6 GHz"),
     (7115, "6 GHz"), (58320, "60 GHz"), (0, ""), (900, "")],
)  # fmt: skip
def test_band_of_a_frequency(frequency: int, expected: str) -> None:
    assert band(frequency) == expected


def test_text_width_counts_terminal_columns() -> None:
    assert text_width("Cafe") == 4
    assert text_width("咖啡店") == 6
    assert text_width("Cafe\u0301") == 4


def test_scan_table_aligns_wide_names() -> None:
    networks = [
        WifiNetwork("咖啡店".encode(), 90, 2412, "", SecurityKind.WPA_PSK),
        WifiNetwork(b"Open", 5, 0, "", SecurityKind.OPEN),
    ]
    assert scan_table(networks).splitlines() == [
        "SSID    SIGNAL  BAND     FREQUENCY  SECURITY",
        "咖啡店     90%  2.4 GHz  2412 MHz   WPA/WPA2 Personal",
        "Open        5%                      None (open)",
    ]


@pytest.mark.parametrize(
    ("failure", "expected"),
    [
        (FailureKind.WRONG_PASSWORD, "the password for 'Cafe' was not accepted"),
        (FailureKind.NOT_FOUND, "'Cafe' was not found. Is it in range?"),
        (FailureKind.NO_ADDRESS, "'Cafe' gave the device no address"),
        (FailureKind.TIMEOUT, "joining 'Cafe' took too long"),
        (FailureKind.OTHER, "the device could not join 'Cafe'"),
    ],
)
def test_failure_lines_reuse_the_portal_wording(failure: FailureKind, expected: str) -> None:
    assert failure_line(failure, "Cafe") == expected


def test_as_line_keeps_names_and_acronyms() -> None:
    assert as_line("WPA is old.") == "WPA is old"
    assert as_line("Joining took long.") == "joining took long"


def test_blocked_line_lists_every_service() -> None:
    assert blocked_line([Service.HTTPS, Service.NTP, Service.DNS], "Cafe") == (
        "connected to 'Cafe', but it blocks HTTPS (TCP 443), time servers (UDP 123) and "
        "name lookups (UDP 53); the new profile was removed"
    )


def test_import_summary_names_every_outcome() -> None:
    counts = {ImportStatus.IMPORTED: 2, ImportStatus.ERROR: 1}
    assert import_summary(counts) == "2 imported, 0 updated, 0 skipped, 1 with errors."
