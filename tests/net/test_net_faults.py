"""A port the hotspot's dnsmasq needs, taken by another process in rc-dev, as a device meets it.

Also the disk dnsmasq's lease directory lives on, full or read-only: a small tmpfs of the
test's own, mounted on a directory under the tier's work directory and unmounted afterwards.

The flow runs against the simulator (on a private dbus-daemon) whose WiFi device is rc-dev's
hotspot interface, with the real dnsmasq beside it: startup must fail naming the port and its
holder, and take down the hotspot it brought up.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import logging
import os
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import dns.rdatatype
import pytest

from app.config import Config
from app.flow.dnsmasq import DHCP_PORT, DNS_PORT, Dnsmasq, DnsmasqError
from app.flow.provision import Surroundings, provision
from app.flow.reachability import answer_addresses
from app.flow.timing import Timings
from app.nm.client import NetworkManagerClient
from app.simulator import SimulatedNetworkManager
from tests.net import helpers
from tests.net.conftest import DEV, DHCP_RANGE, GATEWAY, HOTSPOT_IFACE, PHONE_IFACE, Network
from tests.nm.helpers import NMProbe
from tests.support import eventually

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


@contextlib.contextmanager
def _small_disk(network: Network, options: str) -> Iterator[Path]:
    """A tmpfs of a few pages, mounted with `options` on a directory of the test's own."""
    mountpoint = Path(network.workdir) / "small-disk"
    mountpoint.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(mountpoint)], check=True)
    try:
        yield mountpoint
    finally:
        subprocess.run(["umount", "-l", str(mountpoint)], check=True)
        mountpoint.rmdir()


def _fill(directory: Path) -> int:
    """Write to `directory` until the disk is full; how many bytes went in."""
    written = 0
    with (directory / "filler").open("wb", buffering=0) as filler:
        try:
            while True:
                written += filler.write(b"x" * 4096) or 0
        except OSError as err:
            assert err.errno == errno.ENOSPC
    return written


@pytest.mark.parametrize(
    ("options", "words"),
    [("ro,size=64k", "Read-only file system"), ("size=64k,nr_inodes=1", "No space left on device")],
    ids=["read-only", "full"],
)
async def test_a_lease_directory_that_cannot_be_made_fails_clearly(
    network: Network, options: str, words: str
) -> None:
    with _small_disk(network, options) as disk, helpers.enter_netns(DEV):
        owner = Dnsmasq(
            interface=HOTSPOT_IFACE, gateway=GATEWAY, dhcp_range=DHCP_RANGE, temp_parent=disk
        )
        with pytest.raises(DnsmasqError) as caught:
            async with owner:
                pass
        assert list(disk.iterdir()) == [], "nothing half-made"
    message = str(caught.value)
    assert f"cannot make dnsmasq's lease directory in {disk}: {words}" in message, message
    assert helpers.netns_pids(DEV) == []


async def test_a_disk_filling_under_dnsmasq_leaves_phones_served(
    network: Network, phone: str, caplog: pytest.LogCaptureFixture
) -> None:
    def warnings() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.levelno == logging.WARNING]

    with _small_disk(network, "size=64k") as disk, helpers.enter_netns(DEV):
        async with Dnsmasq(
            interface=HOTSPOT_IFACE, gateway=GATEWAY, dhcp_range=DHCP_RANGE, temp_parent=disk
        ) as owner:
            pid = owner.pid
            assert _fill(disk) > 0
            # dnsmasq cannot write the lease down, and serves the phone all the same.
            lease = await helpers.dhcp_lease(phone, PHONE_IFACE, timeout=5.0)
            assert DHCP_RANGE[0] <= lease.address <= DHCP_RANGE[1]
            helpers.apply_lease(phone, PHONE_IFACE, lease)
            reply = await helpers.dns_ask(phone, str(GATEWAY), "example.com", dns.rdatatype.A)
            assert answer_addresses(reply) == (GATEWAY,)
            assert owner.pid == pid and owner.restarts == 0
            await eventually(
                lambda: any("No space left on device" in r.getMessage() for r in warnings()),
                what="dnsmasq's complaint logged as a warning",
            )
        (disk / "filler").unlink()
        assert list(disk.iterdir()) == [], "its lease directory went with it"
    assert helpers.netns_pids(DEV) == []
