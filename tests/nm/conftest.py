"""The adapter under test, talking to the simulator over a real private dbus-daemon."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus, SimulatedNetworkManager
from tests.nm.helpers import NMProbe

# Milliseconds: fast enough for the suite, slow enough that signals and reads interleave.
FAST: dict[str, Any] = {"activation_delay_ms": 40, "deactivation_delay_ms": 5, "scan_delay_ms": 60}

NETWORKS: list[dict[str, Any]] = [
    {"ssid": "Home", "security": "wpa-psk", "passphrase": "password1", "strength": 80},
    {"ssid": "Home", "security": "wpa-psk", "passphrase": "password1", "strength": 35},
    {"ssid": "Cafe", "security": "open", "strength": 60},
    {"ssid": "Office", "security": "sae", "passphrase": "sae-secret", "strength": 50},
    {"ssid": "Corp", "security": "wpa-eap", "identity": "alice", "passphrase": "pw-alice"},
    {"ssid_hex": "436166e9", "security": "wpa-psk+sae", "passphrase": "password1", "strength": 20},
    {
        "ssid": "Refuser",
        "security": "wpa-psk",
        "passphrase": "whatever1",
        "failure": "wrong_password",
    },
    {"ssid": "NoDhcp", "security": "wpa-psk", "passphrase": "password1", "failure": "dhcp_fails"},
    {"ssid": "Hangs", "security": "open", "failure": "hang"},
    {"ssid": "Ghost", "security": "open", "failure": "not_found"},
    {"ssid": "Secret", "security": "wpa-psk", "passphrase": "password1", "hidden": True},
]


def scenario(**changes: Any) -> dict[str, Any]:
    """The tier's usual scenario with top-level keys replaced."""
    return {**FAST, "devices": [{"interface": "wlan0"}], "networks": NETWORKS, **changes}


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
