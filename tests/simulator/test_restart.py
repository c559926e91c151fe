"""NetworkManager leaving the bus and coming back, by API call or from the scenario."""

from __future__ import annotations

import asyncio

import pytest

from app.simulator import SimulatedNetworkManager

from .conftest import (
    DEVICE,
    MANAGER,
    NM,
    SETTINGS,
    Client,
    add,
    first_device,
    scenario_dict,
    wifi_settings,
)

DBUS = "org.freedesktop.DBus"


async def _owner(client: Client) -> str | None:
    reply = await client.raw(
        "/org/freedesktop/DBus", DBUS, "GetNameOwner", "s", [NM], destination=DBUS
    )
    return str(reply.body[0]) if reply.error_name is None else None


async def test_restart_gives_new_paths_and_keeps_profiles(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device_before = await first_device(client)
    profile_before = await add(client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1"))
    owner_before = await _owner(client)
    assert owner_before is not None

    await sim.stop()
    assert not sim.running
    assert await _owner(client) is None
    name, _ = await client.error(MANAGER, NM, "GetDevices")
    assert name == "org.freedesktop.DBus.Error.ServiceUnknown"
    assert [c.id for c in sim.connections] == ["Home"], "profiles survive while NM is away"

    await sim.resume()
    owner_after = await _owner(client)
    assert owner_after not in (None, owner_before), "a restarted NM has a new unique name"
    device_after = await first_device(client)
    assert device_after != device_before
    (profiles,) = await client.call(SETTINGS, f"{NM}.Settings", "ListConnections")
    assert profiles != [profile_before] and len(profiles) == 1
    assert await client.get(device_after, DEVICE, "Interface") == "wlan0"
    changes = [s.body for s in client.named(DBUS, "NameOwnerChanged") if s.body[0] == NM]
    assert changes[-2:] == [(NM, owner_before, ""), (NM, "", owner_after)]


async def test_restart_drops_an_activation_in_progress(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    profile = await add(client, wifi_settings(b"Hangs"))
    await client.call(MANAGER, NM, "ActivateConnection", "ooo", [profile, device, "/"])
    await sim.restart()
    device = await first_device(client)
    assert await client.get(device, DEVICE, "State") == 30
    assert await client.get(MANAGER, NM, "ActiveConnections") == []


@pytest.mark.parametrize(
    "scenario_data",
    [scenario_dict(outages=[{"after_ms": 100, "duration_ms": 150}], startup_delay_ms=50)],
)
async def test_a_scenario_outage(sim: SimulatedNetworkManager, client: Client) -> None:
    assert await client.get(MANAGER, NM, "Startup") is True
    await client.wait_for(
        lambda s: s.path == MANAGER and s.member == "PropertiesChanged" and "Startup" in s.body[1]
    )
    assert await client.get(MANAGER, NM, "Startup") is False
    gone = await client.wait_for(
        lambda s: s.member == "NameOwnerChanged" and s.body[0] == NM and s.body[2] == ""
    )
    back = await client.wait_for(
        lambda s: (
            s.member == "NameOwnerChanged"
            and s.body[0] == NM
            and s.body[1] == ""
            and s.at > gone.at
        )
    )
    assert 0.1 <= back.at - gone.at < 1.0
    await asyncio.sleep(0)
    assert sim.running
    assert await client.get(await first_device(client), DEVICE, "Interface") == "wlan0"
