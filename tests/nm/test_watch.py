"""--watch against the simulator: the uplink going away, and a saved network coming back."""

from __future__ import annotations

import asyncio
import time

import pytest

from app.config import Config
from app.flow import provision
from app.flow.provision import Provisioner
from app.flow.state import FlowState
from app.nm.client import NetworkManagerClient
from app.nm.profiles import client_profile
from app.simulator import SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from tests.nm.helpers import NMProbe

CONFIG = Config(ssid="Test Portal", watch=True)
HOME = Credentials(b"Home", SecurityKind.WPA_PSK, passphrase="password1")


@pytest.fixture(autouse=True)
def quick_watch(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "WATCH_POLL", 0.05)
    monkeypatch.setattr(provision, "WATCH_GRACE", 0.4)


async def test_the_portal_returns_only_after_the_uplink_has_been_gone_for_the_grace(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    flow = Provisioner(CONFIG, nm)
    await flow.prepare()
    assert (await flow.attempt(HOME)).ok
    assert await provision.uplink_works(nm)
    watching = asyncio.create_task(provision.wait_until_offline(nm))
    await asyncio.sleep(0.6)
    assert not watching.done(), "the uplink is still there"
    (active,) = await probe.active_connection_paths()
    await nm.deactivate(active)
    lost = time.monotonic()
    await asyncio.wait_for(watching, 5)
    assert time.monotonic() - lost >= 0.4


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
    assert await provision.uplink_works(nm)
    assert len(await probe.active_connection_paths()) == 1, "the hotspot is down"
    await flow.cleanup()
