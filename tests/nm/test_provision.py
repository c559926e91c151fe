"""The provisioning flow against the simulator: hotspot, attempts, rollback, stale cleanup."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from ipaddress import IPv4Address

import pytest

from app.config import Config
from app.errors import WifiConnectError
from app.exitcodes import ExitStatus
from app.flow import provision
from app.flow.provision import Provisioner
from app.flow.state import CheckResult, FlowState, Service
from app.nm.client import NetworkManagerClient
from app.nm.const import DeviceStateReason
from app.nm.models import FailureKind
from app.nm.profiles import client_profile, hotspot_profile
from app.portal.state import Activity
from app.simulator import PrivateBus, SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.nm.conftest import scenario
from tests.nm.helpers import NMProbe

CONFIG = Config(ssid="Test Portal")


def _psk(ssid: bytes, passphrase: str = "password1") -> Credentials:
    return Credentials(ssid=ssid, security=SecurityKind.WPA_PSK, passphrase=passphrase)


async def _eventually(condition: Callable[[], bool], timeout: float = 5.0) -> None:
    """Wait, bounded, until `condition` holds."""
    for _ in range(int(timeout / 0.02)):
        if condition():
            return
        await asyncio.sleep(0.02)
    raise AssertionError("condition not met in time")


def _hotspots(sim: SimulatedNetworkManager) -> list[str]:
    return [c.id for c in sim.connections if c.id.startswith("wifi-connect-hotspot")]


@pytest.fixture(autouse=True)
def no_answer_grace(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(provision, "ANSWER_GRACE", 0.0)


async def test_prepare_scans_and_removes_stale_hotspots(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    stale = hotspot_profile(
        ssid="Old", interface="wlan0", gateway=IPv4Address("192.168.42.1"), passphrase=None
    )
    await nm.add_connection(stale)
    flow = Provisioner(CONFIG, nm)
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

    flow = Provisioner(CONFIG, nm, portal_services=services)
    await flow.prepare()
    await flow.open_portal()
    assert flow.status().state is FlowState.PORTAL
    assert _hotspots(sim) == ["wifi-connect-hotspot"]
    await flow.cleanup()
    assert events == ["start wlan0 hotspot=True", "stop"]
    assert _hotspots(sim) == [], "cleanup deletes the hotspot profile"


async def test_wrong_password_keeps_the_saved_profile_and_reopens_the_portal(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    older = await nm.add_connection(client_profile(_psk(b"Home")))
    flow = Provisioner(CONFIG, nm)
    await flow.prepare()
    await flow.open_portal()
    connected = asyncio.create_task(flow.run_until_connected())
    await flow.submit(_psk(b"Home", "not-the-password"))
    await _eventually(
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
    async def ntp_blocked(active_path: str) -> tuple[CheckResult, ...]:
        assert active_path in await probe.active_connection_paths()
        return (
            CheckResult(Service.HTTPS, "https://api.example", True, 12.0),
            CheckResult(Service.NTP, "pool.ntp.org", False, None, "no answer"),
        )

    flow = Provisioner(CONFIG, nm, check_reachability=ntp_blocked)
    await flow.prepare()
    outcome = await flow.attempt(_psk(b"Home"))
    assert outcome.blocked == (Service.NTP,) and not outcome.ok
    assert await nm.wifi_connections() == []
    assert flow.status().state is FlowState.FAILED


async def test_a_stopped_attempt_leaves_no_unproven_profile(nm: NetworkManagerClient) -> None:
    flow = Provisioner(CONFIG, nm, activation_timeout=30)
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
    flow = Provisioner(CONFIG, nm)
    await flow.prepare()
    await flow.open_portal()
    activity = Activity()
    started = time.monotonic()
    waiting = asyncio.create_task(provision._idle_timeout(flow, activity, 1))
    await asyncio.sleep(0.6)
    activity.touch()  # a phone request resets the clock
    await asyncio.wait_for(waiting, 3)
    assert time.monotonic() - started >= 1.5
    await flow.cleanup()


async def test_a_submission_during_an_attempt_is_refused_clearly(nm: NetworkManagerClient) -> None:
    flow = Provisioner(CONFIG, nm)
    await flow.prepare()
    await flow.open_portal()
    await flow.submit(_psk(b"Home"))
    with pytest.raises(WifiConnectError, match="busy with another attempt"):
        await flow.submit(_psk(b"Cafe"))
    await flow.cleanup()


async def test_networkmanager_restarting_mid_attempt_fails_it_and_the_portal_returns(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    flow = Provisioner(CONFIG, nm, activation_timeout=5)
    await flow.prepare()
    await flow.open_portal()
    await sim.stop()
    outcome = await flow.attempt(_psk(b"Home"))
    assert outcome.failure is FailureKind.OTHER
    assert flow.status().state is FlowState.FAILED

    async def come_back() -> None:
        await asyncio.sleep(0.3)
        await sim.resume()

    returning = asyncio.create_task(come_back())
    await asyncio.wait_for(flow.reopen_portal(), 10)
    await returning
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
    sim: SimulatedNetworkManager, private_bus: PrivateBus, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("DBUS_SYSTEM_BUS_ADDRESS", private_bus.address)
    before = [(c.uuid, c.settings) for c in sim.connections]
    assert await provision.run(Config()) is ExitStatus.ALREADY_ONLINE
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

    flow = Provisioner(CONFIG, nm, portal_services=services)
    await flow.prepare()
    await flow.open_portal()
    failure = await asyncio.wait_for(flow.portal_failed(), 2)
    assert str(failure) == "dnsmasq kept dying"
    await flow.cleanup()
