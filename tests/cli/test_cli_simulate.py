"""`wifi-connect simulate`: the flow of `run` itself, provision(), on the simulator's bus."""

from __future__ import annotations

import asyncio
import logging
import shutil
import socket
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiohttp import ClientSession

from app import commands
from app.config import Config
from app.errors import WifiConnectError
from app.exitcodes import ExitStatus
from app.flow import provision
from app.flow.timing import Timings
from app.simulator import parse_scenario
from tests.cli.helpers import FAST
from tests.support import eventually, free_port

pytestmark = pytest.mark.skipif(shutil.which("dbus-daemon") is None, reason="needs dbus-daemon")

SCENARIO: dict[str, Any] = {
    **FAST,
    "devices": [{"interface": "wlan0"}],
    "networks": [{"ssid": "Home", "security": "wpa-psk", "passphrase": "password1"}],
}


@pytest.fixture
async def http() -> AsyncIterator[ClientSession]:
    async with ClientSession() as session:
        yield session


async def _status(http: ClientSession, url: str) -> dict[str, Any]:
    async with http.get(url + "status") as response:
        body: dict[str, Any] = await response.json()
        return body


async def test_simulate_serves_the_portal_and_joins_what_the_phone_sends(
    http: ClientSession, capsys: pytest.CaptureFixture[str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    command = commands.Simulate(scenario=parse_scenario(SCENARIO), port=port)
    demo = asyncio.create_task(commands.execute(command, Config(), Timings(answer_grace=0.0)))
    try:
        await eventually(lambda: "open http://" in capsys.readouterr().out, what="the portal")
        assert (await _status(http, url))["state"] == "portal"
        body = {"ssid": "Home", "passphrase": "password1"}
        async with http.post(url + "connect", json=body) as response:
            assert response.status == 200

        async def connected() -> bool:
            return (await _status(http, url))["state"] == "connected"

        await eventually(connected, what="connected")
        assert (await _status(http, url))["last_attempt"]["ok"] is True
    finally:
        demo.cancel()
        assert await asyncio.gather(demo, return_exceptions=True) != [ExitStatus.FAILED]


@pytest.mark.parametrize(
    ("country", "seen"),
    [(None, {"Six", "Thirteen", "Thirty-six"}), ("US", {"Six", "Thirty-six"})],
    ids=["no-country", "US"],
)
async def test_simulate_lists_what_the_country_allows(
    http: ClientSession, capsys: pytest.CaptureFixture[str], country: str | None, seen: set[str]
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    scenario = parse_scenario(
        {
            **SCENARIO,
            "networks": [
                {"ssid": "Six", "security": "open", "frequency": 2437},
                {"ssid": "Thirteen", "security": "open", "frequency": 2472},
                {"ssid": "Thirty-six", "security": "open", "frequency": 5180},
            ],
        }
    )
    command = commands.Simulate(scenario=scenario, port=port)
    demo = asyncio.create_task(
        commands.execute(command, Config(country=country), Timings(answer_grace=0.0))
    )
    try:
        await eventually(lambda: "open http://" in capsys.readouterr().out, what="the portal")
        async with http.get(url + "networks") as response:
            listed = await response.json()
        assert {network["ssid"] for network in listed} == seen
    finally:
        demo.cancel()
        await asyncio.gather(demo, return_exceptions=True)


async def test_a_failure_in_the_shared_flow_ends_simulate_with_it(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(*args: object) -> ExitStatus:
        raise WifiConnectError("injected into the flow's portal loop")

    # _serve is the portal loop of provision() alone: simulate can only reach it through there.
    monkeypatch.setattr(provision, "_serve", broken)
    port = free_port()
    command = commands.Simulate(scenario=parse_scenario(SCENARIO), port=port)
    with (
        caplog.at_level(logging.INFO, logger="app"),
        pytest.raises(WifiConnectError, match="injected into the flow's portal loop"),
    ):
        await commands.execute(command, Config())
    # provision() cleaned up after itself: the hotspot is gone and so is the portal's socket.
    assert "Hotspot profile removed" in caplog.text
    with socket.socket() as again:
        again.bind(("127.0.0.1", port))
