"""Figure 3's soak: `run --watch` while the uplink flaps, and what the app holds after it.

The app runs in its own process (bench.app_process --watch) with the watch's waits shortened so
that each flap takes it the whole way round: every period the bench drops the uplink (the
simulated NetworkManager takes the joined network down); the app sees it gone, brings the
portal back, a phone submits the network again, the app joins it and proves the link against
the bench's servers, and watches the uplink again. After the warm-up flaps and at the end the
bench reads, in the same quiet moment of a flap: the app's RSS and open file descriptors
(/proc/<pid>), its live asyncio tasks (SIGUSR1, bench.app_process), and the D-Bus match rules
its connection holds (the private dbus-daemon's org.freedesktop.DBus.Debug.Stats).
"""

from __future__ import annotations

import asyncio
import collections
import json
import os
import signal
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.nm.bus import SystemBus, unwrap
from bench import submit
from bench.common import AppProcess, Simulated, rss_mib
from bench.results import Row

# The watch's waits, shortened so a whole flap fits well within a period of 5 s: the uplink
# is looked at every 0.25 s and the portal returns once it has been gone 0.5 s; the phone's
# answer gets 0.2 s before the hotspot goes.
TIMINGS = {"watch_poll": 0.25, "watch_grace": 0.5, "answer_grace": 0.2}
# How long the checks may take: the servers answer in milliseconds.
CHECK_TIMEOUT = 2.0
# How long before the next flap the quiet moment's readings are taken, and how long after the
# round's end (the hotspot's profile removed, then the portal's server closed) at the least:
# on a busy machine a flap may take longer than its period.
QUIET = 0.3
SETTLE = 0.5
_DBUS = ("org.freedesktop.DBus", "/org/freedesktop/DBus")
# The dbus-daemon's statistics (built in on Debian and Ubuntu), which count match rules.
_STATS = "org.freedesktop.DBus.Debug.Stats"


@dataclass(frozen=True)
class Plan:
    """How long the soak runs, and how often the uplink flaps."""

    seconds: float
    period: float

    @property
    def flaps(self) -> int:
        """How many flaps fit."""
        return max(3, round(self.seconds / self.period))

    @property
    def warm_up(self) -> int:
        """The flaps before the first readings: the first tenth, at least two."""
        return max(2, self.flaps // 10)

    def describe(self) -> str:
        """The soak's length and period, as its rows say them."""
        minutes = f"{self.seconds / 60:g} min" if self.seconds >= 60 else f"{self.seconds:g} s"
        return f"{minutes} --watch soak, uplink flaps every {self.period:g} s"


def rows(plan: Plan) -> dict[str, Row]:
    """The soak's rows, keyed for measure()."""
    what = f"{plan.describe()} ({plan.flaps} flaps, {plan.warm_up} to warm up)"
    none = "0 (none leaked)"
    return {
        "rss": Row("3. Memory", f"{what}: RSS growth after the warm-up", "MiB", "< 2 MB",
                   lambda value: value < 2 * 10**6 / 2**20),
        "tasks": Row("3. Memory", "the soak: asyncio tasks gained after the warm-up", "", none,
                     lambda value: value <= 0),
        "fds": Row("3. Memory", "the soak: file descriptors gained after the warm-up", "", none,
                   lambda value: value <= 0),
        "matches": Row("3. Memory", "the soak: D-Bus match rules gained after the warm-up", "",
                       none, lambda value: value <= 0),
    }  # fmt: skip


@dataclass(frozen=True)
class Reading:
    """What the app process holds at one quiet moment."""

    rss: float
    tasks: int
    by_coroutine: dict[str, int]
    fds: int
    matches: int
    # The most match rules the connection held at once so far (while a flap was under way).
    peak_matches: int
    rules: tuple[str, ...]
    # With tracemalloc on: where the app's live allocations grew most since the first reading.
    grown: tuple[str, ...] = ()


async def _bus_call(bus: SystemBus, interface: str, member: str, *args: str) -> Any:
    """A method of the dbus-daemon itself; its reply's one value, unwrapped."""
    (value,) = await bus.call(
        _DBUS[1], interface, member, "s" * len(args), args, destination=_DBUS[0]
    )
    return unwrap(value)


async def _connection_of(bus: SystemBus, pid: int) -> str:
    """The unique bus name of the connection process `pid` holds."""
    for name in await _bus_call(bus, _DBUS[0], "ListNames"):
        unique = name.startswith(":")
        if unique and await _bus_call(bus, _DBUS[0], "GetConnectionUnixProcessID", name) == pid:
            return str(name)
    raise RuntimeError(f"process {pid} holds no connection to the bus")


async def _match_rules(bus: SystemBus, name: str) -> tuple[int, int, tuple[str, ...]]:
    """The match rules the dbus-daemon holds for `name`: how many now, the most it ever held,
    and the rules themselves."""
    stats = await _bus_call(bus, _STATS, "GetConnectionStats", name)
    every = await _bus_call(bus, _STATS, "GetAllMatchRules")
    rules = tuple(sorted(every.get(name, [])))
    return int(stats["MatchRules"]), int(stats["PeakMatchRules"]), rules


async def _read(app: AppProcess, bus: SystemBus, name: str) -> Reading:
    """The app's RSS, tasks, descriptors and match rules, now."""
    assert app.events is not None
    os.kill(app.pid, signal.SIGUSR1)
    live = await app.events.next(lambda line: line["event"] == "live", submit.WAIT)
    matches, peak, rules = await _match_rules(bus, name)
    return Reading(
        rss=rss_mib(app.pid),
        tasks=int(live["tasks"]),
        by_coroutine=dict(live["by_coroutine"]),
        fds=len(os.listdir(f"/proc/{app.pid}/fd")),
        matches=matches,
        peak_matches=peak,
        rules=rules,
        grown=tuple(live["grown"]),
    )


async def _rejoin(app: AppProcess) -> float:
    """Once the portal is back, submit the network as a phone; when it was proven, once it is."""
    assert app.events is not None
    await app.events.logged("state: portal", submit.WAIT)
    await submit.submit(app.url)
    proven = await app.events.logged("Reachability proven", submit.WAIT)
    await app.events.logged("state: connected", submit.WAIT)
    await app.events.logged("Hotspot profile removed", submit.WAIT)
    return proven


def _drop_uplink(sim: Simulated) -> None:
    """The joined network goes away under the app (the simulated NetworkManager takes it down)."""
    for path in sim.nm.active_paths():
        sim.nm.deactivate(path)


def _trend(rss: Sequence[float]) -> str:
    """How the RSS moved after the warm-up: over each half, so a plateau shows from a leak."""
    half = len(rss) // 2
    if half < 1:
        return ""
    first, second = rss[half] - rss[0], rss[-1] - rss[half]
    return (
        f"RSS at each quiet moment after the warm-up: {min(rss):.1f}-{max(rss):.1f} MiB, "
        f"{first:+.2f} MiB over the first half of those flaps and {second:+.2f} MiB over the "
        "second."
    )


def _gained(before: Reading, after: Reading) -> str:
    """What the app holds at the end that it did not after the warm-up, in words."""
    tasks = collections.Counter(after.by_coroutine)
    tasks.subtract(before.by_coroutine)
    more = {name: count for name, count in tasks.items() if count > 0}
    rules = sorted(set(after.rules) - set(before.rules))
    return f"tasks {json.dumps(more) if more else 'none'}; match rules {rules or 'none'}"


@dataclass(frozen=True)
class _Soaked:
    """The readings after the warm-up and at the end, and how the flaps went."""

    before: Reading
    after: Reading
    seconds: float
    # The longest way round, from the uplink dropped to the link proven again.
    slowest: float
    # The RSS in MiB at each flap's quiet moment, in order.
    rss: tuple[float, ...]


async def _flaps(app: AppProcess, sim: Simulated, bus: SystemBus, plan: Plan) -> _Soaked:
    """Flap the uplink as planned, each flap the whole way round; read the app twice."""
    name = await _connection_of(bus, app.pid)
    started = dropped = time.monotonic()
    readings: dict[int, Reading] = {}
    rss: list[float] = []
    slowest = 0.0
    for flap in range(1, plan.flaps + 1):
        proven = await _rejoin(app)
        if flap > 1:
            slowest = max(slowest, proven - dropped)
        next_flap = started + flap * plan.period
        await asyncio.sleep(max(SETTLE, next_flap - QUIET - time.monotonic()))
        rss.append(rss_mib(app.pid))
        if flap in (plan.warm_up, plan.flaps):
            readings[flap] = await _read(app, bus, name)
        if flap < plan.flaps:
            await asyncio.sleep(max(0.0, next_flap - time.monotonic()))
            _drop_uplink(sim)
            dropped = time.monotonic()
    return _Soaked(
        readings[plan.warm_up],
        readings[plan.flaps],
        time.monotonic() - started,
        slowest,
        tuple(rss),
    )


async def measure(figures: dict[str, Row], plan: Plan, trace_frames: int = 0) -> str:
    """One soak; returns a note with the readings (with `trace_frames`, tracemalloc's too)."""
    options = ["--watch", "--timings", json.dumps(TIMINGS)]
    if trace_frames:
        options += ["--trace-memory", str(trace_frames)]
    async with (
        submit.proving(CHECK_TIMEOUT, options) as run,
        SystemBus(run.sim.address) as bus,
    ):
        soaked = await _flaps(run.app, run.sim, bus, plan)
    before, after = soaked.before, soaked.after
    figures["rss"].values.append(after.rss - before.rss)
    figures["tasks"].values.append(after.tasks - before.tasks)
    figures["fds"].values.append(after.fds - before.fds)
    figures["matches"].values.append(after.matches - before.matches)
    return (
        f"Figure 3's soak: {plan.flaps} flaps in {soaked.seconds:.0f} s, each one the whole way "
        f"round (uplink gone, portal back, a phone's POST /connect, proven; the slowest took "
        f"{soaked.slowest:.2f} s). After the warm-up / at the end: RSS {before.rss:.1f} / "
        f"{after.rss:.1f} MiB, asyncio tasks {before.tasks} / {after.tasks} "
        f"({json.dumps(after.by_coroutine)} at the end), file descriptors {before.fds} / "
        f"{after.fds}, D-Bus match rules {before.matches} / {after.matches} (at most "
        f"{after.peak_matches} at once during the flaps); gained: {_gained(before, after)}. "
        f"{_trend(soaked.rss[plan.warm_up - 1 :])}"
        + (f" Grown most (tracemalloc): {'; '.join(after.grown)}." if after.grown else "")
    )
