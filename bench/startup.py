"""Figures 1 and 3: time to portal and the app's peak memory, the app in its own process."""

from __future__ import annotations

import subprocess
import sys
import time

import aiohttp

from bench.common import CHECKOUT, app_process, listed, peak_rss_mib, simulated
from bench.results import Row

# Figure 3's scenario: the portal lists this many networks.
NETWORKS = 50


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
        "help wall": Row("1. Time to portal", "`wifi-connect --help`: wall", "s",
                         "light (0.33 s before lazy imports)"),
        "help rss": Row("1. Time to portal", "`wifi-connect --help`: peak RSS", "MiB",
                        "light (42 MB before lazy imports)"),
        "rss": Row("3. Memory", f"peak RSS (VmHWM) of the app serving {NETWORKS} networks", "MiB",
                   "< 40 MB", lambda value: value < 40),
        "imported": Row("3. Memory", "peak RSS of a process that only imports the app's modules",
                        "MiB"),
        "soak": Row("3. Memory", "10-min --watch soak, uplink flaps every 5 s: RSS growth", "MiB",
                    "< 2 MB growth, no leaked tasks, fds, matches",
                    note="not measured yet (`--soak`)"),
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
    figures["imported"].values.append(_imports_peak_rss())


def _imports_peak_rss() -> float:
    """Peak RSS in MiB of a Python that imports what the app's process does, and nothing more."""
    done = subprocess.run(
        [sys.executable, "-c", "import bench.app_process, pathlib; "
         "print(next(line.split()[1] for line in pathlib.Path('/proc/self/status')"
         ".read_text().splitlines() if line.startswith('VmHWM:')))"],
        capture_output=True, text=True, check=True, cwd=CHECKOUT,
    )  # fmt: skip
    return int(done.stdout) / 1024


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
