"""Scenario files: what they turn into, and errors that name the bad key."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from app.simulator.scenario import (
    ApModeScan,
    DeviceKind,
    Failure,
    Fault,
    FaultAction,
    ScenarioError,
    Security,
    default_scenario,
    load_scenario,
    parse_scenario,
    security_from_flags,
)


def test_default_scenario_has_every_kind_of_network() -> None:
    scenario = default_scenario()
    kinds = {n.security for n in scenario.networks}
    assert kinds == set(Security)
    assert len(scenario.networks) >= 12
    assert any(n.hidden for n in scenario.networks)
    assert any(_not_utf8(n.ssid) for n in scenario.networks)
    failures = {n.failure for n in scenario.networks}
    assert {Failure.WRONG_PASSWORD, Failure.DHCP_FAILS} <= failures
    assert scenario.devices[0].kind is DeviceKind.WIFI


def _not_utf8(raw: bytes) -> bool:
    try:
        raw.decode()
    except UnicodeDecodeError:
        return True
    return False


def test_friendly_security_becomes_nm_flags() -> None:
    scenario = parse_scenario(
        {
            "networks": [
                {"ssid": "a", "security": "wpa-psk+sae", "passphrase": "password1"},
                {"ssid": "b", "security": "owe-transition"},
                {"ssid": "c", "security": "wep", "passphrase": "abcde"},
            ]
        }
    )
    both, transition, wep = scenario.networks
    assert (both.flags, both.wpa_flags, both.rsn_flags) == (0x1, 0, 0x100 | 0x400 | 0x88)
    assert (transition.flags, transition.rsn_flags) == (0, 0x1000)
    assert (wep.flags, wep.wpa_flags, wep.rsn_flags) == (0x1, 0, 0)


@pytest.mark.parametrize(
    ("flags", "expected"),
    [
        ((0, 0, 0), Security.OPEN),
        ((1, 0, 0), Security.WEP),
        ((1, 0x108, 0), Security.WPA_PSK),
        ((1, 0, 0x488), Security.SAE),
        ((1, 0, 0x588), Security.WPA_PSK_SAE),
        ((1, 0x200, 0x288), Security.WPA_EAP),
        ((1, 0, 0x888), Security.OWE),
        ((0, 0, 0x1000), Security.OWE_TRANSITION),
    ],
)
def test_raw_flags_are_classified(flags: tuple[int, int, int], expected: Security) -> None:
    assert security_from_flags(*flags) is expected
    network = parse_scenario(
        {
            "networks": [
                {
                    "ssid": "x",
                    "flags": flags[0],
                    "wpa_flags": flags[1],
                    "rsn_flags": flags[2],
                    "passphrase": "password1",
                    "identity": "me",
                }
            ]
        }
    ).networks[0]
    assert network.security is expected
    assert (network.flags, network.wpa_flags, network.rsn_flags) == flags


def test_ssid_hex_keeps_raw_bytes_and_defaults_are_filled_in() -> None:
    scenario = parse_scenario({"networks": [{"ssid_hex": "ff00fe"}]})
    network = scenario.networks[0]
    assert network.ssid == b"\xff\x00\xfe"
    assert network.security is Security.OPEN
    assert network.bssid == "02:00:00:00:01:01"
    assert scenario.devices[0].interface == "wlan0"
    assert scenario.devices[0].ap_mode_scan is ApModeScan.REFUSE


def test_a_second_radio_scans_in_ap_mode_by_default() -> None:
    device = parse_scenario({"devices": [{"interface": "wlan1", "single_radio": False}]}).devices[0]
    assert device.ap_mode_scan is ApModeScan.WORKS


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"networks": [{"ssid": "a", "pasphrase": "x"}]}, "networks[0].pasphrase: unknown key"),
        (
            {"networks": [{"ssid": "a", "security": "wpa3"}]},
            "networks[0].security: 'wpa3' is not one of",
        ),
        (
            {"networks": [{"ssid": "a", "security": "sae"}]},
            "networks[0].passphrase: is required for a sae",
        ),
        (
            {"networks": [{"ssid": "a", "security": "wpa-eap", "passphrase": "p"}]},
            "networks[0].identity: is required",
        ),
        ({"networks": [{"ssid": "x" * 33}]}, "networks[0].ssid: must be 1-32 bytes, not 33"),
        ({"networks": [{"ssid_hex": "zz"}]}, "networks[0].ssid_hex: 'zz' is not hex digits"),
        ({"networks": [{"ssid": "a", "ssid_hex": "61"}]}, "networks[0].ssid_hex: give either"),
        ({"networks": [{"security": "open"}]}, "networks[0].ssid: is required"),
        (
            {"networks": [{"ssid": "a", "strength": 101}]},
            "networks[0].strength: must be between 0 and 100",
        ),
        (
            {"networks": [{"ssid": "a", "strength": "80"}]},
            "networks[0].strength: must be an integer",
        ),
        (
            {"networks": [{"ssid": "a", "failure": "wrong_password"}]},
            "networks[0].failure: a open network",
        ),
        ({"networks": [{"ssid": "a", "failure": "explodes"}]}, "networks[0].failure: 'explodes'"),
        (
            {"networks": [{"ssid": "a", "ip4": {"address": "10.0.0.300/24"}}]},
            "networks[0].ip4.address:",
        ),
        ({"networks": [{"ssid": "a", "bssid": "nope"}]}, "networks[0].bssid: 'nope' is not a MAC"),
        (
            {
                "networks": [
                    {"ssid": "a", "bssid": "02:00:00:00:00:09"},
                    {"ssid": "b", "bssid": "02:00:00:00:00:09"},
                ]
            },
            "networks[1].bssid: '02:00:00:00:00:09' appears twice",
        ),
        (
            {"networks": [{"ssid": "a", "security": "open", "flags": 1}]},
            "networks[0].security: give either",
        ),
        (
            {"devices": [{"interface": "wlan0"}, {"interface": "wlan0"}]},
            "devices[1].interface: 'wlan0' appears twice",
        ),
        ({"devices": [{"type": "wifi"}]}, "devices[0].interface: is required"),
        (
            {"devices": [{"interface": "w", "type": "modem"}]},
            "devices[0].type: 'modem' is not one of",
        ),
        (
            {"devices": [{"interface": "wlan0", "connected": True}]},
            "devices[0].connected: only an ethernet",
        ),
        ({"devices": [{"interface": "x" * 16}]}, "devices[0].interface: must be 1-15 characters"),
        (
            {"devices": [{"interface": "wlan0", "ip_interface": "a b"}]},
            "devices[0].ip_interface: 'a b' is not a Linux interface name",
        ),
        ({"scan_delay_ms": -1}, "scan_delay_ms: must be between 0"),
        (
            {"connectivity": "great"},
            "connectivity: 'great' is not one of none, portal, limited, full",
        ),
        ({"outages": [{"after_ms": 10, "length": 5}]}, "outages[0].length: unknown key"),
        ({"colour": "blue"}, "colour: unknown key"),
        ([], "the top level must be a JSON object"),
        ({"nm_version": 1.1}, "nm_version: must be a string, not 1.1"),
        ({"nm_version": "1.10.4"}, "nm_version: '1.10.4' is not a NetworkManager version like"),
        ({"nm_version": "v1.10"}, "nm_version: 'v1.10' is not a NetworkManager version like"),
        ({"nm_version": "1.0"}, "nm_version: '1.0' is outside the versions the simulator knows"),
        ({"nm_version": "1.54"}, "nm_version: '1.54' is outside the versions"),
        ({"missing_property_error": "Oops"}, "missing_property_error: 'Oops' is not a D-Bus"),
        ({"missing_property_error": "a..b"}, "missing_property_error: 'a..b' is not a D-Bus"),
    ],
)
def test_errors_name_the_bad_key(data: Any, message: str) -> None:
    with pytest.raises(ScenarioError) as caught:
        parse_scenario(data, "test.json")
    assert str(caught.value).startswith("test.json: ")
    assert message in str(caught.value)


def test_nm_version_defaults_to_the_newest_and_sets_the_version_property() -> None:
    assert (parse_scenario({}).nm_version, parse_scenario({}).version) == ((1, 52), "1.52.0")
    older = parse_scenario({"nm_version": "1.10"})
    assert (older.nm_version, older.version) == ((1, 10), "1.10.0")
    assert parse_scenario({"nm_version": "1.30", "version": "1.30.6"}).version == "1.30.6"
    assert parse_scenario({}).missing_property_error == "org.freedesktop.DBus.Error.InvalidArgs"


def test_load_scenario_reports_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(ScenarioError, match="not JSON"):
        load_scenario(broken)
    good = tmp_path / "good.json"
    good.write_text(json.dumps({"scan_delay_ms": 5, "networks": [{"ssid": "a"}]}))
    assert load_scenario(good).scan_delay_ms == 5


def test_faults_are_parsed_and_count_calls() -> None:
    scenario = parse_scenario(
        {"faults": [{"method": "Update", "action": "hang", "skip": 1}, {"method": "Delete"}]}
    )
    hang, fail = scenario.faults
    assert hang == Fault("Update", FaultAction.HANG, skip=1, times=1)
    assert [hang.applies(call) for call in range(3)] == [False, True, False]
    assert fail.action is FaultAction.FAIL and fail.applies(0) and not fail.applies(1)
    assert all(Fault("GetAll", times=0).applies(call) for call in range(5))
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.action: 'crash' is not one of"):
        parse_scenario({"faults": [{"method": "Update", "action": "crash"}]})
    with pytest.raises(ScenarioError, match=r"faults\[0\]\.method"):
        parse_scenario({"faults": [{"action": "hang"}]})
