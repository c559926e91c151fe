"""Figure 5: a scan's cost on the bus, through the adapter, for a growing number of networks.

The simulated NetworkManager runs in a process of its own (`python -m app.simulator`), as the
real one does, so a scan's wall time is the adapter's work plus true round trips through the
bus daemon, not the simulator's work on the same core.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import cProfile
import json
import pstats
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from app.errors import WifiConnectError
from app.nm.bus import SystemBus
from app.nm.client import NetworkManagerClient
from app.simulator import PrivateBus
from bench.common import CHECKOUT, scenario
from bench.results import Row

# How long one size's start and scan may take before it counts as failed.
SCAN_BOUND = 10.0


def rows(sizes: tuple[int, ...]) -> dict[str, Row]:
    """Figure 5's rows, keyed for measure(): per size, then the ratio of the ends."""
    figures: dict[str, Row] = {}
    for size in sizes:
        figures[f"wall {size}"] = Row("5. Scan cost", f"{size} APs: wall time of a scan", "ms")
        figures[f"cpu {size}"] = Row(
            "5. Scan cost", f"{size} APs: the adapter's CPU time per AP", "ms"
        )
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
                done = await _scan(size)
        except (OSError, TimeoutError, WifiConnectError) as err:
            why = f"{type(err).__name__}: {err}" if str(err) else f"no scan within {SCAN_BOUND:g} s"
            for key in (f"wall {size}", f"cpu {size}", f"getall {size}", f"calls {size}"):
                figures[key].failures.append(why)
            continue
        walls[size] = done.wall
        figures[f"wall {size}"].values.append(done.wall)
        figures[f"cpu {size}"].values.append(done.cpu / size)
        figures[f"getall {size}"].values.append(done.getall / size)
        figures[f"calls {size}"].values.append(done.calls)
    if sizes[0] in walls and sizes[-1] in walls:
        figures["ratio"].values.append(walls[sizes[-1]] / walls[sizes[0]])
    else:
        figures["ratio"].failures.append("an end of the range was not measured")


class CountingBus(SystemBus):
    """The adapter's bus connection, counting the method calls it makes by member."""

    def __init__(self, address: str) -> None:
        super().__init__(address)
        self.counts: collections.Counter[str] = collections.Counter()

    async def call(
        self, path: str, interface: str, member: str, *args: Any, **kwargs: Any
    ) -> list[Any]:
        """Count the call, then make it."""
        self.counts[member] += 1
        return await super().call(path, interface, member, *args, **kwargs)


@contextlib.asynccontextmanager
async def simulator_process(networks: int) -> AsyncIterator[str]:
    """A private bus with a simulated NetworkManager in its own process; the bus address."""
    with tempfile.TemporaryDirectory(prefix="wifi-connect-bench-") as folder:
        scenario_file = Path(folder) / "scenario.json"
        scenario_file.write_text(json.dumps(scenario(networks)), encoding="utf-8")
        async with PrivateBus() as bus:
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "app.simulator", "--bus", bus.address,
                "--scenario", str(scenario_file),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
                cwd=CHECKOUT,
            )  # fmt: skip
            try:
                yield bus.address
            finally:
                if process.returncode is None:
                    process.terminate()
                await process.wait()


@dataclass(frozen=True)
class Scan:
    """One scan's figures: wall and adapter CPU milliseconds, GetAll and all calls made."""

    wall: float
    cpu: float
    getall: int
    calls: int


async def _scan(size: int) -> Scan:
    """One scan of `size` APs: its wall ms, GetAll calls and all D-Bus calls."""
    async with simulator_process(size) as address:
        bus = CountingBus(address)
        async with bus:
            nm = await NetworkManagerClient.connect(bus, timeout=10)
            wifi = await nm.wifi_device(None)
            calls_before, getall_before = bus.counts.total(), bus.counts["GetAll"]
            started, cpu_started = time.perf_counter(), time.process_time()
            networks = await wifi.scan(timeout=15)
            wall = (time.perf_counter() - started) * 1000
            cpu = (time.process_time() - cpu_started) * 1000
    if len(networks) != size:
        raise RuntimeError(f"a scan of {size} APs listed {len(networks)} networks")
    calls = bus.counts.total() - calls_before
    return Scan(wall, cpu, bus.counts["GetAll"] - getall_before, calls)


# Where the adapter's CPU goes during a scan, by the file each function's own time is spent in.
_SHARES = (("dbus-next", "/dbus_next/"), ("the app", "/app/"), ("asyncio", "/asyncio/"))


async def profile(size: int) -> dict[str, float]:
    """One profiled scan of `size` APs: each part's share of the adapter's busy CPU time."""
    async with simulator_process(size) as address, SystemBus(address) as bus:
        nm = await NetworkManagerClient.connect(bus, timeout=10)
        wifi = await nm.wifi_device(None)
        profiler = cProfile.Profile()
        profiler.enable()
        await wifi.scan(timeout=15)
        profiler.disable()
    own: collections.Counter[str] = collections.Counter()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    for (filename, _, function), (_, _, self_time, _, callers) in stats.items():
        if "poll" in function:
            continue  # waiting for the bus, not working
        if filename != "~":
            own[_part(filename)] += self_time
            continue
        # A builtin's time goes to the files that called it, in proportion.
        called = sum(edge[2] for edge in callers.values()) or 1.0
        for (caller, _, _), edge in callers.items():
            own[_part(caller)] += self_time * edge[2] / called
    busy = own.total() or 1.0
    return {part: time_spent / busy for part, time_spent in own.items()}


def _part(filename: str) -> str:
    return next((name for name, folder in _SHARES if folder in filename), "the rest")
