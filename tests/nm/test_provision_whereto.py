"""The flow with Avahi beside NetworkManager: the portal announced while it is up, and /status
naming the network while an attempt runs."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from app.config import Config
from app.flow.provision import Provisioner
from app.flow.state import CheckResult, FlowState
from app.flow.timing import Timings
from app.nm.avahi import HTTP_SERVICE, IF_UNSPEC, PROTO_INET, AvahiClient
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink, MdnsHost
from app.nm.profiles import client_profile
from app.simulator import Fault, FaultAction, PrivateBus, SimulatedNetworkManager
from app.simulator.avahi import GROUP_ESTABLISHED, GROUP_UNCOMMITED, SimulatedAvahi
from app.wifi import Credentials, SecurityKind
from tests.support import eventually

CONFIG = Config(ssid="Test Portal", brand_name="Acme", listening_port=8080)
QUICK = Timings(answer_grace=0.0)
HOME = Credentials(ssid=b"Home", security=SecurityKind.WPA_PSK, passphrase="password1")


@pytest.fixture
async def avahi(private_bus: PrivateBus) -> AsyncIterator[SimulatedAvahi]:
    async with SimulatedAvahi.start(private_bus.address, host_name="sensor-7") as simulated:
        yield simulated


async def portal_open(flow: Provisioner) -> Provisioner:
    """The flow with its hotspot up, as a phone finds it."""
    await flow.prepare()
    await flow.open_portal()
    return flow


async def test_the_portal_is_announced_while_the_hotspot_is_up(
    nm: NetworkManagerClient, system_bus: SystemBus, avahi: SimulatedAvahi
) -> None:
    flow = await portal_open(Provisioner(CONFIG, nm, timings=QUICK, avahi=AvahiClient(system_bus)))
    assert flow.status().mdns == MdnsHost("sensor-7", "sensor-7.local")
    (add,) = avahi.members("AddService")
    # The simulator's wlan0 is no kernel interface: every interface, IPv4 (the hotspot has no v6).
    assert add.args == (
        IF_UNSPEC,
        PROTO_INET,
        0,
        "Acme on sensor-7",
        HTTP_SERVICE,
        "",
        "",
        8080,
        [b"path=/"],
    )
    (group,) = avahi.groups.values()
    assert group.state == GROUP_ESTABLISHED
    # Down for an attempt: withdrawn; the names stay for the page the phone still shows.
    await flow.attempt(HOME)
    assert group.state == GROUP_UNCOMMITED and not group.services
    assert flow.status().mdns == MdnsHost("sensor-7", "sensor-7.local")
    await flow.cleanup()
    assert [call.path for call in avahi.members("Free")] == [add.path]
    assert avahi.groups == {}


async def test_reopened_portal_is_announced_again_in_the_same_group(
    nm: NetworkManagerClient, system_bus: SystemBus, avahi: SimulatedAvahi
) -> None:
    flow = await portal_open(Provisioner(CONFIG, nm, timings=QUICK, avahi=AvahiClient(system_bus)))
    await flow.attempt(
        Credentials(ssid=b"Refuser", security=SecurityKind.WPA_PSK, passphrase="x" * 8)
    )
    await flow.reopen_portal()
    assert len(avahi.members("EntryGroupNew")) == 1
    assert len(avahi.members("Commit")) == 2
    (group,) = avahi.groups.values()
    assert group.state == GROUP_ESTABLISHED
    await flow.cleanup()


async def test_without_avahi_the_flow_goes_on_with_one_line(
    nm: NetworkManagerClient, system_bus: SystemBus, caplog: pytest.LogCaptureFixture
) -> None:
    flow = Provisioner(CONFIG, nm, timings=QUICK, avahi=AvahiClient(system_bus))
    with caplog.at_level(logging.INFO, logger="app.nm.avahi"):
        await flow.prepare()
        await flow.open_portal()
        await flow.attempt(HOME)
        await flow.cleanup()
    assert flow.status().mdns is None
    assert [r.getMessage() for r in caplog.records if r.name == "app.nm.avahi"] == [
        "Avahi is not on the system bus: no mDNS announcement"
    ]


async def test_status_names_the_network_while_the_attempt_runs(nm: NetworkManagerClient) -> None:
    seen: list[tuple[FlowState, str | None]] = []
    checked = asyncio.Event()
    release = asyncio.Event()

    async def held_checks(link: ActiveLink) -> tuple[CheckResult, ...]:
        checked.set()
        await release.wait()
        return ()

    flow = Provisioner(Config(), nm, checks=held_checks, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    seen.append((flow.status().state, flow.status().trying))
    connected = asyncio.create_task(flow.run_until_connected())
    await flow.submit(HOME)
    seen.append((flow.status().state, flow.status().trying))
    await asyncio.wait_for(checked.wait(), 5)
    seen.append((flow.status().state, flow.status().trying))
    release.set()
    outcome = await asyncio.wait_for(connected, 5)
    seen.append((flow.status().state, flow.status().trying))
    assert seen == [
        (FlowState.PORTAL, None),
        (FlowState.CONNECTING, "Home"),
        (FlowState.CHECKING, "Home"),
        (FlowState.CONNECTED, None),
    ]
    assert flow.status().last_attempt == outcome and outcome.ssid == "Home"
    await flow.cleanup()


async def test_a_saved_network_is_named_once_chosen(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    await nm.add_connection(client_profile(HOME))
    flow = Provisioner(Config(), nm, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    # NetworkManager never answers the activation: the flow is caught while it joins.
    sim.inject(Fault("ActivateConnection", FaultAction.HANG))
    look = asyncio.create_task(flow.try_saved_networks())
    await eventually(lambda: flow.status().trying == "Home", what="trying names the saved network")
    assert flow.status().state is FlowState.CONNECTING
    look.cancel()
    await asyncio.gather(look, return_exceptions=True)
    await flow.cleanup()
