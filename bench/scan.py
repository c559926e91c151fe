"""Figure 5: a scan's cost on the bus, through the adapter, for a growing number of networks."""

from __future__ import annotations

import asyncio
import time

from app.errors import WifiConnectError
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from bench.common import simulated
from bench.results import Row

# How long one size's start and scan may take before it counts as failed.
SCAN_BOUND = 10.0


def rows(sizes: tuple[int, ...]) -> dict[str, Row]:
    """Figure 5's rows, keyed for measure(): per size, then the ratio of the ends."""
    figures: dict[str, Row] = {}
    for size in sizes:
        figures[f"wall {size}"] = Row("5. Scan cost", f"{size} APs: wall time of a scan", "ms")
        figures[f"getall {size}"] = Row(
            "5. Scan cost", f"{size} APs: GetAll calls per AP", "", "≤ 1", lambda value: value <= 1
        )
        figures[f"calls {size}"] = Row("5. Scan cost", f"{size} APs: D-Bus calls per scan", "")
    figures["ratio"] = Row(
        "5. Scan cost",
        f"wall time, {sizes[-1]} APs / {sizes[0]} APs",
        "x",
        "flat (≤ 2x)",
        lambda value: value <= 2,
    )
    return figures


async def measure(figures: dict[str, Row], sizes: tuple[int, ...]) -> None:
    """One run: a fresh simulator per size, one scan through the adapter, its calls counted."""
    walls: dict[int, float] = {}
    for size in sizes:
        try:
            async with asyncio.timeout(SCAN_BOUND):
                wall, getall, calls = await _scan(size)
        except (OSError, TimeoutError, WifiConnectError) as err:
            # The simulator's dbus-next connection gives up when its socket buffer is full
            # (EAGAIN): at once while it starts, or mid-scan, which leaves the adapter waiting.
            why = f"{type(err).__name__}: {err}" if str(err) else f"no scan within {SCAN_BOUND:g} s"
            for key in (f"wall {size}", f"getall {size}", f"calls {size}"):
                figures[key].failures.append(why)
            continue
        walls[size] = wall
        figures[f"wall {size}"].values.append(wall)
        figures[f"getall {size}"].values.append(getall / size)
        figures[f"calls {size}"].values.append(calls)
    if sizes[0] in walls and sizes[-1] in walls:
        figures["ratio"].values.append(walls[sizes[-1]] / walls[sizes[0]])
    else:
        figures["ratio"].failures.append("an end of the range was not measured")


async def _scan(size: int) -> tuple[float, int, int]:
    """One scan of `size` APs: its wall ms, GetAll calls and all D-Bus calls."""
    async with simulated(size) as sim, SystemBus(sim.address) as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=10)
        wifi = await nm.wifi_device(None)
        before = sim.nm.call_counts()
        started = time.perf_counter()
        networks = await wifi.scan(timeout=15)
        wall = (time.perf_counter() - started) * 1000
        after = sim.nm.call_counts()
    if len(networks) != size:
        raise RuntimeError(f"a scan of {size} APs listed {len(networks)} networks")
    getall = after.get("GetAll", 0) - before.get("GetAll", 0)
    return wall, getall, sum(after.values()) - sum(before.values())
