"""The adapter under test, talking to the simulator over a real private dbus-daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus, SimulatedNetworkManager
from tests.nm.helpers import NMProbe
from tests.simulator import world
from tests.simulator.world import CORP, FAILING, HIDDEN, HOME, OFFICE

NETWORKS: list[dict[str, Any]] = [
    HOME,
    {**HOME, "strength": 35},
    {"ssid": "Cafe", "security": "open", "strength": 60},
    OFFICE,
    CORP,
    {"ssid_hex": "436166e9", "security": "wpa-psk+sae", "passphrase": "password1", "strength": 20},
    *FAILING,
    HIDDEN,
]


def scenario(**changes: Any) -> dict[str, Any]:
    """The tier's usual scenario with top-level keys replaced."""
    return world.scenario(NETWORKS, **changes)


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the simulated world."""
    return scenario()


@pytest.fixture
async def system_bus(private_bus: PrivateBus) -> AsyncIterator[SystemBus]:
    async with SystemBus(private_bus.address) as bus:
        yield bus


@pytest.fixture
async def nm(sim: SimulatedNetworkManager, system_bus: SystemBus) -> NetworkManagerClient:
    return await NetworkManagerClient.connect(system_bus, timeout=5)


@pytest.fixture
def probe(system_bus: SystemBus) -> NMProbe:
    return NMProbe(system_bus)
