"""Pending profiles against the simulator: saved marked, finished once proven, settled at start."""

from __future__ import annotations

from ipaddress import IPv4Address
from typing import Any

from app.flow.attempt import connect_network
from app.flow.leftovers import settle_leftovers
from app.flow.state import CheckResult, Service
from app.nm.client import NetworkManagerClient
from app.nm.models import ActiveLink, SavedConnection
from app.nm.profiles import PENDING_KEY, client_profile, hotspot_profile, pending_profile
from app.simulator import ReceivedConnection, SimulatedNetworkManager
from app.wifi import Credentials, SecurityKind
from tests.nm.helpers import NMProbe

HOME = Credentials(b"Home", SecurityKind.WPA_PSK, passphrase="password1")
CORP = Credentials(b"Corp", SecurityKind.WPA_EAP, passphrase="pw-alice", identity="alice")
PASSED = (CheckResult(Service.HTTPS, "https://api.example", True, 9.0),)
BLOCKED = (CheckResult(Service.HTTPS, "https://api.example", False, None, "refused"),)


def _stored(sim: SimulatedNetworkManager, uuid: str) -> ReceivedConnection:
    (found,) = (c for c in sim.connections if c.uuid == uuid)
    return found


def _checks(results: tuple[CheckResult, ...], seen: list[ActiveLink] | None = None) -> Any:
    async def check(link: ActiveLink) -> tuple[CheckResult, ...]:
        if seen is not None:
            seen.append(link)
        return results

    return check


async def _left_active(
    nm: NetworkManagerClient, credentials: Credentials
) -> tuple[SavedConnection, str]:
    """What a run killed after activating leaves: a pending profile, up."""
    saved = await nm.add_connection(pending_profile(client_profile(credentials)))
    device = (await nm.wifi_device()).device
    result = await nm.activate(saved, device, timeout=5)
    assert result.ok and result.active_path is not None
    return saved, result.active_path


async def test_an_attempt_saves_the_profile_pending_and_finishes_it_once_proven(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager
) -> None:
    older = await nm.add_connection(client_profile(HOME))
    while_checking: list[dict[str, Any]] = []

    async def check(link: ActiveLink) -> tuple[CheckResult, ...]:
        (new,) = (c for c in sim.connections if c.uuid != older.uuid)
        while_checking.append(new.settings)
        return PASSED

    device = (await nm.wifi_device()).device
    outcome = await connect_network(
        nm, device, HOME, activation_timeout=5, check_reachability=check
    )
    assert outcome.ok
    (pending,) = while_checking
    assert pending["connection"]["autoconnect"] is False
    assert pending["user"]["data"] == {PENDING_KEY: "unproven"}
    (kept,) = await nm.wifi_connections()
    assert kept.uuid != older.uuid and not kept.pending
    finished = _stored(sim, kept.uuid).settings
    assert finished["connection"]["autoconnect"] is True and "user" not in finished
    assert finished["802-11-wireless-security"]["psk"] == "password1", "Update kept the secret"


async def test_a_failed_attempt_leaves_no_pending_profile(nm: NetworkManagerClient) -> None:
    device = (await nm.wifi_device()).device
    wrong = Credentials(b"Home", SecurityKind.WPA_PSK, passphrase="not-the-one")
    outcome = await connect_network(nm, device, wrong, activation_timeout=5)
    assert not outcome.ok
    assert await nm.saved_connections() == []


async def test_a_pending_profile_up_and_proven_at_start_becomes_ordinary(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    unrelated = await nm.add_connection(client_profile(HOME))
    older = await nm.add_connection(client_profile(CORP))
    saved, active = await _left_active(nm, CORP)
    untouched = _stored(sim, unrelated.uuid)
    seen: list[ActiveLink] = []
    await settle_leftovers(nm, _checks(PASSED, seen), release_timeout=5)
    assert seen == [await nm.active_link(active)], "the checks ran over the pending one's link"
    finished = _stored(sim, saved.uuid)
    assert finished.settings["connection"]["autoconnect"] is True
    assert "user" not in finished.settings
    # Read back from NM, secrets included, and sent back whole.
    assert finished.settings["802-1x"]["password"] == "pw-alice"
    assert finished.settings["802-1x"]["identity"] == "alice"
    assert await probe.active_connection_paths() == [active]
    remaining = {c.uuid for c in await nm.saved_connections()}
    assert older.uuid not in remaining, "the older profile of its SSID went"
    assert remaining == {unrelated.uuid, saved.uuid}
    assert _stored(sim, unrelated.uuid) == untouched


async def test_a_pending_profile_not_up_or_blocked_at_start_goes(
    nm: NetworkManagerClient, sim: SimulatedNetworkManager, probe: NMProbe
) -> None:
    older = await nm.add_connection(client_profile(HOME))
    idle = await nm.add_connection(pending_profile(client_profile(HOME)))
    blocked, _active = await _left_active(nm, CORP)
    stale = await nm.add_connection(
        hotspot_profile(
            ssid="Old", interface="wlan0", gateway=IPv4Address("192.168.42.1"), passphrase=None
        )
    )
    kept = _stored(sim, older.uuid)
    await settle_leftovers(nm, _checks(BLOCKED), release_timeout=5)
    gone = {idle.uuid, blocked.uuid, stale.uuid}
    assert not gone & {c.uuid for c in sim.connections}
    assert list(sim.connections) == [kept], "the older profile is untouched"
    assert await probe.active_connection_paths() == []


async def test_without_checks_an_active_pending_profile_is_proven_by_being_up(
    nm: NetworkManagerClient,
) -> None:
    saved, _active = await _left_active(nm, HOME)
    await settle_leftovers(nm, None, release_timeout=5)
    (kept,) = await nm.saved_connections()
    assert kept.uuid == saved.uuid and not kept.pending
