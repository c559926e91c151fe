"""The portal under load at full size: `wifi-connect simulate` in its own process.

Run: .venv/bin/python -m bench.portal_load [SECONDS] [POLLERS] [HELD]  (default 30 200 500).

1. POLLERS phones, each from its own loopback address, ask /status once a second for SECONDS,
   while a new phone loads the page once a second; the portal process's RSS is read each
   second. Goals: every page load within 2 s, RSS flat after the first seconds.
2. HELD slowloris connections (a request line and half a header, then nothing) stay open; a new
   phone loads the page. Goal: within 2 s. Then how long the portal keeps the held ones
   (its idle timeout, app.portal.server.IDLE_TIMEOUT).

tests/portal/test_portal_load.py runs the same with the waiting left out.
"""

from __future__ import annotations

import asyncio
import contextlib
import resource
import statistics
import sys
import time
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp

from bench.common import free_port, rss_mib

WIFI_CONNECT = str(Path(sys.executable).with_name("wifi-connect"))


def _summary(name: str, seconds: list[float]) -> str:
    ms = sorted(value * 1000 for value in seconds)
    p95 = ms[int(len(ms) * 0.95) - 1] if len(ms) >= 20 else ms[-1]
    return (
        f"{name:28} n={len(ms):6}  median {statistics.median(ms):7.1f} ms  "
        f"p95 {p95:7.1f} ms  worst {ms[-1]:7.1f} ms"
    )


@contextlib.asynccontextmanager
async def _simulated_portal() -> AsyncIterator[tuple[int, str]]:
    """`wifi-connect simulate` on a free port: its pid and URL, once it serves."""
    port = free_port()
    process = await asyncio.create_subprocess_exec(
        WIFI_CONNECT, "simulate", "--port", str(port),
        stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    try:
        async with aiohttp.ClientSession() as probe:
            for _ in range(200):
                with contextlib.suppress(aiohttp.ClientError):
                    async with probe.get(f"{url}status") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
        yield process.pid, url
    finally:
        process.terminate()
        await process.wait()


async def _page(url: str, source: str) -> float:
    started = time.monotonic()
    connector = aiohttp.TCPConnector(local_addr=(source, 0))
    async with aiohttp.ClientSession(connector=connector) as phone, phone.get(url) as response:
        await response.read()
        assert response.status == 200
    return time.monotonic() - started


async def pollers(url: str, pid: int, seconds: int, count: int) -> None:
    """Phase 1: `count` phones polling /status every second for `seconds`."""
    latencies: list[float] = []
    pages: list[float] = []
    rss: list[float] = []
    errors = 0
    deadline = time.monotonic() + seconds

    async def phone(n: int) -> None:
        nonlocal errors
        connector = aiohttp.TCPConnector(local_addr=(f"127.0.1.{n % 250 + 1}", 0), limit=1)
        async with aiohttp.ClientSession(connector=connector) as session:
            await asyncio.sleep(n / count)  # phones do not poll in step
            while time.monotonic() < deadline:
                started = time.monotonic()
                try:
                    async with session.get(f"{url}status") as response:
                        await response.read()
                        errors += response.status != 200
                except aiohttp.ClientError:
                    errors += 1
                latencies.append(time.monotonic() - started)
                await asyncio.sleep(max(0.0, 1.0 - (time.monotonic() - started)))

    async def observer() -> None:
        while time.monotonic() < deadline:
            rss.append(rss_mib(pid))
            pages.append(await _page(url, "127.0.2.1"))
            await asyncio.sleep(1.0)

    await asyncio.gather(observer(), *(phone(n) for n in range(count)))
    print(f"{count} phones polling /status every second for {seconds} s: {errors} errors")
    print(_summary("GET /status", latencies))
    print(_summary("a new phone's GET / meanwhile", pages))
    print(f"portal RSS (MiB) first {rss[0]:.1f}, after 5 s {rss[min(5, len(rss) - 1)]:.1f}, "
          f"last {rss[-1]:.1f}, max {max(rss):.1f}")  # fmt: skip


async def held(url: str, port: int, count: int) -> None:
    """Phase 2: `count` held connections, a new phone, and how long the held ones last."""
    connections = []
    for _ in range(count):
        reader, writer = await asyncio.open_connection(
            "127.0.0.1", port, local_addr=("127.0.3.1", 0)
        )
        writer.write(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        connections.append((reader, writer))
    held_at = time.monotonic()
    print(_summary(f"GET / with {count} held", [await _page(url, "127.0.2.2")]))
    closed = await asyncio.gather(*(reader.read() for reader, _ in connections))
    silent = sum(answer == b"" for answer in closed)
    after = time.monotonic() - held_at
    print(f"the {count} held connections were closed after {after:.1f} s ({silent} silently)")
    for _, writer in connections:
        writer.close()


async def main(seconds: int, count: int, held_count: int) -> None:
    """Both phases against one simulated portal."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    async with _simulated_portal() as (pid, url):
        await pollers(url, pid, seconds, count)
        await held(url, int(url.rsplit(":", 1)[1].rstrip("/")), held_count)


if __name__ == "__main__":
    arguments = [int(value) for value in sys.argv[1:4]]
    asyncio.run(main(*(arguments + [30, 200, 500][len(arguments) :])))
