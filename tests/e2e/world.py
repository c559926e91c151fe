"""The e2e world: the simulated NetworkManager and the app in e2e-dev, the phone in e2e-phone.

The test process keeps no state of the app: it reads NetworkManager's profiles over the private
bus (dbus-next, straight to the simulator), the portal's /status over a socket made in e2e-dev,
and the interfaces with `ip`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from ipaddress import IPv4Address
from pathlib import Path
from typing import Any

import dns.exception
from dbus_next.aio.message_bus import MessageBus
from dbus_next.constants import BusType, MessageType
from dbus_next.message import Message

from app.flow.reachability import answer_addresses
from app.simulator.bus import bus_config
from tests.e2e import topology
from tests.e2e.processes import Process, command_name, descendants
from tests.net import helpers
from tests.net.servers import CertPair
from tests.support import eventually

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
WIFI_CONNECT = str(Path(sys.executable).with_name("wifi-connect"))
ARTIFACTS = REPO / "test-artifacts"
SCREENSHOTS = ARTIFACTS / "screenshots"

NM_NAME = "org.freedesktop.NetworkManager"
SETTINGS_PATH = "/org/freedesktop/NetworkManager/Settings"
SETTINGS_IFACE = "org.freedesktop.NetworkManager.Settings"
CONNECTION_IFACE = "org.freedesktop.NetworkManager.Settings.Connection"
HOTSPOT_ID = "wifi-connect-hotspot"

GOOD_SSID, GOOD_PASSWORD = "E2E Home", "correct horse"
OTHER_SSID = "E2E Cafe"
HOTSPOT_SSID = "E2E Setup"
PORT = 80
CHECK_TIMEOUT = "2"


def scenario(
    address: str = topology.DEVICE_ADDRESS, gateway: IPv4Address = topology.INET_ADDRESS
) -> dict[str, Any]:
    """One radio (the AP veth) and two password networks that both lead to e2e-inet.

    Joining either gives the device `address` and a default route via `gateway`; its DNS
    server is the internet's, on INET_ADDRESS.
    """
    ip4 = {
        "address": address,
        "gateway": str(gateway),
        "dns": [str(topology.INET_ADDRESS)],
    }
    return {
        "devices": [
            {
                "interface": topology.AP_IFACE,
                "ap_link": topology.AP_IFACE,
                "uplink_link": topology.UPLINK_IFACE,
            }
        ],
        "networks": [
            {
                "ssid": GOOD_SSID,
                "security": "wpa-psk",
                "passphrase": GOOD_PASSWORD,
                "strength": 80,
                "ip4": ip4,
            },
            {
                "ssid": OTHER_SSID,
                "security": "sae",
                "passphrase": "espresso-99",
                "strength": 55,
                "ip4": ip4,
            },
        ],
    }


@dataclass(frozen=True)
class Certificates:
    """The test CA the app trusts (through SSL_CERT_FILE) and the API server's certificate."""

    ca: CertPair
    server: CertPair


@dataclass
class Timings:
    """Measured durations, written to test-artifacts/e2e-timings.txt at the end of the run."""

    lines: list[str] = field(default_factory=list)

    def record(self, name: str, seconds: float) -> None:
        """Keep one measurement and print it (pytest -s shows it)."""
        line = f"{name}: {seconds * 1000:.0f} ms"
        self.lines.append(line)
        print(line)


@dataclass(frozen=True)
class Profile:
    """A saved NetworkManager profile as the simulator holds it."""

    path: str
    id: str
    type: str
    ssid: str | None
    mode: str | None


class NetworkManagerView:
    """Reads the simulator's stored profiles over the private bus."""

    def __init__(self, bus: MessageBus) -> None:
        self._bus = bus

    async def _call(self, path: str, interface: str, member: str) -> list[Any]:
        message = Message(destination=NM_NAME, path=path, interface=interface, member=member)
        reply = await self._bus.call(message)
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            raise AssertionError(f"{member} on {path}: {reply.error_name}: {reply.body}")
        return list(reply.body)

    async def profiles(self) -> list[Profile]:
        """Every stored profile (Settings.ListConnections, then GetSettings of each)."""
        (paths,) = await self._call(SETTINGS_PATH, SETTINGS_IFACE, "ListConnections")
        found = []
        for path in paths:
            (settings,) = await self._call(path, CONNECTION_IFACE, "GetSettings")
            connection = settings["connection"]
            wireless = settings.get("802-11-wireless", {})
            ssid = wireless.get("ssid")
            mode = wireless.get("mode")
            found.append(
                Profile(
                    path=path,
                    id=connection["id"].value,
                    type=connection["type"].value,
                    ssid=bytes(ssid.value).decode() if ssid is not None else None,
                    mode=mode.value if mode is not None else None,
                )
            )
        return found


class DeviceStack:
    """dbus-daemon and the simulated NetworkManager in e2e-dev; they outlive any app run."""

    def __init__(self, workdir: Path, data: dict[str, Any]) -> None:
        self.workdir = workdir
        self.address = f"unix:path={workdir / 'bus'}"
        self._bus_config = workdir / "bus.conf"
        self._bus_config.write_text(bus_config(workdir / "bus"))
        self.scenario = workdir / "scenario.json"
        self.scenario.write_text(json.dumps(data, indent=2))
        self.dbus: Process | None = None
        self.simulator: Process | None = None
        self._client: MessageBus | None = None

    async def start(self) -> None:
        """Start the bus and the simulator, and wait until NetworkManager is on the bus."""
        self.dbus = await Process.start(
            "dbus-daemon",
            topology.DEV,
            ["dbus-daemon", f"--config-file={self._bus_config}", "--nofork", "--print-address=1"],
            self.workdir / "dbus.log",
        )
        await self.dbus.wait_line(r"^unix:", timeout=10)
        simulator = [PYTHON, "-m", "app.simulator", "-v", "--bus", self.address]
        self.simulator = await Process.start(
            "simulator",
            topology.DEV,
            [*simulator, "--scenario", str(self.scenario)],
            self.workdir / "simulator.log",
            env={"PYTHONPATH": str(REPO)},
        )
        await self.simulator.wait_line("Simulated NetworkManager is on", timeout=20)
        self._client = await MessageBus(bus_address=self.address, bus_type=BusType.SYSTEM).connect()

    async def profiles(self) -> list[Profile]:
        """The simulator's stored profiles now."""
        assert self._client is not None
        return await NetworkManagerView(self._client).profiles()

    async def stop(self) -> None:
        """Stop the simulator first (it takes its addresses off the veths), then the bus."""
        if self._client is not None:
            self._client.disconnect()
        if self.simulator is not None:
            await self.simulator.stop()
        if self.dbus is not None:
            await self.dbus.stop()


def app_environment(ca_file: Path, bus_address: str, workdir: Path) -> dict[str, str]:
    """What the app is given: the private bus, the checks' targets, the test CA."""
    return {
        # Its temp files (dnsmasq's lease dir) land in the test's dir: a killed run's too.
        "TMPDIR": str(workdir),
        "DBUS_SYSTEM_BUS_ADDRESS": bus_address,
        "CHECK_HTTPS": f"https://{topology.API_HOST}",
        "CHECK_NTP": str(topology.INET_ADDRESS),
        "CHECK_TIMEOUT": CHECK_TIMEOUT,
        "SSL_CERT_FILE": str(ca_file),
        "SSL_CERT_DIR": "",
        "PORTAL_SSID": HOTSPOT_SSID,
        "PYTHONPATH": str(REPO),
    }


async def start_app(
    workdir: Path,
    bus_address: str,
    ca_file: Path,
    log_name: str = "app.log",
    extra_env: dict[str, str] | None = None,
) -> Process:
    """`wifi-connect run --force -g GATEWAY` in e2e-dev."""
    argv = [WIFI_CONNECT, "run", "--force", "-g", str(topology.GATEWAY)]
    env = {**app_environment(ca_file, bus_address, workdir), **(extra_env or {})}
    return await Process.start("wifi-connect", topology.DEV, argv, workdir / log_name, env)


# --- the portal, seen from inside e2e-dev ---------------------------------------------------


async def http_get(netns: str, host: str, port: int, path: str) -> tuple[int, bytes]:
    """A plain HTTP/1.0 GET from inside `netns`: the status code and the body."""
    return await _http(netns, host, port, f"GET {path} HTTP/1.0\r\nHost: {host}\r\n\r\n".encode())


async def http_post_json(
    netns: str, host: str, port: int, path: str, body: dict[str, Any]
) -> tuple[int, bytes]:
    """A plain HTTP/1.0 POST of a JSON body from inside `netns`: the status code and the body."""
    data = json.dumps(body).encode()
    head = (
        f"POST {path} HTTP/1.0\r\nHost: {host}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(data)}\r\n\r\n"
    )
    return await _http(netns, host, port, head.encode() + data)


async def _http(netns: str, host: str, port: int, request: bytes) -> tuple[int, bytes]:
    """Send one HTTP/1.0 request from inside `netns`; the status code and the body."""
    sock = helpers.netns_socket(netns, socket.AF_INET, socket.SOCK_STREAM)
    try:
        await asyncio.get_running_loop().sock_connect(sock, (host, port))
    except OSError:
        sock.close()
        raise
    reader, writer = await asyncio.open_connection(sock=sock)
    try:
        writer.write(request)
        await writer.drain()
        raw = await reader.read()
    finally:
        writer.close()
        with contextlib.suppress(OSError):
            await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    return int(head.split()[1]), body


async def portal_status(timeout: float = 1.0) -> dict[str, Any] | None:
    """GET /status on the portal (127.0.0.1 in e2e-dev), None when nothing answers."""
    try:
        async with asyncio.timeout(timeout):
            code, body = await http_get(topology.DEV, "127.0.0.1", PORT, "/status")
    except (OSError, TimeoutError, ValueError, IndexError):
        return None
    if code != 200:
        return None
    status: dict[str, Any] = json.loads(body)
    return status


async def wait_status(
    predicate: Callable[[dict[str, Any]], bool], timeout: float, app: Process, what: str
) -> tuple[float, dict[str, Any]]:
    """Poll /status until predicate(status) holds; when it first did, and that status."""
    last: dict[str, Any] | None = None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = await portal_status()
        if status is not None:
            last = status
            if predicate(status):
                return time.monotonic(), status
        if app.returncode is not None:
            break
        await asyncio.sleep(0.02)
    raise AssertionError(f"no /status with {what} within {timeout} s (last {last}):\n{app.tail()}")


async def hijack_answers() -> bool:
    """Whether the hotspot's DNS (on the gateway) answers any name with the gateway."""
    name = "connectivitycheck.gstatic.com"
    try:
        reply = await helpers.dns_ask(topology.DEV, str(topology.GATEWAY), name, timeout=0.2)
    except (OSError, ValueError, dns.exception.DNSException):
        return False
    return answer_addresses(reply) == (topology.GATEWAY,)


async def wait_portal(app: Process, timeout: float) -> float:
    """When the portal first served: /status answers "portal" and the DNS hijack works."""
    deadline = time.monotonic() + timeout
    await wait_status(lambda s: s["state"] == "portal", timeout, app, "state portal")
    while not await hijack_answers():
        assert time.monotonic() < deadline, f"no DNS answer on the gateway:\n{app.tail()}"
        assert app.returncode is None, f"the app exited ({app.returncode}):\n{app.tail()}"
        await asyncio.sleep(0.02)
    return time.monotonic()


# --- the real world's state ---------------------------------------------------------------


def addresses(netns: str, iface: str) -> list[str]:
    """The IPv4 addresses (CIDR) on an interface."""
    (link,) = json.loads(helpers.ip("-n", netns, "-j", "addr", "show", "dev", iface).stdout)
    return [
        f"{a['local']}/{a['prefixlen']}" for a in link.get("addr_info", []) if a["family"] == "inet"
    ]


def default_route(netns: str) -> str | None:
    """The gateway of the namespace's IPv4 default route, if any."""
    routes = json.loads(helpers.ip("-n", netns, "-j", "route", "show", "default").stdout)
    return str(routes[0].get("gateway")) if routes else None


def dnsmasq_pids(netns: str) -> list[int]:
    """The dnsmasq processes in the namespace."""
    return [pid for pid in helpers.netns_pids(netns) if command_name(pid) == "dnsmasq"]


def app_children(app: Process) -> list[int]:
    """The processes the app started (its dnsmasq), while they run."""
    return descendants(app.pid)


async def kill_service(run: Process) -> None:
    """SIGKILL the run and what it started, as a supervisor kills a hung service as a whole
    (a container's processes, a systemd unit's cgroup)."""
    doomed = [run.pid, *app_children(run)]
    for pid in doomed:
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)
    assert await run.wait(10) == -signal.SIGKILL
    await until_gone(doomed)


async def until_gone(pids: list[int], timeout: float = 5.0) -> None:
    """Wait until none of the processes runs."""
    # Polled: a killed process that is not our child cannot be waited for.
    await eventually(lambda: not any(helpers.alive(pid) for pid in pids), timeout)


# --- the phone -------------------------------------------------------------------------------


class Phone:
    """Chromium in e2e-phone (tests.e2e.phone), one JSON command and answer per line."""

    def __init__(self, process: Process, tmp: Path) -> None:
        self.process = process
        self._tmp = tmp
        self._answers = 0

    @classmethod
    async def start(cls, workdir: Path) -> Phone:
        """Launch Chromium in e2e-phone; its temp files go to an e2e-phone-* temp dir."""
        # Short: Chromium's profile holds a unix socket, whose path may not exceed 107 bytes.
        tmp = Path(tempfile.mkdtemp(prefix=f"{topology.PREFIX}-phone-"))
        process = await Process.start(
            "phone",
            topology.PHONE,
            [PYTHON, "-m", "tests.e2e.phone", str(SCREENSHOTS)],
            workdir / "phone.log",
            # The checkout on the path: the phone drives Chromium as the portal tier's tests do.
            env={"TMPDIR": str(tmp), "PYTHONUNBUFFERED": "1", "PYTHONPATH": str(REPO)},
            stdin=True,
        )
        phone = cls(process, tmp)
        assert await phone._answer(60) == {"ready": True}
        return phone

    async def _answer(self, timeout: float) -> dict[str, Any]:
        # Answers are the JSON lines; anything else (Chromium's stderr) is only logged.
        index, line = await self.process.wait_line(r"^\{", timeout, after=self._answers)
        self._answers = index + 1
        answer: dict[str, Any] = json.loads(line.text)
        return answer

    async def ask(self, timeout: float = 60, **command: Any) -> dict[str, Any]:
        """Send one command and return its answer; a failed command fails the test."""
        await self.process.send(json.dumps(command))
        answer = await self._answer(timeout)
        assert "error" not in answer, f"phone {command}: {answer}"
        return answer

    async def close(self) -> list[str]:
        """Quit Chromium; the script and console errors it saw."""
        errors: list[str] = []
        if self.process.returncode is None:
            with contextlib.suppress(AssertionError, OSError):
                await self.process.send(json.dumps({"cmd": "quit"}))
                errors = (await self._answer(20)).get("errors", [])
        await self.process.stop()
        shutil.rmtree(self._tmp, ignore_errors=True)
        return errors


async def join_hotspot() -> helpers.Lease:
    """What a phone does when it joins: forget the old address, DHCP, use the lease's DNS."""
    helpers.ip("-n", topology.PHONE, "addr", "flush", "dev", topology.PHONE_IFACE)
    lease = await helpers.dhcp_lease(topology.PHONE, topology.PHONE_IFACE, timeout=15)
    helpers.apply_lease(topology.PHONE, topology.PHONE_IFACE, lease)
    topology.resolv_conf(topology.PHONE, *lease.dns)
    return lease
