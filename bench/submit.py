"""Figure 2: submit to proven. A phone posts /connect; the app joins and proves the link.

The app runs in its own process (bench.app_process) with the device's own Timings, and proves
each new link with its three checks against the bench's servers on loopback (HTTPS, SNTP,
DNS): the simulated device's IpInterface is "lo", so the checks' sockets bind to it, and the
joined network's DNS server is the bench's. The moment is the app's own log line "Reachability
proven", stamped in the app with time.monotonic(), the clock the bench stamps the POST with.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp

from app.flow.timing import Timings
from bench import reachability
from bench.app_process import CHECK_ADDRESS
from bench.common import AppProcess, Events, Simulated, app_process, cpu_seconds, simulated
from bench.results import Row

# The simulated radio's configured times, subtracted from the figure.
ACTIVATION_MS = 100
DEACTIVATION_MS = 20
SSID = "Home"
PASSPHRASE = "password1"
# How often the bench asks /status while it waits for the portal (not part of the figure).
POLL = 0.01
# The app's log lines that end an attempt: the proof, or why there is none.
_ENDS = ("Reachability proven", "Connected to '", "Could not connect", "Attempt to join")
# Bounds on what must come long before them: a failing bench ends, it never hangs.
WAIT = 30.0


def scenario() -> dict[str, Any]:
    """One network whose link is loopback and whose DNS server is the bench's, on 127.0.0.1."""
    return {
        "activation_delay_ms": ACTIVATION_MS,
        "deactivation_delay_ms": DEACTIVATION_MS,
        "scan_delay_ms": 0,
        "devices": [{"interface": "wlan0", "ip_interface": "lo"}],
        "networks": [
            {
                "ssid": SSID,
                "security": "wpa-psk",
                "passphrase": PASSPHRASE,
                "ip4": {
                    "address": "127.0.0.2/8",
                    "gateway": CHECK_ADDRESS,
                    "dns": [CHECK_ADDRESS],
                },
            }
        ],
    }


def check_options(servers: reachability.Servers, timeout: float) -> list[str]:
    """bench.app_process's --checks for these servers."""
    checks = {
        "https": servers.https,
        "ntp": servers.ntp,
        "dns": servers.dns,
        "bundle": str(servers.bundle),
        "timeout": timeout,
    }
    return ["--checks", json.dumps(checks)]


async def portal_open(url: str) -> None:
    """Return once the portal's /status says the portal is open (the scan is over)."""
    async with aiohttp.ClientSession() as phone:
        async with asyncio.timeout(WAIT):
            while True:
                async with phone.get(f"{url}status") as response:
                    if (await response.json())["state"] == "portal":
                        return
                await asyncio.sleep(POLL)


async def submit(url: str) -> None:
    """POST /connect as the portal's page and scripts do (JSON, which needs no CSRF token)."""
    async with (
        aiohttp.ClientSession() as phone,
        phone.post(f"{url}connect", json={"ssid": SSID, "passphrase": PASSPHRASE}) as response,
    ):
        answer = await response.text()
        if response.status != 200:
            raise RuntimeError(f"POST /connect answered {response.status}: {answer}")


async def servers_latency(servers: reachability.Servers, timeout: float, runs: int = 3) -> float:
    """The servers' own answer time in ms: the slowest of the three checks run at once from
    the bench (the app runs them at once too), the median of `runs`."""
    slowest = []
    for _ in range(runs):
        _, results = await reachability.checks(servers, timeout)
        if not all(result.ok for result in results):
            raise RuntimeError(f"the bench's servers failed their checks: {results}")
        slowest.append(max(result.latency_ms or 0.0 for result in results))
    return statistics.median(slowest)


def rows() -> dict[str, Row]:
    """Figure 2's rows, keyed for measure()."""
    grace = Timings().answer_grace
    radio = f"{ACTIVATION_MS}+{DEACTIVATION_MS} ms"
    return {
        "wall": Row("2. Submit to proven",
                    f"POST /connect → reachability proven, wall (holds the {grace:g} s answer "
                    f"grace, the simulated radio's {radio}, the servers' answers)", "s"),
        "ours": Row("2. Submit to proven",
                    "POST /connect → reachability proven, our overhead (wall - answer grace - "
                    "simulated radio - servers' own latency)", "ms",
                    "< 100 ms", lambda value: value < 100),
        "cpu": Row("2. Submit to proven",
                   "POST /connect → reachability proven, the app's CPU time (user + system)",
                   "CPU-ms"),
    }  # fmt: skip


@dataclass(frozen=True)
class Steps:
    """One submission's moments (time.monotonic, seconds) and the servers' own latency (ms)."""

    posted: float
    hotspot_down: float
    proven: float
    connected: float
    servers_ms: float
    # The app's own report of its checks.
    proven_line: str


def breakdown(steps: Steps) -> str:
    """Where the time of one submission went, for the notes."""
    grace = Timings().answer_grace
    closing = (steps.hotspot_down - steps.posted - grace - DEACTIVATION_MS / 1000) * 1000
    joining = (steps.proven - steps.hotspot_down - ACTIVATION_MS / 1000) * 1000 - steps.servers_ms
    return (
        f"POST → hotspot down {(steps.hotspot_down - steps.posted) * 1000:.0f} ms (answer grace "
        f"{grace * 1000:.0f} ms, simulated deactivation {DEACTIVATION_MS} ms, ours "
        f"{closing:.0f} ms); hotspot down → proven {(steps.proven - steps.hotspot_down) * 1000:.0f}"
        f" ms (simulated activation {ACTIVATION_MS} ms, servers {steps.servers_ms:.0f} ms, ours "
        f"{joining:.0f} ms); proven → state connected (the profile made ordinary) "
        f"{(steps.connected - steps.proven) * 1000:.0f} ms; the app's own report: "
        f"'{steps.proven_line}'"
    )


@dataclass(frozen=True)
class Proving:
    """The bench's servers, the simulator, and the app proving each link against them."""

    servers: reachability.Servers
    sim: Simulated
    app: AppProcess
    events: Events


@contextlib.asynccontextmanager
async def proving(timeout: float, options: Sequence[str] = ()) -> AsyncIterator[Proving]:
    """The servers, the simulator (scenario()) and an app process with `options` that proves
    each new link against the servers, its checks bounded by `timeout`."""
    async with reachability.servers() as servers, simulated(0, scenario()) as sim:
        options = [*options, *check_options(servers, timeout)]
        async with app_process(sim.address, options=options, events=True) as app:
            assert app.events is not None
            yield Proving(servers, sim, app, app.events)


async def measure(figures: dict[str, Row], timeout: float) -> Steps:
    """One run: a fresh app process and portal, one submission, timed to proven."""
    async with proving(timeout) as run:
        app, events = run.app, run.events
        await portal_open(app.url)
        serving = await servers_latency(run.servers, timeout)
        cpu = cpu_seconds(app.pid)
        posted = time.monotonic()
        await submit(app.url)
        hotspot_down = await events.logged("Hotspot is down", WAIT)
        line = await events.next(
            lambda line: line["event"] == "log" and line["message"].startswith(_ENDS),
            WAIT,
        )
        if not line["message"].startswith("Reachability proven"):
            raise RuntimeError(f"the attempt ended without proof: {line['message']}")
        figures["cpu"].values.append((cpu_seconds(app.pid) - cpu) * 1000)
        connected = await events.logged("state: connected", WAIT)
    steps = Steps(posted, hotspot_down, float(line["at"]), connected, serving, line["message"])
    wall = steps.proven - steps.posted
    figures["wall"].values.append(wall)
    radio = (ACTIVATION_MS + DEACTIVATION_MS) / 1000
    figures["ours"].values.append((wall - Timings().answer_grace - radio) * 1000 - serving)
    return steps
