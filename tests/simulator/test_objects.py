"""The exported objects: NM's paths, names and signatures, properties, and NM-worded errors."""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest
from dbus_next.signature import Variant

from app.simulator import SimulatedNetworkManager

from .conftest import (
    AP,
    CONNECTION,
    DEVICE,
    MANAGER,
    NM,
    SETTINGS,
    WIRELESS,
    Client,
    add,
    first_device,
    hotspot_settings,
    scenario_dict,
    wifi_settings,
)

XML_DIR = Path("/usr/share/dbus-1/interfaces")


def _members(xml: str, interface: str) -> dict[str, tuple[str, ...]]:
    """kind:name -> argument signatures (with directions) of one interface in an XML document."""
    root = ET.fromstring(xml)
    found: dict[str, tuple[str, ...]] = {}
    for node in root.iter("interface"):
        if node.get("name") != interface:
            continue
        for member in node:
            if member.tag == "property":
                found[f"property:{member.get('name')}"] = (str(member.get("type")),)
            elif member.tag in ("method", "signal"):
                default = "out" if member.tag == "signal" else "in"
                args = tuple(
                    f"{arg.get('direction', default)}:{arg.get('type')}"
                    for arg in member.iter("arg")
                )
                found[f"{member.tag}:{member.get('name')}"] = args
    return found


@pytest.mark.parametrize(
    ("path_of", "interface"),
    [
        ("manager", NM),
        ("settings", f"{NM}.Settings"),
        ("device", DEVICE),
        ("device", WIRELESS),
        ("ap", AP),
        ("connection", CONNECTION),
        ("ip4", f"{NM}.IP4Config"),
        ("active", f"{NM}.Connection.Active"),
    ],
)
async def test_every_member_matches_nm_introspection_xml(
    sim: SimulatedNetworkManager, client: Client, path_of: str, interface: str
) -> None:
    reference = XML_DIR / f"{interface}.xml"
    if not reference.exists():
        pytest.skip(f"{reference} not installed (apt-get install network-manager-dev)")
    device = await first_device(client)
    paths = {
        "manager": MANAGER,
        "settings": SETTINGS,
        "device": device,
        "ap": (await client.call(device, WIRELESS, "GetAllAccessPoints"))[0][0],
        "connection": await add(client, hotspot_settings()),
        "ip4": await client.get(device, DEVICE, "Ip4Config"),
    }
    if path_of == "active":
        (paths["active"],) = await client.call(
            MANAGER, NM, "ActivateConnection", "ooo", [paths["connection"], device, "/"]
        )
    (ours,) = await client.call(paths[path_of], "org.freedesktop.DBus.Introspectable", "Introspect")
    exported = _members(ours, interface)
    expected = _members(reference.read_text(), interface)
    assert exported, f"{interface} not exported at {paths[path_of]}"
    for member, signature in exported.items():
        assert member in expected, f"{interface} has no {member}"
        assert signature == expected[member], member


async def test_manager_properties(sim: SimulatedNetworkManager, client: Client) -> None:
    (props,) = await client.call(MANAGER, "org.freedesktop.DBus.Properties", "GetAll", "s", [NM])
    values: dict[str, Any] = {k: v.value for k, v in props.items()}
    assert values["Version"] == "1.52.0"
    assert values["Startup"] is False
    assert values["State"] == 20
    assert values["Connectivity"] == 1
    assert values["PrimaryConnection"] == "/"
    assert values["ActiveConnections"] == []
    assert values["WirelessEnabled"] is True and values["NetworkingEnabled"] is True
    device = await first_device(client)
    assert values["Devices"] == [device]
    assert await client.call(MANAGER, NM, "GetAllDevices") == [[device]]
    assert await client.call(MANAGER, NM, "CheckConnectivity") == [1]
    assert await client.call(MANAGER, NM, "GetDeviceByIpIface", "s", ["wlan0"]) == [device]


async def test_wifi_device_properties(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    assert device.startswith("/org/freedesktop/NetworkManager/Devices/")
    assert await client.get(device, DEVICE, "Interface") == "wlan0"
    assert await client.get(device, DEVICE, "DeviceType") == 2
    assert await client.get(device, DEVICE, "State") == 30
    assert await client.get(device, DEVICE, "StateReason") == [30, 0]
    assert await client.get(device, DEVICE, "Managed") is True
    assert await client.get(device, DEVICE, "ActiveConnection") == "/"
    assert (await client.get(device, DEVICE, "Ip4Config")).startswith(
        "/org/freedesktop/NetworkManager/IP4Config/"
    )
    assert await client.get(device, WIRELESS, "HwAddress") == "02:00:00:00:00:01"
    assert await client.get(device, WIRELESS, "Mode") == 2
    assert await client.get(device, WIRELESS, "LastScan") == -1
    assert await client.get(device, WIRELESS, "WirelessCapabilities") & 0x40
    assert await client.get(device, WIRELESS, "ActiveAccessPoint") == "/"


@pytest.mark.parametrize(
    "scenario_data",
    [
        scenario_dict(
            devices=[
                {
                    "interface": "eth0",
                    "type": "ethernet",
                    "connected": True,
                    "connectivity": "limited",
                },
                {"interface": "wlan0"},
                {"interface": "wlan1", "managed": False},
                {"interface": "eth1", "type": "ethernet", "carrier": False},
            ]
        )
    ],
)
async def test_an_ethernet_uplink_is_up_from_the_start(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    eth0, wlan0, wlan1, eth1 = (await client.call(MANAGER, NM, "GetDevices"))[0]
    assert await client.get(eth0, DEVICE, "DeviceType") == 1
    assert await client.get(eth0, DEVICE, "State") == 100
    assert await client.get(eth0, f"{NM}.Device.Wired", "Carrier") is True
    assert await client.get(wlan1, DEVICE, "State") == 10
    assert await client.get(wlan1, DEVICE, "Managed") is False
    assert await client.get(eth1, DEVICE, "StateReason") == [20, 40]
    assert await client.get(MANAGER, NM, "State") == 60
    assert await client.get(MANAGER, NM, "Connectivity") == 3
    primary = await client.get(MANAGER, NM, "PrimaryConnection")
    assert await client.get(primary, f"{NM}.Connection.Active", "Id") == "Wired connection 1"
    assert await client.get(primary, f"{NM}.Connection.Active", "Type") == "802-3-ethernet"
    ip4 = await client.get(eth0, DEVICE, "Ip4Config")
    assert await client.get(ip4, f"{NM}.IP4Config", "Gateway") == "10.77.0.1"
    assert await client.get(ip4, f"{NM}.IP4Config", "AddressData") == [
        {"address": "10.77.0.2", "prefix": 24}
    ]
    assert await client.get(wlan0, DEVICE, "State") == 30
    (paths,) = await client.call(SETTINGS, f"{NM}.Settings", "ListConnections")
    assert len(paths) == 1 and [c.id for c in sim.connections] == ["Wired connection 1"]


async def test_bad_calls_get_the_errors_real_nm_gives(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    gone = "/org/freedesktop/NetworkManager/ActiveConnection/999"
    assert await client.error(gone, f"{NM}.Connection.Active", "Foo") == (
        "org.freedesktop.DBus.Error.UnknownMethod",
        f"Object does not exist at path \u201c{gone}\u201d",
    )
    assert await client.error(
        gone, "org.freedesktop.DBus.Properties", "Get", "ss", [NM, "State"]
    ) == (
        "org.freedesktop.DBus.Error.UnknownMethod",
        f"Object does not exist at path \u201c{gone}\u201d",
    )
    assert await client.error(
        MANAGER, "org.freedesktop.DBus.Properties", "Get", "ss", [NM, "Bogus"]
    ) == (
        "org.freedesktop.DBus.Error.InvalidArgs",
        "No such property \u201cBogus\u201d",
    )
    assert await client.error(device, f"{NM}.Device.Wired", "Foo") == (
        "org.freedesktop.DBus.Error.UnknownMethod",
        f"No such interface \u201c{NM}.Device.Wired\u201d on object at path {device}",
    )
    name, message = await client.error(device, WIRELESS, "RequestScan", "s", ["x"])
    assert name == "org.freedesktop.DBus.Error.InvalidArgs"
    assert "does not match expected type \u201c(a{sv})\u201d" in message


async def test_activate_refusals_match_nm(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    wifi = await add(client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1"))
    eth = await add(
        client,
        {
            "connection": {
                "type": _s("802-3-ethernet"),
                "id": _s("eth"),
                "uuid": _s("4f3c1d3e-8f8d-4f54-b8e4-0f0d9d7ee001"),
            },
            "802-3-ethernet": {},
        },
    )
    other_if = await add(
        client, hotspot_settings(interface="wlan9") | {"connection": _hotspot_connection("wlan9")}
    )
    cases = [
        (
            ["/org/freedesktop/NetworkManager/Settings/999", device, "/"],
            f"{NM}.UnknownConnection",
            "Connection could not be found.",
        ),
        (
            [wifi, "/org/freedesktop/NetworkManager/Devices/999", "/"],
            f"{NM}.UnknownDevice",
            "Device not found",
        ),
        (
            ["/", "/", "/"],
            f"{NM}.UnknownDevice",
            "Only devices may be activated without a specifying a connection",
        ),
        (
            [eth, device, "/"],
            f"{NM}.UnknownConnection",
            "Connection 'eth' is not available on device wlan0 because profile is not compatible "
            'with device (connection type is not "802-11-wireless")',
        ),
        (
            [other_if, device, "/"],
            f"{NM}.UnknownConnection",
            "Connection 'wifi-connect-hotspot' is not available on device wlan0 because profile is "
            "not compatible with device (mismatching interface name)",
        ),
        (
            [eth, "/", "/"],
            f"{NM}.UnknownDevice",
            "No suitable device found for this connection (device wlan0 not available because "
            'profile is not compatible with device (connection type is not "802-11-wireless")).',
        ),
    ]
    for body, name, message in cases:
        assert await client.error(MANAGER, NM, "ActivateConnection", "ooo", body) == (name, message)
    assert await client.error(MANAGER, NM, "DeactivateConnection", "o", ["/"]) == (
        f"{NM}.ConnectionNotActive",
        "The connection was not active.",
    )
    assert await client.error(device, DEVICE, "Disconnect") == (
        f"{NM}.Device.NotActive",
        "This device is not active",
    )


def _s(text: str) -> Variant:
    return Variant("s", text)


def _hotspot_connection(interface: str) -> dict[str, Variant]:
    return {
        "type": Variant("s", "802-11-wireless"),
        "id": Variant("s", "wifi-connect-hotspot"),
        "uuid": Variant("s", "0e6b9a55-2a41-4f3f-9d8e-7a1d2b3c4d55"),
        "interface-name": Variant("s", interface),
    }


async def test_refusals_are_not_logged_as_errors(
    sim: SimulatedNetworkManager, client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    device = await first_device(client)
    with caplog.at_level(logging.WARNING):
        await client.error(MANAGER, NM, "DeactivateConnection", "o", ["/"])
        await client.error(device, DEVICE, "Disconnect")
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
