"""What the benchmarks share: ports, /proc readings, the simulator, the app in its own process."""

from __future__ import annotations

import asyncio
import compileall
import contextlib
import json
import os
import resource
import socket
import sys
import time
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from app.simulator import PrivateBus, SimulatedNetworkManager, parse_scenario

# The portal's process reads its own CPU time in clock ticks (/proc/<pid>/stat).
_TICKS = os.sysconf("SC_CLK_TCK")
# bench/app_process.py runs as a module of this checkout.
CHECKOUT = Path(__file__).resolve().parent.parent


def compile_bytecode() -> None:
    """Byte-compile the app as an install does (pip, the .deb's postinst), as on a device."""
    # Run from a checkout with PYTHONDONTWRITEBYTECODE, every start would compile every module.
    for package in ("app", "bench"):
        compileall.compile_dir(CHECKOUT / package, quiet=1)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def rss_mib(pid: int) -> float:
    """The process's resident set size in MiB."""
    pages = int(Path(f"/proc/{pid}/statm").read_text().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mib(pid: int) -> float:
    """The process's peak resident set size (VmHWM) in MiB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"/proc/{pid}/status has no VmHWM")


def cpu_seconds(pid: int) -> float:
    """User plus system CPU seconds the process has used so far."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    # The command name (field 2) may hold spaces; the fields after its ')' are fixed.
    fields = stat[stat.rindex(")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / _TICKS


def scenario(networks: int) -> dict[str, Any]:
    """One WiFi device, `networks` WPA-PSK networks, every simulated delay at zero."""
    return {
        "activation_delay_ms": 0,
        "deactivation_delay_ms": 0,
        "scan_delay_ms": 0,
        "devices": [{"interface": "wlan0"}],
        "networks": [
            {
                "ssid": f"Net {n}",
                "security": "wpa-psk",
                "passphrase": "password1",
                "strength": 1 + n * 99 // max(networks, 1),
            }
            for n in range(networks)
        ],
    }


@dataclass(frozen=True)
class Simulated:
    """A simulated NetworkManager on a private bus, in the bench's own process."""

    address: str
    nm: SimulatedNetworkManager


@contextlib.asynccontextmanager
async def simulated(networks: int, data: dict[str, Any] | None = None) -> AsyncIterator[Simulated]:
    """A private bus and a simulated NetworkManager: `networks` access points, or `data`."""
    async with (
        PrivateBus() as bus,
        SimulatedNetworkManager.start(
            bus.address, parse_scenario(data if data is not None else scenario(networks))
        ) as nm,
    ):
        yield Simulated(bus.address, nm)


@dataclass(frozen=True)
class AppProcess:
    """The portal's process (bench/app_process.py): its pid, URL and start-up figures."""

    pid: int
    url: str
    port: int
    wall_to_probe: float
    cpu_to_probe: float
    # Its JSON lines on stdout (bench.app_process --events, SIGUSR1), when asked for.
    events: Events | None = None


class Events:
    """The JSON lines the app process writes on stdout, read as they come."""

    def __init__(self, stream: asyncio.StreamReader) -> None:
        self._lines: asyncio.Queue[dict[str, Any] | None] = asyncio.Queue()
        self._reader = asyncio.ensure_future(self._read(stream))

    async def _read(self, stream: asyncio.StreamReader) -> None:
        while line := await stream.readline():
            self._lines.put_nowait(json.loads(line))
        self._lines.put_nowait(None)

    async def next(
        self, wanted: Callable[[dict[str, Any]], bool], timeout: float
    ) -> dict[str, Any]:
        """The next line `wanted` accepts (the others are dropped), within `timeout` s."""
        async with asyncio.timeout(timeout):
            while True:
                line = await self._lines.get()
                if line is None:
                    raise RuntimeError("the app process ended (its stdout closed)")
                if wanted(line):
                    return line

    async def logged(self, start: str, timeout: float) -> float:
        """When (time.monotonic, in the app) the next log line beginning with `start` came."""
        line = await self.next(
            lambda line: line["event"] == "log" and line["message"].startswith(start), timeout
        )
        return float(line["at"])

    def close(self) -> None:
        """Stop reading."""
        self._reader.cancel()


@contextlib.asynccontextmanager
async def app_process(
    bus_address: str,
    *,
    start_timeout: float = 30.0,
    ui_directory: Path | None = None,
    options: Sequence[str] = (),
    events: bool = False,
) -> AsyncIterator[AppProcess]:
    """The app in its own process on `bus_address`, once it has answered a captive probe.

    `ui_directory`: the app serves that UI_DIRECTORY instead of the bundled page. `options` go
    to bench.app_process; with `events` its log lines are read (--events).
    """
    port = free_port()
    environment = dict(os.environ)
    if ui_directory is not None:
        environment["UI_DIRECTORY"] = str(ui_directory)
    started = time.perf_counter()
    arguments = [*options, "--events"] if events else list(options)
    process = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.app_process", bus_address, str(port), *arguments,
        stdout=asyncio.subprocess.PIPE if events else asyncio.subprocess.DEVNULL,
        stderr=asyncio.subprocess.DEVNULL,
        cwd=CHECKOUT, env=environment,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}/"
    lines = Events(process.stdout) if process.stdout is not None else None
    try:
        wall, cpu = await _first_probe(process, url, started, start_timeout)
        yield AppProcess(process.pid, url, port, wall, cpu, lines)
    finally:
        if process.returncode is None:
            process.terminate()
        await process.wait()
        if lines is not None:
            lines.close()


async def _first_probe(
    process: asyncio.subprocess.Process, url: str, started: float, timeout: float
) -> tuple[float, float]:
    """Wall and CPU seconds from spawning to the first captive probe answered as a portal."""
    async with aiohttp.ClientSession() as probe:
        while time.perf_counter() - started < timeout:
            if process.returncode is not None:
                raise RuntimeError(f"the app process ended with {process.returncode}")
            with contextlib.suppress(aiohttp.ClientError, OSError):
                # Android's probe: a 204 would mean online; the portal answers with its sign-in
                # page (200) or, on other paths, a redirect.
                async with probe.get(f"{url}generate_204", allow_redirects=False) as response:
                    if response.status in (200, 302, 303, 307):
                        return time.perf_counter() - started, cpu_seconds(process.pid)
            await asyncio.sleep(0.002)
    raise RuntimeError(f"the portal did not answer a probe within {timeout:g} s")


async def listed(url: str, networks: int) -> None:
    """Return once the portal at `url` lists at least `networks` networks."""
    async with aiohttp.ClientSession() as phone:
        while True:
            async with phone.get(f"{url}networks") as response:
                if len(await response.json()) >= networks:
                    return
            await asyncio.sleep(0.005)
