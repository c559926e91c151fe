"""Activation: the state sequences, reasons and signals a client watches, for each outcome."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from dbus_next.signature import Variant

from app.simulator import SimulatedNetworkManager
from app.simulator.plan import wpa_pmk

from .conftest import (
    ACTIVE,
    DEVICE,
    MANAGER,
    NM,
    WIRELESS,
    Client,
    add,
    first_device,
    hotspot_settings,
    scenario_dict,
    wifi_settings,
)
from .rawclient import Seen


def _corp(eap: str, identity: str) -> dict[str, dict[str, Variant]]:
    """A WPA-Enterprise profile for the scenario's Corp network (its password is pw-alice)."""
    return wifi_settings(
        b"Corp",
        key_mgmt="wpa-eap",
        extra={
            "802-1x": {
                "eap": Variant("as", [eap]),
                "identity": Variant("s", identity),
                "password": Variant("s", "pw-alice"),
                "phase2-auth": Variant("s", "mschapv2"),
            }
        },
    )


def _device_changes(client: Client, device: str) -> list[tuple[int, int, int]]:
    return [(s.body[0], s.body[1], s.body[2]) for s in client.named(DEVICE, "StateChanged", device)]


def _active_changes(client: Client, active: str) -> list[tuple[int, int]]:
    return [(s.body[0], s.body[1]) for s in client.named(ACTIVE, "StateChanged", active)]


async def _activate(client: Client, settings: dict[str, dict[str, Variant]]) -> tuple[str, str]:
    device = await first_device(client)
    connection = await add(client, settings)
    (active,) = await client.call(
        MANAGER, NM, "ActivateConnection", "ooo", [connection, device, "/"]
    )
    return device, str(active)


async def _until_activated(client: Client, active: str) -> Seen:
    return await client.wait_for(
        lambda s: s.path == active and s.member == "StateChanged" and s.body[0] == 2
    )


async def _until_disconnected(client: Client, device: str) -> Seen:
    return await client.wait_for(
        lambda s: (
            s.path == device
            and s.member == "StateChanged"
            and s.interface == DEVICE
            and s.body[0] == 30
        )
    )


async def test_success_goes_through_nm_states_in_order(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device, active = await _activate(
        client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1")
    )
    assert active.startswith("/org/freedesktop/NetworkManager/ActiveConnection/")
    assert await client.get(MANAGER, NM, "ActiveConnections") == [active]
    done = await _until_activated(client, active)
    assert _active_changes(client, active) == [(1, 0), (2, 0)]
    assert _device_changes(client, device) == [
        (40, 30, 0),
        (50, 40, 0),
        (70, 50, 0),
        (80, 70, 0),
        (90, 80, 0),
        (100, 90, 0),
    ]
    device_activated = next(
        s for s in client.named(DEVICE, "StateChanged", device) if s.body[0] == 100
    )
    assert device_activated.at <= done.at, "the device is ACTIVATED before the connection is"
    manager_states = [s.body[0] for s in client.named(NM, "StateChanged", MANAGER)]
    assert manager_states == [40, 70]
    assert await client.get(MANAGER, NM, "Connectivity") == 4
    assert await client.get(MANAGER, NM, "PrimaryConnection") == active
    assert await client.get(device, DEVICE, "ActiveConnection") == active
    assert await client.get(active, ACTIVE, "Id") == "Home"
    assert await client.get(active, ACTIVE, "Type") == "802-11-wireless"
    assert await client.get(active, ACTIVE, "Devices") == [device]
    assert await client.get(active, ACTIVE, "Default") is True
    ap = await client.get(device, WIRELESS, "ActiveAccessPoint")
    assert await client.get(ap, f"{NM}.AccessPoint", "Ssid") == b"Home"
    assert await client.get(active, ACTIVE, "SpecificObject") == ap
    ip4 = await client.get(active, ACTIVE, "Ip4Config")
    assert ip4 == await client.get(device, DEVICE, "Ip4Config")
    assert await client.get(ip4, f"{NM}.IP4Config", "AddressData") == [
        {"address": "192.168.100.23", "prefix": 24}
    ]
    assert await client.get(ip4, f"{NM}.IP4Config", "Gateway") == "192.168.100.1"
    assert await client.get(ip4, f"{NM}.IP4Config", "NameserverData") == [
        {"address": "192.168.100.1"}
    ]
    assert sim.device_state("wlan0") == (100, 0)


def _properties_changes(client: Client, path: str, name: str) -> list[Any]:
    return [
        s.body[1][name]
        for s in client.named("org.freedesktop.DBus.Properties", "PropertiesChanged", path)
        if name in s.body[1]
    ]


async def test_property_changes_are_signalled(sim: SimulatedNetworkManager, client: Client) -> None:
    device, active = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, active)
    assert _properties_changes(client, device, "State") == [40, 50, 70, 80, 90, 100]
    assert _properties_changes(client, device, "StateReason")[-1] == [100, 0]
    assert _properties_changes(client, device, "ActiveConnection") == [active]
    assert _properties_changes(client, active, "State") == [1, 2]
    assert _properties_changes(client, MANAGER, "State") == [40, 60]
    assert _properties_changes(client, MANAGER, "Connectivity") == [2], "Cafe is a captive portal"
    assert _properties_changes(client, MANAGER, "ActiveConnections") == [[active]]


# Device (new, old, reason) moves of each way to fail: need-auth with supplicant-disconnect
# (8) then no-secrets (7); need-auth then no-secrets; DHCP gets nothing, ip-config-unavailable
# (5); ssid-not-found (53).
_REFUSED_AT_AUTH = [(40, 30, 0), (50, 40, 0), (60, 50, 8), (120, 60, 7), (30, 120, 0)]
_NO_SECRETS = [(40, 30, 0), (50, 40, 0), (60, 50, 0), (120, 60, 7), (30, 120, 0)]
_NO_ADDRESS = [(40, 30, 0), (50, 40, 0), (70, 50, 0), (120, 70, 5), (30, 120, 0)]
_NOT_FOUND = [(40, 30, 0), (50, 40, 0), (120, 50, 53), (30, 120, 0)]


@pytest.mark.parametrize(
    ("settings", "steps"),
    [
        pytest.param(
            wifi_settings(b"Home", key_mgmt="wpa-psk", psk="wrong-password"),
            _REFUSED_AT_AUTH,
            id="wrong wpa-psk: need-auth (supplicant-disconnect), then no-secrets",
        ),
        pytest.param(
            wifi_settings(b"Refuser", key_mgmt="wpa-psk", psk="whatever1"),
            _REFUSED_AT_AUTH,
            id="a network that refuses every password",
        ),
        pytest.param(
            wifi_settings(b"Office", key_mgmt="sae", psk="not-it"),
            _NO_SECRETS,
            id="wrong sae: association times out, no-secrets",
        ),
        pytest.param(
            wifi_settings(b"Home", key_mgmt="wpa-psk"),
            _NO_SECRETS,
            id="no psk in the profile and no agent",
        ),
        pytest.param(_corp("peap", "mallory"), _NO_SECRETS, id="wrong 802.1x identity"),
        pytest.param(
            wifi_settings(
                b"Legacy",
                key_mgmt="none",
                extra={"802-11-wireless-security": {"wep-key0": Variant("s", "zzzzz")}},
            ),
            _NO_ADDRESS,
            id="wrong wep key: associates, then DHCP gets nothing",
        ),
        pytest.param(wifi_settings(b"Nowhere"), _NOT_FOUND, id="ssid not in range"),
        pytest.param(wifi_settings(b"Home"), _NOT_FOUND, id="an open profile finds no open Home"),
        pytest.param(
            wifi_settings(b"Hidden", key_mgmt="wpa-psk", psk="password1"),
            _NOT_FOUND,
            id="hidden network, profile not marked hidden",
        ),
        pytest.param(wifi_settings(b"Ghost"), _NOT_FOUND, id="scenario not_found"),
        pytest.param(
            wifi_settings(b"NoDhcp", key_mgmt="wpa-psk", psk="password1"),
            _NO_ADDRESS,
            id="dhcp fails: ip-config-unavailable",
        ),
    ],
)
async def test_failures_end_with_nm_reasons(
    sim: SimulatedNetworkManager,
    client: Client,
    settings: dict[str, dict[str, Variant]],
    steps: list[tuple[int, int, int]],
) -> None:
    device, active = await _activate(client, settings)
    await _until_disconnected(client, device)
    assert _device_changes(client, device) == steps
    assert _active_changes(client, active) == [(1, 0), (4, 3)]
    assert [s.body[0] for s in client.named(NM, "StateChanged", MANAGER)] == [40, 20]
    assert await client.get(device, DEVICE, "StateReason") == [30, 0]
    assert await client.get(device, DEVICE, "ActiveConnection") == "/"
    assert await client.get(MANAGER, NM, "ActiveConnections") == []
    assert (
        await client.error(
            active, "org.freedesktop.DBus.Properties", "Get", "ss", [ACTIVE, "State"]
        )
    )[0] == "org.freedesktop.DBus.Error.UnknownMethod", (
        "NM drops a failed active connection at once"
    )


@pytest.mark.parametrize(
    "settings",
    [
        pytest.param(
            wifi_settings(b"Home", key_mgmt="wpa-psk", psk=wpa_pmk("password1", b"Home")),
            id="psk as 64 hex",
        ),
        pytest.param(wifi_settings(b"Office", key_mgmt="sae", psk="sae-secret"), id="sae"),
        pytest.param(
            wifi_settings(b"Hidden", key_mgmt="wpa-psk", psk="password1", hidden=True),
            id="hidden, marked hidden",
        ),
        pytest.param(
            _corp("ttls", "alice"),
            id="802.1x",
        ),
        pytest.param(
            wifi_settings(
                b"Legacy",
                key_mgmt="none",
                extra={"802-11-wireless-security": {"wep-key0": Variant("s", b"abcde".hex())}},
            ),
            id="wep key given in hex",
        ),
    ],
)
async def test_right_credentials_connect(
    sim: SimulatedNetworkManager, client: Client, settings: dict[str, dict[str, Variant]]
) -> None:
    _, active = await _activate(client, settings)
    await _until_activated(client, active)
    assert sim.device_state("wlan0") == (100, 0)


async def test_a_hanging_network_stays_activating_until_deactivated(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device, active = await _activate(client, wifi_settings(b"Hangs"))
    await asyncio.sleep(0.3)
    assert await client.get(active, ACTIVE, "State") == 1
    assert await client.get(device, DEVICE, "State") == 50
    assert await client.get(MANAGER, NM, "ActivatingConnection") == active
    await client.call(MANAGER, NM, "DeactivateConnection", "o", [active])
    await _until_disconnected(client, device)
    assert _device_changes(client, device)[-2:] == [(110, 50, 39), (30, 110, 39)]
    assert _active_changes(client, active) == [(1, 0), (3, 0), (4, 3)]
    assert await client.get(MANAGER, NM, "State") == 20


@pytest.mark.parametrize(
    ("scenario_data", "named"),
    [
        (scenario_dict(), "wlan0"),
        (scenario_dict(devices=[{"interface": "wlan0", "ip_interface": "lo"}]), "lo"),
    ],
    ids=["the-device", "ip_interface"],
)
async def test_ip_interface_is_named_only_while_activated(
    sim: SimulatedNetworkManager, client: Client, named: str
) -> None:
    device = await first_device(client)
    assert await client.get(device, DEVICE, "IpInterface") == ""
    device, active = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, active)
    assert await client.get(device, DEVICE, "IpInterface") == named
    assert _properties_changes(client, device, "IpInterface") == [named]
    await client.call(MANAGER, NM, "DeactivateConnection", "o", [active])
    await _until_disconnected(client, device)
    assert await client.get(device, DEVICE, "IpInterface") == ""


async def test_user_deactivation_of_a_working_connection(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device, active = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, active)
    await client.call(MANAGER, NM, "DeactivateConnection", "o", [active])
    # Signals and the reply arrive in the order sent: DEACTIVATING came before the reply (and
    # DISCONNECTED may have followed it by the time the test reads them).
    assert (110, 100, 39) in _device_changes(client, device)
    await _until_disconnected(client, device)
    assert _device_changes(client, device)[-2:] == [(110, 100, 39), (30, 110, 39)]
    assert await client.get(MANAGER, NM, "Connectivity") == 1
    assert await client.get(MANAGER, NM, "PrimaryConnection") == "/"
    ip4 = await client.get(device, DEVICE, "Ip4Config")
    assert await client.get(ip4, f"{NM}.IP4Config", "AddressData") == []
    assert await client.error(MANAGER, NM, "DeactivateConnection", "o", [active]) == (
        f"{NM}.ConnectionNotActive",
        "The connection was not active.",
    )


async def _disconnect_device(client: Client, device: str, _active: str) -> None:
    await client.call(device, DEVICE, "Disconnect")


async def _delete_profile(client: Client, _device: str, active: str) -> None:
    connection = await client.get(active, ACTIVE, "Connection")
    await client.call(connection, f"{NM}.Settings.Connection", "Delete")


@pytest.mark.parametrize(
    ("take_down", "reason"),
    [
        pytest.param(_disconnect_device, 39, id="device disconnected: user-requested"),
        pytest.param(_delete_profile, 38, id="profile deleted: connection-removed"),
    ],
)
async def test_a_working_connection_taken_down_says_why(
    sim: SimulatedNetworkManager,
    client: Client,
    take_down: Callable[[Client, str, str], Awaitable[None]],
    reason: int,
) -> None:
    device, active = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, active)
    await take_down(client, device, active)
    await _until_disconnected(client, device)
    assert _device_changes(client, device)[-1] == (30, 110, reason)


async def test_a_new_activation_replaces_the_old_one(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device, first = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, first)
    _, second = await _activate(
        client,
        wifi_settings(
            b"Home",
            key_mgmt="wpa-psk",
            psk="password1",
            uuid="0b0f9c0e-1a2b-4c3d-8e9f-000000000002",
        ),
    )
    await _until_activated(client, second)
    assert _active_changes(client, first) == [(1, 0), (2, 0), (3, 0), (4, 3)]
    changes = _device_changes(client, device)
    assert (110, 100, 60) in changes and (30, 110, 60) in changes
    assert changes[-1] == (100, 90, 0)
    assert await client.get(MANAGER, NM, "ActiveConnections") == [second]


async def test_hotspot_activation(sim: SimulatedNetworkManager, client: Client) -> None:
    device, active = await _activate(client, hotspot_settings(passphrase="portal-pass"))
    await _until_activated(client, active)
    assert await client.get(device, DEVICE, "State") == 100
    assert await client.get(device, WIRELESS, "Mode") == 3
    assert _properties_changes(client, device, "Mode") == [3]
    assert await client.get(active, ACTIVE, "Default") is False
    assert await client.get(MANAGER, NM, "State") == 50, "a hotspot is not an uplink"
    assert await client.get(MANAGER, NM, "PrimaryConnection") == "/"
    ip4 = await client.get(device, DEVICE, "Ip4Config")
    assert await client.get(ip4, f"{NM}.IP4Config", "AddressData") == [
        {"address": "192.168.42.1", "prefix": 24}
    ]
    assert await client.get(ip4, f"{NM}.IP4Config", "Gateway") == ""


@pytest.mark.parametrize(
    ("radio", "mhz"),
    [
        ({}, 2412),
        ({"channel": Variant("u", 13)}, 2472),
        ({"band": Variant("s", "a")}, 5180),
        ({"band": Variant("s", "a"), "channel": Variant("u", 149)}, 5745),
    ],
    ids=["bg", "bg-13", "a", "a-149"],
)
async def test_the_hotspot_is_on_its_profiles_channel(
    sim: SimulatedNetworkManager, client: Client, radio: dict[str, Variant], mhz: int
) -> None:
    settings = hotspot_settings()
    settings["802-11-wireless"].update(radio)
    device, active = await _activate(client, settings)
    await _until_activated(client, active)
    hotspot = await client.get(device, WIRELESS, "ActiveAccessPoint")
    assert await client.get(hotspot, f"{NM}.AccessPoint", "Frequency") == mhz


@pytest.mark.parametrize(
    "scenario_data",
    [
        {
            "activation_delay_ms": 30,
            "devices": [{"interface": "wlan0", "supports_ap": False}],
        }
    ],
)
async def test_a_device_without_ap_support_refuses_hotspots(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    connection = await add(client, hotspot_settings())
    assert await client.error(
        MANAGER, NM, "ActivateConnection", "ooo", [connection, device, "/"]
    ) == (
        f"{NM}.UnknownConnection",
        "Connection 'wifi-connect-hotspot' is not available on device wlan0 because profile is not "
        "compatible with device (the device does not support Access Point mode)",
    )
    assert await client.get(device, WIRELESS, "WirelessCapabilities") & 0x40 == 0


@pytest.mark.parametrize(
    "scenario_data",
    [
        {
            "activation_delay_ms": 30,
            "networks": [
                {"ssid": "Flaky", "security": "open", "failure": "dhcp_fails", "failure_reason": 17}
            ],
        }
    ],
)
async def test_failure_reason_can_be_chosen(sim: SimulatedNetworkManager, client: Client) -> None:
    device, _ = await _activate(client, wifi_settings(b"Flaky"))
    await _until_disconnected(client, device)
    assert _device_changes(client, device)[-2] == (120, 70, 17)


async def test_activation_with_device_root_picks_the_wifi_device(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device = await first_device(client)
    connection = await add(client, wifi_settings(b"Cafe"))
    (active,) = await client.call(MANAGER, NM, "ActivateConnection", "ooo", [connection, "/", "/"])
    assert await client.get(active, ACTIVE, "Devices") == [device]


@pytest.mark.parametrize("scenario_data", [scenario_dict(connectivity_delay_ms=150)])
async def test_connectivity_reads_limited_until_the_check_answers(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    device, active = await _activate(
        client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1")
    )
    await _until_activated(client, active)
    settled = await client.wait_for(
        lambda s: s.path == MANAGER and s.member == "StateChanged" and s.body[0] == 70
    )
    # Told by the signals, not read at a moment a busy machine could miss: CONNECTED_SITE (60)
    # until the check answers, then CONNECTED_GLOBAL (70), the check's delay later.
    states = [s.body[0] for s in client.named(NM, "StateChanged", MANAGER)]
    assert states[-2:] == [60, 70]
    assert settled.at - client.named(ACTIVE, "StateChanged", active)[-1].at >= 0.1
    assert await client.get(MANAGER, NM, "Connectivity") == 4
    assert await client.get(device, DEVICE, "Ip4Connectivity") == 4


@pytest.mark.parametrize("scenario_data", [scenario_dict(connectivity_delay_ms=5000)])
async def test_check_connectivity_answers_at_once(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    _, active = await _activate(client, wifi_settings(b"Cafe"))
    await _until_activated(client, active)
    assert await client.get(MANAGER, NM, "Connectivity") == 3
    assert await client.call(MANAGER, NM, "CheckConnectivity") == [2]
    assert await client.get(MANAGER, NM, "Connectivity") == 2
