"""Scanning: LastScan, the access point list, hidden networks, AP mode and refusals."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from dbus_next.signature import Variant

from app.simulator import SimulatedNetworkManager

from .conftest import (
    AP,
    MANAGER,
    NETWORKS,
    NM,
    WIRELESS,
    Client,
    add,
    first_device,
    hotspot_settings,
    scenario_dict,
    wifi_settings,
)

PROPERTIES = "org.freedesktop.DBus.Properties"
# The SSIDs of the usual scenario's access points: a hidden network broadcasts an empty one.
IN_THE_AIR = {*(n["ssid"].encode() for n in NETWORKS if not n.get("hidden")), b""}


async def _aps(client: Client, device: str) -> dict[bytes, dict[str, Any]]:
    (paths,) = await client.call(device, WIRELESS, "GetAllAccessPoints")
    result = {}
    for path in paths:
        (props,) = await client.call(path, PROPERTIES, "GetAll", "s", [AP])
        values = {k: v.value for k, v in props.items()}
        result[values["Ssid"]] = values | {"path": path}
    return result


async def _scan(client: Client, device: str, options: dict[str, Variant] | None = None) -> None:
    await client.call(device, WIRELESS, "RequestScan", "a{sv}", [options or {}])


def _last_scan_changed(device: str) -> Any:
    return lambda s: (
        s.path == device
        and s.member == "PropertiesChanged"
        and s.body[0] == WIRELESS
        and "LastScan" in s.body[1]
    )


async def test_scan_moves_last_scan_after_the_delay(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    assert await client.get(device, WIRELESS, "LastScan") == -1
    started = time.monotonic()
    await _scan(client, device)
    assert await client.get(device, WIRELESS, "LastScan") == -1, "a scan takes time"
    changed = await client.wait_for(_last_scan_changed(device))
    assert changed.at - started >= 0.05
    last_scan = await client.get(device, WIRELESS, "LastScan")
    boot_ms = time.clock_gettime(time.CLOCK_BOOTTIME) * 1000
    assert 0 < boot_ms - last_scan < 5000, "LastScan counts milliseconds since boot"
    assert changed.body[1]["LastScan"] == last_scan


async def test_access_points_as_nm_reports_them(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    aps = await _aps(client, device)
    assert set(aps) == IN_THE_AIR
    home = aps[b"Home"]
    assert (home["Flags"], home["WpaFlags"], home["RsnFlags"]) == (1, 0, 0x188)
    assert home["Strength"] == 80 and home["Frequency"] == 2437 and home["Mode"] == 2
    assert home["HwAddress"] == "02:00:00:00:01:01"
    assert aps[b"Office"]["RsnFlags"] == 0x488
    assert aps[b"Corp"]["RsnFlags"] == 0x288
    assert (aps[b"Legacy"]["Flags"], aps[b"Legacy"]["RsnFlags"]) == (1, 0)
    assert (aps[b"Cafe"]["Flags"], aps[b"Cafe"]["RsnFlags"]) == (0, 0)
    (listed,) = await client.call(device, WIRELESS, "GetAccessPoints")
    assert aps[b""]["path"] not in listed, "GetAccessPoints leaves hidden ones out"
    assert sorted(await client.get(device, WIRELESS, "AccessPoints")) == sorted(
        ap["path"] for ap in aps.values()
    )


@pytest.mark.parametrize(
    "scenario_data", [scenario_dict(networks=[{"ssid_hex": "436166e9", "strength": 40}])]
)
async def test_non_utf8_ssid_arrives_as_raw_bytes(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    aps = await _aps(client, await first_device(client))
    assert list(aps) == [b"Caf\xe9"]


async def test_probing_names_a_hidden_network(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    hidden_path = (await _aps(client, device))[b""]["path"]
    await _scan(client, device, {"ssids": Variant("aay", [b"Hidden"])})
    await client.wait_for(_last_scan_changed(device))
    assert await client.get(hidden_path, AP, "Ssid") == b"Hidden"
    # The next scan does not probe for it: the name is gone again...
    await asyncio.sleep(0)
    client.signals.clear()
    await _scan(client, device)
    await client.wait_for(_last_scan_changed(device))
    assert await client.get(hidden_path, AP, "Ssid") == b""
    # ...unless a saved profile marks it hidden, which NetworkManager always probes for.
    await add(client, wifi_settings(b"Hidden", key_mgmt="wpa-psk", psk="password1", hidden=True))
    client.signals.clear()
    await _scan(client, device)
    await client.wait_for(_last_scan_changed(device))
    assert await client.get(hidden_path, AP, "Ssid") == b"Hidden"


async def test_scan_option_errors(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    invalid = f"{NM}.Device.InvalidArgument"
    assert await client.error(
        device, WIRELESS, "RequestScan", "a{sv}", [{"ssids": Variant("s", "x")}]
    ) == (
        invalid,
        "Invalid 'ssid' scan option",
    )
    assert await client.error(
        device, WIRELESS, "RequestScan", "a{sv}", [{"ssids": Variant("aay", [b"a"] * 33)}]
    ) == (invalid, "too many SSIDs requested to scan")
    assert await client.error(
        device, WIRELESS, "RequestScan", "a{sv}", [{"ssids": Variant("aay", [b"ok", b"x" * 33])}]
    ) == (invalid, "SSID at index 1 more than 32 bytes")


async def test_strength_and_new_networks_show_after_the_next_scan(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    home = (await _aps(client, device))[b"Home"]["path"]
    sim.set_strength("Home", 12)
    assert await client.get(home, AP, "Strength") == 80
    await _scan(client, device)
    await client.wait_for(_last_scan_changed(device))
    assert await client.get(home, AP, "Strength") == 12
    sim.set_networks([n for n in sim.networks if n.ssid != b"Home"], now=True)
    removed = await client.wait_for(lambda s: s.member == "AccessPointRemoved")
    assert removed.body == (home,)
    assert b"Home" not in await _aps(client, device)


@pytest.mark.parametrize(
    "scenario_data", [scenario_dict(devices=[{"interface": "wlan0", "scan": "refuse"}])]
)
async def test_a_device_that_refuses_scans(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    assert await client.error(device, WIRELESS, "RequestScan", "a{sv}", [{}]) == (
        f"{NM}.Device.NotAllowed",
        "Scanning not allowed while unavailable",
    )


@pytest.mark.parametrize(
    "scenario_data", [scenario_dict(devices=[{"interface": "wlan0", "scan": "hang"}])]
)
async def test_a_scan_that_never_completes(sim: SimulatedNetworkManager, client: Client) -> None:
    device = await first_device(client)
    await _scan(client, device)
    await asyncio.sleep(0.3)
    assert await client.get(device, WIRELESS, "LastScan") == -1


async def _start_hotspot(client: Client, device: str) -> str:
    connection = await add(client, hotspot_settings(passphrase="portal-pass"))
    (active,) = await client.call(
        MANAGER, NM, "ActivateConnection", "ooo", [connection, device, "/"]
    )
    await client.wait_for(
        lambda s: s.path == active and s.member == "StateChanged" and s.body[0] == 2
    )
    return str(active)


async def test_single_radio_refuses_to_scan_as_a_hotspot(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    await _start_hotspot(client, device)
    assert await client.get(device, WIRELESS, "Mode") == 3
    assert await client.error(device, WIRELESS, "RequestScan", "a{sv}", [{}]) == (
        f"{NM}.Device.NotAllowed",
        "Scanning not allowed at this time",
    )
    aps = await _aps(client, device)
    assert list(aps) == [b"WiFi Connect"], "entering AP mode clears the scan list"
    own = aps[b"WiFi Connect"]
    assert own["Mode"] == 3 and own["HwAddress"] == "02:00:00:00:00:01"
    assert (own["Flags"], own["RsnFlags"]) == (1, 0x188)
    assert await client.get(device, WIRELESS, "ActiveAccessPoint") == own["path"]


@pytest.mark.parametrize(
    ("scenario_data", "found"),
    [
        pytest.param(
            scenario_dict(devices=[{"interface": "wlan0", "ap_mode_scan": "empty"}]),
            set(),
            id="newer NM accepts the scan but finds nothing",
        ),
        pytest.param(
            scenario_dict(devices=[{"interface": "wlan0", "single_radio": False}]),
            IN_THE_AIR,
            id="a second radio finds everything",
        ),
    ],
)
async def test_a_scan_while_the_hotspot_runs(
    sim: SimulatedNetworkManager, client: Client, found: set[bytes]
) -> None:
    device = await first_device(client)
    await _start_hotspot(client, device)
    await _scan(client, device)
    await client.wait_for(_last_scan_changed(device))
    assert set(await _aps(client, device)) == {b"WiFi Connect", *found}


async def test_the_list_comes_back_after_the_hotspot(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    active = await _start_hotspot(client, device)
    client.signals.clear()
    await client.call(MANAGER, NM, "DeactivateConnection", "o", [active])
    await client.wait_for(_last_scan_changed(device))
    aps = await _aps(client, device)
    assert b"WiFi Connect" not in aps and b"Home" in aps
    assert await client.get(device, WIRELESS, "Mode") == 2
