"""The adapter's pure helpers: variant conversion, access point parsing, failure mapping."""

from __future__ import annotations

import re
import sys
from ipaddress import IPv4Address
from typing import Any

import pytest

from app.nm.client import (
    access_point_network,
    nameservers_from_data,
    nameservers_from_legacy,
    strongest_per_ssid,
)
from app.nm.const import DeviceStateReason
from app.nm.models import FailureKind, WifiNetwork, failure_for_reason
from app.nm.variants import from_dbus, to_dbus
from app.wifi import SecurityKind


def test_to_dbus_picks_networkmanager_types_and_round_trips() -> None:
    settings: dict[str, dict[str, Any]] = {
        "connection": {"id": "Cafe", "autoconnect": True, "autoconnect-priority": -5},
        "802-11-wireless": {"ssid": b"Caf\xe9", "mode": "infrastructure"},
        "802-11-wireless-security": {"key-mgmt": "none", "wep-key-type": 1},
        "ipv4": {"method": "manual", "address-data": [{"address": "10.0.0.2", "prefix": 24}]},
        "802-1x": {"eap": ["peap"]},
    }
    wrapped = to_dbus(settings)
    assert wrapped["connection"]["autoconnect"].signature == "b"
    assert wrapped["connection"]["autoconnect-priority"].signature == "i"
    assert wrapped["802-11-wireless"]["ssid"].signature == "ay"
    assert wrapped["802-11-wireless-security"]["wep-key-type"].signature == "u"
    assert wrapped["ipv4"]["address-data"].signature == "aa{sv}"
    assert wrapped["ipv4"]["address-data"].value[0]["prefix"].signature == "u"
    assert wrapped["802-1x"]["eap"].signature == "as"
    assert from_dbus(wrapped) == settings


def test_to_dbus_refuses_a_value_it_cannot_type() -> None:
    with pytest.raises(TypeError):
        to_dbus({"connection": {"id": 1.5}})


def test_from_dbus_refuses_a_malformed_reply() -> None:
    with pytest.raises(ValueError, match=re.escape("a{sa{sv}}")):
        from_dbus({"connection": "not a dict"})


def _ap(**overrides: Any) -> dict[str, Any]:
    props: dict[str, Any] = {
        "Ssid": b"Cafe",
        "Strength": 70,
        "Frequency": 2412,
        "HwAddress": "00:11:22:33:44:55",
        "Flags": 1,
        "WpaFlags": 0,
        "RsnFlags": 0x188,
    }
    props.update(overrides)
    return props


def test_access_point_network_reads_every_field() -> None:
    network = access_point_network(_ap())
    assert network == WifiNetwork(
        ssid=b"Cafe",
        strength=70,
        frequency=2412,
        bssid="00:11:22:33:44:55",
        security=SecurityKind.WPA_PSK,
    )


@pytest.mark.parametrize(
    ("overrides", "problem"),
    [
        ({"Ssid": b"x" * 33}, "Ssid"),
        ({"Ssid": "text, not bytes"}, "Ssid"),
        ({"Strength": "strong"}, "Strength"),
        ({"Frequency": None}, "Frequency"),
        ({"RsnFlags": True}, "RsnFlags"),
    ],
)
def test_access_point_network_rejects_malformed_replies(
    overrides: dict[str, Any], problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        access_point_network(_ap(**overrides))


def test_access_point_strength_is_clamped() -> None:
    assert access_point_network(_ap(Strength=250)).strength == 100


def _net(ssid: bytes, strength: int) -> WifiNetwork:
    return WifiNetwork(ssid, strength, 2412, "aa:bb:cc:dd:ee:ff", SecurityKind.OPEN)


def test_strongest_per_ssid_dedupes_sorts_and_drops_hidden() -> None:
    networks = [
        _net(b"Cafe", 40),
        _net(b"", 99),
        _net(b"\x00\x00", 98),
        _net(b"Home", 60),
        _net(b"Cafe", 80),
        _net(b"attic", 60),
    ]
    result = strongest_per_ssid(networks)
    assert [(n.ssid, n.strength) for n in result] == [
        (b"Cafe", 80),
        (b"attic", 60),
        (b"Home", 60),
    ]


@pytest.mark.parametrize(
    ("reason", "failure"),
    [
        (DeviceStateReason.NO_SECRETS, FailureKind.WRONG_PASSWORD),
        (DeviceStateReason.SUPPLICANT_DISCONNECT, FailureKind.WRONG_PASSWORD),
        (DeviceStateReason.SUPPLICANT_TIMEOUT, FailureKind.WRONG_PASSWORD),
        (DeviceStateReason.SSID_NOT_FOUND, FailureKind.NOT_FOUND),
        (DeviceStateReason.DHCP_FAILED, FailureKind.NO_ADDRESS),
        (DeviceStateReason.IP_CONFIG_UNAVAILABLE, FailureKind.NO_ADDRESS),
        (DeviceStateReason.USER_REQUESTED, FailureKind.OTHER),
        (DeviceStateReason(4242), FailureKind.OTHER),
    ],
)
def test_failure_for_reason(reason: DeviceStateReason, failure: FailureKind) -> None:
    assert failure_for_reason(reason) is failure


def _legacy(address: str) -> int:
    """An address as IP4Config.Nameservers carries it: its bytes read as a host-order uint32."""
    return int.from_bytes(IPv4Address(address).packed, sys.byteorder)


def test_legacy_nameservers_are_in_network_byte_order() -> None:
    # On a little-endian host 192.168.1.1 travels as 0x0101a8c0.
    if sys.byteorder == "little":
        assert nameservers_from_legacy([0x0101A8C0]) == ["192.168.1.1"]
    assert nameservers_from_legacy([_legacy("10.9.0.53"), _legacy("8.8.4.4")]) == [
        "10.9.0.53",
        "8.8.4.4",
    ]


@pytest.mark.parametrize(
    ("reply", "servers"),
    [
        ([_legacy("1.1.1.1"), _legacy("1.1.1.1"), _legacy("9.9.9.9")], ["1.1.1.1", "9.9.9.9"]),
        ([0, _legacy("9.9.9.9")], ["9.9.9.9"]),
        ([-1, 2**32, True, "1.1.1.1", 1.5, _legacy("9.9.9.9")], ["9.9.9.9"]),
        ([], []),
        ("1.1.1.1", []),
        (None, []),
    ],
    ids=["duplicate", "unspecified", "not-uint32", "none", "not-a-list", "nothing"],
)
def test_legacy_nameservers_are_validated(reply: Any, servers: list[str]) -> None:
    assert nameservers_from_legacy(reply) == servers


@pytest.mark.parametrize(
    ("reply", "servers"),
    [
        ([{"address": "10.9.0.53"}, {"address": "10.9.0.54"}], ["10.9.0.53", "10.9.0.54"]),
        ([{"address": "10.9.0.53"}, {"address": "10.9.0.53"}], ["10.9.0.53"]),
        ([{"address": "fe80::1"}, {"address": 167772161}, {"addr": "1.1.1.1"}], []),
        ([{"address": "300.1.1.1"}, "1.1.1.1", {"address": "0.0.0.0"}], []),
        ({"address": "1.1.1.1"}, []),
    ],
    ids=["two", "duplicate", "wrong-kind", "malformed", "not-a-list"],
)
def test_nameserver_data_is_validated(reply: Any, servers: list[str]) -> None:
    assert nameservers_from_data(reply) == servers
