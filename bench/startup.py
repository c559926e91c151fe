"""Figures 1 and 3: time to portal and the app's peak memory, the app in its own process."""

from __future__ import annotations

import collections
import subprocess
import sys
import time

import aiohttp

from bench.common import CHECKOUT, app_process, listed, peak_rss_mib, simulated
from bench.results import Row

# Figure 3's scenario: the portal lists this many networks.
NETWORKS = 50

# The third-party modules the app's process cannot do without: the stack the project requires.
STACK = ("aiohttp.web", "jinja2", "dbus_next.aio")
_STACK_NAMES = ", ".join(STACK)
# Import `modules`, then print the CPU seconds that took and the process's peak RSS in KiB.
_IMPORT_COST = (
    "import pathlib, time\n"
    "started = time.process_time()\n"
    "import {modules}\n"
    "cpu = time.process_time() - started\n"
    "status = pathlib.Path('/proc/self/status').read_text().splitlines()\n"
    "print(cpu, next(line.split()[1] for line in status if line.startswith('VmHWM:')))"
)


def rows() -> dict[str, Row]:
    """Figures 1 and 3, keyed for measure()."""
    return {
        "wall": Row("1. Time to portal", "spawn → first captive probe answered, wall", "s",
                    "< 0.5 s", lambda value: value < 0.5),
        "cpu": Row("1. Time to portal", "spawn → first captive probe answered, app CPU", "CPU-s",
                   "< 0.4 CPU-s", lambda value: value < 0.4),
        "list": Row("1. Time to portal", "spawn → /networks lists the 50 networks, wall", "s"),
        "imports": Row("1. Time to portal", "`python -X importtime -c 'import app.commands'`",
                       "ms"),
        "run imports": Row("1. Time to portal",
                           "CPU of importing what `run` imports (app, aiohttp, jinja2, dbus-next)",
                           "CPU-s"),
        "stack imports": Row("1. Time to portal",
                             f"CPU of importing only the required stack: {_STACK_NAMES}",
                             "CPU-s"),
        "help wall": Row("1. Time to portal", "`wifi-connect --help`: wall", "s",
                         "light (0.33 s before lazy imports)"),
        "help rss": Row("1. Time to portal", "`wifi-connect --help`: peak RSS", "MiB",
                        "light (42 MB before lazy imports)"),
        "rss": Row("3. Memory", f"peak RSS (VmHWM) of the app serving {NETWORKS} networks", "MiB",
                   "< 40 MB", lambda value: value < 40),
        "imported": Row("3. Memory", "peak RSS of a process that only imports the app's modules",
                        "MiB"),
        "stack rss": Row("3. Memory",
                         f"peak RSS of a process that only imports {_STACK_NAMES}",
                         "MiB"),
    }  # fmt: skip


async def measure(figures: dict[str, Row]) -> None:
    """One run: start the app against the simulator, time it, load the portal, read its peak."""
    async with simulated(NETWORKS) as sim, app_process(sim.address) as app:
        figures["wall"].values.append(app.wall_to_probe)
        figures["cpu"].values.append(app.cpu_to_probe)
        started = time.perf_counter() - app.wall_to_probe
        await listed(app.url, NETWORKS)
        figures["list"].values.append(time.perf_counter() - started)
        async with aiohttp.ClientSession() as phone:
            for path in ("", "networks", "status", "generate_204", "static/portal.css"):
                async with phone.get(f"{app.url}{path}", allow_redirects=False) as response:
                    await response.read()
        figures["rss"].values.append(peak_rss_mib(app.pid))
    cpu, rss = _import_cost("bench.app_process")
    figures["run imports"].values.append(cpu)
    figures["imported"].values.append(rss)
    cpu, rss = _import_cost(", ".join(STACK))
    figures["stack imports"].values.append(cpu)
    figures["stack rss"].values.append(rss)


def _import_cost(modules: str) -> tuple[float, float]:
    """CPU seconds and peak RSS (MiB) of a Python that imports `modules` and nothing more."""
    done = subprocess.run(
        [sys.executable, "-c", _IMPORT_COST.format(modules=modules)],
        capture_output=True, text=True, check=True, cwd=CHECKOUT,
    )  # fmt: skip
    cpu, peak_kib = done.stdout.split()
    return float(cpu), int(peak_kib) / 1024


# `wifi-connect --help` as the console script runs it, then its own peak RSS on stderr: a child's
# rusage would report the bench's, which its fork carried into the exec.
_HELP = (
    "import pathlib, sys\n"
    "from app.__main__ import main\n"
    "main(['--help'])\n"
    "status = pathlib.Path('/proc/self/status').read_text().splitlines()\n"
    "print(next(line.split()[1] for line in status if line.startswith('VmHWM:')), file=sys.stderr)"
)


def measure_help(figures: dict[str, Row]) -> None:
    """One `wifi-connect --help`: its wall time and peak RSS."""
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _HELP],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=True,
        cwd=CHECKOUT,
    )
    figures["help wall"].values.append(time.perf_counter() - started)
    figures["help rss"].values.append(int(done.stderr.split()[-1]) / 1024)


def import_times() -> tuple[float, list[tuple[str, float]]]:
    """`import app.commands`: its total ms and its five biggest direct imports (cumulative ms)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import app.commands"],
        capture_output=True,
        text=True,
        check=True,
    )
    entries = []
    for line in done.stderr.splitlines():
        if not line.startswith("import time:") or "[us]" in line:
            continue
        _, cumulative, name = line[len("import time:") :].split("|")
        entries.append((name.strip(), len(name) - len(name.lstrip()), int(cumulative) / 1000))
    # Children come before their parent: app.commands' imports are the lines above it, up to
    # the previous import at its own depth.
    end = next(n for n, (name, _, _) in enumerate(entries) if name == "app.commands")
    start = end
    while start > 0 and entries[start - 1][1] > entries[end][1]:
        start -= 1
    total = entries[end][2]
    # Its direct imports, each with what it pulled in: what a lazy import would move.
    direct = [(name, ms) for name, depth, ms in entries[start:end] if depth == entries[end][1] + 2]
    return total, sorted(direct, key=lambda item: -item[1])[:5]


def packages_note() -> str:
    """What `run` imports, by top-level package: the five that take most import time."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "import bench.app_process"],
        capture_output=True, text=True, check=True, cwd=CHECKOUT,
    )  # fmt: skip
    own: collections.Counter[str] = collections.Counter()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "[us]" not in line:
            self_us, _, name = line[len("import time:") :].split("|")
            own[name.strip().split(".")[0]] += int(self_us)
    total = own.total()
    named = ", ".join(
        f"{package} {us / 1000:.0f} ms ({us / total:.0%})" for package, us in own.most_common(5)
    )
    return (
        f"Figures 1 and 3, what `run` imports, by top-level package (each module's own import "
        f"time, last run): {total / 1000:.0f} ms in all; the biggest: {named}."
    )


def import_note(runs: int, figures: dict[str, Row]) -> str:
    """Measure importtime `runs` times into its row; the note names the five biggest."""
    tops: list[tuple[str, float]] = []
    for _ in range(runs):
        total, tops = import_times()
        figures["imports"].values.append(total)
    named = ", ".join(f"{package} {ms:.0f} ms" for package, ms in tops)
    return (
        f"Figure 1, the five biggest direct imports of `import app.commands` (last run): {named}."
    )
