"""`wifi-connect scan` with hostile names in the air (tests/hostile.py): inert, byte for byte."""

from __future__ import annotations

import json

import pytest

from app.rules import display_ssid
from app.simulator import SimulatedNetworkManager
from tests.cli.helpers import Cli, scenario
from tests.hostile import HOSTILE_BYTES, raw_forbidden

# Every hostile name in range at once, each a different strength so the order is known.
HOSTILE_SCENARIO = scenario(
    networks=[
        {"ssid_hex": raw.hex(), "security": "wpa-psk", "passphrase": "x" * 8, "strength": 90 - i}
        for i, raw in enumerate(HOSTILE_BYTES)
    ]
)


@pytest.mark.parametrize("scenario_data", [HOSTILE_SCENARIO])
async def test_scan_table_shows_hostile_names_inert(cli: Cli, sim: SimulatedNetworkManager) -> None:
    """The table: one row per name, starting with the name as display_ssid shows it."""
    result = await cli("scan")

    assert (result.status, result.err) == (0, "")
    rows = result.out.splitlines()[1:]
    assert len(rows) == len(HOSTILE_BYTES)
    for row, raw in zip(rows, HOSTILE_BYTES, strict=True):
        assert row.startswith(display_ssid(raw) + " "), (row, raw)
    assert raw_forbidden(result.out) == []


@pytest.mark.parametrize("scenario_data", [HOSTILE_SCENARIO])
async def test_scan_json_carries_hostile_names_byte_for_byte(
    cli: Cli, sim: SimulatedNetworkManager
) -> None:
    """--json: the same names as GET /networks, exactly."""
    result = await cli("scan", "--json")

    assert (result.status, result.err) == (0, "")
    assert [entry["ssid"] for entry in json.loads(result.out)] == [
        display_ssid(raw) for raw in HOSTILE_BYTES
    ]
    assert raw_forbidden(result.out) == []
