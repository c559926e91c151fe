"""`wifi-connect run` killed (SIGKILL) at each step of an attempt; the next start converges.

The private bus and the simulated NetworkManager run as their own processes in e2e-dev and
outlive the app, as NetworkManager outlives a killed service on a device. Each row kills the
app and its dnsmasq at one step, reached by an event (never a sleep):
- hotspot up: the portal answers /status and the hotspot's DNS answers;
- profile saved: the simulator holds ActivateConnection for the new profile (an injected
  fault it logs);
- activating: the simulator logs the activation of a network whose association never ends;
- checking: the TLS server in e2e-inet receives the check's connection and holds it;
- proven but not finished: the simulator holds the Update that makes the profile ordinary.
Then the app starts again. It must leave no hotspot profile and no pending one. Every other
saved profile must be unchanged byte for byte (all settings, secrets included). Where the
proof passes, the device is online on the new profile.
"""

from __future__ import annotations

import asyncio
import contextlib
import socket
import ssl
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from app.exitcodes import ExitStatus
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.nm.const import ACTIVE_IFACE, MANAGER_IFACE, MANAGER_PATH, Connectivity
from app.nm.profiles import PENDING_KEY, client_profile
from app.wifi import Credentials, SecurityKind
from tests.e2e import topology
from tests.e2e.processes import Process
from tests.e2e.world import (
    GOOD_PASSWORD,
    GOOD_SSID,
    HOTSPOT_ID,
    OTHER_SSID,
    PORT,
    PYTHON,
    Certificates,
    DeviceStack,
    addresses,
    app_environment,
    http_post_json,
    kill_service,
    scenario,
    wait_portal,
)
from tests.net import helpers
from tests.net.servers import SntpBehaviour, SntpResponder, udp_server
from tests.nm.helpers import NMProbe

pytestmark = pytest.mark.root
# The test's directory holds the bus socket, whose path may not exceed 107 bytes: short names.

START_TIMEOUT = 30.0
STEP_TIMEOUT = 30.0
STUCK_SSID = "E2E Stuck"
# Long enough that a held check never times out before the kill that follows it.
CHECK_TIMEOUT = "20"

Wire = dict[str, dict[str, Any]]


@dataclass(frozen=True)
class Step:
    """Where the first run is killed, and what the next start must end with."""

    name: str
    ssid: str
    password: str | None
    # The simulator's scenario "faults" that hold the run at this step.
    faults: tuple[dict[str, Any], ...] = ()
    # A simulator log line that says the run is at this step.
    reached_line: str | None = None
    # The step is reached when the TLS check's connection arrives (and is held).
    hold_tls: bool = False
    # Whether the next start finds the new profile up and proven, and keeps it.
    online: bool = False
    submits: bool = True


STEPS = (
    Step("hotspot-up", GOOD_SSID, GOOD_PASSWORD, submits=False),
    Step(
        "profile-saved",
        GOOD_SSID,
        GOOD_PASSWORD,
        # The first activation is the hotspot's; the second is the new profile's.
        faults=({"method": "ActivateConnection", "action": "hang", "skip": 1},),
        reached_line="Fault: hang ActivateConnection",
    ),
    Step(
        "activating",
        STUCK_SSID,
        None,
        reached_line=f"Activating '{STUCK_SSID}' on {topology.AP_IFACE}: hangs",
    ),
    Step("checking", GOOD_SSID, GOOD_PASSWORD, hold_tls=True, online=True),
    Step(
        "proven-unfinished",
        GOOD_SSID,
        GOOD_PASSWORD,
        faults=({"method": "Update", "action": "hang"},),
        reached_line="Fault: hang Update",
        online=True,
    ),
)


@dataclass
class HoldingTls:
    """TLS on 443 in e2e-inet that holds the first connection unanswered, then serves."""

    context: ssl.SSLContext
    hold: bool
    held: asyncio.Event = field(default_factory=asyncio.Event)
    served: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Hold (until the peer goes) or complete the handshake and hang up."""
        try:
            if self.hold:
                self.hold = False
                self.held.set()
                await reader.read()  # the killed app's socket closes: EOF
            else:
                await writer.start_tls(self.context)
                self.served += 1
        except (OSError, ssl.SSLError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(OSError, ssl.SSLError):
                await writer.wait_closed()


@contextlib.asynccontextmanager
async def _internet(certificates: Certificates, hold: bool) -> AsyncIterator[HoldingTls]:
    """The API's TLS (holding its first connection when asked) and SNTP, in e2e-inet."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(certificates.server.cert, certificates.server.key)
    tls = HoldingTls(context, hold)
    sock = helpers.netns_socket(topology.INET, socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((str(topology.INET_ADDRESS), 443))
    server = await asyncio.start_server(tls.handle, sock=sock)
    sntp = SntpResponder(SntpBehaviour.OK)
    try:
        async with udp_server(topology.INET, str(topology.INET_ADDRESS), 123, sntp):
            yield tls
    finally:
        server.close()
        await server.wait_closed()


def _crash_scenario(step: Step) -> dict[str, Any]:
    data = scenario()
    data["networks"].append({"ssid": STUCK_SSID, "security": "open", "failure": "hang"})
    data["faults"] = list(step.faults)
    return data


def _seeded() -> list[dict[str, dict[str, Any]]]:
    """Profiles saved before the first run: another network, an older one of the SSID, a wire."""
    other = client_profile(Credentials(OTHER_SSID.encode(), SecurityKind.SAE, "espresso-99"))
    older = client_profile(
        Credentials(GOOD_SSID.encode(), SecurityKind.WPA_PSK, "an older password")
    )
    wired = {
        "connection": {"type": "802-3-ethernet", "id": "Wired", "uuid": str(uuid.uuid4())},
        "802-3-ethernet": {},
        "ipv4": {
            "method": "manual",
            "address-data": [{"address": "10.5.0.2", "prefix": 24}],
            "gateway": "10.5.0.1",
        },
        "ipv6": {"method": "ignore"},
    }
    return [other, older, wired]


def _is_hotspot(settings: Wire) -> bool:
    mode = settings.get("802-11-wireless", {}).get("mode")
    ident = str(settings["connection"]["id"].value)
    return ident.startswith(HOTSPOT_ID) or (mode is not None and mode.value == "ap")


def _is_pending(settings: Wire) -> bool:
    data = settings.get("user", {}).get("data")
    return data is not None and PENDING_KEY in data.value


def _ssid(settings: Wire) -> bytes | None:
    ssid = settings.get("802-11-wireless", {}).get("ssid")
    return bytes(ssid.value) if ssid is not None else None


async def _start(workdir: Path, device: DeviceStack, ca: Path, log: str) -> Process:
    """`python -m app run` in e2e-dev (no --force: a proven uplink ends it with 0)."""
    env = {**app_environment(ca, device.address, workdir), "CHECK_TIMEOUT": CHECK_TIMEOUT}
    argv = [PYTHON, "-m", "app", "run", "-g", str(topology.GATEWAY)]
    return await Process.start("wifi-connect", topology.DEV, argv, workdir / log, env)


async def _reach(step: Step, first: Process, device: DeviceStack, tls: HoldingTls) -> None:
    """Submit the network (unless the step comes before) and wait for the step's event."""
    await wait_portal(first, START_TIMEOUT)
    if not step.submits:
        return
    body = {"ssid": step.ssid, "passphrase": step.password or ""}
    code, answer = await http_post_json(topology.DEV, "127.0.0.1", PORT, "/connect", body)
    assert code == 200, answer
    assert device.simulator is not None
    if step.reached_line is not None:
        await device.simulator.wait_line(step.reached_line, STEP_TIMEOUT)
    if step.hold_tls:
        async with asyncio.timeout(STEP_TIMEOUT):
            await tls.held.wait()


async def _online_on(bus: SystemBus, profile_uuid: str) -> bool:
    """Whether NM's primary connection is this profile, with full connectivity."""
    manager = await bus.get_properties(MANAGER_PATH, MANAGER_IFACE)
    primary = str(manager["PrimaryConnection"])
    if primary == "/" or Connectivity(manager["Connectivity"]) is not Connectivity.FULL:
        return False
    return bool(await bus.get_property(primary, ACTIVE_IFACE, "Uuid") == profile_uuid)


@pytest.mark.parametrize("step", STEPS, ids=lambda step: step.name)
async def test_a_killed_run_converges(
    workdir: Path, certificates: Certificates, internet_dns: None, step: Step
) -> None:
    device = DeviceStack(workdir, _crash_scenario(step))
    try:
        await device.start()
        async with (
            SystemBus(device.address) as bus,
            _internet(certificates, hold=step.hold_tls) as tls,
        ):
            nm = await NetworkManagerClient.connect(bus, timeout=10)
            probe = NMProbe(bus)
            for settings in _seeded():
                await nm.add_connection(settings)
            seeded = await probe.stored_profiles()
            (older_path,) = (
                path for path, settings in seeded.items() if _ssid(settings) == GOOD_SSID.encode()
            )

            first = await _start(workdir, device, certificates.ca.cert, "app-1.log")
            await _reach(step, first, device, tls)
            left = await probe.stored_profiles()
            await kill_service(first)
            # What the killed run left: its hotspot, or its new profile, still pending.
            if step.submits:
                assert [s for s in left.values() if _is_pending(s)], first.tail()
            else:
                assert [s for s in left.values() if _is_hotspot(s)], first.tail()

            second = await _start(workdir, device, certificates.ca.cert, "app-2.log")
            if step.online:
                status = await second.wait(START_TIMEOUT)
                assert status == ExitStatus.ALREADY_ONLINE, second.tail()
            else:
                await wait_portal(second, START_TIMEOUT)
                assert await second.stop() == ExitStatus.INTERRUPTED, second.tail()

            # Settling waited for no radio in vain (a device that carries a client stays busy).
            assert second.find("still busy") is None, second.tail()
            final = await probe.stored_profiles()
            assert not [s for s in final.values() if _is_hotspot(s)], second.tail()
            assert not [s for s in final.values() if _is_pending(s)], second.tail()
            new = {path: s for path, s in final.items() if path not in seeded}
            if not step.online:
                assert final == seeded, "every other profile stays as it was, byte for byte"
                assert addresses(topology.DEV, topology.UPLINK_IFACE) == []
                return
            # Proven: the older profile of the SSID gave way to the new, now ordinary, one.
            assert {p: s for p, s in final.items() if p in seeded} == {
                p: s for p, s in seeded.items() if p != older_path
            }
            (new_settings,) = new.values()
            assert _ssid(new_settings) == GOOD_SSID.encode()
            autoconnect = new_settings["connection"].get("autoconnect")
            assert autoconnect is None or autoconnect.value is True
            profile_uuid = str(new_settings["connection"]["uuid"].value)
            assert await _online_on(bus, profile_uuid), second.tail()
            assert addresses(topology.DEV, topology.UPLINK_IFACE) == [topology.DEVICE_ADDRESS]
            if step.hold_tls:
                assert tls.served >= 1, "the next start proved the link over TLS"
    finally:
        await device.stop()
