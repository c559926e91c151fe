"""The real dnsmasq, owned by app.dnsmasq.Dnsmasq in rc-dev, seen from a phone in rc-phone."""

from __future__ import annotations

import asyncio
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from ipaddress import IPv4Address, IPv6Address
from pathlib import Path

import dns.rdatatype
import pytest

from app.flow.dnsmasq import Dnsmasq, DnsmasqError, dnsmasq_argv, find_stale_dnsmasq
from app.flow.reachability import answer_addresses
from tests.net import helpers
from tests.net.conftest import (
    DEV,
    DHCP_RANGE,
    GATEWAY,
    HOTSPOT_IFACE,
    PHONE_IFACE,
    Network,
)
from tests.support import eventually

pytestmark = [pytest.mark.root, pytest.mark.usefixtures("dnsmasq_installed")]

_LOGGER = logging.getLogger(__name__)
# Kills in a row, within the 30 s a dnsmasq must run to count as healthy again.
KILLS = 3


def _owner(network: Network, max_restarts: int = 5) -> Dnsmasq:
    return Dnsmasq(
        interface=HOTSPOT_IFACE,
        gateway=GATEWAY,
        dhcp_range=DHCP_RANGE,
        temp_parent=network.workdir,
        max_restarts=max_restarts,
    )


@pytest.fixture
async def dnsmasq(network: Network) -> AsyncIterator[Dnsmasq]:
    """The hotspot's dnsmasq, serving in rc-dev for the whole test."""
    with helpers.enter_netns(DEV):
        async with _owner(network) as owner:
            _LOGGER.info("dnsmasq serving after %.0f ms", (owner.last_start_seconds or 0) * 1000)
            yield owner
        assert helpers.netns_pids(DEV) == [], "dnsmasq outlived its owner"


async def _ask(
    netns: str, name: str, rdtype: dns.rdatatype.RdataType
) -> tuple[int, tuple[object, ...]]:
    reply = await helpers.dns_ask(netns, str(GATEWAY), name, rdtype)
    return reply.rcode(), answer_addresses(reply, rdtype)


async def test_phone_gets_a_lease_then_every_name_resolves_to_the_gateway(
    dnsmasq: Dnsmasq, phone: str
) -> None:
    lease = await helpers.dhcp_lease(phone, PHONE_IFACE, timeout=5.0)
    _LOGGER.info("DHCP lease %s in %.0f ms", lease.address, lease.elapsed * 1000)
    assert DHCP_RANGE[0] <= lease.address <= DHCP_RANGE[1]
    assert (lease.prefix, lease.router, lease.dns, lease.server) == (
        24,
        GATEWAY,
        (GATEWAY,),
        GATEWAY,
    )
    assert lease.lease_seconds == 3600
    # --no-ping: no ICMP echo wait before the offer.
    assert lease.elapsed < 1.0
    mac = helpers.interface_mac(phone, PHONE_IFACE).hex(":")
    held = helpers.dnsmasq_leases(dnsmasq.lease_file)
    assert [(entry.mac, entry.address) for entry in held] == [(mac, lease.address)]

    helpers.apply_lease(phone, PHONE_IFACE, lease)
    for name in ("connectivitycheck.gstatic.com", "captive.apple.com", "anything.example"):
        assert await _ask(phone, name, dns.rdatatype.A) == (0, (GATEWAY,))
        # AAAA is answered (with ::) rather than refused, so phones do not wait on it.
        assert await _ask(phone, name, dns.rdatatype.AAAA) == (0, (IPv6Address("::"),))


async def test_killed_dnsmasq_is_restarted_each_time(dnsmasq: Dnsmasq, phone: str) -> None:
    """Killed three times in a row, within seconds: back each time, every time as fast."""
    for kill in range(1, KILLS + 1):
        before = dnsmasq.pid
        assert before is not None and dnsmasq.serving
        killed = time.monotonic()
        os.kill(before, signal.SIGKILL)
        # Phones that join meanwhile retry DHCP within seconds; a second's gap is one they
        # bridge. The restart delay does not grow for a dnsmasq that served before it died.
        await eventually(
            lambda old=before: dnsmasq.serving and dnsmasq.pid != old,
            1.0,
            f"back within 1 s ({kill})",
        )
        _LOGGER.info(
            "dnsmasq serving again %.0f ms after SIGKILL %d",
            (time.monotonic() - killed) * 1000,
            kill,
        )
        assert dnsmasq.restarts == kill
    assert helpers.netns_pids(DEV) == [dnsmasq.pid]
    lease = await helpers.dhcp_lease(phone, PHONE_IFACE, timeout=5.0)
    helpers.apply_lease(phone, PHONE_IFACE, lease)
    assert await _ask(phone, "example.com", dns.rdatatype.A) == (0, (GATEWAY,))


async def test_restart_budget_ends_in_a_failure_report(network: Network) -> None:
    with helpers.enter_netns(DEV):
        async with _owner(network, max_restarts=1) as owner:
            first = owner.pid
            assert first is not None
            os.kill(first, signal.SIGKILL)
            await eventually(lambda: owner.serving and owner.pid != first, 5.0)
            second = owner.pid
            assert second is not None
            os.kill(second, signal.SIGKILL)
            async with asyncio.timeout(5):
                error = await owner.wait_failed()
            assert "was killed by SIGKILL again; gave up after 1 restart;" in str(error)
            assert owner.pid is None
    assert helpers.netns_pids(DEV) == []


async def test_leaving_the_context_stops_dnsmasq_and_removes_its_files(network: Network) -> None:
    with helpers.enter_netns(DEV):
        async with _owner(network) as owner:
            pid = owner.pid
            lease_file = owner.lease_file
            assert pid is not None and lease_file is not None and lease_file.parent.is_dir()
        assert owner.pid is None
    assert not helpers.alive(pid)
    assert not lease_file.parent.exists()
    assert helpers.netns_pids(DEV) == []


async def test_cancelling_the_owning_task_stops_dnsmasq(network: Network) -> None:
    started = asyncio.Event()
    pids: list[int] = []

    async def owner_task() -> None:
        async with _owner(network) as owner:
            assert owner.pid is not None
            pids.append(owner.pid)
            started.set()
            await asyncio.Event().wait()

    with helpers.enter_netns(DEV):
        task = asyncio.create_task(owner_task())
        async with asyncio.timeout(5):
            await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
    assert not helpers.alive(pids[0])
    assert helpers.netns_pids(DEV) == []


async def test_address_in_use_is_reported_with_dnsmasq_s_own_words(dnsmasq: Dnsmasq) -> None:
    with pytest.raises(DnsmasqError) as caught:
        async with _owner_in(dnsmasq):
            pass
    message = str(caught.value)
    assert "exited with status" in message and "Address already in use" in message
    # The first one kept serving.
    assert dnsmasq.pid is not None and helpers.netns_pids(DEV) == [dnsmasq.pid]


def _owner_in(running: Dnsmasq) -> Dnsmasq:
    return Dnsmasq(
        interface=running.interface, gateway=running.gateway, dhcp_range=running.dhcp_range
    )


async def test_gateway_not_on_the_interface_times_out_with_a_clear_error(
    network: Network,
) -> None:
    owner = Dnsmasq(
        interface=HOTSPOT_IFACE,
        gateway=IPv4Address("192.168.43.1"),
        dhcp_range=(IPv4Address("192.168.43.2"), IPv4Address("192.168.43.254")),
        temp_parent=network.workdir,
        start_timeout=1.0,
    )
    with helpers.enter_netns(DEV), pytest.raises(DnsmasqError, match="did not answer DNS"):
        async with owner:
            pass
    assert helpers.netns_pids(DEV) == []


def _orphan(argv: list[str], argv0: str) -> None:
    """Start `argv` in rc-dev as an orphan (adopted by init), as a SIGKILLed run leaves it."""
    script = 'argv0=$1; shift; (exec -a "$argv0" "$@" &)'
    subprocess.run(
        ["ip", "netns", "exec", DEV, "bash", "-c", script, "orphan", argv0, *argv], check=True
    )


def _gone(path: Path) -> bool:
    return not path.exists()


def _stale(owner_argv_word: str) -> list[int]:
    return [pid for pid, argv in find_stale_dnsmasq(HOTSPOT_IFACE) if owner_argv_word in argv[-1]]


async def test_a_dnsmasq_left_by_a_killed_run_is_stopped_and_its_lease_dir_removed(
    network: Network,
) -> None:
    """The next start stops the orphan holding the gateway's ports, then serves itself."""
    lease_dir = Path(tempfile.mkdtemp(prefix="wifi-connect-dnsmasq-", dir=network.workdir))
    argv = dnsmasq_argv(
        interface=HOTSPOT_IFACE,
        gateway=GATEWAY,
        dhcp_range=DHCP_RANGE,
        lease_file=lease_dir / "leases",
        binary=shutil.which("dnsmasq") or "dnsmasq",
    )
    _orphan(argv, argv[0])
    await eventually(lambda: _stale(str(lease_dir)) != [], 5.0, "the orphan seen")
    with helpers.enter_netns(DEV):
        async with _owner(network) as owner:
            assert owner.serving and _stale(str(lease_dir)) == []
            assert _gone(lease_dir)


async def test_a_fake_dnsmasq_cannot_make_us_remove_what_is_not_ours(network: Network) -> None:
    """A local process named dnsmasq claiming a lease file in saved networks is stopped, and
    nothing it names is removed."""
    saved = network.workdir / "system-connections"
    saved.mkdir()
    (saved / "Home.nmconnection").write_text("[connection]\nid=Home\n")
    (network.workdir / "wifi-connect-dnsmasq-x").mkdir()
    claimed = network.workdir / "wifi-connect-dnsmasq-x" / ".." / "system-connections" / "l"
    fake = [sys.executable, "-c", "import time; time.sleep(60)"]
    _orphan([*fake, f"--interface={HOTSPOT_IFACE}", f"--dhcp-leasefile={claimed}"], "dnsmasq")
    await eventually(lambda: _stale("system-connections") != [], 5.0, "the fake seen")
    with helpers.enter_netns(DEV):
        async with _owner(network) as owner:
            assert owner.serving and _stale("system-connections") == []
    assert (saved / "Home.nmconnection").read_text() == "[connection]\nid=Home\n"
