"""A private dbus-daemon, the simulator on it, and a raw dbus-next client to poke it with."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
from dbus_next.aio.message_bus import MessageBus
from dbus_next.signature import Variant

from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from tests.simulator.rawclient import MANAGER, NM, Client
from tests.simulator.world import CORP, FAILING, HIDDEN, HOME, OFFICE, scenario

SETTINGS = "/org/freedesktop/NetworkManager/Settings"
DEVICE = f"{NM}.Device"
WIRELESS = f"{NM}.Device.Wireless"
ACTIVE = f"{NM}.Connection.Active"
CONNECTION = f"{NM}.Settings.Connection"
AP = f"{NM}.AccessPoint"

NETWORKS: list[dict[str, Any]] = [
    HOME,
    {"ssid": "Cafe", "security": "open", "strength": 60, "connectivity": "portal"},
    OFFICE,
    CORP,
    {"ssid": "Legacy", "security": "wep", "passphrase": "abcde"},
    *FAILING,
    HIDDEN,
]


def scenario_dict(**changes: Any) -> dict[str, Any]:
    """The tests' usual scenario, with top-level keys replaced."""
    return scenario(NETWORKS, **changes)


@pytest.fixture
async def client(private_bus: PrivateBus) -> AsyncIterator[Client]:
    bus = await MessageBus(bus_address=private_bus.address).connect()
    wrapped = Client(bus)
    await wrapped.watch()
    try:
        yield wrapped
    finally:
        bus.disconnect()


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """Override in a test module (or parametrize) to change the scenario."""
    return scenario_dict()


@pytest.fixture
async def sim(
    private_bus: PrivateBus, scenario_data: dict[str, Any], client: Client
) -> AsyncIterator[SimulatedNetworkManager]:
    async with SimulatedNetworkManager.start(
        private_bus.address, parse_scenario(scenario_data)
    ) as simulator:
        yield simulator


def wifi_settings(
    ssid: bytes,
    *,
    key_mgmt: str | None = None,
    psk: str | None = None,
    hidden: bool = False,
    uuid: str = "3c8f2d9c-64a4-4b3a-9b4e-0d0c6c7b2a11",
    extra: dict[str, dict[str, Variant]] | None = None,
) -> dict[str, dict[str, Variant]]:
    """A client profile as a{sa{sv}}, the way the app builds one."""
    settings: dict[str, dict[str, Variant]] = {
        "connection": {
            "type": Variant("s", "802-11-wireless"),
            "id": Variant("s", ssid.decode(errors="replace")),
            "uuid": Variant("s", uuid),
            "autoconnect": Variant("b", True),
        },
        "802-11-wireless": {"ssid": Variant("ay", ssid), "mode": Variant("s", "infrastructure")},
        "ipv4": {"method": Variant("s", "auto")},
        "ipv6": {"method": Variant("s", "auto")},
    }
    if hidden:
        settings["802-11-wireless"]["hidden"] = Variant("b", True)
    if key_mgmt is not None:
        security = {"key-mgmt": Variant("s", key_mgmt)}
        if psk is not None:
            security["psk"] = Variant("s", psk)
        settings["802-11-wireless-security"] = security
    for name, values in (extra or {}).items():
        settings.setdefault(name, {}).update(values)
    return settings


def hotspot_settings(
    ssid: bytes = b"WiFi Connect", *, passphrase: str | None = None, interface: str = "wlan0"
) -> dict[str, dict[str, Variant]]:
    """The app's hotspot profile as a{sa{sv}}."""
    settings: dict[str, dict[str, Variant]] = {
        "connection": {
            "type": Variant("s", "802-11-wireless"),
            "id": Variant("s", "wifi-connect-hotspot"),
            "uuid": Variant("s", "9b1e0c9e-5a0e-4c8b-8f57-6d8f7f1d2c33"),
            "autoconnect": Variant("b", False),
            "interface-name": Variant("s", interface),
        },
        "802-11-wireless": {
            "ssid": Variant("ay", ssid),
            "mode": Variant("s", "ap"),
            "band": Variant("s", "bg"),
        },
        "ipv4": {
            "method": Variant("s", "manual"),
            "address-data": Variant(
                "aa{sv}", [{"address": Variant("s", "192.168.42.1"), "prefix": Variant("u", 24)}]
            ),
        },
        "ipv6": {"method": Variant("s", "ignore")},
    }
    if passphrase is not None:
        settings["802-11-wireless-security"] = {
            "key-mgmt": Variant("s", "wpa-psk"),
            "psk": Variant("s", passphrase),
            "proto": Variant("as", ["rsn"]),
            "pairwise": Variant("as", ["ccmp"]),
            "group": Variant("as", ["ccmp"]),
        }
    return settings


async def add(client: Client, settings: dict[str, dict[str, Variant]]) -> str:
    (path,) = await client.call(
        SETTINGS, f"{NM}.Settings", "AddConnection", "a{sa{sv}}", [settings]
    )
    return str(path)


async def first_device(client: Client) -> str:
    (devices,) = await client.call(MANAGER, NM, "GetDevices")
    return str(devices[0])
