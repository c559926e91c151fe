"""nm_version: an older NetworkManager's D-Bus API, what came later hidden everywhere."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest
from dbus_next.signature import Variant

from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario

from .conftest import (
    ACTIVE,
    CONNECTION,
    DEVICE,
    MANAGER,
    NM,
    SETTINGS,
    WIRELESS,
    Client,
    add,
    first_device,
    scenario_dict,
    wifi_settings,
)

PROPERTIES = "org.freedesktop.DBus.Properties"
IP4CONFIG = f"{NM}.IP4Config"


def _introspected(xml: str, interface: str) -> set[str]:
    """The names of every method, signal and property of one interface in introspection XML."""
    root = ET.fromstring(xml)
    return {
        str(member.get("name"))
        for node in root.iter("interface")
        if node.get("name") == interface
        for member in node
    }


async def _get_all(client: Client, path: str, interface: str) -> dict[str, Any]:
    (values,) = await client.call(path, PROPERTIES, "GetAll", "s", [interface])
    return {name: variant.value for name, variant in values.items()}


async def _introspect(client: Client, path: str, interface: str) -> set[str]:
    (xml,) = await client.call(path, "org.freedesktop.DBus.Introspectable", "Introspect")
    return _introspected(xml, interface)


async def _active(client: Client, ssid: bytes, psk: str) -> str:
    connection = await add(client, wifi_settings(ssid, key_mgmt="wpa-psk", psk=psk))
    device = await first_device(client)
    (active,) = await client.call(
        MANAGER, NM, "ActivateConnection", "ooo", [connection, device, "/"]
    )
    return str(active)


# (interface, path kind, member): what NetworkManager 1.10 does not have yet.
NEWER_THAN_1_10 = [
    (WIRELESS, "device", "LastScan"),
    (DEVICE, "device", "Ip4Connectivity"),
    (DEVICE, "device", "HwAddress"),
    (DEVICE, "device", "Ports"),
    (NM, "manager", "VersionInfo"),
    (NM, "manager", "RadioFlags"),
]


@pytest.mark.parametrize("scenario_data", [scenario_dict(nm_version="1.10")])
@pytest.mark.parametrize(("interface", "kind", "member"), NEWER_THAN_1_10)
async def test_a_newer_property_is_gone_from_get_getall_and_introspection(
    sim: SimulatedNetworkManager, client: Client, interface: str, kind: str, member: str
) -> None:
    path = MANAGER if kind == "manager" else await first_device(client)

    name, message = await client.error(path, PROPERTIES, "Get", "ss", [interface, member])
    assert (name, message) == (
        "org.freedesktop.DBus.Error.InvalidArgs",
        f"No such property \u201c{member}\u201d",
    )
    everything = await _get_all(client, path, interface)
    assert member not in everything
    assert everything  # the older properties are all still there
    assert member not in await _introspect(client, path, interface)


@pytest.mark.parametrize(
    "scenario_data", [scenario_dict(nm_version="1.52"), scenario_dict(nm_version="1.42")]
)
@pytest.mark.parametrize(("interface", "kind", "member"), NEWER_THAN_1_10)
async def test_a_current_nm_has_them_all(
    sim: SimulatedNetworkManager, client: Client, interface: str, kind: str, member: str
) -> None:
    path = MANAGER if kind == "manager" else await first_device(client)

    assert member in await _get_all(client, path, interface)
    assert member in await _introspect(client, path, interface)
    await client.get(path, interface, member)


@pytest.mark.parametrize(
    "error",
    ["org.freedesktop.DBus.Error.UnknownProperty", "org.freedesktop.DBus.Error.UnknownMethod"],
)
async def test_the_scenario_chooses_the_missing_property_error(
    private_bus: PrivateBus, client: Client, error: str
) -> None:
    data = scenario_dict(nm_version="1.10", missing_property_error=error)
    async with SimulatedNetworkManager.start(private_bus.address, parse_scenario(data)):
        device = await first_device(client)
        hidden = await client.error(device, PROPERTIES, "Get", "ss", [WIRELESS, "LastScan"])
        unknown = await client.error(device, PROPERTIES, "Get", "ss", [WIRELESS, "Nonsense"])
    assert hidden == (error, "No such property \u201cLastScan\u201d")
    assert unknown[0] == error


@pytest.mark.parametrize("scenario_data", [scenario_dict(nm_version="1.10")])
async def test_profiles_and_ip4_configs_of_1_10(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    active = await _active(client, b"Home", "password1")
    await client.wait_for(
        lambda s: s.path == active and s.member == "StateChanged" and s.body[0] == 2
    )
    connection = str(await client.get(active, ACTIVE, "Connection"))
    config = str(await client.get(active, ACTIVE, "Ip4Config"))

    profile = await _get_all(client, connection, CONNECTION)
    assert "Filename" not in profile
    assert "Flags" not in profile
    assert profile["Unsaved"] is False
    ip4 = await _get_all(client, config, IP4CONFIG)
    assert "NameserverData" not in ip4
    assert ip4["Nameservers"]
    assert "StateFlags" in await _get_all(client, active, ACTIVE)
    assert (await client.get(MANAGER, NM, "Version")) == "1.10.0"
    # No PropertiesChanged ever carried what this NetworkManager lacks.
    for seen in client.named(PROPERTIES, "PropertiesChanged"):
        assert not {"Filename", "Flags", "NameserverData", "Ip4Connectivity"} & set(seen.body[1])


@pytest.mark.parametrize("scenario_data", [scenario_dict(nm_version="1.10")])
async def test_a_scan_of_1_10_moves_no_last_scan(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    await client.call(device, WIRELESS, "RequestScan", "a{sv}", [{}])
    # The scan refreshes every access point it sees (LastSeen), then LastScan at once: the
    # round trip wait_for makes after its match brings in whatever came with it.
    await client.wait_for(lambda s: s.member == "PropertiesChanged" and "LastSeen" in s.body[1])
    for seen in client.named(PROPERTIES, "PropertiesChanged"):
        assert "LastScan" not in seen.body[1]


@pytest.mark.parametrize("scenario_data", [scenario_dict(nm_version="1.6")])
async def test_before_1_8_an_activation_moves_only_through_properties_changed(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    active = await _active(client, b"Home", "password1")

    await client.wait_for(
        lambda s: s.path == active and s.member == "PropertiesChanged" and s.body[1] == {"State": 2}
    )
    assert client.named(ACTIVE, "StateChanged") == []
    assert "StateChanged" not in await _introspect(client, active, ACTIVE)
    assert "StateFlags" not in await _get_all(client, active, ACTIVE)


@pytest.mark.parametrize("scenario_data", [scenario_dict(nm_version="1.18")])
async def test_a_newer_method_is_unknown(sim: SimulatedNetworkManager, client: Client) -> None:
    settings = wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1")

    name, message = await client.error(
        SETTINGS, f"{NM}.Settings", "AddConnection2", "a{sa{sv}}ua{sv}", [settings, 1, {}]
    )

    assert (name, message) == (
        "org.freedesktop.DBus.Error.UnknownMethod",
        "No such method \u201cAddConnection2\u201d",
    )
    assert "AddConnection2" not in await _introspect(client, SETTINGS, f"{NM}.Settings")
    assert sim.connections == ()


@pytest.mark.parametrize(
    ("flags", "args", "outcome"),
    [
        (0x1, {}, "saved"),
        (0x2 | 0x20, {"plugin": Variant("s", "keyfile")}, "unsaved"),
        (0x0, {}, "Requires either to-disk (0x1) or in-memory (0x2) flags"),
        (0x3, {}, "Cannot set to-disk (0x1) and in-memory (0x2) flags together"),
        (0x1 | 0x100, {}, "Unknown flags"),
        (0x1, {"volatile": Variant("b", True)}, "Unsupported argument 'volatile'"),
    ],
)
async def test_add_connection2_of_1_20(
    sim: SimulatedNetworkManager,
    client: Client,
    flags: int,
    args: dict[str, Variant],
    outcome: str,
) -> None:
    settings = wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1")
    call = (
        SETTINGS,
        f"{NM}.Settings",
        "AddConnection2",
        "a{sa{sv}}ua{sv}",
        [settings, flags, args],
    )

    if outcome in ("saved", "unsaved"):
        path, result = await client.call(*call)
        (stored,) = sim.connections
        assert (stored.path, stored.unsaved, result) == (path, outcome == "unsaved", {})
    else:
        error = await client.error(*call)
        assert error == (f"{NM}.Settings.InvalidArguments", outcome)
