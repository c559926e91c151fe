"""The simulator's veth backing (scenario keys ap_link and uplink_link) on real interfaces.

The simulator runs as its own process in e2e-dev, as in the flows; the test drives it through
the app's NetworkManager adapter over the private bus and looks at the interfaces with `ip`.
"""

from __future__ import annotations

import shutil
import socket
from collections.abc import AsyncIterator
from ipaddress import IPv4Address
from typing import Any

import pytest

from app.flow.reachability import answer_addresses
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink, FailureKind
from app.nm.profiles import client_profile, hotspot_profile
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from app.simulator.scenario import ScenarioError
from app.wifi import Credentials, SecurityKind
from tests.e2e import topology
from tests.e2e.world import GOOD_PASSWORD, GOOD_SSID, DeviceStack, addresses, default_route
from tests.net import helpers
from tests.support import eventually

HOTSPOT = f"{topology.GATEWAY}/24"


def _hotspot() -> dict[str, Any]:
    return hotspot_profile(
        ssid="E2E Setup", interface=topology.AP_IFACE, gateway=topology.GATEWAY, passphrase=None
    )


def _client(password: str) -> dict[str, Any]:
    return client_profile(Credentials(GOOD_SSID.encode(), SecurityKind.WPA_PSK, password))


@pytest.fixture
async def nm(device: DeviceStack) -> AsyncIterator[NetworkManagerClient]:
    """The app's adapter, from the root namespace, on the simulator's private bus."""
    async with SystemBus(device.address) as bus:
        yield await NetworkManagerClient.connect(bus, timeout=10)


@pytest.mark.root
async def test_hotspot_puts_the_gateway_on_the_ap_link_and_takes_it_off(
    nm: NetworkManagerClient,
) -> None:
    wifi = await nm.wifi_device(topology.AP_IFACE)
    assert addresses(topology.DEV, topology.AP_IFACE) == []
    saved = await nm.add_connection(_hotspot())
    result = await nm.activate(saved, wifi.device, timeout=10)
    assert result.ok
    assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT]
    # The address is real: a socket can bind it, as the app's dnsmasq does.
    helpers.in_netns(topology.DEV, lambda: _bind_udp(topology.GATEWAY))
    assert result.active_path is not None
    await nm.deactivate(result.active_path)
    assert addresses(topology.DEV, topology.AP_IFACE) == []
    await nm.delete_connection(saved.path)


def _bind_udp(address: IPv4Address) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.bind((str(address), 0))


@pytest.mark.root
async def test_client_gets_the_networks_address_route_and_dns(
    nm: NetworkManagerClient, internet_dns: None
) -> None:
    wifi = await nm.wifi_device(topology.AP_IFACE)
    await wifi.scan(timeout=10)
    saved = await nm.add_connection(_client(GOOD_PASSWORD))
    result = await nm.activate(saved, wifi.device, timeout=10)
    assert result.ok and result.active_path is not None
    assert addresses(topology.DEV, topology.UPLINK_IFACE) == [topology.DEVICE_ADDRESS]
    assert default_route(topology.DEV) == str(topology.INET_ADDRESS)
    assert await nm.nameservers(result.active_path) == [str(topology.INET_ADDRESS)]
    # The link the checks bind to is the real interface, not the simulated device's name.
    link = await nm.active_link(result.active_path)
    assert link == ActiveLink(topology.UPLINK_IFACE, (str(topology.INET_ADDRESS),))
    # The link carries traffic: the internet's DNS server answers from e2e-dev.
    answer = await helpers.dns_ask(topology.DEV, str(topology.INET_ADDRESS), topology.API_HOST)
    assert answer_addresses(answer) == (topology.INET_ADDRESS,)
    # Deleting an active profile deactivates it: address and route go.
    await nm.delete_connection(saved.path)
    await eventually(lambda: addresses(topology.DEV, topology.UPLINK_IFACE) == [], 5.0)
    assert default_route(topology.DEV) is None


@pytest.mark.root
async def test_a_refused_password_configures_nothing(nm: NetworkManagerClient) -> None:
    wifi = await nm.wifi_device(topology.AP_IFACE)
    await wifi.scan(timeout=10)
    saved = await nm.add_connection(_client("not the password"))
    result = await nm.activate(saved, wifi.device, timeout=10)
    assert result.failure is FailureKind.WRONG_PASSWORD
    assert addresses(topology.DEV, topology.UPLINK_IFACE) == []
    assert default_route(topology.DEV) is None


@pytest.mark.root
async def test_a_simulator_that_stops_takes_its_addresses_along(
    device: DeviceStack, nm: NetworkManagerClient
) -> None:
    wifi = await nm.wifi_device(topology.AP_IFACE)
    result = await nm.activate(await nm.add_connection(_hotspot()), wifi.device, timeout=10)
    assert result.ok
    assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT]
    assert device.simulator is not None
    assert await device.simulator.stop() == 0
    assert addresses(topology.DEV, topology.AP_IFACE) == []


# --- without root: the keys are checked, and a failing `ip` fails the activation ------------


def test_link_keys_are_parsed() -> None:
    parsed = parse_scenario(
        {"devices": [{"interface": "wlan0", "ap_link": "veth0", "uplink_link": "veth1"}]}
    )
    assert parsed.devices[0].ap_link == "veth0"
    assert parsed.devices[0].uplink_link == "veth1"
    plain = parse_scenario({"devices": [{"interface": "wlan0"}]})
    assert plain.devices[0].ap_link is None and plain.devices[0].uplink_link is None


@pytest.mark.parametrize(
    ("device", "message"),
    [
        ({"interface": "eth0", "type": "ethernet", "ap_link": "v0"}, "only a WiFi device"),
        ({"interface": "wlan0", "ap_link": "a-name-too-long-x"}, "not a Linux interface name"),
        ({"interface": "wlan0", "uplink_link": "has space"}, "not a Linux interface name"),
        ({"interface": "wlan0", "uplink_link": "a/b"}, "not a Linux interface name"),
        ({"interface": "wlan0", "uplink_link": ""}, "not a Linux interface name"),
        ({"interface": "wlan0", "uplink_link": 7}, "must be a string"),
    ],
)
def test_bad_link_keys_are_refused(device: dict[str, Any], message: str) -> None:
    with pytest.raises(ScenarioError, match=message):
        parse_scenario({"devices": [device]})


async def test_a_link_that_cannot_be_configured_fails_the_activation() -> None:
    if shutil.which("dbus-daemon") is None:
        pytest.skip("dbus-daemon is not installed (apt-get install dbus)")
    # No such interface (and, without root, no permission either): `ip` fails either way.
    data = {"devices": [{"interface": "wlan0", "ap_link": "e2enosuch0"}]}
    async with (
        PrivateBus() as private,
        SimulatedNetworkManager.start(private.address, parse_scenario(data)),
        SystemBus(private.address) as bus,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=10)
        wifi = await nm.wifi_device("wlan0")
        hotspot = hotspot_profile(
            ssid="E2E Setup", interface="wlan0", gateway=topology.GATEWAY, passphrase=None
        )
        result = await nm.activate(await nm.add_connection(hotspot), wifi.device, timeout=10)
        assert not result.ok
        assert int(result.reason) == 5  # NM_DEVICE_STATE_REASON_IP_CONFIG_UNAVAILABLE
