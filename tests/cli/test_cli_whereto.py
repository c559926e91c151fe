"""--portal-next-url / PORTAL_NEXT_URL on the command line, and `simulate` saying where the
device will be (its scenario's Avahi beside the simulated NetworkManager)."""

from __future__ import annotations

import asyncio
import dataclasses
from typing import Any

import pytest
from aiohttp import ClientSession

from app import commands
from app.config import Config
from app.exitcodes import ExitStatus
from app.flow.timing import Timings
from app.simulator import parse_scenario
from tests.cli.helpers import FAST, Cli
from tests.support import eventually, free_port


@pytest.mark.parametrize("source", ["flag", "env"])
async def test_a_bad_next_url_exits_2_naming_the_flag_and_the_variable(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, source: str
) -> None:
    bad = "ftp://fleet.example.com/{hostname}"
    if source == "env":
        monkeypatch.setenv("PORTAL_NEXT_URL", bad)
        result = await cli("run")
    else:
        result = await cli("--portal-next-url", bad, "run")
    assert result.status == ExitStatus.BAD_CONFIG
    assert len(result.err_lines) == 1, result.err
    assert result.err_lines[0].startswith(
        "wifi-connect: error: --portal-next-url / PORTAL_NEXT_URL: "
    )
    assert "is not an http:// or https:// URL" in result.err


async def test_simulate_says_where_the_device_will_be(
    capsys: pytest.CaptureFixture[str],
) -> None:
    scenario: dict[str, Any] = {
        **FAST,
        "avahi_host_name": "sensor-7",
        "devices": [{"interface": "wlan0"}],
        "networks": [{"ssid": "Home Net", "security": "wpa-psk", "passphrase": "password1"}],
    }
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    config = dataclasses.replace(Config(), next_url="https://fleet.example.com/{hostname}/{ssid}")
    command = commands.Simulate(scenario=parse_scenario(scenario), port=port)
    demo = asyncio.create_task(commands.execute(command, config, Timings(answer_grace=0.0)))
    try:
        await eventually(lambda: "open http://" in capsys.readouterr().out, what="the portal")
        async with ClientSession() as http:
            body = {"ssid": "Home Net", "passphrase": "password1"}
            async with http.post(url + "connect", json=body) as response:
                assert await response.json() == {
                    "status": "connecting",
                    "local_url": "http://sensor-7.local/",
                    "next_url": "https://fleet.example.com/sensor-7/Home%20Net",
                }
    finally:
        demo.cancel()
        assert await asyncio.gather(demo, return_exceptions=True) != [ExitStatus.FAILED]
