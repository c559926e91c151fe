"""POST /rescan against the real flow on the simulator: one scan for phones asking at once, and a
clean 409 while the flow has not found its device yet."""

from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import aiohttp
import pytest

from app.flow.provision import Provisioner
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from tests.portal.helpers import GATEWAY, ClientFactory, make_config
from tests.portal.simulated import simulated_portal

# A second radio scans while the first is the access point; each scan takes a while, so phones
# asking together ask while one runs.
SCENARIO: dict[str, Any] = {
    "scan_delay_ms": 300,
    "devices": [{"interface": "wlan0", "ap_mode_scan": "works"}],
    "networks": [{"ssid": "Home", "security": "wpa-psk", "passphrase": "x" * 8, "strength": 70}],
}
PHONES = 20


async def _rescan(url: str, source: str) -> tuple[int, str]:
    """POST /rescan from a phone of its own; its status and body."""
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as phone,
        phone.post(f"{url}rescan") as response,
    ):
        return response.status, await response.text()


async def test_phones_rescanning_at_once_share_one_scan() -> None:
    async with simulated_portal(SCENARIO) as portal:
        before = portal.sim.calls("RequestScan")
        answers = await asyncio.gather(
            *(_rescan(portal.url, f"127.0.3.{n + 1}") for n in range(PHONES))
        )
        assert Counter(status for status, _ in answers) == {200: PHONES}, answers
        assert len({body for _, body in answers}) == 1
        assert portal.sim.calls("RequestScan") == before + 1
        # One after the other, each phone gets a scan of its own.
        assert (await _rescan(portal.url, "127.0.3.1"))[0] == 200
        assert (await _rescan(portal.url, "127.0.3.2"))[0] == 200
        assert portal.sim.calls("RequestScan") == before + 3


@asynccontextmanager
async def _network_manager() -> AsyncIterator[NetworkManagerClient]:
    """The adapter on a simulated NetworkManager over a private bus."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("the simulator needs dbus-daemon (apt-get install dbus)")
    async with (
        PrivateBus() as private_bus,
        SimulatedNetworkManager.start(private_bus.address, parse_scenario(SCENARIO)),
        SystemBus(private_bus.address) as bus,
    ):
        yield await NetworkManagerClient.connect(bus, timeout=5)


async def test_a_rescan_before_the_flow_found_its_device_is_409(
    aiohttp_client: ClientFactory,
) -> None:
    async with _network_manager() as nm:
        config = make_config()
        flow = Provisioner(config, nm)
        portal = await aiohttp_client(create_app(config, flow), headers={"Host": GATEWAY})
        response = await portal.post("/rescan")
        assert response.status == 409, await response.text()
        assert "still starting" in (await response.json())["error"]
        await flow.prepare()
        response = await portal.post("/rescan")
        assert response.status == 200, await response.text()
        assert [network["ssid"] for network in await response.json()] == ["Home"]
