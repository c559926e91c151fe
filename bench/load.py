"""Figure 4: phones at once. Many phones, each from its own loopback address, use the portal.

Paced: each phone asks for the page, the list, the status and two captive probes in turn, one
request every PACE seconds (a phone's page polling /status does about that), for the given
time; the latencies, errors and the simulator's D-Bus calls meanwhile are the figure. Then the
same phones ask back to back for a few seconds: the requests per second the portal manages.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import resource
import statistics
import time
from dataclasses import dataclass, field

import aiohttp

from bench.common import Simulated, app_process, listed, simulated
from bench.results import Row

PATHS = ("", "networks", "status", "generate_204", "hotspot-detect.html")
PACE = 1.0
NETWORKS = 50
# How long the flow must make no D-Bus call before the load starts.
SETTLE = 0.3


def rows(clients: int, seconds: float) -> dict[str, Row]:
    """Figure 4's rows, keyed for measure()."""
    what = f"{clients} phones, 1 request/s each, {seconds:g} s"
    return {
        "p50": Row("4. Phones at once", f"{what}: p50", "ms"),
        "p99": Row("4. Phones at once", f"{what}: p99", "ms", "< 50 ms",
                   lambda value: value < 50),
        "errors": Row("4. Phones at once", f"{what}: errors", "", "0",
                      lambda value: value == 0),
        "calls": Row("4. Phones at once",
                     "D-Bus calls per GET /networks, beyond the idle flow's own", "",
                     "0 (served from the scan cache)", lambda value: value == 0),
        "rate": Row("4. Phones at once", f"{clients} phones back to back: requests/s", "req/s"),
    }  # fmt: skip


@dataclass
class _Tally:
    latencies: list[float] = field(default_factory=list)
    errors: int = 0
    networks: int = 0


async def _phone(
    session: aiohttp.ClientSession, url: str, n: int, deadline: float, pace: float, tally: _Tally
) -> None:
    """Requests in turn (the paths offset per phone) until the deadline, one per `pace` s."""
    paths = itertools.islice(itertools.cycle(PATHS), n % len(PATHS), None)
    for path in paths:
        if time.monotonic() >= deadline:
            return
        started = time.monotonic()
        try:
            async with session.get(f"{url}{path}", allow_redirects=False) as response:
                await response.read()
                tally.errors += response.status not in (200, 302)
        except (aiohttp.ClientError, OSError):
            tally.errors += 1
        tally.latencies.append(time.monotonic() - started)
        tally.networks += path == "networks"
        await asyncio.sleep(max(0.0, pace - (time.monotonic() - started)))


async def _phones(url: str, clients: int, seconds: float, pace: float) -> _Tally:
    """`clients` phones, each with its own source address and one connection, for `seconds`."""
    tally = _Tally()
    async with contextlib.AsyncExitStack() as stack:
        sessions = [
            await stack.enter_async_context(
                aiohttp.ClientSession(
                    connector=aiohttp.TCPConnector(
                        local_addr=(f"127.0.1.{n % 250 + 1}", 0), limit=1
                    )
                )
            )
            for n in range(clients)
        ]
        deadline = time.monotonic() + seconds

        async def staggered(n: int, session: aiohttp.ClientSession) -> None:
            await asyncio.sleep(pace * n / clients)  # phones do not ask in step
            await _phone(session, url, n, deadline, pace, tally)

        await asyncio.gather(*(staggered(n, session) for n, session in enumerate(sessions)))
    return tally


async def _settled(sim: Simulated) -> None:
    """Return once the flow has brought the hotspot up and made no D-Bus call for a while."""
    counts: dict[str, int] = {}
    while counts.get("ActivateConnection", 0) == 0 or counts != sim.nm.call_counts():
        counts = sim.nm.call_counts()
        await asyncio.sleep(SETTLE)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * fraction))]


async def measure(
    figures: dict[str, Row], clients: int, seconds: float, burst: float, quiet: int | None = None
) -> tuple[dict[str, int], int]:
    """One run: paced phones, then back to back; the D-Bus calls during the paced part, by
    method, and the idle flow's calls in as long (measured unless an earlier run's `quiet`)."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with simulated(NETWORKS) as sim, app_process(sim.address) as app:
        # The first scan is over once the list is full: later calls are the load's.
        await listed(app.url, NETWORKS)
        await _settled(sim)
        if quiet is None:
            # The flow's own calls while no phone asks anything, over as long as the load lasts:
            # the same in every run, so measured once.
            idle_before = sum(sim.nm.call_counts().values())
            await asyncio.sleep(seconds)
            quiet = sum(sim.nm.call_counts().values()) - idle_before
        before = sim.nm.call_counts()
        paced = await _phones(app.url, clients, seconds, PACE)
        after = sim.nm.call_counts()
        calls = {method: after[method] - before.get(method, 0) for method in after}
        calls = {method: count for method, count in calls.items() if count}
        ms = [value * 1000 for value in paced.latencies]
        figures["p50"].values.append(statistics.median(ms))
        figures["p99"].values.append(_percentile(ms, 0.99))
        figures["errors"].values.append(paced.errors)
        extra = max(0, sum(calls.values()) - quiet)
        figures["calls"].values.append(extra / max(paced.networks, 1))
        started = time.monotonic()
        flat_out = await _phones(app.url, clients, burst, 0.0)
        figures["rate"].values.append(len(flat_out.latencies) / (time.monotonic() - started))
    return calls, quiet
