"""The app's bus connection under a burst: a full send buffer waits, reads overlap but stay bounded.

dbus-next 0.2.3 ends its whole connection when a non-blocking send meets a full buffer (EAGAIN);
app.nm.bus counts that as nothing sent yet (patient_writes), so a burst of calls only waits.
"""

from __future__ import annotations

import asyncio
import socket

import pytest

from app.errors import NetworkManagerUnavailable
from app.nm import client
from app.nm.bus import SystemBus, patient_writes
from app.nm.client import NetworkManagerClient
from app.nm.const import MANAGER_IFACE, MANAGER_PATH
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario

# Under the bus daemon's limit of 128 unanswered calls a connection (max_replies_per_connection).
BURST = 100


def _full_socket_pair() -> tuple[socket.socket, socket.socket]:
    """A connected pair whose first end's send buffer is full."""
    sender, receiver = socket.socketpair()
    sender.setblocking(False)
    sender.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4096)
    with pytest.raises(BlockingIOError):  # fill it until the kernel refuses
        while True:
            sender.send(b"x" * 1024)
    return sender, receiver


class _Holder:
    """What patient_writes reaches into: a dbus-next bus's writer and its socket."""

    def __init__(self, sock: socket.socket) -> None:
        self._writer = type("Writer", (), {"sock": sock})()


def test_a_full_send_buffer_reads_as_nothing_sent() -> None:
    sender, receiver = _full_socket_pair()
    with sender, receiver:
        holder = _Holder(sender)
        patient_writes(holder)
        patient = holder._writer.sock
        assert patient.send(b"more") == 0
        assert patient.sendmsg([b"more"], []) == 0
        receiver.recv(1 << 20)  # room again: the next send goes out
        assert patient.send(b"more") == 4
        assert patient.fileno() == sender.fileno()


async def test_a_burst_of_calls_through_a_tiny_send_buffer_is_all_answered(
    private_bus: PrivateBus,
) -> None:
    scenario = parse_scenario({"devices": [{"interface": "wlan0"}]})
    async with (
        SimulatedNetworkManager.start(private_bus.address, scenario),
        SystemBus(private_bus.address) as bus,
    ):
        await NetworkManagerClient.connect(bus, timeout=10)
        connection = await bus._connection()
        # The smallest buffer the kernel allows: a burst of calls fills it at once.
        connection._sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1)
        replies = await asyncio.gather(
            *(bus.get_property(MANAGER_PATH, MANAGER_IFACE, "Version") for _ in range(BURST))
        )
        assert len(set(replies)) == 1
        assert bus.reconnects == 0


async def test_listed_objects_are_read_overlapping_but_never_beyond_the_bound() -> None:
    paths = [f"/org/freedesktop/NetworkManager/AccessPoint/{n}" for n in range(100)]
    reading = 0
    most = 0
    all_started = asyncio.Event()
    started = 0

    class ListingOnly:
        """A bus that answers only the listing call; the reads are `read` below."""

        async def call(self, *_args: object, returns: str | None = None) -> list[object]:
            assert returns == "ao"
            return [paths]

    async def read(path: str) -> str:
        nonlocal reading, most, started
        reading += 1
        started += 1
        most = max(most, reading)
        if started == client.READS_IN_FLIGHT:
            all_started.set()
        await all_started.wait()
        await asyncio.sleep(0)
        reading -= 1
        return path

    async with asyncio.timeout(5):  # read one at a time, they would wait for each other for good
        found = await client._listed(ListingOnly(), ("/", "iface", "List"), read)  # type: ignore[arg-type]
    assert found == paths  # in the listed order
    assert most == client.READS_IN_FLIGHT


async def test_a_read_that_loses_networkmanager_stops_the_other_reads() -> None:
    paths = [f"/org/freedesktop/NetworkManager/AccessPoint/{n}" for n in range(100)]
    started: list[str] = []
    running = 0
    release = asyncio.Event()

    class ListingOnly:
        """A bus that answers only the listing call; the reads are `read` below."""

        async def call(self, *_args: object, returns: str | None = None) -> list[object]:
            return [paths]

    async def read(path: str) -> str:
        nonlocal running
        started.append(path)
        if path == paths[0]:
            raise NetworkManagerUnavailable("the system bus connection broke")
        running += 1
        try:
            await release.wait()
        finally:
            running -= 1
        return path

    with pytest.raises(NetworkManagerUnavailable):
        await client._listed(ListingOnly(), ("/", "iface", "List"), read)  # type: ignore[arg-type]
    assert running == 0  # none left waiting for a caller that has gone
    count = len(started)
    release.set()
    for _ in range(5):
        await asyncio.sleep(0)
    assert len(started) == count  # and none starts afterwards
    assert count <= client.READS_IN_FLIGHT + 1
