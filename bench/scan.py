"""Figure 5: a scan's cost on the bus, through the adapter, for a growing number of networks."""

from __future__ import annotations

import statistics
import time

from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from bench.common import simulated
from bench.results import Row


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
        async with simulated(size) as sim, SystemBus(sim.address) as bus:
            nm = await NetworkManagerClient.connect(bus, timeout=10)
            wifi = await nm.wifi_device(None)
            before = sim.nm.call_counts()
            started = time.perf_counter()
            networks = await wifi.scan(timeout=15)
            walls[size] = (time.perf_counter() - started) * 1000
            after = sim.nm.call_counts()
        if len(networks) != size:
            raise RuntimeError(f"a scan of {size} APs listed {len(networks)} networks")
        figures[f"wall {size}"].values.append(walls[size])
        getall = after.get("GetAll", 0) - before.get("GetAll", 0)
        figures[f"getall {size}"].values.append(getall / size)
        figures[f"calls {size}"].values.append(sum(after.values()) - sum(before.values()))
    figures["ratio"].values.append(walls[sizes[-1]] / statistics.fmean([walls[sizes[0]]]))
