"""Hostile access-point names (tests/hostile.py) in the CLI's table and the log lines on stderr.

stderr is what journald (or a container runtime) stores and an installer's terminal shows, so a
log line there is both the logs and the journal. A name shows as display_ssid gives it, and no
control byte, ANSI escape or bidi override reaches the terminal raw, whoever logged what.
"""

from __future__ import annotations

import io
import logging

import pytest

from app import commands
from app.__main__ import main
from app.cli_output import ImportStatus, import_line, scan_table
from app.errors import WifiConnectError
from app.exitcodes import ExitStatus
from app.logs import PLAIN_FORMAT, InertFormatter
from app.rules import display_ssid, inert_text
from app.wifi import SecurityKind
from tests.hostile import HOSTILE_BYTES, HOSTILE_IDS, HOSTILE_SSIDS, raw_forbidden
from tests.portal.helpers import network

each_name = pytest.mark.parametrize("ssid", HOSTILE_BYTES, ids=HOSTILE_IDS)


@each_name
def test_display_is_inert_and_one_line(ssid: bytes) -> None:
    """The shown name holds nothing a terminal obeys or a page runs through its layout."""
    shown = display_ssid(ssid)
    assert raw_forbidden(shown) == []
    assert "\n" not in shown and "\t" not in shown
    # Showing it again for a log line changes nothing: the log shows what the page shows.
    assert inert_text(shown) == shown


@each_name
def test_scan_table_shows_the_name_byte_for_byte(ssid: bytes) -> None:
    """`wifi-connect scan`'s table: one row holding the shown name, nothing raw."""
    table = scan_table(
        [network(ssid, SecurityKind.WPA_PSK, 70), network(b"Home", SecurityKind.OPEN, 60)]
    )
    lines = table.splitlines()
    assert len(lines) == 3
    assert lines[1].startswith(display_ssid(ssid) + " ")
    assert raw_forbidden(table) == []


def _log_line(message: str, *args: object) -> str:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(InertFormatter(PLAIN_FORMAT))
    logger = logging.getLogger("app.test_hostile_names")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        logger.warning(message, *args)
    finally:
        logger.removeHandler(handler)
    return stream.getvalue()


@each_name
def test_a_log_line_quoting_the_shown_name_keeps_it_byte_for_byte(ssid: bytes) -> None:
    """The app logs names as display_ssid shows them: the journal has them exactly so."""
    line = _log_line("Attempt to join '%s' failed: %s", display_ssid(ssid), "timeout")
    quoted = f"Attempt to join '{display_ssid(ssid)}' failed: timeout"
    assert line == f"WARNING app.test_hostile_names: {quoted}\n"


@each_name
def test_a_log_line_quoting_raw_text_is_made_inert(ssid: bytes) -> None:
    """Even text logged raw (a header, a path, a decoded name) reaches the terminal inert."""
    raw = ssid.decode("utf-8", errors="replace")
    line = _log_line("Captive redirect of %s", raw)
    assert raw_forbidden(line) == []
    assert line.count("\n") == 1


@each_name
def test_an_import_line_shows_a_hostile_file_name_inert(ssid: bytes) -> None:
    """`wifi-connect import` names each file: a file's name is anyone's choice."""
    name = ssid.decode("utf-8", errors="replace") + ".nmconnection"
    line = import_line(ImportStatus.ERROR, name, f"[wifi] ssid: {name}")
    assert raw_forbidden(line) == []
    assert line.startswith(f"error     {inert_text(name)}: ")


@each_name
def test_an_error_ending_a_command_reaches_the_terminal_inert(
    ssid: bytes, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The last line a command prints: dnsmasq's own words, a port holder's name, NM's text."""
    text = ssid.decode("utf-8", errors="replace")

    async def fails(*_: object) -> int:
        raise WifiConnectError(f"dnsmasq failed: {text}")

    monkeypatch.setattr(commands, "execute", fails)
    assert main(["scan"]) == ExitStatus.FAILED
    err = capsys.readouterr().err
    assert raw_forbidden(err) == []
    assert err == f"wifi-connect: dnsmasq failed: {inert_text(text)}\n"


def test_the_list_covers_every_kind_the_issue_names() -> None:
    """Script, attribute breakers, bidi, zero-width joiners, formats, ANSI, 32 bytes of emoji."""
    kinds = " ".join(HOSTILE_IDS)
    for kind in ("script", "attribute", "bidi", "zero-width joiner", "format", "ANSI", "emoji"):
        assert kind in kinds
    assert any(len(raw) == 32 and "emoji" in name for name, raw in HOSTILE_SSIDS)
