"""A port the hotspot's dnsmasq needs, taken by another process in rc-dev, as a device meets it.

The flow runs against the simulator (on a private dbus-daemon) whose WiFi device is rc-dev's
hotspot interface, with the real dnsmasq beside it: startup must fail naming the port and its
holder, and take down the hotspot it brought up.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
from collections.abc import Iterator
from typing import Any

import pytest

from app.config import Config
from app.flow.dnsmasq import DHCP_PORT, DNS_PORT, Dnsmasq, DnsmasqError
from app.flow.provision import Surroundings, provision
from app.flow.timing import Timings
from app.nm.client import NetworkManagerClient
from app.simulator import SimulatedNetworkManager
from tests.net import helpers
from tests.net.conftest import DEV, DHCP_RANGE, GATEWAY, HOTSPOT_IFACE, Network
from tests.nm.helpers import NMProbe

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("dnsmasq_installed")]

CONFIG = Config(gateway=GATEWAY)


@pytest.fixture
def scenario_data() -> dict[str, Any]:
    """A radio named as rc-dev's hotspot interface, so dnsmasq serves on the real one."""
    return {
        "activation_delay_ms": 20,
        "scan_delay_ms": 20,
        "devices": [{"interface": HOTSPOT_IFACE}],
        "networks": [{"ssid": "Home", "security": "wpa-psk", "passphrase": "password1"}],
    }


@contextlib.contextmanager
def _holding(port: int) -> Iterator[None]:
    """This process holds UDP `port` on every address of rc-dev, as a stray DHCP server would."""
    holder = helpers.netns_socket(DEV, socket.AF_INET, socket.SOCK_DGRAM)
    try:
        holder.bind(("0.0.0.0", port))
        yield
    finally:
        holder.close()


@contextlib.asynccontextmanager
async def _holding_dns(network: Network) -> Any:
    """Another dnsmasq (of ours, started first) holds port 53 on the gateway."""
    owner = Dnsmasq(
        interface=HOTSPOT_IFACE, gateway=GATEWAY, dhcp_range=DHCP_RANGE, temp_parent=network.workdir
    )
    async with owner:
        yield owner.pid


@pytest.mark.parametrize("port", [DNS_PORT, DHCP_PORT])
async def test_a_taken_port_fails_the_start_naming_its_holder_and_the_hotspot_goes(
    network: Network,
    sim: SimulatedNetworkManager,
    nm: NetworkManagerClient,
    probe: NMProbe,
    port: int,
) -> None:
    def services(interface: str) -> Dnsmasq:
        return Dnsmasq(
            interface=interface,
            gateway=GATEWAY,
            dhcp_range=DHCP_RANGE,
            temp_parent=network.workdir,
        )

    surroundings = Surroundings(
        portal=lambda _flow: contextlib.nullcontext(),
        services=services,
        timings=Timings(answer_grace=0.0),
    )
    with helpers.enter_netns(DEV):
        async with contextlib.AsyncExitStack() as stack:
            if port == DNS_PORT:
                holder = f"dnsmasq (pid {await stack.enter_async_context(_holding_dns(network))}"
            else:
                stack.enter_context(_holding(port))
                holder = f"(pid {os.getpid()}, udp)"
            with pytest.raises(DnsmasqError) as caught:
                await asyncio.wait_for(provision(CONFIG, nm, surroundings), 20)
            pids = helpers.netns_pids(DEV)
    message = str(caught.value)
    assert f"port {port} on {GATEWAY} is already taken by " in message, message
    assert holder in message, message
    assert await probe.active_connection_paths() == [], "the hotspot went down"
    assert [c.id for c in sim.connections] == [], "its profile went too"
    assert len(pids) == (1 if port == DNS_PORT else 0), "only the holder's dnsmasq ran"
