"""A static IPv4 set-up through the adapter and the simulator: saved, joined, checked."""

from __future__ import annotations

import sys
from ipaddress import IPv4Address, IPv4Interface

from app.flow.attempt import connect_network
from app.flow.state import CheckResult, Service
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink, FailureKind, SavedConnection
from app.simulator import SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind, StaticIPv4

STATIC = StaticIPv4(
    IPv4Interface("192.168.1.127/24"),
    IPv4Address("192.168.1.1"),
    (IPv4Address("192.168.1.1"), IPv4Address("1.1.1.1")),
)
IP4CONFIG = "org.freedesktop.NetworkManager.IP4Config"


def _static(ssid: bytes) -> Credentials:
    return Credentials(ssid, SecurityKind.WPA_PSK, "password1", ipv4=STATIC)


class Recorder:
    """A reachability check that passes and remembers the link it was asked to check."""

    def __init__(self) -> None:
        self.links: list[ActiveLink] = []

    async def __call__(self, link: ActiveLink) -> tuple[CheckResult, ...]:
        self.links.append(link)
        return (CheckResult(Service.DNS, ", ".join(link.resolvers), True, 1.0),)


async def test_the_profile_is_manual_and_the_link_has_its_address_and_dns(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, system_bus: SystemBus
) -> None:
    wifi = await nm.wifi_device()
    check = Recorder()

    outcome = await connect_network(
        nm, wifi.device, _static(b"Home"), activation_timeout=5, check_reachability=check
    )

    assert outcome.ok, outcome
    (saved,) = [c for c in sim.connections if c.received["802-11-wireless"]["ssid"] == b"Home"]
    assert saved.settings["ipv4"] == {
        "method": "manual",
        "address-data": [{"address": "192.168.1.127", "prefix": 24}],
        "gateway": "192.168.1.1",
        # in_addr_t: the address's bytes in memory, read as this host's uint32.
        "dns": [
            int.from_bytes(bytes(server), sys.byteorder) for server in ((192, 168, 1, 1), (1,) * 4)
        ],
    }
    # The checks asked the stated servers, and NetworkManager reports the same ones.
    assert [link.resolvers for link in check.links] == [("192.168.1.1", "1.1.1.1")]
    (link,) = check.links
    assert link.interface == "wlan0"
    active = await nm.activated_path(await _kept(nm, b"Home"))
    assert active is not None
    assert await nm.nameservers(active) == ["192.168.1.1", "1.1.1.1"]
    config = await system_bus.get_property(
        active, "org.freedesktop.NetworkManager.Connection.Active", "Ip4Config"
    )
    data = await system_bus.get_property(str(config), IP4CONFIG, "AddressData")
    assert [(d["address"], d["prefix"]) for d in data] == [("192.168.1.127", 24)]
    assert await system_bus.get_property(str(config), IP4CONFIG, "Gateway") == "192.168.1.1"


async def _kept(nm: NetworkManagerClient, ssid: bytes) -> SavedConnection:
    """The one saved profile of `ssid`."""
    (kept,) = [c for c in await nm.wifi_connections() if c.ssid == ssid]
    return kept


async def test_a_network_without_dhcp_joins_with_a_static_address(
    nm: NetworkManagerClient,
) -> None:
    wifi = await nm.wifi_device()
    dhcp = Credentials(b"NoDhcp", SecurityKind.WPA_PSK, "password1")

    failed = await connect_network(nm, wifi.device, dhcp, activation_timeout=5)
    joined = await connect_network(nm, wifi.device, _static(b"NoDhcp"), activation_timeout=5)

    assert failed.failure is FailureKind.NO_ADDRESS
    assert joined.ok, joined
