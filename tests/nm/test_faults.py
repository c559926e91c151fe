"""Faults under the open portal: NetworkManager leaving, hanging, the bus connection dropping.

Each test runs the flow as a device does (provision(), the real portal on 127.0.0.1) against
the simulator on a private dbus-daemon, and a phone talks to the portal over HTTP. Every wait
is on an event or bounded; NetworkManager's own bound on a call is made short.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from app.flow.provision import Provisioner, Surroundings, provision
from app.flow.state import FlowState
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.simulator import Fault, FaultAction, PrivateBus, SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.nm.helpers import NMProbe
from tests.portal.helpers import LoopbackPortal
from tests.support import eventually

# NetworkManager's bound on one call, short here so a hang shows within a test's time.
CALL_TIMEOUT = 0.5
# Pauses between tries to bring the hotspot back, short for the same reason.
TIMINGS = Timings(answer_grace=0.0, reopen_first=0.05, reopen_max=0.2)
RESTARTS = 3
HOTSPOT_PREFIX = "wifi-connect-hotspot"


@dataclass
class Device:
    """The flow running with its portal, and what the test looks through."""

    flow: Provisioner
    sim: SimulatedNetworkManager
    bus: SystemBus
    probe: NMProbe
    probe_bus: SystemBus
    url: str
    phone: aiohttp.ClientSession

    def hotspots(self) -> list[str]:
        """The hotspot profiles NetworkManager stores."""
        return [c.id for c in self.sim.connections if c.id.startswith(HOTSPOT_PREFIX)]

    async def state(self) -> str:
        """What /status tells the phone of the flow's state."""
        async with self.phone.get(f"{self.url}status") as response:
            assert response.status == 200
            body: dict[str, Any] = await response.json()
            return str(body["state"])

    async def serving(self) -> bool:
        """Whether the portal is open again with exactly one hotspot active, as the phone sees."""
        active = await self.probe.active_connection_paths()
        return await self.state() == "portal" and len(active) == 1 and len(self.hotspots()) == 1

    async def came_back(
        self, restart: int, saved: list[dict[str, Any]], *, within: float = 10.0
    ) -> None:
        """The portal serves again after fault number `restart`: one hotspot, nothing lost."""
        await eventually(self.serving, within, what=f"the portal back after restart {restart}")
        assert self.flow.hotspot_recoveries == restart
        assert self.hotspots() == [HOTSPOT_PREFIX], "no duplicate hotspot profile"
        assert await self.saved() == saved, "nothing saved was lost or changed"

    async def attempt_failed(self) -> bool:
        """Whether /status tells the phone its attempt failed, with the portal open again."""
        async with self.phone.get(f"{self.url}status") as response:
            body = await response.json()
        last = body["last_attempt"]
        return body["state"] == "portal" and last is not None and last["ok"] is False

    async def saved(self) -> list[dict[str, Any]]:
        """Every stored profile but the hotspot, secrets included, by id (paths change)."""
        profiles = await self.probe.stored_profiles()
        return sorted(
            (p for p in profiles.values() if not p["connection"]["id"].value.startswith("wifi-c")),
            key=lambda p: str(p["connection"]["id"].value),
        )


class BusProxy:
    """A socket between the app and the bus daemon that the test can cut, as a daemon would."""

    def __init__(self, daemon_address: str, directory: Path) -> None:
        self._target = daemon_address.removeprefix("unix:path=").split(",")[0]
        self.path = directory / "proxy-bus"
        self._writers: list[asyncio.StreamWriter] = []
        self._server: asyncio.Server | None = None

    @property
    def address(self) -> str:
        """The address the app connects to."""
        return f"unix:path={self.path}"

    async def __aenter__(self) -> BusProxy:
        self._server = await asyncio.start_unix_server(self._pipe, path=str(self.path))
        return self

    async def __aexit__(self, *_exc_info: object) -> None:
        self.cut()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def cut(self) -> None:
        """Close every connection through the proxy, both ways."""
        for writer in self._writers:
            writer.close()
        self._writers.clear()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        daemon_reader, daemon_writer = await asyncio.open_unix_connection(self._target)
        self._writers += [writer, daemon_writer]

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.close()

        await asyncio.gather(copy(reader, daemon_writer), copy(daemon_reader, writer))


@contextlib.asynccontextmanager
async def running(
    private_bus: PrivateBus, sim: SimulatedNetworkManager, address: str | None = None
) -> AsyncIterator[Device]:
    """provision() with the portal on loopback, on its own bus connection, until the test ends."""
    portal = LoopbackPortal()
    surroundings = Surroundings(portal=portal, timings=TIMINGS, on_serving=portal.serving.set)
    async with (
        SystemBus(address or private_bus.address, call_timeout=CALL_TIMEOUT) as bus,
        SystemBus(private_bus.address) as probe_bus,
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as phone,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=5)
        task = asyncio.create_task(provision(portal.config, nm, surroundings))
        try:
            await asyncio.wait_for(portal.serving.wait(), 10)
            probe = NMProbe(probe_bus)
            yield Device(portal.flows[0], sim, bus, probe, probe_bus, portal.url, phone)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert [c.id for c in sim.connections if c.id.startswith(HOTSPOT_PREFIX)] == []


async def _save_home(private_bus: PrivateBus) -> None:
    """A network the user saved before: it must come through every fault unchanged."""
    async with SystemBus(private_bus.address) as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=5)
        psk = Credentials(ssid=b"Home", security=SecurityKind.WPA_PSK, passphrase="password1")
        await nm.add_connection(client_profile(psk))


def _tracebacks(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    """The app's log records that carry a traceback (the simulator's own are not the app's)."""
    return [
        r
        for r in caplog.records
        if r.exc_info is not None and r.name.startswith("app.") and ".simulator" not in r.name
    ]


def _unread_errors(caplog: pytest.LogCaptureFixture) -> int:
    """asyncio's reports of a write that failed on a closed socket, which nobody awaited.

    dbus-next leaves each write's future unread; a socket that closes under a write (ours when
    cut, the simulator's when it stops) leaves one report per write, never a stream of them.
    """
    return sum("exception was never retrieved" in r.getMessage() for r in caplog.records)


async def test_networkmanager_restarts_under_the_open_portal_and_the_hotspot_comes_back(
    private_bus: PrivateBus, sim: SimulatedNetworkManager, caplog: pytest.LogCaptureFixture
) -> None:
    await _save_home(private_bus)
    async with running(private_bus, sim) as device:
        saved = await device.saved()
        for restart in range(1, RESTARTS + 1):
            await sim.stop()
            await eventually(
                lambda: device.flow.status().state is FlowState.STARTING, what="noticed"
            )
            assert await device.state() == "starting", "the phone is told to wait"
            await sim.resume()
            await device.came_back(restart, saved)
        # The portal works again: a scan and an attempt go through.
        async with device.phone.post(f"{device.url}rescan", json={}) as response:
            assert response.status == 200
    assert not _tracebacks(caplog)
    assert _unread_errors(caplog) <= RESTARTS


async def test_a_networkmanager_that_never_answers_a_scan_gets_the_phone_an_error(
    private_bus: PrivateBus, sim: SimulatedNetworkManager
) -> None:
    async with running(private_bus, sim) as device:
        sim.inject(Fault("RequestScan", action=FaultAction.HANG))
        started = asyncio.get_running_loop().time()
        async with device.phone.post(f"{device.url}rescan", json={}) as response:
            assert response.status == 503
            body = await response.json()
        waited = asyncio.get_running_loop().time() - started
        assert "no answer" in str(body), body
        assert waited < 4 * CALL_TIMEOUT, f"the phone waited {waited:.2f} s"
        assert await device.state() == "portal", "the portal goes on"


# NetworkManager hanging on the activation, or refusing to store the profile (as a full disk or
# a read-only /etc makes it): the attempt fails within the call's bound, the phone is told, and
# nothing half-saved stays.
@pytest.mark.parametrize(
    ("fault", "network"),
    [
        (
            Fault("ActivateConnection", action=FaultAction.HANG),
            {"ssid": "Home", "passphrase": "password1"},
        ),
        (Fault("AddConnection", action=FaultAction.FAIL), {"ssid": "Cafe", "passphrase": ""}),
    ],
    ids=["activation-hangs", "profile-not-stored"],
)
async def test_networkmanager_failing_an_attempt_tells_the_phone_and_keeps_the_saved(
    private_bus: PrivateBus, sim: SimulatedNetworkManager, fault: Fault, network: dict[str, str]
) -> None:
    await _save_home(private_bus)
    async with running(private_bus, sim) as device:
        saved = await device.saved()
        sim.inject(fault)
        async with device.phone.post(f"{device.url}connect", json=network) as response:
            assert response.status == 200
        await eventually(device.attempt_failed, what="the attempt failed and the portal back")
        assert device.hotspots() == [HOTSPOT_PREFIX]
        assert await device.saved() == saved, "the unproven profile went, the saved one stayed"


async def test_a_dropped_bus_connection_is_opened_again(
    private_bus: PrivateBus,
    sim: SimulatedNetworkManager,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with (
        BusProxy(private_bus.address, tmp_path) as proxy,
        running(private_bus, sim, proxy.address) as device,
    ):
        for drop in range(1, RESTARTS + 1):
            proxy.cut()
            # The app's next call connects again.
            async with device.phone.post(f"{device.url}rescan", json={}) as response:
                assert response.status in (200, 503)
            await eventually(device.serving, what=f"the portal serving after drop {drop}")
            assert device.bus.reconnects >= drop
        reconnects = device.bus.reconnects
        # The watch on the hotspot still hears NetworkManager over the new connection.
        await sim.restart()
        await eventually(lambda: device.flow.hotspot_recoveries >= 1, what="hotspot watched")
        await eventually(device.serving, what="the portal back after the restart")
        assert device.bus.reconnects == reconnects
    dropped = [r for r in caplog.records if "connection dropped" in r.getMessage()]
    assert len(dropped) == device.bus.reconnects, "one line per drop, no loop"
    assert not _tracebacks(caplog)
    assert _unread_errors(caplog) <= 2 * RESTARTS


async def test_the_bus_daemon_restarts_and_the_app_connects_again(
    private_bus: PrivateBus, sim: SimulatedNetworkManager, caplog: pytest.LogCaptureFixture
) -> None:
    await _save_home(private_bus)
    async with running(private_bus, sim) as device:
        saved = await device.saved()
        for restart in range(1, RESTARTS + 1):
            # Every connection drops with the daemon; NetworkManager comes back on the new one,
            # as systemd restarts it with the bus.
            await private_bus.restart()
            await sim.restart()
            # Sooner than the hotspot watch's own recheck (5 s): the drop itself wakes it.
            await device.came_back(restart, saved, within=4.0)
            assert device.bus.reconnects == restart
        async with device.phone.post(f"{device.url}rescan", json={}) as response:
            assert response.status == 200, "a scan works over the new connection"
    dropped = [r for r in caplog.records if "connection dropped" in r.getMessage()]
    reconnects = device.bus.reconnects + device.probe_bus.reconnects
    assert len(dropped) == reconnects == 2 * RESTARTS, "one line per drop, no loop"
    app_errors = [
        r
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.name.startswith("app.") and ".simulator" not in r.name
    ]
    # Per restart: the drop, the hotspot lost and brought back, a retry or two while the new
    # daemon has no NetworkManager yet; never a stream of them.
    assert len(app_errors) <= 8 * RESTARTS, [r.getMessage() for r in app_errors]
    assert not _tracebacks(caplog)
    assert _unread_errors(caplog) <= 2 * RESTARTS
