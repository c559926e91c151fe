"""--watch against the simulator: the uplink going away, and a saved network coming back."""

from __future__ import annotations

import asyncio

from app.config import Config
from app.flow.provision import Provisioner
from app.flow.state import FlowState
from app.flow.timing import Timings
from app.flow.uplink import Uplink
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.simulator import SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.nm.helpers import NMProbe
from tests.support import ManualClock

CONFIG = Config(ssid="Test Portal", watch=True)
HOME = Credentials(b"Home", SecurityKind.WPA_PSK, passphrase="password1")


async def test_the_portal_returns_only_after_the_uplink_has_been_gone_for_the_grace(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    timings = Timings(answer_grace=0.0)
    flow = Provisioner(CONFIG, nm, timings=timings)
    await flow.prepare()
    assert (await flow.attempt(HOME)).ok
    clock = ManualClock()
    uplink = Uplink(nm, timings=timings, clock=clock, has_default_route=lambda: True)
    assert await uplink.works()
    watching = asyncio.create_task(uplink.wait_until_gone())
    for _ in range(10):
        await clock.tick(timings.watch_poll)
    await clock.until_sleeping()
    assert not watching.done(), "the uplink is still there"
    (active,) = await probe.active_connection_paths()
    await nm.deactivate(active)
    polls = 0
    while await clock.tick(timings.watch_poll, watching):
        polls += 1
    # The first poll sees it gone, then the grace passes in whole polls.
    assert polls == 1 + timings.watch_grace / timings.watch_poll


async def test_a_saved_network_in_range_again_closes_the_portal(
    nm: NetworkManagerClient,
    sim: SimulatedNetworkManager,
    probe: NMProbe,
    scenario_data: dict[str, object],
) -> None:
    everything = parse_scenario(scenario_data).networks
    await nm.add_connection(client_profile(HOME))
    sim.set_networks([n for n in everything if n.ssid != b"Home"], now=True)
    flow = Provisioner(CONFIG, nm)
    await flow.prepare()
    await flow.open_portal()
    # Not in range: the portal steps aside for the scan, then comes back.
    assert not await flow.try_saved_networks()
    assert flow.status().state is FlowState.PORTAL
    sim.set_networks(everything)
    assert await flow.try_saved_networks()
    assert flow.status().state is FlowState.CONNECTED
    assert await Uplink(nm, timings=Timings(), clock=ManualClock()).works()
    assert len(await probe.active_connection_paths()) == 1, "the hotspot is down"
    await flow.cleanup()
