"""The fixture itself, checked with raw dbus-next calls so it stands without the app's adapter."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from dbus_next import Message, MessageType, Variant
from dbus_next.aio import MessageBus

from tests.contract.realnm import RealNetworkManager

pytestmark = pytest.mark.root

NM = "org.freedesktop.NetworkManager"
SETTINGS_PATH = "/org/freedesktop/NetworkManager/Settings"
CONNECTION_IFACE = "org.freedesktop.NetworkManager.Settings.Connection"
DEVICE_IFACE = "org.freedesktop.NetworkManager.Device"
PROPERTIES_IFACE = "org.freedesktop.DBus.Properties"
VETH_DEVICE_TYPE = 20


async def call(
    bus: MessageBus, path: str, interface: str, member: str, signature: str = "", *body: Any
) -> Message:
    """One method call to NetworkManager; the reply, which may be an error."""
    reply = await bus.call(
        Message(
            destination=NM,
            path=path,
            interface=interface,
            member=member,
            signature=signature,
            body=list(body),
        )
    )
    assert reply is not None
    return reply


async def returned(
    bus: MessageBus, path: str, interface: str, member: str, signature: str = "", *body: Any
) -> list[Any]:
    """The body of a call that must succeed."""
    reply = await call(bus, path, interface, member, signature, *body)
    assert reply.message_type == MessageType.METHOD_RETURN, (reply.error_name, reply.body)
    return list(reply.body)


async def test_network_manager_manages_the_veth(
    raw_bus: MessageBus, real_nm: RealNetworkManager
) -> None:
    (paths,) = await returned(raw_bus, "/org/freedesktop/NetworkManager", NM, "GetDevices")
    devices = {}
    for path in paths:
        (props,) = await returned(raw_bus, path, PROPERTIES_IFACE, "GetAll", "s", DEVICE_IFACE)
        devices[props["Interface"].value] = props

    # Only lo and our veth exist in the namespace: the host's interfaces stay out of reach.
    assert set(devices) == {"lo", real_nm.interface}
    veth = devices[real_nm.interface]
    assert veth["DeviceType"].value == VETH_DEVICE_TYPE
    # With /sys writable NetworkManager would leave the veth unmanaged (state 10) for ever.
    assert veth["Managed"].value is True
    assert veth["State"].value >= 30


async def test_wpa_psk_profile_is_written_read_back_and_deleted(
    raw_bus: MessageBus, real_nm: RealNetworkManager
) -> None:
    profile_uuid = str(uuid.uuid4())
    profile = {
        "connection": {
            "id": Variant("s", "ct-raw-psk"),
            "uuid": Variant("s", profile_uuid),
            "type": Variant("s", "802-11-wireless"),
        },
        "802-11-wireless": {
            "ssid": Variant("ay", b"ct raw"),
            "mode": Variant("s", "infrastructure"),
        },
        "802-11-wireless-security": {
            "key-mgmt": Variant("s", "wpa-psk"),
            "psk": Variant("s", "ct raw passphrase"),
        },
    }

    (path,) = await returned(
        raw_bus, SETTINGS_PATH, f"{NM}.Settings", "AddConnection", "a{sa{sv}}", profile
    )
    (filename,) = await returned(
        raw_bus, path, PROPERTIES_IFACE, "Get", "ss", CONNECTION_IFACE, "Filename"
    )
    keyfile = real_nm.keyfile_dir / filename.value.rsplit("/", 1)[-1]
    assert str(keyfile) == filename.value
    lines = keyfile.read_text().splitlines()
    for line in ("[wifi]", "ssid=ct raw", "[wifi-security]", "key-mgmt=wpa-psk"):
        assert line in lines
    assert "psk=ct raw passphrase" in lines

    (settings,) = await returned(raw_bus, path, CONNECTION_IFACE, "GetSettings")
    assert settings["connection"]["uuid"].value == profile_uuid
    assert settings["802-11-wireless"]["ssid"].value == b"ct raw"
    assert settings["802-11-wireless-security"]["key-mgmt"].value == "wpa-psk"
    # GetSettings never carries secrets; they come only from GetSecrets.
    assert "psk" not in settings["802-11-wireless-security"]
    (secrets,) = await returned(
        raw_bus, path, CONNECTION_IFACE, "GetSecrets", "s", "802-11-wireless-security"
    )
    assert secrets["802-11-wireless-security"]["psk"].value == "ct raw passphrase"

    await returned(raw_bus, path, CONNECTION_IFACE, "Delete")
    assert not keyfile.exists()
    gone = await call(raw_bus, path, CONNECTION_IFACE, "GetSettings")
    assert gone.message_type == MessageType.ERROR


async def test_invalid_psk_is_refused_with_invalid_property(raw_bus: MessageBus) -> None:
    profile = {
        "connection": {
            "id": Variant("s", "ct-raw-bad"),
            "uuid": Variant("s", str(uuid.uuid4())),
            "type": Variant("s", "802-11-wireless"),
        },
        "802-11-wireless": {"ssid": Variant("ay", b"ct raw")},
        "802-11-wireless-security": {
            "key-mgmt": Variant("s", "wpa-psk"),
            "psk": Variant("s", "short"),
        },
    }

    reply = await call(
        raw_bus, SETTINGS_PATH, f"{NM}.Settings", "AddConnection", "a{sa{sv}}", profile
    )

    assert reply.message_type == MessageType.ERROR
    assert reply.error_name == f"{NM}.Settings.Connection.InvalidProperty"
    assert reply.body[0].startswith("802-11-wireless-security.psk:")
