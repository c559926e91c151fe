"""--qr-file on the simulated radio: the code is written each time the hotspot comes up."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import aiohttp
import pytest

from app.flow.state import FlowState
from app.nm.models import FailureKind
from tests.portal.simulated import simulated_portal
from tests.qr_decode import decode_png, decode_svg, parse_wifi
from tests.support import eventually

SSID = 'Kiosk; "0042", floor: 3\\'
PASSPHRASE = 'label:12;34,"56"\\78'
SCENARIO = {
    "activation_delay_ms": 10,
    "deactivation_delay_ms": 10,
    "scan_delay_ms": 30,
    "devices": [{"interface": "wlan0"}],
    "networks": [
        {
            "ssid": "Refuser",
            "security": "wpa-psk",
            "passphrase": "never matters",
            "failure": "wrong_password",
            "strength": 60,
        },
    ],
}


@pytest.mark.parametrize("name", ["join.svg", "join.png"])
async def test_the_code_is_written_when_the_hotspot_comes_up_and_comes_back(
    tmp_path: Path, name: str
) -> None:
    path = tmp_path / name
    decode = decode_png if name.endswith(".png") else decode_svg
    async with simulated_portal(SCENARIO, ssid=SSID, passphrase=PASSPHRASE, qr_file=path) as portal:
        # Written before the portal serves: a kiosk showing it never shows a stale code.
        assert parse_wifi(decode(path.read_bytes())) == {"T": "WPA", "S": SSID, "P": PASSPHRASE}
        path.unlink()
        async with aiohttp.ClientSession() as session:
            answer = await session.post(
                f"{portal.url}connect", json={"ssid": "Refuser", "passphrase": "not the one"}
            )
            assert answer.status == 200

        def hotspot_back() -> bool:
            status = portal.flow.status()
            last = status.last_attempt
            return status.state is FlowState.PORTAL and last is not None and not last.ok

        await eventually(hotspot_back)
        assert portal.flow.status().last_attempt is not None
        assert portal.flow.status().last_attempt.failure is FailureKind.WRONG_PASSWORD
        # The hotspot came back: its code is there again, whole.
        assert parse_wifi(decode(path.read_bytes())) == {"T": "WPA", "S": SSID, "P": PASSPHRASE}
    assert os.listdir(tmp_path) == [name]


async def test_an_open_hotspots_code_and_a_file_that_cannot_be_written(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # A directory where the file should go: the write fails, the portal serves all the same.
    blocked = tmp_path / "blocked.svg"
    blocked.mkdir()
    caplog.set_level(logging.INFO, logger="app.flow.provision")
    async with simulated_portal(SCENARIO, ssid="Open: lobby", qr_file=blocked) as portal:
        async with aiohttp.ClientSession() as session:
            page = await session.get(portal.url)
            assert page.status == 200
        assert portal.flow.status().state is FlowState.PORTAL
    errors = [r.getMessage() for r in caplog.records if r.levelno == logging.ERROR]
    assert errors == [f"Could not write the QR code to {blocked}: Is a directory"]
    assert os.listdir(tmp_path) == ["blocked.svg"]
    assert os.listdir(blocked) == []

    path = tmp_path / "open.svg"
    async with simulated_portal(SCENARIO, ssid="Open: lobby", qr_file=path):
        assert parse_wifi(decode_svg(path.read_bytes())) == {"T": "nopass", "S": "Open: lobby"}
