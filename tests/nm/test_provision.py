"""The provisioning flow against the simulator: hotspot, attempts, rollback, stale cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from ipaddress import IPv4Address

import pytest

from app.config import Config
from app.errors import NotYourTurn, WifiConnectError
from app.exitcodes import ExitStatus
from app.flow.attempt import connect_network
from app.flow.provision import Provisioner, Surroundings, run
from app.flow.state import AttemptOutcome, CheckResult, FlowState, Service
from app.flow.timing import Timings
from app.nm.client import NetworkManagerClient
from app.nm.const import DeviceStateReason
from app.nm.models import ActiveLink, FailureKind
from app.nm.profiles import client_profile, hotspot_profile
from app.simulator import Fault, SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.nm.conftest import scenario
from tests.nm.helpers import NMProbe
from tests.support import ManualClock, eventually

CONFIG = Config(ssid="Test Portal")


def _psk(ssid: bytes, passphrase: str = "password1") -> Credentials:
    return Credentials(ssid=ssid, security=SecurityKind.WPA_PSK, passphrase=passphrase)


def _hotspots(sim: SimulatedNetworkManager) -> list[str]:
    return [c.id for c in sim.connections if c.id.startswith("wifi-connect-hotspot")]


# No head start for the phone's answer: nothing takes a page away here.
QUICK = Timings(answer_grace=0.0)


async def test_prepare_scans_and_removes_stale_hotspots(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    stale = hotspot_profile(
        ssid="Old", interface="wlan0", gateway=IPv4Address("192.168.42.1"), passphrase=None
    )
    await nm.add_connection(stale)
    flow = Provisioner(CONFIG, nm, timings=QUICK)
    await flow.prepare()
    assert _hotspots(sim) == []
    assert {n.ssid for n in await flow.networks()} >= {b"Home", b"Cafe"}


async def test_portal_services_run_only_while_the_hotspot_is_up(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    events: list[str] = []

    @asynccontextmanager
    async def services(interface: str) -> AsyncIterator[None]:
        events.append(f"start {interface} hotspot={bool(await probe.active_connection_paths())}")
        yield
        events.append("stop")

    flow = Provisioner(CONFIG, nm, services=services, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    assert flow.status().state is FlowState.PORTAL
    assert _hotspots(sim) == ["wifi-connect-hotspot"]
    await flow.cleanup()
    assert events == ["start wlan0 hotspot=True", "stop"]
    assert _hotspots(sim) == [], "cleanup deletes the hotspot profile"


async def test_the_hotspot_comes_up_on_the_configured_band_and_channel(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    flow = Provisioner(Config(ssid="Test Portal", band="a", channel=149), nm, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    (hotspot,) = [c for c in sim.connections if c.id == "wifi-connect-hotspot"]
    assert hotspot.received["802-11-wireless"] | {"ssid": b""} == {
        "ssid": b"",
        "mode": "ap",
        "band": "a",
        "channel": 149,
    }
    assert await probe.active_ap_frequency("wlan0") == 5745
    await flow.cleanup()


async def test_wrong_password_keeps_the_saved_profile_and_reopens_the_portal(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    older = await nm.add_connection(client_profile(_psk(b"Home")))
    flow = Provisioner(CONFIG, nm, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    connected = asyncio.create_task(flow.run_until_connected())
    await flow.submit(_psk(b"Home", "not-the-password"))
    await eventually(
        lambda: flow.status().state is FlowState.PORTAL and flow.status().last_attempt is not None
    )
    outcome = flow.status().last_attempt
    assert outcome is not None and outcome.failure is FailureKind.WRONG_PASSWORD
    assert outcome.nm_reason == DeviceStateReason.NO_SECRETS
    assert [c.uuid for c in await nm.wifi_connections()] == [older.uuid], "only the new one went"
    assert _hotspots(sim) == ["wifi-connect-hotspot"]
    # The next submission that works ends the flow and replaces the older profile.
    await flow.submit(_psk(b"Home"))
    result = await asyncio.wait_for(connected, 5)
    assert result.ok
    profiles = await nm.wifi_connections()
    assert len(profiles) == 1 and profiles[0].uuid != older.uuid
    await flow.cleanup()


async def test_blocked_service_removes_the_new_profile(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    async def ntp_blocked(link: ActiveLink) -> tuple[CheckResult, ...]:
        # The checks get the new connection's own link while it is up.
        assert link == ActiveLink("wlan0", ("192.168.100.1",))
        assert len(await probe.active_connection_paths()) == 1
        return (
            CheckResult(Service.HTTPS, "https://api.example", True, 12.0),
            CheckResult(Service.NTP, "pool.ntp.org", False, None, "no answer"),
        )

    flow = Provisioner(CONFIG, nm, checks=ntp_blocked, timings=QUICK)
    await flow.prepare()
    outcome = await flow.attempt(_psk(b"Home"))
    assert outcome.blocked == (Service.NTP,) and not outcome.ok
    assert await nm.wifi_connections() == []
    assert flow.status().state is FlowState.FAILED


async def test_a_stopped_attempt_leaves_no_unproven_profile(nm: NetworkManagerClient) -> None:
    flow = Provisioner(CONFIG, nm, timings=Timings(activation=30))
    await flow.prepare()
    attempt = asyncio.create_task(flow.attempt(Credentials(b"Hangs", SecurityKind.OPEN)))
    for _ in range(250):
        if await nm.wifi_connections():
            break
        await asyncio.sleep(0.02)
    attempt.cancel()
    with pytest.raises(asyncio.CancelledError):
        await attempt
    assert await nm.wifi_connections() == []


async def test_idle_timeout_counts_from_the_last_request_while_the_portal_is_open(
    nm: NetworkManagerClient,
) -> None:
    clock = ManualClock()
    flow = Provisioner(CONFIG, nm, timings=QUICK, clock=clock)
    await flow.prepare()
    await clock.advance(500)  # time before the portal opens does not count
    await flow.open_portal()
    waiting = asyncio.create_task(flow.wait_idle(100))
    await clock.tick(60)
    flow.note_request()  # a phone request starts the count again
    await clock.tick(60)
    await clock.tick(39)
    await clock.until_sleeping()
    assert not waiting.done(), "99 s since the last request"
    await clock.advance(1)
    await asyncio.wait_for(waiting, 5)
    await flow.cleanup()


async def test_a_submission_during_an_attempt_is_refused_clearly(nm: NetworkManagerClient) -> None:
    flow = Provisioner(CONFIG, nm, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    await flow.submit(_psk(b"Home"))
    with pytest.raises(WifiConnectError, match="busy with another attempt"):
        await flow.submit(_psk(b"Cafe"))
    await flow.cleanup()


@asynccontextmanager
async def _taking_turns(
    nm: NetworkManagerClient,
) -> AsyncIterator[tuple[Provisioner, ManualClock, asyncio.Task[AttemptOutcome]]]:
    """A flow on a hand-moved clock, its portal open and serving attempts."""
    clock = ManualClock()
    flow = Provisioner(CONFIG, nm, timings=QUICK, clock=clock)
    await flow.prepare()
    await flow.open_portal()
    connected = asyncio.create_task(flow.run_until_connected())
    try:
        yield flow, clock, connected
    finally:
        connected.cancel()
        await asyncio.gather(connected, return_exceptions=True)
        await flow.cleanup()


async def test_the_checks_get_ready_during_the_answer_grace(
    nm: NetworkManagerClient, probe: NMProbe
) -> None:
    """The CA store loads while the phone's answer gets out, not on the attempt's way."""
    clock = ManualClock()
    readied = asyncio.Event()

    async def prepare_checks() -> None:
        readied.set()

    flow = Provisioner(CONFIG, nm, clock=clock, prepare_checks=prepare_checks)
    await flow.prepare()
    await flow.open_portal()
    connected = asyncio.create_task(flow.run_until_connected())
    await flow.submit(_psk(b"Home"))
    await clock.until_sleeping(connected)
    assert readied.is_set()
    assert len(await probe.active_connection_paths()) == 1, "the hotspot is still up"
    await clock.advance(Timings().answer_grace)
    assert (await asyncio.wait_for(connected, 5)).ok
    await flow.cleanup()


async def test_after_a_failed_attempt_a_waiting_phone_goes_first(
    nm: NetworkManagerClient,
) -> None:
    """One phone resubmitting a network that fails cannot hog the device from a second phone."""
    async with _taking_turns(nm) as (flow, clock, connected):
        await flow.submit(_psk(b"Home", "not-the-password"), "10.0.0.1")
        flow.note_request("10.0.0.2")  # the second phone polls while the attempt runs
        await eventually(lambda: flow.status().state is FlowState.PORTAL)
        with pytest.raises(NotYourTurn, match="Another phone is waiting") as refused:
            await flow.submit(_psk(b"Home", "still-not-it"), "10.0.0.1")
        assert refused.value.retry_after == QUICK.turn
        await clock.advance(QUICK.turn / 2)
        await flow.submit(_psk(b"Home"), "10.0.0.2")
        assert (await asyncio.wait_for(connected, 5)).ok


async def test_a_phone_alone_tries_again_at_once_and_the_first_after_the_window(
    nm: NetworkManagerClient,
) -> None:
    async with _taking_turns(nm) as (flow, clock, connected):
        for attempt in range(2):
            await flow.submit(_psk(b"Home", f"wrong-{attempt}"), "10.0.0.1")
            await eventually(lambda: flow.status().state is FlowState.PORTAL)
        flow.note_request("10.0.0.2")  # a second phone comes, but never submits
        with pytest.raises(NotYourTurn):
            await flow.submit(_psk(b"Home"), "10.0.0.1")
        await clock.advance(QUICK.turn)
        await flow.submit(_psk(b"Home"), "10.0.0.1")
        assert (await asyncio.wait_for(connected, 5)).ok


async def test_networkmanager_restarting_mid_attempt_fails_it_and_the_portal_returns(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    clock = ManualClock()
    flow = Provisioner(CONFIG, nm, timings=Timings(activation=5), clock=clock)
    await flow.prepare()
    await flow.open_portal()
    await sim.stop()
    outcome = await flow.attempt(_psk(b"Home"))
    assert outcome.failure is FailureKind.OTHER
    assert flow.status().state is FlowState.FAILED

    reopening = asyncio.create_task(flow.reopen_portal())
    await clock.until_sleeping()  # the hotspot could not come back; a pause before the retry
    assert not reopening.done()
    await sim.resume()
    await clock.advance(Timings().reopen_first)
    await asyncio.wait_for(reopening, 10)
    assert flow.status().state is FlowState.PORTAL
    assert _hotspots(sim) == ["wifi-connect-hotspot"], "one hotspot profile, not two"
    await flow.cleanup()
    assert _hotspots(sim) == []


ONLINE = scenario(
    devices=[
        {"interface": "eth0", "type": "ethernet", "connected": True, "connectivity": "full"},
        {"interface": "wlan0"},
    ],
    connectivity="full",
)


@pytest.mark.parametrize("scenario_data", [ONLINE], ids=["wired-uplink"])
async def test_already_online_exits_0_touching_nothing(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    def no_portal(flow: Provisioner) -> AbstractAsyncContextManager[object]:
        raise AssertionError("the portal must not open")

    before = [(c.uuid, c.settings) for c in sim.connections]
    surroundings = Surroundings(portal=no_portal, has_default_route=lambda: True)
    assert await run(Config(), nm, surroundings) is ExitStatus.ALREADY_ONLINE
    assert [(c.uuid, c.settings) for c in sim.connections] == before
    assert sim.device_state("wlan0")[0] == 30, "the radio was left alone (DISCONNECTED)"


class _DyingService:
    """A portal service that dies for good as soon as it starts, as dnsmasq may."""

    async def wait_failed(self) -> WifiConnectError:
        return WifiConnectError("dnsmasq kept dying")


async def test_a_portal_service_dying_for_good_is_reported(nm: NetworkManagerClient) -> None:
    @asynccontextmanager
    async def services(interface: str) -> AsyncIterator[_DyingService]:
        yield _DyingService()

    flow = Provisioner(CONFIG, nm, services=services, timings=QUICK)
    await flow.prepare()
    await flow.open_portal()
    failure = await asyncio.wait_for(flow.portal_failed(), 2)
    assert str(failure) == "dnsmasq kept dying"
    await flow.cleanup()


async def test_a_proven_profile_stays_when_an_older_one_cannot_be_removed(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    """Once proven nothing rolls the new profile back, not even a failing clean-up after it."""
    home = _psk(b"Home")
    older = {(await nm.add_connection(client_profile(home))).uuid for _ in range(2)}
    wifi = await nm.wifi_device()
    sim.inject(Fault("Delete", skip=1))  # the second older profile cannot be removed

    outcome = await connect_network(nm, wifi.device, home, activation_timeout=5)

    assert outcome.ok
    profiles = [c for c in await nm.wifi_connections() if c.ssid == b"Home"]
    (new,) = [c for c in profiles if c.uuid not in older]
    assert not new.pending, "the new profile was finished"
    assert len(profiles) == 2, "one older profile is left over, the new one kept"
    assert await nm.activated_path(new) is not None
