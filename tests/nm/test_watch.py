"""--watch against the simulator: the uplink going away, and a saved network coming back."""

from __future__ import annotations

import asyncio
import contextlib
from contextlib import AbstractAsyncContextManager

import pytest

from app.config import Config
from app.errors import NetworkManagerError, WifiConnectError
from app.flow.provision import Provisioner, Surroundings, run
from app.flow.state import FlowState
from app.flow.timing import Timings
from app.flow.uplink import Uplink
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.simulator import Fault, SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.nm.helpers import NMProbe
from tests.support import ManualClock, eventually

CONFIG = Config(ssid="Test Portal", watch=True)
HOME = Credentials(b"Home", SecurityKind.WPA_PSK, passphrase="password1")
DEVICE_ACTIVATED = 100


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


# --- NetworkManager failing under --watch: logged, retried, never the end of the run ---------


def _hotspot_up(sim: SimulatedNetworkManager) -> bool:
    return sim.device_state("wlan0")[0] == DEVICE_ACTIVATED and any(
        c.id.startswith("wifi-connect-hotspot") for c in sim.connections
    )


async def _portal_without(
    nm: NetworkManagerClient,
    sim: SimulatedNetworkManager,
    scenario_data: dict[str, object],
    *absent: bytes,
    clock: ManualClock | None = None,
) -> Provisioner:
    """A flow whose portal is open, with Home saved and the networks `absent` out of range."""
    everything = parse_scenario(scenario_data).networks
    await nm.add_connection(client_profile(HOME))
    sim.set_networks([n for n in everything if n.ssid not in absent], now=True)
    flow = Provisioner(CONFIG, nm, timings=Timings(answer_grace=0.0), clock=clock)
    await flow.prepare()
    await flow.open_portal()
    return flow


async def test_a_failing_close_leaves_the_state_true(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, scenario_data: dict[str, object]
) -> None:
    flow = await _portal_without(nm, sim, scenario_data)
    sim.inject(Fault("DeactivateConnection"))
    with pytest.raises(NetworkManagerError):
        await flow.try_saved_networks()
    # The hotspot is still up, but the close failed half-way: no claim of a portal, nor of joining.
    assert _hotspot_up(sim)
    assert flow.status().state is FlowState.STARTING
    with pytest.raises(WifiConnectError, match="still starting"):
        await flow.submit(HOME)
    await flow.reopen_portal()
    assert flow.status().state is FlowState.PORTAL
    await flow.cleanup()
    assert not _hotspot_up(sim)


async def test_nm_failing_in_every_watch_step_is_retried_on_the_clock(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, scenario_data: dict[str, object]
) -> None:
    clock = ManualClock()
    flow = await _portal_without(nm, sim, scenario_data, clock=clock)
    every = Timings().watch_retry_saved
    rejoining = asyncio.create_task(flow.rejoin_saved_when_quiet())
    # The look fails at its close, then the portal fails to come back twice (ActivateConnection).
    sim.inject(Fault("DeactivateConnection"))
    sim.inject(Fault("ActivateConnection", times=2))
    assert await clock.tick(every, rejoining)
    # Reopening: a try failed at once, the next waits reopen_first (1 s) on the clock.
    await clock.until_sleeping(rejoining)
    assert flow.status().state is FlowState.STARTING
    assert await clock.tick(Timings().reopen_first, rejoining)
    await clock.until_sleeping(rejoining)
    assert flow.status().state is FlowState.STARTING, "the second reopen failed too"
    # The pause doubled: one second more is not enough, two are.
    await clock.advance(1.0)
    assert flow.status().state is FlowState.STARTING
    await clock.advance(1.0)
    await eventually(lambda: flow.status().state is FlowState.PORTAL)
    assert not rejoining.done(), "NetworkManager's errors did not end --watch"
    # The next look finds Home and joins it.
    assert await clock.tick(every, rejoining)
    await asyncio.wait_for(rejoining, 5)
    assert flow.status().state is FlowState.CONNECTED
    await flow.cleanup()


async def test_a_saved_profile_nm_refuses_to_activate_gives_way_to_the_next(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, scenario_data: dict[str, object]
) -> None:
    flow = await _portal_without(nm, sim, scenario_data)
    cafe = await nm.add_connection(client_profile(Credentials(b"Cafe", SecurityKind.OPEN)))
    sim.inject(Fault("ActivateConnection"))
    assert await flow.try_saved_networks()
    assert flow.status().state is FlowState.CONNECTED
    active = await nm.activated_path(cafe)
    assert active is not None, "Home was refused; Cafe, saved after it, is up"
    await flow.cleanup()


async def test_the_uplink_watch_outlives_an_nm_error(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    timings = Timings()
    clock = ManualClock()
    uplink = Uplink(nm, timings=timings, clock=clock, has_default_route=lambda: True)
    watching = asyncio.create_task(uplink.wait_until_gone())
    sim.inject(Fault("GetAll"))
    assert await clock.tick(timings.watch_poll, watching)
    await clock.until_sleeping(watching)
    assert not watching.done(), "an unanswered poll is no news"
    polls = 0
    while await clock.tick(timings.watch_poll, watching):
        polls += 1
    # Nothing is up: the next poll sees it gone, then the grace passes in whole polls.
    assert polls == 1 + timings.watch_grace / timings.watch_poll


async def _stopped(task: asyncio.Task[object]) -> None:
    """Cancel a run and wait until it has cleaned up."""
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


def _no_portal(_flow: Provisioner) -> AbstractAsyncContextManager[object]:
    """The flow without its web server: these tests watch NetworkManager, not phones."""
    return contextlib.nullcontext()


async def test_watch_tries_the_portal_again_when_nm_refuses_it(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    clock = ManualClock()
    surroundings = Surroundings(portal=_no_portal, clock=clock, has_default_route=lambda: False)
    # The hotspot is refused twice: the run waits reopen_first, then twice that, on the clock.
    sim.inject(Fault("ActivateConnection", times=2))
    running = asyncio.create_task(run(CONFIG, nm, surroundings))
    try:
        assert await clock.tick(Timings().reopen_first, running)
        await clock.until_sleeping(running)
        assert not _hotspot_up(sim)
        await clock.advance(Timings().reopen_first)
        assert not _hotspot_up(sim), "the second pause is twice the first"
        await clock.advance(Timings().reopen_first)
        await eventually(lambda: _hotspot_up(sim), what="the portal's hotspot, third time")
        assert not running.done(), "NetworkManager's refusals did not end --watch"
    finally:
        await _stopped(running)
    assert not any(c.id.startswith("wifi-connect-hotspot") for c in sim.connections)


async def test_without_watch_nm_refusing_the_portal_ends_the_run(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    surroundings = Surroundings(portal=_no_portal, has_default_route=lambda: False)
    sim.inject(Fault("ActivateConnection"))

    with pytest.raises(NetworkManagerError):
        await run(Config(ssid="Test Portal"), nm, surroundings)

    assert not any(c.id.startswith("wifi-connect-hotspot") for c in sim.connections)


async def test_watch_outlives_nm_failing_while_settling_at_start(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    clock = ManualClock()
    surroundings = Surroundings(portal=_no_portal, clock=clock, has_default_route=lambda: False)
    sim.inject(Fault("ListConnections"))  # the start's look for leftovers fails once
    running = asyncio.create_task(run(CONFIG, nm, surroundings))
    try:
        assert await clock.tick(Timings().reopen_first, running)
        await eventually(lambda: _hotspot_up(sim), what="the portal's hotspot, second round")
        assert not running.done(), "NetworkManager's error at start did not end --watch"
    finally:
        await _stopped(running)
