"""What `wifi-connect simulate` runs, for the portal tests: the real flow on the simulator.

A private dbus-daemon, the simulated NetworkManager, the adapter, the Provisioner (prepared,
hotspot up, `run_until_connected()` in a background task) and the portal on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from app.exitcodes import ExitStatus
from app.flow.provision import Provisioner, Surroundings, provision
from app.flow.state import AttemptOutcome, FlowState
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import (
    PrivateBus,
    ReceivedConnection,
    SimulatedNetworkManager,
    parse_scenario,
)
from tests.portal.helpers import LoopbackPortal
from tests.support import eventually

# How long the flow may take to connect or fail once the phone submitted (it needs well under 1 s).
FLOW_TIMEOUT = 10.0


@dataclass
class SimPortal:
    """The portal on 127.0.0.1 with the real flow behind it, and the simulator under that."""

    url: str
    port: int
    sim: SimulatedNetworkManager
    flow: Provisioner
    task: asyncio.Task[ExitStatus]

    async def connected(self, ssid: str) -> None:
        """Wait until the flow joined `ssid` and proved it; say why if it did not."""

        def settled() -> bool:
            last = self.flow.status().last_attempt
            return self.task.done() or (last is not None and last.ssid == ssid)

        await eventually(settled)
        # A failed attempt reopens the portal and the flow waits on: report the failure instead.
        assert self.flow.status().last_attempt == AttemptOutcome(ssid, None)
        assert self.flow.status().state is FlowState.CONNECTED

    def clients(self) -> list[ReceivedConnection]:
        """Every infrastructure (client) profile the simulator holds, i.e. all but the hotspot."""
        return [c for c in self.sim.connections if c.received["802-11-wireless"]["mode"] != "ap"]

    def profile(self) -> dict[str, dict[str, Any]]:
        """The one client profile the simulator holds, exactly as the flow sent it."""
        clients = self.clients()
        assert len(clients) == 1, [c.id for c in clients]
        return clients[0].received


@contextlib.asynccontextmanager
async def simulated_portal(
    scenario: dict[str, Any], *, scan_timeout: float = Timings.scan, **config: Any
) -> AsyncIterator[SimPortal]:
    """What `wifi-connect simulate` runs, with `scenario` and `config`, on a free port."""
    if shutil.which("dbus-daemon") is None:
        pytest.skip("the simulator needs dbus-daemon (apt-get install dbus)")
    portal = LoopbackPortal(**config)
    surroundings = Surroundings(
        portal=portal,
        # Nothing takes the page away on loopback: no head start is needed before joining.
        timings=Timings(answer_grace=0.0, scan=scan_timeout),
        # As the demo does; the portal stays "connected" for the test to look at.
        reopen_after_success=3600.0,
        on_serving=portal.serving.set,
    )
    async with (
        PrivateBus() as private_bus,
        SimulatedNetworkManager.start(private_bus.address, parse_scenario(scenario)) as sim,
        SystemBus(private_bus.address) as bus,
    ):
        nm = await NetworkManagerClient.connect(bus, timeout=5)
        task = asyncio.create_task(provision(portal.config, nm, surroundings))
        try:
            await asyncio.wait_for(portal.serving.wait(), FLOW_TIMEOUT)
            yield SimPortal(portal.url, portal.port, sim, portal.flows[0], task)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
        assert [c.id for c in sim.connections if c.id.startswith("wifi-connect-hotspot")] == []
