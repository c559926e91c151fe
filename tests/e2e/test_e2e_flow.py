"""`wifi-connect run` end to end: a phone in Chromium provisions the device over the hotspot.

The app runs as root in e2e-dev on the simulated NetworkManager, whose radio is the veth to
e2e-phone (the hotspot) and the veth to e2e-inet (the network it joins). The phone gets its
lease from the app's dnsmasq, resolves through it, and lands on the portal from each OS's
connectivity probe. The checks after joining go to the real servers in e2e-inet.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from app.exitcodes import ExitStatus
from tests.e2e import topology
from tests.e2e.processes import Process
from tests.e2e.world import (
    GOOD_PASSWORD,
    GOOD_SSID,
    HOTSPOT_ID,
    PORT,
    Certificates,
    DeviceStack,
    Phone,
    Profile,
    Timings,
    addresses,
    app_children,
    default_route,
    dnsmasq_pids,
    http_get,
    join_hotspot,
    kill_service,
    portal_status,
    start_app,
    until_gone,
    wait_portal,
    wait_status,
)
from tests.net.servers import Internet

PORTAL = f"http://{topology.GATEWAY}/"
HOTSPOT_ADDRESS = f"{topology.GATEWAY}/24"
PROBES = (
    "http://connectivitycheck.gstatic.com/generate_204",
    "http://captive.apple.com/hotspot-detect.html",
)
pytestmark = pytest.mark.root

START_TIMEOUT = 30.0
FLOW_TIMEOUT = 60.0
# The line connect_network logs once every check passed (and older profiles are gone).
PROVEN = rf"Connected to '{GOOD_SSID}'"


def _failed_attempt(status: dict[str, Any]) -> bool:
    attempt = status["last_attempt"]
    return status["state"] == "portal" and attempt is not None and not attempt["ok"]


def _hotspots(profiles: list[Profile]) -> list[Profile]:
    return [p for p in profiles if p.id.startswith(HOTSPOT_ID) or p.mode == "ap"]


def _clients(profiles: list[Profile], ssid: str) -> list[Profile]:
    return [p for p in profiles if p.ssid == ssid and p.mode != "ap"]


def _page_errors(errors: list[str]) -> list[str]:
    # The connecting page's polls fail while the hotspot is away: Chromium logs those failed
    # loads as console errors, and they are expected. A script error never is.
    return [error for error in errors if error.startswith("pageerror")]


async def _stop(app: Process) -> None:
    if app.returncode is None:
        await app.stop()


@contextlib.asynccontextmanager
async def _serving(app: Process) -> AsyncIterator[float]:
    """Wait until the app's portal serves and yield when it first did; stop the app after."""
    try:
        yield await wait_portal(app, START_TIMEOUT)
    finally:
        await _stop(app)


@contextlib.asynccontextmanager
async def _phone_on_the_portal(workdir: Path) -> AsyncIterator[Phone]:
    """A phone that joined the hotspot, opened both probes and landed on the portal each time.

    Chromium quits when the block ends; a script error it saw fails the test.
    """
    lease = await join_hotspot()
    assert lease.router == topology.GATEWAY
    assert lease.dns == (topology.GATEWAY,)
    phone = await Phone.start(workdir)
    try:
        for url in PROBES:
            landed = await phone.ask(cmd="open", url=url, lands=PORTAL)
            assert landed["url"] == PORTAL, url
            assert landed["heading"] == "Choose a WiFi network", url
        yield phone
    finally:
        errors = await phone.close()
    assert _page_errors(errors) == []


async def _assert_torn_down(device: DeviceStack) -> None:
    """Nothing of the portal is left: no hotspot profile, no dnsmasq, no gateway address."""
    assert _hotspots(await device.profiles()) == []
    assert dnsmasq_pids(topology.DEV) == []
    assert addresses(topology.DEV, topology.AP_IFACE) == []


async def test_phone_provisions_the_device(
    workdir: Path,
    device: DeviceStack,
    internet: Internet,
    certificates: Certificates,
    timings: Timings,
) -> None:
    app = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(app) as portal_at, _phone_on_the_portal(workdir) as phone:
        timings.record("process start -> portal serving", portal_at - app.started)
        assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT_ADDRESS]
        assert len(dnsmasq_pids(topology.DEV)) == 1
        await phone.ask(cmd="shot", name="e2e-1-portal")

        submitted = await phone.ask(cmd="submit", ssid=GOOD_SSID, password=GOOD_PASSWORD)
        assert submitted["heading"] == f"Connecting to '{GOOD_SSID}'…"
        await phone.ask(cmd="shot", name="e2e-2-connecting")

        assert await app.wait(FLOW_TIMEOUT) == 0, app.tail()
        # The steps after the submit, from the app's log lines as they arrived.
        steps = [
            ("submit -> hotspot down (the phone's answer grace included)", r"Hotspot is down"),
            ("hotspot down -> joined", rf"'{GOOD_SSID}' is active on"),
            ("joined -> reachability proven", PROVEN),
        ]
        last, after = submitted["clicked_at"], 0
        for name, pattern in steps:
            found = app.find(pattern, after)
            assert found is not None, (pattern, app.tail())
            after, line = found
            timings.record(name, line.at - last)
            last = line.at
        timings.record("submit -> reachability proven", last - submitted["clicked_at"])

    # The device is on the network it was given, and the checks went through that link.
    assert [p.id for p in _clients(await device.profiles(), GOOD_SSID)] == [GOOD_SSID]
    assert addresses(topology.DEV, topology.UPLINK_IFACE) == [topology.DEVICE_ADDRESS]
    assert default_route(topology.DEV) == str(topology.INET_ADDRESS)
    assert internet.sntp.requests >= 1
    assert topology.API_HOST in internet.tls_names
    await _assert_torn_down(device)


async def _fail_and_come_back(
    app: Process, phone: Phone, password: str, timings: Timings, name: str
) -> str:
    """Submit; wait for the hotspot to come back; rejoin; return the reason the page shows."""
    submitted = await phone.ask(cmd="submit", ssid=GOOD_SSID, password=password)
    back_at, status = await wait_status(_failed_attempt, FLOW_TIMEOUT, app, "a failed attempt")
    timings.record(
        f"{name}: submit -> hotspot back with the reason", back_at - submitted["clicked_at"]
    )
    assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT_ADDRESS]
    # The phone rejoins the hotspot, as a phone does when it reappears; the connecting page,
    # still open, finds the portal again and goes back to it, which shows why.
    await join_hotspot()
    shown = await phone.ask(cmd="wait_alert", timeout=30)
    assert shown["url"] == PORTAL
    await phone.ask(cmd="shot", name=f"e2e-{name}")
    reasons = status["last_attempt"]["reasons"]
    assert any(reason in shown["alert"] for reason in reasons), (reasons, shown)
    return str(shown["alert"])


async def test_wrong_password_brings_the_hotspot_back_with_the_reason(
    workdir: Path,
    device: DeviceStack,
    internet: Internet,
    certificates: Certificates,
    timings: Timings,
) -> None:
    app = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(app), _phone_on_the_portal(workdir) as phone:
        alert = await _fail_and_come_back(app, phone, "not the password", timings, "wrong-password")
        assert f"The password for '{GOOD_SSID}' was not accepted." in alert
        profiles = await device.profiles()
        assert _clients(profiles, GOOD_SSID) == []
        assert len(_hotspots(profiles)) == 1
        assert len(dnsmasq_pids(topology.DEV)) == 1
        assert addresses(topology.DEV, topology.UPLINK_IFACE) == []
    await _assert_torn_down(device)


async def test_blocked_ntp_is_named_and_the_new_profile_removed(
    workdir: Path,
    device: DeviceStack,
    internet: Internet,
    certificates: Certificates,
    timings: Timings,
) -> None:
    topology.drop_udp_port(topology.INET, 123)
    app = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(app), _phone_on_the_portal(workdir) as phone:
        alert = await _fail_and_come_back(app, phone, GOOD_PASSWORD, timings, "ntp-blocked")
        assert "time servers (UDP 123) are blocked" in alert
        assert internet.sntp.requests == 0
        assert _clients(await device.profiles(), GOOD_SSID) == []
        # Deactivated before the hotspot came back: the uplink is gone again.
        assert addresses(topology.DEV, topology.UPLINK_IFACE) == []
        assert default_route(topology.DEV) is None


async def test_a_working_wire_does_not_prove_a_wifi_link_that_blocks_443(
    workdir: Path,
    wired_device: DeviceStack,
    internet: Internet,
    certificates: Certificates,
    timings: Timings,
) -> None:
    # The wire reaches every server and has the default route; the WiFi network the phone
    # gives turns TCP 443 away. Checks that followed the route would pass over the wire.
    wifi_address = topology.ROUTED_WIFI_ADDRESS.split("/")[0]
    topology.firewall(topology.INET, f"ip saddr {wifi_address} tcp dport 443 reject with tcp reset")
    app = await start_app(workdir, wired_device.address, certificates.ca.cert)
    async with _serving(app), _phone_on_the_portal(workdir) as phone:
        alert = await _fail_and_come_back(app, phone, GOOD_PASSWORD, timings, "wifi-443-blocked")
        assert "secure web connections (TCP 443) are blocked" in alert
        status = await portal_status()
        assert status is not None
        checks = {check["service"]: check for check in status["last_attempt"]["checks"]}
        assert checks["https"]["reason"] == f"TCP 443 to {topology.API_HOST} was refused"
        # NTP, DNS and the lookup of the API host went over the WiFi link: only 443 failed.
        assert checks["ntp"]["ok"] and checks["dns"]["ok"]
        assert internet.sntp.requests >= 1
        assert internet.tls_names == []
        assert _clients(await wired_device.profiles(), GOOD_SSID) == []
        assert default_route(topology.DEV) == str(topology.WIRE_GATEWAY)


@pytest.mark.parametrize("number", [signal.SIGTERM, signal.SIGINT, signal.SIGHUP])
async def test_a_stop_signal_mid_portal_leaves_nothing(
    workdir: Path, device: DeviceStack, certificates: Certificates, number: signal.Signals
) -> None:
    app = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(app):
        # A phone is on the hotspot, as it would be when the device is told to stop.
        await join_hotspot()
        assert len(_hotspots(await device.profiles())) == 1
        app.signal(number)
        code = await app.wait(15)
    # The documented status for a run stopped by a signal after tearing down.
    assert code == ExitStatus.INTERRUPTED, app.tail()
    await _assert_torn_down(device)


async def test_activity_timeout_ends_the_run_and_tears_down(
    workdir: Path, device: DeviceStack, certificates: Certificates
) -> None:
    app = await start_app(
        workdir, device.address, certificates.ca.cert, extra_env={"ACTIVITY_TIMEOUT": "3"}
    )
    async with _serving(app):
        # Nobody uses the portal after the readiness check: the idle seconds run out.
        code = await app.wait(20)
    assert code == ExitStatus.TIMED_OUT, app.tail()
    await _assert_torn_down(device)


async def _listed_ssids() -> list[str]:
    """The names GET /networks offers the phone."""
    code, body = await http_get(topology.DEV, "127.0.0.1", PORT, "/networks")
    assert code == 200
    return [network["ssid"] for network in json.loads(body)]


async def test_a_killed_run_leaves_a_hotspot_the_next_run_removes(
    workdir: Path, device: DeviceStack, certificates: Certificates, timings: Timings
) -> None:
    first = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(first):
        stale = _hotspots(await device.profiles())
        assert len(stale) == 1
        await kill_service(first)
    # The simulator outlived it: the hotspot profile, still active, is left behind.
    assert [p.path for p in _hotspots(await device.profiles())] == [stale[0].path]
    assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT_ADDRESS]

    second = await start_app(workdir, device.address, certificates.ca.cert, "app-2.log")
    async with _serving(second) as portal_at:
        timings.record("restart after SIGKILL -> portal serving", portal_at - second.started)
        hotspots = _hotspots(await device.profiles())
        assert len(hotspots) == 1
        assert hotspots[0].path != stale[0].path
        assert addresses(topology.DEV, topology.AP_IFACE) == [HOTSPOT_ADDRESS]
        assert device.simulator is not None
        assert device.simulator.find(rf"Deleted connection '{HOTSPOT_ID}") is not None
        # The new portal works for a phone.
        lease = await join_hotspot()
        assert lease.router == topology.GATEWAY
    await _assert_torn_down(device)


async def test_after_a_killed_run_the_portal_still_lists_the_networks(
    workdir: Path, device: DeviceStack, certificates: Certificates
) -> None:
    first = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(first):
        await kill_service(first)
    second = await start_app(workdir, device.address, certificates.ca.cert, "app-2.log")
    async with _serving(second):
        assert GOOD_SSID in await _listed_ssids(), second.tail()


async def test_a_run_killed_alone_does_not_stop_the_next_one(
    workdir: Path, device: DeviceStack, certificates: Certificates
) -> None:
    # SIGKILL to the app's process only (kill -9 PID, the OOM killer, a supervisor that kills
    # only the main process): nothing it started may keep the next run from serving.
    first = await start_app(workdir, device.address, certificates.ca.cert)
    async with _serving(first):
        started = app_children(first)
        os.kill(first.pid, signal.SIGKILL)
        assert await first.wait(10) == -signal.SIGKILL
    second = await start_app(workdir, device.address, certificates.ca.cert, "app-2.log")
    try:
        async with _serving(second):
            # The dnsmasq serving is the new run's own, and the new run is still up.
            assert dnsmasq_pids(topology.DEV) == app_children(second), second.tail()
            assert second.returncode is None, second.tail()
            lease = await join_hotspot()
            assert lease.router == topology.GATEWAY
    finally:
        # What outlived the first run is stopped here, so the next test starts clean.
        for pid in started:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGTERM)
        await until_gone(started)
    await _assert_torn_down(device)
