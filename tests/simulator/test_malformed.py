"""Malformations: the simulator sends a property or a reply of the wrong type, or leaves it out."""

from __future__ import annotations

from dbus_next.constants import MessageType
from dbus_next.signature import Variant

from app.simulator import Malformation, SimulatedNetworkManager

from .conftest import (
    AP,
    CONNECTION,
    MANAGER,
    NM,
    WIRELESS,
    Client,
    add,
    first_device,
    wifi_settings,
)

PROPERTIES = "org.freedesktop.DBus.Properties"


async def _access_points(client: Client) -> list[str]:
    (paths,) = await client.call(await first_device(client), WIRELESS, "GetAllAccessPoints")
    return [str(path) for path in paths]


async def test_a_malformed_property_goes_out_in_get_and_getall_of_that_object_only(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    bad, good = (await _access_points(client))[:2]
    sim.inject(Malformation(AP, "Strength", Variant("s", "strong"), path=bad))
    (value,) = await client.call(bad, PROPERTIES, "Get", "ss", [AP, "Strength"])
    assert value == Variant("s", "strong")
    (props,) = await client.call(bad, PROPERTIES, "GetAll", "s", [AP])
    assert props["Strength"] == Variant("s", "strong") and props["Ssid"].signature == "ay"
    (props,) = await client.call(good, PROPERTIES, "GetAll", "s", [AP])
    assert props["Strength"].signature == "y", "another access point answers as NM does"
    sim.clear_injected()
    (value,) = await client.call(bad, PROPERTIES, "Get", "ss", [AP, "Strength"])
    assert value.signature == "y"


async def test_a_property_left_out_is_missing_from_getall_and_get_refuses_it(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    sim.inject(Malformation(AP, "Flags"))
    for path in await _access_points(client):
        (props,) = await client.call(path, PROPERTIES, "GetAll", "s", [AP])
        assert "Flags" not in props and "WpaFlags" in props
        name, _ = await client.error(path, PROPERTIES, "Get", "ss", [AP, "Flags"])
        assert name == sim.scenario.missing_property_error


async def test_a_malformed_property_goes_out_in_properties_changed(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    sim.inject(Malformation(WIRELESS, "LastScan", Variant("as", ["soon"]), path=device))
    await client.call(device, WIRELESS, "RequestScan", "a{sv}", [{}])
    seen = await client.wait_for(
        lambda s: s.member == "PropertiesChanged" and "LastScan" in s.body[1]
    )
    assert seen.body[1]["LastScan"] == ["soon"]


async def test_a_malformed_method_reply_or_an_empty_one(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    path = await add(client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1"))
    settings = {"802-11-wireless": {"ssid": Variant("ay", b"Home")}}
    sim.inject(Malformation(CONNECTION, "GetSettings", Variant("a{sa{sv}}", settings), path))
    (got,) = await client.call(path, CONNECTION, "GetSettings")
    assert got == settings, "the connection setting is left out"
    sim.inject(Malformation(NM, "GetDevices"))
    reply = await client.raw(MANAGER, NM, "GetDevices")
    assert reply.message_type == MessageType.METHOD_RETURN
    assert reply.signature == "" and reply.body == []


async def test_a_malformation_outlives_a_restart(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    sim.inject(Malformation(NM, "Version", Variant("u", 7)))
    await sim.restart()
    assert await client.get(MANAGER, NM, "Version") == 7
