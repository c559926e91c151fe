"""The NetworkManager adapter against the simulator: devices, scans, profiles, activation."""

from __future__ import annotations

import asyncio
import time
from ipaddress import IPv4Address
from typing import Any

import pytest

from app.errors import LinkUnusable, NetworkManagerError, NetworkManagerUnavailable, NoWifiDevice
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.const import ActiveConnectionState, Connectivity, DeviceStateReason, DeviceType
from app.nm.models import ActiveLink, FailureKind, Uplink
from app.nm.profiles import client_profile, hotspot_profile
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.contract.invalid_profiles import INVALID_CASES
from tests.nm.conftest import scenario
from tests.nm.helpers import NMProbe


async def test_connect_fails_clearly_and_in_time_without_networkmanager(
    system_bus: SystemBus,
) -> None:
    started = time.monotonic()
    with pytest.raises(NetworkManagerUnavailable, match="did not appear on the system bus"):
        await NetworkManagerClient.connect(system_bus, timeout=0.5)
    assert time.monotonic() - started < 2


async def test_connect_waits_for_networkmanager_to_appear(
    private_bus: PrivateBus, system_bus: SystemBus
) -> None:
    checked = asyncio.Event()

    async def start_later() -> None:
        await asyncio.sleep(0.3)
        async with SimulatedNetworkManager.start(private_bus.address, parse_scenario(scenario())):
            await checked.wait()

    late = asyncio.create_task(start_later())
    try:
        nm = await NetworkManagerClient.connect(system_bus, timeout=5)
        assert (await nm.wifi_device()).device.interface == "wlan0"
    finally:
        checked.set()
        await late


@pytest.mark.parametrize("scenario_data", [scenario(startup_delay_ms=300)], ids=["startup-delay"])
async def test_connect_waits_until_startup_is_over(
    sim: SimulatedNetworkManager, system_bus: SystemBus
) -> None:
    started = time.monotonic()
    await NetworkManagerClient.connect(system_bus, timeout=5)
    assert time.monotonic() - started >= 0.25


TWO_DEVICES = scenario(
    devices=[
        {"interface": "eth0", "type": "ethernet"},
        {"interface": "wlan0", "managed": False},
        {"interface": "wlan1"},
    ]
)


@pytest.mark.parametrize("scenario_data", [TWO_DEVICES], ids=["eth-wlan0-wlan1"])
async def test_wifi_device_choice(nm: NetworkManagerClient) -> None:
    devices = await nm.devices()
    assert [(d.interface, d.device_type) for d in devices] == [
        ("eth0", DeviceType.ETHERNET),
        ("wlan0", DeviceType.WIFI),
        ("wlan1", DeviceType.WIFI),
    ]
    # The first *managed* WiFi device, and the configured one when asked.
    assert (await nm.wifi_device()).device.interface == "wlan1"
    assert (await nm.wifi_device("wlan1")).device.interface == "wlan1"
    with pytest.raises(NoWifiDevice, match="'eth0' is not a WiFi device"):
        await nm.wifi_device("eth0")
    with pytest.raises(NoWifiDevice, match="does not manage 'wlan0'"):
        await nm.wifi_device("wlan0")
    with pytest.raises(
        NoWifiDevice, match=r"no WiFi device named 'wlan9' \(WiFi devices: wlan0, wlan1\)"
    ):
        await nm.wifi_device("wlan9")


@pytest.mark.parametrize(
    "scenario_data", [scenario(devices=[{"interface": "eth0", "type": "ethernet"}])], ids=["wired"]
)
async def test_no_wifi_device_is_a_clear_error(nm: NetworkManagerClient) -> None:
    with pytest.raises(NoWifiDevice, match="manages no WiFi device"):
        await nm.wifi_device()


async def test_scan_waits_for_last_scan_and_lists_one_entry_per_ssid(
    nm: NetworkManagerClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LC_ALL", "C")  # no locale fallbacks: a non-UTF-8 SSID reads as Latin-1
    wifi = await nm.wifi_device()
    started = time.monotonic()
    networks = await wifi.scan(timeout=5)
    assert time.monotonic() - started >= 0.05  # the scan's own delay was waited for
    by_ssid = {n.ssid: n for n in networks}
    assert list(by_ssid) == [n.ssid for n in networks], "one entry per SSID"
    assert by_ssid[b"Home"].strength == 80, "the strongest access point of an SSID wins"
    assert [n.strength for n in networks] == sorted((n.strength for n in networks), reverse=True)
    assert b"" not in by_ssid and b"Hidden" not in by_ssid, "hidden networks are left out"
    assert by_ssid[b"Caf\xe9"].display_ssid == "Café"
    assert by_ssid[b"Caf\xe9"].security is SecurityKind.WPA_PSK_SAE
    assert by_ssid[b"Office"].security is SecurityKind.SAE
    assert by_ssid[b"Corp"].security is SecurityKind.WPA_EAP
    assert by_ssid[b"Cafe"].security is SecurityKind.OPEN


@pytest.mark.parametrize(
    ("scenario_data", "timeout", "least", "most"),
    [
        pytest.param(
            scenario(devices=[{"interface": "wlan0", "scan": "hang"}]), 0.4, 0.4, 2.5, id="hang"
        ),
        pytest.param(
            scenario(devices=[{"interface": "wlan0", "scan": "refuse"}]), 5, 0, 1, id="refuse"
        ),
    ],
)
async def test_a_scan_that_fails_falls_back_to_the_cache_in_time(
    nm: NetworkManagerClient, probe: NMProbe, timeout: float, least: float, most: float
) -> None:
    """A scan that never finishes is bounded by its timeout; a refused one returns at once."""
    wifi = await nm.wifi_device()
    started = time.monotonic()
    networks = await wifi.scan(timeout=timeout)
    assert least <= time.monotonic() - started < most
    assert networks == await probe.networks(wifi.device)


def _psk(ssid: bytes, passphrase: str = "password1", **extra: Any) -> Credentials:
    return Credentials(ssid=ssid, security=SecurityKind.WPA_PSK, passphrase=passphrase, **extra)


async def test_profile_is_added_listed_read_back_and_deleted(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    settings = client_profile(_psk(b"Home"))
    saved = await nm.add_connection(settings)
    assert saved.ssid == b"Home" and saved.connection_type == "802-11-wireless"
    received = {c.uuid: c for c in sim.connections}[saved.uuid]
    assert received.settings["802-11-wireless-security"]["psk"] == "password1"
    assert [c.uuid for c in await nm.wifi_connections()] == [saved.uuid]
    assert await nm.hotspot_connections() == []
    readback = await probe.connection_settings(saved.path)
    assert "psk" not in readback["802-11-wireless-security"], "GetSettings hides secrets"
    secrets = await probe.connection_secrets(saved.path, "802-11-wireless-security")
    assert secrets["802-11-wireless-security"]["psk"] == "password1"
    await nm.delete_connection(saved.path)
    assert await nm.wifi_connections() == []


async def test_hotspot_profiles_are_found_and_kept_apart(nm: NetworkManagerClient) -> None:
    hotspot = await nm.add_connection(
        hotspot_profile(
            ssid="WiFi Connect",
            interface="wlan0",
            gateway=IPv4Address("192.168.42.1"),
            passphrase=None,
        )
    )
    client = await nm.add_connection(client_profile(_psk(b"Home")))
    assert [c.uuid for c in await nm.hotspot_connections()] == [hotspot.uuid]
    assert [c.uuid for c in await nm.wifi_connections()] == [client.uuid]


@pytest.mark.parametrize("case", INVALID_CASES, ids=lambda case: case.id)
async def test_the_simulator_refuses_what_real_networkmanager_refuses(
    nm: NetworkManagerClient, case: Any
) -> None:
    with pytest.raises(NetworkManagerError) as refused:
        await nm.add_connection(case.settings())
    assert refused.value.name == case.error
    assert refused.value.message.startswith(case.blames)
    assert await nm.saved_connections() == [] or all(
        c.connection_type != "802-11-wireless" for c in await nm.saved_connections()
    )


async def test_activation_succeeds(nm: NetworkManagerClient, probe: NMProbe) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(_psk(b"Home")))
    result = await nm.activate(saved, wifi.device, timeout=5)
    assert result.ok and result.state is ActiveConnectionState.ACTIVATED
    assert result.active_path in await probe.active_connection_paths()
    status = await nm.status()
    assert status.connectivity is Connectivity.FULL
    await nm.deactivate(result.active_path or "")
    assert result.active_path not in await probe.active_connection_paths()


@pytest.mark.parametrize(
    ("credentials", "failure", "reasons"),
    [
        (
            _psk(b"Home", "wrong-password"),
            FailureKind.WRONG_PASSWORD,
            {DeviceStateReason.NO_SECRETS},
        ),
        (_psk(b"Refuser", "whatever1"), FailureKind.WRONG_PASSWORD, {DeviceStateReason.NO_SECRETS}),
        (_psk(b"Nowhere"), FailureKind.NOT_FOUND, {DeviceStateReason.SSID_NOT_FOUND}),
        (
            Credentials(ssid=b"Ghost", security=SecurityKind.OPEN),
            FailureKind.NOT_FOUND,
            {DeviceStateReason.SSID_NOT_FOUND},
        ),
        (
            _psk(b"NoDhcp"),
            FailureKind.NO_ADDRESS,
            {DeviceStateReason.DHCP_FAILED, DeviceStateReason.IP_CONFIG_UNAVAILABLE},
        ),
    ],
    ids=["wrong-password", "always-refused", "absent", "not-found", "dhcp"],
)
async def test_activation_failure_reports_the_device_reason(
    nm: NetworkManagerClient,
    credentials: Credentials,
    failure: FailureKind,
    reasons: set[DeviceStateReason],
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(credentials))
    result = await nm.activate(saved, wifi.device, timeout=5)
    assert not result.ok
    assert result.failure is failure
    assert result.reason in reasons


async def test_activation_that_hangs_is_bounded_and_given_up(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(Credentials(b"Hangs", SecurityKind.OPEN)))
    started = time.monotonic()
    result = await nm.activate(saved, wifi.device, timeout=0.5)
    assert 0.5 <= time.monotonic() - started < 3
    assert result.failure is FailureKind.TIMEOUT
    # Giving up means NM is no longer trying: nothing stays active.
    assert result.active_path not in await probe.active_connection_paths()


async def test_reads_survive_a_networkmanager_restart(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    wifi = await nm.wifi_device()
    old_path = wifi.device.path
    await wifi.scan(timeout=5)
    await sim.stop()

    async def come_back() -> None:
        await asyncio.sleep(0.3)
        await sim.resume()

    returning = asyncio.create_task(come_back())
    # The scan starts while NM is gone and finishes once it is back, on its new objects.
    networks = await wifi.scan(timeout=5)
    await returning
    assert wifi.device.path != old_path
    assert [d.interface for d in await nm.devices()] == ["wlan0"]
    assert isinstance(networks, list)
    assert (await nm.status()).state > 0


async def test_reads_fail_clearly_when_networkmanager_stays_away(
    sim: SimulatedNetworkManager, system_bus: SystemBus
) -> None:
    nm = await NetworkManagerClient.connect(system_bus, timeout=0.5)
    await sim.stop()
    with pytest.raises(NetworkManagerUnavailable, match="did not appear"):
        await nm.status()


@pytest.mark.parametrize(
    "scenario_data",
    [
        scenario(
            networks=[
                {
                    "ssid": "Home",
                    "security": "open",
                    "ip4": {
                        "address": "10.9.0.5/24",
                        "gateway": "10.9.0.1",
                        "dns": ["10.9.0.53", "10.9.0.54"],
                    },
                }
            ]
        )
    ],
    ids=["dns"],
)
async def test_nameservers_and_link_of_the_active_connection(nm: NetworkManagerClient) -> None:
    wifi = await nm.wifi_device()
    saved = await nm.add_connection(client_profile(Credentials(b"Home", SecurityKind.OPEN)))
    result = await nm.activate(saved, wifi.device, timeout=5)
    assert result.ok and result.active_path is not None
    assert await nm.nameservers(result.active_path) == ["10.9.0.53", "10.9.0.54"]
    # What the checks bind to and ask: the device's IpInterface and the same resolvers.
    link = ActiveLink(interface="wlan0", resolvers=("10.9.0.53", "10.9.0.54"))
    assert await nm.active_link(result.active_path) == link
    await nm.deactivate(result.active_path)
    with pytest.raises(LinkUnusable, match="no network interface for the new connection"):
        await nm.active_link(result.active_path)


WIRED_UPLINK = scenario(
    devices=[{"interface": "eth0", "type": "ethernet", "connected": True}, {"interface": "wlan0"}]
)


@pytest.mark.parametrize("scenario_data", [WIRED_UPLINK], ids=["wired-uplink"])
async def test_uplink_reads_survive_a_networkmanager_restart(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    (wired,) = [c for c in await nm.saved_connections() if c.connection_type == "802-3-ethernet"]
    result = await nm.activate(wired, await probe.device("eth0"), timeout=5)
    assert result.ok and result.active_path is not None
    uplink = Uplink(name=wired.id, interfaces=("eth0",), resolvers=("10.77.0.1",))
    assert await nm.primary_uplink() == uplink
    await sim.stop()

    async def come_back() -> None:
        await asyncio.sleep(0.2)
        await sim.resume()

    returning = asyncio.create_task(come_back())
    # Both reads start while NM is gone; the restarted NM brings the uplink back under new paths.
    again = await asyncio.gather(
        nm.primary_uplink(), nm.nameservers(result.active_path), nm.active_link(result.active_path)
    )
    await returning
    assert again == [uplink, ["10.77.0.1"], ActiveLink("eth0", ("10.77.0.1",))]
    assert result.active_path not in await probe.active_connection_paths()
