"""Malformed replies through the simulator: each reply the adapter reads, wrong in every way.

In each example the simulated NetworkManager sends one property (in Get, GetAll and
PropertiesChanged) or one method's reply malformed, over a real private bus: left out, of another
D-Bus type, or of its own type with any value (extremes, NUL bytes and 64 KiB included). What
the adapter may do: read it within the rules; leave out the one access point, device or profile
it spoils, with a warning that names the field, and list the others; or raise a typed error
(MalformedReply names the field). Never a raw TypeError, KeyError, ValueError or AttributeError,
and no profile is lost.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Coroutine, Mapping, Sequence
from typing import Any

import pytest
from dbus_next.signature import Variant
from hypothesis import given, settings
from hypothesis import strategies as st

from app.errors import MalformedReply, NoWifiDevice, WifiConnectError
from app.nm.client import NetworkManagerClient, WifiDevice
from app.nm.const import (
    ACCESS_POINT_IFACE,
    ACTIVE_IFACE,
    CONNECTION_IFACE,
    DEVICE_IFACE,
    IP4CONFIG_IFACE,
    MANAGER_IFACE,
    MANAGER_PATH,
    SETTINGS_IFACE,
    WIRELESS_IFACE,
    DeviceType,
)
from app.nm.models import SavedConnection
from app.nm.profiles import client_profile, pending_profile
from app.simulator import Malformation, SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.nm.dbus_values import malformed, not_of_type, of_type
from tests.nm.looped import Looped, Records, simulated

WORLD_DATA: dict[str, Any] = {
    "scan_delay_ms": 1,
    "activation_delay_ms": 5,
    "devices": [
        {"interface": "wlan0"},
        {"interface": "eth0", "type": "ethernet", "connected": True},
    ],
    "networks": [
        {"ssid": "Home", "security": "wpa-psk", "passphrase": "password1", "strength": 80},
        {"ssid": "Cafe", "security": "open", "strength": 60},
        {"ssid": "Office", "security": "sae", "passphrase": "password2", "strength": 40},
    ],
}
WORLD = parse_scenario(WORLD_DATA)
SSIDS = (b"Home", b"Cafe", b"Office")
# A quarter of the profile's examples for each test (25 under CI), as each costs a dozen
# round trips over the bus; HYPOTHESIS_PROFILE=thorough gives each 750.
BUDGET = settings(max_examples=max(10, settings.default.max_examples // 4))
# Log lines stay short whatever NetworkManager sends (a value is cut to 80 characters).
LONGEST_LINE = 400
# What each AccessPoint property is, as NetworkManager sends it.
AP_PROPERTIES = {
    "Ssid": "ay",
    "Strength": "y",
    "Frequency": "u",
    "HwAddress": "s",
    "Flags": "u",
    "WpaFlags": "u",
    "RsnFlags": "u",
    "Mode": "u",
}
DEVICE_PROPERTIES = {"Interface": "s", "DeviceType": "u", "State": "u", "Managed": "b"}
# Settings keys the adapter reads from GetSettings, and their types.
SETTINGS_KEYS = {
    ("connection", "id"): "s",
    ("connection", "uuid"): "s",
    ("connection", "type"): "s",
    ("connection", "interface-name"): "s",
    ("802-11-wireless", "ssid"): "ay",
    ("802-11-wireless", "mode"): "s",
    ("user", "data"): "a{ss}",
}


def _member_values(table: Mapping[str, str]) -> st.SearchStrategy[tuple[str, Variant | None]]:
    """A member of `table` and what it comes as instead of its type."""
    return st.sampled_from(sorted(table)).flatmap(
        lambda member: malformed(table[member]).map(lambda value: (member, value))
    )


def _inject(world: Looped, malformation: Malformation) -> NetworkManagerClient:
    """That one malformation, nothing injected before; a new adapter, which learnt nothing yet."""
    world.examples += 1
    world.sim.clear_injected()
    world.sim.inject(malformation)
    return world.client()


def _named(error: BaseException | str, *names: str) -> bool:
    """Whether an error (or a log line) names one of `names`."""
    return any(name in str(error) for name in names)


def _skips_name(log: Records, *names: str) -> bool:
    """Whether every warning about leaving something out names one of `names`, in a short line."""
    named = all(_named(w, *names) for w in log.warnings() if w.startswith("Ignoring"))
    return named and log.longest() <= LONGEST_LINE


def _listed(
    world: Looped, read: Coroutine[Any, Any, Sequence[Any]], bad: Malformation, listing: str
) -> dict[str, Any] | None:
    """What a read of a list gives, by path; None when it failed, as only a bad `listing` may."""
    try:
        return {item.path: item for item in world.run(read)}
    except MalformedReply as error:
        assert bad.member == listing and _named(error, listing), error
        return None


def _others_kept(
    expected: Mapping[str, object], found: Mapping[str, object], bad: Malformation, log: Records
) -> None:
    """One bad object hid no other; if it is left out itself, a warning names it."""
    if bad.path is None:
        return  # the listing itself was bad: it names nothing the adapter could tell apart
    for path, item in expected.items():
        if path != bad.path:
            assert found[path] == item, f"a bad reply of {bad.path} hid {path}"
    if bad.path not in found:
        assert any(bad.path in w for w in log.warnings()), log.warnings()


async def _save_profiles(world: Looped) -> dict[str, SavedConnection]:
    """Two saved WiFi networks beside the wired uplink's profile; all of them by path."""
    for ssid, passphrase in ((b"Home", "password1"), (b"Cafe", None)):
        security = SecurityKind.WPA_PSK if passphrase else SecurityKind.OPEN
        creds = Credentials(ssid=ssid, security=security, passphrase=passphrase)
        await world.nm.add_connection(client_profile(creds))
    return {c.path: c for c in await world.nm.saved_connections()}


def test_one_malformed_access_point_is_left_out_by_name_and_the_others_listed() -> None:
    with simulated(WORLD) as world:
        wifi = world.run(world.nm.wifi_device("wlan0"))
        expected = {n.ssid: n for n in world.run(wifi.scan(timeout=2.0))}
        assert set(expected) == set(SSIDS)
        paths = {n.ssid: world.sim.access_point_path(n.bssid) for n in world.sim.networks}

        @BUDGET
        @given(ssid=st.sampled_from(SSIDS), member_value=_member_values(AP_PROPERTIES))
        def one_bad(ssid: bytes, member_value: tuple[str, Variant | None]) -> None:
            member, value = member_value
            nm = _inject(world, Malformation(ACCESS_POINT_IFACE, member, value, paths[ssid]))
            with Records("app") as log:
                found = world.run(WifiDevice(nm, world.bus, wifi.device).scan(timeout=2.0))
            listed = {n.ssid: n for n in found}
            renamed = value.value if member == "Ssid" and value is not None else None
            for other in SSIDS:
                if other not in (ssid, renamed):
                    assert listed.get(other) == expected[other], "a bad AP hid another"
            for network in found:
                assert len(network.ssid) <= 32 and 0 <= network.strength <= 100
            if ssid not in listed and member not in ("Ssid", "Mode"):
                assert any(member in w for w in log.warnings()), log.warnings()
            assert _skips_name(log, member), log.warnings()

        one_bad()


def test_a_malformed_scan_reply_fails_the_scan_by_name_or_lists_what_is_there() -> None:
    with simulated(WORLD) as world:
        wifi = world.run(world.nm.wifi_device("wlan0"))
        device = wifi.device.path
        members = {"LastScan": malformed("x"), "GetAllAccessPoints": malformed("ao")}
        # RequestScan answers nothing; whatever it answers instead is not read.
        members["RequestScan"] = st.none() | not_of_type("")

        @BUDGET
        @given(
            member_value=st.sampled_from(sorted(members)).flatmap(
                lambda member: members[member].map(lambda value: (member, value))
            )
        )
        def scan_reply(member_value: tuple[str, Variant | None]) -> None:
            member, value = member_value
            nm = _inject(world, Malformation(WIRELESS_IFACE, member, value, device))
            try:
                # Short: a LastScan stuck at one number is a scan that never ends.
                found = world.run(WifiDevice(nm, world.bus, wifi.device).scan(timeout=0.2))
            except MalformedReply as error:
                assert _named(error, member), error
                return
            assert {n.ssid for n in found} <= set(SSIDS)
            if member == "RequestScan":
                assert {n.ssid for n in found} == set(SSIDS)

        scan_reply()


def test_one_malformed_device_is_left_out_by_name_and_the_other_listed() -> None:
    with simulated(WORLD) as world:
        expected = {d.path: d for d in world.run(world.nm.devices())}
        assert len(expected) == 2
        device_members = st.sampled_from(sorted(expected)).flatmap(
            lambda path: _member_values(DEVICE_PROPERTIES).map(
                lambda mv: Malformation(DEVICE_IFACE, mv[0], mv[1], path)
            )
        )
        listing = malformed("ao").map(lambda v: Malformation(MANAGER_IFACE, "GetDevices", v))

        @BUDGET
        @given(malformation=device_members | listing)
        def one_bad(malformation: Malformation) -> None:
            nm = _inject(world, malformation)
            with Records("app") as log:
                found = _listed(world, nm.devices(), malformation, "GetDevices")
                # NoWifiDevice or MalformedReply when wlan0 is the bad one: typed, either way.
                with contextlib.suppress(WifiConnectError):
                    world.run(nm.wifi_device("wlan0"))
            if found is not None:
                _others_kept(expected, found, malformation, log)
            assert _skips_name(log, malformation.member), log.warnings()

        one_bad()


@st.composite
def _spoiled_settings(draw: st.DrawFn, settings: dict[str, dict[str, Variant]]) -> Variant:
    """A profile's GetSettings with one setting or key left out, or one key of any type."""
    how = draw(st.sampled_from(["drop setting", "drop key", "retype key", "add setting"]))
    spoiled = {name: dict(values) for name, values in settings.items()}
    keys = [(s, k) for s, values in settings.items() for k in values]
    if how == "drop setting":
        del spoiled[draw(st.sampled_from(sorted(settings)))]
    elif how == "drop key":
        setting, key = draw(st.sampled_from(keys))
        del spoiled[setting][key]
    elif how == "retype key":
        setting, key = draw(st.sampled_from(sorted({*SETTINGS_KEYS, *keys})))
        signature = SETTINGS_KEYS.get((setting, key), "s")
        value = draw(of_type(signature) | not_of_type(signature))
        spoiled.setdefault(setting, {})[key] = value
    else:
        spoiled[draw(st.text(min_size=1, max_size=8))] = {"x": draw(of_type("as"))}
    return Variant("a{sa{sv}}", spoiled)


def test_one_malformed_saved_profile_is_left_out_by_name_and_none_is_lost() -> None:
    with simulated(WORLD) as world:
        expected = world.run(_save_profiles(world))
        stored = world.sim.connections
        wire: dict[str, dict[str, dict[str, Variant]]] = {}
        for path in expected:
            (wire[path],) = world.run(world.bus.call(path, CONNECTION_IFACE, "GetSettings"))

        def spoil(path: str) -> st.SearchStrategy[Malformation]:
            reply = _spoiled_settings(wire[path]) | st.none() | not_of_type("a{sa{sv}}")
            filename = malformed("s").map(
                lambda v: Malformation(CONNECTION_IFACE, "Filename", v, path)
            )
            settings = reply.map(lambda v: Malformation(CONNECTION_IFACE, "GetSettings", v, path))
            return settings | filename

        one_profile = st.sampled_from(sorted(expected)).flatmap(spoil)
        listing = malformed("ao").map(lambda v: Malformation(SETTINGS_IFACE, "ListConnections", v))

        @BUDGET
        @given(malformation=one_profile | listing)
        def one_bad(malformation: Malformation) -> None:
            nm = _inject(world, malformation)
            with Records("app") as log:
                found = _listed(world, nm.saved_connections(), malformation, "ListConnections")
                with contextlib.suppress(MalformedReply):  # only ListConnections fails them
                    world.run(nm.wifi_connections())
                    world.run(nm.hotspot_connections())
            if found is not None:
                if malformation.member == "Filename":
                    # One profile without it: the adapter takes the others' for an older NM's.
                    found = {p: dataclasses.replace(c, filename=None) for p, c in found.items()}
                    expected_now = {
                        p: dataclasses.replace(c, filename=None) for p, c in expected.items()
                    }
                    _others_kept(expected_now, found, malformation, log)
                else:
                    _others_kept(expected, found, malformation, log)
            names = [malformation.member, *(n for pair in SETTINGS_KEYS for n in pair)]
            assert _skips_name(log, *names, "connection"), log.warnings()
            assert world.sim.connections == stored, "nothing stored changed"

        one_bad()


async def _uplink_reads(
    nm: NetworkManagerClient, active: str, wired: SavedConnection
) -> list[object]:
    """Every read of the uplink, its active connection and the manager; typed errors kept."""
    reads = [
        nm.status(),
        nm.version(),
        nm.wait_ready(timeout=0.2),
        nm.primary_uplink(),
        nm.active_link(active),
        nm.nameservers(active),
        nm.activated_path(wired),
    ]
    outcomes: list[object] = []
    for read in reads:
        try:
            outcomes.append(await read)
        except WifiConnectError as error:
            outcomes.append(error)
    return outcomes


def test_a_malformed_uplink_or_manager_reply_is_read_or_a_typed_error_naming_it() -> None:
    with simulated(WORLD) as world:
        saved = world.run(_save_profiles(world))
        (wired,) = (c for c in saved.values() if c.connection_type == "802-3-ethernet")
        active = world.run(world.nm.activated_path(wired))
        assert active is not None
        (config,) = world.run(
            world.bus.call(
                active, "org.freedesktop.DBus.Properties", "Get", "ss", [ACTIVE_IFACE, "Ip4Config"]
            )
        )
        eth0 = world.sim.device_by_interface("eth0")
        good = world.run(_uplink_reads(world.client(), active, wired))
        assert not any(isinstance(o, Exception) for o in good), good
        targets: dict[tuple[str, str], tuple[str, str]] = {
            (MANAGER_IFACE, "State"): (MANAGER_PATH, "u"),
            (MANAGER_IFACE, "Connectivity"): (MANAGER_PATH, "u"),
            (MANAGER_IFACE, "Version"): (MANAGER_PATH, "s"),
            (MANAGER_IFACE, "Startup"): (MANAGER_PATH, "b"),
            (MANAGER_IFACE, "PrimaryConnection"): (MANAGER_PATH, "o"),
            (MANAGER_IFACE, "ActiveConnections"): (MANAGER_PATH, "ao"),
            (ACTIVE_IFACE, "Ip4Config"): (active, "o"),
            (ACTIVE_IFACE, "Devices"): (active, "ao"),
            (ACTIVE_IFACE, "Id"): (active, "s"),
            (ACTIVE_IFACE, "State"): (active, "u"),
            (ACTIVE_IFACE, "Uuid"): (active, "s"),
            (IP4CONFIG_IFACE, "NameserverData"): (config.value, "aa{sv}"),
            (DEVICE_IFACE, "Interface"): (eth0, "s"),
            (DEVICE_IFACE, "IpInterface"): (eth0, "s"),
        }

        def spoil(target: tuple[str, str]) -> st.SearchStrategy[Malformation]:
            interface, member = target
            path, signature = targets[target]
            return malformed(signature).map(lambda v: Malformation(interface, member, v, path))

        @BUDGET
        @given(malformation=st.sampled_from(sorted(targets)).flatmap(spoil))
        def one_bad(malformation: Malformation) -> None:
            nm = _inject(world, malformation)
            with Records("app") as log:
                outcomes = world.run(_uplink_reads(nm, active, wired))
            for outcome in outcomes:
                if isinstance(outcome, MalformedReply):
                    assert _named(outcome, malformation.member), outcome
            assert _skips_name(log, malformation.member), log.warnings()
            assert world.sim.connections == stored_before

        stored_before = world.sim.connections
        one_bad()


# -- the cases named in the issue, one by one, with the fixtures' simulator -----------------------


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    return WORLD_DATA


def _creds(ssid: bytes, passphrase: str) -> Credentials:
    return Credentials(ssid=ssid, security=SecurityKind.WPA_PSK, passphrase=passphrase)


@pytest.mark.parametrize("member", ["Ssid", "Strength", "Flags", "WpaFlags", "RsnFlags"])
async def test_an_access_point_reply_without_a_property_is_left_out_and_named(
    sim: SimulatedNetworkManager,
    nm: NetworkManagerClient,
    member: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    home = next(n for n in sim.networks if n.ssid == b"Home")
    sim.inject(Malformation(ACCESS_POINT_IFACE, member, None, sim.access_point_path(home.bssid)))
    found = await (await nm.wifi_device("wlan0")).scan(timeout=2.0)
    # Without its flags a WPA network must not show as open: it is not shown at all.
    assert [n.ssid for n in found] == [b"Cafe", b"Office"]
    assert any(member in r.getMessage() and r.levelname == "WARNING" for r in caplog.records)


async def test_a_nameserver_entry_without_an_address_is_left_out(
    sim: SimulatedNetworkManager, nm: NetworkManagerClient, caplog: pytest.LogCaptureFixture
) -> None:
    uplink = await nm.primary_uplink()
    assert uplink is not None and uplink.resolvers == ("10.77.0.1",)
    entries = [
        {"addr": Variant("s", "10.77.0.7")},
        {"address": Variant("u", 7)},
        {"address": Variant("s", "10.77.0.9")},
    ]
    sim.inject(Malformation(IP4CONFIG_IFACE, "NameserverData", Variant("aa{sv}", entries)))
    uplink = await nm.primary_uplink()
    assert uplink is not None and uplink.resolvers == ("10.77.0.9",)
    warned = [r.getMessage() for r in caplog.records if "NameserverData" in r.getMessage()]
    assert len(warned) == 2, warned


async def test_a_profile_without_its_connection_setting_is_left_out_and_kept(
    sim: SimulatedNetworkManager, nm: NetworkManagerClient, caplog: pytest.LogCaptureFixture
) -> None:
    home = await nm.add_connection(client_profile(_creds(b"Home", "password1")))
    cafe = await nm.add_connection(client_profile(_creds(b"Cafe", "password2")))
    stored = sim.connections
    spoiled = {"802-11-wireless": {"ssid": Variant("ay", b"Home")}}
    sim.inject(
        Malformation(CONNECTION_IFACE, "GetSettings", Variant("a{sa{sv}}", spoiled), home.path)
    )
    assert [c.id for c in await nm.wifi_connections()] == [cafe.id]
    assert sim.connections == stored, "the bad profile is left alone, not lost"
    assert any(
        home.path in r.getMessage() and "connection setting" in r.getMessage()
        for r in caplog.records
    )


async def test_out_of_range_values_are_read_within_the_rules(
    sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    sim.inject(Malformation(MANAGER_IFACE, "State", Variant("u", 2**32 - 1)))
    sim.inject(Malformation(ACCESS_POINT_IFACE, "Strength", Variant("y", 255)))
    sim.inject(Malformation(DEVICE_IFACE, "DeviceType", Variant("u", 999)))
    status = await nm.status()
    assert status.state == 2**32 - 1 and status.state.name == f"UNKNOWN_{2**32 - 1}"
    assert {d.device_type for d in await nm.devices()} == {DeviceType(999)}
    with pytest.raises(NoWifiDevice):
        await nm.wifi_device()


async def test_malformed_secrets_stop_finishing_a_pending_profile_and_keep_its_secrets(
    sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    pending = await nm.add_connection(pending_profile(client_profile(_creds(b"Home", "password1"))))
    stored = sim.connections
    sim.inject(Malformation(CONNECTION_IFACE, "GetSecrets", Variant("s", "psk"), pending.path))
    with pytest.raises(MalformedReply, match="GetSecrets"):
        await nm.finish_pending(pending)
    assert sim.connections == stored, "sent back without its secrets, its password would be gone"


@pytest.mark.parametrize(
    "malformation",
    [
        Malformation(ACTIVE_IFACE, "State", Variant("s", "activated")),
        Malformation(ACTIVE_IFACE, "State", Variant("u", 99)),
        Malformation(ACTIVE_IFACE, "State", None),
        Malformation(DEVICE_IFACE, "StateReason", Variant("s", "no-secrets")),
        Malformation(DEVICE_IFACE, "StateReason", Variant("au", [120])),
        Malformation(MANAGER_IFACE, "ActivateConnection", Variant("s", "/not/a/path")),
        Malformation(MANAGER_IFACE, "ActivateConnection", None),
    ],
    ids=lambda m: f"{m.member}-{m.value.signature if m.value else 'none'}",
)
@pytest.mark.parametrize("passphrase", ["password1", "wrong password"])
async def test_a_malformed_reply_during_an_activation_is_a_result_or_a_typed_error(
    sim: SimulatedNetworkManager,
    nm: NetworkManagerClient,
    malformation: Malformation,
    passphrase: str,
) -> None:
    saved = await nm.add_connection(client_profile(_creds(b"Home", passphrase)))
    stored = sim.connections
    wifi = await nm.wifi_device("wlan0")
    sim.inject(malformation)
    try:
        result = await nm.activate(saved, wifi.device, timeout=2.0)
    except MalformedReply as error:
        assert malformation.member in str(error), error
    else:
        # A wrong password never comes out as a success, whatever the replies said.
        assert result.ok or result.failure is not None
        assert not (result.ok and passphrase != "password1")
    assert sim.connections == stored


async def test_a_malformed_add_connection_reply_is_a_typed_error_naming_it(
    sim: SimulatedNetworkManager, nm: NetworkManagerClient
) -> None:
    sim.inject(Malformation(SETTINGS_IFACE, "AddConnection", Variant("s", "saved")))
    with pytest.raises(MalformedReply, match="AddConnection"):
        await nm.add_connection(client_profile(_creds(b"Home", "password1")))
