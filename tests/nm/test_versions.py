"""The adapter on every NetworkManager from 1.10 on: what a member newer than 1.10 falls back to.

The simulator plays NetworkManager 1.10, 1.30 and the newest (its nm_version); 1.6 stands for
an NM whose active connections send no StateChanged. A missing property is answered with more
than one error name, as real NetworkManagers differ, even UnknownMethod, which also means that
NM restarted under a stale path.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Awaitable, Callable
from ipaddress import IPv4Address
from typing import Any

import pytest

from app.nm.bus import RECHECK_INTERVAL
from app.nm.client import NetworkManagerClient
from app.nm.const import ActiveConnectionState, DeviceStateReason
from app.nm.models import FailureKind
from app.nm.profiles import client_profile, hotspot_profile
from app.simulator import SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.nm.conftest import scenario
from tests.nm.helpers import NMProbe

NEWEST = "1.52"
VERSIONS = ["1.10", "1.30", NEWEST]
MISSING_PROPERTY_ERRORS = [
    "org.freedesktop.DBus.Error.InvalidArgs",
    "org.freedesktop.DBus.Error.UnknownProperty",
    "org.freedesktop.DBus.Error.UnknownMethod",
]
# A scan without LastScan waits this long after the access points are listed (a noted pause).
SCAN_TIME = 4.0
GATEWAY = IPv4Address("192.168.42.1")
DNS = {"address": "10.9.0.5/24", "gateway": "10.9.0.1", "dns": ["10.9.0.53", "10.9.0.54"]}


def at(version: str, **changes: Any) -> Any:
    """The tier's scenario as NetworkManager `version`, as a parameter named after it."""
    return pytest.param(scenario(nm_version=version, **changes), id=version)


def on_1_10_answering(error: str) -> Any:
    """NetworkManager 1.10 answering `error` to a Get of a property it does not have."""
    short = error.rsplit(".", 1)[1]
    return pytest.param(
        scenario(nm_version="1.10", missing_property_error=error), id=f"1.10-{short}"
    )


EVERY_VERSION = [at(version) for version in VERSIONS]
EVERY_ERROR = [on_1_10_answering(error) for error in MISSING_PROPERTY_ERRORS]


def _noted(pauses: list[float]) -> Callable[[float], Awaitable[None]]:
    """A pause that only notes how long the scan asked to wait, so no test sleeps."""

    async def pause(seconds: float) -> None:
        pauses.append(seconds)

    return pause


def _psk(ssid: bytes, passphrase: str = "password1") -> Credentials:
    return Credentials(ssid=ssid, security=SecurityKind.WPA_PSK, passphrase=passphrase)


def _no_restart_seen(caplog: pytest.LogCaptureFixture) -> None:
    """Nothing took a missing member for a NetworkManager that restarted or went away."""
    for record in caplog.records:
        assert "restarted" not in record.getMessage(), record.getMessage()
        assert "went away" not in record.getMessage(), record.getMessage()


@pytest.mark.parametrize("scenario_data", EVERY_VERSION + EVERY_ERROR)
async def test_scan_lists_the_networks_in_range(
    nm: NetworkManagerClient,
    probe: NMProbe,
    scenario_data: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    wifi = await nm.wifi_device()
    pauses: list[float] = []

    networks = await wifi.scan(timeout=5, scan_time=SCAN_TIME, pause=_noted(pauses))

    assert (len(networks), networks[0].ssid) == (9, b"Home")
    assert networks == await probe.networks(wifi.device)
    if scenario_data["nm_version"] == "1.10":
        # No LastScan to wait for: the access points were listed, then the scan's time passed.
        assert len(pauses) == 1 and 0 < pauses[0] <= SCAN_TIME
    else:
        assert pauses == []  # LastScan moved after the simulator's 60 ms scan
    _no_restart_seen(caplog)


@pytest.mark.parametrize("scenario_data", [at("1.10", networks=[])])
async def test_without_last_scan_a_scan_waits_for_access_points_to_appear(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    wifi = await nm.wifi_device()
    # Nothing is listed yet; the networks come into range and the scan will find them.
    sim.set_networks(parse_scenario(scenario()).networks)

    pauses: list[float] = []

    networks = await wifi.scan(timeout=5, scan_time=SCAN_TIME, pause=_noted(pauses))

    assert len(pauses) == 1
    assert len(networks) == 9
    assert networks == await probe.networks(wifi.device)


@pytest.mark.parametrize("scenario_data", [at("1.10", networks=[])])
async def test_without_last_scan_or_access_points_a_scan_is_bounded(
    nm: NetworkManagerClient,
) -> None:
    wifi = await nm.wifi_device()
    started = time.monotonic()

    assert await wifi.scan(timeout=0.5, scan_time=SCAN_TIME) == []

    assert 0.5 <= time.monotonic() - started < 2.5


@pytest.mark.parametrize("scenario_data", [*EVERY_VERSION, at("1.6")])
async def test_activation_succeeds_and_settles_at_once(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(_psk(b"Home")))
    started = time.monotonic()

    result = await nm.activate(saved, wifi.device, timeout=5)

    # Within a signal, not a re-read: before 1.8 the State's PropertiesChanged is that signal.
    assert time.monotonic() - started < RECHECK_INTERVAL
    assert result.ok and result.state is ActiveConnectionState.ACTIVATED
    assert result.active_path in await probe.active_connection_paths()
    await nm.deactivate(result.active_path or "", timeout=5)
    assert result.active_path not in await probe.active_connection_paths()


@pytest.mark.parametrize("scenario_data", [*EVERY_VERSION, at("1.6")])
@pytest.mark.parametrize(
    ("credentials", "failure", "reason"),
    [
        (_psk(b"Home", "wrong-password"), FailureKind.WRONG_PASSWORD, DeviceStateReason.NO_SECRETS),
        (_psk(b"Nowhere"), FailureKind.NOT_FOUND, DeviceStateReason.SSID_NOT_FOUND),
    ],
    ids=["wrong-password", "absent"],
)
async def test_activation_failure_reports_the_device_reason(
    nm: NetworkManagerClient,
    credentials: Credentials,
    failure: FailureKind,
    reason: DeviceStateReason,
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(credentials))

    result = await nm.activate(saved, wifi.device, timeout=5)

    assert (result.ok, result.failure, result.reason) == (False, failure, reason)


def _with_dns(data: Any) -> Any:
    """The same parameter, its networks one open "Home" with two DNS servers."""
    values = data.values[0]
    networks = [{"ssid": "Home", "security": "open", "ip4": DNS}]
    return pytest.param({**values, "networks": networks}, id=data.id)


@pytest.mark.parametrize("scenario_data", [_with_dns(p) for p in EVERY_VERSION + EVERY_ERROR])
async def test_nameservers_of_the_active_connection(
    nm: NetworkManagerClient, caplog: pytest.LogCaptureFixture
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(Credentials(b"Home", SecurityKind.OPEN)))
    result = await nm.activate(saved, wifi.device, timeout=5)
    assert result.ok and result.active_path is not None

    assert await nm.nameservers(result.active_path) == ["10.9.0.53", "10.9.0.54"]
    uplink = await nm.primary_uplink()
    assert uplink is not None and uplink.resolvers == ("10.9.0.53", "10.9.0.54")
    _no_restart_seen(caplog)


@pytest.mark.parametrize("scenario_data", EVERY_VERSION + EVERY_ERROR)
async def test_profiles_are_added_listed_and_deleted(
    nm: NetworkManagerClient,
    sim: SimulatedNetworkManager,
    scenario_data: dict[str, Any],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="app.nm.client")
    hotspot = await nm.add_connection(
        hotspot_profile(ssid="WiFi Connect", interface="wlan0", gateway=GATEWAY, passphrase=None)
    )
    home = await nm.add_connection(client_profile(_psk(b"Home")))

    assert [c.uuid for c in await nm.wifi_connections()] == [home.uuid]
    assert [c.uuid for c in await nm.hotspot_connections()] == [hotspot.uuid]
    await nm.delete_connection(home.path)
    assert await nm.wifi_connections() == []
    assert [c.uuid for c in sim.connections] == [hotspot.uuid]

    listed = await nm.saved_connections()
    if scenario_data["nm_version"] == "1.10":
        # No Filename before 1.12: learnt once for this client, never asked again.
        assert (home.filename, [c.filename for c in listed]) == (None, [None])
        learnt = [r for r in caplog.records if "has no" in r.getMessage()]
        assert len(learnt) == 1
    else:
        assert home.filename == "/etc/NetworkManager/system-connections/Home.nmconnection"
        assert [c.filename for c in listed] == [hotspot.filename]
    _no_restart_seen(caplog)
