"""Benchmarks of the flow on the simulator: start-up, page render, submit to connected.

Run: .venv/bin/python -m bench.flow [ROUNDS]. Timing goals live here, not in the tests:
portal serving within 1 s of start, the first page within 50 ms, the adapter's part of
submit -> connected (simulator delays at zero) within 100 ms.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import time
from collections.abc import Awaitable, Callable

from aiohttp import ClientSession

from app.config import Config
from app.flow.provision import Provisioner
from app.flow.timing import Timings
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.portal.app import create_app
from app.portal.server import LOOPBACK, serve_portal
from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario
from app.wifi import Credentials, SecurityKind
from bench.common import free_port, scenario

SCENARIO = scenario(29)


async def _timed(operation: Callable[[], Awaitable[object]]) -> float:
    started = time.perf_counter()
    await operation()
    return (time.perf_counter() - started) * 1000


async def _round(bus_address: str, port: int, figures: dict[str, list[float]]) -> None:
    """One start, page load and successful attempt, each timed into `figures`."""
    async with (
        SimulatedNetworkManager.start(bus_address, parse_scenario(SCENARIO)),
        SystemBus(bus_address) as bus,
    ):
        started = time.perf_counter()
        nm = await NetworkManagerClient.connect(bus, timeout=5)
        flow = Provisioner(Config(), nm, timings=Timings(answer_grace=0.0))
        config = Config(listening_port=port)
        async with serve_portal(create_app(config, flow), LOOPBACK, port):
            await flow.prepare()
            await flow.open_portal()
            figures["start -> serving"].append((time.perf_counter() - started) * 1000)
            async with ClientSession() as http:

                async def page() -> None:
                    async with http.get(f"http://127.0.0.1:{port}/") as response:
                        await response.read()

                figures["GET /"].append(await _timed(page))
            credentials = Credentials(b"Net 28", SecurityKind.WPA_PSK, passphrase="password1")
            figures["submit -> connected"].append(await _timed(lambda: flow.attempt(credentials)))
            await flow.cleanup()


async def main(rounds: int) -> None:
    """Print the median and worst of each measurement over `rounds` rounds."""
    figures: dict[str, list[float]] = {
        "start -> serving": [],
        "GET /": [],
        "submit -> connected": [],
    }
    async with PrivateBus() as private_bus:
        for _ in range(rounds):
            await _round(private_bus.address, free_port(), figures)
    for name, values in figures.items():
        print(f"{name:22} median {statistics.median(values):7.1f} ms   worst {max(values):7.1f} ms")


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1]) if len(sys.argv) > 1 else 10))
