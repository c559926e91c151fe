"""Stored profiles over D-Bus: refusals with NM's errors, secrets hidden and fetched, signals."""

from __future__ import annotations

import pytest
from dbus_next.signature import Variant

from app.nm.bus import unwrap
from app.simulator import SimulatedNetworkManager

from .conftest import (
    CONNECTION,
    MANAGER,
    NM,
    SETTINGS,
    Client,
    add,
    first_device,
    hotspot_settings,
    wifi_settings,
)

Wire = dict[str, dict[str, Variant]]
SETTINGS_IFACE = f"{NM}.Settings"
INVALID = f"{NM}.Settings.Connection.InvalidProperty"
MISSING = f"{NM}.Settings.Connection.MissingProperty"


def _without(settings: Wire, setting: str, key: str) -> Wire:
    del settings[setting][key]
    return settings


@pytest.mark.parametrize(
    ("method", "settings", "error", "message"),
    [
        pytest.param(
            "AddConnection",
            wifi_settings(b"Home", key_mgmt="wpa-psk", psk="short"),
            INVALID,
            "802-11-wireless-security.psk: property is invalid",
            id="psk too short",
        ),
        pytest.param(
            "AddConnectionUnsaved",
            _without(wifi_settings(b"Home"), "802-11-wireless", "ssid"),
            MISSING,
            "802-11-wireless.ssid: property is missing",
            id="no ssid, unsaved",
        ),
        pytest.param(
            "AddConnection",
            wifi_settings(b"x" * 33),
            INVALID,
            "802-11-wireless.ssid: SSID length is out of range <1-32> bytes",
            id="ssid too long",
        ),
        pytest.param(
            "AddConnection",
            _without(hotspot_settings(), "ipv4", "address-data"),
            MISSING,
            "ipv4.addresses: this property cannot be empty for 'method=manual'",
            id="hotspot without an address",
        ),
    ],
)
async def test_add_connection_rejects_like_nm(
    sim: SimulatedNetworkManager,
    client: Client,
    method: str,
    settings: Wire,
    error: str,
    message: str,
) -> None:
    refused = await client.error(SETTINGS, SETTINGS_IFACE, method, "a{sa{sv}}", [settings])
    assert refused == (error, message)
    assert sim.connections == (), "nothing refused is stored"
    assert await client.call(SETTINGS, SETTINGS_IFACE, "ListConnections") == [[]]


async def test_get_settings_hides_secrets_and_get_secrets_returns_them(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    sent = wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1")
    path = await add(client, sent)
    (visible,) = await client.call(path, CONNECTION, "GetSettings")
    visible = unwrap(visible)
    assert visible["802-11-wireless-security"] == {"key-mgmt": "wpa-psk"}
    assert visible["802-11-wireless"]["ssid"] == b"Home"
    assert visible["connection"]["uuid"] == "3c8f2d9c-64a4-4b3a-9b4e-0d0c6c7b2a11"
    (secrets,) = await client.call(
        path, CONNECTION, "GetSecrets", "s", ["802-11-wireless-security"]
    )
    assert unwrap(secrets)["802-11-wireless-security"] == {"psk": "password1"}
    assert await client.error(path, CONNECTION, "GetSecrets", "s", ["802-1x"]) == (
        f"{NM}.Settings.Connection.SettingNotFound",
        "Connection didn't have requested setting '802-1x'.",
    )
    assert await client.error(path, CONNECTION, "GetSecrets", "s", ["802-11-wireless"]) == (
        f"{NM}.AgentManager.NoSecrets",
        "No agents were available for this request.",
    )
    (stored,) = sim.connections
    assert stored.path == path
    assert stored.received == unwrap(sent), "exactly what the client sent, secrets included"
    assert stored.settings["802-11-wireless-security"]["psk"] == "password1"
    assert stored.unsaved is False
    assert stored.filename == "/etc/NetworkManager/system-connections/Home.nmconnection"


async def test_profile_properties_and_signals(sim: SimulatedNetworkManager, client: Client) -> None:
    saved = await add(client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1"))
    (unsaved,) = await client.call(
        SETTINGS,
        SETTINGS_IFACE,
        "AddConnectionUnsaved",
        "a{sa{sv}}",
        [wifi_settings(b"Home", uuid="5d1d3f62-0000-4000-8000-000000000002")],
    )
    assert [s.body for s in client.named(SETTINGS_IFACE, "NewConnection")] == [(saved,), (unsaved,)]
    assert await client.get(saved, CONNECTION, "Unsaved") is False
    assert await client.get(saved, CONNECTION, "Flags") == 0
    assert await client.get(unsaved, CONNECTION, "Unsaved") is True
    assert await client.get(unsaved, CONNECTION, "Flags") == 1
    assert (
        await client.get(unsaved, CONNECTION, "Filename")
        == "/run/NetworkManager/system-connections/Home.nmconnection"
    )
    assert await client.get(SETTINGS, SETTINGS_IFACE, "Connections") == [saved, unsaved]
    device = await first_device(client)
    assert await client.get(device, f"{NM}.Device", "AvailableConnections") == [saved, unsaved]
    assert await client.call(
        SETTINGS,
        SETTINGS_IFACE,
        "GetConnectionByUuid",
        "s",
        ["5d1d3f62-0000-4000-8000-000000000002"],
    ) == [unsaved]
    assert await client.error(
        SETTINGS,
        SETTINGS_IFACE,
        "GetConnectionByUuid",
        "s",
        ["00000000-0000-4000-8000-000000000000"],
    ) == (f"{NM}.Settings.InvalidConnection", "No connection with the UUID was found.")
    assert await client.error(
        SETTINGS,
        SETTINGS_IFACE,
        "AddConnection",
        "a{sa{sv}}",
        [wifi_settings(b"Again", uuid="5d1d3f62-0000-4000-8000-000000000002")],
    ) == (f"{NM}.Settings.UuidExists", "a connection with this UUID already exists")

    await client.call(saved, CONNECTION, "Delete")
    assert [s.body for s in client.named(SETTINGS_IFACE, "ConnectionRemoved")] == [(saved,)]
    assert client.named(CONNECTION, "Removed", saved)
    assert await client.get(SETTINGS, SETTINGS_IFACE, "Connections") == [unsaved]
    name, _ = await client.error(saved, CONNECTION, "GetSettings")
    assert name == "org.freedesktop.DBus.Error.UnknownMethod"


async def test_update_validates_and_replaces(sim: SimulatedNetworkManager, client: Client) -> None:
    path = await add(client, wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password1"))
    bad = wifi_settings(b"Home", key_mgmt="wpa-psk", psk="short")
    assert (await client.error(path, CONNECTION, "Update", "a{sa{sv}}", [bad]))[0] == INVALID
    good = wifi_settings(b"Home", key_mgmt="wpa-psk", psk="password2")
    good["connection"]["autoconnect-priority"] = Variant("i", 5)
    await client.call(path, CONNECTION, "Update", "a{sa{sv}}", [good])
    assert client.named(CONNECTION, "Updated", path)
    (stored,) = sim.connections
    assert stored.settings["802-11-wireless-security"]["psk"] == "password2"
    assert stored.settings["connection"]["autoconnect-priority"] == 5


async def test_a_profile_stored_with_its_activation(
    sim: SimulatedNetworkManager, client: Client
) -> None:
    """What the app does on submit: store the profile, activate it, see it in sim.connections."""
    device = await first_device(client)
    path = await add(client, wifi_settings(b"Cafe"))
    (active,) = await client.call(MANAGER, NM, "ActivateConnection", "ooo", [path, device, "/"])
    await client.wait_for(
        lambda s: s.path == active and s.member == "StateChanged" and s.body[0] == 2
    )
    assert [c.id for c in sim.connections] == ["Cafe"]
